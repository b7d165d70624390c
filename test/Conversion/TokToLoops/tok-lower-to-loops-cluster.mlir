// RUN: winnow-opt %s --split-input-file --tok-lower-to-loops --cse | FileCheck %s
// RUN: winnow-opt %s --split-input-file --tok-lower-to-loops --cse | FileCheck %s --check-prefix=NONXN

// The clustering family lowered to loops (ClusterOps.td).
//
// Neither plan op stores a distance or similarity matrix: besides their two
// results (allocated [B, N] and [B]) they use only rank-1 scratch of N
// (densities, union-find roots, norms, ...), of k (the running k nearest
// distances) and of `clusters` (the centers). No scratch buffer of rank 2 or
// more is allocated: the N x N matrices of N = 196 (196x196) or of the
// batch (2x196x196) never appear, nor any rank-2 alloca.
// NONXN-NOT: 196x196
// NONXN-NOT: memref.alloca() : memref<{{[0-9]+x[0-9]+}}
// NONXN-NOT: tok.

// tok.row_cosine: one pass over each row pair with three fp32 running sums
// (<a, b>, |a|^2, |b|^2), each norm floored at 1e-12.
// CHECK-LABEL: func.func @cosine
// CHECK-SAME: (%[[A:.*]]: tensor<2x7x33xbf16>, %[[B:.*]]: tensor<2x7x33xbf16>)
// CHECK-DAG: bufferization.to_buffer %[[A]] read_only : tensor<2x7x33xbf16> to memref<2x7x33xbf16>
// CHECK-DAG: bufferization.to_buffer %[[B]] read_only : tensor<2x7x33xbf16> to memref<2x7x33xbf16>
// CHECK-DAG: %[[S:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x7xf32>
// CHECK-NOT: memref.alloca
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: math.sqrt %{{.*}} : f32
// CHECK: arith.maximumf
// CHECK: math.sqrt %{{.*}} : f32
// CHECK: bufferization.to_tensor %[[S]] restrict writable : memref<2x7xf32> to tensor<2x7xf32>
// CHECK-NOT: tok.
func.func @cosine(%a: tensor<2x7x33xbf16>, %b: tensor<2x7x33xbf16>) -> tensor<2x7xf32> {
  %s = tok.row_cosine %a, %b : (tensor<2x7x33xbf16>, tensor<2x7x33xbf16>) -> tensor<2x7xf32>
  return %s : tensor<2x7xf32>
}

// -----

// Rank 4 (video frames [B, F, T, C]): the same loop over the flattened rows.
// CHECK-LABEL: func.func @cosine_rank4
// CHECK-DAG: memref.alloc() {alignment = 64 : i64} : memref<1x8x196xf32>
// CHECK-NOT: memref.alloca
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK-NOT: tok.
func.func @cosine_rank4(%a: tensor<1x8x196x64xf16>, %b: tensor<1x8x196x64xf16>) -> tensor<1x8x196xf32> {
  %s = tok.row_cosine %a, %b : (tensor<1x8x196x64xf16>, tensor<1x8x196x64xf16>) -> tensor<1x8x196xf32>
  return %s : tensor<1x8x196xf32>
}

// -----

