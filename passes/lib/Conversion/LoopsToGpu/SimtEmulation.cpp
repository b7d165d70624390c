//===- SimtEmulation.cpp - Lane-accurate CPU emulation of a launch --------===//
//
// How a block runs: the launch body is cut at every synchronising op. Each
// run of ordinary ops between two cuts becomes a "thread phase", a loop over
// the block's threads in which every thread runs the whole run; a value one
// phase makes and a later one uses is kept in a register file (one buffer
// slot per thread). A shuffle or ballot is a phase of its own that reads the
// other lanes' register slots with the lane arithmetic of PTX's shfl.sync
// and vote.sync. Ops whose operands are the same for every thread (constants,
// block ids, sizes and what is computed from them) run once per block.
//
// Nothing here reorders memory accesses within a thread, and every thread
// of a phase finishes before the next phase starts, which is exactly the
// ordering barriers and warp-synchronous ops give on a GPU; so a kernel
// that is correct on the GPU computes the same values here, and the threads
// of a phase run in a fixed order, so a race shows up as a wrong value in a
// test rather than as a rare flake.
//
//===----------------------------------------------------------------------===//

#include "SimtEmulation.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace winnow {

bool isSynchronisingOp(Operation *op) {
  return isa<gpu::BarrierOp, gpu::ShuffleOp, NVVM::VoteSyncOp>(op);
}

namespace {

constexpr int64_t kWarpSize = 32;
constexpr int64_t kBufferAlignment = 64;

bool containsSynchronisingOp(Operation *op) {
  return op
      ->walk([](Operation *nested) {
        return isSynchronisingOp(nested) ? WalkResult::interrupt()
                                         : WalkResult::advance();
      })
      .wasInterrupted();
}

/// The GPU dialect's workgroup space, or NVVM's number for it (3).
bool isWorkgroupSpace(Attribute space) {
  if (gpu::GPUDialect::isWorkgroupMemoryAddressSpace(space))
    return true;
  auto number = dyn_cast_or_null<IntegerAttr>(space);
  return number && number.getInt() == 3;
}

/// The same memref type in the CPU's one address space.
Type withoutWorkgroupSpace(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  if (!memref || !isWorkgroupSpace(memref.getMemorySpace()))
    return type;
  return MemRefType::get(memref.getShape(), memref.getElementType(),
                         memref.getLayout());
}

/// What a lane that does not exist (past the block, or not taking part)
/// hands to a shuffle: NaN, or a recognisable bit pattern for integers, so
/// a kernel that reads one gets garbage in a test, not a plausible number.
Value poisonValue(OpBuilder &b, Location loc, Type type) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(
        b, loc,
        FloatAttr::get(floatType,
                       APFloat::getQNaN(floatType.getFloatSemantics())));
  APInt pattern(64, 0xDEADBEEFDEADBEEFull);
  if (type.isIndex())
    return arith::ConstantIndexOp::create(b, loc, pattern.getSExtValue());
  auto integer = cast<IntegerType>(type);
  return arith::ConstantOp::create(
      b, loc,
      IntegerAttr::get(integer, pattern.zextOrTrunc(integer.getWidth())));
}

Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}
Value i32Constant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIntOp::create(b, loc, value, 32);
}

class SimtEmulator {
public:
  explicit SimtEmulator(gpu::LaunchOp launch)
      : launch(launch), loc(launch.getLoc()), b(launch),
        allocB(launch.getContext()) {}

  LogicalResult run();

private:
  /// The ops [begin, end) of one block at the current level.
  LogicalResult emitOps(Block::iterator begin, Block::iterator end);
  /// A run of ops without synchronisation as one thread phase.
  LogicalResult emitThreadPhase(ArrayRef<Operation *> ops);
  LogicalResult emitSynchronising(Operation *op);
  void emitBarrierCheck();
  LogicalResult emitShuffle(gpu::ShuffleOp shuffle);
  LogicalResult emitBallot(NVVM::VoteSyncOp vote);
  LogicalResult emitFor(scf::ForOp loop);
  LogicalResult emitIf(scf::IfOp branch);

