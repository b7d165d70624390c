// RUN: winnow-opt %s --split-input-file --tok-lower-to-loops --cse | FileCheck %s
// RUN: winnow-opt %s --split-input-file --tok-lower-to-loops --cse | FileCheck %s --check-prefix=NOSIM
// RUN: winnow-opt %s --split-input-file --pass-pipeline="builtin.module(tok-lower-to-loops{intra-row-parallel=true},cse)" | FileCheck %s --check-prefix=PAR

// intra-row-parallel (the cuda target): bipartite_plan's heavy phases run
// over every row, with scratch in [B, ...] buffers: inverse norms per token
// (eight threads per token, one lane of the ordered sum of squares each, the
// lanes meeting in shared memory), the best match of each A token, the rank
// per A token and the per-row assignment (a block per row: the ranks, a
// barrier, every token's slot and the count). The best match: a block of 256
// threads per A token when the batch's A tokens are too few to fill the GPU
// with warps (here), else a warp (@plan_many_a_tokens); lane l walks B
// tokens l, l + lanes, ... keeping the first strictly greater similarity, and
// a block or warp argmax with ties to the lower index combines the lanes.
// PAR-LABEL: func.func @plan
// PAR: %[[INV:.*]] = memref.alloc() : memref<2x9xf32>
// PAR: gpu.launch blocks({{.*}}) in (%{{.*}} = %c3, {{.*}}) threads({{.*}}) in (%{{.*}} = %c64,
// PAR: memref.alloca() : memref<64x1xf32, #gpu.address_space<workgroup>>
// PAR: collective.block_barrier
// PAR: math.sqrt
// PAR: memref.store %{{.*}}, %[[INV]]
// PAR: gpu.launch blocks({{.*}}) in (%{{.*}} = %c10, %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c256,
// PAR: scf.for %{{.*}} = %{{.*}} to %c4 step %c256 iter_args(
// PAR: arith.cmpf ogt
// PAR: collective.block_argmax
// PAR: gpu.launch blocks({{.*}}) in (%{{.*}} = %c2, %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c1024,
// PAR: arith.cmpi ugt
// PAR: collective.block_barrier
// PAR: gpu.terminator
// PAR-LABEL: func.func @plan_many_a_tokens
// PAR: gpu.launch blocks({{.*}}) in (%{{.*}} = %c576, %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c256,
// PAR: scf.for %{{.*}} = %{{.*}} to %c65{{(_[0-9]+)?}} step %c32 iter_args(
// PAR: collective.warp_argmax

// The merging family lowered to loops (MergeOps.td).
//
// tok.bipartite_plan never stores the similarity matrix: besides its two
// results it allocates only O(N) scratch (rank 1), and every A token keeps a
// running (max, argmax) over the B tokens in loop-carried values. No scratch
// buffer of rank 2 or more is allocated by any plan below (the Na x Nb matrix
// of N = 9 would be 5x4; of N = 197, 99x98).
// NOSIM-NOT: memref<{{([0-9]+x)?}}5x4xf32>
// NOSIM-NOT: memref<{{([0-9]+x)?}}99x98xf32>
// NOSIM-NOT: memref.alloca() : memref<{{[0-9]+}}x{{[0-9]+}}xi32>
// NOSIM-NOT: tok.

