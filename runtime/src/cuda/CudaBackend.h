//===- CudaBackend.h - What the core runtime asks of the CUDA backend ----===//
//
// The only CUDA interface the rest of the runtime sees. It does not include
// cuda.h, so the core builds without the CUDA toolkit: then
// CudaUnavailable.cpp implements these functions and every CUDA device
// request is UNIMPLEMENTED.
//
//===----------------------------------------------------------------------===//
#ifndef WINNOW_RUNTIME_SRC_CUDA_CUDABACKEND_H
#define WINNOW_RUNTIME_SRC_CUDA_CUDABACKEND_H

#include "winnow/runtime/winnow_runtime.h"

#include <cstddef>
#include <vector>

struct winnow_executable_s;

namespace winnow::runtime {

class CudaDevice;
class CudaExecutable;
class CudaEvent;
class CudaGraph;

// Devices (cuda/CudaDevice.cpp).
winnow_status createCudaDevice(int ordinal, CudaDevice *&out);
void destroyCudaDevice(CudaDevice *device);
void getCudaDeviceInfo(const CudaDevice &device, winnow_device_info &info);
winnow_status cudaAllocate(CudaDevice &device, size_t bytes, void **out);
winnow_status cudaFree(CudaDevice &device, void *data);
winnow_status cudaCopy(CudaDevice &device, void *dst, const void *src,
                       size_t bytes);
/// Enqueues the L2-evicting write of winnow_device_flush_l2.
winnow_status cudaFlushL2(CudaDevice &device, void *stream);

// Events (cuda/CudaDevice.cpp).
winnow_status createCudaEvent(CudaDevice &device, CudaEvent *&out);
void destroyCudaEvent(CudaEvent *event);
winnow_status recordCudaEvent(CudaEvent &event, void *stream);
winnow_status cudaElapsedMilliseconds(CudaEvent &start, CudaEvent &end,
                                      float &milliseconds);

// Executables (cuda/CudaExecutable.cpp): picks the CUDA target, loads the
// host code, fills its mgpu* table and loads the kernels; sets
// executable.cuda, targetIndex, libraryHandle and entries.
winnow_status bindCudaExecutable(winnow_executable_s &executable);
/// Unloads the kernels; must run before the host code is dlclosed.
void destroyCudaExecutable(CudaExecutable *executable);

// Calls (cuda/CudaCall.cpp). Arguments are already checked.
winnow_status callCudaWithHostTensors(winnow_executable_s &executable,
                                      size_t functionIndex,
                                      const winnow_tensor *inputs,
                                      size_t numInputs, winnow_tensor *outputs,
                                      size_t numOutputs);
/// A caller's workspace (winnow_call_device_with_workspace), already
/// checked against the function's size and alignment.
struct CallerWorkspace {
  void *data = nullptr;
  size_t bytes = 0;
};
/// Without `callerWorkspace`, scratch comes from the stream's workspace.
winnow_status
callCudaWithDeviceTensors(winnow_executable_s &executable, size_t functionIndex,
                          const winnow_tensor *inputs, size_t numInputs,
                          winnow_tensor *outputs, size_t numOutputs,
                          void *stream,
                          const CallerWorkspace *callerWorkspace = nullptr);
/// winnow_call_device_timed: a device-tensor call with events around each
/// launch; waits for the stream and appends one timing per launch.
winnow_status callCudaTimed(winnow_executable_s &executable,
                            size_t functionIndex, const winnow_tensor *inputs,
                            size_t numInputs, winnow_tensor *outputs,
                            size_t numOutputs, void *stream,
                            std::vector<winnow_launch_timing> &timings);

// Graphs (cuda/CudaGraph.cpp). Arguments are already checked.
winnow_status captureCudaGraph(winnow_executable_s &executable,
                               size_t functionIndex,
                               const winnow_tensor *inputs, size_t numInputs,
                               winnow_tensor *outputs, size_t numOutputs,
                               CudaGraph *&out);
winnow_status launchCudaGraph(CudaGraph &graph, void *stream);
void destroyCudaGraph(CudaGraph *graph);

/// The CUDA ordinal of an executable's device (for DLPack device checks).
int cudaDeviceOrdinal(const CudaDevice &device);

} // namespace winnow::runtime

#endif // WINNOW_RUNTIME_SRC_CUDA_CUDABACKEND_H
