//===- LowerChunkToLoops.cpp - CPU loops for the chunking ops -------------===//
//
// One loop nest per batch row; every op reads its inputs once and writes its
// outputs once. Segment starts follow the family's rule: position 0 of a
// non-empty row, then every boundary below the row's length.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "TokOpLowering.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "winnow/Dialect/Collective/IR/CollectiveOps.h"
#include "winnow/Dialect/Tok/IR/TokOps.h"

using namespace mlir;

namespace winnow {
namespace {

Type f32Type(ImplicitLocOpBuilder &b) { return b.getF32Type(); }

/// Whether token `t` starts a segment: t == 0, or a boundary (t < len is the
/// caller's to guarantee).
Value startsSegment(ImplicitLocOpBuilder &b, LoopEmitter &e, Value boundaries,
                    Value row, Value t) {
  Value isFirst =
      arith::CmpIOp::create(b, arith::CmpIPredicate::eq, t, e.index(0));
  Value isBoundary = memref::LoadOp::create(b, boundaries, ValueRange{row, t});
  return arith::OrIOp::create(b, isFirst, isBoundary);
}

/// Token `t` of a left-to-right walk over `row`: whether it is valid
/// (t < len), whether it opens a segment, the number of segments opened so
/// far including it, and its segment (`opened - 1`).
struct SegmentStep {
  Value valid, starts, opened, segment;
};
SegmentStep segmentStep(ImplicitLocOpBuilder &b, LoopEmitter &e,
                        Value boundaries, Value row, Value t, Value len,
                        Value openedBefore) {
  Value valid = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, t, len);
  Value starts =
      arith::AndIOp::create(b, valid, startsSegment(b, e, boundaries, row, t));
  Value opened = arith::AddIOp::create(b, openedBefore, e.indexOf(starts));
  return {valid, starts, opened,
          arith::SubIOp::create(b, opened, e.index(1))};
}

/// The number of segments that start in [0, end) of `row`, counting only
/// tokens below `len`: for a token that starts a segment, its segment index.
Value countSegmentStarts(ImplicitLocOpBuilder &b, LoopEmitter &e,
                         Value boundaries, Value row, Value end, Value len) {
  return e.forLoop(
      e.index(0), end, ValueRange{e.index(0)},
      [&](Value u, ValueRange s) -> SmallVector<Value> {
        return {segmentStep(b, e, boundaries, row, u, len, s[0]).opened};
      })[0];
}

/// clamp(gates[row, j], eps, 1 - eps), NaN-propagating: ema_scan's gate.
Value emaGate(ImplicitLocOpBuilder &b, LoopEmitter &e, Value gates, Value row,
              Value j, double epsilon) {
  Value gate = memref::LoadOp::create(b, gates, ValueRange{row, j});
  return arith::MinimumFOp::create(
             b, arith::MaximumFOp::create(b, gate, e.f32(epsilon)),
             e.f32(1.0 - epsilon))
      .getResult();
}

/// One EMA step in fp32: g z + (1 - g) prev, in this order (every form of
/// ema_scan computes it here, so they agree bit for bit).
Value emaStep(ImplicitLocOpBuilder &b, LoopEmitter &e, Value gate, Value z,
              Value prev) {
  Value keep = arith::SubFOp::create(b, e.f32(1.0), gate);
  return arith::AddFOp::create(b, arith::MulFOp::create(b, gate, z),
                               arith::MulFOp::create(b, keep, prev));
}

/// ema_scan's value of chunk j, feature d: g z_j + (1 - g) prev in fp32,
/// prev = 0 for the first chunk, and 0 past the live count n. `previous`
/// yields chunk j - 1's value; it is only evaluated for live chunks.
Value emaChunk(ImplicitLocOpBuilder &b, LoopEmitter &e, Value input,
               Value row, Value j, Value d, Value gate, Value n,
               llvm::function_ref<Value(Value isFirst)> previous) {
  Value live = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, j, n);
  auto ifLive = scf::IfOp::create(b, TypeRange{b.getF32Type()}, live, true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifLive.thenBlock());
  Value isFirst =
      arith::CmpIOp::create(b, arith::CmpIPredicate::eq, j, e.index(0));
  Value z =
      e.widenToF32(memref::LoadOp::create(b, input, ValueRange{row, j, d}));
  Value prev = arith::SelectOp::create(b, isFirst, e.f32(0.0), previous(isFirst));
  scf::YieldOp::create(b, ValueRange{emaStep(b, e, gate, z, prev)});
  b.setInsertionPointToStart(ifLive.elseBlock());
  scf::YieldOp::create(b, ValueRange{e.f32(0.0)});
  return ifLive.getResult(0);
}

