//===- FormDispatchRegions.cpp - The tok-form-dispatch-regions pass -------===//
//
// Greedy, convex grouping of producer-consumer chains of row-local ops into
// tok.dispatch regions, driven by a bytes-and-launches cost model (see the
// pass description and docs/fusion.md).
//
//===----------------------------------------------------------------------===//

#include "winnow/Dialect/Tok/IR/TokUtils.h"

#include "mlir/IR/Builders.h"
#include "winnow/Dialect/Tok/IR/TokOps.h"
#include "winnow/Dialect/Tok/Transforms/Passes.h"

#include "llvm/ADT/SetVector.h"

namespace winnow {
#define GEN_PASS_DEF_TOKFORMDISPATCHREGIONS
#include "winnow/Dialect/Tok/Transforms/Passes.h.inc"
} // namespace winnow

using namespace mlir;
using namespace winnow::tok;

namespace winnow {
namespace {

/// The batch extent of a fusible op (a row-local tok op, or an elementwise
/// op without broadcasting), or nullopt. Every tensor it takes and makes
/// must lead with that extent, so a row of every result depends only on the
/// same row of the operands. On the GPU, ops whose own kernels spread a row
/// wider than a dispatch row would stay out (RowLocalOpInterface::fusesOnGpu).
std::optional<int64_t> fusibleRows(Operation *op, bool cuda) {
  auto rowLocal = dyn_cast<tok::RowLocalOpInterface>(op);
  bool isTok =
      rowLocal && rowLocal.isRowLocal() && (!cuda || rowLocal.fusesOnGpu());
  bool isElementwise = !rowLocal && op->hasTrait<OpTrait::Elementwise>() &&
                       op->getNumRegions() == 0 && op->getNumResults() > 0;
  if (!isTok && !isElementwise)
    return std::nullopt;
  auto first = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!first || first.getRank() == 0 || !first.hasStaticShape())
    return std::nullopt;
  int64_t rows = first.getDimSize(0);
  if (rows < 1)
    return std::nullopt; // nothing to run
  for (Value value : llvm::concat<Value>(op->getOperands(), op->getResults())) {
    auto type = dyn_cast<RankedTensorType>(value.getType());
    if (!type || type.getRank() == 0 || type.getDimSize(0) != rows ||
        !type.hasStaticShape())
      return std::nullopt;
    // Elementwise ops map one row to one row only without broadcasting.
    if (isElementwise && type.getShape() != first.getShape())
      return std::nullopt;
  }
  return rows;
}

/// Bytes a consumer reads of the operand `use`.
int64_t readBytes(OpOperand &use) {
  if (auto rowLocal = dyn_cast<tok::RowLocalOpInterface>(use.getOwner()))
    return rowLocal.getReadBytes(use);
  return shapedBytes(use.get().getType());
}

/// Bytes an op moves through device memory when it runs alone: its results
/// and what it reads of its operands (splat constants are not read).
int64_t streamedBytes(Operation *op) {
  int64_t bytes = 0;
  for (Value result : op->getResults())
    bytes += shapedBytes(result.getType());
  for (OpOperand &operand : op->getOpOperands())
    if (!splatValue(operand.get()))
      bytes += readBytes(operand);
  return bytes;
}

struct CostModel {
  bool cuda = false;
  int64_t scratchBudget = 0;
  double hbmBytesPerUs = 0, launchUs = 0;
  int64_t smCount = 1;
  int64_t cpuThreads = 1;
};

/// The tasks `op` shares among the CPU's threads when it runs on its own:
/// its interface's count, or one per row for an elementwise op.
int64_t cpuTasks(Operation *op, int64_t rows) {
  if (auto rowLocal = dyn_cast<tok::RowLocalOpInterface>(op))
    return rowLocal.getCpuTasks();
  return rows;
}

/// A run of consecutive fusible ops and what fusing them would do.
class Group {
public:
  explicit Group(int64_t rows) : rows(rows) {}

  int64_t getRows() const { return rows; }
  ArrayRef<Operation *> getOps() const { return ops; }
  bool contains(Operation *op) const { return members.contains(op); }
  void add(Operation *op) {
    ops.push_back(op);
    members.insert(op);
  }

