//===- TensorChecks.cpp - Check call arguments against a signature -------===//
//
// Compiled code trusts its descriptors completely, so everything the manifest
// promises is checked here first. Messages name the function, the argument
// kind, index and name, and say what was expected and what was found.
//
// A function with dynamic extents binds each symbol at its binding extent
// (the first input extent naming it) while the inputs are checked in order,
// so every later extent naming the symbol, inputs' and outputs', is
// compared with a value already known.
//
//===----------------------------------------------------------------------===//

#include "TensorChecks.h"
#include "DType.h"
#include "Status.h"

#include <algorithm>
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

/// The type a tensor must have, e.g. "4x8xf32 (batch = 4)": dynamic extents
/// at their values where bound already (else by name), and those values.
std::string expectedType(const FunctionSpec &function, const TensorSpec &spec,
                         const int64_t *values) {
  std::string text = formatSpecType(spec, function, values);
  std::string bound;
  for (size_t d = 0; d < spec.dimSymbols.size(); ++d) {
    int32_t symbol = spec.dimSymbols[d];
    bool repeated = false;
    for (size_t e = 0; e < d; ++e)
      repeated |= spec.dimSymbols[e] == symbol;
    if (symbol < 0 || repeated || values[symbol] < 0)
      continue;
    bound += (bound.empty() ? "" : ", ") + function.symbols[symbol].name +
             " = " + std::to_string(values[symbol]);
  }
  return bound.empty() ? text : text + " (" + bound + ")";
}

/// Checks a tensor's rank and extents. At its symbol's binding extent an
/// input binds the symbol (`values`, -1 while unbound; null when the
/// function has none); every other dynamic extent must equal the value.
winnow_status checkExtents(const ArgumentName &argument, const TensorSpec &spec,
                           const winnow_tensor &tensor, int64_t *values) {
  const FunctionSpec &function = argument.function;
  auto fail = [&](const std::string &detail) {
    return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                      argument.text() + ": " + detail);
  };
  auto failSymbol = [&](const SymbolSpec &symbol, const std::string &detail) {
    return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                      "function '" + function.name + "': " + symbol.name +
                          " is " + detail);
  };
  if (tensor.rank != spec.shape.size())
    return fail("expected rank " + std::to_string(spec.shape.size()) + " (" +
                expectedType(function, spec, values) + "), got rank " +
                std::to_string(tensor.rank));
  if (tensor.rank > 0 && !tensor.shape)
    return fail("shape is null but rank is " + std::to_string(tensor.rank));
  for (size_t d = 0; d < tensor.rank; ++d) {
    int64_t extent = tensor.shape[d];
    int64_t expected = spec.shape[d];
    if (int32_t index = spec.symbolOf(d); index >= 0) {
      const SymbolSpec &symbol = function.symbols[index];
      if (!argument.isOutput && symbol.bindingInput == argument.index &&
          symbol.bindingDim == d) {
        if (extent < 0)
          return failSymbol(symbol, std::to_string(extent) + " in " +
                                        spec.name + ", a negative extent");
        if (extent > symbol.bound)
          return failSymbol(symbol, std::to_string(extent) + " in " +
                                        spec.name + ", above its bound " +
                                        std::to_string(symbol.bound));
        values[index] = extent;
        continue;
      }
      expected = values[index];
      if (!argument.isOutput && extent != expected)
        return failSymbol(
            symbol, std::to_string(expected) + " in " +
                        function.inputs[symbol.bindingInput].name + " but " +
                        std::to_string(extent) + " in " + spec.name);
    }
    if (extent != expected)
      return fail(
          "expected shape " + expectedType(function, spec, values) + ", got " +
          formatTensorType(
              std::vector<int64_t>(tensor.shape, tensor.shape + tensor.rank),
              tensor.dtype) +
          " (dimension " + std::to_string(d) + " differs)");
  }
  return WINNOW_OK;
}

winnow_status checkTensor(const ArgumentName &argument, const TensorSpec &spec,
                          const winnow_tensor &tensor, int64_t *values) {
  auto fail = [&](const std::string &detail) {
    return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                      argument.text() + ": " + detail);
  };
  if (tensor.dtype != spec.dtype)
    return fail("expected dtype " + dtypeText(spec.dtype) + ", got " +
                dtypeText(tensor.dtype));
  WINNOW_RETURN_IF_ERROR(checkExtents(argument, spec, tensor, values));
  // The shape is now the manifest's, with dynamic extents at most at their
  // bounds, whose size was checked for overflow when the module was loaded.
  uint64_t expectedBytes =
      *denseByteSize(tensor.shape, tensor.rank, spec.dtype);
  if (tensor.byte_size != expectedBytes)
    return fail("expected byte_size " + std::to_string(expectedBytes) +
                " for " +
                formatTensorType(std::vector<int64_t>(
                                     tensor.shape, tensor.shape + tensor.rank),
                                 spec.dtype) +
                ", got " + std::to_string(tensor.byte_size));
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

winnow_status bindSymbols(const FunctionSpec &function,
                          const winnow_tensor *inputs, size_t numInputs,
                          int64_t *values) {
  WINNOW_RETURN_IF_ERROR(
      checkCount(function, false, function.inputs, inputs, numInputs));
  std::fill(values, values + function.symbols.size(), -1);
  for (size_t i = 0; i < numInputs; ++i)
    WINNOW_RETURN_IF_ERROR(checkExtents(ArgumentName{function, false, i},
                                        function.inputs[i], inputs[i], values));
  return WINNOW_OK;
}

winnow_status checkCallArguments(const FunctionSpec &function,
                                 const winnow_tensor *inputs, size_t numInputs,
                                 const winnow_tensor *outputs,
                                 size_t numOutputs, TensorMemory memory) {
  WINNOW_RETURN_IF_ERROR(
      checkCount(function, false, function.inputs, inputs, numInputs));
  WINNOW_RETURN_IF_ERROR(
      checkCount(function, true, function.results, outputs, numOutputs));
  // Static-only functions (the common case) allocate nothing here.
  std::vector<int64_t> symbolValues(function.symbols.size(), -1);
  int64_t *values = symbolValues.empty() ? nullptr : symbolValues.data();
  for (size_t i = 0; i < numInputs; ++i) {
    ArgumentName label{function, false, i};
    WINNOW_RETURN_IF_ERROR(
        checkTensor(label, function.inputs[i], inputs[i], values));
    // Device memory cannot be read without a copy and a synchronisation.
    if (inputs[i].dtype == WINNOW_DTYPE_I1 && memory == TensorMemory::Host)
      WINNOW_RETURN_IF_ERROR(checkBoolValues(label, inputs[i]));
  }
  for (size_t i = 0; i < numOutputs; ++i) {
    ArgumentName label{function, true, i};
    WINNOW_RETURN_IF_ERROR(
        checkTensor(label, function.results[i], outputs[i], values));
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
