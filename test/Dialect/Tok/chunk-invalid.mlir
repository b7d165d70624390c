// RUN: winnow-opt %s --split-input-file --verify-diagnostics

// One case per verifier rule of ChunkOps.cpp and per ODS constraint of
// ChunkOps.td (element types, static shapes, capacity, epsilon range).

func.func @boundary_queries_rank(%q: tensor<2x8xbf16>, %k: tensor<2x8xbf16>) -> tensor<2x8xi1> {
  // expected-error @+1 {{expected queries of rank 3 [B, L, D], got rank 2}}
  %p, %b = tok.boundary %q, %k : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> (tensor<2x8xf32>, tensor<2x8xi1>)
  return %b : tensor<2x8xi1>
}

// -----

func.func @boundary_keys_shape(%q: tensor<2x8x4xbf16>, %k: tensor<2x8x5xbf16>) -> tensor<2x8xi1> {
  // expected-error @+1 {{expected keys of the queries' type 'tensor<2x8x4xbf16>', got 'tensor<2x8x5xbf16>'}}
  %p, %b = tok.boundary %q, %k : (tensor<2x8x4xbf16>, tensor<2x8x5xbf16>) -> (tensor<2x8xf32>, tensor<2x8xi1>)
  return %b : tensor<2x8xi1>
}

// -----

func.func @boundary_keys_element_type(%q: tensor<2x8x4xbf16>, %k: tensor<2x8x4xf16>) -> tensor<2x8xi1> {
  // expected-error @+1 {{expected keys of the queries' type 'tensor<2x8x4xbf16>', got 'tensor<2x8x4xf16>'}}
  %p, %b = tok.boundary %q, %k : (tensor<2x8x4xbf16>, tensor<2x8x4xf16>) -> (tensor<2x8xf32>, tensor<2x8xi1>)
  return %b : tensor<2x8xi1>
}

// -----

func.func @boundary_lengths_shape(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %len: tensor<3xi32>) -> tensor<2x8xi1> {
  // expected-error @+1 {{expected lengths of shape 2xi32, got 3xi32}}
  %p, %b = tok.boundary %q, %k lengths %len : (tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<3xi32>) -> (tensor<2x8xf32>, tensor<2x8xi1>)
  return %b : tensor<2x8xi1>
}

// -----

func.func @boundary_probs_shape(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>) -> tensor<2x8xi1> {
  // expected-error @+1 {{expected probs of shape 2x8xf32, got 2x7xf32}}
  %p, %b = tok.boundary %q, %k : (tensor<2x8x4xf32>, tensor<2x8x4xf32>) -> (tensor<2x7xf32>, tensor<2x8xi1>)
  return %b : tensor<2x8xi1>
}

// -----

func.func @boundary_boundaries_shape(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>) -> tensor<1x8xi1> {
  // expected-error @+1 {{expected boundaries of shape 2x8xi1, got 1x8xi1}}
  %p, %b = tok.boundary %q, %k : (tensor<2x8x4xf32>, tensor<2x8x4xf32>) -> (tensor<2x8xf32>, tensor<1x8xi1>)
  return %b : tensor<1x8xi1>
}

// -----

func.func @boundary_integer_queries(%q: tensor<2x8x4xi32>, %k: tensor<2x8x4xi32>) -> tensor<2x8xi1> {
  // expected-error @+1 {{operand #0 must be tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values}}
  %p, %b = tok.boundary %q, %k : (tensor<2x8x4xi32>, tensor<2x8x4xi32>) -> (tensor<2x8xf32>, tensor<2x8xi1>)
  return %b : tensor<2x8xi1>
}

// -----

func.func @boundary_f64_keys(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf64>) -> tensor<2x8xi1> {
  // expected-error @+1 {{operand #1 must be tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values}}
  %p, %b = tok.boundary %q, %k : (tensor<2x8x4xf32>, tensor<2x8x4xf64>) -> (tensor<2x8xf32>, tensor<2x8xi1>)
  return %b : tensor<2x8xi1>
}

// -----

func.func @boundary_dynamic_queries(%q: tensor<?x8x4xf32>, %k: tensor<?x8x4xf32>) -> tensor<2x8xi1> {
  // expected-error @+1 {{'tok.boundary' op mixes a dynamic batch extent with the static leading extent 2 of result #0}}
  %p, %b = tok.boundary %q, %k : (tensor<?x8x4xf32>, tensor<?x8x4xf32>) -> (tensor<2x8xf32>, tensor<2x8xi1>)
  return %b : tensor<2x8xi1>
}

// -----

