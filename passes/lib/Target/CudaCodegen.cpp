//===- CudaCodegen.cpp - GPU kernels and host code for the cuda target ----===//

#include "winnow/Target/CudaCodegen.h"

#include "ToolRunner.h"
#include "winnow/runtime/cuda_host_abi.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "winnow/Dialect/Tok/IR/TokUtils.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Path.h"

#include <algorithm>

using namespace mlir;

namespace winnow {
namespace {

/// `sm_90a` → `90a`, the spelling fatbinary's image specs use.
std::string smNumber(StringRef architecture) {
  return architecture.drop_front(architecture.starts_with("sm_") ? 3 : 0).str();
}

/// The first `.extern .func` a PTX module declares, or empty. The driver
/// cannot resolve one at load time, so it is a compile error.
std::string firstExternFunction(StringRef ptx) {
  size_t at = ptx.find(".extern .func");
  if (at == StringRef::npos)
    return "";
  StringRef line = ptx.substr(at).take_until([](char c) { return c == '\n'; });
  return line.trim().str();
}

LogicalResult dumpPtx(Location loc, const CudaTargetOptions &options,
                      const PtxObject &object) {
  if (options.dumpKernelsDirectory.empty())
    return success();
  if (std::error_code ec =
          llvm::sys::fs::create_directories(options.dumpKernelsDirectory))
    return emitError(loc) << "cannot create '" << options.dumpKernelsDirectory
                          << "': " << ec.message();
  llvm::SmallString<256> path(options.dumpKernelsDirectory);
  llvm::sys::path::append(path, object.module + "." + object.architecture +
                                    ".ptx");
  return writeFile(loc, path, object.ptx);
}

/// ptxas for each cubin architecture, then fatbinary to one image.
FailureOr<std::string> buildFatbin(Location loc,
                                   const CudaTargetOptions &options,
                                   const llvm::StringMap<std::string> &ptx,
                                   CudaKernelInfo &info) {
  llvm::SmallString<256> ptxas(options.toolkitPath), fatbinary;
  llvm::sys::path::append(ptxas, "bin", "ptxas");
  fatbinary = options.toolkitPath;
  llvm::sys::path::append(fatbinary, "bin", "fatbinary");
  for (StringRef tool : {ptxas.str(), fatbinary.str()})
    if (!llvm::sys::fs::can_execute(tool))
      return emitError(loc) << "the CUDA toolkit at '" << options.toolkitPath
                            << "' has no executable '" << tool
                            << "' (needed for cubins; pass --cuda-cubin=none "
                               "for PTX only)";

  std::vector<std::unique_ptr<TempFile>> files;
  auto temp = [&](StringRef suffix) -> FailureOr<StringRef> {
    files.push_back(std::make_unique<TempFile>());
    if (failed(makeTemp(loc, suffix, *files.back())))
      return failure();
    return files.back()->path.str();
  };
  std::vector<std::string> fatbinArgs = {fatbinary.str().str(), "-64",
                                         "--compress-all"};
  // One ptxas per architecture, all at once.
  std::vector<ToolJob> assemble;
  for (const std::string &arch : options.cubinArchitectures) {
    FailureOr<StringRef> source = temp("ptx"), cubin = temp("cubin");
    if (failed(source) || failed(cubin) ||
        failed(writeFile(loc, *source, ptx.lookup(arch))))
      return failure();
    assemble.push_back({"assembling PTX for " + arch,
                        {ptxas.str().str(), "-arch=" + arch, "-O3", "-o",
                         cubin->str(), source->str()}});
    if (options.ptxasVerbose)
      assemble.back().args.push_back("-v");
    fatbinArgs.push_back("--image3=kind=elf,sm=" + smNumber(arch) +
                         ",file=" + cubin->str());
  }
  std::vector<std::string> logs;
  if (failed(runTools(loc, assemble, &logs)))
    return failure();
  if (options.ptxasVerbose)
    for (auto [arch, log] : llvm::zip(options.cubinArchitectures, logs))
      info.ptxasReports.emplace_back(arch, log);
  if (!options.ptxArchitecture.empty()) {
    FailureOr<StringRef> source = temp("ptx");
    if (failed(source) ||
        failed(writeFile(loc, *source, ptx.lookup(options.ptxArchitecture))))
      return failure();
    fatbinArgs.push_back("--image3=kind=ptx,sm=" +
                         smNumber(options.ptxArchitecture) +
                         ",file=" + source->str());
  }
  FailureOr<StringRef> output = temp("fatbin");
  if (failed(output))
    return failure();
  fatbinArgs.push_back("--create=" + output->str());
  if (failed(runTool(loc, "bundling cubins into a fatbin", fatbinArgs)))
    return failure();
  return readFile(loc, *output);
}

struct HostAbiFunction {
  const char *name;
  unsigned slot;
};

constexpr HostAbiFunction kHostAbiFunctions[] = {
#define WINNOW_CUDA_ABI_ENTRY(slot, symbol) {#symbol, WINNOW_CUDA_SLOT_##slot},
    WINNOW_CUDA_HOST_FUNCTIONS(WINNOW_CUDA_ABI_ENTRY)
#undef WINNOW_CUDA_ABI_ENTRY
};

/// The functions listed in `llvm.global_ctors`/`dtors`, by priority; the
/// global itself is removed.
std::vector<llvm::Function *> takeStructors(llvm::Module &module,
                                            StringRef name) {
  std::vector<std::pair<uint64_t, llvm::Function *>> entries;
  llvm::GlobalVariable *global = module.getNamedGlobal(name);
  if (!global)
    return {};
  if (auto *array = dyn_cast_or_null<llvm::ConstantArray>(
          global->hasInitializer() ? global->getInitializer() : nullptr)) {
    for (llvm::Use &use : array->operands()) {
      auto *entry = cast<llvm::ConstantStruct>(use.get());
      auto *priority = cast<llvm::ConstantInt>(entry->getOperand(0));
      if (auto *function = dyn_cast<llvm::Function>(entry->getOperand(1)))
        entries.push_back({priority->getZExtValue(), function});
    }
  }
  global->eraseFromParent();
  // By priority, then in listed order (a stable order without
  // std::stable_sort, whose temporary buffer libstdc++ 12 deprecates).
  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::make_pair(entries[a].first, a) <
           std::make_pair(entries[b].first, b);
  });
  std::vector<llvm::Function *> functions;
  for (size_t i : order)
    functions.push_back(entries[i].second);
  return functions;
}

