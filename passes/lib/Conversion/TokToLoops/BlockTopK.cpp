//===- BlockTopK.cpp - One thread block selects the best of a row ---------===//

#include "BlockTopK.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "winnow/Dialect/Collective/IR/CollectiveOps.h"

using namespace mlir;

namespace winnow {
namespace {
/// Tokens per thread in a tile of a pass (a tile is 8 times the threads).
constexpr int64_t kItems = 8;
/// Rows of keys up to this size live in shared memory.
constexpr int64_t kSharedKeyBytes = 32 * 1024;

/// `for (start = 0; start < len; start += threads * kItems)` with `state`.
ValueRange
forTiles(LoopEmitter &e, int64_t threads, Value len, ValueRange init,
         llvm::function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  return e.forLoop(e.index(0), len, e.index(threads * kItems), init, body);
}
} // namespace

int64_t topKThreadsFor(int64_t tokens) {
  return tokens > 4 * kTopKThreads * kItems ? 1024 : kTopKThreads;
}

TopKKeyStorage TopKKeyStorage::create(LoopEmitter &e, int64_t rows,
                                      int64_t tokens) {
  ImplicitLocOpBuilder &b = e.builder();
  TopKKeyStorage storage;
  storage.tokens = tokens;
  if (tokens * 4 <= kSharedKeyBytes) {
    storage.workgroup.push_back(workgroupMemRef({tokens}, b.getI32Type()));
    return storage;
  }
  // Freed by bufferization's deallocation after its last use.
  storage.global = memref::AllocOp::create(
      b, MemRefType::get({rows * tokens}, b.getI32Type()),
      b.getI64IntegerAttr(64));
  return storage;
}

Value TopKKeyStorage::rowOf(LoopEmitter &e, Value block,
                            ValueRange buffers) const {
  if (!global)
    return buffers.front();
  ImplicitLocOpBuilder &b = e.builder();
  Value offset = arith::MulIOp::create(b, block, e.index(tokens));
  return memref::SubViewOp::create(
      b, global, ArrayRef<OpFoldResult>{offset},
      ArrayRef<OpFoldResult>{b.getIndexAttr(tokens)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
}

Value emitBlockTopK(LoopEmitter &e, Value tid, const TopKRow &row) {
  ImplicitLocOpBuilder &b = e.builder();
  auto toI32 = [&](Value flag) -> Value {
    return arith::ExtUIOp::create(b, b.getI32Type(), flag);
  };
  Value len = row.len;
  bool ranked = static_cast<bool>(row.budget);

  // 1. The keys (0 for tokens that are not candidates: below every real
  //    key, RadixSelect.h) and the number of candidates; 8 tokens per
  //    thread strided by the block, so the loads coalesce and a thread's 8
  //    are in flight together.
  Value threshold = row.threshold, ties = e.i32(0);
  if (ranked) {
    Value mine = forTiles(
        e, row.threads, len, ValueRange{e.i32(0)},
        [&](Value start, ValueRange acc) -> SmallVector<Value> {
          Value count = acc[0];
          for (int64_t i = 0; i < kItems; ++i) {
            Value t =
                arith::AddIOp::create(b, arith::AddIOp::create(b, start, tid),
                                      e.index(i * row.threads));
            Value in = e.cmpi(arith::CmpIPredicate::slt, t, len);
            // Loads of tokens past the row read a valid one.
            Value safe = arith::SelectOp::create(b, in, t, start);
            Value isCandidate = row.candidate(safe);
            Value key = row.key(safe);
            e.ifThen(in, [&] {
              memref::StoreOp::create(
                  b, arith::SelectOp::create(b, isCandidate, key, e.i32(0)),
                  row.keys, ValueRange{t});
            });
            count = arith::AddIOp::create(
                b, count, toI32(arith::AndIOp::create(b, in, isCandidate)));
          }
          return {count};
        })[0];
    Value candidates = collective::BlockReduceOp::create(
        b, b.getI32Type(), collective::ReductionKind::add, mine);
    Value k =
        arith::IndexCastOp::create(b, b.getIndexType(), row.budget(candidates));
    // 2. The k-th largest key and how many keys are above it.
    auto select = collective::BlockRadixSelectOp::create(
        b, b.getI32Type(), b.getIndexType(), row.keys, len, k);
    threshold = select.getThreshold();
    ties = arith::IndexCastOp::create(
        b, b.getI32Type(), arith::SubIOp::create(b, k, select.getAbove()));
  }

  // 3. Tiles of 8 consecutive tokens per thread: every candidate above the
  //    threshold and the first `ties` equal to it (a block scan of the
  //    threads' tie counts ranks them), then a block scan of the kept
  //    counts places each kept token. State: tokens emitted, ties seen.
  int64_t tokens =
      ranked ? cast<MemRefType>(row.keys.getType()).getDimSize(0) : 0;
  // 16-byte loads of a thread's keys, from shared memory or a device
  // buffer.
  bool vectorKeys = ranked && tokens % kItems == 0;
  ValueRange emitted = forTiles(
      e, row.threads, len, ValueRange{e.index(0), e.i32(0)},
      [&](Value start, ValueRange state) -> SmallVector<Value> {
        Value first = arith::AddIOp::create(
            b, start, arith::MulIOp::create(b, tid, e.index(kItems)));
        SmallVector<Value> keyOf;
        if (vectorKeys) {
          // Past the row the keys are not used: any aligned vector will do.
          Value at = arith::MinSIOp::create(b, first, e.index(tokens - kItems));
          for (int64_t v = 0; v < kItems; v += 4) {
            Value vec = vector::LoadOp::create(
                b, VectorType::get({4}, b.getI32Type()), row.keys,
                ValueRange{arith::AddIOp::create(b, at, e.index(v))},
                /*nontemporal=*/false, llvm::MaybeAlign(16));
            for (int64_t l = 0; l < 4; ++l)
              keyOf.push_back(vector::ExtractOp::create(b, vec, l));
          }
        }
        SmallVector<Value> forced, above, tie;
        Value myTies = e.i32(0);
        for (int64_t i = 0; i < kItems; ++i) {
          Value t = arith::AddIOp::create(b, first, e.index(i));
          Value in = e.cmpi(arith::CmpIPredicate::slt, t, len);
          Value safe = arith::SelectOp::create(b, in, t, start);
          forced.push_back(arith::AndIOp::create(b, in, row.forced(safe)));
          Value candidate = arith::AndIOp::create(b, in, row.candidate(safe));
          Value key =
              !ranked ? row.key(safe)
              : vectorKeys
                  ? keyOf[i]
                  : memref::LoadOp::create(b, row.keys, safe).getResult();
          above.push_back(arith::AndIOp::create(
              b, candidate,
              e.cmpi(row.inclusive && !ranked ? arith::CmpIPredicate::uge
                                              : arith::CmpIPredicate::ugt,
                     key, threshold)));
          if (!ranked)
            continue;
          tie.push_back(arith::AndIOp::create(
              b, candidate, e.cmpi(arith::CmpIPredicate::eq, key, threshold)));
          myTies = arith::AddIOp::create(b, myTies, toI32(tie.back()));
        }
        Value tieRank, tiesSeen = e.i32(0);
        if (ranked) {
          auto scan = collective::BlockExclusiveScanOp::create(
              b, b.getI32Type(), b.getI32Type(), myTies, /*flags=*/false);
          tieRank = arith::AddIOp::create(b, state[1], scan.getPrefix());
          tiesSeen = scan.getTotal();
        }
        SmallVector<Value> keep;
        Value myKeep = e.i32(0);
        for (int64_t i = 0; i < kItems; ++i) {
          Value kept = arith::OrIOp::create(b, forced[i], above[i]);
          if (ranked) {
            kept = arith::OrIOp::create(
                b, kept,
                arith::AndIOp::create(
                    b, tie[i],
                    e.cmpi(arith::CmpIPredicate::slt, tieRank, ties)));
            tieRank = arith::AddIOp::create(b, tieRank, toI32(tie[i]));
          }
          keep.push_back(kept);
          myKeep = arith::AddIOp::create(b, myKeep, toI32(kept));
        }
        auto placed = collective::BlockExclusiveScanOp::create(
            b, b.getI32Type(), b.getI32Type(), myKeep, /*flags=*/false);
        Value slot =
            arith::AddIOp::create(b, state[0],
                                  arith::IndexCastOp::create(
                                      b, b.getIndexType(), placed.getPrefix()));
        for (int64_t i = 0; i < kItems; ++i) {
          Value t = arith::AddIOp::create(b, first, e.index(i));
          e.ifThen(keep[i], [&] { row.emit(slot, t); });
          slot = arith::AddIOp::create(b, slot, e.indexOf(keep[i]));
        }
        return {
            arith::AddIOp::create(b, state[0],
                                  arith::IndexCastOp::create(
                                      b, b.getIndexType(), placed.getTotal())),
            arith::AddIOp::create(b, state[1], tiesSeen)};
      });
  return emitted[0];
}

} // namespace winnow
