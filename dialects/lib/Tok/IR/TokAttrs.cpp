//===- TokAttrs.cpp - Enums and attributes of the tok dialect -------------===//

#include "winnow/Dialect/Tok/IR/TokOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace winnow::tok;

#include "winnow/Dialect/Tok/IR/TokEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "winnow/Dialect/Tok/IR/TokAttrs.cpp.inc"

double winnow::tok::toDouble(llvm::APFloat value) {
  bool losesInfo = false;
  value.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven,
                &losesInfo);
  return value.convertToDouble();
}

void TokDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "winnow/Dialect/Tok/IR/TokAttrs.cpp.inc"
      >();
}

LogicalResult
KeepRatioAttr::verify(llvm::function_ref<InFlightDiagnostic()> emitError,
                      llvm::APFloat ratio, Rounding rounding) {
  double value = toDouble(ratio);
  if (!(value >= 0.0 && value <= 1.0))
    return emitError() << "expected keep ratio in [0, 1], got " << value;
  return success();
}
