//===- LowerPruneToLoops.cpp - CPU loops for the pruning ops --------------===//
//
// Each lowering reads its inputs once and writes its outputs once per batch
// row; scratch lives on the stack. The shapes of the loops are the ones the
// GPU kernels use (radix select, row gathers), so both targets share one
// exact semantics.
//
//===----------------------------------------------------------------------===//

#include "BlockTopK.h"
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
// tok.select
//===----------------------------------------------------------------------===//

class SelectLowering {
public:
  /// `parallel`: the token-parallel form (ranks and placements computed per
  /// token) instead of one radix select per row.
  SelectLowering(tok::SelectOp op, ImplicitLocOpBuilder &b,
                 LoweringContext &context, bool parallel)
      : op(op), b(b), e(b, context), parallel(parallel),
        inDispatch(context.row != nullptr) {}

  void lower() {
    auto scoresType = op.getScores().getType();
    batch = scoresType.getDimSize(0);
    tokens = scoresType.getDimSize(1);
    capacity = op.getIndices().getType().getDimSize(1);
    policy = op.getNanPolicy();

    scores = e.toBuffer(op.getScores());
    if (op.getLengths())
      lengths = e.toBuffer(op.getLengths());
    if (op.getProtect())
      protect = e.toBuffer(op.getProtect());
    if (op.getRowBudget())
      rowBudget = e.toBuffer(op.getRowBudget());
    indices = e.allocFor(op.getIndices());
    counts = e.allocFor(op.getCount());
    auto [start, end] = op.getSpanBounds();
    spanStart = e.index(start);
    spanEnd = e.index(end);
    if (parallel && !inDispatch) {
      lowerBlockPerRow();
    } else if (parallel) {
      lowerTokenParallel();
    } else {
      if (!isa<tok::ThresholdAttr>(op.getBudget())) {
        histogram = allocRadixHistogram(b);
        radixKeys = allocRadixKeys(b, tokens);
      }
      e.parallelFor(batch, [&](Value row) { lowerRow(row); });
    }

    Value idxTensor = e.toTensor(indices, op.getIndices().getType());
    Value countTensor = e.toTensor(counts, op.getCount().getType());
    e.replace(op.getIndices(), idxTensor);
    e.replace(op.getCount(), countTensor);
  }

private:
  /// Whether token `i` of row `row` is a candidate, given `i < len`.
  Value isCandidate(Value row, Value i) {
    Value inSpan = arith::AndIOp::create(
        b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, i, spanStart),
        arith::CmpIOp::create(b, arith::CmpIPredicate::slt, i, spanEnd));
    if (!protect)
      return inSpan;
    Value isProtected = memref::LoadOp::create(b, protect, ValueRange{row, i});
    Value notProtected = e.notI1(isProtected);
    return arith::AndIOp::create(b, inSpan, notProtected);
  }

  Value keyAt(Value row, Value i) {
    Value score = memref::LoadOp::create(b, scores, ValueRange{row, i});
    return emitOrderKey(b, score, policy);
  }

  Value toI32(Value index) {
    return arith::IndexCastOp::create(b, b.getI32Type(), index);
  }

  /// K_b of `row` for a top-k or keep-ratio budget, as an i32 in
  /// [0, numCandidates]; a row_budget bounds it by the attribute's.
  Value budgetCount(Value row, Value numCandidates) {
    Value zero = e.i32(0);
    if (auto topK = dyn_cast<tok::TopKAttr>(op.getBudget())) {
      Value k = e.i32(std::clamp<int64_t>(topK.getK(), 0, tokens));
      if (rowBudget) {
        Value own = memref::LoadOp::create(b, rowBudget, ValueRange{row});
        k = arith::MinSIOp::create(b, arith::MaxSIOp::create(b, own, zero), k);
      }
      return arith::MinSIOp::create(b, k, numCandidates);
    }
    auto ratio = cast<tok::KeepRatioAttr>(op.getBudget());
    llvm::APFloat value(tok::toDouble(ratio.getRatio()));
    Value r = arith::ConstantFloatOp::create(b, b.getF64Type(), value);
    if (rowBudget) {
      // min(r_b, r), exact in double; a negative or NaN r_b keeps nothing.
      Value loaded = memref::LoadOp::create(b, rowBudget, ValueRange{row});
      Value own = arith::ExtFOp::create(b, b.getF64Type(), loaded);
      Value positive =
          arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, own,
                                arith::ConstantFloatOp::create(
                                    b, b.getF64Type(), llvm::APFloat(0.0)));
      r = arith::SelectOp::create(b, positive,
                                  arith::MinimumFOp::create(b, own, r),
                                  arith::ConstantFloatOp::create(
                                      b, b.getF64Type(), llvm::APFloat(0.0)));
    }
    Value n = arith::SIToFPOp::create(b, b.getF64Type(), numCandidates);
    Value product = arith::MulFOp::create(b, n, r);
    Value rounded;
    switch (ratio.getRounding()) {
    case tok::Rounding::floor:
      rounded = math::FloorOp::create(b, product);
      break;
    case tok::Rounding::ceil:
      rounded = math::CeilOp::create(b, product);
      break;
    case tok::Rounding::half_even:
      rounded = math::RoundEvenOp::create(b, product);
      break;
    case tok::Rounding::half_away:
      rounded = math::RoundOp::create(b, product);
      break;
    }
    Value count = arith::FPToSIOp::create(b, b.getI32Type(), rounded);
    return arith::MinSIOp::create(
        b, arith::MaxSIOp::create(b, count, zero), numCandidates);
  }

  void lowerRow(Value row) {
    Value len = e.rowLength(lengths, row, tokens);

    // Threshold key and the number of ties at it to keep. Keys compare as
    // unsigned: a candidate is kept when key > threshold, or key == threshold
    // and fewer than `ties` equal keys were kept before it.
    Value threshold, ties;
    bool inclusive = false;
    if (auto t = dyn_cast<tok::ThresholdAttr>(op.getBudget())) {
      float tau = static_cast<float>(tok::toDouble(t.getTau()));
      threshold = e.i32(static_cast<int32_t>(orderKey(tau, policy)));
      inclusive = t.getComparison() == tok::Comparison::ge;
      ties = e.i32(0);
    } else {
      Value candEnd = arith::MinSIOp::create(b, spanEnd, len);
      Value numCandidates = e.forLoop(
          spanStart, candEnd, ValueRange{e.i32(0)},
          [&](Value i, ValueRange state) -> SmallVector<Value> {
            Value isCand = arith::ExtUIOp::create(b, b.getI32Type(),
                                                  isCandidate(row, i));
            return {arith::AddIOp::create(b, state[0], isCand)};
          })[0];
      Value k = budgetCount(row, numCandidates);
      Value positive =
          arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, k, e.i32(0));
      // k == 0 keeps no candidate: threshold = max key, no ties taken.
      auto ifOp = scf::IfOp::create(
          b, TypeRange{b.getI32Type(), b.getI32Type()}, positive,
          /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(ifOp.thenBlock());
        Value candEnd = arith::MinSIOp::create(b, spanEnd, len);
        auto [key, take] = emitRadixSelect(
            e, histogram, spanStart, candEnd, k,
            [&](Value i) { return keyAt(row, i); },
            [&](Value i) { return isCandidate(row, i); }, radixKeys);
        scf::YieldOp::create(b, ValueRange{key, take});
        b.setInsertionPointToStart(ifOp.elseBlock());
        scf::YieldOp::create(b, ValueRange{e.i32(-1), e.i32(0)});
      }
      threshold = ifOp.getResult(0);
      ties = ifOp.getResult(1);
    }

    // Emit kept indices in ascending order.
    ValueRange emitted = e.forLoop(
        e.index(0), len, ValueRange{e.index(0), e.i32(0)},
        [&](Value i, ValueRange state) -> SmallVector<Value> {
          Value slot = state[0], tiesTaken = state[1];
          Value key = keyAt(row, i);
          Value above = arith::CmpIOp::create(
              b, inclusive ? arith::CmpIPredicate::uge
                           : arith::CmpIPredicate::ugt,
              key, threshold);
          Value atThreshold =
              arith::CmpIOp::create(b, arith::CmpIPredicate::eq, key, threshold);
          Value tieRoom = arith::CmpIOp::create(b, arith::CmpIPredicate::slt,
                                                tiesTaken, ties);
          Value tieKept = arith::AndIOp::create(b, atThreshold, tieRoom);
          Value cand = isCandidate(row, i);
          Value notCand = e.notI1(cand);
          Value candKept = arith::AndIOp::create(
              b, cand, arith::OrIOp::create(b, above, tieKept));
          // `above` already covers ties under an inclusive threshold.
          Value tieUsed = arith::AndIOp::create(
              b, cand,
              arith::AndIOp::create(
                  b, tieKept,
                  e.notI1(above)));
          Value kept = arith::OrIOp::create(b, notCand, candKept);
          e.ifThen(kept, [&] {
            memref::StoreOp::create(b, toI32(i), indices, ValueRange{row, slot});
          });
          Value nextSlot = arith::AddIOp::create(
              b, slot, e.indexOf(kept));
          Value nextTies = arith::AddIOp::create(
              b, tiesTaken, arith::ExtUIOp::create(b, b.getI32Type(), tieUsed));
          return {nextSlot, nextTies};
        });
    Value count = emitted[0];
    e.forLoop(count, e.index(capacity), [&](Value j) {
      memref::StoreOp::create(b, e.i32(-1), indices, ValueRange{row, j});
    });
    memref::StoreOp::create(b, toI32(count), counts, ValueRange{row});
  }

  /// Whether token `i` (< tokens) of `row` is kept; `len` is the row length.
  /// A candidate is kept when it ranks among the budget's K (fewer than K
  /// candidates have a greater key, or an equal key at a lower index) or
  /// passes the threshold; every other valid token is kept.
  Value isKept(Value row, Value i, Value len) {
    Value valid = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, i, len);
    Value cand = isCandidate(row, i);
    auto ifValid =
        scf::IfOp::create(b, TypeRange{b.getI1Type()}, valid, /*withElse=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifValid.thenBlock());
    Value key = keyAt(row, i);
    Value candKept;
    if (auto t = dyn_cast<tok::ThresholdAttr>(op.getBudget())) {
      float tau = static_cast<float>(tok::toDouble(t.getTau()));
      Value threshold = e.i32(static_cast<int32_t>(orderKey(tau, policy)));
      candKept = arith::CmpIOp::create(
          b,
          t.getComparison() == tok::Comparison::ge ? arith::CmpIPredicate::uge
                                                   : arith::CmpIPredicate::ugt,
          key, threshold);
    } else {
      Value candEnd = arith::MinSIOp::create(b, spanEnd, len);
      // One pass over the row: the candidates, and those ranked before i.
      ValueRange counts = e.forLoop(
          spanStart, candEnd, ValueRange{e.i32(0), e.i32(0)},
          [&](Value j, ValueRange state) -> SmallVector<Value> {
            Value other = keyAt(row, j);
            Value ranksBefore = emitRanksBefore(b, other, key, j, i);
            Value isCand = isCandidate(row, j);
            Value before = arith::AndIOp::create(b, isCand, ranksBefore);
            return {arith::AddIOp::create(
                        b, state[0],
                        arith::ExtUIOp::create(b, b.getI32Type(), isCand)),
                    arith::AddIOp::create(
                        b, state[1],
                        arith::ExtUIOp::create(b, b.getI32Type(), before))};
          });
      Value k = budgetCount(row, counts[0]);
      candKept =
          arith::CmpIOp::create(b, arith::CmpIPredicate::slt, counts[1], k);
    }
    Value kept = arith::OrIOp::create(b, e.notI1(cand),
                                      arith::AndIOp::create(b, cand, candKept));
    scf::YieldOp::create(b, ValueRange{kept});
    b.setInsertionPointToStart(ifValid.elseBlock());
    scf::YieldOp::create(
        b, ValueRange{arith::ConstantIntOp::create(b, b.getI1Type(), 0)});
    return ifValid.getResult(0);
  }

  /// tok.select on the GPU outside a tok.dispatch: one block per row
  /// (BlockTopK.h); tokens that are valid but not candidates are forced.
  void lowerBlockPerRow() {
    std::optional<TopKKeyStorage> keyStorage;
    bool ranked = !isa<tok::ThresholdAttr>(op.getBudget());
    if (ranked)
      keyStorage =
          TopKKeyStorage::create(e, std::max<int64_t>(batch, 1), tokens);
    int64_t threads = topKThreadsFor(tokens);
    e.blockLaunch(
        e.index(batch), threads, TopKKeyStorage::workgroupOf(keyStorage),
        [&](Value row, Value tid, ValueRange buffers) {
          auto candidate = [&](Value i) { return isCandidate(row, i); };
          auto forced = [&](Value i) { return e.notI1(isCandidate(row, i)); };
          auto key = [&](Value i) { return keyAt(row, i); };
          auto budget = [&](Value n) { return budgetCount(row, n); };
          auto emit = [&](Value slot, Value i) {
            memref::StoreOp::create(b, toI32(i), indices,
                                    ValueRange{row, slot});
          };
          TopKRow topK;
          topK.threads = threads;
          topK.len = e.rowLength(lengths, row, tokens);
          topK.forced = forced;
          topK.candidate = candidate;
          topK.key = key;
          topK.emit = emit;
          if (ranked) {
            topK.keys = keyStorage->rowOf(e, row, buffers);
            topK.budget = budget;
          } else {
            auto t = cast<tok::ThresholdAttr>(op.getBudget());
            float tau = static_cast<float>(tok::toDouble(t.getTau()));
            topK.threshold = e.i32(static_cast<int32_t>(orderKey(tau, policy)));
            topK.inclusive = t.getComparison() == tok::Comparison::ge;
          }
          Value count = emitBlockTopK(e, tid, topK);
          e.blockStrided(
              e.index(0), e.index(capacity), tid, threads, ValueRange{},
              [&](Value j, ValueRange) -> SmallVector<Value> {
                e.ifThen(arith::CmpIOp::create(b, arith::CmpIPredicate::sge, j,
                                               count),
                         [&] {
                           memref::StoreOp::create(b, e.i32(-1), indices,
                                                   ValueRange{row, j});
                         });
                return {};
              });
          e.ifThen(arith::CmpIOp::create(b, arith::CmpIPredicate::eq, tid,
                                         e.index(0)),
                   [&] {
                     memref::StoreOp::create(b, toI32(count), counts,
                                             ValueRange{row});
                   });
        });
  }

  /// tok.select as two token-parallel loops (for the GPU): a kept flag per
  /// token, then each kept index placed by counting the kept tokens before
  /// it; the count and the padding per output slot. O(N) work per token, no
  /// per-row sequential pass.
  void lowerTokenParallel() {
    Value flags = memref::AllocOp::create(
        b, MemRefType::get({batch, tokens}, b.getI8Type()));
    e.parallelFor({batch, tokens}, [&](ValueRange iv) {
      Value row = iv[0], i = iv[1];
      Value kept = isKept(row, i, e.rowLength(lengths, row, tokens));
      memref::StoreOp::create(
          b, arith::ExtUIOp::create(b, b.getI8Type(), kept), flags,
          ValueRange{row, i});
    });
    auto keptBefore = [&](Value row, Value end) {
      return e.forLoop(
          e.index(0), end, ValueRange{e.index(0)},
          [&](Value j, ValueRange state) -> SmallVector<Value> {
            Value flag = memref::LoadOp::create(b, flags, ValueRange{row, j});
            return {arith::AddIOp::create(
                b, state[0],
                e.indexOf(flag))};
          })[0];
    };
    e.parallelFor({batch, tokens}, [&](ValueRange iv) {
      Value row = iv[0], i = iv[1];
      Value flag = memref::LoadOp::create(b, flags, ValueRange{row, i});
      Value kept = arith::CmpIOp::create(b, arith::CmpIPredicate::ne, flag,
                                         arith::ConstantIntOp::create(
                                             b, b.getI8Type(), 0));
      e.ifThen(kept, [&] {
        Value slot = keptBefore(row, i);
        Value fits = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, slot,
                                           e.index(capacity));
        e.ifThen(fits, [&] {
          memref::StoreOp::create(b, toI32(i), indices, ValueRange{row, slot});
        });
      });
    });
    e.parallelFor({batch, capacity}, [&](ValueRange iv) {
      Value row = iv[0], slot = iv[1];
      Value count = keptBefore(row, e.index(tokens));
      e.ifThen(arith::CmpIOp::create(b, arith::CmpIPredicate::sge, slot, count),
               [&] {
                 memref::StoreOp::create(b, e.i32(-1), indices,
                                         ValueRange{row, slot});
               });
    });
    e.parallelFor(batch, [&](Value row) {
      memref::StoreOp::create(b, toI32(keptBefore(row, e.index(tokens))),
                              counts, ValueRange{row});
    });
  }

  tok::SelectOp op;
  ImplicitLocOpBuilder &b;
  OpLowering e;
  bool parallel = false;
  bool inDispatch = false;
  int64_t batch = 0, tokens = 0, capacity = 0;
  tok::NanPolicy policy = tok::NanPolicy::as_neg_inf;
  Value scores, lengths, protect, rowBudget, indices, counts, histogram;
  /// The CPU form's key array for the radix select (null when too large).
  Value radixKeys;
  Value spanStart, spanEnd;
};

//===----------------------------------------------------------------------===//
// tok.attn_score
//===----------------------------------------------------------------------===//

/// Rows of logits (or keys) up to this size live in shared memory.
constexpr int64_t kSharedScoreBytes = 32 * 1024;

/// A key's term of attn_score's per-key sum: its probability in query row
/// (b, h, q) times the reduction's weight, from the row's LSE or its
/// statistics (max, sum of exponentials). Both forms use it, so they
/// compute the same bits.
Value probabilityTerm(OpLowering &e, Value logit, Value lse, Value stats,
                      Value bi, Value h, Value q, float norm) {
  ImplicitLocOpBuilder &b = e.builder();
  if (lse) {
    Value rowLse = memref::LoadOp::create(b, lse, ValueRange{bi, h, q});
    Value p = math::ExpOp::create(b, arith::SubFOp::create(b, logit, rowLse));
    return arith::MulFOp::create(b, p, e.f32(norm));
  }
  Value maxLogit =
      memref::LoadOp::create(b, stats, ValueRange{bi, h, q, e.index(0)});
  Value sum =
      memref::LoadOp::create(b, stats, ValueRange{bi, h, q, e.index(1)});
  Value p = math::ExpOp::create(b, arith::SubFOp::create(b, logit, maxLogit));
  // sum >= 1 whenever a key is valid (the max gives exp(0)).
  Value weight = arith::DivFOp::create(b, e.f32(norm), sum);
  return arith::MulFOp::create(b, p, weight);
}

/// attn_score's GPU form (outside a tok.dispatch, N <= 8192): the same sums
/// in the same order as the CPU form, from two block kernels, with no
/// attention-sized buffer.
///  1. Without an LSE, one block per query row (b, h, q): a thread per key
///     (strided) computes its logit into shared memory; a block reduction
///     gives the maximum (exact in any order); the exponentials are added
///     in orderedSums' order (lane l on thread l, then the 8 lanes on
///     thread 0). The statistics go to a [B, H, Q, 2] buffer.
///  2. One block per (b, tile of 8 to 32 keys): the threads compute the terms
///     p(h, q, j) of up to 128 query rows at a time into shared memory (a
///     dot product each, as the CPU recomputes them), then thread j of the
///     tile adds its key's terms over (h, q) in order.
void lowerAttnScoreBlocks(
    tok::AttnScoreOp op, OpLowering &e,
    llvm::function_ref<Value(Value, Value, Value, Value)> logitAt,
    llvm::function_ref<Value(Value, Value, Value)> keyLimit, Value lengths,
    Value lse, Value scores, float norm) {
  ImplicitLocOpBuilder &b = e.builder();
  auto qType = op.getQueries().getType();
  int64_t batch = qType.getDimSize(0), heads = qType.getDimSize(1);
  int64_t rows = qType.getDimSize(2);
  int64_t tokens = op.getKeys().getType().getDimSize(2);
  constexpr int64_t kThreads = 256, kRowChunk = 128;
  constexpr int64_t kLanes = LoopEmitter::kSumLanes;
  // Tiles of 32 keys, smaller (down to 8) while that leaves fewer than two
  // blocks per SM of an H100/H200 (132).
  int64_t kKeyTile = 32;
  while (kKeyTile > 8 && batch * llvm::divideCeil(tokens, kKeyTile) < 2 * 132)
    kKeyTile /= 2;
  auto workgroup = [&](ArrayRef<int64_t> shape) {
    return workgroupMemRef(shape, b.getF32Type());
  };

  Value stats;
  if (!lse) {
    stats = memref::AllocOp::create(
        b, MemRefType::get({batch, heads, rows, 2}, b.getF32Type()));
    e.blockLaunch(
        e.index(batch * heads * rows), kThreads,
        {workgroup({tokens}), workgroup({kLanes})},
        [&](Value block, Value tid, ValueRange shared) {
          Value logits = shared.front();
          Value bi = arith::DivUIOp::create(b, block, e.index(heads * rows));
          Value h = arith::RemUIOp::create(
              b, arith::DivUIOp::create(b, block, e.index(rows)),
              e.index(heads));
          Value q = arith::RemUIOp::create(b, block, e.index(rows));
          Value limit = keyLimit(bi, q, e.rowLength(lengths, bi, tokens));
          Value localMax = e.blockStrided(
              e.index(0), limit, tid, kThreads, ValueRange{e.f32(-INFINITY)},
              [&](Value j, ValueRange state) -> SmallVector<Value> {
                Value logit = logitAt(bi, h, q, j);
                memref::StoreOp::create(b, logit, logits, ValueRange{j});
                return {arith::MaximumFOp::create(b, state[0], logit)};
              })[0];
          // The reduction's barriers also publish the logits. The
          // exponentials replace them in place (every thread its own),
          // then lane l of orderedSums (keys l, l + 8, ...) is added by
          // thread l and thread 0 adds the 8 lanes in order: the CPU's
          // order, with the exps spread over the block.
          Value maxLogit = collective::BlockReduceOp::create(
              b, b.getF32Type(), collective::ReductionKind::max, localMax);
          e.blockStrided(e.index(0), limit, tid, kThreads, ValueRange{},
                         [&](Value j, ValueRange) -> SmallVector<Value> {
                           Value logit =
                               memref::LoadOp::create(b, logits, ValueRange{j});
                           memref::StoreOp::create(
                               b,
                               math::ExpOp::create(b, arith::SubFOp::create(
                                                          b, logit, maxLogit)),
                               logits, ValueRange{j});
                           return {};
                         });
          collective::BlockBarrierOp::create(b);
          Value laneSums = shared[1];
          e.ifThen(
              e.cmpi(arith::CmpIPredicate::ult, tid, e.index(kLanes)), [&] {
                Value lane = e.forLoop(
                    tid, limit, e.index(kLanes), ValueRange{e.f32(0.0)},
                    [&](Value j, ValueRange acc) -> SmallVector<Value> {
                      return {arith::AddFOp::create(
                          b, acc[0],
                          memref::LoadOp::create(b, logits, ValueRange{j}))};
                    })[0];
                memref::StoreOp::create(b, lane, laneSums, ValueRange{tid});
              });
          collective::BlockBarrierOp::create(b);
          onFirstThread(e, tid, [&] {
            Value sum = e.f32(0.0);
            for (int64_t l = 0; l < kLanes; ++l)
              sum = arith::AddFOp::create(
                  b, sum,
                  memref::LoadOp::create(b, laneSums, ValueRange{e.index(l)}));
            memref::StoreOp::create(b, maxLogit, stats,
                                    ValueRange{bi, h, q, e.index(0)});
            memref::StoreOp::create(b, sum, stats,
                                    ValueRange{bi, h, q, e.index(1)});
          });
        });
  }

  int64_t queryRows = heads * rows;
  int64_t chunk = std::min(queryRows, kRowChunk);
  int64_t tiles = llvm::divideCeil(tokens, kKeyTile);
  e.blockLaunch(
      e.index(batch * tiles), kThreads, {workgroup({chunk * kKeyTile})},
      [&](Value block, Value tid, ValueRange shared) {
        Value terms = shared.front();
        Value bi = arith::DivUIOp::create(b, block, e.index(tiles));
        Value firstKey = arith::MulIOp::create(
            b, arith::RemUIOp::create(b, block, e.index(tiles)),
            e.index(kKeyTile));
        Value len = e.rowLength(lengths, bi, tokens);
        Value myKey = arith::AddIOp::create(b, firstKey, tid);
        Value keyScore = e.forLoop(
            e.index(0), e.index(queryRows), e.index(chunk),
            ValueRange{e.f32(0.0)},
            [&](Value first, ValueRange acc) -> SmallVector<Value> {
              // Every (query row, key) term of the chunk; -0.0 (which adds
              // nothing to any sum) where the key is not valid.
              e.blockStrided(
                  e.index(0), e.index(chunk * kKeyTile), tid, kThreads,
                  ValueRange{},
                  [&](Value item, ValueRange) -> SmallVector<Value> {
                    Value r = arith::AddIOp::create(
                        b, first,
                        arith::DivUIOp::create(b, item, e.index(kKeyTile)));
                    Value j = arith::AddIOp::create(
                        b, firstKey,
                        arith::RemUIOp::create(b, item, e.index(kKeyTile)));
                    Value h = arith::DivUIOp::create(b, r, e.index(rows));
                    Value q = arith::RemUIOp::create(b, r, e.index(rows));
                    Value valid =
                        arith::AndIOp::create(b,
                                              e.cmpi(arith::CmpIPredicate::slt,
                                                     r, e.index(queryRows)),
                                              e.cmpi(arith::CmpIPredicate::slt,
                                                     j, keyLimit(bi, q, len)));
                    auto ifValid = scf::IfOp::create(
                        b, TypeRange{b.getF32Type()}, valid, /*withElse=*/true);
                    {
                      OpBuilder::InsertionGuard inner(b);
                      b.setInsertionPointToStart(ifValid.thenBlock());
                      Value term = probabilityTerm(e, logitAt(bi, h, q, j), lse,
                                                   stats, bi, h, q, norm);
                      scf::YieldOp::create(b, ValueRange{term});
                      b.setInsertionPointToStart(ifValid.elseBlock());
                      scf::YieldOp::create(b, ValueRange{e.f32(-0.0)});
                    }
                    memref::StoreOp::create(b, ifValid.getResult(0), terms,
                                            ValueRange{item});
                    return {};
                  });
              collective::BlockBarrierOp::create(b);
              // Thread j of the tile adds its key's terms in (h, q) order.
              Value inChunk = arith::MinSIOp::create(
                  b, e.index(chunk),
                  arith::SubIOp::create(b, e.index(queryRows), first));
              Value mine =
                  arith::MinUIOp::create(b, tid, e.index(kKeyTile - 1));
              Value sum = e.forLoop(
                  e.index(0), inChunk, ValueRange{acc[0]},
                  [&](Value r, ValueRange s) -> SmallVector<Value> {
                    Value at = arith::AddIOp::create(
                        b, arith::MulIOp::create(b, r, e.index(kKeyTile)),
                        mine);
                    return {arith::AddFOp::create(
                        b, s[0],
                        memref::LoadOp::create(b, terms, ValueRange{at}))};
                  })[0];
              collective::BlockBarrierOp::create(b);
              return {sum};
            })[0];
        Value owns = arith::AndIOp::create(
            b, e.cmpi(arith::CmpIPredicate::ult, tid, e.index(kKeyTile)),
            e.cmpi(arith::CmpIPredicate::ult, myKey, e.index(tokens)));
        e.ifThen(owns, [&] {
          memref::StoreOp::create(b, keyScore, scores, ValueRange{bi, myKey});
        });
      });
}

