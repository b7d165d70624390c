// RUN: winnow-opt %s --split-input-file --tok-lower-to-loops --cse | FileCheck %s
// RUN: winnow-opt %s --split-input-file --pass-pipeline="builtin.module(tok-lower-to-loops{intra-row-parallel=true},cse)" | FileCheck %s --check-prefix=PAR

// intra-row-parallel (the cuda target): segment_reduce per (row, segment,
// feature); ema_scan scans its blocks in parallel;
// expand counts each token's segment into a [B, L] buffer, then copies one
// element per iteration (features innermost).
// PAR-LABEL: func.func @boundary
// The GPU form of tok.boundary: eight threads per token, one lane of the
// ordered sums each (the rounds' element `lane`, here none of 4 features,
// then the tail's: no loop), the lanes' sums through shared memory
// and added in lane order by every thread of the group; the group's first
// thread stores p and the mask.
// 16 tokens are too few to fill the GPU with blocks of 256 threads: blocks
// of two warps (8 tokens each).
// PAR: gpu.launch blocks({{.*}}) in ({{.*}} = %c2, {{.*}}) threads(%[[TID:[a-z0-9]+]], {{.*}}) in ({{.*}} = %c64,
// PAR: %[[LANES:.*]] = memref.alloca() : memref<64x3xf32, #gpu.address_space<workgroup>>
// PAR: %[[LANE:.*]] = arith.remui %[[TID]], %c8 : index
// PAR: %[[GROUP:.*]] = arith.subi %[[TID]], %[[LANE]] : index
// PAR: scf.if %{{.*}} -> (f32, f32, f32) {
// PAR-NOT: scf.for
// PAR: arith.cmpi ult, %[[LANE]], %c4
// PAR-NEXT: scf.if
// PAR-NEXT: arith.addi %c0, %[[LANE]]
// PAR: memref.store %{{.*}}, %[[LANES]][%[[TID]], %c0]
// PAR: collective.block_barrier
// PAR-COUNT-8: memref.load %[[LANES]]
// PAR: collective.block_barrier
// PAR: scf.if
// PAR: math.sqrt
// PAR: memref.store
// PAR: memref.store
// PAR: gpu.terminator
// segment_reduce finds each segment's first token by counting the starts
// before it, then reduces one (row, segment, feature) per iteration.
// PAR-LABEL: func.func @segment_mean
// PAR: %[[FIRST:.*]] = memref.alloc() : memref<{{[0-9]+}}x{{[0-9]+}}xindex>
// PAR: scf.parallel (%{{.*}}, %{{.*}}) =
// PAR: memref.store %{{.*}}, %[[FIRST]]
// PAR: scf.parallel (%{{.*}}) =
// PAR: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}) =
// PAR: memref.load %[[FIRST]]
// PAR: arith.divf
// The GPU form of ema_scan, parallel over its blocks (scan_block = 4): a
// launch with a thread per (row, block, feature) walking the block's live
// chunks, their loads issued first, storing L (and Q from the first thread);
// then one thread per (row, feature) joins the blocks in order into the
// carries (slot 0 is 0); then every element is joined in place, 0 past the
// count. expand's segments come from a block scan per row.
// PAR-LABEL: func.func @ema_scan
// PAR-DAG: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x8x4xf32>
// PAR-DAG: %[[DECAY:.*]] = memref.alloc() : memref<2x8xf32>
// PAR-DAG: %[[CARRIES:.*]] = memref.alloc() : memref<2x2x4xf32>
// PAR: gpu.launch blocks({{.*}}) in ({{.*}} = %c4, {{.*}}) threads({{.*}}) in ({{.*}} = %c32,
// PAR: %[[STORESQ:.*]] = arith.cmpi eq, %[[FEATURE:.*]], %c0
// PAR: scf.for
// PAR-COUNT-4: memref.load %{{.*}} : memref<2x8x4xbf16>
// PAR: scf.if
// PAR: memref.store %{{.*}}, %[[OUT]][%{{.*}}, %{{.*}}, %[[FEATURE]]] : memref<2x8x4xf32>
// PAR: scf.if %[[STORESQ]] {
// PAR-NEXT: memref.store %{{.*}}, %[[DECAY]]
// PAR: gpu.terminator
// PAR: scf.parallel (%[[CB:[a-z0-9]+]], %[[CD:[a-z0-9]+]]) =
// PAR: memref.store %{{.*}}, %[[CARRIES]][%[[CB]], %c0, %[[CD]]]
// PAR: scf.for
// PAR: memref.load %[[DECAY]]
// PAR: memref.load %[[OUT]]
// PAR: arith.mulf
// PAR: arith.addf
// PAR: memref.store %{{.*}}, %[[CARRIES]][%[[CB]], %{{.*}}, %[[CD]]]
// PAR: scf.parallel (%[[B:[a-z0-9]+]], %[[J:[a-z0-9]+]], %[[D:[a-z0-9]+]]) =
// PAR: %[[S:.*]] = arith.divui %[[J]], %c4
// PAR: %[[FIRSTBLOCK:.*]] = arith.cmpi ult, %[[J]], %c4
// PAR: %[[Q:.*]] = memref.load %[[DECAY]][%[[B]], %[[J]]]
// PAR: %[[C:.*]] = memref.load %[[CARRIES]][%[[B]], %[[S]], %[[D]]]
// PAR: %[[L:.*]] = memref.load %[[OUT]][%[[B]], %[[J]], %[[D]]]
// PAR: %[[QC:.*]] = arith.mulf %[[Q]], %[[C]]
// PAR: %[[JOINED:.*]] = arith.addf %[[QC]], %[[L]]
// PAR: arith.select %[[FIRSTBLOCK]], %[[L]], %[[JOINED]]
// PAR: memref.store %{{.*}}, %[[OUT]][%[[B]], %[[J]], %[[D]]]
// PAR-LABEL: func.func @expand_residual
// PAR: %[[SEG:.*]] = memref.alloc() : memref<{{[0-9]+}}x{{[0-9]+}}xi32>
// PAR: gpu.launch
// PAR: collective.block_exclusive_scan
// PAR: memref.store %{{.*}}, %[[SEG]]
// PAR: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}) =
// PAR: memref.load %[[SEG]]

