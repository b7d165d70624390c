// RUN: winnow-opt %s --split-input-file --verify-diagnostics

func.func @queries_rank(%q: tensor<2x4x8xbf16>, %k: tensor<2x4x16x8xbf16>) -> tensor<2x16xf32> {
  // expected-error @+1 {{expected queries of rank 4 [B, H, Q, d], got rank 3}}
  %s = tok.attn_score %q, %k : (tensor<2x4x8xbf16>, tensor<2x4x16x8xbf16>) -> tensor<2x16xf32>
  return %s : tensor<2x16xf32>
}

// -----

func.func @keys_rank(%q: tensor<2x4x1x8xbf16>, %k: tensor<2x16x8xbf16>) -> tensor<2x16xf32> {
  // expected-error @+1 {{expected keys of rank 4 [B, Hkv, N, d], got rank 3}}
  %s = tok.attn_score %q, %k : (tensor<2x4x1x8xbf16>, tensor<2x16x8xbf16>) -> tensor<2x16xf32>
  return %s : tensor<2x16xf32>
}

// -----

func.func @integer_queries(%q: tensor<2x4x1x8xi32>, %k: tensor<2x4x16x8xi32>) -> tensor<2x16xf32> {
  // expected-error @+1 {{expected f16, bf16 or f32 queries, got 'i32'}}
  %s = tok.attn_score %q, %k : (tensor<2x4x1x8xi32>, tensor<2x4x16x8xi32>) -> tensor<2x16xf32>
  return %s : tensor<2x16xf32>
}

// -----

func.func @mixed_element_types(%q: tensor<2x4x1x8xbf16>, %k: tensor<2x4x16x8xf16>) -> tensor<2x16xf32> {
  // expected-error @+1 {{expected keys of the queries' element type 'bf16', got 'f16'}}
  %s = tok.attn_score %q, %k : (tensor<2x4x1x8xbf16>, tensor<2x4x16x8xf16>) -> tensor<2x16xf32>
  return %s : tensor<2x16xf32>
}

// -----

func.func @batch_mismatch(%q: tensor<2x4x1x8xf32>, %k: tensor<3x4x16x8xf32>) -> tensor<2x16xf32> {
  // expected-error @+1 {{expected keys with batch 2, got 3}}
  %s = tok.attn_score %q, %k : (tensor<2x4x1x8xf32>, tensor<3x4x16x8xf32>) -> tensor<2x16xf32>
  return %s : tensor<2x16xf32>
}

// -----

func.func @head_dim_mismatch(%q: tensor<2x4x1x8xf32>, %k: tensor<2x4x16x4xf32>) -> tensor<2x16xf32> {
  // expected-error @+1 {{expected keys with head dim 8, got 4}}
  %s = tok.attn_score %q, %k : (tensor<2x4x1x8xf32>, tensor<2x4x16x4xf32>) -> tensor<2x16xf32>
  return %s : tensor<2x16xf32>
}

// -----

