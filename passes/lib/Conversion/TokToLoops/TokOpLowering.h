//===- TokOpLowering.h - The per-op patterns of tok-to-loops ----*- C++ -*-===//
//
// Private to passes/lib. Every tok op is lowered by one OpRewritePattern,
// applied by tok-lower-to-loops under a ConversionTarget on which the tok
// dialect is illegal, so an op without a pattern fails the pass.
//
// The lowering contract. A pattern lowers its op through an OpLowering
// (LoweringUtils.h), given explicitly a LoweringContext (the target's
// options; inside a tok.dispatch, the DispatchRow being lowered):
//  - operands are read only through OpLowering::toBuffer, never written;
//  - each result is written only into the buffer OpLowering::allocFor gives
//    it, and replaced only through OpLowering::replace/replaceWithBuffer
//    (the pattern fails, with an error on the op, when a result is left
//    without a replacement);
//  - scratch memory is memref.alloca created before the loops that use it,
//    written by an iteration of a parallel loop before that iteration reads
//    it (the GPU gives every iteration a private copy);
//  - an iteration of a parallel loop writes only elements no other
//    iteration writes.
// Inside a tok.dispatch the same patterns run once per row, built with the
// row's context: toBuffer returns the producer's row buffer, allocFor the
// row of the dispatch's result or per-row scratch. A lowering that follows
// the contract needs no fused variant.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_CONVERSION_TOKTOLOOPS_TOKOPLOWERING_H
#define WINNOW_CONVERSION_TOKTOLOOPS_TOKOPLOWERING_H

#include "LoweringUtils.h"

#include "mlir/IR/PatternMatch.h"

namespace winnow {

/// Hands the replacements `context` collected for `op`'s results to the
/// rewriter (replaceOp). Fails, with an error on `op`, when the lowering
/// left a result without one.
mlir::LogicalResult replaceLoweredOp(mlir::Operation *op,
                                     mlir::PatternRewriter &rewriter,
                                     LoweringContext &context);

/// Lowers an OpTy with `lower`, which builds at the op with the rewriter's
/// listener (so the driver sees every op it creates).
template <typename OpTy>
class TokOpLowering : public mlir::OpRewritePattern<OpTy> {
public:
  using LowerFn = std::function<void(OpTy, mlir::ImplicitLocOpBuilder &,
                                     LoweringContext &)>;
  TokOpLowering(mlir::MLIRContext *context, const LoweringOptions &options,
                DispatchRow *row, LowerFn lower, mlir::PatternBenefit benefit)
      : mlir::OpRewritePattern<OpTy>(context, benefit), options(options),
        row(row), lower(std::move(lower)) {}

