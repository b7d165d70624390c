//===- KvOps.td - KV-cache selection and gathering -----------*- tablegen -*-===//
//
// KV-cache eviction and selection (StreamingLLM, H2O, SepLLM, ...): choose the
// cache slots each head keeps, then gather keys and values (and positions)
// with those slots. Selection and gathering are separate ops so an explicit
// index list (DyCoke, TokenSelect) feeds the same gather.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_DIALECT_TOK_IR_KVOPS_TD
#define WINNOW_DIALECT_TOK_IR_KVOPS_TD

include "winnow/Dialect/Tok/IR/TokAttrs.td"
include "winnow/Dialect/Tok/IR/TokInterfaces.td"
include "winnow/Dialect/Tok/IR/TokTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonTypeConstraints.td"

def Tok_KvSelectOp : Tok_Op<"kv_select", [Pure, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<Tok_RowLocalOpInterface, ["getCpuTasks"]>]> {
  let summary = "cache slots to keep: sinks, window, separators, heavy hitters";
  let description = [{
    Chooses, per batch row and head, the cache slots to keep from a cache
    of `T` slots whose first `lengths[b]` are valid:

    ```
    len_b   = clamp(lengths[b], 0, T)
    sinks   = { t < min(sinks, len_b) }                         StreamingLLM
    window  = { max(len_b - window, 0) <= t < len_b }          StreamingLLM
    seps    = { t < len_b : separators[b, t] }                  SepLLM
    heavy   = the `heavy` best of the valid slots that are not
              sinks, window or separators, by scores[b, h, t],
              larger first, ties to the lower slot, NaN ranked
              with -inf                                         H2O
    kept    = sinks U window U seps U heavy, ascending
    ```
    Results: `slots : [B, H, C] i32` padded with `-1` and
    `count : [B, H] i32`. Without `scores`, every head keeps the same slots
    (`heavy` must then be 0). Each head ranks its own accumulated attention,
    and batch rows never mix (H2O's reference sums over the batch).
    A cache no longer than `sinks + window` keeps everything. `T` comes
    from `scores` or `separators`, or from `cache_size` when neither is
    given (plain StreamingLLM); `H` comes from the result type.

    The capacity `C` must hold `min(T, sinks + window + heavy)`, or `T`
    with separators.

    Per-request budgets: with `row_budget %b : [B, 3] i32`, request `b`
    keeps `clamp(b[b, 0], 0, sinks)` sinks, a window of
    `clamp(b[b, 1], 0, window)` slots and `clamp(b[b, 2], 0, heavy)` heavy
    hitters; the attributes stay the compile-time maxima that size the
    capacity, so one artifact serves requests with different budgets.

    ```mlir
    %slots, %n = tok.kv_select %len scores %acc
        {sinks = 4, window = 512, heavy = 512}
        : (tensor<8xi32>, tensor<8x32x4096xf32>)
        -> (tensor<8x32x1028xi32>, tensor<8x32xi32>)
    ```
  }];
  let arguments = (ins Tok_I32Tensor:$lengths,
                       Optional<Tok_F32Tensor>:$scores,
                       Optional<Tok_BoolTensor>:$separators,
                       Optional<Tok_I32Tensor>:$row_budget,
                       Tok_Default<I64Attr, "0", "0">:$sinks,
                       Tok_Default<I64Attr, "0", "0">:$window,
                       Tok_Default<I64Attr, "0", "0">:$heavy,
                       OptionalAttr<I64Attr>:$cache_size);
  let results = (outs Tok_I32Tensor:$slots, Tok_I32Tensor:$count);
  let assemblyFormat = [{
    $lengths (`scores` $scores^)? (`separators` $separators^)?
    (`row_budget` $row_budget^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tok_KvGatherOp : Tok_Op<"kv_gather", [Pure,
    DeclareOpInterfaceMethods<Tok_RowLocalOpInterface, ["getCpuTasks"]>]> {
  let summary = "gather per-head cache entries with per-head slot lists";
  let description = [{
    Gathers `cache : [B, H, T, d]` tensors (keys, values; any number, any
    element type) with per-head slot lists `slots : [B, H, C] i32` and
    `count : [B, H] i32`, and returns the gathered `[B, H, C, d]` tensors and
    the positions of the kept entries, `[B, H, C] i32`:

    ```
    n        = clamp(count[b, h], 0, C)
    out[b, h, j]       = cache[b, h, slots[b, h, j]]   j < n and 0 <= slot < T
                       = 0                              otherwise
    positions[b, h, j] = slots[b, h, j]   (position_mode = original: RoPE
                                           keeps each entry's position)
                       = j                (reindexed: StreamingLLM re-rotates
                                           pre-RoPE keys by cache slot)
                       = -1               past the count or for a bad slot
    ```
    A slot is bad when it is negative or `>= T`; with no cache operand there
    is no `T`, and every non-negative slot is kept as its own position.
    The cache is never modified: DyCoke-style selection is a per-step view.

    ```mlir
    %k2, %v2, %pos = tok.kv_gather %slots, %n gather(%k, %v)
        {position_mode = #tok.position_mode<reindexed>}
        : (tensor<1x32x516xi32>, tensor<1x32xi32>, tensor<1x32x4096x128xf16>,
           tensor<1x32x4096x128xf16>)
        -> (tensor<1x32x516x128xf16>, tensor<1x32x516x128xf16>, tensor<1x32x516xi32>)
    ```
  }];
  let arguments = (ins Tok_I32Tensor:$slots, Tok_I32Tensor:$count,
                       Variadic<Tok_StaticTensor>:$caches,
                       Tok_Default<Tok_PositionModeAttr,
                         "::winnow::tok::PositionMode::original", "#tok.position_mode<original>">:$position_mode);
  let results = (outs Variadic<Tok_StaticTensor>:$gathered,
                      Tok_I32Tensor:$positions);
  let assemblyFormat = [{
    $slots `,` $count `gather` `(` $caches `)` attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // WINNOW_DIALECT_TOK_IR_KVOPS_TD
