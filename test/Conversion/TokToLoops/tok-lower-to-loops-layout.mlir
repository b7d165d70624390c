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
