// RUN: winnow-opt %s --split-input-file --verify-diagnostics

// Every tok op rejects an attribute it does not define: a misspelling would
// otherwise be kept, ignored, and the op would use its default. A close
// match is suggested; otherwise the op's attributes are listed.

func.func @attn_score(%q: tensor<2x4x1x8xf32>, %k: tensor<2x4x16x8xf32>) -> tensor<2x16xf32> {
  // expected-error @+1 {{'tok.attn_score' op has no attribute 'reducton'; did you mean 'reduction'?}}
  %s = tok.attn_score %q, %k {reducton = 1 : i64} : (tensor<2x4x1x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x16xf32>
  return %s : tensor<2x16xf32>
}

// -----

func.func @select(%s: tensor<2x16xf32>) -> tensor<2x4xi32> {
  // expected-error @+1 {{'tok.select' op has no attribute 'nan_polcy'; did you mean 'nan_policy'?}}
  %i, %n = tok.select #tok.top_k<4> of %s {nan_polcy = #tok.nan_policy<as_pos_inf>} : (tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
  return %i : tensor<2x4xi32>
}

// -----

func.func @compact(%i: tensor<2x4xi32>, %n: tensor<2xi32>, %h: tensor<2x16x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tok.compact' op has no attribute 'token_axis'; did you mean 'token_axes'?}}
  %g, %m = tok.compact %i, %n gather(%h) {token_axis = array<i64: 1>} : (tensor<2x4xi32>, tensor<2xi32>, tensor<2x16x8xf32>) -> (tensor<2x4x8xf32>, tensor<2x16xi32>)
  return %g : tensor<2x4x8xf32>
}

// -----

func.func @kv_select(%l: tensor<2xi32>, %s: tensor<2x8x1024xf32>) -> tensor<2x8x512xi32> {
  // expected-error @+1 {{'tok.kv_select' op has no attribute 'sink'; did you mean 'sinks'?}}
  %sl, %n = tok.kv_select %l scores %s {sink = 4 : i64, window = 508 : i64} : (tensor<2xi32>, tensor<2x8x1024xf32>) -> (tensor<2x8x512xi32>, tensor<2x8xi32>)
  return %sl : tensor<2x8x512xi32>
}

// -----

func.func @kv_gather(%slots: tensor<1x32x516xi32>, %n: tensor<1x32xi32>, %k: tensor<1x32x4096x128xf16>) -> tensor<1x32x516x128xf16> {
  // expected-error @+1 {{'tok.kv_gather' op has no attribute 'position'; did you mean 'position_mode'?}}
  %k2, %p = tok.kv_gather %slots, %n gather(%k) {position = 1 : i64} : (tensor<1x32x516xi32>, tensor<1x32xi32>, tensor<1x32x4096x128xf16>) -> (tensor<1x32x516x128xf16>, tensor<1x32x516xi32>)
  return %k2 : tensor<1x32x516x128xf16>
}

// -----

func.func @k_center(%x: tensor<1x6x2xf32>) -> tensor<1x3xi32> {
  // expected-error @+1 {{'tok.k_center' op has no attribute 'kk'; did you mean 'k'?}}
  %i, %n = tok.k_center %x {k = 3 : i64, kk = 3 : i64} : (tensor<1x6x2xf32>) -> (tensor<1x3xi32>, tensor<1xi32>)
  return %i : tensor<1x3xi32>
}

// -----

func.func @dart_select(%k: tensor<1x700x4096xf16>, %h: tensor<1x700x4096xf16>, %len: tensor<1xi32>) -> tensor<1x256xi32> {
  // expected-error @+1 {{'tok.dart_select' op has no attribute 'text_pivot'; did you mean 'text_pivots'?}}
  %idx, %n = tok.dart_select %k, %h lengths %len
      {span = array<i64: 35, 611>, image_pivots = 4, text_pivots = 4, text_pivot = 2, keep = 128}
      : (tensor<1x700x4096xf16>, tensor<1x700x4096xf16>, tensor<1xi32>) -> (tensor<1x256xi32>, tensor<1xi32>)
  return %idx : tensor<1x256xi32>
}

// -----

func.func @bipartite_plan(%m: tensor<4x197x64xf16>) -> tensor<4x197xi32> {
  // expected-error @+1 {{'tok.bipartite_plan' op has no attribute 'class_tokn'; did you mean 'class_token'?}}
  %p, %n = tok.bipartite_plan %m {r = 16 : i64, class_tokn} : (tensor<4x197x64xf16>) -> (tensor<4x197xi32>, tensor<4xi32>)
  return %p : tensor<4x197xi32>
}

// -----

func.func @scatter_merge(%p: tensor<2x9xi32>, %n: tensor<2xi32>, %x: tensor<2x9x3xf32>) -> tensor<2x5x3xf32> {
  // expected-error @+1 {{'tok.scatter_merge' op has no attribute 'reducton'; did you mean 'reduction'?}}
  %w, %z = tok.scatter_merge %p, %n gather(%x) {reducton = #tok.merge_reduction<sum>} : (tensor<2x9xi32>, tensor<2xi32>, tensor<2x9x3xf32>) -> (tensor<2x5x3xf32>, tensor<2x5xf32>)
  return %w : tensor<2x5x3xf32>
}

// -----

func.func @row_cosine(%a: tensor<8x33xf32>, %b: tensor<8x33xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'tok.row_cosine' op has no attribute 'eps' (it has none)}}
  %s = tok.row_cosine %a, %b {eps = 1.0e-6 : f64} : (tensor<8x33xf32>, tensor<8x33xf32>) -> tensor<8xf32>
  return %s : tensor<8xf32>
}

