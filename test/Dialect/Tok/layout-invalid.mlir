// RUN: winnow-opt %s --split-input-file --verify-diagnostics

// The ragged layout ops: one case per verifier rule (LayoutOps.cpp) and per
// ODS constraint (LayoutOps.td).

func.func @offsets_type(%d: tensor<40xi32>, %cu: tensor<9xf32>) -> tensor<8x5xi32> {
  // expected-error @+1 {{operand #1 must be tensor with static extents after the batch of 32-bit signless integer or 64-bit signless integer values}}
  %p, %n = tok.unpack_ragged %d, %cu : (tensor<40xi32>, tensor<9xf32>) -> (tensor<8x5xi32>, tensor<8xi32>)
  return %p : tensor<8x5xi32>
}

// -----

func.func @offsets_rank(%d: tensor<40xi32>, %cu: tensor<3x3xi32>) -> tensor<8x5xi32> {
  // expected-error @+1 {{expected cu_seqlens of shape [B + 1], got 3x3}}
  %p, %n = tok.unpack_ragged %d, %cu : (tensor<40xi32>, tensor<3x3xi32>) -> (tensor<8x5xi32>, tensor<8xi32>)
  return %p : tensor<8x5xi32>
}

// -----

func.func @unpack_batch(%d: tensor<40xi32>, %cu: tensor<9xi32>) -> tensor<7x5xi32> {
  // expected-error @+1 {{expected a padded tensor of shape 8xC for a flat tensor of shape 40, got 7x5}}
  %p, %n = tok.unpack_ragged %d, %cu : (tensor<40xi32>, tensor<9xi32>) -> (tensor<7x5xi32>, tensor<8xi32>)
  return %p : tensor<7x5xi32>
}

// -----

func.func @unpack_rows(%d: tensor<40x4xf32>, %cu: tensor<9xi32>) -> tensor<8x5x3xf32> {
  // expected-error @+1 {{expected a padded tensor of shape 8xCx4 for a flat tensor of shape 40x4, got 8x5x3}}
  %p, %n = tok.unpack_ragged %d, %cu : (tensor<40x4xf32>, tensor<9xi32>) -> (tensor<8x5x3xf32>, tensor<8xi32>)
  return %p : tensor<8x5x3xf32>
}

// -----

func.func @unpack_element(%d: tensor<40xi32>, %cu: tensor<9xi32>) -> tensor<8x5xi64> {
  // expected-error @+1 {{expected the padded and flat tensors to have one element type, got 'i64' and 'i32'}}
  %p, %n = tok.unpack_ragged %d, %cu : (tensor<40xi32>, tensor<9xi32>) -> (tensor<8x5xi64>, tensor<8xi32>)
  return %p : tensor<8x5xi64>
}

// -----

func.func @unpack_lengths(%d: tensor<40xi32>, %cu: tensor<9xi32>) -> tensor<9xi32> {
  // expected-error @+1 {{expected lengths of shape 8xi32, got 9xi32}}
  %p, %n = tok.unpack_ragged %d, %cu : (tensor<40xi32>, tensor<9xi32>) -> (tensor<8x5xi32>, tensor<9xi32>)
  return %n : tensor<9xi32>
}

// -----

func.func @pack_rank(%t: tensor<8xi32>, %n: tensor<8xi32>) -> tensor<8xi32> {
  // expected-error @+1 {{expected a padded tensor of rank >= 2 [B, C, ...]}}
  %f, %cu = tok.pack_ragged %t, %n : (tensor<8xi32>, tensor<8xi32>) -> (tensor<8xi32>, tensor<9xi32>)
  return %f : tensor<8xi32>
}

// -----

func.func @pack_offsets(%t: tensor<8x5xi32>, %n: tensor<8xi32>) -> tensor<8xi32> {
  // expected-error @+1 {{expected cu_seqlens of shape 9xi32, got 8xi32}}
  %f, %cu = tok.pack_ragged %t, %n : (tensor<8x5xi32>, tensor<8xi32>) -> (tensor<40xi32>, tensor<8xi32>)
  return %cu : tensor<8xi32>
}

// -----

func.func @pack_count(%t: tensor<8x5xi32>, %n: tensor<4xi32>) -> tensor<40xi32> {
  // expected-error @+1 {{expected count of shape 8xi32, got 4xi32}}
  %f, %cu = tok.pack_ragged %t, %n : (tensor<8x5xi32>, tensor<4xi32>) -> (tensor<40xi32>, tensor<9xi32>)
  return %f : tensor<40xi32>
}

// -----

func.func @tree_rank(%f: tensor<64xi64>, %n: tensor<64xi64>) -> tensor<64xi32> {
  // expected-error @+1 {{expected first_child of rank 2 [B, T], got rank 1}}
  %p = tok.tree_parents %f, %n : (tensor<64xi64>, tensor<64xi64>) -> tensor<64xi32>
  return %p : tensor<64xi32>
}

// -----

func.func @tree_sibling_shape(%f: tensor<4x64xi64>, %n: tensor<4x63xi64>) -> tensor<4x64xi32> {
  // expected-error @+1 {{expected next_sibling of shape 4x64xi64, got 4x63xi64}}
  %p = tok.tree_parents %f, %n : (tensor<4x64xi64>, tensor<4x63xi64>) -> tensor<4x64xi32>
  return %p : tensor<4x64xi32>
}

// -----

func.func @tree_parents_type(%f: tensor<4x64xi64>, %n: tensor<4x64xi64>) -> tensor<4x64xi64> {
  // expected-error @+1 {{result #0 must be tensor with static extents after the batch of 32-bit signless integer values}}
  %p = tok.tree_parents %f, %n : (tensor<4x64xi64>, tensor<4x64xi64>) -> tensor<4x64xi64>
  return %p : tensor<4x64xi64>
}
