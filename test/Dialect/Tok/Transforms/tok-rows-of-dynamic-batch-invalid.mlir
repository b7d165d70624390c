// RUN: winnow-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(tok-rows-of-dynamic-batch))'
// RUN: not winnow-opt %s --pass-pipeline='builtin.module(func.func(tok-rows-of-dynamic-batch{target=cuda}))' --split-input-file 2>&1 | FileCheck %s --check-prefix=CUDA

// CUDA: error: a dynamic batch ('batch' in tok.bounds) is supported on the cpu target only so far: for cuda, compile one artifact per batch size

// expected-error @+1 {{argument #0 has a dynamic extent ('tensor<?x8xf32>') but the function declares no bound: add `tok.bounds = {batch = N}`}}
func.func @no_bound(%s: tensor<?x8xf32>) -> tensor<?xi32> {
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?xi32>)
  return %n : tensor<?xi32>
}

// -----

// expected-error @+1 {{tok.bounds must name one dynamic extent and its bound, e.g. {batch = 64}; got {batch = 4 : i64, tokens = 8 : i64}}}
func.func @two_symbols(%s: tensor<?x8xf32>) -> tensor<?xi32> attributes {tok.bounds = {batch = 4, tokens = 8}} {
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?xi32>)
  return %n : tensor<?xi32>
}

// -----

// expected-error @+1 {{the bound of 'batch' must be in [0, 2^31), got -1}}
func.func @negative_bound(%s: tensor<?x8xf32>) -> tensor<?xi32> attributes {tok.bounds = {batch = -1}} {
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?xi32>)
  return %n : tensor<?xi32>
}

// -----

// expected-error @+1 {{the bound of 'batch' must be an integer, got "many"}}
func.func @string_bound(%s: tensor<?x8xf32>) -> tensor<?xi32> attributes {tok.bounds = {batch = "many"}} {
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?xi32>)
  return %n : tensor<?xi32>
}

// -----

// expected-error @+1 {{argument #1 ('tensor<4x8xf32>') does not lead with the dynamic extent 'batch': in a function with a dynamic batch every tensor does}}
func.func @static_argument(%s: tensor<?x8xf32>, %w: tensor<4x8xf32>) -> tensor<?xi32> attributes {tok.bounds = {batch = 4}} {
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?xi32>)
  return %n : tensor<?xi32>
}

// -----

// expected-error @+1 {{argument #0 ('tensor<?x?xf32>') has a dynamic extent at axis 1: only the leading (batch) extent may be dynamic}}
func.func @dynamic_tokens(%s: tensor<?x?xf32>) -> tensor<?x?xf32> attributes {tok.bounds = {batch = 4}} {
  return %s : tensor<?x?xf32>
}

// -----

// expected-error @+1 {{the dynamic extent 'batch' is on no argument, so no call could bind it}}
func.func @unbindable() -> tensor<?xi32> attributes {tok.bounds = {batch = 4}} {
  %c0 = arith.constant 0 : index
  %e = tensor.empty(%c0) : tensor<?xi32>
  return %e : tensor<?xi32>
}

// -----

// Folding the tokens into the batch: a row of the result is not a row of
// the operand.
func.func @folds_rows(%s: tensor<?x8xf32>) -> tensor<?xf32> attributes {tok.bounds = {batch = 4}} {
  // expected-error @+1 {{'tensor.collapse_shape' op cannot run row by row in a function with a dynamic batch}}
  %flat = tensor.collapse_shape %s [[0, 1]] : tensor<?x8xf32> into tensor<?xf32>
  return %flat : tensor<?xf32>
}

// -----

// A constant shared by every row is not a row.
func.func @shared_constant(%s: tensor<?x8xf32>) -> tensor<?xi32> attributes {tok.bounds = {batch = 4}} {
  // expected-error @+1 {{'arith.constant' op cannot run row by row in a function with a dynamic batch}}
  %w = arith.constant dense<1.0> : tensor<8xf32>
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?xi32>)
  return %n : tensor<?xi32>
}
