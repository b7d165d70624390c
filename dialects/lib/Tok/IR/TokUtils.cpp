//===- TokUtils.cpp - Facts about tok values that passes share ------------===//

#include "winnow/Dialect/Tok/IR/TokUtils.h"

#include "winnow/Dialect/Tok/IR/TokOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"

#include <algorithm>

using namespace mlir;

namespace winnow::tok {

int64_t elementBytes(Type type) {
  if (isa<IndexType>(type))
    return 8;
  if (!type.isIntOrFloat())
    return 0;
  return std::max<int64_t>(1, type.getIntOrFloatBitWidth() / 8);
}

int64_t shapedBytes(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped || !shaped.hasStaticShape())
    return 0;
  return shaped.getNumElements() * elementBytes(shaped.getElementType());
}

TypedAttr splatValue(Value value) {
  DenseElementsAttr dense;
  if (matchPattern(value, m_Constant(&dense)) && dense.isSplat())
    return dense.getSplatValue<TypedAttr>();
  return {};
}

bool isStreamedPair(Operation *producer, Operation *consumer) {
  auto rowLocal = dyn_cast_or_null<RowLocalOpInterface>(producer);
  return rowLocal && producer->getNumResults() == 1 &&
         producer->getResult(0).hasOneUse() &&
         *producer->getResult(0).user_begin() == consumer &&
         rowLocal.canStreamInto(consumer);
}

} // namespace winnow::tok
