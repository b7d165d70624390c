//===- CommandLine.cpp - winnow-run option parsing (CLI11) ---------------===//
//
// Uses CLI11 (Debian package libcli11-dev, header-only) rather than a
// hand-rolled parser; the runtime tool must not depend on LLVM's cl.
//
//===----------------------------------------------------------------------===//

#include "RunTool.h"

#include <CLI/CLI.hpp>

#include <ostream>

namespace winnow::run {

namespace {

constexpr const char *kDescription =
    "Runs a function of a compiled Winnow artifact (.wnn) on host tensors, "
    "on the CPU or a CUDA GPU.";

// Documented here so that --help is the reference for the output format.
constexpr const char *kFooter =
    R"(INPUTS (one --input per function input, in order):
  --input=@path.npy            a NumPy .npy file (C order, little-endian).
                               A bf16 input takes <u2 (raw bf16 bits) or <f4
                               (converted, round to nearest even); an f16
                               input takes <f2 or <f4 (converted).
  --input=SHAPExDTYPE=v0,v1,.. inline values, e.g. 4xi32=576,576,0,1 or
                               i32=5 for a scalar. Values are parsed as
                               integers for integer dtypes (i1 also takes
                               true/false) and as doubles, then converted,
                               for float dtypes; a single value fills the
                               whole tensor.
  Dynamic extents (a function's symbols, e.g. "symbols: batch <= 64" and
  x: batchx8xf32 in --list) take their values from the inputs: the first
  input extent naming a symbol binds it (at most its bound, 0 allowed),
  every other extent naming it must be equal, and the results are
  allocated with those values (--input=3x8xf32=0 runs x with batch = 3).

OUTPUTS:
  --output=@path.npy           one per result, in order; or
  --output-dir=DIR             writes DIR/<result name>.npy for every result.
  bf16 results are written as <f4 unless --raw-bf16 (then <u2 bits); i1 is
  written as |b1.

PRINTING (--print, on stdout):
  summary (default)  one line per result:
      <name>: <type> sum=<%.6e>[ values=[...]]
    values lists integer/i1 tensors with at most 64 elements. For a ragged
    result (padded along its ragged axis, usually 1, with a [B] i32 count
    result; B is the extent of the axis before the ragged one):
      <name>: <type> counts=[c0, c1, ...] valid_sum=<%.6e>
    where valid_sum covers only rows < count[b] of each batch b (bf16/f16
    converted to float, summed as double); integer ragged results add one
    line per batch with up to the first 16 valid values:
        batch <b>: [v0, v1, ...]
    (prefixed with [o] for each leading plane, e.g. the 3 M-RoPE rows).
    Counts outside [0, rows] are clamped and flagged with '!'.
  full     every value, nested brackets in C order like NumPy.
  none     nothing.

EXIT STATUS: 0 on success, 1 on any error ("winnow-run: error: <message>"
on stderr).)";

} // namespace

std::optional<int> parseCommandLine(int argc, const char *const *argv,
                                    Options &options, std::ostream &out,
                                    std::ostream &err) {
  CLI::App app(kDescription, "winnow-run");
  app.footer(kFooter);
  app.get_formatter()->column_width(34);
  app.add_option("artifact", options.artifact, "The .wnn file to run")
      ->required();
  app.add_flag("--list", options.list,
               "Print the format version, producer, targets and every "
               "function signature, then exit (runs no code)");
  app.add_option("--function", options.function,
                 "Function to call (may be omitted if there is only one)");
  app.add_option("--device", options.device,
                 "Device to run on: cpu, cuda or cuda:N (inputs and outputs "
                 "stay host .npy files; the runtime copies them)")
      ->default_val("cpu");
  app.add_option("--input", options.inputs,
                 "Input tensor (@file.npy or SHAPExDTYPE=values); repeat "
                 "once per input, in order")
      ->allow_extra_args(false);
  app.add_option("--output", options.outputs,
                 "Write a result to @file.npy; repeat once per result, in "
                 "order")
      ->allow_extra_args(false);
  app.add_option("--output-dir", options.outputDir,
                 "Write every result to DIR/<result name>.npy");
  std::string printMode = "summary";
  app.add_option("--print", printMode, "What to print: summary|full|none")
      ->check(CLI::IsMember({"summary", "full", "none"}));
  app.add_flag("--raw-bf16", options.rawBf16,
               "Write bf16 results as raw <u2 bits instead of <f4");
  app.add_option("--bench", options.bench,
                 "After the first call, time N more calls in-process and print "
                 "'bench: N calls, median U us, min U us, mean U us' on stdout. "
                 "On a CUDA device: GPU time from CUDA events around each "
                 "call on device tensors (no host copies), one line per "
                 "condition: cold L2 (flushed before each call) or warm, "
                 "CUDA-graph replay or direct call; cold-L2 graph replay, the "
                 "condition the performance targets use, comes first")
      ->check(CLI::Range(0, 1000000));
  app.add_option("--threads", options.threads,
                 "CPU device: threads each call uses, the caller's included "
                 "(default: WINNOW_NUM_THREADS, else every CPU this process "
                 "may run on; 1 runs serially)")
      ->check(CLI::Range(1, 256));
  app.add_flag("--thread-stats", options.threadStats,
               "CPU device: after the calls, print 'threads: T per call; "
               "pool P; loops: X parallel, Y serial; ranges on pool threads "
               "Z' (the process's thread pool counters)");
  app.add_option("--bench-launches", options.benchLaunches,
                 "CUDA devices: time each kernel launch of N calls with CUDA "
                 "events (the L2 flushed before each call) and print every "
                 "launch's kernel, grid, block, median and minimum")
      ->check(CLI::Range(0, 1000000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &) {
    out << app.help();
    return 0;
  } catch (const CLI::ParseError &e) {
    err << "winnow-run: error: " << e.what()
        << "\n(run 'winnow-run --help' for usage)\n";
    return 1;
  }
  options.print = printMode == "full"   ? PrintMode::Full
                  : printMode == "none" ? PrintMode::None
                                        : PrintMode::Summary;
  return std::nullopt;
}

} // namespace winnow::run
