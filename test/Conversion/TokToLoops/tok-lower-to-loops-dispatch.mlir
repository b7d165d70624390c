// RUN: winnow-opt %s --tok-lower-to-loops | FileCheck %s --enable-var-scope
// RUN: winnow-opt %s --winnow-cuda-to-loops --tok-offload-to-gpu | FileCheck %s --check-prefix=GPU --enable-var-scope
// RUN: winnow-opt %s --winnow-cuda-to-loops --tok-offload-to-gpu --collective-to-gpu --tok-emulate-gpu-launches | FileCheck %s --check-prefix=EMU --enable-var-scope

// A tok.dispatch is one parallel loop over its rows: the ops run on row
// views, the score row lives in scratch hoisted before the loop, and the
// yielded values are written straight into the rows of the results.
// CHECK-LABEL: func.func @fused
// CHECK-DAG: %[[OUTI:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x4xi32>
// CHECK-DAG: %[[OUTN:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// CHECK-DAG: %[[SCORES:.*]] = memref.alloca() {tok.row_buffer} : memref<1x16xf32>
// CHECK: scf.parallel (%[[ROW:.*]]) =
// CHECK-DAG: memref.subview %{{.*}}[%[[ROW]], 0, 0, 0] [1, 4, 1, 8] [1, 1, 1, 1]
// CHECK-DAG: %[[IROW:.*]] = memref.subview %[[OUTI]][%[[ROW]], 0] [1, 4] [1, 1]
// CHECK: memref.store %{{.*}}, %[[SCORES]]
// CHECK: memref.store %{{.*}}, %[[IROW]]
// CHECK: } {tok.dispatch_rows}
// CHECK-NOT: tok.
// CHECK: return

// On the GPU the row loop is one block per row: an arena in the block's
// shared memory (a workgroup attribution, seen through a generic pointer)
// holds its row buffers, inner loops are strided over the threads, phases
// are separated by barriers. No device memory is allocated.
// GPU-LABEL: func.func @fused
// GPU-NOT: gpu.alloc
// GPU: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c2{{.*}}, %{{.*}}) threads(%[[TX:[^,]*]], %{{.*}}, %{{.*}}) in (%[[BD:[^ ]*]] = %c256{{.*}}) workgroup(%[[SHARED:.*]] : memref<112xi8, #gpu.address_space<workgroup>>)
// GPU: %[[ARENA:.*]] = memref.memory_space_cast %[[SHARED]] : memref<112xi8, #gpu.address_space<workgroup>> to memref<112xi8>
// GPU: memref.view %[[ARENA]][%{{.*}}][] : memref<112xi8> to memref<1x16xf32>
// GPU: scf.for %{{.*}} = %[[TX]] to %{{.*}} step %[[BD]] {
// GPU: } {tok.thread_phase}
// GPU-NEXT: gpu.barrier
// GPU: } {tok.block_phases}
// GPU-NOT: gpu.dealloc

