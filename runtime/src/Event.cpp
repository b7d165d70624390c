//===- Event.cpp - GPU timing: events and the L2 flush --------------------===//

#include "Device.h"
#include "Status.h"

#include <memory>

using namespace winnow::runtime;

extern "C" {

winnow_status winnow_event_create(winnow_device *device,
                                  winnow_event **out_event) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(device);
    WINNOW_CHECK_ARG(out_event);
    if (device->kind != DeviceKind::Cuda)
      return makeStatus(WINNOW_STATUS_FAILED_PRECONDITION,
                        "events exist on CUDA devices only (device '" +
                            device->name + "')");
    auto event = std::make_unique<winnow_event_s>();
    winnow_device_retain(device);
    event->device = device;
    WINNOW_RETURN_IF_ERROR(createCudaEvent(*device->cuda, event->cuda));
    *out_event = event.release();
    return WINNOW_OK;
  });
}

void winnow_event_destroy(winnow_event *event) { delete event; }

winnow_status winnow_event_record(winnow_event *event, void *stream) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(event);
    return recordCudaEvent(*event->cuda, stream);
  });
}

winnow_status winnow_event_elapsed_ms(winnow_event *start, winnow_event *end,
                                      float *out_milliseconds) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(start);
    WINNOW_CHECK_ARG(end);
    WINNOW_CHECK_ARG(out_milliseconds);
    if (start->device != end->device)
      return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                        "the two events belong to different devices ('" +
                            start->device->name + "' and '" +
                            end->device->name + "')");
    float milliseconds = 0;
    WINNOW_RETURN_IF_ERROR(
        cudaElapsedMilliseconds(*start->cuda, *end->cuda, milliseconds));
    *out_milliseconds = milliseconds;
    return WINNOW_OK;
  });
}

winnow_status winnow_device_flush_l2(winnow_device *device, void *stream) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(device);
    if (device->kind != DeviceKind::Cuda)
      return makeStatus(WINNOW_STATUS_FAILED_PRECONDITION,
                        "flushing the L2 cache is for CUDA devices only "
                        "(device '" +
                            device->name + "')");
    return cudaFlushL2(*device->cuda, stream);
  });
}

} // extern "C"
