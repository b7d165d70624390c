// LLaVA-Scissor spatial step (docs/methods.md), per frame: the tokens of
// each frame are grouped into the connected components of the graph
// "cos(x_i, x_j) > 0.95" (tok.similarity_components: exact components, where
// the reference samples nodes - exact anyway at 196 tokens per frame), and
// each component is replaced by its mean (tok.scatter_merge, mean).
// Components are numbered by their lowest token index (the reference orders
// them by the index of each component's highest-degree node), so the merged
// tokens follow the frame's raster order of first appearance. The number of
// components is data dependent: rows >= count[f] are 0 (sizes 0).
// The temporal step (the same on the concatenated spatial tokens) and the
// final re-assignment are left to the caller.
//
// Shapes scaled down for the CPU: F = 8 frames as the batch, T = 196 tokens
// per frame, C = 256 features, bf16.
//
// @llava_scissor
//   frames [8, 196, 256] bf16
// -> component [8, 196] i32        component of every token
//    count     [8] i32             components per frame
//    merged    [8, 196, 256] bf16  component means; rows >= count are 0
//    sizes     [8, 196] f32        tokens per component
//
// Run: test/oracle/run_cluster_oracle.py --recipes.

func.func @llava_scissor(%frames: tensor<8x196x256xbf16> {tok.name = "frames"})
    -> (tensor<8x196xi32> {tok.name = "component"},
        tensor<8xi32> {tok.name = "count"},
        tensor<8x196x256xbf16> {tok.name = "merged"},
        tensor<8x196xf32> {tok.name = "sizes"}) {
  %parent, %count = tok.similarity_components %frames {threshold = 0.95 : f64}
      : (tensor<8x196x256xbf16>) -> (tensor<8x196xi32>, tensor<8xi32>)
  %merged, %sizes = tok.scatter_merge %parent, %count gather(%frames)
      {reduction = #tok.merge_reduction<mean>}
      : (tensor<8x196xi32>, tensor<8xi32>, tensor<8x196x256xbf16>)
      -> (tensor<8x196x256xbf16>, tensor<8x196xf32>)
  return %parent, %count, %merged, %sizes
      : tensor<8x196xi32>, tensor<8xi32>, tensor<8x196x256xbf16>, tensor<8x196xf32>
}
