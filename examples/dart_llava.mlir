// DART on LLaVA-1.5 shapes (docs/methods.md): duplication-based
// pruning of the image tokens at LLM layer K = 2.
//
// The prompt is 35 system tokens, the 576 image tokens (CLIP-L/336, 24x24)
// at [35, 611), then the text query. Pivots: the 4 image tokens and the 4
// text tokens of largest key L1 norm (keys of layer K-1, heads
// concatenated; here reduced to Dk = 1024). Each pivot in turn (image
// pivots by index, then text pivots by index) takes the M = 128 / 8 = 16
// remaining image tokens whose layer-K hidden states are least cosine-similar
// to its own. Kept = all text tokens + the image pivots + the taken tokens,
// ascending: (700 - 576) + 4 + 8 * 16 = 256 for a full row, fewer for ragged
// rows. The kept hidden states and RoPE position ids are gathered with
// tok.compact (positions are gathered, never recomputed). B = 2, bf16.
//
//   keys      [B, 700, 1024] bf16  layer K-1 keys (heads concatenated)
//   hidden    [B, 700, 1024] bf16  layer K hidden states
//   lengths   [B]            i32   valid tokens per row (right padded)
//   positions [B, 700]       i32   position ids
// -> kept_indices [B, 256] i32 (ascending, -1 padded), kept_count [B] i32,
//    kept_hidden [B, 256, 1024] bf16 (0 padded), kept_positions [B, 256] i32
//    (-1 padded), old_to_new [B, 700] i32.
//
// Run: test/oracle/run_dart_oracle.py --recipes (checks against
// test/oracle/dart_oracle.py and prune_oracle.py).

func.func @dart_llava(
    %keys: tensor<2x700x1024xbf16> {tok.name = "keys"},
    %hidden: tensor<2x700x1024xbf16> {tok.name = "hidden"},
    %len: tensor<2xi32> {tok.name = "lengths"},
    %pos: tensor<2x700xi32> {tok.name = "positions"})
    -> (tensor<2x256xi32> {tok.name = "indices"},
        tensor<2xi32> {tok.name = "count"},
        tensor<2x256x1024xbf16> {tok.name = "kept_hidden"},
        tensor<2x256xi32> {tok.name = "kept_positions"},
        tensor<2x700xi32> {tok.name = "old_to_new"}) {
  %idx, %n = tok.dart_select %keys, %hidden lengths %len
      {span = array<i64: 35, 611>, image_pivots = 4, text_pivots = 4, keep = 128}
      : (tensor<2x700x1024xbf16>, tensor<2x700x1024xbf16>, tensor<2xi32>)
      -> (tensor<2x256xi32>, tensor<2xi32>)
  %h, %p, %map = tok.compact %idx, %n gather(%hidden, %pos)
      : (tensor<2x256xi32>, tensor<2xi32>, tensor<2x700x1024xbf16>, tensor<2x700xi32>)
      -> (tensor<2x256x1024xbf16>, tensor<2x256xi32>, tensor<2x700xi32>)
  return %idx, %n, %h, %p, %map
      : tensor<2x256xi32>, tensor<2xi32>, tensor<2x256x1024xbf16>, tensor<2x256xi32>,
        tensor<2x700xi32>
}
