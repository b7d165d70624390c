//===- DynamicBatch.h - A function's dynamic batch extent -------*- C++ -*-===//
//
// A function may leave the leading (batch) extent of its tensors dynamic
// (`tensor<?x576xf32>`) when it declares the extent's name and upper bound
// with the function attribute `tok.bounds = {batch = 64}`. One artifact then
// serves every batch from 0 to the bound; docs/dynamic-shapes.md.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_DIALECT_TOK_TRANSFORMS_DYNAMICBATCH_H
#define WINNOW_DIALECT_TOK_TRANSFORMS_DYNAMICBATCH_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

#include <optional>
#include <string>

namespace winnow::tok {

/// The function attribute that names dynamic extents and their bounds.
inline constexpr llvm::StringLiteral kBoundsAttrName = "tok.bounds";

/// A function's dynamic batch extent.
struct DynamicBatch {
  std::string name;
  int64_t bound;
};

/// Reads and checks `func`'s dynamic batch: none (nullopt) for a function
/// whose tensors are all static and that has no `tok.bounds`. Fails, with an
/// error at `func`, when `tok.bounds` is not one `name = bound` entry with
/// 0 <= bound < 2^31, when an extent other than the leading one is dynamic,
/// when a dynamic extent has no bound, when no argument has the dynamic
/// extent (a call could not bind it), or when an argument or result does
/// not lead with it (every op of such a function runs row by row).
mlir::FailureOr<std::optional<DynamicBatch>>
getDynamicBatch(mlir::func::FuncOp func);

/// Whether a reshape between `expanded` and its collapsed form keeps the
/// batch as its own leading axis: the reassociation group of axis 0 holds
/// axis 0 and unit extents only, so row r of one is row r of the other.
bool keepsBatchGroup(mlir::RankedTensorType expanded,
                     llvm::ArrayRef<mlir::ReassociationIndices> groups);

} // namespace winnow::tok

#endif // WINNOW_DIALECT_TOK_TRANSFORMS_DYNAMICBATCH_H
