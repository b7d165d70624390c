// DyMU-style threshold merging (docs/methods.md): DToMe merges every A
// token whose best match exceeds a per-layer threshold, so each image keeps
// a different number of tokens; VTU ("virtual unmerging") later needs the
// full-length sequence back.
//
// CLIP ViT-L/14 at 336 px: N = 577 tokens (a class token + 24 x 24 patches),
// C = 1024 features, metric = keys averaged over 16 heads of d = 64; B = 2
// images, f32 activations, threshold 0.9.
//
// @dymu_merge
//   x       [B, 577, 1024] f32
//   metric  [B, 577, 64]   f32
// -> merged   [B, 577, 1024] f32  capacity N; rows >= count[b] are 0
//    sizes    [B, 577] f32        tokens per row (0 past the count)
//    count    [B] i32             577 - #(A tokens with best > 0.9), per image
//    parent   [B, 577] i32        output row of every input token
//    unmerged [B, 577, 1024] f32  every token replaced by its merged row
//                                 (tok.compact through the same plan, count N)
//
// Run: test/oracle/run_merge_recipes.py.

func.func @dymu_merge(
    %x: tensor<2x577x1024xf32> {tok.name = "x"},
    %metric: tensor<2x577x64xf32> {tok.name = "metric"},
    %all: tensor<2xi32> {tok.name = "num_tokens"})
    -> (tensor<2x577x1024xf32> {tok.name = "merged"},
        tensor<2x577xf32> {tok.name = "sizes"},
        tensor<2xi32> {tok.name = "count"},
        tensor<2x577xi32> {tok.name = "parent"},
        tensor<2x577x1024xf32> {tok.name = "unmerged"}) {
  %parent, %count = tok.bipartite_plan %metric {threshold = 0.9 : f64, class_token}
      : (tensor<2x577x64xf32>) -> (tensor<2x577xi32>, tensor<2xi32>)
  %merged, %sizes = tok.scatter_merge %parent, %count gather(%x)
      : (tensor<2x577xi32>, tensor<2xi32>, tensor<2x577x1024xf32>)
      -> (tensor<2x577x1024xf32>, tensor<2x577xf32>)
  %unmerged, %map = tok.compact %parent, %all gather(%merged)
      : (tensor<2x577xi32>, tensor<2xi32>, tensor<2x577x1024xf32>)
      -> (tensor<2x577x1024xf32>, tensor<2x577xi32>)
  return %merged, %sizes, %count, %parent, %unmerged
      : tensor<2x577x1024xf32>, tensor<2x577xf32>, tensor<2xi32>, tensor<2x577xi32>, tensor<2x577x1024xf32>
}
