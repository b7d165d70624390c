// PromptDistill (docs/methods.md): "PromptDistill: Query-based Selective
// Token Retention in Intermediate Layers for Efficient Large Language Model
// Inference" (Jin et al., 2025).
//
// The prompt is a context followed by the query (the question /
// instruction). The model runs in full up to a selection layer (layer 13 of
// Llama-3.1-8B: 32 heads, 8 KV heads, head dim 128); there the query
// token at the end of the context (index context_lengths[b]) rates every
// context token with its scaled dot products, averaged over the heads (no
// softmax), smoothed by an average pooling of width 5; the top-K context
// tokens plus every query token are retained, and only their hidden states
// (with their ORIGINAL position ids) go on through the later layers:
//
//   s[j]   = 1/H * sum_h  q_h . k_{h/4, j} / sqrt(d)        (j < C_b)
//          = 0                                              (j >= C_b)
//   s~[j]  = (s[j-2] + s[j-1] + s[j] + s[j+1] + s[j+2]) / 5   (zero padded)
//   kept   = top-K of { j < C_b } by s~  U  { C_b <= j < len_b }
//
// tok.attn_score returns probabilities, not logits; given the row's
// log-sum-exp it returns p = exp(s - lse) per head, so the recipe scores
// each (prompt, head) as its own batch row (keys broadcast over the GQA
// group: free reshapes plus one broadcast), takes math.log and adds the lse
// back: s = log(p) + lse, exact up to the rounding of exp/log (the lse only
// keeps exp in range; any finite per-head value works, the kernel's row lse
// is the natural one). The mean over heads is tok.segment_reduce (mean) over
// the 32 heads of a prompt; the context mask is an elementwise arith.select;
// the pooling is 5 shifted slices of a zero-padded copy, added in order and
// divided by 5; tok.select #tok.top_k<256> with the query tokens as
// `protect` (kept, outside the budget) and `lengths`; tok.compact gathers the
// hidden states and position ids. B = 2, N = 1024 tokens, bf16.
//
//   selector_query  [B, 32, 1, 128]    bf16  the selecting query row, per head
//   keys            [B, 8, 1024, 128]  bf16  the layer's keys (8 KV heads)
//   selector_lse    [B, 32, 1]         f32   log-sum-exp of the row (per head)
//   lengths         [B]                i32   prompt lengths (0..1024)
//   context_lengths [B]                i32   tokens before the query part
//   hidden          [B, 1024, 4096]    bf16  hidden states after the layer
//   positions       [B, 1024]          i32   original position ids
// -> selection_scores [B, 1024] f32   s~ (0 outside the context)
//    kept_indices     [B, 1024] i32   ascending, -1 padded; kept_count [B] i32
//    kept_hidden      [B, 1024, 4096] bf16, kept_positions [B, 1024] i32
//    old_to_new       [B, 1024] i32
//
// Departures: ties go to the lower index (the reference takes torch.topk);
// a logit whose probability underflows fp32 (s - lse < about -87) becomes
// -inf instead of its value (such a token is never among the best unless
// fewer than K context tokens are finite); multi-stage selection is this
// recipe applied again at a later layer; truncating the earlier layers' KV
// cache to the kept tokens (the paper's cache truncation) is a tok.compact /
// tok.kv_gather of those caches with the same indices, left to the caller.
//
// Test: test/oracle/run_prune_methods.py (test/e2e/recipes-prune-methods.test)
// against test/oracle/prune_methods_oracle.py, on the CPU and through the
// emulated GPU mapping.

#map2 = affine_map<(b, t) -> (b, t)>

