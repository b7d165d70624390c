// RUN: winnow-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(tok-copy-repeated-results))' | FileCheck %s

// The second and third occurrences of one buffer get copies of their own;
// the first stays.
// CHECK-LABEL: func.func @twice
// CHECK-SAME: (%[[A:.*]]: memref<2x4xi32>, %[[B:.*]]: memref<2xi32>)
// CHECK: %[[C1:.*]] = memref.alloc() : memref<2x4xi32>
// CHECK: memref.copy %[[A]], %[[C1]] : memref<2x4xi32> to memref<2x4xi32>
// CHECK: %[[C2:.*]] = memref.alloc() : memref<2x4xi32>
// CHECK: memref.copy %[[A]], %[[C2]] : memref<2x4xi32> to memref<2x4xi32>
// CHECK: return %[[A]], %[[B]], %[[C1]], %[[C2]]
func.func @twice(%a: memref<2x4xi32>, %b: memref<2xi32>)
    -> (memref<2x4xi32>, memref<2xi32>, memref<2x4xi32>, memref<2x4xi32>) {
  return %a, %b, %a, %a : memref<2x4xi32>, memref<2xi32>, memref<2x4xi32>, memref<2x4xi32>
}

// -----

// Distinct buffers: nothing to copy.
// CHECK-LABEL: func.func @distinct
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.copy
// CHECK: return
func.func @distinct(%a: memref<4xf32>, %b: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>) {
  return %a, %b : memref<4xf32>, memref<4xf32>
}

// -----

// Dynamic extents are read from the buffer.
// CHECK-LABEL: func.func @dynamic
// CHECK-SAME: (%[[A:.*]]: memref<?x8xf32>)
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[N:.*]] = memref.dim %[[A]], %[[C0]]
// CHECK: %[[COPY:.*]] = memref.alloc(%[[N]]) : memref<?x8xf32>
// CHECK: memref.copy %[[A]], %[[COPY]]
// CHECK: return %[[A]], %[[COPY]]
func.func @dynamic(%a: memref<?x8xf32>) -> (memref<?x8xf32>, memref<?x8xf32>) {
  return %a, %a : memref<?x8xf32>, memref<?x8xf32>
}

// -----

// Tensors are left to bufferization.
// CHECK-LABEL: func.func @tensors
// CHECK-NOT: memref.alloc
// CHECK: return %{{.*}}, %{{.*}} : tensor<4xf32>, tensor<4xf32>
func.func @tensors(%a: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  return %a, %a : tensor<4xf32>, tensor<4xf32>
}
