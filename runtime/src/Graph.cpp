//===- Graph.cpp - winnow_graph_*: calls captured as CUDA graphs ---------===//

#include "Call.h"
#include "Executable.h"
#include "Status.h"

#include <memory>

using namespace winnow::runtime;

struct winnow_graph_s {
  winnow_executable *executable = nullptr; // retained
  CudaGraph *cuda = nullptr;

  ~winnow_graph_s() {
    destroyCudaGraph(cuda);
    winnow_executable_release(executable);
  }
};

extern "C" {

winnow_status winnow_graph_capture(winnow_executable *executable,
                                   size_t function_index,
                                   const winnow_tensor *inputs,
                                   size_t num_inputs, winnow_tensor *outputs,
                                   size_t num_outputs,
                                   winnow_graph **out_graph) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(executable);
    WINNOW_CHECK_ARG(out_graph);
    WINNOW_RETURN_IF_ERROR(
        checkCudaDeviceCall(*executable, function_index, "CUDA graphs", inputs,
                            num_inputs, outputs, num_outputs));
    auto graph = std::make_unique<winnow_graph_s>();
    WINNOW_RETURN_IF_ERROR(captureCudaGraph(*executable, function_index,
                                            inputs, num_inputs, outputs,
                                            num_outputs, graph->cuda));
    winnow_executable_retain(executable);
    graph->executable = executable;
    *out_graph = graph.release();
    return WINNOW_OK;
  });
}

winnow_status winnow_graph_launch(winnow_graph *graph, void *stream) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(graph);
    return launchCudaGraph(*graph->cuda, stream);
  });
}

void winnow_graph_destroy(winnow_graph *graph) { delete graph; }

} // extern "C"
