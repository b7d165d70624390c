//===- CudaCodegen.h - GPU kernels and host code for the cuda target -*- C++ -*-===//
//
// The cuda target's last steps, after the host code is in the LLVM dialect
// and each gpu.binary holds one PTX object per requested architecture:
// bundle the kernels (ptxas + fatbinary from the CUDA toolkit, or PTX only),
// then turn the host code into a shared object that reaches the CUDA driver
// only through the runtime's table (winnow/runtime/cuda_host_abi.h).
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_TARGET_CUDACODEGEN_H
#define WINNOW_TARGET_CUDACODEGEN_H

#include "winnow/Target/CpuCodegen.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace winnow {

struct CudaTargetOptions {
  /// SM architectures to build SASS (cubins) for; empty for PTX only.
  std::vector<std::string> cubinArchitectures = {"sm_80", "sm_90"};
  /// The architecture whose PTX is embedded for the driver to JIT on GPUs
  /// without a matching cubin; empty for none. Must be one of the
  /// architectures PTX is generated for (cubinArchitectures, or itself).
  std::string ptxArchitecture = "sm_90";
  /// CUDA toolkit root (bin/ptxas, bin/fatbinary, nvvm/libdevice); empty
  /// when none is available, which allows PTX only.
  std::string toolkitPath;
  /// When set, each kernel module's PTX is written here as
  /// `<module>.<arch>.ptx`.
  std::string dumpKernelsDirectory;
  /// How the host code is compiled.
  CpuTargetOptions host;
  /// Run ptxas with -v and keep its resource report (registers, spills,
  /// shared memory per kernel) in CudaKernelInfo::ptxasReports.
  bool ptxasVerbose = false;

  /// Every architecture PTX must be generated for, without duplicates.
  std::vector<std::string> ptxTargets() const;
};

/// What the bundling produced, for the artifact manifest.
struct CudaKernelInfo {
  std::vector<std::string> cubinArchitectures;
  std::string ptxArchitecture;
  /// "<module>::<kernel>" for every launch in the host code.
  std::vector<std::string> kernels;
  /// With CudaTargetOptions::ptxasVerbose: ptxas -v's output per cubin
  /// architecture.
  std::vector<std::pair<std::string, std::string>> ptxasReports;
};

/// The PTX text of every object in `module`'s gpu.binary ops, as
/// (module name, architecture, PTX).
struct PtxObject {
  std::string module;
  std::string architecture;
  std::string ptx;
};
std::vector<PtxObject> collectPtx(mlir::ModuleOp module);

/// Replaces the per-architecture PTX objects of every gpu.binary with the
/// single object the host code loads: a fatbin of cubins (+ PTX) when
/// cubins are requested, else the PTX of `ptxArchitecture`. Fails with a
/// clear message when a cubin is requested but the toolkit is missing, when
/// ptxas rejects a kernel, or when PTX still calls an external function
/// (e.g. a libdevice function with no libdevice to link).
mlir::LogicalResult bundleKernels(mlir::ModuleOp module,
                                  const CudaTargetOptions &options,
                                  CudaKernelInfo &info);

/// The alignment of every allocation the host code takes from a call's
/// workspace (runtime/include/winnow/runtime/winnow_runtime.h).
inline constexpr int64_t kWorkspaceAlignment = 256;

/// Per entry point (in `entryPoints` order), at the `gpu` phase: the device
/// scratch bytes one call allocates — the sum of its `gpu.alloc`s, each
/// rounded up to kWorkspaceAlignment — or -1 when that is not bounded at
/// compile time (an allocation in a loop or of a size only known at run
/// time). The runtime serves these allocations from a workspace.
std::vector<int64_t>
computeWorkspaceBytes(mlir::ModuleOp module,
                      llvm::ArrayRef<FunctionSignature> entryPoints);

/// Translates the host code to LLVM IR: the packed entry points of
/// CpuCodegen, plus the table, version and load/unload functions of the
/// CUDA host ABI in place of direct `mgpu*` calls and global constructors.
mlir::FailureOr<std::unique_ptr<llvm::Module>>
translateCudaHost(mlir::ModuleOp module, llvm::LLVMContext &llvmContext,
                  llvm::ArrayRef<FunctionSignature> entryPoints,
                  const CudaTargetOptions &options);

} // namespace winnow

#endif // WINNOW_TARGET_CUDACODEGEN_H
