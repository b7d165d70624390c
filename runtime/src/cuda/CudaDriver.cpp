//===- CudaDriver.cpp - Open the CUDA driver and resolve its entry points ===//

#include "cuda/CudaDriver.h"
#include "Status.h"

#include <cstdlib>
#include <dlfcn.h>

namespace winnow::runtime {
namespace {

constexpr const char *kDefaultDriver = "libcuda.so.1";
constexpr const char *kDriverEnvironmentVariable = "WINNOW_CUDA_DRIVER";

/// Symbols that drivers older than the toolkit's cuda.h export under an
/// earlier name with the same signature.
const char *olderName(const std::string &symbol) {
  // cuEventElapsedTime_v2 appeared in CUDA 12.8.
  if (symbol == "cuEventElapsedTime_v2")
    return "cuEventElapsedTime";
  return nullptr;
}

winnow_status_code_t codeFor(CUresult result) {
  switch (result) {
  case CUDA_ERROR_OUT_OF_MEMORY:
    return WINNOW_STATUS_OUT_OF_MEMORY;
  case CUDA_ERROR_NO_DEVICE:
  case CUDA_ERROR_NOT_INITIALIZED:
  case CUDA_ERROR_DEINITIALIZED:
  case CUDA_ERROR_DEVICE_UNAVAILABLE:
  case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH:
  case CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE:
  case CUDA_ERROR_OPERATING_SYSTEM:
    return WINNOW_STATUS_UNAVAILABLE;
  case CUDA_ERROR_INVALID_DEVICE:
  case CUDA_ERROR_NOT_FOUND:
    return WINNOW_STATUS_NOT_FOUND;
  case CUDA_ERROR_NO_BINARY_FOR_GPU:
  case CUDA_ERROR_INVALID_PTX:
  case CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
  case CUDA_ERROR_INVALID_IMAGE:
  case CUDA_ERROR_JIT_COMPILER_NOT_FOUND:
  case CUDA_ERROR_NOT_SUPPORTED:
    return WINNOW_STATUS_FAILED_PRECONDITION;
  default:
    return WINNOW_STATUS_INTERNAL;
  }
}

} // namespace

winnow_status CudaDriver::load(std::shared_ptr<const CudaDriver> &out) {
  const char *overridePath = std::getenv(kDriverEnvironmentVariable);
  std::string path =
      overridePath && *overridePath ? overridePath : kDefaultDriver;
  // RTLD_NODELETE: the real driver starts threads and registers handlers
  // that must outlive our last device, so it is never unmapped.
  void *library = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!library) {
    const char *error = ::dlerror();
    return makeStatus(WINNOW_STATUS_UNAVAILABLE,
                      "no CUDA driver: " + path + " could not be loaded (" +
                          (error ? error : "unknown dlopen error") + ")");
  }
  std::shared_ptr<CudaDriver> driver(new CudaDriver());
  driver->library = library;
  driver->path = path;

  auto resolve = [&](const char *symbol, void *&address) -> winnow_status {
    address = ::dlsym(library, symbol);
    if (!address) {
      if (const char *older = olderName(symbol))
        address = ::dlsym(library, older);
    }
    if (!address)
      return makeStatus(WINNOW_STATUS_UNAVAILABLE,
                        "the CUDA driver " + path + " does not export '" +
                            symbol + "' (the runtime needs a driver for "
                                     "CUDA 11.2 or newer)");
    return WINNOW_OK;
  };
#define WINNOW_CUDA_DRIVER_RESOLVE(member, function, symbol)                   \
  {                                                                            \
    void *address = nullptr;                                                   \
    WINNOW_RETURN_IF_ERROR(resolve(symbol, address));                          \
    driver->member = reinterpret_cast<decltype(driver->member)>(address);      \
  }
  WINNOW_CUDA_DRIVER_FUNCTIONS(WINNOW_CUDA_DRIVER_RESOLVE)
#undef WINNOW_CUDA_DRIVER_RESOLVE
  out = std::move(driver);
  return WINNOW_OK;
}

CudaDriver::~CudaDriver() {
  if (library)
    ::dlclose(library);
}

std::string CudaDriver::describe(CUresult result) const {
  const char *name = nullptr;
  const char *text = nullptr;
  if (getErrorName(result, &name) != CUDA_SUCCESS || !name)
    name = nullptr;
  if (getErrorString(result, &text) != CUDA_SUCCESS || !text)
    text = nullptr;
  std::string described =
      name ? name : "CUDA error " + std::to_string(static_cast<int>(result));
  if (text)
    described += std::string(" (") + text + ")";
  return described;
}

winnow_status CudaDriver::check(CUresult result, const char *call) const {
  if (result == CUDA_SUCCESS)
    return WINNOW_OK;
  return makeStatus(codeFor(result),
                    std::string(call) + " failed: " + describe(result));
}

} // namespace winnow::runtime
