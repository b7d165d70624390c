// Ops whose GPU forms launch a block per batch row, at batch 0.

func.func @compact_map(%idx: tensor<0x4xi32> {tok.name = "idx"},
                       %n: tensor<0xi32> {tok.name = "n"},
                       %h: tensor<0x8x16xbf16> {tok.name = "h"})
    -> (tensor<0x4x16xbf16> {tok.name = "kept"},
        tensor<0x8xi32> {tok.name = "map"}) {
  %k, %m = tok.compact %idx, %n gather(%h)
      : (tensor<0x4xi32>, tensor<0xi32>, tensor<0x8x16xbf16>)
      -> (tensor<0x4x16xbf16>, tensor<0x8xi32>)
  return %k, %m : tensor<0x4x16xbf16>, tensor<0x8xi32>
}

func.func @merge(%p: tensor<0x9xi32> {tok.name = "parent"},
                 %c: tensor<0xi32> {tok.name = "count"},
                 %x: tensor<0x9x8xf32> {tok.name = "x"})
    -> (tensor<0x6x8xf32> {tok.name = "merged"},
        tensor<0x6xf32> {tok.name = "sizes"}) {
  %m, %sz = tok.scatter_merge %p, %c gather(%x)
      {reduction = #tok.merge_reduction<mean>}
      : (tensor<0x9xi32>, tensor<0xi32>, tensor<0x9x8xf32>)
      -> (tensor<0x6x8xf32>, tensor<0x6xf32>)
  return %m, %sz : tensor<0x6x8xf32>, tensor<0x6xf32>
}

func.func @select(%s: tensor<0x64xf32> {tok.name = "scores"})
    -> (tensor<0x8xi32> {tok.name = "indices"}, tensor<0xi32> {tok.name = "count"}) {
  %i, %c = tok.select #tok.top_k<8> of %s
      : (tensor<0x64xf32>) -> (tensor<0x8xi32>, tensor<0xi32>)
  return %i, %c : tensor<0x8xi32>, tensor<0xi32>
}

func.func @plan(%m: tensor<0x9x8xf32> {tok.name = "metric"})
    -> (tensor<0x9xi32> {tok.name = "plan"}, tensor<0xi32> {tok.name = "plan_count"}) {
  %p, %c = tok.bipartite_plan %m {r = 2}
      : (tensor<0x9x8xf32>) -> (tensor<0x9xi32>, tensor<0xi32>)
  return %p, %c : tensor<0x9xi32>, tensor<0xi32>
}
