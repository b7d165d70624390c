// RUN: winnow-opt %s | winnow-opt | FileCheck %s
// RUN: winnow-opt %s --mlir-print-op-generic | winnow-opt | FileCheck %s
// RUN: winnow-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round trip of tok.tree_verify: every optional operand (temperature,
// uniforms, exponentials, seed/offset), every mode and attribute, the generic form, the
// elision of default attributes, and capacity C > T.

// The default mode (greedy) is elided; no noise.
// CHECK-LABEL: func.func @greedy_minimal
// CHECK-SAME: (%[[L:.*]]: tensor<2x5x7xf32>, %[[TT:.*]]: tensor<2x5xi32>, %[[P:.*]]: tensor<2x5xi32>, %[[N:.*]]: tensor<2xi32>)
// CHECK: %[[T:.*]], %[[AN:.*]], %[[A:.*]], %[[E:.*]] = tok.tree_verify %[[L]], %[[TT]], %[[P]], %[[N]] :
// CHECK-SAME: (tensor<2x5x7xf32>, tensor<2x5xi32>, tensor<2x5xi32>, tensor<2xi32>) -> (tensor<2x5xi32>, tensor<2x5xi32>, tensor<2xi32>, tensor<2xi32>)
// CHECK-NOT: mode
// CHECK: return %[[T]], %[[AN]], %[[A]], %[[E]]
// GENERIC-LABEL: sym_name = "greedy_minimal"
// GENERIC: "tok.tree_verify"
// GENERIC-SAME: mode = #tok.verify_mode<greedy>
// GENERIC-SAME: operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 0, 0>
// GENERIC-SAME: typical_alpha = 3.000000e-01 : f64
// GENERIC-SAME: typical_epsilon = 0.089999999999999996 : f64
func.func @greedy_minimal(%l: tensor<2x5x7xf32>, %t: tensor<2x5xi32>, %p: tensor<2x5xi32>, %n: tensor<2xi32>)
    -> (tensor<2x5xi32>, tensor<2x5xi32>, tensor<2xi32>, tensor<2xi32>) {
  %tok, %nodes, %a, %e = tok.tree_verify %l, %t, %p, %n
      : (tensor<2x5x7xf32>, tensor<2x5xi32>, tensor<2x5xi32>, tensor<2xi32>)
      -> (tensor<2x5xi32>, tensor<2x5xi32>, tensor<2xi32>, tensor<2xi32>)
  return %tok, %nodes, %a, %e : tensor<2x5xi32>, tensor<2x5xi32>, tensor<2xi32>, tensor<2xi32>
}

