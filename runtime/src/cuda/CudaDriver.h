//===- CudaDriver.h - The CUDA driver API, loaded with dlopen ------------===//
//
// The runtime never links libcuda: it opens "libcuda.so.1" (or the library
// named by WINNOW_CUDA_DRIVER, which tests point at a fake driver) and
// resolves each entry point by the versioned name cuda.h maps it to, so the
// runtime loads and reports a clear status on machines without a GPU.
// cuda.h is included for its types only.
//
//===----------------------------------------------------------------------===//
#ifndef WINNOW_RUNTIME_SRC_CUDA_CUDADRIVER_H
#define WINNOW_RUNTIME_SRC_CUDA_CUDADRIVER_H

#include "winnow/runtime/winnow_runtime.h"

#include <cuda.h>

#include <memory>
#include <string>

namespace winnow::runtime {

/// X(member, cuda.h function, exported symbol). The cuda.h name gives the
/// type (after cuda.h's own renaming, e.g. cuMemAlloc -> cuMemAlloc_v2), the
/// string is what dlsym looks up.
#define WINNOW_CUDA_DRIVER_FUNCTIONS(X)                                        \
  X(init, cuInit, "cuInit")                                                    \
  X(driverGetVersion, cuDriverGetVersion, "cuDriverGetVersion")                \
  X(getErrorName, cuGetErrorName, "cuGetErrorName")                            \
  X(getErrorString, cuGetErrorString, "cuGetErrorString")                      \
  X(deviceGetCount, cuDeviceGetCount, "cuDeviceGetCount")                      \
  X(deviceGet, cuDeviceGet, "cuDeviceGet")                                     \
  X(deviceGetName, cuDeviceGetName, "cuDeviceGetName")                         \
  X(deviceGetAttribute, cuDeviceGetAttribute, "cuDeviceGetAttribute")          \
  X(deviceTotalMem, cuDeviceTotalMem, "cuDeviceTotalMem_v2")                   \
  X(primaryCtxRetain, cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain")    \
  X(primaryCtxRelease, cuDevicePrimaryCtxRelease,                              \
    "cuDevicePrimaryCtxRelease_v2")                                            \
  X(ctxPushCurrent, cuCtxPushCurrent, "cuCtxPushCurrent_v2")                   \
  X(ctxPopCurrent, cuCtxPopCurrent, "cuCtxPopCurrent_v2")                      \
  X(memGetInfo, cuMemGetInfo, "cuMemGetInfo_v2")                               \
  X(memAlloc, cuMemAlloc, "cuMemAlloc_v2")                                     \
  X(memFree, cuMemFree, "cuMemFree_v2")                                        \
  X(memcpy, cuMemcpy, "cuMemcpy")                                              \
  X(memAllocAsync, cuMemAllocAsync, "cuMemAllocAsync")                         \
  X(memFreeAsync, cuMemFreeAsync, "cuMemFreeAsync")                            \
  X(memcpyAsync, cuMemcpyAsync, "cuMemcpyAsync")                               \
  X(memcpyHtoDAsync, cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2")                \
  X(memcpyDtoHAsync, cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2")                \
  X(memsetD32Async, cuMemsetD32Async, "cuMemsetD32Async")                      \
  X(memsetD16Async, cuMemsetD16Async, "cuMemsetD16Async")                      \
  X(moduleLoadData, cuModuleLoadData, "cuModuleLoadData")                      \
  X(moduleLoadDataEx, cuModuleLoadDataEx, "cuModuleLoadDataEx")                \
  X(moduleUnload, cuModuleUnload, "cuModuleUnload")                            \
  X(moduleGetFunction, cuModuleGetFunction, "cuModuleGetFunction")             \
  X(funcSetAttribute, cuFuncSetAttribute, "cuFuncSetAttribute")                \
  X(launchKernel, cuLaunchKernel, "cuLaunchKernel")                            \
  X(streamCreate, cuStreamCreate, "cuStreamCreate")                            \
  X(streamDestroy, cuStreamDestroy, "cuStreamDestroy_v2")                      \
  X(streamSynchronize, cuStreamSynchronize, "cuStreamSynchronize")             \
  X(streamWaitEvent, cuStreamWaitEvent, "cuStreamWaitEvent")                   \
  X(eventCreate, cuEventCreate, "cuEventCreate")                               \
  X(eventDestroy, cuEventDestroy, "cuEventDestroy_v2")                         \
  X(eventRecord, cuEventRecord, "cuEventRecord")                               \
  X(eventSynchronize, cuEventSynchronize, "cuEventSynchronize")                \
  X(eventElapsedTime, cuEventElapsedTime, "cuEventElapsedTime_v2")           \
  X(streamBeginCapture, cuStreamBeginCapture, "cuStreamBeginCapture_v2")     \
  X(streamEndCapture, cuStreamEndCapture, "cuStreamEndCapture")              \
  X(graphInstantiate, cuGraphInstantiateWithFlags,                            \
    "cuGraphInstantiateWithFlags")                                             \
  X(graphLaunch, cuGraphLaunch, "cuGraphLaunch")                               \
  X(graphExecDestroy, cuGraphExecDestroy, "cuGraphExecDestroy")                \
  X(graphDestroy, cuGraphDestroy, "cuGraphDestroy")

/// The resolved driver. Immutable after load, shared by a device and
/// everything created from it.
class CudaDriver {
public:
  /// Opens the driver library and resolves every entry point. UNAVAILABLE
  /// with "no CUDA driver: ..." when the library cannot be opened, or naming
  /// the missing symbol when it is too old.
  static winnow_status load(std::shared_ptr<const CudaDriver> &out);
  ~CudaDriver();

  /// "CUDA_ERROR_OUT_OF_MEMORY (out of memory)".
  std::string describe(CUresult result) const;
  /// WINNOW_OK for CUDA_SUCCESS, else a status "<call> failed: <describe>"
  /// with a code that says what kind of failure it was.
  winnow_status check(CUresult result, const char *call) const;

#define WINNOW_CUDA_DRIVER_MEMBER(member, function, symbol)                    \
  decltype(&::function) member = nullptr;
  WINNOW_CUDA_DRIVER_FUNCTIONS(WINNOW_CUDA_DRIVER_MEMBER)
#undef WINNOW_CUDA_DRIVER_MEMBER

  /// The library that was opened, for messages.
  std::string path;

private:
  CudaDriver() = default;
  void *library = nullptr;
};

} // namespace winnow::runtime

#endif // WINNOW_RUNTIME_SRC_CUDA_CUDADRIVER_H
