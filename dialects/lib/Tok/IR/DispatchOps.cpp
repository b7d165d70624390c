//===- DispatchOps.cpp - Verifiers of tok.dispatch ------------------------===//

#include "winnow/Dialect/Tok/IR/TokOps.h"

using namespace mlir;
using namespace winnow::tok;

YieldOp DispatchOp::getYield() {
  return cast<YieldOp>(getBody().front().getTerminator());
}

LogicalResult DispatchOp::verify() {
  for (auto [i, result] : llvm::enumerate(getResults())) {
    auto type = cast<RankedTensorType>(result.getType());
    if (type.getRank() == 0 || type.getDimSize(0) != static_cast<int64_t>(getRows()))
      return emitOpError() << "expected result #" << i
                           << " to have the batch extent " << getRows()
                           << " as its leading dimension, got " << type;
  }
  return success();
}

LogicalResult DispatchOp::verifyRegions() {
  Block &body = getBody().front();
  if (body.getNumArguments() != 0)
    return emitOpError() << "expected a region without block arguments";
  YieldOp yield = getYield();
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError() << "expected tok.yield to name values of the result "
                            "types, got "
                         << yield.getValues().getTypes();
  for (Operation &op : body.without_terminator()) {
    bool isTok = isa<TokDialect>(op.getDialect()) && !isa<DispatchOp>(op);
    bool isElementwise =
        op.hasTrait<OpTrait::Elementwise>() && op.getNumRegions() == 0;
    if (!isTok && !isElementwise && !op.hasTrait<OpTrait::ConstantLike>())
      return op.emitOpError()
             << "cannot be fused in a tok.dispatch: only tok ops, elementwise "
                "ops and constants are row-local";
    for (Value result : op.getResults()) {
      auto type = dyn_cast<RankedTensorType>(result.getType());
      if (op.hasTrait<OpTrait::ConstantLike>())
        continue;
      if (!type || type.getRank() == 0 || type.getDimSize(0) != static_cast<int64_t>(getRows()))
        return op.emitOpError()
               << "inside a tok.dispatch of " << getRows()
               << " rows must produce tensors with that leading extent, got "
               << result.getType();
    }
  }
  return success();
}
