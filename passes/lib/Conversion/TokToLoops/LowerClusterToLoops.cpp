//===- LowerClusterToLoops.cpp - CPU loops for the clustering ops ---------===//
//
// Pairwise distances and similarities are recomputed where needed instead
// of being stored: scratch is O(N) per batch row (plus k for the kNN list).
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "RadixSelect.h"
#include "RowBlock.h"
#include "TokOpLowering.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "winnow/Dialect/Collective/IR/CollectiveOps.h"
#include "winnow/Dialect/Tok/IR/TokOps.h"

using namespace mlir;

namespace winnow {
namespace {

/// A contiguous identity-layout buffer viewed with another static shape.
Value viewAs(ImplicitLocOpBuilder &b, Value buffer, ArrayRef<int64_t> shape) {
  auto type = cast<MemRefType>(buffer.getType());
  // A row view (offset) would be read from its base: tok-form-dispatch-regions
  // never fuses the clustering ops.
  assert(type.getLayout().isIdentity() && "viewAs needs an identity layout");
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  auto viewType = MemRefType::get(
      shape, type.getElementType(),
      StridedLayoutAttr::get(b.getContext(), /*offset=*/0, strides));
  Value view = memref::ReinterpretCastOp::create(b, viewType, buffer, 0, shape,
                                                 strides);
  return view;
}

/// Shared per-row helpers of the clustering lowerings.
class PairwiseRows {
public:
  PairwiseRows(ImplicitLocOpBuilder &b, LoopEmitter &e, Value input,
               int64_t features)
      : b(b), e(e), input(input), features(features) {}

  /// sum_d f(x_i[d], x_j[d]) in fp32, in orderedSums' lane order.
  Value reduce(Value row, Value i, Value j,
               llvm::function_ref<Value(Value, Value)> term) {
    return orderedRowSums(e, {{input, {row, i}}, {input, {row, j}}}, features,
                          1, [&](ArrayRef<Value> xy) -> SmallVector<Value> {
                            return {
                                term(e.widenToF32(xy[0]), e.widenToF32(xy[1]))};
                          })[0];
  }

  Value dot(Value row, Value i, Value j) {
    return orderedRowDot(e, {input, {row, i}}, {input, {row, j}}, features);
  }

  /// ||x_i - x_j||^2 / C.
  Value scaledSquaredDistance(Value row, Value i, Value j) {
    Value sum = reduce(row, i, j, [&](Value x, Value y) -> Value {
      Value diff = arith::SubFOp::create(b, x, y);
      return arith::MulFOp::create(b, diff, diff);
    });
    return arith::DivFOp::create(b, sum,
                                 e.f32(static_cast<double>(features)));
  }

  /// 1 / max(||x_i||, 1e-12).
  Value inverseNorm(Value row, Value i) {
    return winnow::inverseNorm(e, {input, {row, i}}, features);
  }

  /// 1 / max(||x_i||, 1e-12) into `invNorm[i]` for every i < n.
  void fillInverseNorms(Value row, Value n, Value invNorm) {
    e.forLoop(e.index(0), n, [&](Value i) {
      memref::StoreOp::create(b, inverseNorm(row, i), invNorm, ValueRange{i});
    });
  }

