//===- ThreadPool.cpp - The threads CPU code runs its parallel loops on ---===//
//
// A loop is split into contiguous ranges that the calling thread and up to
// (threads - 1) pool workers claim one at a time from an atomic counter;
// the caller returns once every range is done. Iterations are independent
// (the compiler outlines only loops without reductions or shared writes),
// so which thread runs which range never changes a result bit.
//
// Workers are started on demand and live as long as the process: the pool
// is never destroyed, so no worker can outlive the objects it waits on
// during static destruction.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"
#include "Status.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <pthread.h>
#include <sched.h>
#include <thread>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace winnow::runtime {
namespace {

/// The thread count of the current call on this thread (1 outside calls).
thread_local size_t tCallThreads = 1;
/// Whether this thread is running a range of a parallel loop: a loop
/// reached from inside one (a pool worker, or the caller in its own
/// ranges) runs serially rather than waiting on the pool it occupies.
thread_local bool tInTask = false;

/// How long an idle worker polls for the next loop before it sleeps, so
/// the loops of one call (a few in a row) do not each pay a wake-up.
constexpr int kSpinIterations = 20000;
constexpr size_t kWorkerStackBytes = size_t(8) << 20;

void relax() {
#if defined(__x86_64__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

struct Loop {
  ParallelTask task;
  void *context;
  int64_t iterations;
  int64_t rangeSize;
  int64_t numRanges;
  std::atomic<int64_t> nextRange{0};
  /// Guarded by the pool's mutex.
  size_t helpersAllowed = 0;
  size_t helpersJoined = 0;
  size_t helpersActive = 0;

  /// Runs ranges until none is left; returns how many it ran.
  uint64_t runRanges() {
    uint64_t ran = 0;
    for (int64_t range = nextRange.fetch_add(1, std::memory_order_relaxed);
         range < numRanges;
         range = nextRange.fetch_add(1, std::memory_order_relaxed)) {
      int64_t begin = range * rangeSize;
      task(context, begin, std::min(iterations, begin + rangeSize));
      ++ran;
    }
    return ran;
  }
};

class Pool {
public:
  static Pool &get() {
    static Pool *pool = new Pool(); // Never destroyed (see the file header).
    return *pool;
  }

  void run(Loop &loop) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      // A worker that cannot be started (no memory, a thread limit) leaves
      // the loop to the threads there are.
      loop.helpersAllowed =
          std::min(loop.helpersAllowed, growTo(loop.helpersAllowed));
      queue.push_back(&loop);
      queued.fetch_add(1, std::memory_order_release);
      if (sleepers > 0)
        workAvailable.notify_all();
    }
    tInTask = true;
    loop.runRanges();
    tInTask = false;
    std::unique_lock<std::mutex> lock(mutex);
    // Unqueued first, so no helper joins late; then wait for the helpers
    // still inside a range (every range is claimed by now).
    unqueue(&loop);
    loopDone.wait(lock, [&] { return loop.helpersActive == 0; });
  }

  void stats(winnow_thread_stats &out) {
    std::lock_guard<std::mutex> lock(mutex);
    out.pool_threads = workerCount;
    out.parallel_loops = parallelLoops.load(std::memory_order_relaxed);
    out.serial_loops = serialLoops.load(std::memory_order_relaxed);
    out.ranges_on_pool_threads =
        rangesOnWorkers.load(std::memory_order_relaxed);
  }

  std::atomic<uint64_t> parallelLoops{0}, serialLoops{0}, rangesOnWorkers{0};

private:
  /// Starts workers until there are `count`, or until one fails to start;
  /// returns how many there are (called with the mutex held).
  size_t growTo(size_t count) {
    while (workerCount < count) {
      pthread_attr_t attributes;
      if (pthread_attr_init(&attributes) != 0)
        break;
      // Tasks keep their scratch on the stack: give workers the main
      // thread's usual 8 MiB whatever the process's default is.
      pthread_attr_setstacksize(&attributes, kWorkerStackBytes);
      pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
      pthread_t thread;
      int error = pthread_create(
          &thread, &attributes,
          [](void *pool) -> void * {
            static_cast<Pool *>(pool)->work();
            return nullptr;
          },
          this);
      pthread_attr_destroy(&attributes);
      if (error != 0)
        break;
      ++workerCount;
    }
    return workerCount;
  }

