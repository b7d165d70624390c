//===- CollectiveToGpu.h - Lowering warp and block collectives --*- C++ -*-===//

#ifndef WINNOW_CONVERSION_COLLECTIVETOGPU_H
#define WINNOW_CONVERSION_COLLECTIVETOGPU_H

#include "mlir/IR/PatternMatch.h"

namespace winnow {

/// How the `collective` ops become GPU code.
enum class CollectiveForm {
  /// Warp shuffles, ballots, popc, workgroup memory, barriers, workgroup
  /// atomics (what the CUDA target runs).
  Shuffle,
  /// Workgroup memory, barriers and plain loops, in the same combination
  /// order (same bits): the definition, for checking the other form.
  Reference,
};

/// Adds one pattern per `collective` op in the given form. The patterns add
/// the workgroup buffers they need as attributions of the enclosing
/// `gpu.launch` or `gpu.func`.
void populateCollectiveToGpuPatterns(mlir::RewritePatternSet &patterns,
                                     CollectiveForm form);

} // namespace winnow

#endif // WINNOW_CONVERSION_COLLECTIVETOGPU_H
