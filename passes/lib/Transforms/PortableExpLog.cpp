//===- PortableExpLog.cpp - The tok-portable-exp-log pass -----------------===//
//
// exp and log from IEEE arithmetic only, so the CPU and the GPU compute the
// same bits (see the pass description). The constants are the textbook
// ones: ln 2 split into a short high part (so n * ln2_hi is exact for the
// exponents that occur) and the remainder, Taylor coefficients 1/k! for exp
// on |r| <= ln(2)/2, and 2/(2k+1) for log's atanh series on |s| <= 0.1716.
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "winnow/Conversion/Attributes.h"
#include "winnow/Transforms/Passes.h"

#include <cmath>

namespace winnow {
#define GEN_PASS_DEF_TOKPORTABLEEXPLOG
#include "winnow/Transforms/Passes.h.inc"
} // namespace winnow

using namespace mlir;

namespace winnow {
namespace {

constexpr float kLn2Hi = 0.693145751953125f;        // 0x3F317200
constexpr float kLn2Lo = 1.428606765330187045e-06f; // ln 2 - kLn2Hi
constexpr float kLog2E = 1.44269504088896341f;
// 1.5 * 2^23: adding and subtracting it rounds |v| < 2^22 to an integer,
// ties to even, in plain float arithmetic.
constexpr float kRoundMagic = 12582912.0f;
constexpr float kExpHigh = 88.72283935546875f;     // exp overflows above
constexpr float kExpLow = -103.97208404541015625f; // exp is 0 below

struct Float32 {
  ImplicitLocOpBuilder &b;
  Value c(float value) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(value));
  }
  Value i(int32_t value) {
    return arith::ConstantOp::create(b, b.getI32IntegerAttr(value));
  }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, x, y); }
  Value div(Value x, Value y) { return arith::DivFOp::create(b, x, y); }
  Value cmp(arith::CmpFPredicate p, Value x, Value y) {
    return arith::CmpFOp::create(b, p, x, y);
  }
  Value select(Value condition, Value x, Value y) {
    return arith::SelectOp::create(b, condition, x, y);
  }
  Value bits(Value x) { return arith::BitcastOp::create(b, b.getI32Type(), x); }
  Value fromBits(Value x) {
    return arith::BitcastOp::create(b, b.getF32Type(), x);
  }
  /// 2^n for integral n in [-126, 127] (an i32).
  Value powerOfTwo(Value n) {
    return fromBits(
        arith::ShLIOp::create(b, arith::AddIOp::create(b, n, i(127)), i(23)));
  }
};

/// `nonPositive`: x is at most 0 or NaN (kNonPositiveExpAttrName), so no
/// overflow check, and a NaN x gives the NaN the steps make. Either way the
/// same bits for every x <= 0.
Value expandExp(ImplicitLocOpBuilder &b, Value x, bool nonPositive) {
  Float32 f{b};
  // The steps run on x itself: out of range or NaN they give a value the
  // selects at the end replace, and none of them is undefined there (no
  // float is converted to an integer). Fewer steps than clamping x first,
  // the same bits for every input.
  Value under = f.cmp(arith::CmpFPredicate::OLT, x, f.c(kExpLow));
  Value rounded = f.add(f.mul(x, f.c(kLog2E)), f.c(kRoundMagic));
  Value n = f.sub(rounded, f.c(kRoundMagic));
  Value r = f.sub(f.sub(x, f.mul(n, f.c(kLn2Hi))), f.mul(n, f.c(kLn2Lo)));
  // e^r = 1 + r + r^2/2! + ... + r^7/7!, Horner.
  Value p = f.c(1.0f / 5040.0f);
  for (float coefficient : {1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f,
                            1.0f / 6.0f, 0.5f, 1.0f, 1.0f})
    p = f.add(f.mul(p, r), f.c(coefficient));
  // n as an integer: `rounded` lies in [2^23, 2^24) for every x in range,
  // where a float's bits are 2^23's bits plus its value minus 2^23 (an
  // integer add instead of a float-to-integer conversion).
  Value exponent =
      arith::SubIOp::create(b, f.bits(rounded), f.bits(f.c(kRoundMagic)));
  // 2^n in two factors, each a normal number, for n in [-150, 128].
  Value half = arith::ShRSIOp::create(b, exponent, f.i(1));
  Value rest = arith::SubIOp::create(b, exponent, half);
  Value result = f.mul(f.mul(p, f.powerOfTwo(half)), f.powerOfTwo(rest));
  result = f.select(under, f.c(0.0f), result);
  if (nonPositive)
    return result;
  Value over = f.cmp(arith::CmpFPredicate::OGT, x, f.c(kExpHigh));
  result = f.select(over, f.c(INFINITY), result);
  return f.select(f.cmp(arith::CmpFPredicate::UNO, x, x), x, result);
}

