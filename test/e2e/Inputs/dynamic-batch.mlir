// Functions with a dynamic leading (batch) extent, for dynamic-batch-run.test
// (and a seed of the artifact fuzzers, test/fuzz/replay.test): one artifact
// serves every batch from 0 to the bound. @top2_static is @top2 at its
// bound, the reference a call at the bound must equal.

func.func @top2(%s: tensor<?x8xf32> {tok.name = "scores"},
                %len: tensor<?xi32> {tok.name = "lengths"})
    -> (tensor<?x2xi32> {tok.name = "indices"},
        tensor<?xi32> {tok.name = "count"})
    attributes {tok.bounds = {batch = 16}} {
  %i, %n = tok.select #tok.top_k<2> of %s lengths %len
      : (tensor<?x8xf32>, tensor<?xi32>) -> (tensor<?x2xi32>, tensor<?xi32>)
  return %i, %n : tensor<?x2xi32>, tensor<?xi32>
}

func.func @top2_static(%s: tensor<16x8xf32> {tok.name = "scores"},
                       %len: tensor<16xi32> {tok.name = "lengths"})
    -> (tensor<16x2xi32> {tok.name = "indices"},
        tensor<16xi32> {tok.name = "count"}) {
  %i, %n = tok.select #tok.top_k<2> of %s lengths %len
      : (tensor<16x8xf32>, tensor<16xi32>) -> (tensor<16x2xi32>, tensor<16xi32>)
  return %i, %n : tensor<16x2xi32>, tensor<16xi32>
}

// Another symbol name, three inputs binding it (one of rank 3) and a
// result of the second op: select, then gather the kept tokens' rows.
func.func @prune(%s: tensor<?x8xf32> {tok.name = "scores"},
                 %len: tensor<?xi32> {tok.name = "lengths"},
                 %h: tensor<?x8x4xf32> {tok.name = "hidden"})
    -> (tensor<?x3x4xf32> {tok.name = "kept"},
        tensor<?x3xi32> {tok.name = "indices"},
        tensor<?xi32> {tok.name = "count"})
    attributes {tok.bounds = {rows = 4}} {
  %i, %n = tok.select #tok.top_k<3> of %s lengths %len
      : (tensor<?x8xf32>, tensor<?xi32>) -> (tensor<?x3xi32>, tensor<?xi32>)
  %k, %m = tok.compact %i, %n gather(%h)
      : (tensor<?x3xi32>, tensor<?xi32>, tensor<?x8x4xf32>)
      -> (tensor<?x3x4xf32>, tensor<?x8xi32>)
  return %k, %i, %n : tensor<?x3x4xf32>, tensor<?x3xi32>, tensor<?xi32>
}
