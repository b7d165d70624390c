//===- Bench.h - winnow-run's timing modes -------------------------------===//
//
// --bench=N on the CPU: the host clock around in-process calls. On a CUDA
// device: GPU time from CUDA events, on device copies of the inputs, in the
// four conditions the performance targets name (cold or warm L2, graph
// replay or a direct call; the targets are judged on cold-L2 graph replay).
// --bench-launches=N: CUDA events around every kernel launch, in place of a
// profiler.
//
//===----------------------------------------------------------------------===//
#ifndef WINNOW_TOOLS_WINNOW_RUN_BENCH_H
#define WINNOW_TOOLS_WINNOW_RUN_BENCH_H

#include "winnow/runtime/winnow_runtime.h"

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace winnow::run {

/// What is being timed: a bound function and host tensors shaped for it.
struct BenchTarget {
  winnow_device *device;
  winnow_executable *executable;
  size_t functionIndex;
  const std::vector<winnow_tensor> &hostInputs;
  const std::vector<winnow_tensor> &hostResults;
  /// One host-tensor call (winnow_call), for CPU timing.
  std::function<bool()> hostCall;
};

/// --bench=N: prints one `bench:` line per timing condition on `out`. A
/// condition that cannot be measured on this device (graph capture failed)
/// is reported on `err` as a warning and left out.
bool runBench(const BenchTarget &target, int calls, std::ostream &out,
              std::ostream &err, std::string &error);

/// False, with the reason, unless --bench-launches can run on `device`.
bool canBenchLaunches(winnow_device *device, std::string &error);

/// --bench-launches=N (CUDA devices only): N timed calls, each after an L2
/// flush; prints each launch's median and minimum and their sum.
bool runLaunchBench(const BenchTarget &target, int calls, std::ostream &out,
                    std::string &error);

} // namespace winnow::run

#endif // WINNOW_TOOLS_WINNOW_RUN_BENCH_H
