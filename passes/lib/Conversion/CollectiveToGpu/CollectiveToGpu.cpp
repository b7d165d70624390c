//===- CollectiveToGpu.cpp - Lowering warp and block collectives ----------===//
//
// Both forms build the same combination trees, so they give the same bits:
//
// * a warp reduction is a tree towards lane 0 (lane l takes lane l + d for
//   d = 16, 8, 4, 2, 1 while l + d is a lane that takes part), whose result
//   lane 0 then hands to every lane. For a full warp this is exactly what
//   lane 0 computes in an xor butterfly, and every lane of a butterfly ends
//   with those bits, so with a static block size that is a multiple of 32
//   the shuffle form uses the butterfly (5 shuffles instead of 6);
// * a block reduction is that tree over each warp, then over the per-warp
//   values in warp order.
//
// The shuffle form passes values between lanes with gpu.shuffle; the
// reference form writes them to workgroup memory and replays the tree with
// plain loops in every thread.
//
//===----------------------------------------------------------------------===//

#include "winnow/Conversion/CollectiveToGpu.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Transforms/DialectConversion.h"
#include "winnow/Conversion/Passes.h"
#include "winnow/Dialect/Collective/IR/CollectiveOps.h"

namespace winnow {
#define GEN_PASS_DEF_COLLECTIVETOGPU
#include "winnow/Conversion/Passes.h.inc"
} // namespace winnow

using namespace mlir;

namespace winnow {
namespace {

constexpr int64_t kWarpSize = 32;
constexpr int64_t kMaxBlockThreads = 1024;
constexpr int64_t kLaneSteps[] = {16, 8, 4, 2, 1};

using collective::ReductionKind;

/// The thread's place in its block, computed where a collective sits.
struct ThreadPlace {
  Value thread;     // linear id (x fastest)
  Value numThreads; // threads in the block
  Value lane, warp; // thread % 32, thread / 32
  Value warpLanes;  // lanes of this warp that exist: min(32, n - 32 warp), i32
  Value lane32;
  Value numWarps; // ceil(n / 32)
  std::optional<int64_t> staticThreads;
};

/// The static thread count of the enclosing launch or kernel, if any.
std::optional<int64_t> staticBlockThreads(Operation *op) {
  if (auto launch = op->getParentOfType<gpu::LaunchOp>()) {
    gpu::KernelDim3 size = launch.getBlockSizeOperandValues();
    std::optional<int64_t> x = getConstantIntValue(size.x),
                           y = getConstantIntValue(size.y),
                           z = getConstantIntValue(size.z);
    if (x && y && z)
      return *x * *y * *z;
    return std::nullopt;
  }
  if (auto func = op->getParentOfType<gpu::GPUFuncOp>())
    if (std::optional<ArrayRef<int32_t>> known = func.getKnownBlockSize())
      return static_cast<int64_t>((*known)[0]) * (*known)[1] * (*known)[2];
  return std::nullopt;
}

ThreadPlace threadPlace(ImplicitLocOpBuilder &b, Operation *op) {
  ThreadPlace place;
  auto dim = [&](gpu::Dimension d) {
    return gpu::BlockDimOp::create(b, d).getResult();
  };
  auto id = [&](gpu::Dimension d) {
    return gpu::ThreadIdOp::create(b, d).getResult();
  };
  Value bx = dim(gpu::Dimension::x), by = dim(gpu::Dimension::y),
        bz = dim(gpu::Dimension::z);
  place.thread = arith::AddIOp::create(
      b, id(gpu::Dimension::x),
      arith::MulIOp::create(
          b, bx,
          arith::AddIOp::create(
              b, id(gpu::Dimension::y),
              arith::MulIOp::create(b, by, id(gpu::Dimension::z)))));
  place.numThreads =
      arith::MulIOp::create(b, arith::MulIOp::create(b, bx, by), bz);
  Value warpSize = arith::ConstantIndexOp::create(b, kWarpSize);
  place.lane = arith::RemUIOp::create(b, place.thread, warpSize);
  place.warp = arith::DivUIOp::create(b, place.thread, warpSize);
  Value warpBase = arith::SubIOp::create(b, place.thread, place.lane);
  Value lanes = arith::MinUIOp::create(
      b, warpSize, arith::SubIOp::create(b, place.numThreads, warpBase));
  place.warpLanes = arith::IndexCastOp::create(b, b.getI32Type(), lanes);
  place.lane32 = arith::IndexCastOp::create(b, b.getI32Type(), place.lane);
  place.numWarps = arith::CeilDivUIOp::create(b, place.numThreads, warpSize);
  place.staticThreads = staticBlockThreads(op);
  return place;
}

/// A fresh workgroup buffer, added to the enclosing launch or kernel.
Value workgroupBuffer(RewriterBase &rewriter, Operation *op, int64_t size,
                      Type elementType) {
  auto space = gpu::AddressSpaceAttr::get(op->getContext(),
                                          gpu::AddressSpace::Workgroup);
  auto type =
      MemRefType::get({size}, elementType, MemRefLayoutAttrInterface(), space);
  if (auto launch = op->getParentOfType<gpu::LaunchOp>()) {
    BlockArgument buffer;
    rewriter.modifyOpInPlace(launch, [&] {
      buffer = launch.addWorkgroupAttribution(type, op->getLoc());
    });
    return buffer;
  }
  auto func = op->getParentOfType<gpu::GPUFuncOp>();
  BlockArgument buffer;
  rewriter.modifyOpInPlace(
      func, [&] { buffer = func.addWorkgroupAttribution(type, op->getLoc()); });
  return buffer;
}

Value combine(ImplicitLocOpBuilder &b, ReductionKind kind, Value x, Value y) {
  bool isFloat = isa<FloatType>(x.getType());
  switch (kind) {
  case ReductionKind::add:
    return isFloat ? arith::AddFOp::create(b, x, y).getResult()
                   : arith::AddIOp::create(b, x, y).getResult();
  case ReductionKind::max:
    return isFloat ? arith::MaximumFOp::create(b, x, y).getResult()
                   : arith::MaxSIOp::create(b, x, y).getResult();
  case ReductionKind::min:
    return isFloat ? arith::MinimumFOp::create(b, x, y).getResult()
                   : arith::MinSIOp::create(b, x, y).getResult();
  }
  llvm_unreachable("unknown reduction kind");
}

/// Whether pair (value, index) `y` replaces `x` in an argmax: NaN below
/// every number, equal values (NaN equals NaN) to the lower index.
Value argMaxTakes(ImplicitLocOpBuilder &b, Value xValue, Value xIndex,
                  Value yValue, Value yIndex) {
  Value xNan =
      arith::CmpFOp::create(b, arith::CmpFPredicate::UNO, xValue, xValue);
  Value yNan =
      arith::CmpFOp::create(b, arith::CmpFPredicate::UNO, yValue, yValue);
  Value yNumber =
      arith::XOrIOp::create(b, yNan, arith::ConstantIntOp::create(b, 1, 1));
  Value greater = arith::OrIOp::create(
      b, arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, yValue, xValue),
      arith::AndIOp::create(b, xNan, yNumber));
  Value same = arith::OrIOp::create(
      b, arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, yValue, xValue),
      arith::AndIOp::create(b, xNan, yNan));
  Value lower =
      arith::CmpIOp::create(b, arith::CmpIPredicate::slt, yIndex, xIndex);
  return arith::OrIOp::create(b, greater,
                              arith::AndIOp::create(b, same, lower));
}

