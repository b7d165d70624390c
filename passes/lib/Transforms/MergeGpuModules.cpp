//===- MergeGpuModules.cpp - The tok-merge-gpu-modules pass ---------------===//
//
// gpu-kernel-outlining makes one gpu.module per kernel; each becomes its own
// PTX module, its own ptxas run per architecture, its own fatbinary and its
// own load at run time. One module per compiled file does each once.
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "winnow/Transforms/Passes.h"

namespace winnow {
#define GEN_PASS_DEF_TOKMERGEGPUMODULES
#include "winnow/Transforms/Passes.h.inc"
} // namespace winnow

using namespace mlir;

namespace winnow {
namespace {

struct TokMergeGpuModulesPass
    : impl::TokMergeGpuModulesBase<TokMergeGpuModulesPass> {
  void runOnOperation() override {
    ModuleOp top = getOperation();
    SmallVector<gpu::GPUModuleOp> modules(top.getOps<gpu::GPUModuleOp>());
    if (modules.size() < 2)
      return;
    gpu::GPUModuleOp target = modules.front();
    SymbolTable targetSymbols(target);
    // Kernel symbol (old module, old kernel) -> new kernel name.
    llvm::DenseMap<std::pair<StringAttr, StringAttr>, StringAttr> renamed;
    for (gpu::GPUModuleOp module : llvm::drop_begin(modules)) {
      // Outlined modules hold kernels only, for the same targets; anything
      // else stays apart.
      bool kernelsOnly =
          llvm::all_of(module.getBody()->getOperations(),
                       [](Operation &op) { return isa<gpu::GPUFuncOp>(op); });
      if (!kernelsOnly || module.getTargetsAttr() != target.getTargetsAttr() ||
          module.getOffloadingHandlerAttr() !=
              target.getOffloadingHandlerAttr() ||
          module->getDiscardableAttrDictionary() !=
              target->getDiscardableAttrDictionary())
        continue;
      for (auto func : llvm::make_early_inc_range(
               module.getBody()->getOps<gpu::GPUFuncOp>())) {
        StringAttr oldName = func.getNameAttr();
        // The module's name is unique in the file; use it for its kernel.
        func.setName(module.getName());
        func->remove();
        StringAttr newName = targetSymbols.insert(func);
        renamed[{module.getNameAttr(), oldName}] = newName;
      }
      module.erase();
    }
    top.walk([&](gpu::LaunchFuncOp launch) {
      SymbolRefAttr kernel = launch.getKernel();
      auto it = renamed.find({kernel.getRootReference(),
                              kernel.getLeafReference()});
      if (it == renamed.end())
        return;
      launch.setKernelAttr(SymbolRefAttr::get(
          target.getNameAttr(), {FlatSymbolRefAttr::get(it->second)}));
    });
  }
};

} // namespace
} // namespace winnow
