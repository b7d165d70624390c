//===- LowerDiversityToLoops.cpp - Loops for diversity selection ---------===//
//
// k_center: farthest-point sampling with one running minimum distance per
// token. dart_select: pivots, then the tokens least duplicated by them.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "RadixSelect.h"
#include "TokOpLowering.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "winnow/Dialect/Tok/IR/TokOps.h"

using namespace mlir;

namespace winnow {
namespace {

//===----------------------------------------------------------------------===//
// tok.k_center
//===----------------------------------------------------------------------===//

void lowerKCenter(tok::KCenterOp op, ImplicitLocOpBuilder &b,
                  LoweringContext &context) {
  OpLowering e(b, context);
  auto type = op.getInput().getType();
  int64_t batch = type.getDimSize(0), tokens = type.getDimSize(1);
  int64_t features = type.getDimSize(2);
  int64_t capacity = op.getIndices().getType().getDimSize(1);
  int64_t k = std::clamp<int64_t>(op.getK(), 0, tokens);
  Type f32 = b.getF32Type();
  Value input = e.toBuffer(op.getInput());
  Value lengths = op.getLengths() ? e.toBuffer(op.getLengths()) : Value();
  Value first = op.getFirst() ? e.toBuffer(op.getFirst()) : Value();
  Value indices = e.allocFor(op.getIndices());
  Value counts = e.allocFor(op.getCount());
  Value invNorm = memref::AllocaOp::create(b, MemRefType::get({tokens}, f32));
  Value minDist = memref::AllocaOp::create(b, MemRefType::get({tokens}, f32));
  Value chosen =
      memref::AllocaOp::create(b, MemRefType::get({tokens}, b.getI1Type()));
  auto load = [&](Value row, Value i, Value d) -> Value {
    return e.widenToF32(memref::LoadOp::create(b, input, ValueRange{row, i, d}));
  };
  auto dot = [&](Value row, Value i, Value j) -> Value {
    return e.orderedSums(
        e.index(0), e.index(features), 1, [&](Value d) -> SmallVector<Value> {
          return {arith::MulFOp::create(b, load(row, i, d), load(row, j, d))};
        })[0];
  };

  e.parallelFor(batch, [&](Value row) {
    Value len = e.rowLength(lengths, row, tokens);
    Value target = arith::MinSIOp::create(b, e.index(k), len);
    e.forLoop(e.index(0), e.index(tokens), [&](Value i) {
      Value norm = arith::MaximumFOp::create(
          b, math::SqrtOp::create(b, dot(row, i, i)), e.f32(1e-12));
      memref::StoreOp::create(b, arith::DivFOp::create(b, e.f32(1.0), norm),
                              invNorm, ValueRange{i});
      memref::StoreOp::create(b, e.f32(INFINITY), minDist, ValueRange{i});
      memref::StoreOp::create(
          b, arith::ConstantIntOp::create(b, b.getI1Type(), 0), chosen,
          ValueRange{i});
    });
    // Adds `s` to the set and folds its distances into the running minimum.
    auto choose = [&](Value s) {
      memref::StoreOp::create(
          b, arith::ConstantIntOp::create(b, b.getI1Type(), 1), chosen,
          ValueRange{s});
      e.forLoop(e.index(0), len, [&](Value j) {
        Value cosine = arith::MulFOp::create(
            b, dot(row, j, s),
            arith::MulFOp::create(
                b, memref::LoadOp::create(b, invNorm, ValueRange{j}),
                memref::LoadOp::create(b, invNorm, ValueRange{s})));
        Value dist = arith::SubFOp::create(b, e.f32(1.0), cosine);
        Value old = memref::LoadOp::create(b, minDist, ValueRange{j});
        memref::StoreOp::create(b, arith::MinimumFOp::create(b, old, dist),
                                minDist, ValueRange{j});
      });
    };
    Value nonEmpty =
        arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, target, e.index(0));
    e.ifThen(nonEmpty, [&] {
      Value seed = first ? e.clampIndex(
                               arith::IndexCastOp::create(
                                   b, b.getIndexType(),
                                   memref::LoadOp::create(b, first, ValueRange{row})),
                               e.index(0),
                               arith::SubIOp::create(b, len, e.index(1)))
                         : e.index(0);
      choose(seed);
      e.forLoop(e.index(1), target, [&](Value) {
        // First unchosen token with the largest running distance; NaN ranks
        // below every number, so the first unchosen token is the fallback.
        ValueRange best = e.forLoop(
            e.index(0), len, ValueRange{e.f32(-INFINITY), e.index(-1)},
            [&](Value j, ValueRange s) -> SmallVector<Value> {
              Value d = memref::LoadOp::create(b, minDist, ValueRange{j});
              Value isNan =
                  arith::CmpFOp::create(b, arith::CmpFPredicate::UNO, d, d);
              d = arith::SelectOp::create(b, isNan, e.f32(-INFINITY), d);
              Value free = e.notI1(memref::LoadOp::create(b, chosen, ValueRange{j}));
              Value none = arith::CmpIOp::create(b, arith::CmpIPredicate::slt,
                                                 s[1], e.index(0));
              Value better =
                  arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, d, s[0]);
              Value take = arith::AndIOp::create(
                  b, free, arith::OrIOp::create(b, none, better));
              return {arith::SelectOp::create(b, take, d, s[0]),
                      arith::SelectOp::create(b, take, j, s[1])};
            });
        choose(best[1]);
      });
    });
    Value count = e.forLoop(
        e.index(0), len, ValueRange{e.index(0)},
        [&](Value j, ValueRange s) -> SmallVector<Value> {
          Value isChosen = memref::LoadOp::create(b, chosen, ValueRange{j});
          e.ifThen(isChosen, [&] {
            memref::StoreOp::create(
                b, arith::IndexCastOp::create(b, b.getI32Type(), j), indices,
                ValueRange{row, s[0]});
          });
          return {arith::AddIOp::create(
              b, s[0],
              e.indexOf(isChosen))};
        })[0];
    e.forLoop(count, e.index(capacity), [&](Value j) {
      memref::StoreOp::create(b, e.i32(-1), indices, ValueRange{row, j});
    });
    memref::StoreOp::create(b, arith::IndexCastOp::create(b, b.getI32Type(), count),
                            counts, ValueRange{row});
  });
  e.replaceWithBuffer(op.getIndices(), indices);
  e.replaceWithBuffer(op.getCount(), counts);
}

