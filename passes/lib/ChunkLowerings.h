//===- ChunkLowerings.h - CPU loop lowerings of the chunking ops ----------===//

#ifndef WINNOW_PASSES_LIB_CHUNKLOWERINGS_H
#define WINNOW_PASSES_LIB_CHUNKLOWERINGS_H

#include "LoweringUtils.h"

#include "mlir/IR/Operation.h"

namespace winnow {
/// Replaces the results of a chunking op with loops over buffers and returns
/// true; returns false for any other op. The op is left for the caller.
bool lowerChunkOp(mlir::Operation *op, const LoweringOptions &options);
} // namespace winnow

#endif // WINNOW_PASSES_LIB_CHUNKLOWERINGS_H
