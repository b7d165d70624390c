// Driver-level errors carry the source location and exit non-zero.
// RUN: split-file %s %t
// RUN: not winnow-compile %t/dynamic.mlir -o %t/x.wnn 2>&1 | FileCheck %s --check-prefix=DYNAMIC
// RUN: not winnow-compile %t/no-entry.mlir -o %t/x.wnn 2>&1 | FileCheck %s --check-prefix=NOENTRY
// RUN: not winnow-compile %t/element.mlir -o %t/x.wnn 2>&1 | FileCheck %s --check-prefix=ELEMENT
// RUN: not winnow-compile %t/scalar.mlir -o %t/x.wnn 2>&1 | FileCheck %s --check-prefix=SCALAR
// RUN: not winnow-compile %t/syntax.mlir -o %t/x.wnn 2>&1 | FileCheck %s --check-prefix=SYNTAX
// RUN: not winnow-compile %t/control-name.mlir -o %t/x.wnn 2>&1 | FileCheck %s --check-prefix=CONTROLNAME
// RUN: not winnow-compile %t/verifier.mlir -o %t/x.wnn 2>&1 | FileCheck %s --check-prefix=VERIFIER
// RUN: not winnow-compile %t/missing-file.mlir -o %t/x.wnn 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not winnow-compile %t/no-entry.mlir --target=tpu 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not winnow-compile %t/valid.mlir --target=cuda --cuda-toolkit= -o %t/x.wnn 2>&1 | FileCheck %s --check-prefix=NOTOOLKIT
// RUN: not winnow-compile %t/valid.mlir --target=cuda --cuda-toolkit=/nonexistent -o %t/x.wnn 2>&1 | FileCheck %s --check-prefix=BADTOOLKIT
// RUN: not winnow-compile %t/valid.mlir --target=cuda --cuda-cubin=none --cuda-ptx=none -o %t/x.wnn 2>&1 | FileCheck %s --check-prefix=NOARCH
// RUN: not winnow-compile %t/valid.mlir --target=cuda --cuda-cubin=gfx90a 2>&1 | FileCheck %s --check-prefix=BADARCH
// RUN: not winnow-compile %t/valid.mlir --target=cpu,cuda --compile-to=loops 2>&1 | FileCheck %s --check-prefix=TWOTARGETS
// RUN: not winnow-compile %t/valid.mlir --compile-to=ptx 2>&1 | FileCheck %s --check-prefix=CUDAPHASE
// RUN: not winnow-compile %t/valid.mlir --target=cuda --compile-to=llvm 2>&1 | FileCheck %s --check-prefix=CPUPHASE
// RUN: not winnow-compile %t/element.mlir --linker=/nonexistent/ld.lld -o %t/x.wnn 2>&1 | FileCheck %s --check-prefix=ELEMENT
// RUN: not ls %t/x.wnn

// DYNAMIC: dynamic.mlir:1:1: error: argument #0 has a dynamic extent ('tensor<?x8xf32>') but the function declares no bound: add `tok.bounds = {batch = N}`
// NOENTRY: error: module has no entry point: expected at least one public func.func with a body
// ELEMENT: element.mlir:1:1: error: entry point argument 0 has unsupported element type 'complex<f32>'
// SCALAR: scalar.mlir:1:1: error: entry point argument 0 must be a ranked tensor, got 'f32'
// SYNTAX: syntax.mlir:2:22: error: expected attribute value
// CONTROLNAME: control-name.mlir:1:1: error: an entry point name '610A62' (hex) contains a control character
// VERIFIER: verifier.mlir:2:12: error: 'tok.select' op expected an index capacity of at least 3
// MISSING: error: cannot open input file '{{.*}}missing-file.mlir'
// TARGET: error: unknown target 'tpu'; expected cpu or cuda
// NOTOOLKIT: error: cubins for sm_80, sm_90 need the CUDA toolkit (ptxas, fatbinary), and none was found: pass --cuda-toolkit=<dir>, or --cuda-cubin=none to embed PTX only
// BADTOOLKIT: error: the CUDA toolkit at '/nonexistent' has no executable '/nonexistent/bin/ptxas'
// NOARCH: error: the cuda target needs a cubin or PTX architecture (--cuda-cubin / --cuda-ptx)
// BADARCH: error: 'gfx90a' is not a CUDA architecture (expected sm_NN)
// TWOTARGETS: error: --compile-to shows one target's code; pass --target=cpu or --target=cuda
// CUDAPHASE: error: this --compile-to phase exists for --target=cuda only
// CPUPHASE: error: --compile-to=llvm is a cpu phase; the cuda target stops at gpu, nvvm, ptx, llvm-ir or object

//--- dynamic.mlir
func.func @f(%s: tensor<?x8xf32>) -> tensor<?x8xf32> {
  return %s : tensor<?x8xf32>
}

//--- no-entry.mlir
func.func private @helper(%s: tensor<8xf32>) -> tensor<8xf32> {
  return %s : tensor<8xf32>
}

//--- element.mlir
func.func @f(%s: tensor<8xcomplex<f32>>) -> tensor<8xcomplex<f32>> {
  return %s : tensor<8xcomplex<f32>>
}

//--- scalar.mlir
func.func @f(%s: f32) -> f32 {
  return %s : f32
}

//--- syntax.mlir
func.func @f(%s: tensor<1x8xf32>) -> tensor<1x2xi32> {
  %i, %n = tok.select of %s : (tensor<1x8xf32>) -> (tensor<1x2xi32>, tensor<1xi32>)
  return %i : tensor<1x2xi32>
}

//--- verifier.mlir
func.func @f(%s: tensor<1x8xf32>) -> tensor<1x2xi32> {
  %i, %n = tok.select #tok.top_k<3> of %s : (tensor<1x8xf32>) -> (tensor<1x2xi32>, tensor<1xi32>)
  return %i : tensor<1x2xi32>
}

//--- valid.mlir
func.func @prune(%s: tensor<1x8xf32>) -> (tensor<1x2xi32>, tensor<1xi32>) {
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<1x8xf32>) -> (tensor<1x2xi32>, tensor<1xi32>)
  return %i, %n : tensor<1x2xi32>, tensor<1xi32>
}

//--- control-name.mlir
func.func @"a\0Ab"(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}
