//===- CudaExecutable.cpp - Binding a CUDA target to a GPU ---------------===//
//
// Picks the artifact's CUDA target for this host and GPU, loads its host
// code from memory like a CPU target, checks the host ABI version, fills the
// mgpu* table and only then runs __winnow_cuda_load (the module constructor
// MLIR would have run at dlopen time), with the device's context current,
// so a kernel load failure is a status of winnow_executable_create.
//
//===----------------------------------------------------------------------===//

#include "cuda/CudaExecutable.h"
#include "CpuLoader.h"
#include "Executable.h"
#include "Status.h"
#include "cuda/CudaHostAbi.h"
#include "winnow/runtime/cuda_host_abi.h"

#include <algorithm>
#include <dlfcn.h>

namespace winnow::runtime {
namespace {

struct SmVersion {
  int major = 0;
  int minor = 0;
  /// "sm_90a": architecture-specific code, runs on exactly that GPU.
  bool exact = false;
};

/// "sm_86" -> 8.6, "sm_100a" -> 10.0 exact. The reader checked the form.
SmVersion parseSm(const std::string &arch) {
  SmVersion version;
  std::string digits;
  for (size_t i = 3; i < arch.size() && arch[i] >= '0' && arch[i] <= '9'; ++i)
    digits += arch[i];
  version.major = std::stoi(digits.substr(0, digits.size() - 1));
  version.minor = digits.back() - '0';
  version.exact = arch.back() == 'a';
  return version;
}

/// SASS runs on GPUs of the same major version and an equal or newer minor.
bool cubinRuns(const SmVersion &code, int major, int minor) {
  if (code.exact)
    return code.major == major && code.minor == minor;
  return code.major == major && code.minor <= minor;
}

/// PTX is JIT-compiled for any GPU at least as new as its virtual arch.
bool ptxRuns(const SmVersion &code, int major, int minor) {
  if (code.exact)
    return code.major == major && code.minor == minor;
  return code.major < major || (code.major == major && code.minor <= minor);
}

/// Returns true when `target` can run here; otherwise sets `reason`.
bool isCudaTargetRunnable(const TargetSpec &target, const CudaDevice &device,
                          std::string &reason) {
  if (!isCpuTargetRunnable(target, reason)) {
    reason = "host code " + reason;
    return false;
  }
  if (target.cudaAbiVersion != WINNOW_CUDA_HOST_ABI_VERSION) {
    reason = "generated for CUDA host ABI version " +
             std::to_string(target.cudaAbiVersion) +
             ", but this runtime implements version " +
             std::to_string(WINNOW_CUDA_HOST_ABI_VERSION);
    return false;
  }
  for (const std::string &arch : target.cubinArchitectures)
    if (cubinRuns(parseSm(arch), device.computeMajor, device.computeMinor))
      return true;
  if (!target.ptxArchitecture.empty() &&
      ptxRuns(parseSm(target.ptxArchitecture), device.computeMajor,
              device.computeMinor))
    return true;
  reason = "no code for this GPU (" + device.description + ", sm_" +
           std::to_string(device.computeMajor) +
           std::to_string(device.computeMinor) + ")";
  return false;
}

winnow_status selectCudaTarget(const winnow_module &module,
                               const CudaDevice &device,
                               const std::string &deviceName, size_t &index) {
  std::string reasons;
  std::string others;
  for (size_t i = 0; i < module.targets.size(); ++i) {
    const TargetSpec &target = module.targets[i];
    if (target.kind != WINNOW_TARGET_KIND_CUDA) {
      others += (others.empty() ? "" : ", ") + describeTarget(target, i);
      continue;
    }
    std::string reason;
    if (isCudaTargetRunnable(target, device, reason)) {
      index = i;
      return WINNOW_OK;
    }
    reasons += "; " + describeTarget(target, i) + ": " + reason;
  }
  if (reasons.empty())
    return makeStatus(WINNOW_STATUS_FAILED_PRECONDITION,
                      "the artifact has no CUDA target (it has " +
                          (others.empty() ? std::string("none") : others) +
                          "), so it cannot run on device '" + deviceName + "'");
  return makeStatus(WINNOW_STATUS_FAILED_PRECONDITION,
                    "no CUDA target of the artifact runs on device '" +
                        deviceName + "'" + reasons);
}

template <typename T>
winnow_status findSymbol(void *library, const char *symbol,
                         const std::string &what, T &out) {
  ::dlerror();
  void *address = ::dlsym(library, symbol);
  if (!address)
    return makeStatus(WINNOW_STATUS_NOT_FOUND, what + " does not export '" +
                                                   symbol +
                                                   "' (see cuda_host_abi.h)");
  out = reinterpret_cast<T>(address);
  return WINNOW_OK;
}

} // namespace

CudaExecutable::~CudaExecutable() {
  const CudaDriver &cu = *device.driver;
  ScopedContext scope(device);
  winnow_status pushed = scope.push();
  if (pushed != WINNOW_OK) {
    // Nothing can be released without the context; a destructor cannot
    // report, and the driver reclaims everything with the context.
    winnow_status_free(pushed);
    return;
  }
  // Work enqueued by winnow_call may still use the kernels.
  if (stream)
    cu.streamSynchronize(stream);
  if (kernelsLoaded && unloadKernels) {
    ScopedHostCall call(*this, stream);
    unloadKernels();
  }
  // Whatever the host code did not unload (after a failed load, or an
  // unload that stopped at an error).
  for (CUmodule module : modules)
    cu.moduleUnload(module);
  // Calls on callers' streams must have finished before the executable is
  // destroyed (their kernels are unloaded too).
  for (auto &[stream, workspace] : workspaces)
    if (workspace->base)
      cu.memFree(workspace->base);
  if (stream)
    cu.streamDestroy(stream);
}

void destroyCudaExecutable(CudaExecutable *executable) { delete executable; }

winnow_status CudaExecutable::streamWorkspace(CUstream stream,
                                              StreamWorkspace *&out) {
  std::lock_guard<std::mutex> lock(workspacesMutex);
  std::unique_ptr<StreamWorkspace> &slot = workspaces[stream];
  if (!slot) {
    size_t bytes = 0;
    for (int64_t function : workspaceBytes)
      bytes =
          std::max(bytes, static_cast<size_t>(std::max<int64_t>(function, 0)));
    auto workspace = std::make_unique<StreamWorkspace>();
    const CudaDriver &cu = *device.driver;
    winnow_status status =
        cu.check(cu.memAlloc(&workspace->base, bytes), "cuMemAlloc");
    if (status != WINNOW_OK) {
      workspaces.erase(stream);
      winnow_status annotated = makeStatus(
          winnow_status_code(status),
          "allocating the " + std::to_string(bytes) +
              "-byte workspace of a stream: " + winnow_status_message(status));
      winnow_status_free(status);
      return annotated;
    }
    workspace->bytes = bytes;
    slot = std::move(workspace);
  }
  out = slot.get();
  return WINNOW_OK;
}

winnow_status bindCudaExecutable(winnow_executable_s &executable) {
  CudaDevice &device = *executable.device->cuda;
  const winnow_module &module = *executable.module;
  WINNOW_RETURN_IF_ERROR(selectCudaTarget(
      module, device, executable.device->name, executable.targetIndex));
  const TargetSpec &target = module.targets[executable.targetIndex];
  std::string what =
      "the host code of " + describeTarget(target, executable.targetIndex);
  WINNOW_RETURN_IF_ERROR(
      checkElfSharedObject(target.binary, target.binarySize, what));
  WINNOW_RETURN_IF_ERROR(dlopenFromMemory(target.binary, target.binarySize,
                                          what, executable.libraryHandle));

  const uint32_t *abiVersion = nullptr;
  void **table = nullptr;
  void (*loadKernels)() = nullptr;
  void (*unloadKernels)() = nullptr;
  void *library = executable.libraryHandle;
  WINNOW_RETURN_IF_ERROR(
      findSymbol(library, WINNOW_CUDA_ABI_VERSION_SYMBOL, what, abiVersion));
  if (*abiVersion != WINNOW_CUDA_HOST_ABI_VERSION)
    return makeStatus(WINNOW_STATUS_FAILED_PRECONDITION,
                      what + " implements CUDA host ABI version " +
                          std::to_string(*abiVersion) +
                          ", but this runtime implements version " +
                          std::to_string(WINNOW_CUDA_HOST_ABI_VERSION));
  WINNOW_RETURN_IF_ERROR(
      findSymbol(library, WINNOW_CUDA_TABLE_SYMBOL, what, table));
  WINNOW_RETURN_IF_ERROR(
      findSymbol(library, WINNOW_CUDA_LOAD_SYMBOL, what, loadKernels));
  WINNOW_RETURN_IF_ERROR(
      findSymbol(library, WINNOW_CUDA_UNLOAD_SYMBOL, what, unloadKernels));
  WINNOW_RETURN_IF_ERROR(resolveEntryPoints(executable, what));

  // Owned by the executable from here on, so every failure below releases
  // what was created.
  executable.cuda = new CudaExecutable(device);
  CudaExecutable &cuda = *executable.cuda;
  cuda.unloadKernels = unloadKernels;
  cuda.workspaceBytes = target.workspaceBytes;
  const CudaDriver &cu = *device.driver;
  ScopedContext scope(device);
  WINNOW_RETURN_IF_ERROR(scope.push());
  // Non-blocking: the executable's work must not serialise with the legacy
  // default stream that other libraries in the process may use.
  WINNOW_RETURN_IF_ERROR(cu.check(
      cu.streamCreate(&cuda.stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate"));
  fillCudaHostTable(table);

  winnow_status loadError;
  {
    ScopedHostCall call(cuda, cuda.stream);
    loadKernels();
    loadError = call.takeError();
  }
  if (loadError != WINNOW_OK) {
    winnow_status withContext = makeStatus(
        winnow_status_code(loadError),
        "loading the kernels of " +
            describeTarget(target, executable.targetIndex) + " on device '" +
            executable.device->name + "' (" + device.description +
            "): " + winnow_status_message(loadError));
    winnow_status_free(loadError);
    return withContext;
  }
  cuda.kernelsLoaded = true;
  return WINNOW_OK;
}

} // namespace winnow::runtime
