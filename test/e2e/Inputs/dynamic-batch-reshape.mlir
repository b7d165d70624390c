// Written at batch 2; dynamic-batch-run.test compiles it with
// --dynamic-batch: an expand_shape and a collapse_shape that keep the
// batch as their own leading axis.
func.func @reshape(%s: tensor<2x8xf32> {tok.name = "scores"})
    -> (tensor<2x2x4xf32> {tok.name = "split"}, tensor<2xi32> {tok.name = "count"},
        tensor<2x2xi32> {tok.name = "best"}) {
  %e = tensor.expand_shape %s [[0], [1, 2]] output_shape [2, 2, 4]
      : tensor<2x8xf32> into tensor<2x2x4xf32>
  %c = tensor.collapse_shape %e [[0], [1, 2]] : tensor<2x2x4xf32> into tensor<2x8xf32>
  %i, %n = tok.select #tok.top_k<2> of %c : (tensor<2x8xf32>) -> (tensor<2x2xi32>, tensor<2xi32>)
  return %e, %n, %i : tensor<2x2x4xf32>, tensor<2xi32>, tensor<2x2xi32>
}
