//===- ToolRunner.h - Temporary files and external tools for codegen -----===//
//
// Private to passes/lib/Target: the CPU linker and the CUDA toolkit's ptxas
// and fatbinary run as subprocesses on temporary files.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_PASSES_LIB_TARGET_TOOLRUNNER_H
#define WINNOW_PASSES_LIB_TARGET_TOOLRUNNER_H

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"

#include <string>
#include <vector>

namespace winnow {

/// Removes a temporary file when it goes out of scope.
struct TempFile {
  llvm::SmallString<128> path;
  ~TempFile() {
    if (!path.empty())
      llvm::sys::fs::remove(path);
  }
};

/// Creates an empty temporary file with the given suffix.
mlir::LogicalResult makeTemp(mlir::Location loc, llvm::StringRef suffix,
                             TempFile &file);

/// Writes `contents` to `path`.
mlir::LogicalResult writeFile(mlir::Location loc, llvm::StringRef path,
                              llvm::StringRef contents);

/// Reads the whole file at `path`.
mlir::FailureOr<std::string> readFile(mlir::Location loc,
                                      llvm::StringRef path);

/// Runs `args[0]` with `args`, waiting at most two minutes. On failure the
/// error names `what` and includes the tool's combined output.
mlir::LogicalResult runTool(mlir::Location loc, llvm::StringRef what,
                            llvm::ArrayRef<std::string> args);

/// One tool invocation for runTools.
struct ToolJob {
  std::string what;
  std::vector<std::string> args;
};

/// Runs every job at once (ptxas for several architectures) and waits for
/// all of them (without a time limit when there are several: LLVM's timed
/// wait may reap a sibling); fails with the first failing job's error, as
/// runTool. With `outputs`, each job's combined output is kept there (one
/// string per job) when all succeed.
mlir::LogicalResult runTools(mlir::Location loc,
                             llvm::ArrayRef<ToolJob> jobs,
                             std::vector<std::string> *outputs = nullptr);

} // namespace winnow

#endif // WINNOW_PASSES_LIB_TARGET_TOOLRUNNER_H
