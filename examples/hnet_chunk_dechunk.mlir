// H-Net dynamic chunking around a main network (docs/methods.md).
//
// One H-Net stage at a CPU-cheap but realistic size: B = 2 byte sequences
// (ragged: `lengths`), L = 1024 bytes, d_model D = 256, bf16 activations.
// The main network that runs on the chunks is outside Winnow, so the stage
// is two functions:
//
// @hnet_chunk (routing + downsampling)
//   queries  [B, L, D] bf16  W_q h (the projections are GEMMs outside Winnow)
//   keys     [B, L, D] bf16  W_k h
//   lengths  [B]       i32   valid bytes per row
//   hidden   [B, L, D] bf16  the encoder output h
// -> probs [B, L] f32 (p_0 = 1; p_t = clamp((1 - cos(q_{t-1}, k_t)) / 2, 0, 1);
//    padding 0), boundaries [B, L] i1 (p > 0.5), chunk_indices [B, L] i32
//    (the boundary positions, ascending, -1 padded), chunk_count [B] i32,
//    chunks [B, L, D] bf16 (the first byte of every chunk, 0 padded: the
//    main network's input), gates [B, L] f32 (the p of every chunk's first
//    byte, which the dechunk EMA needs).
//    The chunks are a stream compaction of the boundary rows: select the
//    positions with p > 0.5 (padding has p = 0), then one compact gathers
//    the hidden rows and their probabilities together.
//
// @hnet_dechunk (upsampling)
//   z           [B, L, D] bf16  main-network output, one row per chunk
//   gates       [B, L]    f32   from @hnet_chunk
//   chunk_count [B]       i32   from @hnet_chunk
//   boundaries  [B, L]    i1    from @hnet_chunk
//   lengths     [B]       i32
//   residual    [B, L, D] bf16  the residual branch (W_res h_enc)
// -> out [B, L, D] bf16: zbar_j = P_j z_j + (1 - P_j) zbar_{j-1} with
//    P = clamp(gate, 1e-4, 1 - 1e-4) in fp32, then every byte receives its
//    chunk's zbar plus its residual (formed in fp32, rounded once to bf16);
//    padding bytes are 0.
//
// Run: test/oracle/run_chunk_recipes.py (compiles this file, runs both
// functions with winnow-run and checks them against test/oracle/chunk_oracle.py).

func.func @hnet_chunk(
    %q: tensor<2x1024x256xbf16> {tok.name = "queries"},
    %k: tensor<2x1024x256xbf16> {tok.name = "keys"},
    %len: tensor<2xi32> {tok.name = "lengths"},
    %h: tensor<2x1024x256xbf16> {tok.name = "hidden"})
    -> (tensor<2x1024xf32> {tok.name = "probs"},
        tensor<2x1024xi1> {tok.name = "boundaries"},
        tensor<2x1024xi32> {tok.name = "chunk_indices"},
        tensor<2xi32> {tok.name = "chunk_count"},
        tensor<2x1024x256xbf16> {tok.name = "chunks"},
        tensor<2x1024xf32> {tok.name = "gates"}) {
  %p, %b = tok.boundary %q, %k lengths %len
      : (tensor<2x1024x256xbf16>, tensor<2x1024x256xbf16>, tensor<2xi32>)
      -> (tensor<2x1024xf32>, tensor<2x1024xi1>)
  %idx, %n = tok.select #tok.threshold<0.5, gt> of %p lengths %len
      : (tensor<2x1024xf32>, tensor<2xi32>) -> (tensor<2x1024xi32>, tensor<2xi32>)
  %chunks, %gates, %map = tok.compact %idx, %n gather(%h, %p)
      : (tensor<2x1024xi32>, tensor<2xi32>, tensor<2x1024x256xbf16>, tensor<2x1024xf32>)
      -> (tensor<2x1024x256xbf16>, tensor<2x1024xf32>, tensor<2x1024xi32>)
  return %p, %b, %idx, %n, %chunks, %gates
      : tensor<2x1024xf32>, tensor<2x1024xi1>, tensor<2x1024xi32>, tensor<2xi32>,
        tensor<2x1024x256xbf16>, tensor<2x1024xf32>
}

func.func @hnet_dechunk(
    %z: tensor<2x1024x256xbf16> {tok.name = "z"},
    %gates: tensor<2x1024xf32> {tok.name = "gates"},
    %n: tensor<2xi32> {tok.name = "chunk_count"},
    %b: tensor<2x1024xi1> {tok.name = "boundaries"},
    %len: tensor<2xi32> {tok.name = "lengths"},
    %res: tensor<2x1024x256xbf16> {tok.name = "residual"})
    -> (tensor<2x1024x256xbf16> {tok.name = "out"}) {
  %zbar = tok.ema_scan %z, %gates, %n
      : (tensor<2x1024x256xbf16>, tensor<2x1024xf32>, tensor<2xi32>) -> tensor<2x1024x256xf32>
  %out = tok.expand %zbar, %b lengths %len residual %res
      : (tensor<2x1024x256xf32>, tensor<2x1024xi1>, tensor<2xi32>, tensor<2x1024x256xbf16>)
      -> tensor<2x1024x256xbf16>
  return %out : tensor<2x1024x256xbf16>
}
