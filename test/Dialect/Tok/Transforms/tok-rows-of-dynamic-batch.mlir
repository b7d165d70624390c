// RUN: winnow-opt %s --pass-pipeline='builtin.module(func.func(tok-rows-of-dynamic-batch))' | FileCheck %s --enable-var-scope

// One scf.forall over the batch of argument 0; each iteration slices row %r of
// every argument, runs the ops at batch 1 (static) and inserts their
// results into row %r.
// CHECK-LABEL: func.func @top2(
// CHECK-SAME: %[[S:.*]]: tensor<?x8xf32>, %[[L:.*]]: tensor<?xi32>) -> (tensor<?x2xi32>, tensor<?xi32>)
// CHECK-SAME: attributes {tok.bounds = {batch = 16 : i64}}
// CHECK: %[[B:.*]] = tensor.dim %[[S]], %{{.*}} : tensor<?x8xf32>
// CHECK: %[[E0:.*]] = tensor.empty(%[[B]]) : tensor<?x2xi32>
// CHECK: %[[E1:.*]] = tensor.empty(%[[B]]) : tensor<?xi32>
// CHECK: %[[LOOP:.*]]:2 = scf.forall (%[[R:.*]]) in (%[[B]]) shared_outs(%[[O0:.*]] = %[[E0]], %[[O1:.*]] = %[[E1]])
// CHECK: %[[SR:.*]] = tensor.extract_slice %[[S]][%[[R]], 0] [1, 8] [1, 1] : tensor<?x8xf32> to tensor<1x8xf32>
// CHECK: %[[LR:.*]] = tensor.extract_slice %[[L]][%[[R]]] [1] [1] : tensor<?xi32> to tensor<1xi32>
// CHECK: %[[I:.*]], %[[N:.*]] = tok.select #tok.top_k<2> of %[[SR]] lengths %[[LR]] : (tensor<1x8xf32>, tensor<1xi32>) -> (tensor<1x2xi32>, tensor<1xi32>)
// CHECK: scf.forall.in_parallel
// CHECK: tensor.parallel_insert_slice %[[I]] into %[[O0]][%[[R]], 0] [1, 2] [1, 1]
// CHECK: tensor.parallel_insert_slice %[[N]] into %[[O1]][%[[R]]] [1] [1]
// CHECK: return %[[LOOP]]#0, %[[LOOP]]#1
func.func @top2(%s: tensor<?x8xf32>, %len: tensor<?xi32>)
    -> (tensor<?x2xi32>, tensor<?xi32>) attributes {tok.bounds = {batch = 16}} {
  %i, %n = tok.select #tok.top_k<2> of %s lengths %len
      : (tensor<?x8xf32>, tensor<?xi32>) -> (tensor<?x2xi32>, tensor<?xi32>)
  return %i, %n : tensor<?x2xi32>, tensor<?xi32>
}

// Splats and empties sized by the batch become static rows; the batch of
// one row is 1; elementwise ops and broadcasts inside rows run per row.
// CHECK-LABEL: func.func @splat_and_broadcast(
// CHECK: scf.forall
// CHECK-DAG: %[[ZERO:.*]] = tensor.splat %{{.*}} : tensor<1x4xi32>
// CHECK-DAG: %[[EMPTY:.*]] = tensor.empty() : tensor<1x4xi32>
// CHECK: %[[BC:.*]] = linalg.broadcast ins(%{{.*}} : tensor<1xi32>) outs(%[[EMPTY]] : tensor<1x4xi32>) dimensions = [1]
// CHECK: arith.maxsi %[[BC]], %[[ZERO]] : tensor<1x4xi32>
func.func @splat_and_broadcast(%x: tensor<?xi32>) -> tensor<?x4xi32>
    attributes {tok.bounds = {batch = 4}} {
  %c0 = arith.constant 0 : index
  %b = tensor.dim %x, %c0 : tensor<?xi32>
  %zero_i32 = arith.constant 0 : i32
  %zero = tensor.splat %zero_i32[%b] : tensor<?x4xi32>
  %e = tensor.empty(%b) : tensor<?x4xi32>
  %bc = linalg.broadcast ins(%x : tensor<?xi32>) outs(%e : tensor<?x4xi32>) dimensions = [1]
  %m = arith.maxsi %bc, %zero : tensor<?x4xi32>
  return %m : tensor<?x4xi32>
}

// A function without tok.bounds is left alone.
// CHECK-LABEL: func.func @static(
// CHECK-NOT: scf.forall
// CHECK: tok.select
func.func @static(%s: tensor<2x8xf32>) -> tensor<2xi32> {
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<2x8xf32>) -> (tensor<2x2xi32>, tensor<2xi32>)
  return %n : tensor<2xi32>
}

// A row's expand_shape has static output extents.
// CHECK-LABEL: func.func @split(
// CHECK: scf.forall
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2]] output_shape [1, 2, 4] : tensor<1x8xf32> into tensor<1x2x4xf32>
func.func @split(%s: tensor<?x8xf32>) -> tensor<?x2x4xf32>
    attributes {tok.bounds = {batch = 4}} {
  %c0 = arith.constant 0 : index
  %b = tensor.dim %s, %c0 : tensor<?x8xf32>
  %e = tensor.expand_shape %s [[0], [1, 2]] output_shape [%b, 2, 4]
      : tensor<?x8xf32> into tensor<?x2x4xf32>
  return %e : tensor<?x2x4xf32>
}
