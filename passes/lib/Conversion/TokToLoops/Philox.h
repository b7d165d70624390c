//===- Philox.h - Counter-based random numbers as MLIR arith ops ----------===//
//
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
// 3") built from arith ops on i32/i64, so every target that lowers arith
// draws the same numbers from the same (key, counter).
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_PASSES_LIB_PHILOX_H
#define WINNOW_PASSES_LIB_PHILOX_H

#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <array>

namespace winnow {

/// Returns the first output word (i32) of Philox4x32-10 for the i32 counter
/// words `counter` and key words `key`.
mlir::Value emitPhiloxFirstWord(mlir::ImplicitLocOpBuilder &b,
                                std::array<mlir::Value, 4> counter,
                                std::array<mlir::Value, 2> key);

/// `(w >> 8) * 2^-24`: a uniform f32 in [0, 1) from a Philox word.
mlir::Value emitUniformFromWord(mlir::ImplicitLocOpBuilder &b, mlir::Value w);

/// `-log(((w >> 8) + 0.5) * 2^-24)` evaluated in f64 and rounded to f32: a
/// standard exponential (> 0).
mlir::Value emitExponentialFromWord(mlir::ImplicitLocOpBuilder &b,
                                    mlir::Value w);

/// Splits an i64 into its (low, high) i32 words.
std::array<mlir::Value, 2> splitI64(mlir::ImplicitLocOpBuilder &b,
                                    mlir::Value value);

} // namespace winnow

#endif // WINNOW_PASSES_LIB_PHILOX_H