/// The values a tree step combines: one value, or an argmax pair.
using Lanes = SmallVector<Value, 2>;
using Combine = llvm::function_ref<Lanes(ImplicitLocOpBuilder &, const Lanes &,
                                         const Lanes &)>;

Value i32(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIntOp::create(b, value, 32);
}

/// `body` under `condition` (an scf.if without results); the insertion
/// point continues after the if.
void ifThen(ImplicitLocOpBuilder &b, Value condition,
            llvm::function_ref<void()> body) {
  auto branch = scf::IfOp::create(b, condition, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(branch.thenBlock()->getTerminator());
  body();
}

//===----------------------------------------------------------------------===//
// Shuffle form
//===----------------------------------------------------------------------===//

/// The tree of the file comment over the first `count` lanes (i32) of the
/// warp, every lane getting lane 0's result. `lanes` (i32) is the number of
/// lanes of this warp that exist: the shuffles' member mask.
Lanes shuffleWarpTree(ImplicitLocOpBuilder &b, const ThreadPlace &place,
                      Lanes values, Value count, bool fullWarps,
                      Combine combineFn) {
  if (fullWarps) {
    // Butterfly: every lane ends with lane 0's tree value.
    Value width = i32(b, kWarpSize);
    for (int64_t step : kLaneSteps) {
      Lanes other;
      for (Value v : values)
        other.push_back(gpu::ShuffleOp::create(b, v, i32(b, step), width,
                                               gpu::ShuffleMode::XOR)
                            .getShuffleResult());
      values = combineFn(b, values, other);
    }
    return values;
  }
  for (int64_t step : kLaneSteps) {
    Lanes other;
    for (Value v : values)
      other.push_back(gpu::ShuffleOp::create(b, v, i32(b, step),
                                             place.warpLanes,
                                             gpu::ShuffleMode::DOWN)
                          .getShuffleResult());
    Value takesPart = arith::CmpIOp::create(
        b, arith::CmpIPredicate::slt,
        arith::AddIOp::create(b, place.lane32, i32(b, step)), count);
    Lanes combined = combineFn(b, values, other);
    for (auto [v, c] : llvm::zip(values, combined))
      v = arith::SelectOp::create(b, takesPart, c, v);
  }
  for (Value &v : values)
    v = gpu::ShuffleOp::create(b, v, i32(b, 0), place.warpLanes,
                               gpu::ShuffleMode::IDX)
            .getShuffleResult();
  return values;
}

/// Inclusive prefix sum of an i32 over the lanes of a warp (Kogge-Stone:
/// lane l adds lane l - d for d = 1, 2, 4, 8, 16). Index shuffles from
/// max(l - d, 0), not `shuffle up`, whose clamp MLIR encodes for whole
/// warps only; so partial warps scan correctly too.
Value warpInclusiveSum(ImplicitLocOpBuilder &b, const ThreadPlace &place,
                       Value value) {
  Value zero32 = i32(b, 0);
  Value inclusive = value;
  for (int64_t step : llvm::reverse(kLaneSteps)) {
    Value from = arith::MaxSIOp::create(
        b, arith::SubIOp::create(b, place.lane32, i32(b, step)), zero32);
    Value other = gpu::ShuffleOp::create(b, inclusive, from, place.warpLanes,
                                         gpu::ShuffleMode::IDX)
                      .getShuffleResult();
    Value has = arith::CmpIOp::create(b, arith::CmpIPredicate::sge,
                                      place.lane32, i32(b, step));
    inclusive = arith::AddIOp::create(
        b, inclusive, arith::SelectOp::create(b, has, other, zero32));
  }
  return inclusive;
}

bool hasFullWarps(const ThreadPlace &place) {
  return place.staticThreads && *place.staticThreads % kWarpSize == 0;
}

/// Tree over each warp, then warp 0 reduces the per-warp values (in warp
/// order) and hands the result to every thread through workgroup memory.
Lanes shuffleBlockTree(ImplicitLocOpBuilder &b, RewriterBase &rewriter,
                       Operation *op, const ThreadPlace &place, Lanes values,
                       Combine combineFn) {
  bool full = hasFullWarps(place);
  Lanes warpValues =
      shuffleWarpTree(b, place, values, place.warpLanes, full, combineFn);
  SmallVector<Value> partials, results;
  for (Value v : values) {
    partials.push_back(workgroupBuffer(rewriter, op, kWarpSize, v.getType()));
    results.push_back(workgroupBuffer(rewriter, op, 1, v.getType()));
  }
  Value zero = arith::ConstantIndexOp::create(b, 0);
  Value firstLane =
      arith::CmpIOp::create(b, arith::CmpIPredicate::eq, place.lane, zero);
  ifThen(b, firstLane, [&] {
    for (auto [v, buffer] : llvm::zip(warpValues, partials))
      memref::StoreOp::create(b, v, buffer, ValueRange{place.warp});
  });
  gpu::BarrierOp::create(b);
  Value firstWarp =
      arith::CmpIOp::create(b, arith::CmpIPredicate::eq, place.warp, zero);
  auto second = scf::IfOp::create(b, firstWarp, /*withElseRegion=*/false);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(second.thenBlock()->getTerminator());
    // Lanes past the warp count keep their own value; the tree never
    // combines them into lane 0's.
    Value hasPartial = arith::CmpIOp::create(b, arith::CmpIPredicate::ult,
                                             place.lane, place.numWarps);
    Value readAt = arith::SelectOp::create(b, hasPartial, place.lane, zero);
    Lanes perWarp;
    for (Value buffer : partials)
      perWarp.push_back(memref::LoadOp::create(b, buffer, ValueRange{readAt}));
    Value numWarps32 =
        arith::IndexCastOp::create(b, b.getI32Type(), place.numWarps);
    Lanes total = shuffleWarpTree(b, place, perWarp, numWarps32,
                                  /*fullWarps=*/false, combineFn);
    auto writeResult =
        scf::IfOp::create(b, firstLane, /*withElseRegion=*/false);
    b.setInsertionPoint(writeResult.thenBlock()->getTerminator());
    for (auto [v, buffer] : llvm::zip(total, results))
      memref::StoreOp::create(b, v, buffer, ValueRange{zero});
  }
  gpu::BarrierOp::create(b);
  Lanes out;
  for (Value buffer : results)
    out.push_back(memref::LoadOp::create(b, buffer, ValueRange{zero}));
  // The buffers may be written again by the next execution of the op.
  gpu::BarrierOp::create(b);
  return out;
}