void defineCaller(llvm::Module &module, StringRef name,
                  llvm::ArrayRef<llvm::Function *> callees) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), false);
  auto *function = llvm::Function::Create(
      type, llvm::GlobalValue::ExternalLinkage, name, module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", function));
  for (llvm::Function *callee : callees)
    b.CreateCall(callee);
  b.CreateRetVoid();
}

/// Routes every `mgpu*` call through `__winnow_cuda_table` and turns the
/// module constructors into `__winnow_cuda_load` / `__winnow_cuda_unload`.
LogicalResult rewriteHostAbi(Location loc, llvm::Module &module) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptrType = llvm::PointerType::getUnqual(ctx);
  auto *tableType = llvm::ArrayType::get(ptrType, WINNOW_CUDA_SLOT_COUNT);
  auto *table = new llvm::GlobalVariable(
      module, tableType, /*isConstant=*/false,
      llvm::GlobalValue::ExternalLinkage,
      llvm::ConstantAggregateZero::get(tableType), WINNOW_CUDA_TABLE_SYMBOL);
  new llvm::GlobalVariable(
      module, llvm::Type::getInt32Ty(ctx), /*isConstant=*/true,
      llvm::GlobalValue::ExternalLinkage,
      llvm::ConstantInt::get(llvm::Type::getInt32Ty(ctx),
                             WINNOW_CUDA_HOST_ABI_VERSION),
      WINNOW_CUDA_ABI_VERSION_SYMBOL);

  llvm::StringMap<unsigned> slots;
  for (const HostAbiFunction &function : kHostAbiFunctions)
    slots[function.name] = function.slot;
  for (llvm::Function &function : module.functions()) {
    if (!function.isDeclaration() || function.isIntrinsic() ||
        !function.getName().starts_with("mgpu"))
      continue;
    auto slot = slots.find(function.getName());
    if (slot == slots.end())
      return emitError(loc) << "the host code calls '" << function.getName()
                            << "', which the Winnow CUDA host ABI (version "
                            << WINNOW_CUDA_HOST_ABI_VERSION
                            << ") does not provide";
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", &function));
    llvm::Value *address = b.CreateConstInBoundsGEP2_64(tableType, table, 0,
                                                        slot->second);
    llvm::Value *callee = b.CreateLoad(ptrType, address);
    llvm::SmallVector<llvm::Value *> args;
    for (llvm::Argument &arg : function.args())
      args.push_back(&arg);
    llvm::CallInst *call =
        b.CreateCall(function.getFunctionType(), callee, args);
    if (function.getReturnType()->isVoidTy())
      b.CreateRetVoid();
    else
      b.CreateRet(call);
    function.setLinkage(llvm::GlobalValue::InternalLinkage);
  }

  // The embedded fatbin/PTX images: the driver reads fatbin headers with
  // 8-byte loads, and nvcc places them 8-aligned; keep 16 like the CPU .so.
  for (llvm::GlobalVariable &global : module.globals())
    if (global.getName().ends_with("_binary"))
      global.setAlignment(llvm::Align(16));

  std::vector<llvm::Function *> loads = takeStructors(module, "llvm.global_ctors");
  std::vector<llvm::Function *> unloads =
      takeStructors(module, "llvm.global_dtors");
  std::reverse(unloads.begin(), unloads.end());
  defineCaller(module, WINNOW_CUDA_LOAD_SYMBOL, loads);
  defineCaller(module, WINNOW_CUDA_UNLOAD_SYMBOL, unloads);
  return success();
}

} // namespace

