//===- FakeCudaDriver.cpp - A CUDA driver that runs kernels on the host --===//
//
// Loaded by the runtime through WINNOW_CUDA_DRIVER in tests. It implements
// the driver entry points the runtime resolves, with cuda.h's signatures
// (and so its versioned symbol names), checks what a real driver would
// reject (no current context, unknown streams/functions/pointers, dynamic
// shared memory above the function's limit) and lets tests inject any
// CUresult into the n-th call of any entry point.
//
//===----------------------------------------------------------------------===//

#include "FakeCuda.h"

#include <cuda.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace {

struct FakeContext {
  int ordinal;
};
struct FakeModule {
  const FakeCubin *cubin;
};
struct FakeFunction {
  const FakeKernel *kernel;
  int maxDynamicShared = 48 * 1024;
};
struct FakeEvent {
  std::chrono::steady_clock::time_point recorded;
};

/// Allocations made while capturing: owned by the graph and every graph
/// instantiated from it, freed when the last of them is destroyed.
struct GraphMemory {
  std::vector<CUdeviceptr> allocations;
  ~GraphMemory();
};

/// A captured stream's work, in order.
struct FakeGraph {
  std::vector<std::function<CUresult()>> steps;
  std::shared_ptr<GraphMemory> memory = std::make_shared<GraphMemory>();
};
struct FakeGraphExec {
  std::vector<std::function<CUresult()>> steps;
  std::shared_ptr<GraphMemory> memory;
};

struct FakeStream {
  FakeGraph *capture = nullptr; // set between begin and end capture
  bool captureInvalidated = false;
};

struct State {
  std::mutex mutex;
  int deviceCount = 1;
  int ccMajor = 9, ccMinor = 0;
  std::map<std::string, int> calls;
  std::map<std::string, std::pair<int, CUresult>> failures;
  std::map<uintptr_t, size_t> allocations;
  std::set<FakeModule *> modules;
  std::set<FakeStream *> streams;
  std::set<FakeEvent *> events;
  long graphs = 0; // FakeGraph and FakeGraphExec objects alive
  long kernelRuns = 0;
  std::vector<FakeContext> contexts = std::vector<FakeContext>(8);
  std::map<std::pair<FakeModule *, std::string>, FakeFunction *> functions;
  void *lastLaunchStream = nullptr;
};

State &state() {
  static State *s = new State(); // never destroyed: used from atexit paths
  return *s;
}

thread_local std::vector<CUcontext> contextStack;

/// Counts the call and returns an injected failure, if any.
CUresult enter(const char *symbol) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  int count = ++s.calls[symbol];
  auto failure = s.failures.find(symbol);
  if (failure != s.failures.end() && failure->second.first == count)
    return failure->second.second;
  return CUDA_SUCCESS;
}

#define FAKE_ENTER(symbol)                                                     \
  do {                                                                         \
    if (CUresult injected = enter(symbol))                                     \
      return injected;                                                         \
  } while (false)

#define FAKE_NEEDS_CONTEXT()                                                   \
  do {                                                                         \
    if (contextStack.empty())                                                  \
      return CUDA_ERROR_INVALID_CONTEXT;                                       \
  } while (false)

bool validStream(CUstream stream) {
  if (!stream)
    return true;
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.streams.count(reinterpret_cast<FakeStream *>(stream)) != 0;
}

/// The graph `stream` is capturing into, or nullptr.
FakeGraph *capturing(CUstream stream) {
  if (!stream)
    return nullptr;
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return reinterpret_cast<FakeStream *>(stream)->capture;
}

/// Runs `step` now, or appends it to the graph `stream` is capturing into.
CUresult runOrCapture(CUstream stream, std::function<CUresult()> step) {
  if (FakeGraph *graph = capturing(stream)) {
    graph->steps.push_back(std::move(step));
    return CUDA_SUCCESS;
  }
  return step();
}

/// [pointer, pointer + bytes) inside one live allocation.
bool isDeviceRange(CUdeviceptr pointer, size_t bytes) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  auto it = s.allocations.upper_bound(pointer);
  if (it == s.allocations.begin())
    return false;
  --it;
  return pointer >= it->first && pointer + bytes <= it->first + it->second;
}

