//===- CudaExecutable.h - Host code bound to a GPU, and its kernels ------===//
#ifndef WINNOW_RUNTIME_SRC_CUDA_CUDAEXECUTABLE_H
#define WINNOW_RUNTIME_SRC_CUDA_CUDAEXECUTABLE_H

#include "cuda/CudaDevice.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace winnow::runtime {

/// What a CUDA executable adds to winnow_executable_s: the stream its
/// host-tensor calls run on, and the modules and functions the host code
/// loaded through the mgpu* table.
class CudaExecutable {
public:
  explicit CudaExecutable(CudaDevice &device) : device(device) {}
  ~CudaExecutable();

  CudaDevice &device; // kept alive by the executable's device reference
  /// Used by winnow_call (host tensors); device-tensor calls use the
  /// caller's stream.
  CUstream stream = nullptr;
  void (*unloadKernels)() = nullptr;
  bool kernelsLoaded = false;

  // Module and function registry, filled from mgpu* calls. Concurrent calls
  // share it, hence the mutex (held for lookups only, never across a driver
  // call that waits).
  std::mutex mutex;
  std::vector<CUmodule> modules;
  std::map<std::pair<CUmodule, std::string>, CUfunction> functions;
  /// Each looked-up function's name (the key's string in `functions`), for
  /// per-launch timing.
  std::map<CUfunction, const char *> kernelNames;
  /// The CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES already set.
  std::map<CUfunction, int32_t> dynamicSharedLimits;

  /// Per function: the device scratch bytes of one call (-1: unknown; its
  /// scratch is then allocated stream-ordered).
  std::vector<int64_t> workspaceBytes;

  /// The scratch of calls on one stream. A call holds `inUse` while it
  /// enqueues its work, so the work of two calls on the stream never
  /// interleaves (the stream then orders one call's use of the buffer
  /// after the other's).
  struct StreamWorkspace {
    std::mutex inUse;
    CUdeviceptr base = 0;
    size_t bytes = 0;
  };
  /// The workspace of `stream`, allocated (cuMemAlloc, sized for the
  /// largest function) on its first use. The device's context must be
  /// current.
  winnow_status streamWorkspace(CUstream stream, StreamWorkspace *&out);

private:
  std::mutex workspacesMutex;
  std::map<CUstream, std::unique_ptr<StreamWorkspace>> workspaces;
};

} // namespace winnow::runtime

#endif // WINNOW_RUNTIME_SRC_CUDA_CUDAEXECUTABLE_H
