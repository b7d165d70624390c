// RUN: winnow-opt %s | winnow-opt | FileCheck %s
// RUN: winnow-opt %s --mlir-print-op-generic | winnow-opt | FileCheck %s

// Round trips of the KV-cache ops (KvOps.td) and of tok.k_center
// (DiversityOps.td): every optional operand, every attribute (default values
// elided), each cache / input element type, rank-3 to rank-5 caches.

// StreamingLLM: scores only give T and H; default sinks/window/heavy (0)
// are elided whether written or not.
// CHECK-LABEL: func.func @kv_select_streaming
// CHECK-SAME: (%[[L:.*]]: tensor<2xi32>, %[[S:.*]]: tensor<2x8x1024xf32>)
// CHECK: %[[SL:.*]], %[[N:.*]] = tok.kv_select %[[L]] scores %[[S]] {sinks = 4 : i64, window = 508 : i64} : (tensor<2xi32>, tensor<2x8x1024xf32>) -> (tensor<2x8x512xi32>, tensor<2x8xi32>)
// CHECK: %[[SL2:.*]], %[[N2:.*]] = tok.kv_select %[[L]] scores %[[S]] {window = 3 : i64} : (tensor<2xi32>, tensor<2x8x1024xf32>) -> (tensor<2x8x3xi32>, tensor<2x8xi32>)
// CHECK-NOT: heavy
// CHECK: return %[[SL]], %[[N]], %[[SL2]], %[[N2]]
func.func @kv_select_streaming(%len: tensor<2xi32>, %s: tensor<2x8x1024xf32>)
    -> (tensor<2x8x512xi32>, tensor<2x8xi32>, tensor<2x8x3xi32>, tensor<2x8xi32>) {
  %slots, %n = tok.kv_select %len scores %s {sinks = 4, window = 508, heavy = 0}
      : (tensor<2xi32>, tensor<2x8x1024xf32>) -> (tensor<2x8x512xi32>, tensor<2x8xi32>)
  %slots2, %n2 = tok.kv_select %len scores %s {sinks = 0, window = 3}
      : (tensor<2xi32>, tensor<2x8x1024xf32>) -> (tensor<2x8x3xi32>, tensor<2x8xi32>)
  return %slots, %n, %slots2, %n2 : tensor<2x8x512xi32>, tensor<2x8xi32>, tensor<2x8x3xi32>, tensor<2x8xi32>
}

// H2O: heavy hitters; a capacity above the minimum is allowed.
// CHECK-LABEL: func.func @kv_select_h2o
// CHECK-SAME: (%[[L:.*]]: tensor<8xi32>, %[[S:.*]]: tensor<8x32x4096xf32>)
// CHECK: tok.kv_select %[[L]] scores %[[S]] {heavy = 512 : i64, sinks = 4 : i64, window = 512 : i64} : (tensor<8xi32>, tensor<8x32x4096xf32>) -> (tensor<8x32x1028xi32>, tensor<8x32xi32>)
// CHECK: tok.kv_select %[[L]] scores %[[S]] {heavy = 7 : i64} : (tensor<8xi32>, tensor<8x32x4096xf32>) -> (tensor<8x32x9xi32>, tensor<8x32xi32>)
func.func @kv_select_h2o(%len: tensor<8xi32>, %acc: tensor<8x32x4096xf32>) -> (tensor<8x32x1028xi32>, tensor<8x32x9xi32>) {
  %slots, %n = tok.kv_select %len scores %acc {sinks = 4, window = 512, heavy = 512}
      : (tensor<8xi32>, tensor<8x32x4096xf32>) -> (tensor<8x32x1028xi32>, tensor<8x32xi32>)
  %s2, %n2 = tok.kv_select %len scores %acc {heavy = 7}
      : (tensor<8xi32>, tensor<8x32x4096xf32>) -> (tensor<8x32x9xi32>, tensor<8x32xi32>)
  return %slots, %s2 : tensor<8x32x1028xi32>, tensor<8x32x9xi32>
}

