// RUN: winnow-opt %s | winnow-opt | FileCheck %s
// RUN: winnow-opt %s --mlir-print-op-generic | winnow-opt | FileCheck %s

// Round trips of the chunking family (ChunkOps.td): every optional operand,
// every attribute value, each activation element type.

// CHECK-LABEL: func.func @boundary_minimal
// CHECK-SAME: (%[[Q:.*]]: tensor<2x8x4xbf16>, %[[K:.*]]: tensor<2x8x4xbf16>)
// CHECK: %[[P:.*]], %[[B:.*]] = tok.boundary %[[Q]], %[[K]] : (tensor<2x8x4xbf16>, tensor<2x8x4xbf16>) -> (tensor<2x8xf32>, tensor<2x8xi1>)
// CHECK: return %[[P]], %[[B]]
func.func @boundary_minimal(%q: tensor<2x8x4xbf16>, %k: tensor<2x8x4xbf16>) -> (tensor<2x8xf32>, tensor<2x8xi1>) {
  %p, %b = tok.boundary %q, %k : (tensor<2x8x4xbf16>, tensor<2x8x4xbf16>) -> (tensor<2x8xf32>, tensor<2x8xi1>)
  return %p, %b : tensor<2x8xf32>, tensor<2x8xi1>
}

// CHECK-LABEL: func.func @boundary_lengths
// CHECK-SAME: (%[[Q:.*]]: tensor<3x7x16xf16>, %[[K:.*]]: tensor<3x7x16xf16>, %[[L:.*]]: tensor<3xi32>)
// CHECK: tok.boundary %[[Q]], %[[K]] lengths %[[L]] : (tensor<3x7x16xf16>, tensor<3x7x16xf16>, tensor<3xi32>) -> (tensor<3x7xf32>, tensor<3x7xi1>)
func.func @boundary_lengths(%q: tensor<3x7x16xf16>, %k: tensor<3x7x16xf16>, %len: tensor<3xi32>) -> tensor<3x7xi1> {
  %p, %b = tok.boundary %q, %k lengths %len : (tensor<3x7x16xf16>, tensor<3x7x16xf16>, tensor<3xi32>) -> (tensor<3x7xf32>, tensor<3x7xi1>)
  return %b : tensor<3x7xi1>
}

