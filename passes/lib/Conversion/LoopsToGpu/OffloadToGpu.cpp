//===- OffloadToGpu.cpp - The tok-offload-to-gpu pass ---------------------===//
//
// Turns a bufferized entry function whose buffers live in device memory into
// host code that allocates and launches: every top-level `scf.parallel`
// becomes a `gpu.launch` with one thread per iteration, every other run of
// memory-touching code becomes a single-thread launch, `memref.alloc` becomes
// `gpu.alloc`. The rules the loop lowerings follow (LoopEmitter::parallelFor)
// make this sound: parallel iterations are independent, and top-level
// allocas are per-iteration scratch, so each launch gets private copies.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "winnow/Conversion/Passes.h"
#include "winnow/Dialect/Collective/IR/CollectiveOps.h"

#include "llvm/ADT/SetVector.h"

namespace winnow {
#define GEN_PASS_DEF_TOKOFFLOADTOGPU
#include "winnow/Conversion/Passes.h.inc"
} // namespace winnow

using namespace mlir;

namespace winnow {
namespace {

/// The static shared memory of one block on sm_80/sm_90 (48 KiB; more needs
/// dynamic shared memory and an opt-in per kernel).
constexpr int64_t kMaxSharedArenaBytes = 48 * 1024;

/// Ops that stay on the host: descriptor arithmetic and constants.
bool staysOnHost(Operation *op) {
  return op->getNumRegions() == 0 && isMemoryEffectFree(op);
}

class FunctionOffloader {
public:
  FunctionOffloader(func::FuncOp func, int64_t blockSize)
      : func(func), blockSize(blockSize) {}

