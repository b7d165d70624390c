//===- LowerVerifyToLoops.cpp - CPU loops for speculative verification ----===//
//
// One loop nest per request. Each verified row is streamed over the vocabulary
// a fixed number of times (max, sum of exponentials, and, only when needed,
// the entropy or an exponential race); no probability row is ever stored.
// In the intra-row-parallel (GPU) form, tok.spec_verify first computes those
// row statistics for every row with split-vocabulary kernels, and each
// request then reads them.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "Philox.h"
#include "RowBlock.h"
#include "TokOpLowering.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "winnow/Dialect/Collective/IR/CollectiveOps.h"
#include "winnow/Dialect/Tok/IR/TokOps.h"

using namespace mlir;

namespace winnow {
namespace {

/// The Philox stream of each kind of noise (the counter's second word).
constexpr uint32_t kUniformStream = 0;
constexpr uint32_t kExponentialStream = 1;
/// Medusa's offset inside the entropy's log.
constexpr float kEntropyOffset = 1e-5f;

/// Streaming operations over one vocabulary row of `logits` for the current
/// request (`req`): row statistics, argmax, probabilities and the
/// exponential race. Shared by the chain and tree verifiers.
class VocabRowOps {
protected:
  VocabRowOps(ImplicitLocOpBuilder &b, LoweringContext &context)
      : b(b), e(b, context), parallelChunks(!context.intraRowParallel()) {}

  Value f32(double v) { return e.f32(v); }
  Value i1(bool v) { return arith::ConstantIntOp::create(b, b.getI1Type(), v); }
  Value notV(Value v) { return e.notI1(v); }
  Value cmpf(arith::CmpFPredicate p, Value x, Value y) {
    return arith::CmpFOp::create(b, p, x, y);
  }
  Value cmpi(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, p, x, y);
  }

  /// Row `i`'s entry of a row table: [B, rows] in device memory, or the
  /// current request's [rows] in workgroup memory.
  Value tableAt(Value table, Value i) {
    if (cast<MemRefType>(table.getType()).getRank() == 1)
      return memref::LoadOp::create(b, table, ValueRange{i});
    return memref::LoadOp::create(b, table, ValueRange{req, i});
  }

  /// Logit `v` of row `i` of the current request, widened to f32.
  Value logitAt(Value i, Value v) {
    return e.widenToF32(memref::LoadOp::create(b, logits, ValueRange{req, i, v}));
  }

  /// Loads the per-request seed and offset words when Philox is in use.
  void loadPhiloxKey() {
    if (!seed)
      return;
    seedWords = splitI64(b, memref::LoadOp::create(b, seed, ValueRange{req}));
    offsetWords = splitI64(b, memref::LoadOp::create(b, offset, ValueRange{req}));
  }

  /// Philox word for (n, stream) of the current request.
  Value philoxWord(Value n, uint32_t stream) {
    Value n32 = arith::IndexCastOp::create(b, b.getI32Type(), n);
    Value streamWord = arith::ConstantIntOp::create(
        b, b.getI32Type(), static_cast<int32_t>(stream));
    return emitPhiloxFirstWord(b, {n32, streamWord, offsetWords[0], offsetWords[1]},
                               seedWords);
  }

  Value exponentialAt(Value v) {
    if (exponentials)
      return memref::LoadOp::create(b, exponentials, ValueRange{req, v});
    return emitExponentialFromWord(b, philoxWord(v, kExponentialStream));
  }

  /// One step of a scan for the first maximum: (x, v) replaces the best so
  /// far (s[0], s[1]) when strictly larger (NaN never does).
  SmallVector<Value> argmaxStep(Value v, Value x, ValueRange s) {
    Value better = cmpf(arith::CmpFPredicate::OGT, x, s[0]);
    return {arith::SelectOp::create(b, better, x, s[0]),
            arith::SelectOp::create(b, better, v, s[1])};
  }

  /// First index of the largest `value(v)` over the vocabulary; NaN never
  /// wins, and a row with nothing larger than -inf gives 0.
  Value argmaxOver(llvm::function_ref<Value(Value)> value) {
    ValueRange best = e.forLoop(
        e.index(0), e.index(vocab), ValueRange{f32(-INFINITY), e.index(0)},
        [&](Value v, ValueRange s) -> SmallVector<Value> {
          return argmaxStep(v, value(v), s);
        });
    return best[1];
  }

  Value rowArgmax(Value i) {
    if (neverGreedy) // the op has no greedy request: code never reached
      return e.index(0);
    if (argmaxTable)
      return tableAt(argmaxTable, i);
    return argmaxOver([&](Value v) { return logitAt(i, v); });
  }

  //===--------------------------------------------------------------------===//
  // The statistics' order of sums (the op description's "Order of sums")
  //===--------------------------------------------------------------------===//

  /// A row's sums run over chunks of kChunk entries; in a chunk, lane l of
  /// kChunkLanes adds its kLaneEntries consecutive entries in order, and
  /// the lanes meet in the warp tree of collective.warp_reduce (lane l takes
  /// lane l + d for d = 16, 8, 4, 2, 1). The chunks' results meet the same
  /// way: lane l adds chunks l, l + 32, ... in order, then the warp tree.
  /// One warp per chunk on the GPU; the CPU replays the same additions.
  static constexpr int64_t kChunkLanes = 32;
  static constexpr int64_t kLaneEntries = 8;
  static constexpr int64_t kChunk = kChunkLanes * kLaneEntries;

  int64_t chunks() const { return llvm::divideCeil(vocab, kChunk); }

  /// The warp tree over the kChunkLanes values of `lanesBuffer` (the CPU's
  /// copy of collective.warp_reduce add): lane 0's result.
  Value treeSum(Value lanesBuffer) {
    for (int64_t d = kChunkLanes / 2; d >= 1; d /= 2)
      e.forLoop(e.index(0), e.index(d), [&](Value l) {
        Value high = arith::AddIOp::create(b, l, e.index(d));
        memref::StoreOp::create(
            b,
            arith::AddFOp::create(
                b, memref::LoadOp::create(b, lanesBuffer, ValueRange{l}),
                memref::LoadOp::create(b, lanesBuffer, ValueRange{high})),
            lanesBuffer, ValueRange{l});
      });
    return memref::LoadOp::create(b, lanesBuffer, ValueRange{e.index(0)});
  }

  /// The end of chunk `c` (the vocabulary's end for the last one).
  Value chunkEnd(Value base) {
    return arith::MinUIOp::create(
        b, arith::AddIOp::create(b, base, e.index(kChunk)), e.index(vocab));
  }

  /// Stores `term(v)` for v in [base, end) (at most kChunk entries) at
  /// termScratch[v - base], in a loop of its own (CPU form). The terms are
  /// independent of each other, so LLVM's loop vectoriser computes them
  /// (exp, log, Philox) several at a time; inside the ordered sums and
  /// scans that read them they would be chained to the previous addition
  /// and stay scalar. Same values, same order of use: same bits.
  void stageTerms(Value base, Value end,
                  llvm::function_ref<Value(Value)> term) {
    Value count = arith::SubIOp::create(b, end, base);
    e.forLoop(e.index(0), count, [&](Value k) {
      memref::StoreOp::create(b, term(arith::AddIOp::create(b, base, k)),
                              termScratch, ValueRange{k});
    });
  }

  /// Sum of `term(v)` over the chunk [base, end) in the chunk order (CPU
  /// form).
  Value chunkSum(Value base, Value end, llvm::function_ref<Value(Value)> term) {
    Value count = arith::SubIOp::create(b, end, base);
    stageTerms(base, end, term);
    e.forLoop(e.index(0), e.index(kChunkLanes), [&](Value lane) {
      Value first = arith::MulIOp::create(b, lane, e.index(kLaneEntries));
      Value last = arith::MinUIOp::create(
          b, arith::AddIOp::create(b, first, e.index(kLaneEntries)), count);
      Value sum =
          e.forLoop(first, last, ValueRange{f32(0.0)},
                    [&](Value k, ValueRange s) -> SmallVector<Value> {
                      return {arith::AddFOp::create(
                          b, s[0], memref::LoadOp::create(b, termScratch, k))};
                    })[0];
      memref::StoreOp::create(b, sum, laneScratch, ValueRange{lane});
    });
    return treeSum(laneScratch);
  }

  /// argmaxOver for a `value` that costs more than a load (the races):
  /// each chunk's values are staged first, then scanned in order (CPU
  /// form; argmaxOver where there is no term scratch).
  Value stagedArgmaxOver(llvm::function_ref<Value(Value)> value) {
    if (!termScratch)
      return argmaxOver(value);
    return stagedArgmaxAndAny(
               [&](Value v) { return std::make_pair(value(v), i1(false)); })
        .first;
  }

  /// The first maximum of the values of `valueAndFlag(v)` and whether any
  /// of its flags holds, in one pass over the row (CPU form, with term
  /// scratch): each chunk's values are staged, then scanned in order.
  std::pair<Value, Value> stagedArgmaxAndAny(
      llvm::function_ref<std::pair<Value, Value>(Value)> valueAndFlag) {
    if (parallelChunks)
      return chunkedArgmaxAndAny(valueAndFlag);
    ValueRange best = e.forLoop(
        e.index(0), e.index(chunks()),
        ValueRange{f32(-INFINITY), e.index(0), i1(false)},
        [&](Value c, ValueRange s) -> SmallVector<Value> {
          Value base = arith::MulIOp::create(b, c, e.index(kChunk));
          return chunkFirstMaxAndAny(base, chunkEnd(base), s, valueAndFlag);
        });
    return {best[1], best[2]};
  }

  /// One chunk [base, end) of stagedArgmaxAndAny: its values staged in term
  /// scratch (with the OR of their flags into `state[2]`), then scanned for
  /// the first maximum from (`state[0]`, `state[1]`). Returns the three.
  SmallVector<Value> chunkFirstMaxAndAny(
      Value base, Value end, ValueRange state,
      llvm::function_ref<std::pair<Value, Value>(Value)> valueAndFlag) {
    Value count = arith::SubIOp::create(b, end, base);
    Value any = e.forLoop(
        e.index(0), count, ValueRange{state[2]},
        [&](Value k, ValueRange t) -> SmallVector<Value> {
          auto [value, flag] = valueAndFlag(arith::AddIOp::create(b, base, k));
          memref::StoreOp::create(b, value, termScratch, ValueRange{k});
          return {arith::OrIOp::create(b, t[0], flag)};
        })[0];
    ValueRange found = e.forLoop(
        e.index(0), count, ValueRange{state[0], state[1]},
        [&](Value k, ValueRange inner) -> SmallVector<Value> {
          return argmaxStep(arith::AddIOp::create(b, base, k),
                            memref::LoadOp::create(b, termScratch, k), inner);
        });
    return {found[0], found[1], any};
  }

  /// stagedArgmaxAndAny with the chunks in parallel (forEachChunk): each
  /// chunk stages its values and scans them for its own first maximum
  /// (from -inf), and whether any flag holds; then the chunks' maxima are
  /// scanned in chunk order with the same strict comparison. A chunk's
  /// maximum replaces the best so far exactly when the sequential scan
  /// would have replaced it inside that chunk, and then by the chunk's
  /// first entry of that value: the same index as one scan over the row.
  std::pair<Value, Value> chunkedArgmaxAndAny(
      llvm::function_ref<std::pair<Value, Value>(Value)> valueAndFlag) {
    Value maxima = chunkTable();
    Value firsts = moreScratch(chunks(), b.getIndexType());
    Value anyFlags = moreScratch(chunks(), b.getI1Type());
    forEachChunk([&](Value c, Value base, Value end) {
      SmallVector<Value> found = chunkFirstMaxAndAny(
          base, end, ValueRange{f32(-INFINITY), e.index(0), i1(false)},
          valueAndFlag);
      memref::StoreOp::create(b, found[0], maxima, ValueRange{c});
      memref::StoreOp::create(b, found[1], firsts, ValueRange{c});
      memref::StoreOp::create(b, found[2], anyFlags, ValueRange{c});
    });
    ValueRange best =
        e.forLoop(e.index(0), e.index(chunks()),
                  ValueRange{f32(-INFINITY), e.index(0), i1(false)},
                  [&](Value c, ValueRange s) -> SmallVector<Value> {
                    SmallVector<Value> next = argmaxStep(
                        memref::LoadOp::create(b, firsts, c),
                        memref::LoadOp::create(b, maxima, c), s.take_front(2));
                    next.push_back(arith::OrIOp::create(
                        b, s[2], memref::LoadOp::create(b, anyFlags, c)));
                    return next;
                  });
    return {best[1], best[2]};
  }

  /// Sum over the chunks of `value(c)` in the chunk order (CPU form).
  Value overChunks(llvm::function_ref<Value(Value)> value) {
    e.forLoop(e.index(0), e.index(kChunkLanes), [&](Value lane) {
      Value sum = e.forLoop(lane, e.index(chunks()), e.index(kChunkLanes),
                            ValueRange{f32(0.0)},
                            [&](Value c, ValueRange s) -> SmallVector<Value> {
                              return {arith::AddFOp::create(b, s[0], value(c))};
                            })[0];
      memref::StoreOp::create(b, sum, laneScratch, ValueRange{lane});
    });
    return treeSum(laneScratch);
  }

  /// The largest `x(v)` of the chunk [base, end) (CPU form): each lane's
  /// first maximum of its entries in order (NaN never wins; -inf when none
  /// is a number above it), then the arith.maximumf of the lanes' (-0.0
  /// below +0.0), which any order of the lanes gives. The lanes step
  /// through their entries together, entry j of every lane before entry
  /// j + 1 of any, so that LLVM's vectoriser runs several lanes at once;
  /// each lane still sees its own entries in order.
  Value chunkLargest(Value base, Value end,
                     llvm::function_ref<Value(Value)> x) {
    Value count = arith::SubIOp::create(b, end, base);
    Value last = arith::SubIOp::create(b, count, e.index(1));
    e.forLoop(e.index(0), e.index(kChunkLanes), [&](Value lane) {
      memref::StoreOp::create(b, f32(-INFINITY), laneScratch, lane);
    });
    e.forLoop(e.index(0), e.index(kLaneEntries), [&](Value j) {
      e.forLoop(e.index(0), e.index(kChunkLanes), [&](Value lane) {
        Value k = arith::AddIOp::create(
            b, arith::MulIOp::create(b, lane, e.index(kLaneEntries)), j);
        // Entries past the chunk's end read its last one and count as
        // -inf, which never replaces a lane's best.
        Value inChunk = cmpi(arith::CmpIPredicate::ult, k, count);
        Value at = arith::AddIOp::create(
            b, base, arith::SelectOp::create(b, inChunk, k, last));
        Value value =
            arith::SelectOp::create(b, inChunk, x(at), f32(-INFINITY));
        Value best = memref::LoadOp::create(b, laneScratch, lane);
        memref::StoreOp::create(b, maxStep(value, best), laneScratch, lane);
      });
    });
    return e.forLoop(
        e.index(0), e.index(kChunkLanes), ValueRange{f32(-INFINITY)},
        [&](Value lane, ValueRange s) -> SmallVector<Value> {
          return {arith::MaximumFOp::create(
              b, s[0], memref::LoadOp::create(b, laneScratch, lane))};
        })[0];
  }
  Value maxStep(Value x, Value best) {
    return arith::SelectOp::create(b, cmpf(arith::CmpFPredicate::OGT, x, best),
                                   x, best);
  }

