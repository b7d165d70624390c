//===- OpVerifiers.cpp - Shape checks shared by the op verifiers ---------===//

#include "OpVerifiers.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"

using namespace mlir;

namespace winnow::tok {

std::string shapeString(ArrayRef<int64_t> shape) {
  std::string result;
  llvm::raw_string_ostream os(result);
  llvm::interleave(
      shape, os,
      [&](int64_t extent) {
        if (ShapedType::isDynamic(extent))
          os << "?";
        else
          os << extent;
      },
      "x");
  return result;
}

LogicalResult verifyPerBatch(Operation *op, Value value, StringRef name,
                             int64_t batch) {
  if (!value)
    return success();
  return verifyShape(op, value, name, {batch});
}

LogicalResult verifyShape(Operation *op, Value value, StringRef name,
                          ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getShape() == shape)
    return success();
  // Printed by hand: streaming a Type into a diagnostic quotes it.
  std::string element;
  llvm::raw_string_ostream os(element);
  type.getElementType().print(os);
  return op->emitOpError() << "expected " << name << " of shape "
                           << shapeString(shape) << "x" << element << ", got "
                           << shapeString(type.getShape()) << "x" << element;
}

} // namespace winnow::tok