// SepLLM: separators alone (T from the mask, H from the slots), and
// separators with scores (capacity T).
// CHECK-LABEL: func.func @kv_select_separators
// CHECK-SAME: (%[[L:.*]]: tensor<2xi32>, %[[SEP:.*]]: tensor<2x64xi1>, %[[S:.*]]: tensor<2x4x64xf32>)
// CHECK: %[[A:.*]], %{{.*}} = tok.kv_select %[[L]] separators %[[SEP]] {sinks = 4 : i64, window = 16 : i64} : (tensor<2xi32>, tensor<2x64xi1>) -> (tensor<2x4x64xi32>, tensor<2x4xi32>)
// CHECK: %[[B:.*]], %{{.*}} = tok.kv_select %[[L]] scores %[[S]] separators %[[SEP]] {heavy = 8 : i64, sinks = 1 : i64, window = 2 : i64} : (tensor<2xi32>, tensor<2x4x64xf32>, tensor<2x64xi1>) -> (tensor<2x4x70xi32>, tensor<2x4xi32>)
// CHECK: %[[C:.*]], %{{.*}} = tok.kv_select %[[L]] separators %[[SEP]] : (tensor<2xi32>, tensor<2x64xi1>) -> (tensor<2x1x64xi32>, tensor<2x1xi32>)
// CHECK: return %[[A]], %[[B]], %[[C]]
func.func @kv_select_separators(%len: tensor<2xi32>, %sep: tensor<2x64xi1>, %s: tensor<2x4x64xf32>)
    -> (tensor<2x4x64xi32>, tensor<2x4x70xi32>, tensor<2x1x64xi32>) {
  %a, %na = tok.kv_select %len separators %sep {sinks = 4, window = 16}
      : (tensor<2xi32>, tensor<2x64xi1>) -> (tensor<2x4x64xi32>, tensor<2x4xi32>)
  %b, %nb = tok.kv_select %len scores %s separators %sep {sinks = 1, window = 2, heavy = 8}
      : (tensor<2xi32>, tensor<2x4x64xf32>, tensor<2x64xi1>) -> (tensor<2x4x70xi32>, tensor<2x4xi32>)
  %c, %nc = tok.kv_select %len separators %sep
      : (tensor<2xi32>, tensor<2x64xi1>) -> (tensor<2x1x64xi32>, tensor<2x1xi32>)
  return %a, %b, %c : tensor<2x4x64xi32>, tensor<2x4x70xi32>, tensor<2x1x64xi32>
}

