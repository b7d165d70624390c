// FoPru, rank strategy (docs/methods.md): "FoPru: Focal Pruning for
// Efficient Large Vision-Language Models" (Jiang et al., 2024).
//
// The visual tokens are pruned in the vision encoder, before the projector,
// by the attention they RECEIVE in a late layer of the encoder (CLIP-L/336
// here: 16 heads, head dim 64, [CLS] + 576 patches). FoPru's token
// significance of patch j is the attention map of that layer averaged over
// the heads and over its rows (the queries), i.e. a column mean:
//
//   A^h       = softmax_row(Q^h K^h^T / sqrt(d))      over all 577 keys
//   s_j       = 1 / (H * M) * sum_h sum_i A^h[i, j]     j a patch, i = 0..M-1
//
// The rank strategy keeps the K patches of largest s_j (global top-K) and
// re-orders the kept tokens by their original index. Here: tok.attn_score
// with all M = 577 query rows ([CLS] and patches) over the 576 patch keys,
// with each row's log-sum-exp over the 577 keys (`row_lse`, what the
// encoder's attention kernel returns), so p = exp(s - lse) are the real
// attention probabilities and the [CLS] column is left out; mean over heads
// and rows; tok.select #tok.top_k<144> (ascending indices: raster order
// restored); tok.compact of the vision features before the projector.
// B = 2 images, bf16.
//
//   vit_queries [B, 16, 577, 64]  bf16  every query row of the layer, per head
//   patch_keys  [B, 16, 576, 64]  bf16  the patch keys of that layer
//   row_lse     [B, 16, 577]      f32   log-sum-exp of each row over 577 keys
//   features    [B, 576, 1024]    bf16  vision features (pre-projector)
// -> significance [B, 576] f32, kept_indices [B, 144] i32 (ascending),
//    kept_count [B] i32, kept_features [B, 144, 1024] bf16,
//    old_to_new [B, 576] i32.
//
// Departures: ties go to the lower index (the reference sorts with an
// unstable sort); the row strategy (FoPru's alternative, which keeps
// contiguous runs of the patch grid) is not part of this recipe. Which
// encoder layer is scored, and whether the [CLS] row is among the M rows,
// is the caller's choice of `vit_queries`/`row_lse` (pass 576 rows to
// leave it out).
//
// Test: test/oracle/run_prune_methods.py (test/e2e/recipes-prune-methods.test)
// against test/oracle/prune_methods_oracle.py, on the CPU and through the
// emulated GPU mapping.

func.func @fopru_rank(
    %q: tensor<2x16x577x64xbf16> {tok.name = "vit_queries"},
    %k: tensor<2x16x576x64xbf16> {tok.name = "patch_keys"},
    %lse: tensor<2x16x577xf32> {tok.name = "row_lse"},
    %feats: tensor<2x576x1024xbf16> {tok.name = "features"})
    -> (tensor<2x576xf32> {tok.name = "significance"},
        tensor<2x144xi32> {tok.name = "kept_indices"},
        tensor<2xi32> {tok.name = "kept_count"},
        tensor<2x144x1024xbf16> {tok.name = "kept_features"},
        tensor<2x576xi32> {tok.name = "old_to_new"}) {
  %s = tok.attn_score %q, %k lse %lse
      : (tensor<2x16x577x64xbf16>, tensor<2x16x576x64xbf16>, tensor<2x16x577xf32>)
      -> tensor<2x576xf32>
  %idx, %n = tok.select #tok.top_k<144> of %s
      : (tensor<2x576xf32>) -> (tensor<2x144xi32>, tensor<2xi32>)
  %kept, %map = tok.compact %idx, %n gather(%feats)
      : (tensor<2x144xi32>, tensor<2xi32>, tensor<2x576x1024xbf16>)
      -> (tensor<2x144x1024xbf16>, tensor<2x576xi32>)
  return %s, %idx, %n, %kept, %map
      : tensor<2x576xf32>, tensor<2x144xi32>, tensor<2xi32>, tensor<2x144x1024xbf16>,
        tensor<2x576xi32>
}