  void unqueue(Loop *loop) {
    auto it = std::find(queue.begin(), queue.end(), loop);
    if (it != queue.end()) {
      queue.erase(it);
      queued.fetch_sub(1, std::memory_order_relaxed);
    }
  }

  void work() {
    tInTask = true;
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      if (queue.empty()) {
        lock.unlock();
        for (int i = 0;
             i < kSpinIterations && queued.load(std::memory_order_acquire) == 0;
             ++i)
          relax();
        lock.lock();
        if (queue.empty()) {
          ++sleepers;
          workAvailable.wait(lock, [&] { return !queue.empty(); });
          --sleepers;
        }
      }
      Loop *loop = queue.front();
      ++loop->helpersJoined;
      ++loop->helpersActive;
      if (loop->helpersJoined == loop->helpersAllowed)
        unqueue(loop);
      lock.unlock();
      uint64_t ran = loop->runRanges();
      rangesOnWorkers.fetch_add(ran, std::memory_order_relaxed);
      lock.lock();
      if (--loop->helpersActive == 0)
        loopDone.notify_all();
    }
  }

  std::mutex mutex;
  std::condition_variable workAvailable, loopDone;
  std::deque<Loop *> queue;
  std::atomic<size_t> queued{0};
  size_t sleepers = 0;
  /// Workers are detached and never stop.
  size_t workerCount = 0;
};

/// WINNOW_PARALLEL_GRAIN, when a positive number, replaces every loop's
/// grain (tests set 1 to split every outlined loop).
int64_t grainOverride() {
  static const int64_t value = [] {
    const char *text = std::getenv("WINNOW_PARALLEL_GRAIN");
    long long parsed = text ? std::atoll(text) : 0;
    return parsed > 0 ? static_cast<int64_t>(parsed) : int64_t(0);
  }();
  return value;
}

} // namespace

void parallelFor(ParallelTask task, void *context, int64_t iterations,
                 int64_t grain) {
  if (iterations <= 0)
    return;
  if (int64_t forced = grainOverride())
    grain = forced;
  grain = std::max<int64_t>(1, grain);
  int64_t worthwhile = iterations / grain;
  size_t threads = tInTask ? 1 : tCallThreads;
  if (worthwhile < 2 || threads < 2) {
    Pool::get().serialLoops.fetch_add(1, std::memory_order_relaxed);
    task(context, 0, iterations);
    return;
  }
  threads = static_cast<size_t>(
      std::min<int64_t>(static_cast<int64_t>(threads), worthwhile));
  // A few ranges per thread, so a thread that finishes early takes more.
  int64_t ranges = std::min<int64_t>(worthwhile, 4 * threads);
  Loop loop;
  loop.task = task;
  loop.context = context;
  loop.iterations = iterations;
  loop.rangeSize = (iterations + ranges - 1) / ranges;
  loop.numRanges = (iterations + loop.rangeSize - 1) / loop.rangeSize;
  loop.helpersAllowed = threads - 1;
  Pool::get().parallelLoops.fetch_add(1, std::memory_order_relaxed);
  Pool::get().run(loop);
}

size_t defaultThreadCount() {
  static const size_t count = [] {
    if (const char *text = std::getenv("WINNOW_NUM_THREADS")) {
      long long parsed = std::atoll(text);
      if (parsed > 0)
        return std::min<size_t>(static_cast<size_t>(parsed), kMaxThreads);
    }
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
      return std::min<size_t>(static_cast<size_t>(CPU_COUNT(&set)),
                              kMaxThreads);
    return std::max<size_t>(1, std::thread::hardware_concurrency());
  }();
  return count;
}

CallThreads::CallThreads(size_t threads) : previous(tCallThreads) {
  tCallThreads = std::max<size_t>(1, std::min(threads, kMaxThreads));
}

CallThreads::~CallThreads() { tCallThreads = previous; }

} // namespace winnow::runtime

using namespace winnow::runtime;

extern "C" {

size_t winnow_default_num_threads(void) { return defaultThreadCount(); }

winnow_status winnow_get_thread_stats(winnow_thread_stats *out_stats) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(out_stats);
    Pool::get().stats(*out_stats);
    return WINNOW_OK;
  });
}

} // extern "C"
