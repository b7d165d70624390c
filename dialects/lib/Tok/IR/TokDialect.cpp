//===- TokDialect.cpp - Registration of the tok dialect -------------------===//

#include "winnow/Dialect/Tok/IR/TokDialect.h"
#include "winnow/Dialect/Tok/IR/TokOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace winnow::tok;

#include "winnow/Dialect/Tok/IR/TokOpsDialect.cpp.inc"

void TokDialect::initialize() {
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "winnow/Dialect/Tok/IR/TokOps.cpp.inc"
      >();
}