  /// A chunk's scaled maximum max(x) / T (NaN ignored: -inf when the chunk
  /// has no number above -inf) and the shift of its exponentials (that
  /// maximum, or 0 when it is -inf, so -inf entries give 0, not NaN).
  std::pair<Value, Value> chunkScale(Value largest) {
    Value m = arith::DivFOp::create(b, largest, temp);
    Value none = cmpf(arith::CmpFPredicate::OEQ, m, f32(-INFINITY));
    return {m, arith::SelectOp::create(b, none, f32(0.0), m)};
  }

  /// A chunk's term: exp(x / T - shift), an exponent of at most 0.
  Value expTerm(Value x, Value shift) {
    return expOfNonPositive(
        arith::SubFOp::create(b, arith::DivFOp::create(b, x, temp), shift));
  }

  /// exp(x) for an x known to be at most 0 or NaN (tok-portable-exp-log
  /// then skips its overflow check).
  Value expOfNonPositive(Value x) {
    auto exp = math::ExpOp::create(b, x);
    exp->setAttr(kNonPositiveExpAttrName, b.getUnitAttr());
    return exp;
  }

  /// Chunk c's weight in the row's sum, s_c exp(m_c - M): M is the row's
  /// largest m_c (a NaN weight when M is -inf, as every entry is -inf or
  /// NaN then; 0 for a chunk of -inf entries otherwise).
  Value chunkWeight(Value m, Value sum, Value rowMax) {
    return arith::MulFOp::create(
        b, sum, expOfNonPositive(arith::SubFOp::create(b, m, rowMax)));
  }

  /// log-sum-exp of `logits[row] / T` in the chunk order: each chunk's
  /// maximum and sum (CPU form; the GPU's come from buildChunkStats).
  Value rowLse(Value i) {
    if (givenProbs)
      return f32(0.0); // no probability reads it
    if (lseTable)
      return tableAt(lseTable, i);
    assert(laneScratch && "allocChunkScratch before the request loop");
    Value chunkMaxima = chunkTable(), chunkSums = chunkTable();
    forEachChunk([&](Value c, Value base, Value end) {
      Value largest =
          chunkLargest(base, end, [&](Value v) { return logitAt(i, v); });
      std::pair<Value, Value> scale = chunkScale(largest);
      Value m = scale.first, shift = scale.second;
      Value sum = chunkSum(
          base, end, [&](Value v) { return expTerm(logitAt(i, v), shift); });
      memref::StoreOp::create(b, m, chunkMaxima, ValueRange{c});
      memref::StoreOp::create(b, sum, chunkSums, ValueRange{c});
    });
    Value rowMax =
        e.forLoop(e.index(0), e.index(chunks()), ValueRange{f32(-INFINITY)},
                  [&](Value c, ValueRange s) -> SmallVector<Value> {
                    return {arith::MaximumFOp::create(
                        b, s[0], memref::LoadOp::create(b, chunkMaxima, c))};
                  })[0];
    Value total = overChunks([&](Value c) {
      return chunkWeight(memref::LoadOp::create(b, chunkMaxima, c),
                         memref::LoadOp::create(b, chunkSums, c), rowMax);
    });
    return arith::AddFOp::create(b, rowMax, math::LogOp::create(b, total));
  }

  /// The scratch of the CPU form's sums: created before the loops over
  /// requests (the lowering contract's scratch rule), written before read.
  /// The lane partials and one chunk's terms here are the request's own;
  /// each chunk loop has its own (forEachChunk).
  void allocChunkScratch() {
    Type f32Type = b.getF32Type();
    laneScratch =
        memref::AllocaOp::create(b, MemRefType::get({kChunkLanes}, f32Type));
    termScratch = memref::AllocaOp::create(
        b, MemRefType::get({std::min(kChunk, vocab)}, f32Type));
    scratchEnd = termScratch.getDefiningOp();
  }

  /// More scratch of `size` entries of `type` (f32 by default; CPU form):
  /// with the rest, above the loops over requests.
  Value moreScratch(int64_t size, Type type = {}) {
    assert(scratchEnd && "allocChunkScratch before the request loop");
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointAfter(scratchEnd);
    auto buffer = memref::AllocaOp::create(
        b, MemRefType::get({size}, type ? type : b.getF32Type()));
    scratchEnd = buffer;
    return buffer;
  }
  /// A table of one result per chunk, for one chunk loop.
  Value chunkTable() { return moreScratch(chunks()); }

