//===- MarkEntryPoints.cpp - The tok-mark-entry-points pass ---------------===//

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "winnow/Transforms/Passes.h"

namespace winnow {
#define GEN_PASS_DEF_TOKMARKENTRYPOINTS
#include "winnow/Transforms/Passes.h.inc"
} // namespace winnow

using namespace mlir;

namespace winnow {
namespace {
struct TokMarkEntryPointsPass
    : impl::TokMarkEntryPointsBase<TokMarkEntryPointsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func.isPublic() && !func.isExternal())
        func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                      UnitAttr::get(&getContext()));
  }
};
} // namespace
} // namespace winnow
