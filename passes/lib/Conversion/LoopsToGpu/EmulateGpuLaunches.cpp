//===- EmulateGpuLaunches.cpp - The tok-emulate-gpu-launches pass ---------===//
//
// Runs the GPU mapping on the CPU: every gpu.launch becomes a parallel loop
// over its blocks and threads with the body inlined, device allocations and
// copies become memref ones. The CPU then executes exactly the iteration
// space, scratch privatisation and launch grouping tok-offload-to-gpu chose,
// so the oracle tests check that mapping on a machine without a GPU.
// A block-phase launch (one block per dispatch row) runs phase by phase,
// as its barriers order it on a GPU; any other launch whose threads
// cooperate (barriers, shuffles, ballots, workgroup memory) runs lane by
// lane through the SIMT emulation (SimtEmulation.h).
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "SimtEmulation.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "winnow/Conversion/Passes.h"

namespace winnow {
#define GEN_PASS_DEF_TOKEMULATEGPULAUNCHES
#include "winnow/Conversion/Passes.h.inc"
} // namespace winnow

using namespace mlir;

namespace winnow {
namespace {

/// The CPU frame of a launch: an `scf.parallel` over its grid, and with
/// `overThreads` over its block too, whose body is one alloca scope (each
/// iteration's scratch is released when it ends). `mapping` sends block ids,
/// grid and block sizes (and thread ids) to the loop's values; `body` builds
/// inside the scope.
///
/// A frame of one iteration (a single-thread launch, or a batch-1 grid)
/// gets no scope: canonicalisation folds the loop into the function, where
/// a scope followed by more code could not be inlined and its body would be
/// split into blocks by convert-scf-to-cf (an alloca scope has one block).
/// Its scratch is then the function's, allocated once.
struct EmulationFrame {
  OpBuilder body;
  IRMapping mapping;
  Value zero, one;
  memref::AllocaScopeOp scope;

