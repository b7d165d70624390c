// Word pooling around a word-level model (docs/methods.md: dynamic token
// pooling, "Learn Your Tokens", hierarchical byte/word transformers).
//
// B = 2 byte sequences (ragged: `lengths`), L = 512 bytes, D = 128, f32.
// Word starts come from whitespace (a byte that is not a space and follows
// one, plus byte 0 by the segment rule) as an i1 mask. The word-level model
// is outside Winnow, so there are two functions:
//
// @word_pool: byte_states [B, L, D], word_starts [B, L] i1, lengths [B]
//   -> words [B, L, D] (the mean of every word's bytes, accumulated in fp32;
//      rows past the count are 0), word_count [B] i32.
// @word_unpool: word_states [B, L, D] (the word model's output, one row per
//   word), word_starts, lengths, byte_states [B, L, D] (skip connection)
//   -> bytes_out [B, L, D]: every byte gets its word's state plus its own
//      byte state; padding bytes are 0.
//
// Run: test/oracle/run_chunk_recipes.py.

func.func @word_pool(
    %x: tensor<2x512x128xf32> {tok.name = "byte_states"},
    %starts: tensor<2x512xi1> {tok.name = "word_starts"},
    %len: tensor<2xi32> {tok.name = "lengths"})
    -> (tensor<2x512x128xf32> {tok.name = "words"},
        tensor<2xi32> {tok.name = "word_count"}) {
  %words, %n = tok.segment_reduce %x, %starts lengths %len
      {reduction = #tok.segment_reduction<mean>}
      : (tensor<2x512x128xf32>, tensor<2x512xi1>, tensor<2xi32>)
      -> (tensor<2x512x128xf32>, tensor<2xi32>)
  return %words, %n : tensor<2x512x128xf32>, tensor<2xi32>
}

func.func @word_unpool(
    %w: tensor<2x512x128xf32> {tok.name = "word_states"},
    %starts: tensor<2x512xi1> {tok.name = "word_starts"},
    %len: tensor<2xi32> {tok.name = "lengths"},
    %x: tensor<2x512x128xf32> {tok.name = "byte_states"})
    -> (tensor<2x512x128xf32> {tok.name = "bytes_out"}) {
  %out = tok.expand %w, %starts lengths %len residual %x
      : (tensor<2x512x128xf32>, tensor<2x512xi1>, tensor<2xi32>, tensor<2x512x128xf32>)
      -> tensor<2x512x128xf32>
  return %out : tensor<2x512x128xf32>
}
