//===- LowerKvToLoops.cpp - Loops for KV-cache selection and gathers ------===//
//
// kv_select: per (batch, head), the forced slots (sinks, window, separators)
// and an exact radix-select top-k of the heavy hitters, emitted ascending.
// kv_gather: one row copy per kept slot and cache.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "RowBlock.h"
#include "TokOpLowering.h"

#include "BlockTopK.h"
#include "RadixSelect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "winnow/Dialect/Collective/IR/CollectiveOps.h"
#include "winnow/Dialect/Tok/IR/TokOps.h"

using namespace mlir;

namespace winnow {
namespace {

/// How far ahead kv_gather's CPU form prefetches source rows, in slots, and
/// the cache line it prefetches by.
constexpr int64_t kKvPrefetchSlots = 8;
constexpr int64_t kCacheLineBytes = 64;

//===----------------------------------------------------------------------===//
// tok.kv_select
//===----------------------------------------------------------------------===//

/// kv_select's extents, T (from the scores, the separators or cache_size)
/// and the budgets, clamped to T first so huge attributes cannot overflow
/// the index math.
struct KvSelectShape {
  int64_t batch, heads, capacity, tokens, heavy, sinks, window;

  explicit KvSelectShape(tok::KvSelectOp op) {
    auto slotsType = op.getSlots().getType();
    batch = slotsType.getDimSize(0);
    heads = slotsType.getDimSize(1);
    capacity = slotsType.getDimSize(2);
    tokens =
        op.getScores()
            ? cast<RankedTensorType>(op.getScores().getType()).getDimSize(2)
        : op.getSeparators()
            ? cast<RankedTensorType>(op.getSeparators().getType()).getDimSize(1)
            : op.getCacheSizeAttr().getInt();
    heavy = std::min(op.getHeavyAttr().getInt(), tokens);
    sinks = std::min(op.getSinksAttr().getInt(), tokens);
    window = std::min(op.getWindowAttr().getInt(), tokens);
  }
};

/// One batch row of kv_select: its valid length, where its sinks end and
/// its window starts, its heavy-hitter budget, and which slots are kept
/// whatever the scores say. With a row_budget, the row's own sinks, window
/// and heavy, each clamped to [0, the attribute's].
struct KvSelectRow {
  Value row, len, sinkEnd, windowStart, heavy;
  Value separators; // null without them

  KvSelectRow(LoopEmitter &e, const KvSelectShape &shape, Value lengths,
              Value separators, Value rowBudget, Value row)
      : row(row), separators(separators) {
    ImplicitLocOpBuilder &b = e.builder();
    len = e.loadClampedCount(lengths, row, e.index(shape.tokens));
    Value sinks = e.index(shape.sinks), window = e.index(shape.window);
    heavy = e.i32(shape.heavy);
    if (rowBudget) {
      auto own = [&](int64_t column, int64_t most) {
        Value v = memref::LoadOp::create(b, rowBudget,
                                         ValueRange{row, e.index(column)});
        return arith::MinSIOp::create(b, arith::MaxSIOp::create(b, v, e.i32(0)),
                                      e.i32(most));
      };
      sinks =
          arith::IndexCastOp::create(b, b.getIndexType(), own(0, shape.sinks));
      window =
          arith::IndexCastOp::create(b, b.getIndexType(), own(1, shape.window));
      heavy = own(2, shape.heavy);
    }
    sinkEnd = arith::MinSIOp::create(b, sinks, len);
    windowStart = arith::MaxSIOp::create(
        b, arith::SubIOp::create(b, len, window), e.index(0));
  }

