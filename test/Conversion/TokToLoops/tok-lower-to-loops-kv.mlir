// RUN: winnow-opt %s --split-input-file --tok-lower-to-loops --cse | FileCheck %s
// RUN: winnow-opt %s --split-input-file --pass-pipeline="builtin.module(tok-lower-to-loops{intra-row-parallel=true},cse)" | FileCheck %s --check-prefix=PAR


// tok.kv_select with heavy hitters: per (batch row, head) the threshold of
// the `heavy` best candidates is found by a radix select over the
// order-preserving bits of the fp32 scores (NaN mapped to -inf's bits, -0.0
// to +0.0) with one 256-bin histogram on the stack (4 passes of 8 bits,
// each bin adding 0 or 1 without a branch); the first pass also writes the
// candidates' keys to a [T] key array, and each later pass reads only the
// keys that matched so far and compacts those that match its prefix. One
// final pass writes the kept slots (sinks, window, or above the threshold /
// at it with the lowest slots), pads with -1 and stores the count. Only the
// histogram and the key array are allocated as scratch.
// The GPU form (intra-row-parallel): one block of 256 threads per (row,
// head) keeps the forced slots and the heavy hitters (BlockTopK.h); the keys
// of a 16-slot row live in shared memory.
// PAR-LABEL: func.func @select_heavy
// PAR: gpu.launch blocks({{.*}}) in (%{{.*}} = %c6, %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c256,
// PAR: %[[KEYS:.*]] = memref.alloca() : memref<16xi32, #gpu.address_space<workgroup>>
// PAR: collective.block_reduce add
// PAR: collective.block_radix_select %{{.*}} of %[[KEYS]]
// PAR-COUNT-2: collective.block_exclusive_scan
// PAR: arith.constant -1 : i32
// CHECK-LABEL: func.func @select_heavy
// CHECK-SAME: (%[[L:.*]]: tensor<2xi32>, %[[S:.*]]: tensor<2x3x16xf32>)
// CHECK-DAG: %[[LB:.*]] = bufferization.to_buffer %[[L]] read_only : tensor<2xi32> to memref<2xi32>
// CHECK-DAG: %[[SB:.*]] = bufferization.to_buffer %[[S]] read_only : tensor<2x3x16xf32> to memref<2x3x16xf32>
// CHECK-DAG: %[[SLOTS:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x3x7xi32>
// CHECK-DAG: %[[CNT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x3xi32>
// CHECK-DAG: %[[HIST:.*]] = memref.alloca() : memref<256xi32>
// CHECK-DAG: %[[KEYS:.*]] = memref.alloca() : memref<16xi32>
// CHECK-NOT: memref.alloc
// CHECK: scf.parallel (%[[B:[^,]*]], %[[H:[^)]*]]) =
// CHECK: memref.load %[[LB]][%[[B]]] : memref<2xi32>
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: memref.store %{{.*}}, %[[HIST]][%{{.*}}] : memref<256xi32>
// CHECK: memref.load %[[SB]][%[[B]], %[[H]], %{{.*}}] : memref<2x3x16xf32>
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: arith.cmpf uno
// CHECK: arith.constant -8388608 : i32
// CHECK: arith.constant 24 : i32
// CHECK: memref.load %[[HIST]]
// CHECK: memref.store %{{.*}}, %[[HIST]]
// CHECK: memref.store %{{.*}}, %[[KEYS]]
// CHECK: arith.constant 24 : i32
// CHECK: %[[KEY2:.*]] = memref.load %[[KEYS]]
// CHECK: arith.constant 16 : i32
// CHECK: memref.store %{{.*}}, %[[HIST]]
// CHECK: memref.store %[[KEY2]], %[[KEYS]]
// CHECK: memref.load %[[KEYS]]
// CHECK: arith.constant 8 : i32
// CHECK: memref.store %{{.*}}, %[[SLOTS]][%[[B]], %[[H]], %{{.*}}] : memref<2x3x7xi32>
// CHECK: arith.constant -1 : i32
// CHECK: memref.store %{{.*}}, %[[SLOTS]][%[[B]], %[[H]], %{{.*}}] : memref<2x3x7xi32>
// CHECK: memref.store %{{.*}}, %[[CNT]][%[[B]], %[[H]]] : memref<2x3xi32>
// CHECK: bufferization.to_tensor %[[SLOTS]] restrict writable
// CHECK: bufferization.to_tensor %[[CNT]] restrict writable
// CHECK-NOT: tok.
func.func @select_heavy(%len: tensor<2xi32>, %s: tensor<2x3x16xf32>) -> (tensor<2x3x7xi32>, tensor<2x3xi32>) {
  %sl, %n = tok.kv_select %len scores %s {sinks = 1, window = 2, heavy = 4}
      : (tensor<2xi32>, tensor<2x3x16xf32>) -> (tensor<2x3x7xi32>, tensor<2x3xi32>)
  return %sl, %n : tensor<2x3x7xi32>, tensor<2x3xi32>
}