// CHECK-LABEL: func.func @plan
// CHECK-SAME: (%[[M:.*]]: tensor<2x9x4xbf16>)
// CHECK-DAG: %[[MB:.*]] = bufferization.to_buffer %[[M]] read_only : tensor<2x9x4xbf16> to memref<2x9x4xbf16>
// CHECK-DAG: %[[P:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x9xi32>
// CHECK-DAG: %[[N:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// CHECK-DAG: memref.alloca() : memref<9xf32>
// CHECK-DAG: memref.alloca() : memref<5xi32>
// CHECK-NOT: memref.alloca() : memref<{{[0-9]+}}x{{[0-9]}}
// CHECK: scf.parallel (%[[B:.*]]) =
// One fp32 norm per token, floored at 1e-12.
// CHECK: memref.load %[[MB]][%[[B]], %{{.*}}, %{{.*}}] : memref<2x9x4xbf16>
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: math.sqrt %{{.*}} : f32
// CHECK: arith.constant 9.99999996E-13 : f32
// CHECK: arith.maximumf
// The running (max, argmax) of an A token over the B tokens, from -inf;
// NaN never wins (ordered >).
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (f32, index)
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>)
// CHECK: arith.mulf {{.*}} : f32
// CHECK: arith.cmpf ogt, %{{.*}}, %{{.*}} : f32
// CHECK: arith.select
// CHECK: memref.store %{{.*}}, %[[P]][%[[B]], %{{.*}}] : memref<2x9xi32>
// CHECK: memref.store %{{.*}}, %[[N]][%[[B]]] : memref<2xi32>
// CHECK-DAG: bufferization.to_tensor %[[P]] restrict writable : memref<2x9xi32> to tensor<2x9xi32>
// CHECK-DAG: bufferization.to_tensor %[[N]] restrict writable : memref<2xi32> to tensor<2xi32>
// CHECK-NOT: tok.
func.func @plan(%m: tensor<2x9x4xbf16>) -> (tensor<2x9xi32>, tensor<2xi32>) {
  %p, %n = tok.bipartite_plan %m {r = 3, class_token} : (tensor<2x9x4xbf16>) -> (tensor<2x9xi32>, tensor<2xi32>)
  return %p, %n : tensor<2x9xi32>, tensor<2xi32>
}

func.func @plan_many_a_tokens(%m: tensor<64x130x8xbf16>) -> (tensor<64x130xi32>, tensor<64xi32>) {
  %p, %n = tok.bipartite_plan %m {r = 8} : (tensor<64x130x8xbf16>) -> (tensor<64x130xi32>, tensor<64xi32>)
  return %p, %n : tensor<64x130xi32>, tensor<64xi32>
}

// -----

// ViT-B shapes: still only rank-1 scratch (Na = 99, Nb = 98 never meet in
// one buffer).
// CHECK-LABEL: func.func @plan_vit
// CHECK-DAG: memref.alloc() {alignment = 64 : i64} : memref<4x197xi32>
// CHECK-DAG: memref.alloca() : memref<197xf32>
// CHECK-DAG: memref.alloca() : memref<99xi32>
// CHECK-NOT: memref.alloca() : memref<{{[0-9]+}}x{{[0-9]}}
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (f32, index)
// CHECK-NOT: tok.
func.func @plan_vit(%m: tensor<4x197x64xf16>) -> (tensor<4x197xi32>, tensor<4xi32>) {
  %p, %n = tok.bipartite_plan %m {r = 16, class_token} : (tensor<4x197x64xf16>) -> (tensor<4x197xi32>, tensor<4xi32>)
  return %p, %n : tensor<4x197xi32>, tensor<4xi32>
}

// -----

// r' = 0 (r = 0, r < 0, or r clamped to (N - protected) / 2 = 0) is the
// identity: parent[i] = i and count = N, with no similarity loop, no norm,
// no scratch, and the metric never read.
// CHECK-LABEL: func.func @plan_identity
// CHECK-NOT: math.sqrt
// CHECK-NOT: memref.alloca
// CHECK-NOT: arith.cmpf
// CHECK-NOT: bufferization.to_buffer
// CHECK: %[[P:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x9xi32>
// CHECK: scf.parallel (%[[B:.*]]) =
// CHECK: scf.for %[[I:.*]] =
// CHECK: %[[V:.*]] = arith.index_cast %[[I]] : index to i32
// CHECK: memref.store %[[V]], %[[P]][%[[B]], %[[I]]] : memref<2x9xi32>
// CHECK: arith.constant 9 : i32
// CHECK-NOT: math.sqrt
// CHECK-NOT: memref.alloca
// CHECK-NOT: arith.cmpf
// CHECK-NOT: -> (f32, index)
// CHECK: return
// CHECK-NOT: tok.
func.func @plan_identity(%m: tensor<2x9x4xf32>) -> (tensor<2x9xi32>, tensor<2xi32>) {
  %p, %n = tok.bipartite_plan %m {r = 0} : (tensor<2x9x4xf32>) -> (tensor<2x9xi32>, tensor<2xi32>)
  return %p, %n : tensor<2x9xi32>, tensor<2xi32>
}

// -----