CUresult allocate(CUdeviceptr *pointer, size_t bytes) {
  if (!pointer || bytes == 0)
    return CUDA_ERROR_INVALID_VALUE;
  // The driver's allocations are at least 256-byte aligned.
  void *memory = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  if (!memory)
    return CUDA_ERROR_OUT_OF_MEMORY;
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  *pointer = reinterpret_cast<CUdeviceptr>(memory);
  s.allocations[*pointer] = bytes;
  return CUDA_SUCCESS;
}

CUresult release(CUdeviceptr pointer) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  auto it = s.allocations.find(pointer);
  if (it == s.allocations.end())
    return CUDA_ERROR_INVALID_VALUE;
  s.allocations.erase(it);
  std::free(reinterpret_cast<void *>(pointer));
  return CUDA_SUCCESS;
}

CUresult runKernel(const FakeKernel *kernel, const FakeLaunch &launch,
                   void **params) {
  if (kernel->run(&launch, params) != 0)
    return CUDA_ERROR_LAUNCH_FAILED;
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.lastLaunchStream = launch.stream;
  ++s.kernelRuns;
  return CUDA_SUCCESS;
}

CUresult loadCubin(CUmodule *module, const void *image) {
  const auto *cubin = static_cast<const FakeCubin *>(image);
  if (!module || !cubin || cubin->magic != FAKE_CUBIN_MAGIC)
    return CUDA_ERROR_INVALID_IMAGE;
  auto *fake = new FakeModule{cubin};
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.modules.insert(fake);
  *module = reinterpret_cast<CUmodule>(fake);
  return CUDA_SUCCESS;
}

GraphMemory::~GraphMemory() {
  for (CUdeviceptr pointer : allocations)
    release(pointer);
}

} // namespace

extern "C" {

// ----- control API -----
void fakeCudaReset(void) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.calls.clear();
  s.failures.clear();
  s.deviceCount = 1;
  s.ccMajor = 9;
  s.ccMinor = 0;
  s.lastLaunchStream = nullptr;
}
void fakeCudaSetDeviceCount(int count) { state().deviceCount = count; }
void fakeCudaSetComputeCapability(int major, int minor) {
  state().ccMajor = major;
  state().ccMinor = minor;
}
void fakeCudaFailCall(const char *symbol, int nth, int result) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.failures[symbol] = {s.calls[symbol] + nth, static_cast<CUresult>(result)};
}
int fakeCudaCallCount(const char *symbol) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  auto it = s.calls.find(symbol);
  return it == s.calls.end() ? 0 : it->second;
}
long fakeCudaLiveAllocations(void) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return static_cast<long>(s.allocations.size());
}
long fakeCudaLiveModules(void) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return static_cast<long>(s.modules.size());
}
long fakeCudaLiveStreams(void) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return static_cast<long>(s.streams.size());
}
long fakeCudaLiveGraphs(void) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.graphs;
}
long fakeCudaKernelRuns(void) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.kernelRuns;
}
void *fakeCudaLastLaunchStream(void) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.lastLaunchStream;
}
void *fakeCudaCreateStream(void) {
  auto *stream = new FakeStream{};
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.streams.insert(stream);
  return stream;
}

