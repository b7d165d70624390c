//===- CudaDevice.cpp - Opening a GPU; device memory and events ----------===//

#include "cuda/CudaDevice.h"
#include "Status.h"

#include <algorithm>

namespace winnow::runtime {

CudaDevice::~CudaDevice() {
  if (flushBuffer)
    releaseInContext(*this, [&] { driver->memFree(flushBuffer); });
  if (context)
    driver->primaryCtxRelease(device);
}

ScopedContext::~ScopedContext() {
  if (pushed) {
    CUcontext popped = nullptr;
    device.driver->ctxPopCurrent(&popped);
  }
}

winnow_status ScopedContext::push() {
  WINNOW_RETURN_IF_ERROR(device.driver->check(
      device.driver->ctxPushCurrent(device.context), "cuCtxPushCurrent"));
  pushed = true;
  return WINNOW_OK;
}

namespace {

winnow_status queryDevice(CudaDevice &device) {
  const CudaDriver &cu = *device.driver;
  WINNOW_RETURN_IF_ERROR(cu.check(cu.init(0), "cuInit"));
  int count = 0;
  WINNOW_RETURN_IF_ERROR(cu.check(cu.deviceGetCount(&count), "cuDeviceGetCount"));
  if (count == 0)
    return makeStatus(WINNOW_STATUS_UNAVAILABLE,
                      "no CUDA device: the driver reports 0 GPUs");
  if (device.ordinal >= count)
    return makeStatus(WINNOW_STATUS_NOT_FOUND,
                      "CUDA device " + std::to_string(device.ordinal) +
                          " not found (this machine has " +
                          std::to_string(count) + " CUDA device" +
                          (count == 1 ? "" : "s") + ", 0 to " +
                          std::to_string(count - 1) + ")");
  WINNOW_RETURN_IF_ERROR(
      cu.check(cu.deviceGet(&device.device, device.ordinal), "cuDeviceGet"));
  char name[256] = {};
  WINNOW_RETURN_IF_ERROR(cu.check(
      cu.deviceGetName(name, sizeof(name) - 1, device.device), "cuDeviceGetName"));
  device.description = name;
  auto attribute = [&](CUdevice_attribute which, int &value) {
    return cu.check(cu.deviceGetAttribute(&value, which, device.device),
                    "cuDeviceGetAttribute");
  };
  WINNOW_RETURN_IF_ERROR(attribute(
      CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device.computeMajor));
  WINNOW_RETURN_IF_ERROR(attribute(
      CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device.computeMinor));
  WINNOW_RETURN_IF_ERROR(
      attribute(CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, device.l2Bytes));
  // Every allocation of a call is stream-ordered (cuMemAllocAsync), which
  // needs memory pools; say so now rather than at the first call.
  int pools = 0;
  WINNOW_RETURN_IF_ERROR(
      attribute(CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED, pools));
  if (!pools)
    return makeStatus(WINNOW_STATUS_FAILED_PRECONDITION,
                      "CUDA device " + std::to_string(device.ordinal) + " (" +
                          device.description +
                          ") does not support stream-ordered allocation "
                          "(cuMemAllocAsync), which the runtime needs");
  size_t total = 0;
  WINNOW_RETURN_IF_ERROR(
      cu.check(cu.deviceTotalMem(&total, device.device), "cuDeviceTotalMem"));
  device.totalMemory = total;
  return cu.check(cu.primaryCtxRetain(&device.context, device.device),
                  "cuDevicePrimaryCtxRetain");
}

} // namespace

winnow_status createCudaDevice(int ordinal, CudaDevice *&out) {
  std::shared_ptr<const CudaDriver> driver;
  WINNOW_RETURN_IF_ERROR(CudaDriver::load(driver));
  auto device = std::make_unique<CudaDevice>(std::move(driver), ordinal);
  WINNOW_RETURN_IF_ERROR(queryDevice(*device));
  out = device.release();
  return WINNOW_OK;
}

void destroyCudaDevice(CudaDevice *device) { delete device; }

int cudaDeviceOrdinal(const CudaDevice &device) { return device.ordinal; }

void getCudaDeviceInfo(const CudaDevice &device, winnow_device_info &info) {
  info.description = device.description.c_str();
  info.ordinal = device.ordinal;
  info.compute_capability_major = device.computeMajor;
  info.compute_capability_minor = device.computeMinor;
  info.total_memory_bytes = device.totalMemory;
}

winnow_status cudaAllocate(CudaDevice &device, size_t bytes, void **out) {
  const CudaDriver &cu = *device.driver;
  ScopedContext scope(device);
  WINNOW_RETURN_IF_ERROR(scope.push());
  CUdeviceptr pointer = 0;
  WINNOW_RETURN_IF_ERROR(cu.check(cu.memAlloc(&pointer, bytes), "cuMemAlloc"));
  *out = reinterpret_cast<void *>(pointer);
  return WINNOW_OK;
}

winnow_status cudaFree(CudaDevice &device, void *data) {
  const CudaDriver &cu = *device.driver;
  ScopedContext scope(device);
  WINNOW_RETURN_IF_ERROR(scope.push());
  return cu.check(cu.memFree(reinterpret_cast<CUdeviceptr>(data)), "cuMemFree");
}

winnow_status cudaCopy(CudaDevice &device, void *dst, const void *src,
                       size_t bytes) {
  const CudaDriver &cu = *device.driver;
  ScopedContext scope(device);
  WINNOW_RETURN_IF_ERROR(scope.push());
  return cu.check(cu.memcpy(reinterpret_cast<CUdeviceptr>(dst),
                            reinterpret_cast<CUdeviceptr>(src), bytes),
                  "cuMemcpy");
}

winnow_status cudaFlushL2(CudaDevice &device, void *stream) {
  const CudaDriver &cu = *device.driver;
  ScopedContext scope(device);
  WINNOW_RETURN_IF_ERROR(scope.push());
  CUdeviceptr buffer = 0;
  size_t bytes = 0;
  {
    std::lock_guard<std::mutex> lock(device.flushMutex);
    if (!device.flushBuffer) {
      // Twice the L2, so that no line of earlier data survives the
      // replacement policy; 8 MiB when the driver reports no size.
      constexpr size_t kMinimumBytes = size_t(8) << 20;
      size_t wanted = std::max(kMinimumBytes,
                               2 * static_cast<size_t>(std::max(0, device.l2Bytes)));
      WINNOW_RETURN_IF_ERROR(cu.check(cu.memAlloc(&device.flushBuffer, wanted),
                                      "cuMemAlloc (L2 flush buffer)"));
      device.flushBytes = wanted;
    }
    buffer = device.flushBuffer;
    bytes = device.flushBytes;
  }
  return cu.check(cu.memsetD32Async(buffer, 0, bytes / 4,
                                    static_cast<CUstream>(stream)),
                  "cuMemsetD32Async (L2 flush)");
}

winnow_status createCudaEvent(CudaDevice &device, CudaEvent *&out) {
  const CudaDriver &cu = *device.driver;
  ScopedContext scope(device);
  WINNOW_RETURN_IF_ERROR(scope.push());
  auto event = std::make_unique<CudaEvent>(device);
  WINNOW_RETURN_IF_ERROR(
      cu.check(cu.eventCreate(&event->event, CU_EVENT_DEFAULT), "cuEventCreate"));
  out = event.release();
  return WINNOW_OK;
}

void destroyCudaEvent(CudaEvent *event) {
  if (!event)
    return;
  releaseInContext(event->device,
                   [&] { event->device.driver->eventDestroy(event->event); });
  delete event;
}

winnow_status recordCudaEvent(CudaEvent &event, void *stream) {
  const CudaDriver &cu = *event.device.driver;
  ScopedContext scope(event.device);
  WINNOW_RETURN_IF_ERROR(scope.push());
  return cu.check(cu.eventRecord(event.event, static_cast<CUstream>(stream)),
                  "cuEventRecord");
}

winnow_status cudaElapsedMilliseconds(CudaEvent &start, CudaEvent &end,
                                      float &milliseconds) {
  const CudaDriver &cu = *end.device.driver;
  ScopedContext scope(end.device);
  WINNOW_RETURN_IF_ERROR(scope.push());
  WINNOW_RETURN_IF_ERROR(
      cu.check(cu.eventSynchronize(end.event), "cuEventSynchronize"));
  return cu.check(cu.eventElapsedTime(&milliseconds, start.event, end.event),
                  "cuEventElapsedTime");
}

} // namespace winnow::runtime