//===----------------------------------------------------------------------===//
// Reference form
//===----------------------------------------------------------------------===//

/// Replays the tree over `count` (index) slots of `slots` starting at
/// `base`, in a private array, and returns slot 0's result.
Lanes referenceTree(ImplicitLocOpBuilder &b, ArrayRef<Value> slots, Value base,
                    Value count, Combine combineFn) {
  Value zero = arith::ConstantIndexOp::create(b, 0);
  Value one = arith::ConstantIndexOp::create(b, 1);
  Value warpSize = arith::ConstantIndexOp::create(b, kWarpSize);
  SmallVector<Value> privateLanes;
  for (Value slot : slots) {
    auto type = MemRefType::get(
        {kWarpSize}, cast<MemRefType>(slot.getType()).getElementType());
    Value lanes = memref::AllocaOp::create(b, type);
    privateLanes.push_back(lanes);
    auto copy = scf::ForOp::create(b, zero, count, one);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(copy.getBody()->getTerminator());
    Value at = arith::AddIOp::create(b, base, copy.getInductionVar());
    memref::StoreOp::create(b, memref::LoadOp::create(b, slot, ValueRange{at}),
                            lanes, ValueRange{copy.getInductionVar()});
  }
  for (int64_t step : kLaneSteps) {
    Value distance = arith::ConstantIndexOp::create(b, step);
    // Ascending, in place: lane l + d is read before this step changes it.
    auto lanesLoop = scf::ForOp::create(b, zero, warpSize, one);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(lanesLoop.getBody()->getTerminator());
    Value lane = lanesLoop.getInductionVar();
    Value partner = arith::AddIOp::create(b, lane, distance);
    Value takesPart =
        arith::CmpIOp::create(b, arith::CmpIPredicate::ult, partner, count);
    auto inside = scf::IfOp::create(b, takesPart, /*withElseRegion=*/false);
    b.setInsertionPoint(inside.thenBlock()->getTerminator());
    Lanes mine, theirs;
    for (Value lanes : privateLanes) {
      mine.push_back(memref::LoadOp::create(b, lanes, ValueRange{lane}));
      theirs.push_back(memref::LoadOp::create(b, lanes, ValueRange{partner}));
    }
    Lanes combined = combineFn(b, mine, theirs);
    for (auto [v, lanes] : llvm::zip(combined, privateLanes))
      memref::StoreOp::create(b, v, lanes, ValueRange{lane});
  }
  Lanes out;
  for (Value lanes : privateLanes)
    out.push_back(memref::LoadOp::create(b, lanes, ValueRange{zero}));
  return out;
}

/// Every thread writes its values to a block-sized slot array.
SmallVector<Value> publish(ImplicitLocOpBuilder &b, RewriterBase &rewriter,
                           Operation *op, const ThreadPlace &place,
                           const Lanes &values) {
  SmallVector<Value> slots;
  for (Value v : values) {
    Value buffer = workgroupBuffer(rewriter, op, kMaxBlockThreads, v.getType());
    memref::StoreOp::create(b, v, buffer, ValueRange{place.thread});
    slots.push_back(buffer);
  }
  gpu::BarrierOp::create(b);
  return slots;
}

