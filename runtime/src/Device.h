//===- Device.h - Devices a module can be bound to -----------------------===//
#ifndef WINNOW_RUNTIME_SRC_DEVICE_H
#define WINNOW_RUNTIME_SRC_DEVICE_H

#include "RefCounted.h"
#include "winnow/runtime/winnow_runtime.h"

#include <string>

namespace winnow::runtime {
enum class DeviceKind { Cpu };
} // namespace winnow::runtime

struct winnow_device_s {
  winnow::runtime::RefCount refs;
  winnow::runtime::DeviceKind kind = winnow::runtime::DeviceKind::Cpu;
  std::string name;
};

#endif // WINNOW_RUNTIME_SRC_DEVICE_H
