// RUN: winnow-opt %s -split-input-file -verify-diagnostics

func.func @wrong_rows(%s: tensor<2x16xf32>) -> tensor<2x4xi32> {
  // expected-error @+1 {{expected result #0 to have the batch extent 3 as its leading dimension, got 'tensor<2x4xi32>'}}
  %i = tok.dispatch rows 3 scratch 0 saved 0 launches 0 -> (tensor<2x4xi32>) {
    %i, %n = tok.select #tok.top_k<4> of %s : (tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
    tok.yield %i : tensor<2x4xi32>
  }
  return %i : tensor<2x4xi32>
}

// -----

func.func @yield_types(%s: tensor<2x16xf32>) -> tensor<2x4xi32> {
  // expected-error @+1 {{expected tok.yield to name values of the result types}}
  %i = tok.dispatch rows 2 scratch 0 saved 0 launches 0 -> (tensor<2x4xi32>) {
    %i, %n = tok.select #tok.top_k<4> of %s : (tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
    tok.yield %n : tensor<2xi32>
  }
  return %i : tensor<2x4xi32>
}

// -----

func.func @not_row_local(%s: tensor<2x16xf32>) -> tensor<2x16xf32> {
  %r = tok.dispatch rows 2 scratch 0 saved 0 launches 0 -> (tensor<2x16xf32>) {
    // expected-error @+1 {{cannot be fused in a tok.dispatch: only tok ops, elementwise ops and constants are row-local}}
    %t = tensor.empty() : tensor<2x16xf32>
    tok.yield %t : tensor<2x16xf32>
  }
  return %r : tensor<2x16xf32>
}

// -----

func.func @other_batch(%s: tensor<4x16xf32>) -> tensor<2x4xi32> {
  %i = tok.dispatch rows 2 scratch 0 saved 0 launches 0 -> (tensor<2x4xi32>) {
    // expected-error @+1 {{inside a tok.dispatch of 2 rows must produce tensors with that leading extent, got 'tensor<4x4xi32>'}}
    %i, %n = tok.select #tok.top_k<4> of %s : (tensor<4x16xf32>) -> (tensor<4x4xi32>, tensor<4xi32>)
    %c = arith.constant dense<0> : tensor<2x4xi32>
    tok.yield %c : tensor<2x4xi32>
  }
  return %i : tensor<2x4xi32>
}

// -----

func.func @bad_rows() {
  // expected-error @+1 {{attribute 'rows' failed to satisfy constraint}}
  tok.dispatch rows 0 scratch 0 saved 0 launches 0 {
    tok.yield
  }
  return
}

// -----

// A dense (non-splat) constant inside a region has no row form.
// RUN: not winnow-opt %s -split-input-file --tok-lower-to-loops 2>&1 | FileCheck %s --check-prefix=LOWER
// LOWER: error: 'arith.constant' op inside a tok.dispatch must be a splat constant
func.func @dense_constant(%s: tensor<2x2xf32>) -> (tensor<2x1xi32>, tensor<2xi32>) {
  %i, %n = tok.dispatch rows 2 scratch 0 saved 0 launches 1 -> (tensor<2x1xi32>, tensor<2xi32>) {
    %c = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
    %x = arith.addf %s, %c : tensor<2x2xf32>
    %i, %n = tok.select #tok.top_k<1> of %x : (tensor<2x2xf32>) -> (tensor<2x1xi32>, tensor<2xi32>)
    tok.yield %i, %n : tensor<2x1xi32>, tensor<2xi32>
  }
  return %i, %n : tensor<2x1xi32>, tensor<2xi32>
}
