//===- Bench.cpp - winnow-run's timing modes -----------------------------===//

#include "Bench.h"
#include "StatusMessage.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <ostream>

namespace winnow::run {
namespace {

struct EventDeleter {
  void operator()(winnow_event *e) const { winnow_event_destroy(e); }
};
using EventPtr = std::unique_ptr<winnow_event, EventDeleter>;
struct GraphDeleter {
  void operator()(winnow_graph *g) const { winnow_graph_destroy(g); }
};
using GraphPtr = std::unique_ptr<winnow_graph, GraphDeleter>;

/// Device copies of the host tensors, freed on every path.
class DeviceTensors {
public:
  explicit DeviceTensors(winnow_device *device) : device(device) {}
  ~DeviceTensors() {
    for (void *pointer : allocations)
      winnow_status_free(winnow_device_free(device, pointer));
  }
  /// Allocates one device tensor per host tensor; copies the data when
  /// `copy` (inputs), leaves it unset otherwise (results).
  bool add(const std::vector<winnow_tensor> &host, bool copy,
           std::vector<winnow_tensor> &onDevice, std::string &error) {
    for (const winnow_tensor &tensor : host) {
      void *data = nullptr;
      if (!succeeded(winnow_device_allocate(device, tensor.byte_size, &data),
                     error))
        return false;
      allocations.push_back(data);
      if (copy && !succeeded(winnow_device_copy(device, data, tensor.data,
                                                tensor.byte_size),
                             error))
        return false;
      winnow_tensor view = tensor;
      view.data = data;
      onDevice.push_back(view);
    }
    return true;
  }

private:
  winnow_device *device;
  std::vector<void *> allocations;
};

void printStatistics(std::ostream &out, const char *prefix,
                     const std::vector<double> &micros,
                     const std::string &suffix) {
  std::vector<double> sorted = micros;
  std::sort(sorted.begin(), sorted.end());
  double mean = 0;
  for (double m : micros)
    mean += m / static_cast<double>(micros.size());
  char line[200];
  std::snprintf(line, sizeof(line),
                "%s%zu calls, median %.2f us, min %.2f us, mean %.2f us",
                prefix, micros.size(), sorted[sorted.size() / 2],
                sorted.front(), mean);
  out << line << suffix << "\n";
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

/// Host timing of in-process calls; the call before it warmed caches and
/// page tables.
bool benchOnHost(const BenchTarget &target, int calls, std::ostream &out) {
  std::vector<double> micros;
  for (int i = 0; i < calls; ++i) {
    auto start = std::chrono::steady_clock::now();
    if (!target.hostCall())
      return false;
    auto stop = std::chrono::steady_clock::now();
    micros.push_back(
        std::chrono::duration<double, std::micro>(stop - start).count());
  }
  printStatistics(out, "bench: ", micros, "");
  return true;
}

/// A device-tensor call on the default stream, prepared once.
struct DeviceBench {
  const BenchTarget &target;
  DeviceTensors tensors;
  std::vector<winnow_tensor> inputs, results;
  EventPtr start, stop;
  std::string deviceName;

  explicit DeviceBench(const BenchTarget &target)
      : target(target), tensors(target.device) {}

  bool prepare(std::string &error) {
    if (!tensors.add(target.hostInputs, true, inputs, error) ||
        !tensors.add(target.hostResults, false, results, error))
      return false;
    winnow_event *raw = nullptr;
    if (!succeeded(winnow_event_create(target.device, &raw), error))
      return false;
    start.reset(raw);
    if (!succeeded(winnow_event_create(target.device, &raw), error))
      return false;
    stop.reset(raw);
    winnow_device_info info;
    if (!succeeded(winnow_device_get_info(target.device, &info), error))
      return false;
    deviceName = info.name;
    return true;
  }

  bool call(std::string &error) {
    return succeeded(winnow_call_device_by_index(
                         target.executable, target.functionIndex,
                         inputs.data(), inputs.size(), results.data(),
                         results.size(), /*stream=*/nullptr),
                     error);
  }

  /// `calls` timings of `work`, each optionally after an L2 flush that the
  /// events do not include.
  template <typename Work>
  bool time(int calls, bool coldL2, Work &&work, std::vector<double> &micros,
            std::string &error) {
    for (int i = 0; i < calls; ++i) {
      float milliseconds = 0;
      if ((coldL2 &&
           !succeeded(winnow_device_flush_l2(target.device, nullptr), error)) ||
          !succeeded(winnow_event_record(start.get(), nullptr), error) ||
          !work(error) ||
          !succeeded(winnow_event_record(stop.get(), nullptr), error) ||
          !succeeded(winnow_event_elapsed_ms(start.get(), stop.get(),
                                             &milliseconds),
                     error))
        return false;
      micros.push_back(1000.0 * milliseconds);
    }
    return true;
  }
};

bool benchOnDevice(const BenchTarget &target, int calls, std::ostream &out,
                   std::ostream &err, std::string &error) {
  DeviceBench bench(target);
  if (!bench.prepare(error) || !bench.call(error)) // warm-up: pools, kernels
    return false;
  auto direct = [&](std::string &e) { return bench.call(e); };

  GraphPtr graph;
  winnow_graph *rawGraph = nullptr;
  std::string graphError;
  if (succeeded(winnow_graph_capture(target.executable, target.functionIndex,
                                     bench.inputs.data(), bench.inputs.size(),
                                     bench.results.data(),
                                     bench.results.size(), &rawGraph),
                graphError))
    graph.reset(rawGraph);
  else
    err << "winnow-run: warning: graph replay not measured: " << graphError
        << "\n";
  auto replay = [&](std::string &e) {
    return succeeded(winnow_graph_launch(graph.get(), nullptr), e);
  };
  // Warm-up replay: the graph's first launch uploads it.
  if (graph && !replay(error))
    return false;

  // The targets' condition first.
  struct Condition {
    bool coldL2;
    bool graph;
  };
  const Condition conditions[] = {
      {true, true}, {true, false}, {false, true}, {false, false}};
  for (const Condition &condition : conditions) {
    if (condition.graph && !graph)
      continue;
    std::vector<double> micros;
    bool timed = condition.graph
                     ? bench.time(calls, condition.coldL2, replay, micros, error)
                     : bench.time(calls, condition.coldL2, direct, micros,
                                  error);
    if (!timed)
      return false;
    printStatistics(out, "bench: ", micros,
                    " (CUDA events on " + bench.deviceName +
                        ", device tensors, " +
                        (condition.coldL2 ? "cold L2" : "warm L2") + ", " +
                        (condition.graph ? "graph replay" : "direct call") +
                        ")");
  }
  return true;
}

} // namespace

bool runBench(const BenchTarget &target, int calls, std::ostream &out,
              std::ostream &err, std::string &error) {
  winnow_device_info info;
  if (!succeeded(winnow_device_get_info(target.device, &info), error))
    return false;
  if (info.kind == WINNOW_DEVICE_KIND_CUDA)
    return benchOnDevice(target, calls, out, err, error);
  return benchOnHost(target, calls, out);
}

bool canBenchLaunches(winnow_device *device, std::string &error) {
  winnow_device_info info;
  if (!succeeded(winnow_device_get_info(device, &info), error))
    return false;
  if (info.kind == WINNOW_DEVICE_KIND_CUDA)
    return true;
  error = "--bench-launches times kernel launches and needs a CUDA device "
          "(--device=cuda), not '" +
          std::string(info.name) + "'";
  return false;
}

bool runLaunchBench(const BenchTarget &target, int calls, std::ostream &out,
                    std::string &error) {
  if (!canBenchLaunches(target.device, error))
    return false;
  DeviceBench bench(target);
  if (!bench.prepare(error))
    return false;
  size_t count = 0;
  std::vector<winnow_launch_timing> timings;
  auto timedCall = [&] {
    return succeeded(winnow_call_device_timed(
                         target.executable, target.functionIndex,
                         bench.inputs.data(), bench.inputs.size(),
                         bench.results.data(), bench.results.size(), nullptr,
                         timings.data(), timings.size(), &count),
                     error);
  };
  // Warm-up (pools, kernels), which also learns how many launches a call
  // makes.
  if (!timedCall())
    return false;
  timings.resize(count);
  const size_t launches = count;

  // micros[k] holds launch k of every call.
  std::vector<std::vector<double>> micros(launches);
  for (int i = 0; i < calls; ++i) {
    if (!succeeded(winnow_device_flush_l2(target.device, nullptr), error) ||
        !timedCall())
      return false;
    if (count != launches) {
      error = "the call made " + std::to_string(count) +
              " kernel launches, but the warm-up call made " +
              std::to_string(launches);
      return false;
    }
    for (size_t k = 0; k < launches; ++k)
      micros[k].push_back(1000.0 * timings[k].milliseconds);
  }
  out << "launches: " << calls << " calls, " << launches
      << " launches per call (CUDA events around each launch on "
      << bench.deviceName << ", L2 flushed before each call)\n";
  double total = 0;
  for (size_t k = 0; k < launches; ++k) {
    const winnow_launch_timing &launch = timings[k];
    double med = median(micros[k]);
    total += med;
    char line[400];
    std::snprintf(line, sizeof(line),
                  "  launch %zu %s grid %ux%ux%u block %ux%ux%u smem %u: "
                  "median %.2f us, min %.2f us",
                  k, launch.kernel ? launch.kernel : "?", launch.grid[0],
                  launch.grid[1], launch.grid[2], launch.block[0],
                  launch.block[1], launch.block[2],
                  launch.dynamic_shared_bytes, med,
                  *std::min_element(micros[k].begin(), micros[k].end()));
    out << line << "\n";
  }
  char line[80];
  std::snprintf(line, sizeof(line), "  sum of medians %.2f us", total);
  out << line << "\n";
  return true;
}

} // namespace winnow::run