  /// A loop over the block's threads, the body guarded by the active mask;
  /// `body` gets a builder inside the guard and the thread's linear id.
  void
  forEachActiveThread(llvm::function_ref<void(OpBuilder &, Value thread)> body);
  /// Whether thread `thread` (< the thread count) is active.
  Value isActive(OpBuilder &pb, Value thread);
  /// Whether thread `thread` (any index) exists and is active.
  Value existsAndActive(OpBuilder &pb, Value thread);
  /// The value of `original` on thread `thread`.
  FailureOr<Value> valueOn(OpBuilder &pb, Value original, Value thread);
  /// The register buffer of `original`, created on first use.
  FailureOr<Value> registerOf(Value original);
  /// A block-level value for a value that must be the same on every
  /// active thread (a loop bound): the first active thread's, with a check.
  FailureOr<Value> uniformValue(Value original, int64_t whenNoneActive,
                                Value &anyActive);
  Value allocBuffer(Type elementType);
  /// Maps the launch's thread ids to thread `thread`'s (x fastest, as the
  /// hardware numbers them).
  void mapThreadIds(OpBuilder &pb, Value thread, IRMapping &mapping) {
    gpu::KernelDim3 threadIds = launch.getThreadIds();
    mapping.map(threadIds.x,
                arith::RemUIOp::create(pb, loc, thread, blockX).getResult());
    Value aboveX = arith::DivUIOp::create(pb, loc, thread, blockX);
    mapping.map(threadIds.y,
                arith::RemUIOp::create(pb, loc, aboveX,
                                       lookupUniform(launch.getBlockSize().y))
                    .getResult());
    mapping.map(threadIds.z,
                arith::DivUIOp::create(pb, loc, thread, blockXY).getResult());
  }

  bool isUniform(Value value) {
    return uniform.contains(value) ||
           !launch.getBody().isAncestor(value.getParentRegion());
  }
  bool isUniformOp(Operation *op) {
    // Under an active mask the op would also run where no thread does, so
    // it must be safe to speculate (no division by a zero that is guarded).
    if (op->getNumRegions() != 0 || !isMemoryEffectFree(op) ||
        (!activeMasks.empty() && !isSpeculatable(op)) ||
        isa<gpu::GPUDialect, NVVM::NVVMDialect>(op->getDialect()))
      return false;
    return llvm::all_of(op->getOperands(),
                        [&](Value v) { return isUniform(v); });
  }
  Value lookupUniform(Value value) const {
    return uniform.lookupOrDefault(value);
  }

  gpu::LaunchOp launch;
  Location loc;
  OpBuilder b;      // block level, where the next op goes
  OpBuilder allocB; // start of the block's scope: register files
  IRMapping uniform;
  llvm::DenseMap<Value, Value> registers;
  SmallVector<Value> heapBuffers; // register files and masks, freed at the end
  SmallVector<Value> activeMasks; // memref<?xi1>; none: every thread
  Value numThreads, blockX, blockXY;
};

LogicalResult SimtEmulator::run() {
  if (!launch.getBody().hasOneBlock() ||
      !launch.getPrivateAttributions().empty())
    return launch.emitOpError("cannot be emulated: expected a single-block "
                              "launch without private attributions");
  gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
  gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
  Value zero = indexConstant(b, loc, 0), one = indexConstant(b, loc, 1);
  auto blocks = scf::ParallelOp::create(b, loc, ValueRange{zero, zero, zero},
                                        ValueRange{grid.x, grid.y, grid.z},
                                        ValueRange{one, one, one});
  b.setInsertionPoint(blocks.getBody()->getTerminator());
  // A grid of one block gets no scope (isSingleIteration).
  bool oneBlock = isSingleIteration({grid.x, grid.y, grid.z});
  if (!oneBlock)
    openAllocaScope(b, loc);

  gpu::KernelDim3 blockIds = launch.getBlockIds();
  gpu::KernelDim3 gridArgs = launch.getGridSize();
  gpu::KernelDim3 blockArgs = launch.getBlockSize();
  auto ivs = blocks.getInductionVars();
  uniform.map(blockIds.x, ivs[0]);
  uniform.map(blockIds.y, ivs[1]);
  uniform.map(blockIds.z, ivs[2]);
  uniform.map(gridArgs.x, grid.x);
  uniform.map(gridArgs.y, grid.y);
  uniform.map(gridArgs.z, grid.z);
  uniform.map(blockArgs.x, block.x);
  uniform.map(blockArgs.y, block.y);
  uniform.map(blockArgs.z, block.z);
  blockX = block.x;
  blockXY = arith::MulIOp::create(b, loc, block.x, block.y);
  numThreads = arith::MulIOp::create(b, loc, blockXY, block.z);
  // Register files and workgroup buffers go before this anchor, where they
  // dominate every phase; the block's code goes after it.
  allocB.setInsertionPoint(indexConstant(b, loc, 0).getDefiningOp());

  // Workgroup memory: one buffer per block.
  for (BlockArgument attribution : launch.getWorkgroupAttributions()) {
    if (!cast<MemRefType>(attribution.getType()).hasStaticShape())
      return launch.emitOpError(
          "cannot be emulated: a workgroup attribution of dynamic shape");
    uniform.map(attribution,
                allocWorkgroupBuffer(allocB, loc, attribution.getType()));
  }

  Block &body = launch.getBody().front();
  if (failed(emitOps(body.begin(), body.getTerminator()->getIterator())))
    return failure();
  for (Value buffer : heapBuffers)
    memref::DeallocOp::create(b, loc, buffer);
  if (!oneBlock)
    memref::AllocaScopeReturnOp::create(b, loc);

  stripWorkgroupSpace(blocks);
  launch.erase();
  return success();
}

