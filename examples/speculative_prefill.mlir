// Speculative Prefill (docs/methods.md): "Speculative Prefill: Turbocharging
// TTFT with Lightweight and Training-Free Token Importance Estimation"
// (Liu, Chen, Zhang, ICML 2025).
//
// A small speculator model reads the prompt and looks ahead a few decoding
// steps; the attention of those look-ahead queries (the last prompt position
// and the next Q - 1 speculated tokens) over the prompt tokens estimates
// every prompt token's importance, and the large model prefills only the
// kept tokens, each with its ORIGINAL position id. Token importance:
//
//   A[l,h,q,j] = softmax_j(q_{l,h,q} . k_{l,h,j} / sqrt(d))  over the prompt
//                                                   keys j < len only
//   A~[l,h,q,:] = avg_pool1d(A[l,h,q,:], kernel 13, stride 1, zero padding 6)
//   imp[j]     = mean_q max_{l,h} A~[l,h,q,j]    (max over layers and heads,
//                                                 mean over look-ahead steps)
//
// then chunk selection: the prompt is cut into chunks of 32 tokens (the last
// one shorter), a chunk scores the mean importance of its tokens, and the
// ceil(0.3 * #chunks) best chunks are kept whole.
//
// Shapes: B = 2 prompts of up to N = 512 tokens (right padded, `lengths`);
// speculator attention of 2 scored layers x 8 heads (GQA, 2 KV heads per
// layer, head dim 64), stacked layer-major on one head axis (LH = 16 query
// heads, 4 KV heads: query head l*8+h reads KV head l*2+h/4); Q = 4
// look-ahead queries. Every (prompt, look-ahead step, layer-head) becomes
// its own batch row of one query and one KV head (free reshapes and a
// broadcast of the keys over the GQA group and the Q steps), so a single
// tok.attn_score (no lse: the softmax runs over the prompt keys, as the
// speculator's look-ahead attention over the context does) returns every
// A[l,h,q,:] row. The pooling is 13 shifted slices of a zero-padded copy
// added in order and divided by 13; tok.segment_reduce (max) over the 16
// layer-heads of each step, then (mean) over the 4 steps; chunk scores by
// tok.segment_reduce (mean) over 32-token segments; tok.select
// #tok.keep_ratio<0.3, ceil> of the chunks; the kept chunks' flags are
// plugged back into their tokens with tok.expand and tok.select (threshold
// 0.5) turns them into the kept token set; tok.compact gathers the token ids
// and position ids.
//
//   lookahead_queries [B, 4, 16, 64]   bf16  q of each step (rows: step, layer*8+head)
//   prompt_keys       [B, 4, 512, 64]  bf16  speculator keys (layer*2+kv head)
//   lengths           [B]              i32   prompt lengths (0..512)
//   token_ids         [B, 512]         i32   prompt token ids
//   positions         [B, 512]         i32   original position ids
// -> importance     [B, 512] f32  imp[j] (0 past the length)
//    chunk_scores   [B, 16] f32   mean importance per 32-token chunk (0 past the chunk count)
//    kept_chunks    [B, 5] i32    kept chunk indices (ascending), kept_chunk_count [B] i32
//    kept_indices   [B, 512] i32  kept token indices (ascending), kept_count [B] i32
//    kept_token_ids [B, 512] i32, kept_positions [B, 512] i32 (-1 padded)
//
// Departures: ties (between chunks of equal score) go to the lower chunk
// (the reference takes torch.topk); the look-ahead decoding itself, the
// speculator's forward pass and the large model's prefill are the caller's.
// Token-level selection (no chunks) is chunk size 1.
//
// Test: test/oracle/run_prune_methods.py (test/e2e/recipes-prune-methods.test)
// against test/oracle/prune_methods_oracle.py, on the CPU and through the
// emulated GPU mapping.

#map2 = affine_map<(b, t) -> (b, t)>

