//===- RunTool.cpp - winnow-run: list or call an artifact's function -----===//
//
// Everything is checked before code runs: the manifest is read without
// binding (so --list never maps native code), inputs are parsed and
// converted against the manifest, and output flags are validated before the
// call. The runtime then checks the call again on its side.
//
//===----------------------------------------------------------------------===//

#include "RunTool.h"
#include "StatusMessage.h"
#include "Bench.h"
#include "HostTensor.h"
#include "Printing.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <ostream>

namespace winnow::run {

namespace {

struct ModuleDeleter {
  void operator()(winnow_module *m) const { winnow_module_release(m); }
};
struct DeviceDeleter {
  void operator()(winnow_device *d) const { winnow_device_release(d); }
};
struct ExecutableDeleter {
  void operator()(winnow_executable *e) const { winnow_executable_release(e); }
};

bool listModule(const winnow_module *module, std::ostream &out,
                std::string &error) {
  winnow_module_info info;
  if (!succeeded(winnow_module_get_info(module, &info), error))
    return false;
  out << "format: " << info.format_major << "." << info.format_minor << "\n";
  out << "producer: " << info.producer << "\n";
  out << "source: " << info.source_name << "\n";
  out << "targets:" << (info.num_targets ? "" : " none") << "\n";
  for (size_t i = 0; i < info.num_targets; ++i) {
    winnow_target_info target;
    if (!succeeded(winnow_module_get_target(module, i, &target), error))
      return false;
    out << "  [" << i << "] ";
    if (target.kind == WINNOW_TARGET_KIND_CPU) {
      out << "cpu " << target.triple
          << (target.cpu[0] ? std::string(" (cpu ") + target.cpu + ")" : "")
          << ", " << target.binary_size << " bytes\n";
    } else if (target.kind == WINNOW_TARGET_KIND_CUDA) {
      out << "cuda";
      for (size_t a = 0; a < target.num_cubin_architectures; ++a)
        out << " " << target.cubin_architectures[a];
      if (target.ptx_architecture[0])
        out << (target.num_cubin_architectures ? " + ptx " : " ptx ")
            << target.ptx_architecture;
      out << ", host " << target.triple
          << (target.cpu[0] ? std::string(" (cpu ") + target.cpu + ")" : "")
          << ", host ABI " << target.cuda_abi_version << ", "
          << target.binary_size << " bytes\n";
      out << "      kernels:";
      for (size_t k = 0; k < target.num_kernels; ++k)
        out << (k ? ", " : " ") << target.kernels[k];
      out << (target.num_kernels ? "\n" : " none\n");
      out << "      workspace bytes per call:";
      for (size_t f = 0; f < info.num_functions; ++f) {
        winnow_function_info function;
        if (!succeeded(winnow_module_get_function(module, f, &function), error))
          return false;
        int64_t bytes = target.workspace_bytes[f];
        out << (f ? ", " : " ") << function.name << " "
            << (bytes < 0 ? std::string("unknown") : std::to_string(bytes));
      }
      out << "\n";
    } else {
      out << "unknown target kind, " << target.binary_size << " bytes\n";
    }
  }
  out << "functions:" << (info.num_functions ? "" : " none") << "\n";
  for (size_t i = 0; i < info.num_functions; ++i) {
    std::string signature, symbols;
    if (!formatSignature(module, i, signature, error) ||
        !formatSymbols(module, i, symbols, error))
      return false;
    out << "  " << signature << "\n";
    if (!symbols.empty())
      out << "    symbols: " << symbols << "\n";
  }
  return true;
}

bool selectFunction(const winnow_module *module, const std::string &name,
                    size_t &index, std::string &error) {
  if (!name.empty())
    return succeeded(winnow_module_find_function(module, name.c_str(), &index),
                     error);
  winnow_module_info info;
  if (!succeeded(winnow_module_get_info(module, &info), error))
    return false;
  if (info.num_functions == 1) {
    index = 0;
    return true;
  }
  std::string names;
  for (size_t i = 0; i < info.num_functions; ++i) {
    winnow_function_info fn;
    if (!succeeded(winnow_module_get_function(module, i, &fn), error))
      return false;
    names += (i ? ", " : "") + std::string(fn.name);
  }
  error = "the artifact has " + std::to_string(info.num_functions) +
          " functions" + (names.empty() ? "" : " (" + names + ")") +
          "; choose one with --function=NAME";
  return false;
}

/// "x: 2x3xf32, y: batchxi32" for count mismatch messages.
std::string describeSpecs(const winnow_module *module, size_t functionIndex,
                          const std::vector<winnow_tensor_spec> &specs) {
  std::string text;
  for (const winnow_tensor_spec &spec : specs)
    text += (text.empty() ? "" : ", ") + std::string(spec.name) + ": " +
            formatSpecType(module, functionIndex, spec);
  return text.empty() ? "none" : text;
}

/// The shapes of the results of a call on `inputs`: the manifest's, with
/// dynamic extents at the values the inputs bind (checked by the runtime
/// as the call will check them, so a mismatch is reported before anything
/// is allocated or loaded).
bool resultShapes(const winnow_module *module, size_t functionIndex,
                  const std::vector<winnow_tensor_spec> &resultSpecs,
                  const std::vector<winnow_tensor> &inputs,
                  std::vector<std::vector<int64_t>> &shapes,
                  std::string &error) {
  winnow_function_info function;
  if (!succeeded(winnow_module_get_function(module, functionIndex, &function),
                 error))
    return false;
  std::vector<int64_t> values(function.num_symbols);
  if (function.num_symbols > 0 &&
      !succeeded(winnow_module_bind_symbols(module, functionIndex,
                                            inputs.data(), inputs.size(),
                                            values.data()),
                 error))
    return false;
  shapes.resize(resultSpecs.size());
  for (size_t i = 0; i < resultSpecs.size(); ++i) {
    shapes[i].resize(resultSpecs[i].rank);
    if (!succeeded(winnow_module_get_result_shape(module, functionIndex, i,
                                                  values.data(),
                                                  shapes[i].data()),
                   error))
      return false;
  }
  return true;
}

/// A file name for a result: its name with path-unsafe characters replaced.
std::string fileNameFor(const std::string &name) {
  std::string result = name;
  for (char &c : result) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!safe)
      c = '_';
  }
  if (result.empty() || result == "." || result == "..")
    result = "result";
  return result;
}

