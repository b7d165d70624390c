//===- TestUtil.h - Shared helpers for the runtime GoogleTest suites -----===//
#ifndef WINNOW_RUNTIME_TESTS_TESTUTIL_H
#define WINNOW_RUNTIME_TESTS_TESTUTIL_H

#include "TestArtifacts.h"
#include "winnow/runtime/winnow_runtime.h"

#include <gtest/gtest.h>

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

#define EXPECT_WINNOW_OK(expr)                                                 \
  do {                                                                         \
    ::winnow::testing::StatusResult result_(expr);                             \
    EXPECT_TRUE(result_.ok()) << result_.message();                            \
  } while (false)

#define ASSERT_WINNOW_OK(expr)                                                 \
  do {                                                                         \
    ::winnow::testing::StatusResult result_(expr);                             \
    ASSERT_TRUE(result_.ok()) << result_.message();                            \
  } while (false)

/// Expects `expr` to fail with `code` and a message containing `substring`.
#define EXPECT_WINNOW_ERROR(expr, expectedCode, substring)                     \
  do {                                                                         \
    ::winnow::testing::StatusResult result_(expr);                             \
    EXPECT_EQ(winnow_status_code_name(result_.code()),                         \
              std::string(winnow_status_code_name(expectedCode)))              \
        << result_.message();                                                  \
    EXPECT_NE(result_.message().find(substring), std::string::npos)            \
        << "message: " << result_.message();                                   \
  } while (false)

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

inline std::vector<uint8_t> testEntriesSharedObject() {
  return readFileBytes(WINNOW_TEST_ENTRIES_SO);
}

} // namespace winnow::testing

#endif // WINNOW_RUNTIME_TESTS_TESTUTIL_H
