//===- CpuLoader.h - Host checks and in-memory dlopen for CPU targets ----===//
#ifndef WINNOW_RUNTIME_SRC_CPULOADER_H
#define WINNOW_RUNTIME_SRC_CPULOADER_H

#include "Module.h"
#include "winnow/runtime/winnow_runtime.h"

#include <string>

namespace winnow::runtime {

/// The host architecture as spelled in triples ("x86_64", "aarch64").
const char *hostArchitecture();

/// Returns true when code for `target` can run on this host; otherwise sets
/// `reason` (e.g. "built for aarch64, but this host is x86_64").
bool isCpuTargetRunnable(const TargetSpec &target, std::string &reason);

/// Checks that `bytes` is a 64-bit little-endian ELF shared object for the
/// host machine, so a wrong binary fails with a clear message rather than a
/// loader error.
winnow_status checkElfSharedObject(const uint8_t *bytes, size_t size,
                                   const std::string &what);

/// Loads a shared object from memory: memfd_create + write +
/// dlopen("/proc/self/fd/N", RTLD_NOW | RTLD_LOCAL), no file on disk.
winnow_status dlopenFromMemory(const uint8_t *bytes, size_t size,
                               const std::string &what, void *&handle);

} // namespace winnow::runtime

#endif // WINNOW_RUNTIME_SRC_CPULOADER_H
