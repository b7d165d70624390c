//===- LowerDiversityToLoops.cpp - Loops for diversity selection ---------===//
//
// k_center: farthest-point sampling with one running minimum distance per
// token. dart_select: pivots, then the tokens least duplicated by them.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "RadixSelect.h"
#include "RowBlock.h"
#include "TokOpLowering.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "winnow/Dialect/Collective/IR/CollectiveOps.h"
#include "winnow/Dialect/Tok/IR/TokOps.h"

using namespace mlir;

namespace winnow {
namespace {

//===----------------------------------------------------------------------===//
// tok.k_center
//===----------------------------------------------------------------------===//

/// The formulas both k_center forms share.
struct KCenterMath {
  LoopEmitter &e;
  Value input;
  int64_t features;

  Value dot(Value row, Value i, Value j) {
    return orderedRowDot(e, {input, {row, i}}, {input, {row, j}}, features);
  }
  /// 1 / max(||x_i||, 1e-12).
  Value inverseNorm(Value row, Value i) {
    return winnow::inverseNorm(e, {input, {row, i}}, features);
  }
  /// 1 - cos(x_j, x_s) from the two inverse norms.
  Value distance(Value row, Value j, Value s, Value invJ, Value invS) {
    ImplicitLocOpBuilder &b = e.builder();
    Value cosine = arith::MulFOp::create(b, dot(row, j, s),
                                         arith::MulFOp::create(b, invJ, invS));
    return arith::SubFOp::create(b, e.f32(1.0), cosine);
  }
  /// A running distance as the pick ranks it: NaN below every number.
  Value rankable(Value d) {
    ImplicitLocOpBuilder &b = e.builder();
    Value isNan = arith::CmpFOp::create(b, arith::CmpFPredicate::UNO, d, d);
    return arith::SelectOp::create(b, isNan, e.f32(-INFINITY), d);
  }
  /// The first token: first[row] clamped to the row, or 0.
  Value seed(Value first, Value row, Value len) {
    ImplicitLocOpBuilder &b = e.builder();
    if (!first)
      return e.index(0);
    return e.clampIndex(arith::IndexCastOp::create(
                            b, b.getIndexType(),
                            memref::LoadOp::create(b, first, ValueRange{row})),
                        e.index(0), arith::SubIOp::create(b, len, e.index(1)));
  }
};

/// GPU form: one block per row (kRowThreads). Each greedy step is the same
/// as the sequential one: the running minimum is updated strided over the
/// tokens, and the next center is blockPick's first unchosen token with the
/// largest running distance.
void lowerKCenterBlocks(tok::KCenterOp op, LoopEmitter &e, KCenterMath &math,
                        Value first, Value lengths, Value indices,
                        Value counts) {
  ImplicitLocOpBuilder &b = e.builder();
  auto type = op.getInput().getType();
  int64_t batch = type.getDimSize(0), tokens = type.getDimSize(1);
  int64_t capacity = op.getIndices().getType().getDimSize(1);
  int64_t k = std::clamp<int64_t>(op.getK(), 0, tokens);
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  if (batch == 0)
    return;
  auto perToken = [&](Type type) -> Value {
    return memref::AllocOp::create(
        b, MemRefType::get({batch, std::max<int64_t>(tokens, 1)}, type));
  };
  Value invNorm = perToken(f32), minDist = perToken(f32);
  Value chosen = perToken(i32);
  e.blockLaunch(
      e.index(batch), kRowThreads, {}, [&](Value row, Value tid, ValueRange) {
        Value len = e.rowLength(lengths, row, tokens);
        Value target = arith::MinSIOp::create(b, e.index(k), len);
        blockFor(e, tid, e.index(0), len, [&](Value i) {
          memref::StoreOp::create(b, math.inverseNorm(row, i), invNorm,
                                  ValueRange{row, i});
          memref::StoreOp::create(b, e.f32(INFINITY), minDist,
                                  ValueRange{row, i});
          memref::StoreOp::create(b, e.i32(0), chosen, ValueRange{row, i});
        });
        collective::BlockBarrierOp::create(b);
        auto choose = [&](Value s) {
          onFirstThread(e, tid, [&] {
            memref::StoreOp::create(b, e.i32(1), chosen, ValueRange{row, s});
          });
          Value invS = memref::LoadOp::create(b, invNorm, ValueRange{row, s});
          blockFor(e, tid, e.index(0), len, [&](Value j) {
            Value dist = math.distance(
                row, j, s,
                memref::LoadOp::create(b, invNorm, ValueRange{row, j}), invS);
            Value old = memref::LoadOp::create(b, minDist, ValueRange{row, j});
            memref::StoreOp::create(b, arith::MinimumFOp::create(b, old, dist),
                                    minDist, ValueRange{row, j});
          });
          collective::BlockBarrierOp::create(b);
        };
        e.ifThen(e.cmpi(arith::CmpIPredicate::sgt, target, e.index(0)), [&] {
          choose(math.seed(first, row, len));
          e.forLoop(e.index(1), target, [&](Value) {
            choose(blockPick(
                e, tid, e.index(0), len,
                [&](Value j) {
                  return e.cmpi(
                      arith::CmpIPredicate::eq,
                      memref::LoadOp::create(b, chosen, ValueRange{row, j}),
                      e.i32(0));
                },
                [&](Value j) {
                  return math.rankable(
                      memref::LoadOp::create(b, minDist, ValueRange{row, j}));
                }));
          });
        });
        Value count = blockCompact(
            e, tid, row, len,
            [&](Value j) {
              return e.cmpi(
                  arith::CmpIPredicate::ne,
                  memref::LoadOp::create(b, chosen, ValueRange{row, j}),
                  e.i32(0));
            },
            indices, capacity);
        onFirstThread(e, tid, [&] {
          memref::StoreOp::create(b, count, counts, ValueRange{row});
        });
      });
}

void lowerKCenter(tok::KCenterOp op, ImplicitLocOpBuilder &b,
                  LoweringContext &context, bool gpuForm) {
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
  KCenterMath math{e, input, features};
  if (gpuForm) {
    lowerKCenterBlocks(op, e, math, first, lengths, indices, counts);
    e.replaceWithBuffer(op.getIndices(), indices);
    e.replaceWithBuffer(op.getCount(), counts);
    return;
  }
  Value invNorm = memref::AllocaOp::create(b, MemRefType::get({tokens}, f32));
  Value minDist = memref::AllocaOp::create(b, MemRefType::get({tokens}, f32));
  Value chosen =
      memref::AllocaOp::create(b, MemRefType::get({tokens}, b.getI1Type()));

  e.parallelFor(batch, [&](Value row) {
    Value len = e.rowLength(lengths, row, tokens);
    Value target = arith::MinSIOp::create(b, e.index(k), len);
    e.forLoop(e.index(0), e.index(tokens), [&](Value i) {
      memref::StoreOp::create(b, math.inverseNorm(row, i), invNorm,
                              ValueRange{i});
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
      Value invS = memref::LoadOp::create(b, invNorm, ValueRange{s});
      e.forLoop(e.index(0), len, [&](Value j) {
        Value dist = math.distance(
            row, j, s, memref::LoadOp::create(b, invNorm, ValueRange{j}), invS);
        Value old = memref::LoadOp::create(b, minDist, ValueRange{j});
        memref::StoreOp::create(b, arith::MinimumFOp::create(b, old, dist),
                                minDist, ValueRange{j});
      });
    };
    Value nonEmpty =
        arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, target, e.index(0));
    e.ifThen(nonEmpty, [&] {
      choose(math.seed(first, row, len));
      e.forLoop(e.index(1), target, [&](Value) {
        // First unchosen token with the largest running distance; NaN ranks
        // below every number, so the first unchosen token is the fallback.
        ValueRange best = e.forLoop(
            e.index(0), len, ValueRange{e.f32(-INFINITY), e.index(-1)},
            [&](Value j, ValueRange s) -> SmallVector<Value> {
              Value d = math.rankable(
                  memref::LoadOp::create(b, minDist, ValueRange{j}));
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
                     LoweringContext &context, bool gpuForm) {
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
  auto done = [&] {
    e.replaceWithBuffer(op.getIndices(), indices);
    e.replaceWithBuffer(op.getCount(), counts);
  };
  if (batch == 0)
    return done();
  // Per-token state: on the stack of the row's thread (CPU), or [B, N]
  // device buffers shared by the row's block (GPU form).
  RowScratch scratch{e, batch, gpuForm};
  Value l1 = scratch.alloc(tokens, f32), invNorm = scratch.alloc(tokens, f32);
  Value sim = scratch.alloc(tokens, f32), mark = scratch.alloc(tokens, i32);
  // GPU form: each row's pivots in sweep order.
  Value pivotList =
      gpuForm
          ? Value(memref::AllocOp::create(
                b, MemRefType::get(
                       {batch, std::max<int64_t>(imagePivots + textPivots, 1)},
                       i32)))
          : Value();
  auto nanTo = [&](Value x, double v) -> Value {
    Value isNan = arith::CmpFOp::create(b, arith::CmpFPredicate::UNO, x, x);
    return arith::SelectOp::create(b, isNan, e.f32(v), x);
  };
  ArrayRef<int64_t> span = op.getSpan();

  // The DART sweep of one row. The CPU runs each step's loop in order; the
  // GPU form runs the same steps in the same order on every thread of the
  // row's block, each step's loop over tokens strided over the threads,
  // single writes on thread 0, a barrier after each step, and the picks
  // by blockPick (the sequential scan's answer).
  auto sweepRow = [&](Value row, Value tid) {
    auto at = [&](Value t) { return scratch.at(row, t); };
    auto barrier = [&] {
      if (gpuForm)
        collective::BlockBarrierOp::create(b);
    };
    // A step over [lb, ub): every token once.
    auto each = [&](Value lb, Value ub, llvm::function_ref<void(Value)> body) {
      if (gpuForm)
        blockFor(e, tid, lb, ub, body);
      else
        e.forLoop(lb, ub, body);
      barrier();
    };
    // A write made once per row.
    auto once = [&](llvm::function_ref<void()> body) {
      if (gpuForm)
        onFirstThread(e, tid, body);
      else
        body();
      barrier();
    };
    auto markIs = [&](Value t, DartMark m) -> Value {
      return e.cmpi(arith::CmpIPredicate::eq,
                    memref::LoadOp::create(b, mark, at(t)), e.i32(m));
    };
    auto setMark = [&](Value t, DartMark m) {
      memref::StoreOp::create(b, e.i32(m), mark, at(t));
    };
    // The first eligible token of [lb, ub) with the largest value, -1 when
    // none is eligible (values are never NaN here).
    auto pick = [&](Value lb, Value ub,
                    llvm::function_ref<Value(Value)> eligible,
                    llvm::function_ref<Value(Value)> value) -> Value {
      if (gpuForm)
        return blockPick(e, tid, lb, ub, eligible, value);
      return e.forLoop(lb, ub, ValueRange{e.f32(0.0), e.index(-1)},
                       [&](Value t, ValueRange s) -> SmallVector<Value> {
                         Value x = value(t);
                         Value none = e.cmpi(arith::CmpIPredicate::slt, s[1],
                                             e.index(0));
                         Value take = arith::AndIOp::create(
                             b, eligible(t),
                             arith::OrIOp::create(
                                 b, none,
                                 arith::CmpFOp::create(
                                     b, arith::CmpFPredicate::OGT, x, s[0])));
                         return {arith::SelectOp::create(b, take, x, s[0]),
                                 arith::SelectOp::create(b, take, t, s[1])};
                       })[1];
    };
    auto found = [&](Value t) {
      return e.cmpi(arith::CmpIPredicate::sge, t, e.index(0));
    };

    Value len = e.rowLength(lengths, row, tokens);
    Value spanStart = arith::MinSIOp::create(b, e.index(span[0]), len);
    Value spanEnd = arith::MinSIOp::create(b, e.index(span[1]), len);
    auto inSpan = [&](Value t) -> Value {
      return arith::AndIOp::create(
          b, e.cmpi(arith::CmpIPredicate::sge, t, spanStart),
          e.cmpi(arith::CmpIPredicate::slt, t, spanEnd));
    };
    each(e.index(0), len, [&](Value t) {
      setMark(t, kFree);
      memref::StoreOp::create(
          b,
          orderedRowSums(e, {{keys, {row, t}}}, keyDim, 1,
                         [&](ArrayRef<Value> x) -> SmallVector<Value> {
                           return {math::AbsFOp::create(b, e.widenToF32(x[0]))};
                         })[0],
          l1, at(t));
      memref::StoreOp::create(b, inverseNorm(e, {hidden, {row, t}}, hiddenDim),
                              invNorm, at(t));
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
              return nanTo(memref::LoadOp::create(b, l1, at(t)), -INFINITY);
            });
        once([&] { e.ifThen(found(best), [&] { setMark(best, m); }); });
      });
    };
    choosePivots(imagePivots, /*image=*/true, kImagePivot);
    choosePivots(textPivots, /*image=*/false, kTextPivot);
    // One pivot's sweep: take the `perPivot` least similar pool tokens
    // (the largest negated similarity; NaN counts as the most similar).
    auto sweep = [&](Value pivot) {
      Value invPivot = memref::LoadOp::create(b, invNorm, at(pivot));
      each(spanStart, spanEnd, [&](Value j) {
        Value dot = orderedRowDot(e, {hidden, {row, j}}, {hidden, {row, pivot}},
                                  hiddenDim);
        Value cosine = arith::MulFOp::create(
            b, dot,
            arith::MulFOp::create(b, memref::LoadOp::create(b, invNorm, at(j)),
                                  invPivot));
        memref::StoreOp::create(b, nanTo(cosine, INFINITY), sim, at(j));
      });
      e.forLoop(e.index(0), e.index(perPivot), [&](Value) {
        Value least = pick(
            spanStart, spanEnd, [&](Value t) { return markIs(t, kFree); },
            [&](Value t) {
              return arith::NegFOp::create(
                  b, memref::LoadOp::create(b, sim, at(t)));
            });
        once([&] { e.ifThen(found(least), [&] { setMark(least, kTaken); }); });
      });
    };
    // Sweeps: image pivots in token order, then text pivots in token order.
    if (gpuForm) {
      // The pivots listed first (marks of pivots no longer change), so the
      // block loops over them only.
      Value numPivots = blockAppend(
          e, tid, row, spanStart, spanEnd,
          [&](Value t) { return markIs(t, kImagePivot); }, pivotList, e.i32(0));
      numPivots = blockAppend(
          e, tid, row, e.index(0), len,
          [&](Value t) { return markIs(t, kTextPivot); }, pivotList, numPivots);
      barrier();
      Value bound = e.clampIndex(
          arith::IndexCastOp::create(b, b.getIndexType(), numPivots),
          e.index(0), e.index(imagePivots + textPivots));
      e.forLoop(e.index(0), bound, [&](Value i) {
        sweep(arith::IndexCastOp::create(
            b, b.getIndexType(),
            memref::LoadOp::create(b, pivotList, ValueRange{row, i})));
      });
    } else {
      e.forLoop(spanStart, spanEnd, [&](Value t) {
        e.ifThen(markIs(t, kImagePivot), [&] { sweep(t); });
      });
      e.forLoop(e.index(0), len, [&](Value t) {
        e.ifThen(markIs(t, kTextPivot), [&] { sweep(t); });
      });
    }
    // Text passes through; image tokens are kept when pivots or taken.
    auto kept = [&](Value t) -> Value {
      return arith::OrIOp::create(
          b, e.notI1(inSpan(t)),
          arith::OrIOp::create(b, markIs(t, kImagePivot), markIs(t, kTaken)));
    };
    if (gpuForm) {
      Value count = blockCompact(e, tid, row, len, kept, indices, capacity);
      onFirstThread(e, tid, [&] {
        memref::StoreOp::create(b, count, counts, ValueRange{row});
      });
      return;
    }
    Value count = e.forLoop(
        e.index(0), len, ValueRange{e.index(0)},
        [&](Value t, ValueRange s) -> SmallVector<Value> {
          Value keep = kept(t);
          e.ifThen(keep, [&] {
            memref::StoreOp::create(b, arith::IndexCastOp::create(b, i32, t),
                                    indices, ValueRange{row, s[0]});
          });
          return {arith::AddIOp::create(b, s[0], e.indexOf(keep))};
        })[0];
    e.forLoop(count, e.index(capacity), [&](Value j) {
      memref::StoreOp::create(b, e.i32(-1), indices, ValueRange{row, j});
    });
    memref::StoreOp::create(b, arith::IndexCastOp::create(b, i32, count),
                            counts, ValueRange{row});
  };
  if (gpuForm)
    e.blockLaunch(
        e.index(batch), kRowThreads, {},
        [&](Value row, Value tid, ValueRange) { sweepRow(row, tid); });
  else
    e.parallelFor(batch, [&](Value row) { sweepRow(row, Value()); });
  done();
}

} // namespace

void populateDiversityToLoopsPatterns(RewritePatternSet &patterns,
                                      const LoweringOptions &options,
                                      DispatchRow *row) {
  addTokLoweringForm<tok::KCenterOp>(patterns, options, row,
                                     /*gpuForm=*/false, lowerKCenter);
  addTokLoweringForm<tok::DartSelectOp>(patterns, options, row,
                                        /*gpuForm=*/false, lowerDartSelect);
}

void populateDiversityToGpuLoopsPatterns(RewritePatternSet &patterns,
                                         const LoweringOptions &options,
                                         DispatchRow *row) {
  addTokLoweringForm<tok::KCenterOp>(patterns, options, row,
                                     /*gpuForm=*/true, lowerKCenter);
  addTokLoweringForm<tok::DartSelectOp>(patterns, options, row,
                                        /*gpuForm=*/true, lowerDartSelect);
}

} // namespace winnow
