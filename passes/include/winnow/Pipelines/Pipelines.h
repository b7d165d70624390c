//===- Pipelines.h - Named lowering pipelines -------------------*- C++ -*-===//

#ifndef WINNOW_PASSES_PIPELINES_H
#define WINNOW_PASSES_PIPELINES_H

#include "mlir/Pass/PassManager.h"

#include <string>
#include <vector>

namespace winnow {
/// Graph-level clean-up on tok IR: verification and canonicalisation.
void buildTokCleanupPipeline(mlir::OpPassManager &pm);

/// Choices of the loop pipelines.
struct LoopsPipelineOptions {
  /// Group chains of tok ops into tok.dispatch regions first
  /// (tok-form-dispatch-regions with the target's cost model).
  bool fuse = true;
  /// The threads the CPU fusion model assumes a call runs on
  /// (tok-form-dispatch-regions' cpu-threads).
  int64_t cpuThreads = 16;
};

/// tok on tensors -> loops on memrefs with results as out-parameters.
void buildCpuLoopsPipeline(mlir::OpPassManager &pm,
                           const LoopsPipelineOptions &options = {});

/// loops on memrefs -> the LLVM dialect, entry points with C interfaces.
void buildCpuToLLVMPipeline(mlir::OpPassManager &pm);

/// tok on tensors -> loops on memrefs for the GPU: as the CPU's, but
/// elementwise linalg becomes parallel loops too.
void buildCudaLoopsPipeline(mlir::OpPassManager &pm,
                            const LoopsPipelineOptions &options = {});

/// The cuda target's loops mapped by tok-offload-to-gpu, then run on the
/// CPU by tok-emulate-gpu-launches: continues with buildCpuToLLVMPipeline.
/// Lets the CPU oracle tests check the GPU mapping without a GPU.
void buildCudaEmulationLoopsPipeline(mlir::OpPassManager &pm,
                                     const LoopsPipelineOptions &options = {});

/// Loops on device memrefs -> outlined gpu kernels and host code whose
/// allocations and launches are chained asynchronously on one stream.
void buildCudaToGpuPipeline(mlir::OpPassManager &pm);

/// Options of the NVVM lowering: the architectures PTX is generated for.
struct CudaPipelineOptions {
  std::vector<std::string> architectures = {"sm_80", "sm_90"};
  /// PTX ISA feature; 8.0 covers sm_80 and sm_90.
  std::string ptxFeatures = "+ptx80";
  unsigned optLevel = 3;
  /// CUDA toolkit root, for libdevice; empty when there is none.
  std::string toolkitPath;
};

/// gpu kernels + host code -> NVVM kernels (one target per architecture)
/// and host code in the LLVM dialect.
void buildCudaToNvvmPipeline(mlir::OpPassManager &pm,
                             const CudaPipelineOptions &options);

/// Serialises every gpu.module to one PTX object per target.
void buildCudaSerializePipeline(mlir::OpPassManager &pm,
                                const CudaPipelineOptions &options);

/// Registers the pipelines above as `winnow-tok-cleanup`,
/// `winnow-cpu-to-loops`, `winnow-cpu-to-llvm`, `winnow-cuda-to-loops`,
/// `winnow-cuda-to-gpu` and `winnow-cuda-to-nvvm` (sm_80 + sm_90).
void registerWinnowPipelines();
} // namespace winnow

#endif // WINNOW_PASSES_PIPELINES_H