LogicalResult SimtEmulator::emitOps(Block::iterator begin,
                                    Block::iterator end) {
  SmallVector<Operation *> phase;
  for (Operation &op : llvm::make_range(begin, end)) {
    if (isUniformOp(&op)) {
      b.clone(op, uniform);
      continue;
    }
    if (!containsSynchronisingOp(&op)) {
      phase.push_back(&op);
      continue;
    }
    if (failed(emitThreadPhase(phase)))
      return failure();
    phase.clear();
    if (failed(emitSynchronising(&op)))
      return failure();
  }
  return emitThreadPhase(phase);
}

Value SimtEmulator::allocBuffer(Type elementType) {
  // On the heap, freed when the block ends: a block of 1024 threads with
  // many values live across barriers would not fit a worker thread's stack.
  auto type = MemRefType::get({ShapedType::kDynamic},
                              withoutWorkgroupSpace(elementType));
  Value buffer =
      memref::AllocOp::create(allocB, loc, type, ValueRange{numThreads},
                              allocB.getI64IntegerAttr(kBufferAlignment));
  heapBuffers.push_back(buffer);
  return buffer;
}

FailureOr<Value> SimtEmulator::registerOf(Value original) {
  auto it = registers.find(original);
  if (it != registers.end())
    return it->second;
  Type type = original.getType();
  if (!type.isIntOrIndexOrFloat() && !isa<VectorType>(type)) {
    Operation *owner = original.getDefiningOp()
                           ? original.getDefiningOp()
                           : original.getParentBlock()->getParentOp();
    return owner->emitOpError("cannot be emulated: a per-thread value of type ")
           << type << " is used across a synchronising op";
  }
  Value buffer = allocBuffer(type);
  registers[original] = buffer;
  return buffer;
}

FailureOr<Value> SimtEmulator::valueOn(OpBuilder &pb, Value original,
                                       Value thread) {
  if (isUniform(original))
    return lookupUniform(original);
  gpu::KernelDim3 threadIds = launch.getThreadIds();
  if (original == threadIds.x || original == threadIds.y ||
      original == threadIds.z) {
    IRMapping ids;
    mapThreadIds(pb, thread, ids);
    return ids.lookup(original);
  }
  FailureOr<Value> buffer = registerOf(original);
  if (failed(buffer))
    return failure();
  return memref::LoadOp::create(pb, loc, *buffer, ValueRange{thread})
      .getResult();
}

Value SimtEmulator::isActive(OpBuilder &pb, Value thread) {
  if (activeMasks.empty())
    return arith::ConstantIntOp::create(pb, loc, 1, 1);
  return memref::LoadOp::create(pb, loc, activeMasks.back(),
                                ValueRange{thread});
}

