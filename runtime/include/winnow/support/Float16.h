//===- Float16.h - f32 <-> f16 / bf16 conversions for host-side tools ----===//
//
// C++ helpers for tools (winnow-run) and tests, not part of the C API. All
// narrowing conversions round to nearest, ties to even; NaNs stay NaN.
//
//===----------------------------------------------------------------------===//
#ifndef WINNOW_SUPPORT_FLOAT16_H
#define WINNOW_SUPPORT_FLOAT16_H

#include <cstdint>

namespace winnow::support {

uint16_t floatToBFloat16(float value);
float bfloat16ToFloat(uint16_t bits);
uint16_t floatToHalf(float value);
float halfToFloat(uint16_t bits);

} // namespace winnow::support

#endif // WINNOW_SUPPORT_FLOAT16_H
