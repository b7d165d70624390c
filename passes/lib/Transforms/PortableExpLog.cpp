//===- PortableExpLog.cpp - The tok-portable-exp-log pass -----------------===//
//
// exp and log from IEEE arithmetic only, so the CPU and the GPU compute the
// same bits (see the pass description). The constants are the textbook
// ones: ln 2 split into a short high part (so n * ln2_hi is exact for the
// exponents that occur) and the remainder, Taylor coefficients 1/k! for exp
// on |r| <= ln(2)/2, and 2/(2k+1) for log's atanh series on |s| <= 0.1716
// (four terms in f32, ten in f64).
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
// ln 2 to 32 significant bits (e * kLn2HiF64 is exact for every f64
// exponent) and the rest.
constexpr double kLn2HiF64 = 0x1.62e42feep-1;
constexpr double kLn2HiF64Lo = 0x1.a39ef35793c76p-33;
// 1.5 * 2^23: adding and subtracting it rounds |v| < 2^22 to an integer,
// ties to even, in plain float arithmetic.
constexpr float kRoundMagic = 12582912.0f;
constexpr float kExpHigh = 88.72283935546875f;     // exp overflows above
constexpr float kExpLow = -103.97208404541015625f; // exp is 0 below

/// Arithmetic in one float type (f32 or f64) and the integer type of its
/// bits.
struct FloatOps {
  ImplicitLocOpBuilder &b;
  FloatType type;
  IntegerType bitsType;
  FloatOps(ImplicitLocOpBuilder &b, FloatType type)
      : b(b), type(type),
        bitsType(b.getIntegerType(type.getIntOrFloatBitWidth())) {}
  Value c(double value) {
    return arith::ConstantOp::create(b, b.getFloatAttr(type, value));
  }
  Value i(int64_t value) {
    return arith::ConstantOp::create(b, b.getIntegerAttr(bitsType, value));
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
  Value bits(Value x) { return arith::BitcastOp::create(b, bitsType, x); }
  Value fromBits(Value x) { return arith::BitcastOp::create(b, type, x); }
  /// 2^n for integral n in [-126, 127] (f32 only).
  Value powerOfTwo(Value n) {
    return fromBits(
        arith::ShLIOp::create(b, arith::AddIOp::create(b, n, i(127)), i(23)));
  }
};

/// The selects of log's special values around `result`: NaN for NaN and
/// x < 0, -inf for ±0, +inf for +inf.
struct LogSpecials {
  Value isNan, negative, zero, infinite, any;
  LogSpecials(FloatOps &f, Value x) {
    isNan = f.cmp(arith::CmpFPredicate::UNO, x, x);
    negative = f.cmp(arith::CmpFPredicate::OLT, x, f.c(0.0));
    zero = f.cmp(arith::CmpFPredicate::OEQ, x, f.c(0.0));
    infinite = f.cmp(arith::CmpFPredicate::OEQ, x, f.c(INFINITY));
    any = arith::OrIOp::create(f.b, arith::OrIOp::create(f.b, isNan, negative),
                               arith::OrIOp::create(f.b, zero, infinite));
  }
  Value apply(FloatOps &f, Value result) {
    result = f.select(infinite, f.c(INFINITY), result);
    result = f.select(zero, f.c(-INFINITY), result);
    return f.select(arith::OrIOp::create(f.b, isNan, negative), f.c(NAN),
                    result);
  }
};

/// `nonPositive`: x is at most 0 or NaN (kNonPositiveExpAttrName), so no
/// overflow check, and a NaN x gives the NaN the steps make. Either way the
/// same bits for every x <= 0.
Value expandExp(ImplicitLocOpBuilder &b, Value x, bool nonPositive) {
  FloatOps f(b, b.getF32Type());
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

/// x = 2^e m for a positive finite x (subnormals too), m in
/// [sqrt(1/2), sqrt(2)): e as an integer of the bits' type, and m.
std::pair<Value, Value> splitExponent(FloatOps &f, Value x) {
  ImplicitLocOpBuilder &b = f.b;
  int64_t mantissaBits = f.type.getFPMantissaWidth() - 1;
  int64_t bias = (int64_t(1) << (f.type.getWidth() - mantissaBits - 2)) - 1;
  int64_t mantissaMask = (int64_t(1) << mantissaBits) - 1;
  // Subnormals: scale into the normal range first.
  Value tiny =
      f.cmp(arith::CmpFPredicate::OLT, x, f.c(std::ldexp(1.0, 1 - bias)));
  Value scaled =
      f.select(tiny, f.mul(x, f.c(std::ldexp(1.0, mantissaBits))), x);
  Value bits = f.bits(scaled);
  Value biased = arith::AndIOp::create(
      b, arith::ShRUIOp::create(b, bits, f.i(mantissaBits)), f.i(2 * bias + 1));
  Value exponent = arith::SubIOp::create(
      b, biased,
      arith::SelectOp::create(b, tiny, f.i(bias + mantissaBits), f.i(bias)));
  // m in [1, 2), then in [sqrt(1/2), sqrt(2)).
  Value m = f.fromBits(
      arith::OrIOp::create(b, arith::AndIOp::create(b, bits, f.i(mantissaMask)),
                           f.i(bias << mantissaBits)));
  Value large = f.cmp(arith::CmpFPredicate::OGT, m, f.c(M_SQRT2));
  m = f.select(large, f.mul(m, f.c(0.5)), m);
  exponent = arith::AddIOp::create(
      b, exponent, arith::ExtUIOp::create(b, f.bitsType, large));
  return {exponent, m};
}

/// log(m) = 2 atanh(s) for m from splitExponent: f = m - 1, s = f / (2 + f)
/// and the series z (c_1 + z (c_2 + ...)) in z = s^2, `coefficients` from
/// the highest power down.
struct AtanhSeries {
  Value fraction, s, series;
  AtanhSeries(FloatOps &f, Value m, ArrayRef<double> coefficients) {
    fraction = f.sub(m, f.c(1.0));
    s = f.div(fraction, f.add(fraction, f.c(2.0)));
    Value z = f.mul(s, s);
    Value sum = f.c(coefficients.front());
    for (double coefficient : coefficients.drop_front())
      sum = f.add(f.mul(sum, z), f.c(coefficient));
    series = f.mul(sum, z);
  }
};

Value expandLog(ImplicitLocOpBuilder &b, Value x) {
  FloatOps f(b, b.getF32Type());
  LogSpecials specials(f, x);
  auto [exponent, m] = splitExponent(f, f.select(specials.any, f.c(1.0f), x));
  // log(m) = 2s (1 + s^2/3 + s^4/5 + ...), the f32 coefficients.
  AtanhSeries atanh(f, m, {1.0f / 9.0f, 1.0f / 7.0f, 1.0f / 5.0f, 1.0f / 3.0f});
  Value twoS = f.add(atanh.s, atanh.s);
  Value logM = f.add(twoS, f.mul(twoS, atanh.series));
  Value e = arith::SIToFPOp::create(b, b.getF32Type(), exponent);
  Value result =
      f.add(f.mul(e, f.c(kLn2Hi)), f.add(f.mul(e, f.c(kLn2Lo)), logM));
  return specials.apply(f, result);
}

/// log of an f64, within 1 ulp of glibc's (the accuracy test): the
/// Philox exponentials' -log(u), which both targets then round to f32 (a
/// libm and a libdevice log could round those differently). x = 2^e m with
/// m in [sqrt(1/2), sqrt(2)), f = m - 1 (exact), s = f / (2 + f):
/// log(m) = 2 atanh(s) = 2s + s R(s^2), R = 2/3 s^2 + 2/5 s^4 + ... (ten
/// terms: the next is below 2^-54 of the result), and 2s = f - f^2/2 +
/// s f^2/2, so the result adds small corrections to the exact f and to
/// e ln2_hi (exact for every exponent: ln2_hi has 32 significant bits).
Value expandLog64(ImplicitLocOpBuilder &b, Value x) {
  FloatOps f(b, b.getF64Type());
  LogSpecials specials(f, x);
  auto [exponent, m] = splitExponent(f, f.select(specials.any, f.c(1.0), x));
  SmallVector<double, 10> coefficients;
  for (int k = 10; k >= 1; --k)
    coefficients.push_back(2.0 / (2 * k + 1));
  AtanhSeries atanh(f, m, coefficients);
  Value fraction = atanh.fraction, s = atanh.s, r = atanh.series;
  Value halfSquare = f.mul(f.mul(f.c(0.5), fraction), fraction);
  Value e = arith::SIToFPOp::create(b, f.type, exponent);
  // e ln2_hi - ((f^2/2 - (s (f^2/2 + R) + e ln2_lo)) - f)
  Value correction = f.sub(halfSquare, f.add(f.mul(s, f.add(halfSquare, r)),
                                             f.mul(e, f.c(kLn2HiF64Lo))));
  Value result = f.sub(f.mul(e, f.c(kLn2HiF64)), f.sub(correction, fraction));
  return specials.apply(f, result);
}

Value expandExpOp(ImplicitLocOpBuilder &b, Operation *op) {
  return expandExp(b, op->getOperand(0), op->hasAttr(kNonPositiveExpAttrName));
}
Value expandLogOp(ImplicitLocOpBuilder &b, Operation *op) {
  Value x = op->getOperand(0);
  return x.getType().isF64() ? expandLog64(b, x) : expandLog(b, x);
}

/// Expands an f32 op, or with `alsoF64` an f64 one too.
template <typename OpTy, Value (*Expand)(ImplicitLocOpBuilder &, Operation *),
          bool alsoF64>
struct ExpandScalar : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Type type = op.getType();
    if (!type.isF32() && !(alsoF64 && type.isF64()))
      return rewriter.notifyMatchFailure(op, "not a type that is expanded");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    rewriter.replaceOp(op, Expand(b, op));
    return success();
  }
};

struct TokPortableExpLogPass
    : impl::TokPortableExpLogBase<TokPortableExpLogPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ExpandScalar<math::ExpOp, expandExpOp, /*alsoF64=*/false>,
                 ExpandScalar<math::LogOp, expandLogOp, /*alsoF64=*/true>>(
        &getContext());
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace
} // namespace winnow
