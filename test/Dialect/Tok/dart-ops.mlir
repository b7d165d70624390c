// RUN: winnow-opt %s | winnow-opt | FileCheck %s
// RUN: winnow-opt %s --mlir-print-op-generic | winnow-opt | FileCheck %s

// Round trips of tok.dart_select (DiversityOps.td): with and without
// lengths, f32 / f16 / bf16 and mixed key / hidden types, the minimum
// capacity and a larger one, keep = 0, M = 0, an empty span and a span
// covering every token.

// LLaVA-1.5 defaults: 4 + 4 pivots, keep 128 -> C = 124 + 4 + 128 = 256.
// CHECK-LABEL: func.func @dart_llava
// CHECK-SAME: (%[[K:.*]]: tensor<1x700x4096xf16>, %[[H:.*]]: tensor<1x700x4096xf16>, %[[L:.*]]: tensor<1xi32>)
// CHECK: %[[I:.*]], %[[N:.*]] = tok.dart_select %[[K]], %[[H]] lengths %[[L]] {image_pivots = 4 : i64, keep = 128 : i64, span = array<i64: 35, 611>, text_pivots = 4 : i64} : (tensor<1x700x4096xf16>, tensor<1x700x4096xf16>, tensor<1xi32>) -> (tensor<1x256xi32>, tensor<1xi32>)
// CHECK: return %[[I]], %[[N]]
func.func @dart_llava(%k: tensor<1x700x4096xf16>, %h: tensor<1x700x4096xf16>, %len: tensor<1xi32>)
    -> (tensor<1x256xi32>, tensor<1xi32>) {
  %idx, %n = tok.dart_select %k, %h lengths %len
      {span = array<i64: 35, 611>, image_pivots = 4, text_pivots = 4, keep = 128}
      : (tensor<1x700x4096xf16>, tensor<1x700x4096xf16>, tensor<1xi32>)
      -> (tensor<1x256xi32>, tensor<1xi32>)
  return %idx, %n : tensor<1x256xi32>, tensor<1xi32>
}

// No lengths; bf16 keys with f32 hidden (different widths); a capacity above
// the minimum; keep = 0 (text + image pivots only); M = 0 (keep < pivots).
// CHECK-LABEL: func.func @dart_variants
// CHECK-SAME: (%[[K:.*]]: tensor<2x8x4xbf16>, %[[H:.*]]: tensor<2x8x6xf32>, %[[K2:.*]]: tensor<3x8x2xf32>, %[[H2:.*]]: tensor<3x8x2xf16>)
// CHECK: tok.dart_select %[[K]], %[[H]] {image_pivots = 1 : i64, keep = 2 : i64, span = array<i64: 2, 8>, text_pivots = 1 : i64} : (tensor<2x8x4xbf16>, tensor<2x8x6xf32>) -> (tensor<2x12xi32>, tensor<2xi32>)
// CHECK: tok.dart_select %[[K2]], %[[H2]] {image_pivots = 2 : i64, keep = 0 : i64, span = array<i64: 2, 8>, text_pivots = 1 : i64} : (tensor<3x8x2xf32>, tensor<3x8x2xf16>) -> (tensor<3x4xi32>, tensor<3xi32>)
// CHECK: tok.dart_select %[[K2]], %[[H2]] {image_pivots = 2 : i64, keep = 2 : i64, span = array<i64: 2, 8>, text_pivots = 1 : i64} : (tensor<3x8x2xf32>, tensor<3x8x2xf16>) -> (tensor<3x4xi32>, tensor<3xi32>)
// CHECK: return
func.func @dart_variants(%k: tensor<2x8x4xbf16>, %h: tensor<2x8x6xf32>,
                         %k2: tensor<3x8x2xf32>, %h2: tensor<3x8x2xf16>)
    -> (tensor<2x12xi32>, tensor<3x4xi32>, tensor<3x4xi32>) {
  %i0, %n0 = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 2}
      : (tensor<2x8x4xbf16>, tensor<2x8x6xf32>) -> (tensor<2x12xi32>, tensor<2xi32>)
  %i1, %n1 = tok.dart_select %k2, %h2 {span = array<i64: 2, 8>, image_pivots = 2, text_pivots = 1, keep = 0}
      : (tensor<3x8x2xf32>, tensor<3x8x2xf16>) -> (tensor<3x4xi32>, tensor<3xi32>)
  %i2, %n2 = tok.dart_select %k2, %h2 {span = array<i64: 2, 8>, image_pivots = 2, text_pivots = 1, keep = 2}
      : (tensor<3x8x2xf32>, tensor<3x8x2xf16>) -> (tensor<3x4xi32>, tensor<3xi32>)
  return %i0, %i1, %i2 : tensor<2x12xi32>, tensor<3x4xi32>, tensor<3x4xi32>
}

// Empty span: every valid token is text (C = L). Span over every token: no
// text, so text pivots select nothing; C = min(L, 3 + 2 * 5).
// Text-only pivots (image_pivots = 0).
// CHECK-LABEL: func.func @dart_spans
// CHECK: tok.dart_select %{{.*}}, %{{.*}} lengths %{{.*}} {image_pivots = 2 : i64, keep = 8 : i64, span = array<i64: 5, 5>, text_pivots = 2 : i64} : (tensor<2x10x4xf32>, tensor<2x10x4xbf16>, tensor<2xi32>) -> (tensor<2x10xi32>, tensor<2xi32>)
// CHECK: tok.dart_select %{{.*}}, %{{.*}} {image_pivots = 3 : i64, keep = 10 : i64, span = array<i64: 0, 10>, text_pivots = 2 : i64} : (tensor<2x10x4xf32>, tensor<2x10x4xbf16>) -> (tensor<2x10xi32>, tensor<2xi32>)
// CHECK: tok.dart_select %{{.*}}, %{{.*}} {image_pivots = 0 : i64, keep = 4 : i64, span = array<i64: 0, 10>, text_pivots = 2 : i64} : (tensor<2x10x4xf32>, tensor<2x10x4xbf16>) -> (tensor<2x8xi32>, tensor<2xi32>)
func.func @dart_spans(%k: tensor<2x10x4xf32>, %h: tensor<2x10x4xbf16>, %len: tensor<2xi32>)
    -> (tensor<2x10xi32>, tensor<2x10xi32>, tensor<2x8xi32>) {
  %i0, %n0 = tok.dart_select %k, %h lengths %len {span = array<i64: 5, 5>, image_pivots = 2, text_pivots = 2, keep = 8}
      : (tensor<2x10x4xf32>, tensor<2x10x4xbf16>, tensor<2xi32>) -> (tensor<2x10xi32>, tensor<2xi32>)
  %i1, %n1 = tok.dart_select %k, %h {span = array<i64: 0, 10>, image_pivots = 3, text_pivots = 2, keep = 10}
      : (tensor<2x10x4xf32>, tensor<2x10x4xbf16>) -> (tensor<2x10xi32>, tensor<2xi32>)
  %i2, %n2 = tok.dart_select %k, %h {span = array<i64: 0, 10>, image_pivots = 0, text_pivots = 2, keep = 4}
      : (tensor<2x10x4xf32>, tensor<2x10x4xbf16>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return %i0, %i1, %i2 : tensor<2x10xi32>, tensor<2x10xi32>, tensor<2x8xi32>
}
