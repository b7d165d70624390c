//===- DiversityOps.cpp - Verifiers of the diversity-selection ops -------===//

#include "winnow/Dialect/Tok/IR/TokOps.h"

#include "VerifyUtils.h"

using namespace mlir;
using namespace winnow::tok;

LogicalResult KCenterOp::verify() {
  auto input = getInput().getType();
  if (input.getRank() != 3)
    return emitOpError() << "expected input of rank 3 [B, N, D], got rank "
                         << input.getRank();
  int64_t batch = input.getDimSize(0), tokens = input.getDimSize(1);
  if (failed(verifyPerBatch(*this, getLengths(), "lengths", batch)) ||
      failed(verifyPerBatch(*this, getFirst(), "first", batch)) ||
      failed(verifyPerBatch(*this, getCount(), "count", batch)))
    return failure();
  auto indices = getIndices().getType();
  if (indices.getRank() != 2 || indices.getDimSize(0) != batch)
    return emitOpError() << "expected indices of shape " << batch
                         << "xCxi32, got " << shapeString(indices.getShape())
                         << "xi32";
  int64_t needed = std::clamp<int64_t>(getK(), 0, tokens);
  if (indices.getDimSize(1) < needed)
    return emitOpError() << "expected an index capacity of at least " << needed
                         << ", got " << indices.getDimSize(1);
  return success();
}
