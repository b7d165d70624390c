//===- BlockTopK.h - One thread block selects the best of a row -*- C++ -*-===//
//
// The GPU form shared by tok.select and tok.kv_select: one thread block per
// row keeps the row's forced tokens and the best `k` of its candidates,
// emitted in ascending order, with the exact semantics of the per-row CPU
// form (RadixSelect.h: larger keys first, ties to the lower index).
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_PASSES_LIB_BLOCKTOPK_H
#define WINNOW_PASSES_LIB_BLOCKTOPK_H

#include "LoweringUtils.h"

#include <optional>

namespace winnow {

/// The threads of a selecting block.
inline constexpr int64_t kTopKThreads = 256;

/// Where a block keeps the order keys of its row: shared memory when the
/// row fits, else one row per block of a device buffer.
struct TopKKeyStorage {
  /// The device buffer, `[rows * tokens] i32`, or null.
  mlir::Value global;
  /// The shared-memory buffer type to pass to LoopEmitter::blockLaunch.
  llvm::SmallVector<mlir::MemRefType> workgroup;
  int64_t tokens = 0;

  /// Allocates the keys of `rows` rows of `tokens` (outside the launch).
  static TopKKeyStorage create(LoopEmitter &e, int64_t rows, int64_t tokens);
  /// Block `block`'s row of keys, inside the launch (`buffers` are the
  /// launch's workgroup buffers).
  mlir::Value rowOf(LoopEmitter &e, mlir::Value block,
                    mlir::ValueRange buffers) const;
  /// The workgroup buffers to launch with: `storage`'s, or none when a
  /// launch ranks nothing and has no storage.
  static llvm::ArrayRef<mlir::MemRefType>
  workgroupOf(const std::optional<TopKKeyStorage> &storage) {
    return storage ? llvm::ArrayRef<mlir::MemRefType>(storage->workgroup)
                   : llvm::ArrayRef<mlir::MemRefType>();
  }
};

/// One row, seen from a block. Every predicate is asked only for t < len.
struct TopKRow {
  mlir::Value len;  // valid tokens (index)
  mlir::Value keys; // TopKKeyStorage::rowOf; null without a ranking
  /// Kept whatever the budget (a row's forced tokens); never candidates.
  llvm::function_ref<mlir::Value(mlir::Value)> forced;
  /// Ranked for the budget (disjoint from forced).
  llvm::function_ref<mlir::Value(mlir::Value)> candidate;
  /// The order key of token t (RadixSelect.h's emitOrderKey).
  llvm::function_ref<mlir::Value(mlir::Value)> key;
  /// The budget from the number of candidates (i32 -> i32 in [0, n]); null
  /// for a fixed threshold.
  llvm::function_ref<mlir::Value(mlir::Value)> budget;
  /// With a fixed threshold: the key candidates must exceed (or reach, when
  /// `inclusive`).
  mlir::Value threshold;
  bool inclusive = false;
  /// Stores kept token t (index) at output slot `slot` (index).
  llvm::function_ref<void(mlir::Value slot, mlir::Value t)> emit;
  /// The threads of the launch (topKThreadsFor).
  int64_t threads = kTopKThreads;
};

/// The threads of a selecting block for rows of `tokens`: kTopKThreads, or
/// 1024 for rows of more than four tiles, whose passes over the row are
/// then four times shorter.
int64_t topKThreadsFor(int64_t tokens);

/// Inside a blockLaunch of `row.threads` threads: keys and the candidate
/// count (a block reduction), the budget's threshold key and ties
/// (collective.block_radix_select), then tiles of 8 tokens per thread whose
/// tie ranks and output slots come from block scans. Returns the number of
/// kept tokens (index), the same on every thread.
mlir::Value emitBlockTopK(LoopEmitter &e, mlir::Value thread,
                          const TopKRow &row);

} // namespace winnow

#endif // WINNOW_PASSES_LIB_BLOCKTOPK_H
