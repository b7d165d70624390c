//===- PruneOps.cpp - Verifiers and helpers of the pruning ops ------------===//

#include "winnow/Dialect/Tok/IR/TokOps.h"

#include "OpVerifiers.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OpImplementation.h"

#include <cmath>

using namespace mlir;
using namespace winnow::tok;


//===----------------------------------------------------------------------===//
// AttnScoreOp
//===----------------------------------------------------------------------===//

float AttnScoreOp::getEffectiveScale() {
  if (auto scale = getScaleAttr())
    return scale.getValueAsDouble();
  int64_t headDim = getQueries().getType().getDimSize(3);
  return 1.0f / std::sqrt(static_cast<float>(headDim));
}

LogicalResult AttnScoreOp::verify() {
  auto queries = cast<RankedTensorType>(getQueries().getType());
  auto keys = cast<RankedTensorType>(getKeys().getType());
  if (queries.getRank() != 4)
    return emitOpError() << "expected queries of rank 4 [B, H, Q, d], got rank "
                         << queries.getRank();
  if (keys.getRank() != 4)
    return emitOpError() << "expected keys of rank 4 [B, Hkv, N, d], got rank "
                         << keys.getRank();
  Type elementType = queries.getElementType();
  if (!isa<Float16Type, BFloat16Type, Float32Type>(elementType))
    return emitOpError() << "expected f16, bf16 or f32 queries, got "
                         << elementType;
  if (keys.getElementType() != elementType)
    return emitOpError() << "expected keys of the queries' element type "
                         << elementType << ", got " << keys.getElementType();

  int64_t batch = queries.getDimSize(0), heads = queries.getDimSize(1);
  int64_t rows = queries.getDimSize(2), headDim = queries.getDimSize(3);
  int64_t kvHeads = keys.getDimSize(1), tokens = keys.getDimSize(2);
  if (keys.getDimSize(0) != batch)
    return emitOpError() << "expected keys with batch " << batch << ", got "
                         << keys.getDimSize(0);
  if (keys.getDimSize(3) != headDim)
    return emitOpError() << "expected keys with head dim " << headDim
                         << ", got " << keys.getDimSize(3);
  if (kvHeads == 0 || heads % kvHeads != 0)
    return emitOpError() << "expected the query heads (" << heads
                         << ") to be a multiple of the key heads (" << kvHeads
                         << ")";
  if (failed(verifyPerBatch(*this, getLengths(), "lengths", batch)))
    return failure();
  if (Value lse = getLse()) {
    auto type = cast<RankedTensorType>(lse.getType());
    if (type.getShape() != ArrayRef<int64_t>{batch, heads, rows})
      return emitOpError() << "expected lse of shape " << batch << "x" << heads
                           << "x" << rows << "xf32, got "
                           << shapeString(type.getShape()) << "xf32";
  }
  if (Value positions = getQueryPositions()) {
    auto type = cast<RankedTensorType>(positions.getType());
    if (type.getShape() != ArrayRef<int64_t>{batch, rows})
      return emitOpError() << "expected query_positions of shape " << batch
                           << "x" << rows << "xi32, got "
                           << shapeString(type.getShape()) << "xi32";
  }
  if (auto scale = getScaleAttr()) {
    double value = scale.getValueAsDouble();
    if (!std::isfinite(value) || value <= 0.0)
      return emitOpError() << "expected a finite positive scale, got " << value;
  }
  auto scores = getScores().getType();
  if (scores.getShape() != ArrayRef<int64_t>{batch, tokens})
    return emitOpError() << "expected scores of shape " << batch << "x"
                         << tokens << "xf32, got "
                         << shapeString(scores.getShape()) << "xf32";
  return success();
}

//===----------------------------------------------------------------------===//
// SelectOp
//===----------------------------------------------------------------------===//

std::pair<int64_t, int64_t> SelectOp::getSpanBounds() {
  if (auto span = getSpanAttr())
    return {span[0], span[1]};
  return {0, getScores().getType().getDimSize(1)};
}

int64_t SelectOp::getMaxBudget(int64_t n) {
  Attribute budget = getBudget();
  if (auto topK = dyn_cast<TopKAttr>(budget))
    return std::clamp<int64_t>(topK.getK(), 0, n);
  if (auto ratio = dyn_cast<KeepRatioAttr>(budget)) {
    double product = static_cast<double>(n) * toDouble(ratio.getRatio());
    double rounded = product;
    switch (ratio.getRounding()) {
    case Rounding::floor:
      rounded = std::floor(product);
      break;
    case Rounding::ceil:
      rounded = std::ceil(product);
      break;
    case Rounding::half_even:
      rounded = std::nearbyint(product); // default mode: ties to even
      break;
    case Rounding::half_away:
      rounded = std::round(product);
      break;
    }
    return std::clamp<int64_t>(static_cast<int64_t>(rounded), 0, n);
  }
  return n; // a threshold can keep every candidate
}

int64_t SelectOp::getMaxKeptCount() {
  int64_t tokens = getScores().getType().getDimSize(1);
  if (getProtect() || isa<ThresholdAttr>(getBudget()))
    return tokens;
  auto [start, end] = getSpanBounds();
  int64_t spanSize = end - start;
  return (tokens - spanSize) + getMaxBudget(spanSize);
}

