//===- LayoutOps.cpp - Verifiers of the ragged layout ops -----------------===//

#include "winnow/Dialect/Tok/IR/TokOps.h"

#include "OpVerifiers.h"

using namespace mlir;
using namespace winnow::tok;

namespace {

/// `padded` is `[B, C, rest...]` of `flat`'s `[T, rest...]` element type.
LogicalResult verifyLayouts(Operation *op, RankedTensorType flat,
                            RankedTensorType padded, int64_t batch) {
  if (flat.getRank() < 1)
    return op->emitOpError() << "expected a flat tensor of rank >= 1 [T, ...]";
  if (padded.getElementType() != flat.getElementType())
    return op->emitOpError()
           << "expected the padded and flat tensors to have one element type, "
              "got "
           << padded.getElementType() << " and " << flat.getElementType();
  SmallVector<int64_t> want = {batch, ShapedType::kDynamic};
  llvm::append_range(want, flat.getShape().drop_front());
  bool ok =
      padded.getRank() == flat.getRank() + 1 && padded.getDimSize(0) == batch;
  for (int64_t d = 2; ok && d < padded.getRank(); ++d)
    ok = padded.getDimSize(d) == want[d];
  if (!ok) {
    std::string rest;
    for (int64_t extent : flat.getShape().drop_front())
      rest += "x" + std::to_string(extent);
    return op->emitOpError()
           << "expected a padded tensor of shape " << batch << "xC" << rest
           << " for a flat tensor of shape " << shapeString(flat.getShape())
           << ", got " << shapeString(padded.getShape());
  }
  return success();
}

} // namespace

LogicalResult UnpackRaggedOp::verify() {
  auto offsets = getCuSeqlens().getType();
  if (offsets.getRank() != 1 || offsets.getDimSize(0) < 1)
    return emitOpError() << "expected cu_seqlens of shape [B + 1], got "
                         << shapeString(offsets.getShape());
  int64_t batch = offsets.getDimSize(0) - 1;
  if (failed(verifyLayouts(*this, getFlat().getType(), getPadded().getType(),
                           batch)) ||
      failed(verifyPerBatch(*this, getLengths(), "lengths", batch)))
    return failure();
  return success();
}

LogicalResult PackRaggedOp::verify() {
  auto padded = getPadded().getType();
  if (padded.getRank() < 2)
    return emitOpError() << "expected a padded tensor of rank >= 2 [B, C, ...]";
  int64_t batch = padded.getDimSize(0);
  if (failed(verifyPerBatch(*this, getCount(), "count", batch)) ||
      failed(verifyLayouts(*this, getFlat().getType(), padded, batch)) ||
      failed(verifyShape(*this, getCuSeqlens(), "cu_seqlens", {batch + 1})))
    return failure();
  return success();
}

LogicalResult TreeParentsOp::verify() {
  auto firstChild = getFirstChild().getType();
  if (firstChild.getRank() != 2)
    return emitOpError() << "expected first_child of rank 2 [B, T], got rank "
                         << firstChild.getRank();
  if (failed(verifyShape(*this, getNextSibling(), "next_sibling",
                         firstChild.getShape())) ||
      failed(
          verifyShape(*this, getParents(), "parents", firstChild.getShape())))
    return failure();
  return success();
}