// -----

func.func @density_peaks(%z: tensor<2x5x3xf32>) -> tensor<2x5xi32> {
  // expected-error @+1 {{'tok.density_peaks' op has no attribute 'cluster'; did you mean 'clusters'?}}
  %p, %n = tok.density_peaks %z {clusters = 9 : i64, cluster = 8 : i64, k = 5 : i64} : (tensor<2x5x3xf32>) -> (tensor<2x5xi32>, tensor<2xi32>)
  return %p : tensor<2x5xi32>
}

// -----

func.func @similarity_components(%x: tensor<32x196x128xbf16>) -> tensor<32x196xi32> {
  // expected-error @+1 {{'tok.similarity_components' op has no attribute 'treshold'; did you mean 'threshold'?}}
  %p, %n = tok.similarity_components %x {threshold = 0.9 : f64, treshold = 0.5 : f64} : (tensor<32x196x128xbf16>) -> (tensor<32x196xi32>, tensor<32xi32>)
  return %p : tensor<32x196xi32>
}

// -----

func.func @boundary(%q: tensor<2x8x4xbf16>, %k: tensor<2x8x4xbf16>) -> tensor<2x8xi1> {
  // expected-error @+1 {{'tok.boundary' op has no attribute 'foo' (it has none)}}
  %p, %b = tok.boundary %q, %k {foo} : (tensor<2x8x4xbf16>, tensor<2x8x4xbf16>) -> (tensor<2x8xf32>, tensor<2x8xi1>)
  return %b : tensor<2x8xi1>
}

// -----

func.func @segment_reduce(%x: tensor<2x8x4xf32>, %b: tensor<2x8xi1>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{'tok.segment_reduce' op has no attribute 'reduce'; did you mean 'reduction'?}}
  %o, %n = tok.segment_reduce %x, %b {reduce = #tok.segment_reduction<sum>} : (tensor<2x8x4xf32>, tensor<2x8xi1>) -> (tensor<2x8x4xf32>, tensor<2xi32>)
  return %o : tensor<2x8x4xf32>
}

// -----