// tok.boundary: one iteration per (row, token) over [0, L): p and the mask are both
// written for every position; one fused fp32 loop accumulates <q[t-1], k[t]>,
// ||q[t-1]||^2 and ||k[t]||^2; the norms are floored at 1e-12, the result is
// clamped, and the mask is p > 0.5 restricted to valid positions.
// CHECK-LABEL: func.func @boundary
// CHECK-SAME: (%[[Q:.*]]: tensor<2x8x4xbf16>, %[[K:.*]]: tensor<2x8x4xbf16>, %[[L:.*]]: tensor<2xi32>)
// CHECK-DAG: %[[QB:.*]] = bufferization.to_buffer %[[Q]] read_only : tensor<2x8x4xbf16> to memref<2x8x4xbf16>
// CHECK-DAG: %[[KB:.*]] = bufferization.to_buffer %[[K]] read_only : tensor<2x8x4xbf16> to memref<2x8x4xbf16>
// CHECK-DAG: %[[LB:.*]] = bufferization.to_buffer %[[L]] read_only : tensor<2xi32> to memref<2xi32>
// CHECK-DAG: %[[P:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x8xf32>
// CHECK-DAG: %[[M:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x8xi1>
// CHECK: scf.parallel (%[[B:[a-z0-9]+]], %[[T:[a-z0-9]+]]) =
// CHECK: memref.load %[[LB]][%[[B]]]
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: scf.if %{{.*}} -> (f32) {
// CHECK: %[[PREV:.*]] = arith.subi %[[T]]
// The three ordered sums keep their eight lanes in one vector<8xf32> each.
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: vector.from_elements
// CHECK: arith.addf %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK-DAG: memref.load %[[QB]][%[[B]], %[[PREV]], %{{.*}}] : memref<2x8x4xbf16>
// CHECK-DAG: memref.load %[[KB]][%[[B]], %[[T]], %{{.*}}] : memref<2x8x4xbf16>
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: math.sqrt
// CHECK: arith.constant 9.99999996E-13 : f32
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK: arith.cmpf ogt, %{{.*}}, %{{.*}} : f32
// CHECK: memref.store %{{.*}}, %[[P]][%[[B]], %[[T]]] : memref<2x8xf32>
// CHECK: memref.store %{{.*}}, %[[M]][%[[B]], %[[T]]] : memref<2x8xi1>
// CHECK-DAG: %[[PT:.*]] = bufferization.to_tensor %[[P]] restrict writable : memref<2x8xf32> to tensor<2x8xf32>
// CHECK-DAG: %[[MT:.*]] = bufferization.to_tensor %[[M]] restrict writable : memref<2x8xi1> to tensor<2x8xi1>
// CHECK: return %[[PT]], %[[MT]]
// CHECK-NOT: tok.
func.func @boundary(%q: tensor<2x8x4xbf16>, %k: tensor<2x8x4xbf16>, %len: tensor<2xi32>) -> (tensor<2x8xf32>, tensor<2x8xi1>) {
  %p, %b = tok.boundary %q, %k lengths %len : (tensor<2x8x4xbf16>, tensor<2x8x4xbf16>, tensor<2xi32>) -> (tensor<2x8xf32>, tensor<2x8xi1>)
  return %p, %b : tensor<2x8xf32>, tensor<2x8xi1>
}

// -----

// segment_reduce first: a segment start copies its row straight into the
// next output row (no fp32 round trip, no scratch accumulator); rows past
// the count are zero-filled, and the count is stored per row.
// CHECK-LABEL: func.func @segment_first
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x4xf16>, %[[BND:.*]]: tensor<2x8xi1>, %[[L:.*]]: tensor<2xi32>)
// CHECK-DAG: %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only
// CHECK-DAG: %[[BB:.*]] = bufferization.to_buffer %[[BND]] read_only
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x8x4xf16>
// CHECK-DAG: %[[CNT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// CHECK-NOT: memref.alloca
// CHECK: scf.parallel (%[[B:.*]]) =
// CHECK: %[[SEG:.*]]:2 = scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(
// CHECK: memref.load %[[BB]][%[[B]], %[[T]]] : memref<2x8xi1>
// CHECK: arith.ori
// CHECK: scf.if
// CHECK: %[[V:.*]] = memref.load %[[XB]][%[[B]], %[[T]], %{{.*}}] : memref<2x8x4xf16>
// CHECK-NEXT: memref.store %[[V]], %[[OUT]][%[[B]], %{{.*}}, %{{.*}}] : memref<2x8x4xf16>
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f16
// CHECK: scf.for %{{.*}} = %[[SEG]]#0 to
// CHECK: memref.store %[[ZERO]], %[[OUT]]
// CHECK: %[[N:.*]] = arith.index_cast %[[SEG]]#0 : index to i32
// CHECK: memref.store %[[N]], %[[CNT]][%[[B]]] : memref<2xi32>
// CHECK-NOT: arith.extf
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: bufferization.to_tensor %[[CNT]] restrict writable
// CHECK-NOT: tok.
func.func @segment_first(%x: tensor<2x8x4xf16>, %b: tensor<2x8xi1>, %len: tensor<2xi32>) -> (tensor<2x8x4xf16>, tensor<2xi32>) {
  %o, %n = tok.segment_reduce %x, %b lengths %len : (tensor<2x8x4xf16>, tensor<2x8xi1>, tensor<2xi32>) -> (tensor<2x8x4xf16>, tensor<2xi32>)
  return %o, %n : tensor<2x8x4xf16>, tensor<2xi32>
}

