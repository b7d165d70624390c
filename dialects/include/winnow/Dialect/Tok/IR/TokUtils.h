//===- TokUtils.h - Facts about tok values that passes share ----*- C++ -*-===//

#ifndef WINNOW_DIALECT_TOK_IR_TOKUTILS_H
#define WINNOW_DIALECT_TOK_IR_TOKUTILS_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/Value.h"

namespace winnow::tok {
/// Bytes one element of `type` takes in memory (index: 8, i1: 1), or 0 for
/// a type that is not an integer, index or float.
int64_t elementBytes(mlir::Type type);
/// Bytes of a statically shaped tensor or memref of such elements (else 0).
int64_t shapedBytes(mlir::Type type);
/// The element of a splat constant tensor, or null.
mlir::TypedAttr splatValue(mlir::Value value);
/// Whether `producer`'s result, read by `consumer` alone, is handed over
/// streamed, never stored (RowLocalOpInterface::canStreamInto).
bool isStreamedPair(mlir::Operation *producer, mlir::Operation *consumer);
} // namespace winnow::tok

#endif // WINNOW_DIALECT_TOK_IR_TOKUTILS_H