func.func @boundary_i64_lengths(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %len: tensor<2xi64>) -> tensor<2x8xi1> {
  // expected-error @+1 {{operand #2 must be tensor with static extents after the batch of 32-bit signless integer values}}
  %p, %b = tok.boundary %q, %k lengths %len : (tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2xi64>) -> (tensor<2x8xf32>, tensor<2x8xi1>)
  return %b : tensor<2x8xi1>
}

// -----

func.func @boundary_bf16_probs(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>) -> tensor<2x8xi1> {
  // expected-error @+1 {{result #0 must be tensor with static extents after the batch of 32-bit float values}}
  %p, %b = tok.boundary %q, %k : (tensor<2x8x4xf32>, tensor<2x8x4xf32>) -> (tensor<2x8xbf16>, tensor<2x8xi1>)
  return %b : tensor<2x8xi1>
}

// -----

func.func @boundary_i8_boundaries(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>) -> tensor<2x8xi8> {
  // expected-error @+1 {{result #1 must be tensor with static extents after the batch of 1-bit signless integer values}}
  %p, %b = tok.boundary %q, %k : (tensor<2x8x4xf32>, tensor<2x8x4xf32>) -> (tensor<2x8xf32>, tensor<2x8xi8>)
  return %b : tensor<2x8xi8>
}

// -----

func.func @segment_input_rank(%x: tensor<2x8xf32>, %b: tensor<2x8xi1>) -> tensor<2xi32> {
  // expected-error @+1 {{expected input of rank 3 [B, L, D], got rank 2}}
  %o, %n = tok.segment_reduce %x, %b : (tensor<2x8xf32>, tensor<2x8xi1>) -> (tensor<2x8xf32>, tensor<2xi32>)
  return %n : tensor<2xi32>
}

// -----

func.func @segment_boundaries_shape(%x: tensor<2x8x4xf32>, %b: tensor<2x7xi1>) -> tensor<2xi32> {
  // expected-error @+1 {{expected boundaries of shape 2x8xi1, got 2x7xi1}}
  %o, %n = tok.segment_reduce %x, %b : (tensor<2x8x4xf32>, tensor<2x7xi1>) -> (tensor<2x8x4xf32>, tensor<2xi32>)
  return %n : tensor<2xi32>
}

// -----

func.func @segment_lengths_shape(%x: tensor<2x8x4xf32>, %b: tensor<2x8xi1>, %len: tensor<1xi32>) -> tensor<2xi32> {
  // expected-error @+1 {{expected lengths of shape 2xi32, got 1xi32}}
  %o, %n = tok.segment_reduce %x, %b lengths %len : (tensor<2x8x4xf32>, tensor<2x8xi1>, tensor<1xi32>) -> (tensor<2x8x4xf32>, tensor<2xi32>)
  return %n : tensor<2xi32>
}

// -----

func.func @segment_count_shape(%x: tensor<2x8x4xf32>, %b: tensor<2x8xi1>) -> tensor<4xi32> {
  // expected-error @+1 {{expected count of shape 2xi32, got 4xi32}}
  %o, %n = tok.segment_reduce %x, %b : (tensor<2x8x4xf32>, tensor<2x8xi1>) -> (tensor<2x8x4xf32>, tensor<4xi32>)
  return %n : tensor<4xi32>
}

// -----

