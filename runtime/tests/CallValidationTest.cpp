//===- CallValidationTest.cpp - winnow_call rejects mismatched tensors ---===//

#include "TestUtil.h"

namespace {

using namespace winnow::testing;

class CallValidation : public BoundArtifactTest {
protected:
  void SetUp() override {
    bind(testEntriesArtifact(testEntriesSharedObject()));
  }

  /// Calls ragged(scores: 2x4xf32, keep: 2xi32) -> (indices: 2x4xi32,
  /// count: 2xi32) with the member tensors.
  winnow_status callRagged(size_t numInputs = 2, size_t numOutputs = 2) {
    return winnow_call(executable.get(), "ragged", inputs, numInputs, outputs,
                       numOutputs);
  }


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

//===----------------------------------------------------------------------===//
// Dynamic extents: symbols bound by the inputs of each call
//===----------------------------------------------------------------------===//

class DynamicCallValidation : public BoundArtifactTest {
protected:
  void SetUp() override {
    bind(dynamicArtifact(readFileBytes(WINNOW_TEST_DYNAMIC_SO)));
  }

  static winnow_tensor f32(std::vector<int64_t> &shape,
                           std::vector<float> &data) {
    return {WINNOW_DTYPE_F32, shape.size(), shape.data(),
            data.empty() ? nullptr : data.data(), data.size() * sizeof(float)};
  }
  static winnow_tensor i32(std::vector<int64_t> &shape,
                           std::vector<int32_t> &data) {
    return {WINNOW_DTYPE_I32, shape.size(), shape.data(),
            data.empty() ? nullptr : data.data(),
            data.size() * sizeof(int32_t)};
  }

  /// keep_first on `batch` requests (`keepBatch` keep entries, `outBatch`
  /// output rows).
  winnow_status callKeepFirst(int64_t batch, int64_t keepBatch,
                              int64_t outBatch) {
    scoresShape = {batch, 4};
    keepShape = {keepBatch};
    indicesShape = {outBatch, 4};
    countShape = {outBatch};
    scores.assign(batch * 4, 0.0f);
    keep.assign(keepBatch, 2);
    indices.assign(outBatch * 4, 7);
    count.assign(outBatch, 7);
    winnow_tensor in[2] = {f32(scoresShape, scores), i32(keepShape, keep)};
    winnow_tensor out[2] = {i32(indicesShape, indices), i32(countShape, count)};
    return winnow_call(executable.get(), "keep_first", in, 2, out, 2);
  }

