// Attribute values far above the token count are clamped, never looped over
// or overflowed: these run instantly and keep every token.
// RUN: winnow-compile %s -o %t.wnn
// RUN: winnow-run %t.wnn --function=dart --input=1x8x2xf32=1 --input=1x8x2xf32=1 | FileCheck %s --check-prefix=DART
// RUN: winnow-run %t.wnn --function=window --input=1xi32=6 | FileCheck %s --check-prefix=WINDOW

// DART: result0: 1x8xi32 counts=[8] valid_sum=2.800000e+01
// DART-NEXT: batch 0: [0, 1, 2, 3, 4, 5, 6, 7]
// WINDOW: result0: 1x1x8xi32 sum=1.300000e+01 values=[0, 1, 2, 3, 4, 5, -1, -1]

func.func @dart(%k: tensor<1x8x2xf32>, %h: tensor<1x8x2xf32>) -> (tensor<1x8xi32>, tensor<1xi32>) {
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 9223372036854775807, text_pivots = 1, keep = 2}
      : (tensor<1x8x2xf32>, tensor<1x8x2xf32>) -> (tensor<1x8xi32>, tensor<1xi32>)
  return %i, %n : tensor<1x8xi32>, tensor<1xi32>
}

func.func @window(%len: tensor<1xi32>) -> (tensor<1x1x8xi32>, tensor<1x1xi32>) {
  %s, %n = tok.kv_select %len {sinks = 9223372036854775807, window = 9223372036854775807, cache_size = 8}
      : (tensor<1xi32>) -> (tensor<1x1x8xi32>, tensor<1x1xi32>)
  return %s, %n : tensor<1x1x8xi32>, tensor<1x1xi32>
}
