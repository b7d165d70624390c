//===- ToolRunner.cpp - Temporary files and external tools for codegen ---===//

#include "ToolRunner.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace winnow {

LogicalResult makeTemp(Location loc, StringRef suffix, TempFile &file) {
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
          "winnow", suffix, file.path))
    return emitError(loc)
           << "cannot create a temporary file: " << ec.message();
  return success();
}

LogicalResult writeFile(Location loc, StringRef path, StringRef contents) {
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (!ec) {
    out << contents;
    out.close();
    if (out.has_error())
      ec = out.error();
  }
  if (ec)
    return emitError(loc) << "cannot write '" << path << "': " << ec.message();
  return success();
}

FailureOr<std::string> readFile(Location loc, StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return emitError(loc) << "cannot read '" << path
                          << "': " << buffer.getError().message();
  return (*buffer)->getBuffer().str();
}

LogicalResult runTool(Location loc, StringRef what,
                      llvm::ArrayRef<std::string> args) {
  TempFile log;
  if (failed(makeTemp(loc, "log", log)))
    return failure();
  llvm::SmallVector<StringRef> argRefs(args.begin(), args.end());
  std::optional<StringRef> redirects[] = {std::nullopt, log.path.str(),
                                          log.path.str()};
  std::string execError;
  int rc = llvm::sys::ExecuteAndWait(args.front(), argRefs, std::nullopt,
                                     redirects, /*SecondsToWait=*/120,
                                     /*MemoryLimit=*/0, &execError);
  if (rc == 0)
    return success();
  auto output = llvm::MemoryBuffer::getFile(log.path);
  InFlightDiagnostic diag = emitError(loc) << what << " with '"
                                           << args.front() << "' failed";
  if (!execError.empty())
    diag << ": " << execError;
  if (output && !(*output)->getBuffer().empty())
    diag << "\n" << (*output)->getBuffer().rtrim();
  return failure();
}

} // namespace winnow
