/* TestMemrefs.h - the MLIR strided memref descriptors of ranks 0 to 3, as
 * the hand-written stand-ins for compiled code (TestEntries.c and friends)
 * receive them: one per input, then per result (docs/runtime.md, "Calling
 * convention (CPU)"), and the entry bodies that static and dynamic
 * stand-ins share (they read every extent from the descriptors). */
#ifndef WINNOW_RUNTIME_TESTS_TESTMEMREFS_H
#define WINNOW_RUNTIME_TESTS_TESTMEMREFS_H

#include <stdint.h>

typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
} Memref0;

typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];
} Memref1;

typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
} Memref2;

typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[3];
  int64_t strides[3];
} Memref3;

/* y = x + 1 for a 2-D f32 tensor: (x) -> (y). */
static inline void addOneEntry(void **args) {
  const Memref2 *x = (const Memref2 *)args[0];
  const Memref2 *y = (const Memref2 *)args[1];
  const float *in = (const float *)x->aligned + x->offset;
  float *out = (float *)y->aligned + y->offset;
  for (int64_t i = 0; i < x->sizes[0]; ++i)
    for (int64_t j = 0; j < x->sizes[1]; ++j)
      out[i * y->strides[0] + j * y->strides[1]] =
          in[i * x->strides[0] + j * x->strides[1]] + 1.0f;
}

/* (scores: B x N f32, keep: B i32) -> (indices: B x N i32, count: B i32):
 * the first min(max(keep, 0), N) row indices of each request, padded with
 * -1, and how many. */
static inline void keepFirstEntry(void **args) {
  const Memref2 *scores = (const Memref2 *)args[0];
  const Memref1 *keep = (const Memref1 *)args[1];
  const Memref2 *indices = (const Memref2 *)args[2];
  const Memref1 *count = (const Memref1 *)args[3];
  const int32_t *keepData = (const int32_t *)keep->aligned + keep->offset;
  int32_t *out = (int32_t *)indices->aligned + indices->offset;
  int32_t *counts = (int32_t *)count->aligned + count->offset;
  int64_t n = scores->sizes[1];
  for (int64_t b = 0; b < scores->sizes[0]; ++b) {
    int64_t k = keepData[b * keep->strides[0]];
    if (k < 0)
      k = 0;
    if (k > n)
      k = n;
    for (int64_t i = 0; i < n; ++i)
      out[b * indices->strides[0] + i * indices->strides[1]] =
          i < k ? (int32_t)i : -1;
    counts[b * count->strides[0]] = (int32_t)k;
  }
}

#endif /* WINNOW_RUNTIME_TESTS_TESTMEMREFS_H */
