// Dynamic Token Pooling (docs/methods.md): Nawrot, Chorowski, Łańcucki and
// Ponti, "Efficient Transformers with Dynamic Token Pooling", ACL 2023.
//
// One shortening stage of the paper's hourglass at a CPU-cheap size: B = 2
// sequences (ragged: `lengths`), L = 512 tokens, d_model D = 128, f32. The
// boundary predictor (an MLP and a sigmoid over the pre-shortening layers'
// output) and the shortened Transformer are outside Winnow, so the stage is
// two functions. In the paper's convention a boundary b_t = 1 ENDS the group
// it belongs to (token t is the last token of its group), and a null group is
// prepended to the shortened sequence so that no token sees its own group
// before the group is complete.
//
// @dtp_downsample
//   hidden         [B, L, D] f32  h, the pre-shortening layers' output
//   boundary_probs [B, L]    f32  the predictor's sigmoid outputs p_t
//   lengths        [B]       i32  valid tokens per row
// -> boundaries  [B, L] i1 (hard boundaries b_t = p_t > 0.5, the paper's
//      inference rule; padding false),
//    groups      [B, L, D] f32: row k is the mean of group k, the tokens t
//      with sum_{s<t} b_s = k, accumulated in fp32 in token order; rows past
//      the count are 0,
//    group_count [B] i32: the number of groups (K complete groups, plus one
//      for the trailing tokens after the last boundary when the row does not
//      end on one; a row of length 0 has none).
//    The shortened model's input is [null group; groups[:group_count]]: the
//    prepended null group (a learned vector) and the down-LayerNorm are the
//    model's. Winnow's segment rule starts a segment AT a boundary, so the
//    recipe shifts the mask by one token (tensor.insert_slice): group
//    starts are token 0 and every t + 1 with b_t = 1.
//
// @dtp_upsample
//   shortened_out [B, L+1, D] f32  the shortened model's output on
//                                  [null; groups]: row 0 the null group's
//   boundaries    [B, L]      i1   from @dtp_downsample
//   lengths       [B]         i32
//   residual      [B, L, D]   f32  the skip connection (h, the hidden states
//                                  that were pooled)
// -> out [B, L, D] f32: out_t = shortened_out[sum_{s<=t} b_s] + residual_t
//    (the paper's upsampling by repetition plus the hourglass residual; a
//    token reads the output of the last group that ended at or before it,
//    the null group's before the first boundary); one fp32 addition;
//    padding tokens are 0.
//    tok.expand ignores a boundary at token 0 (the segment rule), so it
//    reads row sum_{s<=t} b_s - b_0; the recipe first drops row 0 of rows
//    whose token 0 is a boundary (tok.compact with indices j + b_0), which
//    makes it exact for every b_0. The capacity L + 1 holds the null group
//    plus L groups (every token a boundary).
//
// Departures from the reference (PiotrNawrot/dynamic-pooling): thresholding
// p at 0.5 is the entropy- and unigram-supervised predictors' rule; the
// Gumbel predictor adds logistic noise to the logit before the same
// threshold, in evaluation too (pass sigmoid(logit + noise) as
// boundary_probs to reproduce a draw). The reference pads every row to the
// batch's largest group count, so whether it computes the trailing partial
// group depends on the other rows (the recipe always does; no token's
// output reads it either way), and divides by (m + 1e-9) instead of m (a
// relative 1e-9, below fp32 rounding). Rows are ragged with per-row lengths
// (the reference's rows all have the same length). Exact otherwise; the
// shift and the null-row drop cost a mask kernel and a gather that an
// "a boundary ends its segment" option of tok.segment_reduce / tok.expand
// would fold away.
//
// Run: test/oracle/run_chunk_methods.py (compiles this file, runs both
// functions with winnow-run and checks them against
// test/oracle/chunk_methods_oracle.py).

#bt = affine_map<(b, t) -> (b, t)>
#b = affine_map<(b, t) -> (b)>