Lanes referenceWarpTree(ImplicitLocOpBuilder &b, RewriterBase &rewriter,
                        Operation *op, const ThreadPlace &place,
                        const Lanes &values, Combine combineFn) {
  SmallVector<Value> slots = publish(b, rewriter, op, place, values);
  Value base = arith::SubIOp::create(b, place.thread, place.lane);
  Value lanes =
      arith::IndexCastOp::create(b, b.getIndexType(), place.warpLanes);
  Lanes out = referenceTree(b, slots, base, lanes, combineFn);
  gpu::BarrierOp::create(b);
  return out;
}

Lanes referenceBlockTree(ImplicitLocOpBuilder &b, RewriterBase &rewriter,
                         Operation *op, const ThreadPlace &place,
                         const Lanes &values, Combine combineFn) {
  SmallVector<Value> slots = publish(b, rewriter, op, place, values);
  Value zero = arith::ConstantIndexOp::create(b, 0);
  Value one = arith::ConstantIndexOp::create(b, 1);
  Value warpSize = arith::ConstantIndexOp::create(b, kWarpSize);
  // Each warp's tree into a private array of per-warp values, then theirs.
  SmallVector<Value> perWarp;
  for (Value v : values)
    perWarp.push_back(
        memref::AllocaOp::create(b, MemRefType::get({kWarpSize}, v.getType())));
  auto warps = scf::ForOp::create(b, zero, place.numWarps, one);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(warps.getBody()->getTerminator());
    Value warp = warps.getInductionVar();
    Value base = arith::MulIOp::create(b, warp, warpSize);
    Value lanes = arith::MinUIOp::create(
        b, warpSize, arith::SubIOp::create(b, place.numThreads, base));
    Lanes warpValue = referenceTree(b, slots, base, lanes, combineFn);
    for (auto [v, buffer] : llvm::zip(warpValue, perWarp))
      memref::StoreOp::create(b, v, buffer, ValueRange{warp});
  }
  Lanes out = referenceTree(b, perWarp, zero, place.numWarps, combineFn);
  gpu::BarrierOp::create(b);
  return out;
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

template <typename OpTy> struct CollectivePattern : OpRewritePattern<OpTy> {
  CollectivePattern(MLIRContext *context, CollectiveForm form)
      : OpRewritePattern<OpTy>(context), form(form) {}
  CollectiveForm form;
};

template <typename OpTy>
Lanes lowerTree(ImplicitLocOpBuilder &b, PatternRewriter &rewriter, OpTy op,
                CollectiveForm form, const Lanes &values, Combine combineFn,
                bool blockWide) {
  ThreadPlace place = threadPlace(b, op);
  if (form == CollectiveForm::Shuffle)
    return blockWide
               ? shuffleBlockTree(b, rewriter, op, place, values, combineFn)
               : shuffleWarpTree(b, place, values, place.warpLanes,
                                 hasFullWarps(place), combineFn);
  return blockWide
             ? referenceBlockTree(b, rewriter, op, place, values, combineFn)
             : referenceWarpTree(b, rewriter, op, place, values, combineFn);
}

template <typename OpTy, bool BlockWide>
struct ReduceLowering : CollectivePattern<OpTy> {
  using CollectivePattern<OpTy>::CollectivePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    ReductionKind kind = op.getKind();
    auto combineFn = [kind](ImplicitLocOpBuilder &cb, const Lanes &x,
                            const Lanes &y) {
      return Lanes{combine(cb, kind, x[0], y[0])};
    };
    Lanes result = lowerTree(b, rewriter, op, this->form, {op.getValue()},
                             combineFn, BlockWide);
    rewriter.replaceOp(op, result[0]);
    return success();
  }
};

