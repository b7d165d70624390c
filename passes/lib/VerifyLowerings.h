//===- VerifyLowerings.h - CPU loop lowering of speculative verification --===//

#ifndef WINNOW_PASSES_LIB_VERIFYLOWERINGS_H
#define WINNOW_PASSES_LIB_VERIFYLOWERINGS_H

#include "LoweringUtils.h"

#include "mlir/IR/Operation.h"

namespace winnow {
/// Replaces the results of a tok.spec_verify / tok.tree_verify op with loops
/// over buffers and returns true; returns false for any other op.
bool lowerVerifyOp(mlir::Operation *op, const LoweringOptions &options);
} // namespace winnow

#endif // WINNOW_PASSES_LIB_VERIFYLOWERINGS_H