std::vector<std::string> CudaTargetOptions::ptxTargets() const {
  std::vector<std::string> targets = cubinArchitectures;
  if (!ptxArchitecture.empty() &&
      std::find(targets.begin(), targets.end(), ptxArchitecture) ==
          targets.end())
    targets.push_back(ptxArchitecture);
  return targets;
}

std::vector<PtxObject> collectPtx(ModuleOp module) {
  std::vector<PtxObject> objects;
  module.walk([&](gpu::BinaryOp binary) {
    for (Attribute attr : binary.getObjects()) {
      auto object = dyn_cast<gpu::ObjectAttr>(attr);
      auto target =
          object ? dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget()) : nullptr;
      if (!target || object.getFormat() != gpu::CompilationTarget::Assembly)
        continue;
      objects.push_back({binary.getSymName().str(), target.getChip().str(),
                         object.getObject().getValue().str()});
    }
  });
  return objects;
}

LogicalResult bundleKernels(ModuleOp module, const CudaTargetOptions &options,
                            CudaKernelInfo &info) {
  if (options.cubinArchitectures.empty() && options.ptxArchitecture.empty())
    return emitError(module.getLoc())
           << "the cuda target needs at least one cubin or PTX architecture";
  if (!options.cubinArchitectures.empty() && options.toolkitPath.empty())
    return emitError(module.getLoc())
           << "cubins for " << llvm::join(options.cubinArchitectures, ", ")
           << " need the CUDA toolkit (ptxas, fatbinary), and none was "
              "found: pass --cuda-toolkit=<dir>, or --cuda-cubin=none to "
              "embed PTX only";
  info.cubinArchitectures = options.cubinArchitectures;
  info.ptxArchitecture = options.ptxArchitecture;

  SmallVector<gpu::BinaryOp> binaries(module.getOps<gpu::BinaryOp>());
  for (gpu::BinaryOp binary : binaries) {
    Location loc = binary.getLoc();
    llvm::StringMap<std::string> ptx;
    Attribute ptxTarget;
    for (Attribute attr : binary.getObjects()) {
      auto object = cast<gpu::ObjectAttr>(attr);
      auto target = dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget());
      if (!target || object.getFormat() != gpu::CompilationTarget::Assembly)
        return emitError(loc) << "expected PTX objects for NVVM targets in '"
                              << binary.getSymName() << "'";
      std::string text = object.getObject().getValue().str();
      if (std::string extern_ = firstExternFunction(text); !extern_.empty())
        return emitError(loc)
               << "kernel module '" << binary.getSymName() << "' for "
               << target.getChip() << " still calls an external function ("
               << extern_
               << "); math functions need libdevice from a CUDA toolkit "
                  "(--cuda-toolkit=<dir>)";
      if (failed(dumpPtx(loc, options,
                         {binary.getSymName().str(), target.getChip().str(),
                          text})))
        return failure();
      if (target.getChip() == options.ptxArchitecture ||
          (!ptxTarget && options.ptxArchitecture.empty()))
        ptxTarget = target;
      ptx[target.getChip()] = std::move(text);
    }
    for (const std::string &arch : options.ptxTargets())
      if (!ptx.count(arch))
        return emitError(loc) << "no PTX was generated for " << arch << " in '"
                              << binary.getSymName() << "'";

    MLIRContext *context = module.getContext();
    gpu::ObjectAttr bundled;
    if (!options.cubinArchitectures.empty()) {
      FailureOr<std::string> fatbin = buildFatbin(loc, options, ptx, info);
      if (failed(fatbin))
        return failure();
      bundled = gpu::ObjectAttr::get(
          context, ptxTarget, gpu::CompilationTarget::Fatbin,
          StringAttr::get(context, *fatbin), DictionaryAttr(), nullptr);
    } else {
      // mgpuModuleLoadJIT takes a NUL-terminated string.
      std::string text = ptx.lookup(options.ptxArchitecture);
      text.push_back('\0');
      bundled = gpu::ObjectAttr::get(
          context, ptxTarget, gpu::CompilationTarget::Assembly,
          StringAttr::get(context, text), DictionaryAttr(), nullptr);
    }
    binary.setObjectsAttr(ArrayAttr::get(context, {bundled}));
  }

  module.walk([&](gpu::LaunchFuncOp launch) {
    std::string name = (launch.getKernelModuleName().getValue() +
                        "::" + launch.getKernelName().getValue())
                           .str();
    if (std::find(info.kernels.begin(), info.kernels.end(), name) ==
        info.kernels.end())
      info.kernels.push_back(name);
  });
  return success();
}

