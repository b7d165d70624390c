//===- MergeOps.cpp - Verifiers and helpers of the merging ops ------------===//

#include "winnow/Dialect/Tok/IR/TokOps.h"

#include "OpVerifiers.h"

using namespace mlir;
using namespace winnow::tok;

//===----------------------------------------------------------------------===//
// BipartitePlanOp
//===----------------------------------------------------------------------===//

int64_t BipartitePlanOp::getNumProtected() {
  return (getClassToken() ? 1 : 0) + (getDistillToken() ? 1 : 0);
}

int64_t BipartitePlanOp::getEffectiveR() {
  int64_t tokens = getMetric().getType().getDimSize(1);
  int64_t stride = getStrideAttr().getInt();
  if (stride < 2)
    return 0;
  // Without an eligible destination (N = 3 with a distillation token) no
  // token can merge.
  int64_t destinations = tokens / stride - (getDistillToken() ? 1 : 0);
  if (destinations <= 0)
    return 0;
  int64_t r = getR() ? getRAttr().getInt() : 0;
  int64_t limit = stride == 2 ? (tokens - getNumProtected()) / 2
                              : (tokens - tokens / stride) - getNumProtected();
  return std::max<int64_t>(0, std::min(r, limit));
}

int64_t BipartitePlanOp::getMaxOutputRows() {
  int64_t tokens = getMetric().getType().getDimSize(1);
  return getThreshold() ? tokens : tokens - getEffectiveR();
}

// Outside a dispatch each A token's scan over B is one warp's; inside a
// dispatch row it would be one thread's, a serial loop over the row.
bool BipartitePlanOp::fusesOnGpu() { return false; }

LogicalResult BipartitePlanOp::verify() {
  auto metric = getMetric().getType();
  if (metric.getRank() != 3)
    return emitOpError() << "expected metric of rank 3 [B, N, Cm], got rank "
                         << metric.getRank();
  int64_t batch = metric.getDimSize(0), tokens = metric.getDimSize(1);
  if (getR().has_value() == getThreshold().has_value())
    return emitOpError() << "expected exactly one of 'r' and 'threshold'";
  if (getThreshold() && std::isnan(getThreshold()->convertToDouble()))
    return emitOpError() << "expected a threshold that is not NaN";
  int64_t stride = getStrideAttr().getInt();
  if (stride < 2)
    return emitOpError() << "expected a stride of at least 2, got " << stride;
  if (getDistillToken() && stride != 2)
    return emitOpError() << "distill_token needs stride 2 (token 1 is a "
                            "destination only in the alternating split)";
  if (getDistillToken() && tokens < 2)
    return emitOpError() << "expected at least 2 tokens with distill_token";
  if (getClassToken() && tokens < 1)
    return emitOpError() << "expected at least 1 token with class_token";
  if (failed(verifyShape(*this, getParent(), "parent", {batch, tokens})) ||
      failed(verifyPerBatch(*this, getCount(), "count", batch)))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// ScatterMergeOp
//===----------------------------------------------------------------------===//

LogicalResult ScatterMergeOp::verify() {
  auto parent = getParent().getType();
  if (parent.getRank() != 2)
    return emitOpError() << "expected parent of rank 2 [B, N], got rank "
                         << parent.getRank();
  int64_t batch = parent.getDimSize(0), tokens = parent.getDimSize(1);
  if (failed(verifyPerBatch(*this, getCount(), "count", batch)))
    return failure();
  if (getMerged().size() != getSources().size())
    return emitOpError() << "expected one merged result per source ("
                         << getSources().size() << "), got "
                         << getMerged().size();
  if (Value sizes = getSizes())
    if (failed(verifyShape(*this, sizes, "sizes", {batch, tokens})))
      return failure();

  std::optional<int64_t> capacity;
  for (auto [i, source, merged] :
       llvm::enumerate(getSources(), getMerged())) {
    auto in = cast<RankedTensorType>(source.getType());
    auto out = cast<RankedTensorType>(merged.getType());
    if (in.getRank() < 2 || in.getDimSize(0) != batch ||
        in.getDimSize(1) != tokens)
      return emitOpError() << "expected source " << i << " of shape " << batch
                           << "x" << tokens << "x..., got "
                           << shapeString(in.getShape());
    SmallVector<int64_t> expected(in.getShape());
    expected[1] = out.getRank() == in.getRank() ? out.getDimSize(1) : 0;
    if (out.getRank() != in.getRank() ||
        out.getShape() != ArrayRef<int64_t>(expected) ||
        out.getElementType() != in.getElementType())
      return emitOpError() << "expected merged result " << i
                           << " to match source " << in
                           << " except on axis 1, got " << out;
    if (capacity && *capacity != out.getDimSize(1))
      return emitOpError() << "expected every merged result to have the "
                              "same capacity, got "
                           << *capacity << " and " << out.getDimSize(1);
    capacity = out.getDimSize(1);
  }
  auto mergedSizes = getMergedSizes().getType();
  int64_t rows = capacity.value_or(
      mergedSizes.getRank() == 2 ? mergedSizes.getDimSize(1) : 0);
  return verifyShape(*this, getMergedSizes(), "merged_sizes", {batch, rows});
}

LogicalResult WeightedGatherOp::verify() {
  auto indices = getIndices().getType();
  if (indices.getRank() != 3)
    return emitOpError() << "expected indices of rank 3 [B, M, K], got rank "
                         << indices.getRank();
  int64_t batch = indices.getDimSize(0), rows = indices.getDimSize(1);
  if (failed(verifyShape(*this, getWeights(), "weights", indices.getShape())))
    return failure();
  auto input = getInput().getType();
  if (input.getRank() != 3 || input.getDimSize(0) != batch)
    return emitOpError() << "expected input of shape " << batch
                         << "xNxD, got " << shapeString(input.getShape());
  auto output = getOutput().getType();
  SmallVector<int64_t> expected = {batch, rows, input.getDimSize(2)};
  if (output.getShape() != ArrayRef<int64_t>(expected) ||
      output.getElementType() != input.getElementType())
    return emitOpError() << "expected output of shape "
                         << shapeString(expected) << " and element type "
                         << input.getElementType() << ", got " << output;
  return success();
}

Value ScatterMergeOp::getCountFor(Value result) {
  // Every result holds one row per plan row; the plan's count are valid.
  return llvm::is_contained(getResults(), result) ? getCount() : Value();
}
