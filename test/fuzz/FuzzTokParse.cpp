//===- FuzzTokParse.cpp - Fuzz targets: tok source -> parse -> verify ----===//
//
// Parses the input as winnow-compile parses user input (the dialects of a
// tok program, the frontend's checks for upstream parser hazards) and
// verifies it. With WINNOW_FUZZ_PIPELINE (winnow-fuzz-tok-pipeline), a
// module that verifies also goes through the tok cleanup, the manifest
// rules and the CPU lowering to loops (code generation per input would be
// too slow for a fuzzer).
//
//===----------------------------------------------------------------------===//

#include "winnow/Frontend/SourceInput.h"
#include "winnow/Pipelines/Pipelines.h"
#include "winnow/Pipelines/Registration.h"
#include "winnow/Target/Manifest.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>

using namespace mlir;

namespace {

/// One context for many inputs; renewed now and then, because everything a
/// context uniques (types, attributes, identifiers) stays until it dies.
class Harness {
public:
  MLIRContext &context() {
    if (!current || ++uses > kUsesPerContext) {
      current.reset();
      DialectRegistry registry;
      winnow::registerTokProgramDialects(registry);
#ifdef WINNOW_FUZZ_PIPELINE
      winnow::registerWinnowDialects(registry);
#endif
      current = std::make_unique<MLIRContext>(registry);
      // Passes run on the fuzzer's thread: no thread pool per context.
      current->disableMultithreading();
      uses = 0;
    }
    return *current;
  }

private:
  static constexpr int kUsesPerContext = 2000;
  std::unique_ptr<MLIRContext> current;
  int uses = 0;
};

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
#ifdef WINNOW_FUZZ_PIPELINE
  winnow::registerWinnowPasses();
#endif
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static Harness harness;
  MLIRContext &context = harness.context();
  // Diagnostics are expected; printing them would only slow the fuzzer.
  ScopedDiagnosticHandler quiet(&context, [](Diagnostic &) {
    return success();
  });
  llvm::SourceMgr sourceMgr;
  OwningOpRef<ModuleOp> module = winnow::parseSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(data), size),
          "fuzz.mlir"),
      sourceMgr, &context);
  if (!module || failed(verify(*module)))
    return 0;
#ifdef WINNOW_FUZZ_PIPELINE
  PassManager cleanup(&context);
  winnow::buildTokCleanupPipeline(cleanup);
  if (failed(cleanup.run(*module)) ||
      failed(winnow::collectEntryPoints(*module)))
    return 0;
  winnow::stripEntryPointNames(*module);
  PassManager loops(&context);
  winnow::buildCpuLoopsPipeline(loops);
  (void)loops.run(*module);
#endif
  return 0;
}
