//===- LaneGroupSums.h - orderedSums over 8 threads ------------*- C++ -*-===//
//
// LoopEmitter::orderedSums keeps eight lanes; a GPU form can give each lane
// its own thread when a sum is long and the sums are few (one dot product
// per token at batch 1), so that eight times as many threads share the
// memory traffic. The lanes add their terms in the same order and are
// added in the same order, so the bits are orderedSums'. Only inside
// LoopEmitter::blockLaunch.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_PASSES_LIB_LANEGROUPSUMS_H
#define WINNOW_PASSES_LIB_LANEGROUPSUMS_H

#include "LoweringUtils.h"

namespace winnow {

/// Threads of a lane group: orderedSums' lanes.
constexpr int64_t kLaneGroup = LoopEmitter::kSumLanes;

/// The shared-memory buffer laneGroupSums needs in a block of `threads`
/// threads computing `numSums` sums.
mlir::MemRefType laneGroupScratchType(mlir::MLIRContext *context,
                                      int64_t threads, unsigned numSums);

/// orderedSums over [lb, ub) with its lanes on the kLaneGroup consecutive
/// threads of a group (thread `tid` is lane tid % 8 of group tid / 8): each
/// thread adds terms(lb + lane), terms(lb + lane + 8), ... in order from
/// +0.0, the lane sums meet in `scratch` (laneGroupScratchType), and every
/// thread of the group adds its group's eight in lane order from +0.0.
/// The group's threads pass the same range. Every thread of the block must
/// call it (it has barriers); a thread with nothing to sum passes an empty
/// range.
llvm::SmallVector<mlir::Value> laneGroupSums(
    LoopEmitter &e, mlir::Value tid, mlir::Value scratch, mlir::Value lb,
    mlir::Value ub, unsigned numSums,
    llvm::function_ref<llvm::SmallVector<mlir::Value>(mlir::Value)> terms);

} // namespace winnow

#endif // WINNOW_PASSES_LIB_LANEGROUPSUMS_H
