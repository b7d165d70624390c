//===- winnow-opt.cpp - The Winnow optimizer driver -----------------------===//
//
// MlirOptMain with the tok dialect, Winnow's passes and only the upstream
// dialects and passes Winnow's pipelines use.
//
//===----------------------------------------------------------------------===//

#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "winnow/Pipelines/Registration.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  winnow::registerWinnowDialects(registry);
  winnow::registerWinnowPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Winnow optimizer driver\n", registry));
}
