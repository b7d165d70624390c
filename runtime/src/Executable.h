//===- Executable.h - A module bound to a device -------------------------===//
#ifndef WINNOW_RUNTIME_SRC_EXECUTABLE_H
#define WINNOW_RUNTIME_SRC_EXECUTABLE_H

#include "Device.h"
#include "Module.h"
#include "RefCounted.h"

#include <atomic>
#include <string>
#include <vector>

struct winnow_executable_s;

namespace winnow::runtime {
/// `void __winnow_entry_<name>(void **args)`, see the artifact schema.
using CpuEntryFn = void (*)(void **);

/// Resolves `__winnow_entry_<name>` for every function of the module from
/// executable.libraryHandle; NOT_FOUND naming `what` when one is missing.
winnow_status resolveEntryPoints(winnow_executable_s &executable,
                                 const std::string &what);
} // namespace winnow::runtime

struct winnow_executable_s {
  winnow::runtime::RefCount refs;
  winnow_module *module = nullptr; // retained
  winnow_device *device = nullptr; // retained
  size_t targetIndex = 0;
  void *libraryHandle = nullptr;
  /// One entry point per module function, same order.
  std::vector<winnow::runtime::CpuEntryFn> entries;
  /// winnow_executable_set_num_threads (0: the default).
  std::atomic<size_t> numThreads{0};
  /// Owned; set when bound to a CUDA device.
  winnow::runtime::CudaExecutable *cuda = nullptr;

  ~winnow_executable_s();
};

namespace winnow::runtime {
/// The thread count calls of `executable` run with.
size_t resolvedThreads(const winnow_executable_s &executable);
} // namespace winnow::runtime

#endif // WINNOW_RUNTIME_SRC_EXECUTABLE_H
