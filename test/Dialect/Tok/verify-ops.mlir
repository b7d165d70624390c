// RUN: winnow-opt %s | winnow-opt | FileCheck %s
// RUN: winnow-opt %s --mlir-print-op-generic | winnow-opt | FileCheck %s
// RUN: winnow-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round trip of tok.spec_verify: every optional operand, every attribute,
// the generic form, and the elision of default attributes.

// The default mode (rejection) is elided; Philox noise from seed/offset.
// CHECK-LABEL: func.func @rejection_philox_minimal
// CHECK-SAME: (%[[L:.*]]: tensor<2x4x5xf32>, %[[D:.*]]: tensor<2x3xi32>, %[[N:.*]]: tensor<2xi32>, %[[S:.*]]: tensor<2xi64>, %[[O:.*]]: tensor<2xi64>)
// CHECK: %[[T:.*]], %[[A:.*]], %[[E:.*]] = tok.spec_verify %[[L]], %[[D]], %[[N]] seed %[[S]] offset %[[O]] :
// CHECK-SAME: (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
// CHECK-NOT: mode
// CHECK: return %[[T]], %[[A]], %[[E]]
// GENERIC-LABEL: sym_name = "rejection_philox_minimal"
// GENERIC: "tok.spec_verify"
// GENERIC-SAME: mode = #tok.verify_mode<rejection>
// GENERIC-SAME: operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0, 1, 1>
// GENERIC-SAME: typical_alpha = 3.000000e-01 : f64
// GENERIC-SAME: typical_epsilon = 0.089999999999999996 : f64
func.func @rejection_philox_minimal(%l: tensor<2x4x5xf32>, %d: tensor<2x3xi32>, %n: tensor<2xi32>,
    %s: tensor<2xi64>, %o: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  %t, %a, %e = tok.spec_verify %l, %d, %n seed %s offset %o
      : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>)
      -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// Every operand of rejection with Philox noise; an explicitly written default