  /// Whether `value` (made in the group) stays inside: every user is a
  /// member. Users not yet seen count as outside, so growing is safe.
  bool staysInside(Value value) const {
    return llvm::all_of(value.getUsers(),
                        [&](Operation *user) { return contains(user); });
  }
  /// Whether `value` is handed from its producer to its only consumer
  /// inside the group without being stored at all (EMA into expand).
  bool isStreamed(Value value) const {
    if (!value.hasOneUse() || !contains(*value.user_begin()))
      return false;
    return isStreamedPair(value.getDefiningOp(), *value.user_begin());
  }
  /// Bytes per row of the values that stay inside (per-row scratch).
  int64_t scratchBytesPerRow() const {
    int64_t bytes = 0;
    for (Operation *op : ops)
      for (Value result : op->getResults())
        if (staysInside(result) && !isStreamed(result))
          bytes += shapedBytes(result.getType()) / rows;
    return bytes;
  }
  /// Device-memory bytes the group moves when fused: each op's streams,
  /// less the inside values' write and read.
  int64_t fusedBytes() const {
    int64_t bytes = 0;
    for (Operation *op : ops)
      bytes += streamedBytes(op);
    return bytes - savedBytes();
  }
  /// The device-memory traffic of the values that stay inside: their write
  /// and what their consumers would read back (a compact reads only the
  /// rows it keeps; an unused result is only written).
  int64_t savedBytes() const {
    int64_t bytes = 0;
    for (Operation *op : ops)
      for (Value result : op->getResults()) {
        if (!staysInside(result))
          continue;
        bytes += shapedBytes(result.getType());
        for (OpOperand &use : result.getUses())
          bytes += readBytes(use);
      }
    return bytes;
  }

  /// Whether the group is exactly a streamed pair (EMA into expand): a GPU
  /// lowers such a dispatch over the whole batch with kernels of its own,
  /// not one block per row (lowerWholeStreamedPair in DispatchLowering).
  bool isStreamedPairOnly() const {
    return ops.size() == 2 && ops[0]->getNumResults() == 1 &&
           isStreamed(ops[0]->getResult(0));
  }

  /// Modelled time of the group as one kernel, in microseconds.
  double fusedUs(const CostModel &model) const {
    double share = isStreamedPairOnly()
                       ? 1.0
                       : std::min(1.0, double(rows) / double(model.smCount));
    return model.launchUs + fusedBytes() / (model.hbmBytesPerUs * share);
  }
  /// Modelled time of the ops as separate grid-wide kernels.
  double separateUs(const CostModel &model) const {
    double us = 0;
    for (Operation *op : ops)
      us += model.launchUs + streamedBytes(op) / model.hbmBytesPerUs;
    return us;
  }

