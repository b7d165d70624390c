// RUN: winnow-opt %s --split-input-file --tok-lower-to-loops --cse | FileCheck %s
// RUN: winnow-opt %s --split-input-file --tok-lower-to-loops --cse | FileCheck %s --check-prefix=ALLOC
// RUN: winnow-opt %s --split-input-file --pass-pipeline="builtin.module(tok-lower-to-loops{intra-row-parallel=true},cse)" | FileCheck %s --check-prefix=PAR

// intra-row-parallel (the cuda target): the row statistics come from
// split-vocabulary tables computed before the per-request loop: one block per
// (request, row), lane c (thread c of 256) reads v = c, c + 256, ..., 8
// entries per trip of a loop of constant trip count, their values computed
// before they are folded in order (entries past V read entry V - 1 and are
// dropped); an argmax combines the lanes' partials by a block argmax (the
// larger value, ties to the lower index: the lane-order fold's answer; id 0
// when nothing beat -inf), a sum folds them in lane order (below); greedy
// needs only the argmax table, the sampling modes get every statistic from
// one launch.
// PAR-LABEL: func.func @greedy
// PAR: %[[ARGMAX:.*]] = memref.alloc() : memref<2x4xindex>
// PAR: gpu.launch blocks(%[[BLOCK:[a-z0-9]+]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c8, %{{.*}} = %c1, %{{.*}} = %c1) threads(%[[LANE:[a-z0-9]+]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c256,
// PAR: scf.for %[[TRIP:[a-z0-9]+]] = %c0{{.*}} to %c1 step %c1 iter_args(%[[BEST:[a-z0-9]+]] =
// PAR: %[[BASE:.*]] = arith.muli %[[TRIP]], %c2048 : index
// PAR: arith.addi %[[LANE]], %[[BASE]] : index
// PAR: %[[AT0:.*]] = arith.minui %{{.*}}, %c999 : index
// PAR: %[[X0:.*]] = memref.load %{{.*}}[%{{.*}}, %{{.*}}, %[[AT0]]]
// PAR: %[[F0:.*]] = arith.extf %[[X0]]
// PAR: %[[AT1:.*]] = arith.minui %{{.*}}, %c999 : index
// PAR: %[[X1:.*]] = memref.load %{{.*}}[%{{.*}}, %{{.*}}, %[[AT1]]]
// PAR: %[[F1:.*]] = arith.extf %[[X1]]
// PAR-COUNT-6: arith.minui %{{.*}}, %c999 : index
// PAR-NOT: arith.cmpf
// PAR: arith.cmpf ogt, %[[F0]], %[[BEST]] : f32
// PAR-NOT: arith.cmpf ogt, %[[F0]]
// PAR: arith.cmpf ogt, %[[F1]], %{{.*}} : f32
// PAR: %[[MAX:.*]], %[[AT:.*]] = collective.block_argmax
// PAR: %[[NONE:.*]] = arith.cmpf oeq, %[[MAX]], %{{.*}} : f32
// PAR: %[[ID:.*]] = arith.index_cast %[[AT]] : i32 to index
// PAR: %[[WINNER:.*]] = arith.select %[[NONE]], %{{.*}}, %[[ID]] : index
// PAR: scf.if
// PAR: memref.store %[[WINNER]], %[[ARGMAX]]
// PAR: gpu.terminator
// PAR-NOT: math.exp
// PAR: scf.parallel (%{{.*}}) =
// PAR: memref.load %[[ARGMAX]]
// Rejection: two launches. The chunk statistics (a warp per 256-entry
// chunk: its maximum by a warp max, its sum of exponentials scaled by that
// maximum by the warp tree; no argmax, as no request can be greedy without
// a temperature or is_greedy operand), whose first block of each request
// also clears the request's arrival counter. Then a block per (request,
// vocabulary slice; one slice of V = 1000 here): its warps fold the
// request's rows' chunks into log-sum-exps in workgroup memory, thread 0
// walks the drafts on them (only the first slice's block writes the
// results) and keeps the one row that needs a race in workgroup memory
// (kind 1: after a rejection, the residual; kind 2: the bonus row, p); the
// block races its slice, and the last block of the request to arrive folds
// the slices and writes the token.
// PAR-LABEL: func.func @rejection_explicit
// PAR: %[[COUNTERS:.*]] = memref.alloc() : memref<2xi32>
// PAR: %[[CHUNK_MAX:.*]] = memref.alloc() : memref<2x4x4xf32>
// PAR: %[[CHUNK_SUM:.*]] = memref.alloc() : memref<2x4x4xf32>
// PAR-NOT: memref.alloc() : memref<2x4x4xindex>
// PAR: gpu.launch blocks({{.*}}) in (%{{.*}} = %c8, {{.*}}) threads({{.*}}) in (%{{.*}} = %c256,
// PAR: memref.store %c0_i32, %[[COUNTERS]][%[[REQ0:.*]]] : memref<2xi32>
// PAR: %[[CHUNK_LARGEST:.*]] = collective.warp_reduce max
// PAR-NOT: collective.warp_reduce min
// PAR: math.exp
// PAR: collective.warp_reduce add
// PAR: gpu.terminator
// PAR: %[[SLICE_MAX:.*]] = memref.alloc() : memref<2x1xf32>
// PAR: gpu.launch blocks({{.*}}) in (%{{.*}} = %c2, %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c256,
// PAR: %[[ROW:.*]] = memref.alloca() : memref<1xindex, #gpu.address_space<workgroup>>
// PAR-NEXT: %[[KIND:.*]] = memref.alloca() : memref<1xi32, #gpu.address_space<workgroup>>
// PAR-NEXT: %[[ROW_LSE:.*]] = memref.alloca() : memref<4xf32, #gpu.address_space<workgroup>>
// PAR: memref.load %[[CHUNK_MAX]]
// PAR: collective.warp_reduce max
// PAR: memref.load %[[CHUNK_SUM]]
// PAR: collective.warp_reduce add
// PAR: math.log
// PAR: memref.store %{{.*}}, %[[ROW_LSE]]
// PAR: collective.block_barrier
// PAR: memref.store %{{.*}}, %[[KIND]][%c0]
// PAR: memref.store %{{.*}}, %[[ROW]][%c0]
// PAR-NEXT: %[[RESIDUAL:.*]] = arith.constant 1 : i32
// PAR-NEXT: memref.store %[[RESIDUAL]], %[[KIND]][%c0]
// PAR: memref.store %{{.*}}, %[[ROW]][%c0]
// PAR-NEXT: %[[BONUS:.*]] = arith.constant 2 : i32
// PAR-NEXT: memref.store %[[BONUS]], %[[KIND]][%c0]
// PAR: collective.block_barrier
// PAR-NEXT: memref.load %[[KIND]][%c0]
// PAR: memref.store %{{.*}}, %[[SLICE_MAX]]
// PAR: %[[LAST:.*]] = collective.grid_arrive %[[COUNTERS]][%{{.*}}] of %c1 : memref<2xi32>
// PAR: scf.if %[[LAST]]
// PAR: memref.load %[[SLICE_MAX]]
// PAR: gpu.terminator
// PAR-NOT: gpu.launch
// PAR-NOT: scf.parallel
// PAR: return

