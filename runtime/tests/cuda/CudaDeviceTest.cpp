//===- CudaDeviceTest.cpp - The CUDA device on the fake driver ----------===//
//
// The whole CUDA path without a GPU: the runtime loads FakeCudaDriver (via
// WINNOW_CUDA_DRIVER) and artifacts holding TestCudaHost.c variants, whose
// "kernels" the fake driver runs on the host.
//
//===----------------------------------------------------------------------===//

#include "CudaTestUtil.h"

#include <cstring>
#include <thread>

namespace {

using namespace winnow::testing;

TEST_F(CudaTest, DeviceNameAndInfo) {
  DevicePtr device = createCuda();
  ASSERT_TRUE(device);
  const char *name = nullptr;
  ASSERT_WINNOW_OK(winnow_device_get_name(device.get(), &name));
  EXPECT_STREQ(name, "cuda:0");
  winnow_device_info info;
  ASSERT_WINNOW_OK(winnow_device_get_info(device.get(), &info));
  EXPECT_EQ(info.kind, WINNOW_DEVICE_KIND_CUDA);
  EXPECT_STREQ(info.name, "cuda:0");
  EXPECT_STREQ(info.description, "Winnow Fake GPU");
  EXPECT_EQ(info.ordinal, 0);
  EXPECT_EQ(info.compute_capability_major, 9);
  EXPECT_EQ(info.compute_capability_minor, 0);
  EXPECT_EQ(info.total_memory_bytes, uint64_t(80) << 30);
}

TEST_F(CudaTest, NoGpuAndBadOrdinal) {
  winnow_device *device = nullptr;
  fakeCudaSetDeviceCount(2);
  EXPECT_WINNOW_ERROR(
      winnow_device_create("cuda:2", &device), WINNOW_STATUS_NOT_FOUND,
      "CUDA device 2 not found (this machine has 2 CUDA devices, 0 to 1)");
  fakeCudaSetDeviceCount(0);
  EXPECT_WINNOW_ERROR(winnow_device_create("cuda", &device),
                      WINNOW_STATUS_UNAVAILABLE,
                      "cuInit failed: CUDA_ERROR_NO_DEVICE");
  EXPECT_EQ(device, nullptr);
}

TEST_F(CudaTest, DriverErrorsDuringDeviceCreation) {
  winnow_device *device = nullptr;
  fakeCudaFailCall("cuDevicePrimaryCtxRetain", 1, CUDA_ERROR_INVALID_VALUE);
  EXPECT_WINNOW_ERROR(winnow_device_create("cuda:0", &device),
                      WINNOW_STATUS_INTERNAL,
                      "cuDevicePrimaryCtxRetain failed: "
                      "CUDA_ERROR_INVALID_VALUE (fake driver error)");
  EXPECT_EQ(device, nullptr);
}

TEST_F(CudaTest, HostTensorCall) {
  ExecutablePtr executable;
  ASSERT_WINNOW_OK(bind(cudaTestArtifact(hostObject()), executable));
  size_t target = 99;
  ASSERT_WINNOW_OK(
      winnow_executable_get_target_index(executable.get(), &target));
  EXPECT_EQ(target, 0u);
  EXPECT_EQ(fakeCudaLiveModules(), 1);
  EXPECT_EQ(fakeCudaLiveStreams(), 1); // the executable's own

  float x[6] = {0, 1, 2, 3, 4, 5.5f};
  float y[6] = {};
  std::vector<int64_t> shape = {2, 3};
  winnow_tensor input = tensor(WINNOW_DTYPE_F32, shape, x, sizeof(x));
  winnow_tensor output = tensor(WINNOW_DTYPE_F32, shape, y, sizeof(y));
  ASSERT_WINNOW_OK(
      winnow_call(executable.get(), "add_one", &input, 1, &output, 1));
  for (int i = 0; i < 6; ++i)
    EXPECT_FLOAT_EQ(y[i], x[i] + 1) << i;
  // Input, output and the host code's scratch buffer, all freed.
  EXPECT_EQ(fakeCudaCallCount("cuMemAllocAsync"), 3);
  EXPECT_EQ(fakeCudaLiveAllocations(), 0);
  EXPECT_EQ(fakeCudaCallCount("cuMemcpyHtoDAsync_v2"), 1);
  EXPECT_EQ(fakeCudaCallCount("cuMemcpyDtoHAsync_v2"), 1);
  // One wait, by the runtime: the host code's synchronise does not block.
  EXPECT_EQ(fakeCudaCallCount("cuStreamSynchronize"), 1);

  executable.reset();
  EXPECT_EQ(fakeCudaLiveModules(), 0);
  EXPECT_EQ(fakeCudaLiveStreams(), 0);
}

TEST_F(CudaTest, FunctionLookupIsCached) {
  ExecutablePtr executable;
  ASSERT_WINNOW_OK(bind(cudaTestArtifact(hostObject()), executable));
  float x[6] = {}, y[6] = {};
  std::vector<int64_t> shape = {2, 3};
  winnow_tensor input = tensor(WINNOW_DTYPE_F32, shape, x, sizeof(x));
  winnow_tensor output = tensor(WINNOW_DTYPE_F32, shape, y, sizeof(y));
  for (int i = 0; i < 3; ++i)
    ASSERT_WINNOW_OK(
        winnow_call(executable.get(), "add_one", &input, 1, &output, 1));
  EXPECT_EQ(fakeCudaCallCount("cuLaunchKernel"), 3);
  EXPECT_EQ(fakeCudaCallCount("cuModuleGetFunction"), 1);
}

TEST_F(CudaTest, LargeDynamicSharedMemoryOptsIn) {
  ExecutablePtr executable;
  ASSERT_WINNOW_OK(bind(cudaTestArtifact(hostObject()), executable));
  float x[4] = {1, 2, 3, 4}, y[4] = {};
  std::vector<int64_t> shape = {4};
  winnow_tensor input = tensor(WINNOW_DTYPE_F32, shape, x, sizeof(x));
  winnow_tensor output = tensor(WINNOW_DTYPE_F32, shape, y, sizeof(y));
  // The fake rejects 64 KiB launches unless the attribute was raised.
  for (int i = 0; i < 2; ++i)
    ASSERT_WINNOW_OK(winnow_call(executable.get(), "add_two_big_smem", &input,
                                 1, &output, 1));
  EXPECT_FLOAT_EQ(y[3], 6.0f);
  EXPECT_EQ(fakeCudaCallCount("cuFuncSetAttribute"), 1);
}

TEST_F(CudaTest, MemsetThroughTheTable) {
  ExecutablePtr executable;
  ASSERT_WINNOW_OK(bind(cudaTestArtifact(hostObject()), executable));
  int32_t x[4] = {}, y[4] = {};
  std::vector<int64_t> shape = {4};
  winnow_tensor input = tensor(WINNOW_DTYPE_I32, shape, x, sizeof(x));
  winnow_tensor output = tensor(WINNOW_DTYPE_I32, shape, y, sizeof(y));
  ASSERT_WINNOW_OK(winnow_call(executable.get(), "fill", &input, 1, &output, 1));
  for (int32_t v : y)
    EXPECT_EQ(v, 7);
}

TEST_F(CudaTest, OutOfMemoryIsAStatusAndOutputsAreUntouched) {
  ExecutablePtr executable;
  ASSERT_WINNOW_OK(bind(cudaTestArtifact(hostObject()), executable));
  float x[6] = {1, 2, 3, 4, 5, 6};
  float y[6] = {-1, -1, -1, -1, -1, -1};
  std::vector<int64_t> shape = {2, 3};
  winnow_tensor input = tensor(WINNOW_DTYPE_F32, shape, x, sizeof(x));
  winnow_tensor output = tensor(WINNOW_DTYPE_F32, shape, y, sizeof(y));

  // The runtime's own allocation of the output buffer (the second one).
  fakeCudaFailCall("cuMemAllocAsync", 2, CUDA_ERROR_OUT_OF_MEMORY);
  EXPECT_WINNOW_ERROR(
      winnow_call(executable.get(), "add_one", &input, 1, &output, 1),
      WINNOW_STATUS_OUT_OF_MEMORY,
      "function 'add_one' on device 'cuda:0': allocating 24 bytes for output "
      "0 'y': cuMemAllocAsync failed: CUDA_ERROR_OUT_OF_MEMORY (out of "
      "memory)");
  EXPECT_EQ(fakeCudaCallCount("cuLaunchKernel"), 0);

  // The host code's scratch allocation (the third): every later mgpu* call
  // of the call does nothing, but nothing leaks.
  fakeCudaReset();
  fakeCudaFailCall("cuMemAllocAsync", 3, CUDA_ERROR_OUT_OF_MEMORY);
  EXPECT_WINNOW_ERROR(
      winnow_call(executable.get(), "add_one", &input, 1, &output, 1),
      WINNOW_STATUS_OUT_OF_MEMORY,
      "function 'add_one' on device 'cuda:0': mgpuMemAlloc: allocating 24 "
      "bytes: cuMemAllocAsync failed: CUDA_ERROR_OUT_OF_MEMORY");
  EXPECT_EQ(fakeCudaCallCount("cuModuleGetFunction"), 0);
  EXPECT_EQ(fakeCudaCallCount("cuLaunchKernel"), 0);
  EXPECT_EQ(fakeCudaCallCount("cuMemcpyAsync"), 0);
  EXPECT_EQ(fakeCudaCallCount("cuMemcpyDtoHAsync_v2"), 0);
  EXPECT_EQ(fakeCudaLiveAllocations(), 0);
  for (float v : y)
    EXPECT_EQ(v, -1.0f);

  // The next call works again.
  ASSERT_WINNOW_OK(
      winnow_call(executable.get(), "add_one", &input, 1, &output, 1));
  EXPECT_FLOAT_EQ(y[0], 2.0f);
}

TEST_F(CudaTest, LaunchFailureIsAStatus) {
  ExecutablePtr executable;
  ASSERT_WINNOW_OK(bind(cudaTestArtifact(hostObject()), executable));
  float x[4] = {}, y[4] = {-1, -1, -1, -1};
  std::vector<int64_t> shape = {4};
  winnow_tensor input = tensor(WINNOW_DTYPE_F32, shape, x, sizeof(x));
  winnow_tensor output = tensor(WINNOW_DTYPE_F32, shape, y, sizeof(y));
  EXPECT_WINNOW_ERROR(
      winnow_call(executable.get(), "fault", &input, 1, &output, 1),
      WINNOW_STATUS_INTERNAL,
      "function 'fault' on device 'cuda:0': mgpuLaunchKernel: cuLaunchKernel "
      "failed: CUDA_ERROR_LAUNCH_FAILED (unspecified launch failure)");
  EXPECT_EQ(fakeCudaCallCount("cuMemcpyAsync"), 0);
  EXPECT_EQ(fakeCudaLiveAllocations(), 0);
  for (float v : y)
    EXPECT_EQ(v, -1.0f);

  EXPECT_WINNOW_ERROR(
      winnow_call(executable.get(), "missing_kernel", &input, 1, &output, 1),
      WINNOW_STATUS_NOT_FOUND,
      "mgpuModuleGetFunction: kernel 'no_such_kernel': cuModuleGetFunction "
      "failed: CUDA_ERROR_NOT_FOUND");
  EXPECT_EQ(fakeCudaLiveAllocations(), 0);
}

TEST_F(CudaTest, CopyFailureIsAStatus) {
  ExecutablePtr executable;
  ASSERT_WINNOW_OK(bind(cudaTestArtifact(hostObject()), executable));
  float x[6] = {}, y[6] = {-1, -1, -1, -1, -1, -1};
  std::vector<int64_t> shape = {2, 3};
  winnow_tensor input = tensor(WINNOW_DTYPE_F32, shape, x, sizeof(x));
  winnow_tensor output = tensor(WINNOW_DTYPE_F32, shape, y, sizeof(y));
  fakeCudaFailCall("cuStreamSynchronize", 1, CUDA_ERROR_ILLEGAL_ADDRESS);
  EXPECT_WINNOW_ERROR(
      winnow_call(executable.get(), "add_one", &input, 1, &output, 1),
      WINNOW_STATUS_INTERNAL,
      "cuStreamSynchronize failed: CUDA_ERROR_ILLEGAL_ADDRESS");
  // The results were copied to staging, never to the caller's buffer.
  for (float v : y)
    EXPECT_EQ(v, -1.0f);
  EXPECT_EQ(fakeCudaLiveAllocations(), 0);
}

TEST_F(CudaTest, DeviceTensorCallIsStreamOrdered) {
  DevicePtr device = createCuda();
  ExecutablePtr executable;
  ASSERT_WINNOW_OK(bindOn(device.get(), cudaTestArtifact(hostObject()),
                          executable));
  void *dx = nullptr, *dy = nullptr;
  ASSERT_WINNOW_OK(winnow_device_allocate(device.get(), 24, &dx));
  ASSERT_WINNOW_OK(winnow_device_allocate(device.get(), 24, &dy));
  float x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {};
  ASSERT_WINNOW_OK(winnow_device_copy(device.get(), dx, x, sizeof(x)));
  std::vector<int64_t> shape = {2, 3};
  winnow_tensor input = tensor(WINNOW_DTYPE_F32, shape, dx, 24);
  winnow_tensor output = tensor(WINNOW_DTYPE_F32, shape, dy, 24);
  void *stream = fakeCudaCreateStream();
  fakeCudaReset();
  ASSERT_WINNOW_OK(winnow_call_device(executable.get(), "add_one", &input, 1,
                                      &output, 1, stream));
  EXPECT_EQ(fakeCudaLastLaunchStream(), stream);
  // No copies in or out, no host wait.
  EXPECT_EQ(fakeCudaCallCount("cuMemcpyHtoDAsync_v2"), 0);
  EXPECT_EQ(fakeCudaCallCount("cuMemcpyDtoHAsync_v2"), 0);
  EXPECT_EQ(fakeCudaCallCount("cuStreamSynchronize"), 0);
  EXPECT_EQ(fakeCudaCallCount("cuEventSynchronize"), 0);
  ASSERT_WINNOW_OK(winnow_device_copy(device.get(), y, dy, sizeof(y)));
  EXPECT_FLOAT_EQ(y[5], 7.0f);

  // NULL is the legacy default stream.
  ASSERT_WINNOW_OK(winnow_call_device_by_index(executable.get(), 0, &input, 1,
                                               &output, 1, nullptr));
  EXPECT_EQ(fakeCudaLastLaunchStream(), nullptr);

  // The common checks still apply.
  winnow_tensor aliased = tensor(WINNOW_DTYPE_F32, shape, dx, 24);
  EXPECT_WINNOW_ERROR(winnow_call_device(executable.get(), "add_one", &input,
                                         1, &aliased, 1, stream),
                      WINNOW_STATUS_INVALID_ARGUMENT, "overlaps input 0 'x'");
  ASSERT_WINNOW_OK(winnow_device_free(device.get(), dx));
  ASSERT_WINNOW_OK(winnow_device_free(device.get(), dy));
}

TEST_F(CudaTest, Events) {
  DevicePtr device = createCuda();
  winnow_event *start = nullptr, *end = nullptr;
  ASSERT_WINNOW_OK(winnow_event_create(device.get(), &start));
  ASSERT_WINNOW_OK(winnow_event_create(device.get(), &end));
  ASSERT_WINNOW_OK(winnow_event_record(start, nullptr));
  ASSERT_WINNOW_OK(winnow_event_record(end, nullptr));
  float ms = -1;
  ASSERT_WINNOW_OK(winnow_event_elapsed_ms(start, end, &ms));
  EXPECT_GE(ms, 0.0f);
  winnow_event_destroy(start);
  winnow_event_destroy(end);
  EXPECT_EQ(fakeCudaCallCount("cuEventDestroy_v2"), 2);
}

TEST_F(CudaTest, ConcurrentHostTensorCalls) {
  ExecutablePtr executable;
  ASSERT_WINNOW_OK(bind(cudaTestArtifact(hostObject()), executable));
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<int64_t> shape = {2, 3};
      for (int iter = 0; iter < 100; ++iter) {
        float x[6], y[6];
        for (int i = 0; i < 6; ++i)
          x[i] = static_cast<float>(t * 1000 + iter + i);
        winnow_tensor input = tensor(WINNOW_DTYPE_F32, shape, x, sizeof(x));
        winnow_tensor output = tensor(WINNOW_DTYPE_F32, shape, y, sizeof(y));
        winnow_status status =
            winnow_call(executable.get(), "add_one", &input, 1, &output, 1);
        if (status != WINNOW_OK || y[5] != x[5] + 1)
          ++failures[t];
        winnow_status_free(status);
      }
    });
  }
  for (std::thread &thread : threads)
    thread.join();
  for (int t = 0; t < 4; ++t)
    EXPECT_EQ(failures[t], 0) << "thread " << t;
  EXPECT_EQ(fakeCudaCallCount("cuModuleGetFunction"), 1);
}

} // namespace
