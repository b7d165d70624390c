//===- TestUtil.h - Shared helpers for the runtime GoogleTest suites -----===//
#ifndef WINNOW_RUNTIME_TESTS_TESTUTIL_H
#define WINNOW_RUNTIME_TESTS_TESTUTIL_H

#include "TestArtifacts.h"
#include "TestHandles.h"
#include "winnow/runtime/winnow_runtime.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

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


/// TestEntries.c with add_one only: the code of addOneArtifact().
inline std::vector<uint8_t> addOneSharedObject() {
  return readFileBytes(WINNOW_TEST_ADD_ONE_SO);
}

inline std::vector<uint8_t> testEntriesSharedObject() {
  return readFileBytes(WINNOW_TEST_ENTRIES_SO);
}

} // namespace winnow::testing

#endif // WINNOW_RUNTIME_TESTS_TESTUTIL_H
