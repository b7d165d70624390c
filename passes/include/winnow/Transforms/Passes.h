//===- Passes.h - Winnow's generic transforms -------------------*- C++ -*-===//

#ifndef WINNOW_TRANSFORMS_PASSES_H
#define WINNOW_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace winnow {
/// Marks a launch that tok-outline-parallel-loops declared and
/// tok-lower-parallel-launches defines; names its task body.
inline constexpr llvm::StringLiteral kParallelBodyAttr = "tok.parallel_body";

#define GEN_PASS_DECL
#include "winnow/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "winnow/Transforms/Passes.h.inc"
} // namespace winnow

#endif // WINNOW_TRANSFORMS_PASSES_H
