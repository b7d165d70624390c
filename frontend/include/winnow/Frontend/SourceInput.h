//===- SourceInput.h - Read a tok program from MLIR text --------*- C++ -*-===//

#ifndef WINNOW_FRONTEND_SOURCEINPUT_H
#define WINNOW_FRONTEND_SOURCEINPUT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/SourceMgr.h"

namespace winnow {

/// Opens `path` ("-" for standard input), registers it with `sourceMgr` so
/// diagnostics carry file:line:col, and parses it as a module. Returns null
/// after emitting a diagnostic when the file cannot be read or parsed.
mlir::OwningOpRef<mlir::ModuleOp> parseSourceFile(llvm::StringRef path,
                                                  llvm::SourceMgr &sourceMgr,
                                                  mlir::MLIRContext *context);

} // namespace winnow

#endif // WINNOW_FRONTEND_SOURCEINPUT_H