func.func @gqa_not_divisible(%q: tensor<2x6x1x8xf32>, %k: tensor<2x4x16x8xf32>) -> tensor<2x16xf32> {
  // expected-error @+1 {{expected the query heads (6) to be a multiple of the key heads (4)}}
  %s = tok.attn_score %q, %k : (tensor<2x6x1x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x16xf32>
  return %s : tensor<2x16xf32>
}

// -----

func.func @lengths_shape(%q: tensor<2x4x1x8xf32>, %k: tensor<2x4x16x8xf32>, %len: tensor<3xi32>) -> tensor<2x16xf32> {
  // expected-error @+1 {{expected lengths of shape 2xi32, got 3xi32}}
  %s = tok.attn_score %q, %k lengths %len : (tensor<2x4x1x8xf32>, tensor<2x4x16x8xf32>, tensor<3xi32>) -> tensor<2x16xf32>
  return %s : tensor<2x16xf32>
}

// -----

func.func @lse_shape(%q: tensor<2x4x1x8xf32>, %k: tensor<2x4x16x8xf32>, %lse: tensor<2x4xf32>) -> tensor<2x16xf32> {
  // expected-error @+1 {{expected lse of shape 2x4x1xf32, got 2x4xf32}}
  %s = tok.attn_score %q, %k lse %lse : (tensor<2x4x1x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4xf32>) -> tensor<2x16xf32>
  return %s : tensor<2x16xf32>
}

// -----

func.func @query_positions_shape(%q: tensor<2x4x3x8xf32>, %k: tensor<2x4x16x8xf32>, %qp: tensor<2x1xi32>) -> tensor<2x16xf32> {
  // expected-error @+1 {{expected query_positions of shape 2x3xi32, got 2x1xi32}}
  %s = tok.attn_score %q, %k query_positions %qp : (tensor<2x4x3x8xf32>, tensor<2x4x16x8xf32>, tensor<2x1xi32>) -> tensor<2x16xf32>
  return %s : tensor<2x16xf32>
}

// -----

func.func @bad_scale(%q: tensor<2x4x1x8xf32>, %k: tensor<2x4x16x8xf32>) -> tensor<2x16xf32> {
  // expected-error @+1 {{expected a finite positive scale, got -1}}
  %s = tok.attn_score %q, %k {scale = -1.0 : f32} : (tensor<2x4x1x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x16xf32>
  return %s : tensor<2x16xf32>
}

// -----

func.func @scores_shape(%q: tensor<2x4x1x8xf32>, %k: tensor<2x4x16x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{expected scores of shape 2x16xf32, got 2x8xf32}}
  %s = tok.attn_score %q, %k : (tensor<2x4x1x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x8xf32>
  return %s : tensor<2x8xf32>
}

// -----

func.func @dynamic_queries(%q: tensor<?x4x1x8xf32>, %k: tensor<2x4x16x8xf32>) -> tensor<2x16xf32> {
  // expected-error @+1 {{'tok.attn_score' op mixes a dynamic batch extent with the static leading extent 2 of operand #1}}
  %s = tok.attn_score %q, %k : (tensor<?x4x1x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x16xf32>
  return %s : tensor<2x16xf32>
}

// -----

func.func @select_f16_scores(%s: tensor<1x8xf16>) -> tensor<1x2xi32> {
  // expected-error @+1 {{operand #0 must be tensor with static extents after the batch of 32-bit float values}}
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<1x8xf16>) -> (tensor<1x2xi32>, tensor<1xi32>)
  return %i : tensor<1x2xi32>
}

// -----

func.func @select_scores_rank(%s: tensor<8xf32>) -> tensor<1x2xi32> {
  // expected-error @+1 {{expected scores of rank 2 [B, N], got rank 1}}
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<8xf32>) -> (tensor<1x2xi32>, tensor<1xi32>)
  return %i : tensor<1x2xi32>
}

// -----

func.func @select_capacity_top_k(%s: tensor<1x8xf32>) -> tensor<1x2xi32> {
  // expected-error @+1 {{expected an index capacity of at least 3 (the largest count this selection can keep), got 2}}
  %i, %n = tok.select #tok.top_k<3> of %s : (tensor<1x8xf32>) -> (tensor<1x2xi32>, tensor<1xi32>)
  return %i : tensor<1x2xi32>
}

// -----

func.func @select_capacity_counts_pass_through(%s: tensor<1x8xf32>) -> tensor<1x3xi32> {
  // Tokens 0 and 7 are outside the span and always kept: 2 + 2 = 4.
  // expected-error @+1 {{expected an index capacity of at least 4 (the largest count this selection can keep), got 3}}
  %i, %n = tok.select #tok.top_k<2> of %s span [1, 7] : (tensor<1x8xf32>) -> (tensor<1x3xi32>, tensor<1xi32>)
  return %i : tensor<1x3xi32>
}

// -----

func.func @select_capacity_ratio_rounding(%s: tensor<1x10xf32>) -> tensor<1x2xi32> {
  // ceil(10 * 0.15) = 2 but half_away(1.5) = 2 too; ceil(10 * 0.25) = 3.
  // expected-error @+1 {{expected an index capacity of at least 3 (the largest count this selection can keep), got 2}}
  %i, %n = tok.select #tok.keep_ratio<0.25, ceil> of %s : (tensor<1x10xf32>) -> (tensor<1x2xi32>, tensor<1xi32>)
  return %i : tensor<1x2xi32>
}

// -----

func.func @select_capacity_threshold(%s: tensor<1x8xf32>) -> tensor<1x4xi32> {
  // expected-error @+1 {{expected an index capacity of at least 8 (the largest count this selection can keep), got 4}}
  %i, %n = tok.select #tok.threshold<0.5, gt> of %s : (tensor<1x8xf32>) -> (tensor<1x4xi32>, tensor<1xi32>)
  return %i : tensor<1x4xi32>
}

// -----

func.func @select_capacity_protect(%s: tensor<1x8xf32>, %p: tensor<1x8xi1>) -> tensor<1x2xi32> {
  // expected-error @+1 {{expected an index capacity of at least 8 (the largest count this selection can keep), got 2}}
  %i, %n = tok.select #tok.top_k<2> of %s protect %p : (tensor<1x8xf32>, tensor<1x8xi1>) -> (tensor<1x2xi32>, tensor<1xi32>)
  return %i : tensor<1x2xi32>
}

// -----

func.func @select_protect_shape(%s: tensor<1x8xf32>, %p: tensor<1x4xi1>) -> tensor<1x8xi32> {
  // expected-error @+1 {{expected protect mask of shape 1x8xi1, got 1x4xi1}}
  %i, %n = tok.select #tok.top_k<2> of %s protect %p : (tensor<1x8xf32>, tensor<1x4xi1>) -> (tensor<1x8xi32>, tensor<1xi32>)
  return %i : tensor<1x8xi32>
}

// -----

func.func @select_span_out_of_range(%s: tensor<1x8xf32>) -> tensor<1x8xi32> {
  // expected-error @+1 {{expected span within [0, 8] with start <= end, got [2, 9)}}
  %i, %n = tok.select #tok.top_k<2> of %s span [2, 9] : (tensor<1x8xf32>) -> (tensor<1x8xi32>, tensor<1xi32>)
  return %i : tensor<1x8xi32>
}

// -----

func.func @select_span_reversed(%s: tensor<1x8xf32>) -> tensor<1x8xi32> {
  // expected-error @+1 {{expected span within [0, 8] with start <= end, got [5, 2)}}
  %i, %n = tok.select #tok.top_k<2> of %s span [5, 2] : (tensor<1x8xf32>) -> (tensor<1x8xi32>, tensor<1xi32>)
  return %i : tensor<1x8xi32>
}

// -----

func.func @select_span_arity(%s: tensor<1x8xf32>) -> tensor<1x8xi32> {
  // expected-error @+1 {{expected span [start, end), got 3 values}}
  %i, %n = tok.select #tok.top_k<2> of %s span [1, 2, 3] : (tensor<1x8xf32>) -> (tensor<1x8xi32>, tensor<1xi32>)
  return %i : tensor<1x8xi32>
}

// -----

func.func @select_count_shape(%s: tensor<2x8xf32>) -> tensor<2x2xi32> {
  // expected-error @+1 {{expected count of shape 2xi32, got 1xi32}}
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<2x8xf32>) -> (tensor<2x2xi32>, tensor<1xi32>)
  return %i : tensor<2x2xi32>
}

