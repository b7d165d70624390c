//===- BatchExtents.cpp - A dynamic batch extent is one value per op ------===//

#include "winnow/Dialect/Tok/IR/TokOps.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

namespace {
/// The leading extent of `value` when it is a ranked tensor of rank >= 1.
std::optional<int64_t> leadingExtent(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || type.getRank() == 0)
    return std::nullopt;
  return type.getDimSize(0);
}
} // namespace

LogicalResult winnow::tok::detail::verifyBatchExtentsAgree(Operation *op) {
  auto values = llvm::concat<Value>(op->getOperands(), op->getResults());
  auto isDynamic = [](Value value) {
    std::optional<int64_t> extent = leadingExtent(value);
    return extent && ShapedType::isDynamic(*extent);
  };
  if (llvm::none_of(values, isDynamic))
    return success();
  auto rowLocal = dyn_cast<RowLocalOpInterface>(op);
  if (op->hasTrait<MixesBatchRows>() || (rowLocal && !rowLocal.isRowLocal()))
    return op->emitOpError()
           << "does not take a dynamic batch extent: its result rows are not "
              "computed from the same batch row of its operands";
  unsigned numOperands = op->getNumOperands();
  for (auto [i, value] : llvm::enumerate(values)) {
    std::optional<int64_t> extent = leadingExtent(value);
    if (!extent || ShapedType::isDynamic(*extent))
      continue;
    InFlightDiagnostic diagnostic = op->emitOpError()
                                    << "mixes a dynamic batch extent with the "
                                       "static leading extent "
                                    << *extent << " of ";
    if (i < numOperands)
      return diagnostic << "operand #" << i;
    return diagnostic << "result #" << i - numOperands;
  }
  return success();
}
