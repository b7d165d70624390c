// RUN: winnow-opt %s --split-input-file --verify-diagnostics

// One case per verifier rule of DartSelectOp::verify (DiversityOps.cpp) and per
// ODS constraint of tok.dart_select (DiversityOps.td): ranks, hidden shape,
// lengths / count shapes, span bounds, non-negative attributes, at least one
// pivot, indices shape, the index capacity (plain, saturated by the span, empty
// span), element types, static shapes and the required / typed attributes.

func.func @dart_keys_rank(%k: tensor<8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{expected keys and hidden of rank 3 [B, L, D]}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_hidden_rank(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3x1xf32>) {
  // expected-error @+1 {{expected keys and hidden of rank 3 [B, L, D]}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3x1xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_hidden_batch(%k: tensor<2x8x4xf32>, %h: tensor<3x8x3xf32>) {
  // expected-error @+1 {{expected hidden of shape 2x8xD, got 3x8x3}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<3x8x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_hidden_tokens(%k: tensor<2x8x4xf32>, %h: tensor<2x7x3xf32>) {
  // expected-error @+1 {{expected hidden of shape 2x8xD, got 2x7x3}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x7x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_lengths_shape(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>, %len: tensor<3xi32>) {
  // expected-error @+1 {{expected lengths of shape 2xi32, got 3xi32}}
  %i, %n = tok.dart_select %k, %h lengths %len {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>, tensor<3xi32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_lengths_rank(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>, %len: tensor<2x1xi32>) {
  // expected-error @+1 {{expected lengths of shape 2xi32, got 2x1xi32}}
  %i, %n = tok.dart_select %k, %h lengths %len {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>, tensor<2x1xi32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_count_shape(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{expected count of shape 2xi32, got 1xi32}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x5xi32>, tensor<1xi32>)
  return
}

// -----

func.func @dart_count_rank(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{expected count of shape 2xi32, got 2x1xi32}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x5xi32>, tensor<2x1xi32>)
  return
}

// -----

func.func @dart_span_size(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{expected span [start, end) within [0, 8]}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_span_three(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{expected span [start, end) within [0, 8]}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 4, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_span_negative_start(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{expected span [start, end) within [0, 8]}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: -1, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_span_reversed(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{expected span [start, end) within [0, 8]}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 5, 3>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_span_past_end(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{expected span [start, end) within [0, 8]}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 9>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_negative_image_pivots(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{expected non-negative image_pivots, text_pivots and keep, got -1, 1 and 2}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = -1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_negative_text_pivots(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{expected non-negative image_pivots, text_pivots and keep, got 1, -2 and 2}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = -2, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_negative_keep(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{expected non-negative image_pivots, text_pivots and keep, got 1, 1 and -4}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = -4} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_no_pivots(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{expected at least one pivot}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 0, text_pivots = 0, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_indices_rank(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{expected indices of shape 2xCxi32, got 2x5x1xi32}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x5x1xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_indices_batch(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{expected indices of shape 2xCxi32, got 3x5xi32}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<3x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_capacity(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{expected an index capacity of at least 5 (the largest count this selection can keep), got 4}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_capacity_saturated(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{expected an index capacity of at least 8 (the largest count this selection can keep), got 7}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 100} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x7xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_capacity_empty_span(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{expected an index capacity of at least 8 (the largest count this selection can keep), got 7}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 4, 4>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x7xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_keys_element_type(%k: tensor<2x8x4xi32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{operand #0 must be tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xi32>, tensor<2x8x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_hidden_element_type(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf64>) {
  // expected-error @+1 {{operand #1 must be tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf64>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_keys_dynamic(%k: tensor<2x?x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{operand #0 must be tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x?x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_lengths_element_type(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>, %len: tensor<2xi64>) {
  // expected-error @+1 {{operand #2 must be tensor with static extents after the batch of 32-bit signless integer values}}
  %i, %n = tok.dart_select %k, %h lengths %len {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>, tensor<2xi64>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_indices_element_type(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{result #0 must be tensor with static extents after the batch of 32-bit signless integer values}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x5xi64>, tensor<2xi32>)
  return
}

// -----

func.func @dart_count_element_type(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{result #1 must be tensor with static extents after the batch of 32-bit signless integer values}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x5xi32>, tensor<2xf32>)
  return
}

// -----

func.func @dart_missing_keep(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{requires attribute 'keep'}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1, text_pivots = 1} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_span_not_i64_array(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{attribute 'span' failed to satisfy constraint: i64 dense array attribute}}
  %i, %n = tok.dart_select %k, %h {span = array<i32: 2, 8>, image_pivots = 1, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dart_pivots_not_integer(%k: tensor<2x8x4xf32>, %h: tensor<2x8x3xf32>) {
  // expected-error @+1 {{attribute 'image_pivots' failed to satisfy constraint: 64-bit signless integer attribute}}
  %i, %n = tok.dart_select %k, %h {span = array<i64: 2, 8>, image_pivots = 1.0, text_pivots = 1, keep = 2} : (tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return
}
