//===- ClusterOps.td - Similarity, clustering, components ----*- tablegen -*-===//
//
// The correlate step of merging methods that group tokens by similarity
// instead of bipartite matching: per-position
// temporal similarity (DyCoke, HoliTom), density-peak clustering (DPC-kNN:
// SparseVLM recycling, PruneVid, HoliTom) and connected components of a
// thresholded similarity graph (LLaVA-Scissor). Each returns a plan in the
// form `tok.scatter_merge` applies (`parent` + `count`), or a similarity.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_DIALECT_TOK_IR_CLUSTEROPS_TD
#define WINNOW_DIALECT_TOK_IR_CLUSTEROPS_TD

include "winnow/Dialect/Tok/IR/TokAttrs.td"
include "winnow/Dialect/Tok/IR/TokTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonTypeConstraints.td"

def Tok_RowCosineOp : Tok_Op<"row_cosine", [Pure]> {
  let summary = "cosine similarity of matching rows of two tensors";
  let description = [{
    `out[...] = <n(lhs[..., :]), n(rhs[..., :])>` over the last axis, with
    `n(x) = x / max(||x||_2, 1e-12)` (a zero row has similarity 0), in fp32.
    With the frames of a video as `lhs = x[:, t]` and `rhs = x[:, t+1]` this
    is DyCoke's and HoliTom's per-position temporal similarity.

    **Order of sums**: norms and dot products add over the feature axis in
    order, on every target.

    ```mlir
    %sim = tok.row_cosine %frames_a, %frames_b
        : (tensor<1x16x196x3584xbf16>, tensor<1x16x196x3584xbf16>) -> tensor<1x16x196xf32>
    ```
  }];
  let arguments = (ins Tok_ChunkActivation:$lhs, Tok_ChunkActivation:$rhs);
  let results = (outs Tok_F32Tensor:$similarity);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tok_DensityPeaksOp : Tok_Op<"density_peaks", [Pure]> {
  let summary = "DPC-kNN clustering into a merge plan";
  let description = [{
    Clusters the valid tokens of `input : [B, N, C]` around `clusters`
    density peaks (DPC-kNN) and returns a plan for `tok.scatter_merge`:
    `parent : [B, N] i32` (the cluster of each token, `-1` for padding) and
    `count : [B] i32` (`min(clusters, len_b)`). Distances are recomputed
    rather than stored (no `N x N` matrix):

    ```
    dist(i, j) = ||x_i - x_j||_2 / sqrt(C)                         (fp32)
    rho_i      = exp(-mean of dist(i, j)^2 over the k nearest valid
                 j, i itself included, nearer first, ties to the lower j)
    denser(j, i) = rho_j > rho_i, or rho_j == rho_i and j < i
    delta_i    = min dist(i, j) over denser j; for the densest token,
                 max dist(i, j) over all valid j
    centers    = the `clusters` largest rho_i * delta_i, larger first,
                 ties to the lower index; cluster c = the c-th center
    parent[i]  = the cluster whose center is nearest to x_i (ties to the
                 lower cluster); a center belongs to its own cluster
    ```
    Ties by index replace the random density noise SparseVLM adds, so the
    plan is deterministic. With `mean` reduction, `tok.scatter_merge` then
    yields each cluster's mean, in center order.

    ```mlir
    %parent, %n = tok.density_peaks %tokens lengths %len {k = 5, clusters = 64}
        : (tensor<1x1568x3584xbf16>, tensor<1xi32>) -> (tensor<1x1568xi32>, tensor<1xi32>)
    ```
  }];
  let arguments = (ins Tok_ChunkActivation:$input,
                       Optional<Tok_I32Tensor>:$lengths,
                       I64Attr:$k, I64Attr:$clusters);
  let results = (outs Tok_I32Tensor:$parent, Tok_I32Tensor:$count);
  let assemblyFormat = [{
    $input (`lengths` $lengths^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tok_SimilarityComponentsOp : Tok_Op<"similarity_components", [Pure]> {
  let summary = "connected components of a thresholded cosine-similarity graph";
  let description = [{
    LLaVA-Scissor's semantic connected components, computed exactly (the
    reference samples nodes at random): valid tokens `i` and `j` of
    `input : [B, N, C]` are connected when `cos(x_i, x_j) > threshold`
    (fp32, zero rows have similarity 0), and the components of that graph
    become a merge plan: `parent : [B, N] i32` numbers the components in
    order of their lowest token index (`-1` for padding) and
    `count : [B] i32` is their number (data dependent, at most `len_b`).
    The similarity graph is never stored.

    ```mlir
    %parent, %n = tok.similarity_components %frame {threshold = 0.95}
        : (tensor<32x196x3584xbf16>) -> (tensor<32x196xi32>, tensor<32xi32>)
    ```
  }];
  let arguments = (ins Tok_ChunkActivation:$input,
                       Optional<Tok_I32Tensor>:$lengths,
                       F64Attr:$threshold);
  let results = (outs Tok_I32Tensor:$parent, Tok_I32Tensor:$count);
  let assemblyFormat = [{
    $input (`lengths` $lengths^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // WINNOW_DIALECT_TOK_IR_CLUSTEROPS_TD