bool printThreadStats(const winnow_executable *executable, std::ostream &out,
                      std::string &error) {
  size_t threads = 0;
  winnow_thread_stats stats{};
  if (!succeeded(winnow_executable_get_num_threads(executable, &threads),
                 error) ||
      !succeeded(winnow_get_thread_stats(&stats), error))
    return false;
  out << "threads: " << threads << " per call; pool " << stats.pool_threads
      << "; loops: " << stats.parallel_loops << " parallel, "
      << stats.serial_loops << " serial; ranges on pool threads "
      << stats.ranges_on_pool_threads << "\n";
  return true;
}

bool run(const Options &options, std::ostream &out, std::ostream &err,
         std::string &error) {
  winnow_module *rawModule = nullptr;
  if (!succeeded(winnow_module_load_file(options.artifact.c_str(), &rawModule),
                 error))
    return false;
  std::unique_ptr<winnow_module, ModuleDeleter> module(rawModule);
  if (options.list)
    return listModule(module.get(), out, error);

  size_t functionIndex = 0;
  if (!selectFunction(module.get(), options.function, functionIndex, error))
    return false;
  winnow_function_info function;
  if (!succeeded(
          winnow_module_get_function(module.get(), functionIndex, &function),
          error))
    return false;
  std::string functionLabel = "function '" + std::string(function.name) + "'";
  std::vector<winnow_tensor_spec> inputSpecs(function.num_inputs);
  std::vector<winnow_tensor_spec> resultSpecs(function.num_results);
  for (size_t i = 0; i < function.num_inputs; ++i)
    if (!succeeded(winnow_module_get_input(module.get(), functionIndex, i,
                                           &inputSpecs[i]),
                   error))
      return false;
  for (size_t i = 0; i < function.num_results; ++i)
    if (!succeeded(winnow_module_get_result(module.get(), functionIndex, i,
                                            &resultSpecs[i]),
                   error))
      return false;

  // Inputs.
  if (options.inputs.size() != inputSpecs.size()) {
    error = functionLabel + " takes " + std::to_string(inputSpecs.size()) +
            " inputs (" +
            describeSpecs(module.get(), functionIndex, inputSpecs) + "), but " +
            std::to_string(options.inputs.size()) + " --input flags were given";
    return false;
  }
  std::vector<HostTensor> inputs(inputSpecs.size());
  for (size_t i = 0; i < inputSpecs.size(); ++i) {
    std::string what = functionLabel + " input " + std::to_string(i) + " '" +
                       inputSpecs[i].name + "'";
    if (!parseInput(options.inputs[i], inputSpecs[i], what, inputs[i], error))
      return false;
  }
  std::vector<winnow_tensor> inputViews;
  for (HostTensor &tensor : inputs)
    inputViews.push_back(tensor.view());
  std::vector<std::vector<int64_t>> shapes;
  if (!resultShapes(module.get(), functionIndex, resultSpecs, inputViews,
                    shapes, error))
    return false;

  // Output flags, checked before running anything.
  if (!options.outputs.empty() && !options.outputDir.empty()) {
    error = "--output and --output-dir cannot be combined";
    return false;
  }
  std::vector<std::string> outputPaths;
  if (!options.outputs.empty()) {
    if (options.outputs.size() != resultSpecs.size()) {
      error = functionLabel + " has " + std::to_string(resultSpecs.size()) +
              " results (" +
              describeSpecs(module.get(), functionIndex, resultSpecs) +
              "), but " + std::to_string(options.outputs.size()) +
              " --output flags were given";
      return false;
    }
    for (const std::string &output : options.outputs) {
      if (output.size() < 2 || output[0] != '@') {
        error = "--output expects '@path.npy', got '" + output + "'";
        return false;
      }
      outputPaths.push_back(output.substr(1));
    }
  } else if (!options.outputDir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.outputDir, ec);
    if (ec) {
      error = "cannot create output directory '" + options.outputDir +
              "': " + ec.message();
      return false;
    }
    std::vector<std::string> used;
    for (size_t i = 0; i < resultSpecs.size(); ++i) {
      std::string file = fileNameFor(resultSpecs[i].name);
      if (std::find(used.begin(), used.end(), file) != used.end())
        file += "_" + std::to_string(i);
      used.push_back(file);
      outputPaths.push_back(
          (std::filesystem::path(options.outputDir) / (file + ".npy"))
              .string());
    }
  }

  // Bind (this is where native code is loaded) and call.
  winnow_device *rawDevice = nullptr;
  if (!succeeded(winnow_device_create(options.device.c_str(), &rawDevice),
                 error))
    return false;
  std::unique_ptr<winnow_device, DeviceDeleter> device(rawDevice);
  if (options.benchLaunches > 0 && !canBenchLaunches(device.get(), error))
    return false;
  winnow_executable *rawExecutable = nullptr;
  if (!succeeded(
          winnow_executable_create(module.get(), device.get(), &rawExecutable),
          error))
    return false;
  std::unique_ptr<winnow_executable, ExecutableDeleter> executable(
      rawExecutable);
  if (options.threadStats && options.device != "cpu") {
    error = "--thread-stats is for the cpu device";
    return false;
  }
  if (options.threads > 0 &&
      !succeeded(winnow_executable_set_num_threads(
                     executable.get(), static_cast<size_t>(options.threads)),
                 error))
    return false;

  std::vector<HostTensor> results;
  for (size_t i = 0; i < resultSpecs.size(); ++i)
    results.push_back(makeZeroTensor(resultSpecs[i].dtype, shapes[i]));
  std::vector<winnow_tensor> resultViews;
  for (HostTensor &tensor : results)
    resultViews.push_back(tensor.view());
  auto call = [&] {
    return succeeded(winnow_call_by_index(executable.get(), functionIndex,
                                          inputViews.data(), inputViews.size(),
                                          resultViews.data(),
                                          resultViews.size()),
                     error);
  };
  if (!call())
    return false;
  BenchTarget target{device.get(), executable.get(), functionIndex,
                     inputViews,   resultViews,      call};
  if (options.bench > 0 && !runBench(target, options.bench, out, err, error))
    return false;
  if (options.benchLaunches > 0 &&
      !runLaunchBench(target, options.benchLaunches, out, error))
    return false;
  if (options.threadStats && !printThreadStats(executable.get(), out, error))
    return false;

  for (size_t i = 0; i < results.size(); ++i) {
    int32_t countResult = resultSpecs[i].count_result;
    const HostTensor *counts =
        countResult >= 0 ? &results[static_cast<size_t>(countResult)] : nullptr;
    printResult(out, resultSpecs[i].name, results[i], counts,
                resultSpecs[i].ragged_axis, options.print);
  }
  for (size_t i = 0; i < outputPaths.size(); ++i)
    if (!writeResult(outputPaths[i], results[i], options.rawBf16, error))
      return false;
  return true;
}

} // namespace

int runTool(const Options &options, std::ostream &out, std::ostream &err) {
  std::string error;
  bool ok = false;
  try {
    ok = run(options, out, err, error);
  } catch (const std::bad_alloc &) {
    error = "out of memory";
  } catch (const std::exception &e) {
    error = e.what();
  }
  out.flush();
  if (ok)
    return 0;
  err << "winnow-run: error: " << error << "\n";
  return 1;
}

int runMain(int argc, const char *const *argv, std::ostream &out,
            std::ostream &err) {
  Options options;
  if (std::optional<int> exitCode =
          parseCommandLine(argc, argv, options, out, err))
    return *exitCode;
  return runTool(options, out, err);
}

} // namespace winnow::run
