// RUN: winnow-opt %s --split-input-file --tok-lower-to-loops --cse | FileCheck %s
// RUN: winnow-opt %s --split-input-file --pass-pipeline="builtin.module(tok-lower-to-loops{intra-row-parallel=true},cse)" | FileCheck %s --check-prefix=PSEL

// intra-row-parallel (the cuda target), outside a tok.dispatch: one block of
// 256 threads per row (BlockTopK.h). The keys of the row go to shared memory
// (0 for tokens that are not candidates), a block reduction counts the
// candidates, a block radix select finds the k-th key, and a tile of 8
// tokens per thread (their keys read back as two 16-byte vectors) is
// ranked (ties) and placed by two block scans; the
// padding follows. A threshold needs no ranking: one scan places the kept.
// PSEL-LABEL: func.func @select_top_k
// PSEL: gpu.launch blocks({{.*}}) in (%{{.*}} = %c2, %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c256,
// PSEL: %[[KEYS:.*]] = memref.alloca() : memref<8xi32, #gpu.address_space<workgroup>>
// PSEL-COUNT-8: memref.store %{{.*}}, %[[KEYS]]
// PSEL: %[[N:.*]] = collective.block_reduce add %{{.*}} : i32
// PSEL: %[[T:.*]], %{{.*}} = collective.block_radix_select %{{.*}} of %[[KEYS]]
// PSEL: vector.load %[[KEYS]][%{{.*}}] {alignment = 16 : i64} : memref<8xi32, #gpu.address_space<workgroup>>, vector<4xi32>
// PSEL: arith.cmpi ugt, %{{.*}}, %[[T]] : i32
// PSEL: collective.block_exclusive_scan
// PSEL: collective.block_exclusive_scan
// PSEL: arith.constant -1 : i32
// PSEL-LABEL: func.func @select_threshold
// PSEL-NOT: collective.block_radix_select
// PSEL: arith.cmpi uge
// PSEL: collective.block_exclusive_scan
// PSEL-NOT: collective.block_exclusive_scan
// PSEL: return

// The select becomes: one pass counting candidates, four radix passes over a
// 256-bin histogram on the stack, one ascending emission pass, a padding loop.
// CHECK-LABEL: func.func @select_top_k
// CHECK-SAME: (%[[S:.*]]: tensor<2x8xf32>, %[[L:.*]]: tensor<2xi32>)
// CHECK-DAG: %[[SB:.*]] = bufferization.to_buffer %[[S]] read_only : tensor<2x8xf32> to memref<2x8xf32>
// CHECK-DAG: %[[LB:.*]] = bufferization.to_buffer %[[L]] read_only : tensor<2xi32> to memref<2xi32>
// CHECK-DAG: %[[IDX:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x3xi32>
// CHECK-DAG: %[[CNT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// CHECK-DAG: %[[HIST:.*]] = memref.alloca() : memref<256xi32>
// CHECK: scf.parallel (%[[B:.*]]) =
// CHECK: memref.load %[[LB]][%[[B]]]
// CHECK: scf.if
// CHECK-COUNT-4: memref.store %{{.*}}, %[[HIST]]
// CHECK: memref.store %{{.*}}, %[[IDX]][%[[B]], %{{.*}}] : memref<2x3xi32>
// CHECK: memref.store %{{.*}}, %[[CNT]][%[[B]]] : memref<2xi32>
// CHECK-DAG: %[[IT:.*]] = bufferization.to_tensor %[[IDX]] restrict writable : memref<2x3xi32> to tensor<2x3xi32>
// CHECK-DAG: %[[CT:.*]] = bufferization.to_tensor %[[CNT]] restrict writable : memref<2xi32> to tensor<2xi32>
// CHECK: return %[[IT]], %[[CT]]
// CHECK-NOT: tok.
func.func @select_top_k(%s: tensor<2x8xf32>, %len: tensor<2xi32>) -> (tensor<2x3xi32>, tensor<2xi32>) {
  %i, %n = tok.select #tok.top_k<3> of %s lengths %len : (tensor<2x8xf32>, tensor<2xi32>) -> (tensor<2x3xi32>, tensor<2xi32>)
  return %i, %n : tensor<2x3xi32>, tensor<2xi32>
}

// -----

// A threshold needs no histogram: one comparison against a constant key.
// CHECK-LABEL: func.func @select_threshold
// CHECK-NOT: memref.alloca
// CHECK: arith.cmpi uge
// CHECK-NOT: tok.
func.func @select_threshold(%s: tensor<1x8xf32>) -> (tensor<1x8xi32>, tensor<1xi32>) {
  %i, %n = tok.select #tok.threshold<0.5, ge> of %s : (tensor<1x8xf32>) -> (tensor<1x8xi32>, tensor<1xi32>)
  return %i, %n : tensor<1x8xi32>, tensor<1xi32>
}

// -----