/// Each token's segment index (the segment starts up to and including it,
/// minus one) into a [B, L] i32 buffer, on the GPU: one block per row,
/// tiles of 2048 tokens with 8 consecutive per thread, the starts before a
/// thread's from a block scan. Tokens past the row's length open nothing.
Value emitSegmentIndices(OpLowering &e, Value boundaries, Value lengths,
                         int64_t batch, int64_t tokens) {
  ImplicitLocOpBuilder &b = e.builder();
  Value segments = memref::AllocOp::create(
      b, MemRefType::get({batch, tokens}, b.getI32Type()));
  constexpr int64_t kThreads = 256, kItems = 8;
  e.blockLaunch(
      e.index(std::max<int64_t>(batch, 1)), kThreads, {},
      [&](Value row, Value tid, ValueRange) {
        Value len = e.rowLength(lengths, row, tokens);
        e.forLoop(
            e.index(0), e.index(tokens), e.index(kThreads * kItems),
            ValueRange{e.i32(0)},
            [&](Value start, ValueRange state) -> SmallVector<Value> {
              Value first = arith::AddIOp::create(
                  b, start, arith::MulIOp::create(b, tid, e.index(kItems)));
              SmallVector<Value> starts;
              Value mine = e.i32(0);
              for (int64_t i = 0; i < kItems; ++i) {
                Value t = arith::AddIOp::create(b, first, e.index(i));
                Value inRow = arith::CmpIOp::create(
                    b, arith::CmpIPredicate::slt, t, e.index(tokens));
                Value safe = arith::SelectOp::create(b, inRow, t, start);
                Value opens = arith::AndIOp::create(
                    b,
                    arith::AndIOp::create(
                        b, inRow,
                        arith::CmpIOp::create(b, arith::CmpIPredicate::slt, t,
                                              len)),
                    startsSegment(b, e, boundaries, row, safe));
                starts.push_back(opens);
                mine = arith::AddIOp::create(
                    b, mine, arith::ExtUIOp::create(b, b.getI32Type(), opens));
              }
              auto scan = collective::BlockExclusiveScanOp::create(
                  b, b.getI32Type(), b.getI32Type(), mine, /*flags=*/false);
              Value opened =
                  arith::AddIOp::create(b, state[0], scan.getPrefix());
              for (int64_t i = 0; i < kItems; ++i) {
                Value t = arith::AddIOp::create(b, first, e.index(i));
                opened = arith::AddIOp::create(
                    b, opened,
                    arith::ExtUIOp::create(b, b.getI32Type(), starts[i]));
                e.ifThen(arith::CmpIOp::create(b, arith::CmpIPredicate::slt, t,
                                               e.index(tokens)),
                         [&] {
                           memref::StoreOp::create(
                               b, arith::SubIOp::create(b, opened, e.i32(1)),
                               segments, ValueRange{row, t});
                         });
              }
              return {arith::AddIOp::create(b, state[0], scan.getTotal())};
            });
      });
  return segments;
}

/// ema_scan's live chunks into `table` ([B, C, D] fp32; chunks past the
/// count are zeroed with `zeroPastCount`, else not written), one thread per
/// (row, feature) walking the chunks in order: kInFlight chunks per trip, their
/// loads issued first, then the steps in order — emaStep on the
/// same values, so the same bits as one chunk at a time.
void emitEmaTable(OpLowering &e, Value input, Value gates, Value counts,
                  double epsilon, Value table, bool zeroPastCount) {
  ImplicitLocOpBuilder &b = e.builder();
  auto type = cast<MemRefType>(table.getType());
  int64_t batch = type.getDimSize(0), chunks = type.getDimSize(1);
  int64_t features = type.getDimSize(2);
  constexpr int64_t kInFlight = 32;
  e.parallelFor({batch, features}, [&](ValueRange iv) {
    Value row = iv[0], d = iv[1];
    Value n = e.loadClampedCount(counts, row, e.index(chunks));
    Value trips = arith::CeilDivUIOp::create(b, n, e.index(kInFlight));
    Value last = arith::SubIOp::create(b, n, e.index(1));
    e.forLoop(
        e.index(0), trips, ValueRange{e.f32(0.0)},
        [&](Value trip, ValueRange s) -> SmallVector<Value> {
          Value base = arith::MulIOp::create(b, trip, e.index(kInFlight));
          SmallVector<Value> live, gate, z;
          for (int64_t u = 0; u < kInFlight; ++u) {
            Value j = arith::AddIOp::create(b, base, e.index(u));
            live.push_back(
                arith::CmpIOp::create(b, arith::CmpIPredicate::slt, j, n));
            // Past the count: chunk n - 1's values, not used.
            Value at = arith::MinUIOp::create(b, j, last);
            gate.push_back(emaGate(b, e, gates, row, at, epsilon));
            z.push_back(e.widenToF32(
                memref::LoadOp::create(b, input, ValueRange{row, at, d})));
          }
          // out[-1] = 0 enters the first step like emaChunk's select.
          Value prev = s[0];
          for (int64_t u = 0; u < kInFlight; ++u) {
            Value next = emaStep(b, e, gate[u], z[u], prev);
            e.ifThen(live[u], [&] {
              memref::StoreOp::create(
                  b, next, table,
                  ValueRange{row, arith::AddIOp::create(b, base, e.index(u)),
                             d});
            });
            prev = arith::SelectOp::create(b, live[u], next, prev);
          }
          return {prev};
        });
    // ema_scan's own output is 0 past the count.
    if (zeroPastCount)
      e.forLoop(n, e.index(chunks), [&](Value j) {
        memref::StoreOp::create(b, e.f32(0.0), table, ValueRange{row, j, d});
      });
  });
}

//===----------------------------------------------------------------------===//
// tok.boundary
//===----------------------------------------------------------------------===//

