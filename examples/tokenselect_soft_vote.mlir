// TokenSelect dynamic token-level KV selection (docs/methods.md), from
// "TokenSelect: Efficient Long-Context Inference and Length Extrapolation
// for LLMs via Dynamic Token-Level KV Cache Selection" (Wu et al.).
//
// One decode step of one layer, Qwen2-7B attention shapes at a CPU-cheap
// cache size: B = 2 requests (ragged: `lengths`), H = 28 query heads, Hkv =
// 4 KV heads (grouped-query attention: query head h reads KV head h / 7),
// T = 1024 cache slots, head dim d = 128, bf16.
//
// Criticality and head soft vote (the paper's selection rule):
//   c_h[j] = softmax_j(q_h . k_{h/7, j} / sqrt(d))  over the valid slots
//            j < lengths[b] (each head normalised on its own),
//   S[j]   = sum over the 28 heads of c_h[j],
// computed by one tok.attn_score (no lse: the softmax is renormalised over
// the cache it is given, reduction = sum). The vote is shared: every head
// attends to the same tokens, so S is broadcast over the 4 KV heads and
// tok.kv_select keeps, per request, the first 32 tokens (initial tokens),
// the last 128 (local window) and the 256 other tokens with the largest S
// (ties to the lower slot): C = 32 + 128 + 256 = 416. A request of at most
// 416 tokens keeps everything; a request of length 0 keeps nothing.
// The 32 / 128 / 256 budgets are scaled down from long-context settings.
//
// Positions: the cache holds post-RoPE keys (so q . k is the logit the
// attention kernel computes), and the kept entries keep their original
// positions (position_mode = original).
//
// Where it departs from the paper: the Selection Cache (reusing the
// previous query's selection when consecutive queries are similar) and the
// paged dot-product kernel are implementation, not selection semantics, and
// are not modelled; the recipe is one selection. Each head's softmax runs
// over all valid cached tokens, the initial and local ones included (the
// `K` of the paper's soft-vote equation is the whole cache). The
// length-extrapolation position scheme for contexts beyond the trained
// length is not reproduced: a caller with pre-RoPE keys would gather with
// position_mode = reindexed instead (criticality on unrotated keys).
// Kept slots come out ascending (the paper's top-k order is unspecified).
//
//   lengths  [B]                i32   tokens in each request's cache
//   query    [B, 28, 1, 128]    bf16  the current query of every head
//   keys     [B, 4, 1024, 128]  bf16  post-RoPE keys
//   values   [B, 4, 1024, 128]  bf16
// -> criticality [B, 1024] f32 (S; 0 past the length),
//    slots [B, 4, 416] i32 (ascending, -1 padded, the same for every head),
//    count [B, 4] i32, kept keys / values [B, 4, 416, 128] bf16 (0 padded),
//    positions [B, 4, 416] i32 (original slots, -1 padded).
//
// Run: test/oracle/run_kv_methods.py (checks against kv_methods_oracle.py).

func.func @tokenselect_soft_vote(
    %len: tensor<2xi32> {tok.name = "lengths"},
    %q: tensor<2x28x1x128xbf16> {tok.name = "query"},
    %k: tensor<2x4x1024x128xbf16> {tok.name = "keys"},
    %v: tensor<2x4x1024x128xbf16> {tok.name = "values"})
    -> (tensor<2x1024xf32> {tok.name = "criticality"},
        tensor<2x4x416xi32> {tok.name = "slots"},
        tensor<2x4xi32> {tok.name = "count"},
        tensor<2x4x416x128xbf16> {tok.name = "kept_keys"},
        tensor<2x4x416x128xbf16> {tok.name = "kept_values"},
        tensor<2x4x416xi32> {tok.name = "positions"}) {
  // Per-head softmax over the valid cache, summed over the 28 heads.
  %vote = tok.attn_score %q, %k lengths %len
      {reduction = #tok.score_reduction<sum>}
      : (tensor<2x28x1x128xbf16>, tensor<2x4x1024x128xbf16>, tensor<2xi32>)
      -> tensor<2x1024xf32>
  // One vote for all heads: the same scores for every KV head.
  %empty = tensor.empty() : tensor<2x4x1024xf32>
  %shared = linalg.broadcast ins(%vote : tensor<2x1024xf32>)
      outs(%empty : tensor<2x4x1024xf32>) dimensions = [1]
  %slots, %n = tok.kv_select %len scores %shared {sinks = 32, window = 128, heavy = 256}
      : (tensor<2xi32>, tensor<2x4x1024xf32>) -> (tensor<2x4x416xi32>, tensor<2x4xi32>)
  %k2, %v2, %pos = tok.kv_gather %slots, %n gather(%k, %v)
      {position_mode = #tok.position_mode<original>}
      : (tensor<2x4x416xi32>, tensor<2x4xi32>, tensor<2x4x1024x128xbf16>,
         tensor<2x4x1024x128xbf16>)
      -> (tensor<2x4x416x128xbf16>, tensor<2x4x416x128xbf16>, tensor<2x4x416xi32>)
  return %vote, %slots, %n, %k2, %v2, %pos
      : tensor<2x1024xf32>, tensor<2x4x416xi32>, tensor<2x4xi32>,
        tensor<2x4x416x128xbf16>, tensor<2x4x416x128xbf16>, tensor<2x4x416xi32>
}
