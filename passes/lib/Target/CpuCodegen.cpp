//===- CpuCodegen.cpp - LLVM-dialect module to a CPU shared object --------===//
//
// LLVM does the code generation in-process; only the final link into a
// shared object runs the configured lld, because Debian ships no lld library
// that can be linked into an MLIR-dylib tool without mixing static LLVM.
//
//===----------------------------------------------------------------------===//

#include "winnow/Target/CpuCodegen.h"

#include "ToolRunner.h"
#include "winnow/support/EntryAbi.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

namespace winnow {
namespace {

/// The prefixes of the packed entry and its ABI descriptor, which the
/// runtime looks up.
constexpr llvm::StringLiteral kEntryPrefix(support::kEntrySymbolPrefix);
constexpr llvm::StringLiteral kAbiPrefix(support::kEntryAbiSymbolPrefix);
/// The prefix of the C-interface wrapper convert-func-to-llvm emits.
constexpr llvm::StringLiteral kCInterfacePrefix = "_mlir_ciface_";

std::string resolveCpu(const CpuTargetOptions &options) {
  if (options.cpu == "native" || options.cpu == "host")
    return llvm::sys::getHostCPUName().str();
  return options.cpu;
}

std::string resolveFeatures(const CpuTargetOptions &options) {
  if (options.cpu != "native" && options.cpu != "host")
    return "";
  std::string features;
  for (const auto &feature : llvm::sys::getHostCPUFeatures()) {
    if (!features.empty())
      features += ",";
    features += (feature.second ? "+" : "-") + feature.first().str();
  }
  return features;
}

FailureOr<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(Location loc, const CpuTargetOptions &options) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(resolveTriple(options));
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return emitError(loc)
           << "unsupported CPU target triple '" << triple.str()
           << "': " << error;
  std::optional<llvm::CodeGenOptLevel> level =
      llvm::CodeGenOpt::getLevel(static_cast<int>(options.optLevel));
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, resolveCpu(options), resolveFeatures(options),
      llvm::TargetOptions(), llvm::Reloc::PIC_, std::nullopt,
      level.value_or(llvm::CodeGenOptLevel::Default)));
  if (!machine)
    return emitError(loc)
           << "cannot create a target machine for '" << triple.str()
           << "' with CPU '" << options.cpu << "'";
  return machine;
}

/// Adds `void __winnow_entry_<name>(void **args)`, which unpacks the
/// descriptor pointers and calls the C-interface wrapper: one symbol shape
/// for every function, so the runtime needs no per-arity trampolines.
LogicalResult addPackedEntry(Location loc, llvm::Module &module,
                             StringRef name) {
  llvm::Function *wrapped =
      module.getFunction((kCInterfacePrefix + name).str());
  if (!wrapped)
    return emitError(loc)
           << "no C interface was generated for entry point '" << name << "'";
  if (!wrapped->getReturnType()->isVoidTy())
    return emitError(loc)
           << "entry point '" << name
           << "' still returns a value after results became out-parameters";
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptrType = llvm::PointerType::getUnqual(ctx);
  auto *type =
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptrType}, false);
  auto *entry = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage,
                                       (kEntryPrefix + name).str(), module);
  llvm::IRBuilder<> builder(llvm::BasicBlock::Create(ctx, "entry", entry));
  llvm::SmallVector<llvm::Value *> args;
  for (unsigned i = 0; i < wrapped->arg_size(); ++i) {
    llvm::Value *slot = builder.CreateConstInBoundsGEP1_64(
        ptrType, entry->getArg(0), i);
    args.push_back(builder.CreateLoad(ptrType, slot));
  }
  builder.CreateCall(wrapped, args);
  builder.CreateRetVoid();
  return success();
}

/// Defines `const char __winnow_abi_<name>[] = "<descriptor>"`.
void addAbiDescriptor(llvm::Module &module, StringRef name,
                      StringRef descriptor) {
  llvm::Constant *text = llvm::ConstantDataArray::getString(
      module.getContext(), descriptor, /*AddNull=*/true);
  new llvm::GlobalVariable(module, text->getType(), /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage, text,
                           (kAbiPrefix + name).str());
}

