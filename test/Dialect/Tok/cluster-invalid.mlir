// RUN: winnow-opt %s --split-input-file --verify-diagnostics

// One case per verifier rule of ClusterOps.cpp (tok.row_cosine,
// tok.density_peaks, tok.similarity_components) and per ODS constraint of
// ClusterOps.td (element types, static shapes, attribute kinds).

func.func @cosine_rank0(%a: tensor<f32>) {
  // expected-error @+1 {{'tok.row_cosine' op expected operands of rank >= 1}}
  tok.row_cosine %a, %a : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return
}

// -----

func.func @cosine_shape_mismatch(%a: tensor<2x8xf32>, %b: tensor<2x9xf32>) {
  // expected-error @+1 {{'tok.row_cosine' op expected operands of one type, got 'tensor<2x8xf32>' and 'tensor<2x9xf32>'}}
  tok.row_cosine %a, %b : (tensor<2x8xf32>, tensor<2x9xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @cosine_dtype_mismatch(%a: tensor<2x8xf32>, %b: tensor<2x8xbf16>) {
  // expected-error @+1 {{'tok.row_cosine' op expected operands of one type, got 'tensor<2x8xf32>' and 'tensor<2x8xbf16>'}}
  tok.row_cosine %a, %b : (tensor<2x8xf32>, tensor<2x8xbf16>) -> tensor<2xf32>
  return
}

// -----

func.func @cosine_result_shape(%a: tensor<2x3x8xf32>) {
  // expected-error @+1 {{'tok.row_cosine' op expected similarity of shape 2x3xf32, got 2x8xf32}}
  tok.row_cosine %a, %a : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @cosine_int_operands(%a: tensor<2x8xi32>) {
  // expected-error @+1 {{'tok.row_cosine' op operand #0 must be tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values}}
  tok.row_cosine %a, %a : (tensor<2x8xi32>, tensor<2x8xi32>) -> tensor<2xf32>
  return
}

// -----

func.func @cosine_dynamic(%a: tensor<2x?xf32>) {
  // expected-error @+1 {{'tok.row_cosine' op operand #0 must be tensor with static extents after the batch}}
  tok.row_cosine %a, %a : (tensor<2x?xf32>, tensor<2x?xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @cosine_f16_result(%a: tensor<2x8xf16>) {
  // expected-error @+1 {{'tok.row_cosine' op result #0 must be tensor with static extents after the batch of 32-bit float values}}
  tok.row_cosine %a, %a : (tensor<2x8xf16>, tensor<2x8xf16>) -> tensor<2xf16>
  return
}

// -----

func.func @dpc_rank(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'tok.density_peaks' op expected input of rank 3 [B, N, C], got rank 2}}
  tok.density_peaks %x {k = 3, clusters = 2} : (tensor<2x8xf32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dpc_lengths_shape(%x: tensor<2x8x4xf32>, %l: tensor<3xi32>) {
  // expected-error @+1 {{'tok.density_peaks' op expected lengths of shape 2xi32, got 3xi32}}
  tok.density_peaks %x lengths %l {k = 3, clusters = 2}
      : (tensor<2x8x4xf32>, tensor<3xi32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dpc_parent_shape(%x: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.density_peaks' op expected parent of shape 2x8xi32, got 2x7xi32}}
  tok.density_peaks %x {k = 3, clusters = 2} : (tensor<2x8x4xf32>) -> (tensor<2x7xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dpc_count_shape(%x: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.density_peaks' op expected count of shape 2xi32, got 1xi32}}
  tok.density_peaks %x {k = 3, clusters = 2} : (tensor<2x8x4xf32>) -> (tensor<2x8xi32>, tensor<1xi32>)
  return
}

// -----

func.func @dpc_k_zero(%x: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.density_peaks' op expected k >= 1 neighbours, got 0}}
  tok.density_peaks %x {k = 0, clusters = 2} : (tensor<2x8x4xf32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dpc_clusters_negative(%x: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.density_peaks' op expected at least one cluster, got -1}}
  tok.density_peaks %x {k = 1, clusters = -1} : (tensor<2x8x4xf32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dpc_missing_k(%x: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.density_peaks' op requires attribute 'k'}}
  tok.density_peaks %x {clusters = 2} : (tensor<2x8x4xf32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dpc_k_not_integer(%x: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.density_peaks' op attribute 'k' failed to satisfy constraint: 64-bit signless integer attribute}}
  tok.density_peaks %x {k = 1.5 : f64, clusters = 2} : (tensor<2x8x4xf32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dpc_int_input(%x: tensor<2x8x4xi32>) {
  // expected-error @+1 {{'tok.density_peaks' op operand #0 must be tensor with static extents after the batch of 16-bit float or bfloat16 type or 32-bit float values}}
  tok.density_peaks %x {k = 1, clusters = 2} : (tensor<2x8x4xi32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dpc_i64_lengths(%x: tensor<2x8x4xf32>, %l: tensor<2xi64>) {
  // expected-error @+1 {{'tok.density_peaks' op operand #1 must be tensor with static extents after the batch of 32-bit signless integer values, but got 'tensor<2xi64>'}}
  tok.density_peaks %x lengths %l {k = 1, clusters = 2}
      : (tensor<2x8x4xf32>, tensor<2xi64>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @dpc_f32_parent(%x: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.density_peaks' op result #0 must be tensor with static extents after the batch of 32-bit signless integer values}}
  tok.density_peaks %x {k = 1, clusters = 2} : (tensor<2x8x4xf32>) -> (tensor<2x8xf32>, tensor<2xi32>)
  return
}

// -----

func.func @comp_rank(%x: tensor<2x3x8x4xf32>) {
  // expected-error @+1 {{'tok.similarity_components' op expected input of rank 3 [B, N, C], got rank 4}}
  tok.similarity_components %x {threshold = 0.5 : f64}
      : (tensor<2x3x8x4xf32>) -> (tensor<2x3xi32>, tensor<2xi32>)
  return
}

// -----

func.func @comp_lengths_shape(%x: tensor<2x8x4xf32>, %l: tensor<1xi32>) {
  // expected-error @+1 {{'tok.similarity_components' op expected lengths of shape 2xi32, got 1xi32}}
  tok.similarity_components %x lengths %l {threshold = 0.5 : f64}
      : (tensor<2x8x4xf32>, tensor<1xi32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @comp_parent_shape(%x: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.similarity_components' op expected parent of shape 2x8xi32, got 8x2xi32}}
  tok.similarity_components %x {threshold = 0.5 : f64}
      : (tensor<2x8x4xf32>) -> (tensor<8x2xi32>, tensor<2xi32>)
  return
}

// -----

func.func @comp_count_shape(%x: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.similarity_components' op expected count of shape 2xi32, got 2x1xi32}}
  tok.similarity_components %x {threshold = 0.5 : f64}
      : (tensor<2x8x4xf32>) -> (tensor<2x8xi32>, tensor<2x1xi32>)
  return
}

// -----

func.func @comp_threshold_nan(%x: tensor<2x8x4xf32>) {
  // 0x7FF8000000000000 is a quiet NaN.
  // expected-error @+1 {{'tok.similarity_components' op expected a threshold that is not NaN}}
  tok.similarity_components %x {threshold = 0x7FF8000000000000 : f64}
      : (tensor<2x8x4xf32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @comp_missing_threshold(%x: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.similarity_components' op requires attribute 'threshold'}}
  tok.similarity_components %x : (tensor<2x8x4xf32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @comp_threshold_f32(%x: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'tok.similarity_components' op attribute 'threshold' failed to satisfy constraint: 64-bit float attribute}}
  tok.similarity_components %x {threshold = 0.5 : f32}
      : (tensor<2x8x4xf32>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}

// -----

func.func @comp_dynamic(%x: tensor<2x?x4xbf16>) {
  // expected-error @+1 {{'tok.similarity_components' op operand #0 must be tensor with static extents after the batch}}
  tok.similarity_components %x {threshold = 0.5 : f64}
      : (tensor<2x?x4xbf16>) -> (tensor<2x8xi32>, tensor<2xi32>)
  return
}
