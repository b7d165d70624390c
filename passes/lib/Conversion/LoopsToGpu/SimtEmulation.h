//===- SimtEmulation.h - Lane-accurate CPU emulation of a launch -*- C++
//-*-===//
//
// Part of tok-emulate-gpu-launches: a launch whose threads cooperate
// (barriers, shuffles, ballots, workgroup memory) runs on the CPU block by
// block, split into phases at every synchronising op.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_CONVERSION_LOOPSTOGPU_SIMTEMULATION_H
#define WINNOW_CONVERSION_LOOPSTOGPU_SIMTEMULATION_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Support/LLVM.h"

namespace winnow {

/// Whether `op` makes the threads of a block (or of a warp) wait for or read
/// from each other: `gpu.barrier`, `gpu.shuffle`, `nvvm.vote.sync`.
bool isSynchronisingOp(mlir::Operation *op);

/// Whether `launch` needs the lane-accurate emulation: it synchronises its
/// threads or shares workgroup memory between them.
bool needsSimtEmulation(mlir::gpu::LaunchOp launch);

/// Rewrites `gpu.thread_id`, `gpu.block_id`, `gpu.block_dim`,
/// `gpu.grid_dim`, `gpu.lane_id` and NVVM's lane id and lane masks inside
/// `launch` in terms of the launch's own id and size arguments, the only
/// thread identity an emulation has to provide.
void canonicaliseThreadIdentity(mlir::gpu::LaunchOp launch);

/// Whether loop bounds (a grid, a block) multiply to exactly one iteration.
/// A CPU frame of one iteration gets no alloca scope: canonicalisation folds
/// its loop into the function, where a scope followed by more code could
/// not be inlined and convert-scf-to-cf would split its one block.
bool isSingleIteration(llvm::ArrayRef<mlir::Value> upperBounds);

/// An empty alloca scope at `b`'s insertion point (its body has no
/// terminator yet); `b` moves to the start of its body.
mlir::memref::AllocaScopeOp openAllocaScope(mlir::OpBuilder &b,
                                            mlir::Location loc);

/// A CPU buffer standing for a workgroup attribution of `attributionType`
/// (static shape; the workgroup address space dropped), 64-byte aligned.
mlir::Value allocWorkgroupBuffer(mlir::OpBuilder &b, mlir::Location loc,
                                 mlir::Type attributionType);

/// Drops the workgroup address space from every memref type under `root`
/// (the CPU has one address space) and the memory-space casts that become
/// identities.
void stripWorkgroupSpace(mlir::Operation *root);

/// Replaces `launch` by a parallel loop over its blocks whose body runs the
/// block's threads phase by phase: every op between two synchronising ops
/// runs for each thread in turn (per-thread values that cross a phase live
/// in one buffer slot per thread), a shuffle or ballot reads the other
/// lanes' slots with PTX's lane arithmetic, and workgroup attributions
/// become one buffer per block. Control flow that contains a synchronising
/// op runs at block level: a loop needs the same bounds on every active
/// thread, a per-thread condition becomes an active mask. What the GPU
/// leaves undefined is checked or made visible: a barrier reached by only
/// some threads of a block and loop bounds that differ between threads abort
/// the program (`cf.assert`); a lane read from outside the block or from a
/// thread that is not active yields NaN or 0xDEADBEEF... instead of a
/// plausible value.
mlir::LogicalResult emulateSimtLaunch(mlir::gpu::LaunchOp launch);

} // namespace winnow

#endif // WINNOW_CONVERSION_LOOPSTOGPU_SIMTEMULATION_H
