//===- KvLowerings.h - CPU loop lowerings of KV and diversity ops ---------===//

#ifndef WINNOW_PASSES_LIB_KVLOWERINGS_H
#define WINNOW_PASSES_LIB_KVLOWERINGS_H

#include "LoweringUtils.h"

#include "mlir/IR/Operation.h"

namespace winnow {
/// Replaces the results of tok.kv_select / tok.kv_gather / tok.k_center with
/// loops over buffers and returns true; returns false for any other op.
bool lowerKvOp(mlir::Operation *op, const LoweringOptions &options);
} // namespace winnow

#endif // WINNOW_PASSES_LIB_KVLOWERINGS_H
