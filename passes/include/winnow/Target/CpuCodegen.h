//===- CpuCodegen.h - LLVM-dialect module to a CPU shared object -*- C++ -*-===//

#ifndef WINNOW_TARGET_CPUCODEGEN_H
#define WINNOW_TARGET_CPUCODEGEN_H

#include "winnow/Target/Manifest.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/IR/Module.h"

#include <memory>
#include <string>

namespace winnow {

struct CpuTargetOptions {
  /// LLVM target triple; empty means the host's.
  std::string triple;
  /// CPU name for LLVM ("x86-64" is portable; "native" is this machine's).
  std::string cpu = "x86-64-v2";
  /// Optimisation level of the LLVM pipeline (0-3).
  unsigned optLevel = 3;
  /// The linker used to turn the object into a shared object.
  std::string linker;
  /// Loop and SLP vectorisation (at -O2 and above). The cuda target's host
  /// code only packs launch arguments: the SLP vectoriser spent half its
  /// compile time on those blocks for nothing.
  bool vectorize = true;
};

/// Translates an LLVM-dialect module to LLVM IR, adds for each entry point
/// the packed entry `void __winnow_entry_<name>(void **args)` and its ABI
/// descriptor `const char __winnow_abi_<name>[]`, and optimises it for the
/// target. `prepare`, when given, edits the translated module before
/// everything but the entries, descriptors and the `__winnow_cuda_*` host
/// ABI becomes internal. Diagnostics go to the module's context.
mlir::FailureOr<std::unique_ptr<llvm::Module>>
translateForCpu(mlir::ModuleOp module, llvm::LLVMContext &llvmContext,
                llvm::ArrayRef<FunctionSignature> entryPoints,
                const CpuTargetOptions &options,
                llvm::function_ref<mlir::LogicalResult(llvm::Module &)>
                    prepare = nullptr);

/// Emits a relocatable object file for `llvmModule`.
mlir::FailureOr<std::string> emitObject(mlir::Location loc,
                                        llvm::Module &llvmModule,
                                        const CpuTargetOptions &options);

/// Links an object into a position-independent shared object with the
/// configured linker and returns its bytes. Errors are reported at `loc`.
mlir::FailureOr<std::string> linkSharedObject(mlir::Location loc,
                                              llvm::StringRef object,
                                              const CpuTargetOptions &options);

/// The triple `options` resolves to (the host's when unset).
std::string resolveTriple(const CpuTargetOptions &options);

} // namespace winnow

#endif // WINNOW_TARGET_CPUCODEGEN_H
