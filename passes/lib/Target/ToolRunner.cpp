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

namespace {
LogicalResult reportFailure(Location loc, const ToolJob &job,
                            const TempFile &log, StringRef execError) {
  auto output = llvm::MemoryBuffer::getFile(log.path);
  InFlightDiagnostic diag = emitError(loc) << job.what << " with '"
                                           << job.args.front() << "' failed";
  if (!execError.empty())
    diag << ": " << execError;
  if (output && !(*output)->getBuffer().empty())
    diag << "\n" << (*output)->getBuffer().rtrim();
  return failure();
}
} // namespace

LogicalResult runTool(Location loc, StringRef what,
                      llvm::ArrayRef<std::string> args) {
  return runTools(loc, {ToolJob{what.str(), args.vec()}});
}

LogicalResult runTools(Location loc, llvm::ArrayRef<ToolJob> jobs,
                       std::vector<std::string> *outputs) {
  std::vector<TempFile> logs(jobs.size());
  std::vector<llvm::sys::ProcessInfo> processes;
  std::vector<std::string> errors(jobs.size());
  for (auto [job, log] : llvm::zip(jobs, logs))
    if (failed(makeTemp(loc, "log", log)))
      return failure();
  for (auto [i, job] : llvm::enumerate(jobs)) {
    llvm::SmallVector<StringRef> argRefs(job.args.begin(), job.args.end());
    std::optional<StringRef> redirects[] = {std::nullopt, logs[i].path.str(),
                                            logs[i].path.str()};
    processes.push_back(llvm::sys::ExecuteNoWait(
        job.args.front(), argRefs, std::nullopt, redirects,
        /*MemoryLimit=*/0, &errors[i]));
  }
  LogicalResult result = success();
  for (auto [i, process] : llvm::enumerate(processes)) {
    int rc = -1;
    if (process.Pid != llvm::sys::ProcessInfo::InvalidPid) {
      std::string waitError;
      // A time limit only for a single job: LLVM's timed wait kills the
      // child, then reaps any child, which could be a sibling's.
      std::optional<unsigned> limit;
      if (jobs.size() == 1)
        limit = 120u;
      llvm::sys::ProcessInfo done =
          llvm::sys::Wait(process, limit, &waitError);
      rc = done.ReturnCode;
      if (errors[i].empty())
        errors[i] = waitError;
    }
    // Every process is waited for; the first failure is reported.
    if (rc != 0 && succeeded(result))
      result = reportFailure(loc, jobs[i], logs[i], errors[i]);
  }
  if (succeeded(result) && outputs) {
    outputs->clear();
    for (const TempFile &log : logs) {
      FailureOr<std::string> text = readFile(loc, log.path);
      if (failed(text))
        return failure();
      outputs->push_back(std::move(*text));
    }
  }
  return result;
}

} // namespace winnow
