//===- Passes.td - Winnow's passes --------------------------*- tablegen -*-===//

#ifndef WINNOW_PASSES_PASSES_TD
#define WINNOW_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def TokLowerToLoops : Pass<"tok-lower-to-loops", "::mlir::ModuleOp"> {
  let summary = "Lower tok ops to scf loops over memrefs (the CPU target)";
  let description = [{
    Replaces every `tok` op by loops that compute it on buffers, bridged to
    the surrounding tensor code by `bufferization.to_buffer` (read-only) and
    `bufferization.to_tensor` (restrict, writable) so that one-shot
    bufferization can run afterwards. Each op becomes one loop nest per batch
    row whose memory traffic is one read of its inputs and one write of its
    outputs:

    * `tok.attn_score`: per (b, h, q) one dot product per valid key
      (fp32, reassociable so LLVM vectorises it), a max and a sum pass over a
      row buffer on the stack, then an accumulation into the score row;
    * `tok.select`: a count of the candidates, an exact radix select of the
      K-th largest order-preserving key (4 passes of 8 bits with a 256-bin
      histogram on the stack), then one ascending pass that emits the kept
      indices, taking ties at the K-th key by ascending index;
    * `tok.compact`: one row copy per kept token and source, padding rows
      past the count, and the old-to-new map.

    Before:
    ```mlir
    %idx, %n = tok.select #tok.top_k<2> of %s
        : (tensor<1x4xf32>) -> (tensor<1x2xi32>, tensor<1xi32>)
    ```
    After (abridged):
    ```mlir
    %sm = bufferization.to_buffer %s read_only : tensor<1x4xf32> to memref<1x4xf32>
    %im = memref.alloc() : memref<1x2xi32>
    %nm = memref.alloc() : memref<1xi32>
    scf.for %b = %c0 to %c1 step %c1 { ... }
    %idx = bufferization.to_tensor %im restrict writable : memref<1x2xi32> to tensor<1x2xi32>
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect"
  ];
}

def TokExpandStridedCopies
    : Pass<"tok-expand-strided-copies", "::mlir::ModuleOp"> {
  let summary = "Turn memref.copy between strided buffers into linalg.copy";
  let description = [{
    `finalize-memref-to-llvm` lowers a `memref.copy` between contiguous
    buffers to `llvm.memcpy`, but any other copy (a strided
    `tensor.extract_slice`, a partial inner slice) to a call to
    `memrefCopy` from MLIR's C runner utilities, which Winnow's artifacts do
    not link. This pass rewrites exactly those copies to `linalg.copy`, which
    `convert-linalg-to-loops` then turns into a loop nest; contiguous copies
    keep their memcpy.

    ```mlir
    memref.copy %a, %b : memref<2x8xf32, strided<[32, 1]>> to memref<2x8xf32>
    // becomes
    linalg.copy ins(%a : memref<2x8xf32, strided<[32, 1]>>) outs(%b : memref<2x8xf32>)
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def TokMarkEntryPoints : Pass<"tok-mark-entry-points", "::mlir::ModuleOp"> {
  let summary = "Mark public functions as artifact entry points";
  let description = [{
    Sets `llvm.emit_c_interface` on every public function with a body, so
    that `convert-func-to-llvm` emits the `_mlir_ciface_<name>` wrapper the
    CPU artifact's packed entry `__winnow_entry_<name>` calls. Private
    functions stay internal.
  }];
}

#endif // WINNOW_PASSES_PASSES_TD