  LogicalResult run() {
    if (!func.getBody().hasOneBlock())
      return func.emitOpError("cannot be offloaded to the GPU: its body has "
                              "more than one block");
    Block &body = func.getBody().front();
    expandCopies(body);
    rowBuffersToHeap(body);
    if (failed(moveConstantsToDevice(body)))
      return failure();

    // Classify the top-level ops. Device ops touch memory (or compute from
    // what device ops produced) and must run inside a launch.
    SmallVector<Operation *> ops;
    llvm::DenseMap<Operation *, unsigned> position;
    llvm::DenseSet<Operation *> device;
    for (Operation &op : body.without_terminator()) {
      position[&op] = ops.size();
      ops.push_back(&op);
      if (auto alloca = dyn_cast<memref::AllocaOp>(op)) {
        scratch.push_back(alloca);
        continue;
      }
      bool usesDevice = llvm::any_of(op.getOperands(), [&](Value v) {
        return v.getDefiningOp() && device.contains(v.getDefiningOp());
      });
      if (isa<memref::AllocOp, memref::DeallocOp, gpu::AllocOp,
              gpu::DeallocOp, gpu::MemcpyOp>(op)) {
        if (usesDevice)
          return op.emitOpError("uses a value computed by device code");
        continue;
      }
      if (!staysOnHost(&op) || usesDevice)
        device.insert(&op);
    }
    // A launch boundary may fall before op i only when no value a device op
    // defined before i is used at or after i (values cannot leave a kernel).
    SmallVector<unsigned> lastUse(ops.size(), 0);
    for (Operation *op : ops) {
      if (!device.contains(op))
        continue;
      unsigned last = position[op];
      for (Operation *user : op->getUsers()) {
        Operation *top = body.findAncestorOpInBlock(*user);
        if (top && position.count(top))
          last = std::max(last, position[top]);
        else if (top && top->hasTrait<OpTrait::IsTerminator>())
          return op->emitOpError("produces a value the function returns; "
                                 "device results must be written to buffers");
      }
      lastUse[position[op]] = last;
    }

    // Segments of ops between allowed boundaries; each segment's device ops
    // become one launch (a lone scf.parallel gets the parallel mapping).
    SmallVector<Operation *> segment;
    auto flush = [&]() -> LogicalResult {
      SmallVector<Operation *> work;
      SmallVector<Operation *> deallocs;
      for (Operation *op : segment) {
        if (device.contains(op))
          work.push_back(op);
        else if (isa<memref::DeallocOp, gpu::DeallocOp>(op))
          deallocs.push_back(op);
      }
      segment.clear();
      if (work.empty())
        return success();
      // Buffers freed inside the segment are freed after its launch.
      for (Operation *dealloc : deallocs)
        dealloc->moveAfter(work.back());
      // A launch a GPU form built itself (LoopEmitter::blockLaunch) stays
      // as it is, with private copies of the scratch it uses.
      if (work.size() == 1)
        if (auto launch = dyn_cast<gpu::LaunchOp>(work.front())) {
          // Its results may have been dead (a row table no request reads):
          // what is left synchronises threads and writes nothing.
          if (onlySynchronizes(launch)) {
            launch->erase();
            return success();
          }
          OpBuilder inner = OpBuilder::atBlockBegin(&launch.getBody().front());
          IRMapping mapping;
          privatizeScratch({launch.getOperation()}, inner, mapping);
          for (auto [original, copy] : mapping.getValueMap())
            original.replaceUsesWithIf(copy, [&](OpOperand &use) {
              return launch->isProperAncestor(use.getOwner());
            });
          workgroupAllocasToAttributions(launch);
          return success();
        }
      for (Operation *op : work)
        if (isa<gpu::LaunchOp>(op))
          return op->emitOpError(
              "cannot be offloaded: it shares device values with the code "
              "around it, which would have to run inside it");
      // A lone parallel loop gets the parallel mapping; one with reductions
      // (none of the lowerings make them) runs in a single thread.
      if (work.size() == 1)
        if (auto loop = dyn_cast<scf::ParallelOp>(work.front()))
          if (loop.getNumReductions() == 0) {
            if (loop->hasAttr(kDispatchRowsAttrName)) {
              FailureOr<bool> mapped = emitRowBlockLaunch(loop);
              if (failed(mapped) || *mapped)
                return failure(failed(mapped));
            }
            return emitParallelLaunch(loop);
          }
      return emitSerialLaunch(work);
    };
    unsigned reach = 0; // furthest use of a device value defined so far
    for (auto [i, op] : llvm::enumerate(ops)) {
      bool boundary = reach < i;
      // A parallel loop (or a launch already built) is worth its own
      // launch: cut around it if allowed.
      auto ownsLaunch = [](Operation *o) {
        return isa<scf::ParallelOp, gpu::LaunchOp>(o);
      };
      if (boundary && (ownsLaunch(op) || llvm::any_of(segment, ownsLaunch))) {
        if (failed(flush()))
          return failure();
      }
      segment.push_back(op);
      if (device.contains(op))
        reach = std::max<unsigned>(reach, lastUse[i]);
    }
    if (failed(flush()))
      return failure();

    for (Operation *buffer : replacedHeapBuffers) {
      for (Operation *user : llvm::make_early_inc_range(buffer->getUsers()))
        if (isa<memref::DeallocOp>(user))
          user->erase();
      if (buffer->use_empty())
        buffer->erase();
    }
    for (Operation &op : llvm::make_early_inc_range(body)) {
      if (auto alloc = dyn_cast<memref::AllocOp>(op))
        toDeviceAlloc(alloc);
      else if (auto dealloc = dyn_cast<memref::DeallocOp>(op))
        toDeviceDealloc(dealloc);
    }
    for (memref::AllocaOp alloca : scratch) {
      if (!alloca->use_empty())
        return alloca.emitOpError(
            "is used by host code after offloading; scratch buffers must be "
            "used inside loops only");
      alloca.erase();
    }
    return success();
  }

private:
  /// A row buffer at the top level belongs to a tok.dispatch of one row
  /// whose row loop canonicalisation folded away: it is shared by every
  /// launch (and thread) of the row, not per-iteration scratch, so it
  /// becomes a heap buffer (a device allocation below) freed at the end of
  /// the function.
  void rowBuffersToHeap(Block &body) {
    for (Operation &op : llvm::make_early_inc_range(body)) {
      auto alloca = dyn_cast<memref::AllocaOp>(op);
      if (!alloca || !alloca->hasAttr(kRowBufferAttrName))
        continue;
      // One nothing reads (an unused result, e.g. compact's old-to-new map)
      // is dropped with its stores, so launches that only fill it fold away.
      if (llvm::all_of(alloca->getUsers(),
                       [](Operation *user) { return isa<memref::StoreOp>(user); })) {
        for (Operation *user : llvm::make_early_inc_range(alloca->getUsers()))
          user->erase();
        alloca.erase();
        continue;
      }
      OpBuilder b(alloca);
      auto alloc = memref::AllocOp::create(b, alloca.getLoc(), alloca.getType(),
                                           alloca.getDynamicSizes(),
                                           alloca.getSymbolOperands(),
                                           b.getI64IntegerAttr(64));
      alloc->setAttr(kRowBufferAttrName, b.getUnitAttr());
      alloca.replaceAllUsesWith(alloc.getResult());
      alloca.erase();
      b.setInsertionPoint(body.getTerminator());
      memref::DeallocOp::create(b, alloc.getLoc(), alloc.getResult());
    }
  }

