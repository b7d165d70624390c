// RUN: winnow-opt %s | winnow-opt | FileCheck %s
// RUN: winnow-opt %s --mlir-print-op-generic | winnow-opt | FileCheck %s

// CHECK-LABEL: func.func @attn_score_minimal
// CHECK-SAME: (%[[Q:.*]]: tensor<2x4x1x8xbf16>, %[[K:.*]]: tensor<2x4x16x8xbf16>)
// CHECK: tok.attn_score %[[Q]], %[[K]] : (tensor<2x4x1x8xbf16>, tensor<2x4x16x8xbf16>) -> tensor<2x16xf32>
func.func @attn_score_minimal(%q: tensor<2x4x1x8xbf16>, %k: tensor<2x4x16x8xbf16>) -> tensor<2x16xf32> {
  %s = tok.attn_score %q, %k : (tensor<2x4x1x8xbf16>, tensor<2x4x16x8xbf16>) -> tensor<2x16xf32>
  return %s : tensor<2x16xf32>
}

// CHECK-LABEL: func.func @attn_score_all_operands
// CHECK-SAME: (%[[Q:.*]]: tensor<1x8x3x16xf16>, %[[K:.*]]: tensor<1x2x10x16xf16>, %[[L:.*]]: tensor<1xi32>, %[[LSE:.*]]: tensor<1x8x3xf32>, %[[QP:.*]]: tensor<1x3xi32>)
// CHECK: tok.attn_score %[[Q]], %[[K]] lengths %[[L]] lse %[[LSE]] query_positions %[[QP]]
// CHECK-SAME: reduction = #tok.score_reduction<sum>
// CHECK-SAME: scale = 5.000000e-01 : f32
func.func @attn_score_all_operands(%q: tensor<1x8x3x16xf16>, %k: tensor<1x2x10x16xf16>,
    %len: tensor<1xi32>, %lse: tensor<1x8x3xf32>, %qp: tensor<1x3xi32>) -> tensor<1x10xf32> {
  %s = tok.attn_score %q, %k lengths %len lse %lse query_positions %qp
      {scale = 0.5 : f32, reduction = #tok.score_reduction<sum>}
      : (tensor<1x8x3x16xf16>, tensor<1x2x10x16xf16>, tensor<1xi32>, tensor<1x8x3xf32>, tensor<1x3xi32>) -> tensor<1x10xf32>
  return %s : tensor<1x10xf32>
}

// CHECK-LABEL: func.func @select_budgets
// CHECK-SAME: (%[[S:.*]]: tensor<2x16xf32>, %[[L:.*]]: tensor<2xi32>, %[[P:.*]]: tensor<2x16xi1>)
// CHECK: tok.select #tok.top_k<4> of %[[S]] : (tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
// CHECK: tok.select #tok.keep_ratio<2.500000e-01, half_even> of %[[S]] lengths %[[L]] span [2, 10]
// CHECK-SAME: -> (tensor<2x10xi32>, tensor<2xi32>)
// CHECK: tok.select #tok.threshold<1.000000e-01, ge> of %[[S]] protect %[[P]]
// CHECK-SAME: nan_policy = #tok.nan_policy<as_pos_inf>
// CHECK: tok.select #tok.keep_ratio<1.000000e-01, ceil> of %[[S]]
func.func @select_budgets(%s: tensor<2x16xf32>, %len: tensor<2xi32>, %p: tensor<2x16xi1>)
    -> (tensor<2x4xi32>, tensor<2x10xi32>, tensor<2x16xi32>, tensor<2x2xi32>) {
  %i0, %n0 = tok.select #tok.top_k<4> of %s : (tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
  %i1, %n1 = tok.select #tok.keep_ratio<0.25, half_even> of %s lengths %len span [2, 10]
      : (tensor<2x16xf32>, tensor<2xi32>) -> (tensor<2x10xi32>, tensor<2xi32>)
  %i2, %n2 = tok.select #tok.threshold<0.1, ge> of %s protect %p {nan_policy = #tok.nan_policy<as_pos_inf>}
      : (tensor<2x16xf32>, tensor<2x16xi1>) -> (tensor<2x16xi32>, tensor<2xi32>)
  // The shortest round-trip form keeps a non-representable ratio exact.
  %i3, %n3 = tok.select #tok.keep_ratio<0.1, ceil> of %s : (tensor<2x16xf32>) -> (tensor<2x2xi32>, tensor<2xi32>)
  return %i0, %i1, %i2, %i3 : tensor<2x4xi32>, tensor<2x10xi32>, tensor<2x16xi32>, tensor<2x2xi32>
}

// CHECK-LABEL: func.func @select_default_nan_policy_is_elided
// CHECK-NOT: nan_policy
// CHECK: return
func.func @select_default_nan_policy_is_elided(%s: tensor<1x4xf32>) -> tensor<1x2xi32> {
  %i, %n = tok.select #tok.top_k<2> of %s {nan_policy = #tok.nan_policy<as_neg_inf>}
      : (tensor<1x4xf32>) -> (tensor<1x2xi32>, tensor<1xi32>)
  return %i : tensor<1x2xi32>
}

// CHECK-LABEL: func.func @compact_bundle
// CHECK-SAME: (%[[I:.*]]: tensor<2x4xi32>, %[[N:.*]]: tensor<2xi32>, %[[H:.*]]: tensor<2x16x32xbf16>, %[[POS:.*]]: tensor<3x2x16xi32>, %[[M:.*]]: tensor<2x16xi1>)
// CHECK: %[[G:.*]]:3, %[[MAP:.*]] = tok.compact %[[I]], %[[N]] gather(%[[H]], %[[POS]], %[[M]]) {token_axes = array<i64: 1, 2, 1>}
// CHECK-SAME: -> (tensor<2x4x32xbf16>, tensor<3x2x4xi32>, tensor<2x4xi1>, tensor<2x16xi32>)
func.func @compact_bundle(%i: tensor<2x4xi32>, %n: tensor<2xi32>, %h: tensor<2x16x32xbf16>,
    %pos: tensor<3x2x16xi32>, %m: tensor<2x16xi1>) -> (tensor<2x4x32xbf16>, tensor<2x16xi32>) {
  %g:3, %map = tok.compact %i, %n gather(%h, %pos, %m) {token_axes = array<i64: 1, 2, 1>}
      : (tensor<2x4xi32>, tensor<2xi32>, tensor<2x16x32xbf16>, tensor<3x2x16xi32>, tensor<2x16xi1>)
      -> (tensor<2x4x32xbf16>, tensor<3x2x4xi32>, tensor<2x4xi1>, tensor<2x16xi32>)
  return %g#0, %map : tensor<2x4x32xbf16>, tensor<2x16xi32>
}

// CHECK-LABEL: func.func @compact_map_only
// CHECK: tok.compact %{{.*}}, %{{.*}} gather() : (tensor<1x2xi32>, tensor<1xi32>) -> tensor<1x8xi32>
func.func @compact_map_only(%i: tensor<1x2xi32>, %n: tensor<1xi32>) -> tensor<1x8xi32> {
  %map = tok.compact %i, %n gather() : (tensor<1x2xi32>, tensor<1xi32>) -> tensor<1x8xi32>
  return %map : tensor<1x8xi32>
}

// Per-request budgets round-trip after lengths and protect, before span.
// CHECK-LABEL: func.func @select_row_budget
// CHECK: tok.select #tok.top_k<4> of %{{.*}} lengths %{{.*}} protect %{{.*}} row_budget %{{.*}} span [1, 7] :
// CHECK: tok.select #tok.keep_ratio<5.000000e-01, floor> of %{{.*}} row_budget %{{.*}} :
func.func @select_row_budget(%s: tensor<2x8xf32>, %len: tensor<2xi32>, %p: tensor<2x8xi1>,
    %k: tensor<2xi32>, %r: tensor<2xf32>) -> (tensor<2x8xi32>, tensor<2x4xi32>) {
  %i, %n = tok.select #tok.top_k<4> of %s lengths %len protect %p row_budget %k span [1, 7]
      : (tensor<2x8xf32>, tensor<2xi32>, tensor<2x8xi1>, tensor<2xi32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  %j, %m = tok.select #tok.keep_ratio<0.5, floor> of %s row_budget %r
      : (tensor<2x8xf32>, tensor<2xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
  return %i, %j : tensor<2x8xi32>, tensor<2x4xi32>
}
