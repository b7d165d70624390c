// RUN: winnow-opt %s | winnow-opt | FileCheck %s
// RUN: winnow-opt %s --mlir-print-op-generic | winnow-opt | FileCheck %s
// RUN: winnow-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round trips of the merging family (MergeOps.td): tok.bipartite_plan with a
// fixed r or a threshold and every flag; tok.scatter_merge with every
// reduction (the default, weighted_mean, elided), with and without sizes,
// with zero, one and several sources of ranks 2, 3 and 4 and each element
// type. Results print as %parent, %count, %merged, %merged_sizes.

// CHECK-LABEL: func.func @plan_fixed_r
// CHECK-SAME: (%[[M:.*]]: tensor<4x197x64xf16>)
// CHECK: %[[P:parent[_0-9]*]], %[[N:count[_0-9]*]] = tok.bipartite_plan %[[M]] {r = 16 : i64} : (tensor<4x197x64xf16>) -> (tensor<4x197xi32>, tensor<4xi32>)
// CHECK: return %[[P]], %[[N]]
// GENERIC-LABEL: sym_name = "plan_fixed_r"
// GENERIC: "tok.bipartite_plan"(%{{.*}}) <{r = 16 : i64, stride = 2 : i64}> : (tensor<4x197x64xf16>) -> (tensor<4x197xi32>, tensor<4xi32>)
func.func @plan_fixed_r(%m: tensor<4x197x64xf16>) -> (tensor<4x197xi32>, tensor<4xi32>) {
  %p, %n = tok.bipartite_plan %m {r = 16} : (tensor<4x197x64xf16>) -> (tensor<4x197xi32>, tensor<4xi32>)
  return %p, %n : tensor<4x197xi32>, tensor<4xi32>
}

// CHECK-LABEL: func.func @plan_flags
// CHECK-SAME: (%[[M:.*]]: tensor<2x7x4xbf16>)
// CHECK: %[[P0:parent[_0-9]*]], %{{.*}} = tok.bipartite_plan %[[M]] {class_token, r = 2 : i64} : (tensor<2x7x4xbf16>) -> (tensor<2x7xi32>, tensor<2xi32>)
// CHECK: %[[P1:parent[_0-9]*]], %{{.*}} = tok.bipartite_plan %[[M]] {distill_token, r = 3 : i64}
// CHECK: %[[P2:parent[_0-9]*]], %{{.*}} = tok.bipartite_plan %[[M]] {class_token, distill_token, r = 0 : i64}
// CHECK: %[[P3:parent[_0-9]*]], %[[N3:count[_0-9]*]] = tok.bipartite_plan %[[M]] {r = -5 : i64}
// CHECK: return %[[P0]], %[[P1]], %[[P2]], %[[P3]], %[[N3]]
// GENERIC-LABEL: sym_name = "plan_flags"
// GENERIC: <{class_token, r = 2 : i64, stride = 2 : i64}>
// GENERIC: <{distill_token, r = 3 : i64, stride = 2 : i64}>
// GENERIC: <{class_token, distill_token, r = 0 : i64, stride = 2 : i64}>
// GENERIC: <{r = -5 : i64, stride = 2 : i64}>
func.func @plan_flags(%m: tensor<2x7x4xbf16>)
    -> (tensor<2x7xi32>, tensor<2x7xi32>, tensor<2x7xi32>, tensor<2x7xi32>, tensor<2xi32>) {
  %p0, %n0 = tok.bipartite_plan %m {r = 2, class_token} : (tensor<2x7x4xbf16>) -> (tensor<2x7xi32>, tensor<2xi32>)
  %p1, %n1 = tok.bipartite_plan %m {distill_token, r = 3 : i64} : (tensor<2x7x4xbf16>) -> (tensor<2x7xi32>, tensor<2xi32>)
  %p2, %n2 = tok.bipartite_plan %m {r = 0, distill_token, class_token} : (tensor<2x7x4xbf16>) -> (tensor<2x7xi32>, tensor<2xi32>)
  %p3, %n3 = tok.bipartite_plan %m {r = -5} : (tensor<2x7x4xbf16>) -> (tensor<2x7xi32>, tensor<2xi32>)
  return %p0, %p1, %p2, %p3, %n3 : tensor<2x7xi32>, tensor<2x7xi32>, tensor<2x7xi32>, tensor<2x7xi32>, tensor<2xi32>
}

