//===- CollectiveOps.td - Warp and block collectives --------*- tablegen -*-===//
//
// The cooperative building blocks GPU kernels are made of: every thread of a
// warp or block executes the op and gets its part of the result.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_DIALECT_COLLECTIVE_IR_COLLECTIVEOPS_TD
#define WINNOW_DIALECT_COLLECTIVE_IR_COLLECTIVEOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Collective_Dialect : Dialect {
  let name = "collective";
  let cppNamespace = "::winnow::collective";
  let summary = "Warp and block collectives for GPU kernels";
  let useDefaultAttributePrinterParser = 1;
  let description = [{
    Reductions, scans and histograms over the threads of a warp or a thread
    block, used inside `gpu.launch` and `gpu.func` bodies. Every thread of
    the warp (for `warp_*` ops) or block (`block_*` ops) must execute the op,
    in the same order, under the same control flow: they are convergent,
    like the shuffles and barriers they lower to.

    Two lowerings (`collective-to-gpu{form=...}`) give the same bits:

    * `shuffle` (the CUDA target): warp shuffles (`gpu.shuffle`), ballots
      (`nvvm.vote.sync`), population counts, workgroup memory, barriers and
      workgroup atomics — `shfl.sync`, `vote.sync.ballot`, `popc`,
      `bar.sync`, `atom.shared` in PTX;
    * `reference`: every thread writes its operand to workgroup memory and
      computes the result from there with plain loops in the same
      combination order, so it is obviously the op's definition and needs
      nothing warp-synchronous.

    **Order.** A reduction is a fixed tree: lane l combines its value with
    lane l + d's for d = 16, 8, 4, 2, 1 (in that order, `combine(mine,
    theirs)`) while lane l + d takes part, and every lane gets lane 0's
    result. (For a whole warp this is what lane 0 computes in an xor
    butterfly, in which every lane ends with the same bits, since the
    combinations are commutative.) A block reduction reduces each warp so,
    then the per-warp values, in warp order, by the same tree. The order
    depends only on the block size, never on the data, the grid or the
    device.

    **Partial warps.** The last warp of a block whose size is not a
    multiple of 32 has fewer lanes; lanes past the block take no part, so
    any block size from 1 to 1024 is valid.
  }];
}

// Effects. A warp op touches no memory the program sees: it may be CSE'd
// or erased when unused, but never speculated (it is not Speculatable), so
// it is not hoisted out of the control flow every lane reaches it under.
// A block op orders memory between the block's threads like a barrier
// (stores before it are visible to every thread after it): it reads and
// writes memory, so nothing is moved across it.
class Collective_Op<string mnemonic, list<Trait> traits = []>
    : Op<Collective_Dialect, mnemonic,
         !listconcat(traits,
                     !if(!eq(!substr(mnemonic, 0, 5), "warp_"),
                         [NoMemoryEffect],
                         [MemoryEffects<[MemRead, MemWrite]>]))>;

def Collective_ReductionKind : I32EnumAttr<"ReductionKind",
    "how lane values combine", [
      I32EnumAttrCase<"add", 0>,
      I32EnumAttrCase<"max", 1>,
      I32EnumAttrCase<"min", 2>,
    ]> {
  let cppNamespace = "::winnow::collective";
  let genSpecializedAttr = 0;
}
def Collective_ReductionKindAttr
    : EnumAttr<Collective_Dialect, Collective_ReductionKind, "kind">;

def Collective_ReducedType : AnyTypeOf<[F32, I32]>;

class Collective_ReduceOp<string mnemonic>
    : Collective_Op<mnemonic, [AllTypesMatch<["value", "result"]>]> {
  let arguments = (ins Collective_ReductionKindAttr:$kind,
                       Collective_ReducedType:$value);
  let results = (outs Collective_ReducedType:$result);
  let assemblyFormat = "$kind $value attr-dict `:` type($value)";
  let hasVerifier = 1;
}

def Collective_WarpReduceOp : Collective_ReduceOp<"warp_reduce"> {
  let summary = "Reduce a value over the lanes of a warp";
  let description = [{
    Every lane of the warp gets the combination of the warp's lane values:
    `add` (a sum), `max`, `min`. Float `max`/`min` propagate NaN and order
    -0.0 below +0.0 (`arith.maximumf`/`minimumf`); integers are signed.

    ```mlir
    %sum = collective.warp_reduce add %x : f32
    ```
  }];
}

def Collective_BlockReduceOp : Collective_ReduceOp<"block_reduce"> {
  let summary = "Reduce a value over the threads of a block";
  let description = [{
    Every thread of the block gets the combination of all threads' values
    (kinds as `warp_reduce`): each warp is reduced, the per-warp values go
    through workgroup memory, and every warp reduces them in warp order.
    Ends with a barrier, so the op can run again (in a loop) at once.

    ```mlir
    %max = collective.block_reduce max %x : f32
    ```
  }];
}

class Collective_ArgMaxOp<string mnemonic>
    : Collective_Op<mnemonic, [AllTypesMatch<["value", "max"]>,
                               AllTypesMatch<["index", "argmax"]>]> {
  let arguments = (ins F32:$value, I32:$index);
  let results = (outs F32:$max, I32:$argmax);
  let assemblyFormat = "$value `,` $index attr-dict `:` type($value) `,` type($index)";
  let hasVerifier = 1;
}

def Collective_WarpArgMaxOp : Collective_ArgMaxOp<"warp_argmax"> {
  let summary = "The largest value of a warp and its index";
  let description = [{
    Every lane gets the largest `value` of the warp and the `index` that
    came with it. The order is total: NaN is below every number, equal
    values (-0.0 equals +0.0, NaN equals NaN) go to the lower index; so the
    pair does not depend on the combination order.

    ```mlir
    %m, %i = collective.warp_argmax %score, %token : f32, i32
    ```
  }];
}

def Collective_BlockArgMaxOp : Collective_ArgMaxOp<"block_argmax"> {
  let summary = "The largest value of a block and its index";
  let description = [{
    `warp_argmax` over every thread of the block (per warp, then over the
    warps' pairs in warp order); ends with a barrier.

    ```mlir
    %m, %i = collective.block_argmax %score, %token : f32, i32
    ```
  }];
}

def Collective_BlockExclusiveScanOp
    : Collective_Op<"block_exclusive_scan"> {
  let summary = "Exclusive prefix sum of i32 values over a block";
  let description = [{
    Thread t gets the sum of the values of the threads before it (in linear
    thread order) and the block's total. In the `shuffle` form, 0/1 values
    (`flags`) are counted with a warp ballot and `popc`, other values with
    a shuffle-up scan; warp totals are scanned through workgroup memory.
    Ends with a barrier.

    ```mlir
    %before, %total = collective.block_exclusive_scan %keep : i32
    ```
  }];
  let arguments = (ins I32:$value, UnitAttr:$flags);
  let results = (outs I32:$prefix, I32:$total);
  let assemblyFormat = "$value (`flags` $flags^)? attr-dict `:` type($value)";
  let hasVerifier = 1;
}

def Collective_BlockHistogramOp : Collective_Op<"block_histogram"> {
  let summary = "Count the threads' bins into a workgroup histogram";
  let description = [{
    Clears `histogram` (a workgroup-memory buffer of i32 counts), then adds
    one to bin `bin` for every thread whose `valid` is true (bins outside the
    histogram are ignored), and ends with a barrier, after which every
    thread may read the counts. `shuffle` form: shared-memory atomics
    (`atom.shared.add`); the counts are integers, so the order of the
    additions does not matter.

    ```mlir
    collective.block_histogram %digit if %live into %hist
        : index, memref<256xi32, #gpu.address_space<workgroup>>
    ```
  }];
  let arguments = (ins Index:$bin, I1:$valid,
                       MemRefRankOf<[I32], [1]>:$histogram);
  let assemblyFormat =
      "$bin `if` $valid `into` $histogram attr-dict `:` type($bin) `,` type($histogram)";
  let hasVerifier = 1;
}

def Collective_BlockBarrierOp : Collective_Op<"block_barrier"> {
  let summary = "Wait for every thread of the block; order their memory";
  let description = [{
    `gpu.barrier` with its effect declared: stores any thread of the block
    made before it are visible to every thread after it. Kernels built
    before bufferization's passes run (a GPU form's own `gpu.launch`) use
    it, because those passes reject an op whose effects they do not know;
    both forms lower it to `gpu.barrier` (`bar.sync 0`).

    ```mlir
    collective.block_barrier
    ```
  }];
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
}

def Collective_GridArriveOp : Collective_Op<"grid_arrive"> {
  let summary = "Whether this block is the last of its group to arrive";
  let description = [{
    A group of `blocks` blocks of one launch shares the i32 counter
    `counters[group]` in global memory, which must be 0 when the launch
    starts (an earlier kernel of the same program clears it). Every block
    of the group arrives exactly once, with every thread; `last` is true on
    every thread of the block that arrives last, which then sees every
    store the group's blocks made before they arrived, and sets the counter
    back to 0. This is how one block of a grid finishes what all of them
    started (partials folded in a fixed order, so the result does not
    depend on which block is last) without another launch: the CUDA
    threadfence-reduction and CUTLASS semaphore pattern.

    Both forms: a barrier; thread 0 makes the block's stores visible at GPU
    scope (`fence.acq_rel.gpu`), adds 1 to the counter (`atom.global.add`)
    and, when it was the last, fences again (acquire) and clears it; the
    answer goes through workgroup memory; a barrier.

    ```mlir
    %last = collective.grid_arrive %counters[%row] of %blocks : memref<8xi32>
    ```
  }];
  let arguments = (ins MemRefRankOf<[I32], [1]>:$counters, Index:$group,
                       Index:$blocks);
  let results = (outs I1:$last);
  let assemblyFormat =
      "$counters `[` $group `]` `of` $blocks attr-dict `:` type($counters)";
  let hasVerifier = 1;
}

def Collective_BlockRadixSelectOp : Collective_Op<"block_radix_select"> {
  let summary = "The k-th largest key of a row, by block radix select";
  let description = [{
    `keys[0, count)` are order-preserving 32-bit keys compared as unsigned
    integers (a score maps to one so that larger keys are better, e.g.
    `tok.select`'s key of a float). With `k' = min(k, count)`, every thread
    gets `threshold`, the k'-th largest key, and `above`, the number of keys
    strictly greater than it (`above < k'`). The k' selected keys are then
    every key greater than `threshold` and the first `k' - above` keys equal
    to it in index order, which is `tok.select`'s tie rule (ties to the
    lower index). `k' = 0` gives `threshold = 0xFFFFFFFF` and `above = 0`.
    `keys`, `count` and `k` must be the same on every thread of the block.

    The block finds the key one 8-bit digit at a time, most significant
    first (4 passes): a workgroup histogram of the digits of the keys that
    match the digits found so far (`atom.shared.add`), then warp 0 finds the
    bin in which the running count from the top reaches k' (a scan of the
    bins across its lanes). The result is exact and does not depend on the
    block size; the `reference` form has thread 0 run the same passes.

    ```mlir
    %threshold, %above = collective.block_radix_select %k of %keys[%n]
        : memref<4096xi32>
    ```
  }];
  let arguments = (ins MemRefRankOf<[I32], [1]>:$keys, Index:$count,
                       Index:$k);
  let results = (outs I32:$threshold, Index:$above);
  let assemblyFormat =
      "$k `of` $keys `[` $count `]` attr-dict `:` type($keys)";
  let hasVerifier = 1;
}

#endif // WINNOW_DIALECT_COLLECTIVE_IR_COLLECTIVEOPS_TD
