//===- LaneGroupSums.cpp - orderedSums over 8 threads ---------------------===//

#include "LaneGroupSums.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "winnow/Dialect/Collective/IR/CollectiveOps.h"

using namespace mlir;

namespace winnow {

MemRefType laneGroupScratchType(MLIRContext *context, int64_t threads,
                                unsigned numSums) {
  return MemRefType::get(
      {threads, static_cast<int64_t>(numSums)}, Float32Type::get(context),
      MemRefLayoutAttrInterface(),
      gpu::AddressSpaceAttr::get(context, gpu::AddressSpace::Workgroup));
}

SmallVector<Value>
laneGroupSums(LoopEmitter &e, Value tid, Value scratch, Value lb, Value ub,
              unsigned numSums,
              llvm::function_ref<SmallVector<Value>(Value)> terms) {
  ImplicitLocOpBuilder &b = e.builder();
  Value lanes = e.index(kLaneGroup);
  Value lane = arith::RemUIOp::create(b, tid, lanes);
  Value groupFirst = arith::SubIOp::create(b, tid, lane);
  // Lane l of orderedSums: the rounds' element l, then the tail's.
  SmallVector<Value> init(numSums, e.f32(0.0));
  ValueRange mine =
      e.forLoop(arith::AddIOp::create(b, lb, lane), ub, lanes, init,
                [&](Value i, ValueRange acc) -> SmallVector<Value> {
                  SmallVector<Value> t = terms(i), next;
                  for (unsigned s = 0; s < numSums; ++s)
                    next.push_back(arith::AddFOp::create(b, acc[s], t[s]));
                  return next;
                });
  for (unsigned s = 0; s < numSums; ++s)
    memref::StoreOp::create(b, mine[s], scratch, ValueRange{tid, e.index(s)});
  collective::BlockBarrierOp::create(b);
  SmallVector<Value> sums;
  for (unsigned s = 0; s < numSums; ++s) {
    Value total = e.f32(0.0);
    for (int64_t l = 0; l < kLaneGroup; ++l)
      total = arith::AddFOp::create(
          b, total,
          memref::LoadOp::create(
              b, scratch,
              ValueRange{arith::AddIOp::create(b, groupFirst, e.index(l)),
                         e.index(s)}));
    sums.push_back(total);
  }
  // The next call's stores wait until every group has read.
  collective::BlockBarrierOp::create(b);
  return sums;
}

} // namespace winnow
