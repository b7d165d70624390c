/* TestDynamicEntries.c - hand-written stand-in for compiled CPU code with
 * dynamic extents (format 2.1), the code of dynamicArtifact(). Like compiled
 * code, it reads every extent from the memref descriptors the runtime builds
 * from the caller's tensors, so one entry serves every value of a symbol up
 * to its bound. */
#include "TestMemrefs.h"
#include <stdint.h>

/* The ABI descriptors of dynamicArtifact()'s manifest, spelled by hand. */
const char __winnow_abi_add_one_rows[] =
    "winnow-abi 1 [batch<=4] (f32[batch,3]) -> (f32[batch,3])";
const char __winnow_abi_keep_first[] =
    "winnow-abi 1 [batch<=4] (f32[batch,4], i32[batch]) -> (i32[batch,4] "
    "count=1 axis=1, i32[batch])";
const char __winnow_abi_outer[] =
    "winnow-abi 1 [m<=3, n<=5] (f32[m], f32[n]) -> (f32[m,n])";

/* add_one_rows(x: batch x 3 f32) -> (y: batch x 3 f32) */
void __winnow_entry_add_one_rows(void **args) { addOneEntry(args); }

/* keep_first(scores: batch x 4 f32, keep: batch i32) -> (indices: batch x 4
 * i32 [count: result 1], count: batch i32): the first min(max(keep, 0), 4)
 * row indices of each request, padded with -1. */
void __winnow_entry_keep_first(void **args) { keepFirstEntry(args); }

/* outer(a: m f32, b: n f32) -> (c: m x n f32): c[i][j] = a[i] * b[j]. */
void __winnow_entry_outer(void **args) {
  const Memref1 *a = (const Memref1 *)args[0];
  const Memref1 *b = (const Memref1 *)args[1];
  const Memref2 *c = (const Memref2 *)args[2];
  const float *aData = (const float *)a->aligned + a->offset;
  const float *bData = (const float *)b->aligned + b->offset;
  float *out = (float *)c->aligned + c->offset;
  for (int64_t i = 0; i < a->sizes[0]; ++i)
    for (int64_t j = 0; j < b->sizes[0]; ++j)
      out[i * c->strides[0] + j * c->strides[1]] =
          aData[i * a->strides[0]] * bData[j * b->strides[0]];
}
