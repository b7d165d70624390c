//===- Passes.td - Transforms of tok programs --------------*- tablegen -*-===//
//
// Transforms of tok programs that stay in the tok dialect.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_DIALECT_TOK_TRANSFORMS_PASSES_TD
#define WINNOW_DIALECT_TOK_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TokMakeBatchDynamic
    : Pass<"tok-make-batch-dynamic", "::mlir::ModuleOp"> {
  let summary = "Compile a static program for every batch up to a bound";
  let description = [{
    Turns each public function written for one batch size into the same
    function with a dynamic batch (`winnow-compile --dynamic-batch=N`): the
    leading extent of its arguments, results and tok ops becomes `?`, the
    function gets `tok.bounds = {batch = N}`, and a splat constant with the
    batch extent becomes a `tensor.splat` sized by the batch of argument 0.
    A recipe written at batch 2 then serves batches 0 to N from one
    artifact, row for row the same results.

    A function qualifies when every argument and result leads with one
    extent B; functions that already have `tok.bounds` are left alone.
    Fails, with an error, on a function that does not qualify, on a
    constant with the batch extent that is not a splat (its rows differ),
    and on an op that then rejects the dynamic extent (an op that is not
    row-local, or whose operands do not all lead with the batch).
  }];
  let options = [
    Option<"bound", "bound", "int64_t", /*default=*/"0",
           "The largest batch the functions serve">,
  ];
  let dependentDialects = ["::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def TokRowsOfDynamicBatch
    : Pass<"tok-rows-of-dynamic-batch", "::mlir::func::FuncOp"> {
  let summary = "Run a function with a dynamic batch one row at a time";
  let description = [{
    A function with a dynamic batch (`tok.bounds = {batch = N}`, leading
    extents `?`) becomes one `scf.for` over the batch its arguments have at
    call time: each iteration takes row `r` of every argument
    (`tensor.extract_slice` to extent 1), runs the function's ops cloned at
    batch extent 1, which are fully static and lower like any other
    program, and inserts its results into row `r` of the function's results.
    Every op of such a function is row-local (the verifiers enforce it), so
    a row computes exactly what it computes in a static batch: the same
    bits for any batch size or composition.

    Later passes see a static program inside the loop: fusion, the loop
    lowerings and the GPU forms need no runtime sizes. The loop's trip count
    is the only dynamic quantity; scratch is sized per row.

    ```mlir
    func.func @f(%s: tensor<?x8xf32>) -> (tensor<?x4xi32>, tensor<?xi32>)
        attributes {tok.bounds = {batch = 64}} {
      %i, %n = tok.select #tok.top_k<4> of %s
          : (tensor<?x8xf32>) -> (tensor<?x4xi32>, tensor<?xi32>)
      return %i, %n : tensor<?x4xi32>, tensor<?xi32>
    }
    ```
    becomes a loop whose body selects from a `tensor<1x8xf32>` row.

    Fails, with an error, on a function whose bounds are malformed
    (`tok.bounds` must be one `name = bound` entry), whose tensors do not
    all lead with the dynamic extent, or with an op that cannot run row by
    row (an op with a region, or a non-tok op other than elementwise ops on
    tensors, reshapes and broadcasts that keep the batch as the leading
    axis, concatenations inside rows, `tensor.splat`/`tensor.empty` sized by
    the batch, and scalar constants), and on the `cuda` target, whose GPU
    forms do not take a runtime batch yet (the rows would run one after
    another on the host, each with its own launches).
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "The target: cpu, or cuda (which refuses a dynamic batch)">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

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

    Fusible: ops with `RowLocalOpInterface` (today `attn_score`, `select`,
    `compact` (token axis 1),
    `boundary`, `ema_scan`, `expand`, `segment_reduce`, `bipartite_plan`,
    `scatter_merge`, `kv_select`, `kv_gather`), and elementwise ops on
    tensors of one shape (operands may be splat constants). The clustering
    ops view their buffers by reinterpretation and need whole-batch
    buffers; the verify ops are one op per request already. On `cuda`, an
    op whose `fusesOnGpu` is false (`bipartite_plan`: its own kernel gives
    every A token a warp, a dispatch row one thread) stays out.

    Cost model (docs/fusion.md). A value produced in the group and used
    only inside it becomes per-row scratch: its bytes are never written to
    nor read back from device memory (`saved_bytes`). The scratch of one
    row must fit `scratch-budget` bytes (sized for a GPU's shared memory;
    today the row's slice of a global-memory arena that stays in L1/L2). On the
    `cpu` target an edge that fits is taken (the row stays in cache) when
    the dispatch keeps `cpu-threads` threads busy: a batch of one (the
    lowerings split a lone row's loops), or at least a row per thread.
    With fewer rows a dispatch runs a task per row, so the group grows only
    while its bytes over min(rows, threads) stay at most those of its ops
    apart, each over min(its own CPU tasks, threads) (`getCpuTasks`:
    kv_select and kv_gather spread over rows x heads). On
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
    Option<"cpuThreads", "cpu-threads", "int64_t", /*default=*/"16",
           "Threads a call is assumed to run on (cpu cost model)">,
  ];
}

#endif // WINNOW_DIALECT_TOK_TRANSFORMS_PASSES_TD
