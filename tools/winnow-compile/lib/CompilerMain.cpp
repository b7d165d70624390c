//===- CompilerMain.cpp - The winnow-compile driver -----------------------===//
//
// .mlir (tok dialect) in, a .wnn artifact out. Every phase of the pipeline
// can be stopped at and printed with --compile-to, so any stage can be
// inspected or fed back to winnow-opt by hand.
//
//===----------------------------------------------------------------------===//

#include "winnow/Tools/CompilerMain.h"

#include "winnow/Dialect/Tok/Transforms/Passes.h"
#include "winnow/Frontend/SourceInput.h"
#include "winnow/Pipelines/Pipelines.h"
#include "winnow/Pipelines/Registration.h"
#include "winnow/Target/ArtifactWriter.h"
#include "winnow/Target/CpuCodegen.h"
#include "winnow/Target/CudaCodegen.h"
#include "winnow/Target/KernelReport.h"
#include "winnow/Target/Manifest.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/TargetParser/Triple.h"

using namespace mlir;

namespace winnow {
namespace {

enum class Phase { tok, loops, gpu, nvvm, ptx, llvm, llvmIR, object, artifact };

struct DriverOptions {
  /// winnow-compile's own options: the only ones --help lists (MLIR's and
  /// LLVM's stay usable and are listed by --help-hidden). Declared first:
  /// the options below refer to it as they are constructed.
  llvm::cl::OptionCategory category{"winnow-compile options"};