  /// Runs `body(c, base, end)` for every chunk `c` = [base, end) of a row
  /// (CPU form). A full chunk's end is base + kChunk and the last partial
  /// one's bounds are constants, so that LLVM sees constant trip counts
  /// (and unrolls and vectorises the lanes' loops) wherever the loop ends
  /// up. The chunks are independent, so on the CPU target they are a
  /// parallel loop that the runtime's threads share, and a single request
  /// spreads over them. The loop has lane and term scratch that nothing
  /// else uses (so tok-outline-parallel-loops gives each task its own) and
  /// writes chunk tables of its own that only the code after it reads. In
  /// the GPU pipeline's fallback to this form it is a sequential loop.
  void forEachChunk(llvm::function_ref<void(Value, Value, Value)> body) {
    int64_t fullChunks = vocab / kChunk;
    auto chunk = [&](Value c) {
      auto full = [&] {
        Value base = arith::MulIOp::create(b, c, e.index(kChunk));
        body(c, base, arith::AddIOp::create(b, base, e.index(kChunk)));
      };
      auto last = [&] {
        body(e.index(fullChunks), e.index(fullChunks * kChunk), e.index(vocab));
      };
      if (fullChunks == chunks())
        return full();
      if (fullChunks == 0)
        return last();
      auto ifFull = scf::IfOp::create(
          b, cmpi(arith::CmpIPredicate::ult, c, e.index(fullChunks)),
          /*withElseRegion=*/true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(ifFull.thenBlock()->getTerminator());
      full();
      b.setInsertionPoint(ifFull.elseBlock()->getTerminator());
      last();
    };
    if (!parallelChunks) {
      e.forLoop(e.index(0), e.index(chunks()), chunk);
      return;
    }
    Value requestLanes = laneScratch, requestTerms = termScratch;
    laneScratch = moreScratch(kChunkLanes);
    termScratch = moreScratch(std::min(kChunk, vocab));
    e.parallelFor(chunks(), chunk);
    laneScratch = requestLanes;
    termScratch = requestTerms;
  }

  /// p_v of row `i`, given its log-sum-exp.
  Value probAt(Value i, Value v, Value lse) {
    return probFromLogit(logitAt(i, v), lse);
  }
  Value probFromLogit(Value logit, Value lse) {
    if (givenProbs)
      return logit; // the caller's probability, used as given
    Value x = arith::DivFOp::create(b, logit, temp);
    return math::ExpOp::create(b, arith::SubFOp::create(b, x, lse));
  }

  Value raceOverProbs(Value i, Value lse) {
    if (raceTable)
      return memref::LoadOp::create(b, raceTable, ValueRange{req, i});
    return stagedArgmaxOver([&](Value v) {
      return arith::DivFOp::create(b, probAt(i, v, lse), exponentialAt(v));
    });
  }

  /// Medusa's acceptance threshold of row `i`:
  /// min(epsilon, alpha * exp(-H(p))), H(p) = -sum p log(p + 1e-5).
  Value typicalThreshold(Value i, Value lse, double epsilon, double alpha) {
    Value entropy = entropyTable ? tableAt(entropyTable, i) : entropyOf(i, lse);
    return arith::MinimumFOp::create(
        b, f32(epsilon),
        arith::MulFOp::create(
            b, f32(alpha),
            math::ExpOp::create(b, arith::NegFOp::create(b, entropy))));
  }

  /// H(p) = -sum p log(p + 1e-5) of row `i` in the chunk order (CPU
  /// form).
  Value entropyOf(Value i, Value lse) {
    Value chunkSums = chunkTable();
    forEachChunk([&](Value c, Value base, Value end) {
      memref::StoreOp::create(
          b,
          chunkSum(base, end, [&](Value v) { return entropyTerm(i, v, lse); }),
          chunkSums, ValueRange{c});
    });
    return overChunks([&](Value c) {
      return memref::LoadOp::create(b, chunkSums, c).getResult();
    });
  }

  /// The negated entropy term of p_v (summed into H(p)).
  Value entropyTerm(Value i, Value v, Value lse) {
    Value p = probAt(i, v, lse);
    return arith::NegFOp::create(
        b, arith::MulFOp::create(
               b, p,
               math::LogOp::create(
                   b, arith::AddFOp::create(b, p, f32(kEntropyOffset)))));
  }

  //===--------------------------------------------------------------------===//
  // Split-vocabulary row tables (intra-row-parallel, the GPU form)
  //===--------------------------------------------------------------------===//

  /// Lanes per vocabulary row: lane c reads v = c, c + L, c + 2L, ..., so
  /// neighbouring threads read neighbouring logits (coalesced).
  static constexpr int64_t kLanes = 256;

  int64_t lanes() const { return std::min<int64_t>(kLanes, vocab); }

  /// Entries a lane computes together per trip of laneWalk.
  static constexpr int64_t kInFlight = 8;
  /// Blocks of the launch the walks are built in (set by its builder): a
  /// grid of kTableBlocks or more is bound by instruction issue, a smaller
  /// one by load latency (the kernel model's terms).
  int64_t walkBlocks = 0;

  /// A part of the vocabulary: entries [first, end), at most `size` and at
  /// least `minSize` of them.
  struct Slice {
    Value first, end;
    int64_t size, minSize;
  };

  /// Lane `lane`'s walk of a vocabulary row: `state = step(v, value(v),
  /// state)` for v = lane, lane + L, ... < vocab, in that order. Each trip
  /// takes kInFlight consecutive entries of the lane and computes their
  /// values first (independent, so their loads are in flight together), then
  /// steps through them in order: the same steps as one entry at a time.
  /// The trip counts are constants (LLVM unrolls them further).
  /// With `slice` (first entry, end, a static bound on its size and the
  /// smallest size a slice has) the walk covers that slice only: v = first +
  /// lane, first + lane + L, ...
  SmallVector<Value> laneWalk(
      Value lane, ValueRange init, llvm::function_ref<Value(Value)> value,
      llvm::function_ref<SmallVector<Value>(Value, Value, ValueRange)> step,
      std::optional<Slice> slice = std::nullopt) {
    int64_t L = lanes();
    int64_t span = slice ? slice->size : vocab;
    Value start =
        slice ? Value(arith::AddIOp::create(b, slice->first, lane)) : lane;
    return walkTrips(
        start, slice ? slice->end : e.index(vocab), span,
        slice ? slice->minSize : vocab, L, init,
        [&](Value v) -> SmallVector<Value> { return {value(v)}; },
        [&](Value v, ValueRange terms, ValueRange state) {
          return step(v, terms[0], state);
        });
  }

  /// The trips of a walk over entries start, start + stride, ... < end,
  /// `state = step(v, terms(v), state)` in that order (kInFlight entries
  /// per trip, their terms first; at most `span` and at least `minSpan`
  /// entries lie between the walk's first entry and `end`, across every
  /// thread that walks with the same stride): the trips every thread
  /// completes first, without a bound check, then the rest with one (an
  /// entry past the end is computed from the vocabulary's last entry and
  /// not used). Either way the steps of one entry at a time, in order.
  SmallVector<Value> walkTrips(
      Value start, Value end, int64_t span, int64_t minSpan, int64_t stride,
      ValueRange init, llvm::function_ref<SmallVector<Value>(Value)> terms,
      llvm::function_ref<SmallVector<Value>(Value, ValueRange, ValueRange)>
          step) {
    int64_t trips = llvm::divideCeil(llvm::divideCeil(span, stride), kInFlight);
    int64_t fullTrips = std::min(trips, minSpan / (stride * kInFlight));
    // One trip's entries, their bound checks (none when unchecked) and
    // terms (the loads).
    struct Trip {
      SmallVector<Value> entries, inside;
      SmallVector<SmallVector<Value>> values;
    };
    auto load = [&](Value trip, bool checked) {
      Trip t;
      Value base = arith::AddIOp::create(
          b, start,
          arith::MulIOp::create(b, trip, e.index(stride * kInFlight)));
      for (int64_t u = 0; u < kInFlight; ++u) {
        Value v = arith::AddIOp::create(b, base, e.index(u * stride));
        t.entries.push_back(v);
        if (checked) {
          t.inside.push_back(cmpi(arith::CmpIPredicate::ult, v, end));
          v = arith::MinUIOp::create(b, v, e.index(vocab - 1));
        }
        t.values.push_back(terms(v));
      }
      return t;
    };
    auto fold = [&](const Trip &t, ValueRange state) {
      SmallVector<Value> next(state.begin(), state.end());
      for (int64_t u = 0; u < kInFlight; ++u) {
        SmallVector<Value> stepped = step(t.entries[u], t.values[u], next);
        for (auto [c, n] : llvm::zip(next, stepped))
          c = t.inside.empty()
                  ? n
                  : arith::SelectOp::create(b, t.inside[u], n, c).getResult();
      }
      return next;
    };
    auto loop = [&](int64_t from, int64_t to, ValueRange state,
                    bool checked) -> SmallVector<Value> {
      if (from == to)
        return SmallVector<Value>(state);
      return llvm::to_vector(e.forLoop(e.index(from), e.index(to), state,
                                       [&](Value trip, ValueRange current) {
                                         return fold(load(trip, checked),
                                                     current);
                                       }));
    };
    if (fullTrips == trips)
      return loop(0, trips, init, false);
    // The checked trips in a loop of their own save the checks of the
    // others but cost one more load latency: only a grid that fills the GPU
    // (issue-bound) splits.
    if (walkBlocks < kTableBlocks)
      return loop(0, trips, init, true);
    return loop(fullTrips, trips, loop(0, fullTrips, init, false), true);
  }

  /// Whether a partial argmax (x, v) replaces the best so far (bestX,
  /// bestV): a larger value, or the same finite-or-+inf value at a lower
  /// index. The first maximum whatever order the partials come in; NaN
  /// never wins.
  Value replacesBest(Value x, Value v, Value bestX, Value bestV) {
    Value tie = arith::AndIOp::create(
        b, cmpf(arith::CmpFPredicate::OEQ, x, bestX),
        arith::AndIOp::create(
            b, cmpf(arith::CmpFPredicate::OGT, x, f32(-INFINITY)),
            cmpi(arith::CmpIPredicate::ult, v, bestV)));
    return arith::OrIOp::create(b, cmpf(arith::CmpFPredicate::OGT, x, bestX),
                                tie);
  }

  /// The block's first maximum of its lanes' partial argmaxes (x, v): a
  /// collective.block_argmax (the larger value, ties to the lower index,
  /// every partial's x a number or -inf), which is what folding them in
  /// lane order from (-inf, 0) with replacesBest gives, once a block whose
  /// lanes all kept -inf is given index 0 as that fold does. Every thread
  /// gets the pair.
  std::pair<Value, Value> blockFirstMax(Value x, Value v) {
    auto best = collective::BlockArgMaxOp::create(b, b.getF32Type(),
                                                  b.getI32Type(), x, asI32(v));
    Value none = cmpf(arith::CmpFPredicate::OEQ, best.getMax(), f32(-INFINITY));
    Value at = asIndex(best.getArgmax());
    return {best.getMax(),
            arith::SelectOp::create(b, none, e.index(0), at).getResult()};
  }
  Value asIndex(Value v) {
    return arith::IndexCastOp::create(b, b.getIndexType(), v);
  }
  Value asI32(Value v) {
    return arith::IndexCastOp::create(b, b.getI32Type(), v);
  }

  /// One block per (request, row) of `rows`, a thread per lane: `walk`
  /// returns the lane's partial argmax (value, index), blockFirstMax
  /// combines the lanes, and thread 0 stores it with `store(at, max,
  /// index)`. With `slices` > 1 each row is cut into that many slices of
  /// the vocabulary, a block each: `walk` gets the slice too, and `store`
  /// the position (request, row, slice).
  void
  argmaxBlocks(int64_t batch, int64_t rows,
               llvm::function_ref<std::pair<Value, Value>(Value, Value,
                                                          std::optional<Slice>)>
                   walk,
               llvm::function_ref<void(ValueRange, Value, Value)> store,
               int64_t slices = 1) {
    if (batch * rows == 0)
      return;
    int64_t sliceSize = llvm::divideCeil(vocab, slices);
    int64_t lastSliceSize =
        std::max<int64_t>(0, vocab - (slices - 1) * sliceSize);
    walkBlocks = batch * rows * slices;
    e.blockLaunch(
        e.index(batch * rows * slices), lanes(), {},
        [&](Value block, Value lane, ValueRange) {
          Value rowBlock = arith::DivUIOp::create(b, block, e.index(slices));
          req = arith::DivUIOp::create(b, rowBlock, e.index(rows));
          Value i = arith::RemUIOp::create(b, rowBlock, e.index(rows));
          SmallVector<Value> at = {req, i};
          std::optional<Slice> slice;
          if (slices > 1) {
            Value s = arith::RemUIOp::create(b, block, e.index(slices));
            Value first = arith::MulIOp::create(b, s, e.index(sliceSize));
            slice = Slice{
                first,
                arith::MinUIOp::create(
                    b, arith::AddIOp::create(b, first, e.index(sliceSize)),
                    e.index(vocab)),
                sliceSize, lastSliceSize};
            at.push_back(s);
          }
          enterRequest();
          auto [x, v] = walk(i, lane, slice);
          std::pair<Value, Value> best = blockFirstMax(x, v);
          onFirstThread(e, lane, [&] { store(at, best.first, best.second); });
        });
  }

  /// Blocks a table should fill the GPU with: two per SM of a 132-SM H100
  /// or H200, the cards Winnow targets.
  static constexpr int64_t kTableBlocks = 264;

  /// For every (request, row): the first index of the largest `value` (NaN
  /// never wins; 0 when nothing beats -inf) and that value. Lane partials
  /// in parallel, then an ordered combine per row: identical to the
  /// sequential scan.
  std::pair<Value, Value>
  tableArgmax(int64_t batch, int64_t rows,
              llvm::function_ref<Value(Value, Value)> value) {
    Type f32Type = b.getF32Type(), indexType = b.getIndexType();
    Value argmax = memref::AllocOp::create(
        b, MemRefType::get({batch, rows}, indexType));
    Value max = memref::AllocOp::create(
        b, MemRefType::get({batch, rows}, f32Type));
    // An argmax is exact whatever the partition: a small batch of long rows
    // is cut into vocabulary slices (at least 8 trips of every lane each)
    // so the table fills the GPU, and their results are folded per row.
    int64_t slices = std::max<int64_t>(
        1,
        std::min<int64_t>(
            llvm::divideCeil(kTableBlocks, std::max<int64_t>(batch * rows, 1)),
            vocab / (lanes() * kInFlight * 8)));
    Value sliceMax = max, sliceArgmax = argmax;
    if (slices > 1) {
      sliceMax = memref::AllocOp::create(
          b, MemRefType::get({batch, rows, slices}, f32Type));
      sliceArgmax = memref::AllocOp::create(
          b, MemRefType::get({batch, rows, slices}, indexType));
    }
    auto fold = [&](Value x, Value v, ValueRange s) -> SmallVector<Value> {
      Value take = replacesBest(x, v, s[0], s[1]);
      return {arith::SelectOp::create(b, take, x, s[0]),
              arith::SelectOp::create(b, take, v, s[1])};
    };
    auto foldAll = [&](int64_t n, llvm::function_ref<Value(Value)> xAt,
                       llvm::function_ref<Value(Value)> vAt) {
      return e.forLoop(e.index(0), e.index(n),
                       ValueRange{f32(-INFINITY), e.index(0)},
                       [&](Value k, ValueRange s) -> SmallVector<Value> {
                         return fold(xAt(k), vAt(k), s);
                       });
    };
    argmaxBlocks(
        batch, rows,
        [&](Value i, Value lane,
            std::optional<Slice> slice) -> std::pair<Value, Value> {
          SmallVector<Value> best = laneWalk(
              lane, ValueRange{f32(-INFINITY), e.index(vocab)},
              [&](Value v) { return value(i, v); },
              [&](Value v, Value x, ValueRange s) -> SmallVector<Value> {
                return argmaxStep(v, x, s);
              },
              slice);
          return {best[0], best[1]};
        },
        [&](ValueRange at, Value bestX, Value bestV) {
          memref::StoreOp::create(b, bestV, sliceArgmax, at);
          memref::StoreOp::create(b, bestX, sliceMax, at);
        },
        slices);
    if (slices > 1)
      e.parallelFor({batch, rows}, [&](ValueRange iv) {
        auto at = [&](Value k) { return SmallVector<Value>{iv[0], iv[1], k}; };
        ValueRange best = foldAll(
            slices,
            [&](Value k) -> Value {
              return memref::LoadOp::create(b, sliceMax, at(k));
            },
            [&](Value k) -> Value {
              return memref::LoadOp::create(b, sliceArgmax, at(k));
            });
        memref::StoreOp::create(b, best[1], argmax, iv);
        memref::StoreOp::create(b, best[0], max, iv);
      });
    return {argmax, max};
  }

  /// Every row statistic the requests read, computed up front by
  /// split-vocabulary kernels instead of one thread per request streaming
  /// its rows: the argmax table alone for greedy verification, the sampling
  /// statistics otherwise (the argmax among them only when a request can be
  /// greedy: `argmax`).
  void buildRowTables(int64_t batch, int64_t rows, bool sampling, bool entropy,
                      bool race = true, bool argmax = true) {
    if (sampling) {
      buildSamplingRowTables(batch, rows, entropy, race, argmax);
      return;
    }
    argmaxTable = tableArgmax(batch, rows, [&](Value i, Value v) {
                    return logitAt(i, v);
                  }).first;
  }

  /// Per (request, row, chunk): the chunk's scaled maximum, its sum of
  /// exponentials and its first maximum (value, index).
  struct ChunkTables {
    Value max, sum, argX, argV;
  };

  /// Warps a chunk-statistics block runs (a chunk each).
  static constexpr int64_t kChunkWarps = 8;

  /// The chunk statistics of every (request, row) of the sampling modes: a
  /// warp per chunk, kChunkWarps chunks per block, so even one request's
  /// rows fill the GPU. A lane holds its kLaneEntries entries; the warp's
  /// argmax gives the chunk's first maximum and so its scale, then the
  /// lanes' sums of exponentials meet in the warp tree: the chunk order.
  ChunkTables buildChunkStats(int64_t batch, int64_t rows, bool argmax) {
    int64_t n = chunks(), groups = llvm::divideCeil(n, kChunkWarps);
    Type f32Type = b.getF32Type(), indexType = b.getIndexType();
    auto table = [&](Type type) -> Value {
      return memref::AllocOp::create(b,
                                     MemRefType::get({batch, rows, n}, type));
    };
    ChunkTables t{table(f32Type), table(f32Type), Value(), Value()};
    if (argmax) {
      t.argX = table(f32Type);
      t.argV = table(indexType);
    }
    if (batch * rows == 0)
      return t;
    e.blockLaunch(
        e.index(batch * rows * groups), kChunkWarps * kChunkLanes, {},
        [&](Value block, Value tid, ValueRange) {
          Value rowBlock = arith::DivUIOp::create(b, block, e.index(groups));
          req = arith::DivUIOp::create(b, rowBlock, e.index(rows));
          Value i = arith::RemUIOp::create(b, rowBlock, e.index(rows));
          enterRequest();
          Value group = arith::RemUIOp::create(b, block, e.index(groups));
          // The first block of each request clears its arrival counter.
          if (clearedCounters)
            onFirstThread(e, tid, [&] {
              e.ifThen(arith::AndIOp::create(
                           b, cmpi(arith::CmpIPredicate::eq, i, e.index(0)),
                           cmpi(arith::CmpIPredicate::eq, group, e.index(0))),
                       [&] {
                         memref::StoreOp::create(b, e.i32(0), clearedCounters,
                                                 ValueRange{req});
                       });
            });
          WarpSlot w = warpSlot(tid);
          Value lane = w.lane;
          Value c = arith::AddIOp::create(
              b, arith::MulIOp::create(b, group, e.index(kChunkWarps)), w.warp);
          // Warps past the last chunk compute the last one again and store
          // nothing (every lane of a warp takes part in its collectives).
          Value first = arith::AddIOp::create(
              b,
              arith::MulIOp::create(
                  b, arith::MinUIOp::create(b, c, e.index(n - 1)),
                  e.index(kChunk)),
              arith::MulIOp::create(b, lane, e.index(kLaneEntries)));
          SmallVector<Value> xs;
          for (int64_t k = 0; k < kLaneEntries; ++k) {
            Value v = arith::AddIOp::create(b, first, e.index(k));
            if (vocab % kChunk == 0) {
              xs.push_back(logitAt(i, v));
              continue;
            }
            // Past the row: -inf, which neither wins nor adds.
            Value x =
                logitAt(i, arith::MinUIOp::create(b, v, e.index(vocab - 1)));
            xs.push_back(arith::SelectOp::create(
                b, cmpi(arith::CmpIPredicate::ult, v, e.index(vocab)), x,
                f32(-INFINITY)));
          }
          Value mine = f32(-INFINITY);
          for (Value x : xs)
            mine = maxStep(x, mine);
          Value largest = collective::WarpReduceOp::create(
              b, f32Type, collective::ReductionKind::max, mine);
          // The chunk's first maximum: the first entry equal to its largest
          // (-0.0 equals +0.0), the warp's smallest such index.
          Value firstMax;
          if (argmax) {
            Value candidate = e.i32(vocab);
            for (int64_t k = kLaneEntries - 1; k >= 0; --k)
              candidate = arith::SelectOp::create(
                  b, cmpf(arith::CmpFPredicate::OEQ, xs[k], largest),
                  asI32(arith::AddIOp::create(b, first, e.index(k))),
                  candidate);
            firstMax = collective::WarpReduceOp::create(
                b, b.getI32Type(), collective::ReductionKind::min, candidate);
          }
          std::pair<Value, Value> scale = chunkScale(largest);
          Value m = scale.first, shift = scale.second;
          Value sum = f32(0.0);
          for (Value x : xs)
            sum = arith::AddFOp::create(b, sum, expTerm(x, shift));
          Value total = collective::WarpReduceOp::create(
              b, f32Type, collective::ReductionKind::add, sum);
          Value stores = arith::AndIOp::create(
              b, w.firstLane, cmpi(arith::CmpIPredicate::ult, c, e.index(n)));
          e.ifThen(stores, [&] {
            SmallVector<Value> at = {req, i, c};
            memref::StoreOp::create(b, m, t.max, at);
            memref::StoreOp::create(b, total, t.sum, at);
            if (argmax) {
              memref::StoreOp::create(b, largest, t.argX, at);
              memref::StoreOp::create(b, asIndex(firstMax), t.argV, at);
            }
          });
        });
    return t;
  }

  /// A thread's place among its block's warps.
  struct WarpSlot {
    Value lane, warp, firstLane;
  };
  WarpSlot warpSlot(Value tid) {
    Value lane = arith::RemUIOp::create(b, tid, e.index(kChunkLanes));
    return {lane, arith::DivUIOp::create(b, tid, e.index(kChunkLanes)),
            cmpi(arith::CmpIPredicate::eq, lane, e.index(0))};
  }

  /// Row i's log-sum-exp and first argmax (foldRowInWarp) by the block's
  /// first warp, whose lane 0 then runs `store(lse, argmax)`.
  void foldRowByFirstWarp(const ChunkTables &t, Value i, const WarpSlot &w,
                          llvm::function_ref<void(Value, Value)> store) {
    e.ifThen(cmpi(arith::CmpIPredicate::eq, w.warp, e.index(0)), [&] {
      std::pair<Value, Value> folded = foldRowInWarp(t, i, w.lane);
      e.ifThen(w.firstLane, [&] { store(folded.first, folded.second); });
    });
  }

  /// Lane `lane`'s walk of a row's chunks l, l + 32, ... (`state =
  /// step(c, state)`): a constant trip count, so the loads of several
  /// trips are in flight together; the trips past the last chunk read it
  /// again and leave the state alone.
  SmallVector<Value> laneChunkWalk(
      Value lane, ValueRange init,
      llvm::function_ref<SmallVector<Value>(Value, ValueRange)> step) {
    int64_t n = chunks(), trips = llvm::divideCeil(n, kChunkLanes);
    return llvm::to_vector(e.forLoop(
        e.index(0), e.index(trips), init,
        [&](Value trip, ValueRange s) -> SmallVector<Value> {
          Value c = arith::AddIOp::create(
              b, lane, arith::MulIOp::create(b, trip, e.index(kChunkLanes)));
          Value inside = cmpi(arith::CmpIPredicate::ult, c, e.index(n));
          SmallVector<Value> next =
              step(arith::MinUIOp::create(b, c, e.index(n - 1)), s);
          for (auto [value, old] : llvm::zip(next, s))
            value = arith::SelectOp::create(b, inside, value, old);
          return next;
        }));
  }

  /// The sum over a row's chunks of `value(c)` in the chunk order, by one
  /// warp (this thread is lane `lane`): what overChunks computes.
  Value sumChunksInWarp(Value lane, llvm::function_ref<Value(Value)> value) {
    Value mine =
        laneChunkWalk(lane, ValueRange{f32(0.0)},
                      [&](Value c, ValueRange s) -> SmallVector<Value> {
                        return {arith::AddFOp::create(b, s[0], value(c))};
                      })[0];
    return collective::WarpReduceOp::create(
        b, b.getF32Type(), collective::ReductionKind::add, mine);
  }

  /// Chunk c's (c < chunks()) sum of entropy terms of row i, by one warp:
  /// what chunkSum gives the CPU form.
  Value chunkEntropyInWarp(Value i, Value c, Value lane, Value lse) {
    Value first = arith::AddIOp::create(
        b, arith::MulIOp::create(b, c, e.index(kChunk)),
        arith::MulIOp::create(b, lane, e.index(kLaneEntries)));
    Value sum = f32(0.0);
    for (int64_t k = 0; k < kLaneEntries; ++k) {
      Value v = arith::AddIOp::create(b, first, e.index(k));
      Value term =
          entropyTerm(i, arith::MinUIOp::create(b, v, e.index(vocab - 1)), lse);
      // Past the row: + 0, which changes no sum.
      sum = arith::AddFOp::create(
          b, sum,
          arith::SelectOp::create(
              b, cmpi(arith::CmpIPredicate::ult, v, e.index(vocab)), term,
              f32(0.0)));
    }
    return collective::WarpReduceOp::create(
        b, b.getF32Type(), collective::ReductionKind::add, sum);
  }

  /// Every chunk's sum of entropy terms, [B, rows, chunks]: blocks as
  /// buildChunkStats' (a warp per chunk), each folding its row's
  /// log-sum-exp first (its first warp, into shared memory).
  Value buildChunkEntropy(int64_t batch, int64_t rows, const ChunkTables &t) {
    int64_t n = chunks(), groups = llvm::divideCeil(n, kChunkWarps);
    Type f32Type = b.getF32Type();
    Value entropies =
        memref::AllocOp::create(b, MemRefType::get({batch, rows, n}, f32Type));
    if (batch * rows == 0)
      return entropies;
    e.blockLaunch(
        e.index(batch * rows * groups), kChunkWarps * kChunkLanes,
        {workgroupMemRef({1}, f32Type)},
        [&](Value block, Value tid, ValueRange buf) {
          Value rowBlock = arith::DivUIOp::create(b, block, e.index(groups));
          req = arith::DivUIOp::create(b, rowBlock, e.index(rows));
          Value i = arith::RemUIOp::create(b, rowBlock, e.index(rows));
          enterRequest();
          WarpSlot w = warpSlot(tid);
          Value lane = w.lane, warp = w.warp, firstLane = w.firstLane;
          foldRowByFirstWarp(t, i, w, [&](Value lse, Value) {
            memref::StoreOp::create(b, lse, buf[0], e.index(0));
          });
          collective::BlockBarrierOp::create(b);
          Value lse = memref::LoadOp::create(b, buf[0], e.index(0));
          Value c = arith::AddIOp::create(
              b,
              arith::MulIOp::create(
                  b, arith::RemUIOp::create(b, block, e.index(groups)),
                  e.index(kChunkWarps)),
              warp);
          // Warps past the last chunk compute it again and store nothing.
          Value total = chunkEntropyInWarp(
              i, arith::MinUIOp::create(b, c, e.index(n - 1)), lane, lse);
          e.ifThen(
              arith::AndIOp::create(
                  b, firstLane, cmpi(arith::CmpIPredicate::ult, c, e.index(n))),
              [&] {
                memref::StoreOp::create(b, total, entropies,
                                        ValueRange{req, i, c});
              });
        });
    return entropies;
  }

  /// Row i's log-sum-exp and first argmax from its chunk statistics, by
  /// one warp (this thread is lane `lane`): the largest chunk maximum M,
  /// then the chunks' weights s_c exp(m_c - M) in the chunk order (lane l
  /// adds chunks l, l + 32, ..., the warp tree adds the lanes) -- what
  /// rowLse computes; the first maxima meet in a warp argmax (exact).
  std::pair<Value, Value> foldRowInWarp(const ChunkTables &t, Value i,
                                        Value lane) {
    Type f32Type = b.getF32Type();
    auto at = [&](Value c) { return SmallVector<Value>{req, i, c}; };
    bool argmax = static_cast<bool>(t.argX);
    SmallVector<Value> init = {f32(-INFINITY)};
    if (argmax)
      init.append({f32(-INFINITY), e.index(vocab)});
    SmallVector<Value> mine = laneChunkWalk(
        lane, init, [&](Value c, ValueRange s) -> SmallVector<Value> {
          SmallVector<Value> next = {arith::MaximumFOp::create(
              b, s[0], memref::LoadOp::create(b, t.max, at(c)))};
          if (argmax) {
            Value x = memref::LoadOp::create(b, t.argX, at(c));
            Value v = memref::LoadOp::create(b, t.argV, at(c));
            Value take = replacesBest(x, v, s[1], s[2]);
            next.push_back(arith::SelectOp::create(b, take, x, s[1]));
            next.push_back(arith::SelectOp::create(b, take, v, s[2]));
          }
          return next;
        });
    Value rowMax = collective::WarpReduceOp::create(
        b, f32Type, collective::ReductionKind::max, mine[0]);
    Value total = sumChunksInWarp(lane, [&](Value c) {
      return chunkWeight(memref::LoadOp::create(b, t.max, at(c)),
                         memref::LoadOp::create(b, t.sum, at(c)), rowMax);
    });
    Value lse = arith::AddFOp::create(b, rowMax, math::LogOp::create(b, total));
    if (!argmax)
      return {lse, Value()};
    auto best = collective::WarpArgMaxOp::create(b, f32Type, b.getI32Type(),
                                                 mine[1], asI32(mine[2]));
    Value none = cmpf(arith::CmpFPredicate::OEQ, best.getMax(), f32(-INFINITY));
    return {lse, arith::SelectOp::create(b, none, e.index(0),
                                         asIndex(best.getArgmax()))};
  }

  /// The sampling modes' row statistics: the chunk statistics
  /// (buildChunkStats), then a block per (request, row): its first warp
  /// folds them into the argmax and the log-sum-exp, then, when asked for,
  /// a warp per chunk sums the entropy terms (the chunk order again, the
  /// chunks' sums through shared memory to the first warp) and the block's
  /// lanes race p / E (an argmax, exact in any order).
  void buildSamplingRowTables(int64_t batch, int64_t rows, bool entropy,
                              bool race, bool argmax) {
    Type f32Type = b.getF32Type(), indexType = b.getIndexType();
    auto table = [&](Type type) -> Value {
      return memref::AllocOp::create(b, MemRefType::get({batch, rows}, type));
    };
    if (argmax)
      argmaxTable = table(indexType);
    neverGreedy = !argmax;
    lseTable = table(f32Type);
    if (entropy)
      entropyTable = table(f32Type);
    if (race)
      raceTable = table(indexType);
    if (batch * rows == 0)
      return;
    ChunkTables chunkTables = buildChunkStats(batch, rows, argmax);
    int64_t n = chunks();
    // The row's log-sum-exp; its chunks' entropy sums.
    SmallVector<MemRefType> shared = {workgroupMemRef({1}, f32Type),
                                      workgroupMemRef({n}, f32Type)};
    int64_t threads = kChunkWarps * kChunkLanes;
    walkBlocks = batch * rows;
    e.blockLaunch(
        e.index(batch * rows), threads, shared,
        [&](Value block, Value tid, ValueRange buf) {
          req = arith::DivUIOp::create(b, block, e.index(rows));
          Value i = arith::RemUIOp::create(b, block, e.index(rows));
          enterRequest();
          WarpSlot w = warpSlot(tid);
          Value lane = w.lane, warp = w.warp, firstLane = w.firstLane;
          foldRowByFirstWarp(chunkTables, i, w, [&](Value lse, Value best) {
            if (best)
              memref::StoreOp::create(b, best, argmaxTable, ValueRange{req, i});
            memref::StoreOp::create(b, lse, lseTable, ValueRange{req, i});
            memref::StoreOp::create(b, lse, buf[0], e.index(0));
          });
          collective::BlockBarrierOp::create(b);
          if (!entropy && !race)
            return;
          Value lse = memref::LoadOp::create(b, buf[0], e.index(0));
          if (entropy) {
            int64_t rounds = llvm::divideCeil(n, kChunkWarps);
            e.forLoop(e.index(0), e.index(rounds), [&](Value round) {
              Value c = arith::AddIOp::create(
                  b, arith::MulIOp::create(b, round, e.index(kChunkWarps)),
                  warp);
              Value chunkTotal = chunkEntropyInWarp(
                  i, arith::MinUIOp::create(b, c, e.index(n - 1)), lane, lse);
              e.ifThen(
                  arith::AndIOp::create(
                      b, firstLane,
                      cmpi(arith::CmpIPredicate::ult, c, e.index(n))),
                  [&] { memref::StoreOp::create(b, chunkTotal, buf[1], c); });
            });
            collective::BlockBarrierOp::create(b);
            e.ifThen(cmpi(arith::CmpIPredicate::eq, warp, e.index(0)), [&] {
              Value total = sumChunksInWarp(lane, [&](Value c) -> Value {
                return memref::LoadOp::create(b, buf[1], c);
              });
              e.ifThen(firstLane, [&] {
                memref::StoreOp::create(b, total, entropyTable,
                                        ValueRange{req, i});
              });
            });
          }
          if (race) {
            // Threads past the vocabulary's lanes find no entry.
            SmallVector<Value> mine = laneWalk(
                tid, ValueRange{f32(-INFINITY), e.index(vocab)},
                [&](Value v) {
                  return arith::DivFOp::create(b, probAt(i, v, lse),
                                               exponentialAt(v))
                      .getResult();
                },
                [&](Value v, Value x, ValueRange s) -> SmallVector<Value> {
                  return argmaxStep(v, x, s);
                });
            Value winner = blockFirstMax(mine[0], mine[1]).second;
            onFirstThread(e, tid, [&] {
              memref::StoreOp::create(b, winner, raceTable, ValueRange{req, i});
            });
          }
        });
  }

  /// Buffers of the optional temperature and noise operands both verifiers
  /// share (explicit uniforms/exponentials, or the Philox seed and offset).
  template <typename VerifyOp>
  void bindNoiseInputs(VerifyOp op) {
    if (op.getTemperature())
      temperature = e.toBuffer(op.getTemperature());
    if (op.getUniforms())
      uniforms = e.toBuffer(op.getUniforms());
    if (op.getExponentials())
      exponentials = e.toBuffer(op.getExponentials());
    if (op.getSeed()) {
      seed = e.toBuffer(op.getSeed());
      offset = e.toBuffer(op.getOffset());
    }
  }

  /// The temperature of request `req` (1 when the op has none).
  void loadTemperature() {
    temp = temperature
               ? Value(memref::LoadOp::create(b, temperature, ValueRange{req}))
               : f32(1.0);
  }

  /// Loads the per-request values (temperature, Philox key) of `req`.
  void enterRequest() {
    loadTemperature();
    loadPhiloxKey();
  }

  ImplicitLocOpBuilder &b;
  OpLowering e;
  int64_t vocab = 0;
  Value logits, temperature, uniforms, exponentials, seed, offset;
  // Row tables computed up front by split-vocabulary kernels (GPU form);
  // null when each row is streamed by its request.
  Value argmaxTable, lseTable, entropyTable, raceTable;
  // Set when the sampling tables leave out the argmax: no request is greedy.
  bool neverGreedy = false;
  // The CPU form's scratch for its sums: lane partials and one chunk's
  // terms (stageTerms); the last of the scratch allocations (chunkTable).
  Value laneScratch, termScratch;
  Operation *scratchEnd = nullptr;
  // The CPU form's chunk loops are parallel loops (forEachChunk).
  bool parallelChunks;
  // [B] i32 counters the sampling statistics kernel clears (the first block
  // of each request), for a later kernel's collective.grid_arrive.
  Value clearedCounters;
  // Per-request values, valid while lowering one request.
  Value req, temp;
  /// The first operand holds probabilities (spec_verify's target_probs):
  /// p_v is read, never computed from a logit and the log-sum-exp.
  bool givenProbs = false;
  std::array<Value, 2> seedWords, offsetWords;
};

class SpecVerifyLowering : VocabRowOps {
public:
  /// `splitVocab`: row statistics from split-vocabulary tables computed by
  /// many threads first, instead of each request streaming its rows.
  SpecVerifyLowering(tok::SpecVerifyOp op, ImplicitLocOpBuilder &b,
                     LoweringContext &context, bool splitVocab)
      : VocabRowOps(b, context), op(op), splitVocab(splitVocab) {
    givenProbs = op.getTargetProbs();
  }

