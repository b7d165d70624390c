//===- TokInterfaces.h - What passes ask of tok ops -------------*- C++ -*-===//

#ifndef WINNOW_DIALECT_TOK_IR_TOKINTERFACES_H
#define WINNOW_DIALECT_TOK_IR_TOKINTERFACES_H

#include "mlir/IR/OpDefinition.h"

namespace winnow::tok {
/// Bytes one element of `type` takes in memory (index: 8, i1: 1), or 0 for
/// a type that is not an integer, index or float.
int64_t elementBytes(mlir::Type type);
/// Bytes of a statically shaped tensor or memref of such elements (else 0).
int64_t shapedBytes(mlir::Type type);
} // namespace winnow::tok

#include "winnow/Dialect/Tok/IR/TokInterfaces.h.inc"

#endif // WINNOW_DIALECT_TOK_IR_TOKINTERFACES_H
