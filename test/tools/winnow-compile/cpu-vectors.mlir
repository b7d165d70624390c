// The CPU code of sampling verification vectorises: the exponentials of a
// chunk (tok-portable-exp-log's range reduction by log2(e)) eight floats
// at a time in the x86-64-v3 code and four in the x86-64-v2 code, the
// Philox exponentials' f64 -log(u) in vectors too, and no libm exp or log
// is called. The chunks of a row are an outlined parallel task.
// RUN: winnow-compile %s --compile-to=llvm-ir | FileCheck %s --check-prefix=V3 --implicit-check-not="@log(" --implicit-check-not="@exp(" --implicit-check-not="@logf(" --implicit-check-not="@expf("
// RUN: winnow-compile %s --cpu=x86-64-v2 --compile-to=llvm-ir | FileCheck %s --check-prefix=V2 --implicit-check-not="@log(" --implicit-check-not="@exp("
// RUN: winnow-compile %s --compile-to=llvm-ir | FileCheck %s --check-prefix=PHILOX
// RUN: winnow-compile %s --compile-to=llvm-ir | FileCheck %s --check-prefix=TASK
// RUN: winnow-compile %s --compile-to=llvm-ir | FileCheck %s --check-prefix=BF16 --implicit-check-not="x bfloat> splat"

// V3: fmul <8 x float> %{{.*}}, splat (float 0x3FF7154760000000)
// V2: fmul <4 x float> %{{.*}}, splat (float 0x3FF7154760000000)
// PHILOX: uitofp nneg <{{[0-9]+}} x i32> %{{.*}} to <{{[0-9]+}} x double>
// PHILOX-NEXT: fadd <{{[0-9]+}} x double> %{{.*}}, splat (double 5.000000e-01)
// PHILOX-NEXT: fmul <{{[0-9]+}} x double> %{{.*}}, splat (double 0x3E70000000000000)
// TASK: define internal void @typical_par{{[0-9]+}}_task(

// H-Net dechunk's bf16 output: arith-expand's rounding keeps its NaN select
// on 16-bit integers (a select of bf16 vectors is taken apart lane by lane
// by x86 without AVX-512).
// BF16-LABEL: define void @__winnow_entry_dechunk(
// BF16: select <8 x i1> %{{.*}}, <8 x i16> splat (i16 32704), <8 x i16> %{{.*}}

func.func @typical(%l: tensor<2x4x1000xbf16> {tok.name = "logits"}, %d: tensor<2x3xi32> {tok.name = "drafts"},
    %n: tensor<2xi32> {tok.name = "num_draft"}, %s: tensor<2xi64> {tok.name = "seed"}, %o: tensor<2xi64> {tok.name = "offset"})
    -> (tensor<2x4xi32> {tok.name = "tokens"}, tensor<2xi32> {tok.name = "accepted"}, tensor<2xi32> {tok.name = "emitted"}) {
  %t, %a, %e = tok.spec_verify %l, %d, %n seed %s offset %o {mode = #tok.verify_mode<typical>}
      : (tensor<2x4x1000xbf16>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>)
      -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

func.func @dechunk(%z: tensor<1x64x256xbf16> {tok.name = "z"}, %g: tensor<1x64xf32> {tok.name = "gates"},
    %c: tensor<1xi32> {tok.name = "count"}, %b: tensor<1x64xi1> {tok.name = "boundaries"},
    %r: tensor<1x64x256xbf16> {tok.name = "residual"}) -> (tensor<1x64x256xbf16> {tok.name = "out"}) {
  %zbar = tok.ema_scan %z, %g, %c : (tensor<1x64x256xbf16>, tensor<1x64xf32>, tensor<1xi32>) -> tensor<1x64x256xf32>
  %out = tok.expand %zbar, %b residual %r : (tensor<1x64x256xf32>, tensor<1x64xi1>, tensor<1x64x256xbf16>) -> tensor<1x64x256xbf16>
  return %out : tensor<1x64x256xbf16>
}
