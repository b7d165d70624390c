//===- DiversityOps.td - Diversity-based selection -----------*- tablegen -*-===//
//
// Selection for diversity instead of importance (ops-reference §1.3(d)(e)):
// greedy k-center (ToDRE, GreedyPrune).
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_DIALECT_TOK_IR_DIVERSITYOPS_TD
#define WINNOW_DIALECT_TOK_IR_DIVERSITYOPS_TD

include "winnow/Dialect/Tok/IR/TokAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonTypeConstraints.td"

def Tok_KCenterOp : Tok_Op<"k_center", [Pure, AttrSizedOperandSegments]> {
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

#endif // WINNOW_DIALECT_TOK_IR_DIVERSITYOPS_TD