func.func @ema_scan(%z: tensor<2x8x4xbf16>, %g: tensor<2x8xf32>, %n: tensor<2xi32>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{'tok.ema_scan' op has no attribute 'epsilion'; did you mean 'epsilon'?}}
  %e = tok.ema_scan %z, %g, %n {epsilion = 0.0 : f64} : (tensor<2x8x4xbf16>, tensor<2x8xf32>, tensor<2xi32>) -> tensor<2x8x4xf32>
  return %e : tensor<2x8x4xf32>
}

// -----

func.func @expand(%z: tensor<2x5x4xf32>, %b: tensor<2x8xi1>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{'tok.expand' op has no attribute 'residual_scale'}}
  %x = tok.expand %z, %b {residual_scale = 1.0 : f64} : (tensor<2x5x4xf32>, tensor<2x8xi1>) -> tensor<2x8x4xf32>
  return %x : tensor<2x8x4xf32>
}

// -----

func.func @spec_verify(%l: tensor<2x4x5xf32>, %d: tensor<2x3xi32>, %n: tensor<2xi32>,
    %s: tensor<2xi64>, %o: tensor<2xi64>) -> tensor<2x4xi32> {
  // expected-error @+1 {{'tok.spec_verify' op has no attribute 'mdoe'; did you mean 'mode'?}}
  %t, %a, %e = tok.spec_verify %l, %d, %n seed %s offset %o {mdoe = #tok.verify_mode<greedy>}
      : (tensor<2x4x5xf32>, tensor<2x3xi32>, tensor<2xi32>, tensor<2xi64>, tensor<2xi64>)
      -> (tensor<2x4xi32>, tensor<2xi32>, tensor<2xi32>)
  return %t : tensor<2x4xi32>
}

// -----

func.func @tree_verify(%l: tensor<2x5x7xf32>, %t: tensor<2x5xi32>, %p: tensor<2x5xi32>, %n: tensor<2xi32>) -> tensor<2x5xi32> {
  // expected-error @+1 {{'tok.tree_verify' op has no attribute 'mode_'; did you mean 'mode'?}}
  %tok, %nodes, %a, %e = tok.tree_verify %l, %t, %p, %n {mode_ = #tok.verify_mode<greedy>}
      : (tensor<2x5x7xf32>, tensor<2x5xi32>, tensor<2x5xi32>, tensor<2xi32>)
      -> (tensor<2x5xi32>, tensor<2x5xi32>, tensor<2xi32>, tensor<2xi32>)
  return %tok : tensor<2x5xi32>
}

// -----

func.func @dispatch(%q: tensor<2x4x1x8xf32>, %k: tensor<2x4x16x8xf32>) -> tensor<2x4xi32> {
  // expected-error @+1 {{'tok.dispatch' op has no attribute 'row'; did you mean 'rows'?}}
  %r:2 = tok.dispatch rows 2 scratch 64 saved 256 launches 1 -> (tensor<2x4xi32>, tensor<2xi32>) {
    %s = tok.attn_score %q, %k : (tensor<2x4x1x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x16xf32>
    %i, %n = tok.select #tok.top_k<4> of %s : (tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
    tok.yield %i, %n : tensor<2x4xi32>, tensor<2xi32>
  } {row = 2 : i64}
  return %r#0 : tensor<2x4xi32>
}

// -----

// No close match: the op's attributes are listed.
func.func @no_close_match(%s: tensor<2x16xf32>) -> tensor<2x4xi32> {
  // expected-error @+1 {{'tok.select' op has no attribute 'xyz' (its attributes: budget, nan_policy, span)}}
  %i, %n = tok.select #tok.top_k<4> of %s {xyz} : (tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
  return %i : tensor<2x4xi32>
}

// -----

// The project's own `tok.`-prefixed attributes are allowed.
func.func @tok_prefixed(%s: tensor<2x16xf32>) -> tensor<2x4xi32> {
  %i, %n = tok.select #tok.top_k<4> of %s {tok.note = "kept for the report"} : (tensor<2x16xf32>) -> (tensor<2x4xi32>, tensor<2xi32>)
  return %i : tensor<2x4xi32>
}
