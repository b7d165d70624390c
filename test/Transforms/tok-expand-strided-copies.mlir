// RUN: winnow-opt %s --split-input-file --tok-expand-strided-copies | FileCheck %s

// A strided copy becomes linalg.copy (loops later, no memrefCopy call).
// CHECK-LABEL: func.func @strided
// CHECK-SAME: (%[[A:.*]]: memref<2x8xf32, strided<[32, 1]>>, %[[B:.*]]: memref<2x8xf32>)
// CHECK: linalg.copy ins(%[[A]] : memref<2x8xf32, strided<[32, 1]>>) outs(%[[B]] : memref<2x8xf32>)
// CHECK-NOT: memref.copy
func.func @strided(%a: memref<2x8xf32, strided<[32, 1]>>, %b: memref<2x8xf32>) {
  memref.copy %a, %b : memref<2x8xf32, strided<[32, 1]>> to memref<2x8xf32>
  return
}

// -----

// A contiguous copy keeps memref.copy, which lowers to llvm.memcpy.
// CHECK-LABEL: func.func @contiguous
// CHECK: memref.copy
// CHECK-NOT: linalg.copy
func.func @contiguous(%a: memref<2x8xf32>, %b: memref<2x8xf32>) {
  memref.copy %a, %b : memref<2x8xf32> to memref<2x8xf32>
  return
}
