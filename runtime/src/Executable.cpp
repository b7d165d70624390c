//===- Executable.cpp - Binding a module to a device (target pick, dlopen) ===//
//
// Binding is the only place native code is mapped: pick the first CPU target
// that runs on this host, check its ELF header, dlopen it from a memfd and
// resolve every entry point, so a broken artifact fails here rather than at
// its first call. CUDA devices bind in cuda/CudaExecutable.cpp.
//
//===----------------------------------------------------------------------===//

#include "Executable.h"
#include "CpuLoader.h"
#include "Status.h"
#include "ThreadPool.h"
#include "winnow/support/EntryAbi.h"

#include <cstdlib>
#include <dlfcn.h>
#include <memory>

namespace winnow::runtime {
namespace {

constexpr const char *kEntryPrefix = "__winnow_entry_";

/// The first CPU target that runs on this host: the artifact lists them
/// most preferred first (x86-64-v3, then x86-64-v2 by default). The
/// environment variable WINNOW_CPU_TARGET names the one to take instead, so
/// that a host can run (and tests can compare) a fallback variant.
winnow_status selectCpuTarget(const winnow_module &module, size_t &index) {
  const char *wanted = std::getenv("WINNOW_CPU_TARGET");
  if (wanted && !*wanted)
    wanted = nullptr;
  std::string reasons, names;
  for (size_t i = 0; i < module.targets.size(); ++i) {
    const TargetSpec &target = module.targets[i];
    if (target.kind != WINNOW_TARGET_KIND_CPU)
      continue;
    names += (names.empty() ? "'" : ", '") + target.cpu + "'";
    if (wanted && target.cpu != wanted)
      continue;
    std::string reason;
    if (isCpuTargetRunnable(target, reason)) {
      index = i;
      return WINNOW_OK;
    }
    reasons += "; " + describeTarget(target, i) + ": " + reason;
  }
  if (names.empty())
    return makeStatus(WINNOW_STATUS_FAILED_PRECONDITION,
                      "the artifact has no CPU target (it has " +
                          std::to_string(module.targets.size()) +
                          " targets), so it cannot run on device 'cpu'");
  if (wanted && reasons.empty())
    return makeStatus(
        WINNOW_STATUS_FAILED_PRECONDITION,
        std::string("WINNOW_CPU_TARGET='") + wanted +
            "' names no CPU target of the artifact (its CPUs: " + names + ")");
  return makeStatus(WINNOW_STATUS_FAILED_PRECONDITION,
                    std::string("no CPU target of the artifact runs on this "
                                "host (") +
                        hostArchitecture() + ")" + reasons);
}

} // namespace

winnow_status resolveEntryPoints(winnow_executable_s &executable,
                                 const std::string &what) {
  executable.entries.reserve(executable.module->functions.size());
  for (const FunctionSpec &function : executable.module->functions) {
    std::string symbol = kEntryPrefix + function.name;
    ::dlerror(); // Clear any stale error before the lookup.
    void *address = ::dlsym(executable.libraryHandle, symbol.c_str());
    if (!address)
      return makeStatus(WINNOW_STATUS_NOT_FOUND,
                        what + " does not export '" + symbol +
                            "' for function '" + function.name + "'");
    executable.entries.push_back(reinterpret_cast<CpuEntryFn>(address));
  }
  // Code with parallel loops exports the pointer to the thread pool; the
  // code of an older compiler has none and runs serially.
  ::dlerror();
  if (void *slot =
          ::dlsym(executable.libraryHandle, support::kParallelForSymbol))
    *static_cast<ParallelForFn *>(slot) = &parallelFor;
  return WINNOW_OK;
}

size_t resolvedThreads(const winnow_executable_s &executable) {
  size_t threads = executable.numThreads.load(std::memory_order_relaxed);
  return threads ? threads : defaultThreadCount();
}

} // namespace winnow::runtime

using namespace winnow::runtime;

winnow_executable_s::~winnow_executable_s() {
  // The kernels are unloaded through the host code, so before dlclose.
  destroyCudaExecutable(cuda);
  if (libraryHandle)
    ::dlclose(libraryHandle);
  winnow_module_release(module);
  winnow_device_release(device);
}

extern "C" {

winnow_status winnow_executable_create(winnow_module *module,
                                       winnow_device *device,
                                       winnow_executable **out_executable) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(module);
    WINNOW_CHECK_ARG(device);
    WINNOW_CHECK_ARG(out_executable);
    auto executable = std::make_unique<winnow_executable_s>();
    winnow_module_retain(module);
    executable->module = module;
    winnow_device_retain(device);
    executable->device = device;

    if (device->kind == DeviceKind::Cuda) {
      WINNOW_RETURN_IF_ERROR(bindCudaExecutable(*executable));
      *out_executable = executable.release();
      return WINNOW_OK;
    }
    WINNOW_RETURN_IF_ERROR(selectCpuTarget(*module, executable->targetIndex));
    const TargetSpec &target = module->targets[executable->targetIndex];
    std::string what = "the shared object of " +
                       describeTarget(target, executable->targetIndex);
    WINNOW_RETURN_IF_ERROR(
        checkElfSharedObject(target.binary, target.binarySize, what));
    WINNOW_RETURN_IF_ERROR(dlopenFromMemory(target.binary, target.binarySize,
                                            what, executable->libraryHandle));

    WINNOW_RETURN_IF_ERROR(resolveEntryPoints(*executable, what));
    *out_executable = executable.release();
    return WINNOW_OK;
  });
}

void winnow_executable_retain(winnow_executable *executable) {
  if (executable)
    executable->refs.retain();
}

void winnow_executable_release(winnow_executable *executable) {
  if (executable && executable->refs.release())
    delete executable;
}

winnow_status winnow_executable_get_module(const winnow_executable *executable,
                                           const winnow_module **out_module) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(executable);
    WINNOW_CHECK_ARG(out_module);
    *out_module = executable->module;
    return WINNOW_OK;
  });
}

winnow_status winnow_executable_set_num_threads(winnow_executable *executable,
                                                size_t num_threads) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(executable);
    if (executable->cuda)
      return makeStatus(WINNOW_STATUS_FAILED_PRECONDITION,
                        "thread counts apply to CPU executables; this one "
                        "runs on device '" +
                            executable->device->name + "'");
    if (num_threads > kMaxThreads)
      return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                        "num_threads is " + std::to_string(num_threads) +
                            ", above the limit of " +
                            std::to_string(kMaxThreads));
    executable->numThreads.store(num_threads, std::memory_order_relaxed);
    return WINNOW_OK;
  });
}

winnow_status
winnow_executable_get_num_threads(const winnow_executable *executable,
                                  size_t *out_num_threads) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(executable);
    WINNOW_CHECK_ARG(out_num_threads);
    *out_num_threads = resolvedThreads(*executable);
    return WINNOW_OK;
  });
}

winnow_status
winnow_executable_get_target_index(const winnow_executable *executable,
                                   size_t *out_target_index) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(executable);
    WINNOW_CHECK_ARG(out_target_index);
    *out_target_index = executable->targetIndex;
    return WINNOW_OK;
  });
}

} // extern "C"