  /// Whether tokens i < j are joined: cos(x_i, x_j) > threshold (NaN never).
  Value joined(Value row, Value i, Value j, Value invI, Value invJ,
               float threshold) {
    Value cosine = arith::MulFOp::create(b, dot(row, i, j),
                                         arith::MulFOp::create(b, invI, invJ));
    return arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, cosine,
                                 e.f32(threshold));
  }

private:
  ImplicitLocOpBuilder &b;
  LoopEmitter &e;
  Value input;
  int64_t features;
};

//===----------------------------------------------------------------------===//
// tok.row_cosine
//===----------------------------------------------------------------------===//

void lowerRowCosine(tok::RowCosineOp op, ImplicitLocOpBuilder &b,
                    LoweringContext &context) {
  OpLowering e(b, context);
  auto type = op.getLhs().getType();
  int64_t features = type.getShape().back();
  int64_t rows = 1;
  for (int64_t d : type.getShape().drop_back())
    rows *= d;
  Value lhs = viewAs(b, e.toBuffer(op.getLhs()), {1, rows, features});
  Value rhs = viewAs(b, e.toBuffer(op.getRhs()), {1, rows, features});
  Value outBuffer = e.allocFor(op.getSimilarity());
  Value out = viewAs(b, outBuffer, {rows});
  Value zero = e.index(0);
  // One row per iteration (parallel: one thread per row on the GPU).
  e.parallelFor(rows, [&](Value r) {
    SmallVector<Value> sums = orderedRowSums(
        e, {{lhs, {zero, r}}, {rhs, {zero, r}}}, features, 3,
        [&](ArrayRef<Value> xy) -> SmallVector<Value> {
          Value x = e.widenToF32(xy[0]);
          Value y = e.widenToF32(xy[1]);
          return {arith::MulFOp::create(b, x, y),
                  arith::MulFOp::create(b, x, x),
                  arith::MulFOp::create(b, y, y)};
        });
    auto norm = [&](Value squared) -> Value {
      return arith::MaximumFOp::create(b, math::SqrtOp::create(b, squared),
                                       e.f32(1e-12));
    };
    Value cosine = arith::DivFOp::create(
        b, sums[0], arith::MulFOp::create(b, norm(sums[1]), norm(sums[2])));
    memref::StoreOp::create(b, cosine, out, ValueRange{r});
  });
  e.replaceWithBuffer(op.getSimilarity(), outBuffer);
}

//===----------------------------------------------------------------------===//
// tok.density_peaks
//===----------------------------------------------------------------------===//

/// `splitPhases` (the GPU form): each phase is its own loop over every
/// (row, token), with the per-row scratch in [B, N] buffers, instead of the
/// CPU's phases in order inside one loop over rows. Same steps per token.
void lowerDensityPeaks(tok::DensityPeaksOp op, ImplicitLocOpBuilder &b,
                       LoweringContext &context, bool splitPhases) {
  OpLowering e(b, context);
  auto type = op.getInput().getType();
  int64_t batch = type.getDimSize(0), tokens = type.getDimSize(1);
  int64_t features = type.getDimSize(2);
  int64_t k = std::min<int64_t>(op.getKAttr().getInt(), tokens);
  int64_t clusters = std::min<int64_t>(op.getClustersAttr().getInt(), tokens);
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  Value input = e.toBuffer(op.getInput());
  Value lengths = op.getLengths() ? e.toBuffer(op.getLengths()) : Value();
  Value parent = e.allocFor(op.getParent());
  Value counts = e.allocFor(op.getCount());
  RowScratch scratch{e, batch, splitPhases};
  Value rho = scratch.alloc(tokens, f32);
  Value scoreKey = scratch.alloc(tokens, i32);
  Value cluster = scratch.alloc(tokens, i32);
  Value centerOf = scratch.alloc(clusters, i32);
  auto at = [&](Value row, Value i) { return scratch.at(row, i); };
  auto newNearest = [&] {
    return memref::AllocaOp::create(
        b, MemRefType::get({std::max<int64_t>(k, 1)}, f32));
  };
  PairwiseRows pairs(b, e, input, features);
  struct RowBounds {
    Value len, kk, numClusters;
  };
  auto boundsOf = [&](Value row) {
    Value len = e.rowLength(lengths, row, tokens);
    return RowBounds{len, arith::MinSIOp::create(b, e.index(k), len),
                     arith::MinSIOp::create(b, e.index(clusters), len)};
  };

  // Density: the mean of the k smallest scaled squared distances (self
  // included), kept sorted by insertion; a later equal distance does not
  // displace an earlier one, so ties go to the lower index.
  auto densityPhase = [&](Value row, RowBounds r, Value i, Value nearest) {
    Value len = r.len, kk = r.kk;
    e.forLoop(e.index(0), e.index(std::max<int64_t>(k, 1)), [&](Value s) {
      memref::StoreOp::create(b, e.f32(INFINITY), nearest, ValueRange{s});
    });
    e.forLoop(e.index(0), len, [&](Value j) {
      Value d2 = pairs.scaledSquaredDistance(row, i, j);
      // Shift larger entries right from the end; place d2 where it fits.
      e.forLoop(
          e.index(0), kk, ValueRange{d2},
          [&](Value step, ValueRange s) -> SmallVector<Value> {
            Value slot = arith::SubIOp::create(
                b, arith::SubIOp::create(b, kk, e.index(1)), step);
            Value current =
                memref::LoadOp::create(b, nearest, ValueRange{slot});
            Value prev = arith::SelectOp::create(
                b,
                arith::CmpIOp::create(b, arith::CmpIPredicate::eq, slot,
                                      e.index(0)),
                e.f32(-INFINITY),
                memref::LoadOp::create(
                    b, nearest,
                    ValueRange{arith::MaxSIOp::create(
                        b, arith::SubIOp::create(b, slot, e.index(1)),
                        e.index(0))}));
            // Slot takes d2 if prev <= d2 < current; takes prev if d2 < prev.
            Value fits = arith::AndIOp::create(
                b,
                arith::CmpFOp::create(b, arith::CmpFPredicate::OLT, d2,
                                      current),
                arith::CmpFOp::create(b, arith::CmpFPredicate::OGE, d2, prev));
            Value shift =
                arith::CmpFOp::create(b, arith::CmpFPredicate::OLT, d2, prev);
            Value next = arith::SelectOp::create(
                b, fits, d2, arith::SelectOp::create(b, shift, prev, current));
            memref::StoreOp::create(b, next, nearest, ValueRange{slot});
            return {s[0]};
          });
    });
    Value sum = e.forLoop(
        e.index(0), kk, ValueRange{e.f32(0.0)},
        [&](Value s, ValueRange acc) -> SmallVector<Value> {
          return {arith::AddFOp::create(
              b, acc[0], memref::LoadOp::create(b, nearest, ValueRange{s}))};
        })[0];
    Value mean = arith::DivFOp::create(
        b, sum,
        arith::UIToFPOp::create(b, f32,
                                arith::IndexCastOp::create(b, i32, kk)));
    memref::StoreOp::create(
        b, math::ExpOp::create(b, arith::NegFOp::create(b, mean)), rho,
        at(row, i));
  };
  // Distance to the nearest denser token (or the farthest, for the peak),
  // and the center score rho * delta as an order key.
  auto deltaPhase = [&](Value row, RowBounds r, Value i) {
    Value rhoI = memref::LoadOp::create(b, rho, at(row, i));
    ValueRange d = e.forLoop(
        e.index(0), r.len, ValueRange{e.f32(INFINITY), e.f32(-INFINITY)},
        [&](Value j, ValueRange s) -> SmallVector<Value> {
          Value rhoJ = memref::LoadOp::create(b, rho, at(row, j));
          Value denser = arith::OrIOp::create(
              b,
              arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, rhoJ, rhoI),
              arith::AndIOp::create(
                  b,
                  arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, rhoJ,
                                        rhoI),
                  arith::CmpIOp::create(b, arith::CmpIPredicate::slt, j, i)));
          Value dist =
              math::SqrtOp::create(b, pairs.scaledSquaredDistance(row, i, j));
          Value nearer = arith::SelectOp::create(
              b, denser, arith::MinimumFOp::create(b, s[0], dist), s[0]);
          return {nearer, arith::MaximumFOp::create(b, s[1], dist)};
        });
    Value isPeak = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, d[0],
                                         e.f32(INFINITY));
    Value delta = arith::SelectOp::create(b, isPeak, d[1], d[0]);
    Value score = arith::MulFOp::create(b, rhoI, delta);
    memref::StoreOp::create(b,
                            emitOrderKey(b, score, tok::NanPolicy::as_neg_inf),
                            scoreKey, at(row, i));
  };
  // Center rank: #{j : key_j > key_i, or equal and j < i}.
  auto rankOf = [&](Value row, RowBounds r, Value i) -> Value {
    Value key = memref::LoadOp::create(b, scoreKey, at(row, i));
    return e.forLoop(
        e.index(0), r.len, ValueRange{e.index(0)},
        [&](Value j, ValueRange s) -> SmallVector<Value> {
          Value other = memref::LoadOp::create(b, scoreKey, at(row, j));
          Value before = emitRanksBefore(b, other, key, j, i);
          return {arith::AddIOp::create(b, s[0], e.indexOf(before))};
        })[0];
  };
  // Every valid token's cluster: its own when it is a center, else its
  // nearest center's (ties to the lower cluster; NaN distances never win);
  // -1 past the row's length.
  auto assignPhase = [&](Value row, RowBounds r, Value i) {
    Value valid = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, i, r.len);
    auto ifValid = scf::IfOp::create(b, i32, valid, true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifValid.thenBlock());
    Value own = memref::LoadOp::create(b, cluster, at(row, i));
    Value isCenter =
        arith::CmpIOp::create(b, arith::CmpIPredicate::sge, own, e.i32(0));
    auto ifCenter = scf::IfOp::create(b, i32, isCenter, true);
    b.setInsertionPointToStart(ifCenter.thenBlock());
    scf::YieldOp::create(b, own);
    b.setInsertionPointToStart(ifCenter.elseBlock());
    ValueRange best = e.forLoop(
        e.index(0), r.numClusters, ValueRange{e.f32(INFINITY), e.i32(0)},
        [&](Value c, ValueRange s) -> SmallVector<Value> {
          Value center = arith::IndexCastOp::create(
              b, b.getIndexType(),
              memref::LoadOp::create(b, centerOf, at(row, c)));
          Value d2 = pairs.scaledSquaredDistance(row, i, center);
          Value better =
              arith::CmpFOp::create(b, arith::CmpFPredicate::OLT, d2, s[0]);
          return {arith::SelectOp::create(b, better, d2, s[0]),
                  arith::SelectOp::create(
                      b, better, arith::IndexCastOp::create(b, i32, c), s[1])};
        });
    scf::YieldOp::create(b, best[1]);
    b.setInsertionPointAfter(ifCenter);
    scf::YieldOp::create(b, ifCenter.getResult(0));
    b.setInsertionPointToStart(ifValid.elseBlock());
    scf::YieldOp::create(b, e.i32(-1));
    b.setInsertionPointAfter(ifValid);
    memref::StoreOp::create(b, ifValid.getResult(0), parent,
                            ValueRange{row, i});
  };
  auto storeCount = [&](Value row, RowBounds r) {
    memref::StoreOp::create(b,
                            arith::IndexCastOp::create(b, i32, r.numClusters),
                            counts, ValueRange{row});
  };

  if (splitPhases) {
    // One loop per phase over every (row, token) of the batch.
    auto phase = [&](int64_t extent,
                     llvm::function_ref<void(Value, RowBounds, Value)> body) {
      e.parallelFor({batch, extent}, [&](ValueRange iv) {
        body(iv[0], boundsOf(iv[0]), iv[1]);
      });
    };
    phase(tokens, [&](Value row, RowBounds r, Value i) {
      e.ifThen(e.cmpi(arith::CmpIPredicate::slt, i, r.len),
               [&] { densityPhase(row, r, i, newNearest()); });
    });
    phase(tokens, [&](Value row, RowBounds r, Value i) {
      e.ifThen(e.cmpi(arith::CmpIPredicate::slt, i, r.len),
               [&] { deltaPhase(row, r, i); });
    });
    // Each token's cluster from its rank; each center slot finds the token
    // of its rank (every slot is written by its own iteration).
    phase(tokens, [&](Value row, RowBounds r, Value i) {
      e.ifThen(e.cmpi(arith::CmpIPredicate::slt, i, r.len), [&] {
        Value rank = rankOf(row, r, i);
        Value isCenter = e.cmpi(arith::CmpIPredicate::slt, rank, r.numClusters);
        memref::StoreOp::create(
            b,
            arith::SelectOp::create(b, isCenter,
                                    arith::IndexCastOp::create(b, i32, rank),
                                    e.i32(-1)),
            cluster, at(row, i));
      });
    });
    phase(std::max<int64_t>(clusters, 1), [&](Value row, RowBounds r, Value c) {
      e.ifThen(e.cmpi(arith::CmpIPredicate::slt, c, r.numClusters), [&] {
        Value token = e.forLoop(
            e.index(0), r.len, ValueRange{e.i32(0)},
            [&](Value i, ValueRange s) -> SmallVector<Value> {
              Value mine =
                  e.cmpi(arith::CmpIPredicate::eq,
                         memref::LoadOp::create(b, cluster, at(row, i)),
                         arith::IndexCastOp::create(b, i32, c));
              return {arith::SelectOp::create(
                  b, mine, arith::IndexCastOp::create(b, i32, i), s[0])};
            })[0];
        memref::StoreOp::create(b, token, centerOf, at(row, c));
      });
    });
    phase(tokens, assignPhase);
    e.parallelFor(batch, [&](Value row) { storeCount(row, boundsOf(row)); });
  } else {
    Value nearest = newNearest();
    e.parallelFor(batch, [&](Value row) {
      RowBounds r = boundsOf(row);
      e.forLoop(e.index(0), r.len,
                [&](Value i) { densityPhase(row, r, i, nearest); });
      e.forLoop(e.index(0), r.len, [&](Value i) {
        deltaPhase(row, r, i);
        memref::StoreOp::create(b, e.i32(-1), cluster, at(row, i));
      });
      e.forLoop(e.index(0), r.len, [&](Value i) {
        Value rank = rankOf(row, r, i);
        e.ifThen(e.cmpi(arith::CmpIPredicate::slt, rank, r.numClusters), [&] {
          memref::StoreOp::create(b, arith::IndexCastOp::create(b, i32, i),
                                  centerOf, at(row, rank));
          memref::StoreOp::create(b, arith::IndexCastOp::create(b, i32, rank),
                                  cluster, at(row, i));
        });
      });
      e.forLoop(e.index(0), e.index(tokens),
                [&](Value i) { assignPhase(row, r, i); });
      storeCount(row, r);
    });
  }
  e.replaceWithBuffer(op.getParent(), parent);
  e.replaceWithBuffer(op.getCount(), counts);
}