func.func @speculative_prefill(
    %q: tensor<2x4x16x64xbf16> {tok.name = "lookahead_queries"},
    %k: tensor<2x4x512x64xbf16> {tok.name = "prompt_keys"},
    %len: tensor<2xi32> {tok.name = "lengths"},
    %ids: tensor<2x512xi32> {tok.name = "token_ids"},
    %pos: tensor<2x512xi32> {tok.name = "positions"})
    -> (tensor<2x512xf32> {tok.name = "importance"},
        tensor<2x16xf32> {tok.name = "chunk_scores"},
        tensor<2x5xi32> {tok.name = "kept_chunks"},
        tensor<2xi32> {tok.name = "kept_chunk_count"},
        tensor<2x512xi32> {tok.name = "kept_indices"},
        tensor<2xi32> {tok.name = "kept_count"},
        tensor<2x512xi32> {tok.name = "kept_token_ids"},
        tensor<2x512xi32> {tok.name = "kept_positions"}) {
  // One batch row per (prompt, step, layer-head): 2 * 4 * 16 = 128 rows.
  %qc = tensor.collapse_shape %q [[0, 1, 2], [3]]
      : tensor<2x4x16x64xbf16> into tensor<128x64xbf16>
  %qr = tensor.expand_shape %qc [[0, 1, 2], [3]] output_shape [128, 1, 1, 64]
      : tensor<128x64xbf16> into tensor<128x1x1x64xbf16>
  // keys[b, lkv, j] -> rows (b, step, lkv, group): layer-head l*8+h = lkv*4+g.
  %ek = tensor.empty() : tensor<2x4x4x4x512x64xbf16>
  %kb = linalg.broadcast ins(%k : tensor<2x4x512x64xbf16>)
      outs(%ek : tensor<2x4x4x4x512x64xbf16>) dimensions = [1, 3]
  %kr = tensor.collapse_shape %kb [[0, 1, 2, 3], [4], [5]]
      : tensor<2x4x4x4x512x64xbf16> into tensor<128x512x64xbf16>
  %kr4 = tensor.expand_shape %kr [[0, 1], [2], [3]] output_shape [128, 1, 512, 64]
      : tensor<128x512x64xbf16> into tensor<128x1x512x64xbf16>
  %el = tensor.empty() : tensor<2x64xi32>
  %lb = linalg.broadcast ins(%len : tensor<2xi32>) outs(%el : tensor<2x64xi32>)
      dimensions = [1]
  %lr = tensor.collapse_shape %lb [[0, 1]] : tensor<2x64xi32> into tensor<128xi32>
  %a = tok.attn_score %qr, %kr4 lengths %lr
      : (tensor<128x1x1x64xbf16>, tensor<128x1x512x64xbf16>, tensor<128xi32>)
      -> tensor<128x512xf32>
  // avg_pool1d(kernel 13, padding 6, count_include_pad): zero-pad, 13 slices.
  %z6 = arith.constant dense<0.0> : tensor<128x6xf32>
  %ap = tensor.concat dim(1) %z6, %a, %z6
      : (tensor<128x6xf32>, tensor<128x512xf32>, tensor<128x6xf32>) -> tensor<128x524xf32>
  %w0 = tensor.extract_slice %ap[0, 0] [128, 512] [1, 1] : tensor<128x524xf32> to tensor<128x512xf32>
  %w1 = tensor.extract_slice %ap[0, 1] [128, 512] [1, 1] : tensor<128x524xf32> to tensor<128x512xf32>
  %w2 = tensor.extract_slice %ap[0, 2] [128, 512] [1, 1] : tensor<128x524xf32> to tensor<128x512xf32>
  %w3 = tensor.extract_slice %ap[0, 3] [128, 512] [1, 1] : tensor<128x524xf32> to tensor<128x512xf32>
  %w4 = tensor.extract_slice %ap[0, 4] [128, 512] [1, 1] : tensor<128x524xf32> to tensor<128x512xf32>
  %w5 = tensor.extract_slice %ap[0, 5] [128, 512] [1, 1] : tensor<128x524xf32> to tensor<128x512xf32>
  %w6 = tensor.extract_slice %ap[0, 6] [128, 512] [1, 1] : tensor<128x524xf32> to tensor<128x512xf32>
  %w7 = tensor.extract_slice %ap[0, 7] [128, 512] [1, 1] : tensor<128x524xf32> to tensor<128x512xf32>
  %w8 = tensor.extract_slice %ap[0, 8] [128, 512] [1, 1] : tensor<128x524xf32> to tensor<128x512xf32>
  %w9 = tensor.extract_slice %ap[0, 9] [128, 512] [1, 1] : tensor<128x524xf32> to tensor<128x512xf32>
  %w10 = tensor.extract_slice %ap[0, 10] [128, 512] [1, 1] : tensor<128x524xf32> to tensor<128x512xf32>
  %w11 = tensor.extract_slice %ap[0, 11] [128, 512] [1, 1] : tensor<128x524xf32> to tensor<128x512xf32>
  %w12 = tensor.extract_slice %ap[0, 12] [128, 512] [1, 1] : tensor<128x524xf32> to tensor<128x512xf32>
  %s1 = arith.addf %w0, %w1 : tensor<128x512xf32>
  %s2 = arith.addf %s1, %w2 : tensor<128x512xf32>
  %s3 = arith.addf %s2, %w3 : tensor<128x512xf32>
  %s4 = arith.addf %s3, %w4 : tensor<128x512xf32>
  %s5 = arith.addf %s4, %w5 : tensor<128x512xf32>
  %s6 = arith.addf %s5, %w6 : tensor<128x512xf32>
  %s7 = arith.addf %s6, %w7 : tensor<128x512xf32>
  %s8 = arith.addf %s7, %w8 : tensor<128x512xf32>
  %s9 = arith.addf %s8, %w9 : tensor<128x512xf32>
  %s10 = arith.addf %s9, %w10 : tensor<128x512xf32>
  %s11 = arith.addf %s10, %w11 : tensor<128x512xf32>
  %s12 = arith.addf %s11, %w12 : tensor<128x512xf32>
  %c13 = arith.constant dense<13.0> : tensor<128x512xf32>
  %sm = arith.divf %s12, %c13 : tensor<128x512xf32>
  // Max over the 16 layer-heads of each step: rows (step, layer-head) of a
  // prompt are 64 "tokens" of 512 features, a segment every 16 rows.
  %sm3 = tensor.expand_shape %sm [[0, 1], [2]] output_shape [2, 64, 512]
      : tensor<128x512xf32> into tensor<2x64x512xf32>
  %eb = tensor.empty() : tensor<2x64xi1>
  %hb = linalg.generic {indexing_maps = [#map2], iterator_types = ["parallel", "parallel"]}
      outs(%eb : tensor<2x64xi1>) {
  ^bb0(%o: i1):
    %t = linalg.index 1 : index
    %c16 = arith.constant 16 : index
    %c0 = arith.constant 0 : index
    %r = arith.remui %t, %c16 : index
    %s = arith.cmpi eq, %r, %c0 : index
    linalg.yield %s : i1
  } -> tensor<2x64xi1>
  %mx, %nsteps = tok.segment_reduce %sm3, %hb
      {reduction = #tok.segment_reduction<max>}
      : (tensor<2x64x512xf32>, tensor<2x64xi1>) -> (tensor<2x64x512xf32>, tensor<2xi32>)
  // Mean over the 4 steps (one segment).
  %mx4 = tensor.extract_slice %mx[0, 0, 0] [2, 4, 512] [1, 1, 1]
      : tensor<2x64x512xf32> to tensor<2x4x512xf32>
  %nob = arith.constant dense<false> : tensor<2x4xi1>
  %mean, %n1 = tok.segment_reduce %mx4, %nob
      {reduction = #tok.segment_reduction<mean>}
      : (tensor<2x4x512xf32>, tensor<2x4xi1>) -> (tensor<2x4x512xf32>, tensor<2xi32>)
  %imp_all = tensor.extract_slice %mean[0, 0, 0] [2, 1, 512] [1, 1, 1]
      : tensor<2x4x512xf32> to tensor<2x512xf32>
  // Importance past the length is 0 (what a per-prompt computation has).
  %eidx = tensor.empty() : tensor<2x512xi32>
  %iota = linalg.generic {indexing_maps = [#map2], iterator_types = ["parallel", "parallel"]}
      outs(%eidx : tensor<2x512xi32>) {
  ^bb0(%o: i32):
    %t = linalg.index 1 : index
    %ti = arith.index_cast %t : index to i32
    linalg.yield %ti : i32
  } -> tensor<2x512xi32>
  %lb2 = linalg.broadcast ins(%len : tensor<2xi32>) outs(%eidx : tensor<2x512xi32>)
      dimensions = [1]
  %valid = arith.cmpi slt, %iota, %lb2 : tensor<2x512xi32>
  %zero = arith.constant dense<0.0> : tensor<2x512xf32>
  %imp = arith.select %valid, %imp_all, %zero : tensor<2x512xi1>, tensor<2x512xf32>
  // Chunks of 32 tokens: a segment starts every 32 tokens.
  %ecb = tensor.empty() : tensor<2x512xi1>
  %cb = linalg.generic {indexing_maps = [#map2], iterator_types = ["parallel", "parallel"]}
      outs(%ecb : tensor<2x512xi1>) {
  ^bb0(%o: i1):
    %t = linalg.index 1 : index
    %c32 = arith.constant 32 : index
    %c0 = arith.constant 0 : index
    %r = arith.remui %t, %c32 : index
    %s = arith.cmpi eq, %r, %c0 : index
    linalg.yield %s : i1
  } -> tensor<2x512xi1>
  %imp3 = tensor.expand_shape %imp [[0], [1, 2]] output_shape [2, 512, 1]
      : tensor<2x512xf32> into tensor<2x512x1xf32>
  %cs, %nchunks = tok.segment_reduce %imp3, %cb lengths %len
      {reduction = #tok.segment_reduction<mean>}
      : (tensor<2x512x1xf32>, tensor<2x512xi1>, tensor<2xi32>)
      -> (tensor<2x512x1xf32>, tensor<2xi32>)
  %cs16 = tensor.extract_slice %cs[0, 0, 0] [2, 16, 1] [1, 1, 1]
      : tensor<2x512x1xf32> to tensor<2x16xf32>
  %cidx, %cn = tok.select #tok.keep_ratio<0.3, ceil> of %cs16 lengths %nchunks
      : (tensor<2x16xf32>, tensor<2xi32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  %kcs, %cmap = tok.compact %cidx, %cn gather(%cs16)
      : (tensor<2x5xi32>, tensor<2xi32>, tensor<2x16xf32>)
      -> (tensor<2x5xf32>, tensor<2x16xi32>)
  // Kept-chunk flag (1.0 / 0.0) plugged back into every token of its chunk.
  %m1 = arith.constant dense<-1> : tensor<2x16xi32>
  %kept_c = arith.cmpi sgt, %cmap, %m1 : tensor<2x16xi32>
  %one16 = arith.constant dense<1.0> : tensor<2x16xf32>
  %zero16 = arith.constant dense<0.0> : tensor<2x16xf32>
  %flag = arith.select %kept_c, %one16, %zero16 : tensor<2x16xi1>, tensor<2x16xf32>
  %flag3 = tensor.expand_shape %flag [[0], [1, 2]] output_shape [2, 16, 1]
      : tensor<2x16xf32> into tensor<2x16x1xf32>
  %tflag3 = tok.expand %flag3, %cb lengths %len
      : (tensor<2x16x1xf32>, tensor<2x512xi1>, tensor<2xi32>) -> tensor<2x512x1xf32>
  %tflag = tensor.collapse_shape %tflag3 [[0], [1, 2]]
      : tensor<2x512x1xf32> into tensor<2x512xf32>
  %idx, %n = tok.select #tok.threshold<0.5, gt> of %tflag lengths %len
      : (tensor<2x512xf32>, tensor<2xi32>) -> (tensor<2x512xi32>, tensor<2xi32>)
  %kid, %kpos, %map = tok.compact %idx, %n gather(%ids, %pos)
      : (tensor<2x512xi32>, tensor<2xi32>, tensor<2x512xi32>, tensor<2x512xi32>)
      -> (tensor<2x512xi32>, tensor<2x512xi32>, tensor<2x512xi32>)
  return %imp, %cs16, %cidx, %cn, %idx, %n, %kid, %kpos
      : tensor<2x512xf32>, tensor<2x16xf32>, tensor<2x5xi32>, tensor<2xi32>,
        tensor<2x512xi32>, tensor<2xi32>, tensor<2x512xi32>, tensor<2x512xi32>
}
