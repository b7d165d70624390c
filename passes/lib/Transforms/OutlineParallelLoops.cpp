//===- OutlineParallelLoops.cpp - The tok-outline-parallel-loops pass -----===//
//
// Moves the body of each outermost scf.parallel into a function over a range
// of iterations, which the runtime's threads call (see the pass
// description). The launch itself is defined later, in the LLVM dialect, by
// tok-lower-parallel-launches, where the captured values are plain LLVM
// values that fit in one context struct.
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"
#include "winnow/Conversion/Attributes.h"
#include "winnow/Transforms/Passes.h"

#include "llvm/ADT/SetVector.h"

namespace winnow {
#define GEN_PASS_DEF_TOKOUTLINEPARALLELLOOPS
#include "winnow/Transforms/Passes.h.inc"
} // namespace winnow

using namespace mlir;

namespace winnow {
namespace {

/// Trip count assumed for an inner loop whose bounds are not constants.
constexpr int64_t kUnknownTripCount = 16;

int64_t saturatingMul(int64_t a, int64_t b) {
  int64_t product;
  if (__builtin_mul_overflow(a, b, &product))
    return INT64_MAX;
  return product;
}

int64_t saturatingAdd(int64_t a, int64_t b) {
  int64_t sum;
  if (__builtin_add_overflow(a, b, &sum))
    return INT64_MAX;
  return sum;
}

/// The trip count of one loop dimension when its bounds are constants.
std::optional<int64_t> constantTripCount(Value lower, Value upper, Value step) {
  APInt lb, ub, st;
  if (!matchPattern(lower, m_ConstantInt(&lb)) ||
      !matchPattern(upper, m_ConstantInt(&ub)) ||
      !matchPattern(step, m_ConstantInt(&st)) || st.getSExtValue() <= 0)
    return std::nullopt;
  int64_t span = ub.getSExtValue() - lb.getSExtValue();
  if (span <= 0)
    return 0;
  return (span + st.getSExtValue() - 1) / st.getSExtValue();
}

/// Operations the region executes, with inner loops counted by their trip
/// counts (kUnknownTripCount when not constant) and the larger branch of an
/// scf.if: a rough measure of one iteration's work.
int64_t estimateWork(Region &region) {
  int64_t work = 0;
  for (Block &block : region)
    for (Operation &op : block) {
      if (op.hasTrait<OpTrait::ConstantLike>() ||
          op.hasTrait<OpTrait::IsTerminator>())
        continue;
      int64_t inner = 0;
      if (auto loop = dyn_cast<scf::ForOp>(op)) {
        int64_t trips = constantTripCount(loop.getLowerBound(),
                                          loop.getUpperBound(), loop.getStep())
                            .value_or(kUnknownTripCount);
        inner = saturatingMul(trips, estimateWork(loop.getRegion()));
      } else if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
        int64_t trips = 1;
        for (auto [lb, ub, st] : llvm::zip(
                 loop.getLowerBound(), loop.getUpperBound(), loop.getStep()))
          trips = saturatingMul(
              trips, constantTripCount(lb, ub, st).value_or(kUnknownTripCount));
        inner = saturatingMul(trips, estimateWork(loop.getRegion()));
      } else if (isa<scf::IfOp>(op)) {
        for (Region &branch : op.getRegions())
          inner = std::max(inner, estimateWork(branch));
      } else if (isa<scf::WhileOp>(op)) {
        for (Region &part : op.getRegions())
          inner = saturatingAdd(
              inner, saturatingMul(kUnknownTripCount, estimateWork(part)));
      } else {
        for (Region &nested : op.getRegions())
          inner = saturatingAdd(inner, estimateWork(nested));
      }
      work = saturatingAdd(work, saturatingAdd(1, inner));
    }
  return work;
}

/// The memref.alloc / memref.alloca a buffer is a view of, or null.
Operation *rootAllocation(Value buffer) {
  while (Operation *def = buffer.getDefiningOp()) {
    if (isa<memref::AllocOp, memref::AllocaOp>(def))
      return def;
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view || view->getNumResults() != 1)
      return nullptr;
    buffer = view.getViewSource();
  }
  return nullptr;
}