// ----- initialisation, errors, devices -----
CUresult cuInit(unsigned int) {
  FAKE_ENTER("cuInit");
  return state().deviceCount > 0 ? CUDA_SUCCESS : CUDA_ERROR_NO_DEVICE;
}
CUresult cuDriverGetVersion(int *version) {
  FAKE_ENTER("cuDriverGetVersion");
  *version = CUDA_VERSION;
  return CUDA_SUCCESS;
}
CUresult cuGetErrorName(CUresult error, const char **name) {
  switch (error) {
#define FAKE_NAME(code)                                                        \
  case code:                                                                   \
    *name = #code;                                                             \
    return CUDA_SUCCESS;
    FAKE_NAME(CUDA_SUCCESS)
    FAKE_NAME(CUDA_ERROR_INVALID_VALUE)
    FAKE_NAME(CUDA_ERROR_OUT_OF_MEMORY)
    FAKE_NAME(CUDA_ERROR_NO_DEVICE)
    FAKE_NAME(CUDA_ERROR_INVALID_DEVICE)
    FAKE_NAME(CUDA_ERROR_INVALID_IMAGE)
    FAKE_NAME(CUDA_ERROR_INVALID_CONTEXT)
    FAKE_NAME(CUDA_ERROR_INVALID_PTX)
    FAKE_NAME(CUDA_ERROR_NOT_FOUND)
    FAKE_NAME(CUDA_ERROR_INVALID_HANDLE)
    FAKE_NAME(CUDA_ERROR_LAUNCH_FAILED)
    FAKE_NAME(CUDA_ERROR_ILLEGAL_ADDRESS)
    FAKE_NAME(CUDA_ERROR_ILLEGAL_STATE)
    FAKE_NAME(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED)
    FAKE_NAME(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED)
#undef FAKE_NAME
  default:
    *name = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
  }
}
CUresult cuGetErrorString(CUresult error, const char **text) {
  switch (error) {
  case CUDA_ERROR_OUT_OF_MEMORY:
    *text = "out of memory";
    return CUDA_SUCCESS;
  case CUDA_ERROR_LAUNCH_FAILED:
    *text = "unspecified launch failure";
    return CUDA_SUCCESS;
  case CUDA_ERROR_INVALID_PTX:
    *text = "a PTX JIT compilation failed";
    return CUDA_SUCCESS;
  default:
    *text = "fake driver error";
    return CUDA_SUCCESS;
  }
}
CUresult cuDeviceGetCount(int *count) {
  FAKE_ENTER("cuDeviceGetCount");
  *count = state().deviceCount;
  return CUDA_SUCCESS;
}
CUresult cuDeviceGet(CUdevice *device, int ordinal) {
  FAKE_ENTER("cuDeviceGet");
  if (ordinal < 0 || ordinal >= state().deviceCount)
    return CUDA_ERROR_INVALID_DEVICE;
  *device = ordinal;
  return CUDA_SUCCESS;
}
CUresult cuDeviceGetName(char *name, int length, CUdevice) {
  FAKE_ENTER("cuDeviceGetName");
  std::strncpy(name, "Winnow Fake GPU", static_cast<size_t>(length));
  return CUDA_SUCCESS;
}
CUresult cuDeviceGetAttribute(int *value, CUdevice_attribute attribute,
                              CUdevice) {
  FAKE_ENTER("cuDeviceGetAttribute");
  switch (attribute) {
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
    *value = state().ccMajor;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
    *value = state().ccMinor;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED:
    *value = 1;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE:
    *value = 4 << 20;
    return CUDA_SUCCESS;
  default:
    *value = 0;
    return CUDA_SUCCESS;
  }
}
CUresult cuDeviceTotalMem(size_t *bytes, CUdevice) {
  FAKE_ENTER("cuDeviceTotalMem_v2");
  *bytes = size_t(80) << 30;
  return CUDA_SUCCESS;
}
CUresult cuDevicePrimaryCtxRetain(CUcontext *context, CUdevice device) {
  FAKE_ENTER("cuDevicePrimaryCtxRetain");
  *context = reinterpret_cast<CUcontext>(&state().contexts.at(device));
  return CUDA_SUCCESS;
}
CUresult cuDevicePrimaryCtxRelease(CUdevice) {
  FAKE_ENTER("cuDevicePrimaryCtxRelease_v2");
  return CUDA_SUCCESS;
}
CUresult cuCtxPushCurrent(CUcontext context) {
  FAKE_ENTER("cuCtxPushCurrent_v2");
  if (!context)
    return CUDA_ERROR_INVALID_CONTEXT;
  contextStack.push_back(context);
  return CUDA_SUCCESS;
}
CUresult cuCtxPopCurrent(CUcontext *context) {
  FAKE_ENTER("cuCtxPopCurrent_v2");
  if (contextStack.empty())
    return CUDA_ERROR_INVALID_CONTEXT;
  if (context)
    *context = contextStack.back();
  contextStack.pop_back();
  return CUDA_SUCCESS;
}

