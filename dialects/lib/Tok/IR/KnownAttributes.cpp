//===- KnownAttributes.cpp - tok ops reject attributes they do not define -===//

#include "winnow/Dialect/Tok/IR/TokOps.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;

LogicalResult winnow::tok::detail::verifyKnownAttributesOnly(Operation *op) {
  for (NamedAttribute attribute : op->getDiscardableAttrs()) {
    StringRef name = attribute.getName().getValue();
    if (name.starts_with("tok."))
      continue;
    // The defined names, minus ODS's bookkeeping, closest first.
    SmallVector<StringRef> known;
    for (StringAttr defined : op->getName().getAttributeNames())
      if (!defined.getValue().ends_with("SegmentSizes"))
        known.push_back(defined.getValue());
    InFlightDiagnostic diagnostic = op->emitOpError()
                                    << "has no attribute '" << name << "'";
    auto distance = [&](StringRef candidate) {
      return name.edit_distance(candidate, /*AllowReplacements=*/true);
    };
    const StringRef *closest = llvm::min_element(
        known, [&](StringRef a, StringRef b) { return distance(a) < distance(b); });
    // Close: a few edits, or the typo is the start of a longer name
    // (`position` for `position_mode`).
    if (closest != known.end() &&
        (distance(*closest) <= std::max<size_t>(2, closest->size() / 2) ||
         closest->starts_with(name)))
      return diagnostic << "; did you mean '" << *closest << "'?";
    if (known.empty())
      return diagnostic << " (it has none)";
    llvm::sort(known);
    diagnostic << " (its attributes: ";
    llvm::interleaveComma(known, diagnostic);
    return diagnostic << ")";
  }
  return success();
}
