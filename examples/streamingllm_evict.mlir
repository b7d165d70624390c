// StreamingLLM KV eviction (docs/methods.md).
//
// One decoder layer's cache at a CPU-cheap but realistic size: B = 2
// requests (ragged: `lengths`), H = 8 KV heads, T = 1024 cache slots, head
// dim d = 64, bf16. The cache keeps the first 4 tokens (attention sinks)
// and the most recent 508, so the evicted cache holds C = 4 + 508 = 512
// slots; a request no longer than 512 tokens keeps everything (no-op).
//
// Keys are cached *before* RoPE (streaming-llm #53/#73,
// transformers#35350): the kept entries are re-numbered by cache slot
// (position_mode = reindexed: positions 0..count-1), and the attention
// kernel rotates the kept keys with those positions at every step.
//
// StreamingLLM has no scores; tok.kv_select learns T (and H) from a
// `scores` operand, so the recipe passes a constant zero accumulator that
// no rule reads (heavy = 0).
//
//   lengths [B]              i32   tokens in each request's cache
//   keys    [B, H, T, d]     bf16  pre-RoPE keys
//   values  [B, H, T, d]     bf16
// -> slots [B, H, 512] i32 (ascending, -1 padded), count [B, H] i32,
//    kept keys / values [B, H, 512, d] bf16 (0 padded), positions
//    [B, H, 512] i32 (0..count-1, -1 padded).
//
// Run: test/oracle/run_kv_oracle.py --recipes (checks against kv_oracle.py).

func.func @streamingllm_evict(
    %len: tensor<2xi32> {tok.name = "lengths"},
    %k: tensor<2x8x1024x64xbf16> {tok.name = "keys"},
    %v: tensor<2x8x1024x64xbf16> {tok.name = "values"})
    -> (tensor<2x8x512xi32> {tok.name = "slots"},
        tensor<2x8xi32> {tok.name = "count"},
        tensor<2x8x512x64xbf16> {tok.name = "kept_keys"},
        tensor<2x8x512x64xbf16> {tok.name = "kept_values"},
        tensor<2x8x512xi32> {tok.name = "positions"}) {
  %none = arith.constant dense<0.0> : tensor<2x8x1024xf32>
  %slots, %n = tok.kv_select %len scores %none {sinks = 4, window = 508}
      : (tensor<2xi32>, tensor<2x8x1024xf32>) -> (tensor<2x8x512xi32>, tensor<2x8xi32>)
  %k2, %v2, %pos = tok.kv_gather %slots, %n gather(%k, %v)
      {position_mode = #tok.position_mode<reindexed>}
      : (tensor<2x8x512xi32>, tensor<2x8xi32>, tensor<2x8x1024x64xbf16>,
         tensor<2x8x1024x64xbf16>)
      -> (tensor<2x8x512x64xbf16>, tensor<2x8x512x64xbf16>, tensor<2x8x512xi32>)
  return %slots, %n, %k2, %v2, %pos
      : tensor<2x8x512xi32>, tensor<2x8xi32>, tensor<2x8x512x64xbf16>,
        tensor<2x8x512x64xbf16>, tensor<2x8x512xi32>
}
