//===- TokToLoops.h - tok ops to loops over buffers -------------*- C++ -*-===//
//
// The patterns of tok-lower-to-loops, for pipelines and passes that apply
// them themselves (docs/lowering.md). Apply them under a ConversionTarget on
// which the tok dialect is illegal, without pattern rollback.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_CONVERSION_TOKTOLOOPS_H
#define WINNOW_CONVERSION_TOKTOLOOPS_H

#include "mlir/IR/PatternMatch.h"

namespace winnow {

/// Choices tok-lower-to-loops makes per target.
struct LoweringOptions {
  /// Expose the parallelism inside a row for targets with many threads
  /// (GPUs): loops over tokens or features instead of one sequential nest
  /// per batch row (tok.select by rank, ema_scan per feature, expand and
  /// kv_gather per element). Results are identical; on a CPU the per-row
  /// forms are faster.
  bool intraRowParallel = false;
};

/// The row of a tok.dispatch being lowered (private to the conversion).
struct DispatchRow;

/// One pattern per tok op (each family's and, at the top level, the
/// tok.dispatch pattern). With `row`, the patterns lower the ops of that
/// dispatch row (the dispatch pattern uses this); callers pass none.
void populateTokToLoopsPatterns(mlir::RewritePatternSet &patterns,
                                const LoweringOptions &options,
                                DispatchRow *row = nullptr);

} // namespace winnow

#endif // WINNOW_CONVERSION_TOKTOLOOPS_H