void lowerBoundary(tok::BoundaryOp op, ImplicitLocOpBuilder &b,
                   LoweringContext &context) {
  OpLowering e(b, context);
  auto type = op.getQueries().getType();
  int64_t batch = type.getDimSize(0), tokens = type.getDimSize(1);
  int64_t features = type.getDimSize(2);
  Value queries = e.toBuffer(op.getQueries());
  Value keys = e.toBuffer(op.getKeys());
  Value lengths = op.getLengths() ? e.toBuffer(op.getLengths()) : Value();
  Value probs = e.allocFor(op.getProbs());
  Value bounds = e.allocFor(op.getBoundaries());

  // Every token is independent: one iteration per (row, token).
  e.parallelFor({batch, tokens}, [&](ValueRange iv) {
    Value row = iv[0], t = iv[1];
    Value len = e.rowLength(lengths, row, tokens);
    {
      Value valid = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, t, len);
      Value isFirst =
          arith::CmpIOp::create(b, arith::CmpIPredicate::eq, t, e.index(0));
      // Padding: p = 0; first token: p = 1; else the routing formula.
      auto ifValid = scf::IfOp::create(b, f32Type(b), valid, true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(ifValid.thenBlock());
        auto ifFirst = scf::IfOp::create(b, f32Type(b), isFirst, true);
        b.setInsertionPointToStart(ifFirst.thenBlock());
        scf::YieldOp::create(b, e.f32(1.0));
        b.setInsertionPointToStart(ifFirst.elseBlock());
        Value prev = arith::SubIOp::create(b, t, e.index(1));
        SmallVector<Value> sums = e.orderedSums(
            e.index(0), e.index(features), 3,
            [&](Value d) -> SmallVector<Value> {
              Value q = e.widenToF32(memref::LoadOp::create(b, queries,
                                                        ValueRange{row, prev, d}));
              Value k = e.widenToF32(memref::LoadOp::create(b, keys, ValueRange{row, t, d}));
              return {arith::MulFOp::create(b, q, k),
                      arith::MulFOp::create(b, q, q),
                      arith::MulFOp::create(b, k, k)};
            });
        // F.normalize semantics: x / max(||x||, 1e-12).
        auto norm = [&](Value squared) -> Value {
          return arith::MaximumFOp::create(
              b, math::SqrtOp::create(b, squared), e.f32(1e-12));
        };
        Value cosine = arith::DivFOp::create(
            b, sums[0], arith::MulFOp::create(b, norm(sums[1]), norm(sums[2])));
        Value p = arith::MulFOp::create(
            b, arith::SubFOp::create(b, e.f32(1.0), cosine), e.f32(0.5));
        p = arith::MinimumFOp::create(
            b, arith::MaximumFOp::create(b, p, e.f32(0.0)), e.f32(1.0));
        scf::YieldOp::create(b, p);
        b.setInsertionPointAfter(ifFirst);
        scf::YieldOp::create(b, ifFirst.getResult(0));
        b.setInsertionPointToStart(ifValid.elseBlock());
        scf::YieldOp::create(b, e.f32(0.0));
      }
      Value p = ifValid.getResult(0);
      Value isBoundary = arith::AndIOp::create(
          b, valid,
          arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, p, e.f32(0.5)));
      memref::StoreOp::create(b, p, probs, ValueRange{row, t});
      memref::StoreOp::create(b, isBoundary, bounds, ValueRange{row, t});
    }
  });
  e.replaceWithBuffer(op.getProbs(), probs);
  e.replaceWithBuffer(op.getBoundaries(), bounds);
}

//===----------------------------------------------------------------------===//
// tok.segment_reduce
//===----------------------------------------------------------------------===//

