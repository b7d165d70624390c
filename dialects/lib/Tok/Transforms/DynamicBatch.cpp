//===- DynamicBatch.cpp - A function's dynamic batch extent ---------------===//

#include "winnow/Dialect/Tok/Transforms/DynamicBatch.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

namespace winnow::tok {
namespace {
bool hasDynamicExtent(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && !tensor.hasStaticShape();
}
} // namespace

FailureOr<std::optional<DynamicBatch>> getDynamicBatch(func::FuncOp func) {
  FunctionType type = func.getFunctionType();
  auto describe = [&](unsigned i) {
    unsigned numInputs = type.getNumInputs();
    return i < numInputs ? "argument #" + std::to_string(i)
                         : "result #" + std::to_string(i - numInputs);
  };
  auto types = llvm::to_vector(
      llvm::concat<const Type>(type.getInputs(), type.getResults()));
  Attribute attribute = func->getAttr(kBoundsAttrName);
  if (!attribute) {
    for (auto [i, t] : llvm::enumerate(types))
      if (hasDynamicExtent(t))
        return func.emitError() << describe(i) << " has a dynamic extent (" << t
                                << ") but the function declares no bound: add `"
                                << kBoundsAttrName << " = {batch = N}`";
    return std::optional<DynamicBatch>();
  }
  auto bounds = dyn_cast<DictionaryAttr>(attribute);
  if (!bounds || bounds.size() != 1)
    return func.emitError()
           << kBoundsAttrName
           << " must name one dynamic extent and its bound, e.g. "
              "{batch = 64}; got "
           << attribute;
  NamedAttribute entry = *bounds.begin();
  auto bound = dyn_cast<IntegerAttr>(entry.getValue());
  if (!bound)
    return func.emitError() << "the bound of '" << entry.getName().getValue()
                            << "' must be an integer, got " << entry.getValue();
  int64_t value = bound.getValue().getSExtValue();
  if (value < 0 || value > INT32_MAX)
    return func.emitError() << "the bound of '" << entry.getName().getValue()
                            << "' must be in [0, 2^31), got " << value;
  bool bindable = false;
  for (auto [i, t] : llvm::enumerate(types)) {
    auto tensor = dyn_cast<RankedTensorType>(t);
    if (!tensor || tensor.getRank() == 0 || !tensor.isDynamicDim(0))
      return func.emitError()
             << describe(i) << " (" << t << ") does not lead with the dynamic "
             << "extent '" << entry.getName().getValue()
             << "': in a function with a dynamic batch every tensor does";
    for (int64_t d = 1; d < tensor.getRank(); ++d)
      if (tensor.isDynamicDim(d))
        return func.emitError()
               << describe(i) << " (" << t << ") has a dynamic extent at axis "
               << d << ": only the leading (batch) extent may be dynamic";
    bindable |= i < type.getNumInputs();
  }
  if (!bindable)
    return func.emitError()
           << "the dynamic extent '" << entry.getName().getValue()
           << "' is on no argument, so no call could bind it";
  return std::optional<DynamicBatch>(
      DynamicBatch{entry.getName().getValue().str(), value});
}

bool keepsBatchGroup(RankedTensorType expanded,
                     ArrayRef<ReassociationIndices> groups) {
  if (groups.empty() || groups.front().front() != 0)
    return false;
  return llvm::all_of(ArrayRef<int64_t>(groups.front()).drop_front(),
                      [&](int64_t d) { return expanded.getDimSize(d) == 1; });
}

} // namespace winnow::tok