  /// Ends the body built so far.
  void finish(Location loc) {
    if (scope)
      memref::AllocaScopeReturnOp::create(body, loc);
  }
};

EmulationFrame emitFrame(gpu::LaunchOp launch, bool overThreads) {
  ImplicitLocOpBuilder b(launch.getLoc(), launch);
  Value zero = arith::ConstantIndexOp::create(b, 0);
  Value one = arith::ConstantIndexOp::create(b, 1);
  gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
  gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
  SmallVector<Value> upper = {grid.x, grid.y, grid.z};
  if (overThreads)
    upper.append({block.x, block.y, block.z});
  auto loop = scf::ParallelOp::create(
      b, SmallVector<Value>(upper.size(), zero), upper,
      SmallVector<Value>(upper.size(), one));
  b.setInsertionPoint(loop.getBody()->getTerminator());
  EmulationFrame frame{OpBuilder(b.getContext()), IRMapping(), zero, one,
                       nullptr};
  if (isSingleIteration(upper)) {
    frame.body.setInsertionPoint(loop.getBody()->getTerminator());
  } else {
    frame.body.setInsertionPoint(loop.getBody()->getTerminator());
    frame.scope = openAllocaScope(frame.body, launch.getLoc());
  }
  SmallVector<Value> ivs(loop.getInductionVars());
  gpu::KernelDim3 blockIds = launch.getBlockIds();
  gpu::KernelDim3 gridArgs = launch.getGridSize();
  gpu::KernelDim3 blockArgs = launch.getBlockSize();
  frame.mapping.map(blockIds.x, ivs[0]);
  frame.mapping.map(blockIds.y, ivs[1]);
  frame.mapping.map(blockIds.z, ivs[2]);
  if (overThreads) {
    gpu::KernelDim3 threadIds = launch.getThreadIds();
    frame.mapping.map(threadIds.x, ivs[3]);
    frame.mapping.map(threadIds.y, ivs[4]);
    frame.mapping.map(threadIds.z, ivs[5]);
  }
  frame.mapping.map(gridArgs.x, grid.x);
  frame.mapping.map(gridArgs.y, grid.y);
  frame.mapping.map(gridArgs.z, grid.z);
  frame.mapping.map(blockArgs.x, block.x);
  frame.mapping.map(blockArgs.y, block.y);
  frame.mapping.map(blockArgs.z, block.z);
  return frame;
}

/// A launch of block-uniform code and thread phases (tok-offload-to-gpu's
/// mapping of a tok.dispatch row loop): a parallel loop over blocks whose
/// body runs the uniform code once and each thread phase as a loop over the
/// block's threads, so every thread finishes a phase before the next starts
/// (what the barriers between them guarantee on the GPU).
LogicalResult emulateBlockPhases(gpu::LaunchOp launch) {
  EmulationFrame frame = emitFrame(launch, /*overThreads=*/false);
  OpBuilder &inner = frame.body;
  Location loc = launch.getLoc();
  // The row-buffer arena in shared memory: one buffer per block.
  for (BlockArgument attribution : launch.getWorkgroupAttributions())
    frame.mapping.map(attribution,
                      allocWorkgroupBuffer(inner, loc, attribution.getType()));
  Value blockDim = launch.getBlockSizeOperandValues().x;
  gpu::KernelDim3 threadIds = launch.getThreadIds();
  for (Operation &op : launch.getBody().front().without_terminator()) {
    if (isa<gpu::BarrierOp>(op))
      continue;
    if (!op.hasAttr(kThreadPhaseAttrName)) {
      inner.clone(op, frame.mapping);
      continue;
    }
    auto threads =
        scf::ForOp::create(inner, loc, frame.zero, blockDim, frame.one);
    OpBuilder::InsertionGuard guard(inner);
    inner.setInsertionPoint(threads.getBody()->getTerminator());
    frame.mapping.map(threadIds.x, threads.getInductionVar());
    inner.clone(op, frame.mapping);
  }
  frame.finish(loc);
  Operation *emulated = frame.body.getBlock()->getParentOp();
  launch.erase();
  stripWorkgroupSpace(emulated);
  return success();
}

LogicalResult emulateLaunch(gpu::LaunchOp launch) {
  Region &body = launch.getBody();
  if (!body.hasOneBlock() || !launch.getPrivateAttributions().empty() ||
      launch.getAsyncToken())
    return launch.emitOpError("cannot be emulated: expected a synchronous "
                              "single-block launch without private "
                              "attributions");
  canonicaliseThreadIdentity(launch);
  if (launch->hasAttr(kBlockPhasesAttrName))
    return emulateBlockPhases(launch);
  if (needsSimtEmulation(launch))
    return emulateSimtLaunch(launch);

  EmulationFrame frame = emitFrame(launch, /*overThreads=*/true);
  for (Operation &op : body.front().without_terminator())
    frame.body.clone(op, frame.mapping);
  frame.finish(launch.getLoc());
  launch.erase();
  return success();
}

struct TokEmulateGpuLaunchesPass
    : impl::TokEmulateGpuLaunchesBase<TokEmulateGpuLaunchesPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (isa<gpu::LaunchOp, gpu::AllocOp, gpu::DeallocOp, gpu::MemcpyOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      OpBuilder b(op);
      if (auto launch = dyn_cast<gpu::LaunchOp>(op)) {
        if (failed(emulateLaunch(launch)))
          return signalPassFailure();
      } else if (auto alloc = dyn_cast<gpu::AllocOp>(op)) {
        if (alloc.getAsyncToken())
          return (void)(alloc.emitOpError("async allocation cannot be "
                                          "emulated"),
                        signalPassFailure());
        auto host = memref::AllocOp::create(
            b, alloc.getLoc(), alloc.getType(), alloc.getDynamicSizes(),
            alloc.getSymbolOperands());
        alloc.getMemref().replaceAllUsesWith(host.getResult());
        alloc.erase();
      } else if (auto dealloc = dyn_cast<gpu::DeallocOp>(op)) {
        memref::DeallocOp::create(b, dealloc.getLoc(), dealloc.getMemref());
        dealloc.erase();
      } else if (auto copy = dyn_cast<gpu::MemcpyOp>(op)) {
        memref::CopyOp::create(b, copy.getLoc(), copy.getSrc(), copy.getDst());
        copy.erase();
      }
    }
    getOperation()->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  }
};

} // namespace
} // namespace winnow