LogicalResult SelectOp::verify() {
  auto scores = getScores().getType();
  if (scores.getRank() != 2)
    return emitOpError() << "expected scores of rank 2 [B, N], got rank "
                         << scores.getRank();
  int64_t batch = scores.getDimSize(0), tokens = scores.getDimSize(1);
  if (failed(verifyPerBatch(*this, getLengths(), "lengths", batch)))
    return failure();
  if (Value rowBudget = getRowBudget()) {
    Type element = cast<RankedTensorType>(rowBudget.getType()).getElementType();
    if (isa<ThresholdAttr>(getBudget()))
      return emitOpError() << "a threshold budget takes no row_budget";
    bool topK = isa<TopKAttr>(getBudget());
    if (topK ? !element.isInteger(32) : !element.isF32())
      return emitOpError() << "expected a row_budget of "
                           << (topK ? "i32 keep counts" : "f32 keep ratios")
                           << " for a " << (topK ? "top_k" : "keep_ratio")
                           << " budget, got " << element;
    if (failed(verifyShape(*this, rowBudget, "row_budget", {batch})))
      return failure();
  }
  if (Value protect = getProtect()) {
    auto type = cast<RankedTensorType>(protect.getType());
    if (type.getShape() != scores.getShape())
      return emitOpError() << "expected protect mask of shape " << batch << "x"
                           << tokens << "xi1, got "
                           << shapeString(type.getShape()) << "xi1";
  }
  if (auto span = getSpanAttr()) {
    if (span.size() != 2)
      return emitOpError() << "expected span [start, end), got "
                           << span.size() << " values";
    if (span[0] < 0 || span[0] > span[1] || span[1] > tokens)
      return emitOpError() << "expected span within [0, " << tokens
                           << "] with start <= end, got [" << span[0] << ", "
                           << span[1] << ")";
  }
  auto indices = getIndices().getType();
  if (indices.getRank() != 2 || indices.getDimSize(0) != batch)
    return emitOpError() << "expected indices of shape " << batch
                         << "xCxi32, got " << shapeString(indices.getShape())
                         << "xi32";
  if (failed(verifyPerBatch(*this, getCount(), "count", batch)))
    return failure();
  int64_t capacity = indices.getDimSize(1);
  int64_t needed = getMaxKeptCount();
  if (capacity < needed)
    return emitOpError() << "expected an index capacity of at least " << needed
                         << " (the largest count this selection can keep), got "
                         << capacity;
  return success();
}

//===----------------------------------------------------------------------===//
// CompactOp
//===----------------------------------------------------------------------===//

int64_t CompactOp::getTokenAxis(unsigned i) {
  if (auto axes = getTokenAxesAttr())
    return axes[i];
  return 1;
}

LogicalResult CompactOp::verify() {
  auto indices = getIndices().getType();
  if (indices.getRank() != 2)
    return emitOpError() << "expected indices of rank 2 [B, C], got rank "
                         << indices.getRank();
  int64_t batch = indices.getDimSize(0), capacity = indices.getDimSize(1);
  if (failed(verifyPerBatch(*this, getCount(), "count", batch)))
    return failure();

  unsigned numSources = getSources().size();
  if (auto axes = getTokenAxesAttr(); axes && axes.size() != numSources)
    return emitOpError() << "expected one token axis per source (" << numSources
                         << "), got " << axes.size();
  if (getGathered().size() != numSources)
    return emitOpError() << "expected one gathered result per source ("
                         << numSources << "), got " << getGathered().size();

  auto map = getOldToNew().getType();
  if (map.getRank() != 2 || map.getDimSize(0) != batch)
    return emitOpError() << "expected old_to_new of shape " << batch
                         << "xNxi32, got " << shapeString(map.getShape())
                         << "xi32";
  int64_t tokens = map.getDimSize(1);

  for (unsigned i = 0; i < numSources; ++i) {
    auto source = cast<RankedTensorType>(getSources()[i].getType());
    int64_t axis = getTokenAxis(i);
    if (axis < 1 || axis >= source.getRank())
      return emitOpError() << "expected token axis of source " << i
                           << " in [1, " << source.getRank() << "), got "
                           << axis;
    if (source.getDimSize(axis - 1) != batch)
      return emitOpError() << "expected source " << i << " to have batch "
                           << batch << " on axis " << axis - 1 << ", got "
                           << source.getDimSize(axis - 1);
    if (source.getDimSize(axis) != tokens)
      return emitOpError() << "expected source " << i << " to have " << tokens
                           << " tokens on axis " << axis << ", got "
                           << source.getDimSize(axis);
    SmallVector<int64_t> expected(source.getShape());
    expected[axis] = capacity;
    auto result = cast<RankedTensorType>(getGathered()[i].getType());
    if (result.getShape() != ArrayRef<int64_t>(expected) ||
        result.getElementType() != source.getElementType())
      return emitOpError() << "expected gathered result " << i << " of type "
                           << RankedTensorType::get(expected,
                                                    source.getElementType())
                           << ", got " << result;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Interfaces
//===----------------------------------------------------------------------===//

Value SelectOp::getCountFor(Value result) {
  return result == getIndices() ? getCount() : Value();
}

bool CompactOp::isRowLocal() {
  // A source with outer dims before its batch axis is not a batch of rows.
  for (unsigned s = 0; s < getSources().size(); ++s)
    if (getTokenAxis(s) != 1)
      return false;
  return true;
}

int64_t CompactOp::getReadBytes(OpOperand &operand) {
  // A source is read only where it is kept: the gathered rows.
  for (auto [source, gathered] : llvm::zip(getSources(), getGathered()))
    if (source == operand.get())
      return shapedBytes(gathered.getType());
  return shapedBytes(operand.get().getType());
}

Value CompactOp::getCountFor(Value result) {
  return llvm::is_contained(getGathered(), result) ? getCount() : Value();
}

int64_t CompactOp::getRaggedAxis(Value result) {
  for (auto [i, gathered] : llvm::enumerate(getGathered()))
    if (gathered == result)
      return getTokenAxis(i);
  return 1;
}

#define GET_OP_CLASSES
#include "winnow/Dialect/Tok/IR/TokOps.cpp.inc"