/// tok.segment_reduce for many threads: each segment start is found by
/// its token (the number of starts up to it is its segment), then one
/// iteration per (row, segment, feature) reduces the segment's tokens in
/// order, as the per-row scan does (same results, bit for bit).
void lowerSegmentReducePerSegment(tok::SegmentReduceOp op,
                                  ImplicitLocOpBuilder &b, Value input,
                                  Value boundaries, Value lengths,
                                  Value output, Value counts) {
  LoopEmitter e(b);
  auto inType = op.getInput().getType();
  int64_t batch = inType.getDimSize(0), tokens = inType.getDimSize(1);
  int64_t features = inType.getDimSize(2);
  int64_t capacity = op.getOutput().getType().getDimSize(1);
  Type element = inType.getElementType();
  tok::SegmentReduction kind = op.getReduction();
  Type indexType = b.getIndexType();

  // First token of each segment, and the number of segments, per row.
  Value firstToken =
      memref::AllocOp::create(b, MemRefType::get({batch, capacity}, indexType));
  Value numSegments =
      memref::AllocOp::create(b, MemRefType::get({batch}, indexType));
  e.parallelFor({batch, tokens}, [&](ValueRange iv) {
    Value row = iv[0], t = iv[1];
    Value len = e.rowLength(lengths, row, tokens);
    Value starts = arith::AndIOp::create(
        b, arith::CmpIOp::create(b, arith::CmpIPredicate::slt, t, len),
        startsSegment(b, e, boundaries, row, t));
    e.ifThen(starts, [&] {
      Value segment = countSegmentStarts(b, e, boundaries, row, t, len);
      e.ifThen(arith::CmpIOp::create(b, arith::CmpIPredicate::slt, segment,
                                     e.index(capacity)),
               [&] {
                 memref::StoreOp::create(b, t, firstToken,
                                         ValueRange{row, segment});
               });
    });
  });
  e.parallelFor(batch, [&](Value row) {
    Value len = e.rowLength(lengths, row, tokens);
    Value opened = countSegmentStarts(b, e, boundaries, row, len, len);
    memref::StoreOp::create(b, opened, numSegments, ValueRange{row});
    memref::StoreOp::create(b, arith::IndexCastOp::create(b, b.getI32Type(),
                                                          opened),
                            counts, ValueRange{row});
  });
  e.parallelFor({batch, capacity, features}, [&](ValueRange iv) {
    Value row = iv[0], slot = iv[1], d = iv[2];
    Value opened = memref::LoadOp::create(b, numSegments, ValueRange{row});
    Value live =
        arith::CmpIOp::create(b, arith::CmpIPredicate::slt, slot, opened);
    auto ifLive = scf::IfOp::create(b, TypeRange{element}, live, true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifLive.thenBlock());
      Value start = memref::LoadOp::create(b, firstToken, ValueRange{row, slot});
      Value first = memref::LoadOp::create(b, input, ValueRange{row, start, d});
      Value result = first;
      if (kind != tok::SegmentReduction::first) {
        Value next = arith::AddIOp::create(b, slot, e.index(1));
        Value isLast =
            arith::CmpIOp::create(b, arith::CmpIPredicate::sge, next, opened);
        // The segment ends where the next starts, or at the row length.
        auto ifLast = scf::IfOp::create(b, TypeRange{indexType}, isLast, true);
        {
          OpBuilder::InsertionGuard inner(b);
          b.setInsertionPointToStart(ifLast.thenBlock());
          scf::YieldOp::create(
              b, ValueRange{e.rowLength(lengths, row, tokens)});
          b.setInsertionPointToStart(ifLast.elseBlock());
          scf::YieldOp::create(
              b, ValueRange{memref::LoadOp::create(b, firstToken,
                                                   ValueRange{row, next})});
        }
        Value end = ifLast.getResult(0);
        Value acc = e.forLoop(
            arith::AddIOp::create(b, start, e.index(1)), end,
            ValueRange{e.widenToF32(first)},
            [&](Value t, ValueRange s) -> SmallVector<Value> {
              Value v = e.widenToF32(
                  memref::LoadOp::create(b, input, ValueRange{row, t, d}));
              return {kind == tok::SegmentReduction::max
                          ? Value(arith::MaximumFOp::create(b, s[0], v))
                          : Value(arith::AddFOp::create(b, s[0], v))};
            })[0];
        if (kind == tok::SegmentReduction::mean) {
          Value size = arith::SubIOp::create(b, end, start);
          Value scale = arith::DivFOp::create(
              b, e.f32(1.0),
              arith::UIToFPOp::create(
                  b, b.getF32Type(),
                  arith::IndexCastOp::create(b, b.getI64Type(), size)));
          acc = arith::MulFOp::create(b, acc, scale);
        }
        result = e.narrowFromF32(acc, element);
      }
      scf::YieldOp::create(b, ValueRange{result});
      b.setInsertionPointToStart(ifLive.elseBlock());
      scf::YieldOp::create(
          b, ValueRange{arith::ConstantOp::create(b, b.getZeroAttr(element))});
    }
    memref::StoreOp::create(b, ifLive.getResult(0), output,
                            ValueRange{row, slot, d});
  });
}

void lowerSegmentReduce(tok::SegmentReduceOp op, ImplicitLocOpBuilder &b,
                        LoweringContext &context, bool perSegment) {
  OpLowering e(b, context);
  auto inType = op.getInput().getType();
  int64_t batch = inType.getDimSize(0), tokens = inType.getDimSize(1);
  int64_t features = inType.getDimSize(2);
  int64_t capacity = op.getOutput().getType().getDimSize(1);
  Type element = inType.getElementType();
  tok::SegmentReduction kind = op.getReduction();

  Value input = e.toBuffer(op.getInput());
  Value boundaries = e.toBuffer(op.getBoundaries());
  Value lengths = op.getLengths() ? e.toBuffer(op.getLengths()) : Value();
  Value output = e.allocFor(op.getOutput());
  Value counts = e.allocFor(op.getCount());
  if (perSegment) {
    lowerSegmentReducePerSegment(op, b, input, boundaries, lengths, output,
                                 counts);
    e.replaceWithBuffer(op.getOutput(), output);
    e.replaceWithBuffer(op.getCount(), counts);
    return;
  }
  // fp32 accumulator of the open segment (unused by `first`).
  Value acc = memref::AllocaOp::create(
      b, MemRefType::get({features}, b.getF32Type()));

  // Closes segment `slot` of `row` holding `size` tokens: writes the pooled
  // accumulator (mean divides once, in fp32).
  auto closeSegment = [&](Value row, Value slot, Value size) {
    if (kind == tok::SegmentReduction::first)
      return;
    Value scale = e.f32(1.0);
    if (kind == tok::SegmentReduction::mean)
      scale = arith::DivFOp::create(
          b, e.f32(1.0),
          arith::UIToFPOp::create(
              b, b.getF32Type(),
              arith::IndexCastOp::create(b, b.getI64Type(), size)));
    e.forLoop(e.index(0), e.index(features), [&](Value d) {
      Value v = memref::LoadOp::create(b, acc, ValueRange{d});
      if (kind == tok::SegmentReduction::mean)
        v = arith::MulFOp::create(b, v, scale);
      memref::StoreOp::create(b, e.narrowFromF32(v, element), output,
                              ValueRange{row, slot, d});
    });
  };

  e.parallelFor(batch, [&](Value row) {
    Value len = e.rowLength(lengths, row, tokens);
    // State: number of segments opened so far, tokens in the open one.
    ValueRange state = e.forLoop(
        e.index(0), len, ValueRange{e.index(0), e.index(0)},
        [&](Value t, ValueRange s) -> SmallVector<Value> {
          Value opened = s[0], size = s[1];
          Value starts = startsSegment(b, e, boundaries, row, t);
          auto ifStart =
              scf::IfOp::create(b, TypeRange{b.getIndexType(), b.getIndexType()},
                                starts, true);
          {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToStart(ifStart.thenBlock());
            // Close the previous segment (if any), then open a new one.
            Value hasOpen = arith::CmpIOp::create(b, arith::CmpIPredicate::sgt,
                                                  opened, e.index(0));
            e.ifThen(hasOpen, [&] {
              closeSegment(row, arith::SubIOp::create(b, opened, e.index(1)),
                           size);
            });
            Value slot = opened;
            e.forLoop(e.index(0), e.index(features), [&](Value d) {
              Value v = memref::LoadOp::create(b, input, ValueRange{row, t, d});
              if (kind == tok::SegmentReduction::first)
                memref::StoreOp::create(b, v, output, ValueRange{row, slot, d});
              else
                memref::StoreOp::create(b, e.widenToF32(v), acc, ValueRange{d});
            });
            scf::YieldOp::create(
                b, ValueRange{arith::AddIOp::create(b, opened, e.index(1)),
                              e.index(1)});
            b.setInsertionPointToStart(ifStart.elseBlock());
            if (kind != tok::SegmentReduction::first) {
              e.forLoop(e.index(0), e.index(features), [&](Value d) {
                Value v = e.widenToF32(memref::LoadOp::create(b, input, ValueRange{row, t, d}));
                Value old = memref::LoadOp::create(b, acc, ValueRange{d});
                Value next =
                    kind == tok::SegmentReduction::max
                        ? Value(arith::MaximumFOp::create(b, old, v))
                        : Value(arith::AddFOp::create(b, old, v));
                memref::StoreOp::create(b, next, acc, ValueRange{d});
              });
            }
            scf::YieldOp::create(
                b, ValueRange{opened, arith::AddIOp::create(b, size, e.index(1))});
          }
          return {ifStart.getResult(0), ifStart.getResult(1)};
        });
    Value opened = state[0], size = state[1];
    Value hasOpen =
        arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, opened, e.index(0));
    e.ifThen(hasOpen, [&] {
      closeSegment(row, arith::SubIOp::create(b, opened, e.index(1)), size);
    });
    Value zero = arith::ConstantOp::create(b, b.getZeroAttr(element));
    e.forLoop(opened, e.index(capacity), [&](Value slot) {
      e.forLoop(e.index(0), e.index(features), [&](Value d) {
        memref::StoreOp::create(b, zero, output, ValueRange{row, slot, d});
      });
    });
    memref::StoreOp::create(
        b, arith::IndexCastOp::create(b, b.getI32Type(), opened), counts,
        ValueRange{row});
  });
  e.replaceWithBuffer(op.getOutput(), output);
  e.replaceWithBuffer(op.getCount(), counts);
}