template <typename OpTy, bool BlockWide>
struct ArgMaxLowering : CollectivePattern<OpTy> {
  using CollectivePattern<OpTy>::CollectivePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto combineFn = [](ImplicitLocOpBuilder &cb, const Lanes &x,
                        const Lanes &y) {
      Value take = argMaxTakes(cb, x[0], x[1], y[0], y[1]);
      return Lanes{arith::SelectOp::create(cb, take, y[0], x[0]),
                   arith::SelectOp::create(cb, take, y[1], x[1])};
    };
    Lanes result =
        lowerTree(b, rewriter, op, this->form, {op.getValue(), op.getIndex()},
                  combineFn, BlockWide);
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ScanLowering : CollectivePattern<collective::BlockExclusiveScanOp> {
  using CollectivePattern::CollectivePattern;
  LogicalResult matchAndRewrite(collective::BlockExclusiveScanOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    ThreadPlace place = threadPlace(b, op);
    Value zero = arith::ConstantIndexOp::create(b, 0);
    Value one = arith::ConstantIndexOp::create(b, 1);
    Value zero32 = i32(b, 0);
    Value value = op.getValue();
    Value prefix, total;
    if (form == CollectiveForm::Reference) {
      SmallVector<Value> slots = publish(b, rewriter, op, place, {value});
      auto sum = [&](Value upper) {
        auto loop = scf::ForOp::create(b, zero, upper, one, ValueRange{zero32});
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(loop.getBody());
        Value v = memref::LoadOp::create(b, slots[0],
                                         ValueRange{loop.getInductionVar()});
        scf::YieldOp::create(
            b,
            arith::AddIOp::create(b, loop.getRegionIterArg(0), v).getResult());
        return loop.getResult(0);
      };
      prefix = sum(place.thread);
      total = sum(place.numThreads);
      gpu::BarrierOp::create(b);
      rewriter.replaceOp(op, {prefix, total});
      return success();
    }
    // Within the warp: a ballot and popc for flags, else a scan by
    // index shuffles (lane - d, which works for partial warps too).
    Value inWarp, warpTotal;
    if (op.getFlags()) {
      Value memberMask = arith::ShRUIOp::create(
          b, i32(b, -1),
          arith::SubIOp::create(b, i32(b, kWarpSize), place.warpLanes));
      Value set =
          arith::CmpIOp::create(b, arith::CmpIPredicate::ne, value, zero32);
      Value ballot = NVVM::VoteSyncOp::create(b, b.getI32Type(), memberMask,
                                              set, NVVM::VoteSyncKind::ballot);
      Value below = NVVM::LaneMaskLtOp::create(b, b.getI32Type());
      inWarp =
          math::CtPopOp::create(b, arith::AndIOp::create(b, ballot, below));
      warpTotal = math::CtPopOp::create(b, ballot);
    } else {
      Value inclusive = warpInclusiveSum(b, place, value);
      inWarp = arith::SubIOp::create(b, inclusive, value);
      warpTotal = gpu::ShuffleOp::create(
                      b, inclusive,
                      arith::SubIOp::create(b, place.warpLanes, i32(b, 1)),
                      place.warpLanes, gpu::ShuffleMode::IDX)
                      .getShuffleResult();
    }
    Value totals = workgroupBuffer(rewriter, op, kWarpSize, b.getI32Type());
    Value firstLane =
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, place.lane, zero);
    ifThen(b, firstLane, [&] {
      memref::StoreOp::create(b, warpTotal, totals, ValueRange{place.warp});
    });
    gpu::BarrierOp::create(b);
    // The warps before this one, and all warps; integers, so the order of
    // these additions cannot change the result.
    auto warps = scf::ForOp::create(b, zero, place.numWarps, one,
                                    ValueRange{zero32, zero32});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(warps.getBody());
      Value w = warps.getInductionVar();
      Value count = memref::LoadOp::create(b, totals, ValueRange{w});
      Value before =
          arith::CmpIOp::create(b, arith::CmpIPredicate::ult, w, place.warp);
      Value carried = arith::AddIOp::create(
          b, warps.getRegionIterArg(0),
          arith::SelectOp::create(b, before, count, zero32));
      scf::YieldOp::create(
          b, ValueRange{carried, arith::AddIOp::create(
                                     b, warps.getRegionIterArg(1), count)});
    }
    gpu::BarrierOp::create(b);
    prefix = arith::AddIOp::create(b, warps.getResult(0), inWarp);
    rewriter.replaceOp(op, {prefix, warps.getResult(1)});
    return success();
  }
};

struct HistogramLowering : CollectivePattern<collective::BlockHistogramOp> {
  using CollectivePattern::CollectivePattern;
  LogicalResult matchAndRewrite(collective::BlockHistogramOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    ThreadPlace place = threadPlace(b, op);
    Value histogram = op.getHistogram();
    int64_t bins = cast<MemRefType>(histogram.getType()).getDimSize(0);
    Value zero = arith::ConstantIndexOp::create(b, 0);
    Value one = arith::ConstantIndexOp::create(b, 1);
    Value numBins = arith::ConstantIndexOp::create(b, bins);
    auto clear = scf::ForOp::create(b, place.thread, numBins, place.numThreads);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(clear.getBody()->getTerminator());
      memref::StoreOp::create(b, i32(b, 0), histogram,
                              ValueRange{clear.getInductionVar()});
    }
    gpu::BarrierOp::create(b);
    Value inRange = arith::CmpIOp::create(b, arith::CmpIPredicate::ult,
                                          op.getBin(), numBins);
    Value counts = arith::AndIOp::create(b, op.getValid(), inRange);
    if (form == CollectiveForm::Shuffle) {
      ifThen(b, counts, [&] {
        memref::AtomicRMWOp::create(b, arith::AtomicRMWKind::addi, i32(b, 1),
                                    histogram, ValueRange{op.getBin()});
      });
    } else {
      // Thread 0 counts every thread's bin in thread order.
      Value bin32 = arith::SelectOp::create(
          b, counts, arith::IndexCastOp::create(b, b.getI32Type(), op.getBin()),
          i32(b, -1));
      SmallVector<Value> slots = publish(b, rewriter, op, place, {bin32});
      Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                                          place.thread, zero);
      auto leader = scf::IfOp::create(b, first, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(leader.thenBlock()->getTerminator());
      auto threads = scf::ForOp::create(b, zero, place.numThreads, one);
      b.setInsertionPoint(threads.getBody()->getTerminator());
      Value bin = memref::LoadOp::create(b, slots[0],
                                         ValueRange{threads.getInductionVar()});
      Value has =
          arith::CmpIOp::create(b, arith::CmpIPredicate::sge, bin, i32(b, 0));
      auto add = scf::IfOp::create(b, has, /*withElseRegion=*/false);
      b.setInsertionPoint(add.thenBlock()->getTerminator());
      Value at = arith::IndexCastOp::create(b, b.getIndexType(), bin);
      Value old = memref::LoadOp::create(b, histogram, ValueRange{at});
      memref::StoreOp::create(b, arith::AddIOp::create(b, old, i32(b, 1)),
                              histogram, ValueRange{at});
    }
    gpu::BarrierOp::create(b);
    rewriter.eraseOp(op);
    return success();
  }
};

/// Adds `body(i)` for i = from, from + step, ... < to.
void forRange(ImplicitLocOpBuilder &b, Value from, Value to, Value step,
              llvm::function_ref<void(Value)> body) {
  auto loop = scf::ForOp::create(b, from, to, step);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(loop.getBody()->getTerminator());
  body(loop.getInductionVar());
}

