//===- LayoutOps.td - Ragged batch layouts ------------------*- tablegen -*-===//
//
// Serving engines pass ragged batches flattened, with offsets (vLLM's draft
// tokens and pre-LLM image tokens, FlashAttention's varlen `cu_seqlens`);
// the tok ops take them padded, `[B, C, ...]` with a count per row. These
// ops convert between the two layouts with exact semantics.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_DIALECT_TOK_IR_LAYOUTOPS_TD
#define WINNOW_DIALECT_TOK_IR_LAYOUTOPS_TD

include "winnow/Dialect/Tok/IR/TokTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonTypeConstraints.td"

def Tok_OffsetsTensor : StaticShapeTensorOf<[I32, I64]>;

def Tok_UnpackRaggedOp : Tok_Op<"unpack_ragged", [Pure]> {
  let summary = "a flattened ragged batch with offsets, padded per request";
  let description = [{
    Pads a flattened ragged batch: `flat : [T, ...]` holds the requests one
    after another, request `b` at rows `[cu_seqlens[b], cu_seqlens[b + 1])`
    (`cu_seqlens : [B + 1]`, i32 or i64 as the engine passes it, read as
    given: no conversion of the operand). Results: `padded : [B, C, ...]`
    and `lengths : [B] i32`.

    ```
    start_b    = clamp(cu_seqlens[b], 0, T)
    end_b      = clamp(cu_seqlens[b + 1], start_b, T)
    lengths[b] = min(end_b - start_b, C)
    padded[b, j, ...] = flat[start_b + j, ...]   j < lengths[b]
                      = padding                   otherwise
    ```
    The padding is 0 for floats, -1 for integers and false for i1 (as
    `tok.compact`'s). A request longer than `C` keeps its first `C` rows.

    ```mlir
    %drafts, %num_draft = tok.unpack_ragged %flat_drafts, %cu
        : (tensor<40xi32>, tensor<9xi32>) -> (tensor<8x5xi32>, tensor<8xi32>)
    ```
  }];
  let arguments = (ins Tok_StaticTensor:$flat, Tok_OffsetsTensor:$cu_seqlens);
  let results = (outs Tok_StaticTensor:$padded, Tok_I32Tensor:$lengths);
  let assemblyFormat = [{
    $flat `,` $cu_seqlens attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tok_PackRaggedOp : Tok_Op<"pack_ragged", [Pure]> {
  let summary = "a padded ragged result, flattened with offsets";
  let description = [{
    Flattens a padded ragged tensor, the layout of the tok ops' ragged
    results (`padded : [B, C, ...]` with `count : [B] i32`), into the
    engines' layout: `flat : [T, ...]` with the requests one after another
    and `cu_seqlens : [B + 1] i32`.

    ```
    n_b            = clamp(count[b], 0, C)
    cu_seqlens[0]  = 0
    cu_seqlens[b+1] = min(cu_seqlens[b] + n_b, T)
    flat[cu_seqlens[b] + j, ...] = padded[b, j, ...]   cu_seqlens[b] + j
                                                        < cu_seqlens[b + 1]
    flat[t, ...] = padding                              t >= cu_seqlens[B]
    ```
    When the rows do not fit in `T`, the last requests are cut (the offsets
    say where). The padding is `tok.compact`'s (0, -1, false).

    ```mlir
    %flat, %cu = tok.pack_ragged %tokens, %num_emitted
        : (tensor<8x5xi32>, tensor<8xi32>) -> (tensor<40xi32>, tensor<9xi32>)
    ```
  }];
  let arguments = (ins Tok_StaticTensor:$padded, Tok_I32Tensor:$count);
  let results = (outs Tok_StaticTensor:$flat, Tok_I32Tensor:$cu_seqlens);
  let assemblyFormat = [{
    $padded `,` $count attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // WINNOW_DIALECT_TOK_IR_LAYOUTOPS_TD
