//===- StatusMessage.h - Runtime statuses as winnow-run error text -------===//
#ifndef WINNOW_TOOLS_WINNOW_RUN_STATUSMESSAGE_H
#define WINNOW_TOOLS_WINNOW_RUN_STATUSMESSAGE_H

#include "winnow/runtime/winnow_runtime.h"

#include <string>

namespace winnow::run {

/// True for WINNOW_OK; otherwise moves the status's message into `error`
/// and frees the status.
inline bool succeeded(winnow_status status, std::string &error) {
  if (status == WINNOW_OK)
    return true;
  error = winnow_status_message(status);
  winnow_status_free(status);
  return false;
}

} // namespace winnow::run

#endif // WINNOW_TOOLS_WINNOW_RUN_STATUSMESSAGE_H
