//===- MergeOps.td - Token merging: plans and scatter-merge -*- tablegen -*-===//
//
// The merging family (ToMe, Bolya et al. 2023, and its successors): a merge
// plan says which output row every input token goes to (`parent`); one
// scatter-merge applies that plan uniformly to every tensor travelling with the
// tokens, so sizes, features and positions can never disagree.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_DIALECT_TOK_IR_MERGEOPS_TD
#define WINNOW_DIALECT_TOK_IR_MERGEOPS_TD

include "winnow/Dialect/Tok/IR/TokAttrs.td"
include "winnow/Dialect/Tok/IR/TokInterfaces.td"
include "winnow/Dialect/Tok/IR/TokTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonTypeConstraints.td"

//===----------------------------------------------------------------------===//
// tok.bipartite_plan
//===----------------------------------------------------------------------===//

def Tok_BipartitePlanOp : Tok_Op<"bipartite_plan",
    [Pure, DeclareOpInterfaceMethods<Tok_RowLocalOpInterface, ["fusesOnGpu"]>]> {
  let summary = "ToMe bipartite soft matching: which token merges where";
  let description = [{
    Computes ToMe's merge plan from `metric : [B, N, Cm]` (ToMe uses the
    keys averaged over heads) and returns `parent : [B, N] i32`, the output
    row each input token goes to, and `count : [B] i32`, the number of
    output rows. The similarity matrix is never stored: each A token keeps a
    running (max, argmax) over the B tokens.

    Per batch row (ToMe's bipartite soft matching, Bolya et al. 2023, with
    every tie broken to the lower index):
    ```
    m_i     = metric_i / max(||metric_i||_2, 1e-12)   (fp32; a zero row has
                                                       similarity 0 to all)
    B       = every `stride`-th token: stride-1, 2 stride-1, ...  (N / stride)
    A       = the other tokens, in order; stride 2 (the default) is ToMe's
              alternating split (A = 0, 2, 4, ...; B = 1, 3, 5, ...), a
              larger stride its k-th split (`kth_bipartite_soft_matching`)
    S[a, b] = <m_A[a], m_B[b]>;   class_token: A[0] is never a source;
              distill_token: B[0] (token 1) is never a destination
    best[a], dst[a] = max_b S[a, b], the first maximal b (NaN never wins)
    rank    = A sorted by best descending, ties to the lower index
    sources = the first r' of rank, r' = min(r, (N - #protected) / 2) for
              stride 2, r' = min(r, |A| - #protected) for a larger stride
              (threshold: every a with best[a] > threshold, a data-
              dependent count, as DyMU)
    output  = A[unmerged] then B:  unmerged A tokens come in rank order, or
              in index order with class_token; B keeps its order
    parent  = its own output row for unmerged A and for B; the output row
              of B[dst[a]] for a source a
    ```
    `r' <= 0` is the identity: `parent[i] = i`, `count = N`, original
    order; so are `N <= 1` and a distillation token that leaves no eligible
    destination (`N = 3`). `count = N - r'` with a fixed `r`. A threshold
    that selects no source still reorders (unmerged A, then B). The class
    token ranks below every other A token, NaN rows included, so it is
    never chosen. A row whose similarities are all NaN has `best = -inf`
    and `dst` = the first eligible B token.

    The capacity of merged tensors downstream is `N - r'` for a fixed `r`
    and `N` for a threshold; the plan itself is `[B, N]`.

    **Order of sums**: norms and dot products add over the feature axis in
    eight interleaved lanes (lane l takes features l, l + 8, ... in order),
    then the lanes in order, on every target (docs/lowering.md); the
    matching itself (maxima, ranks) is exact.

    ```mlir
    %parent, %n = tok.bipartite_plan %keys {r = 16, class_token}
        : (tensor<256x197x64xf16>) -> (tensor<256x197xi32>, tensor<256xi32>)
    ```
  }];
  let arguments = (ins Tok_ChunkActivation:$metric,
                       OptionalAttr<I64Attr>:$r,
                       OptionalAttr<F64Attr>:$threshold,
                       Tok_Default<I64Attr, "2", "2">:$stride,
                       UnitAttr:$class_token, UnitAttr:$distill_token);
  let results = (outs Tok_I32Tensor:$parent, Tok_I32Tensor:$count);
  let assemblyFormat = [{
    $metric attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The number of protected tokens (class and distillation tokens).
    int64_t getNumProtected();
    /// r' for a fixed r: min(r, (N - protected) / 2), at least 0.
    int64_t getEffectiveR();
    /// The largest number of output rows the plan can produce.
    int64_t getMaxOutputRows();
  }];
}

//===----------------------------------------------------------------------===//
// tok.scatter_merge
//===----------------------------------------------------------------------===//

