//===- DispatchLowering.cpp - tok.dispatch to one loop over rows ----------===//
//
// A dispatch is lowered by cloning its ops with batch extent 1 inside a
// parallel loop over rows, their operands being views of one row, and
// lowering the clones with the ordinary per-op patterns built with the
// row's context (a DispatchRow, LoweringUtils.h) that redirects result
// buffers: yielded values go straight to the row of the dispatch's result,
// the others to per-row scratch. The per-op lowerings need no fused
// variants (TokOpLowering.h states the contract that makes this work).
//
//===----------------------------------------------------------------------===//

#include "TokOpLowering.h"

#include "winnow/Dialect/Tok/IR/TokOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Transforms/RegionUtils.h"

using namespace mlir;

namespace winnow {
namespace {

RankedTensorType oneRow(RankedTensorType type) {
  SmallVector<int64_t> shape(type.getShape());
  shape[0] = 1;
  return type.clone(shape);
}

/// Row `row` of `buffer` as a [1, ...] view.
Value rowView(ImplicitLocOpBuilder &b, Value buffer, Value row) {
  auto type = cast<MemRefType>(buffer.getType());
  SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes, strides(type.getRank(), b.getIndexAttr(1));
  offsets[0] = row;
  sizes.push_back(b.getIndexAttr(1));
  for (int64_t d = 1; d < type.getRank(); ++d)
    sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
  return memref::SubViewOp::create(b, buffer, offsets, sizes, strides);
}

/// Row buffers above this size are heap allocations, not stack scratch.
constexpr int64_t kMaxStackRowBufferBytes = 64 * 1024;

/// An elementwise tensor op on one row: a loop over the row's elements
/// applying the op's scalar form.
LogicalResult lowerElementwise(Operation *op, ImplicitLocOpBuilder &b,
                               PatternRewriter &rewriter,
                               LoweringContext &context) {
  OpLowering e(b, context);
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  SmallVector<Value> inputs, outputs;
  for (Value operand : op->getOperands())
    inputs.push_back(splatValue(operand) ? operand : e.toBuffer(operand));
  for (Value result : op->getResults())
    outputs.push_back(e.allocFor(result));
  e.parallelFor(type.getShape(), [&](ValueRange ivs) {
    SmallVector<Value> scalars;
    for (Value input : inputs) {
      if (TypedAttr splat = splatValue(input))
        scalars.push_back(arith::ConstantOp::create(b, splat));
      else
        scalars.push_back(memref::LoadOp::create(b, input, ivs));
    }
    SmallVector<Type> scalarTypes;
    for (Value result : op->getResults())
      scalarTypes.push_back(getElementTypeOrSelf(result.getType()));
    OperationState state(op->getLoc(), op->getName(), scalars, scalarTypes,
                         op->getAttrs());
    Operation *scalar = b.create(state);
    for (auto [value, output] : llvm::zip(scalar->getResults(), outputs))
      memref::StoreOp::create(b, value, output, ivs);
  });
  for (auto [result, output] : llvm::zip(op->getResults(), outputs))
    e.replaceWithBuffer(result, output);
  return replaceLoweredOp(op, rewriter, context);
}

/// Lowers one cloned row op with the row pattern of the highest benefit
/// rooted at its name (a GPU form before the CPU form, as the conversion
/// driver orders them).
LogicalResult lowerRowOp(Operation *op, RewritePatternSet &patterns,
                         PatternRewriter &rewriter) {
  SmallVector<RewritePattern *> candidates;
  for (const std::unique_ptr<RewritePattern> &pattern :
       patterns.getNativePatterns())
    if (pattern->getRootKind() == op->getName())
      candidates.push_back(pattern.get());
  llvm::sort(candidates, [](RewritePattern *a, RewritePattern *b) {
    return a->getBenefit() > b->getBenefit();
  });
  for (RewritePattern *pattern : candidates) {
    rewriter.setInsertionPoint(op);
    if (succeeded(pattern->matchAndRewrite(op, rewriter)))
      return success();
  }
  return op->emitOpError() << "has no loop lowering";
}

/// tok.dispatch -> one scf.parallel over its rows (marked
/// kDispatchRowsAttrName): each iteration runs the region's ops on batch-1
/// views of its row. Values the region yields are written into the rows of
/// fresh result buffers; the others live in per-row scratch allocas
/// (kRowBufferAttrName) hoisted before the loop. A producer whose result
/// only its consumer reads is lowered together with it when the pair can be
/// streamed (isStreamedPair).
class DispatchLowering : public OpRewritePattern<tok::DispatchOp> {
public:
  DispatchLowering(MLIRContext *context, const LoweringOptions &options)
      : OpRewritePattern(context), options(options) {}