// CHECK-LABEL: func.func @plan_identity_negative_r
// CHECK-NOT: math.sqrt
// CHECK-NOT: memref.alloca
// CHECK-NOT: -> (f32, index)
// CHECK: return
func.func @plan_identity_negative_r(%m: tensor<2x9x4xf32>) -> (tensor<2x9xi32>, tensor<2xi32>) {
  %p, %n = tok.bipartite_plan %m {r = -4, distill_token} : (tensor<2x9x4xf32>) -> (tensor<2x9xi32>, tensor<2xi32>)
  return %p, %n : tensor<2x9xi32>, tensor<2xi32>
}

// -----

// N = 2 with class_token: r' = min(5, (2 - 1) / 2) = 0.
// CHECK-LABEL: func.func @plan_identity_clamped
// CHECK-NOT: math.sqrt
// CHECK-NOT: memref.alloca
// CHECK-NOT: -> (f32, index)
// CHECK: arith.constant 2 : i32
// CHECK: return
func.func @plan_identity_clamped(%m: tensor<3x2x8xbf16>) -> (tensor<3x2xi32>, tensor<3xi32>) {
  %p, %n = tok.bipartite_plan %m {r = 5, class_token} : (tensor<3x2x8xbf16>) -> (tensor<3x2xi32>, tensor<3xi32>)
  return %p, %n : tensor<3x2xi32>, tensor<3xi32>
}

// -----

// A threshold (data-dependent count): the same O(N) scratch; f16 metric read
// through fp32; with distill_token the argmax starts at B[1].
// CHECK-LABEL: func.func @plan_threshold
// CHECK-DAG: %[[P:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x9xi32>
// CHECK-DAG: %[[N:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// CHECK-DAG: memref.alloca() : memref<9xf32>
// CHECK-NOT: memref.alloca() : memref<{{[0-9]+}}x{{[0-9]}}
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: math.sqrt
// CHECK: scf.for %{{.*}} = %c1 to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %c1) -> (f32, index)
// CHECK: arith.cmpf ogt
// CHECK: memref.store %{{.*}}, %[[P]]
// CHECK: memref.store %{{.*}}, %[[N]]
// CHECK-NOT: tok.
func.func @plan_threshold(%m: tensor<2x9x4xf16>) -> (tensor<2x9xi32>, tensor<2xi32>) {
  %p, %n = tok.bipartite_plan %m {threshold = 0.5 : f64, distill_token} : (tensor<2x9x4xf16>) -> (tensor<2x9xi32>, tensor<2xi32>)
  return %p, %n : tensor<2x9xi32>, tensor<2xi32>
}

// -----