  void lower() {
    auto type = op.getLogits().getType();
    batch = type.getDimSize(0);
    rows = type.getDimSize(1);
    vocab = type.getDimSize(2);
    mode = op.getMode();
    logits = e.toBuffer(op.getLogits());
    drafts = e.toBuffer(op.getDrafts());
    numDraft = e.toBuffer(op.getNumDraft());
    if (op.getDraftProbs())
      draftProbs = e.toBuffer(op.getDraftProbs());
    if (op.getIsGreedy())
      isGreedy = e.toBuffer(op.getIsGreedy());
    bindNoiseInputs(op);
    tokens = e.allocFor(op.getTokens());
    accepted = e.allocFor(op.getNumAccepted());
    emitted = e.allocFor(op.getNumEmitted());

    // GPU form, sampling modes: a request needs an exponential race at one
    // row at most (its first rejected draft, or the bonus row), known only
    // after its accept walk. The race kernel walks each request first and
    // then races that row alone (resolveRequestsAndRaces) instead of tables
    // of every row's race up front.
    deferRaces = splitVocab && mode != tok::VerifyMode::greedy;
    if (deferRaces) {
      raceCounters =
          memref::AllocOp::create(b, MemRefType::get({batch}, b.getI32Type()));
      clearedCounters = raceCounters;
    }
    if (splitVocab) {
      // Without a temperature operand or is_greedy no request is greedy,
      // and no sampling request reads an argmax.
      bool anyGreedy = mode == tok::VerifyMode::greedy || op.getTemperature() ||
                       op.getIsGreedy();
      // When the race kernel's grid leaves SMs idle, its blocks fold the
      // chunk statistics themselves (each block its request's rows again):
      // rejection then takes two launches, typical three (the chunks'
      // entropy sums between them, which need the row's log-sum-exp). A
      // grid that fills the GPU folds each row once, in a launch of its
      // own.
      // Rejection on given probabilities reads p itself: no statistics at
      // all unless a greedy request needs a row's argmax.
      bool noStatistics =
          givenProbs && mode == tok::VerifyMode::rejection && !anyGreedy;
      if (noStatistics) {
        neverGreedy = true;
        // The arrival counters the statistics kernel would have cleared.
        if (clearedCounters)
          e.parallelFor(batch, [&](Value row) {
            memref::StoreOp::create(b, e.i32(0), clearedCounters,
                                    ValueRange{row});
          });
      } else if (mode != tok::VerifyMode::greedy &&
                 batch * raceSlices() < kTableBlocks) {
        rowChunks = buildChunkStats(batch, rows, anyGreedy);
        if (mode == tok::VerifyMode::typical)
          rowEntropyChunks = buildChunkEntropy(batch, rows, rowChunks);
        neverGreedy = !anyGreedy;
      } else {
        buildRowTables(batch, rows, mode != tok::VerifyMode::greedy,
                       mode == tok::VerifyMode::typical, /*race=*/!deferRaces,
                       /*argmax=*/anyGreedy);
      }
    } else if (mode != tok::VerifyMode::greedy)
      allocChunkScratch();
    if (deferRaces)
      resolveRequestsAndRaces();
    else
      e.parallelFor(batch, [&](Value row) { lowerRequest(row); });

    e.replaceWithBuffer(op.getTokens(), tokens);
    e.replaceWithBuffer(op.getNumAccepted(), accepted);
    e.replaceWithBuffer(op.getNumEmitted(), emitted);
  }

private:
  Value uniformAt(Value i) {
    if (uniforms)
      return memref::LoadOp::create(b, uniforms, ValueRange{req, i});
    return emitUniformFromWord(b, philoxWord(i, kUniformStream));
  }