/// Whether every use of `buffer` outside `loop` is a deallocation or a view
/// that is itself used only so; collects those views (in def-use order) and
/// deallocations.
bool usedOnlyInside(Value buffer, scf::ParallelOp loop,
                    SmallVectorImpl<Operation *> &views,
                    SmallVectorImpl<Operation *> &deallocs) {
  for (OpOperand &use : buffer.getUses()) {
    Operation *user = use.getOwner();
    if (loop->isAncestor(user))
      continue;
    if (isa<memref::DeallocOp>(user)) {
      deallocs.push_back(user);
      continue;
    }
    auto view = dyn_cast<ViewLikeOpInterface>(user);
    if (view && view->getNumResults() == 1 && view.getViewSource() == buffer) {
      views.push_back(user);
      if (!usedOnlyInside(user->getResult(0), loop, views, deallocs))
        return false;
      continue;
    }
    return false;
  }
  return true;
}

/// Whether `op` may write memory that `buffer` (a memref operand) points to.
bool mayWrite(Operation *op, Value buffer) {
  if (isa<ViewLikeOpInterface>(op) || isPure(op))
    return false;
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    return true; // A call or an unknown op: assume it writes its operands.
  SmallVector<MemoryEffects::EffectInstance> instances;
  effects.getEffects(instances);
  return llvm::any_of(instances, [&](const auto &instance) {
    if (!isa<MemoryEffects::Write, MemoryEffects::Free>(instance.getEffect()))
      return false;
    Value target = instance.getValue();
    return !target || target == buffer;
  });
}

/// Whether the code after `loop` (in the loop's block) reads `buffer` or a
/// view of it and never writes it: what the loop produced for later code.
/// Scratch that a later loop writes again is not that.
bool onlyReadAfter(Value buffer, scf::ParallelOp loop, bool &read) {
  for (Operation *user : buffer.getUsers()) {
    if (loop->isAncestor(user) || isa<memref::DeallocOp>(user))
      continue;
    Operation *inBlock = loop->getBlock()->findAncestorOpInBlock(*user);
    if (!inBlock || !loop->isBeforeInBlock(inBlock))
      continue;
    auto view = dyn_cast<ViewLikeOpInterface>(user);
    if (view && view->getNumResults() == 1 && view.getViewSource() == buffer) {
      if (!onlyReadAfter(user->getResult(0), loop, read))
        return false;
      continue;
    }
    bool writes = false;
    user->walk([&](Operation *op) {
      for (Value operand : op->getOperands())
        if (operand == buffer && mayWrite(op, operand))
          writes = true;
    });
    if (writes)
      return false;
    read = true;
  }
  return true;
}

/// What an outlined loop needs from its function.
struct LoopCaptures {
  /// Passed to the task function as arguments, in this order.
  llvm::SetVector<Value> arguments;
  /// Cloned into the task function: constants, and each task's own
  /// scratch (allocations and views of them, in def-use order).
  llvm::SetVector<Operation *> cloned;
  /// The allocations of that scratch; the task function frees the
  /// memref.alloc ones before it returns.
  SmallVector<Operation *> scratch;
  /// Left in the function but dead once the loop is gone.
  SmallVector<Operation *> deadViews, deadDeallocs;
};