// A threshold (DyMU) instead of r, printed as f64; N = 1 and 2 are valid.
// CHECK-LABEL: func.func @plan_threshold
// CHECK-SAME: (%[[M:.*]]: tensor<3x8x16xf32>, %[[M1:.*]]: tensor<1x1x2xf32>, %[[M2:.*]]: tensor<1x2x2xf32>)
// CHECK: %[[P:parent[_0-9]*]], %[[N:count[_0-9]*]] = tok.bipartite_plan %[[M]] {threshold = 8.500000e-01 : f64} : (tensor<3x8x16xf32>) -> (tensor<3x8xi32>, tensor<3xi32>)
// CHECK: tok.bipartite_plan %[[M]] {class_token, threshold = -1.000000e+00 : f64}
// CHECK: tok.bipartite_plan %[[M]] {class_token, distill_token, threshold = 0.000000e+00 : f64}
// CHECK: tok.bipartite_plan %[[M1]] {class_token, r = 1 : i64} : (tensor<1x1x2xf32>) -> (tensor<1x1xi32>, tensor<1xi32>)
// CHECK: tok.bipartite_plan %[[M2]] {distill_token, threshold = 0x7FF0000000000000 : f64} : (tensor<1x2x2xf32>) -> (tensor<1x2xi32>, tensor<1xi32>)
// CHECK: return %[[P]], %[[N]]
// GENERIC-LABEL: sym_name = "plan_threshold"
// GENERIC: "tok.bipartite_plan"(%{{.*}}) <{stride = 2 : i64, threshold = 8.500000e-01 : f64}>
func.func @plan_threshold(%m: tensor<3x8x16xf32>, %m1: tensor<1x1x2xf32>, %m2: tensor<1x2x2xf32>) -> (tensor<3x8xi32>, tensor<3xi32>) {
  %p, %n = tok.bipartite_plan %m {threshold = 0.85 : f64} : (tensor<3x8x16xf32>) -> (tensor<3x8xi32>, tensor<3xi32>)
  %pa, %na = tok.bipartite_plan %m {threshold = -1.0 : f64, class_token} : (tensor<3x8x16xf32>) -> (tensor<3x8xi32>, tensor<3xi32>)
  %pb, %nb = tok.bipartite_plan %m {threshold = 0.0 : f64, class_token, distill_token} : (tensor<3x8x16xf32>) -> (tensor<3x8xi32>, tensor<3xi32>)
  %pc, %nc = tok.bipartite_plan %m1 {r = 1, class_token} : (tensor<1x1x2xf32>) -> (tensor<1x1xi32>, tensor<1xi32>)
  %pd, %nd = tok.bipartite_plan %m2 {threshold = 0x7FF0000000000000 : f64, distill_token} : (tensor<1x2x2xf32>) -> (tensor<1x2xi32>, tensor<1xi32>)
  return %p, %n : tensor<3x8xi32>, tensor<3xi32>
}

