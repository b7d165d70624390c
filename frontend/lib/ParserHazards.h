//===- ParserHazards.h - Input upstream parsers would crash on --*- C++ -*-===//

#ifndef WINNOW_FRONTEND_PARSERHAZARDS_H
#define WINNOW_FRONTEND_PARSERHAZARDS_H

#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/LLVM.h"
#include "llvm/Support/SourceMgr.h"

namespace winnow {

/// Rejects, with a diagnostic at the offending text, the input that a
/// registered upstream parser is known to crash on instead of reporting.
/// Runs on the raw text of buffer `bufferId` before it is parsed.
mlir::LogicalResult checkParserHazards(const llvm::SourceMgr &sourceMgr,
                                       unsigned bufferId,
                                       mlir::MLIRContext *context);

} // namespace winnow

#endif // WINNOW_FRONTEND_PARSERHAZARDS_H