/// Collects the captures of `loop`; fails when a buffer of the function is
/// shared between iterations and written inside the loop.
LogicalResult collectCaptures(scf::ParallelOp loop, LoopCaptures &captures) {
  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(loop->getRegions(), used);
  for (Value bound : loop.getOperands())
    used.insert(bound);

  SmallVector<Value> worklist(used.begin(), used.end());
  llvm::SmallPtrSet<Operation *, 8> privatized, shared;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    if (captures.arguments.contains(value))
      continue;
    Operation *def = value.getDefiningOp();
    if (def && def->hasTrait<OpTrait::ConstantLike>()) {
      captures.cloned.insert(def);
      continue;
    }
    Operation *root =
        isa<MemRefType>(value.getType()) ? rootAllocation(value) : nullptr;
    if (!root || shared.contains(root)) {
      captures.arguments.insert(value);
      continue;
    }
    if (root->hasAttr(kSharedScratchAttrName)) {
      // The lowering states that iterations write only their own parts.
      captures.arguments.insert(value);
      continue;
    }
    if (!privatized.contains(root)) {
      SmallVector<Operation *> views, deallocs;
      if (!usedOnlyInside(root->getResult(0), loop, views, deallocs)) {
        shared.insert(root);
        captures.arguments.insert(value);
        continue;
      }
      privatized.insert(root);
      captures.cloned.insert(root);
      captures.scratch.push_back(root);
      for (Value size : root->getOperands())
        worklist.push_back(size);
      for (Operation *view : views) {
        captures.cloned.insert(view);
        captures.deadViews.push_back(view);
        for (Value operand : view->getOperands())
          worklist.push_back(operand);
      }
      captures.deadDeallocs.append(deallocs);
    }
  }
  // A shared buffer the iterations write must be one they produce for the
  // code after the loop (each iteration its own part, as scf.parallel
  // states): read afterwards and never written again. One that nothing
  // reads afterwards, or that later code writes again (scratch one op's
  // loops take turns with), the iterations would share.
  if (shared.empty())
    return success();
  WalkResult result = loop.getRegion().walk([&](Operation *op) {
    for (Value operand : op->getOperands()) {
      if (!isa<MemRefType>(operand.getType()))
        continue;
      Operation *root = rootAllocation(operand);
      bool read = false;
      if (root && shared.contains(root) && mayWrite(op, operand) &&
          !(onlyReadAfter(root->getResult(0), loop, read) && read))
        return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

/// Sorts ops of `function` into the order a pre-order walk visits them, in
/// which a definition comes before every use it dominates.
SmallVector<Operation *> inProgramOrder(func::FuncOp function,
                                        ArrayRef<Operation *> ops) {
  llvm::DenseMap<Operation *, unsigned> position;
  function.walk<WalkOrder::PreOrder>(
      [&](Operation *op) { position[op] = position.size(); });
  SmallVector<Operation *> sorted(ops.begin(), ops.end());
  llvm::sort(sorted, [&](Operation *a, Operation *b) {
    return position.lookup(a) < position.lookup(b);
  });
  return sorted;
}

struct TokOutlineParallelLoopsPass
    : impl::TokOutlineParallelLoopsBase<TokOutlineParallelLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> functions(module.getOps<func::FuncOp>());
    for (func::FuncOp function : functions) {
      if (function.isExternal())
        continue;
      SmallVector<scf::ParallelOp> loops;
      function.walk<WalkOrder::PreOrder>([&](scf::ParallelOp loop) {
        loops.push_back(loop);
        return WalkResult::skip();
      });
      unsigned index = 0;
      for (scf::ParallelOp loop : loops)
        if (std::optional<int64_t> work = iterationWork(loop))
          outline(loop, *work, function, symbols, index);
    }
  }

  /// The estimated work of one iteration when `loop` is worth outlining.
  std::optional<int64_t> iterationWork(scf::ParallelOp loop) {
    if (loop.getNumResults() != 0)
      return std::nullopt;
    int64_t iterations = 1;
    for (auto [lb, ub, st] : llvm::zip(loop.getLowerBound(),
                                       loop.getUpperBound(), loop.getStep())) {
      std::optional<int64_t> trips = constantTripCount(lb, ub, st);
      if (!trips) {
        iterations = -1;
        break;
      }
      iterations = saturatingMul(iterations, *trips);
    }
    if (iterations == 0 || iterations == 1)
      return std::nullopt;
    int64_t work = std::max<int64_t>(1, estimateWork(loop.getRegion()));
    if (iterations > 1 && saturatingMul(iterations, work) < minWork)
      return std::nullopt;
    return work;
  }

  void outline(scf::ParallelOp loop, int64_t work, func::FuncOp function,
               SymbolTable &symbols, unsigned &index) {
    LoopCaptures captures;
    if (failed(collectCaptures(loop, captures)))
      return;
    MLIRContext *ctx = &getContext();
    Location loc = loop.getLoc();
    Type indexType = IndexType::get(ctx);
    SmallVector<Type> types = {indexType, indexType};
    for (Value value : captures.arguments)
      types.push_back(value.getType());

    // The task function: its own scratch, then iterations [begin, end).
    OpBuilder builder(function);
    builder.setInsertionPointAfter(function);
    std::string name = (function.getName() + "_par" + Twine(index++)).str();
    auto task = func::FuncOp::create(builder, loc, name,
                                     FunctionType::get(ctx, types, {}));
    task.setPrivate();
    symbols.insert(task);
    Block *entry = task.addEntryBlock();
    IRMapping mapping;
    for (auto [value, argument] :
         llvm::zip(captures.arguments, entry->getArguments().drop_front(2)))
      mapping.map(value, argument);
    builder.setInsertionPointToStart(entry);
    for (Operation *op :
         inProgramOrder(function, captures.cloned.getArrayRef()))
      builder.clone(*op, mapping);

    // Iterations are numbered row-major over the loop's dimensions; the
    // trip counts of all but the first recover the position in each.
    SmallVector<Value> tripCounts(loop.getNumLoops());
    for (unsigned dim = 1; dim < loop.getNumLoops(); ++dim)
      tripCounts[dim] =
          tripCount(builder, loc, mapping.lookup(loop.getLowerBound()[dim]),
                    mapping.lookup(loop.getUpperBound()[dim]),
                    mapping.lookup(loop.getStep()[dim]));
    Value one = arith::ConstantIndexOp::create(builder, loc, 1);
    auto range = scf::ForOp::create(builder, loc, entry->getArgument(0),
                                    entry->getArgument(1), one);
    builder.setInsertionPointToStart(range.getBody());
    Value linear = range.getInductionVar();
    for (int64_t dim = loop.getNumLoops() - 1; dim >= 0; --dim) {
      Value position = linear;
      if (dim > 0) {
        position =
            arith::RemUIOp::create(builder, loc, linear, tripCounts[dim]);
        linear = arith::DivUIOp::create(builder, loc, linear, tripCounts[dim]);
      }
      Value offset = arith::MulIOp::create(builder, loc, position,
                                           mapping.lookup(loop.getStep()[dim]));
      mapping.map(
          loop.getInductionVars()[dim],
          arith::AddIOp::create(
              builder, loc, mapping.lookup(loop.getLowerBound()[dim]), offset));
    }
    for (Operation &op : loop.getBody()->without_terminator())
      builder.clone(op, mapping);
    builder.setInsertionPointAfter(range);
    for (Operation *alloc : captures.scratch)
      if (isa<memref::AllocOp>(alloc))
        memref::DeallocOp::create(builder, loc,
                                  mapping.lookup(alloc->getResult(0)));
    func::ReturnOp::create(builder, loc);

    // The launch, declared here and defined in the LLVM dialect.
    builder.setInsertionPointAfter(task);
    auto launch = func::FuncOp::create(builder, loc, name + "_launch",
                                       FunctionType::get(ctx, types, {}));
    launch.setPrivate();
    symbols.insert(launch);
    launch->setAttr(kParallelBodyAttr, FlatSymbolRefAttr::get(task));

    builder.setInsertionPoint(loop);
    Value iterations = arith::ConstantIndexOp::create(builder, loc, 1);
    for (auto [lb, ub, st] :
         llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep()))
      iterations = arith::MulIOp::create(builder, loc, iterations,
                                         tripCount(builder, loc, lb, ub, st));
    Value grain = arith::ConstantIndexOp::create(
        builder, loc, std::max<int64_t>(1, (minWork + work - 1) / work));
    SmallVector<Value> operands = {iterations, grain};
    llvm::append_range(operands, captures.arguments);
    func::CallOp::create(builder, loc, launch, operands);
    loop.erase();

    for (Operation *dealloc : captures.deadDeallocs)
      dealloc->erase();
    for (Operation *view : llvm::reverse(captures.deadViews))
      if (view->use_empty())
        view->erase();
    for (Operation *alloc : captures.scratch)
      if (alloc->use_empty())
        alloc->erase();
  }

  /// max(0, ceil((upper - lower) / step)) for a positive step.
  static Value tripCount(OpBuilder &builder, Location loc, Value lower,
                         Value upper, Value step) {
    Value span = arith::SubIOp::create(builder, loc, upper, lower);
    Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
    span = arith::MaxSIOp::create(builder, loc, span, zero);
    return arith::CeilDivUIOp::create(builder, loc, span, step);
  }
};

} // namespace
} // namespace winnow
