//===- RowBlock.cpp - One thread block per batch row ----------------------===//

#include "RowBlock.h"

#include "winnow/Dialect/Collective/IR/CollectiveOps.h"

#include <limits>

using namespace mlir;

namespace winnow {

Value blockPick(LoopEmitter &e, Value tid, Value lb, Value ub,
                llvm::function_ref<Value(Value)> eligible,
                llvm::function_ref<Value(Value)> value) {
  ImplicitLocOpBuilder &b = e.builder();
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  Value none = e.i32(std::numeric_limits<int32_t>::max());
  ValueRange mine = e.blockStrided(
      lb, ub, tid, kRowThreads, ValueRange{e.f32(NAN), none},
      [&](Value t, ValueRange s) -> SmallVector<Value> {
        Value x = value(t);
        Value take = arith::AndIOp::create(
            b, eligible(t),
            arith::OrIOp::create(
                b, e.cmpi(arith::CmpIPredicate::eq, s[1], none),
                arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, x, s[0])));
        return {arith::SelectOp::create(b, take, x, s[0]),
                arith::SelectOp::create(
                    b, take, arith::IndexCastOp::create(b, i32, t), s[1])};
      });
  auto best = collective::BlockArgMaxOp::create(b, f32, i32, mine[0], mine[1]);
  Value found = e.cmpi(arith::CmpIPredicate::ne, best.getArgmax(), none);
  return arith::SelectOp::create(
      b, found,
      arith::IndexCastOp::create(b, b.getIndexType(), best.getArgmax()),
      e.index(-1));
}

Value blockEnumerate(LoopEmitter &e, Value tid, Value lb, Value ub,
                     llvm::function_ref<Value(Value)> keep, Value first,
                     llvm::function_ref<void(Value, Value)> place) {
  ImplicitLocOpBuilder &b = e.builder();
  Type i32 = b.getI32Type();
  return e.forLoop(
      lb, ub, e.index(kRowThreads), ValueRange{first},
      [&](Value start, ValueRange acc) -> SmallVector<Value> {
        Value t = arith::AddIOp::create(b, start, tid);
        Value inside = e.cmpi(arith::CmpIPredicate::slt, t, ub);
        Value kept = arith::AndIOp::create(
            b, inside, keep(arith::SelectOp::create(b, inside, t, start)));
        auto scan = collective::BlockExclusiveScanOp::create(
            b, i32, i32, arith::ExtUIOp::create(b, i32, kept), /*flags=*/true);
        e.ifThen(kept, [&] {
          place(t, arith::AddIOp::create(b, acc[0], scan.getPrefix()));
        });
        return {arith::AddIOp::create(b, acc[0], scan.getTotal())};
      })[0];
}

Value blockAppend(LoopEmitter &e, Value tid, Value row, Value lb, Value ub,
                  llvm::function_ref<Value(Value)> keep, Value out,
                  Value first) {
  ImplicitLocOpBuilder &b = e.builder();
  return blockEnumerate(e, tid, lb, ub, keep, first, [&](Value t, Value at) {
    memref::StoreOp::create(
        b, arith::IndexCastOp::create(b, b.getI32Type(), t), out,
        ValueRange{row, arith::IndexCastOp::create(b, b.getIndexType(), at)});
  });
}

Value blockCompact(LoopEmitter &e, Value tid, Value row, Value len,
                   llvm::function_ref<Value(Value)> keep, Value out,
                   int64_t capacity) {
  ImplicitLocOpBuilder &b = e.builder();
  Value count = blockAppend(e, tid, row, e.index(0), len, keep, out, e.i32(0));
  // (count <= capacity; the clamp shows the bound.)
  e.blockStrided(
      e.clampIndex(arith::IndexCastOp::create(b, b.getIndexType(), count),
                   e.index(0), e.index(capacity)),
      e.index(capacity), tid, kRowThreads, ValueRange{},
      [&](Value j, ValueRange) -> SmallVector<Value> {
        memref::StoreOp::create(b, e.i32(-1), out, ValueRange{row, j});
        return {};
      });
  return count;
}

void blockFor(LoopEmitter &e, Value tid, Value lb, Value ub,
              llvm::function_ref<void(Value)> body) {
  e.blockStrided(lb, ub, tid, kRowThreads, ValueRange{},
                 [&](Value t, ValueRange) -> SmallVector<Value> {
                   body(t);
                   return {};
                 });
}

void blockRounds(LoopEmitter &e, Value maxRounds,
                 llvm::function_ref<Value()> round) {
  ImplicitLocOpBuilder &b = e.builder();
  Value yes = arith::ConstantIntOp::create(b, b.getI1Type(), 1);
  Value no = arith::ConstantIntOp::create(b, b.getI1Type(), 0);
  e.forLoop(e.index(0), maxRounds, ValueRange{yes},
            [&](Value, ValueRange more) -> SmallVector<Value> {
              auto ifMore = scf::IfOp::create(b, TypeRange{b.getI1Type()},
                                              more[0], /*withElse=*/true);
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPointToStart(ifMore.thenBlock());
              scf::YieldOp::create(b, ValueRange{round()});
              b.setInsertionPointToStart(ifMore.elseBlock());
              scf::YieldOp::create(b, ValueRange{no});
              return {ifMore.getResult(0)};
            });
}

void onFirstThread(LoopEmitter &e, Value tid, llvm::function_ref<void()> body) {
  e.ifThen(e.cmpi(arith::CmpIPredicate::eq, tid, e.index(0)), body);
}

} // namespace winnow
