//===- CompilerMain.cpp - The winnow-compile driver -----------------------===//
//
// .mlir (tok dialect) in, a .wnn artifact out. Every phase of the pipeline
// can be stopped at and printed with --compile-to, so any stage can be
// inspected or fed back to winnow-opt by hand.
//
//===----------------------------------------------------------------------===//

#include "winnow/Tools/CompilerMain.h"

#include "winnow/Frontend/SourceInput.h"
#include "winnow/Passes/Pipelines.h"
#include "winnow/Passes/Registration.h"
#include "winnow/Target/ArtifactWriter.h"
#include "winnow/Target/CpuCodegen.h"
#include "winnow/Target/Manifest.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;

namespace winnow {
namespace {

enum class Phase { tok, loops, llvm, llvmIR, object, artifact };

struct DriverOptions {
  llvm::cl::opt<std::string> input{llvm::cl::Positional,
                                   llvm::cl::desc("<input .mlir>"),
                                   llvm::cl::init("-")};
  llvm::cl::opt<std::string> output{
      "o", llvm::cl::desc("Output file (default: <input>.wnn for artifacts, "
                          "stdout for IR)"),
      llvm::cl::value_desc("path")};
  llvm::cl::list<std::string> targets{
      "target", llvm::cl::desc("Targets to compile for (default: cpu)"),
      llvm::cl::CommaSeparated};
  llvm::cl::opt<Phase> compileTo{
      "compile-to", llvm::cl::desc("Stop after this phase and write its output"),
      llvm::cl::init(Phase::artifact),
      llvm::cl::values(
          clEnumValN(Phase::tok, "tok", "verified, canonicalised tok IR"),
          clEnumValN(Phase::loops, "loops",
                     "loops on memrefs, results as out-parameters"),
          clEnumValN(Phase::llvm, "llvm", "the LLVM dialect"),
          clEnumValN(Phase::llvmIR, "llvm-ir", "optimised LLVM IR"),
          clEnumValN(Phase::object, "object", "a relocatable object file"),
          clEnumValN(Phase::artifact, "artifact", "a .wnn artifact"))};
  llvm::cl::alias emit{"emit", llvm::cl::desc("Alias for --compile-to"),
                       llvm::cl::aliasopt(compileTo)};
  llvm::cl::opt<std::string> cpu{
      "cpu",
      llvm::cl::desc("CPU to generate code for: an LLVM CPU name, or native"),
      llvm::cl::init("x86-64-v2")};
  llvm::cl::opt<unsigned> optLevel{
      "opt-level", llvm::cl::desc("LLVM optimisation level (0-3)"),
      llvm::cl::init(3)};
  llvm::cl::opt<std::string> linker{
      "linker", llvm::cl::desc("ld.lld used to link the CPU shared object"),
      llvm::cl::init(WINNOW_DEFAULT_LINKER)};
};

/// Reports an error that belongs to no source location.
LogicalResult driverError(const llvm::Twine &message) {
  llvm::errs() << "winnow-compile: error: " << message << "\n";
  return failure();
}

/// Writes `contents` to the output path (or stdout).
LogicalResult writeOutput(StringRef path, StringRef contents) {
  std::string message;
  std::unique_ptr<llvm::ToolOutputFile> file = openOutputFile(path, &message);
  if (!file)
    return driverError(message);
  file->os() << contents;
  file->keep();
  return success();
}

std::string defaultOutput(const DriverOptions &options) {
  if (options.compileTo != Phase::artifact && options.compileTo != Phase::object)
    return "-";
  StringRef stem = options.input == "-"
                       ? StringRef("out")
                       : llvm::sys::path::stem(options.input.getValue());
  return (stem + (options.compileTo == Phase::object ? ".o" : ".wnn")).str();
}

LogicalResult runPipeline(ModuleOp module,
                          llvm::function_ref<void(OpPassManager &)> build) {
  PassManager pm(module.getContext());
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  build(pm);
  return pm.run(module);
}

std::string printModule(ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  return text;
}

LogicalResult compile(const DriverOptions &options, MLIRContext &context,
                      llvm::SourceMgr &sourceMgr) {
  for (const std::string &target : options.targets) {
    if (target == "cpu")
      continue;
    if (target == "cuda")
      return driverError("target 'cuda' is not available in this build yet; "
                         "use --target=cpu");
    return driverError("unknown target '" + target + "'; expected cpu");
  }
  std::string outputPath =
      options.output.empty() ? defaultOutput(options) : options.output.getValue();

  OwningOpRef<ModuleOp> module =
      parseSourceFile(options.input, sourceMgr, &context);
  if (!module)
    return failure();
  if (failed(runPipeline(*module, buildTokCleanupPipeline)))
    return failure();
  if (options.compileTo == Phase::tok)
    return writeOutput(outputPath, printModule(*module));

  // The manifest describes tensors, so it is read before bufferization.
  FailureOr<SmallVector<FunctionSignature, 1>> entryPoints =
      collectEntryPoints(*module);
  if (failed(entryPoints))
    return failure();
  stripEntryPointNames(*module);

  if (failed(runPipeline(*module, buildCpuLoopsPipeline)))
    return failure();
  if (options.compileTo == Phase::loops)
    return writeOutput(outputPath, printModule(*module));

  if (failed(runPipeline(*module, buildCpuToLLVMPipeline)))
    return failure();
  if (options.compileTo == Phase::llvm)
    return writeOutput(outputPath, printModule(*module));

  CpuTargetOptions cpuOptions;
  cpuOptions.cpu = options.cpu;
  cpuOptions.optLevel = options.optLevel;
  cpuOptions.linker = options.linker;
  SmallVector<std::string> names;
  for (const FunctionSignature &signature : *entryPoints)
    names.push_back(signature.name);
  llvm::LLVMContext llvmContext;
  FailureOr<std::unique_ptr<llvm::Module>> llvmModule =
      translateForCpu(*module, llvmContext, names, cpuOptions);
  if (failed(llvmModule))
    return failure();
  if (options.compileTo == Phase::llvmIR) {
    std::string text;
    llvm::raw_string_ostream os(text);
    (*llvmModule)->print(os, nullptr);
    return writeOutput(outputPath, text);
  }

  FailureOr<std::string> object = emitObject(module->getLoc(), **llvmModule, cpuOptions);
  if (failed(object))
    return failure();
  if (options.compileTo == Phase::object)
    return writeOutput(outputPath, *object);

  FailureOr<std::string> shared =
      linkSharedObject(module->getLoc(), *object, cpuOptions);
  if (failed(shared))
    return failure();

  ArtifactContents contents;
  contents.producer = "winnow-compile (LLVM/MLIR " LLVM_VERSION_STRING ")";
  contents.sourceName = llvm::sys::path::filename(options.input).str();
  contents.functions = std::move(*entryPoints);
  contents.cpuBinaries.push_back(
      {resolveTriple(cpuOptions), options.cpu, std::move(*shared)});
  return writeOutput(outputPath, serializeArtifact(contents));
}

} // namespace

int compilerMain(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  registerWinnowPasses();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerAsmPrinterCLOptions();
  DriverOptions options;
  llvm::cl::ParseCommandLineOptions(
      argc, argv,
      "winnow-compile: compile a tok program ahead of time\n\n"
      "  winnow-compile prune.mlir -o prune.wnn\n"
      "  winnow-compile prune.mlir --compile-to=loops\n");

  DialectRegistry registry;
  registerWinnowDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // Diagnostics point at the source line; the generic dump of the whole op
  // that MLIR appends by default only buries the message.
  context.printOpOnDiagnostic(false);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  return succeeded(compile(options, context, sourceMgr)) ? 0 : 1;
}

} // namespace winnow
