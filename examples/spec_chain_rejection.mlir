// Lossless chain rejection sampling (Leviathan et al. / Chen et al.;
// docs/methods.md) on Llama-2 / Vicuna shapes:
// B = 8 requests, K = 4 drafts, V = 32000, bf16 target logits, fp32 draft
// probabilities, per-request temperature and Philox4x32-10 noise.
//
// With p_i = softmax(logits[b, i] / T_b) in fp32, draft x passes iff
// 0 <= x < V, q(x) > 0, p(x) > 0 and p(x) / q(x) >= u[b, i]; the first
// failure emits the exponential race over max(p - q, 0) (over p if that
// residual is identically zero); K_b passes emit the bonus race over
// p_{K_b}. T_b <= 0 makes request b greedy. The noise is a function of
// (seed[b], offset[b]) only: u[b, i] from Philox counter (i, 0, offset),
// E[b, v] from (v, 1, offset), key = seed -- bump offset every step.
//
//   logits       [B, K+1, V] bf16  target logits (row num_draft[b] = bonus row)
//   drafts       [B, K]      i32   draft tokens, sampled from draft_probs
//   num_draft    [B]         i32   drafts per request, clamped to [0, K]
//   draft_probs  [B, K, V]   f32   the draft distribution q the drafts came from
//   temperature  [B]         f32   T_b (the same one the drafter used)
//   seed, offset [B]         i64   Philox key and counter offset per request
//
// Results: tokens [B, K+1] i32 (-1 padded), num_accepted [B] i32,
// num_emitted [B] i32.
//
// Checked against test/oracle/verify_oracle.py by
// test/oracle/run_verify_oracle.py --recipes (test/e2e/recipes-verify.test).

func.func @spec_chain_rejection(
    %logits: tensor<8x5x32000xbf16> {tok.name = "logits"},
    %drafts: tensor<8x4xi32> {tok.name = "drafts"},
    %num_draft: tensor<8xi32> {tok.name = "num_draft"},
    %draft_probs: tensor<8x4x32000xf32> {tok.name = "draft_probs"},
    %temperature: tensor<8xf32> {tok.name = "temperature"},
    %seed: tensor<8xi64> {tok.name = "seed"},
    %offset: tensor<8xi64> {tok.name = "offset"})
    -> (tensor<8x5xi32> {tok.name = "tokens"},
        tensor<8xi32> {tok.name = "num_accepted"},
        tensor<8xi32> {tok.name = "num_emitted"}) {
  %tokens, %accepted, %emitted = tok.spec_verify %logits, %drafts, %num_draft
      draft_probs %draft_probs temperature %temperature seed %seed offset %offset
      {mode = #tok.verify_mode<rejection>}
      : (tensor<8x5x32000xbf16>, tensor<8x4xi32>, tensor<8xi32>, tensor<8x4x32000xf32>,
         tensor<8xf32>, tensor<8xi64>, tensor<8xi64>)
      -> (tensor<8x5xi32>, tensor<8xi32>, tensor<8xi32>)
  return %tokens, %accepted, %emitted : tensor<8x5xi32>, tensor<8xi32>, tensor<8xi32>
}
