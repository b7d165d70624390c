//===- Pipelines.h - Named lowering pipelines -------------------*- C++ -*-===//

#ifndef WINNOW_PASSES_PIPELINES_H
#define WINNOW_PASSES_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace winnow {
/// Graph-level clean-up on tok IR: verification and canonicalisation.
void buildTokCleanupPipeline(mlir::OpPassManager &pm);

/// tok on tensors -> loops on memrefs with results as out-parameters.
void buildCpuLoopsPipeline(mlir::OpPassManager &pm);

/// loops on memrefs -> the LLVM dialect, entry points with C interfaces.
void buildCpuToLLVMPipeline(mlir::OpPassManager &pm);

/// Registers the pipelines above as `winnow-tok-cleanup`,
/// `winnow-cpu-to-loops` and `winnow-cpu-to-llvm`.
void registerWinnowPipelines();
} // namespace winnow

#endif // WINNOW_PASSES_PIPELINES_H
