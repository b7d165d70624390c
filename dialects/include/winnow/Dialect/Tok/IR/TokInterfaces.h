//===- TokInterfaces.h - What passes ask of tok ops -------------*- C++ -*-===//

#ifndef WINNOW_DIALECT_TOK_IR_TOKINTERFACES_H
#define WINNOW_DIALECT_TOK_IR_TOKINTERFACES_H

#include "mlir/IR/OpDefinition.h"
#include "winnow/Dialect/Tok/IR/TokUtils.h"

#include "winnow/Dialect/Tok/IR/TokInterfaces.h.inc"

#endif // WINNOW_DIALECT_TOK_IR_TOKINTERFACES_H