func.func @dtp_downsample(
    %h: tensor<2x512x128xf32> {tok.name = "hidden"},
    %p: tensor<2x512xf32> {tok.name = "boundary_probs"},
    %len: tensor<2xi32> {tok.name = "lengths"})
    -> (tensor<2x512xi1> {tok.name = "boundaries"},
        tensor<2x512x128xf32> {tok.name = "groups"},
        tensor<2xi32> {tok.name = "group_count"}) {
  // b_t = p_t > 0.5 for t < len_b (lengths clamped as by every tok op).
  %e = tensor.empty() : tensor<2x512xi1>
  %bnd = linalg.generic {indexing_maps = [#bt, #b, #bt],
                         iterator_types = ["parallel", "parallel"]}
      ins(%p, %len : tensor<2x512xf32>, tensor<2xi32>) outs(%e : tensor<2x512xi1>) {
  ^bb0(%pv: f32, %lv: i32, %o: i1):
    %t = linalg.index 1 : index
    %ti = arith.index_cast %t : index to i32
    %half = arith.constant 0.5 : f32
    %hit = arith.cmpf ogt, %pv, %half : f32
    %valid = arith.cmpi slt, %ti, %lv : i32
    %r = arith.andi %hit, %valid : i1
    linalg.yield %r : i1
  } -> tensor<2x512xi1>
  // Group starts: b shifted one token right (a boundary ends its group).
  %head = tensor.extract_slice %bnd[0, 0] [2, 511] [1, 1]
      : tensor<2x512xi1> to tensor<2x511xi1>
  %none = arith.constant dense<false> : tensor<2x512xi1>
  %starts = tensor.insert_slice %head into %none[0, 1] [2, 511] [1, 1]
      : tensor<2x511xi1> into tensor<2x512xi1>
  %groups, %n = tok.segment_reduce %h, %starts lengths %len
      {reduction = #tok.segment_reduction<mean>}
      : (tensor<2x512x128xf32>, tensor<2x512xi1>, tensor<2xi32>)
      -> (tensor<2x512x128xf32>, tensor<2xi32>)
  return %bnd, %groups, %n : tensor<2x512xi1>, tensor<2x512x128xf32>, tensor<2xi32>
}

func.func @dtp_upsample(
    %y: tensor<2x513x128xf32> {tok.name = "shortened_out"},
    %bnd: tensor<2x512xi1> {tok.name = "boundaries"},
    %len: tensor<2xi32> {tok.name = "lengths"},
    %res: tensor<2x512x128xf32> {tok.name = "residual"})
    -> (tensor<2x512x128xf32> {tok.name = "out"}) {
  // rows[b, j] = j + b_0: drop the null row where token 0 ends a group.
  %b0 = tensor.extract_slice %bnd[0, 0] [2, 1] [1, 1] : tensor<2x512xi1> to tensor<2xi1>
  %e = tensor.empty() : tensor<2x512xi32>
  %rows = linalg.generic {indexing_maps = [#b, #bt],
                          iterator_types = ["parallel", "parallel"]}
      ins(%b0 : tensor<2xi1>) outs(%e : tensor<2x512xi32>) {
  ^bb0(%first: i1, %o: i32):
    %j = linalg.index 1 : index
    %ji = arith.index_cast %j : index to i32
    %shift = arith.extui %first : i1 to i32
    %r = arith.addi %ji, %shift : i32
    linalg.yield %r : i32
  } -> tensor<2x512xi32>
  %all = arith.constant dense<512> : tensor<2xi32>
  %ys, %map = tok.compact %rows, %all gather(%y)
      : (tensor<2x512xi32>, tensor<2xi32>, tensor<2x513x128xf32>)
      -> (tensor<2x512x128xf32>, tensor<2x513xi32>)
  %out = tok.expand %ys, %bnd lengths %len residual %res
      : (tensor<2x512x128xf32>, tensor<2x512xi1>, tensor<2xi32>, tensor<2x512x128xf32>)
      -> tensor<2x512x128xf32>
  return %out : tensor<2x512x128xf32>
}
