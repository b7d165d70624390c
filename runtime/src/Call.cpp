//===- Call.cpp - winnow_call: check arguments, build descriptors, run ---===//
//
// The CPU ABI passes one MLIR strided memref descriptor per argument:
//   { void *allocated; void *aligned; int64_t offset;
//     int64_t sizes[R]; int64_t strides[R]; }
// Host tensors are dense row-major, so offset is 0 and strides are suffix
// products of the extents.
//
//===----------------------------------------------------------------------===//

#include "Executable.h"
#include "Status.h"
#include "TensorChecks.h"

namespace winnow::runtime {
namespace {

static_assert(sizeof(void *) == sizeof(int64_t),
              "descriptor layout assumes 64-bit pointers");

size_t descriptorWords(size_t rank) { return 3 + 2 * rank; }

void writeDescriptor(const winnow_tensor &tensor, int64_t *words) {
  words[0] = reinterpret_cast<intptr_t>(tensor.data); // allocated
  words[1] = reinterpret_cast<intptr_t>(tensor.data); // aligned
  words[2] = 0;                                       // offset
  int64_t *sizes = words + 3;
  int64_t *strides = words + 3 + tensor.rank;
  int64_t stride = 1;
  for (size_t d = tensor.rank; d-- > 0;) {
    sizes[d] = tensor.shape[d];
    strides[d] = stride;
    stride *= tensor.shape[d];
  }
}

winnow_status invoke(winnow_executable *executable, size_t functionIndex,
                     const winnow_tensor *inputs, size_t numInputs,
                     winnow_tensor *outputs, size_t numOutputs) {
  const FunctionSpec &function = executable->module->functions[functionIndex];
  WINNOW_RETURN_IF_ERROR(
      checkCallArguments(function, inputs, numInputs, outputs, numOutputs));

  size_t numArgs = numInputs + numOutputs;
  auto tensorAt = [&](size_t i) -> const winnow_tensor & {
    return i < numInputs ? inputs[i] : outputs[i - numInputs];
  };
  size_t totalWords = 0;
  for (size_t i = 0; i < numArgs; ++i)
    totalWords += descriptorWords(tensorAt(i).rank);
  // Descriptors live on this call's heap, so concurrent calls share nothing.
  std::vector<int64_t> words(totalWords);
  std::vector<void *> args(numArgs);
  size_t next = 0;
  for (size_t i = 0; i < numArgs; ++i) {
    args[i] = &words[next];
    writeDescriptor(tensorAt(i), &words[next]);
    next += descriptorWords(tensorAt(i).rank);
  }
  executable->entries[functionIndex](args.data());
  return WINNOW_OK;
}

} // namespace
} // namespace winnow::runtime

using namespace winnow::runtime;

extern "C" {

winnow_status winnow_call(winnow_executable *executable,
                          const char *function_name,
                          const winnow_tensor *inputs, size_t num_inputs,
                          winnow_tensor *outputs, size_t num_outputs) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(executable);
    WINNOW_CHECK_ARG(function_name);
    size_t index = 0;
    WINNOW_RETURN_IF_ERROR(
        findFunction(*executable->module, function_name, index));
    return invoke(executable, index, inputs, num_inputs, outputs, num_outputs);
  });
}

winnow_status winnow_call_by_index(winnow_executable *executable,
                                   size_t function_index,
                                   const winnow_tensor *inputs,
                                   size_t num_inputs, winnow_tensor *outputs,
                                   size_t num_outputs) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(executable);
    if (function_index >= executable->module->functions.size())
      return makeStatus(
          WINNOW_STATUS_OUT_OF_RANGE,
          "function index " + std::to_string(function_index) +
              " is out of range (the module has " +
              std::to_string(executable->module->functions.size()) +
              " functions)");
    return invoke(executable, function_index, inputs, num_inputs, outputs,
                  num_outputs);
  });
}

} // extern "C"
