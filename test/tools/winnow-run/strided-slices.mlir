// Strided tensor slices compile without MLIR's runner-utils library and
// return the right elements.
// RUN: winnow-compile %s -o %t.wnn
// RUN: winnow-run %t.wnn --input=4x2xi32=0,1,2,3,4,5,6,7 --print=full | FileCheck %s

// CHECK: result0: 2x2xi32 =
// CHECK-NEXT: {{\[\[}}0, 1],
// CHECK-NEXT: [4, 5]]
// CHECK: result1: 4x1xi32 =
// CHECK-NEXT: {{\[\[}}1],
// CHECK-NEXT: [3],
// CHECK-NEXT: [5],
// CHECK-NEXT: [7]]
func.func @f(%x: tensor<4x2xi32>) -> (tensor<2x2xi32>, tensor<4x1xi32>) {
  %rows = tensor.extract_slice %x[0, 0] [2, 2] [2, 1] : tensor<4x2xi32> to tensor<2x2xi32>
  %col = tensor.extract_slice %x[0, 1] [4, 1] [1, 1] : tensor<4x2xi32> to tensor<4x1xi32>
  return %rows, %col : tensor<2x2xi32>, tensor<4x1xi32>
}
