//===- LowerMergeToLoops.cpp - CPU loops for the merging ops --------------===//
//
// bipartite_plan keeps a running (max, argmax) per A token, so the A x B
// similarity matrix is never stored; scatter_merge accumulates each output
// row in fp32 in ascending token order (deterministic, no atomics).
//
//===----------------------------------------------------------------------===//

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

/// One member `v` (fp32, weight `w`) folded into an fp32 accumulator: the
/// maximum for amax, w v added for weighted_mean, v added otherwise.
Value accumulate(ImplicitLocOpBuilder &b, tok::MergeReduction kind, Value acc,
                 Value w, Value v) {
  if (kind == tok::MergeReduction::amax)
    return arith::MaximumFOp::create(b, acc, v);
  if (kind == tok::MergeReduction::weighted_mean)
    return arith::AddFOp::create(b, acc, arith::MulFOp::create(b, w, v));
  return arith::AddFOp::create(b, acc, v);
}

//===----------------------------------------------------------------------===//
// tok.bipartite_plan
//===----------------------------------------------------------------------===//

void lowerBipartitePlan(tok::BipartitePlanOp op, ImplicitLocOpBuilder &b,
                        LoweringContext &context, bool splitPhases) {
  OpLowering e(b, context);
  auto type = op.getMetric().getType();
  int64_t batch = type.getDimSize(0), tokens = type.getDimSize(1);
  int64_t features = type.getDimSize(2);
  // B = every `stride`-th token (stride - 1, 2 stride - 1, ...), A = the rest.
  int64_t stride = op.getStrideAttr().getInt();
  int64_t numB = tokens / stride, numA = tokens - numB;
  bool classToken = op.getClassToken(), distillToken = op.getDistillToken();
  std::optional<double> threshold;
  if (op.getThreshold())
    threshold = op.getThreshold()->convertToDouble();
  int64_t effectiveR = op.getEffectiveR();

  Value metric = e.toBuffer(op.getMetric());
  Value parent = e.allocFor(op.getParent());
  Value counts = e.allocFor(op.getCount());
  Type f32 = b.getF32Type(), i32 = b.getI32Type();

  // A fixed r that rounds to nothing is the identity: no similarity work.
  if (!threshold && effectiveR == 0) {
    e.parallelFor(batch, [&](Value row) {
      e.forLoop(e.index(0), e.index(tokens), [&](Value i) {
        memref::StoreOp::create(
            b, arith::IndexCastOp::create(b, i32, i), parent, ValueRange{row, i});
      });
      memref::StoreOp::create(b, e.i32(tokens), counts, ValueRange{row});
    });
    e.replaceWithBuffer(op.getParent(), parent);
    e.replaceWithBuffer(op.getCount(), counts);
    return;
  }

  // Per-row scratch: inverse norms of every token, best key and destination
  // of every A token, and each A token's rank.
  RowScratch scratch{e, batch, splitPhases};
  Value invNorm = scratch.alloc(tokens, f32);
  Value bestKey = scratch.alloc(numA, i32);
  Value bestDst = scratch.alloc(numA, i32);
  Value rank = scratch.alloc(numA, i32);
  auto at = [&](Value row, Value i) { return scratch.at(row, i); };
  int64_t firstDst = distillToken ? 1 : 0;
  // The token of the a-th A token and of the b-th B token.
  auto tokenOfA = [&](Value a) -> Value {
    Value group = arith::DivUIOp::create(b, a, e.index(stride - 1));
    Value within = arith::RemUIOp::create(b, a, e.index(stride - 1));
    return arith::AddIOp::create(
        b, arith::MulIOp::create(b, group, e.index(stride)), within);
  };
  auto tokenOfB = [&](Value bi) -> Value {
    return arith::AddIOp::create(b, arith::MulIOp::create(b, bi, e.index(stride)),
                                 e.index(stride - 1));
  };

  // The three heavy phases, per token or per A token. On the GPU each is
  // its own parallel loop over every row (scratch in [B, ...] buffers);
  // on the CPU they run in order inside the row loop (scratch on the
  // stack).
  // Norms and dot products over the feature axis (orderedRowSums: 16-byte
  // rounds when the metric is aligned).
  auto normPhase = [&](Value row, Value i) {
    memref::StoreOp::create(b, inverseNorm(e, {metric, {row, i}}, features),
                            invNorm, at(row, i));
  };
  // S[a, b] for A token `tokA` and the bi-th B token.
  auto similarity = [&](Value row, Value tokA, Value bi) -> Value {
    Value tokB = tokenOfB(bi);
    Value dot = orderedRowDot(e, {metric, {row, tokA}}, {metric, {row, tokB}},
                              features);
    return arith::MulFOp::create(
        b, dot,
        arith::MulFOp::create(
            b, memref::LoadOp::create(b, invNorm, at(row, tokA)),
            memref::LoadOp::create(b, invNorm, at(row, tokB))));
  };
  // The running best (value, B index) over bi = from, from + step, ...:
  // only a strictly greater similarity replaces it (NaN never does).
  auto runningBest = [&](Value row, Value tokA, Value from, int64_t step,
                         Value init) {
    return e.forLoop(
        from, e.index(numB), e.index(step), ValueRange{e.f32(-INFINITY), init},
        [&](Value bi, ValueRange s) -> SmallVector<Value> {
          Value sim = similarity(row, tokA, bi);
          Value better =
              arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, sim, s[0]);
          return {arith::SelectOp::create(b, better, sim, s[0]),
                  arith::SelectOp::create(b, better, bi, s[1])};
        });
  };
  // A token a's best as its rank key (the class token last) and its match.
  auto storeBest = [&](Value row, Value a, Value bestValue, Value bestIndex) {
    Value key = emitOrderKey(b, bestValue, tok::NanPolicy::as_neg_inf);
    if (classToken) {
      // Key 0 is below every float's key (-inf and NaN included), so the
      // class token always ranks last and is never a source.
      Value isClass =
          arith::CmpIOp::create(b, arith::CmpIPredicate::eq, a, e.index(0));
      key = arith::SelectOp::create(b, isClass, e.i32(0), key);
    }
    memref::StoreOp::create(b, key, bestKey, at(row, a));
    memref::StoreOp::create(b, arith::IndexCastOp::create(b, i32, bestIndex),
                            bestDst, at(row, a));
  };
  auto bestPhase = [&](Value row, Value a) {
    ValueRange best =
        runningBest(row, tokenOfA(a), e.index(firstDst), 1, e.index(firstDst));
    storeBest(row, a, best[0], best[1]);
  };
  auto rankPhase = [&](Value row, Value a) {
      Value key = memref::LoadOp::create(b, bestKey, at(row, a));
      Value r = e.forLoop(
          e.index(0), e.index(numA), ValueRange{e.i32(0)},
          [&](Value other, ValueRange s) -> SmallVector<Value> {
            Value otherKey = memref::LoadOp::create(b, bestKey, at(row, other));
            Value before = emitRanksBefore(b, otherKey, key, other, a);
            return {arith::AddIOp::create(b, s[0],
                                          arith::ExtUIOp::create(b, i32, before))};
          })[0];
      memref::StoreOp::create(b, r, rank, at(row, a));
  };
  if (splitPhases && !context.row) {
    // The norms: eight threads per token, one lane of the ordered sum of
    // squares each (laneGroupSums), so that a batch of one image has the
    // threads to use the bandwidth.
    laneGroupLaunch(
        e, batch, tokens, 1, [&](Value row, Value i, const LaneGroup &group) {
          Value squares =
              laneGroupSums(e, group.tid, group.scratch, group.inGrid, features,
                            1, [&](Value d) -> SmallVector<Value> {
                              Value x = e.widenToF32(memref::LoadOp::create(
                                  b, metric, ValueRange{row, i, d}));
                              return {arith::MulFOp::create(b, x, x)};
                            })[0];
          e.ifThen(arith::AndIOp::create(b, group.inGrid, group.leads), [&] {
            memref::StoreOp::create(b, inverseNormOfSquares(e, squares),
                                    invNorm, at(row, i));
          });
        });
  } else if (splitPhases) {
    e.parallelFor({batch, tokens},
                  [&](ValueRange iv) { normPhase(iv[0], iv[1]); });
  }
  if (splitPhases) {
    if (!context.row) {
      // A warp per A token, or a block of eight warps when the A tokens of
      // the batch are too few to fill the GPU with warps: lane l takes the
      // B tokens firstDst + l, firstDst + l + lanes, ... in order, and an
      // argmax over the warp or block (the larger value, ties to the lower
      // index) combines the lanes: the first maximal B token, as the
      // sequential scan finds it. A lane without a better similarity than
      // -inf offers (-inf, firstDst), which is the sequential scan's answer
      // when no lane has one.
      constexpr int64_t kThreads = 256, kWarp = 32, kFillingWarps = 4096;
      int64_t lanesPerA = batch * numA >= kFillingWarps ? kWarp : kThreads;
      int64_t perBlock = kThreads / lanesPerA;
      int64_t blocksPerRow =
          std::max<int64_t>(llvm::divideCeil(numA, perBlock), 1);
      e.blockLaunch(
          e.index(batch * blocksPerRow), kThreads, {},
          [&](Value block, Value tid, ValueRange) {
            Value row = arith::DivUIOp::create(b, block, e.index(blocksPerRow));
            Value a = arith::AddIOp::create(
                b,
                arith::MulIOp::create(
                    b, arith::RemUIOp::create(b, block, e.index(blocksPerRow)),
                    e.index(perBlock)),
                arith::DivUIOp::create(b, tid, e.index(lanesPerA)));
            Value lane = arith::RemUIOp::create(b, tid, e.index(lanesPerA));
            Value isA = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, a,
                                              e.index(numA));
            Value safeA = arith::MinUIOp::create(
                b, a, e.index(std::max<int64_t>(numA - 1, 0)));
            ValueRange mine =
                runningBest(row, tokenOfA(safeA),
                            arith::AddIOp::create(b, e.index(firstDst), lane),
                            lanesPerA, e.index(firstDst));
            Value mineIndex = arith::IndexCastOp::create(b, i32, mine[1]);
            Operation *best =
                lanesPerA == kWarp
                    ? collective::WarpArgMaxOp::create(b, b.getF32Type(), i32,
                                                       mine[0], mineIndex)
                          .getOperation()
                    : collective::BlockArgMaxOp::create(b, b.getF32Type(), i32,
                                                        mine[0], mineIndex)
                          .getOperation();
            e.ifThen(arith::AndIOp::create(
                         b, isA,
                         arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                                               lane, e.index(0))),
                     [&] {
                       storeBest(row, safeA, best->getResult(0),
                                 arith::IndexCastOp::create(
                                     b, b.getIndexType(), best->getResult(1)));
                     });
          });
    } else {
      e.parallelFor({batch, numA},
                    [&](ValueRange iv) { bestPhase(iv[0], iv[1]); });
    }
    if (context.row)
      e.parallelFor({batch, numA},
                    [&](ValueRange iv) { rankPhase(iv[0], iv[1]); });
  }
  // Sources are a prefix of the rank order: the first r', or every best
  // above the threshold.
  auto numSourcesOf = [&](Value row) -> Value {
    if (!threshold)
      return e.i32(effectiveR);
    uint32_t tauKey =
        orderKey(static_cast<float>(*threshold), tok::NanPolicy::as_neg_inf);
    return e.forLoop(
        e.index(0), e.index(numA), ValueRange{e.i32(0)},
        [&](Value a, ValueRange s) -> SmallVector<Value> {
          Value key = memref::LoadOp::create(b, bestKey, at(row, a));
          Value above =
              arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, key,
                                    e.i32(static_cast<int32_t>(tauKey)));
          return {arith::AddIOp::create(b, s[0],
                                        arith::ExtUIOp::create(b, i32, above))};
        })[0];
  };
  // Output slots: unmerged A first (rank order, or index order with a
  // class token), then every B token in order. A source goes to its
  // destination's slot; `unmergedSlot` is where A token a goes otherwise.
  auto placeA = [&](Value row, Value a, Value numSources, Value unmergedSlot) {
    Value numUnmerged = arith::SubIOp::create(b, e.i32(numA), numSources);
    Value r = memref::LoadOp::create(b, rank, at(row, a));
    Value isSource =
        arith::CmpIOp::create(b, arith::CmpIPredicate::slt, r, numSources);
    if (!unmergedSlot)
      unmergedSlot = arith::SubIOp::create(b, r, numSources);
    Value dst = memref::LoadOp::create(b, bestDst, at(row, a));
    Value mergedSlot = arith::AddIOp::create(b, numUnmerged, dst);
    memref::StoreOp::create(
        b, arith::SelectOp::create(b, isSource, mergedSlot, unmergedSlot),
        parent, ValueRange{row, tokenOfA(a)});
    return isSource;
  };
  auto placeB = [&](Value row, Value bi, Value numSources) {
    Value numUnmerged = arith::SubIOp::create(b, e.i32(numA), numSources);
    memref::StoreOp::create(
        b,
        arith::AddIOp::create(b, numUnmerged,
                              arith::IndexCastOp::create(b, i32, bi)),
        parent, ValueRange{row, tokenOfB(bi)});
  };
  auto storeCount = [&](Value row, Value numSources) {
    memref::StoreOp::create(
        b, arith::SubIOp::create(b, e.i32(numA + numB), numSources), counts,
        ValueRange{row});
  };
  // Every token's slot from the ranks alone. With a class token an unmerged
  // A token's slot is the number of unmerged A tokens before it, counted
  // over the row like its rank.
  auto placeToken = [&](Value row, Value token, Value numSources) {
    Value group = arith::DivUIOp::create(b, token, e.index(stride));
    Value within = arith::RemUIOp::create(b, token, e.index(stride));
    Value isB = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, within,
                                      e.index(stride - 1));
    auto ifB = scf::IfOp::create(b, isB, /*withElse=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifB.thenBlock()->getTerminator());
    placeB(row, group, numSources);
    b.setInsertionPoint(ifB.elseBlock()->getTerminator());
    Value a = arith::AddIOp::create(
        b, arith::MulIOp::create(b, group, e.index(stride - 1)), within);
    Value unmergedSlot;
    if (classToken)
      unmergedSlot = e.forLoop(
          e.index(0), a, ValueRange{e.i32(0)},
          [&](Value other, ValueRange s) -> SmallVector<Value> {
            Value stays = arith::CmpIOp::create(
                b, arith::CmpIPredicate::sge,
                memref::LoadOp::create(b, rank, at(row, other)), numSources);
            return {arith::AddIOp::create(
                b, s[0], arith::ExtUIOp::create(b, i32, stays))};
          })[0];
    placeA(row, a, numSources, unmergedSlot);
  };
  if (splitPhases && !context.row) {
    // A block per row: the ranks, then every token's slot and the count
    // (one launch instead of three).
    e.blockLaunch(
        e.index(batch), kRowThreads, {}, [&](Value row, Value tid, ValueRange) {
          blockFor(e, tid, e.index(0), e.index(numA),
                   [&](Value a) { rankPhase(row, a); });
          collective::BlockBarrierOp::create(b);
          Value numSources = numSourcesOf(row);
          blockFor(e, tid, e.index(0), e.index(tokens),
                   [&](Value token) { placeToken(row, token, numSources); });
          onFirstThread(e, tid, [&] { storeCount(row, numSources); });
        });
  } else if (splitPhases) {
    e.parallelFor({batch, tokens}, [&](ValueRange iv) {
      placeToken(iv[0], iv[1], numSourcesOf(iv[0]));
    });
    e.parallelFor(batch,
                  [&](Value row) { storeCount(row, numSourcesOf(row)); });
  } else {
    e.parallelFor(batch, [&](Value row) {
      e.forLoop(e.index(0), e.index(tokens),
                [&](Value i) { normPhase(row, i); });
      e.forLoop(e.index(0), e.index(numA),
                [&](Value a) { bestPhase(row, a); });
      e.forLoop(e.index(0), e.index(numA),
                [&](Value a) { rankPhase(row, a); });
      Value numSources = numSourcesOf(row);
      e.forLoop(e.index(0), e.index(numA), ValueRange{e.i32(0)},
                [&](Value a, ValueRange s) -> SmallVector<Value> {
                  Value isSource =
                      placeA(row, a, numSources, classToken ? s[0] : Value());
                  Value stays =
                      arith::ExtUIOp::create(b, i32, e.notI1(isSource));
                  return {arith::AddIOp::create(b, s[0], stays)};
                });
      e.forLoop(e.index(0), e.index(numB),
                [&](Value bi) { placeB(row, bi, numSources); });
      storeCount(row, numSources);
    });
  }
  e.replaceWithBuffer(op.getParent(), parent);
  e.replaceWithBuffer(op.getCount(), counts);
}

//===----------------------------------------------------------------------===//
// tok.scatter_merge
//===----------------------------------------------------------------------===//

/// Shared memory a block may use to invert a parent map.
constexpr int64_t kSharedMapBytes = 32 * 1024;

/// Whether token i's parent is one of the first n output rows (n32, i32),
/// and that row as an index (0 when it is not).
std::pair<Value, Value> parentTarget(OpLowering &e, Value parent, Value row,
                                     Value i, Value n32) {
  ImplicitLocOpBuilder &b = e.builder();
  Value target = memref::LoadOp::create(b, parent, ValueRange{row, i});
  Value inRange = arith::AndIOp::create(
      b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, target, e.i32(0)),
      arith::CmpIOp::create(b, arith::CmpIPredicate::slt, target, n32));
  Value j = arith::IndexCastOp::create(
      b, b.getIndexType(), arith::MaxSIOp::create(b, target, e.i32(0)));
  return {inRange, j};
}

/// scatter_merge's parent map inverted: `first[row, j]` is where output row
/// j's members start in `member[row]`, in ascending token order, and
/// `first[row, C]` is their total; tokens whose parent is not one of the
/// first counts[row] rows are no members.
struct ParentInversion {
  OpLowering &e;
  Value parent, counts; // [B, N], [B] i32
  Value first, member;  // [B, C + 1], [B, N] i32
  int64_t batch, capacity, tokens;

  /// One thread per row (a stable counting sort).
  void serially();
  /// One block per row in shared memory (a stable radix sort).
  void byBlocks();
};

void ParentInversion::serially() {
  ImplicitLocOpBuilder &b = e.builder();
  Type i32 = b.getI32Type();
  Value cursor =
      memref::AllocOp::create(b, MemRefType::get({batch, capacity}, i32));
  e.parallelFor(batch, [&](Value row) {
    Value n = e.loadClampedCount(counts, row, e.index(capacity));
    Value n32 = arith::IndexCastOp::create(b, i32, n);
    // Token i's output row, and whether it is one of the first n.
    auto targetOf = [&](Value i) {
      return parentTarget(e, parent, row, i, n32);
    };
    e.forLoop(e.index(0), e.index(capacity), [&](Value j) {
      memref::StoreOp::create(b, e.i32(0), cursor, ValueRange{row, j});
    });
    e.forLoop(e.index(0), e.index(tokens), [&](Value i) {
      std::pair<Value, Value> target = targetOf(i);
      Value j = target.second;
      e.ifThen(target.first, [&] {
        Value c = memref::LoadOp::create(b, cursor, ValueRange{row, j});
        memref::StoreOp::create(b, arith::AddIOp::create(b, c, e.i32(1)),
                                cursor, ValueRange{row, j});
      });
    });
    // first[j] = the members of the output rows before j; the cursors
    // start there.
    Value total = e.forLoop(
        e.index(0), e.index(capacity), ValueRange{e.i32(0)},
        [&](Value j, ValueRange s) -> SmallVector<Value> {
          Value c = memref::LoadOp::create(b, cursor, ValueRange{row, j});
          memref::StoreOp::create(b, s[0], first, ValueRange{row, j});
          memref::StoreOp::create(b, s[0], cursor, ValueRange{row, j});
          return {arith::AddIOp::create(b, s[0], c)};
        })[0];
    memref::StoreOp::create(b, total, first,
                            ValueRange{row, e.index(capacity)});
    e.forLoop(e.index(0), e.index(tokens), [&](Value i) {
      std::pair<Value, Value> target = targetOf(i);
      Value j = target.second;
      e.ifThen(target.first, [&] {
        Value at = memref::LoadOp::create(b, cursor, ValueRange{row, j});
        memref::StoreOp::create(
            b, arith::IndexCastOp::create(b, i32, i), member,
            ValueRange{row,
                       arith::IndexCastOp::create(b, b.getIndexType(), at)});
        memref::StoreOp::create(b, arith::AddIOp::create(b, at, e.i32(1)),
                                cursor, ValueRange{row, j});
      });
    });
  });
}

/// A stable sort of the row's tokens by output row in shared memory: an
/// LSD radix sort, one bit of the key per pass (a token that is no member
/// has key C, after every output row). In a pass each thread takes a run of
/// consecutive tokens; a block scan of the runs' zero bits places the zeros
/// in order, then the ones in order, so the sort is stable. The sorted
/// tokens are the members in output-row order, ascending within a row, and
/// first[j] (the tokens with a key below j) is a binary search of the
/// sorted keys. No atomics and no thread walks the row, so the result does
/// not depend on timing and the work per thread is O(N / threads + log N)
/// per pass.
void ParentInversion::byBlocks() {
  ImplicitLocOpBuilder &b = e.builder();
  Type i32 = b.getI32Type(), indexType = b.getIndexType();
  const int64_t kThreads =
      std::clamp<int64_t>(llvm::alignTo(tokens, 256), 256, 1024);
  const int64_t items =
      llvm::divideCeil(std::max<int64_t>(tokens, 1), kThreads);
  const int64_t bits = llvm::Log2_64(static_cast<uint64_t>(capacity)) + 1;
  const int64_t size = std::max<int64_t>(tokens, 1);
  auto shared = [&] { return workgroupMemRef({size}, i32); };
  auto toIndex = [&](Value v) {
    return arith::IndexCastOp::create(b, indexType, v).getResult();
  };
  auto strided = [&](int64_t extent, Value tid,
                     llvm::function_ref<void(Value)> body) {
    e.blockStrided(e.index(0), e.index(extent), tid, kThreads, ValueRange{},
                   [&](Value i, ValueRange) -> SmallVector<Value> {
                     body(i);
                     return {};
                   });
  };
  e.blockLaunch(
      e.index(batch), kThreads, {shared(), shared(), shared(), shared()},
      [&](Value row, Value tid, ValueRange buffers) {
        Value keys[2] = {buffers[0], buffers[2]};
        Value vals[2] = {buffers[1], buffers[3]};
        Value n = e.loadClampedCount(counts, row, e.index(capacity));
        Value n32 = arith::IndexCastOp::create(b, i32, n);
        strided(tokens, tid, [&](Value i) {
          std::pair<Value, Value> target = parentTarget(e, parent, row, i, n32);
          memref::StoreOp::create(
              b,
              arith::SelectOp::create(
                  b, target.first,
                  arith::IndexCastOp::create(b, i32, target.second),
                  e.i32(capacity)),
              keys[0], ValueRange{i});
          memref::StoreOp::create(b, arith::IndexCastOp::create(b, i32, i),
                                  vals[0], ValueRange{i});
        });
        collective::BlockBarrierOp::create(b);
        // This thread's run of tokens.
        Value runStart = arith::MulIOp::create(b, tid, e.index(items));
        for (int64_t pass = 0; pass < bits; ++pass) {
          Value srcKeys = keys[pass % 2], srcVals = vals[pass % 2];
          Value dstKeys = keys[1 - pass % 2], dstVals = vals[1 - pass % 2];
          SmallVector<Value> inside, keyOf, valOf, zero;
          Value zeros = e.i32(0);
          for (int64_t k = 0; k < items; ++k) {
            Value i = arith::AddIOp::create(b, runStart, e.index(k));
            Value in = e.cmpi(arith::CmpIPredicate::ult, i, e.index(tokens));
            Value at = arith::MinUIOp::create(b, i, e.index(size - 1));
            Value key = memref::LoadOp::create(b, srcKeys, ValueRange{at});
            Value isZero = arith::AndIOp::create(
                b, in,
                e.cmpi(arith::CmpIPredicate::eq,
                       arith::AndIOp::create(b, key, e.i32(int64_t(1) << pass)),
                       e.i32(0)));
            inside.push_back(in);
            keyOf.push_back(key);
            valOf.push_back(memref::LoadOp::create(b, srcVals, ValueRange{at}));
            zero.push_back(isZero);
            zeros = arith::AddIOp::create(
                b, zeros, arith::ExtUIOp::create(b, i32, isZero));
          }
          auto scan = collective::BlockExclusiveScanOp::create(
              b, i32, i32, zeros, /*flags=*/false);
          // Zeros go to (zeros before) and ones to (all zeros + ones
          // before), each in token order.
          Value zerosBefore = scan.getPrefix();
          for (int64_t k = 0; k < items; ++k) {
            Value i32Index = arith::IndexCastOp::create(
                b, i32, arith::AddIOp::create(b, runStart, e.index(k)));
            Value onesBefore = arith::SubIOp::create(b, i32Index, zerosBefore);
            Value at = arith::SelectOp::create(
                b, zero[k], zerosBefore,
                arith::AddIOp::create(b, scan.getTotal(), onesBefore));
            e.ifThen(inside[k], [&] {
              memref::StoreOp::create(b, keyOf[k], dstKeys,
                                      ValueRange{toIndex(at)});
              memref::StoreOp::create(b, valOf[k], dstVals,
                                      ValueRange{toIndex(at)});
            });
            zerosBefore = arith::AddIOp::create(
                b, zerosBefore, arith::ExtUIOp::create(b, i32, zero[k]));
          }
          collective::BlockBarrierOp::create(b);
        }
        Value sortedKeys = keys[bits % 2], sortedVals = vals[bits % 2];
        strided(tokens, tid, [&](Value p) {
          memref::StoreOp::create(
              b, memref::LoadOp::create(b, sortedVals, ValueRange{p}), member,
              ValueRange{row, p});
        });
        // first[j]: how many sorted keys are below j (j = C: every member).
        int64_t steps = llvm::Log2_64_Ceil(static_cast<uint64_t>(size) + 1);
        strided(capacity + 1, tid, [&](Value j) {
          Value j32 = arith::IndexCastOp::create(b, i32, j);
          // Binary search for the first position whose key is >= j, in
          // [lo, hi) with a constant number of halvings.
          ValueRange bounds = e.forLoop(
              e.index(0), e.index(steps),
              ValueRange{e.index(0), e.index(tokens)},
              [&](Value, ValueRange s) -> SmallVector<Value> {
                Value open = e.cmpi(arith::CmpIPredicate::ult, s[0], s[1]);
                Value mid = arith::DivUIOp::create(
                    b, arith::AddIOp::create(b, s[0], s[1]), e.index(2));
                Value key =
                    memref::LoadOp::create(b, sortedKeys,
                                           ValueRange{arith::MinUIOp::create(
                                               b, mid, e.index(size - 1))});
                Value below = arith::AndIOp::create(
                    b, open, e.cmpi(arith::CmpIPredicate::slt, key, j32));
                Value above = arith::AndIOp::create(b, open, e.notI1(below));
                return {arith::SelectOp::create(
                            b, below, arith::AddIOp::create(b, mid, e.index(1)),
                            s[0]),
                        arith::SelectOp::create(b, above, mid, s[1])};
              });
          memref::StoreOp::create(b,
                                  arith::IndexCastOp::create(b, i32, bounds[0]),
                                  first, ValueRange{row, j});
        });
      });
}

