//===- RadixSelect.cpp - Exact top-k thresholds by radix select -----------===//

#include "RadixSelect.h"

#include <cmath>
#include <cstring>

using namespace mlir;

namespace winnow {
namespace {
constexpr int kRadixBits = 8;
constexpr int kRadixPasses = 32 / kRadixBits;
constexpr uint32_t kNegInfBits = 0xff800000u;
constexpr uint32_t kPosInfBits = 0x7f800000u;
/// The largest key array allocRadixKeys puts on the stack.
constexpr int64_t kMaxRadixKeyBytes = 64 * 1024;
} // namespace

Value emitRanksBefore(ImplicitLocOpBuilder &b, Value otherKey, Value key,
                      Value j, Value i) {
  Value greater =
      arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, otherKey, key);
  Value tieBefore = arith::AndIOp::create(
      b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, otherKey, key),
      arith::CmpIOp::create(b, arith::CmpIPredicate::slt, j, i));
  return arith::OrIOp::create(b, greater, tieBefore);
}

Value emitOrderKey(ImplicitLocOpBuilder &b, Value score,
                   tok::NanPolicy policy) {
  LoopEmitter e(b);
  Value bits = arith::BitcastOp::create(b, b.getI32Type(), score);
  uint32_t nanBits =
      policy == tok::NanPolicy::as_pos_inf ? kPosInfBits : kNegInfBits;
  Value isNan =
      arith::CmpFOp::create(b, arith::CmpFPredicate::UNO, score, score);
  bits = arith::SelectOp::create(b, isNan, e.i32(static_cast<int32_t>(nanBits)),
                                 bits);
  Value isZero =
      arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, score, e.f32(0.0));
  bits = arith::SelectOp::create(b, isZero, e.i32(0), bits);
  // Negative floats: flip every bit; positive: flip the sign bit.
  Value negative =
      arith::CmpIOp::create(b, arith::CmpIPredicate::slt, bits, e.i32(0));
  Value flip = arith::SelectOp::create(
      b, negative, e.i32(-1), e.i32(static_cast<int32_t>(0x80000000u)));
  return arith::XOrIOp::create(b, bits, flip);
}

uint32_t orderKey(float score, tok::NanPolicy policy) {
  uint32_t bits;
  if (std::isnan(score))
    bits = policy == tok::NanPolicy::as_pos_inf ? kPosInfBits : kNegInfBits;
  else if (score == 0.0f)
    bits = 0;
  else
    std::memcpy(&bits, &score, sizeof(bits));
  return bits ^ ((bits & 0x80000000u) ? 0xffffffffu : 0x80000000u);
}

Value allocRadixHistogram(ImplicitLocOpBuilder &b) {
  return memref::AllocaOp::create(
      b, MemRefType::get({kRadixBins}, b.getI32Type()));
}

Value allocRadixKeys(ImplicitLocOpBuilder &b, int64_t maxEntries) {
  if (maxEntries <= 0 || maxEntries * 4 > kMaxRadixKeyBytes)
    return Value();
  return memref::AllocaOp::create(
      b, MemRefType::get({maxEntries}, b.getI32Type()));
}

