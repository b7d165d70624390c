//===- TokTypes.td - Type constraints shared by tok ops ----*- tablegen -*-===//
//
// Every family's .td includes this file for the tensor types its operands
// and results take (and for attributes with defaults); none relies on
// another family's definitions.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_DIALECT_TOK_IR_TOKTYPES_TD
#define WINNOW_DIALECT_TOK_IR_TOKTYPES_TD

include "mlir/IR/CommonTypeConstraints.td"

def Tok_FloatActivation : AnyTypeOf<[F16, BF16, F32]>;
def Tok_StaticTensor : StaticShapeTensorOf<[AnyType]>;
def Tok_I32Tensor : StaticShapeTensorOf<[I32]>;
def Tok_F32Tensor : StaticShapeTensorOf<[F32]>;
def Tok_BoolTensor : StaticShapeTensorOf<[I1]>;
def Tok_ChunkActivation : StaticShapeTensorOf<[F16, BF16, F32]>;

// An attribute with a default, which the op reference states next to the
// attribute (`shown` is how a user writes it).
class Tok_Default<Attr attr, string value, string shown>
    : DefaultValuedAttr<attr, value> {
  let summary = attr.summary # " (default: `" # shown # "`)";
}

#endif // WINNOW_DIALECT_TOK_IR_TOKTYPES_TD
