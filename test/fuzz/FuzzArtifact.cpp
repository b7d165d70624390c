//===- FuzzArtifact.cpp - Fuzz target: artifact bytes -> load -> call ----===//
//
// Loads the input as a .wnn artifact from memory and reads every manifest
// entry; when it loads, binds it on the CPU and calls every function with
// zero inputs (when they are small). Built twice (test/fuzz/CMakeLists.txt):
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

#include <cstdint>
#include <cstdlib>
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
    winnow_tensor_spec spec;
    for (size_t i = 0; i < fn.num_inputs; ++i)
      mustSucceed(winnow_module_get_input(module, f, i, &spec));
    for (size_t i = 0; i < fn.num_results; ++i)
      mustSucceed(winnow_module_get_result(module, f, i, &spec));
  }
}

#ifndef WINNOW_FUZZ_RESEAL
/// Calls every function with zero inputs when all its tensors are small.
void callEverything(winnow_module *module, const winnow_module_info &info) {
  winnow_device *device = nullptr;
  mustSucceed(winnow_device_create("cpu", &device));
  winnow_executable *executable = nullptr;
  if (ok(winnow_executable_create(module, device, &executable))) {
    for (size_t f = 0; f < info.num_functions; ++f) {
      winnow_function_info fn;
      mustSucceed(winnow_module_get_function(module, f, &fn));
      size_t count = fn.num_inputs + fn.num_results;
      std::vector<std::vector<uint8_t>> buffers(count);
      std::vector<winnow_tensor> tensors(count);
      bool small = true;
      for (size_t i = 0; i < count && small; ++i) {
        winnow_tensor_spec spec;
        mustSucceed(i < fn.num_inputs
                        ? winnow_module_get_input(module, f, i, &spec)
                        : winnow_module_get_result(module, f,
                                                   i - fn.num_inputs, &spec));
        size_t bytes = winnow_dtype_element_size(spec.dtype);
        for (size_t d = 0; d < spec.rank; ++d)
          bytes *= static_cast<size_t>(spec.shape[d]);
        small = bytes <= (size_t(16) << 20);
        buffers[i].assign(small ? bytes : 0, 0);
        tensors[i] = {spec.dtype, spec.rank, spec.shape, buffers[i].data(),
                      bytes};
      }
      if (small)
        ok(winnow_call_by_index(executable, f, tensors.data(), fn.num_inputs,
                                tensors.data() + fn.num_inputs,
                                fn.num_results));
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
