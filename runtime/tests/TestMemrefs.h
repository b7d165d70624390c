/* TestMemrefs.h - the MLIR strided memref descriptors of ranks 0 to 3, as
 * the hand-written stand-ins for compiled code (TestEntries.c and friends)
 * receive them: one per input, then per result (docs/runtime.md, "Calling
 * convention (CPU)"). */
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

#endif /* WINNOW_RUNTIME_TESTS_TESTMEMREFS_H */
