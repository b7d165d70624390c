//===- Status.cpp - winnow_status objects and their C accessors ----------===//

#include "Status.h"

namespace winnow::runtime {

namespace {
// Shared, never-freed status for allocation failures: building a fresh one
// would need the memory we just failed to get. It is const, so it is not
// mutable global state.
const winnow_status_s kOutOfMemory{WINNOW_STATUS_OUT_OF_MEMORY,
                                   "out of memory"};
} // namespace

winnow_status outOfMemoryStatus() {
  // The C API hands out non-const pointers; callers can only read or free it,
  // and free ignores this object.
  return const_cast<winnow_status>(&kOutOfMemory);
}

winnow_status makeStatus(winnow_status_code_t code, std::string message) {
  if (code == WINNOW_STATUS_OK) {
    code = WINNOW_STATUS_INTERNAL;
    message = "internal error: error status built with code OK: " + message;
  }
  auto *status = new (std::nothrow) winnow_status_s;
  if (!status)
    return outOfMemoryStatus();
  status->code = code;
  status->message = std::move(message);
  return status;
}

} // namespace winnow::runtime

using namespace winnow::runtime;

extern "C" {

winnow_status_code_t winnow_status_code(winnow_status status) {
  return status ? status->code : WINNOW_STATUS_OK;
}

const char *winnow_status_message(winnow_status status) {
  return status ? status->message.c_str() : "";
}

void winnow_status_free(winnow_status status) {
  if (status == outOfMemoryStatus())
    return;
  delete status;
}

const char *winnow_status_code_name(winnow_status_code_t code) {
  switch (code) {
  case WINNOW_STATUS_OK:
    return "OK";
  case WINNOW_STATUS_INVALID_ARGUMENT:
    return "INVALID_ARGUMENT";
  case WINNOW_STATUS_NOT_FOUND:
    return "NOT_FOUND";
  case WINNOW_STATUS_FAILED_PRECONDITION:
    return "FAILED_PRECONDITION";
  case WINNOW_STATUS_OUT_OF_RANGE:
    return "OUT_OF_RANGE";
  case WINNOW_STATUS_UNAVAILABLE:
    return "UNAVAILABLE";
  case WINNOW_STATUS_UNIMPLEMENTED:
    return "UNIMPLEMENTED";
  case WINNOW_STATUS_DATA_LOSS:
    return "DATA_LOSS";
  case WINNOW_STATUS_OUT_OF_MEMORY:
    return "OUT_OF_MEMORY";
  case WINNOW_STATUS_INTERNAL:
    return "INTERNAL";
  case WINNOW_STATUS_CODE_MAX_ENUM:
    break;
  }
  return "UNKNOWN";
}

} // extern "C"
