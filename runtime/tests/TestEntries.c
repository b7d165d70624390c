/* TestEntries.c - a hand-written stand-in for compiled CPU code, used to
 * test the runtime's loader and calling convention without the compiler.
 * Each function follows the artifact ABI: void __winnow_entry_<name>(void **)
 * with one MLIR strided memref descriptor per input, then per result.
 * Built twice: whole, and with WINNOW_TEST_ADD_ONE_ONLY defined as the code
 * of addOneArtifact() (a manifest lists every entry point its code has). */
#include "TestMemrefs.h"
#include <stdint.h>

/* The ABI descriptors the loader compares with testEntriesArtifact()'s
 * manifest (winnow/support/EntryAbi.h), spelled out by hand. */
const char __winnow_abi_add_one[] = "winnow-abi 1 (f32[2,3]) -> (f32[2,3])";
#ifndef WINNOW_TEST_ADD_ONE_ONLY
const char __winnow_abi_ragged[] =
    "winnow-abi 1 (f32[2,4], i32[2]) -> (i32[2,4] count=1 axis=1, i32[2])";
const char __winnow_abi_copy_bf16[] = "winnow-abi 1 (bf16[4]) -> (bf16[4])";
const char __winnow_abi_logical_not[] = "winnow-abi 1 (i1[3]) -> (i1[3])";
const char __winnow_abi_double_scalar[] = "winnow-abi 1 (i32[]) -> (i32[])";
const char __winnow_abi_describe[] = "winnow-abi 1 (f32[2,3,4]) -> (i64[8])";
#endif

/* add_one(x: 2x3xf32) -> (y: 2x3xf32) */
void __winnow_entry_add_one(void **args) { addOneEntry(args); }

#ifndef WINNOW_TEST_ADD_ONE_ONLY
/* ragged(scores: BxNxf32, keep: Bxi32) -> (indices: BxNxi32 [count: result
 * 1], count: Bxi32): keeps the first min(max(keep,0), N) row indices of each
 * batch, pads with -1. */
void __winnow_entry_ragged(void **args) { keepFirstEntry(args); }

/* copy_bf16(x: 4xbf16) -> (y: 4xbf16) */
void __winnow_entry_copy_bf16(void **args) {
  const Memref1 *x = (const Memref1 *)args[0];
  const Memref1 *y = (const Memref1 *)args[1];
  const uint16_t *in = (const uint16_t *)x->aligned + x->offset;
  uint16_t *out = (uint16_t *)y->aligned + y->offset;
  for (int64_t i = 0; i < x->sizes[0]; ++i)
    out[i * y->strides[0]] = in[i * x->strides[0]];
}

/* logical_not(m: 3xi1) -> (r: 3xi1) */
void __winnow_entry_logical_not(void **args) {
  const Memref1 *m = (const Memref1 *)args[0];
  const Memref1 *r = (const Memref1 *)args[1];
  const uint8_t *in = (const uint8_t *)m->aligned + m->offset;
  uint8_t *out = (uint8_t *)r->aligned + r->offset;
  for (int64_t i = 0; i < m->sizes[0]; ++i)
    out[i * r->strides[0]] = (uint8_t)!in[i * m->strides[0]];
}

/* double_scalar(x: i32) -> (y: i32) */
void __winnow_entry_double_scalar(void **args) {
  const Memref0 *x = (const Memref0 *)args[0];
  const Memref0 *y = (const Memref0 *)args[1];
  ((int32_t *)y->aligned)[y->offset] =
      2 * ((const int32_t *)x->aligned)[x->offset];
}

/* describe(x: 2x3x4xf32) -> (d: 8xi64): reports the input descriptor as
 * [allocated == aligned, offset, sizes..., strides...]. */
void __winnow_entry_describe(void **args) {
  const Memref3 *x = (const Memref3 *)args[0];
  const Memref1 *d = (const Memref1 *)args[1];
  int64_t *out = (int64_t *)d->aligned + d->offset;
  out[0] = x->allocated == x->aligned;
  out[1] = x->offset;
  for (int i = 0; i < 3; ++i) {
    out[2 + i] = x->sizes[i];
    out[5 + i] = x->strides[i];
  }
}
#endif /* WINNOW_TEST_ADD_ONE_ONLY */
