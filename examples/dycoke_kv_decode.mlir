// DyCoke stage 2: decode-time dynamic KV selection of the visual tokens
// (docs/methods.md), from "DyCoke: Dynamic Compression of Tokens for Fast
// Video Large Language Models" (Tao et al.).
//
// At every decoding step, at the pruning layer, the attention of the
// current (last) query to the visual tokens, averaged over heads, picks the
// visual tokens whose KV entries the following attention uses: the top
// int(N_v * (1 - 0.7)) = int(784 * 0.3) = 235 of the N_v = 784 visual tokens,
// plus every non-visual token (system prompt before the video, text and
// generated tokens after it). The full cache is kept and the selection is
// recomputed at each step from all 784 visual tokens, so a token pruned at
// one step comes back when the current query attends to it (the paper's
// dynamic KV cache update): the recipe is one step's selection, a gather
// view of the full cache.
//
// LLaVA-OneVision-7B (Qwen2-7B) attention shapes at a CPU-cheap size: B = 2
// requests (ragged: `lengths`), H = 28 query heads, Hkv = 4 KV heads (query
// head h reads KV head h / 7), T = 1024 slots, d = 128, bf16. The visual
// tokens are slots [14, 798) (14 system-prompt tokens, then 784 video tokens
// after temporal merging); slots from 798 on are text and generated tokens.
//
// Scores: p_h[j] = exp(q_h . k_{h/7, j} / sqrt(d) - lse_h) with the row's
// log-sum-exp from the step's attention kernel (its softmax ran over the
// whole row; the recipe is given the whole valid cache, so the lse only
// spares tok.attn_score its softmax-statistics pass), score[j] = mean over
// the 28 heads (tok.attn_score, lse, reduction = mean). tok.select
// top_k<235> with span [14, 798] keeps the 235 best valid visual tokens
// (ties to the lower slot) and passes every valid slot outside the span
// through: capacity C = (1024 - 784) + 235 = 475. A
// request whose length ends inside the video keeps min(235, its visual
// tokens); length 0 keeps nothing. The slot list is shared by all heads
// (broadcast over the 4 KV heads for tok.kv_gather).
//
// Positions: the gathered entries keep their original positions
// (position_mode = original): DyCoke attends to a subset of the full cache,
// whose keys were rotated at their original positions.
//
// Where it departs from the paper / reference code: the reference recomputes
// the selection only when the cosine similarity of the current and the
// previous step's visual attention falls below 0.9 (otherwise it reuses the
// previous selection); the recipe always recomputes (a caller wanting the
// gate compares `scores` with tok.row_cosine). The reference's topk is
// unsorted; here kept slots are ascending. The reference reads eager
// attention weights; the recipe recomputes the one row from the lse (same
// probabilities). Batches are ragged instead of batch size 1.
//
//   lengths  [B]                i32   tokens in each request's cache
//   query    [B, 28, 1, 128]    bf16  the current query of every head
//   keys     [B, 4, 1024, 128]  bf16  post-RoPE keys (the full cache)
//   values   [B, 4, 1024, 128]  bf16
//   lse      [B, 28, 1]         f32   the current row's log-sum-exp per head
// -> scores [B, 1024] f32 (head-mean attention of the current query; 0 past
//    the length), indices [B, 475] i32 (ascending, -1 padded), kept [B] i32,
//    slots [B, 4, 475] i32 (indices for every KV head), count [B, 4] i32,
//    kept keys / values [B, 4, 475, 128] bf16 (0 padded), positions
//    [B, 4, 475] i32 (original slots, -1 padded).
//
// Run: test/oracle/run_kv_methods.py (checks against kv_methods_oracle.py).

func.func @dycoke_kv_decode(
    %len: tensor<2xi32> {tok.name = "lengths"},
    %q: tensor<2x28x1x128xbf16> {tok.name = "query"},
    %k: tensor<2x4x1024x128xbf16> {tok.name = "keys"},
    %v: tensor<2x4x1024x128xbf16> {tok.name = "values"},
    %lse: tensor<2x28x1xf32> {tok.name = "lse"})
    -> (tensor<2x1024xf32> {tok.name = "scores"},
        tensor<2x475xi32> {tok.name = "indices"},
        tensor<2xi32> {tok.name = "kept"},
        tensor<2x4x475xi32> {tok.name = "slots"},
        tensor<2x4xi32> {tok.name = "count"},
        tensor<2x4x475x128xbf16> {tok.name = "kept_keys"},
        tensor<2x4x475x128xbf16> {tok.name = "kept_values"},
        tensor<2x4x475xi32> {tok.name = "positions"}) {
  // Head-mean attention of the current query over the whole cache.
  %s = tok.attn_score %q, %k lengths %len lse %lse
      : (tensor<2x28x1x128xbf16>, tensor<2x4x1024x128xbf16>, tensor<2xi32>,
         tensor<2x28x1xf32>) -> tensor<2x1024xf32>
  // Top 235 of the visual tokens; everything else valid passes through.
  %idx, %n = tok.select #tok.top_k<235> of %s lengths %len span [14, 798]
      : (tensor<2x1024xf32>, tensor<2xi32>) -> (tensor<2x475xi32>, tensor<2xi32>)
  // The same slots for every KV head.
  %e_slots = tensor.empty() : tensor<2x4x475xi32>
  %slots = linalg.broadcast ins(%idx : tensor<2x475xi32>)
      outs(%e_slots : tensor<2x4x475xi32>) dimensions = [1]
  %e_n = tensor.empty() : tensor<2x4xi32>
  %n_h = linalg.broadcast ins(%n : tensor<2xi32>)
      outs(%e_n : tensor<2x4xi32>) dimensions = [1]
  %k2, %v2, %pos = tok.kv_gather %slots, %n_h gather(%k, %v)
      {position_mode = #tok.position_mode<original>}
      : (tensor<2x4x475xi32>, tensor<2x4xi32>, tensor<2x4x1024x128xbf16>,
         tensor<2x4x1024x128xbf16>)
      -> (tensor<2x4x475x128xbf16>, tensor<2x4x475x128xbf16>, tensor<2x4x475xi32>)
  return %s, %idx, %n, %slots, %n_h, %k2, %v2, %pos
      : tensor<2x1024xf32>, tensor<2x475xi32>, tensor<2xi32>, tensor<2x4x475xi32>,
        tensor<2x4xi32>, tensor<2x4x475x128xbf16>, tensor<2x4x475x128xbf16>,
        tensor<2x4x475xi32>
}