  /// Whether slot t is forced: a sink, in the window or a separator (t < len
  /// is the caller's).
  Value forced(LoopEmitter &e, Value t) const {
    ImplicitLocOpBuilder &b = e.builder();
    Value keep = arith::OrIOp::create(
        b, arith::CmpIOp::create(b, arith::CmpIPredicate::slt, t, sinkEnd),
        arith::CmpIOp::create(b, arith::CmpIPredicate::sge, t, windowStart));
    if (separators)
      keep = arith::OrIOp::create(
          b, keep, memref::LoadOp::create(b, separators, ValueRange{row, t}));
    return keep;
  }
};

void lowerKvSelect(tok::KvSelectOp op, ImplicitLocOpBuilder &b,
                   LoweringContext &context) {
  OpLowering e(b, context);
  auto slotsType = op.getSlots().getType();
  KvSelectShape shape(op);
  int64_t heads = shape.heads, capacity = shape.capacity;
  int64_t heavy = shape.heavy;

  Value lengths = e.toBuffer(op.getLengths());
  Value scores = op.getScores() ? e.toBuffer(op.getScores()) : Value();
  Value separators = op.getSeparators() ? e.toBuffer(op.getSeparators()) : Value();
  Value rowBudget = op.getRowBudget() ? e.toBuffer(op.getRowBudget()) : Value();
  Value slots = e.allocFor(op.getSlots());
  Value counts = e.allocFor(op.getCount());
  Value histogram = heavy > 0 ? allocRadixHistogram(b) : Value();
  // GPU row kernels also run this form; their scratch is shared memory.
  Value radixKeys = heavy > 0 && !context.intraRowParallel()
                        ? allocRadixKeys(b, shape.tokens)
                        : Value();

  // Heads are independent: one task per (row, head), so even a batch of one
  // spreads over the CPU's threads. Inside a tok.dispatch of several rows
  // (and the GPU's row kernels) the heads stay a loop: the rows are the
  // parallel loop there. A CPU dispatch of one row has no row loop, so its
  // heads are the tasks.
  bool headLoop =
      context.row && (context.row->rows != 1 || context.intraRowParallel());
  auto forEachRowHead = [&](llvm::function_ref<void(Value, Value)> body) {
    if (headLoop)
      return e.parallelFor(shape.batch, [&](Value row) {
        e.forLoop(e.index(0), e.index(heads), [&](Value h) { body(row, h); });
      });
    e.parallelFor({shape.batch, heads},
                  [&](ValueRange rowHead) { body(rowHead[0], rowHead[1]); });
  };
  forEachRowHead([&](Value row, Value h) {
    KvSelectRow r(e, shape, lengths, separators, rowBudget, row);
    Value len = r.len;
    auto forced = [&](Value t) { return r.forced(e, t); };
    {
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
        Value k = arith::MinSIOp::create(b, r.heavy, candidates);
        Value positive =
            arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, k, e.i32(0));
        auto ifOp = scf::IfOp::create(
            b, TypeRange{b.getI32Type(), b.getI32Type()}, positive, true);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(ifOp.thenBlock());
        auto [key, take] = emitRadixSelect(
            e, histogram, e.index(0), len, k, keyAt,
            [&](Value t) { return e.notI1(forced(t)); }, radixKeys);
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
    }
  });
  e.replace(op.getSlots(), e.toTensor(slots, slotsType));
  e.replaceWithBuffer(op.getCount(), counts);
}

/// kv_select's GPU form. Without heavy hitters or separators the kept slots
/// are two ranges in closed form, [0, sinkEnd) and [max(windowStart, sinkEnd),
/// len): one thread per output slot. Otherwise one block per (row, head)
/// keeps the forced slots and the heavy hitters (BlockTopK.h). Inside a
/// tok.dispatch the CPU form runs per row.
void lowerKvSelectGpu(tok::KvSelectOp op, ImplicitLocOpBuilder &b,
                      LoweringContext &context) {
  if (context.row)
    return lowerKvSelect(op, b, context);
  OpLowering e(b, context);
  auto slotsType = op.getSlots().getType();
  KvSelectShape shape(op);
  int64_t batch = shape.batch, heads = shape.heads;
  int64_t capacity = shape.capacity, tokens = shape.tokens;
  int64_t heavy = shape.heavy;

  Value lengths = e.toBuffer(op.getLengths());
  Value scores =
      heavy > 0 && op.getScores() ? e.toBuffer(op.getScores()) : Value();
  Value separators =
      op.getSeparators() ? e.toBuffer(op.getSeparators()) : Value();
  Value rowBudget = op.getRowBudget() ? e.toBuffer(op.getRowBudget()) : Value();
  Value slots = e.allocFor(op.getSlots());
  Value counts = e.allocFor(op.getCount());
  auto toI32 = [&](Value index) -> Value {
    return arith::IndexCastOp::create(b, b.getI32Type(), index);
  };

  if (heavy == 0 && !separators) {
    e.parallelFor({batch, heads, capacity}, [&](ValueRange iv) {
      Value row = iv[0], h = iv[1], j = iv[2];
      KvSelectRow r(e, shape, lengths, separators, rowBudget, row);
      Value recentStart = arith::MaxSIOp::create(b, r.windowStart, r.sinkEnd);
      Value count = arith::AddIOp::create(
          b, r.sinkEnd, arith::SubIOp::create(b, r.len, recentStart));
      Value recent = arith::AddIOp::create(
          b, recentStart, arith::SubIOp::create(b, j, r.sinkEnd));
      Value slot = arith::SelectOp::create(
          b, e.cmpi(arith::CmpIPredicate::slt, j, r.sinkEnd), j,
          arith::SelectOp::create(b,
                                  e.cmpi(arith::CmpIPredicate::slt, j, count),
                                  recent, e.index(-1)));
      memref::StoreOp::create(b, toI32(slot), slots, ValueRange{row, h, j});
      e.ifThen(e.cmpi(arith::CmpIPredicate::eq, j, e.index(0)), [&] {
        memref::StoreOp::create(b, toI32(count), counts, ValueRange{row, h});
      });
    });
    e.replace(op.getSlots(), e.toTensor(slots, slotsType));
    e.replaceWithBuffer(op.getCount(), counts);
    return;
  }

  int64_t rows = batch * heads;
  std::optional<TopKKeyStorage> keyStorage;
  if (heavy > 0)
    keyStorage = TopKKeyStorage::create(e, std::max<int64_t>(rows, 1), tokens);
  e.blockLaunch(
      e.index(rows), kTopKThreads,
      TopKKeyStorage::workgroupOf(keyStorage),
      [&](Value block, Value tid, ValueRange buffers) {
        Value row = arith::DivUIOp::create(b, block, e.index(heads));
        Value h = arith::RemUIOp::create(b, block, e.index(heads));
        KvSelectRow r(e, shape, lengths, separators, rowBudget, row);
        auto forced = [&](Value t) { return r.forced(e, t); };
        auto candidate = [&](Value t) { return e.notI1(forced(t)); };
        auto key = [&](Value t) {
          return emitOrderKey(
              b, memref::LoadOp::create(b, scores, ValueRange{row, h, t}),
              tok::NanPolicy::as_neg_inf);
        };
        auto budget = [&](Value candidates) -> Value {
          return arith::MinSIOp::create(b, r.heavy, candidates);
        };
        auto noKey = [&](Value) { return e.i32(0); };
        auto emit = [&](Value slot, Value t) {
          memref::StoreOp::create(b, toI32(t), slots, ValueRange{row, h, slot});
        };
        TopKRow topK;
        topK.len = r.len;
        topK.forced = forced;
        topK.candidate = candidate;
        if (heavy > 0) {
          topK.keys = keyStorage->rowOf(e, block, buffers);
          topK.key = key;
          topK.budget = budget;
        } else {
          // Nothing beyond the forced slots: no candidate passes.
          topK.key = noKey;
          topK.threshold = e.i32(-1);
        }
        topK.emit = emit;
        Value count = emitBlockTopK(e, tid, topK);
        e.blockStrided(
            e.index(0), e.index(capacity), tid, kTopKThreads, ValueRange{},
            [&](Value j, ValueRange) -> SmallVector<Value> {
              e.ifThen(e.cmpi(arith::CmpIPredicate::sge, j, count), [&] {
                memref::StoreOp::create(b, e.i32(-1), slots,
                                        ValueRange{row, h, j});
              });
              return {};
            });
        onFirstThread(e, tid, [&] {
          memref::StoreOp::create(b, toI32(count), counts, ValueRange{row, h});
        });
      });
  e.replace(op.getSlots(), e.toTensor(slots, slotsType));
  e.replaceWithBuffer(op.getCount(), counts);
}

//===----------------------------------------------------------------------===//
// tok.kv_gather
//===----------------------------------------------------------------------===//

void lowerKvGather(tok::KvGatherOp op, ImplicitLocOpBuilder &b,
                   LoweringContext &context, bool intraRowParallel) {
  OpLowering e(b, context);
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
        Value aligned = arith::AndIOp::create(b, isAligned16(e, g.in),
                                              isAligned16(e, g.out));
        Value zero = arith::ConstantOp::create(b, b.getZeroAttr(g.element));
        e.parallelFor({batch, heads, capacity, g.inner / width},
                      [&](ValueRange iv) {
          Value row = iv[0], h = iv[1], j = iv[2];
          Value x = arith::MulIOp::create(b, iv[3], e.index(width));
          Value slot = memref::LoadOp::create(b, slots, ValueRange{row, h, j});
          Value ok = gathersRow(j, liveCount(row, h), slot, g.tokens);
          Value t = arith::IndexCastOp::create(
              b, b.getIndexType(), arith::MaxSIOp::create(b, slot, e.i32(0)));
          // Out-of-range rows are never read: they are filled with zeros.
          auto ifOk = scf::IfOp::create(b, ok, /*withElseRegion=*/true);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(ifOk.thenBlock()->getTerminator());
          copyChunk(e, g.in, ValueRange{row, h, t, x}, g.out,
                    ValueRange{row, h, j, x}, width, aligned);
          b.setInsertionPoint(ifOk.elseBlock()->getTerminator());
          fillChunk(e, g.out, ValueRange{row, h, j, x}, width, zero, aligned);
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
    // The flat offset of row `t` of (row, head) in a [B, H, rows, inner]
    // buffer.
    auto flatRowAt = [&](Value row, Value h, int64_t rows, Value t,
                         int64_t inner) {
      Value plane = arith::AddIOp::create(
          b, arith::MulIOp::create(b, row, e.index(heads)), h);
      return arith::MulIOp::create(
                 b,
                 arith::AddIOp::create(
                     b, arith::MulIOp::create(b, plane, e.index(rows)), t),
                 e.index(inner))
          .getResult();
    };
    // Scattered slots (H2O's heavy hitters) are short rows far apart that
    // the hardware prefetcher cannot predict: each slot's iteration asks
    // for the cache lines of the rows kKvPrefetchSlots slots ahead.
    auto prefetchAhead = [&](Value row, Value h, Value j) {
      Value ahead = arith::MinUIOp::create(
          b, arith::AddIOp::create(b, j, e.index(kKvPrefetchSlots)),
          e.index(capacity - 1));
      Value slot = arith::IndexCastOp::create(b, b.getIndexType(),
                                              slotAt(row, h, ahead));
      for (size_t gi = 0; gi < gathers.size(); ++gi) {
        const Gather &g = gathers[gi];
        if (g.tokens == 0)
          continue; // an empty cache has no row to fetch
        Value t = e.clampIndex(slot, e.index(0), e.index(g.tokens - 1));
        Value at = flatRowAt(row, h, g.tokens, t, g.inner);
        int64_t lineElements =
            std::max<int64_t>(1, kCacheLineBytes / elementBytes(g.element));
        for (int64_t x = 0; x < g.inner; x += lineElements)
          memref::PrefetchOp::create(
              b, flatIn[gi],
              ValueRange{arith::AddIOp::create(b, at, e.index(x))},
              /*isWrite=*/false, /*localityHint=*/3, /*isDataCache=*/true);
      }
    };
    // Heads are independent: one task per (row, head), so even a batch of
    // one spreads over the CPU's threads.
    e.parallelFor({batch, heads}, [&](ValueRange rowHead) {
      Value row = rowHead[0], h = rowHead[1];
      {
        Value n = liveCount(row, h);
        // State: the first slot not yet copied by a run.
        e.forLoop(e.index(0), e.index(capacity), ValueRange{e.index(0)},
                  [&](Value j, ValueRange state) -> SmallVector<Value> {
          Value slot = slotAt(row, h, j);
          Value copied = state[0];
          prefetchAhead(row, h, j);
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
              Value inAt = flatRowAt(row, h, g.tokens, first, g.inner);
              Value outAt = flatRowAt(row, h, capacity, j, g.inner);
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
      }
    });
  }
  for (auto [gathered, g] : llvm::zip(op.getGathered(), gathers))
    e.replaceWithBuffer(gathered, g.outBase);
  e.replaceWithBuffer(op.getPositions(), positions);
}

/// The ops of this family that have a CPU and a GPU form, in one of them.
void addKvForms(RewritePatternSet &patterns, const LoweringOptions &options,
                DispatchRow *row, bool gpuForm) {
  addTokLoweringForm<tok::KvSelectOp>(patterns, options, row, gpuForm,
                                      [](tok::KvSelectOp op,
                                         ImplicitLocOpBuilder &b,
                                         LoweringContext &context, bool gpu) {
                                        if (gpu)
                                          lowerKvSelectGpu(op, b, context);
                                        else
                                          lowerKvSelect(op, b, context);
                                      });
  addTokLoweringForm<tok::KvGatherOp>(patterns, options, row, gpuForm,
                                      lowerKvGather);
}

} // namespace

void populateKvToLoopsPatterns(RewritePatternSet &patterns,
                               const LoweringOptions &options,
                               DispatchRow *row) {
  addKvForms(patterns, options, row, /*gpuForm=*/false);
}

void populateKvToGpuLoopsPatterns(RewritePatternSet &patterns,
                                  const LoweringOptions &options,
                                  DispatchRow *row) {
  addKvForms(patterns, options, row, /*gpuForm=*/true);
}

} // namespace winnow
