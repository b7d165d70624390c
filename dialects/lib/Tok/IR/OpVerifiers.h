//===- OpVerifiers.h - Shape checks shared by the op verifiers -----------===//

#ifndef WINNOW_DIALECTS_LIB_TOK_IR_OPVERIFIERS_H
#define WINNOW_DIALECTS_LIB_TOK_IR_OPVERIFIERS_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"

#include <string>

namespace winnow::tok {

/// Formats a shape as `4x576` for diagnostics.
std::string shapeString(llvm::ArrayRef<int64_t> shape);

/// Checks that an optional per-batch `[B] i32` operand has the batch extent.
mlir::LogicalResult verifyPerBatch(mlir::Operation *op, mlir::Value value,
                                   llvm::StringRef name, int64_t batch);

/// Checks that a (present) ranked tensor value has exactly `shape`.
mlir::LogicalResult verifyShape(mlir::Operation *op, mlir::Value value,
                                llvm::StringRef name,
                                llvm::ArrayRef<int64_t> shape);

} // namespace winnow::tok

#endif // WINNOW_DIALECTS_LIB_TOK_IR_OPVERIFIERS_H
