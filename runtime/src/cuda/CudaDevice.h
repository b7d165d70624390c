//===- CudaDevice.h - A GPU, its primary context, and events -------------===//
#ifndef WINNOW_RUNTIME_SRC_CUDA_CUDADEVICE_H
#define WINNOW_RUNTIME_SRC_CUDA_CUDADEVICE_H

#include "cuda/CudaBackend.h"
#include "cuda/CudaDriver.h"

#include <memory>
#include <mutex>
#include <string>

namespace winnow::runtime {

/// One GPU with its retained primary context (the context the CUDA runtime,
/// and so PyTorch and CuPy, use: device pointers from them are valid here).
class CudaDevice {
public:
  CudaDevice(std::shared_ptr<const CudaDriver> driver, int ordinal)
      : driver(std::move(driver)), ordinal(ordinal) {}
  ~CudaDevice();

  std::shared_ptr<const CudaDriver> driver;
  int ordinal;
  CUdevice device = 0;
  CUcontext context = nullptr; // retained primary context
  std::string description;     // cuDeviceGetName
  int computeMajor = 0;
  int computeMinor = 0;
  uint64_t totalMemory = 0;
  int l2Bytes = 0; // CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE

  /// The buffer winnow_device_flush_l2 writes, made at its first use.
  std::mutex flushMutex;
  CUdeviceptr flushBuffer = 0;
  size_t flushBytes = 0;
};

/// Makes the device's context current on this thread for a scope, so that
/// driver calls work whatever the caller had current, and restores the
/// caller's context afterwards.
class ScopedContext {
public:
  explicit ScopedContext(const CudaDevice &device) : device(device) {}
  ~ScopedContext();
  winnow_status push();

private:
  const CudaDevice &device;
  bool pushed = false;
};

/// Runs `release` (a driver call that frees something) with the device's
/// context current, from a destructor: when the context cannot be made
/// current nothing can be released, and there is no one to report it to.
template <typename Release>
void releaseInContext(const CudaDevice &device, Release &&release) {
  ScopedContext scope(device);
  winnow_status pushed = scope.push();
  if (pushed == WINNOW_OK)
    release();
  winnow_status_free(pushed);
}

class CudaEvent {
public:
  explicit CudaEvent(CudaDevice &device) : device(device) {}
  CudaDevice &device;
  CUevent event = nullptr;
};

} // namespace winnow::runtime

#endif // WINNOW_RUNTIME_SRC_CUDA_CUDADEVICE_H
