// RUN: winnow-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(tok-forward-row-results))' | FileCheck %s --enable-var-scope

// The row loop of a dynamic batch: the row buffer's accesses (through a
// collapse too) move to the view of the out-parameter; the copy, the
// buffer and its deallocation go.
// CHECK-LABEL: func.func @row_loop(
// CHECK-SAME: %[[IN:.*]]: memref<?x4xi32>, %[[OUT:.*]]: memref<?x4xi32>)
// CHECK-NOT: memref.alloc
// CHECK: scf.for %[[R:.*]] =
// CHECK-NEXT: %[[VIEW:.*]] = memref.subview %[[OUT]][%[[R]], 0] [1, 4] [1, 1]
// CHECK: memref.store %{{.*}}, %[[VIEW]][%{{.*}}, %{{.*}}]
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %[[VIEW]] {{\[\[}}0, 1]] : memref<1x4xi32, strided<[4, 1], offset: ?>> into memref<4xi32, strided<[1], offset: ?>>
// CHECK: memref.load %[[FLAT]]
// CHECK-NOT: memref.copy
// CHECK-NOT: memref.dealloc
func.func @row_loop(%in: memref<?x4xi32>, %out: memref<?x4xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %row = memref.alloc() : memref<1x4xi32>
  %b = memref.dim %in, %c0 : memref<?x4xi32>
  scf.for %r = %c0 to %b step %c1 {
    scf.for %j = %c0 to %c4 step %c1 {
      %v = memref.load %in[%r, %j] : memref<?x4xi32>
      memref.store %v, %row[%c0, %j] : memref<1x4xi32>
    }
    %flat = memref.collapse_shape %row [[0, 1]] : memref<1x4xi32> into memref<4xi32>
    %first = memref.load %flat[%c0] : memref<4xi32>
    memref.store %first, %row[%c0, %c1] : memref<1x4xi32>
    %view = memref.subview %out[%r, 0] [1, 4] [1, 1] : memref<?x4xi32> to memref<1x4xi32, strided<[4, 1], offset: ?>>
    memref.copy %row, %view : memref<1x4xi32> to memref<1x4xi32, strided<[4, 1], offset: ?>>
  }
  memref.dealloc %row : memref<1x4xi32>
  return
}

// -----

// A loop that is not a row loop (a constant trip count) may carry state in
// the buffer from one iteration to the next: left alone.
// CHECK-LABEL: func.func @carried_state(
// CHECK: memref.alloc
// CHECK: memref.copy
func.func @carried_state(%in: memref<4x4xi32>, %out: memref<4x4xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %acc = memref.alloc() : memref<1x4xi32>
  scf.for %r = %c0 to %c4 step %c1 {
    %v = memref.load %in[%r, %c0] : memref<4x4xi32>
    %a = memref.load %acc[%c0, %c0] : memref<1x4xi32>
    %s = arith.addi %a, %v : i32
    memref.store %s, %acc[%c0, %c0] : memref<1x4xi32>
    %view = memref.subview %out[%r, 0] [1, 4] [1, 1] : memref<4x4xi32> to memref<1x4xi32, strided<[4, 1], offset: ?>>
    memref.copy %acc, %view : memref<1x4xi32> to memref<1x4xi32, strided<[4, 1], offset: ?>>
  }
  memref.dealloc %acc : memref<1x4xi32>
  return
}

// -----

// A buffer also viewed through a subview keeps its copy.
// CHECK-LABEL: func.func @other_view(
// CHECK: memref.copy
func.func @other_view(%in: memref<?x4xi32>, %out: memref<?x4xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %row = memref.alloc() : memref<1x4xi32>
  %b = memref.dim %in, %c0 : memref<?x4xi32>
  scf.for %r = %c0 to %b step %c1 {
    %half = memref.subview %row[0, 0] [1, 2] [1, 1] : memref<1x4xi32> to memref<1x2xi32, strided<[4, 1]>>
    %v = memref.load %in[%r, %c0] : memref<?x4xi32>
    memref.store %v, %half[%c0, %c0] : memref<1x2xi32, strided<[4, 1]>>
    %view = memref.subview %out[%r, 0] [1, 4] [1, 1] : memref<?x4xi32> to memref<1x4xi32, strided<[4, 1], offset: ?>>
    memref.copy %row, %view : memref<1x4xi32> to memref<1x4xi32, strided<[4, 1], offset: ?>>
  }
  memref.dealloc %row : memref<1x4xi32>
  return
}

// -----

// The CPU pipeline's row loop is an scf.parallel: forwarded the same way.
// Its buffer is allocated and freed in the body; the deallocation goes with
// the buffer (freeing the view would free the caller's memory).
// CHECK-LABEL: func.func @parallel_rows(
// CHECK-SAME: %[[IN:.*]]: memref<?x4xi32>, %[[OUT:.*]]: memref<?x4xi32>)
// CHECK-NOT: memref.alloc
// CHECK: scf.parallel (%[[R:.*]]) =
// CHECK-NEXT: %[[VIEW:.*]] = memref.subview %[[OUT]][%[[R]], 0] [1, 4] [1, 1]
// CHECK: memref.store %{{.*}}, %[[VIEW]][%{{.*}}, %{{.*}}]
// CHECK-NOT: memref.copy
// CHECK-NOT: memref.dealloc
func.func @parallel_rows(%in: memref<?x4xi32>, %out: memref<?x4xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %b = memref.dim %in, %c0 : memref<?x4xi32>
  scf.parallel (%r) = (%c0) to (%b) step (%c1) {
    %row = memref.alloc() : memref<1x4xi32>
    scf.for %j = %c0 to %c4 step %c1 {
      %v = memref.load %in[%r, %j] : memref<?x4xi32>
      memref.store %v, %row[%c0, %j] : memref<1x4xi32>
    }
    %view = memref.subview %out[%r, 0] [1, 4] [1, 1] : memref<?x4xi32> to memref<1x4xi32, strided<[4, 1], offset: ?>>
    memref.copy %row, %view : memref<1x4xi32> to memref<1x4xi32, strided<[4, 1], offset: ?>>
    memref.dealloc %row : memref<1x4xi32>
    scf.reduce
  }
  return
}