// scatter_merge weighted_mean (bf16, sizes): per batch row the count is
// clamped to [0, C]; members with 0 <= parent < n_b add w * x into an fp32
// [C, D] scratch and w into an fp32 [C] scratch in ascending token order;
// each output row is divided by its weight sum, rounded once to bf16, and
// written (single-member rows copy the input row); merged sizes are written.
// The GPU form inverts the parent map once per row, one block per row in
// shared memory: a stable LSD radix sort of the tokens by output row (key
// C = 6 for a token that is no member: three passes, one bit each, every
// pass a block scan of the zero bits placing zeros then ones in token
// order, ping-ponging between two key/token buffers), the sorted tokens
// stored as the members, and first[j] by a binary search of the sorted
// keys. Then each (row, output row, element) walks only its own members,
// accumulating in the same order.
// PAR-LABEL: func.func @merge_weighted
// PAR-DAG: %[[FIRST:.*]] = memref.alloc() : memref<2x7xi32>
// PAR-DAG: %[[MEMBER:.*]] = memref.alloc() : memref<2x9xi32>
// PAR: gpu.launch blocks({{.*}}) in (%{{.*}} = %c2, %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c256,
// PAR: %[[KEYS:.*]] = memref.alloca() : memref<9xi32, #gpu.address_space<workgroup>>
// PAR: %[[TOKENS:.*]] = memref.alloca() : memref<9xi32, #gpu.address_space<workgroup>>
// PAR: %[[KEYS2:.*]] = memref.alloca() : memref<9xi32, #gpu.address_space<workgroup>>
// PAR: %[[TOKENS2:.*]] = memref.alloca() : memref<9xi32, #gpu.address_space<workgroup>>
// PAR: memref.store %{{.*}}, %[[KEYS]]
// PAR: memref.store %{{.*}}, %[[TOKENS]]
// PAR: collective.block_barrier
// PAR: collective.block_exclusive_scan
// PAR: memref.store %{{.*}}, %[[KEYS2]]
// PAR: memref.store %{{.*}}, %[[TOKENS2]]
// PAR: collective.block_barrier
// PAR: collective.block_exclusive_scan
// PAR: memref.store %{{.*}}, %[[KEYS]]
// PAR: collective.block_barrier
// PAR: collective.block_exclusive_scan
// PAR: memref.store %{{.*}}, %[[KEYS2]]
// PAR: collective.block_barrier
// PAR-NOT: collective.block_exclusive_scan
// PAR: %[[SORTED:.*]] = memref.load %[[TOKENS2]]
// PAR: memref.store %[[SORTED]], %[[MEMBER]]
// PAR: memref.load %[[KEYS2]]
// PAR: memref.store %{{.*}}, %[[FIRST]]
// PAR: gpu.terminator
// PAR: scf.parallel (%[[R:.*]], %[[J:.*]]) =
// PAR: %[[BEGIN:.*]] = memref.load %[[FIRST]][%[[R]], %[[J]]]
// PAR: %[[NEXT:.*]] = arith.addi %[[J]], %c1
// PAR: memref.load %[[FIRST]][%[[R]], %[[NEXT]]]
// PAR: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %c1 iter_args(
// PAR: memref.load %[[MEMBER]][%[[R]], %[[K]]]
// CHECK-LABEL: func.func @merge_weighted
// CHECK-SAME: (%[[PA:.*]]: tensor<2x9xi32>, %[[CNT:.*]]: tensor<2xi32>, %[[X:.*]]: tensor<2x9x3xbf16>, %[[S:.*]]: tensor<2x9xf32>)
// CHECK-DAG: %[[PB:.*]] = bufferization.to_buffer %[[PA]] read_only : tensor<2x9xi32> to memref<2x9xi32>
// CHECK-DAG: %[[CB:.*]] = bufferization.to_buffer %[[CNT]] read_only : tensor<2xi32> to memref<2xi32>
// CHECK-DAG: %[[SB:.*]] = bufferization.to_buffer %[[S]] read_only : tensor<2x9xf32> to memref<2x9xf32>
// CHECK-DAG: %[[MS:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x6xf32>
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x6x3xbf16>
// CHECK-DAG: %[[ACC:.*]] = memref.alloc() : memref<6x3xf32>
// CHECK-DAG: %[[WS:.*]] = memref.alloca() : memref<6xf32>
// CHECK: scf.parallel (%[[B:.*]]) =
// CHECK: memref.load %[[CB]][%[[B]]] : memref<2xi32>
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: scf.for %[[I:.*]] =
// CHECK: memref.load %[[PB]][%[[B]], %[[I]]] : memref<2x9xi32>
// CHECK: arith.cmpi sge
// CHECK: arith.cmpi slt
// CHECK: scf.if
// CHECK: memref.load %[[SB]][%[[B]], %[[I]]] : memref<2x9xf32>
// CHECK: arith.addf
// CHECK: memref.store %{{.*}}, %[[WS]]
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: memref.store %{{.*}}, %[[ACC]]{{.*}} : memref<6x3xf32>
// CHECK: memref.store %{{.*}}, %[[MS]][%[[B]], %{{.*}}] : memref<2x6xf32>
// CHECK: memref.load %[[ACC]]
// CHECK: arith.divf
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[B]], %{{.*}}, %{{.*}}] : memref<2x6x3xbf16>
// CHECK-DAG: bufferization.to_tensor %[[OUT]] restrict writable
// CHECK-DAG: bufferization.to_tensor %[[MS]] restrict writable
// CHECK-NOT: tok.
func.func @merge_weighted(%p: tensor<2x9xi32>, %n: tensor<2xi32>, %x: tensor<2x9x3xbf16>, %s: tensor<2x9xf32>)
    -> (tensor<2x6x3xbf16>, tensor<2x6xf32>) {
  %x2, %s2 = tok.scatter_merge %p, %n gather(%x) sizes %s
      : (tensor<2x9xi32>, tensor<2xi32>, tensor<2x9x3xbf16>, tensor<2x9xf32>) -> (tensor<2x6x3xbf16>, tensor<2x6xf32>)
  return %x2, %s2 : tensor<2x6x3xbf16>, tensor<2x6xf32>
}

// -----