// keep_ratio rounds in f64 with the attribute's mode.
// CHECK-LABEL: func.func @select_keep_ratio
// CHECK: arith.sitofp %{{.*}} : i32 to f64
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f64
// CHECK: math.roundeven %{{.*}} : f64
// CHECK: arith.fptosi
func.func @select_keep_ratio(%s: tensor<1x8xf32>) -> (tensor<1x4xi32>, tensor<1xi32>) {
  %i, %n = tok.select #tok.keep_ratio<0.5, half_even> of %s : (tensor<1x8xf32>) -> (tensor<1x4xi32>, tensor<1xi32>)
  return %i, %n : tensor<1x4xi32>, tensor<1xi32>
}

// -----

// A per-request keep count: row b's own k, clamped to [0, 6] (the
// attribute's, which sized the capacity), then to the candidates.
// CHECK-LABEL: func.func @select_row_budget_top_k
// CHECK-SAME: %[[K:[a-z0-9]+]]: tensor<2xi32>
// CHECK: %[[KB:.*]] = bufferization.to_buffer %[[K]]
// CHECK: scf.parallel (%[[ROW:.*]]) =
// CHECK: %[[OWN:.*]] = memref.load %[[KB]][%[[ROW]]] : memref<2xi32>
// CHECK: %[[LOW:.*]] = arith.maxsi %[[OWN]], %c0_i32
// CHECK: %[[HIGH:.*]] = arith.minsi %[[LOW]], %c6_i32
// CHECK: arith.minsi %[[HIGH]], %{{.*}} : i32
// The GPU form reads it in the row's block.
// PSEL-LABEL: func.func @select_row_budget_top_k
// PSEL: gpu.launch
// PSEL: memref.load %{{.*}}[%{{.*}}] : memref<2xi32>
// PSEL: arith.minsi %{{.*}}, %c6_i32
func.func @select_row_budget_top_k(%s: tensor<2x8xf32>, %k: tensor<2xi32>) -> (tensor<2x6xi32>, tensor<2xi32>) {
  %i, %n = tok.select #tok.top_k<6> of %s row_budget %k : (tensor<2x8xf32>, tensor<2xi32>) -> (tensor<2x6xi32>, tensor<2xi32>)
  return %i, %n : tensor<2x6xi32>, tensor<2xi32>
}

// -----

// A per-request keep ratio: min(r_b, 0.5) in f64, 0 for a negative or NaN
// r_b (ogt is false for NaN), then the attribute's rounding.
// CHECK-LABEL: func.func @select_row_budget_keep_ratio
// CHECK: %[[OWN:.*]] = memref.load %{{.*}} : memref<2xf32>
// CHECK: %[[WIDE:.*]] = arith.extf %[[OWN]] : f32 to f64
// CHECK: %[[POS:.*]] = arith.cmpf ogt, %[[WIDE]], %{{.*}} : f64
// CHECK: %[[MIN:.*]] = arith.minimumf %[[WIDE]], %{{.*}} : f64
// CHECK: %[[R:.*]] = arith.select %[[POS]], %[[MIN]], %{{.*}} : f64
// CHECK: arith.mulf %{{.*}}, %[[R]] : f64
// CHECK: math.floor
func.func @select_row_budget_keep_ratio(%s: tensor<2x8xf32>, %r: tensor<2xf32>) -> (tensor<2x4xi32>, tensor<2xi32>) {
  %i, %n = tok.select #tok.keep_ratio<0.5, floor> of %s row_budget %r : (tensor<2x8xf32>, tensor<2xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
  return %i, %n : tensor<2x4xi32>, tensor<2xi32>
}

// -----

// attn_score in two parallel phases: softmax statistics (max, sum of
// exponentials) per query row into a [B, H, Q, 2] buffer, then one iteration
// per key summing its probabilities; fp32 dot products and sums in eight
// interleaved partials (a fixed order, no fast-math flags); no probability
// row is stored.
// The GPU form: a block per query row keeps the row's logits in shared
// memory, reduces their maximum, turns them into exponentials in place and
// adds those in the same lane order (lane l on thread l, then the lanes on
// thread 0); then a block per tile of keys (8 here: few rows) writes the
// terms of its (query row, key) pairs to shared memory and each key's
// thread adds them in order. No [B, H, Q, N] buffer.
// PSEL-LABEL: func.func @attn_score
// PSEL-NOT: memref<2x4x1x16xf32>
// PSEL: %[[STATS:.*]] = memref.alloc() : memref<2x4x1x2xf32>
// PSEL: gpu.launch blocks({{.*}}) in (%{{.*}} = %c8, %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c256,
// PSEL: %[[LOGITS:.*]] = memref.alloca() : memref<16xf32, #gpu.address_space<workgroup>>
// PSEL: %[[LANES:.*]] = memref.alloca() : memref<8xf32, #gpu.address_space<workgroup>>
// PSEL: memref.store %{{.*}}, %[[LOGITS]]
// PSEL: collective.block_reduce max
// PSEL: math.exp
// PSEL: collective.block_barrier
// PSEL: memref.load %[[LOGITS]]
// PSEL: memref.store %{{.*}}, %[[LANES]]
// PSEL: collective.block_barrier
// PSEL: memref.load %[[LANES]]
// PSEL: memref.store %{{.*}}, %[[STATS]]
// PSEL: gpu.launch blocks({{.*}}) in (%{{.*}} = %c4, %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c256,
// PSEL: %[[TERMS:.*]] = memref.alloca() : memref<32xf32, #gpu.address_space<workgroup>>
// PSEL: memref.load %[[STATS]]
// PSEL: memref.store %{{.*}}, %[[TERMS]]
// PSEL: collective.block_barrier
// PSEL: memref.load %[[TERMS]]
// PSEL: collective.block_barrier
// PSEL-NOT: memref<2x4x1x16xf32>
// PSEL: return
// CHECK-LABEL: func.func @attn_score
// CHECK-NOT: fastmath
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x16xf32>
// CHECK-DAG: %[[STATS:.*]] = memref.alloc() : memref<2x4x1x2xf32>
// CHECK: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}) =
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>)
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: memref.store %{{.*}}, %[[STATS]]
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) =
// CHECK: scf.if %{{.*}} -> (f32)
// CHECK: memref.load %[[STATS]]
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: memref.store %{{.*}}, %[[OUT]]
// CHECK-NOT: memref.alloca
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
func.func @attn_score(%q: tensor<2x4x1x8xbf16>, %k: tensor<2x2x16x8xbf16>, %len: tensor<2xi32>) -> tensor<2x16xf32> {
  %s = tok.attn_score %q, %k lengths %len : (tensor<2x4x1x8xbf16>, tensor<2x2x16x8xbf16>, tensor<2xi32>) -> tensor<2x16xf32>
  return %s : tensor<2x16xf32>
}

