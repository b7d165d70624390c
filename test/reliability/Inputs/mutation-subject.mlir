// A small pruning program (score -> select -> compact) whose compiled artifact
// artifact-mutations.test damages.
func.func @prune(%q: tensor<2x2x1x8xf32>, %k: tensor<2x2x16x8xf32>,
                 %len: tensor<2xi32>, %hidden: tensor<2x16x4xf32>)
    -> (tensor<2x16xf32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x4x4xf32>) {
  %s = tok.attn_score %q, %k lengths %len
      : (tensor<2x2x1x8xf32>, tensor<2x2x16x8xf32>, tensor<2xi32>) -> tensor<2x16xf32>
  %idx, %n = tok.select #tok.top_k<4> of %s lengths %len
      : (tensor<2x16xf32>, tensor<2xi32>) -> (tensor<2x4xi32>, tensor<2xi32>)
  %h, %map = tok.compact %idx, %n gather(%hidden)
      : (tensor<2x4xi32>, tensor<2xi32>, tensor<2x16x4xf32>) -> (tensor<2x4x4xf32>, tensor<2x16xi32>)
  return %s, %idx, %n, %h : tensor<2x16xf32>, tensor<2x4xi32>, tensor<2xi32>, tensor<2x4x4xf32>
}
