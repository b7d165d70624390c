// RUN: winnow-opt %s | winnow-opt | FileCheck %s
// RUN: winnow-opt %s --mlir-print-op-generic | winnow-opt | FileCheck %s

// Round trip of the ragged layout ops: i32 and i64 offsets, rank-1 and
// rank-3 flat tensors.

// CHECK-LABEL: func.func @unpack
// CHECK: %[[P:.*]], %[[N:.*]] = tok.unpack_ragged %{{.*}}, %{{.*}} : (tensor<40xi32>, tensor<9xi64>) -> (tensor<8x5xi32>, tensor<8xi32>)
// CHECK: tok.unpack_ragged %{{.*}}, %{{.*}} : (tensor<100x2x16xbf16>, tensor<5xi32>) -> (tensor<4x32x2x16xbf16>, tensor<4xi32>)
func.func @unpack(%d: tensor<40xi32>, %cu: tensor<9xi64>, %h: tensor<100x2x16xbf16>, %cu2: tensor<5xi32>)
    -> (tensor<8x5xi32>, tensor<4x32x2x16xbf16>) {
  %p, %n = tok.unpack_ragged %d, %cu : (tensor<40xi32>, tensor<9xi64>) -> (tensor<8x5xi32>, tensor<8xi32>)
  %q, %m = tok.unpack_ragged %h, %cu2 : (tensor<100x2x16xbf16>, tensor<5xi32>) -> (tensor<4x32x2x16xbf16>, tensor<4xi32>)
  return %p, %q : tensor<8x5xi32>, tensor<4x32x2x16xbf16>
}

// CHECK-LABEL: func.func @pack
// CHECK: tok.pack_ragged %{{.*}}, %{{.*}} : (tensor<8x5xi32>, tensor<8xi32>) -> (tensor<40xi32>, tensor<9xi32>)
func.func @pack(%t: tensor<8x5xi32>, %n: tensor<8xi32>) -> (tensor<40xi32>, tensor<9xi32>) {
  %f, %cu = tok.pack_ragged %t, %n : (tensor<8x5xi32>, tensor<8xi32>) -> (tensor<40xi32>, tensor<9xi32>)
  return %f, %cu : tensor<40xi32>, tensor<9xi32>
}

// CHECK-LABEL: func.func @tree_parents
// CHECK: tok.tree_parents %{{.*}}, %{{.*}} : (tensor<4x64xi64>, tensor<4x64xi64>) -> tensor<4x64xi32>
func.func @tree_parents(%f: tensor<4x64xi64>, %n: tensor<4x64xi64>) -> tensor<4x64xi32> {
  %p = tok.tree_parents %f, %n : (tensor<4x64xi64>, tensor<4x64xi64>) -> tensor<4x64xi32>
  return %p : tensor<4x64xi32>
}
