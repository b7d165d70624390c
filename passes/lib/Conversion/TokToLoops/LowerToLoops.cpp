//===- LowerToLoops.cpp - The tok-lower-to-loops pass ---------------------===//
//
// Applies the tok-to-loops patterns (TokOpLowering.h) under a conversion
// target on which the tok dialect is illegal: an op no pattern lowers fails
// the pass with an error on it.
//
//===----------------------------------------------------------------------===//

#include "TokOpLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Transforms/DialectConversion.h"
#include "winnow/Conversion/Passes.h"
#include "winnow/Dialect/Collective/IR/CollectiveOps.h"
#include "winnow/Dialect/Tok/IR/TokOps.h"

namespace winnow {
#define GEN_PASS_DEF_TOKLOWERTOLOOPS
#include "winnow/Conversion/Passes.h.inc"
} // namespace winnow

using namespace mlir;

namespace winnow {

LogicalResult replaceLoweredOp(Operation *op, PatternRewriter &rewriter,
                               LoweringContext &context) {
  SmallVector<Value> replacements;
  for (OpResult result : op->getResults()) {
    Value replacement = context.replacements.lookup(result);
    if (!replacement)
      return op->emitOpError()
             << "lowering left result #" << result.getResultNumber()
             << " without a replacement (a lowering must replace every "
                "result through OpLowering::replace)";
    replacements.push_back(replacement);
  }
  rewriter.replaceOp(op, replacements);
  return success();
}

void populateTokToLoopsPatterns(RewritePatternSet &patterns,
                                const LoweringOptions &options,
                                DispatchRow *row) {
  populatePruneToLoopsPatterns(patterns, options, row);
  populateChunkToLoopsPatterns(patterns, options, row);
  populateVerifyToLoopsPatterns(patterns, options, row);
  populateMergeToLoopsPatterns(patterns, options, row);
  populateKvToLoopsPatterns(patterns, options, row);
  populateDiversityToLoopsPatterns(patterns, options, row);
  populateClusterToLoopsPatterns(patterns, options, row);
  populateLayoutToLoopsPatterns(patterns, options, row);
  if (options.intraRowParallel) {
    populatePruneToGpuLoopsPatterns(patterns, options, row);
    populateChunkToGpuLoopsPatterns(patterns, options, row);
    populateVerifyToGpuLoopsPatterns(patterns, options, row);
    populateMergeToGpuLoopsPatterns(patterns, options, row);
    populateKvToGpuLoopsPatterns(patterns, options, row);
    populateDiversityToGpuLoopsPatterns(patterns, options, row);
    populateClusterToGpuLoopsPatterns(patterns, options, row);
  }
  if (!row)
    populateDispatchToLoopsPatterns(patterns, options);
}

namespace {
struct TokLowerToLoopsPass
    : impl::TokLowerToLoopsBase<TokLowerToLoopsPass> {
  using Base::Base;
  void runOnOperation() override {
    LoweringOptions options;
    options.intraRowParallel = intraRowParallel;
    RewritePatternSet patterns(&getContext());
    populateTokToLoopsPatterns(patterns, options);

    ConversionTarget target(getContext());
    target.addIllegalDialect<tok::TokDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    // Patterns build loops with ordinary builders and modify the IR they
    // create in place (a dispatch lowers its row ops as it goes), so the
    // conversion runs without rollback: a failing pattern fails the pass.
    ConversionConfig config;
    config.allowPatternRollback = false;
    // A pattern that fails after building IR reports an error on its op;
    // without rollback another pattern may still lower the op, so the
    // error alone must fail the pass (it is passed on to be printed).
    bool reportedError = false;
    ScopedDiagnosticHandler errors(&getContext(), [&](Diagnostic &diag) {
      if (diag.getSeverity() == DiagnosticSeverity::Error)
        reportedError = true;
      return failure();
    });
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns), config)) ||
        reportedError)
      signalPassFailure();
  }
};
} // namespace
} // namespace winnow
