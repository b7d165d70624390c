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

// Every extent static except, possibly, the leading one: the batch, which a
// function with `tok.bounds` may leave dynamic (docs/dynamic-shapes.md).
def Tok_HasStaticRowShapePred : CPred<
    "::llvm::all_of(::llvm::cast<::mlir::ShapedType>($_self).getShape()"
    ".drop_front(::llvm::cast<::mlir::ShapedType>($_self).getRank() > 0 ? 1 : 0), "
    "[](int64_t d) { return d >= 0; })">;
class Tok_BatchedTensorOf<list<Type> allowedTypes>
    : RankedTensorOf<allowedTypes, [Tok_HasStaticRowShapePred],
                     "tensor with static extents after the batch">;

def Tok_FloatActivation : AnyTypeOf<[F16, BF16, F32]>;
def Tok_StaticTensor : Tok_BatchedTensorOf<[AnyType]>;
def Tok_I32Tensor : Tok_BatchedTensorOf<[I32]>;
def Tok_F32Tensor : Tok_BatchedTensorOf<[F32]>;
def Tok_BoolTensor : Tok_BatchedTensorOf<[I1]>;
def Tok_ChunkActivation : Tok_BatchedTensorOf<[F16, BF16, F32]>;

// An attribute with a default, which the op reference states next to the
// attribute (`shown` is how a user writes it).
class Tok_Default<Attr attr, string value, string shown>
    : DefaultValuedAttr<attr, value> {
  let summary = attr.summary # " (default: `" # shown # "`)";
}

#endif // WINNOW_DIALECT_TOK_IR_TOKTYPES_TD
