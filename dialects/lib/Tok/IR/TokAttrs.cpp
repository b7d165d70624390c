//===- TokAttrs.cpp - Enums and attributes of the tok dialect -------------===//

#include "winnow/Dialect/Tok/IR/TokOps.h"

#include <cstdio>

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
  if (!(value >= 0.0 && value <= 1.0)) {
    // 15 significant digits: 0.3 rather than 0.29999999999999999.
    auto shortest = [](double v) {
      char text[32];
      std::snprintf(text, sizeof(text), "%.15g", v);
      return std::string(text);
    };
    InFlightDiagnostic diag = emitError()
                              << "expected keep ratio in [0, 1] (the fraction "
                                 "of candidates kept), got "
                              << shortest(value);
    // A percentage is the likely mistake: say what it should be.
    if (value > 1.0 && value <= 100.0)
      diag << "; for " << shortest(value) << " % write "
           << shortest(value / 100.0);
    return diag;
  }
  return success();
}
