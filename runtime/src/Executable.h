//===- Executable.h - A module bound to a device -------------------------===//
#ifndef WINNOW_RUNTIME_SRC_EXECUTABLE_H
#define WINNOW_RUNTIME_SRC_EXECUTABLE_H

#include "Device.h"
#include "Module.h"
#include "RefCounted.h"

#include <vector>

namespace winnow::runtime {
/// `void __winnow_entry_<name>(void **args)`, see the artifact schema.
using CpuEntryFn = void (*)(void **);
} // namespace winnow::runtime

struct winnow_executable_s {
  winnow::runtime::RefCount refs;
  winnow_module *module = nullptr; // retained
  winnow_device *device = nullptr; // retained
  size_t targetIndex = 0;
  void *libraryHandle = nullptr;
  /// One entry point per module function, same order.
  std::vector<winnow::runtime::CpuEntryFn> entries;

  ~winnow_executable_s();
};

#endif // WINNOW_RUNTIME_SRC_EXECUTABLE_H
