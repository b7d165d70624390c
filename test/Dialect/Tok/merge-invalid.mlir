// RUN: winnow-opt %s --split-input-file --verify-diagnostics

// One case per verifier rule of MergeOps.cpp (tok.bipartite_plan,
// tok.scatter_merge) and per ODS constraint of MergeOps.td (element types,
// static shapes, attribute kinds, the reduction enum).

func.func @plan_metric_rank(%m: tensor<2x8xf32>) {
  // expected-error @+1 {{'tok.bipartite_plan' op expected metric of rank 3 [B, N, Cm], got rank 2}}
  tok.bipartite_plan %m {r = 1}
      : (tensor<2x8xf32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @plan_neither_r_nor_threshold(%m: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.bipartite_plan' op expected exactly one of 'r' and 'threshold'}}
  tok.bipartite_plan %m
      : (tensor<2x8x4xf32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @plan_both_r_and_threshold(%m: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.bipartite_plan' op expected exactly one of 'r' and 'threshold'}}
  tok.bipartite_plan %m {r = 1, threshold = 0.5 : f64}
      : (tensor<2x8x4xf32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @plan_threshold_nan(%m: tensor<2x8x4xf32>) {
  // 0x7FF8000000000000 is a quiet NaN.
  // expected-error @+1 {{'tok.bipartite_plan' op expected a threshold that is not NaN}}
  tok.bipartite_plan %m {threshold = 0x7FF8000000000000 : f64}
      : (tensor<2x8x4xf32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @plan_distill_one_token(%m: tensor<2x1x4xf32>) {
  // expected-error @+1 {{'tok.bipartite_plan' op expected at least 2 tokens with distill_token}}
  tok.bipartite_plan %m {r = 1, distill_token}
      : (tensor<2x1x4xf32>) -> (tensor<2x1xi32>, tensor<2xi32>)
  return
}

// -----

func.func @plan_class_no_token(%m: tensor<2x0x4xf32>) {
  // N = 0 with class_token (a static extent of 0 is a valid shape).
  // expected-error @+1 {{'tok.bipartite_plan' op expected at least 1 token with class_token}}
  tok.bipartite_plan %m {r = 1, class_token}
      : (tensor<2x0x4xf32>) -> (tensor<2x0xi32>, tensor<2xi32>)
  return
}

// -----

func.func @plan_parent_shape(%m: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.bipartite_plan' op expected parent of shape 2x8xi32, got 2x7xi32}}
  tok.bipartite_plan %m {r = 1}
      : (tensor<2x8x4xf32>) -> (tensor<2x7xi32>, tensor<2xi32>)
  return
}

// -----

func.func @plan_count_shape(%m: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.bipartite_plan' op expected count of shape 2xi32, got 3xi32}}
  tok.bipartite_plan %m {r = 1}
      : (tensor<2x8x4xf32>) -> (tensor<2x8xi32>, tensor<3xi32>)
  return
}

// -----

func.func @plan_integer_metric(%m: tensor<2x8x4xi32>) {
  // expected-error @+1 {{'tok.bipartite_plan' op operand #0 must be tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values, but got 'tensor<2x8x4xi32>'}}
  tok.bipartite_plan %m {r = 1}
      : (tensor<2x8x4xi32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @plan_f64_metric(%m: tensor<2x8x4xf64>) {
  // expected-error @+1 {{'tok.bipartite_plan' op operand #0 must be tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values, but got 'tensor<2x8x4xf64>'}}
  tok.bipartite_plan %m {r = 1}
      : (tensor<2x8x4xf64>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @plan_dynamic_metric(%m: tensor<2x?x4xf32>) {
  // expected-error @+1 {{'tok.bipartite_plan' op operand #0 must be tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values, but got 'tensor<2x?x4xf32>'}}
  tok.bipartite_plan %m {r = 1}
      : (tensor<2x?x4xf32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @plan_parent_i64(%m: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.bipartite_plan' op result #0 must be tensor with static extents after the batch of 32-bit signless integer values, but got 'tensor<2x8xi64>'}}
  tok.bipartite_plan %m {r = 1}
      : (tensor<2x8x4xf32>) -> (tensor<2x8xi64>, tensor<2xi32>)
  return
}

// -----

func.func @plan_count_f32(%m: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.bipartite_plan' op result #1 must be tensor with static extents after the batch of 32-bit signless integer values, but got 'tensor<2xf32>'}}
  tok.bipartite_plan %m {r = 1}
      : (tensor<2x8x4xf32>) -> (tensor<2x8xi32>, tensor<2xf32>)
  return
}

// -----

func.func @plan_r_i32(%m: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.bipartite_plan' op attribute 'r' failed to satisfy constraint: 64-bit signless integer attribute}}
  tok.bipartite_plan %m {r = 1 : i32}
      : (tensor<2x8x4xf32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @plan_threshold_f32(%m: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.bipartite_plan' op attribute 'threshold' failed to satisfy constraint: 64-bit float attribute}}
  tok.bipartite_plan %m {threshold = 0.5 : f32}
      : (tensor<2x8x4xf32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @plan_class_token_not_unit(%m: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.bipartite_plan' op attribute 'class_token' failed to satisfy constraint: unit attribute}}
  tok.bipartite_plan %m {r = 1, class_token = 1 : i64}
      : (tensor<2x8x4xf32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @merge_parent_rank(%p: tensor<2x8x1xi32>, %n: tensor<2xi32>, %x: tensor<2x8x3xf32>) {
  // expected-error @+1 {{'tok.scatter_merge' op expected parent of rank 2 [B, N], got rank 3}}
  tok.scatter_merge %p, %n gather(%x)
      : (tensor<2x8x1xi32>, tensor<2xi32>, tensor<2x8x3xf32>) -> (tensor<2x5x3xf32>, tensor<2x5xf32>)
  return
}

// -----

func.func @merge_count_shape(%p: tensor<2x8xi32>, %n: tensor<1xi32>, %x: tensor<2x8x3xf32>) {
  // expected-error @+1 {{'tok.scatter_merge' op expected count of shape 2xi32, got 1xi32}}
  tok.scatter_merge %p, %n gather(%x)
      : (tensor<2x8xi32>, tensor<1xi32>, tensor<2x8x3xf32>) -> (tensor<2x5x3xf32>, tensor<2x5xf32>)
  return
}

// -----

func.func @merge_missing_merged_result(%p: tensor<2x8xi32>, %n: tensor<2xi32>, %x: tensor<2x8x3xf32>) {
  // One source and only the merged sizes as results.
  // expected-error @+1 {{'tok.scatter_merge' op expected one merged result per source (1), got 0}}
  tok.scatter_merge %p, %n gather(%x)
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<2x8x3xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @merge_extra_merged_result(%p: tensor<2x8xi32>, %n: tensor<2xi32>, %x: tensor<2x8x3xf32>) {
  // expected-error @+1 {{'tok.scatter_merge' op expected one merged result per source (1), got 2}}
  tok.scatter_merge %p, %n gather(%x)
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<2x8x3xf32>) -> (tensor<2x5x3xf32>, tensor<2x5x3xf32>, tensor<2x5xf32>)
  return
}

// -----

func.func @merge_sizes_shape(%p: tensor<2x8xi32>, %n: tensor<2xi32>, %x: tensor<2x8x3xf32>, %s: tensor<2x7xf32>) {
  // expected-error @+1 {{'tok.scatter_merge' op expected sizes of shape 2x8xf32, got 2x7xf32}}
  tok.scatter_merge %p, %n gather(%x) sizes %s
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<2x8x3xf32>, tensor<2x7xf32>) -> (tensor<2x5x3xf32>, tensor<2x5xf32>)
  return
}

// -----

func.func @merge_source_rank1(%p: tensor<2x8xi32>, %n: tensor<2xi32>, %x: tensor<2xf32>) {
  // expected-error @+1 {{'tok.scatter_merge' op expected source 0 of shape 2x8x..., got 2}}
  tok.scatter_merge %p, %n gather(%x)
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<2xf32>) -> (tensor<2xf32>, tensor<2x5xf32>)
  return
}

// -----

func.func @merge_source_batch(%p: tensor<2x8xi32>, %n: tensor<2xi32>, %x: tensor<3x8x3xf32>) {
  // expected-error @+1 {{'tok.scatter_merge' op expected source 0 of shape 2x8x..., got 3x8x3}}
  tok.scatter_merge %p, %n gather(%x)
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<3x8x3xf32>) -> (tensor<3x5x3xf32>, tensor<2x5xf32>)
  return
}

// -----

func.func @merge_source_tokens(%p: tensor<2x8xi32>, %n: tensor<2xi32>, %x: tensor<2x9x3xf32>) {
  // expected-error @+1 {{'tok.scatter_merge' op expected source 0 of shape 2x8x..., got 2x9x3}}
  tok.scatter_merge %p, %n gather(%x)
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<2x9x3xf32>) -> (tensor<2x5x3xf32>, tensor<2x5xf32>)
  return
}

// -----

func.func @merge_result_rank(%p: tensor<2x8xi32>, %n: tensor<2xi32>, %x: tensor<2x8x3xf32>) {
  // expected-error @+1 {{'tok.scatter_merge' op expected merged result 0 to match source 'tensor<2x8x3xf32>' except on axis 1, got 'tensor<2x5xf32>'}}
  tok.scatter_merge %p, %n gather(%x)
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<2x8x3xf32>) -> (tensor<2x5xf32>, tensor<2x5xf32>)
  return
}

// -----

func.func @merge_result_feature_dim(%p: tensor<2x8xi32>, %n: tensor<2xi32>, %x: tensor<2x8x3xf32>) {
  // expected-error @+1 {{'tok.scatter_merge' op expected merged result 0 to match source 'tensor<2x8x3xf32>' except on axis 1, got 'tensor<2x5x4xf32>'}}
  tok.scatter_merge %p, %n gather(%x)
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<2x8x3xf32>) -> (tensor<2x5x4xf32>, tensor<2x5xf32>)
  return
}

// -----

func.func @merge_result_batch(%p: tensor<2x8xi32>, %n: tensor<2xi32>, %x: tensor<2x8x3xf32>) {
  // expected-error @+1 {{'tok.scatter_merge' op expected merged result 0 to match source 'tensor<2x8x3xf32>' except on axis 1, got 'tensor<1x5x3xf32>'}}
  tok.scatter_merge %p, %n gather(%x)
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<2x8x3xf32>) -> (tensor<1x5x3xf32>, tensor<2x5xf32>)
  return
}

// -----

func.func @merge_result_element_type(%p: tensor<2x8xi32>, %n: tensor<2xi32>, %x: tensor<2x8x3xf32>) {
  // expected-error @+1 {{'tok.scatter_merge' op expected merged result 0 to match source 'tensor<2x8x3xf32>' except on axis 1, got 'tensor<2x5x3xbf16>'}}
  tok.scatter_merge %p, %n gather(%x)
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<2x8x3xf32>) -> (tensor<2x5x3xbf16>, tensor<2x5xf32>)
  return
}

// -----

func.func @merge_capacity_mismatch(%p: tensor<2x8xi32>, %n: tensor<2xi32>, %x: tensor<2x8x3xf32>, %y: tensor<2x8xbf16>) {
  // expected-error @+1 {{'tok.scatter_merge' op expected every merged result to have the same capacity, got 5 and 6}}
  tok.scatter_merge %p, %n gather(%x, %y)
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<2x8x3xf32>, tensor<2x8xbf16>) -> (tensor<2x5x3xf32>, tensor<2x6xbf16>, tensor<2x5xf32>)
  return
}

// -----

func.func @merge_sizes_result_capacity(%p: tensor<2x8xi32>, %n: tensor<2xi32>, %x: tensor<2x8x3xf32>) {
  // expected-error @+1 {{'tok.scatter_merge' op expected merged_sizes of shape 2x5xf32, got 2x6xf32}}
  tok.scatter_merge %p, %n gather(%x)
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<2x8x3xf32>) -> (tensor<2x5x3xf32>, tensor<2x6xf32>)
  return
}

// -----

func.func @merge_sizes_result_batch(%p: tensor<2x8xi32>, %n: tensor<2xi32>, %x: tensor<2x8x3xf32>) {
  // expected-error @+1 {{'tok.scatter_merge' op expected merged_sizes of shape 2x5xf32, got 1x5xf32}}
  tok.scatter_merge %p, %n gather(%x)
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<2x8x3xf32>) -> (tensor<2x5x3xf32>, tensor<1x5xf32>)
  return
}

// -----

func.func @merge_sizes_result_rank_no_sources(%p: tensor<2x8xi32>, %n: tensor<2xi32>) {
  // Without sources the capacity comes from merged_sizes, which must be [B, C].
  // expected-error @+1 {{'tok.scatter_merge' op expected merged_sizes of shape 2x0xf32, got 2xf32}}
  tok.scatter_merge %p, %n gather()
      : (tensor<2x8xi32>, tensor<2xi32>) -> tensor<2xf32>
  return
}

// -----

func.func @merge_sizes_f16(%p: tensor<2x8xi32>, %n: tensor<2xi32>, %x: tensor<2x8x3xf32>, %s: tensor<2x8xf16>) {
  // expected-error @+1 {{'tok.scatter_merge' op operand #3 must be tensor with static extents after the batch of 32-bit float values, but got 'tensor<2x8xf16>'}}
  tok.scatter_merge %p, %n gather(%x) sizes %s
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<2x8x3xf32>, tensor<2x8xf16>) -> (tensor<2x5x3xf32>, tensor<2x5xf32>)
  return
}

// -----

func.func @merge_integer_source(%p: tensor<2x8xi32>, %n: tensor<2xi32>, %x: tensor<2x8x3xi32>) {
  // expected-error @+1 {{'tok.scatter_merge' op operand #2 must be variadic of tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values, but got 'tensor<2x8x3xi32>'}}
  tok.scatter_merge %p, %n gather(%x)
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<2x8x3xi32>) -> (tensor<2x5x3xi32>, tensor<2x5xf32>)
  return
}

// -----

func.func @merge_parent_i64(%p: tensor<2x8xi64>, %n: tensor<2xi32>, %x: tensor<2x8x3xf32>) {
  // expected-error @+1 {{'tok.scatter_merge' op operand #0 must be tensor with static extents after the batch of 32-bit signless integer values, but got 'tensor<2x8xi64>'}}
  tok.scatter_merge %p, %n gather(%x)
      : (tensor<2x8xi64>, tensor<2xi32>, tensor<2x8x3xf32>) -> (tensor<2x5x3xf32>, tensor<2x5xf32>)
  return
}

// -----

func.func @merge_count_i64(%p: tensor<2x8xi32>, %n: tensor<2xi64>, %x: tensor<2x8x3xf32>) {
  // expected-error @+1 {{'tok.scatter_merge' op operand #1 must be tensor with static extents after the batch of 32-bit signless integer values, but got 'tensor<2xi64>'}}
  tok.scatter_merge %p, %n gather(%x)
      : (tensor<2x8xi32>, tensor<2xi64>, tensor<2x8x3xf32>) -> (tensor<2x5x3xf32>, tensor<2x5xf32>)
  return
}

// -----

func.func @merge_merged_sizes_bf16(%p: tensor<2x8xi32>, %n: tensor<2xi32>, %x: tensor<2x8x3xf32>) {
  // expected-error @+1 {{'tok.scatter_merge' op result #1 must be tensor with static extents after the batch of 32-bit float values, but got 'tensor<2x5xbf16>'}}
  tok.scatter_merge %p, %n gather(%x)
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<2x8x3xf32>) -> (tensor<2x5x3xf32>, tensor<2x5xbf16>)
  return
}

// -----

func.func @merge_dynamic_source(%p: tensor<2x8xi32>, %n: tensor<2xi32>, %x: tensor<2x8x?xf32>) {
  // expected-error @+1 {{'tok.scatter_merge' op operand #2 must be variadic of tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values, but got 'tensor<2x8x?xf32>'}}
  tok.scatter_merge %p, %n gather(%x)
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<2x8x?xf32>) -> (tensor<2x5x?xf32>, tensor<2x5xf32>)
  return
}

// -----

func.func @merge_reduction_wrong_enum(%p: tensor<2x8xi32>, %n: tensor<2xi32>, %x: tensor<2x8x3xf32>) {
  // An enum of another op.
  // expected-error @+1 {{'tok.scatter_merge' op attribute 'reduction' failed to satisfy constraint: how the tokens merged into one output row are combined}}
  tok.scatter_merge %p, %n gather(%x) {reduction = #tok.segment_reduction<max>}
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<2x8x3xf32>) -> (tensor<2x5x3xf32>, tensor<2x5xf32>)
  return
}

// -----

func.func @merge_reduction_unknown(%p: tensor<2x8xi32>, %n: tensor<2xi32>, %x: tensor<2x8x3xf32>) {
  // Not a merge_reduction keyword (a parse error).
  // expected-error @+2 {{expected ::winnow::tok::MergeReduction to be one of: sum, mean, weighted_mean, amax}}
  // expected-error @+1 {{failed to parse Tok_MergeReductionAttr parameter 'value'}}
  tok.scatter_merge %p, %n gather(%x) {reduction = #tok.merge_reduction<median>}
      : (tensor<2x8xi32>, tensor<2xi32>, tensor<2x8x3xf32>) -> (tensor<2x5x3xf32>, tensor<2x5xf32>)
  return
}

// -----

func.func @plan_stride_one(%m: tensor<1x6x4xf32>) -> tensor<1x6xi32> {
  // expected-error @+1 {{expected a stride of at least 2, got 1}}
  %p, %n = tok.bipartite_plan %m {r = 1, stride = 1} : (tensor<1x6x4xf32>) -> (tensor<1x6xi32>, tensor<1xi32>)
  return %p : tensor<1x6xi32>
}

// -----

func.func @plan_distill_stride(%m: tensor<1x6x4xf32>) -> tensor<1x6xi32> {
  // expected-error @+1 {{distill_token needs stride 2 (token 1 is a destination only in the alternating split)}}
  %p, %n = tok.bipartite_plan %m {r = 1, stride = 3, distill_token} : (tensor<1x6x4xf32>) -> (tensor<1x6xi32>, tensor<1xi32>)
  return %p : tensor<1x6xi32>
}

// -----

func.func @weighted_gather_weights_shape(%i: tensor<2x3x4xi32>, %w: tensor<2x3x2xf32>, %x: tensor<2x7x5xf32>) -> tensor<2x3x5xf32> {
  // expected-error @+1 {{expected weights of shape 2x3x4xf32, got 2x3x2xf32}}
  %y = tok.weighted_gather %i, %w gather(%x) : (tensor<2x3x4xi32>, tensor<2x3x2xf32>, tensor<2x7x5xf32>) -> tensor<2x3x5xf32>
  return %y : tensor<2x3x5xf32>
}

// -----

func.func @weighted_gather_batch(%i: tensor<2x3x4xi32>, %w: tensor<2x3x4xf32>, %x: tensor<1x7x5xf32>) -> tensor<2x3x5xf32> {
  // expected-error @+1 {{expected input of shape 2xNxD, got 1x7x5}}
  %y = tok.weighted_gather %i, %w gather(%x) : (tensor<2x3x4xi32>, tensor<2x3x4xf32>, tensor<1x7x5xf32>) -> tensor<2x3x5xf32>
  return %y : tensor<2x3x5xf32>
}

// -----

func.func @weighted_gather_output(%i: tensor<2x3x4xi32>, %w: tensor<2x3x4xf32>, %x: tensor<2x7x5xbf16>) -> tensor<2x3x5xf32> {
  // expected-error @+1 {{expected output of shape 2x3x5 and element type 'bf16', got 'tensor<2x3x5xf32>'}}
  %y = tok.weighted_gather %i, %w gather(%x) : (tensor<2x3x4xi32>, tensor<2x3x4xf32>, tensor<2x7x5xbf16>) -> tensor<2x3x5xf32>
  return %y : tensor<2x3x5xf32>
}

// -----

func.func @weighted_gather_rank(%i: tensor<2x3xi32>, %w: tensor<2x3xf32>, %x: tensor<2x7x5xf32>) -> tensor<2x3x5xf32> {
  // expected-error @+1 {{expected indices of rank 3 [B, M, K], got rank 2}}
  %y = tok.weighted_gather %i, %w gather(%x) : (tensor<2x3xi32>, tensor<2x3xf32>, tensor<2x7x5xf32>) -> tensor<2x3x5xf32>
  return %y : tensor<2x3x5xf32>
}
