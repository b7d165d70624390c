/* TestParallelEntries.c - hand-written CPU code that runs a parallel loop
 * through the pointer the runtime sets (`__winnow_parallel_for`, see
 * winnow/support/EntryAbi.h), as tok-outline-parallel-loops' code does:
 * the code of parallelArtifact().
 *
 * thread_ids(x: f32[64]) -> (outer: i64[64], inner: i64[64]): iteration i
 * writes an id of the thread that ran it to outer[i] and, from a loop
 * nested in its range, inner[i]; nested loops run on the thread of the
 * range that reaches them. The first range waits (up to 0.2 s) for a
 * second range to start, so a call on several threads really overlaps. */
#include "TestMemrefs.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

typedef void (*ParallelTask)(void *context, int64_t begin, int64_t end);
void (*__winnow_parallel_for)(ParallelTask, void *, int64_t, int64_t) = 0;

const char __winnow_abi_thread_ids[] =
    "winnow-abi 1 (f32[64]) -> (i64[64], i64[64])";

typedef struct {
  int64_t *outer;
  int64_t *inner;
  int64_t base;
  atomic_int started;
} Context;

static int64_t threadId(void) { return (int64_t)(uintptr_t)pthread_self(); }

static void run(void (*task)(void *, int64_t, int64_t), void *context,
                int64_t iterations, int64_t grain) {
  if (__winnow_parallel_for)
    __winnow_parallel_for(task, context, iterations, grain);
  else
    task(context, 0, iterations);
}

static void innerTask(void *context, int64_t begin, int64_t end) {
  Context *c = (Context *)context;
  for (int64_t i = begin; i < end; ++i)
    c->inner[c->base] = threadId();
}

static void outerTask(void *context, int64_t begin, int64_t end) {
  Context *c = (Context *)context;
  if (atomic_fetch_add(&c->started, 1) == 0) {
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do
      clock_gettime(CLOCK_MONOTONIC, &now);
    while (atomic_load(&c->started) < 2 &&
           (now.tv_sec - start.tv_sec) * 1000000000L +
                   (now.tv_nsec - start.tv_nsec) <
               200000000L);
  }
  for (int64_t i = begin; i < end; ++i) {
    c->outer[i] = threadId();
    Context nested = {c->outer, c->inner, i, 0};
    run(innerTask, &nested, 4, 1);
  }
}

void __winnow_entry_thread_ids(void **args) {
  const Memref1 *outer = (const Memref1 *)args[1];
  const Memref1 *inner = (const Memref1 *)args[2];
  Context c = {(int64_t *)outer->aligned + outer->offset,
               (int64_t *)inner->aligned + inner->offset, 0, 0};
  run(outerTask, &c, 64, 1);
}