func.func @segment_output_element_type(%x: tensor<2x8x4xbf16>, %b: tensor<2x8xi1>) -> tensor<2xi32> {
  // expected-error @+1 {{expected output element type 'bf16', got 'f32'}}
  %o, %n = tok.segment_reduce %x, %b {reduction = #tok.segment_reduction<mean>} : (tensor<2x8x4xbf16>, tensor<2x8xi1>) -> (tensor<2x8x4xf32>, tensor<2xi32>)
  return %n : tensor<2xi32>
}

// -----

func.func @segment_output_features(%x: tensor<2x8x4xf32>, %b: tensor<2x8xi1>) -> tensor<2xi32> {
  // expected-error @+1 {{expected output of shape 2xCx4, got 2x8x5}}
  %o, %n = tok.segment_reduce %x, %b : (tensor<2x8x4xf32>, tensor<2x8xi1>) -> (tensor<2x8x5xf32>, tensor<2xi32>)
  return %n : tensor<2xi32>
}

// -----

func.func @segment_output_batch(%x: tensor<2x8x4xf32>, %b: tensor<2x8xi1>) -> tensor<2xi32> {
  // expected-error @+1 {{expected output of shape 2xCx4, got 3x8x4}}
  %o, %n = tok.segment_reduce %x, %b : (tensor<2x8x4xf32>, tensor<2x8xi1>) -> (tensor<3x8x4xf32>, tensor<2xi32>)
  return %n : tensor<2xi32>
}

// -----

func.func @segment_output_rank(%x: tensor<2x8x4xf32>, %b: tensor<2x8xi1>) -> tensor<2xi32> {
  // expected-error @+1 {{expected output of shape 2xCx4, got 2x32}}
  %o, %n = tok.segment_reduce %x, %b : (tensor<2x8x4xf32>, tensor<2x8xi1>) -> (tensor<2x32xf32>, tensor<2xi32>)
  return %n : tensor<2xi32>
}

// -----

func.func @segment_capacity_below_L(%x: tensor<2x8x4xf32>, %b: tensor<2x8xi1>) -> tensor<2xi32> {
  // expected-error @+1 {{expected a segment capacity of at least 8 (every token can start a segment), got 7}}
  %o, %n = tok.segment_reduce %x, %b {reduction = #tok.segment_reduction<sum>} : (tensor<2x8x4xf32>, tensor<2x8xi1>) -> (tensor<2x7x4xf32>, tensor<2xi32>)
  return %n : tensor<2xi32>
}

// -----

func.func @segment_f32_boundaries(%x: tensor<2x8x4xf32>, %b: tensor<2x8xf32>) -> tensor<2xi32> {
  // expected-error @+1 {{operand #1 must be tensor with static extents after the batch of 1-bit signless integer values}}
  %o, %n = tok.segment_reduce %x, %b : (tensor<2x8x4xf32>, tensor<2x8xf32>) -> (tensor<2x8x4xf32>, tensor<2xi32>)
  return %n : tensor<2xi32>
}

// -----

func.func @segment_integer_input(%x: tensor<2x8x4xi32>, %b: tensor<2x8xi1>) -> tensor<2xi32> {
  // expected-error @+1 {{operand #0 must be tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values}}
  %o, %n = tok.segment_reduce %x, %b : (tensor<2x8x4xi32>, tensor<2x8xi1>) -> (tensor<2x8x4xi32>, tensor<2xi32>)
  return %n : tensor<2xi32>
}

// -----

func.func @segment_i64_count(%x: tensor<2x8x4xf32>, %b: tensor<2x8xi1>) -> tensor<2xi64> {
  // expected-error @+1 {{result #1 must be tensor with static extents after the batch of 32-bit signless integer values}}
  %o, %n = tok.segment_reduce %x, %b : (tensor<2x8x4xf32>, tensor<2x8xi1>) -> (tensor<2x8x4xf32>, tensor<2xi64>)
  return %n : tensor<2xi64>
}

// -----

func.func @segment_reduction_not_an_enum_attr(%x: tensor<2x8x4xf32>, %b: tensor<2x8xi1>) -> tensor<2xi32> {
  // expected-error @+1 {{attribute 'reduction' failed to satisfy constraint}}
  %o, %n = tok.segment_reduce %x, %b {reduction = 1 : i32} : (tensor<2x8x4xf32>, tensor<2x8xi1>) -> (tensor<2x8x4xf32>, tensor<2xi32>)
  return %n : tensor<2xi32>
}

// -----

func.func @ema_input_rank(%z: tensor<2x8xf32>, %g: tensor<2x8xf32>, %n: tensor<2xi32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{expected input of rank 3 [B, C, D], got rank 2}}
  %e = tok.ema_scan %z, %g, %n : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8xf32>
  return %e : tensor<2x8xf32>
}

// -----

func.func @ema_gates_shape(%z: tensor<2x8x4xbf16>, %g: tensor<2x9xf32>, %n: tensor<2xi32>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{expected gates of shape 2x8xf32, got 2x9xf32}}
  %e = tok.ema_scan %z, %g, %n : (tensor<2x8x4xbf16>, tensor<2x9xf32>, tensor<2xi32>) -> tensor<2x8x4xf32>
  return %e : tensor<2x8x4xf32>
}

// -----

func.func @ema_count_shape(%z: tensor<2x8x4xbf16>, %g: tensor<2x8xf32>, %n: tensor<3xi32>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{expected count of shape 2xi32, got 3xi32}}
  %e = tok.ema_scan %z, %g, %n : (tensor<2x8x4xbf16>, tensor<2x8xf32>, tensor<3xi32>) -> tensor<2x8x4xf32>
  return %e : tensor<2x8x4xf32>
}

// -----

