//===- NpyTest.cpp - .npy reading/writing and f16/bf16 conversion --------===//

#include "winnow/support/Npy.h"
#include "winnow/support/Float16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

namespace {

using namespace winnow::support;

std::vector<uint8_t> makeNpy(const std::string &header, size_t dataBytes,
                             int major = 1) {
  std::vector<uint8_t> bytes = {
      0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  size_t length = header.size();
  int lengthBytes = major == 1 ? 2 : 4;
  for (int i = 0; i < lengthBytes; ++i)
    bytes.push_back(static_cast<uint8_t>(length >> (8 * i)));
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.resize(bytes.size() + dataBytes, 0xab);
  return bytes;
}

std::string parseError(const std::vector<uint8_t> &bytes) {
  NpyArray array;
  std::string error;
  EXPECT_FALSE(parseNpy(bytes.data(), bytes.size(), array, error));
  return error;
}

TEST(Npy, RoundTripEveryDescr) {
  const char *descrs[] = {"<f4", "<f2", "<f8", "|b1", "|i1",
                          "<i2", "<i4", "<i8", "<u2"};
  for (const char *descr : descrs) {
    size_t itemSize = npyItemSize(descr);
    ASSERT_GT(itemSize, 0u) << descr;
    std::vector<int64_t> shape = {2, 3};
    std::vector<uint8_t> data(6 * itemSize);
    for (size_t i = 0; i < data.size(); ++i)
      data[i] = static_cast<uint8_t>(i * 7 + 1);
    std::vector<uint8_t> file =
        serializeNpy(descr, shape, data.data(), data.size());
    // Data starts 64-byte aligned, like NumPy's own files.
    EXPECT_EQ((file.size() - data.size()) % 64, 0u) << descr;
    NpyArray array;
    std::string error;
    ASSERT_TRUE(parseNpy(file.data(), file.size(), array, error)) << error;
    EXPECT_EQ(array.descr, descr);
    EXPECT_EQ(array.shape, shape);
    EXPECT_EQ(array.data, data);
  }
}

TEST(Npy, ScalarAndEmptyShapes) {
  int32_t value = 5;
  std::vector<uint8_t> file = serializeNpy("<i4", {}, &value, sizeof(value));
  NpyArray array;
  std::string error;
  ASSERT_TRUE(parseNpy(file.data(), file.size(), array, error)) << error;
  EXPECT_TRUE(array.shape.empty());
  EXPECT_EQ(array.elementCount(), 1);

  file = serializeNpy("<f4", {0, 3}, nullptr, 0);
  ASSERT_TRUE(parseNpy(file.data(), file.size(), array, error)) << error;
  EXPECT_EQ(array.shape, (std::vector<int64_t>{0, 3}));
  EXPECT_TRUE(array.data.empty());

  file = serializeNpy("<f4", {3}, "abcdefghijkl", 12);
  std::string text(file.begin(), file.end());
  EXPECT_NE(text.find("'shape': (3,)"), std::string::npos);
}

TEST(Npy, ParsesNumpyWrittenHeadersAndVersions) {
  // Exactly what numpy 1.24 writes for np.zeros((2,), np.float32).
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  header += std::string(128 - 10 - header.size() - 1, ' ') + "\n";
  for (int major : {1, 2, 3}) {
    std::vector<uint8_t> bytes = makeNpy(header, 8, major);
    NpyArray array;
    std::string error;
    ASSERT_TRUE(parseNpy(bytes.data(), bytes.size(), array, error))
        << "v" << major << ": " << error;
    EXPECT_EQ(array.shape, (std::vector<int64_t>{2}));
  }
  // Key order, double quotes, '=' byte order, no trailing comma, 1-byte '<'.
  std::vector<uint8_t> bytes = makeNpy(
      "{\"shape\": (1, 2), \"fortran_order\": False, \"descr\": \"=i8\"}\n",
      16);
  NpyArray array;
  std::string error;
  ASSERT_TRUE(parseNpy(bytes.data(), bytes.size(), array, error)) << error;
  EXPECT_EQ(array.descr, "<i8");
  bytes =
      makeNpy("{'descr': '<b1', 'fortran_order': False, 'shape': (3,), }", 3);
  ASSERT_TRUE(parseNpy(bytes.data(), bytes.size(), array, error)) << error;
  EXPECT_EQ(array.descr, "|b1");
}

TEST(Npy, Malformed) {
  EXPECT_NE(parseError({1, 2, 3}).find("not a .npy file"), std::string::npos);
  std::string good =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  EXPECT_NE(parseError(makeNpy(good, 8, 4))
                .find("unsupported .npy format version 4.0"),
            std::string::npos);
  EXPECT_NE(parseError(makeNpy(good, 7))
                .find("truncated data: shape (2,) of <f4 "
                      "needs 8 bytes, file has 7"),
            std::string::npos);
  EXPECT_NE(parseError(makeNpy(good, 9)).find("1 trailing bytes"),
            std::string::npos);
  std::vector<uint8_t> cut = makeNpy(good, 8);
  cut.resize(20);
  EXPECT_NE(parseError(cut).find("truncated .npy header"), std::string::npos);
  EXPECT_NE(parseError(makeNpy("{'descr': '<f4', 'fortran_order': True, "
                               "'shape': (2,), }",
                               8))
                .find("fortran_order=True is not supported"),
            std::string::npos);
  EXPECT_NE(parseError(makeNpy("{'descr': '>f4', 'fortran_order': False, "
                               "'shape': (2,), }",
                               8))
                .find("big-endian dtype '>f4' is not supported"),
            std::string::npos);
  EXPECT_NE(parseError(makeNpy("{'descr': '<c8', 'fortran_order': False, "
                               "'shape': (2,), }",
                               16))
                .find("unsupported dtype '<c8'"),
            std::string::npos);
  EXPECT_NE(parseError(makeNpy("{'descr': '<f4', 'shape': (2,), }", 8))
                .find("must have the keys"),
            std::string::npos);
  EXPECT_NE(parseError(makeNpy("{'descr': '<f4', 'fortran_order': False, "
                               "'shape': (2,), 'extra': 1}",
                               8))
                .find("unexpected key 'extra'"),
            std::string::npos);
  EXPECT_NE(parseError(makeNpy("{'descr': '<f4', 'fortran_order': False, "
                               "'shape': (-2,), }",
                               8))
                .find("'shape' must be a tuple"),
            std::string::npos);
  EXPECT_NE(parseError(makeNpy("{'descr': [('a', '<f4')], 'fortran_order': "
                               "False, 'shape': (2,), }",
                               8))
                .find("structured dtypes are not supported"),
            std::string::npos);
}

TEST(Npy, DuplicateKeyIsRejected) {
  EXPECT_NE(parseError(makeNpy("{'descr': '<f4', 'fortran_order': False, "
                               "'shape': (2,), 'shape': (1,), }",
                               8))
                .find("malformed header: duplicate key 'shape'"),
            std::string::npos);
  EXPECT_NE(parseError(makeNpy("{'descr': '<i4', 'descr': '<f4', "
                               "'fortran_order': False, 'shape': (2,), }",
                               8))
                .find("duplicate key 'descr'"),
            std::string::npos);
}

// NumPy refuses shapes whose non-zero extents overflow, even when another
// extent is 0; the element count of an accepted shape never overflows.
TEST(Npy, ZeroSizeShapesWithHugeExtents) {
  EXPECT_NE(parseError(makeNpy("{'descr': '|b1', 'fortran_order': False, "
                               "'shape': (4611686018427387904, 2, 0), }",
                               0))
                .find("shape (4611686018427387904, 2, 0) is too large"),
            std::string::npos);
  EXPECT_NE(parseError(makeNpy("{'descr': '<f4', 'fortran_order': False, "
                               "'shape': (0, 4611686018427387904), }",
                               0))
                .find("is too large"),
            std::string::npos);
  NpyArray array;
  std::string error;
  std::vector<uint8_t> bytes =
      makeNpy("{'descr': '|b1', 'fortran_order': False, "
              "'shape': (4611686018427387904, 0), }",
              0);
  ASSERT_TRUE(parseNpy(bytes.data(), bytes.size(), array, error)) << error;
  EXPECT_EQ(array.elementCount(), 0);
  EXPECT_TRUE(array.data.empty());
}

TEST(Npy, ReliabilityReproducer) {
  // ../shared/reliability/npy_elementcount_overflow.npy: a zero-size shape
  // (2^62, 2, 0) whose element count used to overflow.
  NpyArray array;
  std::string error;
  EXPECT_FALSE(readNpyFile(WINNOW_TEST_DATA_DIR
                           "/reliability/npy_elementcount_overflow.npy",
                           array, error));
  EXPECT_NE(error.find("is too large"), std::string::npos) << error;
}

TEST(Npy, FileRoundTripAndMissingFile) {
  std::string path = ::testing::TempDir() + "/winnow_npy_test.npy";
  int64_t values[3] = {1, -2, 3};
  std::string error;
  ASSERT_TRUE(writeNpyFile(path, "<i8", {3}, values, sizeof(values), error))
      << error;
  NpyArray array;
  ASSERT_TRUE(readNpyFile(path, array, error)) << error;
  EXPECT_EQ(std::memcmp(array.data.data(), values, sizeof(values)), 0);
  EXPECT_FALSE(readNpyFile("/nonexistent/x.npy", array, error));
  EXPECT_NE(error.find("cannot open '/nonexistent/x.npy'"), std::string::npos);
}

TEST(Npy, DTypeMapping) {
  EXPECT_EQ(dtypeFromNpyDescr("<f4"), WINNOW_DTYPE_F32);
  EXPECT_EQ(dtypeFromNpyDescr("|b1"), WINNOW_DTYPE_I1);
  EXPECT_EQ(dtypeFromNpyDescr("<u2"), std::nullopt);
  EXPECT_STREQ(npyDescrForDType(WINNOW_DTYPE_BF16), "<u2");
  EXPECT_STREQ(npyDescrForDType(WINNOW_DTYPE_I8), "|i1");
  EXPECT_STREQ(npyDescrForDType(WINNOW_DTYPE_F16), "<f2");
}

TEST(Float16, BFloat16RoundsToNearestEven) {
  EXPECT_EQ(floatToBFloat16(1.0f), 0x3f80);
  EXPECT_EQ(floatToBFloat16(-2.0f), 0xc000);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1.0).
  EXPECT_EQ(floatToBFloat16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  // 1 + 3 * 2^-8 is halfway with an odd low bit: rounds up.
  EXPECT_EQ(floatToBFloat16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_EQ(
      floatToBFloat16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)),
      0x3f81);
  EXPECT_EQ(floatToBFloat16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_EQ(floatToBFloat16(std::numeric_limits<float>::max()), 0x7f80);
  uint16_t nan = floatToBFloat16(std::numeric_limits<float>::quiet_NaN());
  EXPECT_TRUE(std::isnan(bfloat16ToFloat(nan)));
  EXPECT_EQ(bfloat16ToFloat(0x4049), 3.140625f);
}

TEST(Float16, HalfRoundsToNearestEven) {
  EXPECT_EQ(floatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(floatToHalf(-0.0f), 0x8000);
  EXPECT_EQ(floatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(floatToHalf(65519.0f), 0x7bff);
  EXPECT_EQ(floatToHalf(65520.0f), 0x7c00);
  EXPECT_EQ(floatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00); // tie, even
  EXPECT_EQ(floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -24)), 0x0001); // smallest subnormal
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -25)), 0x0000); // tie to even: zero
  EXPECT_EQ(floatToHalf(std::ldexp(3.0f, -25)), 0x0002); // 1.5 units: to even
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -14)), 0x0400); // smallest normal
  EXPECT_TRUE(std::isnan(
      halfToFloat(floatToHalf(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(halfToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(halfToFloat(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(halfToFloat(0xc000), -2.0f);
  // Every finite half survives half -> float -> half.
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    if ((bits & 0x7c00) == 0x7c00)
      continue;
    ASSERT_EQ(floatToHalf(halfToFloat(static_cast<uint16_t>(bits))), bits);
  }
}

} // namespace