// kv_gather: the default position mode (original) is elided, written or not.
// CHECK-LABEL: func.func @kv_gather_original
// CHECK-SAME: (%[[SL:.*]]: tensor<1x32x516xi32>, %[[N:.*]]: tensor<1x32xi32>, %[[K:.*]]: tensor<1x32x4096x128xf16>, %[[V:.*]]: tensor<1x32x4096x128xf16>)
// CHECK: %[[G:.*]]:2, %[[P:.*]] = tok.kv_gather %[[SL]], %[[N]] gather(%[[K]], %[[V]]) : (tensor<1x32x516xi32>, tensor<1x32xi32>, tensor<1x32x4096x128xf16>, tensor<1x32x4096x128xf16>) -> (tensor<1x32x516x128xf16>, tensor<1x32x516x128xf16>, tensor<1x32x516xi32>)
// CHECK-NOT: position_mode
// CHECK: %[[K3:.*]], %[[P3:.*]] = tok.kv_gather %[[SL]], %[[N]] gather(%[[K]]) : (tensor<1x32x516xi32>, tensor<1x32xi32>, tensor<1x32x4096x128xf16>) -> (tensor<1x32x516x128xf16>, tensor<1x32x516xi32>)
// CHECK: return %[[G]]#0, %[[G]]#1, %[[P]], %[[K3]], %[[P3]]
func.func @kv_gather_original(%slots: tensor<1x32x516xi32>, %n: tensor<1x32xi32>,
                              %k: tensor<1x32x4096x128xf16>, %v: tensor<1x32x4096x128xf16>)
    -> (tensor<1x32x516x128xf16>, tensor<1x32x516x128xf16>, tensor<1x32x516xi32>,
        tensor<1x32x516x128xf16>, tensor<1x32x516xi32>) {
  %k2, %v2, %pos = tok.kv_gather %slots, %n gather(%k, %v)
      : (tensor<1x32x516xi32>, tensor<1x32xi32>, tensor<1x32x4096x128xf16>, tensor<1x32x4096x128xf16>)
      -> (tensor<1x32x516x128xf16>, tensor<1x32x516x128xf16>, tensor<1x32x516xi32>)
  %k3, %pos3 = tok.kv_gather %slots, %n gather(%k) {position_mode = #tok.position_mode<original>}
      : (tensor<1x32x516xi32>, tensor<1x32xi32>, tensor<1x32x4096x128xf16>)
      -> (tensor<1x32x516x128xf16>, tensor<1x32x516xi32>)
  return %k2, %v2, %pos, %k3, %pos3 : tensor<1x32x516x128xf16>, tensor<1x32x516x128xf16>, tensor<1x32x516xi32>,
                                      tensor<1x32x516x128xf16>, tensor<1x32x516xi32>
}

// Reindexed positions; rank-3, rank-5, bf16 / f32 / i32 caches of mixed
// ranks in one gather; a capacity above T; no cache at all (positions only).
// CHECK-LABEL: func.func @kv_gather_reindexed
// CHECK-SAME: (%[[SL:.*]]: tensor<2x4x12xi32>, %[[N:.*]]: tensor<2x4xi32>, %[[A:.*]]: tensor<2x4x10xf32>, %[[B:.*]]: tensor<2x4x10x2x8xbf16>, %[[C:.*]]: tensor<2x4x10xi32>)
// CHECK: %{{.*}}:3, %{{.*}} = tok.kv_gather %[[SL]], %[[N]] gather(%[[A]], %[[B]], %[[C]]) {position_mode = #tok.position_mode<reindexed>} : (tensor<2x4x12xi32>, tensor<2x4xi32>, tensor<2x4x10xf32>, tensor<2x4x10x2x8xbf16>, tensor<2x4x10xi32>) -> (tensor<2x4x12xf32>, tensor<2x4x12x2x8xbf16>, tensor<2x4x12xi32>, tensor<2x4x12xi32>)
// CHECK: %[[P:.*]] = tok.kv_gather %[[SL]], %[[N]] gather() {position_mode = #tok.position_mode<reindexed>} : (tensor<2x4x12xi32>, tensor<2x4xi32>) -> tensor<2x4x12xi32>
// CHECK: return %[[P]]
func.func @kv_gather_reindexed(%slots: tensor<2x4x12xi32>, %n: tensor<2x4xi32>, %a: tensor<2x4x10xf32>,
                               %b: tensor<2x4x10x2x8xbf16>, %c: tensor<2x4x10xi32>) -> tensor<2x4x12xi32> {
  %a2, %b2, %c2, %pos = tok.kv_gather %slots, %n gather(%a, %b, %c) {position_mode = #tok.position_mode<reindexed>}
      : (tensor<2x4x12xi32>, tensor<2x4xi32>, tensor<2x4x10xf32>, tensor<2x4x10x2x8xbf16>, tensor<2x4x10xi32>)
      -> (tensor<2x4x12xf32>, tensor<2x4x12x2x8xbf16>, tensor<2x4x12xi32>, tensor<2x4x12xi32>)
  %p = tok.kv_gather %slots, %n gather() {position_mode = #tok.position_mode<reindexed>}
      : (tensor<2x4x12xi32>, tensor<2x4xi32>) -> tensor<2x4x12xi32>
  return %p : tensor<2x4x12xi32>
}

// k_center: minimal, lengths, first, both; f32 / bf16 / f16; k = 0 and a
// capacity above k.
// CHECK-LABEL: func.func @k_center
// CHECK-SAME: (%[[X:.*]]: tensor<4x576x1024xbf16>, %[[L:.*]]: tensor<4xi32>, %[[F:.*]]: tensor<4xi32>, %[[Y:.*]]: tensor<1x6x2xf32>, %[[Z:.*]]: tensor<2x5x3xf16>)
// CHECK: %[[I0:.*]], %[[N0:.*]] = tok.k_center %[[X]] first %[[F]] {k = 64 : i64} : (tensor<4x576x1024xbf16>, tensor<4xi32>) -> (tensor<4x64xi32>, tensor<4xi32>)
// CHECK: tok.k_center %[[X]] lengths %[[L]] {k = 64 : i64} : (tensor<4x576x1024xbf16>, tensor<4xi32>) -> (tensor<4x70xi32>, tensor<4xi32>)
// CHECK: tok.k_center %[[X]] lengths %[[L]] first %[[F]] {k = 1 : i64} : (tensor<4x576x1024xbf16>, tensor<4xi32>, tensor<4xi32>) -> (tensor<4x1xi32>, tensor<4xi32>)
// CHECK: tok.k_center %[[Y]] {k = 3 : i64} : (tensor<1x6x2xf32>) -> (tensor<1x3xi32>, tensor<1xi32>)
// CHECK: tok.k_center %[[Z]] {k = 0 : i64} : (tensor<2x5x3xf16>) -> (tensor<2x1xi32>, tensor<2xi32>)
// CHECK: tok.k_center %[[Z]] {k = 9 : i64} : (tensor<2x5x3xf16>) -> (tensor<2x5xi32>, tensor<2xi32>)
// CHECK: return %[[I0]], %[[N0]]
func.func @k_center(%x: tensor<4x576x1024xbf16>, %len: tensor<4xi32>, %first: tensor<4xi32>,
                    %y: tensor<1x6x2xf32>, %z: tensor<2x5x3xf16>) -> (tensor<4x64xi32>, tensor<4xi32>) {
  %i0, %n0 = tok.k_center %x first %first {k = 64}
      : (tensor<4x576x1024xbf16>, tensor<4xi32>) -> (tensor<4x64xi32>, tensor<4xi32>)
  %i1, %n1 = tok.k_center %x lengths %len {k = 64}
      : (tensor<4x576x1024xbf16>, tensor<4xi32>) -> (tensor<4x70xi32>, tensor<4xi32>)
  %i2, %n2 = tok.k_center %x lengths %len first %first {k = 1}
      : (tensor<4x576x1024xbf16>, tensor<4xi32>, tensor<4xi32>) -> (tensor<4x1xi32>, tensor<4xi32>)
  %i3, %n3 = tok.k_center %y {k = 3} : (tensor<1x6x2xf32>) -> (tensor<1x3xi32>, tensor<1xi32>)
  %i4, %n4 = tok.k_center %z {k = 0} : (tensor<2x5x3xf16>) -> (tensor<2x1xi32>, tensor<2xi32>)
  %i5, %n5 = tok.k_center %z {k = 9} : (tensor<2x5x3xf16>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return %i0, %n0 : tensor<4x64xi32>, tensor<4xi32>
}

// A plain StreamingLLM window needs no scores: T comes from cache_size.
// CHECK-LABEL: func.func @kv_select_cache_size
// CHECK-SAME: (%[[LEN:.*]]: tensor<2xi32>)
// CHECK: tok.kv_select %[[LEN]] {cache_size = 16 : i64, sinks = 4 : i64, window = 4 : i64} : (tensor<2xi32>) -> (tensor<2x3x8xi32>, tensor<2x3xi32>)
func.func @kv_select_cache_size(%len: tensor<2xi32>) -> tensor<2x3x8xi32> {
  %sl, %n = tok.kv_select %len {sinks = 4, window = 4, cache_size = 16} : (tensor<2xi32>) -> (tensor<2x3x8xi32>, tensor<2x3xi32>)
  return %sl : tensor<2x3x8xi32>
}

// Per-request (sinks, window, heavy) round-trip after the separators.
// CHECK-LABEL: func.func @kv_select_row_budget
// CHECK: tok.kv_select %{{.*}} scores %{{.*}} separators %{{.*}} row_budget %{{.*}} {heavy = 2 : i64, sinks = 1 : i64, window = 3 : i64} :
func.func @kv_select_row_budget(%len: tensor<2xi32>, %acc: tensor<2x4x16xf32>, %sep: tensor<2x16xi1>,
    %rb: tensor<2x3xi32>) -> tensor<2x4x16xi32> {
  %slots, %n = tok.kv_select %len scores %acc separators %sep row_budget %rb {sinks = 1, window = 3, heavy = 2}
      : (tensor<2xi32>, tensor<2x4x16xf32>, tensor<2x16xi1>, tensor<2x3xi32>) -> (tensor<2x4x16xi32>, tensor<2x4xi32>)
  return %slots : tensor<2x4x16xi32>
}