  /// The draft of row `i` of the current request: the token, whether it is
  /// a vocabulary entry, and its index (0 when it is not).
  struct Draft {
    Value token, valid, index;
  };
  Draft draftAt(Value i) {
    Value draft = memref::LoadOp::create(b, drafts, ValueRange{req, i});
    Value valid = arith::AndIOp::create(
        b, cmpi(arith::CmpIPredicate::sge, draft, e.i32(0)),
        cmpi(arith::CmpIPredicate::slt, draft, e.i32(vocab)));
    Value index = arith::IndexCastOp::create(
        b, b.getIndexType(),
        arith::SelectOp::create(b, valid, draft, e.i32(0)));
    return {draft, valid, index};
  }

  /// What the walk reads of draft row `i`: the draft, the logit and the
  /// draft probability at it (at entry 0 for an invalid draft), the
  /// explicit uniform. Loaded before the walk decides whether it reaches
  /// the row (every index is valid), so they do not wait for its decisions.
  struct RowInputs {
    Draft draft;
    Value logit, q, uniform;
  };
  RowInputs loadRowInputs(Value i) {
    RowInputs in;
    in.draft = draftAt(i);
    in.logit = logitAt(i, in.draft.index);
    if (draftProbs)
      in.q = memref::LoadOp::create(b, draftProbs,
                                    ValueRange{req, i, in.draft.index});
    if (uniforms)
      in.uniform = memref::LoadOp::create(b, uniforms, ValueRange{req, i});
    return in;
  }

  /// The residual of draft row `i` at `v`: max(p - q, 0), or for a one-hot
  /// draft p with the draft's entry masked (never mutated).
  Value residualAt(Value i, Value v, Value lse, Value draftIndex,
                   Value validDraft) {
    return residualFrom(probAt(i, v, lse), i, v, draftIndex, validDraft);
  }
  /// The same from p at `v`.
  Value residualFrom(Value p, Value i, Value v, Value draftIndex,
                     Value validDraft) {
    if (draftProbs) {
      Value q = memref::LoadOp::create(b, draftProbs, ValueRange{req, i, v});
      return arith::MaximumFOp::create(b, arith::SubFOp::create(b, p, q),
                                       f32(0.0));
    }
    Value isDraft = arith::AndIOp::create(
        b, validDraft, cmpi(arith::CmpIPredicate::eq, v, draftIndex));
    return arith::SelectOp::create(b, isDraft, f32(0.0), p);
  }

  /// The correction token after rejecting `draft` at row `i`: the race over
  /// the residual, or over p when the residual is identically zero.
  Value recoveredToken(Value i, Value lse, Value draftIndex, Value validDraft) {
    // The race over the residual and whether it has a positive entry (NaN
    // never counts), in one pass over the row; the race over p only when
    // none is positive (the GPU form races the rejected row by vocabulary
    // slices instead: resolveRequestsAndRaces). Only the CPU form gets
    // here, and it has the term scratch.
    assert(termScratch && "allocChunkScratch before the request loop");
    auto [race, anyPositive] = stagedArgmaxAndAny([&](Value v) {
      Value residual = residualAt(i, v, lse, draftIndex, validDraft);
      return std::make_pair(
          Value(arith::DivFOp::create(b, residual, exponentialAt(v))),
          cmpf(arith::CmpFPredicate::OGT, residual, f32(0.0)));
    });
    auto ifOp = scf::IfOp::create(b, b.getIndexType(), anyPositive, true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    scf::YieldOp::create(b, race);
    b.setInsertionPointToStart(ifOp.elseBlock());
    scf::YieldOp::create(b, raceOverProbs(i, lse));
    return ifOp.getResult(0);
  }

  /// Whether the typical-acceptance test passes for probability `px`.
  Value typicalAccepts(Value i, Value lse, Value px) {
    Value threshold =
        typicalThreshold(i, lse, op.getTypicalEpsilon().convertToDouble(),
                         op.getTypicalAlpha().convertToDouble());
    return cmpf(arith::CmpFPredicate::OGT, px, threshold);
  }

  /// Verifies row `i`: stores the emitted token at slot `i` and returns
  /// whether the draft was accepted.
  Value verifyRow(Value i, const RowInputs &in) {
    Value draft = in.draft.token, validDraft = in.draft.valid,
          draftIndex = in.draft.index;

    auto ifGreedy = scf::IfOp::create(b, b.getI1Type(), greedy, true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifGreedy.thenBlock());
    {
      Value best = rowArgmax(i);
      Value bestI32 = arith::IndexCastOp::create(b, b.getI32Type(), best);
      storeResult(bestI32, tokens, {req, i});
      scf::YieldOp::create(b, cmpi(arith::CmpIPredicate::eq, bestI32, draft));
    }
    b.setInsertionPointToStart(ifGreedy.elseBlock());
    if (mode == tok::VerifyMode::greedy) {
      scf::YieldOp::create(b, i1(false)); // unreachable: greedy is all-greedy
    } else {
      Value lse = rowLse(i);
      Value px = arith::SelectOp::create(
          b, validDraft, probFromLogit(in.logit, lse), f32(0.0));
      Value accept;
      if (mode == tok::VerifyMode::rejection) {
        Value qx = draftProbs ? in.q : f32(1.0);
        qx = arith::SelectOp::create(b, validDraft, qx, f32(0.0));
        Value ratio = arith::DivFOp::create(b, px, qx);
        Value u = uniforms ? in.uniform : uniformAt(i);
        accept = arith::AndIOp::create(
            b,
            arith::AndIOp::create(
                b, cmpf(arith::CmpFPredicate::OGT, qx, f32(0.0)),
                cmpf(arith::CmpFPredicate::OGT, px, f32(0.0))),
            cmpf(arith::CmpFPredicate::OGE, ratio, u));
      } else {
        accept = arith::AndIOp::create(b, validDraft,
                                       typicalAccepts(i, lse, px));
      }
      auto ifAccept = scf::IfOp::create(b, accept, true);
      b.setInsertionPoint(ifAccept.thenBlock()->getTerminator());
      storeResult(draft, tokens, {req, i});
      b.setInsertionPoint(ifAccept.elseBlock()->getTerminator());
      if (deferRaces) {
        recordRace(i, mode == tok::VerifyMode::rejection ? kResidualRace
                                                         : kProbRace);
      } else {
        Value token = mode == tok::VerifyMode::rejection
                          ? recoveredToken(i, lse, draftIndex, validDraft)
                          : raceOverProbs(i, lse);
        storeResult(arith::IndexCastOp::create(b, b.getI32Type(), token),
                    tokens, {req, i});
      }
      b.setInsertionPointAfter(ifAccept);
      scf::YieldOp::create(b, accept);
    }
    return ifGreedy.getResult(0);
  }

  /// The bonus token when every draft passed: argmax (greedy) or race(p).
  void emitBonus(Value i) {
    if (deferRaces) {
      auto ifGreedy = scf::IfOp::create(b, greedy, /*withElse=*/true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(ifGreedy.thenBlock()->getTerminator());
      storeResult(arith::IndexCastOp::create(b, b.getI32Type(), rowArgmax(i)),
                  tokens, {req, i});
      b.setInsertionPoint(ifGreedy.elseBlock()->getTerminator());
      recordRace(i, kProbRace);
      return;
    }
    auto ifGreedy = scf::IfOp::create(b, b.getIndexType(), greedy, true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifGreedy.thenBlock());
    scf::YieldOp::create(b, rowArgmax(i));
    b.setInsertionPointToStart(ifGreedy.elseBlock());
    if (mode == tok::VerifyMode::greedy)
      scf::YieldOp::create(b, e.index(0)); // unreachable
    else
      scf::YieldOp::create(b, raceOverProbs(i, rowLse(i)));
    b.setInsertionPointAfter(ifGreedy);
    storeResult(
        arith::IndexCastOp::create(b, b.getI32Type(), ifGreedy.getResult(0)),
        tokens, {req, i});
  }

  void lowerRequest(Value row) {
    req = row;
    int64_t maxDrafts = rows - 1;
    Value k = e.loadClampedCount(numDraft, req, e.index(maxDrafts));
    enterRequest();
    // Greedy when asked to, or when the temperature is not positive (NaN too).
    greedy = notV(cmpf(arith::CmpFPredicate::OGT, temp, f32(0.0)));
    if (mode == tok::VerifyMode::greedy)
      greedy = i1(true);
    if (isGreedy)
      greedy = arith::OrIOp::create(
          b, greedy, memref::LoadOp::create(b, isGreedy, ValueRange{req}));
    if (deferRaces)
      memref::StoreOp::create(b, e.i32(kNoRace), pendingKind, e.index(0));

    // State: drafts accepted so far, and whether a draft was rejected. A
    // constant trip count, every row's inputs loaded at the top of its trip
    // (the rows past k are skipped like those after a rejection).
    ValueRange state = e.forLoop(
        e.index(0), e.index(maxDrafts), ValueRange{e.index(0), i1(false)},
        [&](Value i, ValueRange s) -> SmallVector<Value> {
          RowInputs in = loadRowInputs(i);
          Value live = arith::AndIOp::create(
              b, notV(s[1]), cmpi(arith::CmpIPredicate::ult, i, k));
          auto ifLive = scf::IfOp::create(
              b, TypeRange{b.getIndexType(), b.getI1Type()}, live, true);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ifLive.thenBlock());
          Value accept = verifyRow(i, in);
          Value next = arith::AddIOp::create(
              b, s[0],
              e.indexOf(accept));
          scf::YieldOp::create(b, ValueRange{next, notV(accept)});
          b.setInsertionPointToStart(ifLive.elseBlock());
          scf::YieldOp::create(b, ValueRange{s[0], s[1]});
          return {ifLive.getResult(0), ifLive.getResult(1)};
        });
    Value numAccepted = state[0], rejected = state[1];
    e.ifThen(notV(rejected), [&] { emitBonus(k); });
    Value numEmitted = arith::AddIOp::create(b, numAccepted, e.index(1));
    e.forLoop(numEmitted, e.index(rows), [&](Value j) {
      storeResult(e.i32(-1), tokens, {req, j});
    });
    storeResult(arith::IndexCastOp::create(b, b.getI32Type(), numAccepted),
                accepted, {req});
    storeResult(arith::IndexCastOp::create(b, b.getI32Type(), numEmitted),
                emitted, {req});
  }

  /// What a request's deferred race is over (pendingKind).
  enum RaceKind : int32_t { kNoRace = 0, kResidualRace = 1, kProbRace = 2 };

  void recordRace(Value i, RaceKind kind) {
    memref::StoreOp::create(b, i, pendingRow, e.index(0));
    memref::StoreOp::create(b, e.i32(kind), pendingKind, e.index(0));
  }

  /// A result store; in resolveRequestsAndRaces only the first block of a
  /// request makes it (every block of the request computes the same walk).
  void storeResult(Value value, Value buffer, ValueRange at) {
    if (!resultGate) {
      memref::StoreOp::create(b, value, buffer, at);
      return;
    }
    e.ifThen(resultGate,
             [&] { memref::StoreOp::create(b, value, buffer, at); });
  }

  /// GPU form of the sampling modes, one launch after the row statistics:
  /// the vocabulary in slices of a block each per request. Thread 0 of
  /// every block walks its request's drafts (lowerRequest, on the row
  /// tables; the first block of the request writes the results) and keeps
  /// the row and kind of the race it needs, if any, in workgroup memory.
  /// Then, for a request with a race, each lane computes p, the
  /// exponential and (after a rejection) the residual of its entries of the
  /// slice once, keeping the largest residual and both races; block argmaxes
  /// combine the lanes into the slice's partial; and the last block of the
  /// request to arrive (collective.grid_arrive on a counter the statistics
  /// kernel cleared) folds the slices in order and writes the token: the
  /// race over the residual when it has a positive entry, else over p.
  /// Argmaxes and maxima are exact, so any partition gives the sequential
  /// scan's answer (recoveredToken, raceOverProbs).
  static constexpr int64_t kRaceThreads = 256;

  /// The vocabulary slices a request's race is cut into (a block each).
  int64_t raceSlices() const {
    constexpr int64_t kEntriesPerSlice = kRaceThreads * 16;
    return std::max<int64_t>(
        1, std::min<int64_t>(64, llvm::divideCeil(vocab, kEntriesPerSlice)));
  }

  void resolveRequestsAndRaces() {
    constexpr int64_t kThreads = kRaceThreads;
    int64_t slices = raceSlices();
    int64_t sliceSize = llvm::divideCeil(vocab, slices);
    int64_t lastSliceSize =
        std::max<int64_t>(0, vocab - (slices - 1) * sliceSize);
    Type f32Type = b.getF32Type(), indexType = b.getIndexType();
    bool residuals = mode == tok::VerifyMode::rejection && rows > 1;
    // Per (request, slice): the largest residual, then (value, index) of
    // the residual race and of the race over p.
    auto sliceBuffer = [&](Type type) -> Value {
      return memref::AllocOp::create(b, MemRefType::get({batch, slices}, type));
    };
    Value sliceMax = sliceBuffer(f32Type);
    Value sliceRes = sliceBuffer(f32Type), sliceResAt = sliceBuffer(indexType);
    Value sliceP = sliceBuffer(f32Type), slicePAt = sliceBuffer(indexType);
    SmallVector<Value> sliceBuffers = {sliceMax, sliceRes, sliceResAt, sliceP,
                                       slicePAt};
    // Folds (max, resX, resV, pX, pV) states in order.
    auto fold = [&](ValueRange s, Value max, Value resX, Value resV, Value pX,
                    Value pV) -> SmallVector<Value> {
      Value takeRes = replacesBest(resX, resV, s[1], s[2]);
      Value takeP = replacesBest(pX, pV, s[3], s[4]);
      return {arith::SelectOp::create(
                  b, cmpf(arith::CmpFPredicate::OGT, max, s[0]), max, s[0]),
              arith::SelectOp::create(b, takeRes, resX, s[1]),
              arith::SelectOp::create(b, takeRes, resV, s[2]),
              arith::SelectOp::create(b, takeP, pX, s[3]),
              arith::SelectOp::create(b, takeP, pV, s[4])};
    };
    SmallVector<Value> none = {f32(-INFINITY), f32(-INFINITY), e.index(0),
                               f32(-INFINITY), e.index(0)};
    // With chunk statistics (rowChunks): every block first folds its
    // request's rows into log-sum-exp (argmax, entropy) tables in
    // workgroup memory, a warp per row, which the walk and the race read.
    bool foldRows = static_cast<bool>(rowChunks.max);
    bool foldArgmax = static_cast<bool>(rowChunks.argX);
    SmallVector<MemRefType> shared = {workgroupMemRef({1}, indexType),
                                      workgroupMemRef({1}, b.getI32Type())};
    if (foldRows) {
      shared.push_back(workgroupMemRef({rows}, f32Type));
      shared.push_back(workgroupMemRef({rows}, indexType));
      shared.push_back(workgroupMemRef({rows}, f32Type));
    }
    walkBlocks = batch * slices;
    e.blockLaunch(
        e.index(batch * slices), kThreads, shared,
        [&](Value block, Value tid, ValueRange buffers) {
          pendingRow = buffers[0];
          pendingKind = buffers[1];
          Value request = arith::DivUIOp::create(b, block, e.index(slices));
          Value slice = arith::RemUIOp::create(b, block, e.index(slices));
          if (foldRows) {
            req = request;
            WarpSlot w = warpSlot(tid);
            Value lane = w.lane, warp = w.warp;
            int64_t warps = kThreads / kChunkLanes;
            e.forLoop(
                e.index(0), e.index(llvm::divideCeil(rows, warps)),
                [&](Value round) {
                  Value i = arith::AddIOp::create(
                      b, arith::MulIOp::create(b, round, e.index(warps)), warp);
                  std::pair<Value, Value> folded = foldRowInWarp(
                      rowChunks,
                      arith::MinUIOp::create(b, i, e.index(rows - 1)), lane);
                  e.ifThen(
                      arith::AndIOp::create(
                          b, w.firstLane,
                          cmpi(arith::CmpIPredicate::ult, i, e.index(rows))),
                      [&] {
                        memref::StoreOp::create(b, folded.first, buffers[2], i);
                        if (foldArgmax)
                          memref::StoreOp::create(b, folded.second, buffers[3],
                                                  i);
                      });
                  if (!rowEntropyChunks)
                    return;
                  Value clamped =
                      arith::MinUIOp::create(b, i, e.index(rows - 1));
                  Value entropy = sumChunksInWarp(lane, [&](Value c) -> Value {
                    return memref::LoadOp::create(b, rowEntropyChunks,
                                                  ValueRange{req, clamped, c});
                  });
                  e.ifThen(
                      arith::AndIOp::create(
                          b, w.firstLane,
                          cmpi(arith::CmpIPredicate::ult, i, e.index(rows))),
                      [&] {
                        memref::StoreOp::create(b, entropy, buffers[4], i);
                      });
                });
            collective::BlockBarrierOp::create(b);
            lseTable = buffers[2];
            if (foldArgmax)
              argmaxTable = buffers[3];
            if (rowEntropyChunks)
              entropyTable = buffers[4];
          }
          onFirstThread(e, tid, [&] {
            resultGate = cmpi(arith::CmpIPredicate::eq, slice, e.index(0));
            lowerRequest(request);
            resultGate = Value();
          });
          collective::BlockBarrierOp::create(b);
          req = request;
          Value kind = memref::LoadOp::create(b, pendingKind, e.index(0));
          // The same for every thread of the block, and every block of the
          // request.
          e.ifThen(cmpi(arith::CmpIPredicate::ne, kind, e.i32(kNoRace)), [&] {
            enterRequest();
            Value i = memref::LoadOp::create(b, pendingRow, e.index(0));
            Value lse = rowLse(i);
            Value isResidual =
                cmpi(arith::CmpIPredicate::eq, kind, e.i32(kResidualRace));
            Draft draft;
            if (residuals) // a residual race is at a draft row (i < K)
              draft = draftAt(arith::MinUIOp::create(b, i, e.index(rows - 2)));
            // Thread t takes entries begin + t, begin + t + 256, ... of the
            // slice, kInFlight of them per trip (their loads first), folded
            // in order.
            Value begin = arith::MulIOp::create(b, slice, e.index(sliceSize));
            Value end = arith::MinUIOp::create(
                b, arith::AddIOp::create(b, begin, e.index(sliceSize)),
                e.index(vocab));
            SmallVector<Value> mine = walkTrips(
                arith::AddIOp::create(b, begin, tid), end, sliceSize,
                lastSliceSize, kThreads, none,
                [&](Value at) -> SmallVector<Value> {
                  Value p = probAt(i, at, lse);
                  Value exponential = exponentialAt(at);
                  Value pX = arith::DivFOp::create(b, p, exponential);
                  Value max = f32(-INFINITY), resX = f32(-INFINITY);
                  if (residuals) {
                    Value r = residualFrom(p, i, at, draft.index, draft.valid);
                    max = arith::SelectOp::create(b, isResidual, r, max);
                    resX = arith::SelectOp::create(
                        b, isResidual, arith::DivFOp::create(b, r, exponential),
                        resX);
                  }
                  return {max, resX, pX};
                },
                [&](Value v, ValueRange terms, ValueRange state) {
                  return fold(state, terms[0], terms[1], v, terms[2], v);
                });
            // The lanes' partials meet in block argmaxes: a maximum and the
            // first maximum are exact in any order (no lane partial is NaN:
            // NaN never enters a fold), so this is the lane-order fold.
            std::pair<Value, Value> largest =
                blockFirstMax(mine[0], e.index(0));
            std::pair<Value, Value> residualWinner =
                blockFirstMax(mine[1], mine[2]);
            std::pair<Value, Value> pWinner = blockFirstMax(mine[3], mine[4]);
            onFirstThread(e, tid, [&] {
              Value total[] = {largest.first, residualWinner.first,
                               residualWinner.second, pWinner.first,
                               pWinner.second};
              Value where[] = {req, slice};
              for (auto [value, buffer] : llvm::zip(total, sliceBuffers))
                memref::StoreOp::create(b, value, buffer, where);
            });
            // The last block of the request folds the slices in order.
            Value last = collective::GridArriveOp::create(
                b, b.getI1Type(), raceCounters, req, e.index(slices));
            e.ifThen(last, [&] {
              onFirstThread(e, tid, [&] {
                ValueRange total = e.forLoop(
                    e.index(0), e.index(slices), none,
                    [&](Value k, ValueRange s) -> SmallVector<Value> {
                      SmallVector<Value> at;
                      for (Value buffer : sliceBuffers)
                        at.push_back(memref::LoadOp::create(
                            b, buffer, ValueRange{req, k}));
                      return fold(s, at[0], at[1], at[2], at[3], at[4]);
                    });
                Value useResidual = arith::AndIOp::create(
                    b, isResidual,
                    cmpf(arith::CmpFPredicate::OGT, total[0], f32(0.0)));
                Value token =
                    arith::SelectOp::create(b, useResidual, total[2], total[4]);
                memref::StoreOp::create(
                    b, arith::IndexCastOp::create(b, b.getI32Type(), token),
                    tokens, ValueRange{req, i});
              });
            });
          });
        });
  }

  tok::SpecVerifyOp op;
  bool splitVocab = false, deferRaces = false;
  // With deferRaces: the walk's race (row, kind) in workgroup memory, the
  // per-request arrival counters of the race slices, and the condition of
  // the result stores.
  Value pendingRow, pendingKind, raceCounters, resultGate;
  // The chunk statistics (and typical's chunk entropies) the race kernel
  // folds per row.
  ChunkTables rowChunks;
  Value rowEntropyChunks;
  int64_t batch = 0, rows = 0;
  tok::VerifyMode mode = tok::VerifyMode::rejection;
  Value drafts, numDraft, draftProbs, isGreedy, tokens, accepted, emitted;
  Value greedy; // per request
};

class TreeVerifyLowering : VocabRowOps {
public:
  /// `splitVocab`: row statistics from split-vocabulary tables computed by
  /// many threads first, instead of each request streaming its rows.
  TreeVerifyLowering(tok::TreeVerifyOp op, ImplicitLocOpBuilder &b,
                     LoweringContext &context, bool splitVocab)
      : VocabRowOps(b, context), op(op), splitVocab(splitVocab),
        inDispatch(context.row != nullptr) {}

