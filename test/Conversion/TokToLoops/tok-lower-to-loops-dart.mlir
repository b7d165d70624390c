// RUN: winnow-opt %s --split-input-file --tok-lower-to-loops --cse | FileCheck %s
// RUN: winnow-opt %s --split-input-file --pass-pipeline="builtin.module(tok-lower-to-loops{intra-row-parallel=true},cse)" | FileCheck %s --check-prefix=GPU

// The GPU form, four launches with the CPU form's values: (1) eight threads
// per token (orderedSums' lanes; blocks of two warps: 1400 tokens do not
// fill the GPU with larger ones), the key L1 norm and the hidden inverse
// norm; (2) a block per row: the pivots by block argmax, listed by block
// scans, and their number; (3) eight threads per (row, pair of pivot slots,
// span token): the token's similarity to both pivots (NaN as +inf) into
// [B, pivots, span] -- never span x span; (4) a block per row: each listed
// pivot's sweep, a constant trip count over the slots, as one block top-k
// of the free span tokens by negated similarity (its keys in shared memory,
// the threshold by block_radix_select, the taken tokens listed then
// marked), then the kept tokens placed by block scans.
// GPU-LABEL: func.func @dart
// GPU-DAG: %[[L1:.*]] = memref.alloc() : memref<2x700xf32>
// GPU-DAG: %[[MARK:.*]] = memref.alloc() : memref<2x700xi32>
// GPU-DAG: %[[PIVOTS:.*]] = memref.alloc() : memref<2x8xi32>
// GPU-DAG: %[[LISTED:.*]] = memref.alloc() : memref<2xi32>
// GPU-DAG: %[[SIM:.*]] = memref.alloc() : memref<2x8x576xf32>
// GPU-DAG: %[[TAKEN:.*]] = memref.alloc() : memref<2x16xi32>
// GPU-NOT: 700x700
// GPU-NOT: 576x576
// GPU: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c175, %{{.*}} = %c1, %{{.*}} = %c1) threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c64,
// GPU: math.absf
// GPU: collective.block_barrier
// GPU: memref.store %{{.*}}, %[[L1]]
// GPU: math.sqrt
// GPU: gpu.terminator
// GPU: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c2, %{{.*}} = %c1, %{{.*}} = %c1) threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c1024,
// GPU: memref.load %[[L1]]
// GPU: collective.block_argmax
// GPU: memref.store %{{.*}}, %[[MARK]]
// GPU: collective.block_exclusive_scan
// GPU: memref.store %{{.*}}, %[[PIVOTS]]
// GPU: memref.store %{{.*}}, %[[LISTED]]
// GPU: gpu.terminator
// GPU: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c288, %{{.*}} = %c1, %{{.*}} = %c1) threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c128,
// GPU: memref.load %[[LISTED]]
// GPU: memref.load %[[PIVOTS]]
// GPU: memref.load %[[PIVOTS]]
// GPU: collective.block_barrier
// GPU: arith.cmpf uno
// GPU: memref.store %{{.*}}, %[[SIM]]
// GPU: arith.cmpf uno
// GPU: memref.store %{{.*}}, %[[SIM]]
// GPU: gpu.terminator
// GPU: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c2, %{{.*}} = %c1, %{{.*}} = %c1) threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c1024,
// GPU: %[[KEYS:.*]] = memref.alloca() : memref<576xi32, #gpu.address_space<workgroup>>
// GPU: scf.for %[[SLOT:.*]] = %c0{{.*}} to %c8{{.*}} step %c1
// GPU: %[[S:.*]] = memref.load %[[SIM]][%{{.*}}, %[[SLOT]], %{{.*}}]
// GPU-NEXT: arith.negf %[[S]]
// GPU: collective.block_radix_select %{{.*}} of %[[KEYS]]
// GPU: memref.store %{{.*}}, %[[TAKEN]]
// GPU: collective.block_barrier
// GPU: memref.load %[[TAKEN]]
// GPU: memref.store %{{.*}}, %[[MARK]]
// GPU: collective.block_exclusive_scan
// GPU: gpu.terminator