  llvm::cl::opt<std::string> input{
      llvm::cl::cat(category), llvm::cl::Positional,
      llvm::cl::desc("<input .mlir>"), llvm::cl::init("-")};
  llvm::cl::opt<std::string> output{
      llvm::cl::cat(category), "o",
      llvm::cl::desc("Output file (default: <input>.wnn for artifacts, "
                     "stdout for IR)"),
      llvm::cl::value_desc("path")};
  llvm::cl::list<std::string> targets{
      llvm::cl::cat(category), "target",
      llvm::cl::desc("Targets to compile for: cpu, cuda, or both as cpu,cuda "
                     "(default: cpu)"),
      llvm::cl::CommaSeparated};
  llvm::cl::opt<Phase> compileTo{
      llvm::cl::cat(category), "compile-to",
      llvm::cl::desc("Stop after this phase and write its output"),
      llvm::cl::init(Phase::artifact),
      llvm::cl::values(
          clEnumValN(Phase::tok, "tok", "verified, canonicalised tok IR"),
          clEnumValN(Phase::loops, "loops",
                     "loops on memrefs, results as out-parameters"),
          clEnumValN(Phase::gpu, "gpu",
                     "cuda: outlined gpu kernels and async host launches"),
          clEnumValN(Phase::nvvm, "nvvm",
                     "cuda: kernels in NVVM, host code in the LLVM dialect"),
          clEnumValN(Phase::ptx, "ptx",
                     "cuda: the PTX of every kernel module and architecture"),
          clEnumValN(Phase::llvm, "llvm", "cpu: the LLVM dialect"),
          clEnumValN(Phase::llvmIR, "llvm-ir",
                     "optimised LLVM IR (for cuda: the host code)"),
          clEnumValN(Phase::object, "object",
                     "a relocatable object file (for cuda: the host code)"),
          clEnumValN(Phase::artifact, "artifact", "a .wnn artifact"))};
  llvm::cl::alias emit{"emit", llvm::cl::desc("Alias for --compile-to"),
                       llvm::cl::aliasopt(compileTo)};
  llvm::cl::opt<std::string> cpu{
      llvm::cl::cat(category), "cpu",
      llvm::cl::desc("CPUs to generate code for, most preferred first: LLVM "
                     "CPU names or native, comma-separated; the runtime runs "
                     "the first one the host supports (default on x86-64: "
                     "x86-64-v3,x86-64-v2)"),
      llvm::cl::value_desc("cpu[,cpu...]")};
  llvm::cl::opt<unsigned> optLevel{
      llvm::cl::cat(category), "opt-level",
      llvm::cl::desc("LLVM optimisation level (0-3)"), llvm::cl::init(3)};
  llvm::cl::opt<std::string> linker{
      llvm::cl::cat(category), "linker",
      llvm::cl::desc("ld.lld used to link the CPU shared object"),
      llvm::cl::init(WINNOW_DEFAULT_LINKER)};
  llvm::cl::list<std::string> cudaCubin{
      llvm::cl::cat(category), "cuda-cubin",
      llvm::cl::desc("SM architectures to embed cubins for (default: "
                     "sm_80,sm_90; 'none' for PTX only)"),
      llvm::cl::CommaSeparated};
  llvm::cl::opt<std::string> cudaPtx{
      llvm::cl::cat(category), "cuda-ptx",
      llvm::cl::desc("Architecture whose PTX is embedded for the driver to "
                     "JIT on newer GPUs (default: sm_90; 'none')"),
      llvm::cl::init("sm_90")};
  llvm::cl::opt<std::string> cudaToolkit{
      llvm::cl::cat(category), "cuda-toolkit",
      llvm::cl::desc("CUDA toolkit root with bin/ptxas, bin/fatbinary and "
                     "nvvm/libdevice (default: found at configure time)"),
      llvm::cl::init(WINNOW_DEFAULT_CUDA_TOOLKIT)};
  llvm::cl::opt<bool> fuse{
      llvm::cl::cat(category), "fuse",
      llvm::cl::desc("Fuse chains of tok ops into tok.dispatch regions with "
                     "the target's cost model (default: on; --fuse=false "
                     "lowers every op on its own)"),
      llvm::cl::init(true)};
  llvm::cl::opt<int64_t> cpuThreads{
      llvm::cl::cat(category), "cpu-threads",
      llvm::cl::desc("Threads the CPU fusion cost model assumes a call runs "
                     "on (default: 16; docs/fusion.md)"),
      llvm::cl::value_desc("n"), llvm::cl::init(16)};
  llvm::cl::opt<int64_t> dynamicBatch{
      llvm::cl::cat(category), "dynamic-batch",
      llvm::cl::desc("Compile every public function for any batch from 0 to "
                     "this bound (its leading extents become dynamic; "
                     "docs/dynamic-shapes.md); cpu only"),
      llvm::cl::value_desc("bound"), llvm::cl::init(-1)};
  llvm::cl::opt<bool> emulateCuda{
      llvm::cl::cat(category), "emulate-cuda-on-cpu", llvm::cl::Hidden,
      llvm::cl::desc("cpu: build the loops through the cuda target's GPU "
                     "mapping and run its launches as CPU loops (tests the "
                     "mapping without a GPU)"),
      llvm::cl::init(false)};
  llvm::cl::opt<std::string> dumpKernels{
      llvm::cl::cat(category), "dump-kernels",
      llvm::cl::desc("cuda: write each kernel module's NVVM IR and PTX to "
                     "this directory"),
      llvm::cl::value_desc("dir")};
  llvm::cl::opt<std::string> kernelReport{
      llvm::cl::cat(category), "kernel-report",
      llvm::cl::desc("cuda: write the performance model's report of every "
                     "launch (grid, bytes, chain, terms, estimate; ptxas "
                     "registers and spills when cubins are built) as JSON "
                     "(docs/cuda.md)"),
      llvm::cl::value_desc("file.json")};
  llvm::cl::opt<std::string> kernelReportDevice{
      llvm::cl::cat(category), "kernel-report-device",
      llvm::cl::desc("cuda: the card the kernel report models: h200 "
                     "(default) or h100"),
      llvm::cl::init("h200")};
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
  if (options.compileTo != Phase::artifact &&
      options.compileTo != Phase::object)
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

/// A phase's printed output when the driver stops early.
using StopOutput = std::optional<std::string>;

bool isCudaOnlyPhase(Phase phase) {
  return phase == Phase::gpu || phase == Phase::nvvm || phase == Phase::ptx;
}

/// Host code generation shared by both targets: LLVM IR, object, .so.
FailureOr<std::string> buildHostObject(ModuleOp module, const DriverOptions &options,
                                       llvm::Module &llvmModule,
                                       const CpuTargetOptions &cpuOptions,
                                       StopOutput &stop) {
  if (options.compileTo == Phase::llvmIR) {
    std::string text;
    llvm::raw_string_ostream os(text);
    llvmModule.print(os, nullptr);
    stop = text;
    return std::string();
  }
  FailureOr<std::string> object =
      emitObject(module.getLoc(), llvmModule, cpuOptions);
  if (failed(object))
    return failure();
  if (options.compileTo == Phase::object) {
    stop = *object;
    return std::string();
  }
  return linkSharedObject(module.getLoc(), *object, cpuOptions);
}

/// The CPUs of --cpu, most preferred first. By default an x86-64 artifact
/// carries AVX2 code (x86-64-v3) and, for older hosts, SSE4.2 code
/// (x86-64-v2); both give the same bits (no fast-math flags, so LLVM
/// contracts nothing into FMAs and reorders no reduction).
FailureOr<SmallVector<std::string>> cpuVariants(const DriverOptions &options) {
  if (options.cpu.empty()) {
    llvm::Triple triple(resolveTriple(CpuTargetOptions()));
    if (triple.getArch() == llvm::Triple::x86_64)
      return SmallVector<std::string>{"x86-64-v3", "x86-64-v2"};
    return SmallVector<std::string>{"generic"};
  }
  SmallVector<StringRef> names;
  StringRef(options.cpu).split(names, ',');
  SmallVector<std::string> cpus;
  for (StringRef name : names) {
    name = name.trim();
    if (name.empty()) {
      (void)driverError("--cpu='" + options.cpu + "' has an empty CPU name");
      return failure();
    }
    if (llvm::is_contained(cpus, name)) {
      (void)driverError("--cpu names '" + name + "' twice");
      return failure();
    }
    cpus.push_back(name.str());
  }
  return cpus;
}

/// Code generation options for one CPU.
CpuTargetOptions hostOptions(const DriverOptions &options, StringRef cpu) {
  CpuTargetOptions cpuOptions;
  cpuOptions.cpu = cpu.str();
  cpuOptions.optLevel = options.optLevel;
  cpuOptions.linker = options.linker;
  return cpuOptions;
}

LogicalResult compileCpu(ModuleOp module, const DriverOptions &options,
                         ArrayRef<FunctionSignature> entryPoints,
                         ArtifactContents &contents, StopOutput &stop) {
  LoopsPipelineOptions loops;
  loops.fuse = options.fuse;
  loops.cpuThreads = options.cpuThreads;
  if (failed(runPipeline(module, [&](OpPassManager &pm) {
        if (options.emulateCuda)
          buildCudaEmulationLoopsPipeline(pm, loops);
        else
          buildCpuLoopsPipeline(pm, loops);
      })))
    return failure();
  if (options.compileTo == Phase::loops)
    return stop = printModule(module), success();
  if (failed(runPipeline(module, buildCpuToLLVMPipeline)))
    return failure();
  if (options.compileTo == Phase::llvm)
    return stop = printModule(module), success();

  // One shared object per CPU, in order of preference (a phase that stops
  // earlier shows the first CPU's code).
  FailureOr<SmallVector<std::string>> cpus = cpuVariants(options);
  if (failed(cpus))
    return failure();
  for (const std::string &cpu : *cpus) {
    CpuTargetOptions cpuOptions = hostOptions(options, cpu);
    llvm::LLVMContext llvmContext;
    FailureOr<std::unique_ptr<llvm::Module>> llvmModule =
        translateForCpu(module, llvmContext, entryPoints, cpuOptions);
    if (failed(llvmModule))
      return failure();
    FailureOr<std::string> shared =
        buildHostObject(module, options, **llvmModule, cpuOptions, stop);
    if (failed(shared))
      return failure();
    if (stop)
      return success();
    contents.cpuBinaries.push_back(
        {resolveTriple(cpuOptions), cpu, std::move(*shared)});
  }
  return success();
}

FailureOr<CudaTargetOptions> cudaOptions(const DriverOptions &options) {
  CudaTargetOptions cuda;
  if (!options.cudaCubin.empty()) {
    cuda.cubinArchitectures.clear();
    for (const std::string &arch : options.cudaCubin)
      if (arch != "none")
        cuda.cubinArchitectures.push_back(arch);
  }
  cuda.ptxArchitecture =
      options.cudaPtx == "none" ? std::string() : options.cudaPtx.getValue();
  for (const std::string &arch : cuda.ptxTargets()) {
    if (!StringRef(arch).starts_with("sm_")) {
      (void)driverError("'" + arch +
                        "' is not a CUDA architecture (expected sm_NN)");
      return failure();
    }
  }
  cuda.toolkitPath = options.cudaToolkit;
  cuda.dumpKernelsDirectory = options.dumpKernels;
  // The host code only sequences launches: the most portable of the CPUs.
  FailureOr<SmallVector<std::string>> cpus = cpuVariants(options);
  if (failed(cpus))
    return failure();
  cuda.host = hostOptions(options, cpus->back());
  cuda.host.vectorize = false; // launch sequencing only
  return cuda;
}

LogicalResult dumpKernelModules(ModuleOp module, StringRef directory) {
  if (directory.empty())
    return success();
  if (std::error_code ec = llvm::sys::fs::create_directories(directory))
    return driverError("cannot create '" + directory + "': " + ec.message());
  for (auto kernels : module.getOps<gpu::GPUModuleOp>()) {
    llvm::SmallString<256> path(directory);
    llvm::sys::path::append(path, kernels.getName() + ".nvvm.mlir");
    std::string text;
    llvm::raw_string_ostream os(text);
    kernels.print(os);
    if (failed(writeOutput(path, text)))
      return failure();
  }
  return success();
}

/// The kernel report of a module at the gpu phase, when one was asked for.
struct PendingReport {
  std::optional<KernelReport> report;
  std::string path;

