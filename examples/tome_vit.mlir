// ToMe token merging in a ViT-B/16 (docs/methods.md).
//
// ViT-B/16 at 224 px: N = 197 tokens (a class token + 14 x 14 patches),
// C = 768 features, 12 heads of d = 64; B = 4 images; r = 16 tokens merged
// per block (ToMe's ViT-B setting), bf16 activations. ToMe runs between the
// attention and the MLP of every block:
//
// @tome_step (the first block: every token has size 1)
//   x       [B, 197, 768] bf16  the attention block's output
//   metric  [B, 197, 64]  bf16  the keys averaged over the 12 heads
// -> merged   [B, 181, 768] bf16  197 - 16 rows: unmerged A tokens (the class
//             token first, then by index), then every B token; a destination
//             row is the mean of its members (fp32, rounded once to bf16),
//             an unmerged row is its token, bit for bit
//    sizes    [B, 181] f32  how many original tokens each row holds (exact)
//    key_bias [B, 181] f32  log(sizes): proportional attention adds it to
//             every logit of key j in the next block's softmax
//    parent   [B, 197] i32  the output row of every input token
//    count    [B] i32       181
//
// @tome_step_sized (a later block: sizes travel with the tokens)
//   x [B, 181, 768] bf16, metric [B, 181, 64] bf16, sizes [B, 181] f32
// -> merged [B, 165, 768] bf16 (ToMe's merge_wavg: the size-weighted mean),
//    sizes [B, 165] f32 (summed, so they keep counting original tokens),
//    key_bias, parent [B, 181] i32, count [B] i32 (165).
//
// Per block the plan reads the metric once (the similarity matrix is never
// stored: each A token keeps a running max/argmax over the B tokens) and the
// merge reads x once and writes N - r rows. Un-merging (ToMe-SD) is
// `tok.compact %parent, %all gather(%merged)` with %all = N.
//
// Run: test/oracle/run_merge_recipes.py (compiles this file, runs both
// functions with winnow-run and checks them against test/oracle/merge_oracle.py).

func.func @tome_step(
    %x: tensor<4x197x768xbf16> {tok.name = "x"},
    %metric: tensor<4x197x64xbf16> {tok.name = "metric"})
    -> (tensor<4x181x768xbf16> {tok.name = "merged"},
        tensor<4x181xf32> {tok.name = "sizes"},
        tensor<4x181xf32> {tok.name = "key_bias"},
        tensor<4x197xi32> {tok.name = "parent"},
        tensor<4xi32> {tok.name = "count"}) {
  %parent, %count = tok.bipartite_plan %metric {r = 16, class_token}
      : (tensor<4x197x64xbf16>) -> (tensor<4x197xi32>, tensor<4xi32>)
  %merged, %sizes = tok.scatter_merge %parent, %count gather(%x)
      : (tensor<4x197xi32>, tensor<4xi32>, tensor<4x197x768xbf16>)
      -> (tensor<4x181x768xbf16>, tensor<4x181xf32>)
  %bias = math.log %sizes : tensor<4x181xf32>
  return %merged, %sizes, %bias, %parent, %count
      : tensor<4x181x768xbf16>, tensor<4x181xf32>, tensor<4x181xf32>, tensor<4x197xi32>, tensor<4xi32>
}

func.func @tome_step_sized(
    %x: tensor<4x181x768xbf16> {tok.name = "x"},
    %metric: tensor<4x181x64xbf16> {tok.name = "metric"},
    %sizes: tensor<4x181xf32> {tok.name = "sizes"})
    -> (tensor<4x165x768xbf16> {tok.name = "merged"},
        tensor<4x165xf32> {tok.name = "sizes_out"},
        tensor<4x165xf32> {tok.name = "key_bias"},
        tensor<4x181xi32> {tok.name = "parent"},
        tensor<4xi32> {tok.name = "count"}) {
  %parent, %count = tok.bipartite_plan %metric {r = 16, class_token}
      : (tensor<4x181x64xbf16>) -> (tensor<4x181xi32>, tensor<4xi32>)
  %merged, %sizes2 = tok.scatter_merge %parent, %count gather(%x) sizes %sizes
      {reduction = #tok.merge_reduction<weighted_mean>}
      : (tensor<4x181xi32>, tensor<4xi32>, tensor<4x181x768xbf16>, tensor<4x181xf32>)
      -> (tensor<4x165x768xbf16>, tensor<4x165xf32>)
  %bias = math.log %sizes2 : tensor<4x165xf32>
  return %merged, %sizes2, %bias, %parent, %count
      : tensor<4x165x768xbf16>, tensor<4x165xf32>, tensor<4x165xf32>, tensor<4x181xi32>, tensor<4xi32>
}
