// Byte-level inputs pooled into words (docs/methods.md): a tokenizer-free
// model reads raw UTF-8 bytes (ids 0..255 embedded from a 256-row table, as
// ByT5, Xue et al. 2022, and MonoByte, Abonizio et al. 2022, do) and pools
// them into words by whitespace. The pooling follows the "whitespaces"
// segmentation of Dynamic Token Pooling (Nawrot, Chorowski, Łańcucki and
// Ponti, "Efficient Transformers with Dynamic Token Pooling", ACL 2023):
// a whitespace byte ENDS its group (a word is its bytes plus the whitespace
// after it), groups are mean-pooled, a null group is prepended to the
// shortened sequence, and every byte gets back the output of the last group
// that ended at or before it, plus a skip connection. (ByT5 and MonoByte
// themselves never pool; this is the word-level shortening a byte model adds.)
//
// B = 2 byte sequences (ragged: `lengths`), L = 512 bytes, D = 128, f32.
// The word-level model is outside Winnow, so there are two functions:
//
// @byte_word_pool
//   byte_ids   [B, L]   i32  the bytes, 0..255 (ids outside embed as 0)
//   byte_table [256, D] f32  the byte embedding table
//   lengths    [B]      i32
// -> byte_embeddings [B, L, D] f32 (table[byte_ids], padding 0: a
//      linalg.broadcast of the table over the batch and one tok.compact
//      gather with the ids as indices),
//    separators [B, L] i1 (the byte is ASCII whitespace: 9..13 or 32,
//      computed elementwise from the ids; padding false),
//    words      [B, L, D] f32: row k is the mean of the embeddings of word k
//      (the bytes t with #separators before t = k), fp32 in byte order;
//      rows past the count are 0,
//    word_count [B] i32: the number of words, the last one counted even when
//      the row does not end on whitespace.
//    The word model's input is [null group; words[:word_count]]. Winnow's
//    segment rule starts a segment AT a boundary, so the recipe shifts the
//    separator mask by one byte (tensor.insert_slice) before pooling.
//
// @byte_word_unpool
//   word_states [B, L+1, D] f32  the word model's output on [null; words]:
//                                row 0 the null group's
//   separators  [B, L]      i1   from @byte_word_pool
//   lengths     [B]         i32
//   byte_states [B, L, D]   f32  the skip connection (the byte states that
//                                were pooled, here the embeddings)
// -> bytes_out [B, L, D] f32: bytes_out_t = word_states[#separators at or
//    before t] + byte_states_t, one fp32 addition; padding bytes are 0.
//    Rows whose byte 0 is a separator drop the null row first (tok.compact
//    with indices j + sep_0), because tok.expand ignores a boundary at token 0.
//
// Departures: DTP's data has one whitespace symbol (the space); on raw bytes
// the recipe also ends a word at tab, LF, VT, FF and CR (not at punctuation,
// which DTP does not split on). DTP pools the output of its pre-shortening
// layers; with a byte encoder in between, pool its output instead and pass
// it as the skip connection (examples/dynamic_token_pooling.mlir is that
// form, with learned boundaries). ByT5's ids are the byte values + 3 (three
// special ids first); subtract 3 before this recipe.
//
// Run: test/oracle/run_chunk_methods.py (checks against
// test/oracle/chunk_methods_oracle.py).

#bt = affine_map<(b, t) -> (b, t)>
#b = affine_map<(b, t) -> (b)>

