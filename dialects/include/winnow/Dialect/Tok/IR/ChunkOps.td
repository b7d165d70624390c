//===- ChunkOps.td - Chunking: boundaries, pooling, dechunk -*- tablegen -*-===//
//
// The chunking family (H-Net's dynamic chunking, Hwang, Wang and Gu 2025):
// boundary prediction from adjacent projected states, pooling of the segments
// the boundaries delimit, the EMA that smooths chunk outputs, and the expansion
// back to every token.
//
// Segment rule shared by every op here: within the valid prefix of a row,
// position 0 always starts a segment (H-Net's p_0 = 1, the first word of a
// text), and every other boundary starts the next one. Padding is never a
// boundary and belongs to no segment.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_DIALECT_TOK_IR_CHUNKOPS_TD
#define WINNOW_DIALECT_TOK_IR_CHUNKOPS_TD

include "winnow/Dialect/Tok/IR/TokAttrs.td"
include "winnow/Dialect/Tok/IR/TokInterfaces.td"
include "winnow/Dialect/Tok/IR/TokTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonTypeConstraints.td"



//===----------------------------------------------------------------------===//
// tok.boundary
//===----------------------------------------------------------------------===//

def Tok_BoundaryOp : Tok_Op<"boundary", [Pure, Tok_RowLocalOpInterface]> {
  let summary = "H-Net routing: boundary probabilities from adjacent states";
  let description = [{
    Predicts where a new chunk starts from the cosine similarity of each
    token's key with the previous token's query, as H-Net's routing module
    does. Operands are the projected streams `queries = W_q h` and
    `keys = W_k h`, both `[B, L, D]` and row-aligned, and optional
    `lengths : [B] i32`. Results are `probs : [B, L] f32` and
    `boundaries : [B, L] i1`.

    ```
    len_b       = clamp(lengths[b], 0, L)        (L when lengths is absent)
    n(x)        = x / max(||x||_2, 1e-12)         (a zero vector becomes 0)
    p[b, 0]     = 1                               if len_b >= 1
    p[b, t]     = clamp((1 - <n(q[b, t-1]), n(k[b, t])>) / 2, 0, 1)   0 < t < len_b
    p[b, t]     = 0                               t >= len_b (padding)
    boundary    = p > 0.5                         (0.5 exactly is not one)
    ```
    Norms and dot products accumulate in fp32. The previous token's query
    meets the current token's key, never the other way round.

    ```mlir
    %p, %b = tok.boundary %q, %k lengths %len
        : (tensor<8x8192x1024xbf16>, tensor<8x8192x1024xbf16>, tensor<8xi32>)
        -> (tensor<8x8192xf32>, tensor<8x8192xi1>)
    ```
  }];
  let arguments = (ins Tok_ChunkActivation:$queries, Tok_ChunkActivation:$keys,
                       Optional<Tok_I32Tensor>:$lengths);
  let results = (outs Tok_F32Tensor:$probs, Tok_BoolTensor:$boundaries);
  let assemblyFormat = [{
    $queries `,` $keys (`lengths` $lengths^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// tok.segment_reduce
//===----------------------------------------------------------------------===//

def Tok_SegmentReduceOp : Tok_Op<"segment_reduce", [Pure, Tok_RowLocalOpInterface,
    DeclareOpInterfaceMethods<Tok_RaggedResultOpInterface>]> {
  let summary = "pool the tokens of each boundary-delimited segment";
  let description = [{
    Pools `input : [B, L, D]` over the segments that `boundaries : [B, L]`
    delimits (see the segment rule at the top of this family) into a ragged
    set: `output : [B, C, D]` and `count : [B] i32`, the number of segments
    of each row. Segment `j` of row `b` covers `[s_j, s_{j+1})`, where the
    `s` are 0 and the boundary positions below `len_b`, and the last
    segment ends at `len_b`.

    Reductions: `first` (the segment's first row: H-Net's chunk selection),
    `mean` (dynamic token pooling, word pooling), `max` (NaN propagates),
    `sum`. `mean` and `sum` accumulate in fp32 in token order and round once
    to the element type. Rows `j >= count[b]` are 0. A row of length 0 has no
    segment.

    The capacity `C` must be at least `L` (every token can start a
    segment); the verifier rejects a smaller one.

    **Order of sums**: a segment's tokens are added in token order (then
    divided for `mean`), on every target.

    ```mlir
    %words, %n = tok.segment_reduce %bytes, %spaces lengths %len
        {reduction = #tok.segment_reduction<mean>}
        : (tensor<4x512x256xf32>, tensor<4x512xi1>, tensor<4xi32>)
        -> (tensor<4x512x256xf32>, tensor<4xi32>)
    ```
  }];
  let arguments = (ins
    Tok_ChunkActivation:$input, Tok_BoolTensor:$boundaries,
    Optional<Tok_I32Tensor>:$lengths,
    Tok_Default<Tok_SegmentReductionAttr,
                      "::winnow::tok::SegmentReduction::first", "#tok.segment_reduction<first>">:$reduction);
  let results = (outs Tok_ChunkActivation:$output, Tok_I32Tensor:$count);
  let assemblyFormat = [{
    $input `,` $boundaries (`lengths` $lengths^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// tok.ema_scan
//===----------------------------------------------------------------------===//

def Tok_EmaScanOp : Tok_Op<"ema_scan", [Pure,
    DeclareOpInterfaceMethods<Tok_RowLocalOpInterface, ["canStreamInto"]>,
    DeclareOpInterfaceMethods<Tok_RaggedResultOpInterface>]> {
  let summary = "H-Net dechunk smoothing: an EMA over each row's chunks";
  let description = [{
    The linear recurrence H-Net's dechunk layer runs over the chunk
    sequence, reset at the start of every batch row. Operands: chunk outputs
    `input : [B, C, D]`, gates `gates : [B, C] f32` (the boundary
    probability of each chunk's first token) and `count : [B] i32`.

    ```
    n_b     = clamp(count[b], 0, C)
    P_j     = clamp(gates[b, j], epsilon, 1 - epsilon)
    zbar_j  = P_j * input[b, j] + (1 - P_j) * zbar_{j-1},   zbar_{-1} = 0
    out[b, j] = zbar_j   for j < n_b,   0 otherwise
    ```
    Computed and returned in fp32. `epsilon` defaults to H-Net's `1e-4`;
    because `p_0 = 1`, the first chunk comes out scaled by `1 - epsilon`.
    A NaN gate propagates into every later chunk of its row.

    The fp32 evaluation order is part of the op, fixed by the static
    `scan_block` (S, default 64) so that every target and every batch
    composition gives the same bits. The chunks are taken in blocks of S;
    inside a block the recurrence restarts from 0 and the decay is
    multiplied up, and each block is joined to the previous block's last
    value in one step:

    ```
    L_j    = P_j * input[b, j] + (1 - P_j) * L_{j-1}   (L = 0 before a block)
    Q_j    = (1 - P_j) * Q_{j-1}                       (Q = 1 before a block)
    zbar_j = L_j                              in the first block (j < S)
           = Q_j * zbar_{sS-1} + L_j          in block s >= 1 (sS <= j < sS+S)
    ```
    Every operation rounds to fp32 in the order written (products first, no
    fused multiply-add). In real arithmetic this is the recurrence above; in
    fp32 the last bits differ from a chunk-by-chunk walk, which is what
    `scan_block >= C` computes. With blocks a GPU scans the S chunks of
    every block in parallel and joins the blocks in `ceil(n_b / S)` steps
    (Mamba-2's chunked scan, which H-Net's reference uses, is the same idea).

    ```mlir
    %zbar = tok.ema_scan %z, %p, %n
        : (tensor<8x8192x1024xbf16>, tensor<8x8192xf32>, tensor<8xi32>)
        -> tensor<8x8192x1024xf32>
    ```
  }];
  let arguments = (ins Tok_ChunkActivation:$input, Tok_F32Tensor:$gates,
                       Tok_I32Tensor:$count,
                       Tok_Default<F64Attr, "1.0e-4", "1.0e-4">:$epsilon,
                       Tok_Default<I64Attr, "64", "64">:$scan_block);
  let results = (outs Tok_F32Tensor:$output);
  let assemblyFormat = [{
    $input `,` $gates `,` $count attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// tok.expand
//===----------------------------------------------------------------------===//

def Tok_ExpandOp : Tok_Op<"expand", [Pure, AttrSizedOperandSegments,
    Tok_RowLocalOpInterface]> {
  let summary = "plug segment values back into every token (dechunk)";
  let description = [{
    The inverse of `tok.segment_reduce`: every valid token receives the
    value of the segment it belongs to, optionally plus a residual, as
    H-Net's dechunk plug-back and word-pooling's upsampling do. Operands:
    `input : [B, C, D]` (one row per segment), `boundaries : [B, L] i1`,
    optional `lengths : [B] i32`, optional `residual : [B, L, D]`.

    ```
    c(t)         = (number of segment starts s <= t) - 1   (segment rule above)
    out[b, t]    = input[b, c(t)] (+ residual[b, t])     t < len_b and c(t) < C
                 = 0                                      otherwise
    ```
    With a residual the sum is formed in fp32 and rounded once to the
    residual's element type, which is then the result's; without one the
    result has the input's element type. The expanded tensor is the only
    thing written: `[B, L, D]` once.

    ```mlir
    %out = tok.expand %zbar, %b lengths %len residual %h
        : (tensor<8x8192x1024xf32>, tensor<8x8192xi1>, tensor<8xi32>,
           tensor<8x8192x1024xbf16>) -> tensor<8x8192x1024xbf16>
    ```
  }];
  let arguments = (ins Tok_ChunkActivation:$input, Tok_BoolTensor:$boundaries,
                       Optional<Tok_I32Tensor>:$lengths,
                       Optional<Tok_ChunkActivation>:$residual);
  let results = (outs Tok_ChunkActivation:$output);
  let assemblyFormat = [{
    $input `,` $boundaries (`lengths` $lengths^)? (`residual` $residual^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // WINNOW_DIALECT_TOK_IR_CHUNKOPS_TD