Value SimtEmulator::existsAndActive(OpBuilder &pb, Value thread) {
  Value exists = arith::CmpIOp::create(pb, loc, arith::CmpIPredicate::ult,
                                       thread, numThreads);
  if (activeMasks.empty())
    return exists;
  auto guarded = scf::IfOp::create(pb, loc, TypeRange{pb.getI1Type()}, exists,
                                   /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(pb);
  pb.setInsertionPointToStart(guarded.thenBlock());
  scf::YieldOp::create(pb, loc, isActive(pb, thread));
  pb.setInsertionPointToStart(guarded.elseBlock());
  scf::YieldOp::create(pb, loc, exists);
  return guarded.getResult(0);
}

void SimtEmulator::forEachActiveThread(
    llvm::function_ref<void(OpBuilder &, Value)> body) {
  auto threads = scf::ForOp::create(b, loc, indexConstant(b, loc, 0),
                                    numThreads, indexConstant(b, loc, 1));
  // Each thread's own scratch (memref.alloca) is released when its turn
  // ends, so a phase in a long loop does not grow the stack.
  OpBuilder pb = OpBuilder::atBlockBegin(threads.getBody());
  openAllocaScope(pb, loc);
  pb.setInsertionPoint(memref::AllocaScopeReturnOp::create(pb, loc));
  Value thread = threads.getInductionVar();
  if (!activeMasks.empty()) {
    auto guard = scf::IfOp::create(pb, loc, isActive(pb, thread),
                                   /*withElseRegion=*/false);
    pb.setInsertionPointToStart(guard.thenBlock());
  }
  body(pb, thread);
}

LogicalResult SimtEmulator::emitThreadPhase(ArrayRef<Operation *> ops) {
  if (ops.empty())
    return success();
  llvm::SmallPtrSet<Operation *, 16> inPhase(ops.begin(), ops.end());
  Block *level = ops.front()->getBlock();
  LogicalResult result = success();
  forEachActiveThread([&](OpBuilder &pb, Value thread) {
    IRMapping mapping = uniform;
    mapThreadIds(pb, thread, mapping);
    // Values of earlier phases, from the registers.
    for (Operation *op : ops) {
      op->walk([&](Operation *nested) {
        for (Value operand : nested->getOperands()) {
          if (mapping.contains(operand) || !registers.count(operand))
            continue;
          mapping.map(operand,
                      memref::LoadOp::create(pb, loc, registers[operand],
                                             ValueRange{thread})
                          .getResult());
        }
      });
    }
    for (Operation *op : ops) {
      pb.clone(*op, mapping);
      // Results used past the phase go to the registers.
      for (Value value : op->getResults()) {
        bool escapes = llvm::any_of(value.getUsers(), [&](Operation *user) {
          return !inPhase.contains(level->findAncestorOpInBlock(*user));
        });
        if (!escapes)
          continue;
        FailureOr<Value> buffer = registerOf(value);
        if (failed(buffer)) {
          result = failure();
          return;
        }
        memref::StoreOp::create(pb, loc, mapping.lookup(value), *buffer,
                                ValueRange{thread});
      }
    }
  });
  return result;
}

LogicalResult SimtEmulator::emitSynchronising(Operation *op) {
  if (isa<gpu::BarrierOp>(op)) {
    emitBarrierCheck();
    return success();
  }
  if (auto shuffle = dyn_cast<gpu::ShuffleOp>(op))
    return emitShuffle(shuffle);
  if (auto vote = dyn_cast<NVVM::VoteSyncOp>(op))
    return emitBallot(vote);
  if (auto loop = dyn_cast<scf::ForOp>(op))
    return emitFor(loop);
  if (auto branch = dyn_cast<scf::IfOp>(op))
    return emitIf(branch);
  return op->emitOpError("cannot be emulated: it contains a synchronising op "
                         "(only scf.for and scf.if may)");
}

void SimtEmulator::emitBarrierCheck() {
  if (activeMasks.empty())
    return;
  // On a GPU a barrier only some threads reach hangs or is undefined.
  Value f = arith::ConstantIntOp::create(b, loc, 0, 1);
  Value t = arith::ConstantIntOp::create(b, loc, 1, 1);
  auto threads =
      scf::ForOp::create(b, loc, indexConstant(b, loc, 0), numThreads,
                         indexConstant(b, loc, 1), ValueRange{f, t});
  {
    OpBuilder pb = OpBuilder::atBlockBegin(threads.getBody());
    Value active = isActive(pb, threads.getInductionVar());
    Value any =
        arith::OrIOp::create(pb, loc, threads.getRegionIterArg(0), active);
    Value all =
        arith::AndIOp::create(pb, loc, threads.getRegionIterArg(1), active);
    scf::YieldOp::create(pb, loc, ValueRange{any, all});
  }
  Value none = arith::XOrIOp::create(b, loc, threads.getResult(0), t);
  Value ok = arith::OrIOp::create(b, loc, none, threads.getResult(1));
  cf::AssertOp::create(b, loc, ok,
                       "emulated gpu.barrier reached by only some threads of "
                       "a block");
}

LogicalResult SimtEmulator::emitShuffle(gpu::ShuffleOp shuffle) {
  LogicalResult result = success();
  gpu::ShuffleMode mode = shuffle.getMode();
  forEachActiveThread([&](OpBuilder &pb, Value thread) {
    Value warpSize = indexConstant(pb, loc, kWarpSize);
    Value lane = arith::RemUIOp::create(pb, loc, thread, warpSize);
    Value warpBase = arith::SubIOp::create(pb, loc, thread, lane);
    FailureOr<Value> offset = valueOn(pb, shuffle.getOffset(), thread);
    FailureOr<Value> width = valueOn(pb, shuffle.getWidth(), thread);
    if (failed(offset) || failed(width)) {
      result = failure();
      return;
    }
    // MLIR's lowering: shfl.sync with clamp 32 - width (up) or width - 1,
    // no segment mask; PTX then uses the low 5 bits of lane offset and clamp.
    Value c31 = i32Constant(pb, loc, 31);
    Value bval = arith::AndIOp::create(pb, loc, *offset, c31);
    Value clamp =
        mode == gpu::ShuffleMode::UP
            ? arith::SubIOp::create(pb, loc, i32Constant(pb, loc, 32), *width)
                  .getResult()
            : arith::SubIOp::create(pb, loc, *width, i32Constant(pb, loc, 1))
                  .getResult();
    Value cval = arith::AndIOp::create(pb, loc, clamp, c31);
    Value lane32 = arith::IndexCastOp::create(pb, loc, pb.getI32Type(), lane);
    Value source, valid;
    switch (mode) {
    case gpu::ShuffleMode::UP:
      source = arith::SubIOp::create(pb, loc, lane32, bval);
      valid = arith::CmpIOp::create(pb, loc, arith::CmpIPredicate::sge, source,
                                    cval);
      break;
    case gpu::ShuffleMode::DOWN:
      source = arith::AddIOp::create(pb, loc, lane32, bval);
      valid = arith::CmpIOp::create(pb, loc, arith::CmpIPredicate::sle, source,
                                    cval);
      break;
    case gpu::ShuffleMode::XOR:
      source = arith::XOrIOp::create(pb, loc, lane32, bval);
      valid = arith::CmpIOp::create(pb, loc, arith::CmpIPredicate::sle, source,
                                    cval);
      break;
    case gpu::ShuffleMode::IDX:
      source = bval;
      valid = arith::CmpIOp::create(pb, loc, arith::CmpIPredicate::sle, source,
                                    cval);
      break;
    }
    Value sourceLane = arith::SelectOp::create(pb, loc, valid, source, lane32);
    Value sourceThread = arith::AddIOp::create(
        pb, loc, warpBase,
        arith::IndexCastOp::create(pb, loc, pb.getIndexType(), sourceLane));
    Type type = shuffle.getShuffleResult().getType();
    auto read = scf::IfOp::create(pb, loc, TypeRange{type},
                                  existsAndActive(pb, sourceThread),
                                  /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(pb);
      pb.setInsertionPointToStart(read.thenBlock());
      FailureOr<Value> value = valueOn(pb, shuffle.getValue(), sourceThread);
      if (failed(value)) {
        result = failure();
        return;
      }
      scf::YieldOp::create(pb, loc, *value);
      pb.setInsertionPointToStart(read.elseBlock());
      scf::YieldOp::create(pb, loc, poisonValue(pb, loc, type));
    }
    for (auto [original, value] : llvm::zip(
             shuffle.getResults(), ValueRange{read.getResult(0), valid})) {
      if (original.use_empty())
        continue;
      FailureOr<Value> buffer = registerOf(original);
      if (failed(buffer)) {
        result = failure();
        return;
      }
      memref::StoreOp::create(pb, loc, value, *buffer, ValueRange{thread});
    }
  });
  return result;
}

LogicalResult SimtEmulator::emitBallot(NVVM::VoteSyncOp vote) {
  if (vote.getKind() != NVVM::VoteSyncKind::ballot)
    return vote.emitOpError("cannot be emulated: only the ballot vote is");
  LogicalResult result = success();
  forEachActiveThread([&](OpBuilder &pb, Value thread) {
    Value warpSize = indexConstant(pb, loc, kWarpSize);
    Value lane = arith::RemUIOp::create(pb, loc, thread, warpSize);
    Value warpBase = arith::SubIOp::create(pb, loc, thread, lane);
    FailureOr<Value> mask = valueOn(pb, vote.getMask(), thread);
    if (failed(mask)) {
      result = failure();
      return;
    }
    auto lanes = scf::ForOp::create(pb, loc, indexConstant(pb, loc, 0),
                                    warpSize, indexConstant(pb, loc, 1),
                                    ValueRange{i32Constant(pb, loc, 0)});
    OpBuilder::InsertionGuard guard(pb);
    pb.setInsertionPointToStart(lanes.getBody());
    Value other = lanes.getInductionVar();
    Value shift = arith::IndexCastOp::create(pb, loc, pb.getI32Type(), other);
    Value bit = arith::ShLIOp::create(pb, loc, i32Constant(pb, loc, 1), shift);
    Value inMask = arith::CmpIOp::create(
        pb, loc, arith::CmpIPredicate::ne,
        arith::AndIOp::create(pb, loc, *mask, bit), i32Constant(pb, loc, 0));
    Value otherThread = arith::AddIOp::create(pb, loc, warpBase, other);
    Value counts = arith::AndIOp::create(pb, loc, inMask,
                                         existsAndActive(pb, otherThread));
    auto predicate = scf::IfOp::create(pb, loc, TypeRange{pb.getI1Type()},
                                       counts, /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard inner(pb);
      pb.setInsertionPointToStart(predicate.thenBlock());
      FailureOr<Value> value = valueOn(pb, vote.getPred(), otherThread);
      if (failed(value)) {
        result = failure();
        return;
      }
      scf::YieldOp::create(pb, loc, *value);
      pb.setInsertionPointToStart(predicate.elseBlock());
      scf::YieldOp::create(pb, loc, counts);
    }
    Value set = arith::SelectOp::create(pb, loc, predicate.getResult(0), bit,
                                        i32Constant(pb, loc, 0));
    scf::YieldOp::create(
        pb, loc,
        arith::OrIOp::create(pb, loc, lanes.getRegionIterArg(0), set)
            .getResult());
    pb.setInsertionPointAfter(lanes);
    FailureOr<Value> buffer = registerOf(vote.getRes());
    if (failed(buffer)) {
      result = failure();
      return;
    }
    memref::StoreOp::create(pb, loc, lanes.getResult(0), *buffer,
                            ValueRange{thread});
  });
  return result;
}

FailureOr<Value> SimtEmulator::uniformValue(Value original,
                                            int64_t whenNoneActive,
                                            Value &anyActive) {
  if (isUniform(original))
    return lookupUniform(original);
  FailureOr<Value> buffer = registerOf(original);
  if (failed(buffer))
    return failure();
  Type type = original.getType();
  Value fallback = type.isIndex() ? indexConstant(b, loc, whenNoneActive)
                                  : arith::ConstantIntOp::create(b, loc, type,
                                                                 whenNoneActive)
                                        .getResult();
  Value f = arith::ConstantIntOp::create(b, loc, 0, 1);
  auto threads =
      scf::ForOp::create(b, loc, indexConstant(b, loc, 0), numThreads,
                         indexConstant(b, loc, 1), ValueRange{f, fallback, f});
  {
    OpBuilder pb = OpBuilder::atBlockBegin(threads.getBody());
    Value thread = threads.getInductionVar();
    Value found = threads.getRegionIterArg(0);
    Value chosen = threads.getRegionIterArg(1);
    Value differs = threads.getRegionIterArg(2);
    Value active = isActive(pb, thread);
    Value value = memref::LoadOp::create(pb, loc, *buffer, ValueRange{thread});
    Value notFound = arith::XOrIOp::create(
        pb, loc, found, arith::ConstantIntOp::create(pb, loc, 1, 1));
    Value take = arith::AndIOp::create(pb, loc, active, notFound);
    Value unequal =
        arith::CmpIOp::create(pb, loc, arith::CmpIPredicate::ne, value, chosen);
    Value conflict = arith::AndIOp::create(
        pb, loc, arith::AndIOp::create(pb, loc, active, found), unequal);
    scf::YieldOp::create(
        pb, loc,
        ValueRange{arith::OrIOp::create(pb, loc, found, active),
                   arith::SelectOp::create(pb, loc, take, value, chosen),
                   arith::OrIOp::create(pb, loc, differs, conflict)});
  }
  Value consistent = arith::XOrIOp::create(
      b, loc, threads.getResult(2), arith::ConstantIntOp::create(b, loc, 1, 1));
  cf::AssertOp::create(b, loc, consistent,
                       "emulated loop that synchronises has bounds that "
                       "differ between the threads of a block");
  anyActive = threads.getResult(0);
  return threads.getResult(1);
}

LogicalResult SimtEmulator::emitFor(scf::ForOp loop) {
  Value lbActive, ubActive, stepActive;
  FailureOr<Value> lower = uniformValue(loop.getLowerBound(), 0, lbActive);
  FailureOr<Value> upper = uniformValue(loop.getUpperBound(), 0, ubActive);
  FailureOr<Value> step = uniformValue(loop.getStep(), 1, stepActive);
  if (failed(lower) || failed(upper) || failed(step))
    return failure();
  // No active thread at all: the loop runs no iteration.
  if (ubActive)
    upper =
        arith::SelectOp::create(b, loc, ubActive, *upper, *lower).getResult();

  // Loop-carried values are per thread: one register file each.
  SmallVector<Value> carried;
  for (auto [init, arg] :
       llvm::zip(loop.getInitArgs(), loop.getRegionIterArgs())) {
    FailureOr<Value> buffer = registerOf(arg);
    if (failed(buffer))
      return failure();
    carried.push_back(*buffer);
  }
  LogicalResult result = success();
  if (!carried.empty())
    forEachActiveThread([&](OpBuilder &pb, Value thread) {
      for (auto [init, buffer] : llvm::zip(loop.getInitArgs(), carried)) {
        FailureOr<Value> value = valueOn(pb, init, thread);
        if (failed(value)) {
          result = failure();
          return;
        }
        memref::StoreOp::create(pb, loc, *value, buffer, ValueRange{thread});
      }
    });
  if (failed(result))
    return failure();

  auto emulated = scf::ForOp::create(b, loc, *lower, *upper, *step);
  uniform.map(loop.getInductionVar(), emulated.getInductionVar());
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(emulated.getBody()->getTerminator());
    Block *body = loop.getBody();
    if (failed(emitOps(body->begin(), body->getTerminator()->getIterator())))
      return failure();
    // The yield: read every carried value first, then write them all.
    auto yield = cast<scf::YieldOp>(body->getTerminator());
    if (!carried.empty())
      forEachActiveThread([&](OpBuilder &pb, Value thread) {
        SmallVector<Value> next;
        for (Value operand : yield.getOperands()) {
          FailureOr<Value> value = valueOn(pb, operand, thread);
          if (failed(value)) {
            result = failure();
            return;
          }
          next.push_back(*value);
        }
        for (auto [value, buffer] : llvm::zip(next, carried))
          memref::StoreOp::create(pb, loc, value, buffer, ValueRange{thread});
      });
  }
  for (auto [loopResult, buffer] : llvm::zip(loop.getResults(), carried))
    registers[loopResult] = buffer;
  return result;
}

