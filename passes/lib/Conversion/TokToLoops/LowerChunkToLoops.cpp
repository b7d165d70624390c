//===- LowerChunkToLoops.cpp - CPU loops for the chunking ops -------------===//
//
// One loop nest per batch row; every op reads its inputs once and writes its
// outputs once. Segment starts follow the family's rule: position 0 of a
// non-empty row, then every boundary below the row's length.
//
//===----------------------------------------------------------------------===//

#include "LaneGroupSums.h"
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

/// Q_j = (1 - g) Q_{j-1}: ema_scan's decay since its block's first chunk.
Value emaDecay(ImplicitLocOpBuilder &b, LoopEmitter &e, Value gate,
               Value prevDecay) {
  return arith::MulFOp::create(b, arith::SubFOp::create(b, e.f32(1.0), gate),
                               prevDecay);
}

/// zbar_j from its block's parts: L_j in the first block, else
/// Q_j * carry + L_j, carry being zbar at the end of the previous block.
Value emaJoin(ImplicitLocOpBuilder &b, Value inFirstBlock, Value decay,
              Value carry, Value local) {
  Value joined =
      arith::AddFOp::create(b, arith::MulFOp::create(b, decay, carry), local);
  return arith::SelectOp::create(b, inFirstBlock, local, joined);
}

/// Where chunk j lies in ema_scan's blocks of `block` chunks.
struct EmaBlockPosition {
  Value opens;   // j is a block's first chunk
  Value inFirst; // j < block
};
EmaBlockPosition emaBlockPosition(ImplicitLocOpBuilder &b, LoopEmitter &e,
                                  Value j, int64_t block) {
  Value offset = arith::RemUIOp::create(b, j, e.index(block));
  return {e.cmpi(arith::CmpIPredicate::eq, offset, e.index(0)),
          e.cmpi(arith::CmpIPredicate::ult, j, e.index(block))};
}

/// What one (row, feature) carries along a chunk-by-chunk walk of ema_scan's
/// blocked order: L, Q, the previous block's last zbar and zbar itself, all
/// of the chunk before.
struct EmaWalk {
  Value local, decay, carry, zbar;

  static EmaWalk start(LoopEmitter &e) {
    return {e.f32(0.0), e.f32(1.0), e.f32(0.0), e.f32(0.0)};
  }
  static EmaWalk from(ValueRange v) { return {v[0], v[1], v[2], v[3]}; }
  SmallVector<Value> values() const { return {local, decay, carry, zbar}; }
};

/// Chunk j's walk state from chunk j - 1's (the walk starts at chunk 0).
EmaWalk emaWalkStep(ImplicitLocOpBuilder &b, LoopEmitter &e, Value gate,
                    Value z, Value j, int64_t block, const EmaWalk &prev) {
  EmaBlockPosition at = emaBlockPosition(b, e, j, block);
  Value local =
      emaStep(b, e, gate, z,
              arith::SelectOp::create(b, at.opens, e.f32(0.0), prev.local));
  Value decay = emaDecay(
      b, e, gate, arith::SelectOp::create(b, at.opens, e.f32(1.0), prev.decay));
  Value carry = arith::SelectOp::create(b, at.opens, prev.zbar, prev.carry);
  return {local, decay, carry, emaJoin(b, at.inFirst, decay, carry, local)};
}

/// Chunk j of ema_scan's blocked order for every feature of a row at once,
/// for the CPU's feature-inner loops: `decay` is Q_j (the row's, made once
/// per chunk), `localRow` and `carryRow` are [D] f32 scratch holding L and
/// the carry of chunk j - 1, `previous(d)` reads zbar_{j-1} (when a block
/// after the first opens) and `store(d, zbar_j)` writes the result.
void emaChunkAcrossFeatures(
    ImplicitLocOpBuilder &b, LoopEmitter &e, Value input, Value row, Value j,
    int64_t features, Value gate, EmaBlockPosition at, Value decay,
    Value localRow, Value carryRow, llvm::function_ref<Value(Value d)> previous,
    llvm::function_ref<void(Value d, Value zbar)> store) {
  // A block after the first opens: its carry is zbar_{j-1}, once per block.
  e.ifThen(arith::AndIOp::create(b, at.opens, e.notI1(at.inFirst)), [&] {
    e.forLoop(e.index(0), e.index(features), [&](Value d) {
      memref::StoreOp::create(b, previous(d), carryRow, ValueRange{d});
    });
  });
  e.forLoop(e.index(0), e.index(features), [&](Value d) {
    Value z =
        e.widenToF32(memref::LoadOp::create(b, input, ValueRange{row, j, d}));
    Value local =
        emaStep(b, e, gate, z,
                arith::SelectOp::create(
                    b, at.opens, e.f32(0.0),
                    memref::LoadOp::create(b, localRow, ValueRange{d})));
    memref::StoreOp::create(b, local, localRow, ValueRange{d});
    Value carry = memref::LoadOp::create(b, carryRow, ValueRange{d});
    store(d, emaJoin(b, at.inFirst, decay, carry, local));
  });
}

