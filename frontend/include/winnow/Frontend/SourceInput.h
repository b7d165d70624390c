//===- SourceInput.h - Read a tok program from MLIR text --------*- C++ -*-===//
//
// The compiler's input surface. A tok program may contain ops of the tok,
// func, arith, math, tensor and linalg dialects (and what linalg depends
// on); it is parsed in a context that knows only those, so the parsers of
// the dialects Winnow's pipelines introduce later (LLVM, GPU, NVVM, vector,
// ...) never see user input.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_FRONTEND_SOURCEINPUT_H
#define WINNOW_FRONTEND_SOURCEINPUT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

namespace winnow {

/// Registers the dialects a tok program may be written in.
void registerTokProgramDialects(mlir::DialectRegistry &registry);

/// Opens `path` ("-" for standard input), registers it with `sourceMgr` so
/// diagnostics carry file:line:col, and parses it as a module. Returns null
/// after emitting a diagnostic when the file cannot be read or parsed.
mlir::OwningOpRef<mlir::ModuleOp> parseSourceFile(llvm::StringRef path,
                                                  llvm::SourceMgr &sourceMgr,
                                                  mlir::MLIRContext *context);

/// The same for a buffer already in memory (fuzzers, tests).
mlir::OwningOpRef<mlir::ModuleOp>
parseSourceBuffer(std::unique_ptr<llvm::MemoryBuffer> buffer,
                  llvm::SourceMgr &sourceMgr, mlir::MLIRContext *context);

} // namespace winnow

#endif // WINNOW_FRONTEND_SOURCEINPUT_H
