//===- Passes.td - Winnow's passes --------------------------*- tablegen -*-===//

#ifndef WINNOW_PASSES_PASSES_TD
#define WINNOW_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def TokFormDispatchRegions
    : Pass<"tok-form-dispatch-regions", "::mlir::func::FuncOp"> {
  let summary = "Group chains of tok ops into fused tok.dispatch regions";
  let description = [{
    Walks each block in order and grows a group along producer-to-consumer
    edges: a fusible op joins the current group when it consumes a value the
    group produces, has the same batch extent, and the cost model accepts
    it (an `ema_scan` read only by an `expand` streams into it with no
    scratch at all); otherwise the group is closed (it becomes a `tok.dispatch` when it
    holds two ops or more) and a new one starts. Groups are runs of
    consecutive ops, so every region is convex.

    Fusible: `attn_score`, `select`, `compact` (token axis 1),
    `boundary`, `ema_scan`, `expand`, `segment_reduce`, `bipartite_plan`,
    `scatter_merge`, `kv_select`, `kv_gather`, and elementwise ops on
    tensors of one shape (operands may be splat constants). The clustering
    ops view their buffers by reinterpretation and need whole-batch
    buffers; the verify ops are one op per request already.

    Cost model (docs/fusion.md). A value produced in the group and used
    only inside it becomes per-row scratch: its bytes are never written to
    nor read back from device memory (`saved_bytes`). The scratch of one
    row must fit `scratch-budget` bytes (shared memory on the GPU). On the
    `cpu` target every edge that fits is taken (the row stays in cache). On
    `cuda` the fused kernel runs one thread block per row, so it streams
    at `hbm-gbps * min(1, rows / sm-count)`; a group is grown only while
    `launch-us + bytes / that bandwidth` stays below the separate kernels'
    `launch-us + bytes / hbm-gbps` each: small batches of long rows (a
    large vocabulary at batch 1) stay split across the whole GPU.

    ```mlir
    %s = tok.attn_score %q, %k : ... -> tensor<4x576xf32>
    %i, %n = tok.select #tok.top_k<144> of %s : ...
    // becomes
    %i, %n = tok.dispatch rows 4 scratch 2304 saved 18432 launches 1
        -> (tensor<4x144xi32>, tensor<4xi32>) {
      %s = tok.attn_score ...
      %i, %n = tok.select ...
      tok.yield %i, %n : ...
    }
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "The cost model to use: cpu or cuda">,
    Option<"scratchBudget", "scratch-budget", "int64_t",
           /*default=*/"48 * 1024",
           "Bytes of fused intermediates one row may keep on chip">,
    Option<"hbmGbps", "hbm-gbps", "double", /*default=*/"4200.0",
           "Device memory bandwidth in GB/s (cuda cost model; H200 copy)">,
    Option<"smCount", "sm-count", "int64_t", /*default=*/"132",
           "Streaming multiprocessors (cuda cost model)">,
    Option<"launchUs", "launch-us", "double", /*default=*/"3.7",
           "Cost of one kernel launch in microseconds (cuda cost model)">,
  ];
}

def TokLowerToLoops : Pass<"tok-lower-to-loops", "::mlir::ModuleOp"> {
  let summary = "Lower tok ops to scf loops over memrefs (the CPU target)";
  let description = [{
    Replaces every `tok` op by loops that compute it on buffers, bridged to
    the surrounding tensor code by `bufferization.to_buffer` (read-only) and
    `bufferization.to_tensor` (restrict, writable) so that one-shot
    bufferization can run afterwards. Each op becomes one loop nest per batch
    row whose memory traffic is one read of its inputs and one write of its
    outputs:

    * `tok.attn_score`: two parallel phases: per (b, h, q) the softmax
      statistics (max logit, sum of exponentials; fp32 dot products,
      reassociable so LLVM vectorises them), then per (b, key) the sum of its
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
           "Loops over tokens/features inside rows (for GPUs): tok.select "
           "by rank, ema_scan per feature, expand and kv_gather per element">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"
  ];
}

def TokCopyRepeatedResults
    : Pass<"tok-copy-repeated-results", "::mlir::func::FuncOp"> {
  let summary = "Give every returned buffer its own allocation";
  let description = [{
    A function may return one value twice: written so, or after CSE merges
    two identical ops (two `tok.ema_scan` with the same operands). Once
    bufferized, both results are the same buffer, and upstream
    `buffer-results-to-out-params{hoist-static-allocs=true}` would replace
    that one allocation by two out-parameters (it crashes). This pass runs
    between bufferization and that pass and gives each repeated returned
    buffer a copy of its own, so every result has exactly one producer. The
    first occurrence stays as it is; no copy is made for a function whose
    returned buffers are distinct.

    ```mlir
    return %a, %a : memref<2x4xi32>, memref<2x4xi32>
    // becomes
    %copy = memref.alloc() : memref<2x4xi32>
    memref.copy %a, %copy : memref<2x4xi32> to memref<2x4xi32>
    return %a, %copy : memref<2x4xi32>, memref<2x4xi32>
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
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

def TokMergeGpuModules : Pass<"tok-merge-gpu-modules", "::mlir::ModuleOp"> {
  let summary = "Put every outlined kernel into one gpu.module";
  let description = [{
    `gpu-kernel-outlining` makes one `gpu.module` per kernel. Each module is
    a separate PTX module: its own NVPTX code generation, its own `ptxas`
    run per architecture, its own `fatbinary` and its own module load at
    run time. This pass moves the kernels of every kernels-only module with
    the same targets into the first one (each kernel takes its old module's
    name, unique in the file) and retargets the `gpu.launch_func` ops, so a
    compiled file has one kernel image.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
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
    --emulate-cuda-on-cpu`). Launches that synchronise threads (barriers,
    shuffles) are rejected.
  }];
  let dependentDialects = [
    "::mlir::scf::SCFDialect", "::mlir::memref::MemRefDialect",
    "::mlir::arith::ArithDialect"
  ];
}

#endif // WINNOW_PASSES_PASSES_TD