//===----------------------------------------------------------------------===//
// tok.similarity_components
//===----------------------------------------------------------------------===//

/// The root of `x` in the union-find forest `forest`.
Value emitFindRoot(ImplicitLocOpBuilder &b, Value forest, Value x) {
  Type index = b.getIndexType();
  auto loop = scf::WhileOp::create(b, TypeRange{index}, ValueRange{x});
  Block *before = b.createBlock(&loop.getBefore(), {}, {index}, {b.getLoc()});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(before);
    Value node = before->getArgument(0);
    Value up = arith::IndexCastOp::create(
        b, index, memref::LoadOp::create(b, forest, ValueRange{node}));
    Value climbing = arith::CmpIOp::create(b, arith::CmpIPredicate::ne, up, node);
    scf::ConditionOp::create(b, climbing, ValueRange{up});
  }
  Block *after = b.createBlock(&loop.getAfter(), {}, {index}, {b.getLoc()});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(after);
    scf::YieldOp::create(b, after->getArgument(0));
  }
  b.setInsertionPointAfter(loop);
  return loop.getResult(0);
}

/// GPU form of similarity_components: one block per row. The edges go to a
/// bitmap ([B, N, N/32] words, each token's word strided over the threads),
/// then every token's label (initially itself) takes the smallest label
/// among its neighbours, all tokens at once from the previous labels, until
/// nothing changes: the labels end as each component's lowest index, which
/// is what the union-find's roots are. Components are numbered in the order
/// of their roots by block scans. The same partition and numbering as the
/// CPU's, whatever the order of the steps.
void lowerSimilarityComponentsBlocks(tok::SimilarityComponentsOp op,
                                     LoopEmitter &e, PairwiseRows &pairs,
                                     Value lengths, Value parent,
                                     Value counts) {
  ImplicitLocOpBuilder &b = e.builder();
  auto type = op.getInput().getType();
  int64_t batch = type.getDimSize(0), tokens = type.getDimSize(1);
  float threshold = static_cast<float>(op.getThreshold().convertToDouble());
  Type i32 = b.getI32Type(), f32 = b.getF32Type();
  if (batch == 0)
    return;
  int64_t n = std::max<int64_t>(tokens, 1);
  int64_t words = llvm::divideCeil(n, 32);
  auto perToken = [&](Type type) -> Value {
    return memref::AllocOp::create(b, MemRefType::get({batch, n}, type));
  };
  Value invNorm = perToken(f32), label = perToken(i32), next = perToken(i32);
  Value number = perToken(i32);
  Value edges =
      memref::AllocOp::create(b, MemRefType::get({batch, n, words}, i32));
  e.blockLaunch(
      e.index(batch), kRowThreads, {}, [&](Value row, Value tid, ValueRange) {
        Value len = e.rowLength(lengths, row, tokens);
        auto barrier = [&] { collective::BlockBarrierOp::create(b); };
        blockFor(e, tid, e.index(0), len, [&](Value i) {
          memref::StoreOp::create(b, pairs.inverseNorm(row, i), invNorm,
                                  ValueRange{row, i});
          memref::StoreOp::create(b, arith::IndexCastOp::create(b, i32, i),
                                  label, ValueRange{row, i});
        });
        barrier();
        // Word w of token i: bit l for token 32 w + l. The test of a pair
        // is the CPU's, lower index first.
        Value rowWords = arith::MulIOp::create(b, len, e.index(words));
        blockFor(e, tid, e.index(0), rowWords, [&](Value p) {
          Value i = arith::DivUIOp::create(b, p, e.index(words));
          Value w = arith::RemUIOp::create(b, p, e.index(words));
          Value invI = memref::LoadOp::create(b, invNorm, ValueRange{row, i});
          Value bits = e.forLoop(
              e.index(0), e.index(32), ValueRange{e.i32(0)},
              [&](Value l, ValueRange s) -> SmallVector<Value> {
                Value j = arith::AddIOp::create(
                    b, arith::MulIOp::create(b, w, e.index(32)), l);
                Value other = arith::AndIOp::create(
                    b, e.cmpi(arith::CmpIPredicate::slt, j, len),
                    e.cmpi(arith::CmpIPredicate::ne, j, i));
                auto ifOther = scf::IfOp::create(b, i32, other, true);
                OpBuilder::InsertionGuard guard(b);
                b.setInsertionPointToStart(ifOther.thenBlock());
                Value lo = arith::MinUIOp::create(b, i, j);
                Value hi = arith::MaxUIOp::create(b, i, j);
                Value invJ =
                    memref::LoadOp::create(b, invNorm, ValueRange{row, j});
                Value invLo = arith::SelectOp::create(
                    b, e.cmpi(arith::CmpIPredicate::ult, i, j), invI, invJ);
                Value invHi = arith::SelectOp::create(
                    b, e.cmpi(arith::CmpIPredicate::ult, i, j), invJ, invI);
                Value edge = pairs.joined(row, lo, hi, invLo, invHi, threshold);
                scf::YieldOp::create(
                    b, ValueRange{arith::ShLIOp::create(
                           b, arith::ExtUIOp::create(b, i32, edge),
                           arith::IndexCastOp::create(b, i32, l))});
                b.setInsertionPointToStart(ifOther.elseBlock());
                scf::YieldOp::create(b, ValueRange{e.i32(0)});
                b.setInsertionPointAfter(ifOther);
                return {arith::OrIOp::create(b, s[0], ifOther.getResult(0))};
              })[0];
          memref::StoreOp::create(b, bits, edges, ValueRange{row, i, w});
        });
        barrier();
        // Rounds of propagation while a label changes (at most len - 1).
        blockRounds(
            e, len, [&]() -> Value {
              Value changed = e.blockStrided(
                  e.index(0), len, tid, kRowThreads, ValueRange{e.i32(0)},
                  [&](Value i, ValueRange c) -> SmallVector<Value> {
                    Value own =
                        memref::LoadOp::create(b, label, ValueRange{row, i});
                    Value smallest = e.forLoop(
                        e.index(0), e.index(words), ValueRange{own},
                        [&](Value w, ValueRange m) -> SmallVector<Value> {
                          Value bits = memref::LoadOp::create(
                              b, edges, ValueRange{row, i, w});
                          return {e.forLoop(
                              e.index(0), e.index(32), ValueRange{m[0]},
                              [&](Value l,
                                  ValueRange mm) -> SmallVector<Value> {
                                Value set =
                                    e.cmpi(arith::CmpIPredicate::ne,
                                           arith::AndIOp::create(
                                               b,
                                               arith::ShRUIOp::create(
                                                   b, bits,
                                                   arith::IndexCastOp::create(
                                                       b, i32, l)),
                                               e.i32(1)),
                                           e.i32(0));
                                Value j = arith::MinUIOp::create(
                                    b,
                                    arith::AddIOp::create(
                                        b,
                                        arith::MulIOp::create(b, w,
                                                              e.index(32)),
                                        l),
                                    e.index(n - 1));
                                Value theirs = memref::LoadOp::create(
                                    b, label, ValueRange{row, j});
                                Value lower = arith::AndIOp::create(
                                    b, set,
                                    e.cmpi(arith::CmpIPredicate::slt, theirs,
                                           mm[0]));
                                return {arith::SelectOp::create(b, lower,
                                                                theirs, mm[0])};
                              })[0]};
                        })[0];
                    memref::StoreOp::create(b, smallest, next,
                                            ValueRange{row, i});
                    return {arith::OrIOp::create(
                        b, c[0],
                        arith::ExtUIOp::create(
                            b, i32,
                            e.cmpi(arith::CmpIPredicate::ne, smallest, own)))};
                  })[0];
              Value any = collective::BlockReduceOp::create(
                  b, i32, collective::ReductionKind::max, changed);
              blockFor(e, tid, e.index(0), len, [&](Value i) {
                memref::StoreOp::create(
                    b, memref::LoadOp::create(b, next, ValueRange{row, i}),
                    label, ValueRange{row, i});
              });
              barrier();
              return e.cmpi(arith::CmpIPredicate::ne, any, e.i32(0));
            });
        // Roots (label == own index) numbered in index order.
        auto isRoot = [&](Value i) {
          return e.cmpi(arith::CmpIPredicate::eq,
                        memref::LoadOp::create(b, label, ValueRange{row, i}),
                        arith::IndexCastOp::create(b, i32, i));
        };
        Value components = blockEnumerate(
            e, tid, e.index(0), len, isRoot, e.i32(0), [&](Value t, Value n) {
              memref::StoreOp::create(b, n, number, ValueRange{row, t});
            });
        barrier();
        blockFor(e, tid, e.index(0), e.index(tokens), [&](Value i) {
          Value valid = e.cmpi(arith::CmpIPredicate::slt, i, len);
          auto ifValid = scf::IfOp::create(b, i32, valid, true);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ifValid.thenBlock());
          Value root = arith::IndexCastOp::create(
              b, b.getIndexType(),
              memref::LoadOp::create(b, label, ValueRange{row, i}));
          scf::YieldOp::create(b, ValueRange{memref::LoadOp::create(
                                      b, number, ValueRange{row, root})});
          b.setInsertionPointToStart(ifValid.elseBlock());
          scf::YieldOp::create(b, ValueRange{e.i32(-1)});
          b.setInsertionPointAfter(ifValid);
          memref::StoreOp::create(b, ifValid.getResult(0), parent,
                                  ValueRange{row, i});
        });
        onFirstThread(e, tid, [&] {
          memref::StoreOp::create(b, components, counts, ValueRange{row});
        });
      });
}