/// The symbols an artifact's shared object exports: the packed entries,
/// their ABI descriptors and, for the cuda target, the host ABI
/// (`__winnow_cuda_*`).
bool isExported(const llvm::GlobalValue &value) {
  return value.getName().starts_with(kEntryPrefix) ||
         value.getName().starts_with(kAbiPrefix) ||
         value.getName() == support::kParallelForSymbol ||
         value.getName().starts_with("__winnow_cuda_");
}

/// Gives every definition but the packed entries internal linkage. Without
/// this, an entry point named like a C library function (`cos`, `select`)
/// would be preempted by the library's symbol when the shared object is
/// loaded; it also lets LLVM inline the C-interface wrappers.
void internalizeAllButEntries(llvm::Module &module) {
  for (llvm::Function &function : module.functions())
    if (!function.isDeclaration() && !isExported(function))
      function.setLinkage(llvm::GlobalValue::InternalLinkage);
  for (llvm::GlobalVariable &global : module.globals())
    if (!global.isDeclaration() && !isExported(global))
      global.setLinkage(llvm::GlobalValue::InternalLinkage);
}

/// Defines `__truncsfbf2` (f32 → bf16, round to nearest even, NaN stays a
/// quiet NaN) in the module. Targets without native bf16 legalise bf16
/// values that the optimiser merges across branches (a phi of two loads)
/// by promoting them to f32 and calling this libcall, which the libgcc of
/// Debian 12 does not provide. Hidden: it is neither exported nor preempted.
void defineBf16Truncation(llvm::Module &module) {
  llvm::LLVMContext &ctx = module.getContext();
  if (module.getFunction("__truncsfbf2"))
    return;
  bool usesBf16 = llvm::any_of(module.functions(), [](llvm::Function &f) {
    return llvm::any_of(llvm::instructions(f), [](llvm::Instruction &inst) {
      // Stored bf16 constants count too: the backend may build them with
      // the libcall once no bf16 load is left (copies move i16).
      return inst.getType()->getScalarType()->isBFloatTy() ||
             llvm::any_of(inst.operands(), [](llvm::Use &operand) {
               return operand->getType()->getScalarType()->isBFloatTy();
             });
    });
  });
  if (!usesBf16)
    return;
  auto *type = llvm::FunctionType::get(llvm::Type::getBFloatTy(ctx),
                                       {llvm::Type::getFloatTy(ctx)}, false);
  auto *function = llvm::Function::Create(
      type, llvm::GlobalValue::ExternalLinkage, "__truncsfbf2", module);
  function->setVisibility(llvm::GlobalValue::HiddenVisibility);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", function));
  llvm::Type *i32 = b.getInt32Ty();
  llvm::Value *bits = b.CreateBitCast(function->getArg(0), i32);
  llvm::Value *magnitude = b.CreateAnd(bits, 0x7fffffff);
  llvm::Value *isNaN = b.CreateICmpUGT(magnitude, b.getInt32(0x7f800000));
  llvm::Value *lsb = b.CreateAnd(b.CreateLShr(bits, 16), 1);
  llvm::Value *rounded =
      b.CreateLShr(b.CreateAdd(bits, b.CreateAdd(lsb, b.getInt32(0x7fff))), 16);
  llvm::Value *quietNaN = b.CreateOr(b.CreateLShr(bits, 16), 0x40);
  llvm::Value *result = b.CreateSelect(isNaN, quietNaN, rounded);
  b.CreateRet(b.CreateBitCast(b.CreateTrunc(result, b.getInt16Ty()),
                              llvm::Type::getBFloatTy(ctx)));
  llvm::appendToCompilerUsed(module, {function});
}

