//===- Passes.h - Transforms of tok programs --------------------*- C++ -*-===//

#ifndef WINNOW_DIALECT_TOK_TRANSFORMS_PASSES_H
#define WINNOW_DIALECT_TOK_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace winnow {
#define GEN_PASS_DECL
#include "winnow/Dialect/Tok/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "winnow/Dialect/Tok/Transforms/Passes.h.inc"
} // namespace winnow

#endif // WINNOW_DIALECT_TOK_TRANSFORMS_PASSES_H
