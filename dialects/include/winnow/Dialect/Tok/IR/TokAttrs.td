//===- TokAttrs.td - Enums and attributes of the tok dialect -*- tablegen -*-===//

#ifndef WINNOW_DIALECT_TOK_IR_TOKATTRS_TD
#define WINNOW_DIALECT_TOK_IR_TOKATTRS_TD

include "winnow/Dialect/Tok/IR/TokDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Tok_NanPolicy : I32EnumAttr<"NanPolicy", "how a NaN score is ranked", [
    I32EnumAttrCase<"as_neg_inf", 0>,
    I32EnumAttrCase<"as_pos_inf", 1>,
  ]> {
  let cppNamespace = "::winnow::tok";
  let genSpecializedAttr = 0;
}
def Tok_NanPolicyAttr : EnumAttr<Tok_Dialect, Tok_NanPolicy, "nan_policy"> {
  let assemblyFormat = "`<` $value `>`";
}

def Tok_Rounding : I32EnumAttr<"Rounding",
    "how a fractional keep count is rounded to an integer", [
    I32EnumAttrCase<"floor", 0>,
    I32EnumAttrCase<"ceil", 1>,
    I32EnumAttrCase<"half_even", 2>,
    I32EnumAttrCase<"half_away", 3>,
  ]> {
  let cppNamespace = "::winnow::tok";
  let genSpecializedAttr = 0;
}
def Tok_RoundingAttr : EnumAttr<Tok_Dialect, Tok_Rounding, "rounding"> {
  let assemblyFormat = "`<` $value `>`";
}

def Tok_Comparison : I32EnumAttr<"Comparison",
    "how a score is compared with a threshold", [
    I32EnumAttrCase<"gt", 0>,
    I32EnumAttrCase<"ge", 1>,
  ]> {
  let cppNamespace = "::winnow::tok";
  let genSpecializedAttr = 0;
}

def Tok_ScoreReduction : I32EnumAttr<"ScoreReduction",
    "how attention probabilities are combined over heads and query rows", [
    I32EnumAttrCase<"mean", 0>,
    I32EnumAttrCase<"sum", 1>,
  ]> {
  let cppNamespace = "::winnow::tok";
  let genSpecializedAttr = 0;
}
def Tok_ScoreReductionAttr
    : EnumAttr<Tok_Dialect, Tok_ScoreReduction, "score_reduction"> {
  let assemblyFormat = "`<` $value `>`";
}

def Tok_SegmentReduction : I32EnumAttr<"SegmentReduction",
    "how the tokens of one segment are pooled", [
    I32EnumAttrCase<"first", 0>,
    I32EnumAttrCase<"mean", 1>,
    I32EnumAttrCase<"max", 2>,
    I32EnumAttrCase<"sum", 3>,
  ]> {
  let cppNamespace = "::winnow::tok";
  let genSpecializedAttr = 0;
}
def Tok_SegmentReductionAttr
    : EnumAttr<Tok_Dialect, Tok_SegmentReduction, "segment_reduction"> {
  let assemblyFormat = "`<` $value `>`";
}

def Tok_VerifyMode : I32EnumAttr<"VerifyMode",
    "how speculative draft tokens are verified", [
    I32EnumAttrCase<"greedy", 0>,
    I32EnumAttrCase<"rejection", 1>,
    I32EnumAttrCase<"typical", 2>,
  ]> {
  let cppNamespace = "::winnow::tok";
  let genSpecializedAttr = 0;
}
def Tok_VerifyModeAttr : EnumAttr<Tok_Dialect, Tok_VerifyMode, "verify_mode"> {
  let assemblyFormat = "`<` $value `>`";
}

def Tok_MergeReduction : I32EnumAttr<"MergeReduction",
    "how the tokens merged into one output row are combined", [
    I32EnumAttrCase<"sum", 0>,
    I32EnumAttrCase<"mean", 1>,
    I32EnumAttrCase<"weighted_mean", 2>,
    I32EnumAttrCase<"amax", 3>,
  ]> {
  let cppNamespace = "::winnow::tok";
  let genSpecializedAttr = 0;
}
def Tok_MergeReductionAttr
    : EnumAttr<Tok_Dialect, Tok_MergeReduction, "merge_reduction"> {
  let assemblyFormat = "`<` $value `>`";
}