void lowerScatterMerge(tok::ScatterMergeOp op, ImplicitLocOpBuilder &b,
                       LoweringContext &context, bool perElement) {
  OpLowering e(b, context);
  auto parentType = op.getParent().getType();
  int64_t batch = parentType.getDimSize(0), tokens = parentType.getDimSize(1);
  auto sizesType = op.getMergedSizes().getType();
  int64_t capacity = sizesType.getDimSize(1);
  tok::MergeReduction kind = op.getReduction();
  Type f32 = b.getF32Type(), i32 = b.getI32Type();

  Value parent = e.toBuffer(op.getParent());
  Value counts = e.toBuffer(op.getCount());
  Value sizes = op.getSizes() ? e.toBuffer(op.getSizes()) : Value();
  Value mergedSizes = e.allocFor(op.getMergedSizes());
  // Per-row bookkeeping shared by every source: members and their weight
  // sum, and the last member (copied unchanged when it is the only one).
  Value weightSum = memref::AllocaOp::create(b, MemRefType::get({capacity}, f32));
  Value memberCount = memref::AllocaOp::create(b, MemRefType::get({capacity}, i32));
  Value lastMember = memref::AllocaOp::create(b, MemRefType::get({capacity}, i32));

  struct SourceBuffers {
    Value in, out, outBase, acc;
    int64_t inner;
    Type element;
  };
  SmallVector<SourceBuffers> buffers;
  for (auto [source, merged] : llvm::zip(op.getSources(), op.getMerged())) {
    auto type = cast<RankedTensorType>(source.getType());
    int64_t inner = 1;
    for (int64_t d = 2; d < type.getRank(); ++d)
      inner *= type.getDimSize(d);
    auto flat = [&](Value buffer, int64_t rows) {
      auto memrefType = cast<MemRefType>(buffer.getType());
      SmallVector<ReassociationIndices> groups = {{0}, {1}, {}};
      for (int64_t d = 2; d < memrefType.getRank(); ++d)
        groups[2].push_back(d);
      if (groups[2].empty()) // [B, N] sources: add a unit row.
        return Value(memref::ExpandShapeOp::create(
            b, ArrayRef<int64_t>{batch, rows, 1}, buffer,
            SmallVector<ReassociationIndices>{{0}, {1, 2}}));
      return Value(memref::CollapseShapeOp::create(b, buffer, groups));
    };
    // Sources are viewed as [B, rows, inner] so one loop nest serves all.
    Value outBuffer = e.allocFor(merged);
    // The fp32 accumulator of the per-row form is C x inner, on the heap as
    // it can be large (the per-element form keeps it in a register).
    buffers.push_back(
        {flat(e.toBuffer(source), tokens), flat(outBuffer, capacity), outBuffer,
         perElement ? Value()
                    : Value(memref::AllocOp::create(
                          b, MemRefType::get({capacity, inner}, f32))),
         inner, type.getElementType()});
  }

  // The merged value of an output row's element from its accumulator
  // (fp32), member count, weight sum and its last member's element `copy`:
  // the mean/weighted mean divides once; a single member is copied
  // bit-exactly; empty rows and padding (`live` false) are zero.
  auto finish = [&](SourceBuffers &s, Value live, Value acc, Value members,
                    Value wsum, Value copy) -> Value {
    Value single =
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, members, e.i32(1));
    Value empty =
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, members, e.i32(0));
    Value divisor = e.f32(1.0);
    if (kind == tok::MergeReduction::mean)
      divisor = arith::UIToFPOp::create(b, f32, members);
    else if (kind == tok::MergeReduction::weighted_mean)
      divisor = wsum;
    Value zeroDivisor =
        arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, divisor, e.f32(0.0));
    Value zero = arith::ConstantOp::create(b, b.getZeroAttr(s.element));
    Value reduced = arith::DivFOp::create(b, acc, divisor);
    reduced = e.narrowFromF32(reduced, s.element);
    reduced = arith::SelectOp::create(
        b, arith::OrIOp::create(b, empty, zeroDivisor), zero, reduced);
    Value value = arith::SelectOp::create(b, single, copy, reduced);
    return arith::SelectOp::create(b, live, value, zero);
  };
  Value init = kind == tok::MergeReduction::amax ? e.f32(-INFINITY) : e.f32(0.0);

  if (perElement) {
    // The parent map inverted once per row (a stable counting sort, one
    // thread per row): the members of output row j are member[first[j] ..
    // first[j + 1]), in ascending token order. Then one iteration per (row,
    // output row, element) walks its own members only, accumulating in a
    // register in that order — the per-row form's order, so the same bits.
    // No shared accumulator, so rows and elements run concurrently.
    Value first =
        memref::AllocOp::create(b, MemRefType::get({batch, capacity + 1}, i32));
    Value member = memref::AllocOp::create(
        b, MemRefType::get({batch, std::max<int64_t>(tokens, 1)}, i32));
    // Outside a tok.dispatch, with rows that fit shared memory: one block
    // per row builds the map in parallel; otherwise one thread per row.
    int64_t sharedInts = 4 * std::max<int64_t>(tokens, 1);
    ParentInversion inversion{e,      parent, counts,   first,
                              member, batch,  capacity, tokens};
    if (!context.row && sharedInts * 4 <= kSharedMapBytes)
      inversion.byBlocks();
    else
      inversion.serially();
    // Elements x0 .. x0 + width - 1 of `s` (none without a source) folded
    // over output row j's members: width accumulators, then the member
    // count, weight sum and last member. `chunk` loads the elements of one
    // token.
    using ChunkLoader = llvm::function_ref<SmallVector<Value>(Value, Value)>;
    auto scan = [&](Value row, Value j, SourceBuffers *s, int64_t width,
                    ChunkLoader chunk) {
      SmallVector<Value> state(width, init);
      state.append({e.i32(0), e.f32(0.0), e.i32(0)});
      // An offset as an index in [0, tokens] (what the buffer holds).
      auto offsetAt = [&](Value at) -> Value {
        return e.clampIndex(
            arith::IndexCastOp::create(
                b, b.getIndexType(),
                memref::LoadOp::create(b, first, ValueRange{row, at})),
            e.index(0), e.index(tokens));
      };
      // Output rows past the count have no members (their parents are
      // skipped above).
      Value begin = offsetAt(j);
      Value end = offsetAt(arith::AddIOp::create(b, j, e.index(1)));
      return e.forLoop(
          begin, end, state, [&](Value k, ValueRange st) -> SmallVector<Value> {
            Value token = memref::LoadOp::create(b, member, ValueRange{row, k});
            Value i = arith::IndexCastOp::create(b, b.getIndexType(), token);
            Value w = sizes ? Value(memref::LoadOp::create(b, sizes,
                                                           ValueRange{row, i}))
                            : e.f32(1.0);
            SmallVector<Value> next;
            if (s) {
              SmallVector<Value> values = chunk(row, i);
              for (int64_t l = 0; l < width; ++l)
                next.push_back(
                    accumulate(b, kind, st[l], w, e.widenToF32(values[l])));
            }
            next.append({arith::AddIOp::create(b, st[width], e.i32(1)),
                         arith::AddFOp::create(b, st[width + 1], w), token});
            return next;
          });
    };
    e.parallelFor({batch, capacity}, [&](ValueRange iv) {
      Value row = iv[0], j = iv[1];
      Value n = e.loadClampedCount(counts, row, e.index(capacity));
      Value live = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, j, n);
      ValueRange st = scan(row, j, nullptr, 0, {});
      memref::StoreOp::create(
          b, arith::SelectOp::create(b, live, st[1], e.f32(0.0)), mergedSizes,
          ValueRange{row, j});
    });
    for (SourceBuffers &s : buffers) {
      // Each iteration makes `width` consecutive elements of an output row:
      // a 16-byte vector (8 bf16) per member when rows are whole vectors
      // and both buffers are 16-byte aligned at run time, else `width`
      // scalar accesses; one element per iteration when rows are not whole
      // vectors. Every element is still folded alone, in member order.
      int64_t vectorLanes = vectorWidth(s.element, s.inner);
      int64_t width = std::max<int64_t>(vectorLanes, 1);
      Value aligned = vectorLanes
                          ? arith::AndIOp::create(b, isAligned16(e, s.in),
                                                  isAligned16(e, s.out))
                          : Value();
      e.parallelFor({batch, capacity, s.inner / width}, [&](ValueRange iv) {
        Value row = iv[0], j = iv[1];
        Value x0 = arith::MulIOp::create(b, iv[2], e.index(width));
        Value n = e.loadClampedCount(counts, row, e.index(capacity));
        Value live = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, j, n);
        auto emitChunk = [&](bool vectorAccess) {
          auto element = [&](int64_t l) -> Value {
            return arith::AddIOp::create(b, x0, e.index(l));
          };
          auto load = [&](Value r, Value i) -> SmallVector<Value> {
            SmallVector<Value> values;
            if (vectorAccess) {
              Value v = vector::LoadOp::create(
                  b, VectorType::get({width}, s.element), s.in,
                  ValueRange{r, i, x0}, /*nontemporal=*/false,
                  llvm::MaybeAlign(16));
              for (int64_t l = 0; l < width; ++l)
                values.push_back(vector::ExtractOp::create(b, v, l));
            } else {
              for (int64_t l = 0; l < width; ++l)
                values.push_back(memref::LoadOp::create(
                    b, s.in, ValueRange{r, i, element(l)}));
            }
            return values;
          };
          ValueRange st = scan(row, j, &s, width, load);
          Value last =
              arith::IndexCastOp::create(b, b.getIndexType(), st[width + 2]);
          SmallVector<Value> copies = load(row, last);
          SmallVector<Value> out;
          for (int64_t l = 0; l < width; ++l)
            out.push_back(
                finish(s, live, st[l], st[width], st[width + 1], copies[l]));
          if (vectorAccess) {
            Value v = vector::FromElementsOp::create(
                b, VectorType::get({width}, s.element), out);
            vector::StoreOp::create(b, v, s.out, ValueRange{row, j, x0},
                                    /*nontemporal=*/false,
                                    llvm::MaybeAlign(16));
            return;
          }
          for (int64_t l = 0; l < width; ++l)
            memref::StoreOp::create(b, out[l], s.out,
                                    ValueRange{row, j, element(l)});
        };
        if (!vectorLanes)
          return emitChunk(false);
        auto ifAligned = scf::IfOp::create(b, aligned, /*withElse=*/true);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(ifAligned.thenBlock()->getTerminator());
        emitChunk(true);
        b.setInsertionPoint(ifAligned.elseBlock()->getTerminator());
        emitChunk(false);
      });
    }
    for (auto [merged, s] : llvm::zip(op.getMerged(), buffers))
      e.replaceWithBuffer(merged, s.outBase);
    e.replace(op.getMergedSizes(), e.toTensor(mergedSizes, sizesType));
    return;
  }

  e.parallelFor(batch, [&](Value row) {
    Value n = e.loadClampedCount(counts, row, e.index(capacity));
    e.forLoop(e.index(0), e.index(capacity), [&](Value j) {
      memref::StoreOp::create(b, e.f32(0.0), weightSum, ValueRange{j});
      memref::StoreOp::create(b, e.i32(0), memberCount, ValueRange{j});
      memref::StoreOp::create(b, e.i32(0), lastMember, ValueRange{j});
      for (SourceBuffers &s : buffers)
        e.forLoop(e.index(0), e.index(s.inner), [&](Value x) {
          memref::StoreOp::create(b, init, s.acc, ValueRange{j, x});
        });
    });
    // Accumulate in ascending token order.
    e.forLoop(e.index(0), e.index(tokens), [&](Value i) {
      Value target = memref::LoadOp::create(b, parent, ValueRange{row, i});
      Value inRange = arith::AndIOp::create(
          b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, target, e.i32(0)),
          arith::CmpIOp::create(b, arith::CmpIPredicate::slt, target,
                                arith::IndexCastOp::create(b, i32, n)));
      e.ifThen(inRange, [&] {
        Value j = arith::IndexCastOp::create(b, b.getIndexType(), target);
        Value w = sizes ? Value(memref::LoadOp::create(b, sizes, ValueRange{row, i}))
                        : e.f32(1.0);
        memref::StoreOp::create(
            b,
            arith::AddFOp::create(
                b, memref::LoadOp::create(b, weightSum, ValueRange{j}), w),
            weightSum, ValueRange{j});
        memref::StoreOp::create(
            b,
            arith::AddIOp::create(
                b, memref::LoadOp::create(b, memberCount, ValueRange{j}),
                e.i32(1)),
            memberCount, ValueRange{j});
        memref::StoreOp::create(b, arith::IndexCastOp::create(b, i32, i),
                                lastMember, ValueRange{j});
        for (SourceBuffers &s : buffers)
          e.forLoop(e.index(0), e.index(s.inner), [&](Value x) {
            Value v = e.widenToF32(memref::LoadOp::create(b, s.in, ValueRange{row, i, x}));
            Value old = memref::LoadOp::create(b, s.acc, ValueRange{j, x});
            memref::StoreOp::create(b, accumulate(b, kind, old, w, v), s.acc,
                                    ValueRange{j, x});
          });
      });
    });
    // Finish each output row.
    e.forLoop(e.index(0), e.index(capacity), [&](Value j) {
      Value live = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, j, n);
      Value members = memref::LoadOp::create(b, memberCount, ValueRange{j});
      Value wsum = memref::LoadOp::create(b, weightSum, ValueRange{j});
      memref::StoreOp::create(
          b, arith::SelectOp::create(b, live, wsum, e.f32(0.0)), mergedSizes,
          ValueRange{row, j});
      Value last = arith::IndexCastOp::create(
          b, b.getIndexType(), memref::LoadOp::create(b, lastMember, ValueRange{j}));
      for (SourceBuffers &s : buffers) {
        e.forLoop(e.index(0), e.index(s.inner), [&](Value x) {
          Value acc = memref::LoadOp::create(b, s.acc, ValueRange{j, x});
          Value copy =
              memref::LoadOp::create(b, s.in, ValueRange{row, last, x});
          memref::StoreOp::create(b, finish(s, live, acc, members, wsum, copy),
                                  s.out, ValueRange{row, j, x});
        });
      }
    });
  });

  for (auto [merged, s] : llvm::zip(op.getMerged(), buffers))
    e.replaceWithBuffer(merged, s.outBase);
  e.replace(op.getMergedSizes(), e.toTensor(mergedSizes, sizesType));
}