// The emulation runs each block's phases one after the other, every thread
// of a phase before the next phase.
// EMU-LABEL: func.func @fused
// EMU-NOT: gpu.
// EMU: scf.parallel (%[[B:.*]], %{{.*}}, %{{.*}}) =
// EMU: memref.alloca_scope
// EMU: scf.for %[[T:[^ ]*]] = %{{.*}} to %[[BD:c256[_0-9]*]] step %{{.*}} {
// EMU-NEXT: scf.for %{{.*}} = %[[T]] to %{{.*}} step %[[BD]] {
// EMU-NOT: gpu.barrier
func.func @fused(%q: tensor<2x4x1x8xf32>, %k: tensor<2x4x16x8xf32>)
    -> (tensor<2x4xi32>, tensor<2xi32>) {
  %i, %n = tok.dispatch rows 2 scratch 64 saved 256 launches 1 -> (tensor<2x4xi32>, tensor<2xi32>) {
    %s = tok.attn_score %q, %k : (tensor<2x4x1x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x16xf32>
    %i, %n = tok.select #tok.top_k<4> of %s : (tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
    tok.yield %i, %n : tensor<2x4xi32>, tensor<2xi32>
  }
  return %i, %n : tensor<2x4xi32>, tensor<2xi32>
}

// Elementwise ops in a region become loops over the row's elements; splat
// constants become scalars.
// CHECK-LABEL: func.func @elementwise
// CHECK: %[[NEG:.*]] = memref.alloca() {tok.row_buffer} : memref<1x16xf32>
// CHECK: scf.parallel (%[[ROW:.*]]) =
// CHECK: scf.parallel (%[[A:.*]], %[[J:.*]]) =
// CHECK: %[[X:.*]] = memref.load %{{.*}}[%[[A]], %[[J]]]
// CHECK: %[[Y:.*]] = arith.mulf %[[X]], %{{.*}} : f32
// CHECK: memref.store %[[Y]], %[[NEG]][%[[A]], %[[J]]]
// CHECK: } {tok.dispatch_rows}
func.func @elementwise(%s: tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>) {
  %i, %n = tok.dispatch rows 2 scratch 64 saved 256 launches 1 -> (tensor<2x4xi32>, tensor<2xi32>) {
    %c = arith.constant dense<-2.0> : tensor<2x16xf32>
    %neg = arith.mulf %s, %c : tensor<2x16xf32>
    %i, %n = tok.select #tok.top_k<4> of %neg : (tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
    tok.yield %i, %n : tensor<2x4xi32>, tensor<2xi32>
  }
  return %i, %n : tensor<2x4xi32>, tensor<2xi32>
}

// ema_scan -> expand in one region, the EMA result read by the expand only:
// one sweep over the tokens with the running EMA value of the open segment
// in a [D] scratch row; no [B, C, D] buffer.
// CHECK-LABEL: func.func @dechunk
// CHECK-NOT: memref<2x6x4xf32>
// CHECK: %[[STATE:.*]] = memref.alloca() : memref<4xf32>
// CHECK-NOT: memref<2x6x4xf32>
// CHECK: scf.parallel
// CHECK: scf.for {{.*}} iter_args
// CHECK: memref.store %{{.*}}, %[[STATE]]
// CHECK: } {tok.dispatch_rows}
// CHECK-NOT: memref<2x6x4xf32>
// CHECK: return
// On the GPU (intra-row parallel) a region that is exactly this pair is
// lowered over the whole batch instead, with the parallelism a row does not
// have: each token's segment from a block scan per row, the EMA of the live
// chunks per (row, feature) into a [B, C, D] table, then one thread per
// output element.
// GPU-LABEL: func.func @dechunk
// GPU-NOT: tok.block_phases
// GPU: %[[SEG:.*]] = gpu.alloc () : memref<2x9xi32>
// GPU: gpu.launch blocks({{.*}}) in (%{{.*}} = %c2, %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c256,
// GPU: collective.block_exclusive_scan
// GPU: memref.store %{{.*}}, %[[SEG]]
// GPU: %[[TABLE:.*]] = gpu.alloc () : memref<2x6x4xf32>
// GPU: gpu.launch
// GPU: memref.store %{{.*}}, %[[TABLE]]
// GPU: gpu.launch
// GPU: memref.load %[[SEG]]
// GPU: memref.load %[[TABLE]]
// GPU: gpu.dealloc %[[SEG]]
// GPU: gpu.dealloc %[[TABLE]]
// GPU-NOT: tok.block_phases
// GPU: return
func.func @dechunk(%z: tensor<2x6x4xbf16>, %g: tensor<2x6xf32>, %n: tensor<2xi32>,
                   %b: tensor<2x9xi1>, %h: tensor<2x9x4xbf16>) -> tensor<2x9x4xbf16> {
  %out = tok.dispatch rows 2 scratch 0 saved 384 launches 1 -> (tensor<2x9x4xbf16>) {
    %zbar = tok.ema_scan %z, %g, %n : (tensor<2x6x4xbf16>, tensor<2x6xf32>, tensor<2xi32>) -> tensor<2x6x4xf32>
    %o = tok.expand %zbar, %b residual %h : (tensor<2x6x4xf32>, tensor<2x9xi1>, tensor<2x9x4xbf16>) -> tensor<2x9x4xbf16>
    tok.yield %o : tensor<2x9x4xbf16>
  }
  return %out : tensor<2x9x4xbf16>
}

// A lone row (rows 1) is swept in parts that threads share, each a run of
// whole scan blocks (4 blocks of 64 chunks here, so 4 parts): the token that
// opens each block's first segment, the zbar each part starts from (walked
// part by part over the live chunks), then the parts in parallel.
// CHECK-LABEL: func.func @dechunk_row
// CHECK-DAG: %[[STARTS:.*]] = memref.alloca() : memref<5xindex>
// CHECK-DAG: %[[CARRIES:.*]] = memref.alloca() : memref<4x4xf32>
// CHECK: scf.parallel
// CHECK: memref.store %{{.*}}, %[[STARTS]]
// CHECK: memref.store %{{.*}}, %[[CARRIES]]
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%c4{{.*}})
// CHECK: memref.load %[[STARTS]]
// CHECK: memref.load %[[CARRIES]]
// CHECK: } {tok.dispatch_rows}
func.func @dechunk_row(%z: tensor<1x200x4xbf16>, %g: tensor<1x200xf32>, %n: tensor<1xi32>,
                       %b: tensor<1x300xi1>, %h: tensor<1x300x4xbf16>) -> tensor<1x300x4xbf16> {
  %out = tok.dispatch rows 1 scratch 0 saved 19200 launches 1 -> (tensor<1x300x4xbf16>) {
    %zbar = tok.ema_scan %z, %g, %n : (tensor<1x200x4xbf16>, tensor<1x200xf32>, tensor<1xi32>) -> tensor<1x200x4xf32>
    %o = tok.expand %zbar, %b residual %h : (tensor<1x200x4xf32>, tensor<1x300xi1>, tensor<1x300x4xbf16>) -> tensor<1x300x4xbf16>
    tok.yield %o : tensor<1x300x4xbf16>
  }
  return %out : tensor<1x300x4xbf16>
}

