//===- ExpandStridedCopies.cpp - The tok-expand-strided-copies pass -------===//

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "winnow/Transforms/Passes.h"

namespace winnow {
#define GEN_PASS_DEF_TOKEXPANDSTRIDEDCOPIES
#include "winnow/Transforms/Passes.h.inc"
} // namespace winnow

using namespace mlir;

namespace winnow {
namespace {
struct TokExpandStridedCopiesPass
    : impl::TokExpandStridedCopiesBase<TokExpandStridedCopiesPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> strided;
    getOperation()->walk([&](memref::CopyOp copy) {
      auto source = cast<MemRefType>(copy.getSource().getType());
      auto target = cast<MemRefType>(copy.getTarget().getType());
      if (!memref::isStaticShapeAndContiguousRowMajor(source) ||
          !memref::isStaticShapeAndContiguousRowMajor(target))
        strided.push_back(copy);
    });
    for (memref::CopyOp copy : strided) {
      OpBuilder builder(copy);
      linalg::CopyOp::create(builder, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy.erase();
    }
  }
};
} // namespace
} // namespace winnow