// -----

// With the FlashAttention lse there is no max/sum pass: p = exp(s - lse).
// On the GPU with an lse, only the per-key kernel.
// PSEL-LABEL: func.func @attn_score_lse
// PSEL-COUNT-1: gpu.launch
// PSEL-NOT: gpu.launch
// PSEL-NOT: collective.block_reduce
// PSEL: return
// CHECK-LABEL: func.func @attn_score_lse
// CHECK-SAME: %[[LSE:[a-z0-9]+]]: tensor<1x2x1xf32>
// CHECK: %[[LSEB:.*]] = bufferization.to_buffer %[[LSE]] read_only
// CHECK: memref.load %[[LSEB]]
// CHECK: arith.subf
// CHECK-NEXT: math.exp
// CHECK-NOT: arith.divf
func.func @attn_score_lse(%q: tensor<1x2x1x4xf32>, %k: tensor<1x2x8x4xf32>, %lse: tensor<1x2x1xf32>) -> tensor<1x8xf32> {
  %s = tok.attn_score %q, %k lse %lse : (tensor<1x2x1x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x1xf32>) -> tensor<1x8xf32>
  return %s : tensor<1x8xf32>
}

// -----

// compact: the map is filled with -1 then written for kept rows; each source
// is gathered through a flat view by one parallel loop over output rows (an
// inner loop copies the elements), padding with -1 (ids) or 0. With
// intra-row-parallel (PSEL) the parallel loop covers every output element,
// the element axis innermost.
// PSEL-LABEL: func.func @compact
// PSEL: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) =
// PSEL: scf.if %{{.*}} -> (f16) {
// PSEL: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) =
// PSEL: scf.if %{{.*}} -> (i32) {
// CHECK-LABEL: func.func @compact
// CHECK: %[[MAP:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x8xi32>
// CHECK: memref.store %{{.*}}, %[[MAP]]
// CHECK: %[[H:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x3x4xf16>
// CHECK: memref.collapse_shape %[[H]] {{\[\[}}0, 1, 2]] : memref<2x3x4xf16> into memref<24xf16>
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f16
// CHECK: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}) =
// CHECK: scf.if
// CHECK: } else {
// CHECK: memref.store %[[ZERO]]
// CHECK: bufferization.to_tensor %[[H]] restrict writable
// CHECK: %[[P:.*]] = memref.alloc() {alignment = 64 : i64} : memref<3x2x3xi32>
// CHECK: memref.collapse_shape %[[P]] {{\[\[}}0, 1, 2]] : memref<3x2x3xi32> into memref<18xi32>
// CHECK: %[[NEG1:.*]] = arith.constant -1 : i32
// CHECK: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}) =
// CHECK: scf.if
// CHECK: } else {
// CHECK: memref.store %[[NEG1]]
// CHECK: bufferization.to_tensor %[[P]] restrict writable
// CHECK: bufferization.to_tensor %[[MAP]] restrict writable
func.func @compact(%i: tensor<2x3xi32>, %n: tensor<2xi32>, %h: tensor<2x8x4xf16>, %pos: tensor<3x2x8xi32>)
    -> (tensor<2x3x4xf16>, tensor<3x2x3xi32>, tensor<2x8xi32>) {
  %g:2, %map = tok.compact %i, %n gather(%h, %pos) {token_axes = array<i64: 1, 2>}
      : (tensor<2x3xi32>, tensor<2xi32>, tensor<2x8x4xf16>, tensor<3x2x8xi32>) -> (tensor<2x3x4xf16>, tensor<3x2x3xi32>, tensor<2x8xi32>)
  return %g#0, %g#1, %map : tensor<2x3x4xf16>, tensor<3x2x3xi32>, tensor<2x8xi32>
}