LogicalResult SimtEmulator::emitIf(scf::IfOp branch) {
  SmallVector<Value> results;
  for (Value value : branch.getResults()) {
    FailureOr<Value> buffer = registerOf(value);
    if (failed(buffer))
      return failure();
    results.push_back(*buffer);
  }
  LogicalResult result = success();
  auto emitRegion = [&](Region &region) -> LogicalResult {
    if (region.empty())
      return success();
    Block &block = region.front();
    if (failed(emitOps(block.begin(), block.getTerminator()->getIterator())))
      return failure();
    auto yield = cast<scf::YieldOp>(block.getTerminator());
    if (!results.empty())
      forEachActiveThread([&](OpBuilder &pb, Value thread) {
        for (auto [operand, buffer] : llvm::zip(yield.getOperands(), results)) {
          FailureOr<Value> value = valueOn(pb, operand, thread);
          if (failed(value)) {
            result = failure();
            return;
          }
          memref::StoreOp::create(pb, loc, *value, buffer, ValueRange{thread});
        }
      });
    return result;
  };

  if (isUniform(branch.getCondition())) {
    auto emulated =
        scf::IfOp::create(b, loc, lookupUniform(branch.getCondition()),
                          /*withElseRegion=*/!branch.getElseRegion().empty());
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(emulated.thenBlock()->getTerminator());
    if (failed(emitRegion(branch.getThenRegion())))
      return failure();
    if (!branch.getElseRegion().empty()) {
      b.setInsertionPoint(emulated.elseBlock()->getTerminator());
      if (failed(emitRegion(branch.getElseRegion())))
        return failure();
    }
    return success();
  }

  // A per-thread condition: the threads that take each side are a mask.
  Value thenMask = allocBuffer(b.getI1Type());
  Value elseMask = allocBuffer(b.getI1Type());
  Value outer = activeMasks.empty() ? Value() : activeMasks.back();
  auto threads = scf::ForOp::create(b, loc, indexConstant(b, loc, 0),
                                    numThreads, indexConstant(b, loc, 1));
  {
    OpBuilder pb = OpBuilder::atBlockBegin(threads.getBody());
    Value thread = threads.getInductionVar();
    Value active =
        outer ? memref::LoadOp::create(pb, loc, outer, ValueRange{thread})
                    .getResult()
              : arith::ConstantIntOp::create(pb, loc, 1, 1).getResult();
    FailureOr<Value> condition = valueOn(pb, branch.getCondition(), thread);
    if (failed(condition))
      return failure();
    Value negated = arith::XOrIOp::create(
        pb, loc, *condition, arith::ConstantIntOp::create(pb, loc, 1, 1));
    memref::StoreOp::create(pb, loc,
                            arith::AndIOp::create(pb, loc, active, *condition),
                            thenMask, ValueRange{thread});
    memref::StoreOp::create(pb, loc,
                            arith::AndIOp::create(pb, loc, active, negated),
                            elseMask, ValueRange{thread});
  }
  activeMasks.push_back(thenMask);
  LogicalResult thenResult = emitRegion(branch.getThenRegion());
  activeMasks.back() = elseMask;
  LogicalResult elseResult =
      succeeded(thenResult) ? emitRegion(branch.getElseRegion()) : failure();
  activeMasks.pop_back();
  if (failed(elseResult))
    return failure();
  for (auto [value, buffer] : llvm::zip(branch.getResults(), results))
    registers[value] = buffer;
  return success();
}

