//===- ChunkLowerings.h - CPU loop lowerings of the chunking ops ----------===//

#ifndef WINNOW_PASSES_LIB_CHUNKLOWERINGS_H
#define WINNOW_PASSES_LIB_CHUNKLOWERINGS_H

#include "LoweringUtils.h"

#include "mlir/IR/Operation.h"

namespace winnow {
/// Replaces the results of a chunking op with loops over buffers and returns
/// true; returns false for any other op. The op is left for the caller.
bool lowerChunkOp(mlir::Operation *op, const LoweringOptions &options);

/// Whether `producer`'s result, consumed by `consumer` alone, can be
/// streamed (never stored): tok.ema_scan into tok.expand's input.
bool isStreamedChunkPair(mlir::Operation *producer, mlir::Operation *consumer);

/// Lowers such a pair in one sweep (the producer's result is not stored)
/// and returns true, replacing the consumer's result; returns false for any
/// other pair. Both ops are left for the caller.
bool lowerStreamedChunkPair(mlir::Operation *producer,
                            mlir::Operation *consumer,
                            const LoweringOptions &options);
} // namespace winnow

#endif // WINNOW_PASSES_LIB_CHUNKLOWERINGS_H