/// One digit pass of the radix select over `keys[0, count)`: the histogram
/// of the digit at `shift` of the keys matching `prefix` under `mask` is in
/// `hist` (256 bins); returns (digit, count above it) found by walking the
/// bins from the top until `remaining` keys are reached. Serial form.
std::pair<Value, Value> findDigitSerially(ImplicitLocOpBuilder &b, Value hist,
                                          Value remaining) {
  Value zero32 = i32(b, 0);
  Value bins = arith::ConstantIndexOp::create(b, 256);
  Value zero = arith::ConstantIndexOp::create(b, 0);
  Value one = arith::ConstantIndexOp::create(b, 1);
  // (running count above, digit, count above the digit)
  auto walk = scf::ForOp::create(b, zero, bins, one,
                                 ValueRange{zero32, zero32, zero32});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(walk.getBody());
  Value bin = arith::SubIOp::create(b, arith::ConstantIndexOp::create(b, 255),
                                    walk.getInductionVar());
  Value running = walk.getRegionIterArg(0);
  Value h = memref::LoadOp::create(b, hist, ValueRange{bin});
  Value next = arith::AddIOp::create(b, running, h);
  Value reaches = arith::AndIOp::create(
      b,
      arith::CmpIOp::create(b, arith::CmpIPredicate::slt, running, remaining),
      arith::CmpIOp::create(b, arith::CmpIPredicate::sge, next, remaining));
  Value bin32 = arith::IndexCastOp::create(b, b.getI32Type(), bin);
  scf::YieldOp::create(
      b, ValueRange{next,
                    arith::SelectOp::create(b, reaches, bin32,
                                            walk.getRegionIterArg(1)),
                    arith::SelectOp::create(b, reaches, running,
                                            walk.getRegionIterArg(2))});
  b.setInsertionPointAfter(walk);
  return {walk.getResult(1), walk.getResult(2)};
}

struct RadixSelectLowering : CollectivePattern<collective::BlockRadixSelectOp> {
  using CollectivePattern::CollectivePattern;
  static constexpr int64_t kDigitBits = 8;
  static constexpr int64_t kBins = 256;
  static constexpr int64_t kKeysInFlight = 8;

