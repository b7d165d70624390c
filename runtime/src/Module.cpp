//===- Module.cpp - Loading artifacts and querying their manifest --------===//

#include "Module.h"
#include "Status.h"
#include "TensorChecks.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace winnow::runtime {

namespace {

winnow_status loadFromBytes(std::vector<uint8_t> bytes,
                            winnow_module **outModule) {
  auto module = std::make_unique<winnow_module_s>();
  module->bytes = std::move(bytes);
  WINNOW_RETURN_IF_ERROR(
      parseArtifact(module->bytes.data(), module->bytes.size(),
                    module->formatMajor, module->formatMinor, module->producer,
                    module->sourceName, module->functions, module->targets));
  *outModule = module.release();
  return WINNOW_OK;
}

winnow_status fileError(const char *action, const char *path, int error) {
  winnow_status_code_t code =
      error == ENOENT   ? WINNOW_STATUS_NOT_FOUND
      : error == ENOMEM ? WINNOW_STATUS_OUT_OF_MEMORY
      : error == EACCES || error == EISDIR || error == ENOTDIR
          ? WINNOW_STATUS_INVALID_ARGUMENT
          : WINNOW_STATUS_UNAVAILABLE;
  return makeStatus(code, std::string("cannot ") + action + " artifact '" +
                              path + "': " + std::strerror(error));
}

/// Reads a whole regular file; closes the descriptor on every path.
winnow_status readFile(const char *path, std::vector<uint8_t> &bytes) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fileError("open", path, errno);
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat info;
  if (::fstat(fd, &info) != 0)
    return fileError("stat", path, errno);
  if (S_ISDIR(info.st_mode))
    return fileError("read", path, EISDIR);
  if (S_ISREG(info.st_mode))
    bytes.reserve(static_cast<size_t>(info.st_size));
  // Read until EOF rather than trusting st_size, so pipes and files that
  // change size still give exactly what was read.
  uint8_t chunk[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return fileError("read", path, errno);
    }
    if (n == 0)
      break;
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  return WINNOW_OK;
}

winnow_status checkFunctionIndex(const winnow_module *module, size_t index) {
  if (index >= module->functions.size())
    return makeStatus(WINNOW_STATUS_OUT_OF_RANGE,
                      "function index " + std::to_string(index) +
                          " is out of range (the module has " +
                          std::to_string(module->functions.size()) +
                          " functions)");
  return WINNOW_OK;
}

void fillSpec(const TensorSpec &spec, winnow_tensor_spec *out) {
  out->name = spec.name.c_str();
  out->dtype = spec.dtype;
  out->rank = spec.shape.size();
  out->shape = spec.shape.empty() ? nullptr : spec.shape.data();
  out->count_result = spec.countResult;
  out->ragged_axis = spec.raggedAxis;
  out->dim_symbols = spec.dimSymbols.empty() ? nullptr : spec.dimSymbols.data();
}

winnow_status getSpec(const winnow_module *module, size_t functionIndex,
                      size_t index, bool isResult,
                      winnow_tensor_spec *outSpec) {
  WINNOW_CHECK_ARG(module);
  WINNOW_CHECK_ARG(outSpec);
  WINNOW_RETURN_IF_ERROR(checkFunctionIndex(module, functionIndex));
  const FunctionSpec &function = module->functions[functionIndex];
  const std::vector<TensorSpec> &specs =
      isResult ? function.results : function.inputs;
  if (index >= specs.size())
    return makeStatus(WINNOW_STATUS_OUT_OF_RANGE,
                      std::string(isResult ? "result" : "input") + " index " +
                          std::to_string(index) +
                          " is out of range (function '" + function.name +
                          "' has " + std::to_string(specs.size()) +
                          (isResult ? " results)" : " inputs)"));
  fillSpec(specs[index], outSpec);
  return WINNOW_OK;
}

/// OUT_OF_RANGE for a result index past the function's results.
winnow_status checkResultIndex(const FunctionSpec &function, size_t index) {
  if (index >= function.results.size())
    return makeStatus(WINNOW_STATUS_OUT_OF_RANGE,
                      "result index " + std::to_string(index) +
                          " is out of range (function '" + function.name +
                          "' has " + std::to_string(function.results.size()) +
                          " results)");
  return WINNOW_OK;
}

} // namespace

std::string formatSpecType(const TensorSpec &spec, const FunctionSpec &function,
                           const int64_t *symbolValues) {
  std::string text;
  for (size_t d = 0; d < spec.shape.size(); ++d) {
    int32_t symbol = spec.symbolOf(d);
    if (symbol < 0)
      text += std::to_string(spec.shape[d]);
    else if (symbolValues && symbolValues[symbol] >= 0)
      text += std::to_string(symbolValues[symbol]);
    else if (static_cast<size_t>(symbol) < function.symbols.size())
      text += function.symbols[symbol].name;
    else
      text += "?";
    text += 'x';
  }
  const char *name = winnow_dtype_name(spec.dtype);
  return text + (name ? name : "<invalid dtype>");
}

