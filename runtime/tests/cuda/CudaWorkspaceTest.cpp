//===- CudaWorkspaceTest.cpp - Scratch from workspaces, not per call -----===//
//
// On the fake driver: a call's scratch comes from the workspace of its
// stream (allocated once per stream), from the caller's
// (winnow_call_device_with_workspace) or from its graph's; no call
// allocates stream-ordered memory, concurrent calls on one stream take
// turns, and every workspace is freed with its owner.
//
//===----------------------------------------------------------------------===//

#include "CudaTestUtil.h"
#include "winnow/runtime/winnow_dlpack.h"

#include <atomic>
#include <thread>

namespace {

using namespace winnow::testing;

/// add_one of cudaWorkspaceTestArtifact on cuda:0; x = 1..6 on the device.
class WorkspaceCall : public BoundAddOneTest {
protected:
  ArtifactDef artifact() override {
    return cudaWorkspaceTestArtifact(hostObject());
  }
  void SetUp() override {
    BoundAddOneTest::SetUp();
    input = tensor(WINNOW_DTYPE_F32, shape, dx, 24);
    output = tensor(WINNOW_DTYPE_F32, shape, dy, 24);
    fillIn = tensor(WINNOW_DTYPE_I32, fillShape, dx, 16);
    fillOut = tensor(WINNOW_DTYPE_I32, fillShape, dy, 16);
  }
  float resultAt(int i) {
    float y[6] = {};
    EXPECT_WINNOW_OK(winnow_device_copy(device.get(), y, dy, sizeof(y)));
    return y[i];
  }

