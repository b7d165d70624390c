// SparseVLM visual-token sparsification with recycling (docs/methods.md) at one pruning layer, scaled down for the CPU: LLaVA-1.5's
// N = 576 visual tokens, H = 8 heads of d = 64, R = 8 text "rater" rows,
// hidden size C = 256, bf16, batch 1 (as in the reference).
//
//   relevance = tok.attn_score(rater queries, visual keys, rater lse): the
//               layer's attention of each rater row (its softmax over the
//               whole causal row, scale 1/sqrt(d): the reference slices the
//               layer's attention weights) at the 576 visual keys, mean over
//               heads and raters; the rows' log-sum-exp comes from the
//               attention kernel (docs/methods.md, "Attention scores over a
//               span")
//   keep      = tok.select top_k<192> of relevance  (ascending indices)
//   pruned    = tok.select top_k<384> of -relevance (the complement: the 384
//               least relevant tokens, ascending; exact complement unless
//               scores tie at the cut - both selects break ties to the lower
//               index - or are NaN, which both rank last)
//   kept_tokens   = tok.compact keep   gather(hidden)
//   pruned_tokens = tok.compact pruned gather(hidden)
//   recycling: tok.density_peaks over the pruned tokens (lengths = their
//              count; k = 5, 32 clusters; ties by index instead of the
//              reference's random density noise), then tok.scatter_merge
//              (mean): 32 recycled tokens, in center-score order
//   tokens    = concat(kept_tokens, recycled): the 224 tokens the next layers
//               see (the reference appends the recycled tokens after the kept)
//
// @sparsevlm_recycle
//   rater_queries [1, 8, 8, 64] bf16, visual_keys [1, 8, 576, 64] bf16,
//   rater_lse [1, 8, 8] f32, hidden [1, 576, 256] bf16
// -> relevance [1, 576] f32, kept_indices [1, 192] i32, kept_count [1] i32,
//    pruned_indices [1, 384] i32, pruned_count [1] i32,
//    cluster [1, 384] i32 (cluster of each pruned token), clusters [1] i32,
//    recycled [1, 32, 256] bf16, cluster_sizes [1, 32] f32,
//    tokens [1, 224, 256] bf16
//
// Run: test/oracle/run_cluster_oracle.py --recipes.

func.func @sparsevlm_recycle(
    %q: tensor<1x8x8x64xbf16> {tok.name = "rater_queries"},
    %k: tensor<1x8x576x64xbf16> {tok.name = "visual_keys"},
    %lse: tensor<1x8x8xf32> {tok.name = "rater_lse"},
    %hidden: tensor<1x576x256xbf16> {tok.name = "hidden"})
    -> (tensor<1x576xf32> {tok.name = "relevance"},
        tensor<1x192xi32> {tok.name = "kept_indices"},
        tensor<1xi32> {tok.name = "kept_count"},
        tensor<1x384xi32> {tok.name = "pruned_indices"},
        tensor<1xi32> {tok.name = "pruned_count"},
        tensor<1x384xi32> {tok.name = "cluster"},
        tensor<1xi32> {tok.name = "clusters"},
        tensor<1x32x256xbf16> {tok.name = "recycled"},
        tensor<1x32xf32> {tok.name = "cluster_sizes"},
        tensor<1x224x256xbf16> {tok.name = "tokens"}) {
  %s = tok.attn_score %q, %k lse %lse
      : (tensor<1x8x8x64xbf16>, tensor<1x8x576x64xbf16>, tensor<1x8x8xf32>)
      -> tensor<1x576xf32>
  %keep, %nkeep = tok.select #tok.top_k<192> of %s
      : (tensor<1x576xf32>) -> (tensor<1x192xi32>, tensor<1xi32>)
  %neg = arith.negf %s : tensor<1x576xf32>
  %drop, %ndrop = tok.select #tok.top_k<384> of %neg
      : (tensor<1x576xf32>) -> (tensor<1x384xi32>, tensor<1xi32>)
  %kept, %map = tok.compact %keep, %nkeep gather(%hidden)
      : (tensor<1x192xi32>, tensor<1xi32>, tensor<1x576x256xbf16>)
      -> (tensor<1x192x256xbf16>, tensor<1x576xi32>)
  %pruned, %map2 = tok.compact %drop, %ndrop gather(%hidden)
      : (tensor<1x384xi32>, tensor<1xi32>, tensor<1x576x256xbf16>)
      -> (tensor<1x384x256xbf16>, tensor<1x576xi32>)
  %parent, %nc = tok.density_peaks %pruned lengths %ndrop {k = 5, clusters = 32}
      : (tensor<1x384x256xbf16>, tensor<1xi32>) -> (tensor<1x384xi32>, tensor<1xi32>)
  %recycled, %csz = tok.scatter_merge %parent, %nc gather(%pruned)
      {reduction = #tok.merge_reduction<mean>}
      : (tensor<1x384xi32>, tensor<1xi32>, tensor<1x384x256xbf16>)
      -> (tensor<1x32x256xbf16>, tensor<1x32xf32>)
  %tokens = tensor.concat dim(1) %kept, %recycled
      : (tensor<1x192x256xbf16>, tensor<1x32x256xbf16>) -> tensor<1x224x256xbf16>
  return %s, %keep, %nkeep, %drop, %ndrop, %parent, %nc, %recycled, %csz, %tokens
      : tensor<1x576xf32>, tensor<1x192xi32>, tensor<1xi32>, tensor<1x384xi32>, tensor<1xi32>,
        tensor<1x384xi32>, tensor<1xi32>, tensor<1x32x256xbf16>, tensor<1x32xf32>,
        tensor<1x224x256xbf16>
}