/// Thread-identity ops inside the body (`gpu.thread_id`, `gpu.lane_id`,
/// NVVM lane registers) in terms of the launch's own ids, so the phases only
/// have to map those.
} // namespace

bool isSingleIteration(ArrayRef<Value> upperBounds) {
  return llvm::all_of(upperBounds, [](Value bound) {
    std::optional<int64_t> value = getConstantIntValue(bound);
    return value && *value == 1;
  });
}

memref::AllocaScopeOp openAllocaScope(OpBuilder &b, Location loc) {
  auto scope = memref::AllocaScopeOp::create(b, loc, TypeRange{});
  Block *body = new Block();
  scope.getBodyRegion().push_back(body);
  b.setInsertionPointToStart(body);
  return scope;
}

Value allocWorkgroupBuffer(OpBuilder &b, Location loc, Type attributionType) {
  auto type = cast<MemRefType>(withoutWorkgroupSpace(attributionType));
  return memref::AllocaOp::create(b, loc, type, ValueRange{},
                                  b.getI64IntegerAttr(kBufferAlignment));
}

void stripWorkgroupSpace(Operation *root) {
  SmallVector<memref::MemorySpaceCastOp> casts;
  root->walk([&](Operation *op) {
    for (Value result : op->getResults())
      result.setType(withoutWorkgroupSpace(result.getType()));
    for (Region &region : op->getRegions())
      for (Block &nested : region)
        for (BlockArgument arg : nested.getArguments())
          arg.setType(withoutWorkgroupSpace(arg.getType()));
    if (auto cast = dyn_cast<memref::MemorySpaceCastOp>(op))
      casts.push_back(cast);
  });
  // A cast from workgroup memory to the generic space is now the identity.
  for (memref::MemorySpaceCastOp cast : casts)
    if (cast.getSource().getType() == cast.getType()) {
      cast.getResult().replaceAllUsesWith(cast.getSource());
      cast.erase();
    }
}