void lowerSimilarityComponents(tok::SimilarityComponentsOp op,
                               ImplicitLocOpBuilder &b,
                               LoweringContext &context, bool gpuForm) {
  OpLowering e(b, context);
  auto type = op.getInput().getType();
  int64_t batch = type.getDimSize(0), tokens = type.getDimSize(1);
  int64_t features = type.getDimSize(2);
  float threshold = static_cast<float>(op.getThreshold().convertToDouble());
  Type i32 = b.getI32Type();
  Value input = e.toBuffer(op.getInput());
  Value lengths = op.getLengths() ? e.toBuffer(op.getLengths()) : Value();
  Value parent = e.allocFor(op.getParent());
  Value counts = e.allocFor(op.getCount());
  if (gpuForm) {
    PairwiseRows pairs(b, e, input, features);
    lowerSimilarityComponentsBlocks(op, e, pairs, lengths, parent, counts);
    e.replaceWithBuffer(op.getParent(), parent);
    e.replaceWithBuffer(op.getCount(), counts);
    return;
  }
  Value forest = memref::AllocaOp::create(b, MemRefType::get({tokens}, i32));
  Value label = memref::AllocaOp::create(b, MemRefType::get({tokens}, i32));
  Value invNorm = memref::AllocaOp::create(b, MemRefType::get({tokens}, b.getF32Type()));
  PairwiseRows pairs(b, e, input, features);

  e.parallelFor(batch, [&](Value row) {
    Value len = e.rowLength(lengths, row, tokens);
    pairs.fillInverseNorms(row, len, invNorm);
    e.forLoop(e.index(0), len, [&](Value i) {
      memref::StoreOp::create(b, arith::IndexCastOp::create(b, i32, i), forest,
                              ValueRange{i});
    });
    // Union every edge; the smaller root becomes the parent, so each root
    // is its component's lowest index.
    e.forLoop(e.index(0), len, [&](Value i) {
      e.forLoop(arith::AddIOp::create(b, i, e.index(1)), len, [&](Value j) {
        Value edge = pairs.joined(
            row, i, j, memref::LoadOp::create(b, invNorm, ValueRange{i}),
            memref::LoadOp::create(b, invNorm, ValueRange{j}), threshold);
        e.ifThen(edge, [&] {
          Value ri = emitFindRoot(b, forest, i);
          Value rj = emitFindRoot(b, forest, j);
          Value low = arith::MinSIOp::create(b, ri, rj);
          Value high = arith::MaxSIOp::create(b, ri, rj);
          memref::StoreOp::create(b, arith::IndexCastOp::create(b, i32, low), forest,
                                  ValueRange{high});
        });
      });
    });
    // Number components by their lowest index (a root precedes its members).
    Value count = e.forLoop(
        e.index(0), len, ValueRange{e.i32(0)},
        [&](Value i, ValueRange s) -> SmallVector<Value> {
          Value root = emitFindRoot(b, forest, i);
          Value isRoot = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, root, i);
          e.ifThen(isRoot, [&] {
            memref::StoreOp::create(b, s[0], label, ValueRange{i});
          });
          memref::StoreOp::create(b, memref::LoadOp::create(b, label, ValueRange{root}),
                                  parent, ValueRange{row, i});
          return {arith::AddIOp::create(b, s[0], arith::ExtUIOp::create(b, i32, isRoot))};
        })[0];
    e.forLoop(len, e.index(tokens), [&](Value i) {
      memref::StoreOp::create(b, e.i32(-1), parent, ValueRange{row, i});
    });
    memref::StoreOp::create(b, count, counts, ValueRange{row});
  });
  e.replaceWithBuffer(op.getParent(), parent);
  e.replaceWithBuffer(op.getCount(), counts);
}

} // namespace

void populateClusterToLoopsPatterns(RewritePatternSet &patterns,
                                    const LoweringOptions &options,
                                    DispatchRow *row) {
  addTokLowering<tok::RowCosineOp>(patterns, options, row, lowerRowCosine);
  addTokLoweringForm<tok::DensityPeaksOp>(patterns, options, row,
                                          /*gpuForm=*/false, lowerDensityPeaks);
  addTokLoweringForm<tok::SimilarityComponentsOp>(
      patterns, options, row, /*gpuForm=*/false, lowerSimilarityComponents);
}

void populateClusterToGpuLoopsPatterns(RewritePatternSet &patterns,
                                       const LoweringOptions &options,
                                       DispatchRow *row) {
  addTokLoweringForm<tok::DensityPeaksOp>(patterns, options, row,
                                          /*gpuForm=*/true, lowerDensityPeaks);
  addTokLoweringForm<tok::SimilarityComponentsOp>(
      patterns, options, row, /*gpuForm=*/true, lowerSimilarityComponents);
}

} // namespace winnow
