// RUN: winnow-opt %s --split-input-file --verify-diagnostics

// tok.tree_verify: one case per verifier rule (VerifyOps.cpp, TreeVerifyOp)
// and per ODS constraint (VerifyOps.td).

func.func @logits_rank(%l: tensor<2x4xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected logits of rank 3 [B, T, V], got rank 2}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @logits_rank4(%l: tensor<2x4x5x1xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected logits of rank 3 [B, T, V], got rank 4}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5x1xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

// T = 0: not even a root
func.func @no_nodes(%l: tensor<2x0x5xf32>, %t: tensor<2x0xi32>, %p: tensor<2x0xi32>, %n: tensor<2xi32>) -> (tensor<2x0xi32>, tensor<2x0xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected at least one tree node and one token}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x0x5xf32>, tensor<2x0xi32>, tensor<2x0xi32>, tensor<2xi32>) -> (tensor<2x0xi32>, tensor<2x0xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x0xi32>, tensor<2x0xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @no_vocab(%l: tensor<2x4x0xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected at least one tree node and one token}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x0xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @tree_tokens_nodes(%l: tensor<2x4x5xf32>, %t: tensor<2x5xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected tree_tokens of shape 2x4xi32, got 2x5xi32}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x5xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @tree_tokens_batch(%l: tensor<2x4x5xf32>, %t: tensor<1x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected tree_tokens of shape 2x4xi32, got 1x4xi32}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<1x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @parents_shape(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x3xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected parents of shape 2x4xi32, got 2x3xi32}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x3xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @parents_rank(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<8xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected parents of shape 2x4xi32, got 8xi32}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<8xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @num_nodes_shape(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<3xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected num_nodes of shape 2xi32, got 3xi32}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<3xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @temperature_shape(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %tp: tensor<3xf32>, %x: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected temperature of shape 2xf32, got 3xf32}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n temperature %tp exponentials %x {mode = #tok.verify_mode<typical>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<3xf32>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @seed_shape(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %s: tensor<1xi64>, %o: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected seed of shape 2xi64, got 1xi64}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n seed %s offset %o {mode = #tok.verify_mode<typical>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<1xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @offset_shape(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %s: tensor<2xi64>, %o: tensor<2x2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected offset of shape 2xi64, got 2x2xi64}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n seed %s offset %o {mode = #tok.verify_mode<typical>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2x2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @num_accepted_shape(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<1xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected num_accepted of shape 2xi32, got 1xi32}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<1xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<1xi32>, tensor<2xi32>
}

// -----

func.func @num_emitted_shape(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x1xi32>) {
  // expected-error @+1 {{expected num_emitted of shape 2xi32, got 2x1xi32}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x1xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x1xi32>
}

// -----

func.func @exponentials_vocab(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %x: tensor<2x4xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected exponentials of shape 2x5xf32, got 2x4xf32}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n exponentials %x {mode = #tok.verify_mode<typical>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x4xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @exponentials_batch(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %x: tensor<3x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected exponentials of shape 2x5xf32, got 3x5xf32}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n exponentials %x {mode = #tok.verify_mode<typical>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<3x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

// capacity C < T
func.func @tokens_capacity(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x3xi32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected tokens of shape 2xCxi32 with C >= 4, got 2x3xi32}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x3xi32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x3xi32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @tokens_batch(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<3x4xi32>, tensor<3x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected tokens of shape 2xCxi32 with C >= 4, got 3x4xi32}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<3x4xi32>, tensor<3x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<3x4xi32>, tensor<3x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @tokens_rank(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4x1xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected tokens of shape 2xCxi32 with C >= 4, got 2x4x1xi32}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4x1xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4x1xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

// accept_nodes must have the shape of tokens
func.func @accept_nodes_shape(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x6xi32>, tensor<2x5xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected accept_nodes of shape 2x6xi32, got 2x5xi32}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x6xi32>, tensor<2x5xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x6xi32>, tensor<2x5xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @seed_without_offset(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %s: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected both seed and offset for Philox noise}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n seed %s {mode = #tok.verify_mode<typical>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @offset_without_seed(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %o: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected both seed and offset for Philox noise}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n offset %o {mode = #tok.verify_mode<typical>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @philox_and_exponentials(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %x: tensor<2x5xf32>, %s: tensor<2xi64>, %o: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected either explicit noise or seed/offset, not both}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n exponentials %x seed %s offset %o {mode = #tok.verify_mode<typical>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x5xf32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @greedy_exponentials(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %x: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{greedy tree verification takes no noise or temperature}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n exponentials %x : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @greedy_philox(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %s: tensor<2xi64>, %o: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{greedy tree verification takes no noise or temperature}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n seed %s offset %o {mode = #tok.verify_mode<greedy>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @greedy_temperature(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %tp: tensor<2xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{greedy tree verification takes no noise or temperature}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n temperature %tp : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @typical_no_noise(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{typical acceptance needs exponentials, or seed and offset}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n {mode = #tok.verify_mode<typical>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @typical_temperature_only(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %tp: tensor<2xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{typical acceptance needs exponentials, or seed and offset}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n temperature %tp {mode = #tok.verify_mode<typical>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @rejection_no_noise(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{rejection verification needs uniforms and exponentials, or seed and offset}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n {mode = #tok.verify_mode<rejection>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @rejection_exponentials_only(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %x: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{rejection verification needs uniforms and exponentials, or seed and offset}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n exponentials %x {mode = #tok.verify_mode<rejection>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @rejection_uniforms_only(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %u: tensor<2x4xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{rejection verification needs uniforms and exponentials, or seed and offset}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n uniforms %u {mode = #tok.verify_mode<rejection>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x4xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

// uniforms are indexed by child node: [B, T]
func.func @uniforms_shape(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %u: tensor<2x5xf32>, %x: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected uniforms of shape 2x4xf32, got 2x5xf32}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n uniforms %u exponentials %x {mode = #tok.verify_mode<rejection>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x5xf32>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @typical_uniforms(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %u: tensor<2x4xf32>, %x: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{uniforms are only used by rejection sampling}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n uniforms %u exponentials %x {mode = #tok.verify_mode<typical>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x4xf32>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @greedy_uniforms(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %u: tensor<2x4xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{uniforms are only used by rejection sampling}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n uniforms %u : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x4xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @philox_and_uniforms(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %u: tensor<2x4xf32>, %s: tensor<2xi64>, %o: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected either explicit noise or seed/offset, not both}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n uniforms %u seed %s offset %o {mode = #tok.verify_mode<rejection>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x4xf32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

// uniforms of rank 1 (one per request) are not per child node
func.func @uniforms_rank1(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %u: tensor<2xf32>, %x: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected uniforms of shape 2x4xf32, got 2xf32}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n uniforms %u exponentials %x {mode = #tok.verify_mode<rejection>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xf32>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @uniforms_batch(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %u: tensor<3x4xf32>, %x: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected uniforms of shape 2x4xf32, got 3x4xf32}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n uniforms %u exponentials %x {mode = #tok.verify_mode<rejection>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<3x4xf32>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

// uniforms sized by the capacity C (> T) rather than by the nodes
func.func @uniforms_capacity(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %u: tensor<2x6xf32>, %x: tensor<2x5xf32>) -> (tensor<2x6xi32>, tensor<2x6xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected uniforms of shape 2x4xf32, got 2x6xf32}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n uniforms %u exponentials %x {mode = #tok.verify_mode<rejection>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x6xf32>, tensor<2x5xf32>) -> (tensor<2x6xi32>, tensor<2x6xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x6xi32>, tensor<2x6xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @rejection_philox_and_exponentials(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %x: tensor<2x5xf32>, %s: tensor<2xi64>, %o: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected either explicit noise or seed/offset, not both}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n exponentials %x seed %s offset %o {mode = #tok.verify_mode<rejection>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x5xf32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @rejection_all_noise(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %u: tensor<2x4xf32>, %x: tensor<2x5xf32>, %s: tensor<2xi64>, %o: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected either explicit noise or seed/offset, not both}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n uniforms %u exponentials %x seed %s offset %o {mode = #tok.verify_mode<rejection>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x4xf32>, tensor<2x5xf32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @rejection_seed_only(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %s: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected both seed and offset for Philox noise}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n seed %s {mode = #tok.verify_mode<rejection>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @rejection_uniforms_temperature_no_exponentials(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %tp: tensor<2xf32>, %u: tensor<2x4xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{rejection verification needs uniforms and exponentials, or seed and offset}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n temperature %tp uniforms %u {mode = #tok.verify_mode<rejection>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xf32>, tensor<2x4xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @zero_epsilon(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %x: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected positive typical_epsilon and typical_alpha, got 0.000000e+00 and 3.000000e-01}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n exponentials %x {mode = #tok.verify_mode<typical>, typical_epsilon = 0.0 : f64} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @negative_alpha(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %x: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected positive typical_epsilon and typical_alpha, got 9.000000e-02 and -5.000000e-01}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n exponentials %x {mode = #tok.verify_mode<typical>, typical_alpha = -0.5 : f64} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @nan_epsilon(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %s: tensor<2xi64>, %o: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected positive typical_epsilon and typical_alpha, got nan and 3.000000e-01}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n seed %s offset %o {mode = #tok.verify_mode<typical>, typical_epsilon = 0x7FF8000000000000 : f64} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

// The attributes are checked in every mode.
func.func @greedy_checks_alpha_too(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected positive typical_epsilon and typical_alpha}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n {typical_alpha = 0.0 : f64} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @integer_logits(%l: tensor<2x4x5xi32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #0 must be tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values, but got 'tensor<2x4x5xi32>'}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xi32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @f64_logits(%l: tensor<2x4x5xf64>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #0 must be tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values, but got 'tensor<2x4x5xf64>'}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf64>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @dynamic_logits(%l: tensor<?x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{'tok.tree_verify' op mixes a dynamic batch extent with the static leading extent 2 of operand #1}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<?x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @i64_tree_tokens(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi64>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #1 must be tensor with static extents after the batch of 32-bit signless integer values, but got 'tensor<2x4xi64>'}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x4xi64>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @f32_parents(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xf32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #2 must be tensor with static extents after the batch of 32-bit signless integer values, but got 'tensor<2x4xf32>'}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xf32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @dynamic_parents(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x?xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #2 must be tensor with static extents after the batch of 32-bit signless integer values, but got 'tensor<2x?xi32>'}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x?xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @i64_num_nodes(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #3 must be tensor with static extents after the batch of 32-bit signless integer values, but got 'tensor<2xi64>'}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @f16_temperature(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %tp: tensor<2xf16>, %x: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #4 must be tensor with static extents after the batch of 32-bit float values, but got 'tensor<2xf16>'}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n temperature %tp exponentials %x {mode = #tok.verify_mode<typical>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xf16>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @bf16_exponentials(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %x: tensor<2x5xbf16>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #4 must be tensor with static extents after the batch of 32-bit float values, but got 'tensor<2x5xbf16>'}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n exponentials %x {mode = #tok.verify_mode<typical>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x5xbf16>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @f64_uniforms(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %u: tensor<2x4xf64>, %x: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #4 must be tensor with static extents after the batch of 32-bit float values, but got 'tensor<2x4xf64>'}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n uniforms %u exponentials %x {mode = #tok.verify_mode<rejection>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x4xf64>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @i32_seed(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %s: tensor<2xi32>, %o: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #4 must be tensor with static extents after the batch of 64-bit signless integer values, but got 'tensor<2xi32>'}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n seed %s offset %o {mode = #tok.verify_mode<typical>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @ui64_offset(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %s: tensor<2xi64>, %o: tensor<2xui64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #5 must be tensor with static extents after the batch of 64-bit signless integer values, but got 'tensor<2xui64>'}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n seed %s offset %o {mode = #tok.verify_mode<typical>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xui64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @i64_tokens(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi64>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{result #0 must be tensor with static extents after the batch of 32-bit signless integer values, but got 'tensor<2x4xi64>'}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi64>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi64>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @i16_accept_nodes(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi16>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{result #1 must be tensor with static extents after the batch of 32-bit signless integer values, but got 'tensor<2x4xi16>'}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi16>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi16>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @f32_num_accepted(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xf32>, tensor<2xi32>) {
  // expected-error @+1 {{result #2 must be tensor with static extents after the batch of 32-bit signless integer values, but got 'tensor<2xf32>'}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xf32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xf32>, tensor<2xi32>
}

// -----

func.func @i64_num_emitted(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi64>) {
  // expected-error @+1 {{result #3 must be tensor with static extents after the batch of 32-bit signless integer values, but got 'tensor<2xi64>'}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi64>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi64>
}

// -----

func.func @f32_epsilon_attr(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %x: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{attribute 'typical_epsilon' failed to satisfy constraint: 64-bit float attribute}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n exponentials %x {mode = #tok.verify_mode<typical>, typical_epsilon = 0.2 : f32} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @integer_mode_attr(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{attribute 'mode' failed to satisfy constraint}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n {mode = 1 : i32} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @unknown_mode(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>, %s: tensor<2xi64>, %o: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+2 {{expected ::winnow::tok::VerifyMode to be one of: greedy, rejection, typical}}
  // expected-error @+1 {{failed to parse Tok_VerifyModeAttr parameter 'value'}}
  %r0, %r1, %r2, %r3 = tok.tree_verify %l, %t, %p, %n seed %s offset %o {mode = #tok.verify_mode<sampling>} : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %r0, %r1, %r2, %r3 : tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @best_leaf_shape(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> tensor<2x1xi32> {
  // expected-error @+1 {{expected best_leaf of shape 2xi32, got 2x1xi32}}
  %r0, %r1, %r2, %r3, %r4 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2x1xi32>)
  return %r4 : tensor<2x1xi32>
}

// -----

func.func @best_leaf_type(%l: tensor<2x4x5xf32>, %t: tensor<2x4xi32>, %p: tensor<2x4xi32>, %n: tensor<2xi32>) -> tensor<2xi64> {
  // expected-error @+1 {{result #4 must be tensor with static extents after the batch of 32-bit signless integer values, but got 'tensor<2xi64>'}}
  %r0, %r1, %r2, %r3, %r4 = tok.tree_verify %l, %t, %p, %n : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2xi64>)
  return %r4 : tensor<2xi64>
}