// -----

func.func @select_indices_batch(%s: tensor<2x8xf32>) -> tensor<1x2xi32> {
  // expected-error @+1 {{expected indices of shape 2xCxi32, got 1x2xi32}}
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<2x8xf32>) -> (tensor<1x2xi32>, tensor<2xi32>)
  return %i : tensor<1x2xi32>
}

// -----

func.func @select_ratio_out_of_range(%s: tensor<1x8xf32>) -> tensor<1x8xi32> {
  // expected-error @+1 {{expected keep ratio in [0, 1] (the fraction of candidates kept), got 1.5; for 1.5 % write 0.015}}
  %i, %n = tok.select #tok.keep_ratio<1.5, floor> of %s : (tensor<1x8xf32>) -> (tensor<1x8xi32>, tensor<1xi32>)
  return %i : tensor<1x8xi32>
}

// -----

// A percentage written as an integer reaches the range check (integer
// literals are accepted as values).
func.func @select_ratio_percentage(%s: tensor<1x8xf32>) -> tensor<1x8xi32> {
  // expected-error @+1 {{expected keep ratio in [0, 1] (the fraction of candidates kept), got 30; for 30 % write 0.3}}
  %i, %n = tok.select #tok.keep_ratio<30, half_even> of %s : (tensor<1x8xf32>) -> (tensor<1x8xi32>, tensor<1xi32>)
  return %i : tensor<1x8xi32>
}

