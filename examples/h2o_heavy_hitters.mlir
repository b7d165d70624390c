// H2O heavy-hitter KV eviction (docs/methods.md).
//
// One decoder layer's cache: B = 2 requests of different lengths, H = 8 KV
// heads, T = 1024 slots, head dim d = 64, f16. Every head keeps its own
// slots: the 128 most recent tokens plus the 128 older tokens with the
// largest accumulated attention acc[b, h, j] = sum over past queries of
// A[h, q, j] (computed per request: batch rows never mix, unlike the
// reference's sum over the batch, H2O issue #14). C = 256; a request of at
// most 256 tokens keeps everything.
//
// RoPE was applied before caching, so the kept entries keep their original
// positions (position_mode = original): positions[b, h, j] = slot.
//
//   lengths    [B]           i32  tokens in each request's cache
//   acc_scores [B, H, T]     f32  accumulated attention per head and slot
//   keys       [B, H, T, d]  f16
//   values     [B, H, T, d]  f16
// -> slots [B, H, 256] i32 (ascending, -1 padded), count [B, H] i32,
//    kept keys / values [B, H, 256, d] f16 (0 padded), positions
//    [B, H, 256] i32 (original slots, -1 padded).
//
// Run: test/oracle/run_kv_oracle.py --recipes (checks against kv_oracle.py).

func.func @h2o_heavy_hitters(
    %len: tensor<2xi32> {tok.name = "lengths"},
    %acc: tensor<2x8x1024xf32> {tok.name = "acc_scores"},
    %k: tensor<2x8x1024x64xf16> {tok.name = "keys"},
    %v: tensor<2x8x1024x64xf16> {tok.name = "values"})
    -> (tensor<2x8x256xi32> {tok.name = "slots"},
        tensor<2x8xi32> {tok.name = "count"},
        tensor<2x8x256x64xf16> {tok.name = "kept_keys"},
        tensor<2x8x256x64xf16> {tok.name = "kept_values"},
        tensor<2x8x256xi32> {tok.name = "positions"}) {
  %slots, %n = tok.kv_select %len scores %acc {window = 128, heavy = 128}
      : (tensor<2xi32>, tensor<2x8x1024xf32>) -> (tensor<2x8x256xi32>, tensor<2x8xi32>)
  %k2, %v2, %pos = tok.kv_gather %slots, %n gather(%k, %v)
      {position_mode = #tok.position_mode<original>}
      : (tensor<2x8x256xi32>, tensor<2x8xi32>, tensor<2x8x1024x64xf16>,
         tensor<2x8x1024x64xf16>)
      -> (tensor<2x8x256x64xf16>, tensor<2x8x256x64xf16>, tensor<2x8x256xi32>)
  return %slots, %n, %k2, %v2, %pos
      : tensor<2x8x256xi32>, tensor<2x8xi32>, tensor<2x8x256x64xf16>,
        tensor<2x8x256x64xf16>, tensor<2x8x256xi32>
}
