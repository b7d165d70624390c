//===- RadixSelect.h - Exact top-k thresholds by radix select -------------===//
//
// The selection algorithm every top-k in Winnow shares (tok.select, the
// heavy hitters of tok.kv_select): scores become order-preserving 32-bit
// keys, four 8-bit digit passes over a 256-bin histogram find the K-th
// largest key, and an ascending pass keeps keys above it plus the first
// `ties` keys equal to it — larger first, ties to the lower index, O(N).
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_PASSES_LIB_RADIXSELECT_H
#define WINNOW_PASSES_LIB_RADIXSELECT_H

#include "LoweringUtils.h"

#include "winnow/Dialect/Tok/IR/TokOps.h"

namespace winnow {

/// Number of bins of the radix-select histogram.
constexpr int kRadixBins = 256;

/// The i32 key of an f32 score whose unsigned order is the ranking order:
/// NaN becomes -inf or +inf per `policy`, -0.0 becomes +0.0.
mlir::Value emitOrderKey(mlir::ImplicitLocOpBuilder &b, mlir::Value score,
                         tok::NanPolicy policy);

/// The same key for a compile-time score.
uint32_t orderKey(float score, tok::NanPolicy policy);

/// Whether entry `j` (key `otherKey`) ranks before entry `i` (key `key`) in
/// the ranking order: the larger key first, ties to the lower index.
mlir::Value emitRanksBefore(mlir::ImplicitLocOpBuilder &b, mlir::Value otherKey,
                            mlir::Value key, mlir::Value j, mlir::Value i);

/// A `memref<256xi32>` histogram on the stack, allocated once per op.
mlir::Value allocRadixHistogram(mlir::ImplicitLocOpBuilder &b);

/// A `memref<maxEntries x i32>` on the stack for emitRadixSelect's key
/// array, or null when it would take more than 64 KiB.
mlir::Value allocRadixKeys(mlir::ImplicitLocOpBuilder &b, int64_t maxEntries);

/// Finds the K-th largest key among the candidates in [lb, ub) (`k` > 0, an
/// i32). Returns {that key, how many candidates equal to it are kept}.
/// With `keys` (at least ub - lb entries, from allocRadixKeys), the first
/// pass also writes the candidates' keys there and each later pass reads
/// only the keys that matched the prefix so far, compacting them for the
/// next (the CPU's form: about one full pass instead of four, the same
/// histograms); without it every pass reads every entry (for GPU threads,
/// whose scratch is shared memory).
std::pair<mlir::Value, mlir::Value>
emitRadixSelect(LoopEmitter &e, mlir::Value histogram, mlir::Value lb,
                mlir::Value ub, mlir::Value k,
                llvm::function_ref<mlir::Value(mlir::Value)> keyAt,
                llvm::function_ref<mlir::Value(mlir::Value)> isCandidate,
                mlir::Value keys = mlir::Value());

} // namespace winnow

#endif // WINNOW_PASSES_LIB_RADIXSELECT_H
