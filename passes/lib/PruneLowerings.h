//===- PruneLowerings.h - CPU loop lowerings of the pruning ops -----------===//

#ifndef WINNOW_PASSES_LIB_PRUNELOWERINGS_H
#define WINNOW_PASSES_LIB_PRUNELOWERINGS_H

#include "mlir/IR/Operation.h"

namespace winnow {
/// Replaces a tok.attn_score / tok.select / tok.compact op's results with
/// loops over buffers; the op itself is left for the caller to erase.
void lowerPruneOp(mlir::Operation *op);
} // namespace winnow

#endif // WINNOW_PASSES_LIB_PRUNELOWERINGS_H
