// FasterVLM [CLS]-attention pruning (docs/methods.md).
//
// In the selected layer of a CLIP-L/336-like vision tower (16 heads, head
// dim 64, 576 patches + [CLS]), only the [CLS] query row is recomputed:
// tok.attn_score of that row over the 576 patch keys, averaged over heads,
// with the row's log-sum-exp from the attention kernel (`lse`, over all 577
// keys, so the probabilities are those of the real softmax, [CLS] column
// excluded). The 64 best patches are kept with tok.select #tok.top_k<64>
// (ascending indices: raster order preserved) and the vision features are
// gathered *before* the projector, which then runs on 64 tokens instead of
// 576. B = 2 images, bf16.
//
//   cls_query  [B, 16, 1, 64]    bf16  [CLS] query row per head
//   patch_keys [B, 16, 576, 64]  bf16  keys of the patches
//   cls_lse    [B, 16, 1]        f32   logsumexp of the [CLS] row (577 keys)
//   features   [B, 576, 1024]    bf16  vision features (pre-projector)
// -> cls_scores [B, 576] f32, indices [B, 64] i32, count [B] i32,
//    kept_features [B, 64, 1024] bf16, old_to_new [B, 576] i32.
//
// Run: test/oracle/run_kv_oracle.py --recipes (checks against prune_oracle.py).

func.func @fastervlm_cls(
    %q: tensor<2x16x1x64xbf16> {tok.name = "cls_query"},
    %k: tensor<2x16x576x64xbf16> {tok.name = "patch_keys"},
    %lse: tensor<2x16x1xf32> {tok.name = "cls_lse"},
    %feats: tensor<2x576x1024xbf16> {tok.name = "features"})
    -> (tensor<2x576xf32> {tok.name = "cls_scores"},
        tensor<2x64xi32> {tok.name = "indices"},
        tensor<2xi32> {tok.name = "count"},
        tensor<2x64x1024xbf16> {tok.name = "kept_features"},
        tensor<2x576xi32> {tok.name = "old_to_new"}) {
  %s = tok.attn_score %q, %k lse %lse
      : (tensor<2x16x1x64xbf16>, tensor<2x16x576x64xbf16>, tensor<2x16x1xf32>)
      -> tensor<2x576xf32>
  %idx, %n = tok.select #tok.top_k<64> of %s
      : (tensor<2x576xf32>) -> (tensor<2x64xi32>, tensor<2xi32>)
  %kept, %map = tok.compact %idx, %n gather(%feats)
      : (tensor<2x64xi32>, tensor<2xi32>, tensor<2x576x1024xbf16>)
      -> (tensor<2x64x1024xbf16>, tensor<2x576xi32>)
  return %s, %idx, %n, %kept, %map
      : tensor<2x576xf32>, tensor<2x64xi32>, tensor<2xi32>, tensor<2x64x1024xbf16>,
        tensor<2x576xi32>
}