/// Two phases: the softmax statistics per query row, then each key's score,
/// one query row, then one key, per iteration (the logits recomputed); or
/// the GPU's block kernels (lowerAttnScoreBlocks).
void lowerAttnScore(tok::AttnScoreOp op, ImplicitLocOpBuilder &b,
                    LoweringContext &context, bool gpuForm) {
  OpLowering e(b, context);
  auto qType = op.getQueries().getType();
  auto kType = op.getKeys().getType();
  int64_t batch = qType.getDimSize(0), heads = qType.getDimSize(1);
  int64_t rows = qType.getDimSize(2), headDim = qType.getDimSize(3);
  int64_t kvHeads = kType.getDimSize(1), tokens = kType.getDimSize(2);
  int64_t groupSize = heads / kvHeads;
  bool isMean = op.getReduction() == tok::ScoreReduction::mean;
  float norm = isMean ? 1.0f / static_cast<float>(heads * rows) : 1.0f;
  float scale = op.getEffectiveScale();

  Value queries = e.toBuffer(op.getQueries());
  Value keys = e.toBuffer(op.getKeys());
  Value lengths = op.getLengths() ? e.toBuffer(op.getLengths()) : Value();
  Value lse = op.getLse() ? e.toBuffer(op.getLse()) : Value();
  Value positions =
      op.getQueryPositions() ? e.toBuffer(op.getQueryPositions()) : Value();
  Value scores = e.allocFor(op.getScores());

  // Sums in the fixed lane order of orderedSums (the same bits on every
  // target, so the selection that reads the scores is the same too).
  // The scaled logit of key j for query row (b, h, q).
  auto logitAt = [&](Value bi, Value h, Value q, Value j) {
    Value kvHead = arith::DivUIOp::create(b, h, e.index(groupSize));
    Value dot = e.orderedSums(
        e.index(0), e.index(headDim), 1, [&](Value d) -> SmallVector<Value> {
          Value qv = e.widenToF32(
              memref::LoadOp::create(b, queries, ValueRange{bi, h, q, d}));
          Value kv = e.widenToF32(
              memref::LoadOp::create(b, keys, ValueRange{bi, kvHead, j, d}));
          return {arith::MulFOp::create(b, qv, kv)};
        })[0];
    return arith::MulFOp::create(b, dot, e.f32(scale)).getResult();
  };
  // How many keys query row (b, q) sees: the row length, or up to its
  // position when query positions are given (causal).
  auto keyLimit = [&](Value bi, Value q, Value len) {
    if (!positions)
      return len;
    Value pos = memref::LoadOp::create(b, positions, ValueRange{bi, q});
    Value posIndex = arith::IndexCastOp::create(b, b.getIndexType(), pos);
    Value seen = arith::AddIOp::create(b, posIndex, e.index(1));
    return e.clampIndex(seen, e.index(0), len);
  };

  // The GPU form outside a tok.dispatch, for rows of keys that fit shared
  // memory: no attention-sized buffer ([B, H, Q, N]) is ever allocated.
  if (gpuForm && !context.row && tokens * 4 <= kSharedScoreBytes) {
    lowerAttnScoreBlocks(op, e, logitAt, keyLimit, lengths, lse, scores, norm);
    e.replaceWithBuffer(op.getScores(), scores);
    return;
  }

  // Phase 1, one iteration per query row: the softmax statistics (max
  // logit, sum of exponentials) over its valid keys. With a given LSE the
  // softmax needs none.
  Value stats;
  if (!lse) {
    stats = memref::AllocOp::create(
        b, MemRefType::get({batch, heads, rows, 2}, b.getF32Type()));
    e.parallelFor({batch, heads, rows}, [&](ValueRange iv) {
      Value bi = iv[0], h = iv[1], q = iv[2];
      Value limit = keyLimit(bi, q, e.rowLength(lengths, bi, tokens));
      Value maxLogit = e.forLoop(
          e.index(0), limit, ValueRange{e.f32(-INFINITY)},
          [&](Value j, ValueRange state) -> SmallVector<Value> {
            return {arith::MaximumFOp::create(b, state[0],
                                              logitAt(bi, h, q, j))};
          })[0];
      Value sum = e.orderedSums(
          e.index(0), limit, 1, [&](Value j) -> SmallVector<Value> {
            return {math::ExpOp::create(
                b, arith::SubFOp::create(b, logitAt(bi, h, q, j), maxLogit))};
          })[0];
      memref::StoreOp::create(b, maxLogit, stats,
                              ValueRange{bi, h, q, e.index(0)});
      memref::StoreOp::create(b, sum, stats, ValueRange{bi, h, q, e.index(1)});
    });
  }

  // Phase 2, one iteration per key: its probability summed over the query
  // rows in (head, row) order. No probability row is ever stored.
  e.parallelFor({batch, tokens}, [&](ValueRange iv) {
    Value bi = iv[0], j = iv[1];
    Value len = e.rowLength(lengths, bi, tokens);
    Value total = e.forLoop(
        e.index(0), e.index(heads), ValueRange{e.f32(0.0)},
        [&](Value h, ValueRange outer) -> SmallVector<Value> {
          return {e.forLoop(
              e.index(0), e.index(rows), ValueRange{outer[0]},
              [&](Value q, ValueRange acc) -> SmallVector<Value> {
                Value valid = arith::CmpIOp::create(
                    b, arith::CmpIPredicate::slt, j, keyLimit(bi, q, len));
                auto ifValid = scf::IfOp::create(b, TypeRange{b.getF32Type()},
                                                 valid, /*withElse=*/true);
                OpBuilder::InsertionGuard guard(b);
                b.setInsertionPointToStart(ifValid.thenBlock());
                Value logit = logitAt(bi, h, q, j);
                Value add =
                    probabilityTerm(e, logit, lse, stats, bi, h, q, norm);
                scf::YieldOp::create(
                    b, ValueRange{arith::AddFOp::create(b, acc[0], add)});
                b.setInsertionPointToStart(ifValid.elseBlock());
                scf::YieldOp::create(b, ValueRange{acc[0]});
                return {ifValid.getResult(0)};
              })[0]};
        })[0];
    memref::StoreOp::create(b, total, scores, ValueRange{bi, j});
  });
  e.replaceWithBuffer(op.getScores(), scores);
}

