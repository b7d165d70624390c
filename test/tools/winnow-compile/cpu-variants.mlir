// --cpu lists the CPUs to build for, most preferred first; by default an
// x86-64 artifact carries x86-64-v3 (AVX2) code and x86-64-v2 (SSE4.2)
// code for older hosts. The runtime runs the first variant the host
// supports, or the one WINNOW_CPU_TARGET names; both give the same bits.
//
// RUN: winnow-compile %s -o %t.wnn
// RUN: winnow-run %t.wnn --list | FileCheck %s --check-prefix=DEFAULT
// RUN: winnow-compile %s --target=cpu,cuda --cuda-cubin=none -o %t.cuda.wnn
// RUN: winnow-run %t.cuda.wnn --list | FileCheck %s --check-prefix=WITH-CUDA
// RUN: winnow-compile %s --cpu=x86-64-v2 -o %t.v2.wnn
// RUN: winnow-run %t.v2.wnn --list | FileCheck %s --check-prefix=ONE
// RUN: winnow-compile %s --cpu="x86-64, x86-64-v2" -o %t.order.wnn
// RUN: winnow-run %t.order.wnn --list | FileCheck %s --check-prefix=ORDER
// RUN: not winnow-compile %s --cpu=x86-64-v2,, -o %t.bad.wnn 2>&1 | FileCheck %s --check-prefix=EMPTY
// RUN: not winnow-compile %s --cpu=x86-64-v2,x86-64-v2 -o %t.bad.wnn 2>&1 | FileCheck %s --check-prefix=TWICE
//
// Each variant runs and gives the same results.
// RUN: env WINNOW_CPU_TARGET=x86-64-v2 winnow-run %t.wnn --input=1x8xf32=3,1,4,1,5,9,2,6 --print=full | FileCheck %s --check-prefix=KEPT
// RUN: winnow-run %t.v2.wnn --input=1x8xf32=3,1,4,1,5,9,2,6 --print=full | FileCheck %s --check-prefix=KEPT
// RUN: not env WINNOW_CPU_TARGET=x86-64-v4 winnow-run %t.wnn --input=1x8xf32=3,1,4,1,5,9,2,6 2>&1 | FileCheck %s --check-prefix=ABSENT

// DEFAULT: targets:
// DEFAULT-NEXT: [0] cpu {{.*}} (cpu x86-64-v3), {{[0-9]+}} bytes
// DEFAULT-NEXT: [1] cpu {{.*}} (cpu x86-64-v2), {{[0-9]+}} bytes
// DEFAULT-NEXT: functions:

// The cuda target's host code only sequences launches: the most portable
// of the CPUs.
// WITH-CUDA: [0] cpu {{.*}} (cpu x86-64-v3)
// WITH-CUDA-NEXT: [1] cpu {{.*}} (cpu x86-64-v2)
// WITH-CUDA-NEXT: [2] cuda {{.*}} (cpu x86-64-v2)

// ONE: targets:
// ONE-NEXT: [0] cpu {{.*}} (cpu x86-64-v2), {{[0-9]+}} bytes
// ONE-NEXT: functions:

// ORDER: [0] cpu {{.*}} (cpu x86-64),
// ORDER-NEXT: [1] cpu {{.*}} (cpu x86-64-v2),

// EMPTY: error: --cpu='x86-64-v2,,' has an empty CPU name
// TWICE: error: --cpu names 'x86-64-v2' twice

// KEPT: kept: 1x2xi32 counts=[2] =
// KEPT-NEXT: {{\[\[}}5, 7]]

// ABSENT: WINNOW_CPU_TARGET='x86-64-v4' names no CPU target of the artifact (its CPUs: 'x86-64-v3', 'x86-64-v2')

func.func @prune(%s: tensor<1x8xf32> {tok.name = "scores"})
    -> (tensor<1x2xi32> {tok.name = "kept"}, tensor<1xi32> {tok.name = "count"}) {
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<1x8xf32>) -> (tensor<1x2xi32>, tensor<1xi32>)
  return %i, %n : tensor<1x2xi32>, tensor<1xi32>
}