// ----- memory -----
CUresult cuMemGetInfo(size_t *free, size_t *total) {
  FAKE_ENTER("cuMemGetInfo_v2");
  *free = *total = size_t(80) << 30;
  return CUDA_SUCCESS;
}
CUresult cuMemAlloc(CUdeviceptr *pointer, size_t bytes) {
  FAKE_ENTER("cuMemAlloc_v2");
  FAKE_NEEDS_CONTEXT();
  return allocate(pointer, bytes);
}
CUresult cuMemFree(CUdeviceptr pointer) {
  FAKE_ENTER("cuMemFree_v2");
  FAKE_NEEDS_CONTEXT();
  return release(pointer);
}
CUresult cuMemAllocAsync(CUdeviceptr *pointer, size_t bytes, CUstream stream) {
  FAKE_ENTER("cuMemAllocAsync");
  FAKE_NEEDS_CONTEXT();
  if (!validStream(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  CUresult result = allocate(pointer, bytes);
  if (result == CUDA_SUCCESS)
    if (FakeGraph *graph = capturing(stream))
      graph->memory->allocations.push_back(*pointer);
  return result;
}
CUresult cuMemFreeAsync(CUdeviceptr pointer, CUstream stream) {
  FAKE_ENTER("cuMemFreeAsync");
  FAKE_NEEDS_CONTEXT();
  if (!validStream(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  if (FakeGraph *graph = capturing(stream)) {
    // A free node: the graph keeps the memory until it is destroyed.
    for (CUdeviceptr owned : graph->memory->allocations)
      if (owned == pointer)
        return CUDA_SUCCESS;
    return CUDA_ERROR_INVALID_VALUE;
  }
  return release(pointer);
}
CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
  FAKE_ENTER("cuMemcpy");
  FAKE_NEEDS_CONTEXT();
  std::memmove(reinterpret_cast<void *>(dst), reinterpret_cast<void *>(src),
               bytes);
  return CUDA_SUCCESS;
}
CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t bytes,
                       CUstream stream) {
  FAKE_ENTER("cuMemcpyAsync");
  FAKE_NEEDS_CONTEXT();
  if (!validStream(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  return runOrCapture(stream, [=] {
    std::memmove(reinterpret_cast<void *>(dst), reinterpret_cast<void *>(src),
                 bytes);
    return CUDA_SUCCESS;
  });
}
CUresult cuMemcpyHtoDAsync(CUdeviceptr dst, const void *src, size_t bytes,
                           CUstream stream) {
  FAKE_ENTER("cuMemcpyHtoDAsync_v2");
  FAKE_NEEDS_CONTEXT();
  if (!validStream(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  if (!isDeviceRange(dst, bytes))
    return CUDA_ERROR_INVALID_VALUE;
  return runOrCapture(stream, [=] {
    std::memcpy(reinterpret_cast<void *>(dst), src, bytes);
    return CUDA_SUCCESS;
  });
}
CUresult cuMemcpyDtoHAsync(void *dst, CUdeviceptr src, size_t bytes,
                           CUstream stream) {
  FAKE_ENTER("cuMemcpyDtoHAsync_v2");
  FAKE_NEEDS_CONTEXT();
  if (!validStream(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  if (!isDeviceRange(src, bytes))
    return CUDA_ERROR_INVALID_VALUE;
  return runOrCapture(stream, [=] {
    std::memcpy(dst, reinterpret_cast<void *>(src), bytes);
    return CUDA_SUCCESS;
  });
}
CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned int value, size_t count,
                          CUstream stream) {
  FAKE_ENTER("cuMemsetD32Async");
  FAKE_NEEDS_CONTEXT();
  if (!validStream(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  if (!isDeviceRange(dst, count * 4))
    return CUDA_ERROR_INVALID_VALUE;
  return runOrCapture(stream, [=] {
    auto *words = reinterpret_cast<uint32_t *>(dst);
    for (size_t i = 0; i < count; ++i)
      words[i] = value;
    return CUDA_SUCCESS;
  });
}
CUresult cuMemsetD16Async(CUdeviceptr dst, unsigned short value, size_t count,
                          CUstream stream) {
  FAKE_ENTER("cuMemsetD16Async");
  FAKE_NEEDS_CONTEXT();
  if (!validStream(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  if (!isDeviceRange(dst, count * 2))
    return CUDA_ERROR_INVALID_VALUE;
  return runOrCapture(stream, [=] {
    auto *halves = reinterpret_cast<uint16_t *>(dst);
    for (size_t i = 0; i < count; ++i)
      halves[i] = value;
    return CUDA_SUCCESS;
  });
}

// ----- modules and launches -----
CUresult cuModuleLoadData(CUmodule *module, const void *image) {
  FAKE_ENTER("cuModuleLoadData");
  FAKE_NEEDS_CONTEXT();
  return loadCubin(module, image);
}
CUresult cuModuleLoadDataEx(CUmodule *module, const void *image,
                            unsigned int numOptions, CUjit_option *options,
                            void **values) {
  FAKE_ENTER("cuModuleLoadDataEx");
  FAKE_NEEDS_CONTEXT();
  const char *text = static_cast<const char *>(image);
  if (std::strstr(text, "FAKE_JIT_FAIL")) {
    for (unsigned i = 0; i < numOptions; ++i) {
      if (options[i] != CU_JIT_ERROR_LOG_BUFFER)
        continue;
      size_t size = 0;
      for (unsigned j = 0; j < numOptions; ++j)
        if (options[j] == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
          size = reinterpret_cast<size_t>(values[j]);
      if (size)
        std::snprintf(static_cast<char *>(values[i]), size,
                      "ptxas fatal   : fake JIT cannot compile this PTX");
    }
    return CUDA_ERROR_INVALID_PTX;
  }
  return loadCubin(module, image);
}
CUresult cuModuleUnload(CUmodule module) {
  FAKE_ENTER("cuModuleUnload");
  FAKE_NEEDS_CONTEXT();
  auto *fake = reinterpret_cast<FakeModule *>(module);
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!s.modules.erase(fake))
    return CUDA_ERROR_INVALID_HANDLE;
  for (auto it = s.functions.begin(); it != s.functions.end();) {
    if (it->first.first == fake) {
      delete it->second;
      it = s.functions.erase(it);
    } else {
      ++it;
    }
  }
  delete fake;
  return CUDA_SUCCESS;
}
CUresult cuModuleGetFunction(CUfunction *function, CUmodule module,
                             const char *name) {
  FAKE_ENTER("cuModuleGetFunction");
  FAKE_NEEDS_CONTEXT();
  auto *fake = reinterpret_cast<FakeModule *>(module);
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!s.modules.count(fake))
    return CUDA_ERROR_INVALID_HANDLE;
  for (uint32_t i = 0; i < fake->cubin->numKernels; ++i) {
    const FakeKernel &kernel = fake->cubin->kernels[i];
    if (std::strcmp(kernel.name, name) != 0)
      continue;
    FakeFunction *&entry = s.functions[{fake, name}];
    if (!entry)
      entry = new FakeFunction{&kernel};
    *function = reinterpret_cast<CUfunction>(entry);
    return CUDA_SUCCESS;
  }
  return CUDA_ERROR_NOT_FOUND;
}
CUresult cuFuncSetAttribute(CUfunction function, CUfunction_attribute attribute,
                            int value) {
  FAKE_ENTER("cuFuncSetAttribute");
  FAKE_NEEDS_CONTEXT();
  if (attribute == CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES) {
    if (value > 227 * 1024)
      return CUDA_ERROR_INVALID_VALUE;
    reinterpret_cast<FakeFunction *>(function)->maxDynamicShared = value;
  }
  return CUDA_SUCCESS;
}
CUresult cuLaunchKernel(CUfunction function, unsigned gx, unsigned gy,
                        unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned sharedBytes, CUstream stream, void **params,
                        void **extra) {
  FAKE_ENTER("cuLaunchKernel");
  FAKE_NEEDS_CONTEXT();
  if (!function || extra)
    return CUDA_ERROR_INVALID_VALUE;
  if (!validStream(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  auto *fake = reinterpret_cast<FakeFunction *>(function);
  if (sharedBytes > static_cast<unsigned>(fake->maxDynamicShared))
    return CUDA_ERROR_INVALID_VALUE;
  FakeLaunch launch = {{gx, gy, gz}, {bx, by, bz}, sharedBytes, stream};
  const FakeKernel *kernel = fake->kernel;
  FakeGraph *graph = capturing(stream);
  if (!graph)
    return runKernel(kernel, launch, params);
  // A kernel node keeps copies of the parameter values.
  if (!kernel->paramBytes)
    return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
  std::vector<std::vector<char>> values;
  for (uint32_t i = 0; i < kernel->numParams; ++i) {
    const char *value = static_cast<const char *>(params[i]);
    values.emplace_back(value, value + kernel->paramBytes[i]);
  }
  graph->steps.push_back([kernel, launch, values]() mutable {
    std::vector<void *> pointers;
    for (std::vector<char> &value : values)
      pointers.push_back(value.data());
    return runKernel(kernel, launch, pointers.data());
  });
  return CUDA_SUCCESS;
}

// ----- streams and events -----
CUresult cuStreamCreate(CUstream *stream, unsigned int) {
  FAKE_ENTER("cuStreamCreate");
  FAKE_NEEDS_CONTEXT();
  *stream = static_cast<CUstream>(fakeCudaCreateStream());
  return CUDA_SUCCESS;
}
CUresult cuStreamDestroy(CUstream stream) {
  FAKE_ENTER("cuStreamDestroy_v2");
  FAKE_NEEDS_CONTEXT();
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  auto *fake = reinterpret_cast<FakeStream *>(stream);
  if (!s.streams.count(fake))
    return CUDA_ERROR_INVALID_HANDLE;
  if (fake->capture) // a capture left open is a runtime bug to catch
    return CUDA_ERROR_ILLEGAL_STATE;
  s.streams.erase(fake);
  delete fake;
  return CUDA_SUCCESS;
}
CUresult cuStreamSynchronize(CUstream stream) {
  FAKE_ENTER("cuStreamSynchronize");
  FAKE_NEEDS_CONTEXT();
  if (!validStream(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  if (capturing(stream)) {
    // As a real driver: the wait is refused and the capture is ruined.
    State &s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    reinterpret_cast<FakeStream *>(stream)->captureInvalidated = true;
    return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
  }
  return CUDA_SUCCESS;
}
CUresult cuStreamBeginCapture(CUstream stream, CUstreamCaptureMode) {
  FAKE_ENTER("cuStreamBeginCapture_v2");
  FAKE_NEEDS_CONTEXT();
  if (!stream)
    return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED; // the legacy stream
  if (!validStream(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  auto *fake = reinterpret_cast<FakeStream *>(stream);
  if (fake->capture)
    return CUDA_ERROR_ILLEGAL_STATE;
  fake->capture = new FakeGraph();
  fake->captureInvalidated = false;
  ++s.graphs;
  return CUDA_SUCCESS;
}
CUresult cuStreamEndCapture(CUstream stream, CUgraph *graph) {
  FAKE_ENTER("cuStreamEndCapture");
  FAKE_NEEDS_CONTEXT();
  if (!stream || !validStream(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  State &s = state();
  std::unique_lock<std::mutex> lock(s.mutex);
  auto *fake = reinterpret_cast<FakeStream *>(stream);
  if (!fake->capture)
    return CUDA_ERROR_ILLEGAL_STATE;
  FakeGraph *captured = fake->capture;
  fake->capture = nullptr;
  if (fake->captureInvalidated) {
    --s.graphs;
    lock.unlock();
    delete captured;
    *graph = nullptr;
    return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
  }
  *graph = reinterpret_cast<CUgraph>(captured);
  return CUDA_SUCCESS;
}
CUresult cuGraphInstantiateWithFlags(CUgraphExec *exec, CUgraph graph,
                                     unsigned long long) {
  FAKE_ENTER("cuGraphInstantiateWithFlags");
  FAKE_NEEDS_CONTEXT();
  if (!exec || !graph)
    return CUDA_ERROR_INVALID_VALUE;
  auto *fake = reinterpret_cast<FakeGraph *>(graph);
  *exec = reinterpret_cast<CUgraphExec>(
      new FakeGraphExec{fake->steps, fake->memory});
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  ++s.graphs;
  return CUDA_SUCCESS;
}
CUresult cuGraphLaunch(CUgraphExec exec, CUstream stream) {
  FAKE_ENTER("cuGraphLaunch");
  FAKE_NEEDS_CONTEXT();
  if (!exec)
    return CUDA_ERROR_INVALID_VALUE;
  if (!validStream(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  for (auto &step : reinterpret_cast<FakeGraphExec *>(exec)->steps)
    if (CUresult result = step())
      return result;
  return CUDA_SUCCESS;
}
CUresult cuGraphExecDestroy(CUgraphExec exec) {
  FAKE_ENTER("cuGraphExecDestroy");
  FAKE_NEEDS_CONTEXT();
  if (!exec)
    return CUDA_ERROR_INVALID_VALUE;
  delete reinterpret_cast<FakeGraphExec *>(exec);
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  --s.graphs;
  return CUDA_SUCCESS;
}
CUresult cuGraphDestroy(CUgraph graph) {
  FAKE_ENTER("cuGraphDestroy");
  FAKE_NEEDS_CONTEXT();
  if (!graph)
    return CUDA_ERROR_INVALID_VALUE;
  delete reinterpret_cast<FakeGraph *>(graph);
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  --s.graphs;
  return CUDA_SUCCESS;
}
CUresult cuStreamWaitEvent(CUstream stream, CUevent, unsigned int) {
  FAKE_ENTER("cuStreamWaitEvent");
  FAKE_NEEDS_CONTEXT();
  return validStream(stream) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}
CUresult cuEventCreate(CUevent *event, unsigned int) {
  FAKE_ENTER("cuEventCreate");
  FAKE_NEEDS_CONTEXT();
  auto *fake = new FakeEvent{};
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.events.insert(fake);
  *event = reinterpret_cast<CUevent>(fake);
  return CUDA_SUCCESS;
}
CUresult cuEventDestroy(CUevent event) {
  FAKE_ENTER("cuEventDestroy_v2");
  FAKE_NEEDS_CONTEXT();
  auto *fake = reinterpret_cast<FakeEvent *>(event);
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!s.events.erase(fake))
    return CUDA_ERROR_INVALID_HANDLE;
  delete fake;
  return CUDA_SUCCESS;
}
CUresult cuEventRecord(CUevent event, CUstream stream) {
  FAKE_ENTER("cuEventRecord");
  FAKE_NEEDS_CONTEXT();
  if (!validStream(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  auto *fake = reinterpret_cast<FakeEvent *>(event);
  return runOrCapture(stream, [fake] {
    fake->recorded = std::chrono::steady_clock::now();
    return CUDA_SUCCESS;
  });
}
CUresult cuEventSynchronize(CUevent) {
  FAKE_ENTER("cuEventSynchronize");
  FAKE_NEEDS_CONTEXT();
  return CUDA_SUCCESS;
}
CUresult cuEventElapsedTime(float *milliseconds, CUevent start, CUevent end) {
  FAKE_ENTER("cuEventElapsedTime_v2");
  FAKE_NEEDS_CONTEXT();
  *milliseconds = std::chrono::duration<float, std::milli>(
                      reinterpret_cast<FakeEvent *>(end)->recorded -
                      reinterpret_cast<FakeEvent *>(start)->recorded)
                      .count();
  return CUDA_SUCCESS;
}

} // extern "C"
