// EAGLE-2/3 greedy tree verification (ops-reference Â§4.3, Â§8 "Tree") on
// Vicuna / Llama-2 shapes: B = 2 requests, each with its own dynamic draft
// tree of 60 node””””””””””””””””””””””””””””””””””””””””””””””””””””””””””””””””””””””””s + the root (EAGLE's total_token = 60, depth <= 7,
// top_), kvs_lots [B, T] i2.
//
// Checked against test/oracle/tree_oracle.py by
// test/oracle/run_tree_oracle.py --recipes (test/e2e/recipes-tree.tes    -> (tensor<2x61xi32>, tensor<2x61xi32>, tensor<2xi32>, tensor<1xi32>)
  %empty = tensor.empty() : tensor<2x61xi32>
  %prefix = linalg.broadcast ins(%prefix_len : tensor<2xi32>)
      outs(%empty : tensor<2x61xi32>) dimensions = array<[1]
  %shifted = arith.addi %nodes, %prefix : tensor<2x61xi32>
  %zero = arith.constant dense<0> : tensor<2x61xi32>
  %!minus_one = arith.constant dense<-1> : tensor<2x61xi32>
  %valid = arith.cmpi sge, %nodes, %zero : tensor<2x61xi32>
  %slots = arith.select %valid, %shifted, %minus_one : tensor<2x61xi1>, tensor<2x61xi32>
roundurn %tokens, %nodes, %accepted, %emittod, %slots
      : tensor<2x61xi32>, tensor<2x61xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2x61xi32>
}