// The default reduction (weighted_mean) is elided, written or not; every
// other reduction is printed. Sizes are optional.
// CHECK-LABEL: func.func @scatter_merge_reductions
// CHECK-SAME: (%[[P:.*]]: tensor<2x9xi32>, %[[N:.*]]: tensor<2xi32>, %[[X:.*]]: tensor<2x9x3xf32>, %[[S:.*]]: tensor<2x9xf32>)
// CHECK: %[[W0:merged[_0-9]*]], %[[Z0:merged_sizes[_0-9]*]] = tok.scatter_merge %[[P]], %[[N]] gather(%[[X]]) : (tensor<2x9xi32>, tensor<2xi32>, tensor<2x9x3xf32>) -> (tensor<2x5x3xf32>, tensor<2x5xf32>)
// CHECK-NOT: reduction
// CHECK: %[[W1:merged[_0-9]*]], %{{.*}} = tok.scatter_merge %[[P]], %[[N]] gather(%[[X]]) sizes %[[S]] : (tensor<2x9xi32>, tensor<2xi32>, tensor<2x9x3xf32>, tensor<2x9xf32>) -> (tensor<2x5x3xf32>, tensor<2x5xf32>)
// CHECK: %[[W2:merged[_0-9]*]], %{{.*}} = tok.scatter_merge %[[P]], %[[N]] gather(%[[X]]) {reduction = #tok.merge_reduction<sum>} : (tensor<2x9xi32>, tensor<2xi32>, tensor<2x9x3xf32>) -> (tensor<2x9x3xf32>, tensor<2x9xf32>)
// CHECK: %[[W3:merged[_0-9]*]], %{{.*}} = tok.scatter_merge %[[P]], %[[N]] gather(%[[X]]) sizes %[[S]] {reduction = #tok.merge_reduction<mean>}
// CHECK: %[[W4:merged[_0-9]*]], %[[Z4:merged_sizes[_0-9]*]] = tok.scatter_merge %[[P]], %[[N]] gather(%[[X]]) sizes %[[S]] {reduction = #tok.merge_reduction<amax>} : (tensor<2x9xi32>, tensor<2xi32>, tensor<2x9x3xf32>, tensor<2x9xf32>) -> (tensor<2x12x3xf32>, tensor<2x12xf32>)
// CHECK: return %[[W0]], %[[Z0]], %[[W1]], %[[W2]], %[[W3]], %[[W4]], %[[Z4]]
// GENERIC-LABEL: sym_name = "scatter_merge_reductions"
// GENERIC: "tok.scatter_merge"(%{{.*}}, %{{.*}}, %{{.*}}) <{operandSegmentSizes = array<i32: 1, 1, 1, 0>, reduction = #tok.merge_reduction<weighted_mean>}>
// GENERIC: "tok.scatter_merge"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{operandSegmentSizes = array<i32: 1, 1, 1, 1>, reduction = #tok.merge_reduction<weighted_mean>}>
// GENERIC: <{operandSegmentSizes = array<i32: 1, 1, 1, 0>, reduction = #tok.merge_reduction<sum>}>
// GENERIC: <{operandSegmentSizes = array<i32: 1, 1, 1, 1>, reduction = #tok.merge_reduction<mean>}>
// GENERIC: <{operandSegmentSizes = array<i32: 1, 1, 1, 1>, reduction = #tok.merge_reduction<amax>}>
func.func @scatter_merge_reductions(%p: tensor<2x9xi32>, %n: tensor<2xi32>, %x: tensor<2x9x3xf32>, %s: tensor<2x9xf32>)
    -> (tensor<2x5x3xf32>, tensor<2x5xf32>, tensor<2x5x3xf32>, tensor<2x9x3xf32>, tensor<2x5x3xf32>,
        tensor<2x12x3xf32>, tensor<2x12xf32>) {
  %w0, %z0 = tok.scatter_merge %p, %n gather(%x) : (tensor<2x9xi32>, tensor<2xi32>, tensor<2x9x3xf32>) -> (tensor<2x5x3xf32>, tensor<2x5xf32>)
  %w1, %z1 = tok.scatter_merge %p, %n gather(%x) sizes %s {reduction = #tok.merge_reduction<weighted_mean>}
      : (tensor<2x9xi32>, tensor<2xi32>, tensor<2x9x3xf32>, tensor<2x9xf32>) -> (tensor<2x5x3xf32>, tensor<2x5xf32>)
  // Capacities equal to N and above N are allowed.
  %w2, %z2 = tok.scatter_merge %p, %n gather(%x) {reduction = #tok.merge_reduction<sum>}
      : (tensor<2x9xi32>, tensor<2xi32>, tensor<2x9x3xf32>) -> (tensor<2x9x3xf32>, tensor<2x9xf32>)
  %w3, %z3 = tok.scatter_merge %p, %n gather(%x) sizes %s {reduction = #tok.merge_reduction<mean>}
      : (tensor<2x9xi32>, tensor<2xi32>, tensor<2x9x3xf32>, tensor<2x9xf32>) -> (tensor<2x5x3xf32>, tensor<2x5xf32>)
  %w4, %z4 = tok.scatter_merge %p, %n gather(%x) sizes %s {reduction = #tok.merge_reduction<amax>}
      : (tensor<2x9xi32>, tensor<2xi32>, tensor<2x9x3xf32>, tensor<2x9xf32>) -> (tensor<2x12x3xf32>, tensor<2x12xf32>)
  return %w0, %z0, %w1, %w2, %w3, %w4, %z4 : tensor<2x5x3xf32>, tensor<2x5xf32>, tensor<2x5x3xf32>, tensor<2x9x3xf32>,
      tensor<2x5x3xf32>, tensor<2x12x3xf32>, tensor<2x12xf32>
}

// A bundle: sources of ranks 2, 3 and 4 and of each element type share the
// plan; zero sources (sizes only) is a valid bundle too.
// CHECK-LABEL: func.func @scatter_merge_bundle
// CHECK-SAME: (%[[P:.*]]: tensor<4x197xi32>, %[[N:.*]]: tensor<4xi32>, %[[X:.*]]: tensor<4x197x768xbf16>, %[[POS:.*]]: tensor<4x197xf32>, %[[H:.*]]: tensor<4x197x12x64xf16>, %[[S:.*]]: tensor<4x197xf32>)
// CHECK: %[[R:merged[_0-9]*]]:3, %[[Z:merged_sizes[_0-9]*]] = tok.scatter_merge %[[P]], %[[N]] gather(%[[X]], %[[POS]], %[[H]]) sizes %[[S]] : (tensor<4x197xi32>, tensor<4xi32>, tensor<4x197x768xbf16>, tensor<4x197xf32>, tensor<4x197x12x64xf16>, tensor<4x197xf32>) -> (tensor<4x181x768xbf16>, tensor<4x181xf32>, tensor<4x181x12x64xf16>, tensor<4x181xf32>)
// CHECK: %[[Z2:merged_sizes[_0-9]*]] = tok.scatter_merge %[[P]], %[[N]] gather() sizes %[[S]] {reduction = #tok.merge_reduction<sum>} : (tensor<4x197xi32>, tensor<4xi32>, tensor<4x197xf32>) -> tensor<4x181xf32>
// CHECK: %[[Z3:merged_sizes[_0-9]*]] = tok.scatter_merge %[[P]], %[[N]] gather() : (tensor<4x197xi32>, tensor<4xi32>) -> tensor<4x197xf32>
// CHECK: return %[[R]]#0, %[[R]]#1, %[[R]]#2, %[[Z]], %[[Z2]], %[[Z3]]
// GENERIC-LABEL: sym_name = "scatter_merge_bundle"
// GENERIC: <{operandSegmentSizes = array<i32: 1, 1, 3, 1>, reduction = #tok.merge_reduction<weighted_mean>}>
// GENERIC: <{operandSegmentSizes = array<i32: 1, 1, 0, 1>, reduction = #tok.merge_reduction<sum>}>
// GENERIC: <{operandSegmentSizes = array<i32: 1, 1, 0, 0>, reduction = #tok.merge_reduction<weighted_mean>}>
func.func @scatter_merge_bundle(%p: tensor<4x197xi32>, %n: tensor<4xi32>, %x: tensor<4x197x768xbf16>,
                                %pos: tensor<4x197xf32>, %h: tensor<4x197x12x64xf16>, %s: tensor<4x197xf32>)
    -> (tensor<4x181x768xbf16>, tensor<4x181xf32>, tensor<4x181x12x64xf16>, tensor<4x181xf32>,
        tensor<4x181xf32>, tensor<4x197xf32>) {
  %x2, %pos2, %h2, %s2 = tok.scatter_merge %p, %n gather(%x, %pos, %h) sizes %s
      : (tensor<4x197xi32>, tensor<4xi32>, tensor<4x197x768xbf16>, tensor<4x197xf32>, tensor<4x197x12x64xf16>, tensor<4x197xf32>)
      -> (tensor<4x181x768xbf16>, tensor<4x181xf32>, tensor<4x181x12x64xf16>, tensor<4x181xf32>)
  %s3 = tok.scatter_merge %p, %n gather() sizes %s {reduction = #tok.merge_reduction<sum>}
      : (tensor<4x197xi32>, tensor<4xi32>, tensor<4x197xf32>) -> tensor<4x181xf32>
  %s4 = tok.scatter_merge %p, %n gather() : (tensor<4x197xi32>, tensor<4xi32>) -> tensor<4x197xf32>
  return %x2, %pos2, %h2, %s2, %s3, %s4 : tensor<4x181x768xbf16>, tensor<4x181xf32>, tensor<4x181x12x64xf16>,
      tensor<4x181xf32>, tensor<4x181xf32>, tensor<4x197xf32>
}

// The ToMe step of the op description: plan, merge, proportional-attention
// key bias, and the un-merge through the same plan (tok.compact with count N).
// CHECK-LABEL: func.func @tome_step
// CHECK-SAME: (%[[M:.*]]: tensor<1x7x2xf32>, %[[X:.*]]: tensor<1x7x3xf32>, %[[ALL:.*]]: tensor<1xi32>)
// CHECK: %[[P:parent[_0-9]*]], %[[N:count[_0-9]*]] = tok.bipartite_plan %[[M]] {class_token, r = 2 : i64}
// CHECK: %[[X2:merged[_0-9]*]], %[[S2:merged_sizes[_0-9]*]] = tok.scatter_merge %[[P]], %[[N]] gather(%[[X]]) : (tensor<1x7xi32>, tensor<1xi32>, tensor<1x7x3xf32>) -> (tensor<1x5x3xf32>, tensor<1x5xf32>)
// CHECK: %[[BIAS:.*]] = math.log %[[S2]] : tensor<1x5xf32>
// CHECK: %[[U:.*]], %{{.*}} = tok.compact %[[P]], %[[ALL]] gather(%[[X2]]) : (tensor<1x7xi32>, tensor<1xi32>, tensor<1x5x3xf32>) -> (tensor<1x7x3xf32>, tensor<1x5xi32>)
// CHECK: return %[[P]], %[[N]], %[[X2]], %[[BIAS]], %[[U]]
func.func @tome_step(%m: tensor<1x7x2xf32>, %x: tensor<1x7x3xf32>, %all: tensor<1xi32>)
    -> (tensor<1x7xi32>, tensor<1xi32>, tensor<1x5x3xf32>, tensor<1x5xf32>, tensor<1x7x3xf32>) {
  %parent, %n = tok.bipartite_plan %m {r = 2, class_token} : (tensor<1x7x2xf32>) -> (tensor<1x7xi32>, tensor<1xi32>)
  %x2, %s2 = tok.scatter_merge %parent, %n gather(%x) : (tensor<1x7xi32>, tensor<1xi32>, tensor<1x7x3xf32>) -> (tensor<1x5x3xf32>, tensor<1x5xf32>)
  %bias = math.log %s2 : tensor<1x5xf32>
  %u, %map = tok.compact %parent, %all gather(%x2) : (tensor<1x7xi32>, tensor<1xi32>, tensor<1x5x3xf32>) -> (tensor<1x7x3xf32>, tensor<1x5xi32>)
  return %parent, %n, %x2, %bias, %u : tensor<1x7xi32>, tensor<1xi32>, tensor<1x5x3xf32>, tensor<1x5xf32>, tensor<1x7x3xf32>
}

// CHECK-LABEL: func.func @weighted_gather
// CHECK-SAME: (%[[I:.*]]: tensor<2x3x4xi32>, %[[W:.*]]: tensor<2x3x4xf32>, %[[X:.*]]: tensor<2x7x5xbf16>)
// CHECK: %[[Y:.*]] = tok.weighted_gather %[[I]], %[[W]] gather(%[[X]]) : (tensor<2x3x4xi32>, tensor<2x3x4xf32>, tensor<2x7x5xbf16>) -> tensor<2x3x5xbf16>
// CHECK: return %[[Y]]
func.func @weighted_gather(%i: tensor<2x3x4xi32>, %w: tensor<2x3x4xf32>, %x: tensor<2x7x5xbf16>) -> tensor<2x3x5xbf16> {
  %y = tok.weighted_gather %i, %w gather(%x) : (tensor<2x3x4xi32>, tensor<2x3x4xf32>, tensor<2x7x5xbf16>) -> tensor<2x3x5xbf16>
  return %y : tensor<2x3x5xbf16>
}
