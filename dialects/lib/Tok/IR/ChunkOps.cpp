//===- ChunkOps.cpp - Verifiers of the chunking ops -----------------------===//

#include "winnow/Dialect/Tok/IR/TokOps.h"

#include "OpVerifiers.h"

using namespace mlir;
using namespace winnow::tok;

LogicalResult BoundaryOp::verify() {
  auto queries = getQueries().getType();
  auto keys = getKeys().getType();
  if (queries.getRank() != 3)
    return emitOpError() << "expected queries of rank 3 [B, L, D], got rank "
                         << queries.getRank();
  if (keys != queries)
    return emitOpError() << "expected keys of the queries' type " << queries
                         << ", got " << keys;
  int64_t batch = queries.getDimSize(0), tokens = queries.getDimSize(1);
  if (failed(verifyPerBatch(*this, getLengths(), "lengths", batch)) ||
      failed(verifyShape(*this, getProbs(), "probs", {batch, tokens})) ||
      failed(verifyShape(*this, getBoundaries(), "boundaries", {batch, tokens})))
    return failure();
  return success();
}

LogicalResult SegmentReduceOp::verify() {
  auto input = getInput().getType();
  if (input.getRank() != 3)
    return emitOpError() << "expected input of rank 3 [B, L, D], got rank "
                         << input.getRank();
  int64_t batch = input.getDimSize(0), tokens = input.getDimSize(1);
  int64_t features = input.getDimSize(2);
  if (failed(verifyShape(*this, getBoundaries(), "boundaries", {batch, tokens})) ||
      failed(verifyPerBatch(*this, getLengths(), "lengths", batch)) ||
      failed(verifyPerBatch(*this, getCount(), "count", batch)))
    return failure();
  auto output = getOutput().getType();
  if (output.getElementType() != input.getElementType())
    return emitOpError() << "expected output element type "
                         << input.getElementType() << ", got "
                         << output.getElementType();
  if (output.getRank() != 3 || output.getDimSize(0) != batch ||
      output.getDimSize(2) != features)
    return emitOpError() << "expected output of shape " << batch << "xCx"
                         << features << ", got "
                         << shapeString(output.getShape());
  if (output.getDimSize(1) < tokens)
    return emitOpError() << "expected a segment capacity of at least "
                         << tokens << " (every token can start a segment), got "
                         << output.getDimSize(1);
  return success();
}

LogicalResult EmaScanOp::verify() {
  auto input = getInput().getType();
  if (input.getRank() != 3)
    return emitOpError() << "expected input of rank 3 [B, C, D], got rank "
                         << input.getRank();
  int64_t batch = input.getDimSize(0), chunks = input.getDimSize(1);
  if (failed(verifyShape(*this, getGates(), "gates", {batch, chunks})) ||
      failed(verifyPerBatch(*this, getCount(), "count", batch)) ||
      failed(verifyShape(*this, getOutput(), "output", input.getShape())))
    return failure();
  double epsilon = getEpsilon().convertToDouble();
  if (!(epsilon >= 0.0 && epsilon < 0.5))
    return emitOpError() << "expected epsilon in [0, 0.5), got " << epsilon;
  if (int64_t block = getScanBlockAttr().getInt(); block < 1)
    return emitOpError() << "expected scan_block >= 1, got " << block;
  return success();
}

LogicalResult ExpandOp::verify() {
  auto input = getInput().getType();
  if (input.getRank() != 3)
    return emitOpError() << "expected input of rank 3 [B, C, D], got rank "
                         << input.getRank();
  auto boundaries = getBoundaries().getType();
  if (boundaries.getRank() != 2 ||
      boundaries.getDimSize(0) != input.getDimSize(0))
    return emitOpError() << "expected boundaries of shape "
                         << input.getDimSize(0) << "xLxi1, got "
                         << shapeString(boundaries.getShape()) << "xi1";
  int64_t batch = input.getDimSize(0), tokens = boundaries.getDimSize(1);
  SmallVector<int64_t> expanded = {batch, tokens, input.getDimSize(2)};
  if (failed(verifyPerBatch(*this, getLengths(), "lengths", batch)))
    return failure();
  Type elementType = input.getElementType();
  if (Value residual = getResidual()) {
    if (failed(verifyShape(*this, residual, "residual", expanded)))
      return failure();
    elementType = cast<RankedTensorType>(residual.getType()).getElementType();
  }
  if (failed(verifyShape(*this, getOutput(), "output", expanded)))
    return failure();
  if (getOutput().getType().getElementType() != elementType)
    return emitOpError() << "expected output element type " << elementType
                         << " (the " << (getResidual() ? "residual" : "input")
                         << "'s), got " << getOutput().getType().getElementType();
  return success();
}

Value SegmentReduceOp::getCountFor(Value result) {
  return result == getOutput() ? getCount() : Value();
}

Value EmaScanOp::getCountFor(Value result) {
  return result == getOutput() ? getCount() : Value();
}

bool EmaScanOp::canStreamInto(Operation *consumer) {
  // expand reads each chunk's value once, in chunk order, as the scan makes it.
  auto expand = dyn_cast<ExpandOp>(consumer);
  return expand && expand.getInput() == getOutput() &&
         getOutput().hasOneUse();
}