//===----------------------------------------------------------------------===//
// tok.ema_scan
//===----------------------------------------------------------------------===//

void lowerEmaScan(tok::EmaScanOp op, ImplicitLocOpBuilder &b,
                  LoweringContext &context, bool perFeature) {
  OpLowering e(b, context);
  auto type = op.getInput().getType();
  int64_t batch = type.getDimSize(0), chunks = type.getDimSize(1);
  int64_t features = type.getDimSize(2);
  double epsilon = op.getEpsilon().convertToDouble();
  Value input = e.toBuffer(op.getInput());
  Value gates = e.toBuffer(op.getGates());
  Value counts = e.toBuffer(op.getCount());
  Value output = e.allocFor(op.getOutput());

  // out[j] = g_j z_j + (1 - g_j) out[j-1], out[-1] = 0; zero past the count.
  auto step = [&](Value row, Value j, Value d, Value gate, Value n) {
    Value value = emaChunk(b, e, input, row, j, d, gate, n, [&](Value isFirst) {
      Value prevIndex = arith::SelectOp::create(
          b, isFirst, e.index(0), arith::SubIOp::create(b, j, e.index(1)));
      return memref::LoadOp::create(b, output, ValueRange{row, prevIndex, d})
          .getResult();
    });
    memref::StoreOp::create(b, value, output, ValueRange{row, j, d});
  };
  auto clampedGate = [&](Value row, Value j) {
    return emaGate(b, e, gates, row, j, epsilon);
  };

  if (perFeature && !context.row) {
    // One sequential scan per (row, feature), 32 chunks' loads in flight
    // per step of the walk (emitEmaTable).
    emitEmaTable(e, input, gates, counts, epsilon, output,
                 /*zeroPastCount=*/true);
  } else if (perFeature) {
    // One sequential scan per (row, feature): consecutive threads take
    // consecutive features, so every step's loads and stores coalesce.
    e.parallelFor({batch, features}, [&](ValueRange iv) {
      Value row = iv[0], d = iv[1];
      Value n = e.loadClampedCount(counts, row, e.index(chunks));
      e.forLoop(e.index(0), e.index(chunks), [&](Value j) {
        step(row, j, d, clampedGate(row, j), n);
      });
    });
  } else {
    e.parallelFor(batch, [&](Value row) {
      Value n = e.loadClampedCount(counts, row, e.index(chunks));
      e.forLoop(e.index(0), e.index(chunks), [&](Value j) {
        Value gate = clampedGate(row, j);
        e.forLoop(e.index(0), e.index(features),
                  [&](Value d) { step(row, j, d, gate, n); });
      });
    });
  }
  e.replaceWithBuffer(op.getOutput(), output);
}

//===----------------------------------------------------------------------===//
// tok.expand
//===----------------------------------------------------------------------===//

