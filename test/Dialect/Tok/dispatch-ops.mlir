// RUN: winnow-opt %s | winnow-opt | FileCheck %s --enable-var-scope

// CHECK-LABEL: func.func @fused_prune
// CHECK: %[[R:.*]]:2 = tok.dispatch rows 2 scratch 64 saved 256 launches 1 -> (tensor<2x4xi32>, tensor<2xi32>) {
// CHECK-NEXT: %[[S:.*]] = tok.attn_score
// CHECK-NEXT: %[[I:.*]], %[[N:.*]] = tok.select #tok.top_k<4> of %[[S]]
// CHECK-NEXT: tok.yield %[[I]], %[[N]] : tensor<2x4xi32>, tensor<2xi32>
// CHECK-NEXT: }
// CHECK: return %[[R]]#0, %[[R]]#1
func.func @fused_prune(%q: tensor<2x4x1x8xf32>, %k: tensor<2x4x16x8xf32>)
    -> (tensor<2x4xi32>, tensor<2xi32>) {
  %i, %n = tok.dispatch rows 2 scratch 64 saved 256 launches 1 -> (tensor<2x4xi32>, tensor<2xi32>) {
    %s = tok.attn_score %q, %k : (tensor<2x4x1x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x16xf32>
    %i, %n = tok.select #tok.top_k<4> of %s : (tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
    tok.yield %i, %n : tensor<2x4xi32>, tensor<2xi32>
  }
  return %i, %n : tensor<2x4xi32>, tensor<2xi32>
}

// Elementwise neighbours fuse too.
// CHECK-LABEL: func.func @fused_bias
// CHECK: tok.dispatch rows 2 scratch 64 saved 256 launches 1 -> (tensor<2x4xi32>, tensor<2xi32>) {
// CHECK: arith.negf
// CHECK: tok.select
func.func @fused_bias(%s: tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>) {
  %i, %n = tok.dispatch rows 2 scratch 64 saved 256 launches 1 -> (tensor<2x4xi32>, tensor<2xi32>) {
    %neg = arith.negf %s : tensor<2x16xf32>
    %i, %n = tok.select #tok.top_k<4> of %neg : (tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
    tok.yield %i, %n : tensor<2x4xi32>, tensor<2xi32>
  }
  return %i, %n : tensor<2x4xi32>, tensor<2xi32>
}
