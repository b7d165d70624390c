// ToDRE / GreedyPrune diversity pruning (docs/methods.md).
//
// Keeps k = 64 of the 576 visual tokens (LLaVA-1.5, CLIP-L/336 grid 24x24)
// of hidden size D = 1024 by greedy k-center (farthest-point sampling with
// the cosine distance, one running min-distance per token, never N x N).
// The seed is the token with the highest [CLS] attention (ToDRE), taken
// with tok.select #tok.top_k<1>; the kept hidden states are gathered in
// raster order (tok.k_center returns ascending indices). B = 2 images, bf16.
//
//   cls_attention [B, 576]        f32   [CLS] attention over the patches
//   hidden        [B, 576, 1024]  bf16  visual token states
// -> seed [B, 1] i32, indices [B, 64] i32 (ascending), count [B] i32,
//    kept [B, 64, 1024] bf16, old_to_new [B, 576] i32.
//
// Run: test/oracle/run_kv_oracle.py --recipes (checks against kv_oracle.py
// and prune_oracle.py).

func.func @todre_kcenter(
    %cls: tensor<2x576xf32> {tok.name = "cls_attention"},
    %x: tensor<2x576x1024xbf16> {tok.name = "hidden"})
    -> (tensor<2x1xi32> {tok.name = "seed"},
        tensor<2x64xi32> {tok.name = "indices"},
        tensor<2xi32> {tok.name = "count"},
        tensor<2x64x1024xbf16> {tok.name = "kept"},
        tensor<2x576xi32> {tok.name = "old_to_new"}) {
  %seed, %one = tok.select #tok.top_k<1> of %cls
      : (tensor<2x576xf32>) -> (tensor<2x1xi32>, tensor<2xi32>)
  %first = tensor.collapse_shape %seed [[0, 1]] : tensor<2x1xi32> into tensor<2xi32>
  %idx, %n = tok.k_center %x first %first {k = 64}
      : (tensor<2x576x1024xbf16>, tensor<2xi32>) -> (tensor<2x64xi32>, tensor<2xi32>)
  %kept, %map = tok.compact %idx, %n gather(%x)
      : (tensor<2x64xi32>, tensor<2xi32>, tensor<2x576x1024xbf16>)
      -> (tensor<2x64x1024xbf16>, tensor<2x576xi32>)
  return %seed, %idx, %n, %kept, %map
      : tensor<2x1xi32>, tensor<2x64xi32>, tensor<2xi32>, tensor<2x64x1024xbf16>,
        tensor<2x576xi32>
}
