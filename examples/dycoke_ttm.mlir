// DyCoke token temporal merging (TTM, docs/methods.md) for one window of
// 4 frames, LLaVA-OneVision-like frame tokens scaled down for the CPU: T = 196
// tokens per frame (14 x 14), C = 256 features, bf16.
//
// Window semantics pinned here (the reference loops leave them implicit):
//   * the window is exactly frames 0..3 of `frames`; frames 0 and 2 are the
//     anchors and are kept whole (returned unchanged as `anchor_frames`);
//   * frame 1 is compared with frame 0 and frame 3 with frame 2, per
//     position: sim[j, p] = cos(frames[2j, p], frames[2j+1, p]) (tok.row_cosine,
//     fp32, a zero row has similarity 0);
//   * in frames 1 and 3, the K = int((1 - rho) * T) = int(0.3 * 196) = 58
//     LEAST similar positions are kept (tok.select top_k of -sim: larger
//     -sim first, ties to the lower position, NaN ranked last), and the kept
//     indices come out ascending - the dialect's fix of DyCoke's unsorted
//     topk(largest=False), so each frame keeps its raster order;
//   * "merging" is dropping: the other 138 positions of frames 1 and 3 are
//     gone (no averaging);
//   * the reference's second stage (frame 2 re-pruned against frame 0, which
//     its loop skips for the last window) is NOT done: frame 2 stays whole.
//     A caller wanting it chains one more tok.row_cosine / tok.select.
// The frames are extracted one by one with contiguous tensor.extract_slice
// (a strided slice x[0:4:2] would be the natural way to take frames {0, 2}
// at once, but currently fails to link: undefined memrefCopy).
//
// @dycoke_ttm
//   frames [4, 196, 256] bf16   one window, frame-major
// -> anchor_frames [2, 196, 256] bf16   frames 0 and 2, whole
//    similarity    [2, 196] f32         cos(frame 0, 1) and cos(frame 2, 3) per position
//    kept_indices  [2, 58] i32          kept positions of frames 1 and 3, ascending
//    kept_count    [2] i32              58, 58
//    kept_tokens   [2, 58, 256] bf16    frames 1 and 3 at those positions
//
// Run: test/oracle/run_cluster_oracle.py --recipes.

func.func @dycoke_ttm(%frames: tensor<4x196x256xbf16> {tok.name = "frames"})
    -> (tensor<2x196x256xbf16> {tok.name = "anchor_frames"},
        tensor<2x196xf32> {tok.name = "similarity"},
        tensor<2x58xi32> {tok.name = "kept_indices"},
        tensor<2xi32> {tok.name = "kept_count"},
        tensor<2x58x256xbf16> {tok.name = "kept_tokens"}) {
  %f0 = tensor.extract_slice %frames[0, 0, 0] [1, 196, 256] [1, 1, 1]
      : tensor<4x196x256xbf16> to tensor<1x196x256xbf16>
  %f1 = tensor.extract_slice %frames[1, 0, 0] [1, 196, 256] [1, 1, 1]
      : tensor<4x196x256xbf16> to tensor<1x196x256xbf16>
  %f2 = tensor.extract_slice %frames[2, 0, 0] [1, 196, 256] [1, 1, 1]
      : tensor<4x196x256xbf16> to tensor<1x196x256xbf16>
  %f3 = tensor.extract_slice %frames[3, 0, 0] [1, 196, 256] [1, 1, 1]
      : tensor<4x196x256xbf16> to tensor<1x196x256xbf16>
  %s01 = tok.row_cosine %f0, %f1
      : (tensor<1x196x256xbf16>, tensor<1x196x256xbf16>) -> tensor<1x196xf32>
  %s23 = tok.row_cosine %f2, %f3
      : (tensor<1x196x256xbf16>, tensor<1x196x256xbf16>) -> tensor<1x196xf32>
  %sim = tensor.concat dim(0) %s01, %s23
      : (tensor<1x196xf32>, tensor<1x196xf32>) -> tensor<2x196xf32>
  %anchors = tensor.concat dim(0) %f0, %f2
      : (tensor<1x196x256xbf16>, tensor<1x196x256xbf16>) -> tensor<2x196x256xbf16>
  %odd = tensor.concat dim(0) %f1, %f3
      : (tensor<1x196x256xbf16>, tensor<1x196x256xbf16>) -> tensor<2x196x256xbf16>
  // Least similar first: top-k of the negated similarity.
  %dissim = arith.negf %sim : tensor<2x196xf32>
  %idx, %n = tok.select #tok.top_k<58> of %dissim
      : (tensor<2x196xf32>) -> (tensor<2x58xi32>, tensor<2xi32>)
  %kept, %map = tok.compact %idx, %n gather(%odd)
      : (tensor<2x58xi32>, tensor<2xi32>, tensor<2x196x256xbf16>)
      -> (tensor<2x58x256xbf16>, tensor<2x196xi32>)
  return %anchors, %sim, %idx, %n, %kept
      : tensor<2x196x256xbf16>, tensor<2x196xf32>, tensor<2x58xi32>, tensor<2xi32>,
        tensor<2x58x256xbf16>
}
