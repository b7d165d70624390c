// FastV on LLaVA-1.5 shapes (docs/methods.md).
//
// At layer K-1 the last valid query row attends over its whole causal row
// (the 35 system-prompt tokens, the 576 image tokens and the text); its
// attention to the image tokens, averaged over the 32 heads, ranks them; the
// best 25 % are kept (floor(576 * 0.25) = 144 for a full row, fewer for
// ragged rows), and the hidden states and the 1-D RoPE position ids of the
// kept tokens are gathered (positions are gathered, never recomputed).
//
// FastV's softmax runs over the whole row (its reference code slices the
// layer's attention weights), so tok.attn_score takes the row's
// log-sum-exp, which the attention kernel of layer K-1 returns
// (FlashAttention's softmax_lse), and only the image keys: p_j = exp(s_j -
// lse). Without it the softmax would be renormalised over the image tokens
// alone, which ranks them differently whenever heads put different weight
// on the rest of the row (attention sinks on the system prompt, say).
//
//   q_last     [B, 32, 1, 128]   bf16  last query row of every head
//   image_keys [B, 32, 576, 128] bf16  keys of the image tokens (H = Hkv = 32)
//   row_lse    [B, 32, 1]        f32   log-sum-exp of each head's scaled
//                                      scores over the whole row
//   lengths    [B]               i32   valid image tokens per row (ragged)
//   hidden     [B, 576, 4096]    bf16  hidden states of the image tokens
//   positions  [B, 576]          i32   RoPE position ids (35..610 in LLaVA-1.5)
//
// Results: scores [B, 576] f32, kept indices [B, 144] i32 (ascending, -1
// padded), count [B] i32, kept hidden [B, 144, 4096] bf16 (0 padded), kept
// positions [B, 144] i32 (-1 padded), old_to_new [B, 576] i32.
//
// Run: examples/run_fastv.py (compiles this file, runs both functions with
// winnow-run and checks them against test/oracle/prune_oracle.py).

func.func @fastv_llava15(
    %q: tensor<4x32x1x128xbf16> {tok.name = "q_last"},
    %k: tensor<4x32x576x128xbf16> {tok.name = "image_keys"},
    %lse: tensor<4x32x1xf32> {tok.name = "row_lse"},
    %len: tensor<4xi32> {tok.name = "lengths"},
    %hidden: tensor<4x576x4096xbf16> {tok.name = "hidden"},
    %pos: tensor<4x576xi32> {tok.name = "positions"})
    -> (tensor<4x576xf32> {tok.name = "scores"},
        tensor<4x144xi32> {tok.name = "kept_indices"},
        tensor<4xi32> {tok.name = "kept_count"},
        tensor<4x144x4096xbf16> {tok.name = "kept_hidden"},
        tensor<4x144xi32> {tok.name = "kept_positions"},
        tensor<4x576xi32> {tok.name = "old_to_new"}) {
  %s = tok.attn_score %q, %k lengths %len lse %lse
      : (tensor<4x32x1x128xbf16>, tensor<4x32x576x128xbf16>, tensor<4xi32>,
         tensor<4x32x1xf32>) -> tensor<4x576xf32>
  %idx, %n = tok.select #tok.keep_ratio<0.25, floor> of %s lengths %len
      : (tensor<4x576xf32>, tensor<4xi32>) -> (tensor<4x144xi32>, tensor<4xi32>)
  %h, %p, %map = tok.compact %idx, %n gather(%hidden, %pos)
      : (tensor<4x144xi32>, tensor<4xi32>, tensor<4x576x4096xbf16>, tensor<4x576xi32>)
      -> (tensor<4x144x4096xbf16>, tensor<4x144xi32>, tensor<4x576xi32>)
  return %s, %idx, %n, %h, %p, %map
      : tensor<4x576xf32>, tensor<4x144xi32>, tensor<4xi32>,
        tensor<4x144x4096xbf16>, tensor<4x144xi32>, tensor<4x576xi32>
}

// The same program for a single request (batch 1, no lengths: all 576 image
// tokens are valid), as FastV's reference code runs it.
func.func @fastv_llava15_b1(
    %q: tensor<1x32x1x128xbf16> {tok.name = "q_last"},
    %k: tensor<1x32x576x128xbf16> {tok.name = "image_keys"},
    %lse: tensor<1x32x1xf32> {tok.name = "row_lse"},
    %hidden: tensor<1x576x4096xbf16> {tok.name = "hidden"},
    %pos: tensor<1x576xi32> {tok.name = "positions"})
    -> (tensor<1x576xf32> {tok.name = "scores"},
        tensor<1x144xi32> {tok.name = "kept_indices"},
        tensor<1xi32> {tok.name = "kept_count"},
        tensor<1x144x4096xbf16> {tok.name = "kept_hidden"},
        tensor<1x144xi32> {tok.name = "kept_positions"},
        tensor<1x576xi32> {tok.name = "old_to_new"}) {
  %s = tok.attn_score %q, %k lse %lse
      : (tensor<1x32x1x128xbf16>, tensor<1x32x576x128xbf16>, tensor<1x32x1xf32>)
      -> tensor<1x576xf32>
  %idx, %n = tok.select #tok.keep_ratio<0.25, floor> of %s
      : (tensor<1x576xf32>) -> (tensor<1x144xi32>, tensor<1xi32>)
  %h, %p, %map = tok.compact %idx, %n gather(%hidden, %pos)
      : (tensor<1x144xi32>, tensor<1xi32>, tensor<1x576x4096xbf16>, tensor<1x576xi32>)
      -> (tensor<1x144x4096xbf16>, tensor<1x144xi32>, tensor<1x576xi32>)
  return %s, %idx, %n, %h, %p, %map
      : tensor<1x576xf32>, tensor<1x144xi32>, tensor<1xi32>,
        tensor<1x144x4096xbf16>, tensor<1x144xi32>, tensor<1x576xi32>
}
