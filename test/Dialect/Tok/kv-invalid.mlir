// RUN: winnow-opt %s --split-input-file --verify-diagnostics

// One case per verifier rule of KvOps.cpp / DiversityOps.cpp and per ODS
// constraint of KvOps.td / DiversityOps.td (element types, static shapes,
// capacities, non-negative attributes, the required k).
//
// The three kv_select_negative_* cases and kv_select_capacity_overflow fail
// with the verifier as of commit a85e000: KvOps.cpp compares getSinks(),
// getWindow() and getHeavy() (uint64_t, the I64Attr return type) with `< 0`,
// which is never true, so negative
// attributes are accepted and wrap in the capacity computation (and the
// unchecked sum sinks + window + heavy can overflow).

func.func @kv_select_lengths_rank(%len: tensor<2x1xi32>, %s: tensor<2x3x10xf32>) {
  // expected-error @+1 {{expected lengths of rank 1 [B], got rank 2}}
  %sl, %n = tok.kv_select %len scores %s {window = 2} : (tensor<2x1xi32>, tensor<2x3x10xf32>) -> (tensor<2x3x2xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_slots_rank(%len: tensor<2xi32>, %s: tensor<2x3x10xf32>) {
  // expected-error @+1 {{expected slots of shape 2xHxCxi32, got 2x6xi32}}
  %sl, %n = tok.kv_select %len scores %s {window = 2} : (tensor<2xi32>, tensor<2x3x10xf32>) -> (tensor<2x6xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_slots_batch(%len: tensor<2xi32>, %s: tensor<2x3x10xf32>) {
  // expected-error @+1 {{expected slots of shape 2xHxCxi32, got 3x3x2xi32}}
  %sl, %n = tok.kv_select %len scores %s {window = 2} : (tensor<2xi32>, tensor<2x3x10xf32>) -> (tensor<3x3x2xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_count_shape(%len: tensor<2xi32>, %s: tensor<2x3x10xf32>) {
  // expected-error @+1 {{expected count of shape 2x3xi32, got 2xi32}}
  %sl, %n = tok.kv_select %len scores %s {window = 2} : (tensor<2xi32>, tensor<2x3x10xf32>) -> (tensor<2x3x2xi32>, tensor<2xi32>)
  return
}

// -----

func.func @kv_select_negative_sinks(%len: tensor<2xi32>, %s: tensor<2x3x10xf32>) {
  // expected-error @+1 {{expected non-negative sinks, window and heavy, got -1, 2 and 0}}
  %sl, %n = tok.kv_select %len scores %s {sinks = -1, window = 2} : (tensor<2xi32>, tensor<2x3x10xf32>) -> (tensor<2x3x2xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_negative_window(%len: tensor<2xi32>, %s: tensor<2x3x10xf32>) {
  // expected-error @+1 {{expected non-negative sinks, window and heavy, got 1, -4 and 0}}
  %sl, %n = tok.kv_select %len scores %s {sinks = 1, window = -4} : (tensor<2xi32>, tensor<2x3x10xf32>) -> (tensor<2x3x2xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_negative_heavy(%len: tensor<2xi32>, %s: tensor<2x3x10xf32>) {
  // expected-error @+1 {{expected non-negative sinks, window and heavy, got 0, 2 and -3}}
  %sl, %n = tok.kv_select %len scores %s {window = 2, heavy = -3} : (tensor<2xi32>, tensor<2x3x10xf32>) -> (tensor<2x3x2xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_scores_heads(%len: tensor<2xi32>, %s: tensor<2x4x10xf32>) {
  // expected-error @+1 {{expected scores of shape 2x3xTxf32, got 2x4x10xf32}}
  %sl, %n = tok.kv_select %len scores %s {window = 2} : (tensor<2xi32>, tensor<2x4x10xf32>) -> (tensor<2x3x2xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_scores_rank(%len: tensor<2xi32>, %s: tensor<2x10xf32>) {
  // expected-error @+1 {{expected scores of shape 2x3xTxf32, got 2x10xf32}}
  %sl, %n = tok.kv_select %len scores %s {window = 2} : (tensor<2xi32>, tensor<2x10xf32>) -> (tensor<2x3x2xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_heavy_without_scores(%len: tensor<2xi32>, %sep: tensor<2x10xi1>) {
  // expected-error @+1 {{heavy hitters need scores}}
  %sl, %n = tok.kv_select %len separators %sep {heavy = 2} : (tensor<2xi32>, tensor<2x10xi1>) -> (tensor<2x3x10xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_separators_length(%len: tensor<2xi32>, %s: tensor<2x3x10xf32>, %sep: tensor<2x11xi1>) {
  // expected-error @+1 {{expected separators of shape 2x10xi1, got 2x11xi1}}
  %sl, %n = tok.kv_select %len scores %s separators %sep : (tensor<2xi32>, tensor<2x3x10xf32>, tensor<2x11xi1>) -> (tensor<2x3x10xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_separators_batch(%len: tensor<2xi32>, %sep: tensor<3x10xi1>) {
  // expected-error @+1 {{expected separators of shape 2xTxi1, got 3x10xi1}}
  %sl, %n = tok.kv_select %len separators %sep : (tensor<2xi32>, tensor<3x10xi1>) -> (tensor<2x3x10xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_no_cache_length(%len: tensor<2xi32>) {
  // expected-error @+1 {{expected scores, separators or cache_size to give the cache length T}}
  %sl, %n = tok.kv_select %len {sinks = 4} : (tensor<2xi32>) -> (tensor<2x3x4xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_capacity(%len: tensor<2xi32>, %s: tensor<2x3x10xf32>) {
  // expected-error @+1 {{expected a slot capacity of at least 6 (the most slots this selection can keep), got 5}}
  %sl, %n = tok.kv_select %len scores %s {sinks = 1, window = 2, heavy = 3} : (tensor<2xi32>, tensor<2x3x10xf32>) -> (tensor<2x3x5xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_capacity_clamped_to_T(%len: tensor<2xi32>, %s: tensor<2x3x10xf32>) {
  // expected-error @+1 {{expected a slot capacity of at least 10 (the most slots this selection can keep), got 9}}
  %sl, %n = tok.kv_select %len scores %s {sinks = 4, window = 508} : (tensor<2xi32>, tensor<2x3x10xf32>) -> (tensor<2x3x9xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_capacity_separators(%len: tensor<2xi32>, %sep: tensor<2x10xi1>) {
  // expected-error @+1 {{expected a slot capacity of at least 10 (the most slots this selection can keep), got 3}}
  %sl, %n = tok.kv_select %len separators %sep {sinks = 1, window = 2} : (tensor<2xi32>, tensor<2x10xi1>) -> (tensor<2x3x3xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_lengths_i64(%len: tensor<2xi64>, %s: tensor<2x3x10xf32>) {
  // expected-error @+1 {{operand #0 must be tensor with static extents after the batch of 32-bit signless integer values}}
  %sl, %n = tok.kv_select %len scores %s {window = 2} : (tensor<2xi64>, tensor<2x3x10xf32>) -> (tensor<2x3x2xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_scores_f16(%len: tensor<2xi32>, %s: tensor<2x3x10xf16>) {
  // expected-error @+1 {{operand #1 must be tensor with static extents after the batch of 32-bit float values}}
  %sl, %n = tok.kv_select %len scores %s {window = 2} : (tensor<2xi32>, tensor<2x3x10xf16>) -> (tensor<2x3x2xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_separators_i8(%len: tensor<2xi32>, %sep: tensor<2x10xi8>) {
  // expected-error @+1 {{operand #1 must be tensor with static extents after the batch of 1-bit signless integer values}}
  %sl, %n = tok.kv_select %len separators %sep : (tensor<2xi32>, tensor<2x10xi8>) -> (tensor<2x3x10xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_dynamic_scores(%len: tensor<2xi32>, %s: tensor<2x3x?xf32>) {
  // expected-error @+1 {{operand #1 must be tensor with static extents after the batch of 32-bit float values}}
  %sl, %n = tok.kv_select %len scores %s {window = 2} : (tensor<2xi32>, tensor<2x3x?xf32>) -> (tensor<2x3x2xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_slots_i64(%len: tensor<2xi32>, %s: tensor<2x3x10xf32>) {
  // expected-error @+1 {{result #0 must be tensor with static extents after the batch of 32-bit signless integer values}}
  %sl, %n = tok.kv_select %len scores %s {window = 2} : (tensor<2xi32>, tensor<2x3x10xf32>) -> (tensor<2x3x2xi64>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_count_f32(%len: tensor<2xi32>, %s: tensor<2x3x10xf32>) {
  // expected-error @+1 {{result #1 must be tensor with static extents after the batch of 32-bit signless integer values}}
  %sl, %n = tok.kv_select %len scores %s {window = 2} : (tensor<2xi32>, tensor<2x3x10xf32>) -> (tensor<2x3x2xi32>, tensor<2x3xf32>)
  return
}

// -----

func.func @kv_gather_slots_rank(%sl: tensor<2x15xi32>, %n: tensor<2x3xi32>, %k: tensor<2x3x10x4xf32>) {
  // expected-error @+1 {{expected slots of rank 3 [B, H, C], got rank 2}}
  %k2, %p = tok.kv_gather %sl, %n gather(%k) : (tensor<2x15xi32>, tensor<2x3xi32>, tensor<2x3x10x4xf32>) -> (tensor<2x3x5x4xf32>, tensor<2x3x5xi32>)
  return
}

// -----

func.func @kv_gather_count_shape(%sl: tensor<2x3x5xi32>, %n: tensor<2xi32>, %k: tensor<2x3x10x4xf32>) {
  // expected-error @+1 {{expected count of shape 2x3xi32, got 2xi32}}
  %k2, %p = tok.kv_gather %sl, %n gather(%k) : (tensor<2x3x5xi32>, tensor<2xi32>, tensor<2x3x10x4xf32>) -> (tensor<2x3x5x4xf32>, tensor<2x3x5xi32>)
  return
}

// -----

func.func @kv_gather_positions_shape(%sl: tensor<2x3x5xi32>, %n: tensor<2x3xi32>, %k: tensor<2x3x10x4xf32>) {
  // expected-error @+1 {{expected positions of shape 2x3x5xi32, got 2x3x10xi32}}
  %k2, %p = tok.kv_gather %sl, %n gather(%k) : (tensor<2x3x5xi32>, tensor<2x3xi32>, tensor<2x3x10x4xf32>) -> (tensor<2x3x5x4xf32>, tensor<2x3x10xi32>)
  return
}

// -----

func.func @kv_gather_result_count(%sl: tensor<2x3x5xi32>, %n: tensor<2x3xi32>, %k: tensor<2x3x10x4xf32>, %v: tensor<2x3x10x4xf32>) {
  // expected-error @+1 {{expected one gathered result per cache (2), got 1}}
  %k2, %p = tok.kv_gather %sl, %n gather(%k, %v) : (tensor<2x3x5xi32>, tensor<2x3xi32>, tensor<2x3x10x4xf32>, tensor<2x3x10x4xf32>) -> (tensor<2x3x5x4xf32>, tensor<2x3x5xi32>)
  return
}

// -----

func.func @kv_gather_cache_rank(%sl: tensor<2x3x5xi32>, %n: tensor<2x3xi32>, %k: tensor<2x3xf32>) {
  // expected-error @+1 {{expected cache 0 of shape 2x3xTx..., got 2x3}}
  %k2, %p = tok.kv_gather %sl, %n gather(%k) : (tensor<2x3x5xi32>, tensor<2x3xi32>, tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3x5xi32>)
  return
}

// -----

func.func @kv_gather_cache_heads(%sl: tensor<2x3x5xi32>, %n: tensor<2x3xi32>, %k: tensor<2x3x10x4xf32>, %v: tensor<2x4x10x4xf32>) {
  // expected-error @+1 {{expected cache 1 of shape 2x3xTx..., got 2x4x10x4}}
  %k2, %v2, %p = tok.kv_gather %sl, %n gather(%k, %v) : (tensor<2x3x5xi32>, tensor<2x3xi32>, tensor<2x3x10x4xf32>, tensor<2x4x10x4xf32>) -> (tensor<2x3x5x4xf32>, tensor<2x4x5x4xf32>, tensor<2x3x5xi32>)
  return
}

// -----

func.func @kv_gather_cache_batch(%sl: tensor<2x3x5xi32>, %n: tensor<2x3xi32>, %k: tensor<1x3x10x4xf32>) {
  // expected-error @+1 {{expected cache 0 of shape 2x3xTx..., got 1x3x10x4}}
  %k2, %p = tok.kv_gather %sl, %n gather(%k) : (tensor<2x3x5xi32>, tensor<2x3xi32>, tensor<1x3x10x4xf32>) -> (tensor<1x3x5x4xf32>, tensor<2x3x5xi32>)
  return
}

// -----

func.func @kv_gather_result_capacity(%sl: tensor<2x3x5xi32>, %n: tensor<2x3xi32>, %k: tensor<2x3x10x4xf32>) {
  // expected-error @+1 {{expected gathered result 0 of type 'tensor<2x3x5x4xf32>', got 'tensor<2x3x10x4xf32>'}}
  %k2, %p = tok.kv_gather %sl, %n gather(%k) : (tensor<2x3x5xi32>, tensor<2x3xi32>, tensor<2x3x10x4xf32>) -> (tensor<2x3x10x4xf32>, tensor<2x3x5xi32>)
  return
}

// -----

func.func @kv_gather_result_trailing(%sl: tensor<2x3x5xi32>, %n: tensor<2x3xi32>, %k: tensor<2x3x10x2x4xbf16>) {
  // expected-error @+1 {{expected gathered result 0 of type 'tensor<2x3x5x2x4xbf16>', got 'tensor<2x3x5x8xbf16>'}}
  %k2, %p = tok.kv_gather %sl, %n gather(%k) : (tensor<2x3x5xi32>, tensor<2x3xi32>, tensor<2x3x10x2x4xbf16>) -> (tensor<2x3x5x8xbf16>, tensor<2x3x5xi32>)
  return
}

// -----

func.func @kv_gather_result_element_type(%sl: tensor<2x3x5xi32>, %n: tensor<2x3xi32>, %k: tensor<2x3x10x4xf32>) {
  // expected-error @+1 {{expected gathered result 0 of type 'tensor<2x3x5x4xf32>', got 'tensor<2x3x5x4xbf16>'}}
  %k2, %p = tok.kv_gather %sl, %n gather(%k) : (tensor<2x3x5xi32>, tensor<2x3xi32>, tensor<2x3x10x4xf32>) -> (tensor<2x3x5x4xbf16>, tensor<2x3x5xi32>)
  return
}

// -----

func.func @kv_gather_slots_i64(%sl: tensor<2x3x5xi64>, %n: tensor<2x3xi32>, %k: tensor<2x3x10x4xf32>) {
  // expected-error @+1 {{operand #0 must be tensor with static extents after the batch of 32-bit signless integer values}}
  %k2, %p = tok.kv_gather %sl, %n gather(%k) : (tensor<2x3x5xi64>, tensor<2x3xi32>, tensor<2x3x10x4xf32>) -> (tensor<2x3x5x4xf32>, tensor<2x3x5xi32>)
  return
}

// -----

func.func @kv_gather_dynamic_cache(%sl: tensor<2x3x5xi32>, %n: tensor<2x3xi32>, %k: tensor<2x3x?x4xf32>) {
  // expected-error @+1 {{operand #2 must be variadic of tensor with static extents after the batch of any type values}}
  %k2, %p = tok.kv_gather %sl, %n gather(%k) : (tensor<2x3x5xi32>, tensor<2x3xi32>, tensor<2x3x?x4xf32>) -> (tensor<2x3x5x4xf32>, tensor<2x3x5xi32>)
  return
}

// -----

func.func @kv_gather_positions_f32(%sl: tensor<2x3x5xi32>, %n: tensor<2x3xi32>, %k: tensor<2x3x10x4xf32>) {
  // expected-error @+1 {{result #1 must be tensor with static extents after the batch of 32-bit signless integer values}}
  %k2, %p = tok.kv_gather %sl, %n gather(%k) : (tensor<2x3x5xi32>, tensor<2x3xi32>, tensor<2x3x10x4xf32>) -> (tensor<2x3x5x4xf32>, tensor<2x3x5xf32>)
  return
}

// -----

func.func @k_center_input_rank(%x: tensor<6x2xf32>) {
  // expected-error @+1 {{expected input of rank 3 [B, N, D], got rank 2}}
  %i, %n = tok.k_center %x {k = 3} : (tensor<6x2xf32>) -> (tensor<1x3xi32>, tensor<1xi32>)
  return
}

// -----

func.func @k_center_lengths_shape(%x: tensor<2x6x2xf32>, %len: tensor<3xi32>) {
  // expected-error @+1 {{expected lengths of shape 2xi32, got 3xi32}}
  %i, %n = tok.k_center %x lengths %len {k = 3} : (tensor<2x6x2xf32>, tensor<3xi32>) -> (tensor<2x3xi32>, tensor<2xi32>)
  return
}

// -----

func.func @k_center_first_shape(%x: tensor<2x6x2xf32>, %f: tensor<2x1xi32>) {
  // expected-error @+1 {{expected first of shape 2xi32, got 2x1xi32}}
  %i, %n = tok.k_center %x first %f {k = 3} : (tensor<2x6x2xf32>, tensor<2x1xi32>) -> (tensor<2x3xi32>, tensor<2xi32>)
  return
}

// -----

func.func @k_center_count_shape(%x: tensor<2x6x2xf32>) {
  // expected-error @+1 {{expected count of shape 2xi32, got 1xi32}}
  %i, %n = tok.k_center %x {k = 3} : (tensor<2x6x2xf32>) -> (tensor<2x3xi32>, tensor<1xi32>)
  return
}

// -----

func.func @k_center_indices_rank(%x: tensor<2x6x2xf32>) {
  // expected-error @+1 {{expected indices of shape 2xCxi32, got 2x3x1xi32}}
  %i, %n = tok.k_center %x {k = 3} : (tensor<2x6x2xf32>) -> (tensor<2x3x1xi32>, tensor<2xi32>)
  return
}

// -----

func.func @k_center_indices_batch(%x: tensor<2x6x2xf32>) {
  // expected-error @+1 {{expected indices of shape 2xCxi32, got 1x3xi32}}
  %i, %n = tok.k_center %x {k = 3} : (tensor<2x6x2xf32>) -> (tensor<1x3xi32>, tensor<2xi32>)
  return
}

// -----

func.func @k_center_capacity(%x: tensor<2x6x2xf32>) {
  // expected-error @+1 {{expected an index capacity of at least 3, got 2}}
  %i, %n = tok.k_center %x {k = 3} : (tensor<2x6x2xf32>) -> (tensor<2x2xi32>, tensor<2xi32>)
  return
}

// -----

func.func @k_center_capacity_clamped_to_N(%x: tensor<2x6x2xf32>) {
  // expected-error @+1 {{expected an index capacity of at least 6, got 5}}
  %i, %n = tok.k_center %x {k = 64} : (tensor<2x6x2xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @k_center_input_i32(%x: tensor<2x6x2xi32>) {
  // expected-error @+1 {{operand #0 must be tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values}}
  %i, %n = tok.k_center %x {k = 3} : (tensor<2x6x2xi32>) -> (tensor<2x3xi32>, tensor<2xi32>)
  return
}

// -----

func.func @k_center_first_i64(%x: tensor<2x6x2xf32>, %f: tensor<2xi64>) {
  // expected-error @+1 {{operand #1 must be tensor with static extents after the batch of 32-bit signless integer values}}
  %i, %n = tok.k_center %x first %f {k = 3} : (tensor<2x6x2xf32>, tensor<2xi64>) -> (tensor<2x3xi32>, tensor<2xi32>)
  return
}

// -----

func.func @k_center_indices_i64(%x: tensor<2x6x2xf32>) {
  // expected-error @+1 {{result #0 must be tensor with static extents after the batch of 32-bit signless integer values}}
  %i, %n = tok.k_center %x {k = 3} : (tensor<2x6x2xf32>) -> (tensor<2x3xi64>, tensor<2xi32>)
  return
}

// -----

func.func @k_center_missing_k(%x: tensor<2x6x2xf32>) {
  // expected-error @+1 {{requires attribute 'k'}}
  %i, %n = tok.k_center %x : (tensor<2x6x2xf32>) -> (tensor<2x3xi32>, tensor<2xi32>)
  return
}

// -----

// sinks + window overflows int64 in the capacity computation (fails with the
// verifier as of a85e000: the sum wraps negative and any capacity passes).
func.func @kv_select_capacity_overflow(%len: tensor<2xi32>, %s: tensor<2x3x10xf32>) {
  // expected-error @+1 {{expected a slot capacity of at least 10 (the most slots this selection can keep), got 2}}
  %sl, %n = tok.kv_select %len scores %s {sinks = 4611686018427387904, window = 4611686018427387904} : (tensor<2xi32>, tensor<2x3x10xf32>) -> (tensor<2x3x2xi32>, tensor<2x3xi32>)
  return
}

// -----

func.func @kv_select_cache_size_mismatch(%len: tensor<2xi32>, %s: tensor<2x3x10xf32>) -> tensor<2x3x10xi32> {
  // expected-error @+1 {{expected cache_size 12 to match the scores/separators length 10}}
  %sl, %n = tok.kv_select %len scores %s {heavy = 2, cache_size = 12} : (tensor<2xi32>, tensor<2x3x10xf32>) -> (tensor<2x3x10xi32>, tensor<2x3xi32>)
  return %sl : tensor<2x3x10xi32>
}

// -----

func.func @kv_select_cache_size_negative(%len: tensor<2xi32>) -> tensor<2x3x4xi32> {
  // expected-error @+1 {{expected a non-negative cache_size, got -5}}
  %sl, %n = tok.kv_select %len {sinks = 1, window = 2, cache_size = -5} : (tensor<2xi32>) -> (tensor<2x3x4xi32>, tensor<2x3xi32>)
  return %sl : tensor<2x3x4xi32>
}

// -----

func.func @kv_select_saturating_capacity(%len: tensor<1xi32>) -> tensor<1x1x2xi32> {
  // Huge attributes saturate at T instead of wrapping around.
  // expected-error @+1 {{expected a slot capacity of at least 10 (the most slots this selection can keep), got 2}}
  %sl, %n = tok.kv_select %len {sinks = 4611686018427387904, window = 4611686018427387904, cache_size = 10} : (tensor<1xi32>) -> (tensor<1x1x2xi32>, tensor<1x1xi32>)
  return %sl : tensor<1x1x2xi32>
}

// -----

func.func @kv_row_budget_shape(%len: tensor<2xi32>, %acc: tensor<2x4x16xf32>, %rb: tensor<2x2xi32>) -> tensor<2x4x6xi32> {
  // expected-error @+1 {{expected row_budget of shape 2x3xi32, got 2x2xi32}}
  %slots, %n = tok.kv_select %len scores %acc row_budget %rb {sinks = 1, window = 3, heavy = 2}
      : (tensor<2xi32>, tensor<2x4x16xf32>, tensor<2x2xi32>) -> (tensor<2x4x6xi32>, tensor<2x4xi32>)
  return %slots : tensor<2x4x6xi32>
}
