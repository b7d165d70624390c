// Medusa tree verification with typical acceptance (docs/methods.md) on Vicuna-7B shapes: B = 2
// requests, a 63-node Medusa tree + the root (64 tokens, depth <= 4, top-10
// per head, as mc_sim_7b_63), V = 32000, bf16 target logits, per-request
// temperature, Philox noise for the next token.
//
// With p = softmax(logits[parent(i)] / T_b) in fp32 and
// H(p) = -sum_v p_v log(p_v + 1e-5), node i's token x passes iff
// 0 <= x < V and p(x) > min(epsilon, alpha * exp(-H(p))) (Medusa's
// posterior_threshold = 0.09, posterior_alpha = 0.3). A node is accepted
// iff it passes and its parent is accepted (bad parents and padding nodes
// are out of the tree). Every root-to-leaf path scores its accepted prefix;
// the longest wins, then the larger sum of log p over the prefix, then the
// lower leaf index (evaluate_posterior). The next token is the exponential
// race over p of the last accepted node's row, with Philox exponentials
// (counter (v, 1, offset), key seed). Not distribution preserving. Use
// temperature > 0 (tok.tree_verify does not define T <= 0).
//
//   logits       [B, T, V] bf16  target logits per tree node (T = 64)
//   tree_tokens  [B, T]    i32   node tokens (Medusa head candidates)
//   parents      [B, T]    i32   parent node per node
//   num_nodes    [B]       i32   nodes per request, clamped to [1, T]
//   temperature  [B]       f32   T_b > 0
//   seed, offset [B]       i64   Philox key and counter offset per request
//
// Results (capacity C = T, -1 padded): tokens [B, T] i32, accept_nodes
// [B, T] i32 (the KV slots to compact: prefix_len + node), num_accepted [B]
// i32, num_emitted [B] i32.
//
// Checked against test/oracle/tree_oracle.py by
// test/oracle/run_tree_oracle.py --recipes (test/e2e/recipes-tree.test).

func.func @medusa_tree_typical(
    %logits: tensor<2x64x32000xbf16> {tok.name = "logits"},
    %tree_tokens: tensor<2x64xi32> {tok.name = "tree_tokens"},
    %parents: tensor<2x64xi32> {tok.name = "parents"},
    %num_nodes: tensor<2xi32> {tok.name = "num_nodes"},
    %temperature: tensor<2xf32> {tok.name = "temperature"},
    %seed: tensor<2xi64> {tok.name = "seed"},
    %offset: tensor<2xi64> {tok.name = "offset"})
    -> (tensor<2x64xi32> {tok.name = "tokens"},
        tensor<2x64xi32> {tok.name = "accept_nodes"},
        tensor<2xi32> {tok.name = "num_accepted"},
        tensor<2xi32> {tok.name = "num_emitted"}) {
  %tokens, %nodes, %accepted, %emitted = tok.tree_verify %logits, %tree_tokens,
      %parents, %num_nodes temperature %temperature seed %seed offset %offset
      {mode = #tok.verify_mode<typical>, typical_epsilon = 0.09 : f64, typical_alpha = 0.3 : f64}
      : (tensor<2x64x32000xbf16>, tensor<2x64xi32>, tensor<2x64xi32>, tensor<2xi32>,
         tensor<2xf32>, tensor<2xi64>, tensor<2xi64>)
      -> (tensor<2x64xi32>, tensor<2x64xi32>, tensor<2xi32>, tensor<2xi32>)
  return %tokens, %nodes, %accepted, %emitted
      : tensor<2x64xi32>, tensor<2x64xi32>, tensor<2xi32>, tensor<2xi32>
}
