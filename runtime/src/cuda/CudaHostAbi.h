//===- CudaHostAbi.h - The runtime's side of cuda_host_abi.h -------------===//
//
// The mgpu* functions the generated host code calls through its table. They
// cannot take a context argument, so the runtime publishes the current call
// (driver, stream, executable, first error) in a thread-local for the
// duration of each entry-point call and of the kernel load/unload.
//
//===----------------------------------------------------------------------===//
#ifndef WINNOW_RUNTIME_SRC_CUDA_CUDAHOSTABI_H
#define WINNOW_RUNTIME_SRC_CUDA_CUDAHOSTABI_H

#include "cuda/CudaExecutable.h"

#include <vector>

namespace winnow::runtime {

/// A launch of a timed call (winnow_call_device_timed): the events recorded
/// around it, which the call destroys, and what was launched.
struct TimedLaunch {
  CUevent start = nullptr;
  CUevent stop = nullptr;
  const char *kernel = "";
  unsigned grid[3] = {1, 1, 1};
  unsigned block[3] = {1, 1, 1};
  unsigned sharedBytes = 0;
};

/// Device scratch of one call: the host code's allocations are carved out of
/// it in order (WINNOW_WORKSPACE_ALIGNMENT-aligned) instead of allocated,
/// and their frees do nothing.
struct CallWorkspace {
  CUdeviceptr base = 0;
  size_t bytes = 0;
  size_t used = 0;
  bool contains(CUdeviceptr pointer) const {
    return pointer >= base && pointer < base + bytes;
  }
};

/// Publishes one call to the mgpu* functions of this thread. Nested scopes
/// restore the outer one. The first error of the call is kept; every mgpu*
/// call after it does nothing.
class ScopedHostCall {
public:
  ScopedHostCall(CudaExecutable &executable, CUstream stream);
  ~ScopedHostCall();
  ScopedHostCall(const ScopedHostCall &) = delete;
  ScopedHostCall &operator=(const ScopedHostCall &) = delete;

  /// Hands the first error (or WINNOW_OK) to the caller.
  winnow_status takeError();
  bool failed() const { return hasFailed; }

  /// Keeps `status` if it is the call's first error, else frees it.
  void fail(winnow_status status);

  CudaExecutable &executable;
  const CudaDriver &driver;
  CUstream stream;
  /// Set for a timed call: every launch appends itself with its events.
  std::vector<TimedLaunch> *timedLaunches = nullptr;
  /// Where the call's scratch comes from; null: stream-ordered allocations
  /// (an artifact whose workspace size is unknown).
  CallWorkspace *workspace = nullptr;

private:
  winnow_status firstError = WINNOW_OK;
  bool hasFailed = false;
  ScopedHostCall *outer;
};

/// Writes the runtime's mgpu* implementations into a host object's
/// __winnow_cuda_table (WINNOW_CUDA_SLOT_COUNT entries).
void fillCudaHostTable(void **table);

} // namespace winnow::runtime

#endif // WINNOW_RUNTIME_SRC_CUDA_CUDAHOSTABI_H
