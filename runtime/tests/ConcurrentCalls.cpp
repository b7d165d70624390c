//===- ConcurrentCalls.cpp - Many threads calling one loaded artifact ----===//
//
// Usage: winnow-concurrent-calls ARTIFACT.wnn [--threads T] [--calls N]
//                                [--call-threads C]
//
// Loads and binds the artifact once on the CPU, computes every function's
// results once on seeded inputs (floats in [-1, 1), integers in [0, 8),
// booleans alternating), then lets T threads call every function N times
// each on the same executable, with their own output buffers, and checks
// every result is bit-identical to the first. The runtime promises this
// (winnow_runtime.h: concurrent calls on one executable); under
// ThreadSanitizer (tools/sanitize.sh thread) the same run checks that no
// access races. Exit status 0 when every call succeeded identically.
//
// The reference results are computed on one thread; the concurrent calls
// run with C threads each (winnow_executable_set_num_threads, default 2).
// The callers share the runtime's one pool: it may start at most C - 1
// workers however many callers there are, so the process never holds more
// than its callers, the pool and this tool's own threads; a monitor thread
// counts the process's threads (/proc/self/task) throughout and the tool
// fails if the count ever exceeds that.
//
//===----------------------------------------------------------------------===//

#include "TestArtifacts.h"
#include "TestHandles.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <dirent.h>

using namespace winnow::testing;

namespace {

using Bytes = std::vector<uint8_t>;

struct Call {
  size_t function = 0;
  std::vector<std::vector<int64_t>> shapes;
  std::vector<winnow_dtype> dtypes;
  std::vector<Bytes> inputs;
  std::vector<size_t> resultBytes;
  std::vector<Bytes> expected;
  size_t numInputs = 0;
};

Bytes seededInput(winnow_dtype dtype, size_t count, std::mt19937 &rng) {
  Bytes bytes(count * winnow_dtype_element_size(dtype));
  std::uniform_real_distribution<float> real(-1.0f, 1.0f);
  for (size_t i = 0; i < count; ++i) {
    switch (dtype) {
    case WINNOW_DTYPE_F32: {
      float v = real(rng);
      std::memcpy(&bytes[i * 4], &v, 4);
      break;
    }
    case WINNOW_DTYPE_F64: {
      double v = real(rng);
      std::memcpy(&bytes[i * 8], &v, 8);
      break;
    }
    case WINNOW_DTYPE_F16:
    case WINNOW_DTYPE_BF16: {
      // Small normal halves/bfloat16s: sign, exponent near 1, random mantissa.
      uint16_t v = dtype == WINNOW_DTYPE_F16
                       ? uint16_t(0x3800 | (rng() & 0x03ff) | (rng() & 0x8000))
                       : uint16_t(0x3f00 | (rng() & 0x007f) | (rng() & 0x8000));
      std::memcpy(&bytes[i * 2], &v, 2);
      break;
    }
    case WINNOW_DTYPE_I1:
      bytes[i] = uint8_t(i % 2);
      break;
    default: {
      int64_t v = int64_t(rng() % 8);
      std::memcpy(&bytes[i * winnow_dtype_element_size(dtype)], &v,
                  winnow_dtype_element_size(dtype)); // little-endian
    }
    }
  }
  return bytes;
}

bool call(winnow_executable *executable, const Call &plan,
          std::vector<Bytes> &results, std::string &error) {
  std::vector<winnow_tensor> tensors;
  std::vector<Bytes> inputs = plan.inputs; // the API takes non-const data
  results.assign(plan.resultBytes.size(), Bytes());
  for (size_t i = 0; i < plan.shapes.size(); ++i) {
    bool isInput = i < plan.numInputs;
    Bytes &buffer = isInput ? inputs[i] : results[i - plan.numInputs];
    if (!isInput)
      buffer.assign(plan.resultBytes[i - plan.numInputs], 0xcd);
    tensors.push_back({plan.dtypes[i], plan.shapes[i].size(),
                       plan.shapes[i].data(), buffer.data(), buffer.size()});
  }
  StatusResult status(winnow_call_by_index(
      executable, plan.function, tensors.data(), plan.numInputs,
      tensors.data() + plan.numInputs, tensors.size() - plan.numInputs));
  if (!status.ok())
    error = status.message();
  return status.ok();
}

/// The threads of this process, or -1.
int processThreads() {
  DIR *tasks = opendir("/proc/self/task");
  if (!tasks)
    return -1;
  int count = 0;
  while (dirent *entry = readdir(tasks))
    if (entry->d_name[0] != '.')
      ++count;
  closedir(tasks);
  return count;
}

} // namespace