Value expandLog(ImplicitLocOpBuilder &b, Value x) {
  Float32 f{b};
  Value isNan = f.cmp(arith::CmpFPredicate::UNO, x, x);
  Value negative = f.cmp(arith::CmpFPredicate::OLT, x, f.c(0.0f));
  Value zero = f.cmp(arith::CmpFPredicate::OEQ, x, f.c(0.0f));
  Value infinite = f.cmp(arith::CmpFPredicate::OEQ, x, f.c(INFINITY));
  Value special =
      arith::OrIOp::create(b, arith::OrIOp::create(b, isNan, negative),
                           arith::OrIOp::create(b, zero, infinite));
  Value safe = f.select(special, f.c(1.0f), x);
  // Subnormals: scale into the normal range first.
  Value tiny = f.cmp(arith::CmpFPredicate::OLT, safe, f.c(0x1p-126f));
  Value scaled = f.select(tiny, f.mul(safe, f.c(0x1p23f)), safe);
  Value bits = f.bits(scaled);
  Value biased = arith::AndIOp::create(
      b, arith::ShRUIOp::create(b, bits, f.i(23)), f.i(255));
  Value exponent = arith::SubIOp::create(
      b, biased, arith::SelectOp::create(b, tiny, f.i(127 + 23), f.i(127)));
  // m in [1, 2), then in [sqrt(1/2), sqrt(2)).
  Value m = f.fromBits(arith::OrIOp::create(
      b, arith::AndIOp::create(b, bits, f.i(0x007FFFFF)), f.i(0x3F800000)));
  Value large = f.cmp(arith::CmpFPredicate::OGT, m, f.c(1.41421356237f));
  m = f.select(large, f.mul(m, f.c(0.5f)), m);
  exponent = arith::AddIOp::create(
      b, exponent, arith::ExtUIOp::create(b, b.getI32Type(), large));
  // log(m) = 2 atanh(s), s = (m - 1) / (m + 1): 2s (1 + s^2/3 + s^4/5 + ...).
  Value fraction = f.sub(m, f.c(1.0f));
  Value s = f.div(fraction, f.add(fraction, f.c(2.0f)));
  Value z = f.mul(s, s);
  Value series = f.c(1.0f / 9.0f);
  for (float coefficient : {1.0f / 7.0f, 1.0f / 5.0f, 1.0f / 3.0f})
    series = f.add(f.mul(series, z), f.c(coefficient));
  Value twoS = f.add(s, s);
  Value logM = f.add(twoS, f.mul(twoS, f.mul(series, z)));
  Value e = arith::SIToFPOp::create(b, b.getF32Type(), exponent);
  Value result =
      f.add(f.mul(e, f.c(kLn2Hi)), f.add(f.mul(e, f.c(kLn2Lo)), logM));
  result = f.select(infinite, f.c(INFINITY), result);
  result = f.select(zero, f.c(-INFINITY), result);
  result = f.select(arith::OrIOp::create(b, isNan, negative), f.c(NAN), result);
  return result;
}

Value expandExpOp(ImplicitLocOpBuilder &b, Operation *op) {
  return expandExp(b, op->getOperand(0), op->hasAttr(kNonPositiveExpAttrName));
}
Value expandLogOp(ImplicitLocOpBuilder &b, Operation *op) {
  return expandLog(b, op->getOperand(0));
}

template <typename OpTy, Value (*Expand)(ImplicitLocOpBuilder &, Operation *)>
struct ExpandF32 : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return rewriter.notifyMatchFailure(op, "only f32 is expanded");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    rewriter.replaceOp(op, Expand(b, op));
    return success();
  }
};

struct TokPortableExpLogPass
    : impl::TokPortableExpLogBase<TokPortableExpLogPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ExpandF32<math::ExpOp, expandExpOp>,
                 ExpandF32<math::LogOp, expandLogOp>>(&getContext());
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace
} // namespace winnow
