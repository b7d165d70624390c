// RUN: winnow-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(tok-make-batch-dynamic{bound=8})'

// expected-error @+1 {{--dynamic-batch: every argument and result must lead with the same static batch extent (2), got 'tensor<256x8xf32>'}}
func.func @shared_weights(%s: tensor<2x8xf32>, %w: tensor<256x8xf32>) -> tensor<2xi32> {
  %i, %n = tok.select #tok.top_k<2> of %s : (tensor<2x8xf32>) -> (tensor<2x2xi32>, tensor<2xi32>)
  return %n : tensor<2xi32>
}

// -----

func.func @rows_differ(%s: tensor<2x8xf32>) -> tensor<2xi32> {
  // expected-error @+1 {{'arith.constant' op --dynamic-batch: a constant with the batch extent must be a splat (the same in every row)}}
  %bias = arith.constant dense<[[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<2x8xf32>
  %b = arith.addf %s, %bias : tensor<2x8xf32>
  %i, %n = tok.select #tok.top_k<2> of %b : (tensor<2x8xf32>) -> (tensor<2x2xi32>, tensor<2xi32>)
  return %n : tensor<2xi32>
}

// -----

// expected-error @+1 {{--dynamic-batch: the function has no argument to take the batch from}}
func.func @no_arguments() -> tensor<2xi32> {
  %c = arith.constant dense<1> : tensor<2xi32>
  return %c : tensor<2xi32>
}