// Typical, a batch that leaves SMs idle: the chunk statistics (as
// rejection's); then the chunks' entropy sums, a warp per chunk, in blocks
// whose first warp folds the row's log-sum-exp first (the largest chunk
// maximum M, then the chunks' s_c exp(m_c - M) by the warp tree, M + log of
// that) into shared memory; then the race kernel, whose warps fold each
// row's log-sum-exp and entropy (the chunks' sums by the warp tree) into
// shared tables before thread 0's walk.
// PAR-LABEL: func.func @typical
// PAR: gpu.launch blocks({{.*}}) in (%{{.*}} = %c8, {{.*}}) threads({{.*}}) in (%{{.*}} = %c256,
// PAR: collective.warp_reduce max
// PAR: collective.warp_reduce add
// PAR: gpu.terminator
// PAR: %[[ENTROPIES:.*]] = memref.alloc() : memref<2x4x4xf32>
// PAR: gpu.launch blocks({{.*}}) in (%{{.*}} = %c8, {{.*}}) threads({{.*}}) in (%{{.*}} = %c256,
// PAR: %[[ROW_LSE:.*]] = memref.alloca() : memref<1xf32, #gpu.address_space<workgroup>>
// PAR: %[[M:.*]] = collective.warp_reduce max
// PAR: math.exp
// PAR: %[[TOTAL:.*]] = collective.warp_reduce add
// PAR-NEXT: %[[LOG:.*]] = math.log %[[TOTAL]]
// PAR-NEXT: %[[LSE:.*]] = arith.addf %[[M]], %[[LOG]]
// PAR: memref.store %[[LSE]], %[[ROW_LSE]][%c0
// PAR: collective.block_barrier
// PAR: math.log
// PAR: %[[CHUNK_TERM:.*]] = collective.warp_reduce add
// PAR: memref.store %[[CHUNK_TERM]], %[[ENTROPIES]]
// PAR: gpu.terminator
// PAR: gpu.launch blocks({{.*}}) in (%{{.*}} = %c2, {{.*}}) threads({{.*}}) in (%{{.*}} = %c256,
// PAR: %[[LSES:.*]] = memref.alloca() : memref<4xf32, #gpu.address_space<workgroup>>
// PAR: %[[ENTROPY:.*]] = memref.alloca() : memref<4xf32, #gpu.address_space<workgroup>>
// PAR: collective.warp_reduce max
// PAR: memref.store %{{.*}}, %[[LSES]]
// PAR: memref.load %[[ENTROPIES]]
// PAR: %[[ROW_ENTROPY:.*]] = collective.warp_reduce add
// PAR: memref.store %[[ROW_ENTROPY]], %[[ENTROPY]]
// PAR: collective.block_barrier
// PAR: memref.load %[[ENTROPY]]
// PAR: gpu.terminator
// PAR-NOT: gpu.launch

