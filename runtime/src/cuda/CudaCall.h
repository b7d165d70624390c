//===- CudaCall.h - Running an entry point with the call published ------===//
//
// Shared by the call paths of CudaCall.cpp and graph capture
// (CudaGraph.cpp): both run the generated host code the same way and word
// its errors the same way.
//
//===----------------------------------------------------------------------===//
#ifndef WINNOW_RUNTIME_SRC_CUDA_CUDACALL_H
#define WINNOW_RUNTIME_SRC_CUDA_CUDACALL_H

#include "cuda/CudaHostAbi.h"

#include <string>
#include <vector>

struct winnow_executable_s;

namespace winnow::runtime {

/// A workspace the caller of winnow_call_device_with_workspace (or a graph)
/// owns.
struct OwnedWorkspace {
  CUdeviceptr base = 0;
  size_t bytes = 0;
};

/// Runs the entry on `stream` with the call published to the mgpu*
/// functions; returns the first driver error the host code hit. The call's
/// scratch comes from `owned` when given, else from the stream's workspace
/// (none for a function without scratch; stream-ordered allocations when
/// its size is unknown). With `timedLaunches`, every launch appends itself
/// with its events (which the caller destroys, also on error).
winnow_status runCudaEntry(winnow_executable_s &executable,
                           size_t functionIndex, CUstream stream,
                           const winnow_tensor *inputs, size_t numInputs,
                           const winnow_tensor *outputs, size_t numOutputs,
                           const OwnedWorkspace *owned = nullptr,
                           std::vector<TimedLaunch> *timedLaunches = nullptr);

/// "function 'f' on device 'cuda:0': [step: ]<message>", same code; OK and
/// the shared out-of-memory status pass through.
winnow_status inCudaFunction(winnow_status status,
                             const winnow_executable_s &executable,
                             size_t functionIndex, const std::string &step = "");

} // namespace winnow::runtime

#endif // WINNOW_RUNTIME_SRC_CUDA_CUDACALL_H