/// The steps [lb, ub) of a sequential walk, in order, with `inFlight`
/// steps' loads in flight: each trip issues the loads of its steps first
/// (`load(i)`; a step past ub - 1 loads step ub - 1's operands, unused),
/// then runs the steps in order (`step(i, operands, state)` returns the new
/// state and may store). The same steps on the same values as a plain loop.
SmallVector<Value> walkInFlight(
    LoopEmitter &e, Value lb, Value ub, int64_t inFlight, ValueRange init,
    llvm::function_ref<SmallVector<Value>(Value)> load,
    llvm::function_ref<SmallVector<Value>(Value, ValueRange, ValueRange)>
        step) {
  ImplicitLocOpBuilder &b = e.builder();
  Value count =
      arith::SelectOp::create(b, e.cmpi(arith::CmpIPredicate::sgt, ub, lb),
                              arith::SubIOp::create(b, ub, lb), e.index(0));
  Value trips = arith::CeilDivUIOp::create(b, count, e.index(inFlight));
  Value last = arith::SubIOp::create(b, ub, e.index(1));
  SmallVector<Type> stateTypes(init.getTypes());
  ValueRange result = e.forLoop(
      e.index(0), trips, init,
      [&](Value trip, ValueRange state) -> SmallVector<Value> {
        Value base = arith::AddIOp::create(
            b, lb, arith::MulIOp::create(b, trip, e.index(inFlight)));
        SmallVector<Value> at;
        SmallVector<SmallVector<Value>> operands;
        for (int64_t u = 0; u < inFlight; ++u) {
          at.push_back(arith::AddIOp::create(b, base, e.index(u)));
          operands.push_back(load(arith::MinUIOp::create(b, at.back(), last)));
        }
        SmallVector<Value> current(state);
        for (int64_t u = 0; u < inFlight; ++u) {
          auto ifLive = scf::IfOp::create(
              b, stateTypes, e.cmpi(arith::CmpIPredicate::slt, at[u], ub),
              true);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ifLive.thenBlock());
          scf::YieldOp::create(b, step(at[u], operands[u], current));
          b.setInsertionPointToStart(ifLive.elseBlock());
          scf::YieldOp::create(b, current);
          current.assign(ifLive.getResults().begin(),
                         ifLive.getResults().end());
        }
        return current;
      });
  return SmallVector<Value>(result);
}

/// ema_scan's blocked order on the GPU, parallel over blocks: `local`
/// ([B, C, D] f32) and `decay` ([B, C] f32) hold L and Q of every live
/// chunk, `carries` ([B, ceil(C / block), D] f32) zbar at the end of each
/// block s - 1 in slot s (slot 0 is 0).
struct EmaBlocks {
  Value local, decay, carries;
  int64_t block;

  /// zbar of live chunk j (index), feature d.
  Value value(ImplicitLocOpBuilder &b, LoopEmitter &e, Value row, Value j,
              Value d) const {
    Value s = arith::DivUIOp::create(b, j, e.index(block));
    return emaJoin(b, e.cmpi(arith::CmpIPredicate::ult, j, e.index(block)),
                   memref::LoadOp::create(b, decay, ValueRange{row, j}),
                   memref::LoadOp::create(b, carries, ValueRange{row, s, d}),
                   memref::LoadOp::create(b, local, ValueRange{row, j, d}));
  }
};

