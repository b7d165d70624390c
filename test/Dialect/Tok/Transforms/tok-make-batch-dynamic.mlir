// RUN: winnow-opt %s --pass-pipeline='builtin.module(tok-make-batch-dynamic{bound=64})' | FileCheck %s --enable-var-scope

// The leading extent 2 of every argument, result and op becomes `?`;
// a splat with the batch extent becomes a tensor.splat sized by argument
// 0's batch, an empty the same; the function gets its bound.
// CHECK-LABEL: func.func @separators(
// CHECK-SAME: %[[IDS:.*]]: tensor<?x8xi32>, %[[S:.*]]: tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?xi32>)
// CHECK-SAME: attributes {tok.bounds = {batch = 64 : i64}}
// CHECK: %[[B:.*]] = tensor.dim %[[IDS]], %{{.*}} : tensor<?x8xi32>
// CHECK: %[[SEVEN:.*]] = arith.constant 7 : i32
// CHECK: %[[SPLAT:.*]] = tensor.splat %[[SEVEN]][%[[B]]] : tensor<?x8xi32>
// CHECK: %[[IS:.*]] = arith.cmpi eq, %[[IDS]], %[[SPLAT]] : tensor<?x8xi32>
// CHECK: tensor.empty(%[[B]]) : tensor<?x8xf32>
// CHECK: tok.select #tok.top_k<2> of %{{.*}} : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?xi32>)
func.func @separators(%ids: tensor<2x8xi32>, %s: tensor<2x8xf32>)
    -> (tensor<2x2xi32>, tensor<2xi32>) {
  %period = arith.constant dense<7> : tensor<2x8xi32>
  %is = arith.cmpi eq, %ids, %period : tensor<2x8xi32>
  %e = tensor.empty() : tensor<2x8xf32>
  %big = arith.constant dense<1.0e9> : tensor<2x8xf32>
  %boost = arith.select %is, %big, %s : tensor<2x8xi1>, tensor<2x8xf32>
  %i, %n = tok.select #tok.top_k<2> of %boost : (tensor<2x8xf32>) -> (tensor<2x2xi32>, tensor<2xi32>)
  return %i, %n : tensor<2x2xi32>, tensor<2xi32>
}

// A function that already has a dynamic batch keeps its own bound.
// CHECK-LABEL: func.func @already(
// CHECK-SAME: attributes {tok.bounds = {batch = 3 : i64}}
func.func @already(%s: tensor<?x8xf32>) -> tensor<?xi32> attributes {tok.bounds = {batch = 3}} {
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?xi32>)
  return %n : tensor<?xi32>
}

// An expand_shape spells its output extents: rebuilt, the batch comes from
// its operand.
// CHECK-LABEL: func.func @split(
// CHECK-SAME: %[[S:.*]]: tensor<?x8xf32>) -> tensor<?x2x4xf32>
// CHECK: %[[B:.*]] = tensor.dim %[[S]], %{{.*}} : tensor<?x8xf32>
// CHECK: tensor.expand_shape %[[S]] {{\[\[}}0], [1, 2]] output_shape [%[[B]], 2, 4] : tensor<?x8xf32> into tensor<?x2x4xf32>
func.func @split(%s: tensor<2x8xf32>) -> tensor<2x2x4xf32> {
  %e = tensor.expand_shape %s [[0], [1, 2]] output_shape [2, 2, 4]
      : tensor<2x8xf32> into tensor<2x2x4xf32>
  return %e : tensor<2x2x4xf32>
}