// -----

// Without scores (SepLLM: separators, sinks, window) there is no histogram
// and no scratch: one pass per (row, head) ORs sinks, window and the
// separator bit of valid slots, then pads with -1.
// Separators without heavy hitters: the same block form, with no ranking.
// PAR-LABEL: func.func @select_separators
// PAR: gpu.launch
// PAR-NOT: collective.block_radix_select
// PAR: collective.block_exclusive_scan
// PAR-NOT: collective.block_exclusive_scan
// PAR: return
// CHECK-LABEL: func.func @select_separators
// CHECK-SAME: (%[[L:.*]]: tensor<2xi32>, %[[SEP:.*]]: tensor<2x16xi1>)
// CHECK-DAG: %[[SB:.*]] = bufferization.to_buffer %[[SEP]] read_only : tensor<2x16xi1> to memref<2x16xi1>
// CHECK-DAG: %[[SLOTS:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x3x16xi32>
// CHECK-DAG: %[[CNT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x3xi32>
// CHECK-NOT: memref.alloca
// CHECK-NOT: 256
// CHECK: scf.parallel (%[[B:[^,]*]], %[[H:[^)]*]]) =
// CHECK: scf.for %[[T:.*]] = {{.*}} iter_args(
// CHECK: memref.load %[[SB]][%[[B]], %[[T]]] : memref<2x16xi1>
// CHECK: arith.ori
// CHECK: scf.if
// CHECK: memref.store %{{.*}}, %[[SLOTS]][%[[B]], %[[H]], %{{.*}}] : memref<2x3x16xi32>
// CHECK: memref.store %{{.*}}, %[[SLOTS]][%[[B]], %[[H]], %{{.*}}] : memref<2x3x16xi32>
// CHECK: memref.store %{{.*}}, %[[CNT]][%[[B]], %[[H]]] : memref<2x3xi32>
// CHECK-NOT: memref<256xi32>
// CHECK-NOT: tok.
func.func @select_separators(%len: tensor<2xi32>, %sep: tensor<2x16xi1>) -> (tensor<2x3x16xi32>, tensor<2x3xi32>) {
  %sl, %n = tok.kv_select %len separators %sep {sinks = 1, window = 2}
      : (tensor<2xi32>, tensor<2x16xi1>) -> (tensor<2x3x16xi32>, tensor<2x3xi32>)
  return %sl, %n : tensor<2x3x16xi32>, tensor<2x3xi32>
}

// -----

// Scores without heavy hitters (StreamingLLM): the scores are never read
// and no histogram is built.
// On the GPU the two kept ranges are in closed form, one thread per output
// slot: j < sinkEnd keeps j, the next ones the recent slots from
// max(windowStart, sinkEnd), the rest -1; slot 0's thread writes the count.
// PAR-LABEL: func.func @select_streaming
// PAR-NOT: gpu.launch
// PAR-NOT: memref<2x4x32xf32>
// PAR: scf.parallel (%{{.*}}, %{{.*}}, %[[J:.*]]) = (%c0, %c0, %c0) to (%c2, %c4, %c6)
// PAR: arith.cmpi slt, %[[J]], %{{.*}} : index
// PAR: memref.store %{{.*}} : memref<2x4x6xi32>
// PAR: arith.cmpi eq, %[[J]], %c0 : index
// PAR: memref.store %{{.*}} : memref<2x4xi32>
// CHECK-LABEL: func.func @select_streaming
// CHECK-NOT: memref.alloca
// CHECK-NOT: memref<2x4x32xf32>
// CHECK: memref.store %{{.*}} : memref<2x4x6xi32>
// CHECK-NOT: tok.
func.func @select_streaming(%len: tensor<2xi32>, %s: tensor<2x4x32xf32>) -> (tensor<2x4x6xi32>, tensor<2x4xi32>) {
  %sl, %n = tok.kv_select %len scores %s {sinks = 2, window = 4}
      : (tensor<2xi32>, tensor<2x4x32xf32>) -> (tensor<2x4x6xi32>, tensor<2x4xi32>)
  return %sl, %n : tensor<2x4x6xi32>, tensor<2x4xi32>
}

