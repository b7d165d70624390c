//===- DispatchLowering.h - tok.dispatch to one loop over rows -*- C++ -*-===//

#ifndef WINNOW_PASSES_LIB_DISPATCHLOWERING_H
#define WINNOW_PASSES_LIB_DISPATCHLOWERING_H

#include "LoweringUtils.h"

#include "winnow/Dialect/Tok/IR/TokOps.h"

namespace winnow {
/// Lowers `op` to one `scf.parallel` over its rows (marked
/// kDispatchRowsAttrName): each iteration runs the region's ops on batch-1
/// views of its row, through `lowerTokOp` for tok ops. Values the region
/// yields are written into the rows of fresh result buffers; the others
/// live in per-row scratch allocas (kRowBufferAttrName) hoisted before the
/// loop. Erases `op`.
/// A producer whose result only its consumer reads is lowered together
/// with it when the pair can be streamed (isStreamedChunkPair).
mlir::LogicalResult
lowerDispatchOp(tok::DispatchOp op, const LoweringOptions &options,
                llvm::function_ref<bool(mlir::Operation *)> lowerTokOp);
} // namespace winnow

#endif // WINNOW_PASSES_LIB_DISPATCHLOWERING_H