int main(int argc, char **argv) {
  const char *path = nullptr;
  int threads = 8, calls = 50, callThreads = 2;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (arg == "--calls" && i + 1 < argc)
      calls = std::atoi(argv[++i]);
    else if (arg == "--call-threads" && i + 1 < argc)
      callThreads = std::atoi(argv[++i]);
    else if (arg[0] != '-' && !path)
      path = argv[i];
    else
      path = nullptr, i = argc;
  }
  if (!path || threads < 1 || calls < 1 || callThreads < 1) {
    std::fprintf(stderr,
                 "usage: %s ARTIFACT.wnn [--threads T] [--calls N] "
                 "[--call-threads C]\n",
                 argv[0]);
    return 2;
  }
  winnow_module *rawModule = nullptr;
  StatusResult loaded(winnow_module_load_file(path, &rawModule));
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.message().c_str());
    return 1;
  }
  ModulePtr module(rawModule);
  winnow_device *rawDevice = nullptr;
  StatusResult created(winnow_device_create("cpu", &rawDevice));
  DevicePtr device(rawDevice);
  winnow_executable *rawExecutable = nullptr;
  StatusResult bound(
      winnow_executable_create(module.get(), device.get(), &rawExecutable));
  if (!created.ok() || !bound.ok()) {
    std::fprintf(stderr, "%s\n", bound.message().c_str());
    return 1;
  }
  ExecutablePtr executable(rawExecutable);
  StatusResult serial(winnow_executable_set_num_threads(executable.get(), 1));
  if (!serial.ok()) {
    std::fprintf(stderr, "%s\n", serial.message().c_str());
    return 1;
  }

  winnow_module_info info;
  StatusResult gotInfo(winnow_module_get_info(module.get(), &info));
  std::mt19937 rng(2026);
  std::vector<Call> plans(info.num_functions);
  for (size_t f = 0; f < info.num_functions; ++f) {
    Call &plan = plans[f];
    plan.function = f;
    winnow_function_info fn;
    StatusResult gotFunction(winnow_module_get_function(module.get(), f, &fn));
    plan.numInputs = fn.num_inputs;
    for (size_t i = 0; i < fn.num_inputs + fn.num_results; ++i) {
      winnow_tensor_spec spec;
      StatusResult gotSpec(
          i < fn.num_inputs
              ? winnow_module_get_input(module.get(), f, i, &spec)
              : winnow_module_get_result(module.get(), f, i - fn.num_inputs,
                                         &spec));
      plan.shapes.emplace_back(spec.shape, spec.shape + spec.rank);
      plan.dtypes.push_back(spec.dtype);
      size_t count = 1;
      for (int64_t extent : plan.shapes.back())
        count *= size_t(extent);
      if (i < fn.num_inputs)
        plan.inputs.push_back(seededInput(spec.dtype, count, rng));
      else
        plan.resultBytes.push_back(count *
                                   winnow_dtype_element_size(spec.dtype));
    }
    std::string error;
    if (!call(executable.get(), plan, plan.expected, error)) {
      std::fprintf(stderr, "function %s: %s\n", fn.name, error.c_str());
      return 1;
    }
  }

  StatusResult threaded(winnow_executable_set_num_threads(
      executable.get(), static_cast<size_t>(callThreads)));
  if (!threaded.ok()) {
    std::fprintf(stderr, "%s\n", threaded.message().c_str());
    return 1;
  }
  winnow_thread_stats before{};
  StatusResult gotBefore(winnow_get_thread_stats(&before));
  // The main thread, the callers, the monitor and the pool (workers live
  // as long as the process, so ones started earlier count too).
  int threadBound =
      2 + threads + std::max<int>(int(before.pool_threads), callThreads - 1);
  std::atomic<bool> running{true};
  std::atomic<int> mostThreads{0};
  std::thread monitor([&] {
    while (running.load()) {
      int now = processThreads();
      if (now > mostThreads.load())
        mostThreads.store(now);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });

  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (int n = 0; n < calls; ++n)
        for (const Call &plan : plans) {
          std::vector<Bytes> results;
          std::string error;
          if (!call(executable.get(), plan, results, error) ||
              results != plan.expected)
            ++failures;
        }
    });
  for (std::thread &worker : workers)
    worker.join();
  running.store(false);
  monitor.join();
  winnow_thread_stats after{};
  StatusResult gotAfter(winnow_get_thread_stats(&after));
  std::printf("%d threads x %d calls of %zu functions: %d failures\n", threads,
              calls, plans.size(), failures.load());
  bool oversubscribed = mostThreads.load() > threadBound;
  std::printf("calls of %d threads: pool of %zu, %llu loops split, %llu "
              "ranges on pool threads; at most %d process threads (bound "
              "%d)%s\n",
              callThreads, after.pool_threads,
              static_cast<unsigned long long>(after.parallel_loops -
                                              before.parallel_loops),
              static_cast<unsigned long long>(after.ranges_on_pool_threads -
                                              before.ranges_on_pool_threads),
              mostThreads.load(), threadBound,
              oversubscribed ? ": OVERSUBSCRIBED" : "");
  return failures || oversubscribed ? 1 : 0;
}
