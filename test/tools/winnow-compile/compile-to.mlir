// Every phase of the driver can be stopped at and inspected.
// RUN: winnow-compile %s --compile-to=tok | FileCheck %s --check-prefix=TOK
// RUN: winnow-compile %s --compile-to=loops | FileCheck %s --check-prefix=LOOPS
// RUN: winnow-compile %s --emit=llvm | FileCheck %s --check-prefix=LLVM
// RUN: winnow-compile %s --compile-to=llvm-ir | FileCheck %s --check-prefix=IR
// RUN: winnow-compile %s --compile-to=object -o %t.o
// RUN: llvm-nm --defined-only --extern-only %t.o | FileCheck %s --check-prefix=OBJ
// RUN: llvm-nm --defined-only --extern-only %t.o | count 2
// RUN: winnow-compile %s -o %t.wnn
// RUN: winnow-run %t.wnn --list | FileCheck %s --check-prefix=LIST

// TOK-LABEL: func.func @prune
// TOK: tok.select #tok.top_k<2>

// LOOPS-LABEL: func.func @prune
// LOOPS-SAME: memref<1x2xi32>, %{{.*}}: memref<1xi32>)
// LOOPS-NOT: tok.

// LLVM: llvm.func @_mlir_ciface_prune

// The ABI descriptor the loader compares with the manifest.
// IR: @__winnow_abi_prune = {{.*}}constant [61 x i8] c"winnow-abi 1 (f32[1,8]) -> (i32[1,2] count=1 axis=1, i32[1])\00"
// The packed entry loads one descriptor pointer per argument and result.
// IR-LABEL: define void @__winnow_entry_prune(ptr
// IR-COUNT-3: load ptr, ptr
// IR: ret void

// Only the packed entry and its ABI descriptor (read by the loader) are
// exported; everything else is internal.
// OBJ: R __winnow_abi_prune
// OBJ: T __winnow_entry_prune

// LIST: func @prune(scores: 1x8xf32) -> (kept: 1x2xi32 [count: result 1], count: 1xi32)

func.func @prune(%s: tensor<1x8xf32> {tok.name = "scores"})
    -> (tensor<1x2xi32> {tok.name = "kept"}, tensor<1xi32> {tok.name = "count"}) {
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<1x8xf32>) -> (tensor<1x2xi32>, tensor<1xi32>)
  return %i, %n : tensor<1x2xi32>, tensor<1xi32>
}
