// RUN: winnow-opt %s --split-input-file --tok-lower-to-loops --cse | FileCheck %s
// RUN: winnow-opt %s --split-input-file --tok-lower-to-loops --cse | FileCheck %s --check-prefix=ALLOC
// RUN: winnow-opt %s --split-input-file --pass-pipeline="builtin.module(tok-lower-to-loops{intra-row-parallel=true},cse)" | FileCheck %s --check-prefix=PAR

// intra-row-parallel (the cuda target): every node's row statistics come
// from split-vocabulary tables built before the per-request walk (greedy:
// the argmax table only; typical: also LSE, entropy and race tables).
// PAR-LABEL: func.func @greedy
// PAR: %[[ARGMAX:.*]] = memref.alloc() : memref<2x5xindex>
// PAR: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c10, %{{.*}} = %c1, %{{.*}} = %c1) threads(%[[LANE:[a-z0-9]+]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c256,
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
// PAR: collective.block_argmax
// PAR: memref.store %{{.*}}, %[[ARGMAX]]
// PAR: gpu.terminator
// PAR-NOT: math.exp
// Then a block per request (2), a thread per node (32 for T = 5): the tree's
// state in shared memory, each node's argmax read in parallel, every node's
// path summary by pointer jumping (4 rounds for 5 nodes, each a read, a
// barrier, a write, a barrier; the rounds' ancestors kept, 5 x 5), the best
// leaf by block reductions (the longest accepted prefix, then the first
// such leaf), the path written by the nodes on it (climbing from its end by
// the kept ancestors), the next token by the first thread.
// PAR: gpu.launch blocks({{.*}}) in (%{{.*}} = %c2, {{.*}}) threads(%[[TID:[a-z0-9]+]], {{.*}}) in (%{{.*}} = %c32,
// PAR: memref.alloca() : memref<5xi1, #gpu.address_space<workgroup>>
// PAR: %[[JUMPS:.*]] = memref.alloca() : memref<25xi32, #gpu.address_space<workgroup>>
// PAR: memref.load %[[ARGMAX]]
// PAR: collective.block_barrier
// PAR-NOT: scf.for {{.*}} -> (i1)
// PAR-COUNT-9: collective.block_barrier
// PAR: collective.block_reduce max
// PAR: collective.block_reduce min
// PAR: memref.load %[[JUMPS]]
// PAR: gpu.terminator
// PAR-LABEL: func.func @typical_philox
// Typical trees visit the nodes level by level (the log-p sums keep the
// walk's order): a loop carrying whether the last level had a node.
// PAR: scf.for {{.*}} iter_args({{.*}}) -> (i1)
// PAR: collective.block_reduce max
// PAR: math.log
// PAR: scf.parallel

// Structure of the tok.tree_verify lowering, per mode (greedy, typical,
// rejection): no tok op is left;
// the four results are the only heap buffers ([B, C] tokens and
// accept_nodes, [B] counts), written per request and returned; the only
// scratch is O(T) per request (1-D stack buffers of the T node states: no
// T x T and no T x V buffer, nothing of size V: V = 1000 makes any
// V-sized buffer visible, T is 5, 6 and 4 and distinct from B and C); the
// Philox generator (multiplier 0xD2511F53 = 3528531795) appears only with
// seed/offset. The scratch pattern below rejects any alloca whose first
// extent is not T, and any 2-D alloca.

// ALLOC-LABEL: func.func @greedy
// ALLOC-COUNT-2: memref.alloc() {alignment = 64 : i64} : memref<2x7xi32>
// ALLOC-COUNT-2: memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// ALLOC-NOT: memref.alloc()
// ALLOC-NOT: memref.alloca() : memref<{{([0-46-9]|5[0-9]|5x[0-9])}}
// ALLOC-NOT: memref.alloc()
// ALLOC-NOT: 3528531795
// ALLOC-NOT: math.exp
// ALLOC: return

