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

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "winnow/Passes/Passes.h"

#include "llvm/ADT/SetVector.h"

namespace winnow {
#define GEN_PASS_DEF_TOKOFFLOADTOGPU
#include "winnow/Passes/Passes.h.inc"
} // namespace winnow

using namespace mlir;

namespace winnow {
namespace {

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
    if (failed(moveConstantsToDevice(body)))
      return failure();

    SmallVector<Operation *> run; // memory-touching host code, in order
    llvm::SetVector<Operation *> inRun;
    auto flush = [&]() -> LogicalResult {
      if (run.empty())
        return success();
      LogicalResult result = emitSerialLaunch(run);
      run.clear();
      inRun.clear();
      return result;
    };

    for (Operation &op : llvm::make_early_inc_range(body)) {
      if (op.hasTrait<OpTrait::IsTerminator>()) {
        if (failed(flush()))
          return failure();
        continue;
      }
      bool dependsOnRun = llvm::any_of(op.getOperands(), [&](Value v) {
        Operation *def = v.getDefiningOp();
        return def && inRun.contains(def);
      });
      if (isa<memref::AllocaOp>(op) && !dependsOnRun) {
        scratch.push_back(cast<memref::AllocaOp>(op));
        continue;
      }
      if (staysOnHost(&op) && !dependsOnRun)
        continue;
      if (isa<scf::ParallelOp, memref::AllocOp, memref::DeallocOp>(op)) {
        if (dependsOnRun)
          return op.emitOpError("uses a value computed by device code");
        if (failed(flush()))
          return failure();
        if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
          if (failed(emitParallelLaunch(loop)))
            return failure();
        } else if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
          toDeviceAlloc(alloc);
        } else {
          toDeviceDealloc(cast<memref::DeallocOp>(op));
        }
        continue;
      }
      run.push_back(&op);
      inRun.insert(&op);
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
        ubs.push_back(memref::DimOp::create(b, copy.getSource(), d));
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

  /// `scf.parallel` → a 1-D grid with one thread per iteration; the
  /// iteration space is delinearised innermost-fastest, so consecutive
  /// threads take consecutive iterations of the innermost dimension.
  LogicalResult emitParallelLaunch(scf::ParallelOp loop) {
    if (loop.getNumReductions() != 0)
      return loop.emitOpError("with reductions cannot be offloaded yet");
    ImplicitLocOpBuilder b(loop.getLoc(), loop);
    auto ceilDiv = [&](Value x, Value y) {
      return arith::CeilDivUIOp::create(b, x, y).getResult();
    };
    SmallVector<Value> extents;
    Value total = arith::ConstantIndexOp::create(b, 1);
    for (auto [lb, ub, step] : llvm::zip(loop.getLowerBound(),
                                         loop.getUpperBound(),
                                         loop.getStep())) {
      Value span = arith::MaxSIOp::create(
          b, arith::SubIOp::create(b, ub, lb),
          arith::ConstantIndexOp::create(b, 0));
      extents.push_back(ceilDiv(span, step));
      total = arith::MulIOp::create(b, total, extents.back());
    }
    // A static iteration count smaller than a block gets a smaller block
    // (rounded to a warp); an empty loop still launches one idle thread.
    int64_t threads = blockSize;
    if (auto known = getConstantIntValue(total))
      threads = std::clamp<int64_t>((*known + 31) / 32 * 32, 32, blockSize);
    Value blockDim = arith::ConstantIndexOp::create(b, threads);
    Value one = arith::ConstantIndexOp::create(b, 1);
    Value grid = arith::MaxUIOp::create(b, ceilDiv(total, blockDim), one);
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
};

struct TokOffloadToGpuPass
    : impl::TokOffloadToGpuBase<TokOffloadToGpuPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (blockSize < 32 || blockSize > 1024 || blockSize % 32 != 0) {
      module.emitError("tok-offload-to-gpu: block-size must be a multiple of "
                       "32 in [32, 1024], got ")
          << blockSize;
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
