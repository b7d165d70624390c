//===- RunTool.h - The winnow-run tool as a library ----------------------===//
//
// winnow-run's main only forwards to runMain, so tests and other front ends
// can drive the tool in-process. Depends only on the Winnow runtime.
//
//===----------------------------------------------------------------------===//
#ifndef WINNOW_TOOLS_WINNOW_RUN_RUNTOOL_H
#define WINNOW_TOOLS_WINNOW_RUN_RUNTOOL_H

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace winnow::run {

enum class PrintMode { Summary, Full, None };

struct Options {
  std::string artifact;
  bool list = false;
  std::string function;
  std::string device = "cpu";
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::string outputDir;
  PrintMode print = PrintMode::Summary;
  bool rawBf16 = false;
  /// When > 0: time that many further calls after the first and print the
  /// per-call statistics (a benchmark, not a test).
  int bench = 0;
  /// When > 0 (CUDA devices): time each kernel launch of that many further
  /// calls with CUDA events and print per-launch statistics.
  int benchLaunches = 0;
  /// CPU devices: threads per call (0: the runtime's default).
  int threads = 0;
  /// CPU devices: print the thread pool's counters after the calls.
  bool threadStats = false;
};

/// Parses argv. Returns the exit code when the tool should stop right away
/// (0 after --help, 1 after a usage error, already reported on `err`).
std::optional<int> parseCommandLine(int argc, const char *const *argv,
                                    Options &options, std::ostream &out,
                                    std::ostream &err);

/// Runs the tool; returns the process exit code. Results go to `out`, errors
/// to `err` as "winnow-run: error: <message>".
int runTool(const Options &options, std::ostream &out, std::ostream &err);

/// parseCommandLine + runTool.
int runMain(int argc, const char *const *argv, std::ostream &out,
            std::ostream &err);

} // namespace winnow::run

#endif // WINNOW_TOOLS_WINNOW_RUN_RUNTOOL_H
