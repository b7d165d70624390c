//===- Pipelines.cpp - Named lowering pipelines ---------------------------===//
//
// The pipelines are spelled as textual pass pipelines: the same string a
// user can pass to winnow-opt to reproduce any stage by hand.
//
//===----------------------------------------------------------------------===//

#include "winnow/Pipelines/Pipelines.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/ErrorHandling.h"

using namespace mlir;

namespace winnow {
namespace {
constexpr const char *kTokCleanup = "canonicalize,cse";

// exp and log are expanded into Winnow's own arithmetic last, on every
// target, so the CPU and the GPU compute the same bits (decisions that read
// a softmax sum or an entropy do not depend on libm vs libdevice).
// Chains of tok ops (and their elementwise neighbours) are fused into
// tok.dispatch regions first, with the target's cost model; the loop
// lowering turns each into one loop over batch rows. Elementwise arith/math
// left outside (a log-size bias) goes through linalg so it bufferizes and
// becomes loops too.
#define WINNOW_LOOPS_PIPELINE(TOK_TO_LOOPS, LINALG_TO_LOOPS)                   \
  TOK_TO_LOOPS ","                                                             \
               "func.func(convert-elementwise-to-linalg),"                     \
               "one-shot-bufferize{bufferize-function-boundaries=true "        \
               "function-boundary-type-conversion=identity-layout-map},"       \
               "func.func(tok-copy-repeated-results,scf-forall-to-parallel),"  \
               "buffer-results-to-out-params{hoist-static-allocs=true "        \
               "hoist-dynamic-allocs=true modify-public-functions=true},"      \
               "canonicalize,"                                                 \
               "func.func(buffer-loop-hoisting),"                              \
               "buffer-deallocation-pipeline,"                                 \
               "func.func(tok-forward-row-results),"                           \
               "tok-expand-strided-copies,"                                    \
               "func.func(" LINALG_TO_LOOPS "),"                               \
               "func.func(tok-portable-exp-log),"                              \
               "canonicalize,cse"

constexpr const char *kCpuLoops =
    WINNOW_LOOPS_PIPELINE("tok-lower-to-loops", "convert-linalg-to-loops");
// The GPU maps parallel loops onto threads, so elementwise code stays
// parallel and tok.select is spread over tokens.
constexpr const char *kCudaLoops =
    WINNOW_LOOPS_PIPELINE("tok-lower-to-loops{intra-row-parallel=true}",
                          "convert-linalg-to-parallel-loops")
    ",func.func(scf-parallel-loop-fusion),canonicalize,cse";

// One stream per call: gpu-async-region chains every allocation, copy and
// launch with async tokens, so nothing waits on the host in between.
// One gpu.module for all kernels: one PTX module, one ptxas run per
// architecture, one image to load.
// Constants and index arithmetic are sunk into each launch before it is
// outlined, so trip counts and strides are immediates in the kernel (LLVM
// can unroll and fold them) instead of kernel parameters.
constexpr const char *kCudaToGpu = "tok-offload-to-gpu,"
                                   "collective-to-gpu{form=shuffle},"
                                   "canonicalize,"
                                   "gpu-launch-sink-index-computations,"
                                   "gpu-kernel-outlining,"
                                   "tok-merge-gpu-modules,"
                                   "gpu.module(tok-align-workgroup-buffers),"
                                   "func.func(gpu-async-region),"
                                   "canonicalize,cse";

// Upstream's gpu-lower-to-nvvm-pipeline order: everything that is not a GPU
// op reaches the LLVM dialect before convert-gpu-to-nvvm (which expects
// LLVM-typed control flow in kernels), then the host's gpu ops. Vector ops
// are the exception: convert-gpu-to-nvvm lowers the kernels' own (through
// the dialect's ConvertToLLVM interface, with the workgroup address space
// mapped to 3, which convert-vector-to-llvm cannot do), the host's after.
constexpr const char *kCudaToNvvm =
    "arith-expand{include-bf16=true},"
    "convert-scf-to-cf,"
    "tok-mark-entry-points,"
    "convert-func-to-llvm,"
    "expand-strided-metadata,"
    "lower-affine,"
    "convert-arith-to-llvm,"
    "convert-index-to-llvm,"
    "convert-cf-to-llvm,"
    "canonicalize,cse,"
    "gpu.module(convert-gpu-to-nvvm,canonicalize,cse,"
    "reconcile-unrealized-casts),"
    "convert-vector-to-llvm,"
    "finalize-memref-to-llvm,"
    "convert-math-to-llvm,"
    "gpu-to-llvm,"
    "reconcile-unrealized-casts,"
    "canonicalize,cse";

// bf16 <-> f32 conversions are expanded to integer ops (round to nearest
// even) because no runtime library on the target provides __truncsfbf2;
// f16 conversions call libgcc's __extendhfsf2 / __truncsfhf2 unless the CPU
// has F16C.
constexpr const char *kCpuToLLVM = "tok-outline-parallel-loops,"
                                   "canonicalize,"
                                   "tok-mark-entry-points,"
                                   "arith-expand{include-bf16=true},"
                                   "convert-scf-to-cf,"
                                   "expand-strided-metadata,"
                                   "lower-affine,"
                                   "convert-vector-to-llvm,"
                                   "finalize-memref-to-llvm,"
                                   "convert-math-to-llvm,"
                                   "convert-arith-to-llvm,"
                                   "convert-index-to-llvm,"
                                   "convert-func-to-llvm,"
                                   "convert-cf-to-llvm,"
                                   "tok-lower-parallel-launches,"
                                   "reconcile-unrealized-casts";

void addPipeline(OpPassManager &pm, const char *pipeline) {
  if (failed(parsePassPipeline(pipeline, pm)))
    llvm::report_fatal_error(llvm::Twine("malformed built-in pipeline: ") +
                             pipeline);
}

/// A function with a dynamic batch becomes a loop over rows of static ops
/// first, then the fusion pass for `target` runs when fusion is on.
void addFusion(OpPassManager &pm, const LoopsPipelineOptions &options,
               const char *target) {
  addPipeline(pm, (std::string("func.func(tok-rows-of-dynamic-batch{target=") +
                   target + "})")
                      .c_str());
  if (options.fuse)
    addPipeline(pm,
                (std::string("func.func(tok-form-dispatch-regions{target=") +
                 target + " cpu-threads=" + std::to_string(options.cpuThreads) +
                 "})")
                    .c_str());
}
} // namespace

void buildTokCleanupPipeline(OpPassManager &pm) { addPipeline(pm, kTokCleanup); }

void buildCpuLoopsPipeline(OpPassManager &pm,
                           const LoopsPipelineOptions &options) {
  addFusion(pm, options, "cpu");
  addPipeline(pm, kCpuLoops);
}
void buildCpuToLLVMPipeline(OpPassManager &pm) { addPipeline(pm, kCpuToLLVM); }
void buildCudaLoopsPipeline(OpPassManager &pm,
                            const LoopsPipelineOptions &options) {
  addFusion(pm, options, "cuda");
  addPipeline(pm, kCudaLoops);
}
void buildCudaEmulationLoopsPipeline(OpPassManager &pm,
                                     const LoopsPipelineOptions &options) {
  addFusion(pm, options, "cuda");
  addPipeline(pm, kCudaLoops);
  addPipeline(pm, "tok-offload-to-gpu,collective-to-gpu{form=shuffle},"
                  "tok-emulate-gpu-launches,canonicalize,cse");
}
void buildCudaToGpuPipeline(OpPassManager &pm) { addPipeline(pm, kCudaToGpu); }

void buildCudaToNvvmPipeline(OpPassManager &pm,
                             const CudaPipelineOptions &options) {
  std::string attach;
  for (const std::string &arch : options.architectures)
    attach += "nvvm-attach-target{chip=" + arch + " features=" +
              options.ptxFeatures + " O=" + std::to_string(options.optLevel) +
              "},";
  addPipeline(pm, (attach + kCudaToNvvm).c_str());
}

void buildCudaSerializePipeline(OpPassManager &pm,
                                const CudaPipelineOptions &options) {
  std::string serialize = "gpu-module-to-binary{format=isa";
  if (!options.toolkitPath.empty())
    serialize += " toolkit=" + options.toolkitPath;
  addPipeline(pm, (serialize + "}").c_str());
}

void registerWinnowPipelines() {
  PassPipelineRegistration<>("winnow-tok-cleanup",
                             "Canonicalise and CSE tok IR",
                             buildTokCleanupPipeline);
  PassPipelineRegistration<>(
      "winnow-cpu-to-loops",
      "Lower tok on tensors to loops on memrefs with out-parameter results",
      [](OpPassManager &pm) { buildCpuLoopsPipeline(pm); });
  PassPipelineRegistration<>(
      "winnow-cpu-to-llvm",
      "Lower CPU loops to the LLVM dialect with C-interface entry points",
      buildCpuToLLVMPipeline);
  PassPipelineRegistration<>(
      "winnow-cuda-to-loops",
      "Lower tok on tensors to (parallel) loops on device memrefs",
      [](OpPassManager &pm) { buildCudaLoopsPipeline(pm); });
  PassPipelineRegistration<>(
      "winnow-cuda-to-gpu",
      "Map device loop code onto outlined GPU kernels and async launches",
      buildCudaToGpuPipeline);
  PassPipelineRegistration<>(
      "winnow-cuda-to-nvvm",
      "Lower kernels to NVVM for sm_80 and sm_90 and the host code to LLVM",
      [](OpPassManager &pm) {
        buildCudaToNvvmPipeline(pm, CudaPipelineOptions());
      });
}

} // namespace winnow
