//===- Attributes.h - Markers between the conversions -----------*- C++ -*-===//
//
// tok-lower-to-loops marks what it builds for a fused tok.dispatch so that
// tok-offload-to-gpu can map it onto thread blocks; the GPU mapping marks
// its phases for tok-emulate-gpu-launches; a lowering tells
// tok-portable-exp-log what it knows of an exponent. Unit attributes,
// discardable.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_CONVERSION_ATTRIBUTES_H
#define WINNOW_CONVERSION_ATTRIBUTES_H

#include "llvm/ADT/StringRef.h"

namespace winnow {

/// Marks a scratch alloca that holds one batch row of a fused intermediate:
/// every thread working on the row shares it (on the GPU, the row's slice of
/// a global-memory arena), unlike plain scratch allocas, which are private
/// to each loop iteration.
inline constexpr llvm::StringLiteral kRowBufferAttrName = "tok.row_buffer";
/// Marks a CPU scratch allocation that the iterations of the `scf.parallel`
/// loops using it share, each writing only its own part (a lone row's
/// per-token state that parallel passes over the tokens update between
/// sequential steps): tok-outline-parallel-loops passes it to the tasks
/// instead of giving each task its own copy.
inline constexpr llvm::StringLiteral kSharedScratchAttrName =
    "tok.shared_scratch";
/// Marks the `scf.parallel` over batch rows a tok.dispatch lowers to.
inline constexpr llvm::StringLiteral kDispatchRowsAttrName =
    "tok.dispatch_rows";

/// Marks a gpu.launch whose body is a sequence of block-uniform code and
/// thread phases (ops marked kThreadPhaseAttrName) separated by barriers:
/// one thread block per tok.dispatch row.
inline constexpr llvm::StringLiteral kBlockPhasesAttrName = "tok.block_phases";
/// Marks the ops of such a launch that depend on the thread id.
inline constexpr llvm::StringLiteral kThreadPhaseAttrName = "tok.thread_phase";

/// Marks a math.exp whose operand is at most 0 or NaN (x - max(x), say):
/// tok-portable-exp-log leaves out the overflow check, and NaN comes out as
/// a NaN, not necessarily the operand's. Dropping the mark is always safe.
inline constexpr llvm::StringLiteral kNonPositiveExpAttrName =
    "tok.nonpositive_exponent";

} // namespace winnow

#endif // WINNOW_CONVERSION_ATTRIBUTES_H
