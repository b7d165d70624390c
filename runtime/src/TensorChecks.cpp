//===- TensorChecks.cpp - Check call arguments against a signature -------===//
//
// Compiled code trusts its descriptors completely, so everything the manifest
// promises is checked here first. Messages name the function, the argument
// kind, index and name, and say what was expected and what was found.
//
//===----------------------------------------------------------------------===//

#include "TensorChecks.h"
#include "DType.h"
#include "Status.h"

#include <cstring>

namespace winnow::runtime {
namespace {

/// Names an argument in messages ("function 'f' input 2 'hidden'"). The
/// text is built only when a check fails: calls are the hot path.
struct ArgumentName {
  const FunctionSpec &function;
  bool isOutput;
  size_t index;

  std::string text() const {
    const TensorSpec &spec =
        (isOutput ? function.results : function.inputs)[index];
    return "function '" + function.name + "' " +
           (isOutput ? "output " : "input ") + std::to_string(index) + " '" +
           spec.name + "'";
  }
};

std::string dtypeText(winnow_dtype dtype) {
  const char *name = winnow_dtype_name(dtype);
  return name ? name : "<invalid dtype " + std::to_string(int(dtype)) + ">";
}

winnow_status checkTensor(const ArgumentName &argument, const TensorSpec &spec,
                          const winnow_tensor &tensor) {
  auto fail = [&](const std::string &detail) {
    return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                      argument.text() + ": " + detail);
  };
  auto expectedType = [&] { return formatTensorType(spec.shape, spec.dtype); };
  if (tensor.dtype != spec.dtype)
    return fail("expected dtype " + dtypeText(spec.dtype) + ", got " +
                dtypeText(tensor.dtype));
  if (tensor.rank != spec.shape.size())
    return fail("expected rank " + std::to_string(spec.shape.size()) + " (" +
                expectedType() + "), got rank " + std::to_string(tensor.rank));
  if (tensor.rank > 0 && !tensor.shape)
    return fail("shape is null but rank is " + std::to_string(tensor.rank));
  for (size_t d = 0; d < tensor.rank; ++d) {
    if (tensor.shape[d] != spec.shape[d])
      return fail(
          "expected shape " + expectedType() + ", got " +
          formatTensorType(
              std::vector<int64_t>(tensor.shape, tensor.shape + tensor.rank),
              tensor.dtype) +
          " (dimension " + std::to_string(d) + " differs)");
  }
  // The manifest was checked for overflow when the module was loaded.
  uint64_t expectedBytes =
      *denseByteSize(spec.shape.data(), spec.shape.size(), spec.dtype);
  if (tensor.byte_size != expectedBytes)
    return fail("expected byte_size " + std::to_string(expectedBytes) +
                " for " + expectedType() + ", got " +
                std::to_string(tensor.byte_size));
  if (tensor.byte_size > 0 && !tensor.data)
    return fail("data is null but byte_size is " +
                std::to_string(tensor.byte_size));
  return WINNOW_OK;
}

/// Compiled code may branch on i1 values assuming 0/1, so anything else
/// would be undefined behaviour downstream.
winnow_status checkBoolValues(const ArgumentName &argument,
                              const winnow_tensor &tensor) {
  const auto *bytes = static_cast<const uint8_t *>(tensor.data);
  for (size_t i = 0; i < tensor.byte_size; ++i) {
    if (bytes[i] > 1)
      return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                        argument.text() + ": i1 values must be 0 or 1, found " +
                            std::to_string(bytes[i]) + " at element " +
                            std::to_string(i));
  }
  return WINNOW_OK;
}

bool overlaps(const winnow_tensor &a, const winnow_tensor &b) {
  if (a.byte_size == 0 || b.byte_size == 0)
    return false;
  auto aBegin = reinterpret_cast<uintptr_t>(a.data);
  auto bBegin = reinterpret_cast<uintptr_t>(b.data);
  return aBegin < bBegin + b.byte_size && bBegin < aBegin + a.byte_size;
}

std::string namesOf(const std::vector<TensorSpec> &specs) {
  std::string names;
  for (const TensorSpec &spec : specs)
    names += (names.empty() ? "" : ", ") + spec.name;
  return names;
}

winnow_status checkNumber(const FunctionSpec &function, bool isOutput,
                          size_t count) {
  const std::vector<TensorSpec> &specs =
      isOutput ? function.results : function.inputs;
  if (count != specs.size())
    return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                      "function '" + function.name + "' expects " +
                          std::to_string(specs.size()) + " " +
                          (isOutput ? "outputs" : "inputs") + " (" +
                          namesOf(specs) + "), got " + std::to_string(count));
  return WINNOW_OK;
}

winnow_status checkCount(const FunctionSpec &function, bool isOutput,
                         const std::vector<TensorSpec> &specs,
                         const winnow_tensor *tensors, size_t count) {
  const char *noun = isOutput ? "outputs" : "inputs";
  WINNOW_RETURN_IF_ERROR(checkNumber(function, isOutput, count));
  if (count > 0 && !tensors)
    return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                      "function '" + function.name + "': " + noun +
                          " array is null but " + std::to_string(count) +
                          " were passed");
  return WINNOW_OK;
}

} // namespace

winnow_status checkArgumentCounts(const FunctionSpec &function,
                                  size_t numInputs, size_t numOutputs) {
  WINNOW_RETURN_IF_ERROR(checkNumber(function, false, numInputs));
  return checkNumber(function, true, numOutputs);
}

winnow_status checkCallArguments(const FunctionSpec &function,
                                 const winnow_tensor *inputs, size_t numInputs,
                                 const winnow_tensor *outputs,
                                 size_t numOutputs, TensorMemory memory) {
  WINNOW_RETURN_IF_ERROR(
      checkCount(function, false, function.inputs, inputs, numInputs));
  WINNOW_RETURN_IF_ERROR(
      checkCount(function, true, function.results, outputs, numOutputs));
  for (size_t i = 0; i < numInputs; ++i) {
    ArgumentName label{function, false, i};
    WINNOW_RETURN_IF_ERROR(checkTensor(label, function.inputs[i], inputs[i]));
    // Device memory cannot be read without a copy and a synchronisation.
    if (inputs[i].dtype == WINNOW_DTYPE_I1 && memory == TensorMemory::Host)
      WINNOW_RETURN_IF_ERROR(checkBoolValues(label, inputs[i]));
  }
  for (size_t i = 0; i < numOutputs; ++i) {
    ArgumentName label{function, true, i};
    WINNOW_RETURN_IF_ERROR(checkTensor(label, function.results[i], outputs[i]));
    // Inputs may alias each other (they are only read); an output may not
    // alias anything, or the code would read what it is writing.
    for (size_t j = 0; j < numInputs; ++j) {
      if (overlaps(outputs[i], inputs[j]))
        return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                          label.text() + " overlaps input " +
                              std::to_string(j) + " '" +
                              function.inputs[j].name + "'");
    }
    for (size_t j = 0; j < i; ++j) {
      if (overlaps(outputs[i], outputs[j]))
        return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                          label.text() + " overlaps output " +
                              std::to_string(j) + " '" +
                              function.results[j].name + "'");
    }
  }
  return WINNOW_OK;
}

} // namespace winnow::runtime
