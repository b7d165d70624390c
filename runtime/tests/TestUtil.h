//===- TestUtil.h - Shared helpers for the runtime GoogleTest suites -----===//
#ifndef WINNOW_RUNTIME_TESTS_TESTUTIL_H
#define WINNOW_RUNTIME_TESTS_TESTUTIL_H

#include "TestArtifacts.h"
#include "TestHandles.h"
#include "winnow/runtime/winnow_runtime.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace winnow::testing {

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

/// The device `name` ("cpu", "cuda", "cuda:N"); fails the test when it
/// cannot be created.
inline DevicePtr createDevice(const char *name) {
  winnow_device *device = nullptr;
  StatusResult status(winnow_device_create(name, &device));
  EXPECT_TRUE(status.ok()) << status.message();
  return DevicePtr(device);
}

/// A CPU device; fails the test when it cannot be created.
inline DevicePtr createCpu() { return createDevice("cpu"); }

/// Builds `def` and loads it; fails the test when it does not load.
inline ModulePtr loadDef(const ArtifactDef &def) {
  std::vector<uint8_t> bytes = buildArtifact(def);
  winnow_module *module = nullptr;
  StatusResult status(
      winnow_module_load_memory(bytes.data(), bytes.size(), &module));
  EXPECT_TRUE(status.ok()) << status.message();
  return ModulePtr(module);
}

/// Loads `def` and binds it to `device`; returns the bind's status (the
/// executable keeps the module and the device alive).
inline winnow_status bindOn(winnow_device *device, const ArtifactDef &def,
                            ExecutablePtr &out) {
  ModulePtr module = loadDef(def);
  winnow_executable *executable = nullptr;
  winnow_status status =
      winnow_executable_create(module.get(), device, &executable);
  out.reset(executable);
  return status;
}

/// Loads `def` and binds it to the CPU; returns the bind's status.
inline winnow_status bindDef(const ArtifactDef &def, ExecutablePtr &out) {
  DevicePtr device = createCpu();
  return bindOn(device.get(), def, out);
}

/// A fixture holding one artifact bound to the CPU (bind() in SetUp).
class BoundArtifactTest : public ::testing::Test {
protected:
  void bind(const ArtifactDef &def) {
    module = loadDef(def);
    device = createCpu();
    winnow_executable *e = nullptr;
    ASSERT_WINNOW_OK(
        winnow_executable_create(module.get(), device.get(), &e));
    executable.reset(e);
  }

  ModulePtr module;
  DevicePtr device;
  ExecutablePtr executable;
};

/// TestEntries.c with add_one only: the code of addOneArtifact().
inline std::vector<uint8_t> addOneSharedObject() {
  return readFileBytes(WINNOW_TEST_ADD_ONE_SO);
}

inline std::vector<uint8_t> testEntriesSharedObject() {
  return readFileBytes(WINNOW_TEST_ENTRIES_SO);
}

} // namespace winnow::testing

#endif // WINNOW_RUNTIME_TESTS_TESTUTIL_H
