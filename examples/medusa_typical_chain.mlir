// Medusa typical acceptance along a chain (docs/methods.md) on Vicuna
// shapes: B = 4 requests, K = 4 Medusa-head
// candidates each (one-hot drafts: no draft probabilities), V = 32000, bf16
// target logits, per-request temperature, Philox noise for the next token.
//
// With p = softmax(logits[b, i] / T_b) in fp32 and
// H(p) = -sum_v p_v log(p_v + 1e-5), candidate x passes iff 0 <= x < V and
// p(x) > min(epsilon, alpha * exp(-H(p))) (Medusa's defaults epsilon = 0.09
// = posterior_threshold, alpha = 0.3 = posterior_alpha). The token after the
// accepted prefix is the exponential race over p of that row (Philox
// exponentials, counter (v, 1, offset), key seed). Not distribution
// preserving; T_b <= 0 makes request b greedy.
//
//   logits       [B, K+1, V] bf16  target logits (row num_draft[b] = bonus row)
//   drafts       [B, K]      i32   candidate tokens of the Medusa heads
//   num_draft    [B]         i32   candidates per request, clamped to [0, K]
//   temperature  [B]         f32   T_b
//   seed, offset [B]         i64   Philox key and counter offset per request
//
// Results: tokens [B, K+1] i32 (-1 padded), num_accepted [B] i32,
// num_emitted [B] i32.
//
// Checked against test/oracle/verify_oracle.py by
// test/oracle/run_verify_oracle.py --recipes (test/e2e/recipes-verify.test).

func.func @medusa_typical_chain(
    %logits: tensor<4x5x32000xbf16> {tok.name = "logits"},
    %drafts: tensor<4x4xi32> {tok.name = "drafts"},
    %num_draft: tensor<4xi32> {tok.name = "num_draft"},
    %temperature: tensor<4xf32> {tok.name = "temperature"},
    %seed: tensor<4xi64> {tok.name = "seed"},
    %offset: tensor<4xi64> {tok.name = "offset"})
    -> (tensor<4x5xi32> {tok.name = "tokens"},
        tensor<4xi32> {tok.name = "num_accepted"},
        tensor<4xi32> {tok.name = "num_emitted"}) {
  %tokens, %accepted, %emitted = tok.spec_verify %logits, %drafts, %num_draft
      temperature %temperature seed %seed offset %offset
      {mode = #tok.verify_mode<typical>, typical_epsilon = 0.09 : f64, typical_alpha = 0.3 : f64}
      : (tensor<4x5x32000xbf16>, tensor<4x4xi32>, tensor<4xi32>, tensor<4xf32>,
         tensor<4xi64>, tensor<4xi64>)
      -> (tensor<4x5xi32>, tensor<4xi32>, tensor<4xi32>)
  return %tokens, %accepted, %emitted : tensor<4x5xi32>, tensor<4xi32>, tensor<4xi32>
}