namespace {
/// Bytes of one element of a device buffer, as the rest of the compiler
/// sizes buffers (tok::elementBytes; a vector is its elements); 0 when
/// unknown.
int64_t storedElementBytes(Type type) {
  if (auto vector = dyn_cast<VectorType>(type))
    return vector.isScalable()
               ? 0
               : vector.getNumElements() *
                     tok::elementBytes(vector.getElementType());
  return tok::elementBytes(type);
}

int64_t functionWorkspaceBytes(func::FuncOp function) {
  int64_t total = 0;
  WalkResult walk = function.walk([&](gpu::AllocOp alloc) {
    // Run once per call: an allocation in a loop has no static bound.
    if (alloc->getParentOfType<LoopLikeOpInterface>())
      return WalkResult::interrupt();
    MemRefType type = alloc.getMemref().getType();
    int64_t bytes = storedElementBytes(type.getElementType());
    if (bytes == 0)
      return WalkResult::interrupt();
    auto dynamicSizes = alloc.getDynamicSizes().begin();
    for (int64_t extent : type.getShape()) {
      if (ShapedType::isDynamic(extent)) {
        std::optional<int64_t> size = getConstantIntValue(*dynamicSizes++);
        if (!size)
          return WalkResult::interrupt();
        extent = *size;
      }
      bytes *= extent;
    }
    total += llvm::alignTo(bytes, kWorkspaceAlignment);
    return WalkResult::advance();
  });
  return walk.wasInterrupted() ? -1 : total;
}
} // namespace

std::vector<int64_t>
computeWorkspaceBytes(ModuleOp module,
                      llvm::ArrayRef<FunctionSignature> entryPoints) {
  std::vector<int64_t> bytes;
  for (const FunctionSignature &entry : entryPoints) {
    auto function = module.lookupSymbol<func::FuncOp>(entry.name);
    bytes.push_back(function ? functionWorkspaceBytes(function) : -1);
  }
  return bytes;
}

FailureOr<std::unique_ptr<llvm::Module>>
translateCudaHost(ModuleOp module, llvm::LLVMContext &llvmContext,
                  llvm::ArrayRef<FunctionSignature> entryPoints,
                  const CudaTargetOptions &options) {
  Location loc = module.getLoc();
  return translateForCpu(module, llvmContext, entryPoints, options.host,
                         [&](llvm::Module &llvmModule) {
                           return rewriteHostAbi(loc, llvmModule);
                         });
}

} // namespace winnow
