// ToMe's k-th bipartite split (stride 3): B = tokens 2, 5; A = 0, 1, 3, 4, 6.
// With r = |A| every A token merges into its most similar B token, as
// kth_bipartite_soft_matching does. Metrics: tokens 0, 1, 3 point along x,
// 4 and 6 along y; B token 2 along x, B token 5 along y.
// RUN: winnow-compile %s -o %t.wnn
// RUN: winnow-run %t.wnn --input="1x7x2xf32=1,0, 1,0.1, 1,0, 1,0.2, 0,1, 0,1, 0.1,1" --input=1x7x1xf32=0,1,2,3,4,5,6 --print=full | FileCheck %s

// CHECK: result0: 1x7xi32 =
// CHECK-NEXT: {{\[\[}}0, 0, 0, 0, 1, 1, 1]]
// CHECK: result1: 1xi32 =
// CHECK-NEXT: [2]
// Means: {0, 1, 2, 3} -> 1.5 and {4, 5, 6} -> 5.
// CHECK: result2: 1x2x1xf32 counts=[2] =
// CHECK-NEXT: {{\[\[\[}}1.5],
// CHECK-NEXT: [5]]]

func.func @kth(%m: tensor<1x7x2xf32>, %x: tensor<1x7x1xf32>) -> (tensor<1x7xi32>, tensor<1xi32>, tensor<1x2x1xf32>) {
  %p, %n = tok.bipartite_plan %m {r = 5, stride = 3} : (tensor<1x7x2xf32>) -> (tensor<1x7xi32>, tensor<1xi32>)
  %x2, %s2 = tok.scatter_merge %p, %n gather(%x) {reduction = #tok.merge_reduction<mean>}
      : (tensor<1x7xi32>, tensor<1xi32>, tensor<1x7x1xf32>) -> (tensor<1x2x1xf32>, tensor<1x2xf32>)
  return %p, %n, %x2 : tensor<1x7xi32>, tensor<1xi32>, tensor<1x2x1xf32>
}
