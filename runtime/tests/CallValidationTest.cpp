//===- CallValidationTest.cpp - winnow_call rejects mismatched tensors ---===//

#include "TestUtil.h"

namespace {

using namespace winnow::testing;

class CallValidation : public ::testing::Test {
protected:
  void SetUp() override {
    std::vector<uint8_t> bytes =
        buildArtifact(testEntriesArtifact(testEntriesSharedObject()));
    winnow_module *m = nullptr;
    ASSERT_WINNOW_OK(winnow_module_load_memory(bytes.data(), bytes.size(), &m));
    module.reset(m);
    winnow_device *d = nullptr;
    ASSERT_WINNOW_OK(winnow_device_create("cpu", &d));
    device.reset(d);
    winnow_executable *e = nullptr;
    ASSERT_WINNOW_OK(winnow_executable_create(m, d, &e));
    executable.reset(e);
  }

  /// Calls ragged(scores: 2x4xf32, keep: 2xi32) -> (indices: 2x4xi32,
  /// count: 2xi32) with the member tensors.
  winnow_status callRagged(size_t numInputs = 2, size_t numOutputs = 2) {
    return winnow_call(executable.get(), "ragged", inputs, numInputs, outputs,
                       numOutputs);
  }

  ModulePtr module;
  DevicePtr device;
  ExecutablePtr executable;

  std::vector<int64_t> s24 = {2, 4}, s2 = {2};
  float scores[8] = {};
  int32_t keep[2] = {1, 1};
  int32_t indices[8] = {};
  int32_t count[2] = {};
  winnow_tensor inputs[2] = {
      {WINNOW_DTYPE_F32, 2, s24.data(), scores, sizeof(scores)},
      {WINNOW_DTYPE_I32, 1, s2.data(), keep, sizeof(keep)}};
  winnow_tensor outputs[2] = {
      {WINNOW_DTYPE_I32, 2, s24.data(), indices, sizeof(indices)},
      {WINNOW_DTYPE_I32, 1, s2.data(), count, sizeof(count)}};
};

TEST_F(CallValidation, Baseline) { EXPECT_WINNOW_OK(callRagged()); }

TEST_F(CallValidation, WrongCounts) {
  EXPECT_WINNOW_ERROR(callRagged(1, 2), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'ragged' expects 2 inputs (scores, keep), "
                      "got 1");
  EXPECT_WINNOW_ERROR(callRagged(2, 3), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'ragged' expects 2 outputs (indices, count), "
                      "got 3");
  EXPECT_WINNOW_ERROR(
      winnow_call(executable.get(), "ragged", nullptr, 2, outputs, 2),
      WINNOW_STATUS_INVALID_ARGUMENT, "inputs array is null but 2 were passed");
}

TEST_F(CallValidation, WrongDType) {
  inputs[1].dtype = WINNOW_DTYPE_I64;
  EXPECT_WINNOW_ERROR(callRagged(), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'ragged' input 1 'keep': expected dtype i32, "
                      "got i64");
  inputs[1].dtype = static_cast<winnow_dtype>(77);
  EXPECT_WINNOW_ERROR(callRagged(), WINNOW_STATUS_INVALID_ARGUMENT,
                      "expected dtype i32, got <invalid dtype 77>");
}

TEST_F(CallValidation, WrongRankAndShape) {
  inputs[0].rank = 1;
  EXPECT_WINNOW_ERROR(callRagged(), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'ragged' input 0 'scores': expected rank 2 "
                      "(2x4xf32), got rank 1");
  inputs[0].rank = 2;
  std::vector<int64_t> wrong = {2, 5};
  outputs[0].shape = wrong.data();
  EXPECT_WINNOW_ERROR(callRagged(), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'ragged' output 0 'indices': expected shape "
                      "2x4xi32, got 2x5xi32 (dimension 1 differs)");
  outputs[0].shape = nullptr;
  EXPECT_WINNOW_ERROR(callRagged(), WINNOW_STATUS_INVALID_ARGUMENT,
                      "shape is null but rank is 2");
}

TEST_F(CallValidation, ByteSizeMismatch) {
  inputs[0].byte_size = 31;
  EXPECT_WINNOW_ERROR(callRagged(), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'ragged' input 0 'scores': expected byte_size "
                      "32 for 2x4xf32, got 31");
}

TEST_F(CallValidation, NullData) {
  outputs[1].data = nullptr;
  EXPECT_WINNOW_ERROR(callRagged(), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'ragged' output 1 'count': data is null but "
                      "byte_size is 8");
}

TEST_F(CallValidation, BoolInputMustBeZeroOrOne) {
  uint8_t m[3] = {0, 2, 1}, r[3] = {9, 9, 9};
  std::vector<int64_t> s3 = {3};
  winnow_tensor in{WINNOW_DTYPE_I1, 1, s3.data(), m, sizeof(m)};
  winnow_tensor out{WINNOW_DTYPE_I1, 1, s3.data(), r, sizeof(r)};
  EXPECT_WINNOW_ERROR(
      winnow_call(executable.get(), "logical_not", &in, 1, &out, 1),
      WINNOW_STATUS_INVALID_ARGUMENT,
      "function 'logical_not' input 0 'm': i1 values must be 0 or 1, found 2 "
      "at element 1");
  EXPECT_EQ(r[0], 9); // Outputs untouched on error.
}

TEST_F(CallValidation, OverlappingOutputs) {
  // Output aliasing an input.
  outputs[1].data = keep;
  EXPECT_WINNOW_ERROR(callRagged(), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'ragged' output 1 'count' overlaps input 1 "
                      "'keep'");
  // Outputs aliasing each other, partially.
  outputs[1].data = &indices[7];
  EXPECT_WINNOW_ERROR(callRagged(), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'ragged' output 1 'count' overlaps output 0 "
                      "'indices'");
  // Adjacent is fine.
  int32_t buffer[10];
  outputs[0].data = buffer;
  outputs[1].data = buffer + 8;
  EXPECT_WINNOW_OK(callRagged());
}

TEST_F(CallValidation, InputsMayAliasEachOther) {
  // Both inputs only read; scores' first 8 bytes double as keep = {0, 0}.
  inputs[1].data = scores;
  EXPECT_WINNOW_OK(callRagged());
  EXPECT_EQ(count[0], 0);
}

} // namespace
