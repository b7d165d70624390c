//===- Passes.h - Winnow's passes -------------------------------*- C++ -*-===//

#ifndef WINNOW_PASSES_PASSES_H
#define WINNOW_PASSES_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace winnow {
#define GEN_PASS_DECL
#include "winnow/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "winnow/Passes/Passes.h.inc"
} // namespace winnow

#endif // WINNOW_PASSES_PASSES_H