// An explicitly written default mode is elided too; bf16 logits; C > T;
// the root-only tree T = 1.
// CHECK-LABEL: func.func @greedy_explicit_mode
// CHECK: tok.tree_verify %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<4x64x32000xbf16>, tensor<4x64xi32>, tensor<4x64xi32>, tensor<4xi32>) -> (tensor<4x80xi32>, tensor<4x80xi32>, tensor<4xi32>, tensor<4xi32>)
// CHECK-NOT: mode
// CHECK: tok.tree_verify %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x1x5xf16>, tensor<1x1xi32>, tensor<1x1xi32>, tensor<1xi32>) -> (tensor<1x1xi32>, tensor<1x1xi32>, tensor<1xi32>, tensor<1xi32>)
// CHECK-NOT: mode
// CHECK: return
func.func @greedy_explicit_mode(%l: tensor<4x64x32000xbf16>, %t: tensor<4x64xi32>, %p: tensor<4x64xi32>,
    %n: tensor<4xi32>, %l1: tensor<1x1x5xf16>, %t1: tensor<1x1xi32>, %n1: tensor<1xi32>)
    -> (tensor<4x80xi32>, tensor<1x1xi32>) {
  %tok, %nodes, %a, %e = tok.tree_verify %l, %t, %p, %n {mode = #tok.verify_mode<greedy>}
      : (tensor<4x64x32000xbf16>, tensor<4x64xi32>, tensor<4x64xi32>, tensor<4xi32>)
      -> (tensor<4x80xi32>, tensor<4x80xi32>, tensor<4xi32>, tensor<4xi32>)
  %tok1, %nodes1, %a1, %e1 = tok.tree_verify %l1, %t1, %t1, %n1
      : (tensor<1x1x5xf16>, tensor<1x1xi32>, tensor<1x1xi32>, tensor<1xi32>)
      -> (tensor<1x1xi32>, tensor<1x1xi32>, tensor<1xi32>, tensor<1xi32>)
  return %tok, %tok1 : tensor<4x80xi32>, tensor<1x1xi32>
}

// Typical with every optional operand of the explicit-noise form and
// custom epsilon / alpha.
// CHECK-LABEL: func.func @typical_explicit
// CHECK-SAME: (%[[L:.*]]: tensor<2x6x9xf16>, %[[TT:.*]]: tensor<2x6xi32>, %[[P:.*]]: tensor<2x6xi32>, %[[N:.*]]: tensor<2xi32>, %[[TP:.*]]: tensor<2xf32>, %[[X:.*]]: tensor<2x9xf32>)
// CHECK: tok.tree_verify %[[L]], %[[TT]], %[[P]], %[[N]] temperature %[[TP]] exponentials %[[X]] {mode = #tok.verify_mode<typical>, typical_alpha = 5.000000e-01 : f64, typical_epsilon = 2.000000e-01 : f64} :
// CHECK-SAME: (tensor<2x6x9xf16>, tensor<2x6xi32>, tensor<2x6xi32>, tensor<2xi32>, tensor<2xf32>, tensor<2x9xf32>) -> (tensor<2x7xi32>, tensor<2x7xi32>, tensor<2xi32>, tensor<2xi32>)
// CHECK: tok.tree_verify %[[L]], %[[TT]], %[[P]], %[[N]] exponentials %[[X]] {mode = #tok.verify_mode<typical>} :
// CHECK: return
// GENERIC-LABEL: sym_name = "typical_explicit"
// GENERIC: operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 1, 0, 0>
// GENERIC: operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 1, 0, 0>
func.func @typical_explicit(%l: tensor<2x6x9xf16>, %t: tensor<2x6xi32>, %p: tensor<2x6xi32>, %n: tensor<2xi32>,
    %tp: tensor<2xf32>, %x: tensor<2x9xf32>) -> (tensor<2x7xi32>, tensor<2x6xi32>) {
  %tok, %nodes, %a, %e = tok.tree_verify %l, %t, %p, %n temperature %tp exponentials %x
      {mode = #tok.verify_mode<typical>, typical_epsilon = 0.2, typical_alpha = 0.5}
      : (tensor<2x6x9xf16>, tensor<2x6xi32>, tensor<2x6xi32>, tensor<2xi32>, tensor<2xf32>, tensor<2x9xf32>)
      -> (tensor<2x7xi32>, tensor<2x7xi32>, tensor<2xi32>, tensor<2xi32>)
  %tok1, %nodes1, %a1, %e1 = tok.tree_verify %l, %t, %p, %n exponentials %x {mode = #tok.verify_mode<typical>}
      : (tensor<2x6x9xf16>, tensor<2x6xi32>, tensor<2x6xi32>, tensor<2xi32>, tensor<2x9xf32>)
      -> (tensor<2x6xi32>, tensor<2x6xi32>, tensor<2xi32>, tensor<2xi32>)
  return %tok, %tok1 : tensor<2x7xi32>, tensor<2x6xi32>
}

// Typical with Philox noise, with and without temperature; explicitly
// written default epsilon / alpha are elided.
// CHECK-LABEL: func.func @typical_philox
// CHECK-SAME: (%[[L:.*]]: tensor<3x4x11xbf16>, %[[TT:.*]]: tensor<3x4xi32>, %[[P:.*]]: tensor<3x4xi32>, %[[N:.*]]: tensor<3xi32>, %[[TP:.*]]: tensor<3xf32>, %[[S:.*]]: tensor<3xi64>, %[[O:.*]]: tensor<3xi64>)
// CHECK: tok.tree_verify %[[L]], %[[TT]], %[[P]], %[[N]] temperature %[[TP]] seed %[[S]] offset %[[O]] {mode = #tok.verify_mode<typical>} :
// CHECK-SAME: (tensor<3x4x11xbf16>, tensor<3x4xi32>, tensor<3x4xi32>, tensor<3xi32>, tensor<3xf32>, tensor<3xi64>, tensor<3xi64>) -> (tensor<3x4xi32>, tensor<3x4xi32>, tensor<3xi32>, tensor<3xi32>)
// CHECK: tok.tree_verify %[[L]], %[[TT]], %[[P]], %[[N]] seed %[[S]] offset %[[O]] {mode = #tok.verify_mode<typical>} :
// CHECK-NOT: typical_
// CHECK: return
// GENERIC-LABEL: sym_name = "typical_philox"
// GENERIC: operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0, 1, 1>
// GENERIC: operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 1, 1>
func.func @typical_philox(%l: tensor<3x4x11xbf16>, %t: tensor<3x4xi32>, %p: tensor<3x4xi32>, %n: tensor<3xi32>,
    %tp: tensor<3xf32>, %s: tensor<3xi64>, %o: tensor<3xi64>) -> (tensor<3x4xi32>, tensor<3x4xi32>) {
  %tok, %nodes, %a, %e = tok.tree_verify %l, %t, %p, %n temperature %tp seed %s offset %o
      {mode = #tok.verify_mode<typical>}
      : (tensor<3x4x11xbf16>, tensor<3x4xi32>, tensor<3x4xi32>, tensor<3xi32>, tensor<3xf32>, tensor<3xi64>, tensor<3xi64>)
      -> (tensor<3x4xi32>, tensor<3x4xi32>, tensor<3xi32>, tensor<3xi32>)
  %tok1, %nodes1, %a1, %e1 = tok.tree_verify %l, %t, %p, %n seed %s offset %o
      {mode = #tok.verify_mode<typical>, typical_epsilon = 0.09 : f64, typical_alpha = 0.3 : f64}
      : (tensor<3x4x11xbf16>, tensor<3x4xi32>, tensor<3x4xi32>, tensor<3xi32>, tensor<3xi64>, tensor<3xi64>)
      -> (tensor<3x4xi32>, tensor<3x4xi32>, tensor<3xi32>, tensor<3xi32>)
  return %tok, %tok1 : tensor<3x4xi32>, tensor<3x4xi32>
}

// Rejection (the lossless sampling walk): explicit uniforms [B, T] and
// exponentials [B, V], or Philox; with temperature.
// CHECK-LABEL: func.func @rejection
// CHECK-SAME: (%[[L:.*]]: tensor<2x6x9xf32>, %[[TT:.*]]: tensor<2x6xi32>, %[[P:.*]]: tensor<2x6xi32>, %[[N:.*]]: tensor<2xi32>, %[[TP:.*]]: tensor<2xf32>, %[[U:.*]]: tensor<2x6xf32>, %[[X:.*]]: tensor<2x9xf32>, %[[S:.*]]: tensor<2xi64>, %[[O:.*]]: tensor<2xi64>)
// CHECK: tok.tree_verify %[[L]], %[[TT]], %[[P]], %[[N]] temperature %[[TP]] uniforms %[[U]] exponentials %[[X]] {mode = #tok.verify_mode<rejection>} :
// CHECK-SAME: (tensor<2x6x9xf32>, tensor<2x6xi32>, tensor<2x6xi32>, tensor<2xi32>, tensor<2xf32>, tensor<2x6xf32>, tensor<2x9xf32>) -> (tensor<2x6xi32>, tensor<2x6xi32>, tensor<2xi32>, tensor<2xi32>)
// CHECK: tok.tree_verify %[[L]], %[[TT]], %[[P]], %[[N]] seed %[[S]] offset %[[O]] {mode = #tok.verify_mode<rejection>} :
// CHECK: return
// GENERIC-LABEL: sym_name = "rejection"
// GENERIC: mode = #tok.verify_mode<rejection>, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 0, 0>
// GENERIC: mode = #tok.verify_mode<rejection>, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 1, 1>
func.func @rejection(%l: tensor<2x6x9xf32>, %t: tensor<2x6xi32>, %p: tensor<2x6xi32>, %n: tensor<2xi32>,
    %tp: tensor<2xf32>, %u: tensor<2x6xf32>, %x: tensor<2x9xf32>, %s: tensor<2xi64>, %o: tensor<2xi64>)
    -> (tensor<2x6xi32>, tensor<2x6xi32>) {
  %tok, %nodes, %a, %e = tok.tree_verify %l, %t, %p, %n temperature %tp uniforms %u exponentials %x
      {mode = #tok.verify_mode<rejection>}
      : (tensor<2x6x9xf32>, tensor<2x6xi32>, tensor<2x6xi32>, tensor<2xi32>, tensor<2xf32>, tensor<2x6xf32>, tensor<2x9xf32>)
      -> (tensor<2x6xi32>, tensor<2x6xi32>, tensor<2xi32>, tensor<2xi32>)
  %tok1, %nodes1, %a1, %e1 = tok.tree_verify %l, %t, %p, %n seed %s offset %o {mode = #tok.verify_mode<rejection>}
      : (tensor<2x6x9xf32>, tensor<2x6xi32>, tensor<2x6xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>)
      -> (tensor<2x6xi32>, tensor<2x6xi32>, tensor<2xi32>, tensor<2xi32>)
  return %tok, %tok1 : tensor<2x6xi32>, tensor<2x6xi32>
}

// Rejection variants: explicit noise without temperature on bf16 logits
// with capacity C > T; Philox with temperature on f16 logits; the generic
// form with uniforms (segment 5) parses back into the custom form.
// CHECK-LABEL: func.func @rejection_variants
// CHECK-SAME: (%[[L:.*]]: tensor<3x4x10xbf16>, %[[TT:.*]]: tensor<3x4xi32>, %[[P:.*]]: tensor<3x4xi32>, %[[N:.*]]: tensor<3xi32>, %[[U:.*]]: tensor<3x4xf32>, %[[X:.*]]: tensor<3x10xf32>, %[[LH:.*]]: tensor<3x4x10xf16>, %[[TP:.*]]: tensor<3xf32>, %[[S:.*]]: tensor<3xi64>, %[[O:.*]]: tensor<3xi64>)
// CHECK: tok.tree_verify %[[L]], %[[TT]], %[[P]], %[[N]] uniforms %[[U]] exponentials %[[X]] {mode = #tok.verify_mode<rejection>} :
// CHECK-SAME: (tensor<3x4x10xbf16>, tensor<3x4xi32>, tensor<3x4xi32>, tensor<3xi32>, tensor<3x4xf32>, tensor<3x10xf32>) -> (tensor<3x6xi32>, tensor<3x6xi32>, tensor<3xi32>, tensor<3xi32>)
// CHECK: tok.tree_verify %[[LH]], %[[TT]], %[[P]], %[[N]] temperature %[[TP]] seed %[[S]] offset %[[O]] {mode = #tok.verify_mode<rejection>} :
// CHECK-SAME: (tensor<3x4x10xf16>, tensor<3x4xi32>, tensor<3x4xi32>, tensor<3xi32>, tensor<3xf32>, tensor<3xi64>, tensor<3xi64>) -> (tensor<3x4xi32>, tensor<3x4xi32>, tensor<3xi32>, tensor<3xi32>)
// CHECK: tok.tree_verify %[[L]], %[[TT]], %[[P]], %[[N]] temperature %[[TP]] uniforms %[[U]] exponentials %[[X]] {mode = #tok.verify_mode<rejection>} :
// CHECK-NOT: typical_
// CHECK: return
// GENERIC-LABEL: sym_name = "rejection_variants"
// GENERIC: operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 1, 1, 0, 0>
// GENERIC: operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0, 1, 1>
// GENERIC: operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 0, 0>
func.func @rejection_variants(%l: tensor<3x4x10xbf16>, %t: tensor<3x4xi32>, %p: tensor<3x4xi32>, %n: tensor<3xi32>,
    %u: tensor<3x4xf32>, %x: tensor<3x10xf32>, %lh: tensor<3x4x10xf16>, %tp: tensor<3xf32>, %s: tensor<3xi64>,
    %o: tensor<3xi64>) -> (tensor<3x6xi32>, tensor<3x4xi32>, tensor<3x4xi32>) {
  %tok, %nodes, %a, %e = tok.tree_verify %l, %t, %p, %n uniforms %u exponentials %x
      {mode = #tok.verify_mode<rejection>, typical_epsilon = 0.09 : f64}
      : (tensor<3x4x10xbf16>, tensor<3x4xi32>, tensor<3x4xi32>, tensor<3xi32>, tensor<3x4xf32>, tensor<3x10xf32>)
      -> (tensor<3x6xi32>, tensor<3x6xi32>, tensor<3xi32>, tensor<3xi32>)
  %tok1, %nodes1, %a1, %e1 = tok.tree_verify %lh, %t, %p, %n temperature %tp seed %s offset %o
      {mode = #tok.verify_mode<rejection>}
      : (tensor<3x4x10xf16>, tensor<3x4xi32>, tensor<3x4xi32>, tensor<3xi32>, tensor<3xf32>, tensor<3xi64>, tensor<3xi64>)
      -> (tensor<3x4xi32>, tensor<3x4xi32>, tensor<3xi32>, tensor<3xi32>)
  %r:4 = "tok.tree_verify"(%l, %t, %p, %n, %tp, %u, %x) <{mode = #tok.verify_mode<rejection>,
      operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 0, 0>}>
      : (tensor<3x4x10xbf16>, tensor<3x4xi32>, tensor<3x4xi32>, tensor<3xi32>, tensor<3xf32>, tensor<3x4xf32>, tensor<3x10xf32>)
      -> (tensor<3x4xi32>, tensor<3x4xi32>, tensor<3xi32>, tensor<3xi32>)
  return %tok, %tok1, %r#0 : tensor<3x6xi32>, tensor<3x4xi32>, tensor<3x4xi32>
}

// The generic form parses and prints back in the custom form.
// CHECK-LABEL: func.func @from_generic
// CHECK-SAME: (%[[L:.*]]: tensor<2x3x6xf32>, %[[TT:.*]]: tensor<2x3xi32>, %[[P:.*]]: tensor<2x3xi32>, %[[N:.*]]: tensor<2xi32>, %[[TP:.*]]: tensor<2xf32>, %[[S:.*]]: tensor<2xi64>, %[[O:.*]]: tensor<2xi64>)
// CHECK: %[[T:.*]], %[[AN:.*]], %[[A:.*]], %[[E:.*]] = tok.tree_verify %[[L]], %[[TT]], %[[P]], %[[N]] temperature %[[TP]] seed %[[S]] offset %[[O]] {mode = #tok.verify_mode<typical>, typical_epsilon = 1.000000e-01 : f64} :
// CHECK: return %[[T]], %[[AN]], %[[A]], %[[E]]
func.func @from_generic(%l: tensor<2x3x6xf32>, %t: tensor<2x3xi32>, %p: tensor<2x3xi32>, %n: tensor<2xi32>,
    %tp: tensor<2xf32>, %s: tensor<2xi64>, %o: tensor<2xi64>)
    -> (tensor<2x3xi32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi32>) {
  %r:4 = "tok.tree_verify"(%l, %t, %p, %n, %tp, %s, %o) <{mode = #tok.verify_mode<typical>,
      operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0, 1, 1>, typical_epsilon = 0.1 : f64}>
      : (tensor<2x3x6xf32>, tensor<2x3xi32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xf32>, tensor<2xi64>, tensor<2xi64>)
      -> (tensor<2x3xi32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r#0, %r#1, %r#2, %r#3 : tensor<2x3xi32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi32>
}

// The optional fifth result, best_leaf [B] i32, round-trips in both forms.
// CHECK-LABEL: func.func @with_best_leaf
// CHECK: %[[T:.*]], %[[AN:.*]], %[[A:.*]], %[[E:.*]], %[[LEAF:.*]] = tok.tree_verify
// CHECK-SAME: -> (tensor<2x5xi32>, tensor<2x5xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2xi32>)
// CHECK: return %[[LEAF]]
// GENERIC-LABEL: sym_name = "with_best_leaf"
// GENERIC: "tok.tree_verify"
// GENERIC-SAME: -> (tensor<2x5xi32>, tensor<2x5xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2xi32>)
func.func @with_best_leaf(%l: tensor<2x5x7xf32>, %t: tensor<2x5xi32>, %p: tensor<2x5xi32>, %n: tensor<2xi32>)
    -> tensor<2xi32> {
  %tok, %nodes, %a, %e, %leaf = tok.tree_verify %l, %t, %p, %n
      : (tensor<2x5x7xf32>, tensor<2x5xi32>, tensor<2x5xi32>, tensor<2xi32>)
      -> (tensor<2x5xi32>, tensor<2x5xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2xi32>)
  return %leaf : tensor<2xi32>
}