  /// memref.copy at the top level becomes a parallel loop of element copies
  /// (a contiguous copy would need a host-side memcpy of device memory).
  void expandCopies(Block &body) {
    for (Operation &op : llvm::make_early_inc_range(body)) {
      auto copy = dyn_cast<memref::CopyOp>(op);
      if (!copy)
        continue;
      auto type = cast<MemRefType>(copy.getSource().getType());
      if (type.getRank() == 0)
        continue; // a one-element copy is fine in a serial launch
      ImplicitLocOpBuilder b(copy.getLoc(), copy);
      SmallVector<Value> lbs, ubs, steps;
      for (int64_t d = 0; d < type.getRank(); ++d) {
        lbs.push_back(arith::ConstantIndexOp::create(b, 0));
        ubs.push_back(b.createOrFold<memref::DimOp>(copy.getSource(), d));
        steps.push_back(arith::ConstantIndexOp::create(b, 1));
      }
      auto loop = scf::ParallelOp::create(b, lbs, ubs, steps);
      b.setInsertionPoint(loop.getBody()->getTerminator());
      Value v = memref::LoadOp::create(b, copy.getSource(),
                                       loop.getInductionVars());
      memref::StoreOp::create(b, v, copy.getTarget(), loop.getInductionVars());
      copy.erase();
    }
  }