/// Copies of 16-bit floats as 16-bit integers: a bf16 or f16 load whose
/// every use stores it unchanged becomes an i16 load and i16 stores. The
/// bits are the same; but x86 before AVX-512 has no bf16 vectors, so the
/// vectoriser leaves bf16 copy loops (compact, kv_gather, expand move
/// payload rows) one scalar element at a time, and i16 ones it vectorises.
void copyHalfFloatsAsIntegers(llvm::Module &module) {
  for (llvm::Function &function : module.functions()) {
    SmallVector<llvm::LoadInst *> loads;
    for (llvm::Instruction &inst : llvm::instructions(function)) {
      auto *load = llvm::dyn_cast<llvm::LoadInst>(&inst);
      if (!load || !load->isSimple() ||
          !(load->getType()->isBFloatTy() || load->getType()->isHalfTy()))
        continue;
      bool onlyStored =
          !load->use_empty() && llvm::all_of(load->uses(), [](llvm::Use &use) {
            auto *store = llvm::dyn_cast<llvm::StoreInst>(use.getUser());
            return store && store->isSimple() && use.getOperandNo() == 0;
          });
      if (onlyStored)
        loads.push_back(load);
    }
    for (llvm::LoadInst *load : loads) {
      llvm::IRBuilder<> b(load);
      llvm::LoadInst *bits =
          b.CreateAlignedLoad(b.getInt16Ty(), load->getPointerOperand(),
                              load->getAlign(), load->getName());
      bits->copyMetadata(*load);
      for (llvm::User *user : llvm::make_early_inc_range(load->users())) {
        auto *store = llvm::cast<llvm::StoreInst>(user);
        b.SetInsertPoint(store);
        llvm::StoreInst *copy = b.CreateAlignedStore(
            bits, store->getPointerOperand(), store->getAlign());
        copy->copyMetadata(*store);
        store->eraseFromParent();
      }
      load->eraseFromParent();
    }
  }
}

/// Selects of 16-bit floats as selects of 16-bit integers. InstCombine moves
/// the select of arith-expand's bf16 rounding (a NaN becomes 0x7fc0) past the
/// bitcast to bf16; x86 before AVX-512 has no bf16 vectors, so the backend
/// then takes every lane of such a select apart (H-Net dechunk's output loop
/// spent two thirds of its time there). The bits are the same. Runs after
/// the optimisation pipeline, which would fold the casts back.
void selectHalfFloatsAsIntegers(llvm::Module &module) {
  for (llvm::Function &function : module.functions()) {
    SmallVector<llvm::SelectInst *> selects;
    for (llvm::Instruction &inst : llvm::instructions(function))
      if (auto *select = llvm::dyn_cast<llvm::SelectInst>(&inst)) {
        llvm::Type *element = select->getType()->getScalarType();
        if (element->isBFloatTy() || element->isHalfTy())
          selects.push_back(select);
      }
    for (llvm::SelectInst *select : selects) {
      llvm::IRBuilder<> b(select);
      llvm::Type *bitsType = select->getType()->getWithNewType(b.getInt16Ty());
      llvm::Value *bits =
          b.CreateSelect(select->getCondition(),
                         b.CreateBitCast(select->getTrueValue(), bitsType),
                         b.CreateBitCast(select->getFalseValue(), bitsType),
                         select->getName());
      select->replaceAllUsesWith(b.CreateBitCast(bits, select->getType()));
      select->eraseFromParent();
    }
  }
}

/// The pool pointer is exported for the runtime to set, but the code's own
/// accesses must not be preempted by another object's symbol of that name.
void protectParallelForPointer(llvm::Module &module) {
  if (llvm::GlobalVariable *pointer =
          module.getGlobalVariable(support::kParallelForSymbol))
    pointer->setVisibility(llvm::GlobalValue::ProtectedVisibility);
}

} // namespace

std::string resolveTriple(const CpuTargetOptions &options) {
  return options.triple.empty() ? llvm::sys::getDefaultTargetTriple()
                                : options.triple;
}