// A batch that fills the GPU (300 requests, one vocabulary slice each)
// folds each row once: the chunk statistics, then a block per (request,
// row) folding them and summing the entropy, then the race kernel reading
// the device tables.
// PAR-LABEL: func.func @typical_large_batch
// PAR: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1200,
// PAR: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1200,
// PAR: %[[ROW_LSE:.*]] = memref.alloca() : memref<1xf32, #gpu.address_space<workgroup>>
// PAR: %[[CHUNK_ENTROPY:.*]] = memref.alloca() : memref<4xf32, #gpu.address_space<workgroup>>
// PAR: gpu.launch blocks({{.*}}) in (%{{.*}} = %c300,
// PAR-NOT: collective.warp_reduce
// PAR: gpu.terminator
// PAR: return

// Structure of the tok.spec_verify lowering, per mode: no tok op is left;
// the three results are the only heap buffers ([B, K+1] tokens, [B] counts),
// written per request and returned; nothing of size V is ever allocated (no
// probability row: ~2 streaming passes over the logits instead); the Philox
// generator (multipliers 0xD2511F53 = 3528531795, 0xCD9E8D57 = 3449720151)
// appears only with seed/offset. V = 1000 makes any V-sized buffer visible.

// ALLOC-LABEL: func.func @greedy
// ALLOC: memref.alloc() {alignment = 64 : i64} : memref<2x4xi32>
// ALLOC: memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// ALLOC: memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// ALLOC-NOT: memref.alloc(
// ALLOC-NOT: 3528531795
// ALLOC-NOT: math.exp

