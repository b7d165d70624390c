//===- Passes.td - Winnow's generic transforms -------------*- tablegen -*-===//
//
// Transforms of bufferized and GPU IR that the pipelines need around the
// conversions.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_TRANSFORMS_PASSES_TD
#define WINNOW_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

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

def TokForwardRowResults
    : Pass<"tok-forward-row-results", "::mlir::func::FuncOp"> {
  let summary = "Write a row's results straight into the caller's buffers";
  let description = [{
    A function with a dynamic batch runs its program one row at a time
    (`tok-rows-of-dynamic-batch`); after bufferization each result of a row
    is written into a row buffer and then copied into its row of the
    caller's out-parameter. This pass removes the copy: when the body of
    that row loop (a top-level `scf.for`, or a one-dimensional
    `scf.parallel` as the CPU pipeline makes it, up to the leading extent of
    an argument, whose iterations write a row's results before reading them)
    copies a buffer of its own into a view of a function argument, every
    access of that buffer in the body is redirected to the view, which the
    body then writes directly.

    ```mlir
    %row = memref.alloc() : memref<1x4xi32>
    %b = memref.dim %arg0, %c0 : memref<?x8xf32>
    scf.for %r = %c0 to %b step %c1 {
      ...                              // writes and reads %row
      %out = memref.subview %arg1[%r, 0] [1, 4] [1, 1] : ...
      memref.copy %row, %out : memref<1x4xi32> to memref<1x4xi32, strided<...>>
    }
    // becomes: the body writes and reads %out; no copy, no %row.
    ```

    Conservative: the copy's source must be an allocation used only in that
    block (besides its deallocation), through loads, stores, vector
    loads/stores, copies, metadata queries and collapses of those (another
    view of it would keep its own type); the view must be a `memref.subview` of a function argument
    used only by the copy, whose operands are defined outside the loop or
    are its induction variable. Anything else is left as it is.
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

def TokAlignWorkgroupBuffers
    : Pass<"tok-align-workgroup-buffers", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Align every workgroup buffer of a kernel to 16 bytes";
  let description = [{
    Sets `llvm.align = 16` on each workgroup attribution of every
    `gpu.func` that has no alignment yet. Without it a buffer is only as
    aligned as its element type: an `i8` arena carved into f32 and bf16 row
    buffers at 16-byte offsets (`tok-offload-to-gpu`) would be placed at
    any byte (`.shared .align 1`), and 16-byte vector accesses into it need
    16. `gpu.launch` cannot carry the attribute, so it is added once the
    kernels are outlined.

    ```mlir
    gpu.func @k() workgroup(%arena : memref<1024xi8, #gpu.address_space<workgroup>>) kernel
    // becomes
    gpu.func @k() workgroup(%arena : memref<1024xi8, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}) kernel
    ```
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def TokPortableExpLog : Pass<"tok-portable-exp-log"> {
  let summary = "Expand f32 math.exp and f32 and f64 math.log into Winnow's own arithmetic";
  let description = [{
    Replaces every f32 `math.exp` and `math.log` by a fixed sequence of IEEE
    additions, multiplications, divisions and bit operations (range
    reduction by ln 2, a degree-7 polynomial for exp, an atanh series for
    log; at most 2 ulp from the correctly rounded result), so that both
    targets compute the same bits: the CPU would otherwise call libm's
    `expf`/`logf` and the GPU libdevice's `__nv_expf`/`__nv_logf`, which
    differ in the last bits, and a softmax sum, a log-sum-exp or an entropy
    that feeds a decision (an acceptance test, a kept token) could then
    decide differently on the two targets. No operation in the sequence can
    be contracted into an FMA by either backend (no fast-math flags), and
    it vectorises on the CPU where a libm call does not.

    f64 `math.log` (the Philox exponentials' -log(u), rounded to f32
    afterwards) is expanded the same way, ten terms of the atanh series:
    within 1 ulp of libm's `log`, and for every one of the 2^24 inputs
    Philox makes its result rounds to the same f32 as libm's (the accuracy
    test checks all of them). f64 `math.exp` is left alone; nothing Winnow
    lowers uses it.

    Special values: exp(NaN) = NaN, exp(+inf) = +inf, exp(x) = 0 below
    about -103.97 and +inf above about 88.72; log(NaN or x < 0) = NaN,
    log(±0) = -inf, log(+inf) = +inf, subnormal x exact to the same bound.

    ```mlir
    %e = math.exp %x : f32
    // becomes (abridged)
    %t = arith.mulf %x, %log2e : f32
    %n = arith.subf (arith.addf %t, %magic), %magic : f32   // round to nearest
    ...                                                      // r, polynomial, 2^n
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def TokOutlineParallelLoops
    : Pass<"tok-outline-parallel-loops", "::mlir::ModuleOp"> {
  let summary = "Outline outermost parallel loops into tasks for the runtime's threads";
  let description = [{
    The CPU target runs the iterations of an outermost `scf.parallel` (batch
    rows, heads, tokens) on the runtime's thread pool. This pass moves the
    loop's body into a function over a range of iterations,
    `@<f>_par<k>(%begin, %end, captured values...)`, and replaces the loop by
    a call to a declared launch function with the same captured values,
    `@<f>_par<k>_launch(%iterations, %grain, ...)`, marked with
    `tok.parallel_body = @<f>_par<k>`; `tok-lower-parallel-launches` defines
    it once the module is in the LLVM dialect. A multi-dimensional loop is
    linearised (its iterations are numbered row-major).

    Scratch buffers the loop lowering allocated above the loop (`memref.alloca`
    or `memref.alloc`, and views of them) that nothing outside the loop uses
    are allocated inside the task function instead, so each task has its
    own. Iterations must be independent, as `scf.parallel` states; a loop is
    left as it is when it has reductions, when it writes an allocation of
    the function that is used outside it but is not only read after it
    (scratch the iterations would share, or that later loops write again; a
    buffer the loop produces for later code, which is only read afterwards,
    is written by each iteration in its own part; so is an allocation
    marked `tok.shared_scratch`, which the lowering that made it shares
    between the iterations of every loop that uses it), or when its
    estimated work (ops times static inner trip counts, times iterations) is
    below `min-work`. Only loops outside any other `scf.parallel` are
    outlined; nested ones stay loops in the task. `%grain`, the fewest iterations worth a task of their
    own, is `min-work` divided by the work of one iteration.

    ```mlir
    %s = memref.alloca() : memref<256xi32>
    scf.parallel (%r) = (%c0) to (%c8) step (%c1) { ... %s ... %arg0 ... }
    // becomes
    func.call @f_par0_launch(%c8, %grain, %arg0) : (index, index, memref<...>) -> ()
    func.func private @f_par0(%begin: index, %end: index, %a0: memref<...>) {
      %s = memref.alloca() : memref<256xi32>
      scf.for %r = %begin to %end step %c1 { ... }
    }
    ```
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", /*default=*/"32768",
           "Estimated operations below which a loop stays serial, and the "
           "least work worth a task">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def TokLowerParallelLaunches
    : Pass<"tok-lower-parallel-launches", "::mlir::ModuleOp"> {
  let summary = "Define the launch functions of outlined parallel loops";
  let description = [{
    Runs on the LLVM dialect after `tok-outline-parallel-loops` and
    `convert-func-to-llvm`. Each declared launch function marked
    `tok.parallel_body` gets a body that stores its arguments (the loop's
    captured values, memref descriptors already expanded) into a context
    struct on the stack and hands a task function, the context, the
    iteration count and the grain to the runtime through the exported
    pointer `@__winnow_parallel_for`, which the runtime sets when it loads
    the shared object. The task function loads the fields back and calls
    the outlined body on its range of iterations. When the pointer is null
    (no runtime has set it) the launch runs every iteration itself.

    ```c
    void __winnow_parallel_for(void (*task)(void *ctx, int64_t begin,
                                            int64_t end),
                               void *ctx, int64_t iterations, int64_t grain);
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // WINNOW_TRANSFORMS_PASSES_TD