void lowerExpand(tok::ExpandOp op, ImplicitLocOpBuilder &b,
                 LoweringContext &context, bool perElement) {
  OpLowering e(b, context);
  auto inType = op.getInput().getType();
  auto outType = op.getOutput().getType();
  int64_t batch = inType.getDimSize(0), chunks = inType.getDimSize(1);
  int64_t features = inType.getDimSize(2), tokens = outType.getDimSize(1);
  Type outElement = outType.getElementType();
  Value input = e.toBuffer(op.getInput());
  Value boundaries = e.toBuffer(op.getBoundaries());
  Value lengths = op.getLengths() ? e.toBuffer(op.getLengths()) : Value();
  Value residual = op.getResidual() ? e.toBuffer(op.getResidual()) : Value();
  Value output = e.allocFor(op.getOutput());
  Value zero = arith::ConstantOp::create(b, b.getZeroAttr(outElement));

  // Writes output row t from segment `segment` (zero when `inRange` fails).
  auto writeRow = [&](Value row, Value t, Value segment, Value inRange,
                      llvm::function_ref<void(llvm::function_ref<void(Value)>)>
                          overFeatures) {
    auto ifIn = scf::IfOp::create(b, inRange, true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifIn.thenBlock()->getTerminator());
    overFeatures([&](Value d) {
      Value v = memref::LoadOp::create(b, input, ValueRange{row, segment, d});
      if (residual) {
        Value r = memref::LoadOp::create(b, residual, ValueRange{row, t, d});
        v = e.narrowFromF32(
            arith::AddFOp::create(b, e.widenToF32(v), e.widenToF32(r)),
            outElement);
      }
      memref::StoreOp::create(b, v, output, ValueRange{row, t, d});
    });
    b.setInsertionPoint(ifIn.elseBlock()->getTerminator());
    overFeatures([&](Value d) {
      memref::StoreOp::create(b, zero, output, ValueRange{row, t, d});
    });
  };
  auto isValid = [&](Value t, Value len) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::slt, t, len);
  };
  auto segmentInRange = [&](Value valid, Value segment) {
    return arith::AndIOp::create(
        b, valid,
        arith::CmpIOp::create(b, arith::CmpIPredicate::slt, segment,
                              e.index(chunks)));
  };

  if (perElement) {
    // Each token's segment is the number of segment starts up to it (one
    // O(t) count per token into a [B, L] buffer), then one iteration per
    // output element, features innermost (coalesced).
    // Outside a tok.dispatch the segments come from a block scan per row
    // (emitSegmentIndices) instead.
    Value segments;
    if (!context.row) {
      segments = emitSegmentIndices(e, boundaries, lengths, batch, tokens);
    } else {
      segments = memref::AllocOp::create(
          b, MemRefType::get({batch, tokens}, b.getI32Type()));
      e.parallelFor({batch, tokens}, [&](ValueRange iv) {
        Value row = iv[0], t = iv[1];
        Value len = e.rowLength(lengths, row, tokens);
        Value opened =
            countSegmentStarts(b, e, boundaries, row,
                               arith::AddIOp::create(b, t, e.index(1)), len);
        memref::StoreOp::create(
            b,
            arith::IndexCastOp::create(
                b, b.getI32Type(),
                arith::SubIOp::create(b, opened, e.index(1))),
            segments, ValueRange{row, t});
      });
    }
    auto segmentOf = [&](Value row, Value t) -> Value {
      return arith::IndexCastOp::create(
          b, b.getIndexType(),
          memref::LoadOp::create(b, segments, ValueRange{row, t}));
    };
    // Without a residual every output element is a copy: one 16-byte
    // chunk per iteration when the features are a whole number of them
    // (run-time alignment check, scalar otherwise).
    int64_t width = residual ? 0 : vectorWidth(outElement, features);
    if (width > 0) {
      Value aligned = arith::AndIOp::create(b, isAligned16(e, input),
                                            isAligned16(e, output));
      e.parallelFor({batch, tokens, features / width}, [&](ValueRange iv) {
        Value row = iv[0], t = iv[1];
        Value d = arith::MulIOp::create(b, iv[2], e.index(width));
        Value len = e.rowLength(lengths, row, tokens);
        Value segment = segmentOf(row, t);
        auto ifIn = scf::IfOp::create(
            b, segmentInRange(isValid(t, len), segment), /*withElse=*/true);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(ifIn.thenBlock()->getTerminator());
        copyChunk(e, input, ValueRange{row, segment, d}, output,
                  ValueRange{row, t, d}, width, aligned);
        b.setInsertionPoint(ifIn.elseBlock()->getTerminator());
        fillChunk(e, output, ValueRange{row, t, d}, width, zero, aligned);
      });
    } else {
      e.parallelFor({batch, tokens, features}, [&](ValueRange iv) {
        Value row = iv[0], t = iv[1], d = iv[2];
        Value len = e.rowLength(lengths, row, tokens);
        Value segment = segmentOf(row, t);
        writeRow(row, t, segment, segmentInRange(isValid(t, len), segment),
                 [&](llvm::function_ref<void(Value)> body) { body(d); });
      });
    }
  } else {
    e.parallelFor(batch, [&](Value row) {
      Value len = e.rowLength(lengths, row, tokens);
      // State: the segment index of the previous token, as c(t-1) + 1.
      e.forLoop(
          e.index(0), e.index(tokens), ValueRange{e.index(0)},
          [&](Value t, ValueRange s) -> SmallVector<Value> {
            SegmentStep step =
                segmentStep(b, e, boundaries, row, t, len, s[0]);
            writeRow(row, t, step.segment,
                     segmentInRange(step.valid, step.segment),
                     [&](llvm::function_ref<void(Value)> body) {
                       e.forLoop(e.index(0), e.index(features), body);
                     });
            return {step.opened};
          });
    });
  }
  e.replace(op.getOutput(), e.toTensor(output, outType));
}

