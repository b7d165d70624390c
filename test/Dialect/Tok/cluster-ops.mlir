// RUN: winnow-opt %s | winnow-opt | FileCheck %s
// RUN: winnow-opt %s --mlir-print-op-generic | winnow-opt | FileCheck %s
// RUN: winnow-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round trips of the clustering family (ClusterOps.td): tok.row_cosine of
// ranks 1 to 4 and each element type; tok.density_peaks and
// tok.similarity_components with and without lengths, each element type,
// N = 1, k > N, clusters > N and extreme thresholds.

// CHECK-LABEL: func.func @row_cosine
// CHECK-SAME: (%[[A:.*]]: tensor<1x16x196x64xbf16>, %[[B:.*]]: tensor<1x16x196x64xbf16>, %[[C:.*]]: tensor<8x33xf32>, %[[D:.*]]: tensor<8x33xf32>, %[[E:.*]]: tensor<7xf16>)
// CHECK: %[[S4:.*]] = tok.row_cosine %[[A]], %[[B]] : (tensor<1x16x196x64xbf16>, tensor<1x16x196x64xbf16>) -> tensor<1x16x196xf32>
// CHECK: %[[S2:.*]] = tok.row_cosine %[[C]], %[[D]] : (tensor<8x33xf32>, tensor<8x33xf32>) -> tensor<8xf32>
// CHECK: %[[S1:.*]] = tok.row_cosine %[[E]], %[[E]] : (tensor<7xf16>, tensor<7xf16>) -> tensor<f32>
// CHECK: return %[[S4]], %[[S2]], %[[S1]]
// GENERIC-LABEL: sym_name = "row_cosine"
// GENERIC: "tok.row_cosine"(%{{.*}}, %{{.*}}) : (tensor<1x16x196x64xbf16>, tensor<1x16x196x64xbf16>) -> tensor<1x16x196xf32>
// GENERIC: "tok.row_cosine"(%{{.*}}, %{{.*}}) : (tensor<8x33xf32>, tensor<8x33xf32>) -> tensor<8xf32>
// GENERIC: "tok.row_cosine"(%{{.*}}, %{{.*}}) : (tensor<7xf16>, tensor<7xf16>) -> tensor<f32>
func.func @row_cosine(%a: tensor<1x16x196x64xbf16>, %b: tensor<1x16x196x64xbf16>,
                      %c: tensor<8x33xf32>, %d: tensor<8x33xf32>, %e: tensor<7xf16>)
    -> (tensor<1x16x196xf32>, tensor<8xf32>, tensor<f32>) {
  %s4 = tok.row_cosine %a, %b : (tensor<1x16x196x64xbf16>, tensor<1x16x196x64xbf16>) -> tensor<1x16x196xf32>
  %s2 = tok.row_cosine %c, %d : (tensor<8x33xf32>, tensor<8x33xf32>) -> tensor<8xf32>
  %s1 = tok.row_cosine %e, %e : (tensor<7xf16>, tensor<7xf16>) -> tensor<f32>
  return %s4, %s2, %s1 : tensor<1x16x196xf32>, tensor<8xf32>, tensor<f32>
}

