//===- FuzzArtifact.cpp - Fuzz target: artifact bytes -> load -> call ----===//
//
// Loads the input as a .wnn artifact from memory and reads every manifest
// entry; when it loads, binds it on the CPU and calls every function with
// zero inputs (when they are small). A function with dynamic extents
// (format 2.1) is called twice, with every symbol at its bound and at 0;
// before that, on every loaded module, the symbols are bound from shape-only
// tensors at both values, which must succeed and give the result shapes
// the manifest implies, and one past a symbol's bound, which must fail.
// Built twice (test/fuzz/CMakeLists.txt):
//
//   winnow-fuzz-artifact          the input as it is. Any change to a good
//                                 artifact fails the SHA-256 digest, so the
//                                 fuzzer mostly exercises what comes before
//                                 it (size, identifier, version, verifier).
//   winnow-fuzz-artifact-resealed WINNOW_FUZZ_RESEAL: the digest is
//                                 recomputed first, so every change reaches
//                                 the manifest rules and the reading of the
//                                 code's symbols and ABI descriptors. Such a
//                                 module is never bound: its machine code
//                                 may be damaged behind a valid digest.
//
//===----------------------------------------------------------------------===//

#include "winnow/runtime/winnow_runtime.h"
#include "winnow/support/ArtifactDigest.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <vector>

