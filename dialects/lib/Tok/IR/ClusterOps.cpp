//===- ClusterOps.cpp - Verifiers of the clustering ops -------------------===//

#include "winnow/Dialect/Tok/IR/TokOps.h"

#include "OpVerifiers.h"

using namespace mlir;
using namespace winnow::tok;

namespace {
/// Shared checks of the plan-producing clustering ops.
LogicalResult verifyPlanShapes(Operation *op, RankedTensorType input,
                               Value lengths, Value parent, Value count) {
  if (input.getRank() != 3)
    return op->emitOpError() << "expected input of rank 3 [B, N, C], got rank "
                             << input.getRank();
  int64_t batch = input.getDimSize(0), tokens = input.getDimSize(1);
  if (failed(verifyPerBatch(op, lengths, "lengths", batch)) ||
      failed(verifyShape(op, parent, "parent", {batch, tokens})) ||
      failed(verifyPerBatch(op, count, "count", batch)))
    return failure();
  return success();
}
} // namespace

LogicalResult RowCosineOp::verify() {
  auto lhs = getLhs().getType();
  auto rhs = getRhs().getType();
  if (lhs.getRank() < 1)
    return emitOpError() << "expected operands of rank >= 1";
  if (lhs != rhs)
    return emitOpError() << "expected operands of one type, got " << lhs
                         << " and " << rhs;
  return verifyShape(*this, getSimilarity(), "similarity",
                     lhs.getShape().drop_back());
}

LogicalResult DensityPeaksOp::verify() {
  if (failed(verifyPlanShapes(*this, getInput().getType(), getLengths(),
                              getParent(), getCount())))
    return failure();
  int64_t k = getKAttr().getInt(), clusters = getClustersAttr().getInt();
  if (k < 1)
    return emitOpError() << "expected k >= 1 neighbours, got " << k;
  if (clusters < 1)
    return emitOpError() << "expected at least one cluster, got " << clusters;
  return success();
}

LogicalResult SimilarityComponentsOp::verify() {
  if (failed(verifyPlanShapes(*this, getInput().getType(), getLengths(),
                              getParent(), getCount())))
    return failure();
  if (std::isnan(getThreshold().convertToDouble()))
    return emitOpError() << "expected a threshold that is not NaN";
  return success();
}
