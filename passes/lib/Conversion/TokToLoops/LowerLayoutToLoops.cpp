//===- LowerLayoutToLoops.cpp - The ragged-batch and tree layout ops -----===//
//
// Element-parallel copies between the flattened and the padded layout of a
// ragged batch: one iteration per element of the side being written, so
// the same loops are the CPU form and, mapped to threads, the GPU form.
// pack_ragged's offsets are a prefix sum over the requests, computed first
// by one iteration (B additions). tree_parents walks each request's child
// lists in one iteration per request.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "TokOpLowering.h"

#include "winnow/Dialect/Tok/IR/TokOps.h"

using namespace mlir;

namespace winnow {
namespace {

/// tok.compact's padding: 0 for floats, false for i1, -1 for integers.
Value paddingOf(ImplicitLocOpBuilder &b, Type element) {
  if (element.isInteger(1))
    return arith::ConstantIntOp::create(b, element, 0);
  if (isa<IntegerType>(element))
    return arith::ConstantIntOp::create(b, element, -1);
  return arith::ConstantOp::create(b, b.getZeroAttr(element));
}

/// The loop extents of `type` after its first `skip` axes.
SmallVector<int64_t> trailingExtents(RankedTensorType type, unsigned skip) {
  return SmallVector<int64_t>(type.getShape().drop_front(skip));
}

/// `offsets[i]` (i32 or i64, as the engine passed it) as an index.
Value offsetAt(ImplicitLocOpBuilder &b, Value offsets, Value i) {
  Value raw = memref::LoadOp::create(b, offsets, ValueRange{i});
  return arith::IndexCastOp::create(b, b.getIndexType(), raw);
}

void lowerUnpackRagged(tok::UnpackRaggedOp op, ImplicitLocOpBuilder &b,
                       LoweringContext &context) {
  OpLowering e(b, context);
  auto flatType = op.getFlat().getType();
  auto paddedType = op.getPadded().getType();
  int64_t batch = paddedType.getDimSize(0);
  int64_t capacity = paddedType.getDimSize(1);
  int64_t tokens = flatType.getDimSize(0);
  Value flat = e.toBuffer(op.getFlat());
  Value offsets = e.toBuffer(op.getCuSeqlens());
  Value padded = e.allocFor(op.getPadded());
  Value lengths = e.allocFor(op.getLengths());
  Value padding = paddingOf(b, paddedType.getElementType());

  // Request `row`'s first flat row and its length (clamped as documented).
  auto rowRange = [&](Value row) -> std::pair<Value, Value> {
    Value start =
        e.clampIndex(offsetAt(b, offsets, row), e.index(0), e.index(tokens));
    Value next = arith::AddIOp::create(b, row, e.index(1));
    Value end =
        e.clampIndex(offsetAt(b, offsets, next), start, e.index(tokens));
    Value length = arith::MinSIOp::create(
        b, arith::SubIOp::create(b, end, start), e.index(capacity));
    return {start, length};
  };

  SmallVector<int64_t> extents = {batch, capacity};
  llvm::append_range(extents, trailingExtents(flatType, 1));
  e.parallelFor(extents, [&](ValueRange iv) {
    Value row = iv[0], j = iv[1];
    auto [start, length] = rowRange(row);
    Value inside = e.cmpi(arith::CmpIPredicate::slt, j, length);
    auto ifInside = scf::IfOp::create(b, inside, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifInside.thenBlock()->getTerminator());
    SmallVector<Value> from = {arith::AddIOp::create(b, start, j)};
    llvm::append_range(from, iv.drop_front(2));
    Value v = memref::LoadOp::create(b, flat, from);
    memref::StoreOp::create(b, v, padded, iv);
    b.setInsertionPoint(ifInside.elseBlock()->getTerminator());
    memref::StoreOp::create(b, padding, padded, iv);
  });
  e.parallelFor(batch, [&](Value row) {
    Value length = rowRange(row).second;
    memref::StoreOp::create(
        b, arith::IndexCastOp::create(b, b.getI32Type(), length), lengths,
        ValueRange{row});
  });
  e.replaceWithBuffer(op.getPadded(), padded);
  e.replaceWithBuffer(op.getLengths(), lengths);
}

void lowerPackRagged(tok::PackRaggedOp op, ImplicitLocOpBuilder &b,
                     LoweringContext &context) {
  OpLowering e(b, context);
  auto paddedType = op.getPadded().getType();
  auto flatType = op.getFlat().getType();
  int64_t batch = paddedType.getDimSize(0);
  int64_t capacity = paddedType.getDimSize(1);
  int64_t tokens = flatType.getDimSize(0);
  Value padded = e.toBuffer(op.getPadded());
  Value count = e.toBuffer(op.getCount());
  Value flat = e.allocFor(op.getFlat());
  Value offsets = e.allocFor(op.getCuSeqlens());
  Value padding = paddingOf(b, paddedType.getElementType());

  // The offsets: cu[0] = 0, cu[b + 1] = min(cu[b] + clamp(count[b], 0, C), T).
  e.parallelFor(1, [&](Value) {
    memref::StoreOp::create(b, e.i32(0), offsets, ValueRange{e.index(0)});
    e.forLoop(e.index(0), e.index(batch), ValueRange{e.index(0)},
              [&](Value row, ValueRange s) -> SmallVector<Value> {
                Value n = e.loadClampedCount(count, row, e.index(capacity));
                Value next = arith::MinSIOp::create(
                    b, arith::AddIOp::create(b, s[0], n), e.index(tokens));
                memref::StoreOp::create(
                    b, arith::IndexCastOp::create(b, b.getI32Type(), next),
                    offsets,
                    ValueRange{arith::AddIOp::create(b, row, e.index(1))});
                return {next};
              });
  });
  auto offsetOf = [&](Value i) { return offsetAt(b, offsets, i); };

  // Every padded element inside its request's range, to its flat row.
  SmallVector<int64_t> extents = {batch, capacity};
  llvm::append_range(extents, trailingExtents(flatType, 1));
  e.parallelFor(extents, [&](ValueRange iv) {
    Value row = iv[0], j = iv[1];
    Value to = arith::AddIOp::create(b, offsetOf(row), j);
    Value end = offsetOf(arith::AddIOp::create(b, row, e.index(1)));
    e.ifThen(e.cmpi(arith::CmpIPredicate::slt, to, end), [&] {
      SmallVector<Value> at = {to};
      llvm::append_range(at, iv.drop_front(2));
      memref::StoreOp::create(b, memref::LoadOp::create(b, padded, iv), flat,
                              at);
    });
  });
  // The rows past the last request: padding.
  SmallVector<int64_t> flatExtents(flatType.getShape());
  e.parallelFor(flatExtents, [&](ValueRange iv) {
    Value used = offsetOf(e.index(batch));
    e.ifThen(e.cmpi(arith::CmpIPredicate::sge, iv[0], used),
             [&] { memref::StoreOp::create(b, padding, flat, iv); });
  });
  e.replaceWithBuffer(op.getFlat(), flat);
  e.replaceWithBuffer(op.getCuSeqlens(), offsets);
}

/// One request per iteration: its T nodes' child lists walked in node
/// order (trees are a few dozen nodes; each walk is bounded by T steps).
void lowerTreeParents(tok::TreeParentsOp op, ImplicitLocOpBuilder &b,
                      LoweringContext &context) {
  OpLowering e(b, context);
  auto type = op.getFirstChild().getType();
  int64_t batch = type.getDimSize(0), nodes = type.getDimSize(1);
  Value firstChild = e.toBuffer(op.getFirstChild());
  Value nextSibling = e.toBuffer(op.getNextSibling());
  Value parents = e.allocFor(op.getParents());
  // A list entry as an index, and whether it names a node.
  auto entry = [&](Value buffer, Value row,
                   Value i) -> std::pair<Value, Value> {
    Value raw = memref::LoadOp::create(b, buffer, ValueRange{row, i});
    Value node = arith::IndexCastOp::create(b, b.getIndexType(), raw);
    Value valid = arith::AndIOp::create(
        b, e.cmpi(arith::CmpIPredicate::sge, node, e.index(0)),
        e.cmpi(arith::CmpIPredicate::slt, node, e.index(nodes)));
    return {arith::SelectOp::create(b, valid, node, e.index(0)), valid};
  };
  e.parallelFor(batch, [&](Value row) {
    e.forLoop(e.index(0), e.index(nodes), [&](Value i) {
      memref::StoreOp::create(b, e.i32(-1), parents, ValueRange{row, i});
    });
    e.forLoop(e.index(0), e.index(nodes), [&](Value i) {
      auto [first, live] = entry(firstChild, row, i);
      e.forLoop(e.index(0), e.index(nodes), ValueRange{first, live},
                [&](Value, ValueRange s) -> SmallVector<Value> {
                  Value c = s[0], alive = s[1];
                  Value unset = e.cmpi(
                      arith::CmpIPredicate::eq,
                      memref::LoadOp::create(b, parents, ValueRange{row, c}),
                      e.i32(-1));
                  Value notRoot =
                      e.cmpi(arith::CmpIPredicate::ne, c, e.index(0));
                  Value take = arith::AndIOp::create(
                      b, alive, arith::AndIOp::create(b, unset, notRoot));
                  e.ifThen(take, [&] {
                    memref::StoreOp::create(
                        b, arith::IndexCastOp::create(b, b.getI32Type(), i),
                        parents, ValueRange{row, c});
                  });
                  auto [next, valid] = entry(nextSibling, row, c);
                  return {next, arith::AndIOp::create(b, alive, valid)};
                });
    });
  });
  e.replaceWithBuffer(op.getParents(), parents);
}

} // namespace

void populateLayoutToLoopsPatterns(RewritePatternSet &patterns,
                                   const LoweringOptions &options,
                                   DispatchRow *row) {
  addTokLowering<tok::UnpackRaggedOp>(patterns, options, row,
                                      lowerUnpackRagged);
  addTokLowering<tok::PackRaggedOp>(patterns, options, row, lowerPackRagged);
  addTokLowering<tok::TreeParentsOp>(patterns, options, row, lowerTreeParents);
}

} // namespace winnow