//===----------------------------------------------------------------------===//
// tok.compact
//===----------------------------------------------------------------------===//

/// The padding element of a gathered tensor: -1 for ids, 0 otherwise.
Value paddingValue(ImplicitLocOpBuilder &b, Type elementType) {
  if (auto intType = dyn_cast<IntegerType>(elementType)) {
    int64_t value = intType.getWidth() == 1 ? 0 : -1;
    return arith::ConstantIntOp::create(b, intType, value);
  }
  return arith::ConstantOp::create(b, b.getZeroAttr(elementType));
}

/// One output row of tok.compact: whether it gathers (live and in range),
/// the source index, and the flat row offsets of its source and output planes.
struct OutputRow {
  Value valid, index, srcPlane, outPlane;
};

/// A 1-D view of a contiguous buffer, so gathers can address rows linearly.
Value flatten(ImplicitLocOpBuilder &b, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  SmallVector<ReassociationIndices> all(1);
  for (int64_t d = 0; d < type.getRank(); ++d)
    all[0].push_back(d);
  return memref::CollapseShapeOp::create(b, buffer, all);
}

/// Whether slot j of row bi holds an index in [0, tokens), and the index.
std::pair<Value, Value> keptIndex(OpLowering &e, Value indices, Value bi,
                                  Value j, int64_t tokens) {
  ImplicitLocOpBuilder &b = e.builder();
  Value idx = memref::LoadOp::create(b, indices, ValueRange{bi, j});
  Value inRange = arith::AndIOp::create(
      b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, idx, e.i32(0)),
      arith::CmpIOp::create(b, arith::CmpIPredicate::slt, idx, e.i32(tokens)));
  return {inRange, idx};
}

