//===- AlignWorkgroupBuffers.cpp - The tok-align-workgroup-buffers pass ---===//
//
// Workgroup buffers are as aligned as their element type unless told
// otherwise; the row-buffer arenas are i8 buffers holding wider elements at
// 16-byte offsets.
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "winnow/Transforms/Passes.h"

namespace winnow {
#define GEN_PASS_DEF_TOKALIGNWORKGROUPBUFFERS
#include "winnow/Transforms/Passes.h.inc"
} // namespace winnow

using namespace mlir;

namespace winnow {
namespace {

constexpr int64_t kWorkgroupAlignment = 16;

struct TokAlignWorkgroupBuffersPass
    : impl::TokAlignWorkgroupBuffersBase<TokAlignWorkgroupBuffersPass> {
  void runOnOperation() override {
    Builder b(&getContext());
    for (auto func : getOperation().getOps<gpu::GPUFuncOp>())
      for (unsigned i = 0, e = func.getNumWorkgroupAttributions(); i < e; ++i)
        if (!func.getWorkgroupAttributionAttr(i, "llvm.align"))
          func.setWorkgroupAttributionAttr(
              i, "llvm.align", b.getI64IntegerAttr(kWorkgroupAlignment));
  }
};

} // namespace
} // namespace winnow
