//===- Philox.cpp - Counter-based random numbers as MLIR arith ops --------===//

#include "Philox.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;

namespace winnow {
namespace {
// The round multipliers and Weyl key increments of Philox4x32.
constexpr uint32_t kMultiplier0 = 0xD2511F53u;
constexpr uint32_t kMultiplier1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u;
constexpr uint32_t kWeyl1 = 0xBB67AE85u;
constexpr int kRounds = 10;

Value constI32(ImplicitLocOpBuilder &b, uint32_t value) {
  return arith::ConstantIntOp::create(b, b.getI32Type(),
                                      static_cast<int32_t>(value));
}

/// (high, low) 32-bit halves of the 64-bit product of two u32 values.
std::pair<Value, Value> mulHiLo(ImplicitLocOpBuilder &b, uint32_t multiplier,
                                Value x) {
  Type i64 = b.getI64Type();
  Value wide = arith::MulIOp::create(
      b, arith::ExtUIOp::create(b, i64, x),
      arith::ConstantIntOp::create(b, i64, static_cast<int64_t>(multiplier)));
  Value high = arith::TruncIOp::create(
      b, b.getI32Type(),
      arith::ShRUIOp::create(b, wide, arith::ConstantIntOp::create(b, i64, 32)));
  Value low = arith::TruncIOp::create(b, b.getI32Type(), wide);
  return {high, low};
}
} // namespace

Value emitPhiloxFirstWord(ImplicitLocOpBuilder &b, std::array<Value, 4> c,
                          std::array<Value, 2> key) {
  Value k0 = key[0], k1 = key[1];
  for (int round = 0; round < kRounds; ++round) {
    if (round > 0) {
      k0 = arith::AddIOp::create(b, k0, constI32(b, kWeyl0));
      k1 = arith::AddIOp::create(b, k1, constI32(b, kWeyl1));
    }
    auto [hi0, lo0] = mulHiLo(b, kMultiplier0, c[0]);
    auto [hi1, lo1] = mulHiLo(b, kMultiplier1, c[2]);
    c = {arith::XOrIOp::create(b, arith::XOrIOp::create(b, hi1, c[1]), k0), lo1,
         arith::XOrIOp::create(b, arith::XOrIOp::create(b, hi0, c[3]), k1),
         lo0};
  }
  return c[0];
}

Value emitUniformFromWord(ImplicitLocOpBuilder &b, Value w) {
  Value top24 = arith::ShRUIOp::create(b, w, constI32(b, 8));
  Value asFloat = arith::UIToFPOp::create(b, b.getF32Type(), top24);
  return arith::MulFOp::create(
      b, asFloat,
      arith::ConstantFloatOp::create(b, b.getF32Type(),
                                     llvm::APFloat(0x1.0p-24f)));
}

Value emitExponentialFromWord(ImplicitLocOpBuilder &b, Value w) {
  // In f64, where (top24 + 0.5) * 2^-24 is exact and strictly below 1; in
  // f32 the top value would round to 1 and give E = -0.0.
  FloatType f64 = b.getF64Type();
  Value top24 = arith::ShRUIOp::create(b, w, constI32(b, 8));
  Value asDouble = arith::UIToFPOp::create(b, f64, top24);
  Value open = arith::MulFOp::create(
      b,
      arith::AddFOp::create(
          b, asDouble, arith::ConstantFloatOp::create(b, f64, llvm::APFloat(0.5))),
      arith::ConstantFloatOp::create(b, f64, llvm::APFloat(0x1.0p-24)));
  Value exponential = arith::NegFOp::create(b, math::LogOp::create(b, open));
  return arith::TruncFOp::create(b, b.getF32Type(), exponential);
}

std::array<Value, 2> splitI64(ImplicitLocOpBuilder &b, Value value) {
  Value low = arith::TruncIOp::create(b, b.getI32Type(), value);
  Value high = arith::TruncIOp::create(
      b, b.getI32Type(),
      arith::ShRUIOp::create(
          b, value, arith::ConstantIntOp::create(b, b.getI64Type(), 32)));
  return {low, high};
}

} // namespace winnow
