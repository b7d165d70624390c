//===- TokDialect.td - The tok dialect record ---------------*- tablegen -*-===//
//
// The dialect record alone; ops, attributes and enums live in topic files.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_DIALECT_TOK_IR_TOKDIALECT_TD
#define WINNOW_DIALECT_TOK_IR_TOKDIALECT_TD

include "mlir/IR/OpBase.td"

def Tok_Dialect : Dialect {
  let name = "tok";
  let cppNamespace = "::winnow::tok";
  let summary = "Token-level dataflow: pruning, merging, chunking, verification";
  let description = [{
    The `tok` dialect expresses the token-level dataflow of LLM and VLM
    inference as graph ops on tensors with value semantics.

    Rules every op follows:

    * **Ragged token sets** are a padded tensor of static capacity plus a
      per-batch `count` tensor (`tensor<Bxi32>`) that stays where the data
      lives. Nothing downstream reads past the count. Padding is `-1` for
      indices, token ids and position ids, `0` for features, `false` for
      masks.
    * **Ragged inputs** are right-padded with per-row `lengths`
      (`tensor<Bxi32>`); a length is clamped to `[0, N]`. Padding is never a
      candidate, never kept.
    * **Order**: larger score first, ties to the lower index, `-0.0 == +0.0`;
      NaN follows a `nan_policy` attribute (default `as_neg_inf`); kept
      index lists come out ascending.
    * **Precision**: scores and softmax statistics are fp32; activations keep
      their element type.
    * **Determinism**: results are the same on every target and for any
      batch composition: every float reduction runs in an order fixed by
      the op's extents (each op's "Order of sums"), and `exp`/`log` are
      Winnow's own arithmetic, not the platform's math library.
    * **Positions** travel with tokens: they are gathered, never recomputed.
    * **Attributes**: an op accepts only the attributes it defines; any
      other (a misspelling like `reducton`) is an error that suggests the
      closest defined name, instead of being kept and ignored while the op
      uses its default. Attributes prefixed `tok.` are the project's own
      annotations and are allowed anywhere.

    Every extent of a `tok` op's tensors is static except, possibly, the
    leading batch extent: a function with `tok.bounds = {batch = N}` may
    leave it dynamic (`?`) on every tensor of an op whose rows are
    independent, and then serves every batch from 0 to N with one artifact
    (docs/dynamic-shapes.md). The static extents are what let the verifier
    prove that padded outputs are large enough, and what lets a GPU
    lowering size its grid without reading a count back to the host.
  }];
  let useDefaultAttributePrinterParser = 1;
  let usePropertiesForAttributes = 1;
  let extraClassDeclaration = [{
    /// Registers the attributes; defined next to their storage classes.
    void registerAttributes();
  }];
}

// A misspelled attribute (`reducton = ...`) would otherwise be kept as a
// discardable attribute and ignored, and the op would silently use its
// default: every tok op rejects attributes it does not define, except the
// project's own `tok.`-prefixed ones.
def Tok_KnownAttributesOnly : NativeOpTrait<"KnownAttributesOnly"> {
  let cppNamespace = "::winnow::tok";
}

// A dynamic batch extent (`?`, in a function with `tok.bounds`) is one
// value for all of an op's tensors: an op has it on every tensor or on
// none, and an op whose rows depend on other rows (Tok_MixesBatchRows, or a
// RowLocalOpInterface op that is not row-local as built) takes none (yet).
// Checked before each op's own verifier, which then compares extents as
// written.
def Tok_BatchExtentsAgree : NativeOpTrait<"BatchExtentsAgree"> {
  let cppNamespace = "::winnow::tok";
}
// An op whose result rows are not computed from the same batch row of its
// operands (a flattened ragged batch and its padded form).
def Tok_MixesBatchRows : NativeOpTrait<"MixesBatchRows"> {
  let cppNamespace = "::winnow::tok";
}

class Tok_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tok_Dialect, mnemonic,
         !listconcat(traits, [Tok_KnownAttributesOnly, Tok_BatchExtentsAgree])>;

#endif // WINNOW_DIALECT_TOK_IR_TOKDIALECT_TD