  /// CPU: modelled time of the group as one dispatch, in bytes per thread
  /// (each thread streams at the same rate): a dispatch of several rows
  /// runs one task per row, so at most `rows` threads share its bytes.
  double cpuFusedCost(const CostModel &model) const {
    return double(fusedBytes()) / double(std::min(rows, model.cpuThreads));
  }
  /// CPU: the same for the ops on their own, each over its own tasks.
  double cpuSeparateCost(const CostModel &model) const {
    double cost = 0;
    for (Operation *op : ops)
      cost +=
          double(streamedBytes(op)) /
          double(std::clamp<int64_t>(cpuTasks(op, rows), 1, model.cpuThreads));
    return cost;
  }

private:
  int64_t rows;
  SmallVector<Operation *> ops;
  llvm::SmallPtrSet<Operation *, 8> members;
};

bool consumesFrom(const Group &group, Operation *op) {
  return llvm::any_of(op->getOperands(), [&](Value operand) {
    Operation *def = operand.getDefiningOp();
    return def && group.contains(def);
  });
}

/// Whether growing `group` by `op` pays off.
bool accepts(const CostModel &model, const Group &group, Operation *op) {
  Group grown = group;
  grown.add(op);
  if (grown.scratchBytesPerRow() > model.scratchBudget)
    return false;
  // Compare against keeping `op` as its own kernel(s) or loops.
  Group alone(group.getRows());
  alone.add(op);
  if (!model.cuda) {
    // One pass over each row's data, in cache, pays as long as it keeps the
    // threads busy: with a row per thread or more, or a lone row (which has
    // no row loop: the lowerings split its ops' own loops as they would
    // alone). Between the two, a dispatch runs `rows` tasks where an op
    // alone may spread wider (kv_select's heads).
    int64_t rows = group.getRows();
    if (rows == 1 || rows >= model.cpuThreads)
      return true;
    double current = group.getOps().size() > 1 ? group.cpuFusedCost(model)
                                               : group.cpuSeparateCost(model);
    return grown.cpuFusedCost(model) <= current + alone.cpuSeparateCost(model);
  }
  double current = group.getOps().size() > 1 ? group.fusedUs(model)
                                              : group.separateUs(model);
  return grown.fusedUs(model) < current + alone.separateUs(model);
}

/// Moves the group's ops into a new tok.dispatch placed where the last one
/// was: ops the run skipped (constants) may define operands of later
/// members, and none of them uses a member's result.
void formDispatch(const Group &group) {
  ArrayRef<Operation *> ops = group.getOps();
  SmallVector<Value> yielded;
  for (Operation *op : ops)
    for (Value result : op->getResults())
      if (!group.staysInside(result))
        yielded.push_back(result);

  OpBuilder b(ops.back());
  SmallVector<Type> types;
  for (Value value : yielded)
    types.push_back(value.getType());
  auto dispatch = tok::DispatchOp::create(
      b, ops.front()->getLoc(), types, group.getRows(),
      group.scratchBytesPerRow(), group.savedBytes(), ops.size() - 1);
  Block *body = b.createBlock(&dispatch.getBody());
  for (Operation *op : ops)
    op->moveBefore(body, body->end());
  b.setInsertionPointToEnd(body);
  tok::YieldOp::create(b, ops.back()->getLoc(), yielded);
  for (auto [value, result] : llvm::zip(yielded, dispatch.getResults()))
    value.replaceUsesWithIf(result, [&](OpOperand &use) {
      return !dispatch->isAncestor(use.getOwner());
    });
}

struct TokFormDispatchRegionsPass
    : impl::TokFormDispatchRegionsBase<TokFormDispatchRegionsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (target != "cpu" && target != "cuda") {
      getOperation().emitError("tok-form-dispatch-regions: target must be "
                               "cpu or cuda, got '")
          << target << "'";
      return signalPassFailure();
    }
    if (scratchBudget < 0 || hbmGbps <= 0 || smCount < 1 || launchUs < 0 ||
        cpuThreads < 1) {
      getOperation().emitError(
          "tok-form-dispatch-regions: scratch-budget and launch-us must be "
          "non-negative, hbm-gbps, sm-count and cpu-threads positive");
      return signalPassFailure();
    }
    CostModel model;
    model.cuda = target == "cuda";
    model.scratchBudget = scratchBudget;
    model.hbmBytesPerUs = hbmGbps * 1e3; // GB/s = 1e3 bytes per µs
    model.launchUs = launchUs;
    model.smCount = smCount;
    model.cpuThreads = cpuThreads;

    SmallVector<Block *> blocks;
    getOperation()->walk([&](Block *block) {
      if (!block->getParentOp()->getParentOfType<tok::DispatchOp>() &&
          !isa<tok::DispatchOp>(block->getParentOp()))
        blocks.push_back(block); // existing regions are left as they are
    });
    for (Block *block : blocks) {
      SmallVector<Group> groups;
      std::optional<Group> current;
      // Elementwise chains alone are linalg's to fuse.
      auto close = [&] {
        if (current && current->getOps().size() > 1 &&
            llvm::any_of(current->getOps(), [](Operation *op) {
              return isa<tok::TokDialect>(op->getDialect());
            }))
          groups.push_back(*current);
        current.reset();
      };
      for (Operation &op : *block) {
        std::optional<int64_t> rows = fusibleRows(&op, model.cuda);
        if (!rows) {
          // Ops that touch no group value (constants) do not break a run.
          if (current && op.getNumRegions() == 0 && isMemoryEffectFree(&op) &&
              !consumesFrom(*current, &op))
            continue;
          close();
          continue;
        }
        if (current && current->getRows() == *rows &&
            consumesFrom(*current, &op) && accepts(model, *current, &op)) {
          current->add(&op);
          continue;
        }
        close();
        current.emplace(*rows);
        current->add(&op);
      }
      close();
      for (const Group &group : groups)
        formDispatch(group);
    }
  }
};

} // namespace
} // namespace winnow