// tok.dart_select keeps O(L) scratch only: the key L1 norms, the inverse
// hidden norms (floored at 1e-12) and the similarities to the current pivot
// in fp32, and one i32 state per token (pool / image pivot / text pivot /
// taken), each of L entries -- never an L x L (or span x span) similarity
// matrix. Pivots: argmax of the L1 norm (NaN ranked as -inf, strict `ogt`:
// ties to the lower index) over the image span, then over the text tokens.
// Sweep: image pivots by index, then text pivots by index; per pivot the
// similarities to the pool are recomputed (NaN ranked as +inf: taken last)
// and the M = 128 / 8 = 16 smallest taken by repeated argmax of the negated
// similarity (exact; strict `ogt`: ties to the lower index). The kept tokens
// are written ascending, -1 padded.
// CHECK-LABEL: func.func @dart
// CHECK-SAME: (%[[K:.*]]: tensor<2x700x64xbf16>, %[[H:.*]]: tensor<2x700x32xf16>, %[[L:.*]]: tensor<2xi32>)
// CHECK-DAG: %[[KB:.*]] = bufferization.to_buffer %[[K]] read_only
// CHECK-DAG: %[[HB:.*]] = bufferization.to_buffer %[[H]] read_only
// CHECK-DAG: %[[IDX:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x256xi32>
// CHECK-DAG: %[[CNT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2xi32>
// CHECK-DAG: %[[L1:.*]] = memref.alloca() : memref<700xf32>
// CHECK-DAG: %[[INV:.*]] = memref.alloca() : memref<700xf32>
// CHECK-DAG: %[[SIM:.*]] = memref.alloca() : memref<700xf32>
// CHECK-DAG: %[[STATE:.*]] = memref.alloca() : memref<700xi32>
// CHECK-NOT: 700x700
// CHECK-NOT: 576x576
// CHECK-NOT: memref.alloc
// CHECK: scf.parallel (%[[B:.*]]) =
// CHECK: memref.load %{{.*}}[%[[B]]] : memref<2xi32>
// CHECK: arith.constant 35 : index
// CHECK: arith.constant 611 : index
// L1 norm of the keys and inverse norm of the hidden states, per token.
// CHECK: memref.load %[[KB]]
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: math.absf
// CHECK: memref.store %{{.*}}, %[[L1]]
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: math.sqrt
// CHECK: arith.constant 9.99999996E-13 : f32
// CHECK: arith.maximumf
// CHECK: memref.store %{{.*}}, %[[INV]]
// Image pivots, then text pivots: argmax of the L1 norm, NaN as -inf.
// CHECK: arith.constant 4 : index
// CHECK: memref.load %[[L1]]
// CHECK: arith.cmpf uno
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: arith.cmpf ogt
// CHECK: memref.store %{{.*}}, %[[STATE]]
// CHECK: memref.load %[[L1]]
// CHECK: arith.cmpf ogt
// CHECK: memref.store %{{.*}}, %[[STATE]]
// The sweep: similarities recomputed per pivot (NaN as +inf), M argmins.
// CHECK: memref.load %[[HB]]
// CHECK: memref.load %[[INV]]
// CHECK: arith.cmpf uno
// CHECK: arith.constant 0x7F800000 : f32
// CHECK: memref.store %{{.*}}, %[[SIM]]
// CHECK: arith.constant 16 : index
// CHECK: %[[S:.*]] = memref.load %[[SIM]]
// CHECK: %[[NEG:.*]] = arith.negf %[[S]]
// CHECK: arith.cmpf ogt, %[[NEG]]
// CHECK: memref.store %{{.*}}, %[[STATE]]
// Ascending compaction of the kept tokens, -1 padding, count.
// CHECK: memref.store %{{.*}}, %[[IDX]][%[[B]], %{{.*}}] : memref<2x256xi32>
// CHECK: arith.constant -1 : i32
// CHECK: memref.store %{{.*}}, %[[IDX]][%[[B]], %{{.*}}] : memref<2x256xi32>
// CHECK: memref.store %{{.*}}, %[[CNT]][%[[B]]] : memref<2xi32>
// CHECK-NOT: 700x700
// CHECK-NOT: tok.
func.func @dart(%k: tensor<2x700x64xbf16>, %h: tensor<2x700x32xf16>, %len: tensor<2xi32>) -> (tensor<2x256xi32>, tensor<2xi32>) {
  %i, %n = tok.dart_select %k, %h lengths %len {span = array<i64: 35, 611>, image_pivots = 4, text_pivots = 4, keep = 128}
      : (tensor<2x700x64xbf16>, tensor<2x700x32xf16>, tensor<2xi32>) -> (tensor<2x256xi32>, tensor<2xi32>)
  return %i, %n : tensor<2x256xi32>, tensor<2xi32>
}

// -----

// Without lengths every row is L tokens long; f32 needs no extension. An
// empty span leaves no image token: the result is every token, in order.
// CHECK-LABEL: func.func @dart_no_lengths
// CHECK-NOT: memref.alloca() : memref<{{[0-9]+}}x{{[0-9]+}}x
// CHECK-NOT: arith.extf
// CHECK: memref.store %{{.*}} : memref<3x12xi32>
// CHECK-NOT: tok.
func.func @dart_no_lengths(%k: tensor<3x12x4xf32>, %h: tensor<3x12x4xf32>) -> (tensor<3x12xi32>, tensor<3xi32>) {
  %i, %n = tok.dart_select %k, %h {span = array<i64: 5, 5>, image_pivots = 2, text_pivots = 1, keep = 6}
      : (tensor<3x12x4xf32>, tensor<3x12x4xf32>) -> (tensor<3x12xi32>, tensor<3xi32>)
  return %i, %n : tensor<3x12xi32>, tensor<3xi32>
}
