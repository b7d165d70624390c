//===- MergeLowerings.h - CPU loop lowerings of the merging ops -----------===//

#ifndef WINNOW_PASSES_LIB_MERGELOWERINGS_H
#define WINNOW_PASSES_LIB_MERGELOWERINGS_H

#include "LoweringUtils.h"

#include "mlir/IR/Operation.h"

namespace winnow {
/// Replaces the results of a merging op (tok.bipartite_plan /
/// tok.scatter_merge) with loops over buffers and returns true; returns
/// false for any other op.
bool lowerMergeOp(mlir::Operation *op, const LoweringOptions &options);
} // namespace winnow

#endif // WINNOW_PASSES_LIB_MERGELOWERINGS_H
