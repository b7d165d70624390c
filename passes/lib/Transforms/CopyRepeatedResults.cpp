//===- CopyRepeatedResults.cpp - The tok-copy-repeated-results pass -------===//

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "winnow/Transforms/Passes.h"

namespace winnow {
#define GEN_PASS_DEF_TOKCOPYREPEATEDRESULTS
#include "winnow/Transforms/Passes.h.inc"
} // namespace winnow

using namespace mlir;

namespace winnow {
namespace {

/// A fresh buffer holding a copy of `buffer`. Returned buffers have the
/// identity layout (bufferization runs with identity-layout-map at function
/// boundaries); a strided one cannot be allocated densely and is an error.
FailureOr<Value> copyToNewBuffer(OpBuilder &builder, Location loc,
                                 Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  if (!type.getLayout().isIdentity())
    return emitError(loc) << "cannot copy the repeated result of type "
                          << type
                          << ": only identity layouts can be allocated";
  SmallVector<Value> dynamicSizes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dynamicSizes.push_back(memref::DimOp::create(builder, loc, buffer, d));
  Value copy = memref::AllocOp::create(builder, loc, type, dynamicSizes);
  memref::CopyOp::create(builder, loc, buffer, copy);
  return copy;
}

struct TokCopyRepeatedResultsPass
    : impl::TokCopyRepeatedResultsBase<TokCopyRepeatedResultsPass> {
  void runOnOperation() override {
    WalkResult result = getOperation().walk([](func::ReturnOp ret) {
      llvm::SmallDenseSet<Value> returned;
      for (OpOperand &operand : ret->getOpOperands()) {
        Value value = operand.get();
        if (returned.insert(value).second ||
            !isa<MemRefType>(value.getType()))
          continue;
        OpBuilder builder(ret);
        FailureOr<Value> copy = copyToNewBuffer(builder, ret.getLoc(), value);
        if (failed(copy))
          return WalkResult::interrupt();
        operand.set(*copy);
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
} // namespace winnow