  LogicalResult matchAndRewrite(tok::DispatchOp op,
                                PatternRewriter &rewriter) const override;

private:
  LoweringOptions options;
};

} // namespace

/// A dispatch that is exactly a streamed pair yielding the consumer's
/// result, on a target with many threads (intra-row-parallel): the pair is
/// lowered over the whole batch, since its GPU sweep has parallelism beyond
/// the rows (lowerEmaExpand). Returns false, changing nothing, when `op` is
/// not such a dispatch.
static FailureOr<bool> lowerWholeStreamedPair(tok::DispatchOp op,
                                              PatternRewriter &rewriter,
                                              const LoweringOptions &options) {
  if (!options.intraRowParallel)
    return false;
  SmallVector<Operation *> ops;
  for (Operation &inner : op.getBody().front().without_terminator())
    ops.push_back(&inner);
  if (ops.size() != 2 || op.getNumResults() != 1 || !ops[0]->hasOneUse() ||
      *ops[0]->user_begin() != ops[1] || ops[1]->getNumResults() != 1 ||
      !isStreamedPair(ops[0], ops[1]) ||
      op.getYield().getValues().front() != ops[1]->getResult(0))
    return false;
  rewriter.setInsertionPoint(op);
  IRMapping mapping;
  Operation *producer = rewriter.clone(*ops[0], mapping);
  Operation *consumer = rewriter.clone(*ops[1], mapping);
  rewriter.replaceOp(op, consumer->getResults());
  LoweringContext context(options, nullptr);
  context.readsRowViews = true; // both ops are row-local
  return failed(lowerStreamedPair(producer, consumer, rewriter, context))
             ? FailureOr<bool>(failure())
             : FailureOr<bool>(true);
}

LogicalResult
DispatchLowering::matchAndRewrite(tok::DispatchOp op,
                                  PatternRewriter &rewriter) const {
  FailureOr<bool> whole = lowerWholeStreamedPair(op, rewriter, options);
  if (failed(whole) || *whole)
    return failure(failed(whole));
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  b.setInsertionPoint(op);
  LoweringContext outer(options, nullptr);
  outer.readsRowViews = true; // what a dispatch's rows read anyway
  OpLowering e(b, outer);
  auto rows = static_cast<int64_t>(op.getRows());

  // Full result buffers and full views of the batch operands, outside the
  // row loop.
  SmallVector<Value> resultBuffers;
  for (Value result : op.getResults())
    resultBuffers.push_back(e.allocFor(result));
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(op.getBody(), captured);
  llvm::DenseMap<Value, Value> fullBuffers;
  for (Value value : captured) {
    auto type = dyn_cast<RankedTensorType>(value.getType());
    if (!type || type.getRank() == 0 || type.getDimSize(0) != rows)
      return op.emitOpError("uses ")
             << value.getType()
             << " from outside, which is not a tensor of its batch rows";
    bool onlyElementwise = llvm::all_of(value.getUsers(), [&](Operation *u) {
      return !op->isAncestor(u) || !isa<tok::TokDialect>(u->getDialect());
    });
    if (!(splatValue(value) && onlyElementwise))
      fullBuffers[value] = e.toBuffer(value);
  }

  // The row's context, and the patterns that lower its ops with it.
  DispatchRow row;
  row.rows = rows;
  RewritePatternSet rowPatterns(op.getContext());
  populateTokToLoopsPatterns(rowPatterns, options, &row);

  bool lowered = true;
  scf::ParallelOp loop;
  e.parallelFor(rows, [&](Value rowIndex) {
    loop = cast<scf::ParallelOp>(rowIndex.getParentBlock()->getParentOp());
    IRMapping mapping;
    for (Value value : captured) {
      auto type = oneRow(cast<RankedTensorType>(value.getType()));
      if (Value full = fullBuffers.lookup(value)) {
        mapping.map(value, bufferization::ToTensorOp::create(
                               b, type, rowView(b, full, rowIndex),
                               /*restrict=*/true, /*writable=*/false));
      } else {
        mapping.map(value, arith::ConstantOp::create(
                               b, SplatElementsAttr::get(type, splatValue(value))));
      }
    }
    SmallVector<Value> destinations;
    for (Value full : resultBuffers)
      destinations.push_back(rowView(b, full, rowIndex));
    SmallVector<Operation *> clones;
    for (Operation &inner : op.getBody().front().without_terminator()) {
      if (inner.hasTrait<OpTrait::ConstantLike>()) {
        // A splat constant of the batch shape is the same splat on a row.
        TypedAttr splat = splatValue(inner.getResult(0));
        if (!splat) {
          inner.emitOpError("inside a tok.dispatch must be a splat constant");
          lowered = false;
          return;
        }
        auto type = oneRow(cast<RankedTensorType>(inner.getResult(0).getType()));
        mapping.map(inner.getResult(0),
                    arith::ConstantOp::create(b, SplatElementsAttr::get(type, splat)));
        continue;
      }
      Operation *clone = b.clone(inner, mapping);
      rewriter.modifyOpInPlace(clone, [&] {
        for (Value result : clone->getResults())
          result.setType(oneRow(cast<RankedTensorType>(result.getType())));
      });
      clones.push_back(clone);
    }
    // Each yielded value is written into its result row by its producer; a
    // value yielded twice (copied from the row it was first written to), or
    // taken from outside (a row view or a splat), is copied.
    SmallVector<std::pair<Value, Value>> copiesFromRows, copiesFromOutside;
    for (auto [value, destination] :
         llvm::zip(op.getYield().getValues(), destinations)) {
      Value rowValue = mapping.lookupOrDefault(value);
      bool produced = rowValue.getDefiningOp() &&
                      llvm::is_contained(clones, rowValue.getDefiningOp());
      if (!produced)
        copiesFromOutside.push_back({rowValue, destination});
      else if (Value first = row.destinations.lookup(rowValue))
        copiesFromRows.push_back({first, destination});
      else
        row.destinations[rowValue] = destination;
    }
    // A producer only its consumer reads, never yielded, is lowered with the
    // consumer, in one sweep, when the loop reaches the consumer (whose
    // other operands are lowered by then).
    llvm::DenseMap<Operation *, Operation *> streamedProducer;
    for (Operation *clone : clones) {
      Operation *consumer = clone->hasOneUse() ? *clone->user_begin() : nullptr;
      if (consumer && !row.destinations.count(clone->getResult(0)) &&
          isStreamedPair(clone, consumer))
        streamedProducer[consumer] = clone;
    }
    llvm::SmallPtrSet<Operation *, 4> deferred;
    for (auto &entry : streamedProducer)
      deferred.insert(entry.second);
    for (Operation *clone : clones) {
      if (deferred.contains(clone))
        continue;
      LogicalResult result = success();
      if (Operation *producer = streamedProducer.lookup(clone)) {
        LoweringContext context(options, &row);
        result = lowerStreamedPair(producer, clone, rewriter, context);
      } else if (isa<tok::TokDialect>(clone->getDialect())) {
        result = lowerRowOp(clone, rowPatterns, rewriter);
      } else {
        b.setInsertionPoint(clone);
        LoweringContext context(options, &row);
        result = lowerElementwise(clone, b, rewriter, context);
      }
      if (failed(result)) {
        lowered = false;
        return;
      }
    }
    b.setInsertionPoint(rowIndex.getParentBlock()->getTerminator());
    LoweringContext rowContext(options, &row);
    OpLowering rowLowering(b, rowContext);
    for (auto [source, destination] : copiesFromRows)
      memref::CopyOp::create(b, source, destination);
    for (auto [value, destination] : copiesFromOutside)
      memref::CopyOp::create(b, rowLowering.toBuffer(value), destination);
  });

  if (!lowered)
    return failure(); // reported above
  loop->setAttr(kDispatchRowsAttrName, b.getUnitAttr());
  // Dead row views, then scratch hoisted out of the loop: plain allocas stay
  // per-iteration scratch, the lowerings' own buffers become row buffers.
  for (Operation &inner :
       llvm::make_early_inc_range(llvm::reverse(*loop.getBody())))
    if (isa<bufferization::ToTensorOp, memref::SubViewOp, arith::ConstantOp>(
            inner) &&
        inner.use_empty())
      rewriter.eraseOp(&inner);
  for (Operation &inner : llvm::make_early_inc_range(*loop.getBody())) {
    if (auto alloca = dyn_cast<memref::AllocaOp>(inner)) {
      if (alloca.getType().hasStaticShape())
        rewriter.moveOpBefore(alloca, loop);
    } else if (auto alloc = dyn_cast<memref::AllocOp>(inner)) {
      if (!alloc.getType().hasStaticShape())
        continue;
      // Large buffers (a merge accumulator) stay on the heap, allocated once.
      rewriter.modifyOpInPlace(alloc, [&] {
        alloc->setAttr(kRowBufferAttrName, UnitAttr::get(op.getContext()));
      });
      if (shapedBytes(alloc.getType()) > kMaxStackRowBufferBytes) {
        rewriter.moveOpBefore(alloc, loop);
        continue;
      }
      rewriter.setInsertionPoint(loop);
      auto scratch =
          memref::AllocaOp::create(rewriter, alloc.getLoc(), alloc.getType());
      scratch->setAttrs(alloc->getAttrs());
      rewriter.replaceOp(alloc, scratch.getResult());
    }
  }

  SmallVector<Value> replacements;
  b.setInsertionPoint(op);
  for (auto [result, full] : llvm::zip(op.getResults(), resultBuffers))
    replacements.push_back(e.toTensor(full, result.getType()));
  rewriter.replaceOp(op, replacements);
  return success();
}

void populateDispatchToLoopsPatterns(RewritePatternSet &patterns,
                                     const LoweringOptions &options) {
  patterns.add<DispatchLowering>(patterns.getContext(), options);
}

} // namespace winnow