  LogicalResult write() {
    if (!report)
      return success();
    std::string text;
    llvm::raw_string_ostream os(text);
    os << llvm::formatv("{0:2}", toJson(*report)) << "\n";
    return writeOutput(path, text);
  }
};

LogicalResult compileCuda(ModuleOp module, const DriverOptions &options,
                          ArrayRef<FunctionSignature> entryPoints,
                          ArtifactContents &contents, StopOutput &stop) {
  FailureOr<CudaTargetOptions> cuda = cudaOptions(options);
  if (failed(cuda))
    return failure();
  PendingReport kernelReport;
  std::optional<DeviceModel> device =
      deviceModel(options.kernelReportDevice.getValue());
  if (!device)
    return driverError("unknown --kernel-report-device '" +
                       options.kernelReportDevice + "'; expected h200 or h100");
  cuda->ptxasVerbose = !options.kernelReport.empty();
  CudaPipelineOptions pipeline;
  pipeline.architectures = cuda->ptxTargets();
  pipeline.optLevel = options.optLevel;
  pipeline.toolkitPath = cuda->toolkitPath;
  if (pipeline.architectures.empty())
    return driverError("the cuda target needs a cubin or PTX architecture "
                       "(--cuda-cubin / --cuda-ptx)");

  LoopsPipelineOptions loops;
  loops.fuse = options.fuse;
  loops.cpuThreads = options.cpuThreads;
  if (failed(runPipeline(module, [&](OpPassManager &pm) {
        buildCudaLoopsPipeline(pm, loops);
      })))
    return failure();
  if (options.compileTo == Phase::loops)
    return stop = printModule(module), success();
  if (failed(runPipeline(module, buildCudaToGpuPipeline)))
    return failure();
  std::vector<int64_t> workspaceBytes =
      computeWorkspaceBytes(module, entryPoints);
  if (!options.kernelReport.empty()) {
    FailureOr<KernelReport> report = analyzeKernels(module, *device);
    if (failed(report))
      return failure();
    kernelReport = {std::move(*report), options.kernelReport};
  }
  if (options.compileTo == Phase::gpu)
    return stop = printModule(module), kernelReport.write();
  if (failed(runPipeline(module, [&](OpPassManager &pm) {
        buildCudaToNvvmPipeline(pm, pipeline);
      })))
    return failure();
  if (failed(dumpKernelModules(module, cuda->dumpKernelsDirectory)))
    return failure();
  if (options.compileTo == Phase::nvvm)
    return stop = printModule(module), kernelReport.write();
  if (failed(runPipeline(module, [&](OpPassManager &pm) {
        buildCudaSerializePipeline(pm, pipeline);
      })))
    return failure();
  if (options.compileTo == Phase::ptx) {
    std::string text;
    for (const PtxObject &object : collectPtx(module))
      text += "// ===== kernel module " + object.module + ", " +
              object.architecture + " =====\n" + object.ptx + "\n";
    stop = text;
    return kernelReport.write();
  }

  CudaKernelInfo info;
  if (failed(bundleKernels(module, *cuda, info)))
    return failure();
  // Resources from the newest architecture ptxas assembled.
  if (kernelReport.report && !info.ptxasReports.empty())
    attachPtxasResources(*kernelReport.report,
                         info.ptxasReports.back().second);
  if (failed(kernelReport.write()))
    return failure();
  llvm::LLVMContext llvmContext;
  FailureOr<std::unique_ptr<llvm::Module>> llvmModule =
      translateCudaHost(module, llvmContext, entryPoints, *cuda);
  if (failed(llvmModule))
    return failure();
  FailureOr<std::string> shared =
      buildHostObject(module, options, **llvmModule, cuda->host, stop);
  if (failed(shared))
    return failure();
  if (stop)
    return success();
  contents.cudaBinaries.push_back({resolveTriple(cuda->host), cuda->host.cpu,
                                   std::move(*shared), info.cubinArchitectures,
                                   info.ptxArchitecture, info.kernels,
                                   std::move(workspaceBytes)});
  return success();
}

LogicalResult compile(const DriverOptions &options, MLIRContext &context,
                      llvm::SourceMgr &sourceMgr) {
  SmallVector<std::string> targets;
  for (const std::string &target : options.targets) {
    if (target != "cpu" && target != "cuda")
      return driverError("unknown target '" + target +
                         "'; expected cpu or cuda");
    if (!llvm::is_contained(targets, target))
      targets.push_back(target);
  }
  if (targets.empty())
    targets.push_back("cpu");
  Phase phase = options.compileTo;
  if (phase != Phase::tok && phase != Phase::artifact && targets.size() > 1)
    return driverError("--compile-to shows one target's code; pass "
                       "--target=cpu or --target=cuda");
  if (!options.kernelReport.empty() && !llvm::is_contained(targets, "cuda"))
    return driverError("--kernel-report describes GPU launches; pass "
                       "--target=cuda (or cpu,cuda)");
  if (isCudaOnlyPhase(phase) && targets.front() != "cuda")
    return driverError("this --compile-to phase exists for --target=cuda only");
  if (phase == Phase::llvm && targets.front() == "cuda")
    return driverError("--compile-to=llvm is a cpu phase; the cuda target "
                       "stops at gpu, nvvm, ptx, llvm-ir or object");
  if (options.cpuThreads < 1)
    return driverError("--cpu-threads must be at least 1");
  std::string outputPath =
      options.output.empty() ? defaultOutput(options) : options.output.getValue();

  // The context knows only the dialects of a tok program while it parses
  // user input; the pipelines' dialects are added once the input is in.
  OwningOpRef<ModuleOp> module =
      parseSourceFile(options.input, sourceMgr, &context);
  if (!module)
    return failure();
  DialectRegistry pipelineDialects;
  registerWinnowDialects(pipelineDialects);
  context.appendDialectRegistry(pipelineDialects);
  context.loadAllAvailableDialects();
  if (options.dynamicBatch.getNumOccurrences() &&
      failed(runPipeline(*module, [&](OpPassManager &pm) {
        pm.addPass(createTokMakeBatchDynamic(
            TokMakeBatchDynamicOptions{options.dynamicBatch}));
      })))
    return failure();
  if (failed(runPipeline(*module, buildTokCleanupPipeline)))
    return failure();
  if (phase == Phase::tok)
    return writeOutput(outputPath, printModule(*module));

  // The manifest describes tensors, so it is read before bufferization.
  FailureOr<SmallVector<FunctionSignature, 1>> entryPoints =
      collectEntryPoints(*module);
  if (failed(entryPoints))
    return failure();
  stripEntryPointNames(*module);

  ArtifactContents contents;
  for (const std::string &target : targets) {
    // Each target lowers its own copy of the tok program.
    OwningOpRef<ModuleOp> copy = cast<ModuleOp>((*module)->clone());
    StopOutput stop;
    LogicalResult result =
        target == "cpu"
            ? compileCpu(*copy, options, *entryPoints, contents, stop)
            : compileCuda(*copy, options, *entryPoints, contents, stop);
    if (failed(result))
      return failure();
    if (stop)
      return writeOutput(outputPath, *stop);
  }

  contents.producer = "winnow-compile (LLVM/MLIR " LLVM_VERSION_STRING ")";
  contents.sourceName = llvm::sys::path::filename(options.input).str();
  contents.functions = std::move(*entryPoints);
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
  llvm::cl::HideUnrelatedOptions(options.category);
  llvm::cl::ParseCommandLineOptions(
      argc, argv,
      "winnow-compile: compile a tok program ahead of time\n\n"
      "  winnow-compile prune.mlir -o prune.wnn\n"
      "  winnow-compile prune.mlir --compile-to=loops\n\n"
      "  --help-hidden also lists MLIR's and LLVM's options (e.g.\n"
      "  --mlir-print-ir-after-all, --mlir-timing).\n");

  DialectRegistry registry;
  registerTokProgramDialects(registry);
  MLIRContext context(registry);
  // Diagnostics point at the source line; the generic dump of the whole op
  // that MLIR appends by default only buries the message.
  context.printOpOnDiagnostic(false);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  return succeeded(compile(options, context, sourceMgr)) ? 0 : 1;
}

} // namespace winnow
