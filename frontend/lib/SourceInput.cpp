//===- SourceInput.cpp - Read a tok program from MLIR text ----------------===//

#include "winnow/Frontend/SourceInput.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace mlir;

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
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  return mlir::parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(context));
}
