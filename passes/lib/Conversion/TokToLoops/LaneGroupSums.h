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

/// orderedSums over [0, count) with its lanes on the kLaneGroup consecutive
/// threads of a group (thread `tid` is lane tid % 8 of group tid / 8): each
/// thread adds terms(lane), terms(lane + 8), ... in order from +0.0 (a
/// constant trip count: the rounds, then the tail), the lane sums meet in
/// `scratch` (laneGroupScratchType), and every thread of the group adds its
/// group's eight in lane order from +0.0. A group that is not `active`
/// (the same for its eight threads) sums nothing and gets zeros. Every
/// thread of the block must call it (it has barriers).
llvm::SmallVector<mlir::Value> laneGroupSums(
    LoopEmitter &e, mlir::Value tid, mlir::Value scratch, mlir::Value active,
    int64_t count, unsigned numSums,
    llvm::function_ref<llvm::SmallVector<mlir::Value>(mlir::Value)> terms);

/// A thread's place in laneGroupLaunch.
struct LaneGroup {
  mlir::Value tid;     // the thread in its block
  mlir::Value scratch; // laneGroupSums' shared buffer
  mlir::Value inGrid;  // the group's token is one of the grid's
  mlir::Value leads;   // the thread is its group's first (it stores)
};

/// A launch of lane groups over the row-major [batch, tokens] tokens: 32
/// tokens per block of 256 threads, eight threads each, `body(row, token,
/// group)` run by every thread (threads past the grid take the last token,
/// `inGrid` false), with the scratch of laneGroupSums for `numSums` sums.
void laneGroupLaunch(
    LoopEmitter &e, int64_t batch, int64_t tokens, unsigned numSums,
    llvm::function_ref<void(mlir::Value, mlir::Value, const LaneGroup &)> body);

} // namespace winnow

#endif // WINNOW_PASSES_LIB_LANEGROUPSUMS_H