// The default reduction (first) is elided, written or not.
// CHECK-LABEL: func.func @segment_reduce_first
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x4xf32>, %[[B:.*]]: tensor<2x8xi1>)
// CHECK: %[[O0:.*]], %[[N0:.*]] = tok.segment_reduce %[[X]], %[[B]] : (tensor<2x8x4xf32>, tensor<2x8xi1>) -> (tensor<2x8x4xf32>, tensor<2xi32>)
// CHECK-NOT: reduction
// CHECK: %[[O1:.*]], %[[N1:.*]] = tok.segment_reduce %[[X]], %[[B]] : (tensor<2x8x4xf32>, tensor<2x8xi1>) -> (tensor<2x8x4xf32>, tensor<2xi32>)
// CHECK: return %[[O0]], %[[N0]], %[[O1]], %[[N1]]
func.func @segment_reduce_first(%x: tensor<2x8x4xf32>, %b: tensor<2x8xi1>)
    -> (tensor<2x8x4xf32>, tensor<2xi32>, tensor<2x8x4xf32>, tensor<2xi32>) {
  %o0, %n0 = tok.segment_reduce %x, %b : (tensor<2x8x4xf32>, tensor<2x8xi1>) -> (tensor<2x8x4xf32>, tensor<2xi32>)
  %o1, %n1 = tok.segment_reduce %x, %b {reduction = #tok.segment_reduction<first>}
      : (tensor<2x8x4xf32>, tensor<2x8xi1>) -> (tensor<2x8x4xf32>, tensor<2xi32>)
  return %o0, %n0, %o1, %n1 : tensor<2x8x4xf32>, tensor<2xi32>, tensor<2x8x4xf32>, tensor<2xi32>
}

// CHECK-LABEL: func.func @segment_reduce_reductions
// CHECK-SAME: (%[[X:.*]]: tensor<4x512x256xbf16>, %[[B:.*]]: tensor<4x512xi1>, %[[L:.*]]: tensor<4xi32>)
// CHECK: tok.segment_reduce %[[X]], %[[B]] lengths %[[L]] {reduction = #tok.segment_reduction<mean>} : (tensor<4x512x256xbf16>, tensor<4x512xi1>, tensor<4xi32>) -> (tensor<4x512x256xbf16>, tensor<4xi32>)
// CHECK: tok.segment_reduce %[[X]], %[[B]] lengths %[[L]] {reduction = #tok.segment_reduction<max>}
// CHECK-SAME: -> (tensor<4x520x256xbf16>, tensor<4xi32>)
// CHECK: tok.segment_reduce %[[X]], %[[B]] {reduction = #tok.segment_reduction<sum>}
// CHECK-SAME: -> (tensor<4x512x256xbf16>, tensor<4xi32>)
func.func @segment_reduce_reductions(%x: tensor<4x512x256xbf16>, %b: tensor<4x512xi1>, %len: tensor<4xi32>)
    -> (tensor<4x512x256xbf16>, tensor<4x520x256xbf16>, tensor<4x512x256xbf16>) {
  %m, %nm = tok.segment_reduce %x, %b lengths %len {reduction = #tok.segment_reduction<mean>}
      : (tensor<4x512x256xbf16>, tensor<4x512xi1>, tensor<4xi32>) -> (tensor<4x512x256xbf16>, tensor<4xi32>)
  // A capacity above L is allowed.
  %x2, %nx = tok.segment_reduce %x, %b lengths %len {reduction = #tok.segment_reduction<max>}
      : (tensor<4x512x256xbf16>, tensor<4x512xi1>, tensor<4xi32>) -> (tensor<4x520x256xbf16>, tensor<4xi32>)
  %s, %ns = tok.segment_reduce %x, %b {reduction = #tok.segment_reduction<sum>}
      : (tensor<4x512x256xbf16>, tensor<4x512xi1>) -> (tensor<4x512x256xbf16>, tensor<4xi32>)
  return %m, %x2, %s : tensor<4x512x256xbf16>, tensor<4x520x256xbf16>, tensor<4x512x256xbf16>
}

// CHECK-LABEL: func.func @segment_reduce_f16
// CHECK: tok.segment_reduce %{{.*}}, %{{.*}} {reduction = #tok.segment_reduction<mean>} : (tensor<1x5x3xf16>, tensor<1x5xi1>) -> (tensor<1x5x3xf16>, tensor<1xi32>)
func.func @segment_reduce_f16(%x: tensor<1x5x3xf16>, %b: tensor<1x5xi1>) -> tensor<1x5x3xf16> {
  %o, %n = tok.segment_reduce %x, %b {reduction = #tok.segment_reduction<mean>}
      : (tensor<1x5x3xf16>, tensor<1x5xi1>) -> (tensor<1x5x3xf16>, tensor<1xi32>)
  return %o : tensor<1x5x3xf16>
}

// The defaults (epsilon 1e-4, scan_block 64) are elided; any other epsilon
// is printed as f64.
// CHECK-LABEL: func.func @ema_scan
// CHECK-SAME: (%[[Z:.*]]: tensor<2x8x4xbf16>, %[[G:.*]]: tensor<2x8xf32>, %[[N:.*]]: tensor<2xi32>)
// CHECK: %[[E0:.*]] = tok.ema_scan %[[Z]], %[[G]], %[[N]] : (tensor<2x8x4xbf16>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8x4xf32>
// CHECK: %[[E1:.*]] = tok.ema_scan %[[Z]], %[[G]], %[[N]] : (tensor<2x8x4xbf16>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8x4xf32>
// CHECK: %[[E2:.*]] = tok.ema_scan %[[Z]], %[[G]], %[[N]] {epsilon = 0.000000e+00 : f64}
// CHECK: %[[E3:.*]] = tok.ema_scan %[[Z]], %[[G]], %[[N]] {epsilon = 2.500000e-01 : f64}
// CHECK: %[[E4:.*]] = tok.ema_scan %[[Z]], %[[G]], %[[N]] : (
// CHECK: %[[E5:.*]] = tok.ema_scan %[[Z]], %[[G]], %[[N]] {scan_block = 3 : i64}
// CHECK: return %[[E0]], %[[E1]], %[[E2]], %[[E3]], %[[E4]], %[[E5]]
func.func @ema_scan(%z: tensor<2x8x4xbf16>, %g: tensor<2x8xf32>, %n: tensor<2xi32>)
    -> (tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32>) {
  %e0 = tok.ema_scan %z, %g, %n : (tensor<2x8x4xbf16>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8x4xf32>
  %e1 = tok.ema_scan %z, %g, %n {epsilon = 1.0e-4 : f64} : (tensor<2x8x4xbf16>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8x4xf32>
  %e2 = tok.ema_scan %z, %g, %n {epsilon = 0.0 : f64} : (tensor<2x8x4xbf16>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8x4xf32>
  %e3 = tok.ema_scan %z, %g, %n {epsilon = 0.25 : f64} : (tensor<2x8x4xbf16>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8x4xf32>
  %e4 = tok.ema_scan %z, %g, %n {scan_block = 64 : i64} : (tensor<2x8x4xbf16>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8x4xf32>
  %e5 = tok.ema_scan %z, %g, %n {scan_block = 3 : i64} : (tensor<2x8x4xbf16>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8x4xf32>
  return %e0, %e1, %e2, %e3, %e4, %e5 : tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32>
}

// CHECK-LABEL: func.func @ema_scan_f16_f32
// CHECK: tok.ema_scan %{{.*}} : (tensor<1x3x2xf16>, tensor<1x3xf32>, tensor<1xi32>) -> tensor<1x3x2xf32>
// CHECK: tok.ema_scan %{{.*}} : (tensor<1x3x2xf32>, tensor<1x3xf32>, tensor<1xi32>) -> tensor<1x3x2xf32>
func.func @ema_scan_f16_f32(%a: tensor<1x3x2xf16>, %b: tensor<1x3x2xf32>, %g: tensor<1x3xf32>, %n: tensor<1xi32>)
    -> (tensor<1x3x2xf32>, tensor<1x3x2xf32>) {
  %e0 = tok.ema_scan %a, %g, %n : (tensor<1x3x2xf16>, tensor<1x3xf32>, tensor<1xi32>) -> tensor<1x3x2xf32>
  %e1 = tok.ema_scan %b, %g, %n : (tensor<1x3x2xf32>, tensor<1x3xf32>, tensor<1xi32>) -> tensor<1x3x2xf32>
  return %e0, %e1 : tensor<1x3x2xf32>, tensor<1x3x2xf32>
}

// All four operand combinations; C (5) may differ from L (8) either way.
// CHECK-LABEL: func.func @expand
// CHECK-SAME: (%[[Z:.*]]: tensor<2x5x4xf32>, %[[B:.*]]: tensor<2x8xi1>, %[[L:.*]]: tensor<2xi32>, %[[H:.*]]: tensor<2x8x4xbf16>, %[[W:.*]]: tensor<2x12x4xf16>)
// CHECK: %[[X0:.*]] = tok.expand %[[Z]], %[[B]] : (tensor<2x5x4xf32>, tensor<2x8xi1>) -> tensor<2x8x4xf32>
// CHECK: %[[X1:.*]] = tok.expand %[[Z]], %[[B]] lengths %[[L]] : (tensor<2x5x4xf32>, tensor<2x8xi1>, tensor<2xi32>) -> tensor<2x8x4xf32>
// CHECK: %[[X2:.*]] = tok.expand %[[Z]], %[[B]] residual %[[H]] : (tensor<2x5x4xf32>, tensor<2x8xi1>, tensor<2x8x4xbf16>) -> tensor<2x8x4xbf16>
// CHECK: %[[X3:.*]] = tok.expand %[[Z]], %[[B]] lengths %[[L]] residual %[[H]] : (tensor<2x5x4xf32>, tensor<2x8xi1>, tensor<2xi32>, tensor<2x8x4xbf16>) -> tensor<2x8x4xbf16>
// CHECK: %[[X4:.*]] = tok.expand %[[W]], %[[B]] lengths %[[L]] : (tensor<2x12x4xf16>, tensor<2x8xi1>, tensor<2xi32>) -> tensor<2x8x4xf16>
// CHECK: return %[[X0]], %[[X1]], %[[X2]], %[[X3]], %[[X4]]
func.func @expand(%z: tensor<2x5x4xf32>, %b: tensor<2x8xi1>, %len: tensor<2xi32>, %h: tensor<2x8x4xbf16>,
    %w: tensor<2x12x4xf16>)
    -> (tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xbf16>, tensor<2x8x4xbf16>, tensor<2x8x4xf16>) {
  %x0 = tok.expand %z, %b : (tensor<2x5x4xf32>, tensor<2x8xi1>) -> tensor<2x8x4xf32>
  %x1 = tok.expand %z, %b lengths %len : (tensor<2x5x4xf32>, tensor<2x8xi1>, tensor<2xi32>) -> tensor<2x8x4xf32>
  %x2 = tok.expand %z, %b residual %h : (tensor<2x5x4xf32>, tensor<2x8xi1>, tensor<2x8x4xbf16>) -> tensor<2x8x4xbf16>
  %x3 = tok.expand %z, %b lengths %len residual %h
      : (tensor<2x5x4xf32>, tensor<2x8xi1>, tensor<2xi32>, tensor<2x8x4xbf16>) -> tensor<2x8x4xbf16>
  %x4 = tok.expand %w, %b lengths %len : (tensor<2x12x4xf16>, tensor<2x8xi1>, tensor<2xi32>) -> tensor<2x8x4xf16>
  return %x0, %x1, %x2, %x3, %x4
      : tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xbf16>, tensor<2x8x4xbf16>, tensor<2x8x4xf16>
}

// The H-Net chain as the ops compose (ops-reference §3.1): boundaries, chunk
// selection (segment_reduce first, or select + compact of the gates), the
// dechunk EMA and the plug-back with residual.
// CHECK-LABEL: func.func @hnet_chain
// CHECK-SAME: (%[[Q:.*]]: tensor<2x8x4xbf16>, %[[K:.*]]: tensor<2x8x4xbf16>, %[[L:.*]]: tensor<2xi32>, %[[H:.*]]: tensor<2x8x4xbf16>)
// CHECK: %[[P:.*]], %[[B:.*]] = tok.boundary %[[Q]], %[[K]] lengths %[[L]]
// CHECK: %[[CH:.*]], %[[N:.*]] = tok.segment_reduce %[[H]], %[[B]] lengths %[[L]] :
// CHECK: %[[IDX:.*]], %[[CNT:.*]] = tok.select #tok.threshold<5.000000e-01, gt> of %[[P]] lengths %[[L]]
// CHECK: %[[G:.*]], %{{.*}} = tok.compact %[[IDX]], %[[CNT]] gather(%[[P]])
// CHECK: %[[ZB:.*]] = tok.ema_scan %[[CH]], %[[G]], %[[N]] :
// CHECK: %[[OUT:.*]] = tok.expand %[[ZB]], %[[B]] lengths %[[L]] residual %[[H]] : (tensor<2x8x4xf32>, tensor<2x8xi1>, tensor<2xi32>, tensor<2x8x4xbf16>) -> tensor<2x8x4xbf16>
// CHECK: return %[[OUT]]
func.func @hnet_chain(%q: tensor<2x8x4xbf16>, %k: tensor<2x8x4xbf16>, %len: tensor<2xi32>, %h: tensor<2x8x4xbf16>)
    -> tensor<2x8x4xbf16> {
  %p, %b = tok.boundary %q, %k lengths %len
      : (tensor<2x8x4xbf16>, tensor<2x8x4xbf16>, tensor<2xi32>) -> (tensor<2x8xf32>, tensor<2x8xi1>)
  %chunks, %n = tok.segment_reduce %h, %b lengths %len
      : (tensor<2x8x4xbf16>, tensor<2x8xi1>, tensor<2xi32>) -> (tensor<2x8x4xbf16>, tensor<2xi32>)
  %idx, %cnt = tok.select #tok.threshold<0.5, gt> of %p lengths %len
      : (tensor<2x8xf32>, tensor<2xi32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  %g, %m = tok.compact %idx, %cnt gather(%p)
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xi32>)
  %zbar = tok.ema_scan %chunks, %g, %n
      : (tensor<2x8x4xbf16>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8x4xf32>
  %out = tok.expand %zbar, %b lengths %len residual %h
      : (tensor<2x8x4xf32>, tensor<2x8xi1>, tensor<2xi32>, tensor<2x8x4xbf16>) -> tensor<2x8x4xbf16>
  return %out : tensor<2x8x4xbf16>
}