std::string describeTarget(const TargetSpec &target, size_t index) {
  std::string text = "target " + std::to_string(index);
  if (target.kind == WINNOW_TARGET_KIND_UNKNOWN)
    return text + " (unknown kind " + std::to_string(target.unionType) + ")";
  if (target.kind == WINNOW_TARGET_KIND_CPU) {
    text += " (cpu " + target.triple;
    if (!target.cpu.empty())
      text += ", " + target.cpu;
    return text + ")";
  }
  text += " (cuda " + target.triple + ",";
  for (const std::string &arch : target.cubinArchitectures)
    text += " " + arch;
  if (!target.ptxArchitecture.empty())
    text += (target.cubinArchitectures.empty() ? " ptx " : " + ptx ") +
            target.ptxArchitecture;
  return text + ")";
}

winnow_status findFunction(const winnow_module_s &module, const char *name,
                           size_t &index) {
  for (size_t i = 0; i < module.functions.size(); ++i) {
    if (module.functions[i].name == name) {
      index = i;
      return WINNOW_OK;
    }
  }
  std::string available;
  for (const FunctionSpec &function : module.functions)
    available += (available.empty() ? "" : ", ") + function.name;
  return makeStatus(WINNOW_STATUS_NOT_FOUND,
                    std::string("function '") + name +
                        "' not found in the module (available: " +
                        (available.empty() ? "none" : available) + ")");
}

} // namespace winnow::runtime

using namespace winnow::runtime;

extern "C" {

winnow_status winnow_module_load_file(const char *path,
                                      winnow_module **out_module) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(path);
    WINNOW_CHECK_ARG(out_module);
    std::vector<uint8_t> bytes;
    WINNOW_RETURN_IF_ERROR(readFile(path, bytes));
    winnow_status status = loadFromBytes(std::move(bytes), out_module);
    if (status == WINNOW_OK || status == outOfMemoryStatus())
      return status;
    // Say which file was bad; the reader does not know the path.
    winnow_status withPath =
        makeStatus(winnow_status_code(status),
                   std::string(path) + ": " + winnow_status_message(status));
    winnow_status_free(status);
    return withPath;
  });
}

winnow_status winnow_module_load_memory(const void *data, size_t size,
                                        winnow_module **out_module) {
  return guardApi([&]() -> winnow_status {
    if (size != 0)
      WINNOW_CHECK_ARG(data);
    WINNOW_CHECK_ARG(out_module);
    const auto *begin = static_cast<const uint8_t *>(data);
    return loadFromBytes(std::vector<uint8_t>(begin, begin + size), out_module);
  });
}

void winnow_module_retain(winnow_module *module) {
  if (module)
    module->refs.retain();
}

void winnow_module_release(winnow_module *module) {
  if (module && module->refs.release())
    delete module;
}

winnow_status winnow_module_get_info(const winnow_module *module,
                                     winnow_module_info *out_info) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(module);
    WINNOW_CHECK_ARG(out_info);
    out_info->format_major = module->formatMajor;
    out_info->format_minor = module->formatMinor;
    out_info->producer = module->producer.c_str();
    out_info->source_name = module->sourceName.c_str();
    out_info->num_functions = module->functions.size();
    out_info->num_targets = module->targets.size();
    return WINNOW_OK;
  });
}

winnow_status winnow_module_get_target(const winnow_module *module,
                                       size_t target_index,
                                       winnow_target_info *out_info) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(module);
    WINNOW_CHECK_ARG(out_info);
    if (target_index >= module->targets.size())
      return makeStatus(WINNOW_STATUS_OUT_OF_RANGE,
                        "target index " + std::to_string(target_index) +
                            " is out of range (the module has " +
                            std::to_string(module->targets.size()) +
                            " targets)");
    const TargetSpec &target = module->targets[target_index];
    out_info->kind = target.kind;
    out_info->triple = target.triple.c_str();
    out_info->cpu = target.cpu.c_str();
    out_info->binary_size = target.binarySize;
    out_info->cuda_abi_version = target.cudaAbiVersion;
    out_info->num_cubin_architectures = target.cubinArchitectures.size();
    out_info->cubin_architectures =
        target.cubinArchitectures.empty()
            ? nullptr
            : target.cubinArchitecturePointers.data();
    out_info->ptx_architecture = target.ptxArchitecture.c_str();
    out_info->num_kernels = target.kernels.size();
    out_info->kernels =
        target.kernels.empty() ? nullptr : target.kernelPointers.data();
    out_info->workspace_bytes = target.workspaceBytes.data();
    return WINNOW_OK;
  });
}