//===----------------------------------------------------------------------===//
// tok.ema_scan -> tok.expand, streamed
//===----------------------------------------------------------------------===//

/// The dechunk pair in one sweep over the tokens of each row: when a token
/// opens segment j, the EMA of chunk j is computed from the running value of
/// chunk j - 1 (segments open in order), and every token writes its
/// segment's value plus its residual. The [B, C, D] fp32 EMA tensor is never
/// stored. The arithmetic is the two lowerings' own, in the same order, so
/// results are bit-identical to the unfused pair. On a GPU each (row,
/// feature) is one thread; on a CPU the running values of a row are a
/// [D] fp32 scratch row and features are the inner loop.
void lowerEmaExpand(tok::EmaScanOp ema, tok::ExpandOp expand,
                    ImplicitLocOpBuilder &b, LoweringContext &context) {
  OpLowering e(b, context);
  // The dispatch lowers the pair itself: the target's options pick the form.
  bool perFeature = context.intraRowParallel();
  auto zType = ema.getInput().getType();
  auto outType = expand.getOutput().getType();
  int64_t batch = zType.getDimSize(0), chunks = zType.getDimSize(1);
  int64_t features = zType.getDimSize(2), tokens = outType.getDimSize(1);
  double epsilon = ema.getEpsilon().convertToDouble();
  Type outElement = outType.getElementType();
  Value input = e.toBuffer(ema.getInput());
  Value gates = e.toBuffer(ema.getGates());
  Value counts = e.toBuffer(ema.getCount());
  Value boundaries = e.toBuffer(expand.getBoundaries());
  Value lengths =
      expand.getLengths() ? e.toBuffer(expand.getLengths()) : Value();
  Value residual =
      expand.getResidual() ? e.toBuffer(expand.getResidual()) : Value();
  Value output = e.allocFor(expand.getOutput());
  Value zero = arith::ConstantOp::create(b, b.getZeroAttr(outElement));

  // ema_scan's value of chunk j from the previous chunk's value.
  auto chunkValue = [&](Value row, Value j, Value d, Value n, Value prevValue) {
    return emaChunk(b, e, input, row, j, d,
                    emaGate(b, e, gates, row, j, epsilon), n,
                    [&](Value) { return prevValue; });
  };
  // expand's value of token t from its segment's value.
  auto outputValue = [&](Value row, Value t, Value d, Value segmentValue) {
    if (!residual)
      return segmentValue;
    Value r = memref::LoadOp::create(b, residual, ValueRange{row, t, d});
    return e.narrowFromF32(
        arith::AddFOp::create(b, segmentValue, e.widenToF32(r)), outElement);
  };
  auto segmentInRange = [&](const SegmentStep &step) {
    return arith::AndIOp::create(
        b, step.valid,
        arith::CmpIOp::create(b, arith::CmpIPredicate::slt, step.segment,
                              e.index(chunks)));
  };

  if (perFeature && !context.row) {
    // The GPU outside a tok.dispatch, in three kernels that each expose
    // the parallelism there is; only the EMA itself is sequential (over
    // chunks, per (row, feature)).
    //  1. Each token's segment (emitSegmentIndices).
    Value segments = emitSegmentIndices(e, boundaries, lengths, batch, tokens);
    //  2. The EMA of the live chunks into a [B, C, D] fp32 table
    //     (emitEmaTable).
    Value table = memref::AllocOp::create(
        b, MemRefType::get({batch, chunks, features}, b.getF32Type()));
    emitEmaTable(e, input, gates, counts, epsilon, table,
                 /*zeroPastCount=*/false);
    //  3. Every output element: its token's segment value (0 past the live
    //     chunks, as ema_scan's output) plus the residual; features
    //     innermost (coalesced).
    e.parallelFor({batch, tokens, features}, [&](ValueRange iv) {
      Value row = iv[0], t = iv[1], d = iv[2];
      Value len = e.rowLength(lengths, row, tokens);
      Value n = e.loadClampedCount(counts, row, e.index(chunks));
      Value segment = arith::IndexCastOp::create(
          b, b.getIndexType(),
          memref::LoadOp::create(b, segments, ValueRange{row, t}));
      Value valid = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, t, len);
      Value inRange = arith::AndIOp::create(
          b, valid,
          arith::CmpIOp::create(b, arith::CmpIPredicate::slt, segment,
                                e.index(chunks)));
      auto ifIn = scf::IfOp::create(b, TypeRange{outElement}, inRange, true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(ifIn.thenBlock());
        Value isLive =
            arith::CmpIOp::create(b, arith::CmpIPredicate::slt, segment, n);
        auto ifLive =
            scf::IfOp::create(b, TypeRange{b.getF32Type()}, isLive, true);
        {
          OpBuilder::InsertionGuard inner(b);
          b.setInsertionPointToStart(ifLive.thenBlock());
          scf::YieldOp::create(b, ValueRange{memref::LoadOp::create(
                                      b, table, ValueRange{row, segment, d})});
          b.setInsertionPointToStart(ifLive.elseBlock());
          scf::YieldOp::create(b, ValueRange{e.f32(0.0)});
        }
        scf::YieldOp::create(
            b, ValueRange{outputValue(row, t, d, ifLive.getResult(0))});
        b.setInsertionPointToStart(ifIn.elseBlock());
        scf::YieldOp::create(b, ValueRange{zero});
      }
      memref::StoreOp::create(b, ifIn.getResult(0), output,
                              ValueRange{row, t, d});
    });
  } else if (perFeature) {
    e.parallelFor({batch, features}, [&](ValueRange iv) {
      Value row = iv[0], d = iv[1];
      Value n = e.loadClampedCount(counts, row, e.index(chunks));
      Value len = e.rowLength(lengths, row, tokens);
      // State: segments opened, the value of the open segment.
      e.forLoop(
          e.index(0), e.index(tokens), ValueRange{e.index(0), e.f32(0.0)},
          [&](Value t, ValueRange s) -> SmallVector<Value> {
            SegmentStep step = segmentStep(b, e, boundaries, row, t, len, s[0]);
            Value inRange = segmentInRange(step);
            // A new segment inside the chunk capacity: its EMA value.
            Value advance = arith::AndIOp::create(b, step.starts, inRange);
            auto ifNew = scf::IfOp::create(b, TypeRange{b.getF32Type()},
                                           advance, true);
            {
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPointToStart(ifNew.thenBlock());
              scf::YieldOp::create(
                  b, ValueRange{chunkValue(row, step.segment, d, n, s[1])});
              b.setInsertionPointToStart(ifNew.elseBlock());
              scf::YieldOp::create(b, ValueRange{s[1]});
            }
            Value value = ifNew.getResult(0);
            auto ifIn = scf::IfOp::create(b, TypeRange{outElement}, inRange,
                                          true);
            {
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPointToStart(ifIn.thenBlock());
              scf::YieldOp::create(b,
                                   ValueRange{outputValue(row, t, d, value)});
              b.setInsertionPointToStart(ifIn.elseBlock());
              scf::YieldOp::create(b, ValueRange{zero});
            }
            memref::StoreOp::create(b, ifIn.getResult(0), output,
                                    ValueRange{row, t, d});
            return {step.opened, value};
          });
    });
  } else {
    Value running = memref::AllocaOp::create(
        b, MemRefType::get({features}, b.getF32Type()));
    e.parallelFor(batch, [&](Value row) {
      Value n = e.loadClampedCount(counts, row, e.index(chunks));
      Value len = e.rowLength(lengths, row, tokens);
      e.forLoop(
          e.index(0), e.index(tokens), ValueRange{e.index(0)},
          [&](Value t, ValueRange s) -> SmallVector<Value> {
            SegmentStep step = segmentStep(b, e, boundaries, row, t, len, s[0]);
            Value inRange = segmentInRange(step);
            e.ifThen(arith::AndIOp::create(b, step.starts, inRange), [&] {
              e.forLoop(e.index(0), e.index(features), [&](Value d) {
                Value prev = memref::LoadOp::create(b, running, ValueRange{d});
                memref::StoreOp::create(
                    b, chunkValue(row, step.segment, d, n, prev), running,
                    ValueRange{d});
              });
            });
            auto ifIn = scf::IfOp::create(b, inRange, true);
            {
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPoint(ifIn.thenBlock()->getTerminator());
              e.forLoop(e.index(0), e.index(features), [&](Value d) {
                Value value = memref::LoadOp::create(b, running, ValueRange{d});
                memref::StoreOp::create(b, outputValue(row, t, d, value),
                                        output, ValueRange{row, t, d});
              });
              b.setInsertionPoint(ifIn.elseBlock()->getTerminator());
              e.forLoop(e.index(0), e.index(features), [&](Value d) {
                memref::StoreOp::create(b, zero, output, ValueRange{row, t, d});
              });
            }
            return {step.opened};
          });
    });
  }
  e.replace(expand.getOutput(), e.toTensor(output, outType));
}