// tok.density_peaks: O(N) scratch (densities, ...), O(k) (the k nearest
// distances of one token) and O(clusters) (the centers); distances are
// recomputed with an fp32 loop over C and math.sqrt, densities with math.exp.
// CHECK-LABEL: func.func @dpc
// CHECK-SAME: (%[[X:.*]]: tensor<2x196x64xbf16>, %[[L:.*]]: tensor<2xi32>)
// CHECK-DAG: bufferization.to_buffer %[[X]] read_only : tensor<2x196x64xbf16> to memref<2x196x64xbf16>
// CHECK-DAG: bufferization.to_buffer %[[L]] read_only : tensor<2xi32> to memref<2xi32>
// CHECK-DAG: %[[P:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x196xi32>
// CHECK-DAG: %[[N:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// CHECK-DAG: memref.alloca() : memref<196xf32>
// CHECK-DAG: memref.alloca() : memref<24xi32>
// CHECK-DAG: memref.alloca() : memref<5xf32>
// CHECK-NOT: memref.alloca() : memref<{{[0-9]+x[0-9]+}}
// CHECK: scf.for
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (f32)
// CHECK: math.exp %{{.*}} : f32
// CHECK: math.sqrt %{{.*}} : f32
// CHECK: memref.store %{{.*}}, %[[P]][%{{.*}}, %{{.*}}] : memref<2x196xi32>
// CHECK: memref.store %{{.*}}, %[[N]][%{{.*}}] : memref<2xi32>
// CHECK-DAG: bufferization.to_tensor %[[P]] restrict writable : memref<2x196xi32> to tensor<2x196xi32>
// CHECK-DAG: bufferization.to_tensor %[[N]] restrict writable : memref<2xi32> to tensor<2xi32>
// CHECK-NOT: tok.
func.func @dpc(%x: tensor<2x196x64xbf16>, %l: tensor<2xi32>) -> (tensor<2x196xi32>, tensor<2xi32>) {
  %p, %n = tok.density_peaks %x lengths %l {k = 5, clusters = 24}
      : (tensor<2x196x64xbf16>, tensor<2xi32>) -> (tensor<2x196xi32>, tensor<2xi32>)
  return %p, %n : tensor<2x196xi32>, tensor<2xi32>
}

// -----

// tok.similarity_components: union-find over O(N) roots; finding a root is an
// scf.while (pointer chasing), the similarity is recomputed per pair and
// compared with the threshold (ordered >, so NaN never connects).
// CHECK-LABEL: func.func @comp
// CHECK-SAME: (%[[X:.*]]: tensor<3x196x64xf16>)
// CHECK-DAG: %[[P:.*]] = memref.alloc() {alignment = 64 : i64} : memref<3x196xi32>
// CHECK-DAG: %[[N:.*]] = memref.alloc() {alignment = 64 : i64} : memref<3xi32>
// CHECK-DAG: %[[ROOT:.*]] = memref.alloca() : memref<196xi32>
// CHECK-DAG: memref.alloca() : memref<196xf32>
// CHECK-NOT: memref.alloca() : memref<{{[0-9]+x[0-9]+}}
// CHECK: math.sqrt %{{.*}} : f32
// CHECK: arith.cmpf ogt
// CHECK: scf.while
// CHECK: memref.load %{{.*}} : memref<196xi32>
// CHECK: memref.store %{{.*}}, %[[P]][%{{.*}}, %{{.*}}] : memref<3x196xi32>
// CHECK: memref.store %{{.*}}, %[[N]][%{{.*}}] : memref<3xi32>
// CHECK-NOT: tok.
func.func @comp(%x: tensor<3x196x64xf16>) -> (tensor<3x196xi32>, tensor<3xi32>) {
  %p, %n = tok.similarity_components %x {threshold = 0.95 : f64}
      : (tensor<3x196x64xf16>) -> (tensor<3x196xi32>, tensor<3xi32>)
  return %p, %n : tensor<3x196xi32>, tensor<3xi32>
}

// -----

// With lengths, and a plan feeding tok.scatter_merge: everything lowers.
// CHECK-LABEL: func.func @comp_merge
// CHECK: scf.while
// CHECK-NOT: tok.
func.func @comp_merge(%x: tensor<2x196x32xf32>, %l: tensor<2xi32>) -> tensor<2x196x32xf32> {
  %p, %n = tok.similarity_components %x lengths %l {threshold = -1.0 : f64}
      : (tensor<2x196x32xf32>, tensor<2xi32>) -> (tensor<2x196xi32>, tensor<2xi32>)
  %m, %s = tok.scatter_merge %p, %n gather(%x) {reduction = #tok.merge_reduction<mean>}
      : (tensor<2x196xi32>, tensor<2xi32>, tensor<2x196x32xf32>) -> (tensor<2x196x32xf32>, tensor<2x196xf32>)
  return %m : tensor<2x196x32xf32>
}
