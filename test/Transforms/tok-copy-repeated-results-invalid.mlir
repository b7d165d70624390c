// RUN: winnow-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(tok-copy-repeated-results))'

// A strided buffer has no dense allocation of its own type.
func.func @strided(%a: memref<2x8xf32, strided<[16, 1]>>)
    -> (memref<2x8xf32, strided<[16, 1]>>, memref<2x8xf32, strided<[16, 1]>>) {
  // expected-error @+1 {{cannot copy the repeated result of type 'memref<2x8xf32, strided<[16, 1]>>': only identity layouts can be allocated}}
  return %a, %a : memref<2x8xf32, strided<[16, 1]>>, memref<2x8xf32, strided<[16, 1]>>
}