  void lower() {
    auto type = op.getLogits().getType();
    int64_t batch = type.getDimSize(0);
    nodes = type.getDimSize(1);
    vocab = type.getDimSize(2);
    typical = op.getMode() == tok::VerifyMode::typical;
    sampling = op.getMode() == tok::VerifyMode::rejection;
    capacity = op.getTokens().getType().getDimSize(1);
    logits = e.toBuffer(op.getLogits());
    treeTokens = e.toBuffer(op.getTreeTokens());
    parents = e.toBuffer(op.getParents());
    numNodes = e.toBuffer(op.getNumNodes());
    bindNoiseInputs(op);
    tokens = e.allocFor(op.getTokens());
    acceptNodes = e.allocFor(op.getAcceptNodes());
    accepted = e.allocFor(op.getNumAccepted());
    emitted = e.allocFor(op.getNumEmitted());
    if (op.getBestLeaf())
      bestLeaf = e.allocFor(op.getBestLeaf());
    // Per-node scratch (T entries each): membership, children, ok, depth,
    // the path's accepted prefix and its end node, the summed log p, and
    // the row statistics each child's test needs.
    auto scratch = [&](Type t) {
      return memref::AllocaOp::create(b, MemRefType::get({nodes}, t));
    };
    if (splitVocab)
      buildRowTables(batch, nodes, typical || sampling, typical);
    else if (typical || sampling)
      allocChunkScratch();
    if (splitVocab && !sampling && !inDispatch && nodes <= 1024) {
      lowerRequestsByBlocks(batch);
      e.replaceWithBuffer(op.getTokens(), tokens);
      e.replaceWithBuffer(op.getAcceptNodes(), acceptNodes);
      e.replaceWithBuffer(op.getNumAccepted(), accepted);
      e.replaceWithBuffer(op.getNumEmitted(), emitted);
      if (bestLeaf)
        e.replaceWithBuffer(op.getBestLeaf(), bestLeaf);
      return;
    }
    Type boolType = b.getI1Type(), intType = b.getI32Type();
    Type floatType = b.getF32Type();
    inTree = scratch(boolType);
    hasChild = scratch(boolType);
    okNode = scratch(boolType);
    depth = scratch(intType);
    prefix = scratch(intType);
    endNode = scratch(intType);
    logSum = scratch(floatType);
    rowBest = scratch(intType);
    rowLseBuf = scratch(floatType);
    rowThreshold = scratch(floatType);
    e.parallelFor(batch, [&](Value row) {
      req = row;
      loadTemperature();
      // A temperature that is not positive (NaN too) makes the request
      // greedy, as in tok.spec_verify.
      greedyReq = notV(cmpf(arith::CmpFPredicate::OGT, temp, f32(0.0)));
      if (!sampling) {
        lowerRequest(row);
        return;
      }
      auto ifGreedy = scf::IfOp::create(b, greedyReq, /*withElseRegion=*/true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(ifGreedy.thenBlock()->getTerminator());
      greedyReq = i1(true);
      lowerRequest(row);
      b.setInsertionPoint(ifGreedy.elseBlock()->getTerminator());
      lowerSamplingRequest(row);
    });

    e.replaceWithBuffer(op.getTokens(), tokens);
    e.replaceWithBuffer(op.getAcceptNodes(), acceptNodes);
    e.replaceWithBuffer(op.getNumAccepted(), accepted);
    e.replaceWithBuffer(op.getNumEmitted(), emitted);
    if (bestLeaf)
      e.replaceWithBuffer(op.getBestLeaf(), bestLeaf);
  }

private:
  Value load(Value buffer, Value i) {
    return memref::LoadOp::create(b, buffer, ValueRange{i});
  }
  void store(Value v, Value buffer, Value i) {
    memref::StoreOp::create(b, v, buffer, ValueRange{i});
  }

  /// Statistics of node `i`'s row that its children's tests read.
  void computeRowStats(Value i) {
    if (!typical) {
      store(asI32(rowArgmax(i)), rowBest, i);
      return;
    }
    auto ifGreedy = scf::IfOp::create(b, greedyReq, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifGreedy.thenBlock()->getTerminator());
    store(asI32(rowArgmax(i)), rowBest, i);
    b.setInsertionPoint(ifGreedy.elseBlock()->getTerminator());
    Value lse = rowLse(i);
    store(lse, rowLseBuf, i);
    store(typicalThreshold(i, lse, op.getTypicalEpsilon().convertToDouble(),
                           op.getTypicalAlpha().convertToDouble()),
          rowThreshold, i);
  }

  /// Request `req`'s valid node count: clamp(num_nodes, 1, T).
  Value nodeCount() {
    return e.clampIndex(
        asIndex(memref::LoadOp::create(b, numNodes, ValueRange{req})),
        e.index(1), e.index(nodes));
  }

  /// The root's state.
  void initRoot() {
    Value zero = e.index(0);
    store(i1(true), inTree, zero);
    store(i1(true), okNode, zero);
    store(e.i32(0), depth, zero);
    store(e.i32(0), prefix, zero);
    store(e.i32(0), endNode, zero);
    store(f32(0.0), logSum, zero);
  }

  /// Node i's parent when it is a valid one (0 <= parent < i), else 0, and
  /// whether it was.
  std::pair<Value, Value> parentOf(Value i) {
    Value parent = parentAt(i);
    Value parentOk = arith::AndIOp::create(
        b, cmpi(arith::CmpIPredicate::sge, parent, e.i32(0)),
        cmpi(arith::CmpIPredicate::slt, parent, asI32(i)));
    return {asIndex(arith::SelectOp::create(b, parentOk, parent, e.i32(0))),
            parentOk};
  }

  /// Node i >= 1 from its parent's state (the parent is final): membership
  /// and, for a member, its depth, whether its path is accepted so far, the
  /// accepted prefix, its end node and the summed log p.
  void visitNode(Value i) {
    std::pair<Value, Value> link = parentOf(i);
    Value p = link.first, parentOk = link.second;
    Value member = arith::AndIOp::create(b, parentOk, load(inTree, p));
    store(member, inTree, i);
    auto ifMember = scf::IfOp::create(b, member, false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifMember.thenBlock()->getTerminator());
    store(i1(true), hasChild, p);
    Value d = arith::AddIOp::create(b, load(depth, p), e.i32(1));
    store(d, depth, i);
    Value token = tokenOf(i);
    Value validToken = isVocabToken(token);
    Value match, logP = f32(0.0);
    if (!typical) {
      match = greedyPasses(token, p);
    } else {
      auto ifGreedy = scf::IfOp::create(
          b, TypeRange{b.getI1Type(), b.getF32Type()}, greedyReq, true);
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(ifGreedy.thenBlock());
      scf::YieldOp::create(b, ValueRange{greedyPasses(token, p), f32(0.0)});
      b.setInsertionPointToStart(ifGreedy.elseBlock());
      Value tokenIndex =
          asIndex(arith::SelectOp::create(b, validToken, token, e.i32(0)));
      Value px = probAt(p, tokenIndex, load(rowLseBuf, p));
      Value passes = arith::AndIOp::create(
          b, validToken,
          cmpf(arith::CmpFPredicate::OGT, px, load(rowThreshold, p)));
      scf::YieldOp::create(b, ValueRange{passes, math::LogOp::create(b, px)});
      b.setInsertionPointAfter(ifGreedy);
      match = ifGreedy.getResult(0);
      logP = ifGreedy.getResult(1);
    }
    Value ok = arith::AndIOp::create(b, load(okNode, p), match);
    store(ok, okNode, i);
    store(arith::SelectOp::create(b, ok, d, load(prefix, p)), prefix, i);
    store(arith::SelectOp::create(b, ok, asI32(i), load(endNode, p)), endNode,
          i);
    store(arith::SelectOp::create(
              b, ok, arith::AddFOp::create(b, load(logSum, p), logP),
              load(logSum, p)),
          logSum, i);
  }

  /// Whether `token` is an id of the vocabulary.
  Value isVocabToken(Value token) {
    return arith::AndIOp::create(
        b, cmpi(arith::CmpIPredicate::sge, token, e.i32(0)),
        cmpi(arith::CmpIPredicate::slt, token, e.i32(vocab)));
  }

  /// The greedy test of a node's `token` below parent `p`: a vocabulary id
  /// equal to the parent row's argmax.
  Value greedyPasses(Value token, Value p) {
    return arith::AndIOp::create(
        b, isVocabToken(token),
        cmpi(arith::CmpIPredicate::eq, token, load(rowBest, p)));
  }

  /// Whether node i (< n) is a leaf of the tree.
  Value isLeaf(Value i) {
    return arith::AndIOp::create(b, load(inTree, i), notV(load(hasChild, i)));
  }

  void lowerRequest(Value row) {
    loadPhiloxKey();
    Value n = nodeCount();
    initRoot();
    e.forLoop(e.index(0), e.index(nodes), [&](Value i) { store(i1(false), hasChild, i); });
    computeRowStats(e.index(0));

    // Nodes in index order: a parent always precedes its children.
    e.forLoop(e.index(1), n, [&](Value i) {
      visitNode(i);
      e.ifThen(load(inTree, i), [&] { computeRowStats(i); });
    });

    // The best leaf: longest accepted prefix, then (typical) the larger
    // log-probability sum, then the lower index.
    ValueRange best = e.forLoop(
        e.index(0), n, ValueRange{e.i32(-1), f32(-INFINITY), e.index(0)},
        [&](Value i, ValueRange s) -> SmallVector<Value> {
          Value leaf = isLeaf(i);
          Value score = load(prefix, i);
          Value sum = load(logSum, i);
          Value longer = cmpi(arith::CmpIPredicate::sgt, score, s[0]);
          Value better = longer;
          if (typical)
            better = arith::OrIOp::create(
                b, longer,
                arith::AndIOp::create(b, cmpi(arith::CmpIPredicate::eq, score, s[0]),
                                      cmpf(arith::CmpFPredicate::OGT, sum, s[1])));
          Value take = arith::AndIOp::create(b, leaf, better);
          return {arith::SelectOp::create(b, take, score, s[0]),
                  arith::SelectOp::create(b, take, sum, s[1]),
                  arith::SelectOp::create(b, take, i, s[2])};
        });
    emitPath(best[2]);
    storeBestLeaf(best[2]);
    fillPastPath(prefixOfLeaf(best[2]), e.index(0), 1);
  }

  /// The optional best_leaf result of request `req`.
  void storeBestLeaf(Value leaf) {
    if (bestLeaf)
      memref::StoreOp::create(b, asI32(leaf), bestLeaf, ValueRange{req});
  }

  /// The accepted depth of `leaf`'s path (below the node count by
  /// construction; the clamp says so to the loops that use it, and to the
  /// kernel model).
  Value prefixOfLeaf(Value leaf) {
    return e.clampIndex(asIndex(load(prefix, leaf)), e.index(0),
                        e.index(std::max<int64_t>(nodes - 1, 0)));
  }

  /// The results of request `req` from its best leaf: the accepted nodes
  /// and tokens (walking up from the path's last accepted node), the next
  /// token and the counts.
  void emitPath(Value leaf) {
    Value score = prefixOfLeaf(leaf);
    Value last = asIndex(load(endNode, leaf));
    e.forLoop(e.index(0), arith::AddIOp::create(b, score, e.index(1)),
              ValueRange{last}, [&](Value step, ValueRange s) -> SmallVector<Value> {
                Value d = arith::SubIOp::create(b, score, step);
                Value node = s[0];
                memref::StoreOp::create(b, asI32(node), acceptNodes,
                                        ValueRange{req, d});
                Value below =
                    cmpi(arith::CmpIPredicate::sgt, d, e.index(0));
                e.ifThen(below, [&] {
                  memref::StoreOp::create(
                      b, tokenOf(node), tokens,
                      ValueRange{req, arith::SubIOp::create(b, d, e.index(1))});
                });
                Value up = asIndex(arith::SelectOp::create(
                    b, below, parentAt(node), e.i32(0)));
                return {up};
              });
    // The next token, from the last accepted node's row.
    Value next = asIndex(load(rowBest, last));
    if (typical) {
      auto ifGreedy = scf::IfOp::create(b, b.getIndexType(), greedyReq, true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifGreedy.thenBlock());
      scf::YieldOp::create(b, asIndex(load(rowBest, last)));
      b.setInsertionPointToStart(ifGreedy.elseBlock());
      scf::YieldOp::create(b, raceOverProbs(last, load(rowLseBuf, last)));
      b.setInsertionPointAfter(ifGreedy);
      next = ifGreedy.getResult(0);
    }
    memref::StoreOp::create(b, asI32(next), tokens, ValueRange{req, score});
    Value numEmitted = arith::AddIOp::create(b, score, e.index(1));
    memref::StoreOp::create(b, asI32(score), accepted, ValueRange{req});
    memref::StoreOp::create(b, asI32(numEmitted), emitted, ValueRange{req});
  }

  /// -1 in the tokens and accepted nodes past a path of `score` accepted
  /// nodes, slots first, first + step, ...
  void fillPastPath(Value score, Value first, int64_t step) {
    Value numEmitted = arith::AddIOp::create(b, score, e.index(1));
    e.forLoop(
        arith::AddIOp::create(b, numEmitted, first), e.index(capacity),
        e.index(step), ValueRange{},
        [&](Value j, ValueRange) -> SmallVector<Value> {
          memref::StoreOp::create(b, e.i32(-1), tokens, ValueRange{req, j});
          memref::StoreOp::create(b, e.i32(-1), acceptNodes,
                                  ValueRange{req, j});
          return {};
        });
  }

  /// Greedy and typical trees on the GPU: a block per request, a thread
  /// per node. The tree's state lives in shared memory; the nodes' row
  /// statistics are read in parallel, then the nodes are visited level by
  /// level (a node once its parent is final: the same steps on the same
  /// values as the walk in index order), the best leaf comes from block
  /// reductions with the walk's preference (longest accepted prefix, then,
  /// typical, the first larger log-p sum, then the lower index), and the
  /// first thread writes the path from the shared copies of the parents
  /// and tokens.
  void lowerRequestsByBlocks(int64_t batch) {
    int64_t threads = std::min<int64_t>(1024, llvm::alignTo(nodes, 32));
    auto shared = [&](Type type) { return workgroupMemRef({nodes}, type); };
    Type boolType = b.getI1Type(), intType = b.getI32Type();
    Type floatType = b.getF32Type();
    SmallVector<MemRefType> buffers = {
        shared(boolType),  shared(boolType), shared(boolType),
        shared(intType),   shared(intType),  shared(intType),
        shared(floatType), shared(intType),  shared(floatType),
        shared(floatType), shared(boolType), shared(boolType),
        shared(intType),   shared(intType)};
    // Greedy: the 2^k-th ancestor of every node, k = 0 .. jumps.
    int64_t jumps = llvm::Log2_64_Ceil(std::max<int64_t>(nodes, 2)) + 1;
    if (!typical)
      buffers.push_back(workgroupMemRef({(jumps + 1) * nodes}, intType));
    e.blockLaunch(
        e.index(batch), threads, buffers,
        [&](Value row, Value tid, ValueRange state) {
          inTree = state[0], hasChild = state[1], okNode = state[2];
          depth = state[3], prefix = state[4], endNode = state[5];
          logSum = state[6], rowBest = state[7], rowLseBuf = state[8];
          rowThreshold = state[9];
          Value done = state[10], ready = state[11];
          req = row;
          loadTemperature();
          greedyReq = notV(cmpf(arith::CmpFPredicate::OGT, temp, f32(0.0)));
          loadPhiloxKey();
          Value n = nodeCount();
          auto everyNode = [&](Value lb, llvm::function_ref<void(Value)> body) {
            e.blockStrided(lb, n, tid, threads, ValueRange{},
                           [&](Value i, ValueRange) -> SmallVector<Value> {
                             body(i);
                             return {};
                           });
          };
          // The tree's parents and tokens, each node's row statistics.
          everyNode(e.index(0), [&](Value i) {
            store(memref::LoadOp::create(b, parents, ValueRange{req, i}),
                  state[12], i);
            store(memref::LoadOp::create(b, treeTokens, ValueRange{req, i}),
                  state[13], i);
            store(i1(false), hasChild, i);
            store(cmpi(arith::CmpIPredicate::eq, i, e.index(0)), done, i);
            computeRowStats(i);
          });
          treeParents = state[12];
          treeTokenRow = state[13];
          onFirstThread(e, tid, [&] { initRoot(); });
          collective::BlockBarrierOp::create(b);
          if (!typical)
            jumpGreedyTree(tid, n, state[14], jumps);
          // Level by level (blockRounds, at most one level per node): the
          // nodes whose parent is final (decided before any of them is
          // written), then those nodes, until a level has none.
          if (typical)
            blockRounds(e, n, [&]() -> Value {
              Value mine = e.blockStrided(
                  e.index(1), n, tid, threads, ValueRange{e.i32(0)},
                  [&](Value i, ValueRange acc) -> SmallVector<Value> {
                    Value isReady = arith::AndIOp::create(
                        b, notV(load(done, i)), load(done, parentOf(i).first));
                    store(isReady, ready, i);
                    return {arith::OrIOp::create(
                        b, acc[0],
                        arith::ExtUIOp::create(b, intType, isReady))};
                  })[0];
              Value any = collective::BlockReduceOp::create(
                  b, intType, collective::ReductionKind::max, mine);
              everyNode(e.index(1), [&](Value i) {
                e.ifThen(load(ready, i), [&] {
                  visitNode(i);
                  store(i1(true), done, i);
                });
              });
              collective::BlockBarrierOp::create(b);
              return cmpi(arith::CmpIPredicate::ne, any, e.i32(0));
            });
          // The best leaf.
          Value mineScore = e.i32(-1), mineFirst = e.i32(nodes);
          ValueRange mine = e.blockStrided(
              e.index(0), n, tid, threads, ValueRange{mineScore},
              [&](Value i, ValueRange acc) -> SmallVector<Value> {
                return {arith::SelectOp::create(
                    b, isLeaf(i),
                    arith::MaxSIOp::create(b, acc[0], load(prefix, i)),
                    acc[0])};
              });
          Value bestScore =
              collective::BlockReduceOp::create(
                  b, intType, collective::ReductionKind::max, mine[0])
                  .getResult();
          auto candidate = [&](Value i) {
            return arith::AndIOp::create(
                b, isLeaf(i),
                cmpi(arith::CmpIPredicate::eq, load(prefix, i), bestScore));
          };
          // The first candidate, which the walk takes first.
          ValueRange first = e.blockStrided(
              e.index(0), n, tid, threads, ValueRange{mineFirst},
              [&](Value i, ValueRange acc) -> SmallVector<Value> {
                return {arith::SelectOp::create(
                    b, candidate(i),
                    arith::MinSIOp::create(b, acc[0], asI32(i)), acc[0])};
              });
          Value leaf =
              asIndex(collective::BlockReduceOp::create(
                          b, intType, collective::ReductionKind::min, first[0])
                          .getResult());
          if (typical) {
            // Then a strictly larger sum replaces it: the first largest
            // (a NaN sum never replaces, nor is replaced when it is first).
            ValueRange mineBest = e.blockStrided(
                e.index(0), n, tid, threads, ValueRange{f32(NAN), e.i32(nodes)},
                [&](Value i, ValueRange acc) -> SmallVector<Value> {
                  Value sum = load(logSum, i);
                  Value better = arith::AndIOp::create(
                      b, candidate(i),
                      arith::OrIOp::create(
                          b, cmpf(arith::CmpFPredicate::OGT, sum, acc[0]),
                          cmpf(arith::CmpFPredicate::UNO, acc[0], acc[0])));
                  better = arith::AndIOp::create(
                      b, better, cmpf(arith::CmpFPredicate::ORD, sum, sum));
                  return {arith::SelectOp::create(b, better, sum, acc[0]),
                          arith::SelectOp::create(b, better, asI32(i), acc[1])};
                });
            auto bestSum = collective::BlockArgMaxOp::create(
                b, floatType, intType, mineBest[0], mineBest[1]);
            Value firstIsNan = cmpf(arith::CmpFPredicate::UNO,
                                    load(logSum, leaf), load(logSum, leaf));
            leaf = arith::SelectOp::create(b, firstIsNan, leaf,
                                           asIndex(bestSum.getArgmax()));
          }
          if (typical)
            onFirstThread(e, tid, [&] { emitPath(leaf); });
          else
            emitPathByNodes(tid, n, leaf, state[14], jumps);
          if (bestLeaf)
            onFirstThread(e, tid, [&] { storeBestLeaf(leaf); });
          fillPastPath(prefixOfLeaf(leaf), tid, threads);
          treeParents = Value();
          treeTokenRow = Value();
        });
  }

  /// A greedy tree's node states by pointer jumping (a thread per node,
  /// `jumps` rounds): every node keeps the summary of the path segment from
  /// its current ancestor (exclusive) down to itself, with the nodes' own
  /// tests (a greedy test reads only the parent's argmax, known up front):
  /// its length (the depth), whether every test passed, how many leading
  /// ones did and the last of them (the accepted prefix and its end node),
  /// and whether every parent link was valid (membership). A summary joins
  /// the one above it and the ancestor doubles, until the root; `jumpsBuf`
  /// keeps each round's ancestors. Integers and flags only: the walk's
  /// states, exactly.
  void jumpGreedyTree(Value tid, Value n, Value jumpsBuf, int64_t jumps) {
    Value active = cmpi(arith::CmpIPredicate::ult, tid, n);
    Value i =
        arith::MinUIOp::create(b, tid, arith::SubIOp::create(b, n, e.index(1)));
    Value isRoot = cmpi(arith::CmpIPredicate::eq, i, e.index(0));
    std::pair<Value, Value> link = parentOf(i);
    Value p = link.first, parentOk = link.second;
    Value match = greedyPasses(tokenOf(i), p);
    Value passes = arith::AndIOp::create(b, notV(isRoot), match);
    auto select = [&](Value c, Value x, Value y) {
      return arith::SelectOp::create(b, c, x, y).getResult();
    };
    // Summary: ancestor, length, all passed, leading passes, the last
    // leading node (or -1), all links valid; the root's is empty.
    Value anc = select(isRoot, e.i32(-1), asI32(p));
    Value len = select(isRoot, e.i32(0), e.i32(1));
    Value all = arith::OrIOp::create(b, isRoot, match);
    Value leading = select(passes, e.i32(1), e.i32(0));
    Value last = select(passes, asI32(i), e.i32(-1));
    Value member = arith::OrIOp::create(b, isRoot, parentOk);
    auto jumpAt = [&](int64_t level, Value node) {
      return arith::AddIOp::create(b, e.index(level * nodes), node);
    };
    auto publish = [&](int64_t level) {
      e.ifThen(active, [&] {
        store(anc, jumpsBuf, jumpAt(level, i));
        store(len, depth, i);
        store(all, okNode, i);
        store(leading, prefix, i);
        store(last, endNode, i);
        store(member, inTree, i);
      });
      collective::BlockBarrierOp::create(b);
    };
    publish(0);
    for (int64_t level = 0; level < jumps; ++level) {
      Value above = cmpi(arith::CmpIPredicate::sge, anc, e.i32(0));
      Value a = asIndex(arith::MaxSIOp::create(b, anc, e.i32(0)));
      Value upLen = load(depth, a), upAll = load(okNode, a);
      Value upLeading = load(prefix, a), upLast = load(endNode, a);
      Value upMember = load(inTree, a);
      Value upAnc = load(jumpsBuf, jumpAt(level, a));
      Value joinedLeading =
          select(upAll, arith::AddIOp::create(b, upLen, leading), upLeading);
      Value joinedLast =
          select(upAll,
                 select(cmpi(arith::CmpIPredicate::sgt, leading, e.i32(0)),
                        last, upLast),
                 upLast);
      len = select(above, arith::AddIOp::create(b, upLen, len), len);
      leading = select(above, joinedLeading, leading);
      last = select(above, joinedLast, last);
      all = select(above, arith::AndIOp::create(b, upAll, all), all);
      member =
          select(above, arith::AndIOp::create(b, upMember, member), member);
      anc = select(above, upAnc, anc);
      // Everyone has read the summaries above before any is replaced.
      collective::BlockBarrierOp::create(b);
      publish(level + 1);
    }
    // The accepted prefix ends at the root when no test passed; a member
    // marks its parent as having a child.
    e.ifThen(active, [&] {
      store(select(cmpi(arith::CmpIPredicate::sgt, leading, e.i32(0)), last,
                   e.i32(0)),
            endNode, i);
      e.ifThen(arith::AndIOp::create(b, member, notV(isRoot)),
               [&] { store(i1(true), hasChild, p); });
    });
    collective::BlockBarrierOp::create(b);
  }

  /// A greedy tree's path, a thread per node: a member at depth d is on it
  /// when climbing score - d levels from the path's end node (by the
  /// rounds' ancestors) reaches it; it writes its slot, the first thread
  /// the next token and the counts.
  void emitPathByNodes(Value tid, Value n, Value leaf, Value jumpsBuf,
                       int64_t jumps) {
    Value score = prefixOfLeaf(leaf);
    Value last = asIndex(load(endNode, leaf));
    e.ifThen(cmpi(arith::CmpIPredicate::ult, tid, n), [&] {
      Value j = tid;
      Value d = asIndex(load(depth, j));
      Value climbs = arith::AndIOp::create(
          b, load(inTree, j), cmpi(arith::CmpIPredicate::ule, d, score));
      e.ifThen(climbs, [&] {
        Value up = arith::SubIOp::create(b, score, d);
        Value x = last;
        for (int64_t level = 0; level <= jumps; ++level) {
          Value bit = cmpi(
              arith::CmpIPredicate::ne,
              arith::AndIOp::create(
                  b, arith::ShRUIOp::create(b, up, e.index(level)), e.index(1)),
              e.index(0));
          Value next = load(
              jumpsBuf, arith::AddIOp::create(
                            b, e.index(level * nodes),
                            arith::MinUIOp::create(b, x, e.index(nodes - 1))));
          x = arith::SelectOp::create(
              b, bit, asIndex(arith::MaxSIOp::create(b, next, e.i32(0))), x);
        }
        e.ifThen(cmpi(arith::CmpIPredicate::eq, x, j), [&] {
          memref::StoreOp::create(b, asI32(j), acceptNodes, ValueRange{req, d});
          e.ifThen(cmpi(arith::CmpIPredicate::sgt, d, e.index(0)), [&] {
            memref::StoreOp::create(
                b, tokenOf(j), tokens,
                ValueRange{req, arith::SubIOp::create(b, d, e.index(1))});
          });
        });
      });
    });
    onFirstThread(e, tid, [&] {
      Value numEmitted = arith::AddIOp::create(b, score, e.index(1));
      memref::StoreOp::create(b, load(rowBest, last), tokens,
                              ValueRange{req, score});
      memref::StoreOp::create(b, asI32(score), accepted, ValueRange{req});
      memref::StoreOp::create(b, asI32(numEmitted), emitted, ValueRange{req});
    });
  }

  /// Node i's parent and token: from the block's shared copies of the
  /// request's tree in lowerRequestsByBlocks, else from the operands.
  Value parentAt(Value i) {
    if (treeParents)
      return load(treeParents, i);
    return memref::LoadOp::create(b, parents, ValueRange{req, i});
  }

  /// Whether node `c` (< n) is a child of `node`: an in-range parent chain
  /// ending at the root is not needed here, as the walk only reaches nodes
  /// from the root.
  Value isChildOf(Value c, Value node) {
    Value parent = memref::LoadOp::create(b, parents, ValueRange{req, c});
    return cmpi(arith::CmpIPredicate::eq, parent, asI32(node));
  }

  Value tokenOf(Value c) {
    if (treeTokenRow)
      return load(treeTokenRow, c);
    return memref::LoadOp::create(b, treeTokens, ValueRange{req, c});
  }

  Value validToken(Value token) {
    return arith::AndIOp::create(b, cmpi(arith::CmpIPredicate::sge, token, e.i32(0)),
                                 cmpi(arith::CmpIPredicate::slt, token, e.i32(vocab)));
  }

  /// Whether a child of `node` before `c` (index order) has `token`.
  Value repeatsEarlierSibling(Value node, Value c, Value token) {
    return e.forLoop(e.index(1), c, ValueRange{i1(false)},
                     [&](Value s, ValueRange acc) -> SmallVector<Value> {
                       Value same = arith::AndIOp::create(
                           b, isChildOf(s, node),
                           cmpi(arith::CmpIPredicate::eq, tokenOf(s), token));
                       return {arith::OrIOp::create(b, acc[0], same)};
                     })[0];
  }

  Value uniformOfNode(Value c) {
    if (uniforms)
      return memref::LoadOp::create(b, uniforms, ValueRange{req, c});
    return emitUniformFromWord(b, philoxWord(c, kUniformStream));
  }

  /// The SpecInfer / EAGLE sampling walk for one request (one-hot children).
  void lowerSamplingRequest(Value row) {
    loadPhiloxKey();
    Value n = e.clampIndex(
        asIndex(memref::LoadOp::create(b, numNodes, ValueRange{req})), e.index(1),
        e.index(nodes));
    memref::StoreOp::create(b, e.i32(0), acceptNodes, ValueRange{req, e.index(0)});
    // State: current node, accepted count, finished. Each step descends one
    // level, so `nodes` steps always suffice.
    ValueRange walk = e.forLoop(
        e.index(0), e.index(nodes), ValueRange{e.index(0), e.index(0), i1(false)},
        [&](Value, ValueRange s) -> SmallVector<Value> {
          auto ifLive = scf::IfOp::create(
              b, TypeRange{b.getIndexType(), b.getIndexType(), b.getI1Type()},
              notV(s[2]), true);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ifLive.thenBlock());
          Value node = s[0], count = s[1];
          Value lse = rowLse(node);
          // Try the children in index order: (chosen child or -1, Z).
          ValueRange tried = e.forLoop(
              arith::AddIOp::create(b, node, e.index(1)), n,
              ValueRange{e.index(-1), f32(1.0)},
              [&](Value c, ValueRange t) -> SmallVector<Value> {
                Value token = tokenOf(c);
                Value usable = arith::AndIOp::create(
                    b,
                    arith::AndIOp::create(b, cmpi(arith::CmpIPredicate::slt, t[0],
                                                  e.index(0)),
                                          isChildOf(c, node)),
                    validToken(token));
                auto ifTry = scf::IfOp::create(
                    b, TypeRange{b.getIndexType(), b.getF32Type()}, usable, true);
                OpBuilder::InsertionGuard inner(b);
                b.setInsertionPointToStart(ifTry.thenBlock());
                Value repeated = repeatsEarlierSibling(node, c, token);
                Value px = probAt(node, asIndex(token), lse);
                Value pass = arith::AndIOp::create(
                    b, notV(repeated),
                    arith::AndIOp::create(
                        b, cmpf(arith::CmpFPredicate::OGT, px, f32(0.0)),
                        cmpf(arith::CmpFPredicate::OGE, px,
                             arith::MulFOp::create(b, uniformOfNode(c), t[1]))));
                Value rejectedMass =
                    arith::SelectOp::create(b, repeated, f32(0.0), px);
                scf::YieldOp::create(
                    b, ValueRange{arith::SelectOp::create(b, pass, c, t[0]),
                                  arith::SelectOp::create(
                                      b, pass, t[1],
                                      arith::SubFOp::create(b, t[1], rejectedMass))});
                b.setInsertionPointToStart(ifTry.elseBlock());
                scf::YieldOp::create(b, ValueRange{t[0], t[1]});
                return {ifTry.getResult(0), ifTry.getResult(1)};
              });
          Value chosen = tried[0];
          Value descended = cmpi(arith::CmpIPredicate::sge, chosen, e.index(0));
          auto ifDown = scf::IfOp::create(
              b, TypeRange{b.getIndexType(), b.getIndexType(), b.getI1Type()},
              descended, true);
          b.setInsertionPointToStart(ifDown.thenBlock());
          {
            Value next = arith::AddIOp::create(b, count, e.index(1));
            memref::StoreOp::create(b, tokenOf(chosen), tokens, ValueRange{req, count});
            memref::StoreOp::create(b, asI32(chosen), acceptNodes, ValueRange{req, next});
            scf::YieldOp::create(b, ValueRange{chosen, next, i1(false)});
          }
          b.setInsertionPointToStart(ifDown.elseBlock());
          {
            // No child passed: sample from p with every child token masked.
            Value sample = argmaxOver([&](Value v) -> Value {
              Value masked = e.forLoop(
                  arith::AddIOp::create(b, node, e.index(1)), n, ValueRange{i1(false)},
                  [&](Value c, ValueRange m) -> SmallVector<Value> {
                    Value hit = arith::AndIOp::create(
                        b, isChildOf(c, node),
                        cmpi(arith::CmpIPredicate::eq, tokenOf(c), asI32(v)));
                    return {arith::OrIOp::create(b, m[0], hit)};
                  })[0];
              Value p = arith::SelectOp::create(b, masked, f32(0.0), probAt(node, v, lse));
              return arith::DivFOp::create(b, p, exponentialAt(v));
            });
            memref::StoreOp::create(b, asI32(sample), tokens, ValueRange{req, count});
            scf::YieldOp::create(b, ValueRange{node, count, i1(true)});
          }
          b.setInsertionPointAfter(ifDown);
          scf::YieldOp::create(b, ifDown.getResults());
          b.setInsertionPointToStart(ifLive.elseBlock());
          scf::YieldOp::create(b, ValueRange{s[0], s[1], s[2]});
          return {ifLive.getResult(0), ifLive.getResult(1), ifLive.getResult(2)};
        });
    Value count = walk[1];
    Value numEmitted = arith::AddIOp::create(b, count, e.index(1));
    e.forLoop(numEmitted, e.index(capacity), [&](Value j) {
      memref::StoreOp::create(b, e.i32(-1), tokens, ValueRange{req, j});
      memref::StoreOp::create(b, e.i32(-1), acceptNodes, ValueRange{req, j});
    });
    memref::StoreOp::create(b, asI32(count), accepted, ValueRange{req});
    memref::StoreOp::create(b, asI32(numEmitted), emitted, ValueRange{req});
    if (bestLeaf)
      storeBestLeaf(firstLeafBelow(walk[0], n));
  }