  std::vector<int64_t> shape = {2, 3};
  std::vector<int64_t> fillShape = {4};
  winnow_tensor input{}, output{}, fillIn{}, fillOut{};
};

TEST_F(WorkspaceCall, SizesComeFromTheArtifact) {
  size_t bytes = 1;
  ASSERT_WINNOW_OK(winnow_function_workspace_size(executable.get(), 0, &bytes));
  EXPECT_EQ(bytes, 256u);
  ASSERT_WINNOW_OK(winnow_function_workspace_size(executable.get(), 4, &bytes));
  EXPECT_EQ(bytes, 0u); // fill allocates nothing
  EXPECT_WINNOW_ERROR(
      winnow_function_workspace_size(executable.get(), 9, &bytes),
      WINNOW_STATUS_OUT_OF_RANGE, "function index 9 is out of range");

  // An artifact from before workspace sizes.
  ExecutablePtr older;
  ASSERT_WINNOW_OK(bind(cudaTestArtifact(hostObject()), older));
  EXPECT_WINNOW_ERROR(
      winnow_function_workspace_size(older.get(), 0, &bytes),
      WINNOW_STATUS_FAILED_PRECONDITION,
      "function 'add_one' has no workspace size (the artifact predates "
      "workspace sizes");
}

TEST_F(WorkspaceCall, OneWorkspacePerStreamAllocatedOnce) {
  void *first = fakeCudaCreateStream();
  void *second = fakeCudaCreateStream();
  long allocations = fakeCudaLiveAllocations();
  fakeCudaReset();
  for (int i = 0; i < 3; ++i)
    ASSERT_WINNOW_OK(winnow_call_device_by_index(executable.get(), 0, &input, 1,
                                                 &output, 1, first));
  EXPECT_FLOAT_EQ(resultAt(5), 7.0f);
  // Scratch is never allocated per call; the stream's workspace once.
  EXPECT_EQ(fakeCudaCallCount("cuMemAllocAsync"), 0);
  EXPECT_EQ(fakeCudaCallCount("cuMemFreeAsync"), 0);
  EXPECT_EQ(fakeCudaCallCount("cuMemAlloc_v2"), 1);
  EXPECT_EQ(fakeCudaLiveAllocations(), allocations + 1);

  ASSERT_WINNOW_OK(winnow_call_device_by_index(executable.get(), 0, &input, 1,
                                               &output, 1, second));
  EXPECT_EQ(fakeCudaCallCount("cuMemAlloc_v2"), 2);
  EXPECT_EQ(fakeCudaLiveAllocations(), allocations + 2);
  // A function without scratch needs no workspace.
  ASSERT_WINNOW_OK(winnow_call_device_by_index(executable.get(), 4, &fillIn, 1,
                                               &fillOut, 1, second));
  EXPECT_EQ(fakeCudaCallCount("cuMemAlloc_v2"), 2);

  executable.reset();
  EXPECT_EQ(fakeCudaLiveAllocations(), allocations);
}

TEST_F(WorkspaceCall, WithTheCallersWorkspace) {
  void *workspace = nullptr;
  ASSERT_WINNOW_OK(winnow_device_allocate(device.get(), 512, &workspace));
  ASSERT_EQ(reinterpret_cast<uintptr_t>(workspace) % WINNOW_WORKSPACE_ALIGNMENT,
            0u);
  void *stream = fakeCudaCreateStream();
  fakeCudaReset();
  ASSERT_WINNOW_OK(winnow_call_device_with_workspace(
      executable.get(), 0, &input, 1, &output, 1, stream, workspace, 256));
  EXPECT_FLOAT_EQ(resultAt(0), 2.0f);
  EXPECT_EQ(fakeCudaCallCount("cuMemAllocAsync"), 0);
  EXPECT_EQ(fakeCudaCallCount("cuMemAlloc_v2"), 0);

  EXPECT_WINNOW_ERROR(
      winnow_call_device_with_workspace(executable.get(), 0, &input, 1, &output,
                                        1, stream, workspace, 255),
      WINNOW_STATUS_INVALID_ARGUMENT,
      "workspace of 255 bytes is too small: function 'add_one' needs 256 "
      "(winnow_function_workspace_size)");
  EXPECT_WINNOW_ERROR(
      winnow_call_device_with_workspace(executable.get(), 0, &input, 1, &output,
                                        1, stream, nullptr, 256),
      WINNOW_STATUS_INVALID_ARGUMENT,
      "argument 'workspace' is null but function 'add_one' needs 256 bytes");
  EXPECT_WINNOW_ERROR(
      winnow_call_device_with_workspace(
          executable.get(), 0, &input, 1, &output, 1, stream,
          static_cast<char *>(workspace) + 16, 256),
      WINNOW_STATUS_INVALID_ARGUMENT,
      "workspace is not aligned to 256 bytes (WINNOW_WORKSPACE_ALIGNMENT)");
  // fill needs none.
  ASSERT_WINNOW_OK(winnow_call_device_with_workspace(
      executable.get(), 4, &fillIn, 1, &fillOut, 1, stream, nullptr, 0));
  EXPECT_EQ(fakeCudaCallCount("cuMemAllocAsync"), 0);
  EXPECT_WINNOW_OK(winnow_device_free(device.get(), workspace));
}

// The DLPack forms the Python package calls: by index on the stream's
// workspace, and with a caller's workspace (PyTorch's allocator in a graph
// capture). Both check the DLTensors first, then take the device-call path.
TEST_F(WorkspaceCall, DLPackByIndexAndWithTheCallersWorkspace) {
  int64_t dims[2] = {2, 3};
  DLTensor in{}, out{};
  in.data = dx;
  in.device = {kDLCUDA, 0};
  in.ndim = 2;
  in.dtype = {kDLFloat, 32, 1};
  in.shape = dims;
  out = in;
  out.data = dy;
  const DLTensor *inputs[] = {&in};
  const DLTensor *outputs[] = {&out};
  void *stream = fakeCudaCreateStream();
  ASSERT_WINNOW_OK(winnow_call_dlpack_by_index(executable.get(), 0, inputs, 1,
                                               outputs, 1, stream));
  EXPECT_FLOAT_EQ(resultAt(5), 7.0f);
  EXPECT_WINNOW_ERROR(winnow_call_dlpack_by_index(executable.get(), 9, inputs,
                                                  1, outputs, 1, stream),
                      WINNOW_STATUS_OUT_OF_RANGE,
                      "function index 9 is out of range");

  void *workspace = nullptr;
  ASSERT_WINNOW_OK(winnow_device_allocate(device.get(), 256, &workspace));
  fakeCudaReset();
  ASSERT_WINNOW_OK(winnow_call_dlpack_with_workspace(
      executable.get(), 0, inputs, 1, outputs, 1, stream, workspace, 256));
  EXPECT_EQ(fakeCudaCallCount("cuMemAlloc_v2"), 0);
  EXPECT_EQ(fakeCudaCallCount("cuMemAllocAsync"), 0);
  EXPECT_WINNOW_ERROR(
      winnow_call_dlpack_with_workspace(executable.get(), 0, inputs, 1, outputs,
                                        1, stream, workspace, 128),
      WINNOW_STATUS_INVALID_ARGUMENT,
      "workspace of 128 bytes is too small: function 'add_one' needs 256");
  // The DLPack checks come first and name the argument.
  in.device = {kDLCPU, 0};
  EXPECT_WINNOW_ERROR(
      winnow_call_dlpack_with_workspace(executable.get(), 0, inputs, 1, outputs,
                                        1, stream, workspace, 256),
      WINNOW_STATUS_INVALID_ARGUMENT,
      "function 'add_one' input 0 'x': expected a kDLCUDA tensor");
  EXPECT_EQ(fakeCudaCallCount("cuLaunchKernel"), 1);
  EXPECT_WINNOW_OK(winnow_device_free(device.get(), workspace));
}

TEST_F(WorkspaceCall, CallersWorkspaceNeedsACudaExecutableAndASize) {
  winnow_device *raw = nullptr;
  ASSERT_WINNOW_OK(winnow_device_create("cpu", &raw));
  DevicePtr cpuDevice(raw);
  ExecutablePtr cpu;
  ASSERT_WINNOW_OK(
      bindOn(cpuDevice.get(), addOneArtifact(addOneSharedObject()), cpu));
  float x[6] = {}, y[6] = {};
  winnow_tensor hostInput = tensor(WINNOW_DTYPE_F32, shape, x, sizeof(x));
  winnow_tensor hostOutput = tensor(WINNOW_DTYPE_F32, shape, y, sizeof(y));
  EXPECT_WINNOW_ERROR(
      winnow_call_device_with_workspace(cpu.get(), 0, &hostInput, 1,
                                        &hostOutput, 1, nullptr, nullptr, 0),
      WINNOW_STATUS_FAILED_PRECONDITION,
      "calls with a caller's workspace are for CUDA executables only");
  size_t bytes = 7;
  ASSERT_WINNOW_OK(winnow_function_workspace_size(cpu.get(), 0, &bytes));
  EXPECT_EQ(bytes, 0u);

  ExecutablePtr older;
  ASSERT_WINNOW_OK(bind(cudaTestArtifact(hostObject()), older));
  EXPECT_WINNOW_ERROR(
      winnow_call_device_with_workspace(older.get(), 0, &input, 1, &output, 1,
                                        nullptr, nullptr, 0),
      WINNOW_STATUS_FAILED_PRECONDITION, "has no workspace size");
}

TEST_F(WorkspaceCall, GraphOwnsItsWorkspace) {
  long allocations = fakeCudaLiveAllocations();
  winnow_graph *graph = nullptr;
  fakeCudaReset();
  ASSERT_WINNOW_OK(
      winnow_graph_capture(executable.get(), 0, &input, 1, &output, 1, &graph));
  // Allocated before capture, not as graph memory.
  EXPECT_EQ(fakeCudaCallCount("cuMemAlloc_v2"), 1);
  EXPECT_EQ(fakeCudaCallCount("cuMemAllocAsync"), 0);
  EXPECT_EQ(fakeCudaLiveAllocations(), allocations + 1);
  void *stream = fakeCudaCreateStream();
  for (int i = 0; i < 2; ++i)
    ASSERT_WINNOW_OK(winnow_graph_launch(graph, stream));
  EXPECT_FLOAT_EQ(resultAt(5), 7.0f);
  winnow_graph_destroy(graph);
  EXPECT_EQ(fakeCudaLiveAllocations(), allocations);

  // A failed capture frees it too.
  fakeCudaFailCall("cuGraphInstantiateWithFlags", 1, CUDA_ERROR_OUT_OF_MEMORY);
  EXPECT_WINNOW_ERROR(
      winnow_graph_capture(executable.get(), 0, &input, 1, &output, 1, &graph),
      WINNOW_STATUS_OUT_OF_MEMORY, "cuGraphInstantiate");
  EXPECT_EQ(fakeCudaLiveAllocations(), allocations);
}

TEST_F(WorkspaceCall, WorkspaceAllocationFailureIsAStatus) {
  void *stream = fakeCudaCreateStream();
  long allocations = fakeCudaLiveAllocations();
  fakeCudaReset();
  fakeCudaFailCall("cuMemAlloc_v2", 1, CUDA_ERROR_OUT_OF_MEMORY);
  EXPECT_WINNOW_ERROR(
      winnow_call_device_by_index(executable.get(), 0, &input, 1, &output, 1,
                                  stream),
      WINNOW_STATUS_OUT_OF_MEMORY,
      "allocating the 256-byte workspace of a stream: cuMemAlloc failed: "
      "CUDA_ERROR_OUT_OF_MEMORY");
  EXPECT_EQ(fakeCudaCallCount("cuLaunchKernel"), 0);
  EXPECT_EQ(fakeCudaLiveAllocations(), allocations);
  // The next call allocates it.
  ASSERT_WINNOW_OK(winnow_call_device_by_index(executable.get(), 0, &input, 1,
                                               &output, 1, stream));
  EXPECT_FLOAT_EQ(resultAt(0), 2.0f);
}

// Eight threads on one executable: four share a stream (and so its
// workspace, taking turns), four have a stream each. Run under
// ThreadSanitizer by tools/sanitize.sh thread.
TEST_F(WorkspaceCall, ConcurrentCallsOnSharedAndOwnStreams) {
  constexpr int kThreads = 8, kCalls = 25;
  void *shared = fakeCudaCreateStream();
  std::vector<void *> own;
  std::vector<void *> outputs(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    own.push_back(fakeCudaCreateStream());
    ASSERT_WINNOW_OK(winnow_device_allocate(device.get(), 64, &outputs[t]));
  }
  long allocations = fakeCudaLiveAllocations();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      winnow_tensor out = tensor(WINNOW_DTYPE_F32, shape, outputs[t], 24);
      for (int i = 0; i < kCalls; ++i) {
        winnow_status status =
            winnow_call_device_by_index(executable.get(), 0, &input, 1, &out, 1,
                                        t < kThreads / 2 ? shared : own[t]);
        if (status) {
          ++failures;
          winnow_status_free(status);
        }
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(failures.load(), 0);
  // One workspace for the shared stream, one per own stream of the other
  // half.
  EXPECT_EQ(fakeCudaLiveAllocations(), allocations + 1 + kThreads / 2);
  for (int t = 0; t < kThreads; ++t) {
    float y[6] = {};
    ASSERT_WINNOW_OK(winnow_device_copy(device.get(), y, outputs[t], 24));
    EXPECT_FLOAT_EQ(y[0], 2.0f);
    EXPECT_FLOAT_EQ(y[5], 7.0f);
    EXPECT_WINNOW_OK(winnow_device_free(device.get(), outputs[t]));
  }
}

} // namespace