namespace {

/// Frees a status; aborts when a call that cannot fail on a loaded module
/// (introspection) fails, which the fuzzer reports as a crash.
void mustSucceed(winnow_status status) {
  if (status != WINNOW_OK)
    std::abort();
}

bool ok(winnow_status status) {
  bool success = status == WINNOW_OK;
  winnow_status_free(status);
  return success;
}

/// The specs of function `f`'s inputs, then its results.
std::vector<winnow_tensor_spec> specsOf(const winnow_module *module, size_t f,
                                        const winnow_function_info &fn) {
  std::vector<winnow_tensor_spec> specs(fn.num_inputs + fn.num_results);
  for (size_t i = 0; i < specs.size(); ++i)
    mustSucceed(i < fn.num_inputs
                    ? winnow_module_get_input(module, f, i, &specs[i])
                    : winnow_module_get_result(module, f, i - fn.num_inputs,
                                               &specs[i]));
  return specs;
}

/// Shape-only tensors (no data) of the inputs of `f` with each symbol at
/// `values`; `shapes` keeps the extents alive.
std::vector<winnow_tensor>
inputsAt(const std::vector<winnow_tensor_spec> &specs, size_t numInputs,
         const std::vector<int64_t> &values,
         std::vector<std::vector<int64_t>> &shapes) {
  shapes.assign(numInputs, {});
  std::vector<winnow_tensor> inputs(numInputs);
  for (size_t i = 0; i < numInputs; ++i) {
    const winnow_tensor_spec &spec = specs[i];
    for (size_t d = 0; d < spec.rank; ++d)
      shapes[i].push_back(spec.dim_symbols && spec.dim_symbols[d] >= 0
                              ? values[spec.dim_symbols[d]]
                              : spec.shape[d]);
    inputs[i] = {spec.dtype, spec.rank, shapes[i].data(), nullptr, 0};
  }
  return inputs;
}

/// Checks what the loader promises about binding a function's symbols:
/// each at `values` (in [0, bound]) succeeds and gives those values and the
/// results' shapes; the first one past its bound is refused. Aborts on a
/// broken promise.
void checkSymbolsAt(const winnow_module *module, size_t f,
                    const winnow_function_info &fn,
                    const std::vector<winnow_tensor_spec> &specs,
                    const std::vector<int64_t> &values) {
  std::vector<std::vector<int64_t>> shapes;
  std::vector<winnow_tensor> inputs =
      inputsAt(specs, fn.num_inputs, values, shapes);
  std::vector<int64_t> got(fn.num_symbols, -1);
  mustSucceed(winnow_module_bind_symbols(module, f, inputs.data(),
                                         inputs.size(), got.data()));
  if (got != values)
    std::abort();
  for (size_t r = 0; r < fn.num_results; ++r) {
    const winnow_tensor_spec &spec = specs[fn.num_inputs + r];
    std::vector<int64_t> shape(spec.rank, -2);
    mustSucceed(winnow_module_get_result_shape(module, f, r, values.data(),
                                               shape.data()));
    for (size_t d = 0; d < spec.rank; ++d) {
      bool dynamic = spec.dim_symbols && spec.dim_symbols[d] >= 0;
      if (shape[d] != (dynamic ? values[spec.dim_symbols[d]] : spec.shape[d]))
        std::abort();
    }
  }
  // The first symbol one past its bound: its binding extent is refused.
  if (fn.num_symbols == 0)
    return;
  winnow_symbol_info symbol;
  mustSucceed(winnow_module_get_symbol(module, f, 0, &symbol));
  if (symbol.bound == std::numeric_limits<int64_t>::max())
    return;
  std::vector<int64_t> above = values;
  above[0] = symbol.bound + 1;
  inputs = inputsAt(specs, fn.num_inputs, above, shapes);
  winnow_status status = winnow_module_bind_symbols(module, f, inputs.data(),
                                                    inputs.size(), got.data());
  if (winnow_status_code(status) != WINNOW_STATUS_INVALID_ARGUMENT)
    std::abort();
  winnow_status_free(status);
}

void inspect(const winnow_module *module, winnow_module_info &info) {
  mustSucceed(winnow_module_get_info(module, &info));
  for (size_t t = 0; t < info.num_targets; ++t) {
    winnow_target_info target;
    mustSucceed(winnow_module_get_target(module, t, &target));
  }
  for (size_t f = 0; f < info.num_functions; ++f) {
    winnow_function_info fn;
    mustSucceed(winnow_module_get_function(module, f, &fn));
    size_t index = 0;
    mustSucceed(winnow_module_find_function(module, fn.name, &index));
    if (index != f)
      std::abort();
    std::vector<int64_t> bounds(fn.num_symbols), zeros(fn.num_symbols, 0);
    for (size_t s = 0; s < fn.num_symbols; ++s) {
      winnow_symbol_info symbol;
      mustSucceed(winnow_module_get_symbol(module, f, s, &symbol));
      if (symbol.bound < 0)
        std::abort();
      bounds[s] = symbol.bound;
    }
    winnow_symbol_info past;
    winnow_status status =
        winnow_module_get_symbol(module, f, fn.num_symbols, &past);
    if (winnow_status_code(status) != WINNOW_STATUS_OUT_OF_RANGE)
      std::abort();
    winnow_status_free(status);
    // Every dynamic extent (-1) names one of the symbols, no static one
    // does.
    std::vector<winnow_tensor_spec> specs = specsOf(module, f, fn);
    for (const winnow_tensor_spec &spec : specs)
      for (size_t d = 0; d < spec.rank; ++d) {
        int32_t symbol = spec.dim_symbols ? spec.dim_symbols[d] : -1;
        if ((spec.shape[d] == -1) != (symbol >= 0) ||
            (symbol >= 0 && static_cast<size_t>(symbol) >= fn.num_symbols) ||
            (symbol < 0 && spec.shape[d] < 0))
          std::abort();
      }
    checkSymbolsAt(module, f, fn, specs, bounds);
    checkSymbolsAt(module, f, fn, specs, zeros);
  }
}

#ifndef WINNOW_FUZZ_RESEAL
/// The largest value a call binds a symbol to: compiled code loops over a
/// dynamic extent even when the tensors are empty (a [bound, 0] tensor has
/// no bytes, whatever the bound).
constexpr int64_t kMaxCallExtent = int64_t(1) << 16;

/// A function's tensors with every dynamic extent at the value of its
/// symbol: the inputs (shapes, zeroed buffers) and the results.
struct CallTensors {
  std::vector<std::vector<int64_t>> shapes;
  std::vector<std::vector<uint8_t>> buffers;
  std::vector<winnow_tensor> tensors;
};

/// Zeroed tensors for a call of `f` with its symbols at `values` (none when
/// `f` has no symbols); false when they would be large.
bool makeCallTensors(const winnow_module *module, size_t f,
                     const winnow_function_info &fn,
                     const std::vector<int64_t> &values, CallTensors &call) {
  std::vector<winnow_tensor_spec> specs = specsOf(module, f, fn);
  size_t count = specs.size();
  call.shapes.assign(count, {});
  call.buffers.assign(count, {});
  call.tensors.assign(count, {});
  for (size_t i = 0; i < count; ++i) {
    const winnow_tensor_spec &spec = specs[i];
    for (size_t d = 0; d < spec.rank; ++d)
      call.shapes[i].push_back(spec.dim_symbols && spec.dim_symbols[d] >= 0
                                   ? values[spec.dim_symbols[d]]
                                   : spec.shape[d]);
    // At most the size at the bounds, which the loader checked.
    size_t bytes = winnow_dtype_element_size(spec.dtype);
    for (int64_t extent : call.shapes[i])
      bytes *= static_cast<size_t>(extent);
    if (bytes > (size_t(16) << 20))
      return false;
    call.buffers[i].assign(bytes, 0);
    call.tensors[i] = {spec.dtype, spec.rank, call.shapes[i].data(),
                       call.buffers[i].data(), bytes};
  }
  return true;
}

/// Calls every function with zero inputs when all its tensors are small; a
/// function with symbols once at their bounds (at most kMaxCallExtent) and
/// once at 0.
void callEverything(winnow_module *module, const winnow_module_info &info) {
  winnow_device *device = nullptr;
  mustSucceed(winnow_device_create("cpu", &device));
  winnow_executable *executable = nullptr;
  if (ok(winnow_executable_create(module, device, &executable))) {
    for (size_t f = 0; f < info.num_functions; ++f) {
      winnow_function_info fn;
      mustSucceed(winnow_module_get_function(module, f, &fn));
      std::vector<std::vector<int64_t>> valueSets(1);
      for (size_t s = 0; s < fn.num_symbols; ++s) {
        winnow_symbol_info symbol;
        mustSucceed(winnow_module_get_symbol(module, f, s, &symbol));
        valueSets[0].push_back(std::min(symbol.bound, kMaxCallExtent));
      }
      if (fn.num_symbols > 0)
        valueSets.emplace_back(fn.num_symbols, 0);
      for (const std::vector<int64_t> &values : valueSets) {
        CallTensors call;
        if (makeCallTensors(module, f, fn, values, call))
          ok(winnow_call_by_index(
              executable, f, call.tensors.data(), fn.num_inputs,
              call.tensors.data() + fn.num_inputs, fn.num_results));
      }
    }
    winnow_executable_release(executable);
  }
  winnow_device_release(device);
}
#endif

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
#ifdef WINNOW_FUZZ_RESEAL
  std::vector<uint8_t> bytes(data, data + size);
  winnow::support::sealArtifact(bytes.data(), bytes.size());
  data = bytes.data();
#endif
  winnow_module *module = nullptr;
  if (!ok(winnow_module_load_memory(data, size, &module)))
    return 0;
  winnow_module_info info;
  inspect(module, info);
#ifndef WINNOW_FUZZ_RESEAL
  callEverything(module, info);
#endif
  winnow_module_release(module);
  return 0;
}
