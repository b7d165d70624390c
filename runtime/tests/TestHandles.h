//===- TestHandles.h - Owning handles for runtime objects in tests -------===//
//
// RAII owners of statuses, modules, devices and executables, for the
// GoogleTest suites and the test tools (no GoogleTest dependency).
//
//===----------------------------------------------------------------------===//
#ifndef WINNOW_RUNTIME_TESTS_TESTHANDLES_H
#define WINNOW_RUNTIME_TESTS_TESTHANDLES_H

#include "winnow/runtime/winnow_runtime.h"

#include <memory>
#include <string>

namespace winnow::testing {

/// Owns a status and exposes code and message for assertions.
class StatusResult {
public:
  explicit StatusResult(winnow_status status) : status(status) {}
  ~StatusResult() { winnow_status_free(status); }
  StatusResult(const StatusResult &) = delete;
  StatusResult &operator=(const StatusResult &) = delete;

  bool ok() const { return status == WINNOW_OK; }
  winnow_status_code_t code() const { return winnow_status_code(status); }
  std::string message() const { return winnow_status_message(status); }

private:
  winnow_status status;
};

struct ModuleDeleter {
  void operator()(winnow_module *m) const { winnow_module_release(m); }
};
struct DeviceDeleter {
  void operator()(winnow_device *d) const { winnow_device_release(d); }
};
struct ExecutableDeleter {
  void operator()(winnow_executable *e) const { winnow_executable_release(e); }
};
using ModulePtr = std::unique_ptr<winnow_module, ModuleDeleter>;
using DevicePtr = std::unique_ptr<winnow_device, DeviceDeleter>;
using ExecutablePtr = std::unique_ptr<winnow_executable, ExecutableDeleter>;

} // namespace winnow::testing

#endif // WINNOW_RUNTIME_TESTS_TESTHANDLES_H
