//===- CollectiveOps.h - Warp and block collectives -------------*- C++ -*-===//

#ifndef WINNOW_DIALECT_COLLECTIVE_IR_COLLECTIVEOPS_H
#define WINNOW_DIALECT_COLLECTIVE_IR_COLLECTIVEOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "winnow/Dialect/Collective/IR/CollectiveOpsDialect.h.inc"

#include "winnow/Dialect/Collective/IR/CollectiveEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "winnow/Dialect/Collective/IR/CollectiveAttrs.h.inc"

#define GET_OP_CLASSES
#include "winnow/Dialect/Collective/IR/CollectiveOps.h.inc"

#endif // WINNOW_DIALECT_COLLECTIVE_IR_COLLECTIVEOPS_H
