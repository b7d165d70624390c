//===- LowerClusterToLoops.cpp - CPU loops for the clustering ops ---------===//
//
// Pairwise distances and similarities are recomputed where needed instead
// of being stored: scratch is O(N) per batch row (plus k for the kNN list).
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "RadixSelect.h"
#include "TokOpLowering.h"

#include "mlir/Dialect/Math/IR/Math.h"
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
    return reduce(row, i, j, [&](Value x, Value y) -> Value {
      return arith::MulFOp::create(b, x, y);
    });
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

  /// 1 / max(||x_i||, 1e-12) into `invNorm[i]` for every i < n.
  void fillInverseNorms(Value row, Value n, Value invNorm) {
    e.forLoop(e.index(0), n, [&](Value i) {
      Value norm = arith::MaximumFOp::create(
          b, math::SqrtOp::create(b, dot(row, i, i)), e.f32(1e-12));
      memref::StoreOp::create(b, arith::DivFOp::create(b, e.f32(1.0), norm),
                              invNorm, ValueRange{i});
    });
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
  auto scratch = [&](int64_t size, Type type) -> Value {
    size = std::max<int64_t>(size, 1);
    if (splitPhases)
      return memref::AllocOp::create(b, MemRefType::get({batch, size}, type));
    return memref::AllocaOp::create(b, MemRefType::get({size}, type));
  };
  Value rho = scratch(tokens, f32);
  Value scoreKey = scratch(tokens, i32);
  Value cluster = scratch(tokens, i32);
  Value centerOf = scratch(clusters, i32);
  auto at = [&](Value row, Value i) -> SmallVector<Value> {
    if (splitPhases)
      return {row, i};
    return {i};
  };
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
          Value before = arith::OrIOp::create(
              b,
              arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, other, key),
              arith::AndIOp::create(
                  b,
                  arith::CmpIOp::create(b, arith::CmpIPredicate::eq, other,
                                        key),
                  arith::CmpIOp::create(b, arith::CmpIPredicate::slt, j, i)));
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

void lowerSimilarityComponents(tok::SimilarityComponentsOp op,
                               ImplicitLocOpBuilder &b,
                               LoweringContext &context) {
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
        Value cosine = arith::MulFOp::create(
            b, pairs.dot(row, i, j),
            arith::MulFOp::create(b, memref::LoadOp::create(b, invNorm, ValueRange{i}),
                                  memref::LoadOp::create(b, invNorm, ValueRange{j})));
        Value edge = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, cosine,
                                           e.f32(threshold));
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
  addTokLowering<tok::SimilarityComponentsOp>(patterns, options, row,
                                              lowerSimilarityComponents);
}

void populateClusterToGpuLoopsPatterns(RewritePatternSet &patterns,
                                       const LoweringOptions &options,
                                       DispatchRow *row) {
  addTokLoweringForm<tok::DensityPeaksOp>(patterns, options, row,
                                          /*gpuForm=*/true, lowerDensityPeaks);
}

} // namespace winnow