// -----

// tok.kv_gather copies rows: per (row, head, j) a slot is used when j is
// below the clamped count and 0 <= slot < T. A live slot starts a run of
// slots that follow each other (scf.while), copied as one contiguous block
// of each flattened cache (one memcpy); slots no run covers are copied or
// zero-filled row by row; elements keep their type (bf16 stays bf16);
// positions are j (reindexed) or -1. Each j first prefetches the cache
// lines of slot j + 8's rows (scattered heavy hitters defeat the hardware
// prefetcher).
// intra-row-parallel (the cuda target): kv_gather copies one element per
// iteration of a [B, H, C, inner] parallel loop per cache, then writes the
// positions per (row, head, slot).
// PAR-LABEL: func.func @gather
// PAR: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) =
// PAR: scf.if %{{.*}} -> (
// PAR: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}) =
// PAR: arith.select
// CHECK-LABEL: func.func @gather
// CHECK-SAME: (%[[SL:.*]]: tensor<2x3x5xi32>, %[[N:.*]]: tensor<2x3xi32>, %[[K:.*]]: tensor<2x3x10x4xbf16>, %[[A:.*]]: tensor<2x3x10xf32>)
// CHECK-DAG: %[[SLB:.*]] = bufferization.to_buffer %[[SL]] read_only
// CHECK-DAG: %[[NB:.*]] = bufferization.to_buffer %[[N]] read_only
// CHECK-DAG: %[[POS:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x3x5xi32>
// CHECK-DAG: %[[KOUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x3x5x4xbf16>
// CHECK-DAG: %[[AOUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x3x5xf32>
// CHECK-NOT: memref.alloca
// CHECK-DAG: %[[KIN1:.*]] = memref.collapse_shape {{.*}} into memref<240xbf16>
// CHECK-DAG: %[[KOUT1:.*]] = memref.collapse_shape {{.*}} into memref<120xbf16>
// CHECK: scf.parallel (%[[B:[^,]*]], %[[H:[^)]*]]) =
// CHECK: memref.load %[[NB]][%[[B]], %[[H]]] : memref<2x3xi32>
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: scf.for %[[J:[^ ]*]] = {{.*}} iter_args(%[[COPIED:[^ ]*]] = %{{.*}}) -> (index)
// CHECK: %[[SLOT:.*]] = memref.load %[[SLB]][%[[B]], %[[H]], %[[J]]] : memref<2x3x5xi32>
// CHECK: memref.prefetch %[[KIN1]][%{{.*}}], read, locality<3>, data : memref<240xbf16>
// CHECK: memref.prefetch %{{.*}}[%{{.*}}], read, locality<3>, data : memref<60xf32>
// CHECK: arith.cmpi sge, %[[J]], %[[COPIED]]
// CHECK: %[[RUNEND:.*]] = scf.if %{{.*}} -> (index) {
// CHECK: %[[END:.*]] = scf.while
// CHECK: scf.condition
// CHECK: %[[V:.*]] = memref.load %[[KIN1]][%{{.*}}] : memref<240xbf16>
// CHECK-NEXT: arith.addi
// CHECK-NEXT: memref.store %[[V]], %[[KOUT1]][%{{.*}}] : memref<120xbf16>
// CHECK: scf.yield %[[END]] : index
// CHECK: } else {
// CHECK: scf.yield %[[COPIED]] : index
// CHECK: arith.cmpi sge, %[[J]], %[[RUNEND]]
// CHECK: scf.if
// CHECK: %[[V2:.*]] = memref.load %{{.*}}[%[[B]], %[[H]], %{{.*}}, %{{.*}}] : memref<2x3x10x4xbf16>
// CHECK-NEXT: memref.store %[[V2]], %{{.*}}[%[[B]], %[[H]], %[[J]], %{{.*}}] : memref<2x3x5x4xbf16>
// CHECK: } else {
// CHECK: memref.store %{{.*}} : memref<2x3x5x4xbf16>
// CHECK: %[[W:.*]] = memref.load %{{.*}} : memref<2x3x10x1xf32>
// CHECK-NEXT: memref.store %[[W]], %{{.*}}[%[[B]], %[[H]], %[[J]], %{{.*}}] : memref<2x3x5x1xf32>
// CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : i32
// CHECK: memref.store %{{.*}}, %[[POS]][%[[B]], %[[H]], %[[J]]] : memref<2x3x5xi32>
// CHECK: scf.yield %[[RUNEND]] : index
// CHECK-NOT: arith.extf
// CHECK-NOT: arith.truncf
// CHECK: bufferization.to_tensor %[[KOUT]] restrict writable
// CHECK: bufferization.to_tensor %[[AOUT]] restrict writable
// CHECK: bufferization.to_tensor %[[POS]] restrict writable
// CHECK-NOT: tok.
func.func @gather(%sl: tensor<2x3x5xi32>, %n: tensor<2x3xi32>, %k: tensor<2x3x10x4xbf16>, %a: tensor<2x3x10xf32>)
    -> (tensor<2x3x5x4xbf16>, tensor<2x3x5xf32>, tensor<2x3x5xi32>) {
  %k2, %a2, %p = tok.kv_gather %sl, %n gather(%k, %a) {position_mode = #tok.position_mode<reindexed>}
      : (tensor<2x3x5xi32>, tensor<2x3xi32>, tensor<2x3x10x4xbf16>, tensor<2x3x10xf32>)
      -> (tensor<2x3x5x4xbf16>, tensor<2x3x5xf32>, tensor<2x3x5xi32>)
  return %k2, %a2, %p : tensor<2x3x5x4xbf16>, tensor<2x3x5xf32>, tensor<2x3x5xi32>
}

// -----

// tok.k_center keeps O(N) scratch only: inverse norms (floored at 1e-12)
// and running minimum distances in fp32, and a chosen mask, each of N
// entries; distances are recomputed against the newest center (never an
// N x N matrix); the running minimum propagates NaN (minimumf), the argmax
// ranks NaN as -inf; the chosen mask is compacted into ascending indices.
// CHECK-LABEL: func.func @k_center
// CHECK-SAME: (%[[X:.*]]: tensor<2x576x64xbf16>, %[[L:.*]]: tensor<2xi32>, %[[F:.*]]: tensor<2xi32>)
// CHECK-DAG: %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only
// CHECK-DAG: %[[IDX:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x8xi32>
// CHECK-DAG: %[[CNT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// CHECK-DAG: %[[INV:.*]] = memref.alloca() : memref<576xf32>
// CHECK-DAG: %[[MIN:.*]] = memref.alloca() : memref<576xf32>
// CHECK-DAG: %[[CHOSEN:.*]] = memref.alloca() : memref<576xi1>
// CHECK-NOT: 576x576
// CHECK-NOT: memref.alloc
// CHECK: scf.parallel (%[[B:.*]]) =
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: math.sqrt
// CHECK: arith.constant 9.99999996E-13 : f32
// CHECK: arith.maximumf
// CHECK: memref.store %{{.*}}, %[[INV]]
// CHECK: arith.constant 0x7F800000 : f32
// CHECK: memref.store %{{.*}}, %[[MIN]]
// CHECK: memref.load %{{.*}} : memref<2xi32>
// CHECK: memref.store %{{.*}}, %[[CHOSEN]]
// CHECK: arith.minimumf
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: arith.cmpf uno
// CHECK: arith.cmpf ogt
// CHECK: memref.store %{{.*}}, %[[CHOSEN]]
// CHECK: arith.minimumf
// CHECK: memref.store %{{.*}}, %[[IDX]][%[[B]], %{{.*}}] : memref<2x8xi32>
// CHECK: memref.store %{{.*}}, %[[IDX]][%[[B]], %{{.*}}] : memref<2x8xi32>
// CHECK: memref.store %{{.*}}, %[[CNT]][%[[B]]] : memref<2xi32>
// CHECK-NOT: 576x576
// CHECK-NOT: tok.
func.func @k_center(%x: tensor<2x576x64xbf16>, %len: tensor<2xi32>, %f: tensor<2xi32>) -> (tensor<2x8xi32>, tensor<2xi32>) {
  %i, %n = tok.k_center %x lengths %len first %f {k = 8}
      : (tensor<2x576x64xbf16>, tensor<2xi32>, tensor<2xi32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return %i, %n : tensor<2x8xi32>, tensor<2xi32>
}

// -----

// A lone row (batch 1) with enough work per greedy step: the passes over
// the tokens (inverse norms, then each step's distances) are split into 8
// runs of tokens, [p * len / 8, (p + 1) * len / 8), that run in parallel
// and share the row's per-token state (marked so that the outlining passes
// it to every task). The pick of the next center stays one sequential scan.
// CHECK-LABEL: func.func @k_center_parts
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[INV:.*]] = memref.alloca() {tok.shared_scratch} : memref<256xf32>
// CHECK-DAG: %[[MIN:.*]] = memref.alloca() {tok.shared_scratch} : memref<256xf32>
// CHECK-DAG: %[[CHOSEN:.*]] = memref.alloca() {tok.shared_scratch} : memref<256xi1>
// CHECK: scf.parallel (%[[P:.*]]) = (%{{.*}}) to (%[[C8]])
// CHECK: %[[LO:.*]] = arith.divui %{{.*}}, %[[C8]] : index
// CHECK: %[[HI:.*]] = arith.divui %{{.*}}, %[[C8]] : index
// CHECK: scf.for %[[I:.*]] = %[[LO]] to %[[HI]]
// CHECK: math.sqrt
// CHECK: memref.store %{{.*}}, %[[INV]][%[[I]]]
// CHECK: memref.store %{{.*}}, %[[MIN]][%[[I]]]
// CHECK: memref.store %{{.*}}, %[[CHOSEN]][%[[I]]]
// CHECK: scf.parallel (%[[Q:.*]]) = (%{{.*}}) to (%[[C8]])
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %{{.*}}
// CHECK: arith.minimumf
// CHECK: memref.store %{{.*}}, %[[MIN]][%[[J]]]
// CHECK: scf.for
// CHECK: arith.cmpf ogt
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%[[C8]])
// CHECK: arith.minimumf
// PAR-LABEL: func.func @k_center_parts
// PAR-NOT: tok.shared_scratch
func.func @k_center_parts(%x: tensor<1x256x512xbf16>, %len: tensor<1xi32>) -> (tensor<1x8xi32>, tensor<1xi32>) {
  %i, %n = tok.k_center %x lengths %len {k = 8}
      : (tensor<1x256x512xbf16>, tensor<1xi32>) -> (tensor<1x8xi32>, tensor<1xi32>)
  return %i, %n : tensor<1x8xi32>, tensor<1xi32>
}

