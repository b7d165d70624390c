//===- ThreadPoolTest.cpp - Thread counts and the shared pool -------------===//
//
// TestParallelEntries.c runs a 64-iteration parallel loop through the
// runtime's pool pointer and records which thread ran each iteration (and
// the loop nested in it).
//
//===----------------------------------------------------------------------===//

#include "TestArtifacts.h"
#include "TestHandles.h"
#include "TestUtil.h"

#include <pthread.h>
#include <set>
#include <thread>
#include <vector>

namespace {

using namespace winnow::testing;

ExecutablePtr bindParallel() {
  ExecutablePtr executable;
  EXPECT_WINNOW_OK(bindDef(
      parallelArtifact(readFileBytes(WINNOW_TEST_PARALLEL_SO)), executable));
  return executable;
}

struct ThreadIds {
  std::vector<int64_t> outer = std::vector<int64_t>(64, 0);
  std::vector<int64_t> inner = std::vector<int64_t>(64, 0);
};

winnow_status callThreadIds(winnow_executable *executable, ThreadIds &ids) {
  static const std::vector<int64_t> inShape = {64}, outShape = {64};
  std::vector<float> x(64, 0.0f);
  winnow_tensor input{WINNOW_DTYPE_F32, 1, inShape.data(), x.data(),
                      x.size() * sizeof(float)};
  winnow_tensor outputs[2] = {
      {WINNOW_DTYPE_I64, 1, outShape.data(), ids.outer.data(), 64 * 8},
      {WINNOW_DTYPE_I64, 1, outShape.data(), ids.inner.data(), 64 * 8}};
  return winnow_call(executable, "thread_ids", &input, 1, outputs, 2);
}

int64_t selfId() { return static_cast<int64_t>(uintptr_t(pthread_self())); }

winnow_thread_stats stats() {
  winnow_thread_stats out{};
  EXPECT_WINNOW_OK(winnow_get_thread_stats(&out));
  return out;
}

TEST(Threads, CountsDefaultsAndLimits) {
  ExecutablePtr executable = bindParallel();
  size_t threads = 0;
  ASSERT_WINNOW_OK(
      winnow_executable_get_num_threads(executable.get(), &threads));
  EXPECT_EQ(threads, winnow_default_num_threads());
  EXPECT_GE(threads, 1u);
  ASSERT_WINNOW_OK(winnow_executable_set_num_threads(executable.get(), 3));
  ASSERT_WINNOW_OK(
      winnow_executable_get_num_threads(executable.get(), &threads));
  EXPECT_EQ(threads, 3u);
  ASSERT_WINNOW_OK(winnow_executable_set_num_threads(executable.get(), 0));
  ASSERT_WINNOW_OK(
      winnow_executable_get_num_threads(executable.get(), &threads));
  EXPECT_EQ(threads, winnow_default_num_threads());
  EXPECT_WINNOW_ERROR(winnow_executable_set_num_threads(executable.get(), 257),
                      WINNOW_STATUS_INVALID_ARGUMENT,
                      "num_threads is 257, above the limit of 256");
  EXPECT_WINNOW_ERROR(winnow_executable_set_num_threads(nullptr, 2),
                      WINNOW_STATUS_INVALID_ARGUMENT, "executable");
  EXPECT_WINNOW_ERROR(
      winnow_executable_get_num_threads(executable.get(), nullptr),
      WINNOW_STATUS_INVALID_ARGUMENT, "out_num_threads");
  EXPECT_WINNOW_ERROR(winnow_get_thread_stats(nullptr),
                      WINNOW_STATUS_INVALID_ARGUMENT, "out_stats");
}

TEST(Threads, OneThreadRunsEveryIterationOnTheCaller) {
  ExecutablePtr executable = bindParallel();
  ASSERT_WINNOW_OK(winnow_executable_set_num_threads(executable.get(), 1));
  winnow_thread_stats before = stats();
  ThreadIds ids;
  ASSERT_WINNOW_OK(callThreadIds(executable.get(), ids));
  for (int i = 0; i < 64; ++i) {
    EXPECT_EQ(ids.outer[i], selfId()) << i;
    EXPECT_EQ(ids.inner[i], selfId()) << i;
  }
  winnow_thread_stats after = stats();
  EXPECT_EQ(after.parallel_loops, before.parallel_loops);
  // The outer loop and its 64 nested ones.
  EXPECT_EQ(after.serial_loops - before.serial_loops, 65u);
}

TEST(Threads, SeveralThreadsSplitTheLoopAndNestedLoopsStayOnTheirThread) {
  ExecutablePtr executable = bindParallel();
  ASSERT_WINNOW_OK(winnow_executable_set_num_threads(executable.get(), 4));
  winnow_thread_stats before = stats();
  ThreadIds ids;
  ASSERT_WINNOW_OK(callThreadIds(executable.get(), ids));
  std::set<int64_t> distinct(ids.outer.begin(), ids.outer.end());
  EXPECT_GE(distinct.size(), 2u);
  EXPECT_LE(distinct.size(), 4u);
  EXPECT_EQ(ids.inner, ids.outer);
  winnow_thread_stats after = stats();
  EXPECT_EQ(after.parallel_loops - before.parallel_loops, 1u);
  EXPECT_GT(after.ranges_on_pool_threads, before.ranges_on_pool_threads);
  EXPECT_LE(after.pool_threads, std::max<size_t>(before.pool_threads, 3));
}

TEST(Threads, ConcurrentCallersShareOnePool) {
  ExecutablePtr executable = bindParallel();
  ASSERT_WINNOW_OK(winnow_executable_set_num_threads(executable.get(), 3));
  winnow_thread_stats before = stats();
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t)
    callers.emplace_back([&] {
      for (int n = 0; n < 10; ++n) {
        ThreadIds ids;
        StatusResult called(callThreadIds(executable.get(), ids));
        if (!called.ok() || ids.inner != ids.outer)
          ++failures;
      }
    });
  for (std::thread &caller : callers)
    caller.join();
  EXPECT_EQ(failures.load(), 0);
  winnow_thread_stats after = stats();
  // 80 calls of 3 threads each: the pool started no more than 2 workers
  // (or kept the ones an earlier test started).
  EXPECT_LE(after.pool_threads, std::max<size_t>(before.pool_threads, 2));
  EXPECT_EQ(after.parallel_loops - before.parallel_loops, 80u);
}

} // namespace
