// Token Recycling (docs/methods.md): greedy
// verification of a tree filled from the adjacency matrix over the static
// 80-node template (levels of 8/21/25/15/8/3 nodes) + the root, and the
// adjacency update from the same logits. B = 2 requests, V = 32000, bf16
// target logits, T = 81.
//
// Verification (T = 0, as the paper's --temperature 0.0) is path semantics:
// a node matches iff its token equals the argmax of its parent's row (ties
// to the lowest id; -1 from unwritten adjacency rows never matches); the
// longest accepted root-to-leaf prefix wins, ties to the lower leaf index;
// the next token is the argmax of the last accepted node's row.
//
// Adjacency update: for every verified node i < clamp(num_nodes[b], 1, T)
// (every row the target model computed), adj_rows[b, i] = the top-8 token
// ids of logits[b, i]; the caller writes adj[tree_tokens[b, i]] :=
// adj_rows[b, i] (latest wins). Padding rows give -1. NOTE: tok.select
// returns the 8 ids in ASCENDING ID ORDER, not in rank order (ties to the
// lower id). Token Recycling's child i of a node is adj[u][i] with i the
// rank, so a caller that wants rank order must sort the 8 ids by their
// logits itself; the set of children (and so a template filled BFS with
// all 8) is the same. The rows are widened to f32 for tok.select (which
// scores in f32): a [B*T, V] f32 copy here, to be fused into the LM-head
// epilogue on a real target.
//
//   logits       [B, T, V] bf16  target logits per tree node
//   tree_tokens  [B, T]    i32   node tokens (child i of token u = adj[u][i])
//   parents      [B, T]    i32   the template's parent per node
//   num_nodes    [B]       i32   nodes per request, clamped to [1, T]
//
// Results (capacity C = T, -1 padded): tokens [B, T] i32, accept_nodes
// [B, T] i32, num_accepted [B] i32, num_emitted [B] i32, adj_rows [B, T, 8]
// i32 (ascending ids, -1 for padding rows).
//
// Checked against test/oracle/tree_oracle.py and prune_oracle.py by
// test/oracle/run_tree_oracle.py --recipes (test/e2e/recipes-tree.test).

func.func @token_recycling(
    %logits: tensor<2x81x32000xbf16> {tok.name = "logits"},
    %tree_tokens: tensor<2x81xi32> {tok.name = "tree_tokens"},
    %parents: tensor<2x81xi32> {tok.name = "parents"},
    %num_nodes: tensor<2xi32> {tok.name = "num_nodes"})
    -> (tensor<2x81xi32> {tok.name = "tokens"},
        tensor<2x81xi32> {tok.name = "accept_nodes"},
        tensor<2xi32> {tok.name = "num_accepted"},
        tensor<2xi32> {tok.name = "num_emitted"},
        tensor<2x81x8xi32> {tok.name = "adj_rows"}) {
  %tokens, %nodes, %accepted, %emitted = tok.tree_verify %logits, %tree_tokens,
      %parents, %num_nodes
      : (tensor<2x81x32000xbf16>, tensor<2x81xi32>, tensor<2x81xi32>, tensor<2xi32>)
      -> (tensor<2x81xi32>, tensor<2x81xi32>, tensor<2xi32>, tensor<2xi32>)

  // lengths[b * T + i] = V for the verified rows i < clamp(num_nodes[b], 1, T),
  // 0 for padding rows (never read, no ids selected).
  %one = arith.constant dense<1> : tensor<2xi32>
  %cap = arith.constant dense<81> : tensor<2xi32>
  %n_lo = arith.maxsi %num_nodes, %one : tensor<2xi32>
  %n = arith.minsi %n_lo, %cap : tensor<2xi32>
  %empty = tensor.empty() : tensor<2x81xi32>
  %n_rows = linalg.broadcast ins(%n : tensor<2xi32>) outs(%empty : tensor<2x81xi32>)
      dimensions = [1]
  %iota = arith.constant dense<[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80]> : tensor<81xi32>
  %node = linalg.broadcast ins(%iota : tensor<81xi32>) outs(%empty : tensor<2x81xi32>)
      dimensions = [0]
  %verified = arith.cmpi slt, %node, %n_rows : tensor<2x81xi32>
  %vocab = arith.constant dense<32000> : tensor<2x81xi32>
  %zero = arith.constant dense<0> : tensor<2x81xi32>
  %len2 = arith.select %verified, %vocab, %zero : tensor<2x81xi1>, tensor<2x81xi32>
  %lengths = tensor.collapse_shape %len2 [[0, 1]] : tensor<2x81xi32> into tensor<162xi32>

  %rows = tensor.collapse_shape %logits [[0, 1], [2]]
      : tensor<2x81x32000xbf16> into tensor<162x32000xbf16>
  %scores = arith.extf %rows : tensor<162x32000xbf16> to tensor<162x32000xf32>
  %top, %count = tok.select #tok.top_k<8> of %scores lengths %lengths
      : (tensor<162x32000xf32>, tensor<162xi32>) -> (tensor<162x8xi32>, tensor<162xi32>)
  %adj = tensor.expand_shape %top [[0, 1], [2]] output_shape [2, 81, 8]
      : tensor<162x8xi32> into tensor<2x81x8xi32>
  return %tokens, %nodes, %accepted, %emitted, %adj
      : tensor<2x81xi32>, tensor<2x81xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2x81x8xi32>
}
