//===- CudaTimingTest.cpp - Graphs, timed calls and the L2 flush ---------===//
//
// What winnow-run's benchmark modes stand on, on the fake driver: a call
// captured as a graph runs nothing until it is launched and then does what
// the call does; per-launch timing names every launch; every failure leaves
// no stream, graph, event or allocation behind.
//
//===----------------------------------------------------------------------===//

#include "CudaTestUtil.h"

namespace {

using namespace winnow::testing;

/// add_one's device tensors: x = 1..6 on the device, y zeroed.
class DeviceCall : public BoundAddOneTest {
protected:
  void SetUp() override {
    BoundAddOneTest::SetUp();
    input = tensor(WINNOW_DTYPE_F32, shape, dx, 24);
    output = tensor(WINNOW_DTYPE_F32, shape, dy, 24);
    baselineAllocations = fakeCudaLiveAllocations();
  }
  float resultAt(int i) {
    float y[6] = {};
    EXPECT_WINNOW_OK(winnow_device_copy(device.get(), y, dy, sizeof(y)));
    return y[i];
  }

  std::vector<int64_t> shape = {2, 3};
  winnow_tensor input{}, output{};
  long baselineAllocations = 0;
};

TEST_F(DeviceCall, GraphReplaysTheCall) {
  winnow_graph *graph = nullptr;
  long runsBefore = fakeCudaKernelRuns();
  long streams = fakeCudaLiveStreams();
  ASSERT_WINNOW_OK(winnow_graph_capture(executable.get(), 0, &input, 1,
                                        &output, 1, &graph));
  // Captured, not run: no kernel ran and the output is untouched.
  EXPECT_EQ(fakeCudaKernelRuns(), runsBefore);
  EXPECT_EQ(resultAt(5), 0.0f);
  EXPECT_EQ(fakeCudaLiveGraphs(), 1); // the instantiated graph only
  EXPECT_EQ(fakeCudaLiveStreams(), streams); // capture's stream is gone

  void *stream = fakeCudaCreateStream();
  fakeCudaReset();
  for (int i = 0; i < 2; ++i)
    ASSERT_WINNOW_OK(winnow_graph_launch(graph, stream));
  EXPECT_EQ(fakeCudaCallCount("cuGraphLaunch"), 2);
  EXPECT_EQ(fakeCudaCallCount("cuLaunchKernel"), 0);
  EXPECT_EQ(fakeCudaKernelRuns(), runsBefore + 2);
  EXPECT_FLOAT_EQ(resultAt(0), 2.0f);
  EXPECT_FLOAT_EQ(resultAt(5), 7.0f);
  // The call's scratch buffer is graph memory, freed with the graph.
  EXPECT_EQ(fakeCudaLiveAllocations(), baselineAllocations + 1);
  winnow_graph_destroy(graph);
  EXPECT_EQ(fakeCudaLiveGraphs(), 0);
  EXPECT_EQ(fakeCudaLiveAllocations(), baselineAllocations);
  winnow_graph_destroy(nullptr);
}

TEST_F(DeviceCall, GraphKeepsTheExecutableAlive) {
  winnow_graph *graph = nullptr;
  ASSERT_WINNOW_OK(winnow_graph_capture(executable.get(), 0, &input, 1,
                                        &output, 1, &graph));
  executable.reset();
  ASSERT_WINNOW_OK(winnow_graph_launch(graph, nullptr));
  EXPECT_FLOAT_EQ(resultAt(5), 7.0f);
  winnow_graph_destroy(graph);
  EXPECT_EQ(fakeCudaLiveModules(), 0);
}

TEST_F(DeviceCall, FailedCaptureLeavesNothing) {
  long streams = fakeCudaLiveStreams();
  winnow_graph *graph = nullptr;
  fakeCudaFailCall("cuLaunchKernel", 1, CUDA_ERROR_INVALID_VALUE);
  EXPECT_WINNOW_ERROR(
      winnow_graph_capture(executable.get(), 0, &input, 1, &output, 1, &graph),
      WINNOW_STATUS_INTERNAL,
      "function 'add_one' on device 'cuda:0': capturing a CUDA graph: "
      "mgpuLaunchKernel: cuLaunchKernel failed: CUDA_ERROR_INVALID_VALUE");
  EXPECT_EQ(graph, nullptr);
  EXPECT_EQ(fakeCudaLiveGraphs(), 0);
  EXPECT_EQ(fakeCudaLiveStreams(), streams);
  EXPECT_EQ(fakeCudaLiveAllocations(), baselineAllocations);

  fakeCudaFailCall("cuGraphInstantiateWithFlags", 1,
                   CUDA_ERROR_OUT_OF_MEMORY);
  EXPECT_WINNOW_ERROR(
      winnow_graph_capture(executable.get(), 0, &input, 1, &output, 1, &graph),
      WINNOW_STATUS_OUT_OF_MEMORY, "cuGraphInstantiate failed");
  EXPECT_EQ(fakeCudaLiveGraphs(), 0);
  EXPECT_EQ(fakeCudaLiveStreams(), streams);
  EXPECT_EQ(fakeCudaLiveAllocations(), baselineAllocations);
}

TEST_F(DeviceCall, GraphLaunchFailureIsAStatus) {
  // The fault kernel fails when it runs, so capture succeeds and the
  // replay reports it.
  winnow_graph *graph = nullptr;
  size_t fault = 0;
  const winnow_module *module = nullptr;
  ASSERT_WINNOW_OK(winnow_executable_get_module(executable.get(), &module));
  ASSERT_WINNOW_OK(winnow_module_find_function(module, "fault", &fault));
  std::vector<int64_t> four = {4};
  winnow_tensor in4 = tensor(WINNOW_DTYPE_F32, four, dx, 16);
  winnow_tensor out4 = tensor(WINNOW_DTYPE_F32, four, dy, 16);
  ASSERT_WINNOW_OK(winnow_graph_capture(executable.get(), fault, &in4, 1,
                                        &out4, 1, &graph));
  EXPECT_WINNOW_ERROR(winnow_graph_launch(graph, nullptr),
                      WINNOW_STATUS_INTERNAL,
                      "cuGraphLaunch failed: CUDA_ERROR_LAUNCH_FAILED");
  winnow_graph_destroy(graph);
}

TEST_F(DeviceCall, GraphArgumentsAreChecked) {
  winnow_graph *graph = nullptr;
  winnow_tensor aliased = tensor(WINNOW_DTYPE_F32, shape, dx, 24);
  EXPECT_WINNOW_ERROR(winnow_graph_capture(executable.get(), 0, &input, 1,
                                           &aliased, 1, &graph),
                      WINNOW_STATUS_INVALID_ARGUMENT, "overlaps input 0 'x'");
  EXPECT_WINNOW_ERROR(winnow_graph_capture(executable.get(), 99, &input, 1,
                                           &output, 1, &graph),
                      WINNOW_STATUS_OUT_OF_RANGE, "function index 99");
  EXPECT_WINNOW_ERROR(winnow_graph_launch(nullptr, nullptr),
                      WINNOW_STATUS_INVALID_ARGUMENT,
                      "argument 'graph' is null");
  EXPECT_EQ(fakeCudaLiveGraphs(), 0);
}

TEST_F(DeviceCall, TimedCallNamesEveryLaunch) {
  size_t launches = 99;
  ASSERT_WINNOW_OK(winnow_call_device_timed(executable.get(), 0, &input, 1,
                                            &output, 1, nullptr, nullptr, 0,
                                            &launches));
  EXPECT_EQ(launches, 1u);
  EXPECT_FLOAT_EQ(resultAt(5), 7.0f);

  winnow_launch_timing timing[2] = {};
  ASSERT_WINNOW_OK(winnow_call_device_timed(executable.get(), 0, &input, 1,
                                            &output, 1, nullptr, timing, 2,
                                            &launches));
  ASSERT_EQ(launches, 1u);
  EXPECT_STREQ(timing[0].kernel, "add_kernel");
  EXPECT_EQ(timing[0].grid[0], 1u);
  EXPECT_EQ(timing[0].block[0], 128u);
  EXPECT_EQ(timing[0].block[1], 1u);
  EXPECT_EQ(timing[0].dynamic_shared_bytes, 0u);
  EXPECT_GE(timing[0].milliseconds, 0.0f);
  EXPECT_EQ(timing[1].kernel, nullptr); // past the launches: untouched
  EXPECT_EQ(fakeCudaCallCount("cuEventCreate"),
            fakeCudaCallCount("cuEventDestroy_v2"));
  EXPECT_EQ(fakeCudaLiveAllocations(), baselineAllocations);
}

TEST_F(DeviceCall, TimedCallFailureDestroysItsEvents) {
  size_t launches = 99;
  fakeCudaFailCall("cuLaunchKernel", 1, CUDA_ERROR_LAUNCH_FAILED);
  EXPECT_WINNOW_ERROR(winnow_call_device_timed(executable.get(), 0, &input, 1,
                                               &output, 1, nullptr, nullptr, 0,
                                               &launches),
                      WINNOW_STATUS_INTERNAL, "cuLaunchKernel failed");
  EXPECT_EQ(launches, 99u);
  EXPECT_EQ(fakeCudaCallCount("cuEventCreate"), 2);
  EXPECT_EQ(fakeCudaCallCount("cuEventDestroy_v2"), 2);
  EXPECT_EQ(fakeCudaLiveAllocations(), baselineAllocations);

  winnow_launch_timing timing;
  EXPECT_WINNOW_ERROR(winnow_call_device_timed(executable.get(), 0, &input, 1,
                                               &output, 1, nullptr, nullptr, 1,
                                               &launches),
                      WINNOW_STATUS_INVALID_ARGUMENT,
                      "argument 'timings' is null but capacity is 1");
  (void)timing;
}

TEST_F(DeviceCall, FlushWritesTwiceTheL2) {
  fakeCudaReset();
  for (int i = 0; i < 3; ++i)
    ASSERT_WINNOW_OK(winnow_device_flush_l2(device.get(), nullptr));
  // One buffer of 2 x 4 MiB (the fake's L2), 8 MiB at the least, written
  // three times.
  EXPECT_EQ(fakeCudaCallCount("cuMemAlloc_v2"), 1);
  EXPECT_EQ(fakeCudaCallCount("cuMemsetD32Async"), 3);
  EXPECT_EQ(fakeCudaLiveAllocations(), baselineAllocations + 1);
}

TEST_F(CudaTest, CpuExecutablesHaveNoGraphsOrTimedCalls) {
  winnow_device *raw = nullptr;
  ASSERT_WINNOW_OK(winnow_device_create("cpu", &raw));
  DevicePtr cpu(raw);
  EXPECT_WINNOW_ERROR(winnow_device_flush_l2(cpu.get(), nullptr),
                      WINNOW_STATUS_FAILED_PRECONDITION,
                      "flushing the L2 cache is for CUDA devices only "
                      "(device 'cpu')");
  ExecutablePtr executable;
  ASSERT_WINNOW_OK(
      bindOn(cpu.get(), addOneArtifact(addOneSharedObject()), executable));
  float x[6] = {}, y[6] = {};
  std::vector<int64_t> shape = {2, 3};
  winnow_tensor input = tensor(WINNOW_DTYPE_F32, shape, x, sizeof(x));
  winnow_tensor output = tensor(WINNOW_DTYPE_F32, shape, y, sizeof(y));
  winnow_graph *graph = nullptr;
  EXPECT_WINNOW_ERROR(winnow_graph_capture(executable.get(), 0, &input, 1,
                                           &output, 1, &graph),
                      WINNOW_STATUS_FAILED_PRECONDITION,
                      "CUDA graphs are for CUDA executables only (this one "
                      "runs on device 'cpu')");
  size_t launches = 0;
  EXPECT_WINNOW_ERROR(winnow_call_device_timed(executable.get(), 0, &input, 1,
                                               &output, 1, nullptr, nullptr, 0,
                                               &launches),
                      WINNOW_STATUS_FAILED_PRECONDITION,
                      "timed calls are for CUDA executables only");
}

} // namespace
