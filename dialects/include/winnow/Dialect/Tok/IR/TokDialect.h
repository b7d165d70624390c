//===- TokDialect.h - The tok dialect ---------------------------*- C++ -*-===//

#ifndef WINNOW_DIALECT_TOK_IR_TOKDIALECT_H
#define WINNOW_DIALECT_TOK_IR_TOKDIALECT_H

#include "mlir/IR/Dialect.h"

#include "winnow/Dialect/Tok/IR/TokOpsDialect.h.inc"

#endif // WINNOW_DIALECT_TOK_IR_TOKDIALECT_H
