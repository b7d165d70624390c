//===- CudaGraph.cpp - One call captured as an instantiated CUDA graph ---===//
//
// The call is captured on a private stream in thread-local mode, so other
// threads' work on other streams is neither captured nor disturbed, and the
// capture is always ended (also after an error) so that the stream can be
// destroyed. The generated host code never waits on the host (see
// CudaHostAbi.cpp), which is what makes it capturable.
//
//===----------------------------------------------------------------------===//

#include "Executable.h"
#include "Status.h"
#include "cuda/CudaCall.h"

namespace winnow::runtime {

class CudaGraph {
public:
  explicit CudaGraph(CudaDevice &device) : device(device) {}
  CudaDevice &device; // kept alive by the graph's executable reference
  CUgraphExec exec = nullptr;
  /// The scratch of every replay (the captured call's workspace).
  CUdeviceptr workspace = 0;
};

winnow_status captureCudaGraph(winnow_executable_s &executable,
                               size_t functionIndex,
                               const winnow_tensor *inputs, size_t numInputs,
                               winnow_tensor *outputs, size_t numOutputs,
                               CudaGraph *&out) {
  CudaDevice &device = executable.cuda->device;
  const CudaDriver &cu = *device.driver;
  ScopedContext scope(device);
  WINNOW_RETURN_IF_ERROR(scope.push());
  auto annotate = [&](CUresult result, const char *call) {
    return inCudaFunction(cu.check(result, call), executable, functionIndex,
                          "capturing a CUDA graph");
  };

  // The graph's own workspace, allocated before capture (an allocation is
  // not stream work) and freed with the graph.
  auto graphObject = std::make_unique<CudaGraph>(device);
  OwnedWorkspace workspace;
  int64_t workspaceBytes = executable.cuda->workspaceBytes[functionIndex];
  if (workspaceBytes > 0) {
    WINNOW_RETURN_IF_ERROR(
        annotate(cu.memAlloc(&graphObject->workspace, workspaceBytes),
                 "cuMemAlloc (the graph's workspace)"));
    workspace = {graphObject->workspace, static_cast<size_t>(workspaceBytes)};
  }
  auto freeWorkspace = [&] {
    if (graphObject->workspace)
      cu.memFree(graphObject->workspace);
    graphObject->workspace = 0;
  };

  CUstream stream = nullptr;
  winnow_status created = annotate(
      cu.streamCreate(&stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
  if (created) {
    freeWorkspace();
    return created;
  }
  winnow_status error = annotate(
      cu.streamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
      "cuStreamBeginCapture");
  CUgraph graph = nullptr;
  if (!error) {
    error =
        inCudaFunction(runCudaEntry(executable, functionIndex, stream, inputs,
                                    numInputs, outputs, numOutputs,
                                    workspaceBytes >= 0 ? &workspace : nullptr),
                       executable, functionIndex, "capturing a CUDA graph");
    // Ended whatever happened: a stream cannot be destroyed mid-capture.
    winnow_status ended = annotate(cu.streamEndCapture(stream, &graph),
                                   "cuStreamEndCapture");
    if (error)
      winnow_status_free(ended);
    else
      error = ended;
  }
  cu.streamDestroy(stream); // nothing was enqueued that could still run

  if (!error)
    error = annotate(cu.graphInstantiate(&graphObject->exec, graph, 0),
                     "cuGraphInstantiate");
  if (graph)
    cu.graphDestroy(graph); // the instantiated graph does not need it
  if (error) {
    freeWorkspace();
    return error;
  }
  out = graphObject.release();
  return WINNOW_OK;
}

winnow_status launchCudaGraph(CudaGraph &graph, void *stream) {
  const CudaDriver &cu = *graph.device.driver;
  ScopedContext scope(graph.device);
  WINNOW_RETURN_IF_ERROR(scope.push());
  return cu.check(cu.graphLaunch(graph.exec, static_cast<CUstream>(stream)),
                  "cuGraphLaunch");
}

void destroyCudaGraph(CudaGraph *graph) {
  if (!graph)
    return;
  if (graph->exec || graph->workspace)
    releaseInContext(graph->device, [&] {
      if (graph->exec)
        graph->device.driver->graphExecDestroy(graph->exec);
      // Replays still in flight finish first (cuMemFree synchronises).
      if (graph->workspace)
        graph->device.driver->memFree(graph->workspace);
    });
  delete graph;
}

} // namespace winnow::runtime
