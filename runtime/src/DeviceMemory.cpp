//===- DeviceMemory.cpp - Synchronous device allocations and copies ------===//
//
// For callers of winnow_call_device that have no allocator of their own
// (winnow-run's benchmark, C programs). Frameworks pass their own memory.
//
//===----------------------------------------------------------------------===//

#include "Device.h"
#include "Status.h"

#include <cstdlib>
#include <cstring>

using namespace winnow::runtime;

namespace {
/// Matches what compiled CPU code may assume for vector loads.
constexpr size_t kHostAlignment = 64;
} // namespace

extern "C" {

winnow_status winnow_device_allocate(winnow_device *device, size_t byte_size,
                                     void **out_data) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(device);
    WINNOW_CHECK_ARG(out_data);
    if (byte_size == 0) {
      *out_data = nullptr;
      return WINNOW_OK;
    }
    if (device->kind == DeviceKind::Cuda)
      return cudaAllocate(*device->cuda, byte_size, out_data);
    if (byte_size > SIZE_MAX - kHostAlignment)
      return outOfMemoryStatus();
    size_t rounded = (byte_size + kHostAlignment - 1) / kHostAlignment *
                     kHostAlignment;
    void *data = std::aligned_alloc(kHostAlignment, rounded);
    if (!data)
      return makeStatus(WINNOW_STATUS_OUT_OF_MEMORY,
                        "cannot allocate " + std::to_string(byte_size) +
                            " bytes of host memory");
    *out_data = data;
    return WINNOW_OK;
  });
}

winnow_status winnow_device_free(winnow_device *device, void *data) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(device);
    if (!data)
      return WINNOW_OK;
    if (device->kind == DeviceKind::Cuda)
      return cudaFree(*device->cuda, data);
    std::free(data);
    return WINNOW_OK;
  });
}

winnow_status winnow_device_copy(winnow_device *device, void *dst,
                                 const void *src, size_t byte_size) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(device);
    if (byte_size == 0)
      return WINNOW_OK;
    WINNOW_CHECK_ARG(dst);
    WINNOW_CHECK_ARG(src);
    if (device->kind == DeviceKind::Cuda)
      return cudaCopy(*device->cuda, dst, src, byte_size);
    std::memmove(dst, src, byte_size);
    return WINNOW_OK;
  });
}

} // extern "C"
