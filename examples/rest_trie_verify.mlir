// REST, retrieval-based speculative decoding (He et al. 2023,
// FasterDecoding/REST; docs/methods.md): greedy verification of a trie of
// datastore continuations, as a serving engine (SGLang / MLC-LLM) passes it.
// B = 2 requests, each with a trie of up to 64 draft nodes (REST's
// max_num_draft = 64, continuations of up to 10 tokens) + the root, T = 65;
// V = 32000 (Vicuna / Llama-2), bf16 target logits (row i = the target
// model's logits after trie node i).
//
// Trie encoding (SGLang's retrive_next_token / retrive_next_sibling, int64):
// first_child[b, i] is node i's first child, next_sibling[b, i] the next
// child of i's parent, -1 (or any id outside [0, T)) ends a list; node 0
// is the root (the last committed token). Nodes must come after their
// parent (BFS or DFS preorder both do); tok.tree_parents turns the lists
// into parent arrays (a node reached twice keeps its first parent, every
// list walk is bounded by T). Nodes no list reaches are not in the trie.
//
// Draft tokens arrive as int64 (SGLang's `candidates`); tok.tree_verify
// reads i32, so ids outside [0, V) (negative padding, or anything that
// would wrap on truncation onto a real id) are clamped to V first, which
// never matches: an unsigned min, then the truncation (elementwise arith
// on tensors, so the recipe also compiles with --dynamic-batch).
//
// Verification as REST's evaluate_posterior at temperature 0 (Medusa's):
// node i matches iff its token == argmax logits[parent] (ties to the lowest
// id); every root-to-leaf path scores its accepted prefix and the longest
// wins (ties to the lower leaf index). In a trie siblings carry distinct
// tokens, so at most one child of a node matches and the accepted path is
// the unique greedy chain: the lower-leaf tie rule never changes tokens or
// accept_nodes. The next token is the argmax of the last accepted node's
// row. An empty trie (first_child[b, 0] = -1, or num_nodes <= 1) accepts
// nothing and emits that argmax of the root row.
//
// After acceptance (REST's update_inference_inputs): the accepted nodes'
// K/V were written at tree slots prefix_len + node; kv_slots[b, j] =
// prefix_len[b] + accept_nodes[b, j] is copied to the contiguous slot
// prefix_len[b] + j, -1 in the padding (elementwise arith, as in
// eagle_tree_verify.mlir).
//
// Not modelled: the retrieval itself (suffix-array search of the longest
// matching context suffix, prefix counting, keeping the 64 most frequent
// trie nodes) runs on the host in REST and produces the lists here; the
// tree attention mask; REST's sampling mode (top-p nucleus "posterior"
// with a fresh multinomial per position, not lossless) is not modelled.
//
//   logits        [B, T, V] bf16  target logits per trie node (T = 65)
//   draft_tokens  [B, T]    i64   token per node; node 0 = last committed token
//   first_child   [B, T]    i64   retrive_next_token
//   next_sibling  [B, T]    i64   retrive_next_sibling
//   num_nodes     [B]       i32   trie nodes + root, clamped to [1, T]; the
//                                 rows of padding nodes are never read
//   prefix_len    [B]       i32   committed tokens in each request's KV cache
//
// Results (capacity C = T, -1 padded): tokens [B, T] i32 (accepted draft
// tokens, then the next token), accept_nodes [B, T] i32 (root and accepted
// nodes in depth order), num_accepted [B] i32, num_emitted [B] i32
// (= num_accepted + 1), kv_slots [B, T] i32.
//
// Checked against the NumPy reference in test/oracle/run_rest_oracle.py
// (tries built from a random datastore; test/e2e/recipes-rest.test).

func.func @rest_trie_verify(
    %logits: tensor<2x65x32000xbf16> {tok.name = "logits"},
    %draft_tokens: tensor<2x65xi64> {tok.name = "draft_tokens"},
    %first_child: tensor<2x65xi64> {tok.name = "first_child"},
    %next_sibling: tensor<2x65xi64> {tok.name = "next_sibling"},
    %num_nodes: tensor<2xi32> {tok.name = "num_nodes"},
    %prefix_len: tensor<2xi32> {tok.name = "prefix_len"})
    -> (tensor<2x65xi32> {tok.name = "tokens"},
        tensor<2x65xi32> {tok.name = "accept_nodes"},
        tensor<2xi32> {tok.name = "num_accepted"},
        tensor<2xi32> {tok.name = "num_emitted"},
        tensor<2x65xi32> {tok.name = "kv_slots"}) {
  %parents = tok.tree_parents %first_child, %next_sibling
      : (tensor<2x65xi64>, tensor<2x65xi64>) -> tensor<2x65xi32>

  // min(id, V) as unsigned: negative ids are huge unsigned, so every id
  // outside [0, V) becomes V, which fits i32 and never matches.
  %vocab = arith.constant dense<32000> : tensor<2x65xi64>
  %clamped = arith.minui %draft_tokens, %vocab : tensor<2x65xi64>
  %tree_tokens = arith.trunci %clamped : tensor<2x65xi64> to tensor<2x65xi32>

  %tokens, %nodes, %accepted, %emitted = tok.tree_verify %logits, %tree_tokens,
      %parents, %num_nodes {mode = #tok.verify_mode<greedy>}
      : (tensor<2x65x32000xbf16>, tensor<2x65xi32>, tensor<2x65xi32>, tensor<2xi32>)
      -> (tensor<2x65xi32>, tensor<2x65xi32>, tensor<2xi32>, tensor<2xi32>)

  %empty = tensor.empty() : tensor<2x65xi32>
  %prefix = linalg.broadcast ins(%prefix_len : tensor<2xi32>)
      outs(%empty : tensor<2x65xi32>) dimensions = [1]
  %shifted = arith.addi %nodes, %prefix : tensor<2x65xi32>
  %zero = arith.constant dense<0> : tensor<2x65xi32>
  %minus_one = arith.constant dense<-1> : tensor<2x65xi32>
  %valid = arith.cmpi sge, %nodes, %zero : tensor<2x65xi32>
  %slots = arith.select %valid, %shifted, %minus_one : tensor<2x65xi1>, tensor<2x65xi32>
  return %tokens, %nodes, %accepted, %emitted, %slots
      : tensor<2x65xi32>, tensor<2x65xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2x65xi32>
}