winnow_status winnow_module_get_function(const winnow_module *module,
                                         size_t function_index,
                                         winnow_function_info *out_info) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(module);
    WINNOW_CHECK_ARG(out_info);
    WINNOW_RETURN_IF_ERROR(checkFunctionIndex(module, function_index));
    const FunctionSpec &function = module->functions[function_index];
    out_info->name = function.name.c_str();
    out_info->num_inputs = function.inputs.size();
    out_info->num_results = function.results.size();
    out_info->num_symbols = function.symbols.size();
    return WINNOW_OK;
  });
}

winnow_status winnow_module_get_symbol(const winnow_module *module,
                                       size_t function_index,
                                       size_t symbol_index,
                                       winnow_symbol_info *out_info) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(module);
    WINNOW_CHECK_ARG(out_info);
    WINNOW_RETURN_IF_ERROR(checkFunctionIndex(module, function_index));
    const FunctionSpec &function = module->functions[function_index];
    if (symbol_index >= function.symbols.size())
      return makeStatus(WINNOW_STATUS_OUT_OF_RANGE,
                        "symbol index " + std::to_string(symbol_index) +
                            " is out of range (function '" + function.name +
                            "' has " + std::to_string(function.symbols.size()) +
                            " symbols)");
    const SymbolSpec &symbol = function.symbols[symbol_index];
    out_info->name = symbol.name.c_str();
    out_info->bound = symbol.bound;
    return WINNOW_OK;
  });
}

winnow_status winnow_module_bind_symbols(const winnow_module *module,
                                         size_t function_index,
                                         const winnow_tensor *inputs,
                                         size_t num_inputs,
                                         int64_t *out_symbol_values) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(module);
    WINNOW_RETURN_IF_ERROR(checkFunctionIndex(module, function_index));
    const FunctionSpec &function = module->functions[function_index];
    if (!function.symbols.empty())
      WINNOW_CHECK_ARG(out_symbol_values);
    // Bound into a copy: out-parameters are written only on success.
    std::vector<int64_t> values(function.symbols.size(), -1);
    WINNOW_RETURN_IF_ERROR(
        bindSymbols(function, inputs, num_inputs, values.data()));
    std::copy(values.begin(), values.end(), out_symbol_values);
    return WINNOW_OK;
  });
}

winnow_status winnow_module_get_result_shape(const winnow_module *module,
                                             size_t function_index,
                                             size_t result_index,
                                             const int64_t *symbol_values,
                                             int64_t *out_shape) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(module);
    WINNOW_RETURN_IF_ERROR(checkFunctionIndex(module, function_index));
    const FunctionSpec &function = module->functions[function_index];
    WINNOW_RETURN_IF_ERROR(checkResultIndex(function, result_index));
    const TensorSpec &result = function.results[result_index];
    if (!result.shape.empty())
      WINNOW_CHECK_ARG(out_shape);
    if (!result.dimSymbols.empty())
      WINNOW_CHECK_ARG(symbol_values);
    for (size_t d = 0; d < result.dimSymbols.size(); ++d) {
      int32_t index = result.dimSymbols[d];
      if (index < 0)
        continue;
      const SymbolSpec &symbol = function.symbols[index];
      if (symbol_values[index] < 0 || symbol_values[index] > symbol.bound)
        return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                          "function '" + function.name + "': value " +
                              std::to_string(symbol_values[index]) + " of " +
                              symbol.name + " is outside [0, " +
                              std::to_string(symbol.bound) + "]");
    }
    for (size_t d = 0; d < result.shape.size(); ++d) {
      int32_t index = result.symbolOf(d);
      out_shape[d] = index < 0 ? result.shape[d] : symbol_values[index];
    }
    return WINNOW_OK;
  });
}

winnow_status winnow_module_find_function(const winnow_module *module,
                                          const char *name,
                                          size_t *out_function_index) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(module);
    WINNOW_CHECK_ARG(name);
    WINNOW_CHECK_ARG(out_function_index);
    return findFunction(*module, name, *out_function_index);
  });
}

winnow_status winnow_module_get_input(const winnow_module *module,
                                      size_t function_index, size_t input_index,
                                      winnow_tensor_spec *out_spec) {
  return guardApi([&]() {
    return getSpec(module, function_index, input_index, false, out_spec);
  });
}

winnow_status winnow_module_get_result(const winnow_module *module,
                                       size_t function_index,
                                       size_t result_index,
                                       winnow_tensor_spec *out_spec) {
  return guardApi([&]() {
    return getSpec(module, function_index, result_index, true, out_spec);
  });
}

} // extern "C"