//===----------------------------------------------------------------------===//
// tok.weighted_gather
//===----------------------------------------------------------------------===//

/// One iteration per output element: the sum over its K entries in
/// ascending order, in fp32, skipping indices outside [0, N).
void lowerWeightedGather(tok::WeightedGatherOp op, ImplicitLocOpBuilder &b,
                         LoweringContext &context) {
  OpLowering e(b, context);
  auto idxType = op.getIndices().getType();
  auto inType = op.getInput().getType();
  int64_t batch = idxType.getDimSize(0), rows = idxType.getDimSize(1);
  int64_t entries = idxType.getDimSize(2), tokens = inType.getDimSize(1);
  int64_t features = inType.getDimSize(2);
  Type element = inType.getElementType();
  Value indices = e.toBuffer(op.getIndices());
  Value weights = e.toBuffer(op.getWeights());
  Value input = e.toBuffer(op.getInput());
  Value output = e.allocFor(op.getOutput());
  e.parallelFor({batch, rows, features}, [&](ValueRange iv) {
    Value row = iv[0], j = iv[1], d = iv[2];
    Value sum = e.forLoop(
        e.index(0), e.index(entries), ValueRange{e.f32(0.0)},
        [&](Value k, ValueRange acc) -> SmallVector<Value> {
          Value raw = memref::LoadOp::create(b, indices, ValueRange{row, j, k});
          Value index = arith::IndexCastOp::create(b, b.getIndexType(), raw);
          Value valid = arith::AndIOp::create(
              b,
              arith::CmpIOp::create(b, arith::CmpIPredicate::sge, index,
                                    e.index(0)),
              arith::CmpIOp::create(b, arith::CmpIPredicate::slt, index,
                                    e.index(tokens)));
          auto ifValid =
              scf::IfOp::create(b, TypeRange{b.getF32Type()}, valid, true);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ifValid.thenBlock());
          Value w = memref::LoadOp::create(b, weights, ValueRange{row, j, k});
          Value x = e.widenToF32(
              memref::LoadOp::create(b, input, ValueRange{row, index, d}));
          scf::YieldOp::create(
              b, ValueRange{arith::AddFOp::create(
                     b, acc[0], arith::MulFOp::create(b, w, x))});
          b.setInsertionPointToStart(ifValid.elseBlock());
          scf::YieldOp::create(b, ValueRange{acc[0]});
          return {ifValid.getResult(0)};
        })[0];
    memref::StoreOp::create(b, e.narrowFromF32(sum, element), output,
                            ValueRange{row, j, d});
  });
  e.replaceWithBuffer(op.getOutput(), output);
}

/// The ops of this family that have a CPU and a GPU form, in one of them.
void addMergeForms(RewritePatternSet &patterns, const LoweringOptions &options,
                   DispatchRow *row, bool gpuForm) {
  addTokLoweringForm<tok::BipartitePlanOp>(patterns, options, row, gpuForm,
                                           lowerBipartitePlan);
  addTokLoweringForm<tok::ScatterMergeOp>(patterns, options, row, gpuForm,
                                          lowerScatterMerge);
}

} // namespace

void populateMergeToLoopsPatterns(RewritePatternSet &patterns,
                                  const LoweringOptions &options,
                                  DispatchRow *row) {
  addTokLowering<tok::WeightedGatherOp>(patterns, options, row, lowerWeightedGather);
  addMergeForms(patterns, options, row, /*gpuForm=*/false);
}

void populateMergeToGpuLoopsPatterns(RewritePatternSet &patterns,
                                     const LoweringOptions &options,
                                     DispatchRow *row) {
  addMergeForms(patterns, options, row, /*gpuForm=*/true);
}

} // namespace winnow
