//===- LaneGroupSums.cpp - orderedSums over 8 threads ---------------------===//

#include "LaneGroupSums.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "winnow/Dialect/Collective/IR/CollectiveOps.h"

using namespace mlir;

namespace winnow {

MemRefType laneGroupScratchType(MLIRContext *context, int64_t threads,
                                unsigned numSums) {
  return workgroupMemRef({threads, static_cast<int64_t>(numSums)},
                         Float32Type::get(context));
}

SmallVector<Value>
laneGroupSums(LoopEmitter &e, Value tid, Value scratch, Value active,
              int64_t count, unsigned numSums,
              llvm::function_ref<SmallVector<Value>(Value)> terms) {
  ImplicitLocOpBuilder &b = e.builder();
  Value lane = arith::RemUIOp::create(b, tid, e.index(kLaneGroup));
  Value groupFirst = arith::SubIOp::create(b, tid, lane);
  SmallVector<Type> types(numSums, b.getF32Type());
  SmallVector<Value> zeros(numSums, e.f32(0.0));
  // Rounds per trip: 64 terms in flight, fewer rounds per trip when there
  // are several sums (their terms all live in registers until added).
  const int64_t kInFlight = std::max<int64_t>(1, 64 / std::max(numSums, 1u));
  auto addTerms = [&](ValueRange acc, Value i) {
    SmallVector<Value> t = terms(i), next;
    for (unsigned s = 0; s < numSums; ++s)
      next.push_back(arith::AddFOp::create(b, acc[s], t[s]));
    return next;
  };
  // Lane l of orderedSums: element l of every round, then of the tail.
  auto ifActive = scf::IfOp::create(b, types, active, /*withElse=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifActive.thenBlock());
    int64_t rounds = count / kLaneGroup, tail = count % kLaneGroup;
    // Trips of kInFlight rounds: the terms of a trip first (independent, so
    // their loads are in flight together), then added in order: the same
    // additions as one round at a time. The rounds past the last whole
    // trip follow, straight-line.
    int64_t trips = rounds / kInFlight;
    auto elementOf = [&](Value round) -> Value {
      return arith::AddIOp::create(
          b, arith::MulIOp::create(b, round, e.index(kLaneGroup)), lane);
    };
    auto addRounds = [&](ValueRange acc, Value firstRound, int64_t n) {
      SmallVector<SmallVector<Value>> batch;
      for (int64_t u = 0; u < n; ++u)
        batch.push_back(
            terms(elementOf(arith::AddIOp::create(b, firstRound, e.index(u)))));
      SmallVector<Value> next(acc);
      for (const SmallVector<Value> &t : batch)
        for (unsigned s = 0; s < numSums; ++s)
          next[s] = arith::AddFOp::create(b, next[s], t[s]);
      return next;
    };
    SmallVector<Value> mine(zeros);
    if (trips > 0)
      mine = e.forLoop(e.index(0), e.index(trips), zeros,
                       [&](Value trip, ValueRange acc) -> SmallVector<Value> {
                         return addRounds(
                             acc,
                             arith::MulIOp::create(b, trip, e.index(kInFlight)),
                             kInFlight);
                       });
    mine =
        addRounds(mine, e.index(trips * kInFlight), rounds - trips * kInFlight);
    if (tail) {
      auto ifTail = scf::IfOp::create(
          b, types, e.cmpi(arith::CmpIPredicate::ult, lane, e.index(tail)),
          /*withElse=*/true);
      b.setInsertionPointToStart(ifTail.thenBlock());
      scf::YieldOp::create(
          b, addTerms(mine, arith::AddIOp::create(
                                b, e.index(rounds * kLaneGroup), lane)));
      b.setInsertionPointToStart(ifTail.elseBlock());
      scf::YieldOp::create(b, mine);
      b.setInsertionPointAfter(ifTail);
      mine.assign(ifTail.getResults().begin(), ifTail.getResults().end());
    }
    scf::YieldOp::create(b, mine);
    b.setInsertionPointToStart(ifActive.elseBlock());
    scf::YieldOp::create(b, zeros);
  }
  ValueRange mine = ifActive.getResults();
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

void laneGroupLaunch(
    LoopEmitter &e, int64_t batch, int64_t tokens, unsigned numSums,
    llvm::function_ref<void(Value, Value, const LaneGroup &)> body) {
  ImplicitLocOpBuilder &b = e.builder();
  int64_t all = batch * tokens;
  // Blocks of 256 threads, or smaller ones (down to two warps) when there
  // are too few groups to give every SM two blocks: few tokens with long
  // sums (batch 1) then spread their loads over more SMs.
  constexpr int64_t kFillingBlocks = 264;
  int64_t threads = 256;
  while (threads > 64 && all * kLaneGroup < kFillingBlocks * threads)
    threads /= 2;
  int64_t tokensPerBlock = threads / kLaneGroup;
  e.blockLaunch(
      e.index(llvm::divideCeil(all, tokensPerBlock)), threads,
      {laneGroupScratchType(b.getContext(), threads, numSums)},
      [&](Value block, Value tid, ValueRange scratch) {
        Value g = arith::AddIOp::create(
            b, arith::MulIOp::create(b, block, e.index(tokensPerBlock)),
            arith::DivUIOp::create(b, tid, e.index(kLaneGroup)));
        Value token = arith::MinUIOp::create(
            b, g, e.index(std::max<int64_t>(all - 1, 0)));
        LaneGroup group{
            tid, scratch[0], e.cmpi(arith::CmpIPredicate::ult, g, e.index(all)),
            e.cmpi(arith::CmpIPredicate::eq,
                   arith::RemUIOp::create(b, tid, e.index(kLaneGroup)),
                   e.index(0))};
        body(arith::DivUIOp::create(b, token, e.index(tokens)),
             arith::RemUIOp::create(b, token, e.index(tokens)), group);
      });
}

} // namespace winnow
