// RUN: winnow-opt %s --split-input-file --tok-portable-exp-log | FileCheck %s
// RUN: winnow-opt %S/Inputs/portable-exp-log-accuracy.mlir --pass-pipeline='builtin.module(func.func(tok-portable-exp-log),convert-vector-to-scf,convert-scf-to-cf,convert-vector-to-llvm,convert-math-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,convert-cf-to-llvm,convert-func-to-llvm,reconcile-unrealized-casts)' | mlir-runner -e main --entry-point-result=void --shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so | FileCheck %s --check-prefix=ACC
// RUN: winnow-opt %S/Inputs/portable-exp-nonpositive.mlir --pass-pipeline='builtin.module(func.func(tok-portable-exp-log),convert-scf-to-cf,convert-math-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,convert-cf-to-llvm,convert-func-to-llvm,reconcile-unrealized-casts)' | mlir-runner -O3 -e main --entry-point-result=void --shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so | FileCheck %s --check-prefix=NONPOS

// f32 exp and log and f64 log become arithmetic only: no math op, no libm
// or libdevice call is left, and exp converts no float to an integer (the
// exponent comes from the rounded value's bits); f64 exp is left alone
// (nothing Winnow lowers uses it).
// CHECK-LABEL: func.func @exp_log
// CHECK-NOT: math.exp %{{.*}} : f32
// CHECK-NOT: math.log
// CHECK-NOT: arith.fptosi
// CHECK: arith.shrsi
// CHECK: math.exp %{{.*}} : f64
// CHECK: return
func.func @exp_log(%x: f32, %y: f64) -> (f32, f32, f64, f64) {
  %e = math.exp %x : f32
  %l = math.log %x : f32
  %d = math.exp %y : f64
  %m = math.log %y : f64
  return %e, %l, %d, %m : f32, f32, f64, f64
}

// The f64 log: exponent and mantissa from the bits (i64), the series in
// s = f / (2 + f), and e * ln2 in two parts.
// CHECK-LABEL: func.func @log_f64
// CHECK-NOT: math.log
// CHECK-DAG: %[[LN2_HI:.*]] = arith.constant 0.69314718036912382 : f64
// CHECK-DAG: %[[LN2_LO:.*]] = arith.constant 1.9082149292705877E-10 : f64
// CHECK-DAG: %[[LAST_TERM:.*]] = arith.constant 0.095238095238095233 : f64
// CHECK: %[[BITS:.*]] = arith.bitcast %{{.*}} : f64 to i64
// CHECK: arith.shrui %[[BITS]], %c52_i64 : i64
// CHECK: %[[S:.*]] = arith.divf %{{.*}}, %{{.*}} : f64
// CHECK: %[[Z:.*]] = arith.mulf %[[S]], %[[S]] : f64
// CHECK: arith.mulf %[[LAST_TERM]], %[[Z]] : f64
// CHECK: %[[E:.*]] = arith.sitofp %{{.*}} : i64 to f64
// CHECK: arith.mulf %[[E]], %[[LN2_LO]] : f64
// CHECK: arith.mulf %[[E]], %[[LN2_HI]] : f64
// CHECK-NOT: math.log
// CHECK: return
func.func @log_f64(%x: f64) -> f64 {
  %l = math.log %x : f64
  return %l : f64
}

// At most 2 ulp from the correctly rounded result (f64 libm rounded to f32)
// over the whole range, and the special values. The f64 log within 1 ulp
// of libm's, and every Philox exponential (2^24 of them) rounded to f32 the
// same as from libm's log.
// ACC-LABEL: exp max ulp
// ACC-NEXT: {{^[0-2]$}}
// ACC-LABEL: log max ulp
// ACC-NEXT: {{^[0-2]$}}
// ACC-LABEL: log f64 max ulp
// ACC-NEXT: {{^[0-1]$}}
// ACC-NEXT: {{^[0-1]$}}
// ACC-LABEL: philox exponentials unlike libm's
// ACC-NEXT: {{^0$}}
// ACC-LABEL: specials
// ACC-NEXT: nan
// ACC-NEXT: inf
// ACC-NEXT: 0
// ACC-NEXT: 1
// ACC-NEXT: 0
// ACC-NEXT: -inf
// ACC-NEXT: nan
// ACC-NEXT: inf
// ACC-NEXT: -inf
// ACC-LABEL: specials f64
// ACC-NEXT: nan
// ACC-NEXT: inf
// ACC-NEXT: -inf
// ACC-NEXT: -inf
// ACC-NEXT: 0
// ACC-NEXT: nan
// ACC-NEXT: -744.44

// -----

// An exponent marked non-positive (x - max(x), say): no overflow check and
// no NaN select; the same bits as the plain expansion for every x <= 0
// (the NONPOS run finds no mismatch over a sweep of the negative floats).
// NONPOS: {{^0$}}
// CHECK-LABEL: func.func @nonpositive
// CHECK-NOT: 88.72
// CHECK-NOT: arith.cmpf uno
// CHECK: arith.cmpf olt
// CHECK-NOT: arith.cmpf
// CHECK: return
func.func @nonpositive(%x: f32) -> f32 {
  %e = math.exp %x {tok.nonpositive_exponent} : f32
  return %e : f32
}
