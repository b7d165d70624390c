// SepLLM KV retention (docs/methods.md).
//
// Keeps the KV entries of separator tokens ('.', ',' and newline: ids
// 29889, 29892 and 13 in LLaMA's vocabulary) plus 4 attention sinks and a
// local window of 256; everything else is evicted. The separator mask is
// computed in the recipe from the token ids with elementwise arith.cmpi /
// arith.ori on tensors. B = 2 requests (ragged), H = 8 KV heads, T = 1024,
// d = 64, bf16. Without scores every head keeps the same slots; with
// separators the capacity is T. Separators in the padding are ignored, and
// one inside the sinks or the window is kept once.
//
//   token_ids [B, T]        i32   the cached tokens
//   lengths   [B]           i32
//   keys      [B, H, T, d]  bf16  (post-RoPE: original positions)
//   values    [B, H, T, d]  bf16
// -> separators [B, T] i1, slots [B, H, T] i32 (ascending, -1 padded),
//    count [B, H] i32, kept keys / values [B, H, T, d] bf16 (0 padded),
//    positions [B, H, T] i32 (original slots, -1 padded).
//
// Run: test/oracle/run_kv_oracle.py --recipes (checks against kv_oracle.py).

func.func @sepllm_separators(
    %ids: tensor<2x1024xi32> {tok.name = "token_ids"},
    %len: tensor<2xi32> {tok.name = "lengths"},
    %k: tensor<2x8x1024x64xbf16> {tok.name = "keys"},
    %v: tensor<2x8x1024x64xbf16> {tok.name = "values"})
    -> (tensor<2x1024xi1> {tok.name = "separators"},
        tensor<2x8x1024xi32> {tok.name = "slots"},
        tensor<2x8xi32> {tok.name = "count"},
        tensor<2x8x1024x64xbf16> {tok.name = "kept_keys"},
        tensor<2x8x1024x64xbf16> {tok.name = "kept_values"},
        tensor<2x8x1024xi32> {tok.name = "positions"}) {
  %period = arith.constant dense<29889> : tensor<2x1024xi32>
  %comma = arith.constant dense<29892> : tensor<2x1024xi32>
  %newline = arith.constant dense<13> : tensor<2x1024xi32>
  %is_period = arith.cmpi eq, %ids, %period : tensor<2x1024xi32>
  %is_comma = arith.cmpi eq, %ids, %comma : tensor<2x1024xi32>
  %is_newline = arith.cmpi eq, %ids, %newline : tensor<2x1024xi32>
  %punct = arith.ori %is_period, %is_comma : tensor<2x1024xi1>
  %sep = arith.ori %punct, %is_newline : tensor<2x1024xi1>
  %slots, %n = tok.kv_select %len separators %sep {sinks = 4, window = 256}
      : (tensor<2xi32>, tensor<2x1024xi1>) -> (tensor<2x8x1024xi32>, tensor<2x8xi32>)
  %k2, %v2, %pos = tok.kv_gather %slots, %n gather(%k, %v)
      : (tensor<2x8x1024xi32>, tensor<2x8xi32>, tensor<2x8x1024x64xbf16>,
         tensor<2x8x1024x64xbf16>)
      -> (tensor<2x8x1024x64xbf16>, tensor<2x8x1024x64xbf16>, tensor<2x8x1024xi32>)
  return %sep, %slots, %n, %k2, %v2, %pos
      : tensor<2x1024xi1>, tensor<2x8x1024xi32>, tensor<2x8xi32>,
        tensor<2x8x1024x64xbf16>, tensor<2x8x1024x64xbf16>, tensor<2x8x1024xi32>
}
