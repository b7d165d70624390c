// User input is parsed with only the dialects of a tok program, and text that
// an upstream parser would crash on is rejected first, with a diagnostic.
// RUN: split-file %s %t
// RUN: not winnow-compile %t/broadcast.mlir -o %t/x.wnn 2>&1 | FileCheck %s --check-prefix=BROADCAST
// RUN: not winnow-compile %t/transpose.mlir -o %t/x.wnn 2>&1 | FileCheck %s --check-prefix=TRANSPOSE
// RUN: not winnow-compile %t/overflow.mlir -o %t/x.wnn 2>&1 | FileCheck %s --check-prefix=OVERFLOW
// RUN: not winnow-compile %t/not-a-list.mlir -o %t/x.wnn 2>&1 | FileCheck %s --check-prefix=NOTALIST
// RUN: not winnow-compile %t/array-in-custom.mlir -o %t/x.wnn 2>&1 | FileCheck %s --check-prefix=ARRAY
// RUN: not winnow-compile %t/llvm.mlir -o %t/x.wnn 2>&1 | FileCheck %s --check-prefix=LLVM
// RUN: not ls %t/x.wnn
// RUN: winnow-compile %t/valid.mlir -o %t/valid.wnn
// RUN: winnow-run %t/valid.wnn --input=2xi32=3,4 --print=full | FileCheck %s --check-prefix=VALID

// BROADCAST: broadcast.mlir:3:20: error: expected a list of decimal integers that fit in 64 bits after 'dimensions =', such as [0, 1]
// TRANSPOSE: transpose.mlir:3:21: error: expected a list of decimal integers that fit in 64 bits after 'permutation =', such as [0, 1]
// OVERFLOW: overflow.mlir:3:20: error: expected a list of decimal integers
// NOTALIST: not-a-list.mlir:3:20: error: expected a list of decimal integers
// Even a well-formed array<...> crashes the custom syntax's parser (found by
// winnow-fuzz-tok-parse); in a generic op's properties it is fine (valid.mlir).
// ARRAY: array-in-custom.mlir:3:20: error: expected a list of decimal integers
// LLVM: llvm.mlir:1:1: error: Dialect `llvm' not found for custom op 'llvm.func'

// The generic form, the words in comments, strings and names are fine.
// VALID: result0: 2x3xi32 =
// VALID-NEXT: {{\[\[}}3, 3, 3],
// VALID-NEXT:  [4, 4, 4]]

//--- broadcast.mlir
func.func @f(%a: tensor<2xi32>, %b: tensor<2x3xi32>) -> tensor<2x3xi32> {
  %0 = linalg.broadcast ins(%a : tensor<2xi32>) outs(%b : tensor<2x3xi32>)
      dimensions = [1, a]
  return %0 : tensor<2x3xi32>
}

//--- transpose.mlir
func.func @f(%a: tensor<2x3xi32>, %b: tensor<3x2xi32>) -> tensor<3x2xi32> {
  %0 = linalg.transpose ins(%a : tensor<2x3xi32>) outs(%b : tensor<3x2xi32>)
      permutation = [1, 0
  return %0 : tensor<3x2xi32>
}

//--- overflow.mlir
func.func @f(%a: tensor<2xi32>, %b: tensor<2x3xi32>) -> tensor<2x3xi32> {
  %0 = linalg.broadcast ins(%a : tensor<2xi32>) outs(%b : tensor<2x3xi32>)
      dimensions = [9223372036854775808]
  return %0 : tensor<2x3xi32>
}

//--- not-a-list.mlir
func.func @f(%a: tensor<2xi32>, %b: tensor<2x3xi32>) -> tensor<2x3xi32> {
  %0 = linalg.broadcast ins(%a : tensor<2xi32>) outs(%b : tensor<2x3xi32>)
      dimensions = 1
  return %0 : tensor<2x3xi32>
}

//--- array-in-custom.mlir
func.func @f(%a: tensor<2xi32>, %b: tensor<2x3xi32>) -> tensor<2x3xi32> {
  %0 = linalg.broadcast ins(%a : tensor<2xi32>) outs(%b : tensor<2x3xi32>)
      dimensions = array<i64: 1>
  return %0 : tensor<2x3xi32>
}

//--- llvm.mlir
llvm.func @f() {
  llvm.return
}

//--- valid.mlir
// A comment that says dimensions = [1x] is not code.
func.func @f(%dimensions: tensor<2xi32> {tok.name = "dimensions = oops"}) -> tensor<2x3xi32> {
  %e = tensor.empty() : tensor<2x3xi32>
  %0 = "linalg.broadcast"(%dimensions, %e) <{dimensions = array<i64: 1>}> ({
  ^bb0(%in: i32, %out: i32):
    linalg.yield %in : i32
  }) : (tensor<2xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
  return %0 : tensor<2x3xi32>
}