/// compact's old_to_new by a block per row: -1 everywhere, a barrier, then
/// each kept slot's index gets the slot by an atomic maximum.
void mapByBlocks(OpLowering &e, Value indices, Value counts, Value map,
                 int64_t batch, int64_t capacity, int64_t tokens) {
  ImplicitLocOpBuilder &b = e.builder();
  constexpr int64_t kThreads = 256;
  e.blockLaunch(
      e.index(batch), kThreads, {}, [&](Value bi, Value tid, ValueRange) {
        e.blockStrided(
            e.index(0), e.index(tokens), tid, kThreads, ValueRange{},
            [&](Value i, ValueRange) -> SmallVector<Value> {
              memref::StoreOp::create(b, e.i32(-1), map, ValueRange{bi, i});
              return {};
            });
        collective::BlockBarrierOp::create(b);
        Value n = e.loadClampedCount(counts, bi, e.index(capacity));
        e.blockStrided(
            e.index(0), n, tid, kThreads, ValueRange{},
            [&](Value j, ValueRange) -> SmallVector<Value> {
              std::pair<Value, Value> kept =
                  keptIndex(e, indices, bi, j, tokens);
              e.ifThen(kept.first, [&] {
                memref::AtomicRMWOp::create(
                    b, arith::AtomicRMWKind::maxs,
                    arith::IndexCastOp::create(b, b.getI32Type(), j), map,
                    ValueRange{bi, arith::IndexCastOp::create(
                                       b, b.getIndexType(), kept.second)});
              });
              return {};
            });
      });
}

