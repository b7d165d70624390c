// RUN: winnow-opt %s --split-input-file --verify-diagnostics

// tok.spec_verify: one case per verifier rule (VerifyOps.cpp) and per ODS
// constraint (VerifyOps.td).

func.func @logits_rank(%x0: tensor<2x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected logits of rank 3 [B, K+1, V], got rank 2}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

// K + 1 = 0 rows
func.func @logits_no_rows(%x0: tensor<2x0x5xf32>, %x1: tensor<2x0xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x0xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected at least one logits row and one token}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x0x5xf32>, tensor<2x0xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x0xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x0xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @logits_no_vocab(%x0: tensor<2x4x0xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected at least one logits row and one token}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x4x0xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @drafts_shape(%x0: tensor<2x4x5xf32>, %x1: tensor<2x4xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected drafts of shape 2x3xi32, got 2x4xi32}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x4x5xf32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @drafts_batch(%x0: tensor<2x4x5xf32>, %x1: tensor<1x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected drafts of shape 2x3xi32, got 1x3xi32}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x4x5xf32>, tensor<1x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @num_draft_shape(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<3xi32>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected num_draft of shape 2xi32, got 3xi32}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<3xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @tokens_shape(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x3xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected tokens of shape 2x4xi32, got 2x3xi32}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x3xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x3xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @num_accepted_shape(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<1xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected num_accepted of shape 2xi32, got 1xi32}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<1xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<1xi32>, tensor<2xi32>
}

// -----

func.func @num_emitted_shape(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2x1xi32>) {
  // expected-error @+1 {{expected num_emitted of shape 2xi32, got 2x1xi32}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2x1xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2x1xi32>
}

// -----