  /// The first (lowest-index) leaf of the subtree of node `stop` (`stop`
  /// itself when it has no child): the first path, in ascending leaf order,
  /// through every node the walk accepted. A node after `stop` joins the
  /// subtree when its parent is in it (parents precede their children);
  /// `inTree` marks the subtree and `hasChild` its inner nodes.
  Value firstLeafBelow(Value stop, Value n) {
    e.forLoop(e.index(0), e.index(nodes), [&](Value i) {
      store(i1(false), inTree, i);
      store(i1(false), hasChild, i);
    });
    store(i1(true), inTree, stop);
    e.forLoop(arith::AddIOp::create(b, stop, e.index(1)), n, [&](Value i) {
      std::pair<Value, Value> link = parentOf(i);
      Value member =
          arith::AndIOp::create(b, link.second, load(inTree, link.first));
      store(member, inTree, i);
      e.ifThen(member, [&] { store(i1(true), hasChild, link.first); });
    });
    return e.forLoop(stop, n, ValueRange{e.index(nodes)},
                     [&](Value i, ValueRange s) -> SmallVector<Value> {
                       Value first =
                           arith::AndIOp::create(b, isLeaf(i),
                                                 cmpi(arith::CmpIPredicate::eq,
                                                      s[0], e.index(nodes)));
                       return {arith::SelectOp::create(b, first, i, s[0])};
                     })[0];
  }