FailureOr<std::unique_ptr<llvm::Module>>
translateForCpu(ModuleOp module, llvm::LLVMContext &llvmContext,
                llvm::ArrayRef<FunctionSignature> entryPoints,
                const CpuTargetOptions &options,
                llvm::function_ref<LogicalResult(llvm::Module &)> prepare) {
  MLIRContext *context = module.getContext();
  Location loc = module.getLoc();
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  context->appendDialectRegistry(registry);

  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "winnow");
  if (!llvmModule)
    return emitError(module.getLoc()) << "translation to LLVM IR failed";
  for (const FunctionSignature &entry : entryPoints) {
    if (failed(addPackedEntry(loc, *llvmModule, entry.name)))
      return failure();
    addAbiDescriptor(*llvmModule, entry.name, entryAbiDescriptor(entry));
  }
  if (prepare && failed(prepare(*llvmModule)))
    return failure();
  internalizeAllButEntries(*llvmModule);
  protectParallelForPointer(*llvmModule);
  copyHalfFloatsAsIntegers(*llvmModule);
  defineBf16Truncation(*llvmModule);

  FailureOr<std::unique_ptr<llvm::TargetMachine>> machine =
      createTargetMachine(loc, options);
  if (failed(machine))
    return failure();
  llvmModule->setTargetTriple((*machine)->getTargetTriple());
  llvmModule->setDataLayout((*machine)->createDataLayout());

  std::string verifierMessage;
  llvm::raw_string_ostream verifierStream(verifierMessage);
  if (llvm::verifyModule(*llvmModule, &verifierStream))
    return emitError(module.getLoc())
           << "generated LLVM IR is invalid: " << verifierMessage;

  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = options.vectorize && options.optLevel >= 2;
  tuning.SLPVectorization = options.vectorize && options.optLevel >= 2;
  llvm::PassBuilder passBuilder(machine->get(), tuning);
  passBuilder.registerModuleAnalyses(mam);
  passBuilder.registerCGSCCAnalyses(cgam);
  passBuilder.registerFunctionAnalyses(fam);
  passBuilder.registerLoopAnalyses(lam);
  passBuilder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel level = llvm::OptimizationLevel::O3;
  switch (options.optLevel) {
  case 0:
    level = llvm::OptimizationLevel::O0;
    break;
  case 1:
    level = llvm::OptimizationLevel::O1;
    break;
  case 2:
    level = llvm::OptimizationLevel::O2;
    break;
  default:
    break;
  }
  llvm::ModulePassManager passes =
      level == llvm::OptimizationLevel::O0
          ? passBuilder.buildO0DefaultPipeline(level)
          : passBuilder.buildPerModuleDefaultPipeline(level);
  passes.run(*llvmModule, mam);
  selectHalfFloatsAsIntegers(*llvmModule);
  return llvmModule;
}

FailureOr<std::string> emitObject(Location loc, llvm::Module &llvmModule,
                                  const CpuTargetOptions &options) {
  FailureOr<std::unique_ptr<llvm::TargetMachine>> machine =
      createTargetMachine(loc, options);
  if (failed(machine))
    return failure();
  llvm::SmallString<0> object;
  llvm::raw_svector_ostream stream(object);
  llvm::legacy::PassManager codegen;
  if ((*machine)->addPassesToEmitFile(codegen, stream, nullptr,
                                      llvm::CodeGenFileType::ObjectFile))
    return emitError(loc)
           << "the target cannot emit object files";
  codegen.run(llvmModule);
  return std::string(object.str());
}

FailureOr<std::string> linkSharedObject(Location loc, llvm::StringRef object,
                                        const CpuTargetOptions &options) {
  if (options.linker.empty())
    return emitError(loc) << "no linker configured for the CPU target "
                             "(pass --linker=<path to ld.lld>)";
  TempFile objectFile, sharedFile;
  if (failed(makeTemp(loc, "o", objectFile)) ||
      failed(makeTemp(loc, "so", sharedFile)) ||
      failed(writeFile(loc, objectFile.path, object)))
    return failure();
  // libc, libm and libgcc_s (f16 conversions on CPUs without F16C) become
  // DT_NEEDED entries and `-z defs` rejects any symbol they do not define,
  // so a missing symbol fails here, not at load time.
  llvm::Triple triple(resolveTriple(options));
  std::string multiarch = (triple.getArchName() + "-linux-gnu").str();
  llvm::SmallVector<std::string> args = {
      options.linker,        "-shared",
      "-z",                  "defs",
      "-z",                  "noexecstack",
      "--hash-style=gnu",    "-o",
      sharedFile.path.str().str(), objectFile.path.str().str(),
      "-L/lib/" + multiarch, "-L/usr/lib/" + multiarch,
      "-L/lib64",            "-L/usr/lib64",
      "--as-needed",         "-l:libm.so.6",
      "-l:libgcc_s.so.1",    "-l:libc.so.6"};
  if (failed(runTool(loc, "linking the CPU shared object", args)))
    return failure();
  return readFile(loc, sharedFile.path);
}

} // namespace winnow
