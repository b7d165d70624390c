//===- RowsOfDynamicBatch.cpp - The tok-rows-of-dynamic-batch pass --------===//
//
// A function with a dynamic batch becomes one loop over its rows, each
// running the function's ops cloned at batch extent 1 (see the pass
// description). The clones are static, so nothing after this pass handles
// a runtime size other than the loop's trip count.
//
//===----------------------------------------------------------------------===//

#include "winnow/Dialect/Tok/IR/TokOps.h"
#include "winnow/Dialect/Tok/Transforms/DynamicBatch.h"
#include "winnow/Dialect/Tok/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Verifier.h"

namespace winnow {
#define GEN_PASS_DEF_TOKROWSOFDYNAMICBATCH
#include "winnow/Dialect/Tok/Transforms/Passes.h.inc"
} // namespace winnow

using namespace mlir;

namespace winnow {
namespace {

/// `type` with its leading extent set to 1 (other types unchanged).
Type oneRow(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || tensor.getRank() == 0)
    return type;
  SmallVector<int64_t> shape(tensor.getShape());
  shape[0] = 1;
  return tensor.clone(shape);
}

bool hasTensor(TypeRange types) {
  return llvm::any_of(types, [](Type t) { return isa<TensorType>(t); });
}

/// Whether `op` computes each row of its results from the same row of its
/// operands, so that a clone at batch extent 1 computes one row.
LogicalResult checkRowByRow(Operation *op) {
  // A broadcast along axes other than the batch copies within rows.
  if (auto broadcast = dyn_cast<linalg::BroadcastOp>(op))
    if (!llvm::is_contained(broadcast.getDimensions(), 0))
      return success();
  if (op->getNumRegions() != 0)
    return op->emitOpError()
           << "cannot run row by row in a function with a dynamic batch "
              "(it has regions)";
  if (isa<tok::TokDialect>(op->getDialect()))
    return success(); // BatchExtentsAgree: dynamic only when row-local
  // The batch itself, and tensors made of one value per element.
  if (auto dim = dyn_cast<tensor::DimOp>(op)) {
    std::optional<int64_t> index = dim.getConstantIndex();
    auto source = dyn_cast<RankedTensorType>(dim.getSource().getType());
    if (index && *index == 0 && source && source.isDynamicDim(0))
      return success();
  }
  if (isa<tensor::SplatOp, tensor::EmptyOp>(op)) {
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    if (type.getRank() > 0 && type.isDynamicDim(0) &&
        type.getNumDynamicDims() == 1)
      return success();
  }
  if (!hasTensor(op->getOperandTypes()) && !hasTensor(op->getResultTypes()))
    return success(); // scalar constants and arithmetic
  if (op->hasTrait<OpTrait::Elementwise>()) {
    // Tensors of one shape only: a broadcast would not be row-local.
    auto shape = cast<ShapedType>(op->getResult(0).getType()).getShape();
    if (llvm::all_of(llvm::concat<Value>(op->getOperands(), op->getResults()),
                     [&](Value v) {
                       auto type = dyn_cast<ShapedType>(v.getType());
                       return type && type.getShape() == shape;
                     }))
      return success();
  }
  // Reshapes that keep the batch as its own leading group (with unit
  // extents at most), and concatenations inside rows.
  if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op))
    if (tok::keepsBatchGroup(collapse.getSrcType(),
                             collapse.getReassociationIndices()))
      return success();
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
    if (tok::keepsBatchGroup(expand.getResultType(),
                             expand.getReassociationIndices()))
      return success();
  if (auto concat = dyn_cast<tensor::ConcatOp>(op);
      concat && concat.getDim() > 0)
    return success();
  return op->emitOpError()
         << "cannot run row by row in a function with a dynamic batch: "
            "only tok ops, elementwise ops on tensors of one shape, "
            "reshapes and broadcasts that keep the batch leading, "
            "concatenations inside rows, splats and empties sized by the "
            "batch, and scalar constants can";
}

