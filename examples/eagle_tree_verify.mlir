// EAGLE-2/3 greedy tree verification (docs/methods.md) on
// Vicuna / Llama-2 shapes: B = 2 requests, each with its own dynamic draft
// tree of 60 nodes + the root (EAGLE's total_token = 60, depth <= 7,
// top_k = 10), V = 32000, bf16 target logits (row i = the target model's
// logits after tree node i).
//
// Path semantics as EAGLE's evaluate_posterior (T = 0): node i >= 1 is in
// the tree iff 0 <= parents[i] < i and its parent is; it matches iff
// tree_tokens[i] == argmax logits[parent] (ties to the lowest id; -1 and
// ids outside [0, V) never match). Every root-to-leaf path scores its
// accepted prefix; the longest wins, ties to the lower leaf index (not a
// first-matching-child walk: the two differ with duplicate children). The
// next token is the argmax of the last accepted node's row.
//
// The KV slot map for compaction: the accepted nodes' K/V were written at
// tree slots prefix_len + node; kv_slots[b, j] = prefix_len[b] +
// accept_nodes[b, j] (j = 0 is the root) is what gets copied to the
// contiguous slots prefix_len + j (EAGLE's update_inference_inputs), -1 in
// the padding. It is elementwise arith on tensors (prefix_len broadcast
// along the capacity with linalg.broadcast): no extra tok op.
//
//   logits       [B, T, V] bf16  target logits per tree node (T = 61)
//   tree_tokens  [B, T]    i32   node tokens; node 0 = the last committed token
//   parents      [B, T]    i32   parent node per node (parents[b, 0] unused)
//   num_nodes    [B]       i32   nodes per request, clamped to [1, T]; the
//                                rows of padding nodes are never read
//   prefix_len   [B]       i32   committed tokens in each request's KV cache
//
// Results (capacity C = T, -1 padded): tokens [B, T] i32 (accepted tokens
// below the root, then the next token), accept_nodes [B, T] i32 (root and
// accepted nodes in depth order), num_accepted [B] i32, num_emitted [B] i32
// (= num_accepted + 1), kv_slots [B, T] i32.
//
// Checked against test/oracle/tree_oracle.py by
// test/oracle/run_tree_oracle.py --recipes (test/e2e/recipes-tree.test).

func.func @eagle_tree_verify(
    %logits: tensor<2x61x32000xbf16> {tok.name = "logits"},
    %tree_tokens: tensor<2x61xi32> {tok.name = "tree_tokens"},
    %parents: tensor<2x61xi32> {tok.name = "parents"},
    %num_nodes: tensor<2xi32> {tok.name = "num_nodes"},
    %prefix_len: tensor<2xi32> {tok.name = "prefix_len"})
    -> (tensor<2x61xi32> {tok.name = "tokens"},
        tensor<2x61xi32> {tok.name = "accept_nodes"},
        tensor<2xi32> {tok.name = "num_accepted"},
        tensor<2xi32> {tok.name = "num_emitted"},
        tensor<2x61xi32> {tok.name = "kv_slots"}) {
  %tokens, %nodes, %accepted, %emitted = tok.tree_verify %logits, %tree_tokens,
      %parents, %num_nodes {mode = #tok.verify_mode<greedy>}
      : (tensor<2x61x32000xbf16>, tensor<2x61xi32>, tensor<2x61xi32>, tensor<2xi32>)
      -> (tensor<2x61xi32>, tensor<2x61xi32>, tensor<2xi32>, tensor<2xi32>)
  %empty = tensor.empty() : tensor<2x61xi32>
  %prefix = linalg.broadcast ins(%prefix_len : tensor<2xi32>)
      outs(%empty : tensor<2x61xi32>) dimensions = [1]
  %shifted = arith.addi %nodes, %prefix : tensor<2x61xi32>
  %zero = arith.constant dense<0> : tensor<2x61xi32>
  %minus_one = arith.constant dense<-1> : tensor<2x61xi32>
  %valid = arith.cmpi sge, %nodes, %zero : tensor<2x61xi32>
  %slots = arith.select %valid, %shifted, %minus_one : tensor<2x61xi1>, tensor<2x61xi32>
  return %tokens, %nodes, %accepted, %emitted, %slots
      : tensor<2x61xi32>, tensor<2x61xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2x61xi32>
}
