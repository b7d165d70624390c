//===- Status.h - Internal helpers to build winnow_status values ---------===//
//
// The C API reports errors as heap-allocated status objects. These helpers
// build them from C++ and make sure no exception crosses the C boundary.
//
//===----------------------------------------------------------------------===//
#ifndef WINNOW_RUNTIME_SRC_STATUS_H
#define WINNOW_RUNTIME_SRC_STATUS_H

#include "winnow/runtime/winnow_runtime.h"

#include <exception>
#include <new>
#include <string>
#include <utility>

struct winnow_status_s {
  winnow_status_code_t code;
  std::string message;
};

namespace winnow::runtime {

/// Returns an error status; never returns WINNOW_OK (an OK code is turned
/// into INTERNAL because it would be a bug to build one).
winnow_status makeStatus(winnow_status_code_t code, std::string message);

/// The status returned when even the error object cannot be allocated. It is
/// immutable and winnow_status_free() knows not to delete it.
winnow_status outOfMemoryStatus();

/// Runs `body` (which returns a winnow_status) and converts any escaping
/// exception into a status, so C callers never see one.
template <typename Fn> winnow_status guardApi(Fn &&body) noexcept {
  try {
    return std::forward<Fn>(body)();
  } catch (const std::bad_alloc &) {
    return outOfMemoryStatus();
  } catch (const std::exception &e) {
    try {
      return makeStatus(WINNOW_STATUS_INTERNAL,
                        std::string("unexpected exception: ") + e.what());
    } catch (...) {
      return outOfMemoryStatus();
    }
  } catch (...) {
    return outOfMemoryStatus();
  }
}

/// Rejects a NULL pointer argument with INVALID_ARGUMENT naming it.
#define WINNOW_CHECK_ARG(ptr)                                                  \
  do {                                                                         \
    if (!(ptr))                                                                \
      return ::winnow::runtime::makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,     \
                                           "argument '" #ptr "' is null");     \
  } while (false)

/// Propagates an error status.
#define WINNOW_RETURN_IF_ERROR(expr)                                           \
  do {                                                                         \
    winnow_status winnowStatus_ = (expr);                                      \
    if (winnowStatus_ != WINNOW_OK)                                            \
      return winnowStatus_;                                                    \
  } while (false)

} // namespace winnow::runtime

#endif // WINNOW_RUNTIME_SRC_STATUS_H
