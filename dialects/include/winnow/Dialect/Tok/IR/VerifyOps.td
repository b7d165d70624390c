//===- VerifyOps.td - Speculative verification ---------------*- tablegen -*-===//
//
// The speculative-verification family (speculative decoding, Leviathan et al.
// 2023 and Chen et al. 2023; Medusa; EAGLE): accept a prefix of draft tokens
// against the target model's logits, then emit the correction or bonus token.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_DIALECT_TOK_IR_VERIFYOPS_TD
#define WINNOW_DIALECT_TOK_IR_VERIFYOPS_TD

include "winnow/Dialect/Tok/IR/TokAttrs.td"
include "winnow/Dialect/Tok/IR/TokInterfaces.td"
include "winnow/Dialect/Tok/IR/TokTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonTypeConstraints.td"

def Tok_I64Tensor : Tok_BatchedTensorOf<[I64]>;

def Tok_SpecVerifyOp : Tok_Op<"spec_verify",
    [Pure, AttrSizedOperandSegments, DeclareOpInterfaceMethods<Tok_RaggedResultOpInterface>]> {
  let summary = "chain speculative verification: greedy, rejection, typical";
  let description = [{
    Verifies a chain of `K_b` draft tokens per request against the target
    model and emits the accepted prefix plus one more token (the correction
    at the first rejection, or the bonus token when every draft passes).

    Operands:
    * `logits : [B, K+1, V]` (f16, bf16 or f32): target logits; row `i` of
      request `b` verifies draft `i`, and row `num_draft[b]` is the bonus
      row (rows after it are never read);
    * `drafts : [B, K] i32`, `num_draft : [B] i32` (clamped to `[0, K]`);
    * `draft_probs : [B, K, V] f32` (rejection mode only; without it drafts
      are one-hot, as from n-gram, Medusa or EAGLE top-k drafters);
    * `temperature : [B] f32` (default 1); `is_greedy : [B] i1`;
    * noise, either explicit `uniforms : [B, K] f32` and
      `exponentials : [B, V] f32`, or `seed : [B] i64` and
      `offset : [B] i64` for the built-in Philox generator (below).

    Results: `tokens : [B, K+1] i32` padded with `-1`, `num_accepted` and
    `num_emitted` (`= num_accepted + 1`), both `[B] i32`.

    With the unit attribute `target_probs`, the first operand holds the
    target's **probabilities** (f32), as engines pass them after their own
    temperature, top-k and top-p (FlashInfer's
    `chain_speculative_sampling`, vLLM's rejection sampler): `p_i` below is
    `logits[b, i]` as given, with no softmax, no log-sum-exp and no
    exp/log round trip, so `p(x) / q(x) >= u` is decided on the caller's
    fp32 values exactly. There is no `temperature` operand then (a request
    is greedy by `mode` or `is_greedy`), greedy rows take the argmax of the
    probabilities, and the probabilities are not renormalised.

    Per request, with `p_i = softmax(logits[b, i] / T_b)` in fp32 and
    `race(w) = argmax_v w_v / E[b, v]` (the exponential race; first index on
    ties; NaN never wins; one `E[b]` per request serves the correction, the
    all-zero fallback and the bonus token, at most one of which is used):
    * a request is **greedy** when `mode = greedy`, `is_greedy[b]`, or
      `T_b` is not positive; it emits `argmax_v logits[b, i, v]` (ties to the
      lowest id) at each row up to and including the first row whose argmax
      differs from the draft, plus the bonus argmax if all match. Greedy
      requests ignore `draft_probs`, `uniforms` and `exponentials`.
    * **rejection** (lossless): draft `x` passes iff `0 <= x < V`,
      `q(x) > 0`, `p(x) > 0` and `p(x) / q(x) >= u[b, i]` in fp32 (with
      one-hot drafts `q(x) = 1`). At the first failure it emits
      `race(max(p - q, 0))` (one-hot: `p` with `p(x)` masked to 0); if that
      residual is identically 0 it emits `race(p)` instead. After `K_b`
      passes it emits the bonus `race(p_{K_b})`.
    * **typical** (Medusa): draft `x` passes iff `0 <= x < V` and
      `p(x) > min(typical_epsilon, typical_alpha * exp(-H(p)))`, strictly,
      with `H(p) = -sum_v p_v log(p_v + 1e-5)`. Medusa's
      `posterior_threshold` is `typical_epsilon` (default 0.09) and its
      `posterior_alpha` is `typical_alpha` (default 0.3). The token
      after the accepted prefix is `race(p)` of that row. Uniforms are not
      used.

    Philox noise (identical on every target): with Philox4x32-10,
    `key = (lo32(seed[b]), hi32(seed[b]))` and counter
    `(n, stream, lo32(offset[b]), hi32(offset[b]))`, let `w` be the first
    output word. Then `u[b, i] = (w >> 8) * 2^-24` with `n = i`,
    `stream = 0`, and `E[b, v] = -log(((w >> 8) + 0.5) * 2^-24)`, evaluated
    in f64 and rounded to f32 (so it is always > 0), with `n = v`,
    `stream = 1`.

    **Order of sums** (the same on every target and for any batch): a row
    is cut into chunks of 256 entries. In a chunk, lane `l` of 32 adds its
    entries `8l, ..., 8l + 7` (those inside the row) in order from +0, and
    the 32 lane sums meet in a fixed tree: lane `l` takes lane `l + d` for
    `d = 16, 8, 4, 2, 1` (`collective.warp_reduce`'s). The chunks' results
    meet the same way: lane `l` adds chunks `l, l + 32, ...` in order, then
    the tree. The log-sum-exp scales each chunk by its own maximum:
    `m_c = max(x) / T` over the chunk (NaN ignored), `s_c` the chunk's sum
    of `exp(x / T - m_c)` (`- 0` when `m_c` is -inf), `M` the largest `m_c`,
    and `lse = M + log(sum of s_c exp(m_c - M))`; a row whose entries are
    all -inf or NaN, or that holds NaN or +inf, gets a NaN log-sum-exp. The
    entropy adds its terms in the same order. Maxima, argmaxes and races
    are exact. exp and log are Winnow's own (`tok-portable-exp-log`). So an
    acceptance decision never depends on the target or on the other
    requests of the batch, and a GPU spreads one row over many warps.

    ```mlir
    %tok, %acc, %emit = tok.spec_verify %logits, %drafts, %nd
        draft_probs %q temperature %t seed %seed offset %off
        {mode = #tok.verify_mode<rejection>}
        : (tensor<64x5x128256xbf16>, tensor<64x4xi32>, tensor<64xi32>,
           tensor<64x4x128256xf32>, tensor<64xf32>, tensor<64xi64>,
           tensor<64xi64>)
        -> (tensor<64x5xi32>, tensor<64xi32>, tensor<64xi32>)
    ```

    The same verification on probabilities the engine computed:

    ```mlir
    %tok, %acc, %emit = tok.spec_verify %probs, %drafts, %nd draft_probs %q seed %seed offset %off
        {target_probs}
        : (tensor<64x5x128256xf32>, tensor<64x4xi32>, tensor<64xi32>,
           tensor<64x4x128256xf32>, tensor<64xi64>, tensor<64xi64>)
        -> (tensor<64x5xi32>, tensor<64xi32>, tensor<64xi32>)
    ```
  }];
  let arguments = (ins
    Tok_ChunkActivation:$logits, Tok_I32Tensor:$drafts,
    Tok_I32Tensor:$num_draft,
    Optional<Tok_F32Tensor>:$draft_probs,
    Optional<Tok_F32Tensor>:$temperature,
    Optional<Tok_BoolTensor>:$is_greedy,
    Optional<Tok_F32Tensor>:$uniforms,
    Optional<Tok_F32Tensor>:$exponentials,
    Optional<Tok_I64Tensor>:$seed,
    Optional<Tok_I64Tensor>:$offset,
    UnitAttr:$target_probs,
    Tok_Default<Tok_VerifyModeAttr,
                      "::winnow::tok::VerifyMode::rejection", "#tok.verify_mode<rejection>">:$mode,
    Tok_Default<F64Attr, "0.09", "0.09">:$typical_epsilon,
    Tok_Default<F64Attr, "0.3", "0.3">:$typical_alpha);
  let results = (outs Tok_I32Tensor:$tokens, Tok_I32Tensor:$num_accepted,
                      Tok_I32Tensor:$num_emitted);
  let assemblyFormat = [{
    $logits `,` $drafts `,` $num_draft
    (`draft_probs` $draft_probs^)? (`temperature` $temperature^)?
    (`is_greedy` $is_greedy^)? (`uniforms` $uniforms^)?
    (`exponentials` $exponentials^)? (`seed` $seed^)? (`offset` $offset^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tok_TreeVerifyOp : Tok_Op<"tree_verify",
    [Pure, AttrSizedOperandSegments, DeclareOpInterfaceMethods<Tok_RaggedResultOpInterface>]> {
  let summary = "token-tree verification (Medusa, EAGLE, Token Recycling)";
  let description = [{
    Verifies a tree of draft tokens per request in one pass over the target
    logits of its nodes and returns the longest accepted root-to-leaf
    prefix, the next token, and the tree nodes to keep in the KV cache.

    Operands: `logits : [B, T, V]` (row `i` is the target distribution after
    node `i`), `tree_tokens : [B, T] i32` (node 0 is the root, the last
    committed token), `parents : [B, T] i32`, `num_nodes : [B] i32`
    (clamped to `[1, T]`; nodes past it are padding and never read); for
    `typical` and `rejection` modes, noise as in `tok.spec_verify`
    (`exponentials : [B, V]`, plus `uniforms : [B, T]` for rejection,
    indexed by child node; or `seed`/`offset`, the uniform of child node
    `i` being Philox counter `n = i`) and an optional `temperature : [B] f32`.
    A request whose temperature is not positive (or NaN) is verified
    greedily in every mode, as in `tok.spec_verify`.

    Semantics:
    ```
    node i >= 1 is in the tree iff 0 <= parents[i] < i and its parent is
              in the tree
    match(i)  = greedy : tree_tokens[i] == argmax_v logits[parent(i), v]
                typical: tree_tokens[i] passes the Medusa test of
                         p = softmax(logits[parent(i)] / T)   (spec_verify)
                (a token of -1, or outside [0, V), never matches)
    ok(0) = true,  ok(i) = ok(parent(i)) and match(i)
    every leaf (a tree node without children) scores the number of ok
    nodes on its path below the root
    best  = the highest-scoring leaf; ties: (typical) the larger sum of
            log p over the accepted prefix, then the lower leaf index
    ```
    Results (capacity `C >= T`, padded with `-1`):
    * `tokens : [B, C] i32`: the accepted tokens below the root, then the
      next token: `argmax` (greedy) or the exponential race over `p`
      (typical) of the last accepted node's row;
    * `accept_nodes : [B, C] i32`: the root and the accepted nodes, in
      depth order: the KV slots to compact (`prefix_len + node`);
    * `num_accepted : [B] i32` (the best score) and `num_emitted`
      (`num_accepted + 1`);
    * optionally `best_leaf : [B] i32`: the winning path, named by its
      leaf node. Paths are enumerated by ascending leaf index (Medusa's
      `best_candidate` is the rank of this leaf among the tree's leaves).
      Greedy and typical: `best` above. Rejection: the first leaf (lowest
      index) below the node where the walk stopped, i.e. the first path
      that contains every walked node (the stop node itself when it is a
      leaf).

    This is path semantics, as Medusa's and EAGLE's `evaluate_posterior`,
    not a first-matching-child walk: the two differ when a node has
    duplicate children.

    `rejection` is the lossless sampling walk of SpecInfer / EAGLE for
    deterministic (one-hot) children: starting at the root with
    `r = p_root`, the children of the current node are tried in index
    order; child `c` with token `x` passes iff `r(x) > 0` and
    `r(x) >= u[c] * Z`, where `Z = 1 - (p mass of the node's children
    already rejected)` normalises `r`. A passing child becomes the current
    node (`r` = its row's `p`); a failing child's token is removed from `r`
    (masked, never mutated), and a repeated token is skipped. When no child
    passes (a leaf included), the walk emits `race(r)` and stops. The
    emitted tokens are the walked nodes' tokens then that sample; the
    accepted nodes are the walked nodes.

    **Order of sums**: as `tok.spec_verify` (chunks of 256 entries, each
    scaled by its own maximum, lanes and chunks meeting in the fixed warp
    tree; Winnow's own exp and log), so the accepted path is the same on
    every target and for any batch.

    ```mlir
    %tok, %nodes, %acc, %emit = tok.tree_verify %logits, %tree, %parents, %n
        {mode = #tok.verify_mode<greedy>}
        : (tensor<4x64x32000xbf16>, tensor<4x64xi32>, tensor<4x64xi32>,
           tensor<4xi32>)
        -> (tensor<4x64xi32>, tensor<4x64xi32>, tensor<4xi32>, tensor<4xi32>)
    ```

    With the winning path's leaf as a fifth result:

    ```mlir
    %tok, %nodes, %acc, %emit, %leaf = tok.tree_verify %logits, %tree, %parents, %n
        : (tensor<4x64x32000xbf16>, tensor<4x64xi32>, tensor<4x64xi32>,
           tensor<4xi32>)
        -> (tensor<4x64xi32>, tensor<4x64xi32>, tensor<4xi32>, tensor<4xi32>,
            tensor<4xi32>)
    ```
  }];
  let arguments = (ins
    Tok_ChunkActivation:$logits, Tok_I32Tensor:$tree_tokens,
    Tok_I32Tensor:$parents, Tok_I32Tensor:$num_nodes,
    Optional<Tok_F32Tensor>:$temperature,
    Optional<Tok_F32Tensor>:$uniforms,
    Optional<Tok_F32Tensor>:$exponentials,
    Optional<Tok_I64Tensor>:$seed,
    Optional<Tok_I64Tensor>:$offset,
    Tok_Default<Tok_VerifyModeAttr,
                      "::winnow::tok::VerifyMode::greedy", "#tok.verify_mode<greedy>">:$mode,
    Tok_Default<F64Attr, "0.09", "0.09">:$typical_epsilon,
    Tok_Default<F64Attr, "0.3", "0.3">:$typical_alpha);
  let results = (outs Tok_I32Tensor:$tokens, Tok_I32Tensor:$accept_nodes,
                      Tok_I32Tensor:$num_accepted, Tok_I32Tensor:$num_emitted,
                      Optional<Tok_I32Tensor>:$best_leaf);
  let assemblyFormat = [{
    $logits `,` $tree_tokens `,` $parents `,` $num_nodes
    (`temperature` $temperature^)? (`uniforms` $uniforms^)?
    (`exponentials` $exponentials^)?
    (`seed` $seed^)? (`offset` $offset^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // WINNOW_DIALECT_TOK_IR_VERIFYOPS_TD