// mode is elided too.
// CHECK-LABEL: func.func @rejection_all_philox_operands
// CHECK-SAME: (%[[L:.*]]: tensor<2x5x7xbf16>, %[[D:.*]]: tensor<2x4xi32>, %[[N:.*]]: tensor<2xi32>, %[[Q:.*]]: tensor<2x4x7xf32>, %[[TP:.*]]: tensor<2xf32>, %[[G:.*]]: tensor<2xi1>, %[[S:.*]]: tensor<2xi64>, %[[O:.*]]: tensor<2xi64>)
// CHECK: tok.spec_verify %[[L]], %[[D]], %[[N]] draft_probs %[[Q]] temperature %[[TP]] is_greedy %[[G]] seed %[[S]] offset %[[O]] :
// CHECK-SAME: (tensor<2x5x7xbf16>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x4x7xf32>, tensor<2xf32>, tensor<2xi1>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x5xi32>, tensor<2xi32>, tensor<2xi32>)
// CHECK-NOT: mode
// CHECK: return
func.func @rejection_all_philox_operands(%l: tensor<2x5x7xbf16>, %d: tensor<2x4xi32>, %n: tensor<2xi32>,
    %q: tensor<2x4x7xf32>, %t: tensor<2xf32>, %g: tensor<2xi1>, %s: tensor<2xi64>, %o: tensor<2xi64>)
    -> (tensor<2x5xi32>, tensor<2xi32>, tensor<2xi32>) {
  %tok, %acc, %emit = tok.spec_verify %l, %d, %n draft_probs %q temperature %t is_greedy %g
      seed %s offset %o {mode = #tok.verify_mode<rejection>}
      : (tensor<2x5x7xbf16>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x4x7xf32>, tensor<2xf32>,
         tensor<2xi1>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x5xi32>, tensor<2xi32>, tensor<2xi32>)
  return %tok, %acc, %emit : tensor<2x5xi32>, tensor<2xi32>, tensor<2xi32>
}

// Explicit noise: uniforms [B, K] and exponentials [B, V].
// CHECK-LABEL: func.func @rejection_explicit_noise
// CHECK-SAME: (%[[L:.*]]: tensor<3x3x11xf16>, %[[D:.*]]: tensor<3x2xi32>, %[[N:.*]]: tensor<3xi32>, %[[Q:.*]]: tensor<3x2x11xf32>, %[[TP:.*]]: tensor<3xf32>, %[[G:.*]]: tensor<3xi1>, %[[U:.*]]: tensor<3x2xf32>, %[[E:.*]]: tensor<3x11xf32>)
// CHECK: tok.spec_verify %[[L]], %[[D]], %[[N]] draft_probs %[[Q]] temperature %[[TP]] is_greedy %[[G]] uniforms %[[U]] exponentials %[[E]] :
// CHECK-SAME: -> (tensor<3x3xi32>, tensor<3xi32>, tensor<3xi32>)
// GENERIC-LABEL: sym_name = "rejection_explicit_noise"
// GENERIC: operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 1, 0, 0>
func.func @rejection_explicit_noise(%l: tensor<3x3x11xf16>, %d: tensor<3x2xi32>, %n: tensor<3xi32>,
    %q: tensor<3x2x11xf32>, %t: tensor<3xf32>, %g: tensor<3xi1>, %u: tensor<3x2xf32>, %e: tensor<3x11xf32>)
    -> (tensor<3x3xi32>, tensor<3xi32>, tensor<3xi32>) {
  %tok, %acc, %emit = tok.spec_verify %l, %d, %n draft_probs %q temperature %t is_greedy %g
      uniforms %u exponentials %e
      : (tensor<3x3x11xf16>, tensor<3x2xi32>, tensor<3xi32>, tensor<3x2x11xf32>, tensor<3xf32>,
         tensor<3xi1>, tensor<3x2xf32>, tensor<3x11xf32>) -> (tensor<3x3xi32>, tensor<3xi32>, tensor<3xi32>)
  return %tok, %acc, %emit : tensor<3x3xi32>, tensor<3xi32>, tensor<3xi32>
}

// One-hot drafts (no draft_probs) with explicit noise.
// CHECK-LABEL: func.func @rejection_one_hot
// CHECK-SAME: (%[[L:.*]]: tensor<1x2x9xf32>, %[[D:.*]]: tensor<1x1xi32>, %[[N:.*]]: tensor<1xi32>, %[[U:.*]]: tensor<1x1xf32>, %[[E:.*]]: tensor<1x9xf32>)
// CHECK: tok.spec_verify %[[L]], %[[D]], %[[N]] uniforms %[[U]] exponentials %[[E]] :
// CHECK-NOT: draft_probs
func.func @rejection_one_hot(%l: tensor<1x2x9xf32>, %d: tensor<1x1xi32>, %n: tensor<1xi32>,
    %u: tensor<1x1xf32>, %e: tensor<1x9xf32>) -> (tensor<1x2xi32>, tensor<1xi32>, tensor<1xi32>) {
  %tok, %acc, %emit = tok.spec_verify %l, %d, %n uniforms %u exponentials %e
      : (tensor<1x2x9xf32>, tensor<1x1xi32>, tensor<1xi32>, tensor<1x1xf32>, tensor<1x9xf32>)
      -> (tensor<1x2xi32>, tensor<1xi32>, tensor<1xi32>)
  return %tok, %acc, %emit : tensor<1x2xi32>, tensor<1xi32>, tensor<1xi32>
}

// Greedy: no noise; temperature and is_greedy are accepted (and ignored).
// CHECK-LABEL: func.func @greedy
// CHECK-SAME: (%[[L:.*]]: tensor<4x5x32xbf16>, %[[D:.*]]: tensor<4x4xi32>, %[[N:.*]]: tensor<4xi32>, %[[TP:.*]]: tensor<4xf32>, %[[G:.*]]: tensor<4xi1>)
// CHECK: tok.spec_verify %[[L]], %[[D]], %[[N]] {mode = #tok.verify_mode<greedy>} : (tensor<4x5x32xbf16>, tensor<4x4xi32>, tensor<4xi32>) -> (tensor<4x5xi32>, tensor<4xi32>, tensor<4xi32>)
// CHECK: tok.spec_verify %[[L]], %[[D]], %[[N]] temperature %[[TP]] is_greedy %[[G]] {mode = #tok.verify_mode<greedy>}
func.func @greedy(%l: tensor<4x5x32xbf16>, %d: tensor<4x4xi32>, %n: tensor<4xi32>, %t: tensor<4xf32>,
    %g: tensor<4xi1>) -> (tensor<4x5xi32>, tensor<4x5xi32>) {
  %t0, %a0, %e0 = tok.spec_verify %l, %d, %n {mode = #tok.verify_mode<greedy>}
      : (tensor<4x5x32xbf16>, tensor<4x4xi32>, tensor<4xi32>) -> (tensor<4x5xi32>, tensor<4xi32>, tensor<4xi32>)
  %t1, %a1, %e1 = tok.spec_verify %l, %d, %n temperature %t is_greedy %g {mode = #tok.verify_mode<greedy>}
      : (tensor<4x5x32xbf16>, tensor<4x4xi32>, tensor<4xi32>, tensor<4xf32>, tensor<4xi1>)
      -> (tensor<4x5xi32>, tensor<4xi32>, tensor<4xi32>)
  return %t0, %t1 : tensor<4x5xi32>, tensor<4x5xi32>
}

// Typical acceptance: custom epsilon/alpha are printed, defaults elided.
// CHECK-LABEL: func.func @typical
// CHECK-SAME: (%[[L:.*]]: tensor<2x5x7xf16>, %[[D:.*]]: tensor<2x4xi32>, %[[N:.*]]: tensor<2xi32>, %[[E:.*]]: tensor<2x7xf32>, %[[S:.*]]: tensor<2xi64>, %[[O:.*]]: tensor<2xi64>, %[[TP:.*]]: tensor<2xf32>)
// CHECK: tok.spec_verify %[[L]], %[[D]], %[[N]] exponentials %[[E]] {mode = #tok.verify_mode<typical>, typical_alpha = 5.000000e-01 : f64, typical_epsilon = 2.000000e-01 : f64}
// CHECK: tok.spec_verify %[[L]], %[[D]], %[[N]] temperature %[[TP]] seed %[[S]] offset %[[O]] {mode = #tok.verify_mode<typical>} :
// CHECK: tok.spec_verify %[[L]], %[[D]], %[[N]] seed %[[S]] offset %[[O]] {mode = #tok.verify_mode<typical>} :
// CHECK-NOT: typical_
// CHECK: return
func.func @typical(%l: tensor<2x5x7xf16>, %d: tensor<2x4xi32>, %n: tensor<2xi32>, %e: tensor<2x7xf32>,
    %s: tensor<2xi64>, %o: tensor<2xi64>, %t: tensor<2xf32>) -> (tensor<2x5xi32>, tensor<2x5xi32>, tensor<2x5xi32>) {
  %t0, %a0, %e0 = tok.spec_verify %l, %d, %n exponentials %e
      {mode = #tok.verify_mode<typical>, typical_epsilon = 0.2, typical_alpha = 0.5}
      : (tensor<2x5x7xf16>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x7xf32>) -> (tensor<2x5xi32>, tensor<2xi32>, tensor<2xi32>)
  %t1, %a1, %e1 = tok.spec_verify %l, %d, %n temperature %t seed %s offset %o {mode = #tok.verify_mode<typical>}
      : (tensor<2x5x7xf16>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xf32>, tensor<2xi64>, tensor<2xi64>)
      -> (tensor<2x5xi32>, tensor<2xi32>, tensor<2xi32>)
  // Explicitly written defaults (0.09 and 0.3) are elided.
  %t2, %a2, %e2 = tok.spec_verify %l, %d, %n seed %s offset %o
      {mode = #tok.verify_mode<typical>, typical_epsilon = 0.09 : f64, typical_alpha = 0.3 : f64}
      : (tensor<2x5x7xf16>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>)
      -> (tensor<2x5xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t0, %t1, %t2 : tensor<2x5xi32>, tensor<2x5xi32>, tensor<2x5xi32>
}

// K = 0 (bonus only): drafts [B, 0], logits [B, 1, V].
// CHECK-LABEL: func.func @no_drafts
// CHECK: tok.spec_verify %{{.*}}, %{{.*}}, %{{.*}} seed %{{.*}} offset %{{.*}} : (tensor<3x1x100xf32>, tensor<3x0xi32>, tensor<3xi32>, tensor<3xi64>, tensor<3xi64>) -> (tensor<3x1xi32>, tensor<3xi32>, tensor<3xi32>)
func.func @no_drafts(%l: tensor<3x1x100xf32>, %d: tensor<3x0xi32>, %n: tensor<3xi32>, %s: tensor<3xi64>,
    %o: tensor<3xi64>) -> tensor<3x1xi32> {
  %t, %a, %e = tok.spec_verify %l, %d, %n seed %s offset %o
      : (tensor<3x1x100xf32>, tensor<3x0xi32>, tensor<3xi32>, tensor<3xi64>, tensor<3xi64>)
      -> (tensor<3x1xi32>, tensor<3xi32>, tensor<3xi32>)
  return %t : tensor<3x1xi32>
}

// The generic form parses and prints back in the custom form.
// CHECK-LABEL: func.func @from_generic
// CHECK-SAME: (%[[L:.*]]: tensor<2x3x6xf32>, %[[D:.*]]: tensor<2x2xi32>, %[[N:.*]]: tensor<2xi32>, %[[TP:.*]]: tensor<2xf32>, %[[E:.*]]: tensor<2x6xf32>)
// CHECK: %[[T:.*]], %[[A:.*]], %[[M:.*]] = tok.spec_verify %[[L]], %[[D]], %[[N]] temperature %[[TP]] exponentials %[[E]] {mode = #tok.verify_mode<typical>, typical_epsilon = 1.000000e-01 : f64} :
// CHECK: return %[[T]], %[[A]], %[[M]]
func.func @from_generic(%l: tensor<2x3x6xf32>, %d: tensor<2x2xi32>, %n: tensor<2xi32>, %t: tensor<2xf32>,
    %e: tensor<2x6xf32>) -> (tensor<2x3xi32>, tensor<2xi32>, tensor<2xi32>) {
  %r:3 = "tok.spec_verify"(%l, %d, %n, %t, %e) <{mode = #tok.verify_mode<typical>,
      operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0, 1, 0, 0>, typical_epsilon = 0.1 : f64}>
      : (tensor<2x3x6xf32>, tensor<2x2xi32>, tensor<2xi32>, tensor<2xf32>, tensor<2x6xf32>)
      -> (tensor<2x3xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r#0, %r#1, %r#2 : tensor<2x3xi32>, tensor<2xi32>, tensor<2xi32>
}

// Given probabilities: the unit attribute target_probs round-trips.
// CHECK-LABEL: func.func @target_probs
// CHECK: tok.spec_verify %{{.*}}, %{{.*}}, %{{.*}} draft_probs %{{.*}} seed %{{.*}} offset %{{.*}} {target_probs} :
// GENERIC-LABEL: sym_name = "target_probs"
// GENERIC: "tok.spec_verify"
// GENERIC-SAME: target_probs
func.func @target_probs(%p: tensor<2x4x5xf32>, %d: tensor<2x3xi32>, %n: tensor<2xi32>, %q: tensor<2x3x5xf32>,
    %s: tensor<2xi64>, %o: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  %t, %a, %e = tok.spec_verify %p, %d, %n draft_probs %q seed %s offset %o {target_probs}
      : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x3x5xf32>, tensor<2xi64>, tensor<2xi64>)
      -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}