  mlir::LogicalResult
  matchAndRewrite(OpTy op, mlir::PatternRewriter &rewriter) const override {
    mlir::ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    b.setInsertionPoint(op);
    LoweringContext context(options, row);
    // Ops that run inside dispatches read row views; the others get
    // identity-layout buffers.
    if (auto rowLocal =
            llvm::dyn_cast<tok::RowLocalOpInterface>(op.getOperation()))
      context.readsRowViews = rowLocal.isRowLocal();
    lower(op, b, context);
    return replaceLoweredOp(op, rewriter, context);
  }

private:
  LoweringOptions options;
  DispatchRow *row;
  LowerFn lower;
};

/// The benefit of a GPU form (populate*ToGpuLoopsPatterns): above the
/// CPU form of the same op, so it applies wherever both are registered.
inline constexpr unsigned kGpuFormBenefit = 2;

template <typename OpTy>
void addTokLowering(mlir::RewritePatternSet &patterns,
                    const LoweringOptions &options, DispatchRow *row,
                    typename TokOpLowering<OpTy>::LowerFn lower,
                    unsigned benefit = 1) {
  patterns.add<TokOpLowering<OpTy>>(patterns.getContext(), options, row,
                                    std::move(lower),
                                    mlir::PatternBenefit(benefit));
}

/// Registers one form of an op that has a CPU and a GPU form:
/// `lower(op, b, context, gpuForm)`, at kGpuFormBenefit for the GPU form.
template <typename OpTy, typename Lower>
void addTokLoweringForm(mlir::RewritePatternSet &patterns,
                        const LoweringOptions &options, DispatchRow *row,
                        bool gpuForm, Lower lower) {
  addTokLowering<OpTy>(
      patterns, options, row,
      [lower, gpuForm](OpTy op, mlir::ImplicitLocOpBuilder &b,
                       LoweringContext &context) {
        lower(op, b, context, gpuForm);
      },
      gpuForm ? kGpuFormBenefit : 1);
}

// One populate function per op family (the family's Lower*ToLoops.cpp):
// its ops' CPU forms (one sequential nest per batch row, every op), and
// separately the GPU forms of the ops that have one (the parallelism inside
// a row exposed: per token, feature, element or vocabulary split), which the
// pipeline adds for a target with many threads (LoweringOptions). `row` is
// null outside a tok.dispatch.
void populatePruneToLoopsPatterns(mlir::RewritePatternSet &patterns,
                                  const LoweringOptions &options,
                                  DispatchRow *row);
void populateChunkToLoopsPatterns(mlir::RewritePatternSet &patterns,
                                  const LoweringOptions &options,
                                  DispatchRow *row);
void populateVerifyToLoopsPatterns(mlir::RewritePatternSet &patterns,
                                   const LoweringOptions &options,
                                   DispatchRow *row);
void populateMergeToLoopsPatterns(mlir::RewritePatternSet &patterns,
                                  const LoweringOptions &options,
                                  DispatchRow *row);
/// tok.unpack_ragged, tok.pack_ragged and tok.tree_parents: one form that
/// serves the CPU and the GPU.
void populateLayoutToLoopsPatterns(mlir::RewritePatternSet &patterns,
                                   const LoweringOptions &options,
                                   DispatchRow *row);
void populateKvToLoopsPatterns(mlir::RewritePatternSet &patterns,
                               const LoweringOptions &options,
                               DispatchRow *row);
void populateDiversityToLoopsPatterns(mlir::RewritePatternSet &patterns,
                                      const LoweringOptions &options,
                                      DispatchRow *row);
void populateClusterToLoopsPatterns(mlir::RewritePatternSet &patterns,
                                    const LoweringOptions &options,
                                    DispatchRow *row);
/// tok.dispatch (DispatchLowering.cpp): one loop over its rows, whose ops
/// are lowered by the patterns above built with each row's context.
void populatePruneToGpuLoopsPatterns(mlir::RewritePatternSet &patterns,
                                     const LoweringOptions &options,
                                     DispatchRow *row);
void populateChunkToGpuLoopsPatterns(mlir::RewritePatternSet &patterns,
                                     const LoweringOptions &options,
                                     DispatchRow *row);
void populateVerifyToGpuLoopsPatterns(mlir::RewritePatternSet &patterns,
                                      const LoweringOptions &options,
                                      DispatchRow *row);
void populateMergeToGpuLoopsPatterns(mlir::RewritePatternSet &patterns,
                                     const LoweringOptions &options,
                                     DispatchRow *row);
void populateKvToGpuLoopsPatterns(mlir::RewritePatternSet &patterns,
                                  const LoweringOptions &options,
                                  DispatchRow *row);
void populateDiversityToGpuLoopsPatterns(mlir::RewritePatternSet &patterns,
                                         const LoweringOptions &options,
                                         DispatchRow *row);
void populateClusterToGpuLoopsPatterns(mlir::RewritePatternSet &patterns,
                                       const LoweringOptions &options,
                                       DispatchRow *row);
void populateDispatchToLoopsPatterns(mlir::RewritePatternSet &patterns,
                                     const LoweringOptions &options);

/// Lowers a streamed pair (isStreamedPair) in one sweep, the producer's
/// result never stored, replacing the consumer and erasing the producer;
/// fails with an error for a pair it has no sweep for (today: tok.ema_scan
/// into tok.expand).
mlir::LogicalResult lowerStreamedPair(mlir::Operation *producer,
                                           mlir::Operation *consumer,
                                           mlir::PatternRewriter &rewriter,
                                           LoweringContext &context);

} // namespace winnow

#endif // WINNOW_CONVERSION_TOKTOLOOPS_TOKOPLOWERING_H
