//===- LowerDiversityToLoops.cpp - Loops for diversity selection ---------===//
//
// k_center: farthest-point sampling with one running minimum distance per
// token. dart_select: pivots, then the tokens least duplicated by them.
//
//===----------------------------------------------------------------------===//

#include "BlockTopK.h"
#include "LaneGroupSums.h"
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

/// The parts the CPU splits each greedy step's pass over a row's tokens
/// into. A lone row (batch 1) has no other parallelism: its distance
/// updates (one dot product of `features` per token) are split into up to
/// 8 runs of tokens, when there are enough tokens for each part to be worth
/// a task. With more rows, rows run in parallel and each row's steps are
/// loops.
int64_t kCenterParts(int64_t rows, int64_t tokens, int64_t features) {
  constexpr int64_t kMaxParts = 8, kMinPartWork = 16 * 1024;
  if (rows != 1)
    return 1;
  int64_t work = tokens * std::max<int64_t>(features, 1);
  return std::clamp<int64_t>(work / kMinPartWork, 1, kMaxParts);
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
  int64_t parts =
      context.intraRowParallel()
          ? 1
          : kCenterParts(context.batchRows(batch), tokens, features);
  auto scratch = [&](Type type) {
    auto alloca = memref::AllocaOp::create(b, MemRefType::get({tokens}, type));
    // A lone row's parts all update the same per-token state.
    if (parts > 1)
      alloca->setAttr(kSharedScratchAttrName, b.getUnitAttr());
    return alloca;
  };
  Value invNorm = scratch(f32), minDist = scratch(f32);
  Value chosen = scratch(b.getI1Type());
  // `body(j)` for every token j < len: in a loop, or over the parts in
  // parallel (each token's update is its own, so any split gives the same
  // values).
  auto eachToken = [&](Value len, function_ref<void(Value)> body) {
    if (parts < 2) {
      e.forLoop(e.index(0), len, body);
      return;
    }
    e.parallelFor(parts, [&](Value p) {
      auto bound = [&](Value q) {
        return arith::DivUIOp::create(b, arith::MulIOp::create(b, q, len),
                                      e.index(parts));
      };
      e.forLoop(bound(p), bound(arith::AddIOp::create(b, p, e.index(1))), body);
    });
  };

  e.parallelFor(batch, [&](Value row) {
    Value len = e.rowLength(lengths, row, tokens);
    Value target = arith::MinSIOp::create(b, e.index(k), len);
    eachToken(e.index(tokens), [&](Value i) {
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
      eachToken(len, [&](Value j) {
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

/// What both dart_select forms share: the op's shape and attributes, the
/// per-token formulas, and the ranking rules.
struct DartShape {
  int64_t batch, tokens, keyDim, hiddenDim, capacity;
  // More pivots than tokens pick every token: the loop bounds are clamped.
  int64_t imagePivots, textPivots, perPivot;
  ArrayRef<int64_t> span;

  explicit DartShape(tok::DartSelectOp op) {
    auto keysType = op.getKeys().getType();
    batch = keysType.getDimSize(0);
    tokens = keysType.getDimSize(1);
    keyDim = keysType.getDimSize(2);
    hiddenDim = op.getHidden().getType().getDimSize(2);
    capacity = op.getIndices().getType().getDimSize(1);
    imagePivots = std::min(op.getImagePivotsAttr().getInt(), tokens);
    textPivots = std::min(op.getTextPivotsAttr().getInt(), tokens);
    perPivot = std::min(op.getPerPivot(), tokens);
    span = op.getSpan();
  }
};

/// A row's valid tokens and its image span [start, end), both clamped to
/// the row's length.
struct DartRowSpan {
  LoopEmitter &e;
  Value len, start, end;

  DartRowSpan(LoopEmitter &e, const DartShape &s, Value lengths, Value row)
      : e(e) {
    ImplicitLocOpBuilder &b = e.builder();
    len = e.rowLength(lengths, row, s.tokens);
    start = arith::MinSIOp::create(b, e.index(s.span[0]), len);
    end = arith::MinSIOp::create(b, e.index(s.span[1]), len);
  }
  /// Whether token t is an image token.
  Value contains(Value t) {
    return arith::AndIOp::create(e.builder(),
                                 e.cmpi(arith::CmpIPredicate::sge, t, start),
                                 e.cmpi(arith::CmpIPredicate::slt, t, end));
  }
};

Value nanTo(LoopEmitter &e, Value x, double v) {
  ImplicitLocOpBuilder &b = e.builder();
  Value isNan = arith::CmpFOp::create(b, arith::CmpFPredicate::UNO, x, x);
  return arith::SelectOp::create(b, isNan, e.f32(v), x);
}

/// The L1 norm of a key row's term, and a hidden row's square.
Value absTerm(LoopEmitter &e, Value x) {
  return math::AbsFOp::create(e.builder(), e.widenToF32(x));
}
Value squareTerm(LoopEmitter &e, Value x) {
  Value wide = e.widenToF32(x);
  return arith::MulFOp::create(e.builder(), wide, wide);
}
/// A pool token's similarity to a pivot as the sweep ranks it: cos(x_j,
/// x_pivot) from the dot product and the two inverse norms, NaN as +inf
/// (the most similar, taken last).
Value sweepSimilarity(LoopEmitter &e, Value dot, Value invJ, Value invPivot) {
  ImplicitLocOpBuilder &b = e.builder();
  return nanTo(
      e,
      arith::MulFOp::create(b, dot, arith::MulFOp::create(b, invJ, invPivot)),
      INFINITY);
}

/// CPU form: each row's sweep on its thread, every step's loop in order,
/// per-token state on the stack.
void lowerDartSelectRows(const DartShape &s, LoopEmitter &e, Value keys,
                         Value hidden, Value lengths, Value indices,
                         Value counts) {
  ImplicitLocOpBuilder &b = e.builder();
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  auto perToken = [&](Type type) -> Value {
    return memref::AllocaOp::create(
        b, MemRefType::get({std::max<int64_t>(s.tokens, 1)}, type));
  };
  Value l1 = perToken(f32), invNorm = perToken(f32);
  Value sim = perToken(f32), mark = perToken(i32);
  e.parallelFor(s.batch, [&](Value row) {
    auto markIs = [&](Value t, DartMark m) -> Value {
      return e.cmpi(arith::CmpIPredicate::eq,
                    memref::LoadOp::create(b, mark, t), e.i32(m));
    };
    auto setMark = [&](Value t, DartMark m) {
      memref::StoreOp::create(b, e.i32(m), mark, t);
    };
    // The first eligible token of [lb, ub) with the largest value, -1 when
    // none is eligible (values are never NaN here).
    auto pick = [&](Value lb, Value ub,
                    llvm::function_ref<Value(Value)> eligible,
                    llvm::function_ref<Value(Value)> value) -> Value {
      return e.forLoop(lb, ub, ValueRange{e.f32(0.0), e.index(-1)},
                       [&](Value t, ValueRange st) -> SmallVector<Value> {
                         Value x = value(t);
                         Value none = e.cmpi(arith::CmpIPredicate::slt, st[1],
                                             e.index(0));
                         Value take = arith::AndIOp::create(
                             b, eligible(t),
                             arith::OrIOp::create(
                                 b, none,
                                 arith::CmpFOp::create(
                                     b, arith::CmpFPredicate::OGT, x, st[0])));
                         return {arith::SelectOp::create(b, take, x, st[0]),
                                 arith::SelectOp::create(b, take, t, st[1])};
                       })[1];
    };
    auto found = [&](Value t) {
      return e.cmpi(arith::CmpIPredicate::sge, t, e.index(0));
    };

    DartRowSpan span(e, s, lengths, row);
    Value len = span.len, spanStart = span.start, spanEnd = span.end;
    auto inSpan = [&](Value t) { return span.contains(t); };
    e.forLoop(e.index(0), len, [&](Value t) {
      setMark(t, kFree);
      memref::StoreOp::create(
          b,
          orderedRowSums(e, {{keys, {row, t}}}, s.keyDim, 1,
                         [&](ArrayRef<Value> x) -> SmallVector<Value> {
                           return {absTerm(e, x[0])};
                         })[0],
          l1, t);
      memref::StoreOp::create(
          b, inverseNorm(e, {hidden, {row, t}}, s.hiddenDim), invNorm, t);
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
              return nanTo(e, memref::LoadOp::create(b, l1, t), -INFINITY);
            });
        e.ifThen(found(best), [&] { setMark(best, m); });
      });
    };
    choosePivots(s.imagePivots, /*image=*/true, kImagePivot);
    choosePivots(s.textPivots, /*image=*/false, kTextPivot);
    // One pivot's sweep: take the `perPivot` least similar pool tokens
    // (the largest negated similarity; NaN counts as the most similar).
    auto sweep = [&](Value pivot) {
      Value invPivot = memref::LoadOp::create(b, invNorm, pivot);
      e.forLoop(spanStart, spanEnd, [&](Value j) {
        Value dot = orderedRowDot(e, {hidden, {row, j}}, {hidden, {row, pivot}},
                                  s.hiddenDim);
        memref::StoreOp::create(
            b,
            sweepSimilarity(e, dot, memref::LoadOp::create(b, invNorm, j),
                            invPivot),
            sim, j);
      });
      e.forLoop(e.index(0), e.index(s.perPivot), [&](Value) {
        Value least = pick(
            spanStart, spanEnd, [&](Value t) { return markIs(t, kFree); },
            [&](Value t) {
              return arith::NegFOp::create(b,
                                           memref::LoadOp::create(b, sim, t));
            });
        e.ifThen(found(least), [&] { setMark(least, kTaken); });
      });
    };
    // Sweeps: image pivots in token order, then text pivots in token order.
    e.forLoop(spanStart, spanEnd, [&](Value t) {
      e.ifThen(markIs(t, kImagePivot), [&] { sweep(t); });
    });
    e.forLoop(e.index(0), len, [&](Value t) {
      e.ifThen(markIs(t, kTextPivot), [&] { sweep(t); });
    });
    // Text passes through; image tokens are kept when pivots or taken.
    Value count = e.forLoop(
        e.index(0), len, ValueRange{e.index(0)},
        [&](Value t, ValueRange st) -> SmallVector<Value> {
          Value keep = arith::OrIOp::create(
              b, e.notI1(inSpan(t)),
              arith::OrIOp::create(b, markIs(t, kImagePivot),
                                   markIs(t, kTaken)));
          e.ifThen(keep, [&] {
            memref::StoreOp::create(b, arith::IndexCastOp::create(b, i32, t),
                                    indices, ValueRange{row, st[0]});
          });
          return {arith::AddIOp::create(b, st[0], e.indexOf(keep))};
        })[0];
    e.forLoop(count, e.index(s.capacity), [&](Value j) {
      memref::StoreOp::create(b, e.i32(-1), indices, ValueRange{row, j});
    });
    memref::StoreOp::create(b, arith::IndexCastOp::create(b, i32, count),
                            counts, ValueRange{row});
  });
}

/// GPU form, four launches with the CPU form's values:
///  1. lane groups per token (eight threads, orderedSums' lanes): the key
///     L1 norms and the hidden inverse norms;
///  2. a block per row: the pivots (blockPick, the sequential scan's
///     answer), listed in sweep order;
///  3. lane groups per (row, pivot, span token): every pivot's similarity
///     to every span token at once (a sweep only ranks them; which tokens
///     are still free is decided in 4);
///  4. a block per row: each pivot's sweep in order as one block top-k of
///     the free span tokens by negated similarity (larger first, ties to
///     the lower index: the perPivot sequential picks, as a set), then the
///     kept tokens in order.
void lowerDartSelectStages(const DartShape &s, LoopEmitter &e, Value keys,
                           Value hidden, Value lengths, Value indices,
                           Value counts) {
  ImplicitLocOpBuilder &b = e.builder();
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  int64_t batch = s.batch, tokens = s.tokens;
  int64_t pivots = std::max<int64_t>(s.imagePivots + s.textPivots, 1);
  int64_t spanFirst = std::min(s.span[0], tokens);
  int64_t width = std::max<int64_t>(std::min(s.span[1], tokens) - spanFirst, 0);
  auto buffer = [&](ArrayRef<int64_t> shape, Type type) -> Value {
    SmallVector<int64_t> dims = {batch};
    for (int64_t d : shape)
      dims.push_back(std::max<int64_t>(d, 1));
    return memref::AllocOp::create(b, MemRefType::get(dims, type));
  };
  Value l1 = buffer({tokens}, f32), invNorm = buffer({tokens}, f32);
  Value mark = buffer({tokens}, i32), pivotList = buffer({pivots}, i32);
  Value numPivots = buffer({}, i32);
  Value sim = buffer({pivots, width}, f32);
  Value taken = buffer({s.perPivot}, i32);
  auto toIndex = [&](Value v) -> Value {
    return arith::IndexCastOp::create(b, b.getIndexType(), v);
  };
  auto toI32 = [&](Value v) -> Value {
    return arith::IndexCastOp::create(b, i32, v);
  };

  // 1. Per token: the key L1 norm and the hidden inverse norm.
  if (tokens > 0)
    laneGroupLaunch(
        e, batch, tokens, 2, [&](Value row, Value t, const LaneGroup &group) {
          Value active =
              arith::AndIOp::create(b, group.inGrid,
                                    e.cmpi(arith::CmpIPredicate::slt, t,
                                           e.rowLength(lengths, row, tokens)));
          auto sumOf = [&](Value input, int64_t extent,
                           Value (*term)(LoopEmitter &, Value)) {
            return laneGroupSums(
                e, group.tid, group.scratch, active, extent, 1,
                [&](Value d) -> SmallVector<Value> {
                  return {term(e, memref::LoadOp::create(
                                      b, input, ValueRange{row, t, d}))};
                })[0];
          };
          Value keyL1, squares;
          if (s.keyDim == s.hiddenDim) {
            // One walk over both rows: twice the loads in flight.
            SmallVector<Value> sums = laneGroupSums(
                e, group.tid, group.scratch, active, s.keyDim, 2,
                [&](Value d) -> SmallVector<Value> {
                  return {absTerm(e, memref::LoadOp::create(
                                         b, keys, ValueRange{row, t, d})),
                          squareTerm(e, memref::LoadOp::create(
                                            b, hidden, ValueRange{row, t, d}))};
                });
            keyL1 = sums[0];
            squares = sums[1];
          } else {
            keyL1 = sumOf(keys, s.keyDim, absTerm);
            squares = sumOf(hidden, s.hiddenDim, squareTerm);
          }
          e.ifThen(arith::AndIOp::create(b, active, group.leads), [&] {
            memref::StoreOp::create(b, keyL1, l1, ValueRange{row, t});
            memref::StoreOp::create(b, inverseNormOfSquares(e, squares),
                                    invNorm, ValueRange{row, t});
          });
        });

  // 2. Per row: the pivots, listed image pivots first, each kind in token
  //    order (the sweep order).
  e.blockLaunch(
      e.index(batch), kRowThreads, {}, [&](Value row, Value tid, ValueRange) {
        DartRowSpan span(e, s, lengths, row);
        Value len = span.len, spanStart = span.start, spanEnd = span.end;
        auto inSpan = [&](Value t) { return span.contains(t); };
        auto markIs = [&](Value t, DartMark m) -> Value {
          return e.cmpi(arith::CmpIPredicate::eq,
                        memref::LoadOp::create(b, mark, ValueRange{row, t}),
                        e.i32(m));
        };
        blockFor(e, tid, e.index(0), len, [&](Value t) {
          memref::StoreOp::create(b, e.i32(kFree), mark, ValueRange{row, t});
        });
        collective::BlockBarrierOp::create(b);
        auto choosePivots = [&](int64_t count, bool image, DartMark m) {
          e.forLoop(e.index(0), e.index(count), [&](Value) {
            Value best = blockPick(
                e, tid, e.index(0), len,
                [&](Value t) {
                  Value region = image ? inSpan(t) : e.notI1(inSpan(t));
                  return arith::AndIOp::create(b, region, markIs(t, kFree));
                },
                [&](Value t) {
                  return nanTo(
                      e, memref::LoadOp::create(b, l1, ValueRange{row, t}),
                      -INFINITY);
                });
            onFirstThread(e, tid, [&] {
              e.ifThen(e.cmpi(arith::CmpIPredicate::sge, best, e.index(0)),
                       [&] {
                         memref::StoreOp::create(b, e.i32(m), mark,
                                                 ValueRange{row, best});
                       });
            });
            collective::BlockBarrierOp::create(b);
          });
        };
        choosePivots(s.imagePivots, /*image=*/true, kImagePivot);
        choosePivots(s.textPivots, /*image=*/false, kTextPivot);
        Value listed = blockAppend(
            e, tid, row, spanStart, spanEnd,
            [&](Value t) { return markIs(t, kImagePivot); }, pivotList,
            e.i32(0));
        listed = blockAppend(
            e, tid, row, e.index(0), len,
            [&](Value t) { return markIs(t, kTextPivot); }, pivotList, listed);
        onFirstThread(e, tid, [&] {
          memref::StoreOp::create(b, listed, numPivots, ValueRange{row});
        });
      });
  // 3. Per (row, pair of pivot slots, span token): the token's similarity
  //    to both pivots (its elements loaded once for the two sums).
  constexpr int64_t kPivotsPerGroup = 2;
  int64_t pivotGroups = llvm::divideCeil(pivots, kPivotsPerGroup);
  if (width > 0)
    laneGroupLaunch(
        e, batch * pivotGroups, width, kPivotsPerGroup,
        [&](Value rowGroup, Value j, const LaneGroup &group) {
          Value row = arith::DivUIOp::create(b, rowGroup, e.index(pivotGroups));
          Value firstSlot = arith::MulIOp::create(
              b, arith::RemUIOp::create(b, rowGroup, e.index(pivotGroups)),
              e.index(kPivotsPerGroup));
          Value t = arith::AddIOp::create(b, j, e.index(spanFirst));
          Value active =
              arith::AndIOp::create(b, group.inGrid,
                                    e.cmpi(arith::CmpIPredicate::slt, t,
                                           e.rowLength(lengths, row, tokens)));
          Value listed =
              toIndex(memref::LoadOp::create(b, numPivots, ValueRange{row}));
          // A slot past the row's pivots sums against token 0, unstored.
          SmallVector<Value> slots, pivotAt, isListed;
          for (int64_t q = 0; q < kPivotsPerGroup; ++q) {
            slots.push_back(arith::AddIOp::create(b, firstSlot, e.index(q)));
            isListed.push_back(
                e.cmpi(arith::CmpIPredicate::slt, slots.back(), listed));
            Value clamped =
                arith::MinUIOp::create(b, slots.back(), e.index(pivots - 1));
            pivotAt.push_back(arith::SelectOp::create(
                b, isListed.back(),
                toIndex(memref::LoadOp::create(b, pivotList,
                                               ValueRange{row, clamped})),
                e.index(0)));
          }
          SmallVector<Value> dots = laneGroupSums(
              e, group.tid, group.scratch, active, s.hiddenDim, kPivotsPerGroup,
              [&](Value d) -> SmallVector<Value> {
                Value x = e.widenToF32(
                    memref::LoadOp::create(b, hidden, ValueRange{row, t, d}));
                SmallVector<Value> products;
                for (Value pivot : pivotAt)
                  products.push_back(arith::MulFOp::create(
                      b, x,
                      e.widenToF32(memref::LoadOp::create(
                          b, hidden, ValueRange{row, pivot, d}))));
                return products;
              });
          e.ifThen(arith::AndIOp::create(b, active, group.leads), [&] {
            Value invJ = memref::LoadOp::create(b, invNorm, ValueRange{row, t});
            for (int64_t q = 0; q < kPivotsPerGroup; ++q)
              e.ifThen(isListed[q], [&] {
                Value invPivot = memref::LoadOp::create(
                    b, invNorm, ValueRange{row, pivotAt[q]});
                memref::StoreOp::create(
                    b, sweepSimilarity(e, dots[q], invJ, invPivot), sim,
                    ValueRange{row, slots[q], j});
              });
          });
        });

  // 4. Per row: the sweeps in order, then the kept tokens.
  std::optional<TopKKeyStorage> keyStorage;
  if (width > 0)
    keyStorage = TopKKeyStorage::create(e, batch, width);
  e.blockLaunch(
      e.index(batch), kRowThreads,
      TopKKeyStorage::workgroupOf(keyStorage),
      [&](Value row, Value tid, ValueRange buffers) {
        DartRowSpan span(e, s, lengths, row);
        Value len = span.len, spanStart = span.start, spanEnd = span.end;
        auto markIs = [&](Value t, DartMark m) -> Value {
          return e.cmpi(arith::CmpIPredicate::eq,
                        memref::LoadOp::create(b, mark, ValueRange{row, t}),
                        e.i32(m));
        };
        if (keyStorage && s.perPivot > 0) {
          // Span tokens relative to the span's first (static: the row's
          // span starts there or is empty).
          Value spanLen = arith::SubIOp::create(
              b, arith::MaxSIOp::create(b, spanEnd, spanStart), spanStart);
          Value listed =
              toIndex(memref::LoadOp::create(b, numPivots, ValueRange{row}));
          Value keyRow = keyStorage->rowOf(e, row, buffers);
          // A constant trip count (the pivot slots), each sweep under a
          // condition the whole block shares.
          e.forLoop(e.index(0), e.index(pivots), [&](Value p) {
            e.ifThen(e.cmpi(arith::CmpIPredicate::slt, p, listed), [&] {
              auto at = [&](Value j) {
                return arith::AddIOp::create(b, j, e.index(spanFirst));
              };
              auto never = [&](Value) -> Value {
                return arith::ConstantIntOp::create(b, b.getI1Type(), 0);
              };
              auto free = [&](Value j) { return markIs(at(j), kFree); };
              auto key = [&](Value j) {
                return emitOrderKey(b,
                                    arith::NegFOp::create(
                                        b, memref::LoadOp::create(
                                               b, sim, ValueRange{row, p, j})),
                                    tok::NanPolicy::as_neg_inf);
              };
              auto budget = [&](Value candidates) -> Value {
                return arith::MinSIOp::create(b, e.i32(s.perPivot), candidates);
              };
              auto emit = [&](Value slot, Value j) {
                memref::StoreOp::create(b, toI32(j), taken,
                                        ValueRange{row, slot});
              };
              TopKRow topK;
              topK.len = spanLen;
              topK.keys = keyRow;
              topK.forced = never;
              topK.candidate = free;
              topK.key = key;
              topK.budget = budget;
              topK.emit = emit;
              topK.threads = kRowThreads;
              Value count = emitBlockTopK(e, tid, topK);
              collective::BlockBarrierOp::create(b);
              blockFor(e, tid, e.index(0), count, [&](Value slot) {
                Value j = toIndex(
                    memref::LoadOp::create(b, taken, ValueRange{row, slot}));
                memref::StoreOp::create(b, e.i32(kTaken), mark,
                                        ValueRange{row, at(j)});
              });
              collective::BlockBarrierOp::create(b);
            });
          });
        }
        // Text passes through; image tokens are kept when pivots or taken.
        auto kept = [&](Value t) -> Value {
          return arith::OrIOp::create(
              b, e.notI1(span.contains(t)),
              arith::OrIOp::create(b, markIs(t, kImagePivot),
                                   markIs(t, kTaken)));
        };
        Value count = blockCompact(e, tid, row, len, kept, indices, s.capacity);
        onFirstThread(e, tid, [&] {
          memref::StoreOp::create(b, count, counts, ValueRange{row});
        });
      });
}

void lowerDartSelect(tok::DartSelectOp op, ImplicitLocOpBuilder &b,
                     LoweringContext &context, bool gpuForm) {
  OpLowering e(b, context);
  DartShape shape(op);
  Value keys = e.toBuffer(op.getKeys());
  Value hidden = e.toBuffer(op.getHidden());
  Value lengths = op.getLengths() ? e.toBuffer(op.getLengths()) : Value();
  Value indices = e.allocFor(op.getIndices());
  Value counts = e.allocFor(op.getCount());
  if (shape.batch > 0) {
    if (gpuForm)
      lowerDartSelectStages(shape, e, keys, hidden, lengths, indices, counts);
    else
      lowerDartSelectRows(shape, e, keys, hidden, lengths, indices, counts);
  }
  e.replaceWithBuffer(op.getIndices(), indices);
  e.replaceWithBuffer(op.getCount(), counts);
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