  LogicalResult matchAndRewrite(collective::BlockRadixSelectOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    ThreadPlace place = threadPlace(b, op);
    Value zero = arith::ConstantIndexOp::create(b, 0);
    Value wanted = arith::MinUIOp::create(b, op.getK(), op.getCount());
    Value none =
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, wanted, zero);
    auto branch =
        scf::IfOp::create(b, TypeRange{b.getI32Type(), b.getIndexType()}, none,
                          /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(branch.thenBlock());
      scf::YieldOp::create(b, ValueRange{i32(b, -1), zero});
      b.setInsertionPointToStart(branch.elseBlock());
      Value remaining = arith::IndexCastOp::create(b, b.getI32Type(), wanted);
      std::pair<Value, Value> result =
          form == CollectiveForm::Shuffle
              ? selectByBlock(b, rewriter, op, place, remaining)
              : selectByThreadZero(b, rewriter, op, place, remaining);
      scf::YieldOp::create(
          b, ValueRange{result.first, arith::IndexCastOp::create(
                                          b, b.getIndexType(), result.second)});
    }
    rewriter.replaceOp(op, branch.getResults());
    return success();
  }

  /// The digit of `key` at `shift` if its higher digits match `prefix`.
  static std::pair<Value, Value> digitOf(ImplicitLocOpBuilder &b, Value key,
                                         int64_t shift, Value prefix,
                                         Value mask) {
    Value matches =
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                              arith::AndIOp::create(b, key, mask), prefix);
    Value digit = arith::AndIOp::create(
        b, arith::ShRUIOp::create(b, key, i32(b, shift)), i32(b, kBins - 1));
    return {matches, arith::IndexCastOp::create(b, b.getIndexType(), digit)};
  }

  /// Every thread counts its strided share of the keys into a workgroup
  /// histogram; warp 0 finds the digit, its lanes scanning chunks of bins.
  std::pair<Value, Value> selectByBlock(ImplicitLocOpBuilder &b,
                                        RewriterBase &rewriter, Operation *op,
                                        const ThreadPlace &place,
                                        Value remaining) const {
    auto select = cast<collective::BlockRadixSelectOp>(op);
    Value hist = workgroupBuffer(rewriter, op, kBins, b.getI32Type());
    Value found = workgroupBuffer(rewriter, op, 2, b.getI32Type());
    Value zero = arith::ConstantIndexOp::create(b, 0);
    Value one = arith::ConstantIndexOp::create(b, 1);
    Value bins = arith::ConstantIndexOp::create(b, kBins);
    Value zero32 = i32(b, 0);
    Value prefix = zero32, mask = zero32, above = zero32;
    for (int64_t pass = 0; pass < 32 / kDigitBits; ++pass) {
      int64_t shift = 32 - kDigitBits * (pass + 1);
      forRange(b, place.thread, bins, place.numThreads, [&](Value bin) {
        memref::StoreOp::create(b, zero32, hist, ValueRange{bin});
      });
      gpu::BarrierOp::create(b);
      // kKeysInFlight keys per thread and iteration, their loads issued
      // together (a key past the end reads the last one and is not
      // counted).
      Value count = select.getCount();
      Value last = arith::SubIOp::create(b, count, one);
      Value stride = arith::MulIOp::create(
          b, place.numThreads,
          arith::ConstantIndexOp::create(b, kKeysInFlight));
      forRange(b, place.thread, count, stride, [&](Value first) {
        SmallVector<std::pair<Value, Value>> loaded;
        for (int64_t u = 0; u < kKeysInFlight; ++u) {
          Value i = arith::AddIOp::create(
              b, first,
              arith::MulIOp::create(b, place.numThreads,
                                    arith::ConstantIndexOp::create(b, u)));
          Value inside =
              arith::CmpIOp::create(b, arith::CmpIPredicate::ult, i, count);
          Value at = arith::MinUIOp::create(b, i, last);
          loaded.push_back({inside, memref::LoadOp::create(b, select.getKeys(),
                                                           ValueRange{at})});
        }
        for (auto [inside, key] : loaded) {
          auto [matches, digit] = digitOf(b, key, shift, prefix, mask);
          auto add = scf::IfOp::create(
              b, arith::AndIOp::create(b, inside, matches), false);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(add.thenBlock()->getTerminator());
          memref::AtomicRMWOp::create(b, arith::AtomicRMWKind::addi, i32(b, 1),
                                      hist, ValueRange{digit});
        }
      });
      gpu::BarrierOp::create(b);
      Value firstWarp =
          arith::CmpIOp::create(b, arith::CmpIPredicate::eq, place.warp, zero);
      auto search = scf::IfOp::create(b, firstWarp, false);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(search.thenBlock()->getTerminator());
        // Lane l takes bins 255 - l*C down to 255 - (l+1)*C + 1.
        // With a static block the chunk is a constant (the loops below
        // unroll); warp 0 has min(32, threads) lanes.
        Value chunk =
            place.staticThreads
                ? Value(arith::ConstantIndexOp::create(
                      b, llvm::divideCeil(
                             kBins, std::min(kWarpSize, *place.staticThreads))))
                : Value(arith::CeilDivUIOp::create(
                      b, bins,
                      arith::IndexCastOp::create(b, b.getIndexType(),
                                                 place.warpLanes)));
        Value top = arith::SubIOp::create(
            b, arith::ConstantIndexOp::create(b, kBins - 1),
            arith::MulIOp::create(b, place.lane, chunk));
        auto binAt = [&](Value j) {
          // Past bin 0 (top < j) reads as an empty bin.
          Value inside =
              arith::CmpIOp::create(b, arith::CmpIPredicate::sge, top, j);
          Value bin = arith::SelectOp::create(
              b, inside, arith::SubIOp::create(b, top, j), zero);
          return std::make_pair(inside, bin);
        };
        auto sum = scf::ForOp::create(b, zero, chunk, one, ValueRange{zero32});
        {
          OpBuilder::InsertionGuard inner(b);
          b.setInsertionPointToStart(sum.getBody());
          auto [inside, bin] = binAt(sum.getInductionVar());
          Value h = memref::LoadOp::create(b, hist, ValueRange{bin});
          scf::YieldOp::create(
              b, arith::AddIOp::create(
                     b, sum.getRegionIterArg(0),
                     arith::SelectOp::create(b, inside, h, zero32))
                     .getResult());
        }
        Value mine = sum.getResult(0);
        Value inclusive = warpInclusiveSum(b, place, mine);
        Value before = arith::SubIOp::create(b, inclusive, mine);
        auto walk = scf::ForOp::create(b, zero, chunk, one, ValueRange{before});
        {
          OpBuilder::InsertionGuard inner(b);
          b.setInsertionPointToStart(walk.getBody());
          auto [inside, bin] = binAt(walk.getInductionVar());
          Value running = walk.getRegionIterArg(0);
          Value h = arith::SelectOp::create(
              b, inside, memref::LoadOp::create(b, hist, ValueRange{bin}),
              zero32);
          Value next = arith::AddIOp::create(b, running, h);
          Value reaches = arith::AndIOp::create(
              b, inside,
              arith::AndIOp::create(
                  b,
                  arith::CmpIOp::create(b, arith::CmpIPredicate::slt, running,
                                        remaining),
                  arith::CmpIOp::create(b, arith::CmpIPredicate::sge, next,
                                        remaining)));
          auto write = scf::IfOp::create(b, reaches, false);
          {
            OpBuilder::InsertionGuard innermost(b);
            b.setInsertionPoint(write.thenBlock()->getTerminator());
            memref::StoreOp::create(
                b, arith::IndexCastOp::create(b, b.getI32Type(), bin), found,
                ValueRange{zero});
            memref::StoreOp::create(b, running, found, ValueRange{one});
          }
          scf::YieldOp::create(b, next);
        }
      }
      gpu::BarrierOp::create(b);
      Value digit = memref::LoadOp::create(b, found, ValueRange{zero});
      Value countAbove = memref::LoadOp::create(b, found, ValueRange{one});
      prefix = arith::OrIOp::create(
          b, prefix, arith::ShLIOp::create(b, digit, i32(b, shift)));
      mask = arith::OrIOp::create(b, mask, i32(b, (kBins - 1) << shift));
      remaining = arith::SubIOp::create(b, remaining, countAbove);
      above = arith::AddIOp::create(b, above, countAbove);
    }
    // The next execution writes `found` only after two barriers, which
    // every thread reaches after its reads above: no trailing barrier.
    return {prefix, above};
  }

  /// Thread 0 runs the same passes alone with a private histogram.
  std::pair<Value, Value> selectByThreadZero(ImplicitLocOpBuilder &b,
                                             RewriterBase &rewriter,
                                             Operation *op,
                                             const ThreadPlace &place,
                                             Value remaining) const {
    auto select = cast<collective::BlockRadixSelectOp>(op);
    Value result = workgroupBuffer(rewriter, op, 2, b.getI32Type());
    Value zero = arith::ConstantIndexOp::create(b, 0);
    Value one = arith::ConstantIndexOp::create(b, 1);
    Value bins = arith::ConstantIndexOp::create(b, kBins);
    Value first =
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, place.thread, zero);
    auto leader = scf::IfOp::create(b, first, false);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(leader.thenBlock()->getTerminator());
      Value hist =
          memref::AllocaOp::create(b, MemRefType::get({kBins}, b.getI32Type()));
      Value zero32 = i32(b, 0);
      Value prefix = zero32, mask = zero32, above = zero32;
      for (int64_t pass = 0; pass < 32 / kDigitBits; ++pass) {
        int64_t shift = 32 - kDigitBits * (pass + 1);
        forRange(b, zero, bins, one, [&](Value bin) {
          memref::StoreOp::create(b, zero32, hist, ValueRange{bin});
        });
        forRange(b, zero, select.getCount(), one, [&](Value i) {
          Value key =
              memref::LoadOp::create(b, select.getKeys(), ValueRange{i});
          auto [matches, digit] = digitOf(b, key, shift, prefix, mask);
          auto add = scf::IfOp::create(b, matches, false);
          OpBuilder::InsertionGuard inner(b);
          b.setInsertionPoint(add.thenBlock()->getTerminator());
          Value old = memref::LoadOp::create(b, hist, ValueRange{digit});
          memref::StoreOp::create(b, arith::AddIOp::create(b, old, i32(b, 1)),
                                  hist, ValueRange{digit});
        });
        auto [digit, countAbove] = findDigitSerially(b, hist, remaining);
        prefix = arith::OrIOp::create(
            b, prefix, arith::ShLIOp::create(b, digit, i32(b, shift)));
        mask = arith::OrIOp::create(b, mask, i32(b, (kBins - 1) << shift));
        remaining = arith::SubIOp::create(b, remaining, countAbove);
        above = arith::AddIOp::create(b, above, countAbove);
      }
      memref::StoreOp::create(b, prefix, result, ValueRange{zero});
      memref::StoreOp::create(b, above, result, ValueRange{one});
    }
    gpu::BarrierOp::create(b);
    Value threshold = memref::LoadOp::create(b, result, ValueRange{zero});
    Value above = memref::LoadOp::create(b, result, ValueRange{one});
    gpu::BarrierOp::create(b);
    return {threshold, above};
  }
};