// -----

// Per-request budgets: each row loads its (sinks, window, heavy) and clamps
// them to [0, the attribute's]; the heavy hitters' radix select takes the
// row's own count. The GPU's closed form (no heavy hitters) reads them per
// output slot.
// CHECK-LABEL: func.func @kv_select_row_budget
// CHECK: scf.parallel (%[[ROW:[^,]*]], %{{[^)]*}}) =
// CHECK: %[[S:.*]] = memref.load %[[RB:.*]][%[[ROW]], %c0] : memref<2x3xi32>
// CHECK: arith.minsi %{{.*}}, %c2_i32
// CHECK: memref.load %[[RB]][%[[ROW]], %c1] : memref<2x3xi32>
// CHECK: memref.load %[[RB]][%[[ROW]], %c2] : memref<2x3xi32>
// CHECK: arith.minsi %{{.*}}, %c6_i32
func.func @kv_select_row_budget(%len: tensor<2xi32>, %acc: tensor<2x4x64xf32>, %rb: tensor<2x3xi32>)
    -> (tensor<2x4x13xi32>, tensor<2x4xi32>) {
  %slots, %n = tok.kv_select %len scores %acc row_budget %rb {sinks = 2, window = 5, heavy = 6}
      : (tensor<2xi32>, tensor<2x4x64xf32>, tensor<2x3xi32>) -> (tensor<2x4x13xi32>, tensor<2x4xi32>)
  return %slots, %n : tensor<2x4x13xi32>, tensor<2x4xi32>
}

// -----

// PAR-LABEL: func.func @kv_stream_row_budget
// PAR: scf.parallel
// PAR: memref.load %{{.*}}[%{{.*}}, %c0] : memref<3x3xi32>
// PAR: memref.load %{{.*}}[%{{.*}}, %c1] : memref<3x3xi32>
func.func @kv_stream_row_budget(%len: tensor<3xi32>, %rb: tensor<3x3xi32>) -> (tensor<3x2x12xi32>, tensor<3x2xi32>) {
  %slots, %n = tok.kv_select %len row_budget %rb {sinks = 4, window = 8, cache_size = 100}
      : (tensor<3xi32>, tensor<3x3xi32>) -> (tensor<3x2x12xi32>, tensor<3x2xi32>)
  return %slots, %n : tensor<3x2x12xi32>, tensor<3x2xi32>
}
