// Recycled Attention: the selection step (docs/methods.md), from
// "Recycled Attention: Efficient inference for long-context language
// models" (Xu, Goyal, Choi).
//
// Generation alternates: every S steps one step attends to the whole cache
// (full attention); the S - 1 steps in between attend only to a small
// "recycled" cache built from that full step's attention pattern: the K
// cache tokens the full step attended to most, to which the tokens
// generated since are appended. This recipe is the selection step, run
// right after a full-attention step; S and the appending are the caller's
// schedule.
//
// Llama-3.1-8B attention shapes at a CPU-cheap cache size: B = 2 requests
// (ragged: `lengths`), H = 32 query heads, Hkv = 8 KV heads (query head h
// reads KV head h / 4), T = 1024 slots, d = 128, bf16; K = 256.
//
// The full step's attention probabilities are recomputed for its one query
// row from its log-sum-exp (FlashAttention's softmax_lse, returned by the
// full step's kernel): A_h[j] = exp(q_h . k_{h/4, j} / sqrt(d) - lse_h), so
// they are exactly the probabilities of the full step, whose softmax also
// covered the current token (the recipe is given the whole valid cache, so
// without the lse the op would renormalise over the same keys: the lse only
// spares it the softmax-statistics pass). Each KV head keeps its own K
// slots: the 4 query heads that share a KV head add their probabilities
// (score_g[j] = sum over h in group g of A_h[j]), and tok.kv_select keeps
// the K best valid slots per KV head (larger first, ties to the lower slot).
// To score per KV head with one tok.attn_score, the (request, KV head) pairs
// become 16 batch rows of 4 query heads and 1 KV head (tensor.expand_shape /
// collapse_shape, free reshapes; lengths broadcast per KV head). A request
// of at most K tokens keeps everything; length 0 keeps nothing.
//
// Positions: RoPE was applied before caching, so the recycled entries keep
// their original positions (position_mode = original) and the tokens
// appended later continue from the request's length.
//
// Where it departs from the paper: the step schedule (fixed stride S, or
// the query-similarity trigger) and the appending of new tokens are outside
// the recipe; kept slots come out ascending (torch.topk's order is
// unspecified), ties go to the lower slot.
//
//   lengths  [B]                i32   tokens in each request's cache
//   query    [B, 32, 1, 128]    bf16  the full step's query
//   keys     [B, 8, 1024, 128]  bf16  post-RoPE keys
//   values   [B, 8, 1024, 128]  bf16
//   lse      [B, 32, 1]         f32   the full step's log-sum-exp per head
// -> group_scores [B, 8, 1024] f32 (score_g; 0 past the length),
//    slots [B, 8, 256] i32 (ascending, -1 padded), count [B, 8] i32,
//    recycled keys / values [B, 8, 256, 128] bf16 (0 padded), positions
//    [B, 8, 256] i32 (original slots, -1 padded).
//
// Run: test/oracle/run_kv_methods.py (checks against kv_methods_oracle.py).

func.func @recycled_attention_topk(
    %len: tensor<2xi32> {tok.name = "lengths"},
    %q: tensor<2x32x1x128xbf16> {tok.name = "query"},
    %k: tensor<2x8x1024x128xbf16> {tok.name = "keys"},
    %v: tensor<2x8x1024x128xbf16> {tok.name = "values"},
    %lse: tensor<2x32x1xf32> {tok.name = "lse"})
    -> (tensor<2x8x1024xf32> {tok.name = "group_scores"},
        tensor<2x8x256xi32> {tok.name = "slots"},
        tensor<2x8xi32> {tok.name = "count"},
        tensor<2x8x256x128xbf16> {tok.name = "kept_keys"},
        tensor<2x8x256x128xbf16> {tok.name = "kept_values"},
        tensor<2x8x256xi32> {tok.name = "positions"}) {
  // (request, KV head) -> one batch row of 4 query heads over 1 KV head.
  %q5 = tensor.expand_shape %q [[0], [1, 2], [3], [4]] output_shape [2, 8, 4, 1, 128]
      : tensor<2x32x1x128xbf16> into tensor<2x8x4x1x128xbf16>
  %qg = tensor.collapse_shape %q5 [[0, 1], [2], [3], [4]]
      : tensor<2x8x4x1x128xbf16> into tensor<16x4x1x128xbf16>
  %k3 = tensor.collapse_shape %k [[0, 1], [2], [3]]
      : tensor<2x8x1024x128xbf16> into tensor<16x1024x128xbf16>
  %kg = tensor.expand_shape %k3 [[0, 1], [2], [3]] output_shape [16, 1, 1024, 128]
      : tensor<16x1024x128xbf16> into tensor<16x1x1024x128xbf16>
  %lse2 = tensor.collapse_shape %lse [[0, 1], [2]]
      : tensor<2x32x1xf32> into tensor<64x1xf32>
  %lseg = tensor.expand_shape %lse2 [[0, 1], [2]] output_shape [16, 4, 1]
      : tensor<64x1xf32> into tensor<16x4x1xf32>
  %e_len = tensor.empty() : tensor<2x8xi32>
  %len_g = linalg.broadcast ins(%len : tensor<2xi32>)
      outs(%e_len : tensor<2x8xi32>) dimensions = [1]
  %leng = tensor.collapse_shape %len_g [[0, 1]] : tensor<2x8xi32> into tensor<16xi32>
  // The full step's probabilities, summed over the 4 query heads of a group.
  %sg = tok.attn_score %qg, %kg lengths %leng lse %lseg
      {reduction = #tok.score_reduction<sum>}
      : (tensor<16x4x1x128xbf16>, tensor<16x1x1024x128xbf16>, tensor<16xi32>,
         tensor<16x4x1xf32>) -> tensor<16x1024xf32>
  %scores = tensor.expand_shape %sg [[0, 1], [2]] output_shape [2, 8, 1024]
      : tensor<16x1024xf32> into tensor<2x8x1024xf32>
  %slots, %n = tok.kv_select %len scores %scores {heavy = 256}
      : (tensor<2xi32>, tensor<2x8x1024xf32>) -> (tensor<2x8x256xi32>, tensor<2x8xi32>)
  %k2, %v2, %pos = tok.kv_gather %slots, %n gather(%k, %v)
      {position_mode = #tok.position_mode<original>}
      : (tensor<2x8x256xi32>, tensor<2x8xi32>, tensor<2x8x1024x128xbf16>,
         tensor<2x8x1024x128xbf16>)
      -> (tensor<2x8x256x128xbf16>, tensor<2x8x256x128xbf16>, tensor<2x8x256xi32>)
  return %scores, %slots, %n, %k2, %v2, %pos
      : tensor<2x8x1024xf32>, tensor<2x8x256xi32>, tensor<2x8xi32>,
        tensor<2x8x256x128xbf16>, tensor<2x8x256x128xbf16>, tensor<2x8x256xi32>
}
