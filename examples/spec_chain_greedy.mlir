// Greedy chain verification (docs/methods.md) on
// Llama-2 / Vicuna shapes: B = 8 requests, K = 4 draft tokens each (EAGLE-3's
// chain length in vLLM PR #25196), V = 32000, bf16 target logits.
//
// Every request emits argmax(logits[b, i]) (ties to the lowest id) at each
// row up to and including the first row whose argmax differs from the
// draft, plus the bonus argmax of row num_draft[b] when all drafts match.
// No probabilities are formed and no noise is needed.
//
//   logits      [B, K+1, V] bf16  target logits; row num_draft[b] is the bonus
//                                 row, rows after it are never read
//   drafts      [B, K]      i32   draft token ids (any value; -1 never matches)
//   num_draft   [B]         i32   drafts per request, clamped to [0, K]
//
// Results: tokens [B, K+1] i32 (accepted prefix + one token, -1 padded),
// num_accepted [B] i32, num_emitted [B] i32 (= num_accepted + 1).
//
// Checked against test/oracle/verify_oracle.py by
// test/oracle/run_verify_oracle.py --recipes (test/e2e/recipes-verify.test).

func.func @spec_chain_greedy(
    %logits: tensor<8x5x32000xbf16> {tok.name = "logits"},
    %drafts: tensor<8x4xi32> {tok.name = "drafts"},
    %num_draft: tensor<8xi32> {tok.name = "num_draft"})
    -> (tensor<8x5xi32> {tok.name = "tokens"},
        tensor<8xi32> {tok.name = "num_accepted"},
        tensor<8xi32> {tok.name = "num_emitted"}) {
  %tokens, %accepted, %emitted = tok.spec_verify %logits, %drafts, %num_draft
      {mode = #tok.verify_mode<greedy>}
      : (tensor<8x5x32000xbf16>, tensor<8x4xi32>, tensor<8xi32>)
      -> (tensor<8x5xi32>, tensor<8xi32>, tensor<8xi32>)
  return %tokens, %accepted, %emitted : tensor<8x5xi32>, tensor<8xi32>, tensor<8xi32>
}
