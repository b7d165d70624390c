//===- DiversityOps.cpp - Verifiers of the diversity-selection ops -------===//

#include "winnow/Dialect/Tok/IR/TokOps.h"

#include "OpVerifiers.h"

#include <limits>

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

/// a + b for non-negative attribute values, saturating instead of
/// overflowing.
static int64_t saturatingAdd(int64_t a, int64_t b) {
  return a > std::numeric_limits<int64_t>::max() - b
             ? std::numeric_limits<int64_t>::max()
             : a + b;
}

int64_t DartSelectOp::getPerPivot() {
  int64_t pivots = saturatingAdd(getImagePivotsAttr().getInt(),
                                 getTextPivotsAttr().getInt());
  return pivots > 0 ? getKeepAttr().getInt() / pivots : 0;
}

int64_t DartSelectOp::getMaxKeptCount() {
  int64_t tokens = getKeys().getType().getDimSize(1);
  int64_t spanSize = getSpan()[1] - getSpan()[0];
  int64_t imagePivots = getImagePivotsAttr().getInt();
  int64_t pivots = saturatingAdd(imagePivots, getTextPivotsAttr().getInt());
  // Saturating: every term is bounded by the span before it is summed.
  int64_t taken = std::min(spanSize, getPerPivot()) * std::min(pivots, spanSize);
  int64_t image = std::min(spanSize, std::min(imagePivots, spanSize) + taken);
  return (tokens - spanSize) + image;
}

LogicalResult DartSelectOp::verify() {
  auto keys = getKeys().getType();
  auto hidden = getHidden().getType();
  if (keys.getRank() != 3 || hidden.getRank() != 3)
    return emitOpError() << "expected keys and hidden of rank 3 [B, L, D]";
  int64_t batch = keys.getDimSize(0), tokens = keys.getDimSize(1);
  if (hidden.getDimSize(0) != batch || hidden.getDimSize(1) != tokens)
    return emitOpError() << "expected hidden of shape " << batch << "x"
                         << tokens << "xD, got "
                         << shapeString(hidden.getShape());
  if (failed(verifyPerBatch(*this, getLengths(), "lengths", batch)) ||
      failed(verifyPerBatch(*this, getCount(), "count", batch)))
    return failure();
  ArrayRef<int64_t> span = getSpan();
  if (span.size() != 2 || span[0] < 0 || span[0] > span[1] || span[1] > tokens)
    return emitOpError() << "expected span [start, end) within [0, " << tokens
                         << "]";
  int64_t imagePivots = getImagePivotsAttr().getInt();
  int64_t textPivots = getTextPivotsAttr().getInt();
  int64_t keep = getKeepAttr().getInt();
  if (imagePivots < 0 || textPivots < 0 || keep < 0)
    return emitOpError() << "expected non-negative image_pivots, text_pivots "
                            "and keep, got "
                         << imagePivots << ", " << textPivots << " and " << keep;
  if (imagePivots == 0 && textPivots == 0)
    return emitOpError() << "expected at least one pivot";
  auto indices = getIndices().getType();
  if (indices.getRank() != 2 || indices.getDimSize(0) != batch)
    return emitOpError() << "expected indices of shape " << batch
                         << "xCxi32, got " << shapeString(indices.getShape())
                         << "xi32";
  int64_t needed = getMaxKeptCount();
  if (indices.getDimSize(1) < needed)
    return emitOpError() << "expected an index capacity of at least " << needed
                         << " (the largest count this selection can keep), got "
                         << indices.getDimSize(1);
  return success();
}

Value KCenterOp::getCountFor(Value result) {
  return result == getIndices() ? getCount() : Value();
}

Value DartSelectOp::getCountFor(Value result) {
  return result == getIndices() ? getCount() : Value();
}