// -----

// segment_reduce mean (bf16): an fp32 row accumulator on the stack, filled
// at a segment start and summed into otherwise; a finished segment is
// scaled by its token count and rounded once to bf16.
// CHECK-LABEL: func.func @segment_mean
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x10x4xbf16>
// CHECK-DAG: %[[CNT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// CHECK-DAG: %[[ACC:.*]] = memref.alloca() : memref<4xf32>
// CHECK: scf.for
// CHECK: scf.if
// CHECK: arith.uitofp %{{.*}} : i64 to f32
// CHECK: memref.load %[[ACC]]
// CHECK: %[[R:.*]] = arith.truncf %{{.*}} : f32 to bf16
// CHECK: memref.store %[[R]], %[[OUT]]
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: memref.store %{{.*}}, %[[ACC]]
// CHECK: } else {
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.addf
// CHECK: memref.store %{{.*}}, %[[ACC]]
// CHECK: memref.store %{{.*}}, %[[CNT]]
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable : memref<2x10x4xbf16> to tensor<2x10x4xbf16>
// CHECK-NOT: tok.
func.func @segment_mean(%x: tensor<2x8x4xbf16>, %b: tensor<2x8xi1>, %len: tensor<2xi32>) -> (tensor<2x10x4xbf16>, tensor<2xi32>) {
  %o, %n = tok.segment_reduce %x, %b lengths %len {reduction = #tok.segment_reduction<mean>}
      : (tensor<2x8x4xbf16>, tensor<2x8xi1>, tensor<2xi32>) -> (tensor<2x10x4xbf16>, tensor<2xi32>)
  return %o, %n : tensor<2x10x4xbf16>, tensor<2xi32>
}

// -----

// max: NaN-propagating arith.maximumf; sum: arith.addf and no scaling. No
// lengths: the token loop runs to the static L.
// CHECK-LABEL: func.func @segment_max_sum
// CHECK: %[[MAXACC:.*]] = memref.alloca() : memref<3xf32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %c8
// CHECK: arith.maximumf %{{.*}}, %{{.*}} : f32
// CHECK: memref.store %{{.*}}, %[[MAXACC]]
// CHECK: %[[SUMACC:.*]] = memref.alloca() : memref<3xf32>
// CHECK-NOT: arith.maximumf
// CHECK-NOT: arith.uitofp
// CHECK: arith.addf %{{.*}}, %{{.*}} : f32
// CHECK: memref.store %{{.*}}, %[[SUMACC]]
// CHECK-NOT: tok.
func.func @segment_max_sum(%x: tensor<1x8x3xf32>, %b: tensor<1x8xi1>) -> (tensor<1x8x3xf32>, tensor<1x8x3xf32>) {
  %m, %nm = tok.segment_reduce %x, %b {reduction = #tok.segment_reduction<max>}
      : (tensor<1x8x3xf32>, tensor<1x8xi1>) -> (tensor<1x8x3xf32>, tensor<1xi32>)
  %s, %ns = tok.segment_reduce %x, %b {reduction = #tok.segment_reduction<sum>}
      : (tensor<1x8x3xf32>, tensor<1x8xi1>) -> (tensor<1x8x3xf32>, tensor<1xi32>)
  return %m, %s : tensor<1x8x3xf32>, tensor<1x8x3xf32>
}

// -----

// ema_scan: an f32 [B, C, D] result, written for every chunk (zbar below the
// clamped count, 0 after); the gate is clamped to [eps, 1 - eps] (here
// eps = 0.25). The fp32 order of blocks of scan_block = 4 chunks: Q (the
// row's decay since the block opened) once per chunk, then per feature
// L = g z + (1 - g) L (L restarts at 0 when the block opens) and zbar =
// L in the first block, else Q * carry + L; when a block after the first
// opens, its carry (zbar_{j-1}, read back from the result) is copied into the
// carry row first, once per block.
// CHECK-LABEL: func.func @ema_scan
// CHECK-SAME: (%[[Z:.*]]: tensor<2x8x4xbf16>, %[[G:.*]]: tensor<2x8xf32>, %[[N:.*]]: tensor<2xi32>)
// CHECK-DAG: %[[ZB:.*]] = bufferization.to_buffer %[[Z]] read_only
// CHECK-DAG: %[[GB:.*]] = bufferization.to_buffer %[[G]] read_only
// CHECK-DAG: %[[NB:.*]] = bufferization.to_buffer %[[N]] read_only
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x8x4xf32>
// CHECK-DAG: %[[LOCAL:.*]] = memref.alloca() : memref<4xf32>
// CHECK-DAG: %[[CARRY:.*]] = memref.alloca() : memref<4xf32>
// CHECK: scf.parallel (%[[B:.*]]) =
// CHECK: memref.load %[[NB]][%[[B]]]
// CHECK: arith.maxsi
// CHECK: %[[COUNT:.*]] = arith.minsi
// CHECK: scf.for %[[J:[a-z0-9]+]] = %{{.*}} to %[[COUNT]] step %{{.*}} iter_args(%[[QIN:.*]] = %[[ONE:.*]]) -> (f32)
// CHECK: memref.load %[[GB]][%[[B]], %[[J]]] : memref<2x8xf32>
// CHECK: arith.maximumf
// CHECK: %[[GATE:.*]] = arith.minimumf
// CHECK: %[[OFFSET:.*]] = arith.remui %[[J]], %[[C4:.*]] : index
// CHECK: %[[OPENS:.*]] = arith.cmpi eq, %[[OFFSET]]
// CHECK: %[[FIRST:.*]] = arith.cmpi ult, %[[J]], %[[C4]] : index
// CHECK: %[[QPREV:.*]] = arith.select %[[OPENS]], %[[ONE]], %[[QIN]] : f32
// CHECK: %[[KEEP:.*]] = arith.subf %[[ONE]], %[[GATE]] : f32
// CHECK: %[[Q:.*]] = arith.mulf %[[KEEP]], %[[QPREV]] : f32
// CHECK: %[[BEFOREJ:.*]] = arith.subi %{{.*}}, %{{.*}} : index
// CHECK: %[[LATER:.*]] = arith.xori %[[FIRST]]
// CHECK: %[[REOPENS:.*]] = arith.andi %[[OPENS]], %[[LATER]] : i1
// CHECK: scf.if %[[REOPENS]] {
// CHECK-NEXT: scf.for %[[DC:[a-z0-9]+]] =
// CHECK-NEXT: %[[BEFORE:.*]] = memref.load %[[OUT]][%[[B]], %[[BEFOREJ]], %[[DC]]] : memref<2x8x4xf32>
// CHECK-NEXT: memref.store %[[BEFORE]], %[[CARRY]][%[[DC]]]
// CHECK: scf.for %[[D:[a-z0-9]+]] =
// CHECK: memref.load %[[ZB]][%[[B]], %[[J]], %[[D]]] : memref<2x8x4xbf16>
// CHECK: %[[Z32:.*]] = arith.extf %{{.*}} : bf16 to f32
// CHECK: %[[LIN:.*]] = memref.load %[[LOCAL]][%[[D]]]
// CHECK: %[[LPREV:.*]] = arith.select %[[OPENS]], %{{.*}}, %[[LIN]] : f32
// CHECK: %[[GZ:.*]] = arith.mulf %[[GATE]], %[[Z32]] : f32
// CHECK: %[[KL:.*]] = arith.mulf %[[KEEP]], %[[LPREV]] : f32
// CHECK: %[[L:.*]] = arith.addf %[[GZ]], %[[KL]] : f32
// CHECK: memref.store %[[L]], %[[LOCAL]][%[[D]]]
// CHECK: %[[C:.*]] = memref.load %[[CARRY]][%[[D]]]
// CHECK: %[[QC:.*]] = arith.mulf %[[Q]], %[[C]] : f32
// CHECK: %[[JOINED:.*]] = arith.addf %[[QC]], %[[L]] : f32
// CHECK: %[[V:.*]] = arith.select %[[FIRST]], %[[L]], %[[JOINED]] : f32
// CHECK: memref.store %[[V]], %[[OUT]][%[[B]], %[[J]], %[[D]]] : memref<2x8x4xf32>
// CHECK: scf.yield %[[Q]] : f32
// CHECK: scf.for %[[PAST:[a-z0-9]+]] = %[[COUNT]] to
// CHECK: memref.store %{{.*}}, %[[OUT]][%[[B]], %[[PAST]], %{{.*}}] : memref<2x8x4xf32>
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[OUT]] restrict writable : memref<2x8x4xf32> to tensor<2x8x4xf32>
// CHECK: return %[[T]]
// CHECK-NOT: tok.
func.func @ema_scan(%z: tensor<2x8x4xbf16>, %g: tensor<2x8xf32>, %n: tensor<2xi32>) -> tensor<2x8x4xf32> {
  %o = tok.ema_scan %z, %g, %n {epsilon = 0.25 : f64, scan_block = 4 : i64} : (tensor<2x8x4xbf16>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// expand with residual: one pass over the tokens with a running segment
// index; a token inside the row whose segment is below C gets
// input[c(t)] + residual[t] formed in f32 and rounded once to bf16, every
// other token 0. The [B, L, D] result is the only buffer written.
// CHECK-LABEL: func.func @expand_residual
// CHECK-SAME: (%[[Z:.*]]: tensor<2x5x4xf32>, %[[BND:.*]]: tensor<2x8xi1>, %[[L:.*]]: tensor<2xi32>, %[[H:.*]]: tensor<2x8x4xbf16>)
// CHECK-DAG: %[[ZB:.*]] = bufferization.to_buffer %[[Z]] read_only
// CHECK-DAG: %[[HB:.*]] = bufferization.to_buffer %[[H]] read_only
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x8x4xbf16>
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : bf16
// CHECK-NOT: memref.alloc
// CHECK: scf.parallel (%[[B:.*]]) =
// CHECK: scf.for %[[T:.*]] = {{.*}} iter_args(
// CHECK: %[[C5:.*]] = arith.constant 5 : index
// CHECK: arith.cmpi slt, %[[SEG:.*]], %[[C5]] : index
// CHECK: scf.if
// CHECK-DAG: memref.load %[[ZB]][%[[B]], %[[SEG]], %{{.*}}] : memref<2x5x4xf32>
// CHECK-DAG: memref.load %[[HB]][%[[B]], %[[T]], %{{.*}}] : memref<2x8x4xbf16>
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.addf %{{.*}}, %{{.*}} : f32
// CHECK: %[[R:.*]] = arith.truncf %{{.*}} : f32 to bf16
// CHECK: memref.store %[[R]], %[[OUT]][%[[B]], %[[T]], %{{.*}}] : memref<2x8x4xbf16>
// CHECK: } else {
// CHECK: memref.store %[[ZERO]], %[[OUT]][%[[B]], %[[T]], %{{.*}}] : memref<2x8x4xbf16>
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable : memref<2x8x4xbf16> to tensor<2x8x4xbf16>
// CHECK-NOT: tok.
func.func @expand_residual(%z: tensor<2x5x4xf32>, %b: tensor<2x8xi1>, %len: tensor<2xi32>, %h: tensor<2x8x4xbf16>) -> tensor<2x8x4xbf16> {
  %o = tok.expand %z, %b lengths %len residual %h
      : (tensor<2x5x4xf32>, tensor<2x8xi1>, tensor<2xi32>, tensor<2x8x4xbf16>) -> tensor<2x8x4xbf16>
  return %o : tensor<2x8x4xbf16>
}

// -----

// expand without residual: a plain copy of the segment's row (no
// arithmetic on the values).
// CHECK-LABEL: func.func @expand_copy
// CHECK-DAG: %[[ZB:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<2x12x4xf16> to memref<2x12x4xf16>
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x8x4xf16>
// CHECK: scf.if
// CHECK: %[[V:.*]] = memref.load %[[ZB]]
// CHECK-NEXT: memref.store %[[V]], %[[OUT]]
// CHECK-NOT: arith.addf
// CHECK-NOT: arith.truncf
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
// CHECK-NOT: tok.
func.func @expand_copy(%z: tensor<2x12x4xf16>, %b: tensor<2x8xi1>) -> tensor<2x8x4xf16> {
  %o = tok.expand %z, %b : (tensor<2x12x4xf16>, tensor<2x8xi1>) -> tensor<2x8x4xf16>
  return %o : tensor<2x8x4xf16>
}

// -----

// The GPU form of a plain expand (no residual) copies one 16-byte chunk per
// iteration (8 bf16) when the features are whole chunks and both buffers
// are aligned (checked at run time; else the same chunk element by
// element); padding rows get a zero vector.
// PAR-LABEL: func.func @expand_vectors
// PAR: gpu.launch
// PAR: scf.parallel (%{{.*}}, %{{.*}}, %[[CHUNK:.*]]) = (%c0, %c0, %c0) to (%c2, %c8, %c2)
// PAR: arith.muli %[[CHUNK]], %c8 : index
// PAR: vector.load %{{.*}} {alignment = 16 : i64} : memref<2x3x16xbf16>, vector<8xbf16>
// PAR: vector.store %{{.*}} {alignment = 16 : i64} : memref<2x8x16xbf16>, vector<8xbf16>
// PAR: vector.broadcast
// PAR: vector.store
func.func @expand_vectors(%z: tensor<2x3x16xbf16>, %b: tensor<2x8xi1>) -> tensor<2x8x16xbf16> {
  %x = tok.expand %z, %b : (tensor<2x3x16xbf16>, tensor<2x8xi1>) -> tensor<2x8x16xbf16>
  return %x : tensor<2x8x16xbf16>
}