// kv_select inside a dispatch: with several rows the rows are the parallel
// loop and each row's heads a loop; a lone row has no row loop to share, so
// its heads are the parallel loop (one task per head, as kv_gather's are).
// CHECK-LABEL: func.func @kv_row_heads
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%c1{{.*}})
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = (%{{.*}}, %{{.*}}) to (%c1{{.*}}, %c4{{.*}})
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = (%{{.*}}, %{{.*}}) to (%c1{{.*}}, %c4{{.*}})
// CHECK: } {tok.dispatch_rows}
// CHECK-LABEL: func.func @kv_rows_heads
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%c2{{.*}})
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%c1{{.*}})
// CHECK: scf.for %{{.*}} = %{{.*}} to %c4{{.*}}
// CHECK: } {tok.dispatch_rows}
func.func @kv_row_heads(%len: tensor<1xi32>, %s: tensor<1x4x48xf32>, %k: tensor<1x4x48x8xbf16>)
    -> tensor<1x4x11x8xbf16> {
  %out = tok.dispatch rows 1 scratch 176 saved 352 launches 1 -> (tensor<1x4x11x8xbf16>) {
    %slots, %count = tok.kv_select %len scores %s {sinks = 0, window = 6, heavy = 5}
        : (tensor<1xi32>, tensor<1x4x48xf32>) -> (tensor<1x4x11xi32>, tensor<1x4xi32>)
    %kept, %pos = tok.kv_gather %slots, %count gather(%k)
        : (tensor<1x4x11xi32>, tensor<1x4xi32>, tensor<1x4x48x8xbf16>) -> (tensor<1x4x11x8xbf16>, tensor<1x4x11xi32>)
    tok.yield %kept : tensor<1x4x11x8xbf16>
  }
  return %out : tensor<1x4x11x8xbf16>
}
func.func @kv_rows_heads(%len: tensor<2xi32>, %s: tensor<2x4x48xf32>, %k: tensor<2x4x48x8xbf16>)
    -> tensor<2x4x11x8xbf16> {
  %out = tok.dispatch rows 2 scratch 176 saved 704 launches 1 -> (tensor<2x4x11x8xbf16>) {
    %slots, %count = tok.kv_select %len scores %s {sinks = 0, window = 6, heavy = 5}
        : (tensor<2xi32>, tensor<2x4x48xf32>) -> (tensor<2x4x11xi32>, tensor<2x4xi32>)
    %kept, %pos = tok.kv_gather %slots, %count gather(%k)
        : (tensor<2x4x11xi32>, tensor<2x4xi32>, tensor<2x4x48x8xbf16>) -> (tensor<2x4x11x8xbf16>, tensor<2x4x11xi32>)
    tok.yield %kept : tensor<2x4x11x8xbf16>
  }
  return %out : tensor<2x4x11x8xbf16>
}

// A lowering's own buffer above 64 KiB (attn_score's statistics for 32 heads
// x 300 queries) is a heap row buffer; on the GPU it gets a slice of the
// arena per block like the others, so the block mapping still applies.
// CHECK-LABEL: func.func @heap_row_buffer
// CHECK: memref.alloc() {tok.row_buffer} : memref<1x32x300x2xf32>
// CHECK: } {tok.dispatch_rows}
// GPU-LABEL: func.func @heap_row_buffer
// GPU-NOT: memref<1x32x300x2xf32>
// GPU: gpu.launch
// GPU: memref.view {{.*}} to memref<1x32x300x2xf32>
// GPU: } {tok.block_phases}
func.func @heap_row_buffer(%q: tensor<2x32x300x8xf32>, %k: tensor<2x32x16x8xf32>)
    -> (tensor<2x4xi32>, tensor<2xi32>) {
  %i, %n = tok.dispatch rows 2 scratch 64 saved 256 launches 1 -> (tensor<2x4xi32>, tensor<2xi32>) {
    %s = tok.attn_score %q, %k : (tensor<2x32x300x8xf32>, tensor<2x32x16x8xf32>) -> tensor<2x16xf32>
    %i, %n = tok.select #tok.top_k<4> of %s : (tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
    tok.yield %i, %n : tensor<2x4xi32>, tensor<2xi32>
  }
  return %i, %n : tensor<2x4xi32>, tensor<2xi32>
}

// A value yielded twice is written once by its producer and copied from
// that row into the second result.
// CHECK-LABEL: func.func @yield_twice
// CHECK: scf.parallel
// CHECK: memref.copy %[[FIRST:subview[_0-9]*]], %{{.*}}
// CHECK: } {tok.dispatch_rows}
// CHECK-NOT: tok.select
func.func @yield_twice(%s: tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>) {
  %a, %b = tok.dispatch rows 2 scratch 0 saved 0 launches 0 -> (tensor<2x4xi32>, tensor<2x4xi32>) {
    %i, %n = tok.select #tok.top_k<4> of %s : (tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
    tok.yield %i, %i : tensor<2x4xi32>, tensor<2x4xi32>
  }
  return %a, %b : tensor<2x4xi32>, tensor<2x4xi32>
}