  std::vector<int64_t> scoresShape, keepShape, indicesShape, countShape;
  std::vector<float> scores;
  std::vector<int32_t> keep, indices, count;
};

TEST_F(DynamicCallValidation, EveryBatchUpToTheBoundRuns) {
  for (int64_t batch = 0; batch <= 4; ++batch) {
    std::vector<int64_t> shape = {batch, 3};
    std::vector<float> x(batch * 3), y(batch * 3, -1.0f);
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = static_cast<float>(i);
    winnow_tensor in = f32(shape, x), out = f32(shape, y);
    ASSERT_WINNOW_OK(
        winnow_call(executable.get(), "add_one_rows", &in, 1, &out, 1));
    for (size_t i = 0; i < y.size(); ++i)
      EXPECT_EQ(y[i], static_cast<float>(i) + 1.0f) << "batch " << batch;
  }
}

TEST_F(DynamicCallValidation, RaggedResultsWithADynamicBatch) {
  ASSERT_WINNOW_OK(callKeepFirst(3, 3, 3));
  EXPECT_EQ(count, (std::vector<int32_t>{2, 2, 2}));
  EXPECT_EQ(indices,
            (std::vector<int32_t>{0, 1, -1, -1, 0, 1, -1, -1, 0, 1, -1, -1}));
  // An empty batch: no element is read or written.
  EXPECT_WINNOW_OK(callKeepFirst(0, 0, 0));
}

TEST_F(DynamicCallValidation, SymbolAboveItsBound) {
  std::vector<int64_t> shape = {5, 3};
  std::vector<float> x(15), y(15, -1.0f);
  winnow_tensor in = f32(shape, x), out = f32(shape, y);
  EXPECT_WINNOW_ERROR(
      winnow_call(executable.get(), "add_one_rows", &in, 1, &out, 1),
      WINNOW_STATUS_INVALID_ARGUMENT,
      "function 'add_one_rows': batch is 5 in x, above its bound 4");
  EXPECT_EQ(y[0], -1.0f); // Outputs untouched on error.
  std::vector<int64_t> negative = {-1, 3};
  in = {WINNOW_DTYPE_F32, 2, negative.data(), nullptr, 0};
  EXPECT_WINNOW_ERROR(
      winnow_call(executable.get(), "add_one_rows", &in, 1, &out, 1),
      WINNOW_STATUS_INVALID_ARGUMENT,
      "function 'add_one_rows': batch is -1 in x, a negative extent");
}

TEST_F(DynamicCallValidation, InputsMustAgreeOnASymbol) {
  EXPECT_WINNOW_ERROR(callKeepFirst(3, 2, 3), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'keep_first': batch is 3 in scores but 2 in "
                      "keep");
  EXPECT_EQ(count[0], 7);
  // The first input binds, even when a later one is within the bound.
  EXPECT_WINNOW_ERROR(callKeepFirst(0, 1, 0), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'keep_first': batch is 0 in scores but 1 in "
                      "keep");
}

TEST_F(DynamicCallValidation, ResultsTakeTheBoundValues) {
  EXPECT_WINNOW_ERROR(callKeepFirst(3, 3, 4), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'keep_first' output 0 'indices': expected "
                      "shape 3x4xi32 (batch = 3), got 4x4xi32 (dimension 0 "
                      "differs)");
  EXPECT_WINNOW_ERROR(callKeepFirst(2, 2, 0), WINNOW_STATUS_INVALID_ARGUMENT,
                      "expected shape 2x4xi32 (batch = 2), got 0x4xi32");
}

TEST_F(DynamicCallValidation, OtherChecksNameTheBoundShape) {
  std::vector<int64_t> wrong = {3, 5}, flat = {3}, s3 = {3};
  std::vector<float> x(15);
  std::vector<int32_t> k(3), idx(12), c(3);
  std::vector<int64_t> s34 = {3, 4};
  winnow_tensor in[2] = {f32(wrong, x), i32(s3, k)};
  winnow_tensor out[2] = {i32(s34, idx), i32(s3, c)};
  EXPECT_WINNOW_ERROR(
      winnow_call(executable.get(), "keep_first", in, 2, out, 2),
      WINNOW_STATUS_INVALID_ARGUMENT,
      "function 'keep_first' input 0 'scores': expected shape 3x4xf32 (batch "
      "= 3), got 3x5xf32 (dimension 1 differs)");
  in[0] = f32(flat, x);
  EXPECT_WINNOW_ERROR(
      winnow_call(executable.get(), "keep_first", in, 2, out, 2),
      WINNOW_STATUS_INVALID_ARGUMENT,
      "function 'keep_first' input 0 'scores': expected rank 2 (batchx4xf32), "
      "got rank 1");
  std::vector<int64_t> s33 = {3, 3};
  std::vector<float> x9(9), y9(9);
  winnow_tensor rowsIn = f32(s33, x9), rowsOut = f32(s33, y9);
  rowsIn.byte_size = 48;
  EXPECT_WINNOW_ERROR(
      winnow_call(executable.get(), "add_one_rows", &rowsIn, 1, &rowsOut, 1),
      WINNOW_STATUS_INVALID_ARGUMENT,
      "function 'add_one_rows' input 0 'x': expected byte_size 36 for "
      "3x3xf32, got 48");
}

TEST_F(DynamicCallValidation, TwoSymbols) {
  std::vector<int64_t> sa = {2}, sb = {5}, sc = {2, 5};
  std::vector<float> a = {1, 2}, b = {1, 2, 3, 4, 5}, c(10);
  winnow_tensor in[2] = {f32(sa, a), f32(sb, b)};
  winnow_tensor out = f32(sc, c);
  ASSERT_WINNOW_OK(winnow_call(executable.get(), "outer", in, 2, &out, 1));
  EXPECT_EQ(c, (std::vector<float>{1, 2, 3, 4, 5, 2, 4, 6, 8, 10}));
  std::vector<int64_t> transposed = {5, 2};
  out.shape = transposed.data();
  EXPECT_WINNOW_ERROR(winnow_call(executable.get(), "outer", in, 2, &out, 1),
                      WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'outer' output 0 'c': expected shape 2x5xf32 "
                      "(m = 2, n = 5), got 5x2xf32 (dimension 0 differs)");
}

TEST_F(DynamicCallValidation, BindSymbolsAndResultShapes) {
  size_t index = 0;
  ASSERT_WINNOW_OK(winnow_module_find_function(module.get(), "outer", &index));
  // Shape-only tensors: bind_symbols reads rank and shape only.
  std::vector<int64_t> sa = {3}, sb = {0};
  winnow_tensor in[2] = {{WINNOW_DTYPE_F32, 1, sa.data(), nullptr, 0},
                         {WINNOW_DTYPE_I64, 1, sb.data(), nullptr, 0}};
  int64_t values[2] = {-7, -7};
  ASSERT_WINNOW_OK(
      winnow_module_bind_symbols(module.get(), index, in, 2, values));
  EXPECT_EQ(values[0], 3);
  EXPECT_EQ(values[1], 0);
  int64_t shape[2] = {-7, -7};
  ASSERT_WINNOW_OK(
      winnow_module_get_result_shape(module.get(), index, 0, values, shape));
  EXPECT_EQ(shape[0], 3);
  EXPECT_EQ(shape[1], 0);

  // Errors: those of a call, and nothing written.
  values[0] = values[1] = -7;
  sa = {4};
  EXPECT_WINNOW_ERROR(
      winnow_module_bind_symbols(module.get(), index, in, 2, values),
      WINNOW_STATUS_INVALID_ARGUMENT,
      "function 'outer': m is 4 in a, above its bound 3");
  EXPECT_EQ(values[0], -7);
  EXPECT_WINNOW_ERROR(
      winnow_module_bind_symbols(module.get(), index, in, 1, values),
      WINNOW_STATUS_INVALID_ARGUMENT,
      "function 'outer' expects 2 inputs (a, b), got 1");
  EXPECT_WINNOW_ERROR(
      winnow_module_bind_symbols(module.get(), index, in, 2, nullptr),
      WINNOW_STATUS_INVALID_ARGUMENT, "argument 'out_symbol_values' is null");
  EXPECT_WINNOW_ERROR(
      winnow_module_bind_symbols(module.get(), 3, in, 2, values),
      WINNOW_STATUS_OUT_OF_RANGE, "function index 3");
  int64_t outside[2] = {3, 6};
  EXPECT_WINNOW_ERROR(
      winnow_module_get_result_shape(module.get(), index, 0, outside, shape),
      WINNOW_STATUS_INVALID_ARGUMENT,
      "function 'outer': value 6 of n is outside [0, 5]");
  EXPECT_WINNOW_ERROR(
      winnow_module_get_result_shape(module.get(), index, 1, values, shape),
      WINNOW_STATUS_OUT_OF_RANGE,
      "result index 1 is out of range (function 'outer' has 1 results)");
  EXPECT_WINNOW_ERROR(
      winnow_module_get_result_shape(module.get(), index, 0, nullptr, shape),
      WINNOW_STATUS_INVALID_ARGUMENT, "argument 'symbol_values' is null");

  // keep_first's batch, bound by its first input; the count's shape too.
  ASSERT_WINNOW_OK(
      winnow_module_find_function(module.get(), "keep_first", &index));
  std::vector<int64_t> s24 = {2, 4}, s2 = {2};
  winnow_tensor keepIn[2] = {{WINNOW_DTYPE_F32, 2, s24.data(), nullptr, 0},
                             {WINNOW_DTYPE_I32, 1, s2.data(), nullptr, 0}};
  int64_t batch = -7;
  ASSERT_WINNOW_OK(
      winnow_module_bind_symbols(module.get(), index, keepIn, 2, &batch));
  EXPECT_EQ(batch, 2);
  int64_t countShape = -7;
  ASSERT_WINNOW_OK(winnow_module_get_result_shape(module.get(), index, 1,
                                                  &batch, &countShape));
  EXPECT_EQ(countShape, 2);
}

TEST_F(CallValidation, StaticFunctionsBindNothing) {
  std::vector<int64_t> s23 = {2, 3};
  winnow_tensor in{WINNOW_DTYPE_F32, 2, s23.data(), nullptr, 0};
  ASSERT_WINNOW_OK(
      winnow_module_bind_symbols(module.get(), 0, &in, 1, nullptr));
  int64_t shape[2] = {};
  ASSERT_WINNOW_OK(
      winnow_module_get_result_shape(module.get(), 0, 0, nullptr, shape));
  EXPECT_EQ(shape[0], 2);
  EXPECT_EQ(shape[1], 3);
  s23[1] = 4;
  EXPECT_WINNOW_ERROR(
      winnow_module_bind_symbols(module.get(), 0, &in, 1, nullptr),
      WINNOW_STATUS_INVALID_ARGUMENT,
      "function 'add_one' input 0 'x': expected shape 2x3xf32, got 2x4xf32 "
      "(dimension 1 differs)");
}

} // namespace
