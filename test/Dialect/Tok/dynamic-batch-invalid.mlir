// RUN: winnow-opt %s --split-input-file --verify-diagnostics

// A dynamic batch extent (BatchExtentsAgree, TokDialect.td): on every
// tensor of an op or on none; never on an op whose rows mix batch rows;
// never after the leading axis.

func.func @mixed_results(%s: tensor<?x8xf32>) -> tensor<2xi32> {
  // expected-error @+1 {{'tok.select' op mixes a dynamic batch extent with the static leading extent 2 of result #0}}
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<?x8xf32>) -> (tensor<2x2xi32>, tensor<2xi32>)
  return %n : tensor<2xi32>
}

// -----

func.func @mixed_operands(%s: tensor<?x8xf32>, %len: tensor<2xi32>) -> tensor<?xi32> {
  // expected-error @+1 {{'tok.select' op mixes a dynamic batch extent with the static leading extent 2 of operand #1}}
  %i, %n = tok.select #tok.top_k<2> of %s lengths %len : (tensor<?x8xf32>, tensor<2xi32>) -> (tensor<?x2xi32>, tensor<?xi32>)
  return %n : tensor<?xi32>
}

// -----

func.func @flattened_batch(%d: tensor<40xi32>, %cu: tensor<?xi32>) -> tensor<?x5xi32> {
  // expected-error @+1 {{'tok.unpack_ragged' op does not take a dynamic batch extent: its result rows are not computed from the same batch row of its operands}}
  %p, %n = tok.unpack_ragged %d, %cu : (tensor<40xi32>, tensor<?xi32>) -> (tensor<?x5xi32>, tensor<?xi32>)
  return %p : tensor<?x5xi32>
}

// -----

func.func @dynamic_tokens(%s: tensor<2x?xf32>) -> tensor<2xi32> {
  // expected-error @+1 {{'tok.select' op operand #0 must be tensor with static extents after the batch of 32-bit float values, but got 'tensor<2x?xf32>'}}
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<2x?xf32>) -> (tensor<2x2xi32>, tensor<2xi32>)
  return %n : tensor<2xi32>
}