  tok::TreeVerifyOp op;
  int64_t nodes = 0, capacity = 0;
  bool typical = false, sampling = false;
  Value greedyReq; // per request
  Value treeTokens, parents, numNodes, tokens, acceptNodes, accepted,
      emitted;
  Value bestLeaf; // the optional best_leaf result, else null
  Value inTree, hasChild, okNode, depth, prefix, endNode, logSum, rowBest,
      rowLseBuf, rowThreshold;
  // lowerRequestsByBlocks: the request's parents and tokens in shared memory.
  Value treeParents, treeTokenRow;
  bool splitVocab = false, inDispatch = false;
};

void lowerSpecVerify(tok::SpecVerifyOp op, ImplicitLocOpBuilder &b,
                     LoweringContext &context, bool splitVocab) {
  SpecVerifyLowering(op, b, context, splitVocab).lower();
}

void lowerTreeVerify(tok::TreeVerifyOp op, ImplicitLocOpBuilder &b,
                     LoweringContext &context, bool splitVocab) {
  TreeVerifyLowering(op, b, context, splitVocab).lower();
}

/// The ops of this family that have a CPU and a GPU form, in one of them.
void addVerifyForms(RewritePatternSet &patterns, const LoweringOptions &options,
                    DispatchRow *row, bool gpuForm) {
  addTokLoweringForm<tok::SpecVerifyOp>(patterns, options, row, gpuForm,
                                        lowerSpecVerify);
  addTokLoweringForm<tok::TreeVerifyOp>(patterns, options, row, gpuForm,
                                        lowerTreeVerify);
}

} // namespace

void populateVerifyToLoopsPatterns(RewritePatternSet &patterns,
                                   const LoweringOptions &options,
                                   DispatchRow *row) {
  addVerifyForms(patterns, options, row, /*gpuForm=*/false);
}

void populateVerifyToGpuLoopsPatterns(RewritePatternSet &patterns,
                                      const LoweringOptions &options,
                                      DispatchRow *row) {
  addVerifyForms(patterns, options, row, /*gpuForm=*/true);
}

} // namespace winnow
