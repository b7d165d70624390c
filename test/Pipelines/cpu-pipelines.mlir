// RUN: winnow-opt %s --winnow-tok-cleanup --winnow-cpu-to-loops | FileCheck %s --check-prefix=LOOPS
// RUN: winnow-opt %s --winnow-tok-cleanup --winnow-cpu-to-loops --winnow-cpu-to-llvm | FileCheck %s --check-prefix=LLVM

// Results become caller-allocated out-parameters written in place (no copy).
// The three ops are fused (tok-form-dispatch-regions): the score row is
// per-row stack scratch, so nothing is allocated on the heap or freed.
// LOOPS-LABEL: func.func @prune
// LOOPS-SAME: (%[[Q:.*]]: memref<1x2x1x4xf32>, %[[K:.*]]: memref<1x2x8x4xf32>, %[[H:.*]]: memref<1x8x16xbf16>,
// LOOPS-SAME: %[[OUTI:.*]]: memref<1x2xi32>, %[[OUTN:.*]]: memref<1xi32>, %[[OUTH:.*]]: memref<1x2x16xbf16>)
// LOOPS-NOT: -> (
// LOOPS-NOT: memref.alloc(
// LOOPS: %[[SCORES:.*]] = memref.alloca() {tok.row_buffer} : memref<1x8xf32>
// LOOPS-NOT: memref.alloc(
// LOOPS-NOT: memref.copy
// LOOPS: memref.store %{{.*}}, %[[SCORES]]
// LOOPS-NOT: memref.dealloc
// LOOPS: return
// LOOPS-NOT: tensor<

// LLVM-LABEL: llvm.func @prune(
// LLVM-NOT: llvm.call @malloc
// LLVM-NOT: llvm.call @free
// LLVM-LABEL: llvm.func @_mlir_ciface_prune(
// LLVM-SAME: %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
func.func @prune(%q: tensor<1x2x1x4xf32>, %k: tensor<1x2x8x4xf32>, %h: tensor<1x8x16xbf16>)
    -> (tensor<1x2xi32>, tensor<1xi32>, tensor<1x2x16xbf16>) {
  %s = tok.attn_score %q, %k : (tensor<1x2x1x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x8xf32>
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<1x8xf32>) -> (tensor<1x2xi32>, tensor<1xi32>)
  %g, %map = tok.compact %i, %n gather(%h) : (tensor<1x2xi32>, tensor<1xi32>, tensor<1x8x16xbf16>) -> (tensor<1x2x16xbf16>, tensor<1x8xi32>)
  return %i, %n, %g : tensor<1x2xi32>, tensor<1xi32>, tensor<1x2x16xbf16>
}
