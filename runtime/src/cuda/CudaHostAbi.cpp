//===- CudaHostAbi.cpp - mgpu* functions for generated CUDA host code ----===//
//
// Semantics (see cuda_host_abi.h): the host code sees one stream per call,
// which it may "create", "synchronise" and "destroy" freely without any of
// that reaching the driver, so a call never blocks the host and can be
// captured in a CUDA graph. Memory is stream-ordered. Driver errors are
// recorded, not printed: the first one becomes the call's status and turns
// every later mgpu* call of the call into a no-op, except the releases
// (free, event destroy, module unload), which still run so that a failed
// call leaks nothing.
//
// These functions are called from C code, so nothing may throw out of them.
//
//===----------------------------------------------------------------------===//

#include "cuda/CudaHostAbi.h"
#include "Status.h"
#include "winnow/runtime/cuda_host_abi.h"

#include <climits>

namespace winnow::runtime {
namespace {

thread_local ScopedHostCall *currentCall = nullptr;

/// The current call if it can still issue driver calls, else nullptr.
ScopedHostCall *activeCall() {
  ScopedHostCall *call = currentCall;
  return call && !call->failed() ? call : nullptr;
}

/// Records a failed driver call (nothing for CUDA_SUCCESS). True on success.
bool succeeded(ScopedHostCall &call, CUresult result, const char *mgpuName,
               const char *driverName) {
  if (result == CUDA_SUCCESS)
    return true;
  winnow_status status = call.driver.check(result, driverName);
  call.fail(makeStatus(winnow_status_code(status),
                       std::string(mgpuName) + ": " +
                           winnow_status_message(status)));
  winnow_status_free(status);
  return false;
}

void failWith(ScopedHostCall &call, winnow_status_code_t code,
              const std::string &message) {
  call.fail(makeStatus(code, message));
}

/// Runs `body` unless a previous call failed; turns exceptions (allocation
/// failures while building messages or registry entries) into the call's
/// error.
template <typename Result, typename Body>
Result guarded(Result onError, Body &&body) noexcept {
  ScopedHostCall *call = activeCall();
  if (!call)
    return onError;
  try {
    return body(*call);
  } catch (...) {
    call->fail(outOfMemoryStatus());
    return onError;
  }
}

/// For releases (free, destroy, unload): they run even after the call
/// failed, so an error leaks no device memory; their own errors are kept
/// only when they are the first.
template <typename Body> void releasing(Body &&body) noexcept {
  ScopedHostCall *call = currentCall;
  if (!call)
    return;
  try {
    body(*call);
  } catch (...) {
    call->fail(outOfMemoryStatus());
  }
}

CUdeviceptr devicePointer(void *pointer) {
  return reinterpret_cast<CUdeviceptr>(pointer);
}

void *mgpuModuleLoad(void *blob, int64_t size) noexcept {
  return guarded<void *>(nullptr, [&](ScopedHostCall &call) -> void * {
    CUmodule module = nullptr;
    if (!succeeded(call, call.driver.moduleLoadData(&module, blob),
                   "mgpuModuleLoad", "cuModuleLoadData"))
      return nullptr;
    std::lock_guard<std::mutex> lock(call.executable.mutex);
    call.executable.modules.push_back(module);
    return module;
  });
}

void *mgpuModuleLoadJIT(void *ptx, int32_t optLevel) noexcept {
  return guarded<void *>(nullptr, [&](ScopedHostCall &call) -> void * {
    // The JIT explains its failures only through the log buffer.
    char log[8192] = {};
    CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                              CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                              CU_JIT_OPTIMIZATION_LEVEL};
    void *values[] = {log, reinterpret_cast<void *>(sizeof(log) - 1),
                      reinterpret_cast<void *>(static_cast<intptr_t>(optLevel))};
    CUmodule module = nullptr;
    CUresult result = call.driver.moduleLoadDataEx(&module, ptx, 3, options,
                                                   values);
    if (result != CUDA_SUCCESS) {
      winnow_status status = call.driver.check(result, "cuModuleLoadDataEx");
      std::string message = std::string("mgpuModuleLoadJIT: ") +
                            winnow_status_message(status);
      if (log[0])
        message += "; JIT log: " + std::string(log);
      call.fail(makeStatus(winnow_status_code(status), message));
      winnow_status_free(status);
      return nullptr;
    }
    std::lock_guard<std::mutex> lock(call.executable.mutex);
    call.executable.modules.push_back(module);
    return module;
  });
}

void mgpuModuleUnload(void *module) noexcept {
  releasing([&](ScopedHostCall &call) {
    if (!module)
      return;
    auto cuModule = static_cast<CUmodule>(module);
    {
      std::lock_guard<std::mutex> lock(call.executable.mutex);
      auto &modules = call.executable.modules;
      for (auto it = modules.begin(); it != modules.end(); ++it) {
        if (*it == cuModule) {
          modules.erase(it);
          break;
        }
      }
      auto &functions = call.executable.functions;
      for (auto it = functions.begin(); it != functions.end();) {
        if (it->first.first == cuModule) {
          call.executable.dynamicSharedLimits.erase(it->second);
          call.executable.kernelNames.erase(it->second);
          it = functions.erase(it);
        } else {
          ++it;
        }
      }
    }
    succeeded(call, call.driver.moduleUnload(cuModule), "mgpuModuleUnload",
              "cuModuleUnload");
  });
}

void *mgpuModuleGetFunction(void *module, const char *name) noexcept {
  return guarded<void *>(nullptr, [&](ScopedHostCall &call) -> void * {
    auto cuModule = static_cast<CUmodule>(module);
    // Generated code looks the kernel up before every launch.
    std::pair<CUmodule, std::string> key(cuModule, name ? name : "");
    // Held across the lookup: threads that miss together would otherwise
    // each ask the driver (harmless, but one lookup per kernel is the
    // contract the tests hold the runtime to).
    std::lock_guard<std::mutex> lock(call.executable.mutex);
    auto found = call.executable.functions.find(key);
    if (found != call.executable.functions.end())
      return found->second;
    CUfunction function = nullptr;
    CUresult result = call.driver.moduleGetFunction(&function, cuModule, name);
    if (result != CUDA_SUCCESS) {
      winnow_status status = call.driver.check(result, "cuModuleGetFunction");
      failWith(call, winnow_status_code(status),
               "mgpuModuleGetFunction: kernel '" + key.second +
                   "': " + winnow_status_message(status));
      winnow_status_free(status);
      return nullptr;
    }
    auto inserted = call.executable.functions.emplace(std::move(key), function);
    call.executable.kernelNames[function] =
        inserted.first->first.second.c_str();
    return function;
  });
}

/// Kernels above 48 KiB of dynamic shared memory must opt in, once per
/// function and size.
bool allowDynamicSharedMemory(ScopedHostCall &call, CUfunction function,
                              int32_t bytes) {
  constexpr int32_t kDefaultLimit = 48 * 1024;
  if (bytes <= kDefaultLimit)
    return true;
  {
    std::lock_guard<std::mutex> lock(call.executable.mutex);
    auto found = call.executable.dynamicSharedLimits.find(function);
    if (found != call.executable.dynamicSharedLimits.end() &&
        found->second >= bytes)
      return true;
  }
  if (!succeeded(call,
                 call.driver.funcSetAttribute(
                     function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                     bytes),
                 "mgpuLaunchKernel", "cuFuncSetAttribute"))
    return false;
  std::lock_guard<std::mutex> lock(call.executable.mutex);
  int32_t &limit = call.executable.dynamicSharedLimits[function];
  if (limit < bytes)
    limit = bytes;
  return true;
}

/// For a timed call: appends the launch (before its events exist, so the
/// call destroys whatever was created even when a later step fails), then
/// creates its events and records the first. False when the driver failed.
bool startTimedLaunch(ScopedHostCall &call, CUfunction function,
                      const int64_t (&dims)[6], int32_t sharedBytes,
                      CUstream stream, TimedLaunch *&timed) {
  timed = &call.timedLaunches->emplace_back();
  {
    std::lock_guard<std::mutex> lock(call.executable.mutex);
    auto name = call.executable.kernelNames.find(function);
    if (name != call.executable.kernelNames.end())
      timed->kernel = name->second;
  }
  for (int i = 0; i < 3; ++i) {
    timed->grid[i] = static_cast<unsigned>(dims[i]);
    timed->block[i] = static_cast<unsigned>(dims[3 + i]);
  }
  timed->sharedBytes = static_cast<unsigned>(sharedBytes);
  return succeeded(call, call.driver.eventCreate(&timed->start, CU_EVENT_DEFAULT),
                   "mgpuLaunchKernel", "cuEventCreate") &&
         succeeded(call, call.driver.eventCreate(&timed->stop, CU_EVENT_DEFAULT),
                   "mgpuLaunchKernel", "cuEventCreate") &&
         succeeded(call, call.driver.eventRecord(timed->start, stream),
                   "mgpuLaunchKernel", "cuEventRecord");
}

void mgpuLaunchKernel(void *function, int64_t gridX, int64_t gridY,
                      int64_t gridZ, int64_t blockX, int64_t blockY,
                      int64_t blockZ, int32_t sharedMemoryBytes, void *stream,
                      void **params, void **extra, int64_t) noexcept {
  guarded<int>(0, [&](ScopedHostCall &call) {
    const int64_t dims[] = {gridX, gridY, gridZ, blockX, blockY, blockZ};
    for (int64_t dim : dims) {
      if (dim < 1 || dim > UINT_MAX) {
        failWith(call, WINNOW_STATUS_INVALID_ARGUMENT,
                 "mgpuLaunchKernel: launch dimension " + std::to_string(dim) +
                     " is out of range (grid " + std::to_string(gridX) + "x" +
                     std::to_string(gridY) + "x" + std::to_string(gridZ) +
                     ", block " + std::to_string(blockX) + "x" +
                     std::to_string(blockY) + "x" + std::to_string(blockZ) +
                     ")");
        return 0;
      }
    }
    if (sharedMemoryBytes < 0) {
      failWith(call, WINNOW_STATUS_INVALID_ARGUMENT,
               "mgpuLaunchKernel: negative dynamic shared memory size " +
                   std::to_string(sharedMemoryBytes));
      return 0;
    }
    auto cuFunction = static_cast<CUfunction>(function);
    if (!allowDynamicSharedMemory(call, cuFunction, sharedMemoryBytes))
      return 0;
    TimedLaunch *timed = nullptr;
    if (call.timedLaunches &&
        !startTimedLaunch(call, cuFunction, dims, sharedMemoryBytes,
                          static_cast<CUstream>(stream), timed))
      return 0;
    bool launched = succeeded(call,
              call.driver.launchKernel(
                  cuFunction, static_cast<unsigned>(gridX),
                  static_cast<unsigned>(gridY), static_cast<unsigned>(gridZ),
                  static_cast<unsigned>(blockX), static_cast<unsigned>(blockY),
                  static_cast<unsigned>(blockZ),
                  static_cast<unsigned>(sharedMemoryBytes),
                  static_cast<CUstream>(stream), params, extra),
              "mgpuLaunchKernel", "cuLaunchKernel");
    if (launched && timed)
      succeeded(call,
                call.driver.eventRecord(timed->stop,
                                        static_cast<CUstream>(stream)),
                "mgpuLaunchKernel", "cuEventRecord");
    return 0;
  });
}

void *mgpuStreamCreate() noexcept {
  return guarded<void *>(nullptr,
                         [](ScopedHostCall &call) -> void * { return call.stream; });
}

// The call's stream belongs to the caller (or to the executable): never
// destroyed here, and never waited on, so the host is not blocked.
void mgpuStreamDestroy(void *) noexcept {}
void mgpuStreamSynchronize(void *) noexcept {}

void mgpuStreamWaitEvent(void *stream, void *event) noexcept {
  guarded<int>(0, [&](ScopedHostCall &call) {
    succeeded(call,
              call.driver.streamWaitEvent(static_cast<CUstream>(stream),
                                          static_cast<CUevent>(event), 0),
              "mgpuStreamWaitEvent", "cuStreamWaitEvent");
    return 0;
  });
}

void *mgpuEventCreate() noexcept {
  return guarded<void *>(nullptr, [](ScopedHostCall &call) -> void * {
    CUevent event = nullptr;
    // Ordering only: timing would cost and is never read.
    if (!succeeded(call, call.driver.eventCreate(&event, CU_EVENT_DISABLE_TIMING),
                   "mgpuEventCreate", "cuEventCreate"))
      return nullptr;
    return event;
  });
}

void mgpuEventDestroy(void *event) noexcept {
  releasing([&](ScopedHostCall &call) {
    if (event)
      succeeded(call, call.driver.eventDestroy(static_cast<CUevent>(event)),
                "mgpuEventDestroy", "cuEventDestroy");
  });
}

// All work of a call is on its one stream, so waiting for an event on the
// host is never needed for ordering; not blocking keeps the call capturable.
void mgpuEventSynchronize(void *) noexcept {}

void mgpuEventRecord(void *event, void *stream) noexcept {
  guarded<int>(0, [&](ScopedHostCall &call) {
    succeeded(call,
              call.driver.eventRecord(static_cast<CUevent>(event),
                                      static_cast<CUstream>(stream)),
              "mgpuEventRecord", "cuEventRecord");
    return 0;
  });
}

void *mgpuMemAlloc(uint64_t bytes, void *stream, int8_t hostShared) noexcept {
  return guarded<void *>(nullptr, [&](ScopedHostCall &call) -> void * {
    if (hostShared) {
      // Managed memory cannot be freed stream-ordered and would need host
      // synchronisation; the compiler does not emit it.
      failWith(call, WINNOW_STATUS_UNIMPLEMENTED,
               "mgpuMemAlloc: host-shared (managed) allocations are not "
               "supported by the Winnow runtime");
      return nullptr;
    }
    if (bytes == 0)
      return nullptr;
    if (CallWorkspace *workspace = call.workspace) {
      size_t offset = (workspace->used + WINNOW_WORKSPACE_ALIGNMENT - 1) /
                      WINNOW_WORKSPACE_ALIGNMENT * WINNOW_WORKSPACE_ALIGNMENT;
      if (offset > workspace->bytes || bytes > workspace->bytes - offset) {
        failWith(call, WINNOW_STATUS_INTERNAL,
                 "mgpuMemAlloc: " + std::to_string(bytes) +
                     " bytes do not fit the call's workspace of " +
                     std::to_string(workspace->bytes) + " bytes (" +
                     std::to_string(workspace->used) +
                     " used): the artifact's workspace size is wrong");
        return nullptr;
      }
      workspace->used = offset + bytes;
      return reinterpret_cast<void *>(workspace->base + offset);
    }
    CUdeviceptr pointer = 0;
    CUresult result = call.driver.memAllocAsync(&pointer, bytes,
                                                static_cast<CUstream>(stream));
    if (result != CUDA_SUCCESS) {
      winnow_status status = call.driver.check(result, "cuMemAllocAsync");
      failWith(call, winnow_status_code(status),
               "mgpuMemAlloc: allocating " + std::to_string(bytes) +
                   " bytes: " + winnow_status_message(status));
      winnow_status_free(status);
      return nullptr;
    }
    return reinterpret_cast<void *>(pointer);
  });
}

void mgpuMemFree(void *pointer, void *stream) noexcept {
  releasing([&](ScopedHostCall &call) {
    if (call.workspace && call.workspace->contains(devicePointer(pointer)))
      return; // the workspace outlives the call
    if (pointer)
      succeeded(call,
                call.driver.memFreeAsync(devicePointer(pointer),
                                         static_cast<CUstream>(stream)),
                "mgpuMemFree", "cuMemFreeAsync");
  });
}

void mgpuMemcpy(void *dst, void *src, uint64_t bytes, void *stream) noexcept {
  guarded<int>(0, [&](ScopedHostCall &call) {
    succeeded(call,
              call.driver.memcpyAsync(devicePointer(dst), devicePointer(src),
                                      bytes, static_cast<CUstream>(stream)),
              "mgpuMemcpy", "cuMemcpyAsync");
    return 0;
  });
}

void mgpuMemset32(void *dst, uint32_t value, uint64_t count,
                  void *stream) noexcept {
  guarded<int>(0, [&](ScopedHostCall &call) {
    succeeded(call,
              call.driver.memsetD32Async(devicePointer(dst), value, count,
                                         static_cast<CUstream>(stream)),
              "mgpuMemset32", "cuMemsetD32Async");
    return 0;
  });
}

void mgpuMemset16(void *dst, uint16_t value, uint64_t count,
                  void *stream) noexcept {
  guarded<int>(0, [&](ScopedHostCall &call) {
    succeeded(call,
              call.driver.memsetD16Async(devicePointer(dst), value, count,
                                         static_cast<CUstream>(stream)),
              "mgpuMemset16", "cuMemsetD16Async");
    return 0;
  });
}

// The runtime binds the executable to its device; the host code's choice of
// ordinal cannot move it.
void mgpuSetDefaultDevice(int32_t) noexcept {}

} // namespace

ScopedHostCall::ScopedHostCall(CudaExecutable &executable, CUstream stream)
    : executable(executable), driver(*executable.device.driver),
      stream(stream), outer(currentCall) {
  currentCall = this;
}

ScopedHostCall::~ScopedHostCall() {
  currentCall = outer;
  winnow_status_free(firstError);
}

winnow_status ScopedHostCall::takeError() {
  // hasFailed stays set: later mgpu* calls remain no-ops.
  winnow_status error = firstError;
  firstError = WINNOW_OK;
  return error;
}

void ScopedHostCall::fail(winnow_status status) {
  if (hasFailed) {
    winnow_status_free(status);
    return;
  }
  hasFailed = true;
  firstError = status;
}

void fillCudaHostTable(void **table) {
#define WINNOW_CUDA_FILL_SLOT(slot, symbol)                                    \
  table[WINNOW_CUDA_SLOT_##slot] = reinterpret_cast<void *>(&symbol);
  WINNOW_CUDA_HOST_FUNCTIONS(WINNOW_CUDA_FILL_SLOT)
#undef WINNOW_CUDA_FILL_SLOT
}

} // namespace winnow::runtime
