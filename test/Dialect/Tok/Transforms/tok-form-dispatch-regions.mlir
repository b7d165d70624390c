// RUN: winnow-opt %s --pass-pipeline='builtin.module(func.func(tok-form-dispatch-regions{target=cpu}))' | FileCheck %s --check-prefixes=CHECK,CPU --enable-var-scope
// RUN: winnow-opt %s --pass-pipeline='builtin.module(func.func(tok-form-dispatch-regions{target=cuda}))' | FileCheck %s --check-prefixes=CHECK,CUDA --enable-var-scope
// RUN: winnow-opt %s --pass-pipeline='builtin.module(func.func(tok-form-dispatch-regions{target=cpu scratch-budget=16}))' | FileCheck %s --check-prefix=TIGHT --enable-var-scope
// RUN: winnow-opt %s --pass-pipeline='builtin.module(func.func(tok-form-dispatch-regions{target=cpu cpu-threads=2}))' | FileCheck %s --check-prefix=FEW --enable-var-scope
// RUN: not winnow-opt %s --pass-pipeline='builtin.module(func.func(tok-form-dispatch-regions{target=cpu cpu-threads=0}))' 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: tok-form-dispatch-regions: scratch-budget and launch-us must be non-negative, hbm-gbps, sm-count and cpu-threads positive

