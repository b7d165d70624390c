// A function may return one value twice (written so, or after CSE merges two
// identical ops): every result gets its own buffer on both targets.
// Regression: upstream buffer-results-to-out-params{hoist-static-allocs}
// crashed on the shared allocation.
// RUN: split-file %s %t
// RUN: winnow-compile %t/twice.mlir -o %t/twice.wnn
// RUN: winnow-run %t/twice.wnn --input=2x8xf32=1,5,3,7,2,8,0,4,9,1,1,1,1,1,1,2 --input=2xi32=8,3 --print=full | FileCheck %s --check-prefix=TWICE
// RUN: winnow-compile %t/twice.mlir --emulate-cuda-on-cpu -o %t/twice-emulated.wnn
// RUN: winnow-run %t/twice-emulated.wnn --input=2x8xf32=1,5,3,7,2,8,0,4,9,1,1,1,1,1,1,2 --input=2xi32=8,3 --print=full | FileCheck %s --check-prefix=TWICE
// RUN: winnow-compile %t/twice.mlir --target=cuda --compile-to=gpu | FileCheck %s --check-prefix=GPU
// RUN: winnow-compile %t/ema.mlir -o %t/ema.wnn
// RUN: winnow-run %t/ema.wnn --input=1x3x2xbf16=1,2,3,4,5,6 --input=1x3xf32=1,0.5,0.5 --input=1xi32=3 --print=full | FileCheck %s --check-prefix=EMA

// TWICE: result0: 2x4xi32 =
// TWICE-NEXT: {{\[\[}}1, 3, 5, 7],
// TWICE-NEXT:  [0, 1, 2, -1]]
// TWICE-NEXT: result1: 2x4xi32 =
// TWICE-NEXT: {{\[\[}}1, 3, 5, 7],
// TWICE-NEXT:  [0, 1, 2, -1]]

// On the GPU a kernel copies the first out-parameter into the second.
// GPU-LABEL: func.func @f
// GPU-SAME: %[[OUT0:[^ ]*]]: memref<2x4xi32>, %[[OUT1:[^ ]*]]: memref<2x4xi32>)
// GPU: gpu.launch_func {{.*}}%[[OUT0]] : memref<2x4xi32>, %[[OUT1]] : memref<2x4xi32>)

// CSE merges the scans with the default epsilon (1e-4) and the explicit
// 1e-4 into one value returned three times; epsilon 0 differs.
// EMA: result0: 1x3x2xf32 =
// EMA-NEXT: {{\[\[\[}}0.9999, 1.9998],
// EMA-NEXT:   [1.9999499, 2.9998999],
// EMA-NEXT:   [3.499975, 4.49995]]]
// EMA-NEXT: result1: 1x3x2xf32 =
// EMA-NEXT: {{\[\[\[}}0.9999, 1.9998],
// EMA-NEXT:   [1.9999499, 2.9998999],
// EMA-NEXT:   [3.499975, 4.49995]]]
// EMA-NEXT: result2: 1x3x2xf32 =
// EMA-NEXT: {{\[\[\[}}1, 2],
// EMA-NEXT:   [2, 3],
// EMA-NEXT:   [3.5, 4.5]]]
// EMA-NEXT: result3: 1x3x2xf32 =
// EMA-NEXT: {{\[\[\[}}0.9999, 1.9998],

//--- twice.mlir
func.func @f(%x: tensor<2x8xf32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>) {
  %i, %c = tok.select #tok.top_k<4> of %x lengths %n : (tensor<2x8xf32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2xi32>)
  return %i, %i : tensor<2x4xi32>, tensor<2x4xi32>
}

//--- ema.mlir
func.func @ema_scan(%z: tensor<1x3x2xbf16>, %g: tensor<1x3xf32>, %n: tensor<1xi32>)
    -> (tensor<1x3x2xf32>, tensor<1x3x2xf32>, tensor<1x3x2xf32>, tensor<1x3x2xf32>) {
  %e0 = tok.ema_scan %z, %g, %n : (tensor<1x3x2xbf16>, tensor<1x3xf32>, tensor<1xi32>) -> tensor<1x3x2xf32>
  %e1 = tok.ema_scan %z, %g, %n {epsilon = 1.0e-4 : f64} : (tensor<1x3x2xbf16>, tensor<1x3xf32>, tensor<1xi32>) -> tensor<1x3x2xf32>
  %e2 = tok.ema_scan %z, %g, %n {epsilon = 0.0 : f64} : (tensor<1x3x2xbf16>, tensor<1x3xf32>, tensor<1xi32>) -> tensor<1x3x2xf32>
  %e3 = tok.ema_scan %z, %g, %n : (tensor<1x3x2xbf16>, tensor<1x3xf32>, tensor<1xi32>) -> tensor<1x3x2xf32>
  return %e0, %e1, %e2, %e3 : tensor<1x3x2xf32>, tensor<1x3x2xf32>, tensor<1x3x2xf32>, tensor<1x3x2xf32>
}