/// A barrier in both forms.
struct BarrierLowering : CollectivePattern<collective::BlockBarrierOp> {
  using CollectivePattern::CollectivePattern;
  LogicalResult matchAndRewrite(collective::BlockBarrierOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<gpu::BarrierOp>(op);
    return success();
  }
};

/// The grid arrival in both forms (it is a global-memory protocol): thread
/// 0 releases the block's stores at GPU scope, counts the block in, and the
/// last block acquires the others' stores and clears the counter; the
/// answer reaches every thread through workgroup memory.
struct GridArriveLowering : CollectivePattern<collective::GridArriveOp> {
  using CollectivePattern::CollectivePattern;
  LogicalResult matchAndRewrite(collective::GridArriveOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    ThreadPlace place = threadPlace(b, op);
    Value flag = workgroupBuffer(rewriter, op, 1, b.getI32Type());
    Value zero = arith::ConstantIndexOp::create(b, 0);
    auto fence = [&](LLVM::AtomicOrdering ordering) {
      LLVM::FenceOp::create(b, ordering, "device");
    };
    gpu::BarrierOp::create(b);
    Value first =
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, place.thread, zero);
    ifThen(b, first, [&] {
      fence(LLVM::AtomicOrdering::release);
      Value before = memref::AtomicRMWOp::create(b, arith::AtomicRMWKind::addi,
                                                 i32(b, 1), op.getCounters(),
                                                 ValueRange{op.getGroup()});
      Value lastArrival = arith::IndexCastOp::create(
          b, b.getI32Type(),
          arith::SubIOp::create(b, op.getBlocks(),
                                arith::ConstantIndexOp::create(b, 1)));
      Value isLast = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, before,
                                           lastArrival);
      ifThen(b, isLast, [&] {
        fence(LLVM::AtomicOrdering::acquire);
        memref::StoreOp::create(b, i32(b, 0), op.getCounters(),
                                ValueRange{op.getGroup()});
      });
      memref::StoreOp::create(b,
                              arith::ExtUIOp::create(b, b.getI32Type(), isLast),
                              flag, ValueRange{zero});
    });
    gpu::BarrierOp::create(b);
    Value last = arith::CmpIOp::create(
        b, arith::CmpIPredicate::ne,
        memref::LoadOp::create(b, flag, ValueRange{zero}), i32(b, 0));
    rewriter.replaceOp(op, last);
    return success();
  }
};

struct CollectiveToGpuPass : impl::CollectiveToGpuBase<CollectiveToGpuPass> {
  using Base::Base;
  void runOnOperation() override {
    CollectiveForm chosen;
    if (form == "shuffle")
      chosen = CollectiveForm::Shuffle;
    else if (form == "reference")
      chosen = CollectiveForm::Reference;
    else {
      getOperation()->emitError("collective-to-gpu: form must be 'shuffle' or "
                                "'reference', got '")
          << form << "'";
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    populateCollectiveToGpuPatterns(patterns, chosen);
    ConversionTarget target(getContext());
    target.addIllegalDialect<collective::CollectiveDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    ConversionConfig config;
    config.allowPatternRollback = false;
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace

void populateCollectiveToGpuPatterns(RewritePatternSet &patterns,
                                     CollectiveForm form) {
  MLIRContext *context = patterns.getContext();
  patterns.add<ReduceLowering<collective::WarpReduceOp, false>,
               ReduceLowering<collective::BlockReduceOp, true>,
               ArgMaxLowering<collective::WarpArgMaxOp, false>,
               ArgMaxLowering<collective::BlockArgMaxOp, true>, ScanLowering,
               HistogramLowering, RadixSelectLowering, BarrierLowering,
               GridArriveLowering>(context, form);
}

} // namespace winnow