// -----

func.func @select_ratio_negative(%s: tensor<1x8xf32>) -> tensor<1x8xi32> {
  // expected-error @+1 {{expected keep ratio in [0, 1] (the fraction of candidates kept), got -1}}
  %i, %n = tok.select #tok.keep_ratio<-1, floor> of %s : (tensor<1x8xf32>) -> (tensor<1x8xi32>, tensor<1xi32>)
  return %i : tensor<1x8xi32>
}

// -----

func.func @select_unknown_rounding(%s: tensor<1x8xf32>) -> tensor<1x8xi32> {
  // expected-error @+2 {{expected one of [floor, ceil, half_even, half_away]}}
  // expected-error @+1 {{failed to parse}}
  %i, %n = tok.select #tok.keep_ratio<0.5, nearest> of %s : (tensor<1x8xf32>) -> (tensor<1x8xi32>, tensor<1xi32>)
  return %i : tensor<1x8xi32>
}

// -----

func.func @select_budget_kind(%s: tensor<1x8xf32>) -> tensor<1x8xi32> {
  // expected-error @+1 {{attribute 'budget' failed to satisfy constraint}}
  %i, %n = tok.select 3 of %s : (tensor<1x8xf32>) -> (tensor<1x8xi32>, tensor<1xi32>)
  return %i : tensor<1x8xi32>
}

// -----

func.func @compact_indices_rank(%i: tensor<8xi32>, %n: tensor<1xi32>) -> tensor<1x8xi32> {
  // expected-error @+1 {{expected indices of rank 2 [B, C], got rank 1}}
  %map = tok.compact %i, %n gather() : (tensor<8xi32>, tensor<1xi32>) -> tensor<1x8xi32>
  return %map : tensor<1x8xi32>
}

// -----

func.func @compact_count_shape(%i: tensor<2x2xi32>, %n: tensor<1xi32>) -> tensor<2x8xi32> {
  // expected-error @+1 {{expected count of shape 2xi32, got 1xi32}}
  %map = tok.compact %i, %n gather() : (tensor<2x2xi32>, tensor<1xi32>) -> tensor<2x8xi32>
  return %map : tensor<2x8xi32>
}

// -----

func.func @compact_axes_arity(%i: tensor<1x2xi32>, %n: tensor<1xi32>, %h: tensor<1x8x4xf32>) -> tensor<1x8xi32> {
  // expected-error @+1 {{expected one token axis per source (1), got 2}}
  %g, %map = tok.compact %i, %n gather(%h) {token_axes = array<i64: 1, 1>}
      : (tensor<1x2xi32>, tensor<1xi32>, tensor<1x8x4xf32>) -> (tensor<1x2x4xf32>, tensor<1x8xi32>)
  return %map : tensor<1x8xi32>
}

// -----

func.func @compact_axis_zero(%i: tensor<1x2xi32>, %n: tensor<1xi32>, %h: tensor<1x8x4xf32>) -> tensor<1x8xi32> {
  // expected-error @+1 {{expected token axis of source 0 in [1, 3), got 0}}
  %g, %map = tok.compact %i, %n gather(%h) {token_axes = array<i64: 0>}
      : (tensor<1x2xi32>, tensor<1xi32>, tensor<1x8x4xf32>) -> (tensor<1x2x4xf32>, tensor<1x8xi32>)
  return %map : tensor<1x8xi32>
}

// -----

