//===- RowBlock.h - One thread block per batch row -------------*- C++ -*-===//
//
// Building blocks of the GPU forms that run a row's sequential algorithm
// (greedy picks, sweeps, label propagation) on one block: every thread takes
// every step in order, each step's loop over the row's tokens is strided over
// the block's threads, single writes happen on thread 0, and barriers
// separate the steps. Per-token state lives in [B, N] device buffers. Only
// inside LoopEmitter::blockLaunch.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_PASSES_LIB_ROWBLOCK_H
#define WINNOW_PASSES_LIB_ROWBLOCK_H

#include "LoweringUtils.h"

namespace winnow {

/// Threads of a row's block.
constexpr int64_t kRowThreads = 1024;

/// The first token t of [lb, ub) with the largest `value(t)` among those
/// `eligible(t)`, or -1 when none is: what the sequential scan (take when
/// eligible and nothing is taken yet or the value is strictly larger)
/// finds. Each thread scans its tokens in order, then
/// collective.block_argmax (the larger value, ties to the lower index, NaN
/// lowest) combines them; `value` must not be NaN (map it first, as the
/// sequential scan does).
mlir::Value blockPick(LoopEmitter &e, mlir::Value tid, mlir::Value lb,
                      mlir::Value ub,
                      llvm::function_ref<mlir::Value(mlir::Value)> eligible,
                      llvm::function_ref<mlir::Value(mlir::Value)> value);

/// Numbers the t of [lb, ub) with `keep(t)` in token order from `first` (an
/// i32; a block scan per tile of kRowThreads tokens), calling
/// `place(t, number)` on the thread of each; returns first + their count
/// (on every thread).
mlir::Value
blockEnumerate(LoopEmitter &e, mlir::Value tid, mlir::Value lb, mlir::Value ub,
               llvm::function_ref<mlir::Value(mlir::Value)> keep,
               mlir::Value first,
               llvm::function_ref<void(mlir::Value, mlir::Value)> place);

/// Writes every t of [lb, ub) with `keep(t)` to out[row, first + ...] in
/// token order (a block scan per tile of kRowThreads tokens); returns
/// first + their number (an i32, on every thread).
mlir::Value blockAppend(LoopEmitter &e, mlir::Value tid, mlir::Value row,
                        mlir::Value lb, mlir::Value ub,
                        llvm::function_ref<mlir::Value(mlir::Value)> keep,
                        mlir::Value out, mlir::Value first);

/// Writes every t of [0, len) with `keep(t)` to out[row, ...] in token
/// order, -1 after them up to `capacity`; returns their number.
mlir::Value blockCompact(LoopEmitter &e, mlir::Value tid, mlir::Value row,
                         mlir::Value len,
                         llvm::function_ref<mlir::Value(mlir::Value)> keep,
                         mlir::Value out, int64_t capacity);

/// Runs `body` on every t of [lb, ub), strided over the block's threads.
void blockFor(LoopEmitter &e, mlir::Value tid, mlir::Value lb, mlir::Value ub,
              llvm::function_ref<void(mlir::Value)> body);

/// Rounds of `round()` while the last one returns true (an i1 every thread
/// of the block holds alike, e.g. from a block reduction), at most
/// `maxRounds`: an scf.for carrying the flag with each round under an
/// scf.if on it, so the barriers inside stay uniform (and the SIMT
/// emulator, which takes no scf.while around a barrier, runs it).
void blockRounds(LoopEmitter &e, mlir::Value maxRounds,
                 llvm::function_ref<mlir::Value()> round);

/// Runs `body` on thread 0 of the block.
void onFirstThread(LoopEmitter &e, mlir::Value tid,
                   llvm::function_ref<void()> body);

} // namespace winnow

#endif // WINNOW_PASSES_LIB_ROWBLOCK_H