void canonicaliseThreadIdentity(gpu::LaunchOp launch) {
  gpu::KernelDim3 threadIds = launch.getThreadIds();
  gpu::KernelDim3 blockIds = launch.getBlockIds();
  gpu::KernelDim3 blockSize = launch.getBlockSize();
  gpu::KernelDim3 gridSize = launch.getGridSize();
  auto pick = [](gpu::KernelDim3 dims, gpu::Dimension d) {
    return d == gpu::Dimension::x   ? dims.x
           : d == gpu::Dimension::y ? dims.y
                                    : dims.z;
  };
  SmallVector<Operation *> ops;
  launch.getBody().walk([&](Operation *op) {
    if (isa<gpu::ThreadIdOp, gpu::BlockIdOp, gpu::BlockDimOp, gpu::GridDimOp,
            gpu::LaneIdOp, NVVM::LaneIdOp, NVVM::LaneMaskLtOp,
            NVVM::LaneMaskLeOp, NVVM::LaneMaskEqOp, NVVM::LaneMaskGeOp,
            NVVM::LaneMaskGtOp>(op))
      ops.push_back(op);
  });
  for (Operation *op : ops) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    Value replacement;
    if (auto id = dyn_cast<gpu::ThreadIdOp>(op))
      replacement = pick(threadIds, id.getDimension());
    else if (auto id = dyn_cast<gpu::BlockIdOp>(op))
      replacement = pick(blockIds, id.getDimension());
    else if (auto dim = dyn_cast<gpu::BlockDimOp>(op))
      replacement = pick(blockSize, dim.getDimension());
    else if (auto dim = dyn_cast<gpu::GridDimOp>(op))
      replacement = pick(gridSize, dim.getDimension());
    else {
      Value linear = arith::AddIOp::create(
          b, loc, threadIds.x,
          arith::MulIOp::create(
              b, loc, blockSize.x,
              arith::AddIOp::create(
                  b, loc, threadIds.y,
                  arith::MulIOp::create(b, loc, blockSize.y, threadIds.z))));
      Value lane = arith::RemUIOp::create(b, loc, linear,
                                          indexConstant(b, loc, kWarpSize));
      if (isa<gpu::LaneIdOp>(op)) {
        replacement = lane;
      } else {
        Value lane32 = arith::IndexCastOp::create(b, loc, b.getI32Type(), lane);
        Value bit =
            arith::ShLIOp::create(b, loc, i32Constant(b, loc, 1), lane32);
        Value below =
            arith::SubIOp::create(b, loc, bit, i32Constant(b, loc, 1));
        if (isa<NVVM::LaneIdOp>(op))
          replacement = lane32;
        else if (isa<NVVM::LaneMaskLtOp>(op))
          replacement = below;
        else if (isa<NVVM::LaneMaskLeOp>(op))
          replacement = arith::OrIOp::create(b, loc, below, bit);
        else if (isa<NVVM::LaneMaskEqOp>(op))
          replacement = bit;
        else if (isa<NVVM::LaneMaskGeOp>(op))
          replacement =
              arith::XOrIOp::create(b, loc, below, i32Constant(b, loc, -1));
        else
          replacement = arith::XOrIOp::create(
              b, loc, arith::OrIOp::create(b, loc, below, bit),
              i32Constant(b, loc, -1));
      }
    }
    op->getResult(0).replaceAllUsesWith(replacement);
    op->erase();
  }
}

bool needsSimtEmulation(gpu::LaunchOp launch) {
  if (!launch.getWorkgroupAttributions().empty())
    return true;
  return launch.getBody()
      .walk([](Operation *op) {
        return isSynchronisingOp(op) || isa<gpu::LaneIdOp>(op) ||
                       isa<NVVM::NVVMDialect>(op->getDialect())
                   ? WalkResult::interrupt()
                   : WalkResult::advance();
      })
      .wasInterrupted();
}

LogicalResult emulateSimtLaunch(gpu::LaunchOp launch) {
  return SimtEmulator(launch).run();
}

} // namespace winnow
