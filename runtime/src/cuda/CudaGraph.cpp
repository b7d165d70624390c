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

  CUstream stream = nullptr;
  WINNOW_RETURN_IF_ERROR(annotate(
      cu.streamCreate(&stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate"));
  winnow_status error = annotate(
      cu.streamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
      "cuStreamBeginCapture");
  CUgraph graph = nullptr;
  if (!error) {
    error = inCudaFunction(runCudaEntry(executable, functionIndex, stream,
                                        inputs, numInputs, outputs, numOutputs),
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

  auto graphObject = std::make_unique<CudaGraph>(device);
  if (!error)
    error = annotate(cu.graphInstantiate(&graphObject->exec, graph, 0),
                     "cuGraphInstantiate");
  if (graph)
    cu.graphDestroy(graph); // the instantiated graph does not need it
  if (error)
    return error;
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
  if (graph->exec)
    releaseInContext(graph->device, [&] {
      graph->device.driver->graphExecDestroy(graph->exec);
    });
  delete graph;
}

} // namespace winnow::runtime