def Tok_PositionMode : I32EnumAttr<"PositionMode",
    "which position a kept cache entry is given", [
    I32EnumAttrCase<"original", 0>,
    I32EnumAttrCase<"reindexed", 1>,
  ]> {
  let cppNamespace = "::winnow::tok";
  let genSpecializedAttr = 0;
}
def Tok_PositionModeAttr
    : EnumAttr<Tok_Dialect, Tok_PositionMode, "position_mode"> {
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// Selection budgets: how many candidates `tok.select` keeps.
//===----------------------------------------------------------------------===//

/// An IEEE double (APFloat storage, so it hashes), printed in its shortest
/// round-trip form. An integer literal is its value (`30` is 30.0), so a
/// ratio written as a percentage reaches the verifier's range check instead
/// of a "trailing dot" hint.
def Tok_F64Parameter : AttrParameter<"::llvm::APFloat", "an IEEE double"> {
  let comparator = "$_lhs.bitwiseIsEqual($_rhs)";
  let parser = [{ [&]() -> ::mlir::FailureOr<::llvm::APFloat> {
    // A builtin attribute: a float literal (its sign kept, -0.0 included)
    // or an integer literal.
    ::llvm::SMLoc loc = $_parser.getCurrentLocation();
    ::mlir::Attribute literal;
    if ($_parser.parseAttribute(literal))
      return ::mlir::failure();
    if (auto number = ::llvm::dyn_cast<::mlir::FloatAttr>(literal))
      return ::llvm::APFloat(number.getValueAsDouble());
    if (auto number = ::llvm::dyn_cast<::mlir::IntegerAttr>(literal))
      return ::llvm::APFloat(
          static_cast<double>(number.getValue().getSExtValue()));
    $_parser.emitError(loc, "expected a number, got ") << literal;
    return ::mlir::failure();
  }() }];
  let printer = [{ $_printer.printFloat($_self) }];
}

class Tok_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Tok_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Tok_TopKAttr : Tok_Attr<"TopK", "top_k"> {
  let summary = "keep the k best-scored candidates";
  let description = [{
    `#tok.top_k<k>` keeps `K_b = clamp(k, 0, |cand_b|)` candidates of batch
    row `b`. A negative `k` keeps none; `k >= |cand_b|` keeps every candidate.
  }];
  let parameters = (ins "int64_t":$k);
  let assemblyFormat = "`<` $k `>`";
}

def Tok_KeepRatioAttr : Tok_Attr<"KeepRatio", "keep_ratio"> {
  let summary = "keep a fraction of the candidates";
  let description = [{
    `#tok.keep_ratio<ratio, rounding>` keeps
    `K_b = rounding(|cand_b| * ratio)` candidates, the product evaluated in
    IEEE double; `ratio` is the fraction **kept**, in `[0, 1]`.
    Rounding modes: `floor`, `ceil`, `half_even` (Python `round`: 2.5 -> 2,
    3.5 -> 4) and `half_away` (2.5 -> 3).
  }];
  let parameters = (ins Tok_F64Parameter:$ratio,
                        "::winnow::tok::Rounding":$rounding);
  let assemblyFormat = "`<` $ratio `,` $rounding `>`";
  let genVerifyDecl = 1;
}

def Tok_ThresholdAttr : Tok_Attr<"Threshold", "threshold"> {
  let summary = "keep the candidates scored above a threshold";
  let description = [{
    `#tok.threshold<tau, gt>` keeps every candidate with `score > tau`;
    `#tok.threshold<tau, ge>` keeps `score >= tau`. The comparison uses
    the same total order as ranking (so `nan_policy` decides whether a NaN
    passes, and `-0.0 == +0.0`), after rounding `tau` to f32. The kept count is data dependent.
  }];
  let parameters = (ins Tok_F64Parameter:$tau,
                        "::winnow::tok::Comparison":$comparison);
  let assemblyFormat = "`<` $tau `,` $comparison `>`";
}

def Tok_BudgetAttr : AnyAttrOf<[Tok_TopKAttr, Tok_KeepRatioAttr,
                                Tok_ThresholdAttr]>;

#endif // WINNOW_DIALECT_TOK_IR_TOKATTRS_TD
