//===- ForwardRowResults.cpp - The tok-forward-row-results pass -----------===//
//
// Removes the copy of a row's result buffer into the caller's out-parameter
// at the end of each iteration of a row loop (see the pass description).
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "winnow/Transforms/Passes.h"

namespace winnow {
#define GEN_PASS_DEF_TOKFORWARDROWRESULTS
#include "winnow/Transforms/Passes.h.inc"
} // namespace winnow

using namespace mlir;

namespace winnow {
namespace {

/// Ops that access a buffer only through its elements and metadata, which
/// read the same from any strided view of the same shape.
bool accessesElementsOnly(Operation *user) {
  return isa<memref::LoadOp, memref::StoreOp, vector::LoadOp, vector::StoreOp,
             vector::MaskedLoadOp, vector::MaskedStoreOp, memref::CopyOp,
             memref::DimOp, memref::ExtractStridedMetadataOp,
             memref::ExtractAlignedPointerAsIndexOp>(user);
}

/// accessesElementsOnly, or a collapse_shape whose users are: the view's
/// collapse is rebuilt (a row of a contiguous buffer collapses the same).
bool accessesThroughCollapse(Operation *user) {
  auto collapse = dyn_cast<memref::CollapseShapeOp>(user);
  return collapse && llvm::all_of(collapse->getUsers(), accessesElementsOnly);
}

/// Whether `value` is available at the start of `block`: defined above it,
/// or one of its arguments.
bool availableAtStart(Value value, Block *block) {
  if (auto arg = dyn_cast<BlockArgument>(value))
    return arg.getOwner() == block ||
           arg.getOwner()->getParentOp()->isProperAncestor(
               block->getParentOp());
  return value.getDefiningOp()->getBlock() != block &&
         !block->getParentOp()->isAncestor(value.getDefiningOp());
}

/// Forwards `copy` when it qualifies; returns whether it did.
bool forward(memref::CopyOp copy) {
  Value source = copy.getSource();
  auto alloc = source.getDefiningOp();
  if (!isa_and_nonnull<memref::AllocOp, memref::AllocaOp>(alloc))
    return false;
  auto view = copy.getTarget().getDefiningOp<memref::SubViewOp>();
  if (!view || !view->hasOneUse() || !isa<BlockArgument>(view.getSource()) ||
      !isa<func::FuncOp>(
          cast<BlockArgument>(view.getSource()).getOwner()->getParentOp()))
    return false;
  if (cast<MemRefType>(source.getType()).getShape() !=
      view.getType().getShape())
    return false;
  // Only the row loop of a dynamic batch: a top-level scf.for or
  // one-dimensional scf.parallel up to the leading extent of an argument,
  // whose every iteration writes its row's results before reading them (the
  // lowering contract). A loop of a lowering may carry state in a buffer
  // from one iteration to the next.
  Block *body = copy->getBlock();
  Operation *loop = body->getParentOp();
  Value upperBound;
  if (auto serial = dyn_cast_or_null<scf::ForOp>(loop))
    upperBound = serial.getUpperBound();
  else if (auto parallel = dyn_cast_or_null<scf::ParallelOp>(loop);
           parallel && parallel.getNumLoops() == 1 &&
           parallel.getNumResults() == 0)
    upperBound = parallel.getUpperBound()[0];
  if (!upperBound || !isa<func::FuncOp>(loop->getParentOp()))
    return false;
  auto bound = upperBound.getDefiningOp<memref::DimOp>();
  std::optional<int64_t> axis = bound ? bound.getConstantIndex() : std::nullopt;
  if (!bound || !axis || *axis != 0 || !isa<BlockArgument>(bound.getSource()))
    return false;
  for (Value operand : view->getOperands())
    if (!availableAtStart(operand, body))
      return false;
  for (Operation *user : source.getUsers()) {
    if (isa<memref::DeallocOp>(user))
      continue;
    if (!body->getParentOp()->isAncestor(user) ||
        !body->findAncestorOpInBlock(*user) ||
        !(accessesElementsOnly(user) || accessesThroughCollapse(user)))
      return false;
    // The source read after the copy would now see the view, which holds
    // the same values: still fine. A second copy into another view would
    // not be the row's only destination.
    if (auto other = dyn_cast<memref::CopyOp>(user);
        other && other != copy && other.getSource() == source)
      return false;
  }
  // The view first, so every access in the body can use it; collapses of
  // the buffer become collapses of the view (their type follows it).
  view->moveBefore(body, body->begin());
  for (Operation *user : llvm::make_early_inc_range(source.getUsers()))
    if (auto collapse = dyn_cast<memref::CollapseShapeOp>(user)) {
      OpBuilder builder(collapse);
      auto rebuilt = memref::CollapseShapeOp::create(
          builder, collapse.getLoc(), view.getResult(),
          collapse.getReassociationIndices());
      collapse.getResult().replaceAllUsesWith(rebuilt.getResult());
      collapse->erase();
    }
  // Deallocations stay with the buffer (and go with it below): the view is
  // the caller's memory.
  source.replaceUsesWithIf(view.getResult(), [&](OpOperand &use) {
    return use.getOwner() != copy.getOperation() &&
           !isa<memref::DeallocOp>(use.getOwner()) &&
           body->getParentOp()->isAncestor(use.getOwner());
  });
  copy->erase();
  if (llvm::all_of(alloc->getUsers(),
                   [](Operation *u) { return isa<memref::DeallocOp>(u); })) {
    for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
      user->erase();
    alloc->erase();
  }
  return true;
}

struct TokForwardRowResultsPass
    : impl::TokForwardRowResultsBase<TokForwardRowResultsPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) { copies.push_back(copy); });
    for (memref::CopyOp copy : copies)
      forward(copy);
  }
};

} // namespace
} // namespace winnow
