//===- Device.cpp - Device creation from a name ("cpu", "cuda:N") --------===//

#include "Device.h"
#include "Status.h"

#include <cstring>
#include <memory>

namespace winnow::runtime {
namespace {

/// "cuda" is ordinal 0; "cuda:N" is N (at most 9 digits, so it fits an int).
bool parseCudaName(const std::string &name, int &ordinal) {
  if (name == "cuda") {
    ordinal = 0;
    return true;
  }
  if (name.rfind("cuda:", 0) != 0 || name.size() == 5 || name.size() > 14)
    return false;
  ordinal = 0;
  for (size_t i = 5; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9')
      return false;
    ordinal = ordinal * 10 + (name[i] - '0');
  }
  return true;
}

} // namespace
} // namespace winnow::runtime

using namespace winnow::runtime;

extern "C" {

winnow_status winnow_device_create(const char *name,
                                   winnow_device **out_device) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(name);
    WINNOW_CHECK_ARG(out_device);
    std::string deviceName(name);
    auto device = std::make_unique<winnow_device_s>();
    int ordinal = 0;
    if (deviceName == "cpu") {
      device->kind = DeviceKind::Cpu;
      device->name = deviceName;
    } else if (parseCudaName(deviceName, ordinal)) {
      device->kind = DeviceKind::Cuda;
      device->name = "cuda:" + std::to_string(ordinal);
      WINNOW_RETURN_IF_ERROR(createCudaDevice(ordinal, device->cuda));
    } else {
      return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                        "unknown device '" + deviceName +
                            "' (expected 'cpu', 'cuda' or 'cuda:N')");
    }
    *out_device = device.release();
    return WINNOW_OK;
  });
}

void winnow_device_retain(winnow_device *device) {
  if (device)
    device->refs.retain();
}

void winnow_device_release(winnow_device *device) {
  if (device && device->refs.release())
    delete device;
}

winnow_status winnow_device_get_name(const winnow_device *device,
                                     const char **out_name) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(device);
    WINNOW_CHECK_ARG(out_name);
    *out_name = device->name.c_str();
    return WINNOW_OK;
  });
}

winnow_status winnow_device_get_info(const winnow_device *device,
                                     winnow_device_info *out_info) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(device);
    WINNOW_CHECK_ARG(out_info);
    winnow_device_info info{};
    info.name = device->name.c_str();
    if (device->kind == DeviceKind::Cuda) {
      info.kind = WINNOW_DEVICE_KIND_CUDA;
      getCudaDeviceInfo(*device->cuda, info);
    } else {
      info.kind = WINNOW_DEVICE_KIND_CPU;
      info.description = "host CPU";
      info.ordinal = -1;
    }
    *out_info = info;
    return WINNOW_OK;
  });
}

} // extern "C"
