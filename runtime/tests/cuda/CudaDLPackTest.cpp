//===- CudaDLPackTest.cpp - winnow_call_dlpack on CUDA and CPU executables ===//

#include "CudaTestUtil.h"
#include "winnow/runtime/winnow_dlpack.h"

namespace {

using namespace winnow::testing;

class DLPackTest : public BoundAddOneTest {
protected:
  void SetUp() override {
    BoundAddOneTest::SetUp();
    in = makeTensor(dx);
    out = makeTensor(dy);
  }

  DLTensor makeTensor(void *data) {
    DLTensor t{};
    t.data = data;
    t.device = {kDLCUDA, 0};
    t.ndim = 2;
    t.dtype = {kDLFloat, 32, 1};
    t.shape = shape;
    t.strides = nullptr;
    t.byte_offset = 0;
    return t;
  }

  winnow_status call(void *stream = nullptr) {
    const DLTensor *inputs[] = {&in};
    const DLTensor *outputs[] = {&out};
    return winnow_call_dlpack(executable.get(), "add_one", inputs, 1, outputs,
                              1, stream);
  }

  int64_t shape[2] = {2, 3};
  DLTensor in{}, out{};
};

TEST_F(DLPackTest, CudaTensors) {
  void *stream = fakeCudaCreateStream();
  ASSERT_WINNOW_OK(call(stream));
  EXPECT_EQ(fakeCudaLastLaunchStream(), stream);
  float y[6] = {};
  ASSERT_WINNOW_OK(winnow_device_copy(device.get(), y, dy, sizeof(y)));
  EXPECT_FLOAT_EQ(y[0], 2.0f);
  EXPECT_FLOAT_EQ(y[5], 7.0f);

  // Compact strides, and any stride on an extent-1 axis, are accepted.
  int64_t strides[2] = {3, 1};
  in.strides = strides;
  EXPECT_WINNOW_OK(call());
  // byte_offset is added to data.
  float x[6] = {10, 20, 30, 40, 50, 60};
  ASSERT_WINNOW_OK(winnow_device_copy(device.get(),
                                      static_cast<char *>(dx) + 16, x, 24));
  in.byte_offset = 16;
  ASSERT_WINNOW_OK(call());
  ASSERT_WINNOW_OK(winnow_device_copy(device.get(), y, dy, sizeof(y)));
  EXPECT_FLOAT_EQ(y[0], 11.0f);
}

TEST_F(DLPackTest, Errors) {
  in.device = {kDLCPU, 0};
  EXPECT_WINNOW_ERROR(call(), WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'add_one' input 0 'x': expected a kDLCUDA "
                      "tensor for device 'cuda:0', got kDLCPU");
  in.device = {kDLCUDA, 1};
  EXPECT_WINNOW_ERROR(call(), WINNOW_STATUS_INVALID_ARGUMENT,
                      "tensor is on CUDA device 1, but the executable runs "
                      "on device 'cuda:0'");
  in = makeTensor(dx);
  in.dtype = {kDLBfloat, 16, 1};
  EXPECT_WINNOW_ERROR(call(), WINNOW_STATUS_INVALID_ARGUMENT,
                      "input 0 'x': expected dtype f32, got bf16");
  in.dtype = {kDLFloat, 32, 4};
  EXPECT_WINNOW_ERROR(call(), WINNOW_STATUS_INVALID_ARGUMENT,
                      "unsupported DLPack dtype (code 2, bits 32, lanes 4)");
  in = makeTensor(dx);
  int64_t transposed[2] = {1, 2};
  in.strides = transposed;
  EXPECT_WINNOW_ERROR(call(), WINNOW_STATUS_INVALID_ARGUMENT,
                      "strides [1, 2] are not compact row-major for shape "
                      "[2, 3]");
  in = makeTensor(dx);
  in.byte_offset = 2;
  EXPECT_WINNOW_ERROR(call(), WINNOW_STATUS_INVALID_ARGUMENT,
                      "data + byte_offset is not aligned to the 4-byte "
                      "element size");
  in = makeTensor(dx);
  int64_t wrong[2] = {3, 2};
  out.shape = wrong;
  EXPECT_WINNOW_ERROR(call(), WINNOW_STATUS_INVALID_ARGUMENT,
                      "output 0 'y': expected shape 2x3xf32, got 3x2xf32");
  out = makeTensor(dy);
  const DLTensor *inputs[] = {&in};
  EXPECT_WINNOW_ERROR(winnow_call_dlpack(executable.get(), "add_one", inputs,
                                         1, nullptr, 0, nullptr),
                      WINNOW_STATUS_INVALID_ARGUMENT,
                      "function 'add_one' expects 1 outputs (y), got 0");
  EXPECT_EQ(fakeCudaCallCount("cuLaunchKernel"), 0);
}

TEST_F(CudaTest, DLPackOnCpuExecutable) {
  winnow_device *raw = nullptr;
  ASSERT_WINNOW_OK(winnow_device_create("cpu", &raw));
  DevicePtr cpu(raw);
  ExecutablePtr executable;
  ASSERT_WINNOW_OK(bindOn(
      cpu.get(), addOneArtifact(readFileBytes(WINNOW_TEST_ADD_ONE_SO)),
      executable));
  float x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {};
  int64_t shape[2] = {2, 3};
  DLTensor in{}, out{};
  in.data = x;
  in.device = {kDLCPU, 0};
  in.ndim = 2;
  in.dtype = {kDLFloat, 32, 1};
  in.shape = shape;
  out = in;
  out.data = y;
  const DLTensor *inputs[] = {&in};
  const DLTensor *outputs[] = {&out};
  ASSERT_WINNOW_OK(winnow_call_dlpack(executable.get(), "add_one", inputs, 1,
                                      outputs, 1, nullptr));
  EXPECT_FLOAT_EQ(y[5], 7.0f);
  int stream = 0;
  EXPECT_WINNOW_ERROR(winnow_call_dlpack(executable.get(), "add_one", inputs,
                                         1, outputs, 1, &stream),
                      WINNOW_STATUS_INVALID_ARGUMENT,
                      "a stream was passed, but the executable runs on device "
                      "'cpu'");
  in.device = {kDLCUDA, 0};
  EXPECT_WINNOW_ERROR(winnow_call_dlpack(executable.get(), "add_one", inputs,
                                         1, outputs, 1, nullptr),
                      WINNOW_STATUS_INVALID_ARGUMENT,
                      "expected a kDLCPU tensor for device 'cpu', got kDLCUDA");
}

} // namespace