def Tok_ScatterMergeOp : Tok_Op<"scatter_merge",
    [Pure, AttrSizedOperandSegments, Tok_RowLocalOpInterface, DeclareOpInterfaceMethods<Tok_RaggedResultOpInterface>]> {
  let summary = "apply a merge plan to a bundle of token tensors";
  let description = [{
    Reduces every input token into output row `parent[b, i]` of each source
    (`[B, N, ...]`, token axis 1) and returns the merged sources
    `[B, C, ...]` and the merged sizes `[B, C] f32`: the sums of the
    optional `sizes : [B, N] f32` (1 per token without it), i.e. the token
    counts ToMe tracks for proportional attention (`log(size)` is the key
    bias). `count : [B] i32` bounds the output rows.

    ```
    n_b          = clamp(count[b], 0, C)
    members(j)   = { i : parent[b, i] == j },  j < n_b  (others are dropped)
    w_i          = sizes[b, i]  (1 without sizes, so weighted_mean = mean)
    sum          : sum_i x_i
    mean         : sum_i x_i / |members|
    weighted_mean: sum_i w_i x_i / sum_i w_i   (ToMe's merge_wavg)
    amax         : max_i x_i                   (NaN propagates)
    ```
    Sums accumulate in fp32 in ascending token order (no atomics, so the
    result is deterministic) and are rounded once to the source's element
    type. A row with exactly one member is copied unchanged, so unmerged
    tokens come back bit-exact. A row with no member, a weight sum of 0, or
    `j >= n_b` is 0; merged sizes are `sum_i w_i`.

    Un-merging (ToMe-SD's `unmerge`) is a gather through the same plan:
    `tok.compact %parent, %all gather(%merged)` with `%all` = N.

    **Order of sums**: each output row adds its sources in token order, on
    every target.

    ```mlir
    %x2, %size2 = tok.scatter_merge %parent, %n gather(%x) sizes %size
        {reduction = #tok.merge_reduction<weighted_mean>}
        : (tensor<256x197xi32>, tensor<256xi32>, tensor<256x197x768xf16>,
           tensor<256x197xf32>) -> (tensor<256x181x768xf16>, tensor<256x181xf32>)
    ```
  }];
  let arguments = (ins Tok_I32Tensor:$parent, Tok_I32Tensor:$count,
                       Variadic<Tok_ChunkActivation>:$sources,
                       Optional<Tok_F32Tensor>:$sizes,
                       Tok_Default<Tok_MergeReductionAttr,
                         "::winnow::tok::MergeReduction::weighted_mean", "#tok.merge_reduction<weighted_mean>">:$reduction);
  let results = (outs Variadic<Tok_ChunkActivation>:$merged,
                      Tok_F32Tensor:$merged_sizes);
  let assemblyFormat = [{
    $parent `,` $count `gather` `(` $sources `)` (`sizes` $sizes^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// tok.weighted_gather
//===----------------------------------------------------------------------===//

def Tok_WeightedGatherOp : Tok_Op<"weighted_gather",
    [Pure, Tok_RowLocalOpInterface]> {
  let summary = "many-to-many token transform with a sparse weight matrix";
  let description = [{
    Each output token is a weighted sum of at most `K` input tokens: the
    sparse many-to-many transform `Y = M X` of token transforming (merging
    and pruning as one linear map per image), with `M` given row by row as
    `indices : [B, M, K] i32` and `weights : [B, M, K] f32`. For
    `x : [B, N, D]` (f16, bf16 or f32) the result `y : [B, M, D]` has the
    element type of `x`:

    ```
    y[b, j, d] = sum over k = 0..K-1 with 0 <= indices[b, j, k] < N of
                 weights[b, j, k] * x[b, indices[b, j, k], d]
    ```
    The products and the sum are fp32, in ascending `k`, rounded once to
    the element type. An entry whose index is out of `[0, N)` (e.g. `-1`
    padding) contributes nothing, whatever its weight (NaN included); a row
    without a valid entry is 0. A one-hot row (one valid entry of weight 1)
    copies its token bit-exactly; a `tok.compact` gather is the special case
    `K = 1`, a `tok.scatter_merge` mean the case of weights `1 / |members|`.

    ```mlir
    %y = tok.weighted_gather %idx, %w gather(%x)
        : (tensor<8x144x4xi32>, tensor<8x144x4xf32>, tensor<8x576x1024xbf16>)
        -> tensor<8x144x1024xbf16>
    ```
  }];
  let arguments = (ins Tok_I32Tensor:$indices, Tok_F32Tensor:$weights,
                       Tok_ChunkActivation:$input);
  let results = (outs Tok_ChunkActivation:$output);
  let assemblyFormat = [{
    $indices `,` $weights `gather` `(` $input `)` attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // WINNOW_DIALECT_TOK_IR_MERGEOPS_TD
