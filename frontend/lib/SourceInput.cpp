//===- SourceInput.cpp - Read a tok program from MLIR text ----------------===//

#include "winnow/Frontend/SourceInput.h"

#include "ParserHazards.h"
#include "winnow/Dialect/Tok/IR/TokDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"

using namespace mlir;

void winnow::registerTokProgramDialects(DialectRegistry &registry) {
  registry.insert<tok::TokDialect, func::FuncDialect, arith::ArithDialect,
                  math::MathDialect, tensor::TensorDialect,
                  linalg::LinalgDialect>();
}

OwningOpRef<ModuleOp>
winnow::parseSourceBuffer(std::unique_ptr<llvm::MemoryBuffer> buffer,
                          llvm::SourceMgr &sourceMgr, MLIRContext *context) {
  unsigned bufferId =
      sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
  if (failed(checkParserHazards(sourceMgr, bufferId, context)))
    return nullptr;
  return mlir::parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(context));
}

OwningOpRef<ModuleOp> winnow::parseSourceFile(StringRef path,
                                              llvm::SourceMgr &sourceMgr,
                                              MLIRContext *context) {
  std::string message;
  std::unique_ptr<llvm::MemoryBuffer> file = openInputFile(path, &message);
  if (!file) {
    // openInputFile's message already names the file and the reason.
    emitError(FileLineColLoc::get(context, path, 0, 0)) << message;
    return nullptr;
  }
  return parseSourceBuffer(std::move(file), sourceMgr, context);
}
