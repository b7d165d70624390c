//===- LowerKvToLoops.cpp - CPU loops for KV selection and diversity ------===//
//
// kv_select: per (batch, head), the forced slots (sinks, window, separators)
// and an exact radix-select top-k of the heavy hitters, emitted ascending.
// kv_gather: one row copy per kept slot and cache. k_center: farthest-point
// sampling with one running minimum distance per token.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "TokToLoops.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "RadixSelect.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "winnow/Dialect/Tok/IR/TokOps.h"

using namespace mlir;

namespace winnow {
namespace {

//===----------------------------------------------------------------------===//
// tok.kv_select
//===----------------------------------------------------------------------===//

void lowerKvSelect(tok::KvSelectOp op, ImplicitLocOpBuilder &b,
                   LoweringContext &context) {
  OpLowering e(b, context);
  auto slotsType = op.getSlots().getType();
  int64_t batch = slotsType.getDimSize(0), heads = slotsType.getDimSize(1);
  int64_t capacity = slotsType.getDimSize(2);
  int64_t tokens =
      op.getScores()
          ? cast<RankedTensorType>(op.getScores().getType()).getDimSize(2)
      : op.getSeparators()
          ? cast<RankedTensorType>(op.getSeparators().getType()).getDimSize(1)
          : op.getCacheSizeAttr().getInt();
  int64_t heavy = std::min(op.getHeavyAttr().getInt(), tokens);

  Value lengths = e.toBuffer(op.getLengths());
  Value scores = op.getScores() ? e.toBuffer(op.getScores()) : Value();
  Value separators = op.getSeparators() ? e.toBuffer(op.getSeparators()) : Value();
  Value slots = e.allocFor(op.getSlots());
  Value counts = e.allocFor(op.getCount());
  Value histogram = heavy > 0 ? allocRadixHistogram(b) : Value();

  e.parallelFor(batch, [&](Value row) {
    Value len = e.loadClampedCount(lengths, row, e.index(tokens));
    // Clamped to T first, so huge attributes cannot overflow the index math.
    int64_t sinks = std::min(op.getSinksAttr().getInt(), tokens);
    int64_t window = std::min(op.getWindowAttr().getInt(), tokens);
    Value sinkEnd = arith::MinSIOp::create(b, e.index(sinks), len);
    Value windowStart = arith::MaxSIOp::create(
        b, arith::SubIOp::create(b, len, e.index(window)), e.index(0));
    // Slots kept whatever the scores say (t < len is the caller's).
    auto forced = [&](Value t) -> Value {
      Value keep = arith::OrIOp::create(
          b, arith::CmpIOp::create(b, arith::CmpIPredicate::slt, t, sinkEnd),
          arith::CmpIOp::create(b, arith::CmpIPredicate::sge, t, windowStart));
      if (separators)
        keep = arith::OrIOp::create(
            b, keep, memref::LoadOp::create(b, separators, ValueRange{row, t}));
      return keep;
    };
    e.forLoop(e.index(0), e.index(heads), [&](Value h) {
      auto keyAt = [&](Value t) -> Value {
        return emitOrderKey(
            b, memref::LoadOp::create(b, scores, ValueRange{row, h, t}),
            tok::NanPolicy::as_neg_inf);
      };
      // Threshold key and ties of the heavy hitters among unforced slots.
      Value threshold = e.i32(-1), ties = e.i32(0);
      if (heavy > 0) {
        Value candidates = e.forLoop(
            e.index(0), len, ValueRange{e.i32(0)},
            [&](Value t, ValueRange s) -> SmallVector<Value> {
              return {arith::AddIOp::create(
                  b, s[0],
                  arith::ExtUIOp::create(b, b.getI32Type(), e.notI1(forced(t))))};
            })[0];
        Value k = arith::MinSIOp::create(b, e.i32(heavy), candidates);
        Value positive =
            arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, k, e.i32(0));
        auto ifOp = scf::IfOp::create(
            b, TypeRange{b.getI32Type(), b.getI32Type()}, positive, true);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(ifOp.thenBlock());
        auto [key, take] = emitRadixSelect(
            e, histogram, e.index(0), len, k, keyAt,
            [&](Value t) { return e.notI1(forced(t)); });
        scf::YieldOp::create(b, ValueRange{key, take});
        b.setInsertionPointToStart(ifOp.elseBlock());
        scf::YieldOp::create(b, ValueRange{e.i32(-1), e.i32(0)});
        b.setInsertionPointAfter(ifOp);
        threshold = ifOp.getResult(0);
        ties = ifOp.getResult(1);
      }
      ValueRange emitted = e.forLoop(
          e.index(0), len, ValueRange{e.index(0), e.i32(0)},
          [&](Value t, ValueRange s) -> SmallVector<Value> {
            Value keep = forced(t);
            Value tieUsed = arith::ConstantIntOp::create(b, b.getI1Type(), 0);
            if (heavy > 0) {
              Value key = keyAt(t);
              Value above = arith::CmpIOp::create(b, arith::CmpIPredicate::ugt,
                                                  key, threshold);
              Value tie = arith::AndIOp::create(
                  b,
                  arith::CmpIOp::create(b, arith::CmpIPredicate::eq, key,
                                        threshold),
                  arith::CmpIOp::create(b, arith::CmpIPredicate::slt, s[1], ties));
              Value candidate = e.notI1(keep);
              tieUsed = arith::AndIOp::create(b, candidate, tie);
              keep = arith::OrIOp::create(
                  b, keep,
                  arith::AndIOp::create(b, candidate,
                                        arith::OrIOp::create(b, above, tie)));
            }
            e.ifThen(keep, [&] {
              memref::StoreOp::create(
                  b, arith::IndexCastOp::create(b, b.getI32Type(), t), slots,
                  ValueRange{row, h, s[0]});
            });
            Value nextSlot = arith::AddIOp::create(
                b, s[0],
                e.indexOf(keep));
            return {nextSlot,
                    arith::AddIOp::create(
                        b, s[1], arith::ExtUIOp::create(b, b.getI32Type(), tieUsed))};
          });
      e.forLoop(emitted[0], e.index(capacity), [&](Value j) {
        memref::StoreOp::create(b, e.i32(-1), slots, ValueRange{row, h, j});
      });
      memref::StoreOp::create(
          b, arith::IndexCastOp::create(b, b.getI32Type(), emitted[0]), counts,
          ValueRange{row, h});
    });
  });
  e.replace(op.getSlots(), e.toTensor(slots, slotsType));
  e.replaceWithBuffer(op.getCount(), counts);
}

//===----------------------------------------------------------------------===//
// tok.kv_gather
//===----------------------------------------------------------------------===//

void lowerKvGather(tok::KvGatherOp op, ImplicitLocOpBuilder &b,
                   LoweringContext &context) {
  OpLowering e(b, context);
  bool intraRowParallel = context.intraRowParallel();
  auto slotsType = op.getSlots().getType();
  int64_t batch = slotsType.getDimSize(0), heads = slotsType.getDimSize(1);
  int64_t capacity = slotsType.getDimSize(2);
  bool reindexed = op.getPositionMode() == tok::PositionMode::reindexed;
  Value slots = e.toBuffer(op.getSlots());
  Value counts = e.toBuffer(op.getCount());
  Value positions = e.allocFor(op.getPositions());

  // [B, H, T, ...] viewed as [B, H, T, inner].
  auto view = [&](Value buffer) -> Value {
    auto type = cast<MemRefType>(buffer.getType());
    SmallVector<ReassociationIndices> groups = {{0}, {1}, {2}, {}};
    for (int64_t d = 3; d < type.getRank(); ++d)
      groups[3].push_back(d);
    if (groups[3].empty())
      return memref::ExpandShapeOp::create(
          b,
          ArrayRef<int64_t>{type.getDimSize(0), type.getDimSize(1),
                            type.getDimSize(2), 1},
          buffer, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
    return memref::CollapseShapeOp::create(b, buffer, groups);
  };
  struct Gather {
    Value in, out, outBase;
    int64_t tokens, inner;
    Type element;
  };
  SmallVector<Gather> gathers;
  for (auto [cache, gathered] : llvm::zip(op.getCaches(), op.getGathered())) {
    auto type = cast<RankedTensorType>(cache.getType());
    int64_t inner = 1;
    for (int64_t d = 3; d < type.getRank(); ++d)
      inner *= type.getDimSize(d);
    Value outBase = e.allocFor(gathered);
    gathers.push_back({view(e.toBuffer(cache)), view(outBase), outBase,
                       type.getDimSize(2), inner, type.getElementType()});
  }

  // The live count of (row, head), clamped to [0, capacity].
  auto liveCount = [&](Value row, Value h) {
    Value raw = memref::LoadOp::create(b, counts, ValueRange{row, h});
    return e.clampIndex(arith::IndexCastOp::create(b, b.getIndexType(), raw),
                        e.index(0), e.index(capacity));
  };
  // Whether output slot j of (row, head) gathers cache row `slot` of a cache
  // with `tokens` rows: live, and the slot inside the cache.
  auto gathersRow = [&](Value j, Value n, Value slot, int64_t tokens) {
    Value live = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, j, n);
    Value inRange =
        arith::CmpIOp::create(b, arith::CmpIPredicate::sge, slot, e.i32(0));
    return arith::AndIOp::create(
        b, arith::AndIOp::create(b, live, inRange),
        arith::CmpIOp::create(b, arith::CmpIPredicate::slt, slot,
                              e.i32(tokens)));
  };
  // Positions are judged against the first cache's length (all caches of
  // one call share T in practice; a slot past it is padding).
  int64_t positionTokens = gathers.empty() ? INT32_MAX : gathers.front().tokens;
  auto storePosition = [&](Value row, Value h, Value j, Value n, Value slot) {
    Value ok = gathersRow(j, n, slot, positionTokens);
    Value position =
        reindexed ? Value(arith::IndexCastOp::create(b, b.getI32Type(), j))
                  : slot;
    memref::StoreOp::create(b, arith::SelectOp::create(b, ok, position,
                                                       e.i32(-1)),
                            positions, ValueRange{row, h, j});
  };

  if (intraRowParallel) {
    // One iteration per output element, the element axis innermost, so
    // consecutive threads copy consecutive elements of one cache row; with
    // rows of whole 16-byte vectors (8 bf16 of a 128-wide head), one vector
    // per iteration when both buffers are 16-byte aligned at run time.
    for (Gather &g : gathers) {
      int64_t width = vectorWidth(g.element, g.inner);
      if (width > 0) {
        auto vectorType = VectorType::get({width}, g.element);
        Value aligned = arith::AndIOp::create(b, isAligned16(e, g.in),
                                              isAligned16(e, g.out));
        Value zeroVector = arith::ConstantOp::create(
            b, DenseElementsAttr::get(vectorType, b.getZeroAttr(g.element)));
        Value zero = arith::ConstantOp::create(b, b.getZeroAttr(g.element));
        e.parallelFor({batch, heads, capacity, g.inner / width},
                      [&](ValueRange iv) {
          Value row = iv[0], h = iv[1], j = iv[2];
          Value x = arith::MulIOp::create(b, iv[3], e.index(width));
          Value slot = memref::LoadOp::create(b, slots, ValueRange{row, h, j});
          Value ok = gathersRow(j, liveCount(row, h), slot, g.tokens);
          Value t = arith::IndexCastOp::create(
              b, b.getIndexType(), arith::MaxSIOp::create(b, slot, e.i32(0)));
          // Out-of-range rows are never read: zeros come from a constant.
          auto ifOk = scf::IfOp::create(b, ok, /*withElseRegion=*/true);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(ifOk.thenBlock()->getTerminator());
          auto ifAligned = scf::IfOp::create(b, aligned, true);
          b.setInsertionPoint(ifAligned.thenBlock()->getTerminator());
          Value v = vector::LoadOp::create(b, vectorType, g.in,
                                           ValueRange{row, h, t, x},
                                           /*nontemporal=*/false,
                                           llvm::MaybeAlign(16));
          vector::StoreOp::create(b, v, g.out, ValueRange{row, h, j, x},
                                  /*nontemporal=*/false, llvm::MaybeAlign(16));
          b.setInsertionPoint(ifAligned.elseBlock()->getTerminator());
          e.forLoop(e.index(0), e.index(width), [&](Value k) {
            Value at = arith::AddIOp::create(b, x, k);
            memref::StoreOp::create(
                b, memref::LoadOp::create(b, g.in, ValueRange{row, h, t, at}),
                g.out, ValueRange{row, h, j, at});
          });
          b.setInsertionPoint(ifOk.elseBlock()->getTerminator());
          auto ifPadAligned = scf::IfOp::create(b, aligned, true);
          b.setInsertionPoint(ifPadAligned.thenBlock()->getTerminator());
          vector::StoreOp::create(b, zeroVector, g.out, ValueRange{row, h, j, x},
                                  /*nontemporal=*/false, llvm::MaybeAlign(16));
          b.setInsertionPoint(ifPadAligned.elseBlock()->getTerminator());
          e.forLoop(e.index(0), e.index(width), [&](Value k) {
            memref::StoreOp::create(b, zero, g.out,
                                    ValueRange{row, h, j,
                                               arith::AddIOp::create(b, x, k)});
          });
        });
        continue;
      }
      e.parallelFor({batch, heads, capacity, g.inner}, [&](ValueRange iv) {
        Value row = iv[0], h = iv[1], j = iv[2], x = iv[3];
        Value slot = memref::LoadOp::create(b, slots, ValueRange{row, h, j});
        Value ok = gathersRow(j, liveCount(row, h), slot, g.tokens);
        auto ifOk = scf::IfOp::create(b, TypeRange{g.element}, ok, true);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ifOk.thenBlock());
          Value t = arith::IndexCastOp::create(b, b.getIndexType(), slot);
          scf::YieldOp::create(
              b, ValueRange{memref::LoadOp::create(b, g.in,
                                                   ValueRange{row, h, t, x})});
          b.setInsertionPointToStart(ifOk.elseBlock());
          scf::YieldOp::create(
              b, ValueRange{arith::ConstantOp::create(
                     b, b.getZeroAttr(g.element))});
        }
        memref::StoreOp::create(b, ifOk.getResult(0), g.out,
                                ValueRange{row, h, j, x});
      });
    }
    e.parallelFor({batch, heads, capacity}, [&](ValueRange iv) {
      Value row = iv[0], h = iv[1], j = iv[2];
      Value slot = memref::LoadOp::create(b, slots, ValueRange{row, h, j});
      storePosition(row, h, j, liveCount(row, h), slot);
    });
  } else {
    // Runs of consecutive slots (a StreamingLLM window, H2O's recent
    // tokens) are copied as one contiguous block per cache, which LLVM
    // turns into one memcpy; other slots row by row.
    int64_t runTokens = INT64_MAX;
    for (Gather &g : gathers)
      runTokens = std::min(runTokens, g.tokens);
    auto flat = [&](Value buffer) {
      auto type = cast<MemRefType>(buffer.getType());
      SmallVector<ReassociationIndices> all(1);
      for (int64_t d = 0; d < type.getRank(); ++d)
        all[0].push_back(d);
      return memref::CollapseShapeOp::create(b, buffer, all).getResult();
    };
    SmallVector<Value> flatIn, flatOut;
    for (Gather &g : gathers) {
      flatIn.push_back(flat(g.in));
      flatOut.push_back(flat(g.out));
    }
    auto slotAt = [&](Value row, Value h, Value j) {
      return memref::LoadOp::create(b, slots, ValueRange{row, h, j})
          .getResult();
    };
    e.parallelFor(batch, [&](Value row) {
      e.forLoop(e.index(0), e.index(heads), [&](Value h) {
        Value n = liveCount(row, h);
        // State: the first slot not yet copied by a run.
        e.forLoop(e.index(0), e.index(capacity), ValueRange{e.index(0)},
                  [&](Value j, ValueRange state) -> SmallVector<Value> {
          Value slot = slotAt(row, h, j);
          Value copied = state[0];
          Value fresh = arith::CmpIOp::create(b, arith::CmpIPredicate::sge, j,
                                              copied);
          Value startsRun = arith::AndIOp::create(
              b, fresh, gathersRow(j, n, slot, runTokens));
          auto ifRun = scf::IfOp::create(b, TypeRange{b.getIndexType()},
                                         startsRun, true);
          {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToStart(ifRun.thenBlock());
            // The run [j, end): live slots that follow each other.
            Value start = arith::AddIOp::create(b, j, e.index(1));
            auto grow = scf::WhileOp::create(b, TypeRange{b.getIndexType()},
                                             ValueRange{start});
            Block *before = b.createBlock(&grow.getBefore(), {},
                                          {b.getIndexType()}, {b.getLoc()});
            Value k = before->getArgument(0);
            Value inside = arith::CmpIOp::create(b, arith::CmpIPredicate::slt,
                                                 k, n);
            Value at = arith::SelectOp::create(b, inside, k, j);
            Value prevAt = arith::SelectOp::create(
                b, inside, arith::SubIOp::create(b, k, e.index(1)), j);
            Value follows = arith::CmpIOp::create(
                b, arith::CmpIPredicate::eq, slotAt(row, h, at),
                arith::AddIOp::create(b, slotAt(row, h, prevAt), e.i32(1)));
            Value fits = arith::CmpIOp::create(
                b, arith::CmpIPredicate::slt, slotAt(row, h, at),
                e.i32(std::min<int64_t>(runTokens, INT32_MAX)));
            scf::ConditionOp::create(
                b, arith::AndIOp::create(
                       b, inside, arith::AndIOp::create(b, follows, fits)),
                ValueRange{k});
            Block *after = b.createBlock(&grow.getAfter(), {},
                                         {b.getIndexType()}, {b.getLoc()});
            scf::YieldOp::create(
                b, ValueRange{arith::AddIOp::create(b, after->getArgument(0),
                                                    e.index(1))});
            b.setInsertionPointAfter(grow);
            Value end = grow.getResult(0);
            Value first = arith::IndexCastOp::create(b, b.getIndexType(), slot);
            for (size_t gi = 0; gi < gathers.size(); ++gi) {
              const Gather &g = gathers[gi];
              Value in = flatIn[gi], out = flatOut[gi];
              Value plane = arith::AddIOp::create(
                  b, arith::MulIOp::create(b, row, e.index(heads)), h);
              Value inAt = arith::MulIOp::create(
                  b,
                  arith::AddIOp::create(
                      b, arith::MulIOp::create(b, plane, e.index(g.tokens)),
                      first),
                  e.index(g.inner));
              Value outAt = arith::MulIOp::create(
                  b,
                  arith::AddIOp::create(
                      b, arith::MulIOp::create(b, plane, e.index(capacity)), j),
                  e.index(g.inner));
              Value length = arith::MulIOp::create(
                  b, arith::SubIOp::create(b, end, j), e.index(g.inner));
              e.forLoop(e.index(0), length, [&](Value x) {
                Value v = memref::LoadOp::create(
                    b, in, ValueRange{arith::AddIOp::create(b, inAt, x)});
                memref::StoreOp::create(
                    b, v, out, ValueRange{arith::AddIOp::create(b, outAt, x)});
              });
            }
            scf::YieldOp::create(b, ValueRange{end});
            b.setInsertionPointToStart(ifRun.elseBlock());
            scf::YieldOp::create(b, ValueRange{copied});
          }
          Value copiedNow = ifRun.getResult(0);
          // Slots no run covers: row by row (zeros for padding).
          Value alone = arith::CmpIOp::create(b, arith::CmpIPredicate::sge, j,
                                              copiedNow);
          e.ifThen(alone, [&] {
          for (Gather &g : gathers) {
            Value ok = gathersRow(j, n, slot, g.tokens);
            Value zero = arith::ConstantOp::create(b, b.getZeroAttr(g.element));
            auto ifOk = scf::IfOp::create(b, ok, /*withElseRegion=*/true);
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPoint(ifOk.thenBlock()->getTerminator());
            Value t = arith::IndexCastOp::create(b, b.getIndexType(), slot);
            e.forLoop(e.index(0), e.index(g.inner), [&](Value x) {
              Value v =
                  memref::LoadOp::create(b, g.in, ValueRange{row, h, t, x});
              memref::StoreOp::create(b, v, g.out, ValueRange{row, h, j, x});
            });
            b.setInsertionPoint(ifOk.elseBlock()->getTerminator());
            e.forLoop(e.index(0), e.index(g.inner), [&](Value x) {
              memref::StoreOp::create(b, zero, g.out, ValueRange{row, h, j, x});
            });
          }
          });
          storePosition(row, h, j, n, slot);
          return {copiedNow};
        });
      });
    });
  }
  for (auto [gathered, g] : llvm::zip(op.getGathered(), gathers))
    e.replaceWithBuffer(gathered, g.outBase);
  e.replaceWithBuffer(op.getPositions(), positions);
}

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
  auto fastmath = reassocFastMath(b.getContext());
  auto load = [&](Value row, Value i, Value d) -> Value {
    return e.widenToF32(memref::LoadOp::create(b, input, ValueRange{row, i, d}));
  };
  auto dot = [&](Value row, Value i, Value j) -> Value {
    return e.forLoop(e.index(0), e.index(features), ValueRange{e.f32(0.0)},
                     [&](Value d, ValueRange acc) -> SmallVector<Value> {
                       Value p = arith::MulFOp::create(b, load(row, i, d),
                                                       load(row, j, d), fastmath);
                       return {arith::AddFOp::create(b, acc[0], p, fastmath)};
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
  auto fastmath = reassocFastMath(b.getContext());
  auto sumOver = [&](int64_t n, llvm::function_ref<Value(Value)> term) {
    return e.forLoop(e.index(0), e.index(n), ValueRange{e.f32(0.0)},
                     [&](Value d, ValueRange acc) -> SmallVector<Value> {
                       return {arith::AddFOp::create(b, acc[0], term(d), fastmath)};
                     })[0];
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
        return arith::MulFOp::create(b, x, x, fastmath);
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
          return arith::MulFOp::create(b, x, y, fastmath);
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

void populateKvToLoopsPatterns(RewritePatternSet &patterns,
                               const LoweringOptions &options,
                               DispatchRow *row) {
  addTokLowering<tok::KvSelectOp>(patterns, options, row, lowerKvSelect);
  addTokLowering<tok::KvGatherOp>(patterns, options, row, lowerKvGather);
  addTokLowering<tok::KCenterOp>(patterns, options, row, lowerKCenter);
  addTokLowering<tok::DartSelectOp>(patterns, options, row, lowerDartSelect);
}

} // namespace winnow