/// The ops of this family that have a CPU and a GPU form, in one of them.
void addChunkForms(RewritePatternSet &patterns, const LoweringOptions &options,
                   DispatchRow *row, bool gpuForm) {
  addTokLoweringForm<tok::SegmentReduceOp>(patterns, options, row, gpuForm,
                                           lowerSegmentReduce);
  addTokLoweringForm<tok::EmaScanOp>(patterns, options, row, gpuForm,
                                     lowerEmaScan);
  addTokLoweringForm<tok::ExpandOp>(patterns, options, row, gpuForm,
                                    lowerExpand);
}

} // namespace

LogicalResult lowerStreamedPair(Operation *producer, Operation *consumer,
                                     PatternRewriter &rewriter,
                                     LoweringContext &context) {
  auto ema = dyn_cast<tok::EmaScanOp>(producer);
  auto expand = dyn_cast<tok::ExpandOp>(consumer);
  if (!ema || !expand)
    return producer->emitOpError()
           << "streams into '" << consumer->getName()
           << "', but no lowering sweeps the pair";
  ImplicitLocOpBuilder b(expand.getLoc(), rewriter);
  b.setInsertionPoint(expand);
  lowerEmaExpand(ema, expand, b, context);
  if (failed(replaceLoweredOp(expand, rewriter, context)))
    return failure();
  rewriter.eraseOp(ema);
  return success();
}

void populateChunkToLoopsPatterns(RewritePatternSet &patterns,
                                  const LoweringOptions &options,
                                  DispatchRow *row) {
  addTokLowering<tok::BoundaryOp>(patterns, options, row, lowerBoundary);
  addChunkForms(patterns, options, row, /*gpuForm=*/false);
}

void populateChunkToGpuLoopsPatterns(RewritePatternSet &patterns,
                                     const LoweringOptions &options,
                                     DispatchRow *row) {
  addChunkForms(patterns, options, row, /*gpuForm=*/true);
}

} // namespace winnow
