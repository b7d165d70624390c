//===- Device.cpp - Device creation from a name ("cpu", "cuda:N") --------===//

#include "Device.h"
#include "Status.h"

#include <cstring>
#include <memory>

namespace winnow::runtime {
namespace {

bool isCudaName(const std::string &name) {
  if (name == "cuda")
    return true;
  if (name.rfind("cuda:", 0) != 0 || name.size() == 5)
    return false;
  for (size_t i = 5; i < name.size(); ++i)
    if (name[i] < '0' || name[i] > '9')
      return false;
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
    if (deviceName == "cpu") {
      auto device = std::make_unique<winnow_device_s>();
      device->kind = DeviceKind::Cpu;
      device->name = deviceName;
      *out_device = device.release();
      return WINNOW_OK;
    }
    if (isCudaName(deviceName))
      return makeStatus(WINNOW_STATUS_UNIMPLEMENTED,
                        "CUDA devices are not supported by this runtime build "
                        "yet (requested device '" +
                            deviceName + "')");
    return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                      "unknown device '" + deviceName +
                          "' (expected 'cpu', 'cuda' or 'cuda:N')");
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

} // extern "C"
