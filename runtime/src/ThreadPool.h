//===- ThreadPool.h - The threads CPU code runs its parallel loops on -----===//
//
// One pool per process, shared by every executable and every caller thread:
// concurrent calls queue their loops on the same workers instead of each
// starting threads of its own, so the process never runs more Winnow
// threads than its callers plus the pool (docs/runtime.md, "Threads").
//
//===----------------------------------------------------------------------===//
#ifndef WINNOW_RUNTIME_SRC_THREADPOOL_H
#define WINNOW_RUNTIME_SRC_THREADPOOL_H

#include "winnow/runtime/winnow_runtime.h"

#include <cstddef>
#include <cstdint>

namespace winnow::runtime {

/// A range of a parallel loop's iterations: the outlined body of one
/// `scf.parallel` (tok-outline-parallel-loops).
using ParallelTask = void (*)(void *context, int64_t begin, int64_t end);

/// The function the runtime stores in an artifact's `__winnow_parallel_for`:
/// runs task(context, b, e) over [0, iterations) in ranges of at least
/// `grain` iterations, on up to the current call's thread count (the calling
/// thread included), and returns when every range is done. Serial when
/// called outside a call that set a thread count above 1, from inside a
/// task, or when the loop has fewer than 2 * grain iterations.
void parallelFor(ParallelTask task, void *context, int64_t iterations,
                 int64_t grain);
using ParallelForFn = decltype(&parallelFor);

/// The threads a call uses when its executable sets none: WINNOW_NUM_THREADS
/// when set to a positive number, else the CPUs this process may run on.
size_t defaultThreadCount();

/// Sets the thread count of the calling thread's parallel loops while
/// alive (a CPU call runs under one).
class CallThreads {
public:
  explicit CallThreads(size_t threads);
  ~CallThreads();
  CallThreads(const CallThreads &) = delete;
  CallThreads &operator=(const CallThreads &) = delete;

private:
  size_t previous;
};

/// The largest thread count a call may ask for.
inline constexpr size_t kMaxThreads = 256;

} // namespace winnow::runtime

#endif // WINNOW_RUNTIME_SRC_THREADPOOL_H