func.func @byte_word_pool(
    %ids: tensor<2x512xi32> {tok.name = "byte_ids"},
    %table: tensor<256x128xf32> {tok.name = "byte_table"},
    %len: tensor<2xi32> {tok.name = "lengths"})
    -> (tensor<2x512x128xf32> {tok.name = "byte_embeddings"},
        tensor<2x512xi1> {tok.name = "separators"},
        tensor<2x512x128xf32> {tok.name = "words"},
        tensor<2xi32> {tok.name = "word_count"}) {
  // Embedding lookup: every row gathers from the same table.
  %et = tensor.empty() : tensor<2x256x128xf32>
  %tables = linalg.broadcast ins(%table : tensor<256x128xf32>)
      outs(%et : tensor<2x256x128xf32>) dimensions = [0]
  %emb, %map = tok.compact %ids, %len gather(%tables)
      : (tensor<2x512xi32>, tensor<2xi32>, tensor<2x256x128xf32>)
      -> (tensor<2x512x128xf32>, tensor<2x256xi32>)
  // sep_t = byte_t in {9, ..., 13, 32} for t < len_b.
  %e = tensor.empty() : tensor<2x512xi1>
  %sep = linalg.generic {indexing_maps = [#bt, #b, #bt],
                         iterator_types = ["parallel", "parallel"]}
      ins(%ids, %len : tensor<2x512xi32>, tensor<2xi32>) outs(%e : tensor<2x512xi1>) {
  ^bb0(%id: i32, %lv: i32, %o: i1):
    %t = linalg.index 1 : index
    %ti = arith.index_cast %t : index to i32
    %c9 = arith.constant 9 : i32
    %c13 = arith.constant 13 : i32
    %c32 = arith.constant 32 : i32
    %ge9 = arith.cmpi sge, %id, %c9 : i32
    %le13 = arith.cmpi sle, %id, %c13 : i32
    %ctrl = arith.andi %ge9, %le13 : i1
    %space = arith.cmpi eq, %id, %c32 : i32
    %ws = arith.ori %ctrl, %space : i1
    %valid = arith.cmpi slt, %ti, %lv : i32
    %r = arith.andi %ws, %valid : i1
    linalg.yield %r : i1
  } -> tensor<2x512xi1>
  // Word starts: the separator mask shifted one byte right.
  %head = tensor.extract_slice %sep[0, 0] [2, 511] [1, 1]
      : tensor<2x512xi1> to tensor<2x511xi1>
  %none = arith.constant dense<false> : tensor<2x512xi1>
  %starts = tensor.insert_slice %head into %none[0, 1] [2, 511] [1, 1]
      : tensor<2x511xi1> into tensor<2x512xi1>
  %words, %n = tok.segment_reduce %emb, %starts lengths %len
      {reduction = #tok.segment_reduction<mean>}
      : (tensor<2x512x128xf32>, tensor<2x512xi1>, tensor<2xi32>)
      -> (tensor<2x512x128xf32>, tensor<2xi32>)
  return %emb, %sep, %words, %n
      : tensor<2x512x128xf32>, tensor<2x512xi1>, tensor<2x512x128xf32>, tensor<2xi32>
}

func.func @byte_word_unpool(
    %w: tensor<2x513x128xf32> {tok.name = "word_states"},
    %sep: tensor<2x512xi1> {tok.name = "separators"},
    %len: tensor<2xi32> {tok.name = "lengths"},
    %x: tensor<2x512x128xf32> {tok.name = "byte_states"})
    -> (tensor<2x512x128xf32> {tok.name = "bytes_out"}) {
  // rows[b, j] = j + sep_0: drop the null row where byte 0 ends a word.
  %s0 = tensor.extract_slice %sep[0, 0] [2, 1] [1, 1] : tensor<2x512xi1> to tensor<2xi1>
  %e = tensor.empty() : tensor<2x512xi32>
  %rows = linalg.generic {indexing_maps = [#b, #bt],
                          iterator_types = ["parallel", "parallel"]}
      ins(%s0 : tensor<2xi1>) outs(%e : tensor<2x512xi32>) {
  ^bb0(%first: i1, %o: i32):
    %j = linalg.index 1 : index
    %ji = arith.index_cast %j : index to i32
    %shift = arith.extui %first : i1 to i32
    %r = arith.addi %ji, %shift : i32
    linalg.yield %r : i32
  } -> tensor<2x512xi32>
  %all = arith.constant dense<512> : tensor<2xi32>
  %ws, %map = tok.compact %rows, %all gather(%w)
      : (tensor<2x512xi32>, tensor<2xi32>, tensor<2x513x128xf32>)
      -> (tensor<2x512x128xf32>, tensor<2x513xi32>)
  %out = tok.expand %ws, %sep lengths %len residual %x
      : (tensor<2x512x128xf32>, tensor<2x512xi1>, tensor<2xi32>, tensor<2x512x128xf32>)
      -> tensor<2x512x128xf32>
  return %out : tensor<2x512x128xf32>
}