func.func @promptdistill(
    %q: tensor<2x32x1x128xbf16> {tok.name = "selector_query"},
    %k: tensor<2x8x1024x128xbf16> {tok.name = "keys"},
    %lse: tensor<2x32x1xf32> {tok.name = "selector_lse"},
    %len: tensor<2xi32> {tok.name = "lengths"},
    %ctx: tensor<2xi32> {tok.name = "context_lengths"},
    %hidden: tensor<2x1024x4096xbf16> {tok.name = "hidden"},
    %pos: tensor<2x1024xi32> {tok.name = "positions"})
    -> (tensor<2x1024xf32> {tok.name = "selection_scores"},
        tensor<2x1024xi32> {tok.name = "kept_indices"},
        tensor<2xi32> {tok.name = "kept_count"},
        tensor<2x1024x4096xbf16> {tok.name = "kept_hidden"},
        tensor<2x1024xi32> {tok.name = "kept_positions"},
        tensor<2x1024xi32> {tok.name = "old_to_new"}) {
  // One batch row per (prompt, head): 64 rows of one query and one KV head.
  %qr = tensor.collapse_shape %q [[0, 1], [2], [3]]
      : tensor<2x32x1x128xbf16> into tensor<64x1x128xbf16>
  %qr4 = tensor.expand_shape %qr [[0, 1], [2], [3]] output_shape [64, 1, 1, 128]
      : tensor<64x1x128xbf16> into tensor<64x1x1x128xbf16>
  %ek = tensor.empty() : tensor<2x8x4x1024x128xbf16>
  %kb = linalg.broadcast ins(%k : tensor<2x8x1024x128xbf16>)
      outs(%ek : tensor<2x8x4x1024x128xbf16>) dimensions = [2]
  %kr = tensor.collapse_shape %kb [[0, 1, 2], [3], [4]]
      : tensor<2x8x4x1024x128xbf16> into tensor<64x1024x128xbf16>
  %kr4 = tensor.expand_shape %kr [[0, 1], [2], [3]] output_shape [64, 1, 1024, 128]
      : tensor<64x1024x128xbf16> into tensor<64x1x1024x128xbf16>
  %lr = tensor.collapse_shape %lse [[0, 1], [2]] : tensor<2x32x1xf32> into tensor<64x1xf32>
  %lr3 = tensor.expand_shape %lr [[0, 1], [2]] output_shape [64, 1, 1]
      : tensor<64x1xf32> into tensor<64x1x1xf32>
  %p = tok.attn_score %qr4, %kr4 lse %lr3 {reduction = #tok.score_reduction<sum>}
      : (tensor<64x1x1x128xbf16>, tensor<64x1x1024x128xbf16>, tensor<64x1x1xf32>)
      -> tensor<64x1024xf32>
  // Logits: s = log(p) + lse.
  %logp = math.log %p : tensor<64x1024xf32>
  %el = tensor.empty() : tensor<64x1024xf32>
  %lflat = tensor.collapse_shape %lse [[0, 1, 2]] : tensor<2x32x1xf32> into tensor<64xf32>
  %lb = linalg.broadcast ins(%lflat : tensor<64xf32>) outs(%el : tensor<64x1024xf32>)
      dimensions = [1]
  %logit = arith.addf %logp, %lb : tensor<64x1024xf32>
  // Mean over the 32 heads of each prompt (one segment of 32 rows).
  %lg3 = tensor.expand_shape %logit [[0, 1], [2]] output_shape [2, 32, 1024]
      : tensor<64x1024xf32> into tensor<2x32x1024xf32>
  %nob = arith.constant dense<false> : tensor<2x32xi1>
  %hm, %n1 = tok.segment_reduce %lg3, %nob {reduction = #tok.segment_reduction<mean>}
      : (tensor<2x32x1024xf32>, tensor<2x32xi1>) -> (tensor<2x32x1024xf32>, tensor<2xi32>)
  %s_all = tensor.extract_slice %hm[0, 0, 0] [2, 1, 1024] [1, 1, 1]
      : tensor<2x32x1024xf32> to tensor<2x1024xf32>
  // Context mask: j < context_lengths[b] (and j < lengths[b]).
  %ei = tensor.empty() : tensor<2x1024xi32>
  %iota = linalg.generic {indexing_maps = [#map2], iterator_types = ["parallel", "parallel"]}
      outs(%ei : tensor<2x1024xi32>) {
  ^bb0(%o: i32):
    %t = linalg.index 1 : index
    %ti = arith.index_cast %t : index to i32
    linalg.yield %ti : i32
  } -> tensor<2x1024xi32>
  %cb = linalg.broadcast ins(%ctx : tensor<2xi32>) outs(%ei : tensor<2x1024xi32>)
      dimensions = [1]
  %lnb = linalg.broadcast ins(%len : tensor<2xi32>) outs(%ei : tensor<2x1024xi32>)
      dimensions = [1]
  %in_ctx = arith.cmpi slt, %iota, %cb : tensor<2x1024xi32>
  %in_len = arith.cmpi slt, %iota, %lnb : tensor<2x1024xi32>
  %cand = arith.andi %in_ctx, %in_len : tensor<2x1024xi1>
  %query_part = arith.cmpi sge, %iota, %cb : tensor<2x1024xi32>
  %zero = arith.constant dense<0.0> : tensor<2x1024xf32>
  %s = arith.select %cand, %s_all, %zero : tensor<2x1024xi1>, tensor<2x1024xf32>
  // avg_pool1d(kernel 5, padding 2, count_include_pad).
  %z2 = arith.constant dense<0.0> : tensor<2x2xf32>
  %sp = tensor.concat dim(1) %z2, %s, %z2
      : (tensor<2x2xf32>, tensor<2x1024xf32>, tensor<2x2xf32>) -> tensor<2x1028xf32>
  %w0 = tensor.extract_slice %sp[0, 0] [2, 1024] [1, 1] : tensor<2x1028xf32> to tensor<2x1024xf32>
  %w1 = tensor.extract_slice %sp[0, 1] [2, 1024] [1, 1] : tensor<2x1028xf32> to tensor<2x1024xf32>
  %w2 = tensor.extract_slice %sp[0, 2] [2, 1024] [1, 1] : tensor<2x1028xf32> to tensor<2x1024xf32>
  %w3 = tensor.extract_slice %sp[0, 3] [2, 1024] [1, 1] : tensor<2x1028xf32> to tensor<2x1024xf32>
  %w4 = tensor.extract_slice %sp[0, 4] [2, 1024] [1, 1] : tensor<2x1028xf32> to tensor<2x1024xf32>
  %a1 = arith.addf %w0, %w1 : tensor<2x1024xf32>
  %a2 = arith.addf %a1, %w2 : tensor<2x1024xf32>
  %a3 = arith.addf %a2, %w3 : tensor<2x1024xf32>
  %a4 = arith.addf %a3, %w4 : tensor<2x1024xf32>
  %c5 = arith.constant dense<5.0> : tensor<2x1024xf32>
  %pooled = arith.divf %a4, %c5 : tensor<2x1024xf32>
  %sel = arith.select %cand, %pooled, %zero : tensor<2x1024xi1>, tensor<2x1024xf32>
  %idx, %n = tok.select #tok.top_k<256> of %sel lengths %len protect %query_part
      : (tensor<2x1024xf32>, tensor<2xi32>, tensor<2x1024xi1>)
      -> (tensor<2x1024xi32>, tensor<2xi32>)
  %h, %kp, %map = tok.compact %idx, %n gather(%hidden, %pos)
      : (tensor<2x1024xi32>, tensor<2xi32>, tensor<2x1024x4096xbf16>, tensor<2x1024xi32>)
      -> (tensor<2x1024x4096xbf16>, tensor<2x1024xi32>, tensor<2x1024xi32>)
  return %sel, %idx, %n, %h, %kp, %map
      : tensor<2x1024xf32>, tensor<2x1024xi32>, tensor<2xi32>, tensor<2x1024x4096xbf16>,
        tensor<2x1024xi32>, tensor<2x1024xi32>
}
