//===- LoweringUtils.cpp - Small builders shared by the loop lowerings ----===//

#include "LoweringUtils.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace winnow {

Value LoopEmitter::index(int64_t value) {
  return arith::ConstantIndexOp::create(b, value);
}

Value LoopEmitter::i32(int64_t value) {
  return arith::ConstantIntOp::create(b, b.getI32Type(), value);
}

Value LoopEmitter::f32(double value) {
  return arith::ConstantFloatOp::create(b, b.getF32Type(),
                                        llvm::APFloat(static_cast<float>(value)));
}

void LoopEmitter::forLoop(Value lb, Value ub,
                          llvm::function_ref<void(Value)> body) {
  auto loop = scf::ForOp::create(b, lb, ub, index(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(loop.getBody()->getTerminator());
  body(loop.getInductionVar());
}

ValueRange LoopEmitter::forLoop(
    Value lb, Value ub, ValueRange init,
    llvm::function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  return forLoop(lb, ub, index(1), init, body);
}

ValueRange LoopEmitter::forLoop(
    Value lb, Value ub, Value step, ValueRange init,
    llvm::function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  auto loop = scf::ForOp::create(
      b, lb, ub, step, init,
      [&](OpBuilder &nested, Location loc, Value iv, ValueRange state) {
        // Route the body through the caller's builder so helpers keep working.
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        SmallVector<Value> next = body(iv, state);
        scf::YieldOp::create(b, next);
      });
  return loop.getResults();
}

void LoopEmitter::parallelFor(int64_t extent,
                              llvm::function_ref<void(Value)> body) {
  parallelFor(llvm::ArrayRef<int64_t>{extent},
              [&](ValueRange ivs) { body(ivs.front()); });
}

void LoopEmitter::parallelFor(llvm::ArrayRef<int64_t> extents,
                              llvm::function_ref<void(ValueRange)> body) {
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t extent : extents) {
    lbs.push_back(index(0));
    ubs.push_back(index(extent));
    steps.push_back(index(1));
  }
  auto loop = scf::ParallelOp::create(b, lbs, ubs, steps);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(loop.getBody()->getTerminator());
  body(loop.getInductionVars());
}

void LoopEmitter::ifThen(Value cond, llvm::function_ref<void()> body) {
  auto ifOp = scf::IfOp::create(b, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  body();
}

void LoopEmitter::blockLaunch(
    Value blocks, int64_t threads, ArrayRef<MemRefType> workgroup,
    llvm::function_ref<void(Value, Value, ValueRange)> body) {
  if (matchPattern(blocks, m_Zero()))
    return;
  Value one = index(1);
  auto launch =
      gpu::LaunchOp::create(b, blocks, one, one, index(threads), one, one);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  gpu::TerminatorOp::create(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  // Allocas in the workgroup space until tok-offload-to-gpu makes them
  // attributions: bufferization's deallocation pass rejects a launch whose
  // body has memref arguments.
  SmallVector<Value> buffers;
  for (MemRefType type : workgroup)
    buffers.push_back(memref::AllocaOp::create(b, type));
  body(launch.getBlockIds().x, launch.getThreadIds().x, buffers);
}

ValueRange LoopEmitter::blockStrided(
    Value lb, Value ub, Value thread, int64_t threads, ValueRange init,
    llvm::function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  return forLoop(arith::AddIOp::create(b, lb, thread), ub, index(threads), init,
                 body);
}

Value OpLowering::toBuffer(Value tensor) {
  // Inside a dispatch every tensor is a view of a row buffer: use it.
  if (context.row)
    if (auto view = tensor.getDefiningOp<bufferization::ToTensorOp>())
      return view.getBuffer();
  auto type = cast<RankedTensorType>(tensor.getType());
  auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
  // A slice of whole rows of a contiguous tensor is contiguous itself, at
  // an offset known only at run time.
  if (context.readsRowViews && type.hasStaticShape())
    if (auto slice = tensor.getDefiningOp<tensor::ExtractSliceOp>();
        slice && slice.hasUnitStride() &&
        slice.getSourceType().getShape().drop_front() ==
            type.getShape().drop_front()) {
      auto strides = memrefType.getStridesAndOffset().first;
      memrefType = MemRefType::get(type.getShape(), type.getElementType(),
                                   StridedLayoutAttr::get(tensor.getContext(),
                                                          ShapedType::kDynamic,
                                                          strides));
    }
  return bufferization::ToBufferOp::create(builder(), memrefType, tensor,
                                           /*read_only=*/true);
}

Value OpLowering::allocFor(Value result) {
  ImplicitLocOpBuilder &b = builder();
  auto type = cast<RankedTensorType>(result.getType());
  if (DispatchRow *row = context.row) {
    if (Value destination = row->destinations.lookup(result))
      return destination;
    auto scratch = memref::AllocaOp::create(
        b, MemRefType::get(type.getShape(), type.getElementType()));
    scratch->setAttr(kRowBufferAttrName, b.getUnitAttr());
    return scratch;
  }
  return memref::AllocOp::create(
      b, MemRefType::get(type.getShape(), type.getElementType()),
      b.getI64IntegerAttr(64));
}

Value OpLowering::toTensor(Value buffer, Type tensorType) {
  return bufferization::ToTensorOp::create(builder(), tensorType, buffer,
                                           /*restrict=*/true,
                                           /*writable=*/true);
}

void OpLowering::replace(Value result, Value replacement) {
  context.replacements[result] = replacement;
}

void OpLowering::replaceWithBuffer(Value result, Value buffer) {
  replace(result, toTensor(buffer, result.getType()));
}

Value LoopEmitter::cmpi(arith::CmpIPredicate predicate, Value x, Value y) {
  return arith::CmpIOp::create(b, predicate, x, y);
}

Value LoopEmitter::clampIndex(Value value, Value lo, Value hi) {
  return arith::MinSIOp::create(b, arith::MaxSIOp::create(b, value, lo), hi);
}

Value LoopEmitter::loadClampedCount(Value buffer, Value batch, Value hi) {
  Value raw = memref::LoadOp::create(b, buffer, ValueRange{batch});
  Value asIndex = arith::IndexCastOp::create(b, b.getIndexType(), raw);
  return clampIndex(asIndex, index(0), hi);
}

Value LoopEmitter::rowLength(Value lengths, Value row, int64_t tokens) {
  return lengths ? loadClampedCount(lengths, row, index(tokens))
                 : index(tokens);
}

Value LoopEmitter::widenToF32(Value value) {
  return value.getType().isF32()
             ? value
             : arith::ExtFOp::create(b, b.getF32Type(), value);
}

Value LoopEmitter::narrowFromF32(Value value, Type type) {
  return type.isF32() ? value : arith::TruncFOp::create(b, type, value);
}

Value LoopEmitter::notI1(Value value) {
  return arith::XOrIOp::create(
      b, value, arith::ConstantIntOp::create(b, b.getI1Type(), 1));
}

Value LoopEmitter::indexOf(Value flag) {
  return arith::IndexCastOp::create(
      b, b.getIndexType(), arith::ExtUIOp::create(b, b.getI64Type(), flag));
}

SmallVector<Value> LoopEmitter::orderedSums(
    Value lb, Value ub, unsigned numSums,
    llvm::function_ref<SmallVector<Value>(Value)> terms,
    llvm::function_ref<SmallVector<Value>(Value)> roundTerms) {
  Value zero = f32(0.0);
  Value lanes = index(kSumLanes);
  Value span =
      arith::MaxSIOp::create(b, arith::SubIOp::create(b, ub, lb), index(0));
  Value whole =
      arith::SubIOp::create(b, span, arith::RemUIOp::create(b, span, lanes));
  // Full rounds: lane l takes lb + i + l.
  auto laneType = VectorType::get({kSumLanes}, b.getF32Type());
  // Terms made a round at a time already come from vector loads, which LLVM
  // packs into vector arithmetic on its own (measured: the lane vectors made
  // the merge plan and row_cosine 2-4x slower there).
  bool laneVectors = sumLaneVectors && !roundTerms;
  SmallVector<Value> init;
  if (laneVectors)
    init.assign(numSums, arith::ConstantOp::create(
                             b, DenseElementsAttr::get(
                                    laneType, b.getF32FloatAttr(0.0))));
  else
    init.assign(numSums * kSumLanes, zero);
  Value numRounds = arith::DivUIOp::create(b, whole, lanes);
  ValueRange rounds = forLoop(
      index(0), numRounds, init,
      [&](Value round, ValueRange acc) -> SmallVector<Value> {
        SmallVector<Value> next(acc.begin(), acc.end());
        Value base = arith::AddIOp::create(
            b, lb, arith::MulIOp::create(b, round, lanes));
        SmallVector<Value> roundValues;
        if (roundTerms)
          roundValues = roundTerms(base);
        else
          for (int64_t l = 0; l < kSumLanes; ++l)
            llvm::append_range(roundValues,
                               terms(arith::AddIOp::create(b, base, index(l))));
        for (unsigned s = 0; s < numSums; ++s) {
          if (laneVectors) {
            SmallVector<Value> laneTerms;
            for (int64_t l = 0; l < kSumLanes; ++l)
              laneTerms.push_back(roundValues[l * numSums + s]);
            next[s] = arith::AddFOp::create(
                b, next[s],
                vector::FromElementsOp::create(b, laneType, laneTerms));
            continue;
          }
          for (int64_t l = 0; l < kSumLanes; ++l)
            next[s * kSumLanes + l] = arith::AddFOp::create(
                b, next[s * kSumLanes + l], roundValues[l * numSums + s]);
        }
        return next;
      });
  // The tail, fewer than 8 elements: element whole + l belongs to lane l
  // (unrolled, so its bound is visibly small).
  SmallVector<Value> tail;
  if (laneVectors)
    for (unsigned s = 0; s < numSums; ++s)
      for (int64_t l = 0; l < kSumLanes; ++l)
        tail.push_back(vector::ExtractOp::create(b, rounds[s], l));
  else
    tail.assign(rounds.begin(), rounds.end());
  for (int64_t l = 0; l + 1 < kSumLanes; ++l) {
    Value i = arith::AddIOp::create(b, whole, index(l));
    Value inside = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, i, span);
    SmallVector<Type> types(numSums, b.getF32Type());
    auto guarded = scf::IfOp::create(b, types, inside, /*withElse=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(guarded.thenBlock());
    SmallVector<Value> t = terms(arith::AddIOp::create(b, lb, i));
    SmallVector<Value> added, kept;
    for (unsigned s = 0; s < numSums; ++s) {
      added.push_back(arith::AddFOp::create(b, tail[s * kSumLanes + l], t[s]));
      kept.push_back(tail[s * kSumLanes + l]);
    }
    scf::YieldOp::create(b, added);
    b.setInsertionPointToStart(guarded.elseBlock());
    scf::YieldOp::create(b, kept);
    b.setInsertionPointAfter(guarded);
    for (unsigned s = 0; s < numSums; ++s)
      tail[s * kSumLanes + l] = guarded.getResult(s);
  }
  SmallVector<Value> sums;
  for (unsigned s = 0; s < numSums; ++s) {
    Value total = zero;
    for (int64_t l = 0; l < kSumLanes; ++l)
      total = arith::AddFOp::create(b, total, tail[s * kSumLanes + l]);
    sums.push_back(total);
  }
  return sums;
}

MemRefType workgroupMemRef(ArrayRef<int64_t> shape, Type element) {
  return MemRefType::get(
      shape, element, MemRefLayoutAttrInterface(),
      gpu::AddressSpaceAttr::get(element.getContext(),
                                 gpu::AddressSpace::Workgroup));
}

int64_t vectorWidth(Type element, int64_t inner) {
  if (!element.isIntOrFloat())
    return 0;
  unsigned bits = element.getIntOrFloatBitWidth();
  if (bits < 8 || 128 % bits != 0)
    return 0;
  int64_t width = 128 / bits;
  return width > 1 && inner % width == 0 ? width : 0;
}

namespace {
/// `at` with its innermost index advanced by `k`.
SmallVector<Value> shifted(ImplicitLocOpBuilder &b, ValueRange at, Value k) {
  SmallVector<Value> indices(at.begin(), at.end());
  indices.back() = arith::AddIOp::create(b, indices.back(), k);
  return indices;
}
} // namespace

void copyChunk(LoopEmitter &e, Value src, ValueRange srcAt, Value out,
               ValueRange outAt, int64_t width, Value aligned) {
  ImplicitLocOpBuilder &b = e.builder();
  auto vectorType = VectorType::get(
      {width}, cast<MemRefType>(src.getType()).getElementType());
  auto ifAligned = scf::IfOp::create(b, aligned, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(ifAligned.thenBlock()->getTerminator());
  Value v = vector::LoadOp::create(b, vectorType, src, srcAt,
                                   /*nontemporal=*/false, llvm::MaybeAlign(16));
  vector::StoreOp::create(b, v, out, outAt, /*nontemporal=*/false,
                          llvm::MaybeAlign(16));
  b.setInsertionPoint(ifAligned.elseBlock()->getTerminator());
  e.forLoop(e.index(0), e.index(width), [&](Value k) {
    Value value = memref::LoadOp::create(b, src, shifted(b, srcAt, k));
    memref::StoreOp::create(b, value, out, shifted(b, outAt, k));
  });
}

void fillChunk(LoopEmitter &e, Value out, ValueRange outAt, int64_t width,
               Value value, Value aligned) {
  ImplicitLocOpBuilder &b = e.builder();
  auto vectorType = VectorType::get({width}, value.getType());
  auto ifAligned = scf::IfOp::create(b, aligned, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(ifAligned.thenBlock()->getTerminator());
  vector::StoreOp::create(b, vector::BroadcastOp::create(b, vectorType, value),
                          out, outAt, /*nontemporal=*/false,
                          llvm::MaybeAlign(16));
  b.setInsertionPoint(ifAligned.elseBlock()->getTerminator());
  e.forLoop(e.index(0), e.index(width), [&](Value k) {
    memref::StoreOp::create(b, value, out, shifted(b, outAt, k));
  });
}

SmallVector<Value> loadVectorRun(LoopEmitter &e, Value buffer, ValueRange at,
                                 int64_t count, int64_t width) {
  ImplicitLocOpBuilder &b = e.builder();
  auto vectorType = VectorType::get(
      {width}, cast<MemRefType>(buffer.getType()).getElementType());
  SmallVector<Value> values;
  for (int64_t v = 0; v < count / width; ++v) {
    Value vec = vector::LoadOp::create(
        b, vectorType, buffer, shifted(b, at, e.index(v * width)),
        /*nontemporal=*/false, llvm::MaybeAlign(16));
    for (int64_t l = 0; l < width; ++l)
      values.push_back(vector::ExtractOp::create(b, vec, l));
  }
  return values;
}

Value RowScratch::alloc(int64_t size, Type type) {
  ImplicitLocOpBuilder &b = e.builder();
  size = std::max<int64_t>(size, 1);
  if (wholeBatch)
    return memref::AllocOp::create(b, MemRefType::get({batch, size}, type));
  return memref::AllocaOp::create(b, MemRefType::get({size}, type));
}

SmallVector<Value>
orderedRowSums(LoopEmitter &e, ArrayRef<RowRef> rows, int64_t extent,
               unsigned numSums,
               llvm::function_ref<SmallVector<Value>(ArrayRef<Value>)> terms) {
  ImplicitLocOpBuilder &b = e.builder();
  auto elementAt = [&](const RowRef &row, Value d) -> Value {
    SmallVector<Value> at(row.prefix.begin(), row.prefix.end());
    at.push_back(d);
    return memref::LoadOp::create(b, row.buffer, at);
  };
  auto scalarTerms = [&](Value d) -> SmallVector<Value> {
    SmallVector<Value> elements;
    for (const RowRef &row : rows)
      elements.push_back(elementAt(row, d));
    return terms(elements);
  };
  Type element =
      cast<MemRefType>(rows.front().buffer.getType()).getElementType();
  int64_t width = vectorWidth(element, extent);
  bool vectorRounds =
      width > 0 && LoopEmitter::kSumLanes % width == 0 &&
      llvm::all_of(rows, [&](const RowRef &row) {
        return cast<MemRefType>(row.buffer.getType()).getElementType() ==
               element;
      });
  if (!vectorRounds)
    return e.orderedSums(e.index(0), e.index(extent), numSums, scalarTerms);
  auto roundTerms = [&](Value base) -> SmallVector<Value> {
    SmallVector<SmallVector<Value>> loaded;
    for (const RowRef &row : rows) {
      SmallVector<Value> at(row.prefix.begin(), row.prefix.end());
      at.push_back(base);
      loaded.push_back(
          loadVectorRun(e, row.buffer, at, LoopEmitter::kSumLanes, width));
    }
    SmallVector<Value> round;
    for (int64_t l = 0; l < LoopEmitter::kSumLanes; ++l) {
      SmallVector<Value> elements;
      for (const SmallVector<Value> &values : loaded)
        elements.push_back(values[l]);
      llvm::append_range(round, terms(elements));
    }
    return round;
  };
  Value aligned;
  for (const RowRef &row : rows) {
    Value check = isAligned16(e, row.buffer);
    aligned = aligned ? arith::AndIOp::create(b, aligned, check) : check;
  }
  SmallVector<Type> types(numSums, b.getF32Type());
  auto ifAligned = scf::IfOp::create(b, types, aligned, /*withElse=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifAligned.thenBlock());
  scf::YieldOp::create(b, e.orderedSums(e.index(0), e.index(extent), numSums,
                                        scalarTerms, roundTerms));
  b.setInsertionPointToStart(ifAligned.elseBlock());
  scf::YieldOp::create(
      b, e.orderedSums(e.index(0), e.index(extent), numSums, scalarTerms));
  b.setInsertionPointAfter(ifAligned);
  return SmallVector<Value>(ifAligned.getResults());
}

Value orderedRowDot(LoopEmitter &e, const RowRef &x, const RowRef &y,
                    int64_t extent) {
  ImplicitLocOpBuilder &b = e.builder();
  return orderedRowSums(e, {x, y}, extent, 1,
                        [&](ArrayRef<Value> xy) -> SmallVector<Value> {
                          return {arith::MulFOp::create(b, e.widenToF32(xy[0]),
                                                        e.widenToF32(xy[1]))};
                        })[0];
}

Value inverseNorm(LoopEmitter &e, const RowRef &x, int64_t extent) {
  ImplicitLocOpBuilder &b = e.builder();
  Value squares = orderedRowSums(
      e, {x}, extent, 1, [&](ArrayRef<Value> v) -> SmallVector<Value> {
        Value wide = e.widenToF32(v[0]);
        return {arith::MulFOp::create(b, wide, wide)};
      })[0];
  return inverseNormOfSquares(e, squares);
}

Value inverseNormOfSquares(LoopEmitter &e, Value squares) {
  ImplicitLocOpBuilder &b = e.builder();
  Value norm = arith::MaximumFOp::create(b, math::SqrtOp::create(b, squares),
                                         e.f32(1e-12));
  return arith::DivFOp::create(b, e.f32(1.0), norm);
}

Value isAligned16(LoopEmitter &e, Value buffer) {
  ImplicitLocOpBuilder &b = e.builder();
  int64_t bytes =
      elementBytes(cast<MemRefType>(buffer.getType()).getElementType());
  Value address = memref::ExtractAlignedPointerAsIndexOp::create(b, buffer);
  Value offset =
      memref::ExtractStridedMetadataOp::create(b, buffer).getOffset();
  Value start = arith::AddIOp::create(
      b, address, arith::MulIOp::create(b, offset, e.index(bytes)));
  return arith::CmpIOp::create(
      b, arith::CmpIPredicate::eq,
      arith::RemUIOp::create(b, start, e.index(16)), e.index(0));
}

} // namespace winnow
