//===- Passes.td - Winnow's conversions --------------------*- tablegen -*-===//
//
// Passes that change the level of the IR: tok ops to loops over buffers,
// loops to GPU launches (and, for testing, GPU launches back to CPU loops).
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_CONVERSION_PASSES_TD
#define WINNOW_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def TokLowerToLoops : Pass<"tok-lower-to-loops", "::mlir::ModuleOp"> {
  let summary = "Lower tok ops to scf loops over memrefs (every target)";
  let description = [{
    Applies one rewrite pattern per `tok` op under a conversion target on
    which the `tok` dialect is illegal (an op without a pattern fails the
    pass); `tok.dispatch` lowers its ops with the same patterns, once per row
    (the lowering contract: docs/lowering.md and TokOpLowering.h).
    Replaces every `tok` op by loops that compute it on buffers, bridged to
    the surrounding tensor code by `bufferization.to_buffer` (read-only) and
    `bufferization.to_tensor` (restrict, writable) so that one-shot
    bufferization can run afterwards. Each op becomes one loop nest per batch
    row whose memory traffic is one read of its inputs and one write of its
    outputs:

    * `tok.attn_score`: two parallel phases: per (b, h, q) the softmax
      statistics (max logit, sum of exponentials; fp32 dot products and sums
      in `orderedSums`' fixed lane order), then per (b, key) the sum of its
      probabilities over the query rows; no probability row is stored;
    * `tok.select`: a count of the candidates, an exact radix select of the
      K-th largest order-preserving key (4 passes of 8 bits with a 256-bin
      histogram on the stack), then one ascending pass that emits the kept
      indices, taking ties at the K-th key by ascending index; with
      `intra-row-parallel` (the cuda target: also `segment_reduce` per
      (row, segment, feature), `ema_scan` per (row, feature), `expand` and
      `kv_gather` and `scatter_merge` per output element,
      `bipartite_plan`'s norms,
      best matches and ranks per token, `spec_verify`/`tree_verify` row statistics
      from split-vocabulary tables) instead one parallel loop over
      tokens computes each candidate's rank (keys greater, or equal at a
      lower index) and a second places each kept index by counting the kept
      tokens before it — the same result, spread over B x N threads;
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
    scf.parallel (%b) = (%c0) to (%c1) step (%c1) { ... }
    %idx = bufferization.to_tensor %im restrict writable : memref<1x2xi32> to tensor<1x2xi32>
    ```

    A `tok.dispatch` becomes one `scf.parallel` over its rows (marked
    `tok.dispatch_rows`) whose body runs the region's ops on batch-1 views
    of the row with the same per-op lowerings: yielded values are written
    straight into the rows of the result buffers, the others into per-row
    scratch (`memref.alloca {tok.row_buffer}` hoisted before the loop;
    heap buffers above 64 KiB).

    Batch rows (and element copies) are `scf.parallel` loops whose
    iterations are independent; allocas created before such a loop are
    per-iteration scratch (see `tok-offload-to-gpu`).
  }];
  let options = [
    Option<"intraRowParallel", "intra-row-parallel", "bool", /*default=*/"false",
           "Add the GPU forms (populate*ToGpuLoopsPatterns): loops over "
           "tokens, features or elements inside rows, e.g. ema_scan per "
           "feature, expand and kv_gather per element, and cooperative "
           "gpu.launch blocks with collectives (tok.select, tok.kv_select "
           "and tok.attn_score outside tok.dispatch rows)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
    "::mlir::gpu::GPUDialect", "::winnow::collective::CollectiveDialect"
  ];
}

def TokOffloadToGpu : Pass<"tok-offload-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Map bufferized loop code onto GPU launches";
  let description = [{
    Runs after the loop lowering and bufferization, on functions whose
    arguments and results are device buffers. Every top-level `scf.parallel`
    becomes a `gpu.launch` over a 1-D grid with one thread per iteration
    (iterations delinearised innermost-fastest, so consecutive threads walk
    the innermost dimension and their accesses coalesce); the rest of the
    memory-touching code between them becomes single-thread launches;
    `memref.alloc`/`dealloc` become `gpu.alloc`/`dealloc`; constant globals
    are copied to device memory; top-level `memref.copy` becomes a parallel
    copy loop. Top-level allocas are per-iteration scratch (the loop
    lowerings' rule): each launch gets private copies. A store, inside a
    parallel loop, into a buffer shared by all iterations at a position that
    does not depend on the iteration is an error (GPU threads would race).

    A top-level `gpu.launch` a GPU form built itself (a cooperative block
    kernel with collectives, outside `tok.dispatch` rows) stays one launch:
    the scratch it uses gets a private copy and its allocas in the
    workgroup address space become workgroup attributions (bufferization's
    deallocation rejects a launch body with memref arguments, so the loop
    lowering cannot add them). Such a launch sharing a device value with
    the code around it is an error.

    ```mlir
    scf.parallel (%b, %j) = (%c0, %c0) to (%c4, %c144) step (%c1, %c1) {...}
    // becomes
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c3, ...) threads(%tx, ...) in (%sx = %c256, ...) {
      %linear = bx * 256 + tx
      scf.if %linear < 576 { %b = linear / 144, %j = linear % 144, ... }
    }
    ```
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block of the launches made from parallel loops">,
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::arith::ArithDialect",
    "::mlir::scf::SCFDialect", "::mlir::memref::MemRefDialect"
  ];
}

def TokEmulateGpuLaunches
    : Pass<"tok-emulate-gpu-launches", "::mlir::ModuleOp"> {
  let summary = "Run gpu.launch bodies as CPU parallel loops (testing aid)";
  let description = [{
    Rewrites every `gpu.launch` into an `scf.parallel` over its grid and
    block (the body inlined in a `memref.alloca_scope`, block and thread ids
    replaced by the induction variables), and `gpu.alloc`/`dealloc`/`memcpy`
    into their memref forms. Applied after `tok-offload-to-gpu`, the CPU
    executes exactly the iteration spaces, launch grouping and scratch
    privatisation chosen for the GPU, so the NumPy oracle tests check the GPU
    mapping on machines without a GPU (`winnow-compile
    --emulate-cuda-on-cpu`). A block-phase launch (`tok.block_phases`: one
    thread block per dispatch row, phases separated by barriers) runs phase
    by phase, every thread of a phase before the next, which is what the
    barriers guarantee on a GPU (so a missing barrier is not caught here).
    Any other launch whose threads cooperate (`gpu.barrier`, `gpu.shuffle`,
    `nvvm.vote.sync ballot`, workgroup attributions) runs lane by lane: its
    body is cut into thread phases at each synchronising op, per-thread
    values crossing a cut live in one slot per thread, a shuffle or ballot
    reads the other lanes' slots with PTX's lane arithmetic, workgroup
    memory is one buffer per block, and `scf.for`/`scf.if` containing a
    synchronising op run at block level (a per-thread condition becomes an
    active mask). A barrier only some threads reach, or loop bounds that
    differ between threads, stop the program (`cf.assert`); a lane read
    from outside the block or from an inactive thread gives NaN or
    0xDEADBEEF... (docs/collectives.md).
  }];
  let dependentDialects = [
    "::mlir::scf::SCFDialect", "::mlir::memref::MemRefDialect",
    "::mlir::arith::ArithDialect", "::mlir::cf::ControlFlowDialect"
  ];
}

def CollectiveToGpu : Pass<"collective-to-gpu"> {
  let summary = "Lower warp and block collectives to GPU code";
  let description = [{
    Replaces every `collective` op (warp and block reductions, argmax,
    exclusive scan, histogram, radix select, barrier, grid arrival) inside
    `gpu.launch`
    and `gpu.func` bodies by
    GPU dialect code, in one of two forms that give the same bits:

    * `form=shuffle` (the CUDA target): `gpu.shuffle` trees, a ballot and
      `math.ctpop` for flag scans, workgroup memory for the per-warp values,
      `gpu.barrier`, workgroup atomics for histograms;
    * both forms: a grid arrival is a global atomic counter between GPU-scope
      fences (`llvm.fence syncscope("device")`);
    * `form=reference`: every thread writes its operand to workgroup memory
      and replays the same combination tree with loops; no warp-synchronous
      op at all.

    The workgroup buffers a lowering needs are added as attributions of the
    enclosing launch or kernel. `tok-emulate-gpu-launches` runs both forms
    on the CPU lane by lane, so the oracle tests check the shuffle form
    itself (`test/oracle/collectives_oracle.py`).

    ```mlir
    %s = collective.warp_reduce add %x : f32
    // form=shuffle, block of 64 threads:
    %o0 = gpu.shuffle xor %x, %c16, %c32 : f32
    %s0 = arith.addf %x, %o0 : f32
    ...   // offsets 8, 4, 2, 1
    ```
  }];
  let options = [
    Option<"form", "form", "std::string", /*default=*/"\"shuffle\"",
           "'shuffle' (warp shuffles and ballots) or 'reference' (workgroup "
           "memory and loops, the same bits)">,
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::NVVM::NVVMDialect",
    "::mlir::LLVM::LLVMDialect"
  ];
}

#endif // WINNOW_CONVERSION_PASSES_TD
