// Entry points named like C library functions must call their own code, not
// the library's: every definition but the packed entry is internal.
// RUN: winnow-compile %s -o %t.wnn
// RUN: winnow-run %t.wnn --function=cos --input=1x2x2xf32=1,0,3,4 --input=1x2x2xf32=1,0,3,4 | FileCheck %s --check-prefix=COS
// RUN: winnow-run %t.wnn --function=select --input=1x4xf32=1,4,2,3 | FileCheck %s --check-prefix=SELECT

// COS: result0: 1x2xf32 sum=2.000000e+00
// SELECT: result0: 1x2xi32 counts=[2] valid_sum=4.000000e+00
// SELECT-NEXT: batch 0: [1, 3]

func.func @cos(%a: tensor<1x2x2xf32>, %b: tensor<1x2x2xf32>) -> tensor<1x2xf32> {
  %s = tok.row_cosine %a, %b : (tensor<1x2x2xf32>, tensor<1x2x2xf32>) -> tensor<1x2xf32>
  return %s : tensor<1x2xf32>
}

func.func @select(%s: tensor<1x4xf32>) -> (tensor<1x2xi32>, tensor<1xi32>) {
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<1x4xf32>) -> (tensor<1x2xi32>, tensor<1xi32>)
  return %i, %n : tensor<1x2xi32>, tensor<1xi32>
}