// amax of a rank-2 f16 source: an fp32 scratch combined with the
// NaN-propagating maximumf, rounded to f16 and written.
// CHECK-LABEL: func.func @merge_amax
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x6xf16>
// CHECK-DAG: %[[MS:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x6xf32>
// CHECK: scf.if
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: arith.maximumf %{{.*}}, %{{.*}} : f32
// CHECK: memref.store %{{.*}}, %[[MS]]
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: memref.store
// CHECK: bufferization.to_tensor %[[OUT]]
// CHECK-NOT: tok.
func.func @merge_amax(%p: tensor<2x9xi32>, %n: tensor<2xi32>, %x: tensor<2x9xf16>) -> (tensor<2x6xf16>, tensor<2x6xf32>) {
  %x2, %s2 = tok.scatter_merge %p, %n gather(%x) {reduction = #tok.merge_reduction<amax>}
      : (tensor<2x9xi32>, tensor<2xi32>, tensor<2x9xf16>) -> (tensor<2x6xf16>, tensor<2x6xf32>)
  return %x2, %s2 : tensor<2x6xf16>, tensor<2x6xf32>
}

// -----

// A bundle of two sources (rank 3 f32 and rank 4 bf16) and sum: one fp32
// scratch per source, both outputs written, no tok op left.
// CHECK-LABEL: func.func @merge_bundle
// CHECK-DAG: memref.alloc() {alignment = 64 : i64} : memref<1x4x2xf32>
// CHECK-DAG: memref.alloc() {alignment = 64 : i64} : memref<1x4x2x3xbf16>
// CHECK-DAG: memref.alloc() {alignment = 64 : i64} : memref<1x4xf32>
// CHECK: arith.addf
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK-NOT: tok.
func.func @merge_bundle(%p: tensor<1x5xi32>, %n: tensor<1xi32>, %x: tensor<1x5x2xf32>, %h: tensor<1x5x2x3xbf16>)
    -> (tensor<1x4x2xf32>, tensor<1x4x2x3xbf16>, tensor<1x4xf32>) {
  %x2, %h2, %s2 = tok.scatter_merge %p, %n gather(%x, %h) {reduction = #tok.merge_reduction<sum>}
      : (tensor<1x5xi32>, tensor<1xi32>, tensor<1x5x2xf32>, tensor<1x5x2x3xbf16>)
      -> (tensor<1x4x2xf32>, tensor<1x4x2x3xbf16>, tensor<1x4xf32>)
  return %x2, %h2, %s2 : tensor<1x4x2xf32>, tensor<1x4x2x3xbf16>, tensor<1x4xf32>
}

// -----

// tok.weighted_gather: one parallel iteration per output element; its
// entries summed in fp32 in ascending k, an out-of-range index skipped
// without loading its weight; one rounding at the store.
// CHECK-LABEL: func.func @weighted_gather
// CHECK: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x3x5xbf16>
// CHECK: scf.parallel (%[[B:.*]], %[[J:.*]], %[[D:.*]]) = ({{.*}}) to (%c2, %c3, %c5)
// CHECK: %[[SUM:.*]] = scf.for %[[K:.*]] = %{{.*}} to %c4 {{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32)
// CHECK: %[[VALID:.*]] = arith.andi
// CHECK: scf.if %[[VALID]] -> (f32)
// CHECK: %[[W:.*]] = memref.load %{{.*}}[%[[B]], %[[J]], %[[K]]] : memref<2x3x4xf32>
// CHECK: %[[X:.*]] = arith.extf %{{.*}} : bf16 to f32
// CHECK: %[[P:.*]] = arith.mulf %[[W]], %[[X]] : f32
// CHECK: arith.addf %[[ACC]], %[[P]] : f32
// CHECK: } else {
// CHECK-NEXT: scf.yield %[[ACC]] : f32
// CHECK: %[[R:.*]] = arith.truncf %[[SUM]] : f32 to bf16
// CHECK: memref.store %[[R]], %[[OUT]][%[[B]], %[[J]], %[[D]]]
// CHECK-NOT: tok.
func.func @weighted_gather(%i: tensor<2x3x4xi32>, %w: tensor<2x3x4xf32>, %x: tensor<2x7x5xbf16>) -> tensor<2x3x5xbf16> {
  %y = tok.weighted_gather %i, %w gather(%x) : (tensor<2x3x4xi32>, tensor<2x3x4xf32>, tensor<2x7x5xbf16>) -> tensor<2x3x5xbf16>
  return %y : tensor<2x3x5xbf16>
}
