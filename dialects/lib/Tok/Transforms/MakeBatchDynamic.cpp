//===- MakeBatchDynamic.cpp - The tok-make-batch-dynamic pass -------------===//
//
// Rewrites a function written for one batch size into the function with a
// dynamic batch and a bound (see the pass description); the verifiers of
// the rewritten ops then decide whether the program runs row by row.
//
//===----------------------------------------------------------------------===//

#include "winnow/Dialect/Tok/IR/TokOps.h"
#include "winnow/Dialect/Tok/Transforms/DynamicBatch.h"
#include "winnow/Dialect/Tok/Transforms/Passes.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Verifier.h"

namespace winnow {
#define GEN_PASS_DEF_TOKMAKEBATCHDYNAMIC
#include "winnow/Dialect/Tok/Transforms/Passes.h.inc"
} // namespace winnow

using namespace mlir;

namespace winnow {
namespace {

/// `type` with its leading extent dynamic when it is `batch`.
Type dynamicRows(Type type, int64_t batch) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || tensor.getRank() == 0 || tensor.getDimSize(0) != batch)
    return type;
  SmallVector<int64_t> shape(tensor.getShape());
  shape[0] = ShapedType::kDynamic;
  return tensor.clone(shape);
}

LogicalResult makeDynamic(func::FuncOp func, int64_t bound) {
  FunctionType type = func.getFunctionType();
  if (type.getNumInputs() == 0)
    return func.emitError() << "--dynamic-batch: the function has no "
                               "argument to take the batch from";
  std::optional<int64_t> batch;
  for (Type t : llvm::concat<const Type>(type.getInputs(), type.getResults())) {
    auto tensor = dyn_cast<RankedTensorType>(t);
    if (!tensor || tensor.getRank() == 0 || !tensor.hasStaticShape() ||
        (batch && tensor.getDimSize(0) != *batch))
      return func.emitError()
             << "--dynamic-batch: every argument and result must lead with "
                "the same static batch extent"
             << (batch ? " (" + std::to_string(*batch) + ")" : "") << ", got "
             << t;
    batch = tensor.getDimSize(0);
  }

  Block &body = func.getBody().front();
  ImplicitLocOpBuilder b(func.getLoc(), func.getContext());
  b.setInsertionPointToStart(&body);
  Value rows;
  auto batchRows = [&]() {
    if (!rows) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&body);
      rows = tensor::DimOp::create(b, body.getArgument(0), 0);
    }
    return rows;
  };
  for (Operation &op : llvm::make_early_inc_range(body.without_terminator())) {
    if (auto empty = dyn_cast<tensor::EmptyOp>(op)) {
      auto type = empty.getType();
      if (type.getRank() == 0 || type.getDimSize(0) != *batch ||
          !type.hasStaticShape())
        continue;
      b.setInsertionPoint(empty);
      Value dynamicEmpty = tensor::EmptyOp::create(
          b, cast<RankedTensorType>(dynamicRows(type, *batch)).getShape(),
          type.getElementType(), ValueRange{batchRows()});
      empty.replaceAllUsesWith(dynamicEmpty);
      empty.erase();
      continue;
    }
    auto constant = dyn_cast<arith::ConstantOp>(op);
    auto tensor =
        constant ? dyn_cast<RankedTensorType>(constant.getType()) : nullptr;
    if (!tensor || tensor.getRank() == 0 || tensor.getDimSize(0) != *batch)
      continue;
    auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
    if (!dense || !dense.isSplat())
      return constant.emitOpError()
             << "--dynamic-batch: a constant with the batch extent must be a "
                "splat (the same in every row)";
    batchRows();
    b.setInsertionPoint(constant);
    Value scalar = arith::ConstantOp::create(
        b, cast<TypedAttr>(dense.getSplatValue<Attribute>()));
    Value splat = tensor::SplatOp::create(
        b, cast<RankedTensorType>(dynamicRows(tensor, *batch)), scalar,
        ValueRange{rows});
    constant.replaceAllUsesWith(splat);
    constant.erase();
  }
  for (BlockArgument arg : body.getArguments())
    arg.setType(dynamicRows(arg.getType(), *batch));
  SmallVector<tensor::ExpandShapeOp> expands;
  body.walk([&](Operation *op) {
    if (isa<tensor::DimOp, tensor::SplatOp, tensor::EmptyOp, arith::ConstantOp>(
            op))
      return;
    if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
      expands.push_back(expand);
    for (OpResult result : op->getResults())
      result.setType(dynamicRows(result.getType(), *batch));
  });
  // An expand_shape spells its output extents: rebuilt, the dynamic one
  // comes from its operand.
  for (tensor::ExpandShapeOp expand : expands) {
    // Only an expand that keeps the batch as its own leading axis (with
    // unit extents at most) from a dynamic operand; any other is left for
    // the verifier to refuse.
    if (expand.getResultType().hasStaticShape() ||
        !expand.getSrcType().isDynamicDim(0) ||
        !tok::keepsBatchGroup(expand.getResultType(),
                              expand.getReassociationIndices()))
      continue;
    b.setInsertionPoint(expand);
    auto rebuilt = tensor::ExpandShapeOp::create(
        b, expand.getResultType(), expand.getSrc(),
        expand.getReassociationIndices());
    expand.getResult().replaceAllUsesWith(rebuilt.getResult());
    expand->erase();
  }
  SmallVector<Type> inputs, results;
  for (Type t : type.getInputs())
    inputs.push_back(dynamicRows(t, *batch));
  for (Type t : type.getResults())
    results.push_back(dynamicRows(t, *batch));
  func.setFunctionType(FunctionType::get(func.getContext(), inputs, results));
  func->setAttr(
      tok::kBoundsAttrName,
      DictionaryAttr::get(func.getContext(),
                          {NamedAttribute(b.getStringAttr("batch"),
                                          b.getI64IntegerAttr(bound))}));
  return mlir::verify(func);
}

struct TokMakeBatchDynamic
    : impl::TokMakeBatchDynamicBase<TokMakeBatchDynamic> {
  using Base::Base;
  void runOnOperation() override {
    if (bound < 0 || bound > INT32_MAX) {
      getOperation().emitError()
          << "--dynamic-batch must be in [0, 2^31), got " << bound;
      return signalPassFailure();
    }
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func.isPublic() || func.isExternal() ||
          func->hasAttr(tok::kBoundsAttrName))
        continue;
      if (!func.getBody().hasOneBlock()) {
        func.emitError() << "--dynamic-batch: the function must have one block";
        return signalPassFailure();
      }
      if (failed(makeDynamic(func, bound)))
        return signalPassFailure();
    }
  }
};

} // namespace
} // namespace winnow
