//===- PruneOps.td - Token pruning: score, select, compact --*- tablegen -*-===//
//
// The pruning family (FastV, FasterVLM, SparseVLM, ...): an importance score
// per token, a deterministic selection of the tokens to keep, and a compaction
// that gathers every tensor travelling with the tokens.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_DIALECT_TOK_IR_PRUNEOPS_TD
#define WINNOW_DIALECT_TOK_IR_PRUNEOPS_TD

include "winnow/Dialect/Tok/IR/TokAttrs.td"
include "winnow/Dialect/Tok/IR/TokInterfaces.td"
include "winnow/Dialect/Tok/IR/TokTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// tok.attn_score
//===----------------------------------------------------------------------===//

def Tok_AttnScoreOp : Tok_Op<"attn_score",
    [Pure, AttrSizedOperandSegments, Tok_RowLocalOpInterface]> {
  let summary = "per-token importance from selected attention query rows";
  let description = [{
    Computes how much attention selected query rows pay to every key, the
    score FastV (last query row), FasterVLM ([CLS] row) and SparseVLM (text
    "rater" rows) prune with, without ever forming the `L x L` attention
    matrix: only the selected rows are recomputed.

    Operands: `queries : [B, H, Q, d]` (the Q selected query rows of each of
    the H heads), `keys : [B, Hkv, N, d]` with `H % Hkv == 0` (grouped-query
    attention: query head `h` reads key head `h / (H / Hkv)`), optional
    `lengths : [B] i32` (keys `j >= lengths[b]` are padding), optional
    `lse : [B, H, Q] f32` (the row log-sum-exp FlashAttention / FlashInfer
    return), optional `query_positions : [B, Q] i32` (causal masking: row q
    sees keys `j <= query_positions[b, q]`). Queries and keys share one
    element type (f16, bf16 or f32); all arithmetic is fp32.

    Semantics, for batch row `b`, head `h`, query row `q`:
    ```
    valid(j)  = j < len_b  and (no query_positions or j <= qpos[b, q])
    s_j       = scale * sum_e q[b,h,q,e] * k[b, h / (H/Hkv), j, e]   (fp32)
    p_j       = exp(s_j - lse[b,h,q])                 if lse is given
              = exp(s_j - max_valid s) / sum_valid exp(s - max_valid s) otherwise
    p_j       = 0 for every j that is not valid
    score[b, j] = sum over (h, q) of p_j, divided by H * Q when
                  reduction = mean (the default)
    ```
    `scale` defaults to `1 / sqrt(d)`. A row with no valid key contributes 0;
    rows of length 0 score all zero. With `lse`, the probabilities are those
    of the attention that produced the lse (over all of its keys), so a
    caller can score a span of keys while the softmax ran over the whole
    sequence.

    **Order of sums** (the same on every target and for any batch): each
    dot product adds over `d` in order; each query row's softmax statistics
    (maximum, then the sum of exponentials) run over the keys in order; a
    key's score adds its probabilities over heads, then query rows, in
    order. exp and log are Winnow's own (`tok-portable-exp-log`), so the
    CPU and the GPU compute the same bits.

    Example (FastV on LLaVA-1.5: the last query row of 32 heads scores the
    576 image keys; its softmax ran over the whole row, whose log-sum-exp
    the attention kernel returned):

    ```mlir
    %s = tok.attn_score %q, %k lengths %len lse %lse
        : (tensor<4x32x1x128xbf16>, tensor<4x32x576x128xbf16>, tensor<4xi32>,
           tensor<4x32x1xf32>) -> tensor<4x576xf32>
    ```
  }];

  let arguments = (ins
    Tok_StaticTensor:$queries,
    Tok_StaticTensor:$keys,
    Optional<Tok_I32Tensor>:$lengths,
    Optional<Tok_F32Tensor>:$lse,
    Optional<Tok_I32Tensor>:$query_positions,
    OptionalAttr<F32Attr>:$scale,
    Tok_Default<Tok_ScoreReductionAttr,
                      "::winnow::tok::ScoreReduction::mean", "#tok.score_reduction<mean>">:$reduction);
  let results = (outs Tok_F32Tensor:$scores);

  let assemblyFormat = [{
    $queries `,` $keys (`lengths` $lengths^)? (`lse` $lse^)?
    (`query_positions` $query_positions^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// The softmax scale, `1/sqrt(d)` unless the `scale` attribute is set.
    float getEffectiveScale();
  }];
}

//===----------------------------------------------------------------------===//
// tok.select
//===----------------------------------------------------------------------===//

def Tok_SelectOp : Tok_Op<"select", [Pure, AttrSizedOperandSegments,
    Tok_RowLocalOpInterface, DeclareOpInterfaceMethods<Tok_RaggedResultOpInterface>]> {
  let summary = "deterministic top-k / keep-ratio / threshold token selection";
  let description = [{
    Chooses the tokens to keep from `scores : [B, N] f32` and returns them as
    a ragged set: `indices : [B, C] i32`, ascending, padded with `-1`, and
    `count : [B] i32`. The count stays a tensor: nothing is read back to the
    host.

    Per batch row `b`:
    ```
    len_b   = clamp(lengths[b], 0, N)          (N when lengths is absent)
    valid   = { i : i < len_b }
    span    = [start, end) from the `span` attribute ([0, N) when absent)
    cand_b  = valid and in span and not protect[b, i]
    K_b     = budget(|cand_b|)                 (see below)
    kept_b  = (valid \ cand_b)  U  best K_b of cand_b
    ```
    Valid tokens outside the span pass through; protected tokens are kept
    and do not consume the budget; padding is never kept, even if protected.

    Budgets: `#tok.top_k<k>` (`K_b = clamp(k, 0, |cand_b|)`),
    `#tok.keep_ratio<r, rounding>` (`K_b = rounding(|cand_b| * r)` in IEEE
    double), `#tok.threshold<tau, gt|ge>` (every candidate whose score
    compares above `tau`; the count is data dependent).

    Per-request budgets: with `row_budget %b : [B]`, request `b` uses its own
    budget, bounded by the attribute's, which stays the compile-time maximum
    (the capacity is computed from it): for `top_k<k>` an i32 `k_b`, and
    `K_b = clamp(k_b, 0, min(k, |cand_b|))`; for `keep_ratio<r, rounding>` an
    f32 `r_b`, and `K_b = rounding(|cand_b| * min(r_b, r))` in IEEE double
    (a negative or NaN `r_b` keeps no candidate). Serving engines pass each
    request's keep count or ratio this way, with one artifact for all of
    them. A threshold budget takes no `row_budget`.

    Ranking is a total order: larger score first, equal scores to the lower
    index, `-0.0 == +0.0`. `nan_policy = as_neg_inf` (default) ranks a NaN
    with `-inf` (it stays a candidate and is kept when `K_b` exceeds the
    number of larger scores); `as_pos_inf` ranks it with `+inf` (what
    `torch.topk` does).

    The capacity `C` (the static extent of `indices`) must hold the largest
    count the op can produce: `(N - |span|) + K_max` where `K_max` is the
    budget applied to a full span, or `N` when there is a `protect` mask or
    a threshold budget. The verifier rejects a smaller capacity, so a count
    never exceeds `C`.

    Syntax: `tok.select BUDGET of %scores`, then optionally `lengths %len`,
    `protect %mask`, `row_budget %b`, `span [start, end]` and
    `{nan_policy = ...}`, then `: (operand types) -> (result types)`.

    Examples (keep 25 % of 576 image tokens; keep the 64 best of the image
    tokens at positions [35, 611) of a 700-token row, the text passing
    through):
    ```mlir
    %idx, %n = tok.select #tok.keep_ratio<0.25, floor> of %scores
        lengths %len : (tensor<4x576xf32>, tensor<4xi32>)
        -> (tensor<4x144xi32>, tensor<4xi32>)
    %idx2, %n2 = tok.select #tok.top_k<64> of %row lengths %len2
        span [35, 611] : (tensor<4x700xf32>, tensor<4xi32>)
        -> (tensor<4x700xi32>, tensor<4xi32>)
    ```

    Each request with its own keep ratio, at most a half:
    ```mlir
    %idx3, %n3 = tok.select #tok.keep_ratio<0.5, floor> of %scores lengths %len row_budget %ratios
        : (tensor<4x576xf32>, tensor<4xi32>, tensor<4xf32>)
        -> (tensor<4x288xi32>, tensor<4xi32>)
    ```
  }];

  let arguments = (ins
    Tok_F32Tensor:$scores,
    Tok_BudgetAttr:$budget,
    Optional<Tok_I32Tensor>:$lengths,
    Optional<Tok_BoolTensor>:$protect,
    Optional<Tok_StaticTensor>:$row_budget,
    OptionalAttr<DenseI64ArrayAttr>:$span,
    Tok_Default<Tok_NanPolicyAttr,
                      "::winnow::tok::NanPolicy::as_neg_inf", "#tok.nan_policy<as_neg_inf>">:$nan_policy);
  let results = (outs Tok_I32Tensor:$indices, Tok_I32Tensor:$count);

  let assemblyFormat = [{
    $budget `of` $scores (`lengths` $lengths^)? (`protect` $protect^)?
    (`row_budget` $row_budget^)? (`span` $span^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// The candidate span [start, end); the whole token axis when unset.
    std::pair<int64_t, int64_t> getSpanBounds();
    /// The largest number of candidates the budget can keep from `n`.
    int64_t getMaxBudget(int64_t n);
    /// The largest count any batch row can produce (see the description).
    int64_t getMaxKeptCount();
  }];
}

//===----------------------------------------------------------------------===//
// tok.compact
//===----------------------------------------------------------------------===//

def Tok_CompactOp : Tok_Op<"compact", [Pure,
    DeclareOpInterfaceMethods<Tok_RowLocalOpInterface,
                              ["isRowLocal", "getReadBytes"]>,
    DeclareOpInterfaceMethods<Tok_RaggedResultOpInterface, ["getRaggedAxis"]>]> {
  let summary = "gather a bundle of token tensors with one ragged index set";
  let description = [{
    Gathers every tensor that travels with the tokens (hidden states, 1-D or
    M-RoPE position ids, masks, sizes) with the same kept indices, and
    returns the old-to-new index map.

    Operands: `indices : [B, C] i32` and `count : [B] i32` (a ragged set, as
    `tok.select` returns), then the sources. Source `s` has its token axis at
    `token_axes[s]` (default 1) and its batch axis just before it, so
    `[B, N, D]` hidden states use axis 1 and `[3, B, N]` M-RoPE positions
    use axis 2; every source has the same `B` and `N`.

    Semantics, for batch row `b` and output slot `j < C`:
    ```
    n_b           = clamp(count[b], 0, C)
    out_s[.., b, j, ..] = src_s[.., b, indices[b, j], ..]   if j < n_b and
                                                           0 <= indices[b, j] < N
                        = padding                           otherwise
    old_to_new[b, i] = the last j < n_b with indices[b, j] == i, else -1
    ```
    Padding is `-1` for integer sources (token and position ids) and `0` for
    floating-point sources and i1 masks. An index outside `[0, N)` yields a
    padding row rather than reading out of bounds. Positions are gathered,
    never recomputed: RoPE keeps the original index of every kept token.

    Example (FastV: hidden states and M-RoPE positions):
    ```mlir
    %h, %pos, %map = tok.compact %idx, %n gather(%hidden, %positions)
        {token_axes = array<i64: 1, 2>}
        : (tensor<4x144xi32>, tensor<4xi32>, tensor<4x576x4096xbf16>,
           tensor<3x4x576xi32>)
        -> (tensor<4x144x4096xbf16>, tensor<3x4x144xi32>, tensor<4x576xi32>)
    ```
  }];

  let arguments = (ins
    Tok_I32Tensor:$indices,
    Tok_I32Tensor:$count,
    Variadic<Tok_StaticTensor>:$sources,
    OptionalAttr<DenseI64ArrayAttr>:$token_axes);
  let results = (outs Variadic<Tok_StaticTensor>:$gathered,
                      Tok_I32Tensor:$old_to_new);

  let assemblyFormat = [{
    $indices `,` $count `gather` `(` $sources `)` attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// The token axis of source `i` (1 unless `token_axes` says otherwise).
    int64_t getTokenAxis(unsigned i);
  }];
}

#endif // WINNOW_DIALECT_TOK_IR_PRUNEOPS_TD