// Greedy: argmax of the raw logits per row (no softmax, no exp, no noise),
// a store per emitted row, -1 padding, the two counts.
// CHECK-LABEL: func.func @greedy
// CHECK-SAME: (%[[L:.*]]: tensor<2x4x1000xbf16>, %[[D:.*]]: tensor<2x3xi32>, %[[N:.*]]: tensor<2xi32>)
// CHECK-NOT: math.exp
// CHECK-NOT: 3528531795
// CHECK-DAG: %[[LB:.*]] = bufferization.to_buffer %[[L]] read_only : tensor<2x4x1000xbf16> to memref<2x4x1000xbf16>
// CHECK-DAG: %[[DB:.*]] = bufferization.to_buffer %[[D]] read_only : tensor<2x3xi32> to memref<2x3xi32>
// CHECK-DAG: %[[NB:.*]] = bufferization.to_buffer %[[N]] read_only : tensor<2xi32> to memref<2xi32>
// CHECK-DAG: %[[TOK:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x4xi32>
// CHECK-DAG: %[[ACC:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// CHECK-DAG: %[[EMIT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// CHECK: scf.parallel (%[[B:.*]]) =
// CHECK: memref.load %[[NB]][%[[B]]]
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: memref.load %[[DB]][%[[B]], %{{.*}}]
// CHECK: memref.load %[[LB]][%[[B]], %{{.*}}, %{{.*}}] : memref<2x4x1000xbf16>
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.cmpf ogt
// CHECK: memref.store %{{.*}}, %[[TOK]][%[[B]], %{{.*}}] : memref<2x4xi32>
// CHECK: memref.store %{{.*}}, %[[TOK]][%[[B]], %{{.*}}] : memref<2x4xi32>
// CHECK: memref.store %c-1_i32, %[[TOK]][%[[B]], %{{.*}}] : memref<2x4xi32>
// CHECK: memref.store %{{.*}}, %[[ACC]][%[[B]]] : memref<2xi32>
// CHECK: memref.store %{{.*}}, %[[EMIT]][%[[B]]] : memref<2xi32>
// CHECK-NOT: math.exp
// CHECK-DAG: %[[TT:.*]] = bufferization.to_tensor %[[TOK]] restrict writable : memref<2x4xi32> to tensor<2x4xi32>
// CHECK-DAG: %[[AT:.*]] = bufferization.to_tensor %[[ACC]] restrict writable : memref<2xi32> to tensor<2xi32>
// CHECK-DAG: %[[ET:.*]] = bufferization.to_tensor %[[EMIT]] restrict writable : memref<2xi32> to tensor<2xi32>
// CHECK: return %[[TT]], %[[AT]], %[[ET]]
// CHECK-NOT: tok.
func.func @greedy(%l: tensor<2x4x1000xbf16>, %d: tensor<2x3xi32>, %n: tensor<2xi32>)
    -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  %t, %a, %e = tok.spec_verify %l, %d, %n {mode = #tok.verify_mode<greedy>}
      : (tensor<2x4x1000xbf16>, tensor<2x3xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

// ALLOC-LABEL: func.func @rejection_explicit
// ALLOC: memref.alloc() {alignment = 64 : i64} : memref<2x4xi32>
// ALLOC: memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// ALLOC: memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// ALLOC-NOT: memref.alloc(
// ALLOC-NOT: 3528531795

// Rejection with draft_probs and explicit noise: row statistics (chunk
// maxima, then sums of exp) streamed from the logits, p(x) / q(x) >= u
// (oge) against the given uniform, the residual max(p - q, 0) re-streamed
// and raced against the given exponentials. No Philox.
// CHECK-LABEL: func.func @rejection_explicit
// CHECK-SAME: (%[[L:.*]]: tensor<2x4x1000xf32>, %[[D:.*]]: tensor<2x3xi32>, %[[N:.*]]: tensor<2xi32>, %[[Q:.*]]: tensor<2x3x1000xf32>, %[[U:.*]]: tensor<2x3xf32>, %[[E:.*]]: tensor<2x1000xf32>)
// CHECK-NOT: 3528531795
// CHECK-DAG: %[[QB:.*]] = bufferization.to_buffer %[[Q]] read_only
// CHECK-DAG: %[[UB:.*]] = bufferization.to_buffer %[[U]] read_only
// CHECK-DAG: %[[EB:.*]] = bufferization.to_buffer %[[E]] read_only
// CHECK-DAG: %[[TOK:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x4xi32>
// CHECK: scf.parallel (%[[B:.*]]) =
// A draft row's q(x) and uniform are loaded before the walk decides
// whether it reaches the row.
// CHECK: memref.load %[[QB]]
// CHECK: memref.load %[[UB]][%[[B]], %{{.*}}] : memref<2x3xf32>
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: math.log
// CHECK: arith.divf
// CHECK: arith.cmpf oge
// CHECK: memref.store %{{.*}}, %[[TOK]]
// After a rejection the chunks run in parallel: each stages residual / E,
// notes whether any residual is positive and scans its staged values for
// its own first maximum into chunk tables; the chunks' maxima are then
// scanned in chunk order (the same strict comparison), and p races only
// when no residual was positive.
// CHECK: scf.parallel (%[[C:.*]]) =
// CHECK: %[[ANY:.*]] = scf.for %{{.*}} iter_args(%[[ANY_IN:.*]] = %{{.*}}) -> (i1)
// CHECK: memref.load %[[QB]]
// CHECK: arith.subf
// CHECK: %[[RESIDUAL:.*]] = arith.maximumf
// CHECK: memref.load %[[EB]][%[[B]], %{{.*}}] : memref<2x1000xf32>
// CHECK: %[[RATIO:.*]] = arith.divf %[[RESIDUAL]]
// CHECK: %[[POSITIVE:.*]] = arith.cmpf ogt, %[[RESIDUAL]]
// CHECK: memref.store %[[RATIO]], %[[TERMS:.*]][%{{.*}}] : memref<256xf32>
// CHECK: arith.ori %[[ANY_IN]], %[[POSITIVE]] : i1
// CHECK: %[[FOUND:.*]]:2 = scf.for
// CHECK: memref.load %[[TERMS]]
// CHECK: arith.cmpf ogt
// CHECK: memref.store %[[FOUND]]#0, %[[MAXIMA:.*]][%[[C]]] : memref<4xf32>
// CHECK: memref.store %[[FOUND]]#1, %[[FIRSTS:.*]][%[[C]]] : memref<4xindex>
// CHECK: memref.store %[[ANY]], %[[FLAGS:.*]][%[[C]]] : memref<4xi1>
// CHECK: %[[RACE:.*]]:3 = scf.for %[[K:.*]] = %{{.*}} iter_args({{.*}}) -> (f32, index, i1)
// CHECK: memref.load %[[FIRSTS]][%[[K]]]
// CHECK: memref.load %[[MAXIMA]][%[[K]]]
// CHECK: arith.cmpf ogt
// CHECK: memref.load %[[FLAGS]][%[[K]]]
// CHECK: scf.if %[[RACE]]#2 -> (index) {
// CHECK-NEXT: scf.yield %[[RACE]]#1 : index
// CHECK-NEXT: } else {
// CHECK: memref.store %{{.*}}, %[[TOK]]
// CHECK: return
// CHECK-NOT: 3528531795
// CHECK-NOT: tok.
func.func @rejection_explicit(%l: tensor<2x4x1000xf32>, %d: tensor<2x3xi32>, %n: tensor<2xi32>,
    %q: tensor<2x3x1000xf32>, %u: tensor<2x3xf32>, %x: tensor<2x1000xf32>)
    -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  %t, %a, %e = tok.spec_verify %l, %d, %n draft_probs %q uniforms %u exponentials %x
      : (tensor<2x4x1000xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x3x1000xf32>, tensor<2x3xf32>,
         tensor<2x1000xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

// ALLOC-LABEL: func.func @rejection_philox
// ALLOC: memref.alloc() {alignment = 64 : i64} : memref<3x5xi32>
// ALLOC: memref.alloc() {alignment = 64 : i64} : memref<3xi32>
// ALLOC: memref.alloc() {alignment = 64 : i64} : memref<3xi32>
// ALLOC-NOT: memref.alloc(

// Rejection with one-hot drafts, temperature, is_greedy and Philox noise:
// key = (lo32, hi32) of seed[b], counter words from offset[b]; ten rounds
// of the two 32x32->64 multiplies with the Weyl key bumps (0x9E3779B9 and
// 0xBB67AE85 as i32); u = (w >> 8) * 2^-24.
// CHECK-LABEL: func.func @rejection_philox
// CHECK-SAME: %[[T:[a-z0-9]+]]: tensor<3xf32>, %[[G:[a-z0-9]+]]: tensor<3xi1>, %[[S:[a-z0-9]+]]: tensor<3xi64>, %[[O:[a-z0-9]+]]: tensor<3xi64>
// CHECK-DAG: %[[TB:.*]] = bufferization.to_buffer %[[T]] read_only
// CHECK-DAG: %[[GB:.*]] = bufferization.to_buffer %[[G]] read_only
// CHECK-DAG: %[[SB:.*]] = bufferization.to_buffer %[[S]] read_only
// CHECK-DAG: %[[OB:.*]] = bufferization.to_buffer %[[O]] read_only
// CHECK: scf.parallel (%[[B:.*]]) =
// CHECK-DAG: memref.load %[[TB]][%[[B]]]
// CHECK-DAG: memref.load %[[GB]][%[[B]]]
// CHECK-DAG: memref.load %[[SB]][%[[B]]] : memref<3xi64>
// CHECK-DAG: memref.load %[[OB]][%[[B]]] : memref<3xi64>
// CHECK-DAG: arith.shrui %{{.*}}, %c32_i64 : i64
// CHECK-COUNT-10: arith.muli %{{.*}}, %c3528531795_i64 : i64
// CHECK: arith.shrui %{{.*}}, %c8_i32 : i32
// CHECK: arith.uitofp
// CHECK: arith.constant 5.96046448E-8 : f32
// CHECK: arith.cmpf oge
// CHECK: arith.constant 3449720151 : i64
// CHECK: return
// CHECK-NOT: tok.
func.func @rejection_philox(%l: tensor<3x5x1000xf16>, %d: tensor<3x4xi32>, %n: tensor<3xi32>,
    %t: tensor<3xf32>, %g: tensor<3xi1>, %s: tensor<3xi64>, %o: tensor<3xi64>)
    -> (tensor<3x5xi32>, tensor<3xi32>, tensor<3xi32>) {
  %tok, %a, %e = tok.spec_verify %l, %d, %n temperature %t is_greedy %g seed %s offset %o
      : (tensor<3x5x1000xf16>, tensor<3x4xi32>, tensor<3xi32>, tensor<3xf32>, tensor<3xi1>,
         tensor<3xi64>, tensor<3xi64>) -> (tensor<3x5xi32>, tensor<3xi32>, tensor<3xi32>)
  return %tok, %a, %e : tensor<3x5xi32>, tensor<3xi32>, tensor<3xi32>
}

// -----

// ALLOC-LABEL: func.func @typical
// ALLOC: memref.alloc() {alignment = 64 : i64} : memref<2x4xi32>
// ALLOC: memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// ALLOC: memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// ALLOC-NOT: memref.alloc(

// Typical: entropy with log(p + 1e-5) streamed over the row, the threshold
// min(epsilon, alpha * exp(-H)) with the custom attributes, the strict
// p(x) > threshold, and no uniform (the only noise is the exponential race,
// here from Philox). The log-sum-exp and entropy sums run in the chunk
// order of the op description, which the GPU form's warps take: chunks of
// 256 entries, 32 lanes of 8 consecutive entries each, the lanes meeting in
// the warp tree (lane l takes lane l + 16, 8, 4, 2, 1), each chunk's
// exponentials scaled by its own maximum; the chunks meet the same way.
// The lanes' maxima step through entry j of every lane before entry j + 1,
// and the exponentials are computed in a loop of their own into a chunk of
// scratch that the ordered sums then read (both loops vectorise). The
// chunks are a parallel loop (threads share a request's row) with scratch
// and chunk tables of its own; full chunks and the last partial one are
// separate branches, so that each has constant bounds.
// CHECK-LABEL: func.func @typical
// CHECK: %[[LANES:.*]] = memref.alloca() : memref<32xf32>
// CHECK-NEXT: %[[CHUNK_MAX:.*]] = memref.alloca() : memref<4xf32>
// CHECK: %[[CHUNK_SUM:.*]] = memref.alloca() : memref<4xf32>
// CHECK: %[[CHUNK_LANES:.*]] = memref.alloca() : memref<32xf32>
// CHECK: %[[TERMS:.*]] = memref.alloca() : memref<256xf32>
// CHECK: scf.parallel
// CHECK: scf.parallel (%[[CHUNK:.*]]) = (%c0) to (%c4{{(_[0-9]+)?}}) step (%c1)
// CHECK: %[[IS_FULL:.*]] = arith.cmpi ult, %[[CHUNK]], %c3{{(_[0-9]+)?}} : index
// CHECK: scf.if %[[IS_FULL]]
// CHECK: scf.for %{{.*}} = %c0 to %[[ENTRIES:c8(_[0-9]+)?]] step %c1
// CHECK-NEXT: scf.for %[[MAX_LANE:.*]] = %c0 to %[[LANE_COUNT:c32(_[0-9]+)?]] step %c1
// CHECK: arith.cmpf ogt
// CHECK: memref.store %{{.*}}, %[[CHUNK_LANES]][%[[MAX_LANE]]] : memref<32xf32>
// CHECK: scf.for %[[TERM:.*]] = %c0 to %{{[0-9]+}} step %c1
// CHECK-NOT: scf.for
// CHECK: math.exp %{{.*}} {tok.nonpositive_exponent} : f32
// CHECK-NEXT: memref.store %{{.*}}, %[[TERMS]][%[[TERM]]] : memref<256xf32>
// CHECK-NEXT: }
// CHECK-NEXT: scf.for %{{.*}} = %c0 to %[[LANE_COUNT]] step %c1
// CHECK: %[[LANE_SUM:.*]] = scf.for %[[ENTRY:.*]] = %{{.*}} to %{{.*}} step %c1
// CHECK: memref.load %[[TERMS]][%[[ENTRY]]] : memref<256xf32>
// CHECK: memref.store %[[LANE_SUM]], %[[CHUNK_LANES]][%{{.*}}] : memref<32xf32>
// CHECK: scf.for %[[L:.*]] = %c0 to %c16{{(_[0-9]+)?}} step %c1
// CHECK: %[[HIGH:.*]] = arith.addi %[[L]], %c16{{(_[0-9]+)?}} : index
// CHECK: %[[LOW_SUM:.*]] = memref.load %[[CHUNK_LANES]][%[[L]]]
// CHECK: %[[HIGH_SUM:.*]] = memref.load %[[CHUNK_LANES]][%[[HIGH]]]
// CHECK: %[[BOTH:.*]] = arith.addf %[[LOW_SUM]], %[[HIGH_SUM]] : f32
// CHECK: memref.store %[[BOTH]], %[[CHUNK_LANES]][%[[L]]]
// CHECK: scf.for %{{.*}} = %c0 to %c8{{(_[0-9]+)?}} step %c1
// CHECK: scf.for %{{.*}} = %c0 to %c4{{(_[0-9]+)?}} step %c1
// CHECK: scf.for %{{.*}} = %c0 to %c2{{(_[0-9]+)?}} step %c1
// CHECK: scf.for %{{.*}} = %c0 to %c1{{(_[0-9]+)?}} step %c1
// CHECK: memref.store %{{.*}}, %[[CHUNK_MAX]][%[[CHUNK]]]
// CHECK: memref.store %{{.*}}, %[[CHUNK_SUM]][%[[CHUNK]]]
// The last chunk (entries 768 to 1000): the same steps, constant bounds.
// CHECK: } else {
// CHECK: memref.store %{{.*}}, %[[CHUNK_MAX]][%c3{{(_[0-9]+)?}}]
// CHECK: memref.store %{{.*}}, %[[CHUNK_SUM]][%c3{{(_[0-9]+)?}}]
// The chunks: the largest maximum, then lane l adds chunks l, l + 32, ...
// CHECK: arith.maximumf
// CHECK: scf.for %[[LANE:.*]] = %c0 to %c32{{(_[0-9]+)?}} step %c1
// CHECK: scf.for %[[C:.*]] = %[[LANE]] to %c4{{(_[0-9]+)?}} step %c32
// CHECK: memref.load %[[CHUNK_MAX]][%[[C]]]
// CHECK: memref.load %[[CHUNK_SUM]][%[[C]]]
// CHECK: math.exp %{{.*}} {tok.nonpositive_exponent} : f32
// CHECK: math.log
// CHECK: scf.for
// CHECK: arith.constant 9.99999974E-6 : f32
// CHECK: math.log
// CHECK-DAG: arith.constant 2.000000e-01 : f32
// CHECK-DAG: arith.constant 5.000000e-01 : f32
// CHECK: arith.negf
// CHECK-NEXT: math.exp
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: arith.minimumf
// CHECK-NEXT: arith.cmpf ogt
// CHECK-NOT: arith.cmpf oge
// CHECK: arith.muli %{{.*}}, %c3528531795_i64 : i64
// CHECK: return
// CHECK-NOT: tok.
func.func @typical(%l: tensor<2x4x1000xf16>, %d: tensor<2x3xi32>, %n: tensor<2xi32>, %s: tensor<2xi64>,
    %o: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  %t, %a, %e = tok.spec_verify %l, %d, %n seed %s offset %o
      {mode = #tok.verify_mode<typical>, typical_epsilon = 0.2, typical_alpha = 0.5}
      : (tensor<2x4x1000xf16>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>)
      -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

// CHECK-LABEL: func.func @typical_large_batch
// ALLOC-LABEL: func.func @typical_large_batch
func.func @typical_large_batch(%l: tensor<300x4x1000xf16>, %d: tensor<300x3xi32>,
    %n: tensor<300xi32>, %s: tensor<300xi64>, %o: tensor<300xi64>)
    -> (tensor<300x4xi32>, tensor<300xi32>, tensor<300xi32>) {
  %t, %a, %e = tok.spec_verify %l, %d, %n seed %s offset %o
      {mode = #tok.verify_mode<typical>}
      : (tensor<300x4x1000xf16>, tensor<300x3xi32>, tensor<300xi32>, tensor<300xi64>,
         tensor<300xi64>) -> (tensor<300x4xi32>, tensor<300xi32>, tensor<300xi32>)
  return %t, %a, %e : tensor<300x4xi32>, tensor<300xi32>, tensor<300xi32>
}

// -----

// ALLOC-LABEL: func.func @typical_explicit
// ALLOC: memref.alloc() {alignment = 64 : i64} : memref<1x3xi32>
// ALLOC: memref.alloc() {alignment = 64 : i64} : memref<1xi32>
// ALLOC: memref.alloc() {alignment = 64 : i64} : memref<1xi32>
// ALLOC-NOT: memref.alloc(
// ALLOC-NOT: 3528531795

// Typical with explicit exponentials: no Philox at all.
// CHECK-LABEL: func.func @typical_explicit
// CHECK-NOT: 3528531795
// CHECK: arith.constant 9.99999974E-6 : f32
// CHECK: return
// CHECK-NOT: 3528531795
// CHECK-NOT: tok.
func.func @typical_explicit(%l: tensor<1x3x1000xbf16>, %d: tensor<1x2xi32>, %n: tensor<1xi32>,
    %x: tensor<1x1000xf32>) -> (tensor<1x3xi32>, tensor<1xi32>, tensor<1xi32>) {
  %t, %a, %e = tok.spec_verify %l, %d, %n exponentials %x {mode = #tok.verify_mode<typical>}
      : (tensor<1x3x1000xbf16>, tensor<1x2xi32>, tensor<1xi32>, tensor<1x1000xf32>)
      -> (tensor<1x3xi32>, tensor<1xi32>, tensor<1xi32>)
  return %t, %a, %e : tensor<1x3xi32>, tensor<1xi32>, tensor<1xi32>
}

// -----

// Few rows of a long vocabulary: the argmax table is cut into vocabulary
// slices (3 rows x 2 slices of 20000 entries: 6 blocks), each slice's lane
// walk starting at its first entry and stopping at its end, then one
// iteration per row folds the slices in order (exact: the first maximum).
// ALLOC-LABEL: func.func @greedy_long_vocab
// CHECK-LABEL: func.func @greedy_long_vocab
// PAR-LABEL: func.func @greedy_long_vocab
// PAR: %[[ARGMAX:.*]] = memref.alloc() : memref<1x3xindex>
// PAR: %[[SLICES:.*]] = memref.alloc() : memref<1x3x2xindex>
// PAR: gpu.launch blocks(%[[BLOCK:[a-z0-9]+]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c6, %{{.*}} = %c1, %{{.*}} = %c1) threads(%[[LANE:[a-z0-9]+]],
// PAR: %[[SLICE:.*]] = arith.remui %[[BLOCK]], %c2 : index
// PAR: %[[FIRST:.*]] = arith.muli %[[SLICE]], %c20000 : index
// PAR: arith.addi %[[FIRST]], %[[LANE]] : index
// PAR: memref.store %{{.*}}, %[[SLICES]][%{{.*}}, %{{.*}}, %[[SLICE]]]
// PAR: gpu.terminator
// PAR: scf.parallel
// PAR: scf.for %{{.*}} = %c0{{.*}} to %c2 step %c1
// PAR: memref.load %[[SLICES]]
// PAR: memref.store %{{.*}}, %[[ARGMAX]]
func.func @greedy_long_vocab(%l: tensor<1x3x40000xbf16>, %d: tensor<1x2xi32>, %n: tensor<1xi32>)
    -> (tensor<1x3xi32>, tensor<1xi32>, tensor<1xi32>) {
  %t, %a, %e = tok.spec_verify %l, %d, %n {mode = #tok.verify_mode<greedy>}
      : (tensor<1x3x40000xbf16>, tensor<1x2xi32>, tensor<1xi32>)
      -> (tensor<1x3xi32>, tensor<1xi32>, tensor<1xi32>)
  return %t, %a, %e : tensor<1x3xi32>, tensor<1xi32>, tensor<1xi32>
}

// -----

// Given probabilities (target_probs): p(x) is the loaded value. Rejection
// with a draft distribution and explicit noise then needs no exponential
// at all (no softmax, no log-sum-exp): the ratio p(x) / q(x) of two loads
// meets u, and the residual max(p - q, 0) races the exponentials.
// The GPU form computes no row statistics either (no request can be
// greedy): the arrival counters cleared, then the walk and race kernel.
// PAR-LABEL: func.func @rejection_target_probs
// PAR-NOT: math.exp
// PAR-NOT: math.log
// PAR: memref.store %c0_i32, %{{.*}}[%{{.*}}] : memref<2xi32>
// PAR: gpu.launch
// PAR-NOT: math.exp
// PAR: return
// CHECK-LABEL: func.func @rejection_target_probs
// CHECK-NOT: math.exp
// CHECK: scf.parallel
// CHECK: %[[PX:.*]] = memref.load %{{.*}} : memref<2x4x300xf32>
// CHECK: %[[QX:.*]] = memref.load %{{.*}} : memref<2x3x300xf32>
// CHECK: arith.divf
// CHECK: arith.cmpf oge
// CHECK-NOT: math.exp
// CHECK: return
func.func @rejection_target_probs(%p: tensor<2x4x300xf32>, %d: tensor<2x3xi32>, %n: tensor<2xi32>,
    %q: tensor<2x3x300xf32>, %u: tensor<2x3xf32>, %x: tensor<2x300xf32>)
    -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  %t, %a, %e = tok.spec_verify %p, %d, %n draft_probs %q uniforms %u exponentials %x {target_probs}
      : (tensor<2x4x300xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x3x300xf32>, tensor<2x3xf32>, tensor<2x300xf32>)
      -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}
