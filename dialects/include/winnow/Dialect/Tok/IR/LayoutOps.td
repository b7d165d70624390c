//===- LayoutOps.td - Ragged batch layouts ------------------*- tablegen -*-===//
//
// Serving engines pass ragged batches flattened, with offsets (vLLM's draft
// tokens and pre-LLM image tokens, FlashAttention's varlen `cu_seqlens`),
// and token trees as first-child / next-sibling lists (SGLang, MLC-LLM); the
// tok ops take padded `[B, C, ...]` tensors with a count per row, and parent
// arrays. These ops convert between the layouts with exact semantics.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_DIALECT_TOK_IR_LAYOUTOPS_TD
#define WINNOW_DIALECT_TOK_IR_LAYOUTOPS_TD

include "winnow/Dialect/Tok/IR/TokTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonTypeConstraints.td"

def Tok_OffsetsTensor : Tok_BatchedTensorOf<[I32, I64]>;

def Tok_UnpackRaggedOp : Tok_Op<"unpack_ragged", [Pure, Tok_MixesBatchRows]> {
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

def Tok_PackRaggedOp : Tok_Op<"pack_ragged", [Pure, Tok_MixesBatchRows]> {
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

def Tok_TreeParentsOp : Tok_Op<"tree_parents", [Pure]> {
  let summary = "parent arrays from the first-child / next-sibling encoding";
  let description = [{
    Converts token trees from the first-child / next-sibling encoding that
    SGLang and MLC-LLM pass (`retrive_next_token`, `retrive_next_sibling`:
    `first_child : [B, T]` and `next_sibling : [B, T]`, i32 or i64 each, read
    as given; -1 or any id outside `[0, T)` ends a list) into the parent
    arrays `tok.tree_verify` takes, `parents : [B, T] i32`:

    ```
    parents[b, i] = -1 for every node, then for i = 0, 1, ..., T - 1:
      c = first_child[b, i]
      repeat at most T times, while 0 <= c < T:
        if c != 0 and parents[b, c] == -1: parents[b, c] = i
        c = next_sibling[b, c]
    ```
    Node 0 is the root. A node listed under two parents keeps the first
    (lowest-index) one; cycles end after `T` steps, so malformed input
    cannot hang. `tok.tree_verify` then keeps a node only when its parent
    comes before it and is in the tree.

    ```mlir
    %parents = tok.tree_parents %next_token, %next_sibling
        : (tensor<4x64xi64>, tensor<4x64xi64>) -> tensor<4x64xi32>
    ```
  }];
  let arguments = (ins Tok_OffsetsTensor:$first_child,
                       Tok_OffsetsTensor:$next_sibling);
  let results = (outs Tok_I32Tensor:$parents);
  let assemblyFormat = [{
    $first_child `,` $next_sibling attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // WINNOW_DIALECT_TOK_IR_LAYOUTOPS_TD