func.func @ema_output_shape(%z: tensor<2x8x4xbf16>, %g: tensor<2x8xf32>, %n: tensor<2xi32>) -> tensor<2x8x5xf32> {
  // expected-error @+1 {{expected output of shape 2x8x4xf32, got 2x8x5xf32}}
  %e = tok.ema_scan %z, %g, %n : (tensor<2x8x4xbf16>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8x5xf32>
  return %e : tensor<2x8x5xf32>
}

// -----

func.func @ema_epsilon_negative(%z: tensor<2x8x4xf32>, %g: tensor<2x8xf32>, %n: tensor<2xi32>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{expected epsilon in [0, 0.5), got -1.000000e-03}}
  %e = tok.ema_scan %z, %g, %n {epsilon = -1.0e-3 : f64} : (tensor<2x8x4xf32>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8x4xf32>
  return %e : tensor<2x8x4xf32>
}

// -----

func.func @ema_epsilon_half(%z: tensor<2x8x4xf32>, %g: tensor<2x8xf32>, %n: tensor<2xi32>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{expected epsilon in [0, 0.5), got 5.000000e-01}}
  %e = tok.ema_scan %z, %g, %n {epsilon = 0.5 : f64} : (tensor<2x8x4xf32>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8x4xf32>
  return %e : tensor<2x8x4xf32>
}

// -----

func.func @ema_epsilon_nan(%z: tensor<2x8x4xf32>, %g: tensor<2x8xf32>, %n: tensor<2xi32>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{expected epsilon in [0, 0.5), got nan}}
  %e = tok.ema_scan %z, %g, %n {epsilon = 0x7FF8000000000000 : f64} : (tensor<2x8x4xf32>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8x4xf32>
  return %e : tensor<2x8x4xf32>
}

// -----

func.func @ema_scan_block_zero(%z: tensor<2x8x4xf32>, %g: tensor<2x8xf32>, %n: tensor<2xi32>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{expected scan_block >= 1, got 0}}
  %e = tok.ema_scan %z, %g, %n {scan_block = 0 : i64} : (tensor<2x8x4xf32>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8x4xf32>
  return %e : tensor<2x8x4xf32>
}

// -----

func.func @ema_scan_block_negative(%z: tensor<2x8x4xf32>, %g: tensor<2x8xf32>, %n: tensor<2xi32>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{expected scan_block >= 1, got -4}}
  %e = tok.ema_scan %z, %g, %n {scan_block = -4 : i64} : (tensor<2x8x4xf32>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8x4xf32>
  return %e : tensor<2x8x4xf32>
}

// -----

func.func @ema_epsilon_f32_attr(%z: tensor<2x8x4xf32>, %g: tensor<2x8xf32>, %n: tensor<2xi32>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{attribute 'epsilon' failed to satisfy constraint: 64-bit float attribute}}
  %e = tok.ema_scan %z, %g, %n {epsilon = 0.25 : f32} : (tensor<2x8x4xf32>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8x4xf32>
  return %e : tensor<2x8x4xf32>
}

// -----

func.func @ema_bf16_gates(%z: tensor<2x8x4xbf16>, %g: tensor<2x8xbf16>, %n: tensor<2xi32>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{operand #1 must be tensor with static extents after the batch of 32-bit float values}}
  %e = tok.ema_scan %z, %g, %n : (tensor<2x8x4xbf16>, tensor<2x8xbf16>, tensor<2xi32>) -> tensor<2x8x4xf32>
  return %e : tensor<2x8x4xf32>
}

// -----

func.func @ema_bf16_output(%z: tensor<2x8x4xbf16>, %g: tensor<2x8xf32>, %n: tensor<2xi32>) -> tensor<2x8x4xbf16> {
  // expected-error @+1 {{result #0 must be tensor with static extents after the batch of 32-bit float values}}
  %e = tok.ema_scan %z, %g, %n : (tensor<2x8x4xbf16>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8x4xbf16>
  return %e : tensor<2x8x4xbf16>
}

// -----

func.func @ema_i64_count(%z: tensor<2x8x4xf32>, %g: tensor<2x8xf32>, %n: tensor<2xi64>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{operand #2 must be tensor with static extents after the batch of 32-bit signless integer values}}
  %e = tok.ema_scan %z, %g, %n : (tensor<2x8x4xf32>, tensor<2x8xf32>, tensor<2xi64>) -> tensor<2x8x4xf32>
  return %e : tensor<2x8x4xf32>
}

// -----

func.func @expand_input_rank(%z: tensor<2x5xf32>, %b: tensor<2x8xi1>) -> tensor<2x8x1xf32> {
  // expected-error @+1 {{expected input of rank 3 [B, C, D], got rank 2}}
  %o = tok.expand %z, %b : (tensor<2x5xf32>, tensor<2x8xi1>) -> tensor<2x8x1xf32>
  return %o : tensor<2x8x1xf32>
}

// -----

func.func @expand_boundaries_batch(%z: tensor<2x5x4xf32>, %b: tensor<3x8xi1>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{expected boundaries of shape 2xLxi1, got 3x8xi1}}
  %o = tok.expand %z, %b : (tensor<2x5x4xf32>, tensor<3x8xi1>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

func.func @expand_boundaries_rank(%z: tensor<2x5x4xf32>, %b: tensor<2x8x1xi1>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{expected boundaries of shape 2xLxi1, got 2x8x1xi1}}
  %o = tok.expand %z, %b : (tensor<2x5x4xf32>, tensor<2x8x1xi1>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

func.func @expand_lengths_shape(%z: tensor<2x5x4xf32>, %b: tensor<2x8xi1>, %len: tensor<8xi32>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{expected lengths of shape 2xi32, got 8xi32}}
  %o = tok.expand %z, %b lengths %len : (tensor<2x5x4xf32>, tensor<2x8xi1>, tensor<8xi32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

func.func @expand_residual_shape(%z: tensor<2x5x4xf32>, %b: tensor<2x8xi1>, %h: tensor<2x5x4xbf16>) -> tensor<2x8x4xbf16> {
  // expected-error @+1 {{expected residual of shape 2x8x4xbf16, got 2x5x4xbf16}}
  %o = tok.expand %z, %b residual %h : (tensor<2x5x4xf32>, tensor<2x8xi1>, tensor<2x5x4xbf16>) -> tensor<2x8x4xbf16>
  return %o : tensor<2x8x4xbf16>
}

// -----

func.func @expand_output_shape(%z: tensor<2x5x4xf32>, %b: tensor<2x8xi1>) -> tensor<2x5x4xf32> {
  // expected-error @+1 {{expected output of shape 2x8x4xf32, got 2x5x4xf32}}
  %o = tok.expand %z, %b : (tensor<2x5x4xf32>, tensor<2x8xi1>) -> tensor<2x5x4xf32>
  return %o : tensor<2x5x4xf32>
}

// -----

func.func @expand_output_not_input_type(%z: tensor<2x5x4xf32>, %b: tensor<2x8xi1>) -> tensor<2x8x4xbf16> {
  // expected-error @+1 {{expected output element type 'f32' (the input's), got 'bf16'}}
  %o = tok.expand %z, %b : (tensor<2x5x4xf32>, tensor<2x8xi1>) -> tensor<2x8x4xbf16>
  return %o : tensor<2x8x4xbf16>
}

// -----

func.func @expand_output_not_residual_type(%z: tensor<2x5x4xf32>, %b: tensor<2x8xi1>, %len: tensor<2xi32>, %h: tensor<2x8x4xbf16>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{expected output element type 'bf16' (the residual's), got 'f32'}}
  %o = tok.expand %z, %b lengths %len residual %h : (tensor<2x5x4xf32>, tensor<2x8xi1>, tensor<2xi32>, tensor<2x8x4xbf16>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

func.func @expand_integer_residual(%z: tensor<2x5x4xf32>, %b: tensor<2x8xi1>, %len: tensor<2xi32>, %h: tensor<2x8x4xi32>) -> tensor<2x8x4xi32> {
  // expected-error @+1 {{operand #3 must be tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values}}
  %o = tok.expand %z, %b lengths %len residual %h : (tensor<2x5x4xf32>, tensor<2x8xi1>, tensor<2xi32>, tensor<2x8x4xi32>) -> tensor<2x8x4xi32>
  return %o : tensor<2x8x4xi32>
}

// -----

func.func @expand_i32_boundaries(%z: tensor<2x5x4xf32>, %b: tensor<2x8xi32>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{operand #1 must be tensor with static extents after the batch of 1-bit signless integer values}}
  %o = tok.expand %z, %b : (tensor<2x5x4xf32>, tensor<2x8xi32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

func.func @expand_f64_output(%z: tensor<2x5x4xf32>, %b: tensor<2x8xi1>) -> tensor<2x8x4xf64> {
  // expected-error @+1 {{result #0 must be tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values}}
  %o = tok.expand %z, %b : (tensor<2x5x4xf32>, tensor<2x8xi1>) -> tensor<2x8x4xf64>
  return %o : tensor<2x8x4xf64>
}
