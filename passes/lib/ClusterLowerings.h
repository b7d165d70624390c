//===- ClusterLowerings.h - CPU loop lowerings of the clustering ops ------===//

#ifndef WINNOW_PASSES_LIB_CLUSTERLOWERINGS_H
#define WINNOW_PASSES_LIB_CLUSTERLOWERINGS_H

#include "LoweringUtils.h"

#include "mlir/IR/Operation.h"

namespace winnow {
/// Replaces the results of tok.row_cosine / tok.density_peaks /
/// tok.similarity_components with loops over buffers and returns true;
/// returns false for any other op.
bool lowerClusterOp(mlir::Operation *op, const LoweringOptions &options);
} // namespace winnow

#endif // WINNOW_PASSES_LIB_CLUSTERLOWERINGS_H