func.func @draft_probs_shape(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2x4x5xf32>, %x4: tensor<2xi64>, %x5: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected draft_probs of shape 2x3x5xf32, got 2x4x5xf32}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 draft_probs %x3 seed %x4 offset %x5 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x4x5xf32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @draft_probs_vocab(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2x3x6xf32>, %x4: tensor<2xi64>, %x5: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected draft_probs of shape 2x3x5xf32, got 2x3x6xf32}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 draft_probs %x3 seed %x4 offset %x5 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x3x6xf32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @temperature_shape(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<4xf32>, %x4: tensor<2xi64>, %x5: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected temperature of shape 2xf32, got 4xf32}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 temperature %x3 seed %x4 offset %x5 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<4xf32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @is_greedy_shape(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<1xi1>, %x4: tensor<2xi64>, %x5: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected is_greedy of shape 2xi1, got 1xi1}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 is_greedy %x3 seed %x4 offset %x5 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<1xi1>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @seed_shape(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<3xi64>, %x4: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected seed of shape 2xi64, got 3xi64}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<3xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @offset_shape(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2x2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected offset of shape 2xi64, got 2x2xi64}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2x2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @uniforms_shape(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2x4xf32>, %x4: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected uniforms of shape 2x3xf32, got 2x4xf32}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 uniforms %x3 exponentials %x4 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x4xf32>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @exponentials_shape(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2x3xf32>, %x4: tensor<2x4xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected exponentials of shape 2x5xf32, got 2x4xf32}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 uniforms %x3 exponentials %x4 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x3xf32>, tensor<2x4xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @seed_without_offset(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected both seed and offset for Philox noise}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @offset_without_seed(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected both seed and offset for Philox noise}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 offset %x3 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @explicit_and_philox(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2x3xf32>, %x4: tensor<2x5xf32>, %x5: tensor<2xi64>, %x6: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected either explicit noise or seed/offset, not both}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 uniforms %x3 exponentials %x4 seed %x5 offset %x6 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x3xf32>, tensor<2x5xf32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @exponentials_and_philox(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2x5xf32>, %x4: tensor<2xi64>, %x5: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected either explicit noise or seed/offset, not both}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 exponentials %x3 seed %x4 offset %x5 {mode = #tok.verify_mode<typical>} : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x5xf32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @greedy_with_philox(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{greedy verification takes no noise operands}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 {mode = #tok.verify_mode<greedy>} : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @greedy_with_explicit(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2x3xf32>, %x4: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{greedy verification takes no noise operands}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 uniforms %x3 exponentials %x4 {mode = #tok.verify_mode<greedy>} : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x3xf32>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @greedy_with_exponentials(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{greedy verification takes no noise operands}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 exponentials %x3 {mode = #tok.verify_mode<greedy>} : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @rejection_without_noise(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{rejection verification needs uniforms and exponentials, or seed and offset}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @rejection_uniforms_only(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2x3x5xf32>, %x4: tensor<2x3xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{rejection verification needs uniforms and exponentials, or seed and offset}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 draft_probs %x3 uniforms %x4 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x3x5xf32>, tensor<2x3xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @rejection_exponentials_only(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{rejection verification needs uniforms and exponentials, or seed and offset}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 exponentials %x3 {mode = #tok.verify_mode<rejection>} : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @typical_with_uniforms(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2x3xf32>, %x4: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{typical acceptance takes no uniforms}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 uniforms %x3 exponentials %x4 {mode = #tok.verify_mode<typical>} : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x3xf32>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @typical_without_noise(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{typical acceptance needs exponentials, or seed and offset}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 temperature %x3 {mode = #tok.verify_mode<typical>} : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @typical_with_draft_probs(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2x3x5xf32>, %x4: tensor<2xi64>, %x5: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{draft_probs are only used by rejection sampling}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 draft_probs %x3 seed %x4 offset %x5 {mode = #tok.verify_mode<typical>} : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x3x5xf32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @greedy_with_draft_probs(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2x3x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{draft_probs are only used by rejection sampling}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 draft_probs %x3 {mode = #tok.verify_mode<greedy>} : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x3x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @zero_epsilon(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected positive typical_epsilon and typical_alpha, got 0.000000e+00 and 3.000000e-01}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 {mode = #tok.verify_mode<typical>, typical_epsilon = 0.0 : f64} : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @negative_alpha(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected positive typical_epsilon and typical_alpha, got 9.000000e-02 and -5.000000e-01}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 exponentials %x3 {mode = #tok.verify_mode<typical>, typical_alpha = -0.5 : f64} : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @nan_epsilon(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected positive typical_epsilon and typical_alpha, got nan and 3.000000e-01}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 exponentials %x3 {mode = #tok.verify_mode<typical>, typical_epsilon = 0x7FF8000000000000 : f64} : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

// The attributes are checked in every mode.
func.func @rejection_checks_epsilon_too(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{expected positive typical_epsilon and typical_alpha}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 {typical_alpha = 0.0 : f64} : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @integer_logits(%x0: tensor<2x4x5xi32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #0 must be tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values, but got 'tensor<2x4x5xi32>'}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x4x5xi32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @f64_logits(%x0: tensor<2x4x5xf64>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #0 must be tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values, but got 'tensor<2x4x5xf64>'}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x4x5xf64>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @i64_drafts(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi64>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #1 must be tensor with static extents after the batch of 32-bit signless integer values, but got 'tensor<2x3xi64>'}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x4x5xf32>, tensor<2x3xi64>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @i64_num_draft(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi64>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #2 must be tensor with static extents after the batch of 32-bit signless integer values, but got 'tensor<2xi64>'}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @bf16_draft_probs(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2x3x5xbf16>, %x4: tensor<2xi64>, %x5: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #3 must be tensor with static extents after the batch of 32-bit float values, but got 'tensor<2x3x5xbf16>'}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 draft_probs %x3 seed %x4 offset %x5 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x3x5xbf16>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @f16_temperature(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xf16>, %x4: tensor<2xi64>, %x5: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #3 must be tensor with static extents after the batch of 32-bit float values, but got 'tensor<2xf16>'}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 temperature %x3 seed %x4 offset %x5 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xf16>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @i8_is_greedy(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi8>, %x4: tensor<2xi64>, %x5: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #3 must be tensor with static extents after the batch of 1-bit signless integer values, but got 'tensor<2xi8>'}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 is_greedy %x3 seed %x4 offset %x5 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi8>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @f64_uniforms(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2x3xf64>, %x4: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #3 must be tensor with static extents after the batch of 32-bit float values, but got 'tensor<2x3xf64>'}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 uniforms %x3 exponentials %x4 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x3xf64>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @bf16_exponentials(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2x3xf32>, %x4: tensor<2x5xbf16>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #4 must be tensor with static extents after the batch of 32-bit float values, but got 'tensor<2x5xbf16>'}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 uniforms %x3 exponentials %x4 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x3xf32>, tensor<2x5xbf16>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @i32_seed(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi32>, %x4: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #3 must be tensor with static extents after the batch of 64-bit signless integer values, but got 'tensor<2xi32>'}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @ui64_offset(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2xui64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{operand #4 must be tensor with static extents after the batch of 64-bit signless integer values, but got 'tensor<2xui64>'}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xui64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @i64_tokens(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x4xi64>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{result #0 must be tensor with static extents after the batch of 32-bit signless integer values, but got 'tensor<2x4xi64>'}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi64>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi64>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @f32_num_accepted(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xf32>, tensor<2xi32>) {
  // expected-error @+1 {{result #1 must be tensor with static extents after the batch of 32-bit signless integer values, but got 'tensor<2xf32>'}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xf32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xf32>, tensor<2xi32>
}

// -----

func.func @i64_num_emitted(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi64>) {
  // expected-error @+1 {{result #2 must be tensor with static extents after the batch of 32-bit signless integer values, but got 'tensor<2xi64>'}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi64>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi64>
}

// -----

func.func @dynamic_logits(%l: tensor<?x4x5xf32>, %d: tensor<2x3xi32>, %n: tensor<2xi32>, %s: tensor<2xi64>, %o: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{'tok.spec_verify' op mixes a dynamic batch extent with the static leading extent 2 of operand #1}}
  %t, %a, %e = tok.spec_verify %l, %d, %n seed %s offset %o : (tensor<?x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @f32_epsilon_attr(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{attribute 'typical_epsilon' failed to satisfy constraint: 64-bit float attribute}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 exponentials %x3 {mode = #tok.verify_mode<typical>, typical_epsilon = 0.2 : f32} : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2x5xf32>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @integer_mode_attr(%x0: tensor<2x4x5xf32>, %x1: tensor<2x3xi32>, %x2: tensor<2xi32>, %x3: tensor<2xi64>, %x4: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{attribute 'mode' failed to satisfy constraint}}
  %t, %a, %e = tok.spec_verify %x0, %x1, %x2 seed %x3 offset %x4 {mode = 1 : i32} : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @unknown_mode(%l: tensor<2x4x5xf32>, %d: tensor<2x3xi32>, %n: tensor<2xi32>, %s: tensor<2xi64>, %o: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+2 {{expected ::winnow::tok::VerifyMode to be one of: greedy, rejection, typical}}
  // expected-error @+1 {{failed to parse Tok_VerifyModeAttr parameter 'value'}}
  %t, %a, %e = tok.spec_verify %l, %d, %n seed %s offset %o {mode = #tok.verify_mode<sampling>} : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @probs_not_f32(%l: tensor<2x4x5xbf16>, %d: tensor<2x3xi32>, %n: tensor<2xi32>, %s: tensor<2xi64>, %o: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{target probabilities (target_probs) must be f32, got 'bf16'}}
  %t, %a, %e = tok.spec_verify %l, %d, %n seed %s offset %o {target_probs} : (tensor<2x4x5xbf16>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

func.func @probs_with_temperature(%l: tensor<2x4x5xf32>, %d: tensor<2x3xi32>, %n: tensor<2xi32>, %t0: tensor<2xf32>, %s: tensor<2xi64>, %o: tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>) {
  // expected-error @+1 {{target probabilities (target_probs) take no temperature: the engine applied it before computing them}}
  %t, %a, %e = tok.spec_verify %l, %d, %n temperature %t0 seed %s offset %o {target_probs} : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xf32>, tensor<2xi64>, tensor<2xi64>) -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t, %a, %e : tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>
}
