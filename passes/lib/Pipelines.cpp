//===- Pipelines.cpp - Named lowering pipelines ---------------------------===//
//
// The pipelines are spelled as textual pass pipelines: the same string a
// user can pass to winnow-opt to reproduce any stage by hand.
//
//===----------------------------------------------------------------------===//

#include "winnow/Passes/Pipelines.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/ErrorHandling.h"

using namespace mlir;

namespace winnow {
namespace {
constexpr const char *kTokCleanup = "canonicalize,cse";

// Elementwise arith/math on tensors around the tok ops (a log-size bias, a
// residual scale) go through linalg so they bufferize and become loops too.
constexpr const char *kCpuLoops =
    "func.func(convert-elementwise-to-linalg),"
    "tok-lower-to-loops,"
    "one-shot-bufferize{bufferize-function-boundaries=true "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-results-to-out-params{hoist-static-allocs=true "
    "modify-public-functions=true},"
    "canonicalize,"
    "func.func(buffer-loop-hoisting),"
    "buffer-deallocation-pipeline,"
    "tok-expand-strided-copies,"
    "func.func(convert-linalg-to-loops),"
    "canonicalize,cse";

// bf16 <-> f32 conversions are expanded to integer ops (round to nearest
// even) because no runtime library on the target provides __truncsfbf2;
// f16 conversions call libgcc's __extendhfsf2 / __truncsfhf2 unless the CPU
// has F16C.
constexpr const char *kCpuToLLVM =
    "tok-mark-entry-points,"
    "arith-expand{include-bf16=true},"
    "convert-scf-to-cf,"
    "expand-strided-metadata,"
    "lower-affine,"
    "finalize-memref-to-llvm,"
    "convert-math-to-llvm,"
    "convert-arith-to-llvm,"
    "convert-index-to-llvm,"
    "convert-func-to-llvm,"
    "convert-cf-to-llvm,"
    "reconcile-unrealized-casts";

void addPipeline(OpPassManager &pm, const char *pipeline) {
  if (failed(parsePassPipeline(pipeline, pm)))
    llvm::report_fatal_error(llvm::Twine("malformed built-in pipeline: ") +
                             pipeline);
}
} // namespace

void buildTokCleanupPipeline(OpPassManager &pm) { addPipeline(pm, kTokCleanup); }
void buildCpuLoopsPipeline(OpPassManager &pm) { addPipeline(pm, kCpuLoops); }
void buildCpuToLLVMPipeline(OpPassManager &pm) { addPipeline(pm, kCpuToLLVM); }

void registerWinnowPipelines() {
  PassPipelineRegistration<>("winnow-tok-cleanup",
                             "Canonicalise and CSE tok IR",
                             buildTokCleanupPipeline);
  PassPipelineRegistration<>(
      "winnow-cpu-to-loops",
      "Lower tok on tensors to loops on memrefs with out-parameter results",
      buildCpuLoopsPipeline);
  PassPipelineRegistration<>(
      "winnow-cpu-to-llvm",
      "Lower CPU loops to the LLVM dialect with C-interface entry points",
      buildCpuToLLVMPipeline);
}

} // namespace winnow