std::pair<Value, Value>
emitRadixSelect(LoopEmitter &e, Value histogram, Value lb, Value ub, Value k,
                llvm::function_ref<Value(Value)> keyAt,
                llvm::function_ref<Value(Value)> isCandidate, Value keys) {
  ImplicitLocOpBuilder &b = e.builder();
  Value prefix = e.i32(0), mask = e.i32(0), remaining = k;
  // With `keys`, the live entries' keys: every candidate's after the first
  // pass, then those that matched each pass's prefix.
  Value live;
  for (int pass = 0; pass < kRadixPasses; ++pass) {
    int shift = 32 - kRadixBits * (pass + 1);
    e.forLoop(e.index(0), e.index(kRadixBins), [&](Value bin) {
      memref::StoreOp::create(b, e.i32(0), histogram, ValueRange{bin});
    });
    // Every entry adds 0 or 1 to its digit's bin, without a branch: after
    // the first pass about half the entries match the prefix, at random,
    // and a branch on that mispredicts every other entry.
    auto count = [&](Value key, Value counted) {
      Value digit =
          arith::AndIOp::create(b, arith::ShRUIOp::create(b, key, e.i32(shift)),
                                e.i32(kRadixBins - 1));
      Value bin = arith::IndexCastOp::create(b, b.getIndexType(), digit);
      Value old = memref::LoadOp::create(b, histogram, ValueRange{bin});
      memref::StoreOp::create(
          b,
          arith::AddIOp::create(
              b, old, arith::ExtUIOp::create(b, b.getI32Type(), counted)),
          histogram, ValueRange{bin});
    };
    auto matches = [&](Value key) {
      return arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                                   arith::AndIOp::create(b, key, mask), prefix)
          .getResult();
    };
    // Keeps `key` at `at` when `kept` (the slot is overwritten otherwise):
    // the compaction never writes past the entry it reads.
    auto compact = [&](Value at, Value key, Value kept) {
      memref::StoreOp::create(b, key, keys, ValueRange{at});
      return arith::AddIOp::create(b, at, e.indexOf(kept)).getResult();
    };
    if (!keys) {
      e.forLoop(lb, ub, [&](Value i) {
        Value key = keyAt(i);
        count(key, arith::AndIOp::create(b, matches(key), isCandidate(i)));
      });
    } else if (pass == 0) {
      live = e.forLoop(lb, ub, ValueRange{e.index(0)},
                       [&](Value i, ValueRange s) -> SmallVector<Value> {
                         Value key = keyAt(i);
                         Value candidate = isCandidate(i);
                         count(key, candidate);
                         return {compact(s[0], key, candidate)};
                       })[0];
    } else {
      live = e.forLoop(e.index(0), live, ValueRange{e.index(0)},
                       [&](Value j, ValueRange s) -> SmallVector<Value> {
                         Value key =
                             memref::LoadOp::create(b, keys, ValueRange{j});
                         Value match = matches(key);
                         count(key, match);
                         return {compact(s[0], key, match)};
                       })[0];
    }
    // Walk the bins from the largest digit down; the bin where the running
    // count reaches `remaining` holds the K-th key.
    Value falseV = arith::ConstantIntOp::create(b, b.getI1Type(), 0);
    ValueRange walked = e.forLoop(
        e.index(0), e.index(kRadixBins),
        ValueRange{falseV, e.i32(0), e.i32(0), e.i32(0)},
        [&](Value step, ValueRange state) -> SmallVector<Value> {
          Value found = state[0], digit = state[1], before = state[2],
                running = state[3];
          Value bin = arith::SubIOp::create(b, e.index(kRadixBins - 1), step);
          Value count = memref::LoadOp::create(b, histogram, ValueRange{bin});
          Value next = arith::AddIOp::create(b, running, count);
          Value reaches = arith::CmpIOp::create(b, arith::CmpIPredicate::sge,
                                                next, remaining);
          Value notFound = e.notI1(found);
          Value hit = arith::AndIOp::create(b, reaches, notFound);
          Value binI32 = arith::IndexCastOp::create(b, b.getI32Type(), bin);
          return {arith::OrIOp::create(b, found, hit),
                  arith::SelectOp::create(b, hit, binI32, digit),
                  arith::SelectOp::create(b, hit, running, before), next};
        });
    Value digit = walked[1], before = walked[2];
    prefix = arith::OrIOp::create(
        b, prefix, arith::ShLIOp::create(b, digit, e.i32(shift)));
    mask = arith::OrIOp::create(
        b, mask,
        e.i32(static_cast<int32_t>(uint32_t(kRadixBins - 1) << shift)));
    remaining = arith::SubIOp::create(b, remaining, before);
  }
  return {prefix, remaining};
}

} // namespace winnow