  /// Constant tensors bufferize to host globals; copy each into device
  /// memory once per call.
  LogicalResult moveConstantsToDevice(Block &body) {
    WalkResult nested = func.walk([&](memref::GetGlobalOp get) {
      if (get->getBlock() != &body) {
        get.emitOpError("inside a loop cannot be offloaded to the GPU");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (nested.wasInterrupted())
      return failure();
    for (auto get : llvm::make_early_inc_range(body.getOps<memref::GetGlobalOp>())) {
      ImplicitLocOpBuilder b(get.getLoc(), get);
      b.setInsertionPointAfter(get);
      auto type = cast<MemRefType>(get.getType());
      auto alloc = gpu::AllocOp::create(b, type, /*asyncToken=*/Type(),
                                        ValueRange{}, ValueRange{}, ValueRange{});
      get.getResult().replaceAllUsesWith(alloc.getMemref());
      gpu::MemcpyOp::create(b, TypeRange{}, ValueRange{}, alloc.getMemref(),
                            get.getResult());
      // Freed before the function returns.
      b.setInsertionPoint(body.getTerminator());
      gpu::DeallocOp::create(b, TypeRange{}, ValueRange{}, alloc.getMemref());
    }
    return success();
  }

  void toDeviceAlloc(memref::AllocOp alloc) {
    OpBuilder b(alloc);
    auto device = gpu::AllocOp::create(
        b, alloc.getLoc(), alloc.getType(), /*asyncToken=*/Type(),
        ValueRange{}, alloc.getDynamicSizes(), alloc.getSymbolOperands());
    alloc.replaceAllUsesWith(device.getMemref());
    alloc.erase();
  }

  void toDeviceDealloc(memref::DeallocOp dealloc) {
    OpBuilder b(dealloc);
    gpu::DeallocOp::create(b, dealloc.getLoc(), TypeRange{}, ValueRange{},
                           dealloc.getMemref());
    dealloc.erase();
  }

  /// Gives the launch body private copies of the scratch allocas `ops` use.
  void privatizeScratch(ArrayRef<Operation *> ops, OpBuilder &b,
                        IRMapping &mapping) {
    for (memref::AllocaOp alloca : scratch) {
      bool used = llvm::any_of(alloca->getUsers(), [&](Operation *user) {
        return llvm::any_of(ops, [&](Operation *op) {
          return op == user || op->isProperAncestor(user);
        });
      });
      if (used)
        mapping.map(alloca.getResult(), b.clone(*alloca)->getResult(0));
    }
  }

  /// The shared memory of a launch a GPU form built: allocas in the
  /// workgroup address space at the top of its body (LoopEmitter::
  /// blockLaunch) become workgroup attributions.
  /// Whether the only effects in `launch` are barriers (its stores were
  /// dead and are gone): then it computes nothing anyone sees.
  static bool onlySynchronizes(gpu::LaunchOp launch) {
    auto isBarrier = [](Operation *op) {
      return isa<gpu::BarrierOp, collective::BlockBarrierOp>(op);
    };
    return llvm::all_of(launch.getBody().front(), [&](Operation &op) {
      return writesNothing(&op, isBarrier);
    });
  }

  static void workgroupAllocasToAttributions(gpu::LaunchOp launch) {
    for (Operation &op : llvm::make_early_inc_range(launch.getBody().front())) {
      auto alloca = dyn_cast<memref::AllocaOp>(op);
      if (!alloca || !gpu::GPUDialect::isWorkgroupMemoryAddressSpace(
                         alloca.getType().getMemorySpace()))
        continue;
      BlockArgument buffer =
          launch.addWorkgroupAttribution(alloca.getType(), alloca.getLoc());
      alloca.replaceAllUsesWith(buffer);
      alloca.erase();
    }
  }

  /// Whether `value` is computed from one of `ivs` (any data flow, through
  /// defining ops and the operands of the ops owning block arguments).
  static bool dependsOn(Value value, const llvm::DenseSet<Value> &ivs,
                        llvm::DenseMap<Value, bool> &memo, int depth = 0) {
    if (ivs.contains(value))
      return true;
    if (depth > 64)
      return true; // too deep to tell: assume it does (no false alarm)
    auto [it, inserted] = memo.try_emplace(value, false);
    if (!inserted)
      return it->second;
    Operation *owner = value.getDefiningOp();
    if (!owner)
      owner = cast<BlockArgument>(value).getOwner()->getParentOp();
    bool result = false;
    if (owner)
      for (Value operand : owner->getOperands())
        if (dependsOn(operand, ivs, memo, depth + 1)) {
          result = true;
          break;
        }
    memo[value] = result;
    return result;
  }

  /// Every iteration of a parallel loop is a GPU thread: a store into a
  /// buffer shared by all iterations (defined outside the loop and not
  /// private scratch) at a position that does not depend on the iteration
  /// is a race between threads. The CPU would run such code correctly, so
  /// it must be caught here.
  /// `privateScratch`, when given, lists the buffers that are private to
  /// each iteration (by default every alloca is).
  LogicalResult checkNoSharedWrites(
      scf::ParallelOp loop,
      const llvm::SmallPtrSetImpl<Operation *> *privateScratch = nullptr,
      bool report = true) {
    // getInductionVars() returns a new vector on every call: begin and end
    // must come from one of them.
    SmallVector<Value> inductionVars = loop.getInductionVars();
    llvm::DenseSet<Value> ivs(inductionVars.begin(), inductionVars.end());
    llvm::DenseMap<Value, bool> memo;
    WalkResult result = loop.getBody()->walk([&](Operation *op) {
      Value buffer;
      OperandRange indices = op->getOperands();
      if (auto store = dyn_cast<memref::StoreOp>(op)) {
        buffer = store.getMemref();
        indices = store.getIndices();
      } else if (auto store = dyn_cast<vector::StoreOp>(op)) {
        buffer = store.getBase();
        indices = store.getIndices();
      } else {
        return WalkResult::advance();
      }
      while (Operation *def = buffer.getDefiningOp()) {
        if (privateScratch ? privateScratch->contains(def)
                           : isa<memref::AllocaOp>(def))
          return WalkResult::advance(); // private scratch
        if (!loop->isAncestor(def) && isa<ViewLikeOpInterface>(def)) {
          buffer = cast<ViewLikeOpInterface>(def).getViewSource();
          continue;
        }
        break;
      }
      if (Operation *def = buffer.getDefiningOp())
        if (loop->isAncestor(def))
          return WalkResult::advance(); // allocated per iteration
      bool perIteration = llvm::any_of(indices, [&](Value index) {
        return dependsOn(index, ivs, memo);
      });
      if (perIteration)
        return WalkResult::advance();
      if (!report)
        return WalkResult::interrupt();
      op->emitOpError("writes a buffer shared by every iteration of a "
                        "parallel loop at a position that does not depend on "
                        "the iteration: GPU threads would race");
      return WalkResult::interrupt();
    });
    return failure(result.wasInterrupted());
  }

  /// `scf.parallel` → a 1-D grid with one thread per iteration; the
  /// iteration space is delinearised innermost-fastest, so consecutive
  /// threads take consecutive iterations of the innermost dimension.
  LogicalResult emitParallelLaunch(scf::ParallelOp loop) {
    if (loop.getNumReductions() != 0)
      return loop.emitOpError("with reductions cannot be offloaded yet");
    if (failed(checkNoSharedWrites(loop)))
      return failure();
    ImplicitLocOpBuilder b(loop.getLoc(), loop);
    // Folded as built, so static iteration counts stay visible constants.
    auto ceilDiv = [&](Value x, Value y) {
      return b.createOrFold<arith::CeilDivUIOp>(x, y);
    };
    SmallVector<Value> extents;
    Value zero = arith::ConstantIndexOp::create(b, 0);
    Value total = arith::ConstantIndexOp::create(b, 1);
    for (auto [lb, ub, step] : llvm::zip(loop.getLowerBound(),
                                         loop.getUpperBound(),
                                         loop.getStep())) {
      Value span = b.createOrFold<arith::MaxSIOp>(
          b.createOrFold<arith::SubIOp>(ub, lb), zero);
      extents.push_back(ceilDiv(span, step));
      total = b.createOrFold<arith::MulIOp>(total, extents.back());
    }
    // A static iteration count smaller than a block gets a smaller block
    // (rounded to a warp); an empty loop still launches one idle thread.
    int64_t threads = blockSize;
    if (auto known = getConstantIntValue(total))
      threads = std::clamp<int64_t>((*known + 31) / 32 * 32, 32, blockSize);
    Value blockDim = arith::ConstantIndexOp::create(b, threads);
    Value one = arith::ConstantIndexOp::create(b, 1);
    Value grid = b.createOrFold<arith::MaxUIOp>(ceilDiv(total, blockDim), one);
    auto launch = gpu::LaunchOp::create(b, grid, one, one, blockDim, one, one);

    OpBuilder inner = OpBuilder::atBlockBegin(&launch.getBody().front());
    IRMapping mapping;
    privatizeScratch({loop.getOperation()}, inner, mapping);
    Location loc = loop.getLoc();
    Value linear = arith::AddIOp::create(
        inner, loc,
        arith::MulIOp::create(inner, loc, launch.getBlockIds().x,
                              launch.getBlockSize().x),
        launch.getThreadIds().x);
    Value inBounds = arith::CmpIOp::create(inner, loc, arith::CmpIPredicate::ult,
                                           linear, total);
    auto guard = scf::IfOp::create(inner, loc, inBounds, /*withElse=*/false);
    inner.setInsertionPoint(guard.thenBlock()->getTerminator());
    Value rest = linear;
    for (int64_t d = loop.getNumLoops() - 1; d >= 0; --d) {
      Value position = rest;
      if (d > 0) {
        position = arith::RemUIOp::create(inner, loc, rest, extents[d]);
        rest = arith::DivUIOp::create(inner, loc, rest, extents[d]);
      }
      Value iv = arith::AddIOp::create(
          inner, loc, loop.getLowerBound()[d],
          arith::MulIOp::create(inner, loc, position, loop.getStep()[d]));
      mapping.map(loop.getInductionVars()[d], iv);
    }
    for (Operation &op : loop.getBody()->without_terminator())
      inner.clone(op, mapping);
    inner.setInsertionPointToEnd(&launch.getBody().front());
    gpu::TerminatorOp::create(inner, loc);
    loop.erase();
    return success();
  }

  /// Whether `op` (and everything nested) only reads memory: all threads
  /// of a block may run it redundantly. Ops that `ignore` accepts do not
  /// count.
  static bool writesNothing(Operation *op,
                            llvm::function_ref<bool(Operation *)> ignore = {}) {
    WalkResult result = op->walk([&](Operation *nested) {
      if (ignore && ignore(nested))
        return WalkResult::advance();
      auto effects = dyn_cast<MemoryEffectOpInterface>(nested);
      if (!effects) {
        // Loops and ifs: their nested ops are visited on their own.
        if (nested->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
          return WalkResult::advance();
        return isMemoryEffectFree(nested) ? WalkResult::advance()
                                          : WalkResult::interrupt();
      }
      if (effects.hasEffect<MemoryEffects::Write>() ||
          effects.hasEffect<MemoryEffects::Allocate>() ||
          effects.hasEffect<MemoryEffects::Free>())
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    return !result.wasInterrupted();
  }

  /// A tok.dispatch row loop → one thread block per row. In the block,
  /// inner parallel loops are spread over the threads (strided, so
  /// consecutive threads take consecutive iterations), code that writes
  /// memory runs on thread 0 and hands its results to the others through
  /// memory, read-only code runs on every thread; a barrier separates the
  /// phases. Row buffers (kRowBufferAttrName) and scratch used across
  /// phases live in an arena in the block's shared memory (a slice per
  /// block of a device buffer when it exceeds 48 KiB); scratch of a single
  /// inner loop stays private to each thread. Returns
  /// false, leaving the loop alone, when the body has something this
  /// mapping does not cover (the caller then uses one thread per row).
  FailureOr<bool> emitRowBlockLaunch(scf::ParallelOp loop) {
    if (loop.getNumLoops() != 1 || !isConstantIntValue(loop.getLowerBound()[0], 0) ||
        !isConstantIntValue(loop.getStep()[0], 1))
      return false;
    Block *rowBody = loop.getBody();
    // The ops thread 0 runs alone (they write memory), and whether the
    // values it hands to the other threads fit a slot.
    llvm::SmallPtrSet<Operation *, 16> leaderOps;
    for (Operation &op : rowBody->without_terminator()) {
      if (isa<scf::ParallelOp>(op) || writesNothing(&op))
        continue;
      leaderOps.insert(&op);
      for (Value result : op.getResults())
        if (!result.getType().isIntOrIndexOrFloat())
          return false;
    }
    // Scratch the block shares: row buffers, and every alloca used outside
    // a single inner parallel loop (thread 0 may fill what all threads
    // read). Only per-iteration scratch of one inner loop stays private.
    llvm::SmallPtrSet<Operation *, 8> privateScratch;
    SmallVector<Operation *> rowBuffers;
    for (memref::AllocaOp alloca : scratch) {
      if (!isUsedBy(alloca, loop))
        continue;
      llvm::SmallPtrSet<Operation *, 4> tops;
      for (Operation *user : alloca->getUsers())
        if (loop->isAncestor(user))
          tops.insert(rowBody->findAncestorOpInBlock(*user));
      bool oneInnerLoop = !alloca->hasAttr(kRowBufferAttrName) &&
                          tops.size() == 1 &&
                          isa<scf::ParallelOp>(*tops.begin());
      if (oneInnerLoop)
        privateScratch.insert(alloca);
      else
        rowBuffers.push_back(alloca);
    }
    for (Operation &op : rowBody->without_terminator())
      if (auto inner = dyn_cast<scf::ParallelOp>(op)) {
        if (inner.getNumReductions() != 0)
          return false;
        // Threads of the block would race here; one thread per row runs the
        // inner loop sequentially and is correct.
        if (failed(checkNoSharedWrites(inner, &privateScratch,
                                       /*report=*/false)))
          return false;
      }
    // Heap row buffers get a slice per block too, so for the row loop
    // itself every scratch buffer is private to its row.
    for (Operation &op : *loop->getBlock())
      if (auto alloc = dyn_cast<memref::AllocOp>(op))
        if (alloc->hasAttr(kRowBufferAttrName) && isUsedBy(alloc, loop))
          rowBuffers.push_back(alloc);
    llvm::SmallPtrSet<Operation *, 8> perRow(privateScratch.begin(),
                                              privateScratch.end());
    perRow.insert(rowBuffers.begin(), rowBuffers.end());
    if (failed(checkNoSharedWrites(loop, &perRow)))
      return failure();

    // The arena: every shared buffer (allocas hoisted before the loop and
    // heap row buffers), then one slot per broadcast value, 16-byte aligned.
    auto align16 = [](int64_t bytes) { return (bytes + 15) / 16 * 16; };
    int64_t arenaBytes = 0;
    llvm::DenseMap<Operation *, int64_t> offsets;
    for (Operation *buffer : rowBuffers) {
      auto type = cast<MemRefType>(buffer->getResult(0).getType());
      if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
          elementBytes(type.getElementType()) == 0)
        return false;
      offsets[buffer] = arenaBytes;
      arenaBytes += align16(shapedBytes(type));
    }
    llvm::DenseMap<Value, int64_t> slots;
    for (Operation &op : rowBody->without_terminator())
      if (leaderOps.contains(&op))
        for (Value result : op.getResults())
          if (!result.use_empty()) {
            slots[result] = arenaBytes;
            arenaBytes += 16;
          }
    arenaBytes = std::max<int64_t>(arenaBytes, 16);

    ImplicitLocOpBuilder b(loop.getLoc(), loop);
    Value rows = loop.getUpperBound()[0];
    Value one = arith::ConstantIndexOp::create(b, 1);
    Value grid = b.createOrFold<arith::MaxSIOp>(rows, one);
    Value blockDim = arith::ConstantIndexOp::create(b, blockSize);
    // The arena lives in the block's shared memory when it fits the static
    // shared memory of a block; else each block gets a slice of a device
    // buffer.
    bool shared = arenaBytes <= kMaxSharedArenaBytes;
    Value arena, arenaRow;
    if (!shared) {
      arenaRow = arith::ConstantIndexOp::create(b, arenaBytes);
      Value arenaSize = b.createOrFold<arith::MulIOp>(grid, arenaRow);
      auto arenaType = MemRefType::get({ShapedType::kDynamic}, b.getI8Type());
      arena = memref::AllocOp::create(b, arenaType, ValueRange{arenaSize})
                  .getResult();
    }
    auto launch = gpu::LaunchOp::create(b, grid, one, one, blockDim, one, one);
    launch->setAttr(kBlockPhasesAttrName, b.getUnitAttr());
    b.setInsertionPointAfter(launch);
    if (!shared)
      memref::DeallocOp::create(b, arena);

    Location loc = loop.getLoc();
    OpBuilder inner = OpBuilder::atBlockBegin(&launch.getBody().front());
    IRMapping mapping;
    Value tid = launch.getThreadIds().x;
    Value row = launch.getBlockIds().x;
    mapping.map(loop.getInductionVars()[0], row);
    Value rowBase;
    if (shared) {
      // A workgroup attribution, 16-byte aligned (its offsets are), seen
      // through a generic pointer so the row buffers keep their types; the
      // NVPTX backend infers the shared address space back from the cast
      // (ld/st.shared).
      auto space = gpu::AddressSpaceAttr::get(b.getContext(),
                                              gpu::AddressSpace::Workgroup);
      auto sharedType = MemRefType::get({arenaBytes}, b.getI8Type(),
                                        MemRefLayoutAttrInterface(), space);
      BlockArgument attribution =
          launch.addWorkgroupAttribution(sharedType, loc);
      arena = memref::MemorySpaceCastOp::create(
          inner, loc, MemRefType::get({arenaBytes}, b.getI8Type()),
          attribution);
      rowBase = arith::ConstantIndexOp::create(inner, loc, 0);
    } else {
      rowBase = arith::MulIOp::create(inner, loc, row, arenaRow);
    }
    auto view = [&](int64_t offset, MemRefType type) -> Value {
      Value at = arith::AddIOp::create(
          inner, loc, rowBase, arith::ConstantIndexOp::create(inner, loc, offset));
      return memref::ViewOp::create(inner, loc, type, arena, at, ValueRange{});
    };
    for (Operation *buffer : rowBuffers) {
      Value original = buffer->getResult(0);
      mapping.map(original,
                  view(offsets[buffer], cast<MemRefType>(original.getType())));
    }
    for (memref::AllocaOp alloca : scratch)
      if (privateScratch.contains(alloca))
        mapping.map(alloca.getResult(), inner.clone(*alloca)->getResult(0));

    bool readsSinceBarrier = false;
    auto barrier = [&] { gpu::BarrierOp::create(inner, loc); };
    for (Operation &op : rowBody->without_terminator()) {
      if (auto parallel = dyn_cast<scf::ParallelOp>(op)) {
        if (readsSinceBarrier)
          barrier();
        emitThreadStridedLoop(parallel, inner, mapping, tid, launch.getBlockSize().x);
        barrier();
        readsSinceBarrier = false;
        continue;
      }
      if (!leaderOps.contains(&op)) {
        inner.clone(op, mapping);
        readsSinceBarrier = true;
        continue;
      }
      if (readsSinceBarrier)
        barrier();
      // `for (i = tid; i < 1; i += blockDim)`: thread 0 alone, in the same
      // form as the other thread phases.
      auto leader = scf::ForOp::create(
          inner, loc, tid, arith::ConstantIndexOp::create(inner, loc, 1),
          launch.getBlockSize().x);
      leader->setAttr(kThreadPhaseAttrName, inner.getUnitAttr());
      {
        OpBuilder::InsertionGuard guard(inner);
        inner.setInsertionPoint(leader.getBody()->getTerminator());
        Operation *clone = inner.clone(op, mapping);
        for (auto [original, value] :
             llvm::zip(op.getResults(), clone->getResults()))
          if (slots.count(original)) {
            auto slotType = MemRefType::get({1}, value.getType());
            memref::StoreOp::create(inner, loc, value,
                                    view(slots[original], slotType),
                                    ValueRange{arith::ConstantIndexOp::create(inner, loc, 0)});
          }
      }
      barrier();
      readsSinceBarrier = false;
      for (Value original : op.getResults())
        if (slots.count(original)) {
          auto slotType = MemRefType::get({1}, original.getType());
          mapping.map(original, memref::LoadOp::create(
                                    inner, loc, view(slots[original], slotType),
                                    ValueRange{arith::ConstantIndexOp::create(inner, loc, 0)}));
        }
    }
    gpu::TerminatorOp::create(inner, loc);
    loop.erase();
    // Heap row buffers now live in the arena (freed once segments are done).
    for (Operation *buffer : rowBuffers)
      if (isa<memref::AllocOp>(buffer))
        replacedHeapBuffers.push_back(buffer);
    return true;
  }

  /// `scf.parallel` inside a block → `for (i = tid; i < n; i += blockDim)`
  /// over its delinearised iteration space.
  void emitThreadStridedLoop(scf::ParallelOp loop, OpBuilder &b,
                             IRMapping &mapping, Value tid, Value blockDim) {
    Location loc = loop.getLoc();
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    SmallVector<Value> extents;
    Value total = arith::ConstantIndexOp::create(b, loc, 1);
    for (auto [lb, ub, step] : llvm::zip(loop.getLowerBound(),
                                         loop.getUpperBound(), loop.getStep())) {
      Value lbv = mapping.lookupOrDefault(lb), ubv = mapping.lookupOrDefault(ub);
      Value span = arith::MaxSIOp::create(
          b, loc, arith::SubIOp::create(b, loc, ubv, lbv), zero);
      extents.push_back(arith::CeilDivUIOp::create(
          b, loc, span, mapping.lookupOrDefault(step)));
      total = arith::MulIOp::create(b, loc, total, extents.back());
    }
    auto strided = scf::ForOp::create(b, loc, tid, total, blockDim);
    strided->setAttr(kThreadPhaseAttrName, b.getUnitAttr());
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(strided.getBody()->getTerminator());
    Value rest = strided.getInductionVar();
    for (int64_t d = loop.getNumLoops() - 1; d >= 0; --d) {
      Value position = rest;
      if (d > 0) {
        position = arith::RemUIOp::create(b, loc, rest, extents[d]);
        rest = arith::DivUIOp::create(b, loc, rest, extents[d]);
      }
      mapping.map(loop.getInductionVars()[d],
                  arith::AddIOp::create(
                      b, loc, mapping.lookupOrDefault(loop.getLowerBound()[d]),
                      arith::MulIOp::create(b, loc, position,
                                            mapping.lookupOrDefault(loop.getStep()[d]))));
    }
    for (Operation &op : loop.getBody()->without_terminator())
      b.clone(op, mapping);
  }

  static bool isUsedBy(Operation *buffer, Operation *region) {
    return llvm::any_of(buffer->getUsers(), [&](Operation *user) {
      return region->isAncestor(user);
    });
  }

  /// A run of sequential host code → one single-thread launch, placed at
  /// the last op of the run (ops left between only compute host values that
  /// do not depend on the run).
  LogicalResult emitSerialLaunch(ArrayRef<Operation *> ops) {
    Operation *last = ops.back();
    ImplicitLocOpBuilder b(last->getLoc(), last);
    b.setInsertionPointAfter(last);
    Value one = arith::ConstantIndexOp::create(b, 1);
    auto launch = gpu::LaunchOp::create(b, one, one, one, one, one, one);
    OpBuilder inner = OpBuilder::atBlockBegin(&launch.getBody().front());
    IRMapping mapping;
    privatizeScratch(ops, inner, mapping);
    for (Operation *op : ops)
      inner.clone(*op, mapping);
    gpu::TerminatorOp::create(inner, last->getLoc());
    for (Operation *op : llvm::reverse(ops)) {
      for (Value result : op->getResults())
        if (!result.use_empty())
          return op->emitOpError(
              "produces a value that host code uses after offloading");
      op->erase();
    }
    return success();
  }

  func::FuncOp func;
  int64_t blockSize;
  SmallVector<memref::AllocaOp> scratch;
  SmallVector<Operation *> replacedHeapBuffers;
};

struct TokOffloadToGpuPass
    : impl::TokOffloadToGpuBase<TokOffloadToGpuPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (blockSize < 32 || blockSize > 1024 || blockSize % 32 != 0) {
      module.emitError("tok-offload-to-gpu: block-size must be a multiple of "
                       "32 in [32, 1024], got ")
          << static_cast<int64_t>(blockSize);
      return signalPassFailure();
    }
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      if (failed(FunctionOffloader(func, blockSize).run()))
        return signalPassFailure();
    }
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(module.getContext()));
  }
};

} // namespace
} // namespace winnow
