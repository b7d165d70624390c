// HoliTom-style static temporal merge (docs/methods.md) for one
// segment of F = 8 frames, T = 196 tokens per frame (14 x 14, after HoliTom's
// 2x2 pooling the caller does), C = 256 features, bf16; tau = 0.8.
//
//   sim[t, p]  = cos(x[t, p], x[t+1, p])            t = 0..6 (tok.row_cosine)
//   static[p]  = sim[t, p] > tau for every t          (min over t, then >;
//                                                      a NaN similarity is not static)
//   parent[t, p] = p                if static[p]      (one row per static position)
//                  T + t * T + p    otherwise         (each dynamic token its own row)
//   merged, sizes = tok.scatter_merge(mean) of the segment's F * T tokens
//                   into T + F * T = 1764 rows (count = 1764)
//
// so row p < T is the temporal mean of static position p (size F) and the
// dynamic tokens are copied unchanged; rows of dynamic positions (< T) and of
// static tokens (>= T) get no member (0, size 0). The sparse layout is then
// compacted: tok.select #tok.threshold<0.5, gt> of the sizes keeps the used
// rows (ascending: static positions first, then the dynamic tokens frame by
// frame) and tok.compact gathers them; `count` = #static + F * #dynamic.
// The parent map is built with a linalg.generic iota (T + t*T + p and p),
// linalg.broadcast of the mask over frames and an elementwise arith.select.
//
// Left to the caller: the DP segmentation into segments (this is one
// segment), and DPC-kNN merging of the dynamic tokens per frame
// (tok.density_peaks on `tokens[:, #static:]`) with HoliTom's rescaled budget.
//
// @holitom_static_merge
//   frames [8, 196, 256] bf16
// -> similarity [7, 196] f32          consecutive-frame cosine per position
//    static     [196] i1              position static over the whole segment
//    parent     [1, 1568] i32         merge plan of the F*T tokens (frame-major)
//    merged     [1, 1764, 256] bf16   sparse layout (see above)
//    sizes      [1, 1764] f32
//    tokens     [1, 1764, 256] bf16   used rows compacted; rows >= count are 0
//    count      [1] i32
//
// Run: test/oracle/run_cluster_oracle.py --recipes.

#map_tp = affine_map<(t, p) -> (t, p)>