void lowerCompact(tok::CompactOp op, ImplicitLocOpBuilder &b,
                  LoweringContext &context, bool perElement) {
  OpLowering e(b, context);
  auto idxType = op.getIndices().getType();
  int64_t batch = idxType.getDimSize(0), capacity = idxType.getDimSize(1);
  int64_t tokens = op.getOldToNew().getType().getDimSize(1);

  Value indices = e.toBuffer(op.getIndices());
  Value counts = e.toBuffer(op.getCount());

  // old_to_new: -1 everywhere, then the slot of every kept in-range index
  // (a repeated index keeps its last slot).
  Value map = e.allocFor(op.getOldToNew());
  if (perElement && !context.row) {
    // GPU form (nothing when no one reads the map: a launch is not dead
    // code): a block per row, its threads filling the row with -1 and
    // then writing the slots, a repeated index's largest slot by an atomic
    // maximum (the last slot, whatever the order of the writes).
    if (!op.getOldToNew().use_empty())
      mapByBlocks(e, indices, counts, map, batch, capacity, tokens);
  } else {
    e.parallelFor(batch, [&](Value bi) {
      e.forLoop(e.index(0), e.index(tokens), [&](Value i) {
        memref::StoreOp::create(b, e.i32(-1), map, ValueRange{bi, i});
      });
      Value n = e.loadClampedCount(counts, bi, e.index(capacity));
      e.forLoop(e.index(0), n, [&](Value j) {
        std::pair<Value, Value> kept = keptIndex(e, indices, bi, j, tokens);
        e.ifThen(kept.first, [&] {
          memref::StoreOp::create(
              b, arith::IndexCastOp::create(b, b.getI32Type(), j), map,
              ValueRange{bi, arith::IndexCastOp::create(b, b.getIndexType(),
                                                        kept.second)});
        });
      });
    });
  }

  SmallVector<Value> results;
  for (auto [s, source] : llvm::enumerate(op.getSources())) {
    auto srcType = cast<RankedTensorType>(source.getType());
    Type resultType = op.getGathered()[s].getType();
    int64_t axis = op.getTokenAxis(s);
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d + 1 < axis; ++d)
      outer *= srcType.getDimSize(d);
    for (int64_t d = axis + 1; d < srcType.getRank(); ++d)
      inner *= srcType.getDimSize(d);

    Value src = flatten(b, e.toBuffer(source));
    Value outBuffer = e.allocFor(op.getGathered()[s]);
    Value out = flatten(b, outBuffer);
    Value pad = paddingValue(b, srcType.getElementType());
    Value innerSize = e.index(inner);
    // Output row j of (outer o, batch row bi): whether it gathers source row
    // `idx` (live and in range), and the flat row offsets of both planes.
    auto outputRow = [&](Value o, Value bi, Value j) {
      Value n = e.loadClampedCount(counts, bi, e.index(capacity));
      Value plane = arith::AddIOp::create(
          b, arith::MulIOp::create(b, o, e.index(batch)), bi);
      Value srcPlane = arith::MulIOp::create(b, plane, e.index(tokens));
      Value outPlane = arith::MulIOp::create(b, plane, e.index(capacity));
      Value idx = memref::LoadOp::create(b, indices, ValueRange{bi, j});
      Value valid = arith::AndIOp::create(
          b, arith::CmpIOp::create(b, arith::CmpIPredicate::slt, j, n),
          arith::AndIOp::create(
              b,
              arith::CmpIOp::create(b, arith::CmpIPredicate::sge, idx,
                                    e.i32(0)),
              arith::CmpIOp::create(b, arith::CmpIPredicate::slt, idx,
                                    e.i32(tokens))));
      return OutputRow{valid, idx, srcPlane, outPlane};
    };

    // 16-byte vectors of `width` elements when a row is a whole number of
    // them: on the GPU one ld/st.global.v4.b32 per 8 bf16 instead of eight
    // 2-byte accesses. Both base pointers are checked at run time; a
    // misaligned buffer (a caller's sub-view) takes the scalar path.
    int64_t width = vectorWidth(srcType.getElementType(), inner);
    if (perElement && width > 0) {
      Value aligned =
          arith::AndIOp::create(b, isAligned16(e, src), isAligned16(e, out));
      e.parallelFor({outer, batch, capacity, inner / width},
                    [&](ValueRange iv) {
        Value j = iv[2];
        Value x = arith::MulIOp::create(b, iv[3], e.index(width));
        OutputRow row = outputRow(iv[0], iv[1], j);
        Value outAt = arith::AddIOp::create(
            b,
            arith::MulIOp::create(
                b, arith::AddIOp::create(b, row.outPlane, j), innerSize),
            x);
        auto ifValid = scf::IfOp::create(b, row.valid, /*withElse=*/true);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(ifValid.thenBlock()->getTerminator());
        Value i = arith::IndexCastOp::create(b, b.getIndexType(), row.index);
        Value srcAt = arith::AddIOp::create(
            b,
            arith::MulIOp::create(
                b, arith::AddIOp::create(b, row.srcPlane, i), innerSize),
            x);
        copyChunk(e, src, srcAt, out, outAt, width, aligned);
        b.setInsertionPoint(ifValid.elseBlock()->getTerminator());
        fillChunk(e, out, outAt, width, pad, aligned);
      });
    } else if (perElement) {
      // One iteration per output element, the element axis innermost: on the
      // GPU consecutive threads touch consecutive addresses of one row.
      e.parallelFor({outer, batch, capacity, inner}, [&](ValueRange iv) {
        Value j = iv[2], x = iv[3];
        OutputRow row = outputRow(iv[0], iv[1], j);
        Value valid = row.valid, idx = row.index, srcPlane = row.srcPlane,
              outPlane = row.outPlane;
        auto ifOp = scf::IfOp::create(b, TypeRange{pad.getType()}, valid,
                                      /*withElseRegion=*/true);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ifOp.thenBlock());
          Value i = arith::IndexCastOp::create(b, b.getIndexType(), idx);
          Value srcAt = arith::AddIOp::create(
              b,
              arith::MulIOp::create(b, arith::AddIOp::create(b, srcPlane, i),
                                    innerSize),
              x);
          scf::YieldOp::create(
              b, ValueRange{memref::LoadOp::create(b, src, ValueRange{srcAt})});
          b.setInsertionPointToStart(ifOp.elseBlock());
          scf::YieldOp::create(b, ValueRange{pad});
        }
        Value outAt = arith::AddIOp::create(
            b,
            arith::MulIOp::create(b, arith::AddIOp::create(b, outPlane, j),
                                  innerSize),
            x);
        memref::StoreOp::create(b, ifOp.getResult(0), out, ValueRange{outAt});
      });
    } else {
      // One iteration per output row; its elements copied by an inner loop
      // (the index and count are read once per row).
      e.parallelFor({outer, batch, capacity}, [&](ValueRange iv) {
        Value j = iv[2];
        OutputRow row = outputRow(iv[0], iv[1], j);
        Value valid = row.valid, idx = row.index, srcPlane = row.srcPlane,
              outPlane = row.outPlane;
        Value outBase = arith::MulIOp::create(
            b, arith::AddIOp::create(b, outPlane, j), innerSize);
        auto ifOp = scf::IfOp::create(b, valid, /*withElseRegion=*/true);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
        Value i = arith::IndexCastOp::create(b, b.getIndexType(), idx);
        Value srcBase = arith::MulIOp::create(
            b, arith::AddIOp::create(b, srcPlane, i), innerSize);
        e.forLoop(e.index(0), innerSize, [&](Value x) {
          Value v = memref::LoadOp::create(
              b, src, ValueRange{arith::AddIOp::create(b, srcBase, x)});
          memref::StoreOp::create(
              b, v, out, ValueRange{arith::AddIOp::create(b, outBase, x)});
        });
        b.setInsertionPoint(ifOp.elseBlock()->getTerminator());
        e.forLoop(e.index(0), innerSize, [&](Value x) {
          memref::StoreOp::create(
              b, pad, out, ValueRange{arith::AddIOp::create(b, outBase, x)});
        });
      });
    }
    results.push_back(e.toTensor(outBuffer, resultType));
  }
  for (auto [gathered, replacement] : llvm::zip(op.getGathered(), results))
    e.replace(gathered, replacement);
  e.replaceWithBuffer(op.getOldToNew(), map);
}

void lowerSelect(tok::SelectOp op, ImplicitLocOpBuilder &b,
                 LoweringContext &context, bool parallel) {
  SelectLowering(op, b, context, parallel).lower();
}

/// The ops of this family that have a CPU and a GPU form, in one of them.
void addPruneForms(RewritePatternSet &patterns, const LoweringOptions &options,
                   DispatchRow *row, bool gpuForm) {
  addTokLoweringForm<tok::SelectOp>(patterns, options, row, gpuForm,
                                    lowerSelect);
  addTokLoweringForm<tok::AttnScoreOp>(patterns, options, row, gpuForm,
                                       lowerAttnScore);
  addTokLoweringForm<tok::CompactOp>(patterns, options, row, gpuForm,
                                     lowerCompact);
}

} // namespace

void populatePruneToLoopsPatterns(RewritePatternSet &patterns,
                                  const LoweringOptions &options,
                                  DispatchRow *row) {
  addPruneForms(patterns, options, row, /*gpuForm=*/false);
}

void populatePruneToGpuLoopsPatterns(RewritePatternSet &patterns,
                                     const LoweringOptions &options,
                                     DispatchRow *row) {
  addPruneForms(patterns, options, row, /*gpuForm=*/true);
}

} // namespace winnow
