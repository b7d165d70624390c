//===- StatusTest.cpp - Status objects and dtype helpers -----------------===//

#include "TestUtil.h"

namespace {

using namespace winnow::testing;

TEST(Status, NullIsOk) {
  EXPECT_EQ(winnow_status_code(WINNOW_OK), WINNOW_STATUS_OK);
  EXPECT_STREQ(winnow_status_message(WINNOW_OK), "");
  winnow_status_free(WINNOW_OK); // No-op.
}

TEST(Status, ErrorCarriesCodeAndMessage) {
  winnow_dtype dtype;
  winnow_status status = winnow_dtype_from_name("f33", &dtype);
  ASSERT_NE(status, WINNOW_OK);
  EXPECT_EQ(winnow_status_code(status), WINNOW_STATUS_INVALID_ARGUMENT);
  EXPECT_STREQ(winnow_status_message(status),
               "unknown dtype 'f33' (expected one of f32, f16, bf16, f64, i1, "
               "i8, i16, i32, i64)");
  winnow_status_free(status);
}

TEST(Status, NullArgumentsAreReported) {
  EXPECT_WINNOW_ERROR(winnow_dtype_from_name(nullptr, nullptr),
                      WINNOW_STATUS_INVALID_ARGUMENT,
                      "argument 'name' is null");
  EXPECT_WINNOW_ERROR(winnow_module_load_file("x.wnn", nullptr),
                      WINNOW_STATUS_INVALID_ARGUMENT,
                      "argument 'out_module' is null");
}

TEST(Status, CodeNames) {
  EXPECT_STREQ(winnow_status_code_name(WINNOW_STATUS_OK), "OK");
  EXPECT_STREQ(winnow_status_code_name(WINNOW_STATUS_DATA_LOSS), "DATA_LOSS");
  EXPECT_STREQ(winnow_status_code_name(WINNOW_STATUS_UNIMPLEMENTED),
               "UNIMPLEMENTED");
  EXPECT_STREQ(winnow_status_code_name(static_cast<winnow_status_code_t>(99)),
               "UNKNOWN");
}

TEST(DType, NamesAndSizesRoundTrip) {
  const struct {
    winnow_dtype dtype;
    const char *name;
    size_t size;
  } cases[] = {
      {WINNOW_DTYPE_F32, "f32", 4},   {WINNOW_DTYPE_F16, "f16", 2},
      {WINNOW_DTYPE_BF16, "bf16", 2}, {WINNOW_DTYPE_F64, "f64", 8},
      {WINNOW_DTYPE_I1, "i1", 1},     {WINNOW_DTYPE_I8, "i8", 1},
      {WINNOW_DTYPE_I16, "i16", 2},   {WINNOW_DTYPE_I32, "i32", 4},
      {WINNOW_DTYPE_I64, "i64", 8},
  };
  for (const auto &c : cases) {
    EXPECT_STREQ(winnow_dtype_name(c.dtype), c.name);
    EXPECT_EQ(winnow_dtype_element_size(c.dtype), c.size);
    winnow_dtype parsed;
    ASSERT_WINNOW_OK(winnow_dtype_from_name(c.name, &parsed));
    EXPECT_EQ(parsed, c.dtype);
  }
  auto invalid = static_cast<winnow_dtype>(42);
  EXPECT_EQ(winnow_dtype_name(invalid), nullptr);
  EXPECT_EQ(winnow_dtype_element_size(invalid), 0u);
}

} // namespace