LogicalResult rewriteFunction(func::FuncOp func) {
  Block &body = func.getBody().front();
  for (Operation &op : body.without_terminator())
    if (failed(checkRowByRow(&op)))
      return failure();
  auto returnOp = cast<func::ReturnOp>(body.getTerminator());

  // The new body: the old one's ops move into the loop, so build it in a
  // fresh block and swap.
  auto *newBody = new Block();
  for (BlockArgument arg : body.getArguments())
    newBody->addArgument(arg.getType(), arg.getLoc());
  ImplicitLocOpBuilder b(func.getLoc(), func.getContext());
  b.setInsertionPointToStart(newBody);
  // getDynamicBatch checked that argument 0 leads with the batch.
  Value batch = tensor::DimOp::create(b, newBody->getArgument(0), 0);
  SmallVector<Value> inits;
  for (Type type : func.getFunctionType().getResults())
    inits.push_back(tensor::EmptyOp::create(
        b, cast<RankedTensorType>(type).getShape(),
        cast<RankedTensorType>(type).getElementType(), ValueRange{batch}));

  auto rowSlice = [&](OpBuilder &builder, Location loc, Value row,
                      RankedTensorType type) {
    SmallVector<OpFoldResult> offsets(type.getRank(), builder.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes,
        strides(type.getRank(), builder.getIndexAttr(1));
    offsets[0] = row;
    sizes.push_back(builder.getIndexAttr(1));
    for (int64_t d = 1; d < type.getRank(); ++d)
      sizes.push_back(builder.getIndexAttr(type.getDimSize(d)));
    return std::make_tuple(offsets, sizes, strides);
  };

  // scf.forall: its results bufferize to the shared outputs themselves, so
  // the function returns their allocations, which become the caller's
  // out-parameters (no copy of the whole result at the end).
  auto loop = scf::ForallOp::create(
      b, ArrayRef<OpFoldResult>{OpFoldResult(batch)}, inits,
      /*mapping=*/std::nullopt,
      [&](OpBuilder &nested, Location loc, ValueRange ivsAndOuts) {
        Value row = ivsAndOuts.front();
        ValueRange outs = ivsAndOuts.drop_front();
        IRMapping mapping;
        for (auto [oldArg, newArg] :
             llvm::zip(body.getArguments(), newBody->getArguments())) {
          auto type = cast<RankedTensorType>(oldArg.getType());
          auto [offsets, sizes, strides] = rowSlice(nested, loc, row, type);
          mapping.map(oldArg,
                      tensor::ExtractSliceOp::create(
                          nested, loc, cast<RankedTensorType>(oneRow(type)),
                          newArg, offsets, sizes, strides));
        }
        Value oneIndex;
        for (Operation &op : body.without_terminator()) {
          // The batch of one row is 1; splats and empties of a row are
          // static.
          if (auto dim = dyn_cast<tensor::DimOp>(op)) {
            if (!oneIndex)
              oneIndex = arith::ConstantIndexOp::create(nested, loc, 1);
            mapping.map(dim.getResult(), oneIndex);
            continue;
          }
          auto rowType = cast_or_null<RankedTensorType>(
              op.getNumResults() == 1 ? oneRow(op.getResult(0).getType())
                                      : Type());
          if (auto splat = dyn_cast<tensor::SplatOp>(op)) {
            mapping.map(splat.getResult(),
                        tensor::SplatOp::create(
                            nested, loc, rowType,
                            mapping.lookupOrDefault(splat.getInput())));
            continue;
          }
          if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op)) {
            // Its output extents are spelled out: a row's are static.
            mapping.map(expand.getResult(),
                        tensor::ExpandShapeOp::create(
                            nested, loc, rowType,
                            mapping.lookupOrDefault(expand.getSrc()),
                            expand.getReassociationIndices()));
            continue;
          }
          if (isa<tensor::EmptyOp>(op)) {
            mapping.map(op.getResult(0),
                        tensor::EmptyOp::create(nested, loc, rowType.getShape(),
                                                rowType.getElementType()));
            continue;
          }
          Operation *clone = nested.clone(op, mapping);
          for (OpResult result : clone->getResults())
            result.setType(oneRow(result.getType()));
        }
        auto inParallel = scf::InParallelOp::create(nested, loc);
        OpBuilder::InsertionGuard guard(nested);
        nested.setInsertionPointToStart(inParallel.getBody());
        for (auto [value, out] : llvm::zip(returnOp.getOperands(), outs)) {
          auto type = cast<RankedTensorType>(out.getType());
          auto [offsets, sizes, strides] = rowSlice(nested, loc, row, type);
          tensor::ParallelInsertSliceOp::create(
              nested, loc, mapping.lookup(value), out, offsets, sizes, strides);
        }
      });
  func::ReturnOp::create(b, loop.getResults());

  // Swap the bodies; the old block's uses are all inside itself.
  for (auto [oldArg, newArg] :
       llvm::zip(body.getArguments(), newBody->getArguments()))
    oldArg.replaceAllUsesWith(newArg);
  body.dropAllDefinedValueUses();
  func.getBody().push_back(newBody);
  body.erase();

  // A clone whose verifier rejects batch 1 (which the dynamic form passed)
  // would be a bug in an op's verifier; say so at the op.
  WalkResult verified = loop.getBody()->walk([](Operation *op) {
    if (isa<tok::TokDialect>(op->getDialect()) &&
        failed(mlir::verify(op, /*verifyRecursively=*/false)))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return failure(verified.wasInterrupted());
}

struct TokRowsOfDynamicBatch
    : impl::TokRowsOfDynamicBatchBase<TokRowsOfDynamicBatch> {
  using Base::Base;
  void runOnOperation() override {
    if (target != "cpu" && target != "cuda") {
      getOperation().emitError()
          << "tok-rows-of-dynamic-batch: target must be cpu or cuda, got '"
          << target << "'";
      return signalPassFailure();
    }
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    FailureOr<std::optional<tok::DynamicBatch>> batch =
        tok::getDynamicBatch(func);
    if (failed(batch))
      return signalPassFailure();
    if (!*batch)
      return;
    if (target == "cuda") {
      func.emitError()
          << "a dynamic batch ('" << (*batch)->name
          << "' in tok.bounds) is supported on the cpu target only so far: "
             "for cuda, compile one artifact per batch size";
      return signalPassFailure();
    }
    if (!func.getBody().hasOneBlock()) {
      func.emitError() << "a function with a dynamic batch must have one block";
      return signalPassFailure();
    }
    if (failed(rewriteFunction(func)))
      signalPassFailure();
  }
};

} // namespace
} // namespace winnow
