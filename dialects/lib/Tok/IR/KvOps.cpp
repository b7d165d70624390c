//===- KvOps.cpp - Verifiers of the KV-cache ops --------------------------===//

#include "winnow/Dialect/Tok/IR/TokOps.h"

#include "OpVerifiers.h"

using namespace mlir;
using namespace winnow::tok;

/// One task per (row, head) of a [B, H, C] slot tensor.
static int64_t rowHeadTasks(Value slots) {
  auto type = cast<ShapedType>(slots.getType());
  if (!type.hasRank() || type.getRank() < 2 || !type.hasStaticShape())
    return 1;
  return std::max<int64_t>(1, type.getDimSize(0) * type.getDimSize(1));
}

int64_t KvSelectOp::getCpuTasks() { return rowHeadTasks(getSlots()); }

int64_t KvGatherOp::getCpuTasks() { return rowHeadTasks(getSlots()); }

LogicalResult KvSelectOp::verify() {
  auto lengths = getLengths().getType();
  if (lengths.getRank() != 1)
    return emitOpError() << "expected lengths of rank 1 [B], got rank "
                         << lengths.getRank();
  int64_t batch = lengths.getDimSize(0);
  auto slots = getSlots().getType();
  if (slots.getRank() != 3 || slots.getDimSize(0) != batch)
    return emitOpError() << "expected slots of shape " << batch
                         << "xHxCxi32, got " << shapeString(slots.getShape())
                         << "xi32";
  int64_t heads = slots.getDimSize(1), capacity = slots.getDimSize(2);
  if (failed(verifyShape(*this, getCount(), "count", {batch, heads})))
    return failure();
  if (Value rowBudget = getRowBudget())
    if (failed(verifyShape(*this, rowBudget, "row_budget", {batch, 3})))
      return failure();
  // The accessors return the attributes as unsigned: read them signed.
  int64_t sinks = getSinksAttr().getInt(), window = getWindowAttr().getInt();
  int64_t heavy = getHeavyAttr().getInt();
  if (sinks < 0 || window < 0 || heavy < 0)
    return emitOpError() << "expected non-negative sinks, window and heavy, got "
                         << sinks << ", " << window << " and " << heavy;
  std::optional<int64_t> tokens;
  if (Value scores = getScores()) {
    auto type = cast<RankedTensorType>(scores.getType());
    if (type.getRank() != 3 || type.getDimSize(0) != batch ||
        type.getDimSize(1) != heads)
      return emitOpError() << "expected scores of shape " << batch << "x"
                           << heads << "xTxf32, got "
                           << shapeString(type.getShape()) << "xf32";
    tokens = type.getDimSize(2);
  } else if (heavy != 0) {
    return emitOpError() << "heavy hitters need scores";
  }
  if (Value separators = getSeparators()) {
    auto type = cast<RankedTensorType>(separators.getType());
    if (type.getRank() != 2 || type.getDimSize(0) != batch ||
        (tokens && type.getDimSize(1) != *tokens))
      return emitOpError() << "expected separators of shape " << batch << "x"
                           << (tokens ? std::to_string(*tokens) : "T")
                           << "xi1, got " << shapeString(type.getShape())
                           << "xi1";
    tokens = type.getDimSize(1);
  }
  if (auto size = getCacheSizeAttr()) {
    if (tokens && *tokens != size.getInt())
      return emitOpError() << "expected cache_size " << size.getInt()
                           << " to match the scores/separators length "
                           << *tokens;
    if (size.getInt() < 0)
      return emitOpError() << "expected a non-negative cache_size, got "
                           << size.getInt();
    tokens = size.getInt();
  }
  if (!tokens)
    return emitOpError() << "expected scores, separators or cache_size to "
                            "give the cache length T";
  // Saturating: each term is at most T once clamped.
  int64_t kept = std::min(*tokens, sinks) + std::min(*tokens, window) +
                 std::min(*tokens, heavy);
  int64_t needed =
      getSeparators() ? *tokens : std::min<int64_t>(*tokens, kept);
  if (capacity < needed)
    return emitOpError() << "expected a slot capacity of at least " << needed
                         << " (the most slots this selection can keep), got "
                         << capacity;
  return success();
}

LogicalResult KvGatherOp::verify() {
  auto slots = getSlots().getType();
  if (slots.getRank() != 3)
    return emitOpError() << "expected slots of rank 3 [B, H, C], got rank "
                         << slots.getRank();
  int64_t batch = slots.getDimSize(0), heads = slots.getDimSize(1);
  int64_t capacity = slots.getDimSize(2);
  if (failed(verifyShape(*this, getCount(), "count", {batch, heads})) ||
      failed(verifyShape(*this, getPositions(), "positions",
                         {batch, heads, capacity})))
    return failure();
  if (getGathered().size() != getCaches().size())
    return emitOpError() << "expected one gathered result per cache ("
                         << getCaches().size() << "), got "
                         << getGathered().size();
  for (auto [i, cache, gathered] :
       llvm::enumerate(getCaches(), getGathered())) {
    auto in = cast<RankedTensorType>(cache.getType());
    if (in.getRank() < 3 || in.getDimSize(0) != batch ||
        in.getDimSize(1) != heads)
      return emitOpError() << "expected cache " << i << " of shape " << batch
                           << "x" << heads << "xTx..., got "
                           << shapeString(in.getShape());
    SmallVector<int64_t> expected(in.getShape());
    expected[2] = capacity;
    auto out = cast<RankedTensorType>(gathered.getType());
    if (out.getShape() != ArrayRef<int64_t>(expected) ||
        out.getElementType() != in.getElementType())
      return emitOpError() << "expected gathered result " << i << " of type "
                           << RankedTensorType::get(expected,
                                                    in.getElementType())
                           << ", got " << out;
  }
  return success();
}