func.func @compact_source_batch(%i: tensor<2x2xi32>, %n: tensor<2xi32>, %h: tensor<3x8x4xf32>) -> tensor<2x8xi32> {
  // expected-error @+1 {{expected source 0 to have batch 2 on axis 0, got 3}}
  %g, %map = tok.compact %i, %n gather(%h)
      : (tensor<2x2xi32>, tensor<2xi32>, tensor<3x8x4xf32>) -> (tensor<3x2x4xf32>, tensor<2x8xi32>)
  return %map : tensor<2x8xi32>
}

// -----

func.func @compact_source_tokens(%i: tensor<1x2xi32>, %n: tensor<1xi32>, %h: tensor<1x8x4xf32>, %pos: tensor<3x1x6xi32>) -> tensor<1x8xi32> {
  // expected-error @+1 {{expected source 1 to have 8 tokens on axis 2, got 6}}
  %g:2, %map = tok.compact %i, %n gather(%h, %pos) {token_axes = array<i64: 1, 2>}
      : (tensor<1x2xi32>, tensor<1xi32>, tensor<1x8x4xf32>, tensor<3x1x6xi32>) -> (tensor<1x2x4xf32>, tensor<3x1x2xi32>, tensor<1x8xi32>)
  return %map : tensor<1x8xi32>
}

// -----

func.func @compact_result_type(%i: tensor<1x2xi32>, %n: tensor<1xi32>, %h: tensor<1x8x4xf32>) -> tensor<1x8xi32> {
  // expected-error @+1 {{expected gathered result 0 of type 'tensor<1x2x4xf32>', got 'tensor<1x2x4xf16>'}}
  %g, %map = tok.compact %i, %n gather(%h)
      : (tensor<1x2xi32>, tensor<1xi32>, tensor<1x8x4xf32>) -> (tensor<1x2x4xf16>, tensor<1x8xi32>)
  return %map : tensor<1x8xi32>
}

// -----

func.func @compact_result_count(%i: tensor<1x2xi32>, %n: tensor<1xi32>, %h: tensor<1x8x4xf32>) -> tensor<1x8xi32> {
  // expected-error @+1 {{expected one gathered result per source (1), got 0}}
  %map = tok.compact %i, %n gather(%h) : (tensor<1x2xi32>, tensor<1xi32>, tensor<1x8x4xf32>) -> tensor<1x8xi32>
  return %map : tensor<1x8xi32>
}

// -----

func.func @row_budget_threshold(%s: tensor<2x8xf32>, %t: tensor<2xf32>) -> (tensor<2x8xi32>, tensor<2xi32>) {
  // expected-error @+1 {{a threshold budget takes no row_budget}}
  %i, %n = tok.select #tok.threshold<0.5, gt> of %s row_budget %t : (tensor<2x8xf32>, tensor<2xf32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return %i, %n : tensor<2x8xi32>, tensor<2xi32>
}

// -----

func.func @row_budget_ratio_as_count(%s: tensor<2x8xf32>, %r: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected a row_budget of f32 keep ratios for a keep_ratio budget, got 'i32'}}
  %i, %n = tok.select #tok.keep_ratio<0.5, floor> of %s row_budget %r : (tensor<2x8xf32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2xi32>)
  return %i, %n : tensor<2x4xi32>, tensor<2xi32>
}

// -----

func.func @row_budget_count_as_ratio(%s: tensor<2x8xf32>, %r: tensor<2xf32>) -> (tensor<2x4xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected a row_budget of i32 keep counts for a top_k budget, got 'f32'}}
  %i, %n = tok.select #tok.top_k<4> of %s row_budget %r : (tensor<2x8xf32>, tensor<2xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
  return %i, %n : tensor<2x4xi32>, tensor<2xi32>
}

// -----

func.func @row_budget_shape(%s: tensor<2x8xf32>, %k: tensor<3xi32>) -> (tensor<2x4xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected row_budget of shape 2xi32, got 3xi32}}
  %i, %n = tok.select #tok.top_k<4> of %s row_budget %k : (tensor<2x8xf32>, tensor<3xi32>) -> (tensor<2x4xi32>, tensor<2xi32>)
  return %i, %n : tensor<2x4xi32>, tensor<2xi32>
}
