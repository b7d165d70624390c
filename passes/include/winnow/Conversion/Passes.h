//===- Passes.h - Winnow's conversions --------------------------*- C++ -*-===//

#ifndef WINNOW_CONVERSION_PASSES_H
#define WINNOW_CONVERSION_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace winnow {
#define GEN_PASS_DECL
#include "winnow/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "winnow/Conversion/Passes.h.inc"
} // namespace winnow

#endif // WINNOW_CONVERSION_PASSES_H