// CHECK-LABEL: func.func @density_peaks
// CHECK-SAME: (%[[X:.*]]: tensor<1x1568x64xbf16>, %[[L:.*]]: tensor<1xi32>, %[[Y:.*]]: tensor<3x1x4xf16>, %[[Z:.*]]: tensor<2x5x3xf32>)
// CHECK: %[[P:parent[_0-9]*]], %[[N:count[_0-9]*]] = tok.density_peaks %[[X]] lengths %[[L]] {clusters = 64 : i64, k = 5 : i64} : (tensor<1x1568x64xbf16>, tensor<1xi32>) -> (tensor<1x1568xi32>, tensor<1xi32>)
// CHECK: tok.density_peaks %[[Y]] {clusters = 1 : i64, k = 1 : i64} : (tensor<3x1x4xf16>) -> (tensor<3x1xi32>, tensor<3xi32>)
// CHECK: %[[P2:parent[_0-9]*]], %[[N2:count[_0-9]*]] = tok.density_peaks %[[Z]] {clusters = 9 : i64, k = 50 : i64} : (tensor<2x5x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
// CHECK: return %[[P]], %[[N]], %[[P2]], %[[N2]]
// GENERIC-LABEL: sym_name = "density_peaks"
// GENERIC: "tok.density_peaks"(%{{.*}}, %{{.*}}) <{clusters = 64 : i64, k = 5 : i64}> : (tensor<1x1568x64xbf16>, tensor<1xi32>) -> (tensor<1x1568xi32>, tensor<1xi32>)
// GENERIC: "tok.density_peaks"(%{{.*}}) <{clusters = 1 : i64, k = 1 : i64}> : (tensor<3x1x4xf16>) -> (tensor<3x1xi32>, tensor<3xi32>)
// GENERIC: "tok.density_peaks"(%{{.*}}) <{clusters = 9 : i64, k = 50 : i64}>
func.func @density_peaks(%x: tensor<1x1568x64xbf16>, %len: tensor<1xi32>, %y: tensor<3x1x4xf16>,
                         %z: tensor<2x5x3xf32>)
    -> (tensor<1x1568xi32>, tensor<1xi32>, tensor<2x5xi32>, tensor<2xi32>) {
  %p, %n = tok.density_peaks %x lengths %len {k = 5, clusters = 64}
      : (tensor<1x1568x64xbf16>, tensor<1xi32>) -> (tensor<1x1568xi32>, tensor<1xi32>)
  %p1, %n1 = tok.density_peaks %y {clusters = 1 : i64, k = 1 : i64}
      : (tensor<3x1x4xf16>) -> (tensor<3x1xi32>, tensor<3xi32>)
  %p2, %n2 = tok.density_peaks %z {k = 50, clusters = 9}
      : (tensor<2x5x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return %p, %n, %p2, %n2 : tensor<1x1568xi32>, tensor<1xi32>, tensor<2x5xi32>, tensor<2xi32>
}

// CHECK-LABEL: func.func @similarity_components
// CHECK-SAME: (%[[X:.*]]: tensor<32x196x128xbf16>, %[[L:.*]]: tensor<32xi32>, %[[Y:.*]]: tensor<2x7x4xf32>, %[[Z:.*]]: tensor<1x1x2xf16>)
// CHECK: %[[P:parent[_0-9]*]], %[[N:count[_0-9]*]] = tok.similarity_components %[[X]] {threshold = 0.94999999999999996 : f64} : (tensor<32x196x128xbf16>) -> (tensor<32x196xi32>, tensor<32xi32>)
// CHECK: tok.similarity_components %[[X]] lengths %[[L]] {threshold = -1.000000e+00 : f64} : (tensor<32x196x128xbf16>, tensor<32xi32>) -> (tensor<32x196xi32>, tensor<32xi32>)
// CHECK: tok.similarity_components %[[Y]] {threshold = 2.000000e+00 : f64}
// CHECK: tok.similarity_components %[[Y]] {threshold = 0xFFF0000000000000 : f64}
// CHECK: tok.similarity_components %[[Z]] lengths %{{.*}} {threshold = 0.000000e+00 : f64} : (tensor<1x1x2xf16>, tensor<1xi32>) -> (tensor<1x1xi32>, tensor<1xi32>)
// CHECK: return %[[P]], %[[N]]
// GENERIC-LABEL: sym_name = "similarity_components"
// GENERIC: "tok.similarity_components"(%{{.*}}) <{threshold = 0.94999999999999996 : f64}> : (tensor<32x196x128xbf16>) -> (tensor<32x196xi32>, tensor<32xi32>)
// GENERIC: "tok.similarity_components"(%{{.*}}, %{{.*}}) <{threshold = -1.000000e+00 : f64}>
func.func @similarity_components(%x: tensor<32x196x128xbf16>, %len: tensor<32xi32>,
                                 %y: tensor<2x7x4xf32>, %z: tensor<1x1x2xf16>)
    -> (tensor<32x196xi32>, tensor<32xi32>) {
  %p, %n = tok.similarity_components %x {threshold = 0.95}
      : (tensor<32x196x128xbf16>) -> (tensor<32x196xi32>, tensor<32xi32>)
  %p1, %n1 = tok.similarity_components %x lengths %len {threshold = -1.0 : f64}
      : (tensor<32x196x128xbf16>, tensor<32xi32>) -> (tensor<32x196xi32>, tensor<32xi32>)
  %p2, %n2 = tok.similarity_components %y {threshold = 2.0 : f64}
      : (tensor<2x7x4xf32>) -> (tensor<2x7xi32>, tensor<2xi32>)
  %p3, %n3 = tok.similarity_components %y {threshold = 0xFFF0000000000000 : f64}
      : (tensor<2x7x4xf32>) -> (tensor<2x7xi32>, tensor<2xi32>)
  %one = arith.constant dense<1> : tensor<1xi32>
  %p4, %n4 = tok.similarity_components %z lengths %one {threshold = 0.0 : f64}
      : (tensor<1x1x2xf16>, tensor<1xi32>) -> (tensor<1x1xi32>, tensor<1xi32>)
  return %p, %n : tensor<32x196xi32>, tensor<32xi32>
}
