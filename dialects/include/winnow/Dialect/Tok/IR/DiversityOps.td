//===- DiversityOps.td - Diversity-based selection -----------*- tablegen -*-===//
//
// Selection for diversity instead of importance:
// greedy k-center (ToDRE, GreedyPrune) and DART's pivot sweep.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_DIALECT_TOK_IR_DIVERSITYOPS_TD
#define WINNOW_DIALECT_TOK_IR_DIVERSITYOPS_TD

include "winnow/Dialect/Tok/IR/TokAttrs.td"
include "winnow/Dialect/Tok/IR/TokInterfaces.td"
include "winnow/Dialect/Tok/IR/TokTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonTypeConstraints.td"

def Tok_KCenterOp : Tok_Op<"k_center", [Pure, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<Tok_RaggedResultOpInterface>]> {
  let summary = "greedy k-center (farthest-point) token selection";
  let description = [{
    Picks `k` mutually distant tokens of `input : [B, N, D]` by greedy
    farthest-point sampling with the cosine distance, keeping one running
    minimum-distance value per token (never an `N x N` matrix):

    ```
    len_b  = clamp(lengths[b], 0, N)       (N without lengths)
    dist(i, j) = 1 - <n(x_i), n(x_j)>,  n(x) = x / max(||x||, 1e-12)
    S      = { s0 },  s0 = first[b] (0 without `first`; clamped to [0, len_b))
    repeat until |S| = min(k, len_b):
        add argmax over valid j not in S of min_{s in S} dist(j, s)
        (ties to the lower index; NaN distances never win)
    ```
    Returns `indices : [B, C] i32` ascending, padded with `-1`, and
    `count : [B] i32` (`min(k, len_b)`; 0 when `k <= 0` or `len_b = 0`).
    The capacity `C` must be at least `min(k, N)`.

    ```mlir
    %idx, %n = tok.k_center %feats first %cls_best {k = 64}
        : (tensor<4x576x1024xbf16>, tensor<4xi32>)
        -> (tensor<4x64xi32>, tensor<4xi32>)
    ```
  }];
  let arguments = (ins Tok_ChunkActivation:$input,
                       Optional<Tok_I32Tensor>:$lengths,
                       Optional<Tok_I32Tensor>:$first,
                       I64Attr:$k);
  let results = (outs Tok_I32Tensor:$indices, Tok_I32Tensor:$count);
  let assemblyFormat = [{
    $input (`lengths` $lengths^)? (`first` $first^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tok_DartSelectOp : Tok_Op<"dart_select", [Pure, DeclareOpInterfaceMethods<Tok_RaggedResultOpInterface>]> {
  let summary = "DART: keep the image tokens least duplicated by pivots";
  let description = [{
    DART's duplication-based selection (Wen et al. 2025, "Stop Looking for
    Important Tokens in Multimodal Language Models: Duplication Matters
    More"). Operands:
    `keys : [B, L, Dk]` (the previous layer's keys, heads concatenated),
    `hidden : [B, L, D]` (this layer's hidden states), optional
    `lengths : [B] i32`. The image tokens are the valid tokens in
    `span = [start, end)`; every other valid token is text.

    ```
    image pivots = the `image_pivots` image tokens with the largest L1 norm
                   of their key (larger first, ties to the lower index)
    text pivots  = the same over the text tokens (`text_pivots` of them)
    M            = keep / (image_pivots + text_pivots)   (integer division)
    pool         = the image tokens that are not pivots
    for each pivot, image pivots by index, then text pivots by index:
        take the M pool tokens least cosine-similar to the pivot's hidden
        state (ties to the lower index) and remove them from the pool;
        an empty pool ends the sweep early (fewer tokens are kept)
    kept         = text tokens (they pass through) U image pivots U taken
    ```
    Returns `indices : [B, C] i32` ascending, padded with `-1`, and
    `count : [B] i32`. Cosine similarity is fp32 with `max(||x||, 1e-12)`
    normalisation (a zero row has similarity 0). NaN similarities rank as
    the most similar, so they are taken last. The capacity `C` must be at
    least `(L - |span|) + min(|span|, image_pivots + M * (image_pivots +
    text_pivots))`.

    ```mlir
    %idx, %n = tok.dart_select %k, %h lengths %len
        {span = array<i64: 35, 611>, image_pivots = 4, text_pivots = 4, keep = 128}
        : (tensor<1x700x4096xf16>, tensor<1x700x4096xf16>, tensor<1xi32>)
        -> (tensor<1x256xi32>, tensor<1xi32>)
    ```
  }];
  let arguments = (ins Tok_ChunkActivation:$keys, Tok_ChunkActivation:$hidden,
                       Optional<Tok_I32Tensor>:$lengths,
                       DenseI64ArrayAttr:$span,
                       I64Attr:$image_pivots, I64Attr:$text_pivots,
                       I64Attr:$keep);
  let results = (outs Tok_I32Tensor:$indices, Tok_I32Tensor:$count);
  let assemblyFormat = [{
    $keys `,` $hidden (`lengths` $lengths^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Tokens taken per pivot: keep / (image_pivots + text_pivots).
    int64_t getPerPivot();
    /// The largest count this selection can produce.
    int64_t getMaxKeptCount();
  }];
}

#endif // WINNOW_DIALECT_TOK_IR_DIVERSITYOPS_TD
