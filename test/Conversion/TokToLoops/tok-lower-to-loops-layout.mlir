// RUN: winnow-opt %s --split-input-file --tok-lower-to-loops --cse | FileCheck %s
// RUN: winnow-opt %s --split-input-file --pass-pipeline="builtin.module(tok-lower-to-loops{intra-row-parallel=true},cse)" | FileCheck %s

// unpack_ragged: one iteration per padded element; each reads its request's
// offsets (i64 here, cast to index as given), clamps them to [0, T] and
// copies or pads (-1 for i32); then the lengths, min(end - start, C).
// CHECK-LABEL: func.func @unpack
// CHECK: scf.parallel (%[[B:.*]], %[[J:.*]]) =
// CHECK: %[[S:.*]] = memref.load %{{.*}}[%[[B]]] : memref<5xi64>
// CHECK: arith.index_cast %[[S]] : i64 to index
// CHECK: arith.minsi %{{.*}}, %c4
// CHECK: scf.if
// CHECK: memref.load %{{.*}} : memref<12xi32>
// CHECK: } else {
// CHECK: memref.store %c-1_i32
// CHECK: scf.parallel
// CHECK: memref.store %{{.*}} : memref<4xi32>
func.func @unpack(%flat: tensor<12xi32>, %cu: tensor<5xi64>) -> (tensor<4x4xi32>, tensor<4xi32>) {
  %p, %n = tok.unpack_ragged %flat, %cu : (tensor<12xi32>, tensor<5xi64>) -> (tensor<4x4xi32>, tensor<4xi32>)
  return %p, %n : tensor<4x4xi32>, tensor<4xi32>
}

// -----

// pack_ragged: the offsets first (a prefix sum of the clamped counts, capped
// at T), then one iteration per padded element inside its request's range,
// then the padding (0.0 for f32) past the last offset.
// CHECK-LABEL: func.func @pack
// CHECK: scf.parallel
// CHECK: scf.for {{.*}} iter_args
// CHECK: arith.minsi %{{.*}}, %c10
// CHECK: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}) =
// CHECK: arith.cmpi slt
// CHECK: memref.load %{{.*}} : memref<3x4x2xf32>
// CHECK: scf.parallel (%[[T:.*]], %{{.*}}) =
// CHECK: arith.cmpi sge, %[[T]]
// CHECK: memref.store %cst
func.func @pack(%padded: tensor<3x4x2xf32>, %count: tensor<3xi32>) -> (tensor<10x2xf32>, tensor<4xi32>) {
  %f, %cu = tok.pack_ragged %padded, %count : (tensor<3x4x2xf32>, tensor<3xi32>) -> (tensor<10x2xf32>, tensor<4xi32>)
  return %f, %cu : tensor<10x2xf32>, tensor<4xi32>
}

// -----

// tree_parents: one iteration per request: every parent -1, then each
// node's child list walked at most T steps (i64 ids cast as given), a child
// taking the node when it has no parent yet and is not the root.
// CHECK-LABEL: func.func @tree_parents
// CHECK: scf.parallel (%[[B:.*]]) =
// CHECK: memref.store %c-1_i32
// CHECK: scf.for %[[I:.*]] =
// CHECK: memref.load %{{.*}}[%[[B]], %[[I]]] : memref<2x6xi64>
// CHECK: scf.for {{.*}} iter_args
// CHECK: arith.cmpi ne, %{{.*}}, %c0
// CHECK: scf.if
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[B]], %{{.*}}] : memref<2x6xi32>
func.func @tree_parents(%f: tensor<2x6xi64>, %n: tensor<2x6xi64>) -> tensor<2x6xi32> {
  %p = tok.tree_parents %f, %n : (tensor<2x6xi64>, tensor<2x6xi64>) -> tensor<2x6xi32>
  return %p : tensor<2x6xi32>
}
