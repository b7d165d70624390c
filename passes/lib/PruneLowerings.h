//===- PruneLowerings.h - CPU loop lowerings of the pruning ops -----------===//

#ifndef WINNOW_PASSES_LIB_PRUNELOWERINGS_H
#define WINNOW_PASSES_LIB_PRUNELOWERINGS_H

#include "LoweringUtils.h"

#include "mlir/IR/Operation.h"

namespace winnow {
/// Replaces the results of a pruning op (tok.attn_score / tok.select /
/// tok.compact) with loops over buffers and returns true; returns false for
/// any other op. The op is left for the caller to erase.
bool lowerPruneOp(mlir::Operation *op, const LoweringOptions &options);
} // namespace winnow

#endif // WINNOW_PASSES_LIB_PRUNELOWERINGS_H