// Score -> select -> compact: the scores are used only inside, so they become
// per-row scratch with the unused old-to-new map (64 + 64 bytes a row): the
// scores are neither written nor read back (2 x 2 x 64 bytes), the map is
// not written (2 x 64 bytes).
// CHECK-LABEL: func.func @prune_chain
// CHECK: %[[R:.*]]:3 = tok.dispatch rows 2 scratch 128 saved 384 launches 2 -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2x4x8xbf16>) {
// CHECK-NEXT: %[[S:.*]] = tok.attn_score
// CHECK-NEXT: %[[I:.*]], %[[N:.*]] = tok.select #tok.top_k<4> of %[[S]]
// CHECK-NEXT: %[[G:.*]], %{{.*}} = tok.compact %[[I]], %[[N]]
// CHECK-NEXT: tok.yield %[[I]], %[[N]], %[[G]]
// CHECK: return %[[R]]#0, %[[R]]#1, %[[R]]#2
// The row does not fit a 16-byte budget: nothing fuses.
// TIGHT-LABEL: func.func @prune_chain
// TIGHT-NOT: tok.dispatch
// TIGHT: return
func.func @prune_chain(%q: tensor<2x4x1x8xf32>, %k: tensor<2x4x16x8xf32>, %h: tensor<2x16x8xbf16>)
    -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2x4x8xbf16>) {
  %s = tok.attn_score %q, %k : (tensor<2x4x1x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x16xf32>
  %i, %n = tok.select #tok.top_k<4> of %s : (tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
  %g, %m = tok.compact %i, %n gather(%h) : (tensor<2x4xi32>, tensor<2xi32>, tensor<2x16x8xbf16>) -> (tensor<2x4x8xbf16>, tensor<2x16xi32>)
  return %i, %n, %g : tensor<2x4xi32>, tensor<2xi32>, tensor<2x4x8xbf16>
}

// A returned intermediate is yielded (written once), so nothing is saved.
// CHECK-LABEL: func.func @returned_scores
// CHECK: %[[R:.*]]:3 = tok.dispatch rows 2 scratch 0 saved 0 launches 1
// CHECK: tok.yield
// CHECK: return %[[R]]#0, %[[R]]#1, %[[R]]#2
func.func @returned_scores(%q: tensor<2x4x1x8xf32>, %k: tensor<2x4x16x8xf32>)
    -> (tensor<2x16xf32>, tensor<2x4xi32>, tensor<2xi32>) {
  %s = tok.attn_score %q, %k : (tensor<2x4x1x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x16xf32>
  %i, %n = tok.select #tok.top_k<4> of %s : (tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
  return %s, %i, %n : tensor<2x16xf32>, tensor<2x4xi32>, tensor<2xi32>
}

// Batch 1 over 8192 keys of 32 heads (64 MiB of keys): on the CPU the row
// of scores (32 KiB) stays in cache; on the GPU one block would stream the
// whole row alone, so the cuda cost model keeps the grid-wide kernels.
// CHECK-LABEL: func.func @long_row_batch_one
// CPU: tok.dispatch rows 1 scratch 32768 saved 65536 launches 1
// CUDA-NOT: tok.dispatch
// CHECK: return
func.func @long_row_batch_one(%q: tensor<1x32x1x128xbf16>, %k: tensor<1x32x8192x128xbf16>)
    -> (tensor<1x64xi32>, tensor<1xi32>) {
  %s = tok.attn_score %q, %k : (tensor<1x32x1x128xbf16>, tensor<1x32x8192x128xbf16>) -> tensor<1x8192xf32>
  %i, %n = tok.select #tok.top_k<64> of %s : (tensor<1x8192xf32>) -> (tensor<1x64xi32>, tensor<1xi32>)
  return %i, %n : tensor<1x64xi32>, tensor<1xi32>
}

// An elementwise producer joins; a non-row-local op between closes the run.
// CHECK-LABEL: func.func @elementwise_and_barrier
// CHECK: %[[A:.*]]:2 = tok.dispatch rows 2 scratch 64 saved 256 launches 1
// CHECK-NEXT: arith.negf
// CHECK-NEXT: tok.select
// CHECK: tensor.collapse_shape
// CHECK-NOT: tok.dispatch
// CHECK: tok.compact
func.func @elementwise_and_barrier(%s: tensor<2x16xf32>, %h: tensor<2x16x8xbf16>)
    -> (tensor<8xi32>, tensor<2x4x8xbf16>) {
  %neg = arith.negf %s : tensor<2x16xf32>
  %i, %n = tok.select #tok.top_k<4> of %neg : (tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
  %flat = tensor.collapse_shape %i [[0, 1]] : tensor<2x4xi32> into tensor<8xi32>
  %g, %m = tok.compact %i, %n gather(%h) : (tensor<2x4xi32>, tensor<2xi32>, tensor<2x16x8xbf16>) -> (tensor<2x4x8xbf16>, tensor<2x16xi32>)
  return %flat, %g : tensor<8xi32>, tensor<2x4x8xbf16>
}

// Different batch extents, and clustering ops, never fuse.
// CHECK-LABEL: func.func @no_fusion
// CHECK-NOT: tok.dispatch
// CHECK: return
func.func @no_fusion(%a: tensor<2x16xf32>, %x: tensor<1x16x8xf32>) -> (tensor<1x4xi32>, tensor<1x16xi32>) {
  %i, %n = tok.select #tok.top_k<4> of %a : (tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
  %i1 = tensor.extract_slice %i[0, 0] [1, 4] [1, 1] : tensor<2x4xi32> to tensor<1x4xi32>
  %p, %c = tok.density_peaks %x {clusters = 4 : i64, k = 3 : i64} : (tensor<1x16x8xf32>) -> (tensor<1x16xi32>, tensor<1xi32>)
  return %i1, %p : tensor<1x4xi32>, tensor<1x16xi32>
}

// EMA into expand streams (no scratch: the EMA row is never stored, so the
// whole [B, C, D] fp32 tensor is saved twice). On the GPU a dispatch of just
// this pair is lowered over the whole batch (grid-wide kernels, not a block
// per row), so it is priced as such and formed at 2 rows as well.
// CHECK-LABEL: func.func @dechunk
// CHECK: tok.dispatch rows 2 scratch 0 saved 8388608 launches 1
// CHECK-NEXT: tok.ema_scan
// CHECK-NEXT: tok.expand
// CHECK: return
func.func @dechunk(%z: tensor<2x8192x64xbf16>, %g: tensor<2x8192xf32>, %n: tensor<2xi32>,
                   %b: tensor<2x8192xi1>, %h: tensor<2x8192x64xbf16>) -> tensor<2x8192x64xbf16> {
  %zbar = tok.ema_scan %z, %g, %n : (tensor<2x8192x64xbf16>, tensor<2x8192xf32>, tensor<2xi32>) -> tensor<2x8192x64xf32>
  %o = tok.expand %zbar, %b residual %h : (tensor<2x8192x64xf32>, tensor<2x8192xi1>, tensor<2x8192x64xbf16>) -> tensor<2x8192x64xbf16>
  return %o : tensor<2x8192x64xbf16>
}

// ToMe at ViT-B scale: on the CPU the plan and the merge share each row; on
// the GPU the plan stays out of a dispatch (fusesOnGpu is false: its own
// kernel gives every A token a warp, a dispatch row one thread), so the
// merge is alone and nothing fuses, although 256 rows would fill the SMs.
// CHECK-LABEL: func.func @tome_plan_and_merge
// CPU: tok.dispatch rows 256 scratch 792 saved 405504 launches 1
// CPU-NEXT: tok.bipartite_plan
// CPU-NEXT: tok.scatter_merge
// CUDA-NOT: tok.dispatch
// CUDA: tok.bipartite_plan
// CUDA-NEXT: tok.scatter_merge
// CHECK: return
func.func @tome_plan_and_merge(%metric: tensor<256x197x64xbf16>, %x: tensor<256x197x768xbf16>)
    -> (tensor<256x181x768xbf16>, tensor<256x181xf32>) {
  %parent, %count = tok.bipartite_plan %metric {r = 16} : (tensor<256x197x64xbf16>) -> (tensor<256x197xi32>, tensor<256xi32>)
  %merged, %sizes = tok.scatter_merge %parent, %count gather(%x) {reduction = #tok.merge_reduction<mean>} : (tensor<256x197xi32>, tensor<256xi32>, tensor<256x197x768xbf16>) -> (tensor<256x181x768xbf16>, tensor<256x181xf32>)
  return %merged, %sizes : tensor<256x181x768xbf16>, tensor<256x181xf32>
}

// H2O's selection into its gather at batch 2 over 8 heads (the slots are
// 2 KiB a row). Alone each op runs one CPU task per (row, head), 16; a
// dispatch runs one per row. Assuming 16 threads (the default) the fused
// bytes over 2 tasks cost more than the ops' bytes over 16, so they stay
// apart; assuming 2 threads both run 2 tasks and fusing saves the slots.
// CHECK-LABEL: func.func @kv_rows_below_threads
// FEW-LABEL: func.func @kv_rows_below_threads
// CPU-NOT: tok.dispatch
// FEW: tok.dispatch rows 2 scratch
// FEW-NEXT: tok.kv_select
// FEW-NEXT: tok.kv_gather
// CHECK: return
func.func @kv_rows_below_threads(%len: tensor<2xi32>, %s: tensor<2x8x512xf32>,
    %k: tensor<2x8x512x64xbf16>) -> tensor<2x8x64x64xbf16> {
  %slots, %count = tok.kv_select %len scores %s {sinks = 4, window = 28, heavy = 32}
      : (tensor<2xi32>, tensor<2x8x512xf32>) -> (tensor<2x8x64xi32>, tensor<2x8xi32>)
  %kept, %pos = tok.kv_gather %slots, %count gather(%k)
      : (tensor<2x8x64xi32>, tensor<2x8xi32>, tensor<2x8x512x64xbf16>) -> (tensor<2x8x64x64xbf16>, tensor<2x8x64xi32>)
  return %kept : tensor<2x8x64x64xbf16>
}

// The same at batch 1: a lone row has no row loop, so the lowerings split
// the ops' heads inside the dispatch as they would alone; it fuses for any
// thread count.
// CHECK-LABEL: func.func @kv_row_alone
// FEW-LABEL: func.func @kv_row_alone
// CPU: tok.dispatch rows 1 scratch
// FEW: tok.dispatch rows 1 scratch
// CHECK: return
func.func @kv_row_alone(%len: tensor<1xi32>, %s: tensor<1x8x512xf32>,
    %k: tensor<1x8x512x64xbf16>) -> tensor<1x8x64x64xbf16> {
  %slots, %count = tok.kv_select %len scores %s {sinks = 4, window = 28, heavy = 32}
      : (tensor<1xi32>, tensor<1x8x512xf32>) -> (tensor<1x8x64xi32>, tensor<1x8xi32>)
  %kept, %pos = tok.kv_gather %slots, %count gather(%k)
      : (tensor<1x8x64xi32>, tensor<1x8xi32>, tensor<1x8x512x64xbf16>) -> (tensor<1x8x64x64xbf16>, tensor<1x8x64xi32>)
  return %kept : tensor<1x8x64x64xbf16>
}
