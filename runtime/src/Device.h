//===- Device.h - Devices a module can be bound to -----------------------===//
#ifndef WINNOW_RUNTIME_SRC_DEVICE_H
#define WINNOW_RUNTIME_SRC_DEVICE_H

#include "RefCounted.h"
#include "cuda/CudaBackend.h"
#include "winnow/runtime/winnow_runtime.h"

#include <string>

namespace winnow::runtime {
enum class DeviceKind { Cpu, Cuda };
} // namespace winnow::runtime

struct winnow_device_s {
  winnow::runtime::RefCount refs;
  winnow::runtime::DeviceKind kind = winnow::runtime::DeviceKind::Cpu;
  std::string name;
  /// Owned; set for CUDA devices only.
  winnow::runtime::CudaDevice *cuda = nullptr;

  ~winnow_device_s() { winnow::runtime::destroyCudaDevice(cuda); }
};

struct winnow_event_s {
  winnow_device *device = nullptr; // retained
  winnow::runtime::CudaEvent *cuda = nullptr;

  ~winnow_event_s() {
    winnow::runtime::destroyCudaEvent(cuda);
    winnow_device_release(device);
  }
};

#endif // WINNOW_RUNTIME_SRC_DEVICE_H