// Greedy: argmax of the raw logits of a node's row (bf16 widened, strict
// ogt: the first maximum wins), num_nodes clamped to [1, T], the parent
// test 0 <= parent < i, no softmax and no noise; -1 padding of both
// [B, C] results; the two counts.
// CHECK-LABEL: func.func @greedy
// CHECK-SAME: (%[[L:.*]]: tensor<2x5x1000xbf16>, %[[TT:.*]]: tensor<2x5xi32>, %[[P:.*]]: tensor<2x5xi32>, %[[N:.*]]: tensor<2xi32>)
// CHECK-NOT: math.exp
// CHECK-NOT: math.log
// CHECK-NOT: 3528531795
// CHECK-DAG: %[[LB:.*]] = bufferization.to_buffer %[[L]] read_only : tensor<2x5x1000xbf16> to memref<2x5x1000xbf16>
// CHECK-DAG: %[[TB:.*]] = bufferization.to_buffer %[[TT]] read_only : tensor<2x5xi32> to memref<2x5xi32>
// CHECK-DAG: %[[PB:.*]] = bufferization.to_buffer %[[P]] read_only : tensor<2x5xi32> to memref<2x5xi32>
// CHECK-DAG: %[[NB:.*]] = bufferization.to_buffer %[[N]] read_only : tensor<2xi32> to memref<2xi32>
// CHECK-DAG: %[[TOK:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x7xi32>
// CHECK-DAG: %[[NODES:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x7xi32>
// CHECK-DAG: %[[ACC:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// CHECK-DAG: %[[EMIT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// CHECK: scf.parallel (%[[B:.*]]) =
// CHECK: memref.load %[[NB]][%[[B]]]
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: memref.load %[[LB]][%[[B]], %{{.*}}, %{{.*}}] : memref<2x5x1000xbf16>
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.cmpf ogt
// CHECK: memref.load %[[PB]][%[[B]], %{{.*}}] : memref<2x5xi32>
// CHECK: arith.cmpi sge
// CHECK: arith.cmpi slt
// CHECK: memref.load %[[TB]][%[[B]], %{{.*}}] : memref<2x5xi32>
// CHECK: memref.store %{{.*}}, %[[NODES]][%[[B]], %{{.*}}] : memref<2x7xi32>
// CHECK: memref.store %{{.*}}, %[[TOK]][%[[B]], %{{.*}}] : memref<2x7xi32>
// CHECK: memref.store %{{.*}}, %[[ACC]][%[[B]]] : memref<2xi32>
// CHECK: memref.store %{{.*}}, %[[EMIT]][%[[B]]] : memref<2xi32>
// CHECK: memref.store %c-1_i32, %[[TOK]][%[[B]], %{{.*}}] : memref<2x7xi32>
// CHECK: memref.store %c-1_i32, %[[NODES]][%[[B]], %{{.*}}] : memref<2x7xi32>
// CHECK-NOT: math.exp
// CHECK-DAG: %[[R0:.*]] = bufferization.to_tensor %[[TOK]] restrict writable : memref<2x7xi32> to tensor<2x7xi32>
// CHECK-DAG: %[[R1:.*]] = bufferization.to_tensor %[[NODES]] restrict writable : memref<2x7xi32> to tensor<2x7xi32>
// CHECK-DAG: %[[R2:.*]] = bufferization.to_tensor %[[ACC]] restrict writable : memref<2xi32> to tensor<2xi32>
// CHECK-DAG: %[[R3:.*]] = bufferization.to_tensor %[[EMIT]] restrict writable : memref<2xi32> to tensor<2xi32>
// CHECK: return %[[R0]], %[[R1]], %[[R2]], %[[R3]]
// CHECK-NOT: tok.
func.func @greedy(%l: tensor<2x5x1000xbf16>, %t: tensor<2x5xi32>, %p: tensor<2x5xi32>, %n: tensor<2xi32>)
    -> (tensor<2x7xi32>, tensor<2x7xi32>, tensor<2xi32>, tensor<2xi32>) {
  %tok, %nodes, %a, %e = tok.tree_verify %l, %t, %p, %n
      : (tensor<2x5x1000xbf16>, tensor<2x5xi32>, tensor<2x5xi32>, tensor<2xi32>)
      -> (tensor<2x7xi32>, tensor<2x7xi32>, tensor<2xi32>, tensor<2xi32>)
  return %tok, %nodes, %a, %e : tensor<2x7xi32>, tensor<2x7xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

// ALLOC-LABEL: func.func @typical_philox
// ALLOC-COUNT-2: memref.alloc() {alignment = 64 : i64} : memref<3x9xi32>
// ALLOC-COUNT-2: memref.alloc() {alignment = 64 : i64} : memref<3xi32>
// ALLOC-NOT: memref.alloc()
// ALLOC-NOT: memref.alloca() : memref<{{([0-57-9]|6[0-9]|6x[0-9])}}
// The scratch of the log-sum-exp and entropy sums (the chunk order, the
// same additions as the GPU form): the request's 32 lane sums and one
// chunk's terms, then for each chunk loop (each place a log-sum-exp or an
// entropy is computed) its tables of the chunks' maxima or sums (V = 1000: four chunks) and lane and term scratch
// of its own; never a V-sized buffer.
// ALLOC: memref.alloca() : memref<32xf32>
// ALLOC-COUNT-15: memref.alloca() : memref<{{4|32|256}}xf32>
// The race over p, whose chunks run in parallel: the chunks' first maxima
// (values above, indices) and flags, and the chunk loop's term scratch.
// ALLOC-NEXT: memref.alloca() : memref<4xindex>
// ALLOC-NEXT: memref.alloca() : memref<4xi1>
// ALLOC-NEXT: memref.alloca() : memref<256xf32>
// ALLOC-NOT: memref.alloca() : memref<{{([0-57-9]|6[0-9]|6x[0-9])}}
// ALLOC-NOT: memref.alloc()
// ALLOC: return

// Typical with temperature and Philox: logits / T, the row statistics
// streamed (max, sum of exp, log), the entropy with log(p + 1e-5), the
// threshold min(epsilon, alpha * exp(-H)) with the custom attributes, the
// strict p(x) > threshold, log p for the tie-break; Philox
// (seed/offset loaded per request) for the exponential race.
// CHECK-LABEL: func.func @typical_philox
// CHECK-SAME: %[[TP:[a-z0-9]+]]: tensor<3xf32>, %[[S:[a-z0-9]+]]: tensor<3xi64>, %[[O:[a-z0-9]+]]: tensor<3xi64>)
// CHECK-DAG: %[[TPB:.*]] = bufferization.to_buffer %[[TP]] read_only
// CHECK-DAG: %[[SB:.*]] = bufferization.to_buffer %[[S]] read_only
// CHECK-DAG: %[[OB:.*]] = bufferization.to_buffer %[[O]] read_only
// CHECK: scf.parallel (%[[B:.*]]) =
// CHECK-DAG: memref.load %[[TPB]][%[[B]]] : memref<3xf32>
// CHECK-DAG: memref.load %[[SB]][%[[B]]] : memref<3xi64>
// CHECK-DAG: memref.load %[[OB]][%[[B]]] : memref<3xi64>
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: arith.divf
// CHECK: math.exp
// CHECK: math.log
// CHECK: arith.constant 9.99999974E-6 : f32
// CHECK: math.log
// CHECK-DAG: arith.constant 2.000000e-01 : f32
// CHECK-DAG: arith.constant 5.000000e-01 : f32
// CHECK: math.exp
// CHECK: arith.minimumf
// CHECK: arith.cmpf ogt
// CHECK-NOT: arith.cmpf oge
// CHECK: math.log
// CHECK: arith.muli %{{.*}}, %c3528531795_i64 : i64
// CHECK: return
// CHECK-NOT: tok.
func.func @typical_philox(%l: tensor<3x6x1000xf16>, %t: tensor<3x6xi32>, %p: tensor<3x6xi32>,
    %n: tensor<3xi32>, %temp: tensor<3xf32>, %s: tensor<3xi64>, %o: tensor<3xi64>)
    -> (tensor<3x9xi32>, tensor<3x9xi32>, tensor<3xi32>, tensor<3xi32>) {
  %tok, %nodes, %a, %e = tok.tree_verify %l, %t, %p, %n temperature %temp seed %s offset %o
      {mode = #tok.verify_mode<typical>, typical_epsilon = 0.2, typical_alpha = 0.5}
      : (tensor<3x6x1000xf16>, tensor<3x6xi32>, tensor<3x6xi32>, tensor<3xi32>, tensor<3xf32>,
         tensor<3xi64>, tensor<3xi64>) -> (tensor<3x9xi32>, tensor<3x9xi32>, tensor<3xi32>, tensor<3xi32>)
  return %tok, %nodes, %a, %e : tensor<3x9xi32>, tensor<3x9xi32>, tensor<3xi32>, tensor<3xi32>
}

// -----

// ALLOC-LABEL: func.func @typical_explicit
// ALLOC-COUNT-2: memref.alloc() {alignment = 64 : i64} : memref<1x4xi32>
// ALLOC-COUNT-2: memref.alloc() {alignment = 64 : i64} : memref<1xi32>
// ALLOC-NOT: memref.alloc()
// ALLOC-NOT: memref.alloca() : memref<{{([0-35-9]|4[0-9]|4x[0-9])}}
// The scratch of the log-sum-exp and entropy sums (the chunk order, the
// same additions as the GPU form): the request's 32 lane sums and one
// chunk's terms, then for each chunk loop (each place a log-sum-exp or an
// entropy is computed) its tables of the chunks' maxima or sums (V = 1000: four chunks) and lane and term scratch
// of its own; never a V-sized buffer.
// ALLOC: memref.alloca() : memref<32xf32>
// ALLOC-COUNT-15: memref.alloca() : memref<{{4|32|256}}xf32>
// The race over p, whose chunks run in parallel: the chunks' first maxima
// (values above, indices) and flags, and the chunk loop's term scratch.
// ALLOC-NEXT: memref.alloca() : memref<4xindex>
// ALLOC-NEXT: memref.alloca() : memref<4xi1>
// ALLOC-NEXT: memref.alloca() : memref<256xf32>
// ALLOC-NOT: memref.alloca() : memref<{{([0-35-9]|4[0-9]|4x[0-9])}}
// ALLOC-NOT: memref.alloc()
// ALLOC-NOT: 3528531795
// ALLOC: return

// Typical with explicit exponentials: the race divides by E[b, v] read
// from the operand; no Philox at all.
// CHECK-LABEL: func.func @typical_explicit
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<1x1000xf32>)
// CHECK-NOT: 3528531795
// CHECK: %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only
// CHECK: arith.constant 9.99999974E-6 : f32
// CHECK: arith.cmpf ogt
// CHECK: memref.load %[[XB]][%{{.*}}, %{{.*}}] : memref<1x1000xf32>
// CHECK: arith.divf
// CHECK: return
// CHECK-NOT: 3528531795
// CHECK-NOT: tok.
func.func @typical_explicit(%l: tensor<1x4x1000xbf16>, %t: tensor<1x4xi32>, %p: tensor<1x4xi32>,
    %n: tensor<1xi32>, %x: tensor<1x1000xf32>)
    -> (tensor<1x4xi32>, tensor<1x4xi32>, tensor<1xi32>, tensor<1xi32>) {
  %tok, %nodes, %a, %e = tok.tree_verify %l, %t, %p, %n exponentials %x
      {mode = #tok.verify_mode<typical>}
      : (tensor<1x4x1000xbf16>, tensor<1x4xi32>, tensor<1x4xi32>, tensor<1xi32>, tensor<1x1000xf32>)
      -> (tensor<1x4xi32>, tensor<1x4xi32>, tensor<1xi32>, tensor<1xi32>)
  return %tok, %nodes, %a, %e : tensor<1x4xi32>, tensor<1x4xi32>, tensor<1xi32>, tensor<1xi32>
}

// -----

// ALLOC-LABEL: func.func @rejection_philox
// ALLOC-COUNT-2: memref.alloc() {alignment = 64 : i64} : memref<3x9xi32>
// ALLOC-COUNT-2: memref.alloc() {alignment = 64 : i64} : memref<3xi32>
// ALLOC-NOT: memref.alloc()
// ALLOC-NOT: memref.alloca() : memref<{{([0-57-9]|6[0-9]|6x[0-9])}}
// The scratch of the log-sum-exp and entropy sums (the chunk order, the
// same additions as the GPU form): the request's 32 lane sums and one
// chunk's terms, then for each chunk loop (each place a log-sum-exp or an
// entropy is computed) its tables of the chunks' maxima or sums (V = 1000: four chunks) and lane and term scratch
// of its own; never a V-sized buffer.
// ALLOC: memref.alloca() : memref<32xf32>
// ALLOC-COUNT-4: memref.alloca() : memref<{{4|32|256}}xf32>
// ALLOC-NOT: memref.alloca() : memref<{{([0-57-9]|6[0-9]|6x[0-9])}}
// ALLOC-NOT: memref.alloc()
// ALLOC: return

// Rejection (the sampling walk) with temperature and Philox: a request
// whose temperature is not positive (or NaN: `not ogt`) takes the greedy
// branch, which has no exp and no Philox; otherwise seed/offset are loaded
// per request, the walked row's statistics are streamed (max, sum of exp,
// log), each child's p(x) = exp(z - lse) is tested strictly positive and
// against u * Z (oge), with the uniform from Philox (multiplier
// 0xD2511F53) keyed by the child node: (w >> 8) * 2^-24 in f32; Z loses
// the rejected masses (subf); when no child passes, the race divides the
// masked p by E = -log(((w >> 8) + 0.5) * 2^-24) evaluated in f64 and
// rounded to f32 (strict ogt: the first index wins ties).
// CHECK-LABEL: func.func @rejection_philox
// CHECK-SAME: %[[TP:[a-z0-9]+]]: tensor<3xf32>, %[[S:[a-z0-9]+]]: tensor<3xi64>, %[[O:[a-z0-9]+]]: tensor<3xi64>)
// CHECK-DAG: %[[TPB:.*]] = bufferization.to_buffer %[[TP]] read_only
// CHECK-DAG: %[[SB:.*]] = bufferization.to_buffer %[[S]] read_only
// CHECK-DAG: %[[OB:.*]] = bufferization.to_buffer %[[O]] read_only
// CHECK: scf.parallel (%[[B:.*]]) =
// CHECK: %[[TV:.*]] = memref.load %[[TPB]][%[[B]]] : memref<3xf32>
// CHECK: %[[POS:.*]] = arith.cmpf ogt, %[[TV]], %{{.*}} : f32
// CHECK: %[[NPOS:.*]] = arith.xori %[[POS]], %{{.*}} : i1
// CHECK: scf.if %[[NPOS]] {
// CHECK-NOT: math.exp
// CHECK-NOT: 3528531795
// CHECK: arith.cmpf ogt
// CHECK-NOT: math.exp
// CHECK-NOT: 3528531795
// CHECK: } else {
// CHECK-DAG: memref.load %[[SB]][%[[B]]] : memref<3xi64>
// CHECK-DAG: memref.load %[[OB]][%[[B]]] : memref<3xi64>
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.divf %{{.*}}, %[[TV]] : f32
// CHECK: math.exp
// CHECK: math.log
// CHECK: %[[PX:.*]] = math.exp
// CHECK: %[[GT0:.*]] = arith.cmpf ogt, %[[PX]], %{{.*}} : f32
// CHECK: arith.muli %{{.*}}, %c3528531795_i64 : i64
// CHECK: %[[W:.*]] = arith.shrui %{{.*}}, %c8_i32 : i32
// CHECK: %[[WF:.*]] = arith.uitofp %[[W]] : i32 to f32
// CHECK: %[[U:.*]] = arith.mulf %[[WF]], %{{.*}} : f32
// CHECK: %[[UZ:.*]] = arith.mulf %[[U]], %{{.*}} : f32
// CHECK: arith.cmpf oge, %[[PX]], %[[UZ]] : f32
// CHECK: arith.subf
// CHECK: arith.muli %{{.*}}, %c3528531795_i64 : i64
// CHECK: arith.uitofp %{{.*}} : i32 to f64
// CHECK: math.log %{{.*}} : f64
// CHECK: arith.truncf %{{.*}} : f64 to f32
// CHECK: arith.divf
// CHECK: arith.cmpf ogt
// CHECK-NOT: arith.cmpf oge
// CHECK: return
// CHECK-NOT: tok.
func.func @rejection_philox(%l: tensor<3x6x1000xbf16>, %t: tensor<3x6xi32>, %p: tensor<3x6xi32>,
    %n: tensor<3xi32>, %temp: tensor<3xf32>, %s: tensor<3xi64>, %o: tensor<3xi64>)
    -> (tensor<3x9xi32>, tensor<3x9xi32>, tensor<3xi32>, tensor<3xi32>) {
  %tok, %nodes, %a, %e = tok.tree_verify %l, %t, %p, %n temperature %temp seed %s offset %o
      {mode = #tok.verify_mode<rejection>}
      : (tensor<3x6x1000xbf16>, tensor<3x6xi32>, tensor<3x6xi32>, tensor<3xi32>, tensor<3xf32>,
         tensor<3xi64>, tensor<3xi64>) -> (tensor<3x9xi32>, tensor<3x9xi32>, tensor<3xi32>, tensor<3xi32>)
  return %tok, %nodes, %a, %e : tensor<3x9xi32>, tensor<3x9xi32>, tensor<3xi32>, tensor<3xi32>
}

// -----

// ALLOC-LABEL: func.func @rejection_explicit
// ALLOC-COUNT-2: memref.alloc() {alignment = 64 : i64} : memref<2x7xi32>
// ALLOC-COUNT-2: memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// ALLOC-NOT: memref.alloc()
// ALLOC-NOT: memref.alloca() : memref<{{([0-46-9]|5[0-9]|5x[0-9])}}
// The scratch of the log-sum-exp and entropy sums (the chunk order, the
// same additions as the GPU form): the request's 32 lane sums and one
// chunk's terms, then for each chunk loop (each place a log-sum-exp or an
// entropy is computed) its tables of the chunks' maxima or sums (V = 1000: four chunks) and lane and term scratch
// of its own; never a V-sized buffer.
// ALLOC: memref.alloca() : memref<32xf32>
// ALLOC-COUNT-4: memref.alloca() : memref<{{4|32|256}}xf32>
// ALLOC-NOT: memref.alloca() : memref<{{([0-46-9]|5[0-9]|5x[0-9])}}
// ALLOC-NOT: memref.alloc()
// ALLOC-NOT: 3528531795
// ALLOC: return

// Rejection with explicit noise: the uniform of child node i is
// uniforms[b, i] ([B, T], indexed by the child, not by depth), the race
// divides by exponentials[b, v]; no Philox at all.
// CHECK-LABEL: func.func @rejection_explicit
// CHECK-SAME: %[[U:[a-z0-9]+]]: tensor<2x5xf32>, %[[X:[a-z0-9]+]]: tensor<2x1000xf32>)
// CHECK-NOT: 3528531795
// CHECK-DAG: %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only
// CHECK-DAG: %[[UB:.*]] = bufferization.to_buffer %[[U]] read_only
// CHECK: scf.parallel (%[[B:.*]]) =
// CHECK: math.exp
// CHECK: math.log
// CHECK: scf.for %[[C:[a-z0-9]+]] = {{.*}} iter_args
// CHECK: %[[PX:.*]] = math.exp
// CHECK: arith.cmpf ogt, %[[PX]], %{{.*}} : f32
// CHECK: %[[UC:.*]] = memref.load %[[UB]][%[[B]], %[[C]]] : memref<2x5xf32>
// CHECK: %[[UZ:.*]] = arith.mulf %[[UC]], %{{.*}} : f32
// CHECK: arith.cmpf oge, %[[PX]], %[[UZ]] : f32
// CHECK: arith.subf
// CHECK: %[[E:.*]] = memref.load %[[XB]][%[[B]], %{{.*}}] : memref<2x1000xf32>
// CHECK: arith.divf %{{.*}}, %[[E]] : f32
// CHECK: arith.cmpf ogt
// CHECK: return
// CHECK-NOT: 3528531795
// CHECK-NOT: tok.
func.func @rejection_explicit(%l: tensor<2x5x1000xf32>, %t: tensor<2x5xi32>, %p: tensor<2x5xi32>,
    %n: tensor<2xi32>, %u: tensor<2x5xf32>, %x: tensor<2x1000xf32>)
    -> (tensor<2x7xi32>, tensor<2x7xi32>, tensor<2xi32>, tensor<2xi32>) {
  %tok, %nodes, %a, %e = tok.tree_verify %l, %t, %p, %n uniforms %u exponentials %x
      {mode = #tok.verify_mode<rejection>}
      : (tensor<2x5x1000xf32>, tensor<2x5xi32>, tensor<2x5xi32>, tensor<2xi32>, tensor<2x5xf32>, tensor<2x1000xf32>)
      -> (tensor<2x7xi32>, tensor<2x7xi32>, tensor<2xi32>, tensor<2xi32>)
  return %tok, %nodes, %a, %e : tensor<2x7xi32>, tensor<2x7xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

// The optional best_leaf result: a [B] buffer, written once per request
// with the leaf the best-leaf loop chose (greedy), and returned.
// CHECK-LABEL: func.func @greedy_best_leaf
// CHECK-COUNT-2: memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// CHECK-NEXT: %[[LEAF:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// CHECK: scf.parallel (%[[B:.*]]) =
// CHECK: %[[BEST:.*]]:3 = scf.for {{.*}} iter_args
// CHECK: %[[BI:.*]] = arith.index_cast %[[BEST]]#2 : index to i32
// CHECK: memref.store %[[BI]], %[[LEAF]][%[[B]]] : memref<2xi32>
// CHECK: %[[RL:.*]] = bufferization.to_tensor %[[LEAF]]
// CHECK: return %[[RL]]
func.func @greedy_best_leaf(%l: tensor<2x5x1000xbf16>, %t: tensor<2x5xi32>, %p: tensor<2x5xi32>, %n: tensor<2xi32>)
    -> tensor<2xi32> {
  %tok, %nodes, %a, %e, %leaf = tok.tree_verify %l, %t, %p, %n
      : (tensor<2x5x1000xbf16>, tensor<2x5xi32>, tensor<2x5xi32>, tensor<2xi32>)
      -> (tensor<2x7xi32>, tensor<2x7xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2xi32>)
  return %leaf : tensor<2xi32>
}

// -----

// Rejection: the first leaf of the subtree where the walk stopped: the
// subtree marked in index order from the stop node, then the first leaf.
// CHECK-LABEL: func.func @rejection_best_leaf
// CHECK-COUNT-2: memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// CHECK-NEXT: %[[LEAF:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// CHECK: scf.parallel (%[[B:.*]]) =
// CHECK: scf.if
// CHECK: } else {
// CHECK: %[[WALK:.*]]:3 = scf.for
// CHECK: %[[FIRST:.*]] = scf.for %[[I:.*]] = %[[WALK]]#0 to {{.*}} iter_args
// CHECK: %[[FI:.*]] = arith.index_cast %[[FIRST]] : index to i32
// CHECK: memref.store %[[FI]], %[[LEAF]][%[[B]]] : memref<2xi32>
func.func @rejection_best_leaf(%l: tensor<2x5x1000xf32>, %t: tensor<2x5xi32>, %p: tensor<2x5xi32>, %n: tensor<2xi32>,
    %seed: tensor<2xi64>, %off: tensor<2xi64>) -> tensor<2xi32> {
  %tok, %nodes, %a, %e, %leaf = tok.tree_verify %l, %t, %p, %n seed %seed offset %off
      {mode = #tok.verify_mode<rejection>}
      : (tensor<2x5x1000xf32>, tensor<2x5xi32>, tensor<2x5xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>)
      -> (tensor<2x7xi32>, tensor<2x7xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2xi32>)
  return %leaf : tensor<2xi32>
}
