//===- Float16.cpp - f32 <-> f16 / bf16 conversions (round to nearest even)
//===//

#include "winnow/support/Float16.h"

#include <cmath>
#include <cstring>

namespace winnow::support {

namespace {
uint32_t bitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}
float floatOf(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}
} // namespace

uint16_t floatToBFloat16(float value) {
  uint32_t bits = bitsOf(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) // NaN: keep sign, force quiet bit
    return static_cast<uint16_t>((bits >> 16) | 0x0040u);
  // Adding 0x7fff plus the lowest kept bit rounds ties to even; overflow of
  // the largest finite values carries into the exponent and gives inf.
  uint32_t roundingBias = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + roundingBias) >> 16);
}

float bfloat16ToFloat(uint16_t bits) {
  return floatOf(static_cast<uint32_t>(bits) << 16);
}

uint16_t floatToHalf(float value) {
  uint32_t bits = bitsOf(value);
  uint32_t sign = (bits >> 16) & 0x8000u;
  uint32_t abs = bits & 0x7fffffffu;
  if (abs >= 0x7f800000u) { // inf or NaN
    if (abs > 0x7f800000u)
      return static_cast<uint16_t>(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
    return static_cast<uint16_t>(sign | 0x7c00u);
  }
  // 65520 is halfway between the largest half (65504) and 2^16: it and
  // everything above round to inf.
  constexpr uint32_t kHalfOverflow = 0x477ff000u;
  // 2^-14, the smallest normal half.
  constexpr uint32_t kHalfMinNormal = 0x38800000u;
  // 2^-25, half of the smallest subnormal half: ties to even, so to zero.
  constexpr uint32_t kHalfUnderflow = 0x33000000u;
  if (abs >= kHalfOverflow)
    return static_cast<uint16_t>(sign | 0x7c00u);
  if (abs < kHalfMinNormal) {
    if (abs <= kHalfUnderflow)
      return static_cast<uint16_t>(sign);
    // Subnormal: the result counts units of 2^-24.
    uint32_t exponent = abs >> 23;
    uint32_t mantissa = (abs & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - exponent; // 14..24
    uint32_t result = mantissa >> shift;
    uint32_t remainder = mantissa & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (result & 1u)))
      ++result;
    return static_cast<uint16_t>(sign | result);
  }
  // Normal: rebias the exponent (127 -> 15) and round at bit 13.
  uint32_t rebased = abs - (112u << 23);
  uint32_t rounded = rebased + 0xfffu + ((abs >> 13) & 1u);
  return static_cast<uint16_t>(sign | (rounded >> 13));
}

float halfToFloat(uint16_t bits) {
  uint32_t sign = (static_cast<uint32_t>(bits) & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24 is exact in f32.
    float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31)
    return floatOf(sign | 0x7f800000u | (mantissa << 13));
  return floatOf(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

} // namespace winnow::support
