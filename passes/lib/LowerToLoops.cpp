//===- LowerToLoops.cpp - The tok-lower-to-loops pass ---------------------===//

#include "ChunkLowerings.h"
#include "DispatchLowering.h"
#include "ClusterLowerings.h"
#include "KvLowerings.h"
#include "MergeLowerings.h"
#include "PruneLowerings.h"
#include "VerifyLowerings.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "winnow/Dialect/Tok/IR/TokOps.h"
#include "winnow/Passes/Passes.h"

namespace winnow {
#define GEN_PASS_DEF_TOKLOWERTOLOOPS
#include "winnow/Passes/Passes.h.inc"
} // namespace winnow

using namespace mlir;

namespace winnow {
namespace {
/// One entry per op family; each returns false for ops it does not own.
constexpr bool (*kFamilyLowerings[])(Operation *, const LoweringOptions &) = {
    lowerPruneOp, lowerChunkOp, lowerVerifyOp, lowerMergeOp, lowerKvOp,
    lowerClusterOp};

struct TokLowerToLoopsPass
    : impl::TokLowerToLoopsBase<TokLowerToLoopsPass> {
  using Base::Base;
  void runOnOperation() override {
    LoweringOptions options;
    options.intraRowParallel = intraRowParallel;
    auto lowerTokOp = [&](Operation *op) {
      return llvm::any_of(kFamilyLowerings, [&](auto lowering) {
        return lowering(op, options);
      });
    };
    // Fused regions first: their ops are lowered one row at a time.
    SmallVector<tok::DispatchOp> dispatches;
    getOperation()->walk([&](tok::DispatchOp op) { dispatches.push_back(op); });
    for (tok::DispatchOp dispatch : dispatches)
      if (failed(lowerDispatchOp(dispatch, options, lowerTokOp)))
        return signalPassFailure();

    SmallVector<Operation *> toLower;
    getOperation()->walk([&](Operation *op) {
      if (isa<tok::TokDialect>(op->getDialect()))
        toLower.push_back(op);
    });
    for (Operation *op : toLower) {
      if (!lowerTokOp(op)) {
        op->emitOpError() << "has no loop lowering";
        return signalPassFailure();
      }
      op->erase();
    }
  }
};
} // namespace
} // namespace winnow
