//===- TokInterfaces.cpp - What passes ask of tok ops ---------------------===//

#include "winnow/Dialect/Tok/IR/TokInterfaces.h"

#include "mlir/IR/BuiltinTypes.h"

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

} // namespace winnow::tok

#include "winnow/Dialect/Tok/IR/TokInterfaces.cpp.inc"