/// Two launches: L and Q of every block, one thread per (row, block,
/// feature) walking its block's live chunks 32 loads ahead; then the carries,
/// one thread per (row, feature) joining the blocks in order (32 blocks'
/// loads ahead).
/// `local` is the [B, C, D] f32 buffer L goes to (chunks past the count are
/// not written).
EmaBlocks emitEmaBlocks(OpLowering &e, Value input, Value gates, Value counts,
                        double epsilon, int64_t block, Value local) {
  ImplicitLocOpBuilder &b = e.builder();
  auto type = cast<MemRefType>(local.getType());
  int64_t batch = type.getDimSize(0), chunks = type.getDimSize(1);
  int64_t features = type.getDimSize(2);
  int64_t numBlocks = llvm::divideCeil(chunks, block);
  constexpr int64_t kInFlight = 32;
  EmaBlocks blocks{
      local,
      memref::AllocOp::create(b,
                              MemRefType::get({batch, chunks}, b.getF32Type())),
      memref::AllocOp::create(
          b, MemRefType::get({batch, numBlocks, features}, b.getF32Type())),
      block};
  // A GPU block per (row, block of chunks, up to 256 features): its first
  // thread also stores Q, which every thread computes alike.
  int64_t kThreads = std::min<int64_t>(256, llvm::alignTo(features, 32));
  int64_t tiles = llvm::divideCeil(features, kThreads);
  e.blockLaunch(
      e.index(batch * numBlocks * tiles), kThreads, {},
      [&](Value id, Value tid, ValueRange) {
        Value row = arith::DivUIOp::create(b, id, e.index(numBlocks * tiles));
        Value s = arith::RemUIOp::create(
            b, arith::DivUIOp::create(b, id, e.index(tiles)),
            e.index(numBlocks));
        Value tile = arith::RemUIOp::create(b, id, e.index(tiles));
        Value d = arith::AddIOp::create(
            b, arith::MulIOp::create(b, tile, e.index(kThreads)), tid);
        Value n = e.loadClampedCount(counts, row, e.index(chunks));
        Value first = arith::MulIOp::create(b, s, e.index(block));
        Value works = arith::AndIOp::create(
            b, e.cmpi(arith::CmpIPredicate::ult, first, n),
            e.cmpi(arith::CmpIPredicate::ult, d, e.index(features)));
        Value storesDecay = e.cmpi(arith::CmpIPredicate::eq, d, e.index(0));
        e.ifThen(works, [&] {
          Value end = arith::MinUIOp::create(
              b, arith::AddIOp::create(b, first, e.index(block)), n);
          walkInFlight(
              e, first, end, std::min(kInFlight, block),
              ValueRange{e.f32(0.0), e.f32(1.0)},
              [&](Value j) -> SmallVector<Value> {
                return {emaGate(b, e, gates, row, j, epsilon),
                        e.widenToF32(memref::LoadOp::create(
                            b, input, ValueRange{row, j, d}))};
              },
              [&](Value j, ValueRange in,
                  ValueRange state) -> SmallVector<Value> {
                Value l = emaStep(b, e, in[0], in[1], state[0]);
                Value q = emaDecay(b, e, in[0], state[1]);
                memref::StoreOp::create(b, l, local, ValueRange{row, j, d});
                e.ifThen(storesDecay, [&] {
                  memref::StoreOp::create(b, q, blocks.decay,
                                          ValueRange{row, j});
                });
                return {l, q};
              });
        });
      });
  e.parallelFor({batch, features}, [&](ValueRange iv) {
    Value row = iv[0], d = iv[1];
    Value n = e.loadClampedCount(counts, row, e.index(chunks));
    Value live = arith::CeilDivUIOp::create(b, n, e.index(block));
    memref::StoreOp::create(b, e.f32(0.0), blocks.carries,
                            ValueRange{row, e.index(0), d});
    // Slot s: zbar of chunk sS - 1, the last of block s - 1.
    walkInFlight(
        e, e.index(1), live, std::min(kInFlight, numBlocks),
        ValueRange{e.f32(0.0)},
        [&](Value s) -> SmallVector<Value> {
          Value j = arith::SubIOp::create(
              b, arith::MulIOp::create(b, s, e.index(block)), e.index(1));
          return {memref::LoadOp::create(b, blocks.decay, ValueRange{row, j}),
                  memref::LoadOp::create(b, local, ValueRange{row, j, d})};
        },
        [&](Value s, ValueRange in, ValueRange state) -> SmallVector<Value> {
          Value zbar =
              emaJoin(b, e.cmpi(arith::CmpIPredicate::eq, s, e.index(1)), in[0],
                      state[0], in[1]);
          memref::StoreOp::create(b, zbar, blocks.carries,
                                  ValueRange{row, s, d});
          return {zbar};
        });
  });
  return blocks;
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
      e.index(batch), kThreads, {}, [&](Value row, Value tid, ValueRange) {
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

//===----------------------------------------------------------------------===//
// tok.boundary
//===----------------------------------------------------------------------===//

/// H-Net's routing probability from <q[t-1], k[t]>, ||q[t-1]||^2 and
/// ||k[t]||^2: (1 - cos) / 2 clamped to [0, 1], F.normalize's floor of
/// 1e-12 on each norm.
Value routingProbability(ImplicitLocOpBuilder &b, LoopEmitter &e,
                         ArrayRef<Value> sums) {
  auto norm = [&](Value squared) -> Value {
    return arith::MaximumFOp::create(b, math::SqrtOp::create(b, squared),
                                     e.f32(1e-12));
  };
  Value cosine = arith::DivFOp::create(
      b, sums[0], arith::MulFOp::create(b, norm(sums[1]), norm(sums[2])));
  Value p = arith::MulFOp::create(
      b, arith::SubFOp::create(b, e.f32(1.0), cosine), e.f32(0.5));
  return arith::MinimumFOp::create(
      b, arith::MaximumFOp::create(b, p, e.f32(0.0)), e.f32(1.0));
}

void lowerBoundary(tok::BoundaryOp op, ImplicitLocOpBuilder &b,
                   LoweringContext &context, bool laneGroups) {
  OpLowering e(b, context);
  auto type = op.getQueries().getType();
  int64_t batch = type.getDimSize(0), tokens = type.getDimSize(1);
  int64_t features = type.getDimSize(2);
  Value queries = e.toBuffer(op.getQueries());
  Value keys = e.toBuffer(op.getKeys());
  Value lengths = op.getLengths() ? e.toBuffer(op.getLengths()) : Value();
  Value probs = e.allocFor(op.getProbs());
  Value bounds = e.allocFor(op.getBoundaries());
  // The three sums of token t > 0 (prev = t - 1), the terms of element d.
  auto terms = [&](Value row, Value t, Value prev,
                   Value d) -> SmallVector<Value> {
    Value q = e.widenToF32(
        memref::LoadOp::create(b, queries, ValueRange{row, prev, d}));
    Value k =
        e.widenToF32(memref::LoadOp::create(b, keys, ValueRange{row, t, d}));
    return {arith::MulFOp::create(b, q, k), arith::MulFOp::create(b, q, q),
            arith::MulFOp::create(b, k, k)};
  };
  // Padding: p = 0; first token: p = 1; else the routing formula.
  auto store = [&](Value row, Value t, Value valid, Value isFirst,
                   Value routed) {
    Value p = arith::SelectOp::create(
        b, valid, arith::SelectOp::create(b, isFirst, e.f32(1.0), routed),
        e.f32(0.0));
    Value isBoundary = arith::AndIOp::create(
        b, valid,
        arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, p, e.f32(0.5)));
    memref::StoreOp::create(b, p, probs, ValueRange{row, t});
    memref::StoreOp::create(b, isBoundary, bounds, ValueRange{row, t});
  };

  if (laneGroups && !context.row) {
    // The GPU: eight threads per token, one lane of orderedSums each
    // (laneGroupSums), so that batch 1 has eight times the threads to share
    // the bandwidth; the group's first thread stores.
    laneGroupLaunch(
        e, batch, tokens, 3, [&](Value row, Value t, const LaneGroup &group) {
          Value len = e.rowLength(lengths, row, tokens);
          Value valid = e.cmpi(arith::CmpIPredicate::ult, t, len);
          Value isFirst = e.cmpi(arith::CmpIPredicate::eq, t, e.index(0));
          Value routes = arith::AndIOp::create(b, valid, e.notI1(isFirst));
          Value prev = arith::SubIOp::create(b, t, e.index(1));
          SmallVector<Value> sums =
              laneGroupSums(e, group.tid, group.scratch, routes, features, 3,
                            [&](Value d) { return terms(row, t, prev, d); });
          e.ifThen(arith::AndIOp::create(b, group.inGrid, group.leads), [&] {
            store(row, t, valid, isFirst, routingProbability(b, e, sums));
          });
        });
    e.replaceWithBuffer(op.getProbs(), probs);
    e.replaceWithBuffer(op.getBoundaries(), bounds);
    return;
  }

  // Every token is independent: one iteration per (row, token).
  e.parallelFor({batch, tokens}, [&](ValueRange iv) {
    Value row = iv[0], t = iv[1];
    Value len = e.rowLength(lengths, row, tokens);
    Value valid = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, t, len);
    Value isFirst =
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, t, e.index(0));
    auto ifRouted = scf::IfOp::create(
        b, f32Type(b), arith::AndIOp::create(b, valid, e.notI1(isFirst)), true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifRouted.thenBlock());
      Value prev = arith::SubIOp::create(b, t, e.index(1));
      SmallVector<Value> sums =
          e.orderedSums(e.index(0), e.index(features), 3,
                        [&](Value d) { return terms(row, t, prev, d); });
      scf::YieldOp::create(b, routingProbability(b, e, sums));
      b.setInsertionPointToStart(ifRouted.elseBlock());
      scf::YieldOp::create(b, e.f32(0.0));
    }
    store(row, t, valid, isFirst, ifRouted.getResult(0));
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
  int64_t block = op.getScanBlockAttr().getInt();
  Value input = e.toBuffer(op.getInput());
  Value gates = e.toBuffer(op.getGates());
  Value counts = e.toBuffer(op.getCount());
  Value output = e.allocFor(op.getOutput());
  auto zeroPastCount = [&](Value row, Value n, Value d) {
    e.forLoop(n, e.index(chunks), [&](Value j) {
      memref::StoreOp::create(b, e.f32(0.0), output, ValueRange{row, j, d});
    });
  };

  if (perFeature && !context.row) {
    // Parallel over blocks (emitEmaBlocks, L into the output), then every
    // element joined in place: zbar, or 0 past the count.
    EmaBlocks blocks =
        emitEmaBlocks(e, input, gates, counts, epsilon, block, output);
    e.parallelFor({batch, chunks, features}, [&](ValueRange iv) {
      Value row = iv[0], j = iv[1], d = iv[2];
      Value n = e.loadClampedCount(counts, row, e.index(chunks));
      auto ifLive =
          scf::IfOp::create(b, TypeRange{b.getF32Type()},
                            e.cmpi(arith::CmpIPredicate::ult, j, n), true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(ifLive.thenBlock());
        scf::YieldOp::create(b, ValueRange{blocks.value(b, e, row, j, d)});
        b.setInsertionPointToStart(ifLive.elseBlock());
        scf::YieldOp::create(b, ValueRange{e.f32(0.0)});
      }
      memref::StoreOp::create(b, ifLive.getResult(0), output,
                              ValueRange{row, j, d});
    });
  } else if (perFeature) {
    // One walk per (row, feature) inside a dispatch row: consecutive threads
    // take consecutive features, so every step's loads and stores coalesce.
    e.parallelFor({batch, features}, [&](ValueRange iv) {
      Value row = iv[0], d = iv[1];
      Value n = e.loadClampedCount(counts, row, e.index(chunks));
      e.forLoop(e.index(0), n, EmaWalk::start(e).values(),
                [&](Value j, ValueRange state) -> SmallVector<Value> {
                  Value z = e.widenToF32(
                      memref::LoadOp::create(b, input, ValueRange{row, j, d}));
                  EmaWalk walk =
                      emaWalkStep(b, e, emaGate(b, e, gates, row, j, epsilon),
                                  z, j, block, EmaWalk::from(state));
                  memref::StoreOp::create(b, walk.zbar, output,
                                          ValueRange{row, j, d});
                  return walk.values();
                });
      zeroPastCount(row, n, d);
    });
  } else {
    // Chunks in order, features innermost; L and the carry of each feature
    // in scratch rows, zbar_{j-1} read back from the output.
    auto scratchType = MemRefType::get({features}, b.getF32Type());
    Value localRow = memref::AllocaOp::create(b, scratchType);
    Value carryRow = memref::AllocaOp::create(b, scratchType);
    e.parallelFor(batch, [&](Value row) {
      Value n = e.loadClampedCount(counts, row, e.index(chunks));
      e.forLoop(e.index(0), n, ValueRange{e.f32(1.0)},
                [&](Value j, ValueRange state) -> SmallVector<Value> {
                  Value gate = emaGate(b, e, gates, row, j, epsilon);
                  EmaBlockPosition at = emaBlockPosition(b, e, j, block);
                  Value decay =
                      emaDecay(b, e, gate,
                               arith::SelectOp::create(b, at.opens, e.f32(1.0),
                                                       state[0]));
                  // Chunk 0 opens the first block: its previous value is
                  // unused.
                  Value before = arith::SubIOp::create(
                      b, arith::MaxUIOp::create(b, j, e.index(1)), e.index(1));
                  emaChunkAcrossFeatures(
                      b, e, input, row, j, features, gate, at, decay, localRow,
                      carryRow,
                      [&](Value d) {
                        return memref::LoadOp::create(
                                   b, output, ValueRange{row, before, d})
                            .getResult();
                      },
                      [&](Value d, Value zbar) {
                        memref::StoreOp::create(b, zbar, output,
                                                ValueRange{row, j, d});
                      });
                  return {decay};
                });
      e.forLoop(n, e.index(chunks), [&](Value j) {
        e.forLoop(e.index(0), e.index(features), [&](Value d) {
          memref::StoreOp::create(b, e.f32(0.0), output, ValueRange{row, j, d});
        });
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

/// The parts the CPU sweeps each row of the dechunk pair in. A lone row
/// (batch 1) splits into runs of whole scan blocks, up to 8, while their
/// carries ([parts, D] f32) fit 32 KiB of stack; with more rows each row is
/// one sweep and rows run in parallel (the row loop is the one that gets
/// the threads, and the split costs a second pass over the live chunks).
int64_t dechunkParts(int64_t rows, int64_t scanBlocks, int64_t features) {
  if (rows != 1)
    return 1;
  int64_t byBytes = 32 * 1024 / (4 * std::max<int64_t>(features, 1));
  return std::min<int64_t>({8, scanBlocks, byBytes});
}

/// The dechunk pair. On a CPU and inside a GPU dispatch row, one sweep over
/// the tokens of each row: when a token opens segment j, the EMA of chunk j
/// is the next step of the walk over ema_scan's blocked order (segments open
/// in order), and every token writes its segment's value plus its
/// residual; the [B, C, D] fp32 EMA tensor is never stored. A GPU launch of
/// its own scans the blocks in parallel instead (a table of L). The
/// arithmetic is the two lowerings' own, in the same order, so results are
/// bit-identical to the unfused pair. On a GPU each (row, feature) is one
/// thread; on a CPU L, the carry and zbar of a row are [D] fp32 scratch
/// rows and features are the inner loop.
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
  int64_t block = ema.getScanBlockAttr().getInt();
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
    // The GPU outside a tok.dispatch, in four kernels that each expose
    // the parallelism there is.
    //  1. Each token's segment (emitSegmentIndices).
    Value segments = emitSegmentIndices(e, boundaries, lengths, batch, tokens);
    //  2-3. L and Q of the live chunks, parallel over blocks, then the
    //     carries (emitEmaBlocks).
    EmaBlocks blocks = emitEmaBlocks(
        e, input, gates, counts, epsilon, block,
        memref::AllocOp::create(
            b, MemRefType::get({batch, chunks, features}, b.getF32Type())));
    //  4. Every output element: its token's segment value (0 past the live
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
          scf::YieldOp::create(b,
                               ValueRange{blocks.value(b, e, row, segment, d)});
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
      // State: segments opened, then the EMA walk; its zbar is the open
      // segment's value (0 past the live chunks, where the walk stops).
      SmallVector<Value> init = {e.index(0)};
      llvm::append_range(init, EmaWalk::start(e).values());
      e.forLoop(
          e.index(0), e.index(tokens), init,
          [&](Value t, ValueRange s) -> SmallVector<Value> {
            SegmentStep step = segmentStep(b, e, boundaries, row, t, len, s[0]);
            Value inRange = segmentInRange(step);
            EmaWalk walk = EmaWalk::from(s.drop_front());
            SmallVector<Type> walkTypes(4, b.getF32Type());
            // A new segment inside the chunk capacity: the walk's next step.
            Value advance = arith::AndIOp::create(b, step.starts, inRange);
            auto ifNew = scf::IfOp::create(b, walkTypes, advance, true);
            {
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPointToStart(ifNew.thenBlock());
              Value j = step.segment;
              auto ifLive = scf::IfOp::create(
                  b, walkTypes, e.cmpi(arith::CmpIPredicate::ult, j, n), true);
              {
                OpBuilder::InsertionGuard inner(b);
                b.setInsertionPointToStart(ifLive.thenBlock());
                Value z = e.widenToF32(
                    memref::LoadOp::create(b, input, ValueRange{row, j, d}));
                scf::YieldOp::create(
                    b, emaWalkStep(b, e, emaGate(b, e, gates, row, j, epsilon),
                                   z, j, block, walk)
                           .values());
                b.setInsertionPointToStart(ifLive.elseBlock());
                scf::YieldOp::create(b, ValueRange{walk.local, walk.decay,
                                                   walk.carry, e.f32(0.0)});
              }
              scf::YieldOp::create(b, ifLive.getResults());
              b.setInsertionPointToStart(ifNew.elseBlock());
              scf::YieldOp::create(b, walk.values());
            }
            walk = EmaWalk::from(ifNew.getResults());
            auto ifIn = scf::IfOp::create(b, TypeRange{outElement}, inRange,
                                          true);
            {
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPointToStart(ifIn.thenBlock());
              scf::YieldOp::create(
                  b, ValueRange{outputValue(row, t, d, walk.zbar)});
              b.setInsertionPointToStart(ifIn.elseBlock());
              scf::YieldOp::create(b, ValueRange{zero});
            }
            memref::StoreOp::create(b, ifIn.getResult(0), output,
                                    ValueRange{row, t, d});
            SmallVector<Value> next = {step.opened};
            llvm::append_range(next, walk.values());
            return next;
          });
    });
  } else {
    // Per feature: zbar of the open segment, L and the carry (scratch).
    auto scratchType = MemRefType::get({features}, b.getF32Type());
    struct Walk {
      Value running, localRow, carryRow;
    };
    auto newWalk = [&] {
      return Walk{memref::AllocaOp::create(b, scratchType),
                  memref::AllocaOp::create(b, scratchType),
                  memref::AllocaOp::create(b, scratchType)};
    };
    // Chunk j (live) after chunk j - 1 for every feature; returns Q_j.
    auto walkChunk = [&](const Walk &w, Value row, Value j, Value prevDecay) {
      Value gate = emaGate(b, e, gates, row, j, epsilon);
      EmaBlockPosition at = emaBlockPosition(b, e, j, block);
      Value decay =
          emaDecay(b, e, gate,
                   arith::SelectOp::create(b, at.opens, e.f32(1.0), prevDecay));
      emaChunkAcrossFeatures(
          b, e, input, row, j, features, gate, at, decay, w.localRow,
          w.carryRow,
          [&](Value d) {
            return memref::LoadOp::create(b, w.running, ValueRange{d})
                .getResult();
          },
          [&](Value d, Value zbar) {
            memref::StoreOp::create(b, zbar, w.running, ValueRange{d});
          });
      return decay;
    };
    // Tokens [lb, ub) of `row`, `opened` segments opened before lb, `decay`
    // Q of the open segment's chunk: each writes its segment's value (the
    // walk's next step when it opens one) plus its residual.
    auto sweepTokens = [&](const Walk &w, Value row, Value n, Value len,
                           Value lb, Value ub, Value opened, Value decay) {
      e.forLoop(
          lb, ub, ValueRange{opened, decay},
          [&](Value t, ValueRange s) -> SmallVector<Value> {
            SegmentStep step = segmentStep(b, e, boundaries, row, t, len, s[0]);
            Value inRange = segmentInRange(step);
            Value j = step.segment;
            Value opens = arith::AndIOp::create(b, step.starts, inRange);
            Value live = arith::AndIOp::create(
                b, opens, e.cmpi(arith::CmpIPredicate::ult, j, n));
            auto ifLive =
                scf::IfOp::create(b, TypeRange{b.getF32Type()}, live, true);
            {
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPointToStart(ifLive.thenBlock());
              scf::YieldOp::create(b, ValueRange{walkChunk(w, row, j, s[1])});
              b.setInsertionPointToStart(ifLive.elseBlock());
              scf::YieldOp::create(b, ValueRange{s[1]});
            }
            // A segment past the live chunks (and every later one) is 0.
            e.ifThen(
                arith::AndIOp::create(
                    b, opens, e.notI1(e.cmpi(arith::CmpIPredicate::ult, j, n))),
                [&] {
                  e.forLoop(e.index(0), e.index(features), [&](Value d) {
                    memref::StoreOp::create(b, e.f32(0.0), w.running,
                                            ValueRange{d});
                  });
                });
            auto ifIn = scf::IfOp::create(b, inRange, true);
            {
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPoint(ifIn.thenBlock()->getTerminator());
              e.forLoop(e.index(0), e.index(features), [&](Value d) {
                Value value =
                    memref::LoadOp::create(b, w.running, ValueRange{d});
                memref::StoreOp::create(b, outputValue(row, t, d, value),
                                        output, ValueRange{row, t, d});
              });
              b.setInsertionPoint(ifIn.elseBlock()->getTerminator());
              e.forLoop(e.index(0), e.index(features), [&](Value d) {
                memref::StoreOp::create(b, zero, output, ValueRange{row, t, d});
              });
            }
            return {step.opened, ifLive.getResult(0)};
          });
    };

    int64_t rows = context.batchRows(batch);
    int64_t scanBlocks = llvm::divideCeil(chunks, block);
    int64_t parts = dechunkParts(rows, scanBlocks, features);
    if (parts < 2) {
      // One sequential sweep per row; rows run in parallel.
      Walk w = newWalk();
      e.parallelFor(batch, [&](Value row) {
        sweepTokens(w, row, e.loadClampedCount(counts, row, e.index(chunks)),
                    e.rowLength(lengths, row, tokens), e.index(0),
                    e.index(tokens), e.index(0), e.f32(1.0));
      });
    } else {
      // A single row's tokens in `parts` parts, each a run of whole scan
      // blocks, that threads sweep in parallel. A part starts where its
      // first block's first segment opens, from the zbar that ends the
      // block before, which one sequential walk over the live chunks
      // records first: the same operations on the same values as the
      // single sweep, so the same bits.
      Walk chunkWalk = newWalk();
      Walk partWalk = newWalk();
      // starts[s]: the token that opens block s's first segment
      // (starts[scanBlocks]: segment `chunks`), or len if none does.
      Value starts = memref::AllocaOp::create(
          b, MemRefType::get({scanBlocks + 1}, b.getIndexType()));
      // carries[p]: zbar of the chunk before part p's first block.
      Value carries = memref::AllocaOp::create(
          b, MemRefType::get({parts, features}, b.getF32Type()));
      assert(batch == 1 && "only a lone row is split into parts");
      {
        Value row = e.index(0);
        Value n = e.loadClampedCount(counts, row, e.index(chunks));
        Value len = e.rowLength(lengths, row, tokens);
        Value liveBlocks = arith::CeilDivUIOp::create(b, n, e.index(block));
        // Part p's first block: p * liveBlocks / parts.
        auto firstBlock = [&](Value p) {
          return arith::DivUIOp::create(
              b, arith::MulIOp::create(b, p, liveBlocks), e.index(parts));
        };
        e.forLoop(e.index(0), e.index(scanBlocks + 1), [&](Value s) {
          memref::StoreOp::create(b, len, starts, ValueRange{s});
        });
        e.forLoop(e.index(0), len, ValueRange{e.index(0)},
                  [&](Value t, ValueRange s) -> SmallVector<Value> {
                    SegmentStep step =
                        segmentStep(b, e, boundaries, row, t, len, s[0]);
                    Value j = step.segment;
                    Value pastCapacity =
                        e.cmpi(arith::CmpIPredicate::eq, j, e.index(chunks));
                    Value blockFirst = arith::OrIOp::create(
                        b,
                        e.cmpi(arith::CmpIPredicate::eq,
                               arith::RemUIOp::create(b, j, e.index(block)),
                               e.index(0)),
                        pastCapacity);
                    Value record = arith::AndIOp::create(
                        b, arith::AndIOp::create(b, step.starts, blockFirst),
                        e.cmpi(arith::CmpIPredicate::ule, j, e.index(chunks)));
                    e.ifThen(record, [&] {
                      Value slot = arith::SelectOp::create(
                          b, pastCapacity, e.index(scanBlocks),
                          arith::DivUIOp::create(b, j, e.index(block)));
                      memref::StoreOp::create(b, t, starts, ValueRange{slot});
                    });
                    return {step.opened};
                  });
        // The carries, walking the live chunks part by part.
        e.forLoop(
            e.index(1), e.index(parts), ValueRange{e.index(0), e.f32(1.0)},
            [&](Value p, ValueRange s) -> SmallVector<Value> {
              Value end = arith::MinUIOp::create(
                  b, arith::MulIOp::create(b, firstBlock(p), e.index(block)),
                  n);
              Value decay =
                  e.forLoop(s[0], end, ValueRange{s[1]},
                            [&](Value j, ValueRange d) -> SmallVector<Value> {
                              return {walkChunk(chunkWalk, row, j, d[0])};
                            })[0];
              e.forLoop(e.index(0), e.index(features), [&](Value d) {
                memref::StoreOp::create(
                    b,
                    memref::LoadOp::create(b, chunkWalk.running, ValueRange{d}),
                    carries, ValueRange{p, d});
              });
              Value next = arith::MaxUIOp::create(b, end, s[0]).getResult();
              return {next, decay};
            });
        e.parallelFor(parts, [&](Value p) {
          Value first = firstBlock(p);
          Value next = firstBlock(arith::AddIOp::create(b, p, e.index(1)));
          Value isFirst = e.cmpi(arith::CmpIPredicate::eq, p, e.index(0));
          Value isLast =
              e.cmpi(arith::CmpIPredicate::eq, p, e.index(parts - 1));
          Value lb = arith::SelectOp::create(
              b, isFirst, e.index(0),
              memref::LoadOp::create(b, starts, ValueRange{first}));
          Value ub = arith::SelectOp::create(
              b, isLast, e.index(tokens),
              memref::LoadOp::create(b, starts, ValueRange{next}));
          Value opened = arith::MinUIOp::create(
              b, arith::MulIOp::create(b, first, e.index(block)),
              e.index(chunks));
          e.ifThen(e.cmpi(arith::CmpIPredicate::ugt, first, e.index(0)), [&] {
            e.forLoop(e.index(0), e.index(features), [&](Value d) {
              memref::StoreOp::create(
                  b, memref::LoadOp::create(b, carries, ValueRange{p, d}),
                  partWalk.running, ValueRange{d});
            });
          });
          sweepTokens(partWalk, row, n, len, lb, ub, opened, e.f32(1.0));
        });
      }
    }
  }
  e.replace(expand.getOutput(), e.toTensor(output, outType));
}

/// The ops of this family that have a CPU and a GPU form, in one of them.
void addChunkForms(RewritePatternSet &patterns, const LoweringOptions &options,
                   DispatchRow *row, bool gpuForm) {
  addTokLoweringForm<tok::BoundaryOp>(patterns, options, row, gpuForm,
                                      lowerBoundary);
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
  addChunkForms(patterns, options, row, /*gpuForm=*/false);
}

void populateChunkToGpuLoopsPatterns(RewritePatternSet &patterns,
                                     const LoweringOptions &options,
                                     DispatchRow *row) {
  addChunkForms(patterns, options, row, /*gpuForm=*/true);
}

} // namespace winnow
