//===- TokOps.h - Ops and attributes of the tok dialect ---------*- C++ -*-===//

#ifndef WINNOW_DIALECT_TOK_IR_TOKOPS_H
#define WINNOW_DIALECT_TOK_IR_TOKOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "winnow/Dialect/Tok/IR/TokDialect.h"
#include "winnow/Dialect/Tok/IR/TokInterfaces.h"

#include "winnow/Dialect/Tok/IR/TokEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "winnow/Dialect/Tok/IR/TokAttrs.h.inc"

namespace winnow::tok {
/// The value of a float attribute parameter as an IEEE double, whatever
/// semantics it was built with.
double toDouble(llvm::APFloat value);

namespace detail {
mlir::LogicalResult verifyKnownAttributesOnly(mlir::Operation *op);
mlir::LogicalResult verifyBatchExtentsAgree(mlir::Operation *op);
} // namespace detail

/// Every tok op: an attribute the op does not define is an error (with the
/// closest defined name as a suggestion), unless it is `tok.`-prefixed.
template <typename ConcreteType>
class KnownAttributesOnly
    : public mlir::OpTrait::TraitBase<ConcreteType, KnownAttributesOnly> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op) {
    return detail::verifyKnownAttributesOnly(op);
  }
};

/// Marks an op whose result rows mix batch rows (TokDialect.td).
template <typename ConcreteType>
class MixesBatchRows
    : public mlir::OpTrait::TraitBase<ConcreteType, MixesBatchRows> {};

/// Every tok op: a dynamic leading (batch) extent is on all of an op's
/// tensors or on none; ops whose rows mix batch rows take none.
template <typename ConcreteType>
class BatchExtentsAgree
    : public mlir::OpTrait::TraitBase<ConcreteType, BatchExtentsAgree> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op) {
    return detail::verifyBatchExtentsAgree(op);
  }
};
} // namespace winnow::tok

#define GET_OP_CLASSES
#include "winnow/Dialect/Tok/IR/TokOps.h.inc"

#endif // WINNOW_DIALECT_TOK_IR_TOKOPS_H