//===----------------------------------------------------------------------===//
// tok.dart_select
//===----------------------------------------------------------------------===//

/// Token marks of the DART sweep.
enum DartMark : int32_t { kFree = 0, kImagePivot = 1, kTextPivot = 2, kTaken = 3 };

void lowerDartSelect(tok::DartSelectOp op, ImplicitLocOpBuilder &b,
                     LoweringContext &context) {
  OpLowering e(b, context);
  auto keysType = op.getKeys().getType();
  auto hiddenType = op.getHidden().getType();
  int64_t batch = keysType.getDimSize(0), tokens = keysType.getDimSize(1);
  int64_t keyDim = keysType.getDimSize(2), hiddenDim = hiddenType.getDimSize(2);
  int64_t capacity = op.getIndices().getType().getDimSize(1);
  // More pivots than tokens pick every token: clamp the loop bounds.
  int64_t imagePivots = std::min(op.getImagePivotsAttr().getInt(), tokens);
  int64_t textPivots = std::min(op.getTextPivotsAttr().getInt(), tokens);
  int64_t perPivot = std::min(op.getPerPivot(), tokens);
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  Value keys = e.toBuffer(op.getKeys());
  Value hidden = e.toBuffer(op.getHidden());
  Value lengths = op.getLengths() ? e.toBuffer(op.getLengths()) : Value();
  Value indices = e.allocFor(op.getIndices());
  Value counts = e.allocFor(op.getCount());
  Value l1 = memref::AllocaOp::create(b, MemRefType::get({tokens}, f32));
  Value invNorm = memref::AllocaOp::create(b, MemRefType::get({tokens}, f32));
  Value sim = memref::AllocaOp::create(b, MemRefType::get({tokens}, f32));
  Value mark = memref::AllocaOp::create(b, MemRefType::get({tokens}, i32));
  auto sumOver = [&](int64_t n, llvm::function_ref<Value(Value)> term) {
    return e.orderedSums(
        e.index(0), e.index(n), 1,
        [&](Value d) -> SmallVector<Value> { return {term(d)}; })[0];
  };
  auto markIs = [&](Value t, DartMark m) -> Value {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                                 memref::LoadOp::create(b, mark, ValueRange{t}),
                                 e.i32(m));
  };
  auto setMark = [&](Value t, DartMark m) {
    memref::StoreOp::create(b, e.i32(m), mark, ValueRange{t});
  };
  // The first index with the best `value` among `eligible` tokens of
  // [lb, ub): `better(x, best)` compares; -1 when none is eligible.
  auto pick = [&](Value lb, Value ub, llvm::function_ref<Value(Value)> eligible,
                  llvm::function_ref<Value(Value)> value,
                  llvm::function_ref<Value(Value, Value)> better) -> Value {
    return e.forLoop(lb, ub, ValueRange{e.f32(0.0), e.index(-1)},
                     [&](Value t, ValueRange s) -> SmallVector<Value> {
                       Value x = value(t);
                       Value none = arith::CmpIOp::create(
                           b, arith::CmpIPredicate::slt, s[1], e.index(0));
                       Value take = arith::AndIOp::create(
                           b, eligible(t),
                           arith::OrIOp::create(b, none, better(x, s[0])));
                       return {arith::SelectOp::create(b, take, x, s[0]),
                               arith::SelectOp::create(b, take, t, s[1])};
                     })[1];
  };
  auto greater = [&](Value x, Value best) -> Value {
    return arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, x, best);
  };
  auto less = [&](Value x, Value best) -> Value {
    return arith::CmpFOp::create(b, arith::CmpFPredicate::OLT, x, best);
  };
  auto nanTo = [&](Value x, double v) -> Value {
    Value isNan = arith::CmpFOp::create(b, arith::CmpFPredicate::UNO, x, x);
    return arith::SelectOp::create(b, isNan, e.f32(v), x);
  };

  ArrayRef<int64_t> span = op.getSpan();
  e.parallelFor(batch, [&](Value row) {
    Value len = e.rowLength(lengths, row, tokens);
    Value spanStart = arith::MinSIOp::create(b, e.index(span[0]), len);
    Value spanEnd = arith::MinSIOp::create(b, e.index(span[1]), len);
    auto inSpan = [&](Value t) -> Value {
      return arith::AndIOp::create(
          b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, t, spanStart),
          arith::CmpIOp::create(b, arith::CmpIPredicate::slt, t, spanEnd));
    };
    e.forLoop(e.index(0), len, [&](Value t) {
      setMark(t, kFree);
      memref::StoreOp::create(
          b,
          sumOver(keyDim, [&](Value d) -> Value {
            return math::AbsFOp::create(
                b, e.widenToF32(memref::LoadOp::create(b, keys, ValueRange{row, t, d})));
          }),
          l1, ValueRange{t});
      Value sq = sumOver(hiddenDim, [&](Value d) -> Value {
        Value x = e.widenToF32(memref::LoadOp::create(b, hidden, ValueRange{row, t, d}));
        return arith::MulFOp::create(b, x, x);
      });
      Value norm = arith::MaximumFOp::create(b, math::SqrtOp::create(b, sq),
                                             e.f32(1e-12));
      memref::StoreOp::create(b, arith::DivFOp::create(b, e.f32(1.0), norm),
                              invNorm, ValueRange{t});
    });
    // Pivots: the largest key L1 norms (NaN ranks lowest), image then text.
    auto choosePivots = [&](int64_t count, bool image, DartMark m) {
      e.forLoop(e.index(0), e.index(count), [&](Value) {
        Value best = pick(
            e.index(0), len,
            [&](Value t) {
              Value region = image ? inSpan(t) : e.notI1(inSpan(t));
              return arith::AndIOp::create(b, region, markIs(t, kFree));
            },
            [&](Value t) {
              return nanTo(memref::LoadOp::create(b, l1, ValueRange{t}), -INFINITY);
            },
            greater);
        e.ifThen(arith::CmpIOp::create(b, arith::CmpIPredicate::sge, best, e.index(0)),
                 [&] { setMark(best, m); });
      });
    };
    choosePivots(imagePivots, /*image=*/true, kImagePivot);
    choosePivots(textPivots, /*image=*/false, kTextPivot);
    // One pivot's sweep: take the `perPivot` least similar pool tokens.
    auto sweep = [&](Value pivot) {
      e.forLoop(spanStart, spanEnd, [&](Value j) {
        Value dot = sumOver(hiddenDim, [&](Value d) -> Value {
          Value x = e.widenToF32(memref::LoadOp::create(b, hidden, ValueRange{row, j, d}));
          Value y = e.widenToF32(memref::LoadOp::create(b, hidden, ValueRange{row, pivot, d}));
          return arith::MulFOp::create(b, x, y);
        });
        Value cosine = arith::MulFOp::create(
            b, dot,
            arith::MulFOp::create(b, memref::LoadOp::create(b, invNorm, ValueRange{j}),
                                  memref::LoadOp::create(b, invNorm, ValueRange{pivot})));
        memref::StoreOp::create(b, nanTo(cosine, INFINITY), sim, ValueRange{j});
      });
      e.forLoop(e.index(0), e.index(perPivot), [&](Value) {
        Value least = pick(
            spanStart, spanEnd, [&](Value t) { return markIs(t, kFree); },
            [&](Value t) { return memref::LoadOp::create(b, sim, ValueRange{t}); },
            less);
        e.ifThen(arith::CmpIOp::create(b, arith::CmpIPredicate::sge, least, e.index(0)),
                 [&] { setMark(least, kTaken); });
      });
    };
    e.forLoop(spanStart, spanEnd, [&](Value t) {
      e.ifThen(markIs(t, kImagePivot), [&] { sweep(t); });
    });
    e.forLoop(e.index(0), len, [&](Value t) {
      e.ifThen(markIs(t, kTextPivot), [&] { sweep(t); });
    });
    // Text passes through; image tokens are kept when pivots or taken.
    Value count = e.forLoop(
        e.index(0), len, ValueRange{e.index(0)},
        [&](Value t, ValueRange s) -> SmallVector<Value> {
          Value kept = arith::OrIOp::create(
              b, e.notI1(inSpan(t)),
              arith::OrIOp::create(b, markIs(t, kImagePivot), markIs(t, kTaken)));
          e.ifThen(kept, [&] {
            memref::StoreOp::create(b, arith::IndexCastOp::create(b, i32, t), indices,
                                    ValueRange{row, s[0]});
          });
          return {arith::AddIOp::create(
              b, s[0],
              e.indexOf(kept))};
        })[0];
    e.forLoop(count, e.index(capacity), [&](Value j) {
      memref::StoreOp::create(b, e.i32(-1), indices, ValueRange{row, j});
    });
    memref::StoreOp::create(b, arith::IndexCastOp::create(b, i32, count), counts,
                            ValueRange{row});
  });
  e.replaceWithBuffer(op.getIndices(), indices);
  e.replaceWithBuffer(op.getCount(), counts);
}

} // namespace

void populateDiversityToLoopsPatterns(RewritePatternSet &patterns,
                                      const LoweringOptions &options,
                                      DispatchRow *row) {
  addTokLowering<tok::KCenterOp>(patterns, options, row, lowerKCenter);
  addTokLowering<tok::DartSelectOp>(patterns, options, row, lowerDartSelect);
}

} // namespace winnow