func.func @holitom_static_merge(%frames: tensor<8x196x256xbf16> {tok.name = "frames"})
    -> (tensor<7x196xf32> {tok.name = "similarity"},
        tensor<196xi1> {tok.name = "static"},
        tensor<1x1568xi32> {tok.name = "parent"},
        tensor<1x1764x256xbf16> {tok.name = "merged"},
        tensor<1x1764xf32> {tok.name = "sizes"},
        tensor<1x1764x256xbf16> {tok.name = "tokens"},
        tensor<1xi32> {tok.name = "count"}) {
  %prev = tensor.extract_slice %frames[0, 0, 0] [7, 196, 256] [1, 1, 1]
      : tensor<8x196x256xbf16> to tensor<7x196x256xbf16>
  %next = tensor.extract_slice %frames[1, 0, 0] [7, 196, 256] [1, 1, 1]
      : tensor<8x196x256xbf16> to tensor<7x196x256xbf16>
  %sim = tok.row_cosine %prev, %next
      : (tensor<7x196x256xbf16>, tensor<7x196x256xbf16>) -> tensor<7x196xf32>
  // Minimum over the 7 frame pairs (NaN propagates and is then not > tau).
  %s0 = tensor.extract_slice %sim[0, 0] [1, 196] [1, 1] : tensor<7x196xf32> to tensor<196xf32>
  %s1 = tensor.extract_slice %sim[1, 0] [1, 196] [1, 1] : tensor<7x196xf32> to tensor<196xf32>
  %s2 = tensor.extract_slice %sim[2, 0] [1, 196] [1, 1] : tensor<7x196xf32> to tensor<196xf32>
  %s3 = tensor.extract_slice %sim[3, 0] [1, 196] [1, 1] : tensor<7x196xf32> to tensor<196xf32>
  %s4 = tensor.extract_slice %sim[4, 0] [1, 196] [1, 1] : tensor<7x196xf32> to tensor<196xf32>
  %s5 = tensor.extract_slice %sim[5, 0] [1, 196] [1, 1] : tensor<7x196xf32> to tensor<196xf32>
  %s6 = tensor.extract_slice %sim[6, 0] [1, 196] [1, 1] : tensor<7x196xf32> to tensor<196xf32>
  %m01 = arith.minimumf %s0, %s1 : tensor<196xf32>
  %m23 = arith.minimumf %s2, %s3 : tensor<196xf32>
  %m45 = arith.minimumf %s4, %s5 : tensor<196xf32>
  %m03 = arith.minimumf %m01, %m23 : tensor<196xf32>
  %m46 = arith.minimumf %m45, %s6 : tensor<196xf32>
  %minsim = arith.minimumf %m03, %m46 : tensor<196xf32>
  %tau = arith.constant dense<0.8> : tensor<196xf32>
  %static = arith.cmpf ogt, %minsim, %tau : tensor<196xf32>
  // parent[t, p] = static[p] ? p : T + t*T + p.
  %e_i1 = tensor.empty() : tensor<8x196xi1>
  %static_tp = linalg.broadcast ins(%static : tensor<196xi1>) outs(%e_i1 : tensor<8x196xi1>)
      dimensions = [0]
  %e_i32 = tensor.empty() : tensor<8x196xi32>
  %own, %pos = linalg.generic {indexing_maps = [#map_tp, #map_tp],
                               iterator_types = ["parallel", "parallel"]}
      outs(%e_i32, %e_i32 : tensor<8x196xi32>, tensor<8x196xi32>) {
  ^bb0(%o0: i32, %o1: i32):
    %t = linalg.index 0 : index
    %p = linalg.index 1 : index
    %c196 = arith.constant 196 : index
    %c1 = arith.constant 1 : index
    %t1 = arith.addi %t, %c1 : index
    %row = arith.muli %t1, %c196 : index
    %r = arith.addi %row, %p : index
    %ri = arith.index_cast %r : index to i32
    %pi = arith.index_cast %p : index to i32
    linalg.yield %ri, %pi : i32, i32
  } -> (tensor<8x196xi32>, tensor<8x196xi32>)
  %parent_tp = arith.select %static_tp, %pos, %own : tensor<8x196xi1>, tensor<8x196xi32>
  %parent = tensor.collapse_shape %parent_tp [[0, 1]] : tensor<8x196xi32> into tensor<1568xi32>
  %parent2 = tensor.expand_shape %parent [[0, 1]] output_shape [1, 1568]
      : tensor<1568xi32> into tensor<1x1568xi32>
  %x = tensor.collapse_shape %frames [[0, 1], [2]] : tensor<8x196x256xbf16> into tensor<1568x256xbf16>
  %x2 = tensor.expand_shape %x [[0, 1], [2]] output_shape [1, 1568, 256]
      : tensor<1568x256xbf16> into tensor<1x1568x256xbf16>
  %rows = arith.constant dense<1764> : tensor<1xi32>
  %merged, %sizes = tok.scatter_merge %parent2, %rows gather(%x2)
      {reduction = #tok.merge_reduction<mean>}
      : (tensor<1x1568xi32>, tensor<1xi32>, tensor<1x1568x256xbf16>)
      -> (tensor<1x1764x256xbf16>, tensor<1x1764xf32>)
  %idx, %n = tok.select #tok.threshold<0.5, gt> of %sizes
      : (tensor<1x1764xf32>) -> (tensor<1x1764xi32>, tensor<1xi32>)
  %tokens, %map = tok.compact %idx, %n gather(%merged)
      : (tensor<1x1764xi32>, tensor<1xi32>, tensor<1x1764x256xbf16>)
      -> (tensor<1x1764x256xbf16>, tensor<1x1764xi32>)
  return %sim, %static, %parent2, %merged, %sizes, %tokens, %n
      : tensor<7x196xf32>, tensor<196xi1>, tensor<1x1568xi32>, tensor<1x1764x256xbf16>,
        tensor<1x1764xf32>, tensor<1x1764x256xbf16>, tensor<1xi32>
}
