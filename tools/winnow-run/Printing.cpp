//===- Printing.cpp - winnow-run's signature and result printing ---------===//
//
// The summary format is part of the tool's interface (tests compare it and
// --help documents it): checksums are sums as double printed with %.6e, and
// for ragged results they cover only the valid rows, so padding never
// changes them.
//
//===----------------------------------------------------------------------===//

#include "Printing.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ostream>

namespace winnow::run {

namespace {

constexpr int64_t kMaxSummaryValues = 64;
constexpr int64_t kMaxRaggedValuesPerBatch = 16;

std::string formatSum(double sum) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.6e", sum);
  return buffer;
}

/// Integers exactly; floats as the shortest text that round-trips their own
/// precision (f16/bf16 via float).
std::string formatValue(const HostTensor &tensor, int64_t i) {
  double value = tensor.valueAsDouble(i);
  if (isIntegerDType(tensor.dtype)) {
    if (tensor.dtype == WINNOW_DTYPE_I64) {
      int64_t exact;
      std::memcpy(&exact, tensor.data.data() + 8 * i, sizeof(exact));
      return std::to_string(exact);
    }
    return std::to_string(static_cast<int64_t>(value));
  }
  char buffer[64];
  std::to_chars_result result =
      tensor.dtype == WINNOW_DTYPE_F64
          ? std::to_chars(buffer, buffer + sizeof(buffer), value)
          : std::to_chars(buffer, buffer + sizeof(buffer),
                          static_cast<float>(value));
  return std::string(buffer, result.ptr);
}

std::string formatValues(const HostTensor &tensor, int64_t begin, int64_t end) {
  std::string text = "[";
  for (int64_t i = begin; i < end; ++i)
    text += (i == begin ? "" : ", ") + formatValue(tensor, i);
  return text + "]";
}

/// NumPy-like nested brackets, one innermost row per line.
void printNested(std::ostream &out, const HostTensor &tensor, size_t dim,
                 int64_t offset, int indent) {
  if (tensor.shape.empty()) {
    out << formatValue(tensor, 0);
    return;
  }
  int64_t extent = tensor.shape[dim];
  int64_t stride = 1;
  for (size_t d = dim + 1; d < tensor.shape.size(); ++d)
    stride *= tensor.shape[d];
  out << '[';
  for (int64_t i = 0; i < extent; ++i) {
    if (dim + 1 == tensor.shape.size()) {
      out << (i ? ", " : "") << formatValue(tensor, offset + i);
      continue;
    }
    if (i) {
      out << ',' << std::string(tensor.shape.size() - dim - 1, '\n')
          << std::string(indent + 1, ' ');
    }
    printNested(out, tensor, dim + 1, offset + i * stride, indent + 1);
  }
  out << ']';
}

void printRagged(std::ostream &out, const std::string &name,
                 const HostTensor &tensor, const HostTensor &counts,
                 int32_t raggedAxis) {
  // [outer..., B, rows, inner...]: the axes before the batch axis (M-RoPE's
  // 3 rows) are outer planes, the ones after the ragged axis one row.
  size_t axis = static_cast<size_t>(raggedAxis);
  int64_t outer = 1, rowElements = 1;
  for (size_t d = 0; d + 1 < axis; ++d)
    outer *= tensor.shape[d];
  for (size_t d = axis + 1; d < tensor.shape.size(); ++d)
    rowElements *= tensor.shape[d];
  int64_t batches = tensor.shape[axis - 1];
  int64_t rows = tensor.shape[axis];
  std::string countText;
  std::vector<int64_t> valid(batches);
  for (int64_t b = 0; b < batches; ++b) {
    int64_t count = static_cast<int64_t>(counts.valueAsDouble(b));
    valid[b] = std::clamp<int64_t>(count, 0, rows);
    countText += (b ? ", " : "") + std::to_string(count);
    if (valid[b] != count)
      countText += '!';
  }
  auto rowBase = [&](int64_t o, int64_t b) {
    return (o * batches + b) * rows * rowElements;
  };
  double sum = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t b = 0; b < batches; ++b)
      for (int64_t i = 0; i < valid[b] * rowElements; ++i)
        sum += tensor.valueAsDouble(rowBase(o, b) + i);
  out << name << ": " << formatType(tensor.dtype, tensor.shape) << " counts=["
      << countText << "] valid_sum=" << formatSum(sum) << '\n';
  if (!isIntegerDType(tensor.dtype))
    return;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t b = 0; b < batches; ++b) {
      int64_t base = rowBase(o, b);
      int64_t total = valid[b] * rowElements;
      int64_t shown = std::min(total, kMaxRaggedValuesPerBatch);
      std::string values = formatValues(tensor, base, base + shown);
      if (shown < total)
        values.insert(values.size() - 1, ", ...");
      out << "  ";
      if (outer > 1)
        out << "[" << o << "] ";
      out << "batch " << b << ": " << values << '\n';
    }
  }
}

} // namespace

std::string formatSpecType(const winnow_module *module, size_t functionIndex,
                           const winnow_tensor_spec &spec) {
  std::string text;
  for (size_t d = 0; d < spec.rank; ++d) {
    int32_t symbol = spec.dim_symbols ? spec.dim_symbols[d] : -1;
    if (symbol < 0) {
      text += std::to_string(spec.shape[d]);
    } else {
      winnow_symbol_info info;
      winnow_status status = winnow_module_get_symbol(
          module, functionIndex, static_cast<size_t>(symbol), &info);
      text += status == WINNOW_OK ? info.name : "?";
      winnow_status_free(status);
    }
    text += 'x';
  }
  const char *name = winnow_dtype_name(spec.dtype);
  return text + (name ? name : "?");
}

bool formatSymbols(const winnow_module *module, size_t functionIndex,
                   std::string &text, std::string &error) {
  winnow_function_info info;
  winnow_status status =
      winnow_module_get_function(module, functionIndex, &info);
  text.clear();
  for (size_t i = 0; status == WINNOW_OK && i < info.num_symbols; ++i) {
    winnow_symbol_info symbol;
    status = winnow_module_get_symbol(module, functionIndex, i, &symbol);
    if (status == WINNOW_OK)
      text += (i ? ", " : "") + std::string(symbol.name) +
              " <= " + std::to_string(symbol.bound);
  }
  if (status == WINNOW_OK)
    return true;
  error = winnow_status_message(status);
  winnow_status_free(status);
  return false;
}

bool formatSignature(const winnow_module *module, size_t functionIndex,
                     std::string &text, std::string &error) {
  auto check = [&](winnow_status status) {
    if (status == WINNOW_OK)
      return true;
    error = winnow_status_message(status);
    winnow_status_free(status);
    return false;
  };
  winnow_function_info info;
  if (!check(winnow_module_get_function(module, functionIndex, &info)))
    return false;
  auto formatSpec = [](const winnow_tensor_spec &spec,
                       const winnow_module *module, size_t functionIndex) {
    std::string text = std::string(spec.name) + ": " +
                       formatSpecType(module, functionIndex, spec);
    if (spec.count_result >= 0) {
      winnow_tensor_spec count;
      winnow_status status = winnow_module_get_result(
          module, functionIndex, static_cast<size_t>(spec.count_result),
          &count);
      std::string countName = status == WINNOW_OK ? count.name : "?";
      winnow_status_free(status);
      text += " [" + countName + ": result " +
              std::to_string(spec.count_result);
      if (spec.ragged_axis != 1)
        text += ", axis " + std::to_string(spec.ragged_axis);
      text += "]";
    }
    return text;
  };
  text = "func @" + std::string(info.name) + "(";
  for (size_t i = 0; i < info.num_inputs; ++i) {
    winnow_tensor_spec spec;
    if (!check(winnow_module_get_input(module, functionIndex, i, &spec)))
      return false;
    text += (i ? ", " : "") + formatSpec(spec, module, functionIndex);
  }
  text += ") -> (";
  for (size_t i = 0; i < info.num_results; ++i) {
    winnow_tensor_spec spec;
    if (!check(winnow_module_get_result(module, functionIndex, i, &spec)))
      return false;
    text += (i ? ", " : "") + formatSpec(spec, module, functionIndex);
  }
  text += ")";
  return true;
}

void printResult(std::ostream &out, const std::string &name,
                 const HostTensor &tensor, const HostTensor *counts,
                 int32_t raggedAxis, PrintMode mode) {
  switch (mode) {
  case PrintMode::None:
    return;
  case PrintMode::Full:
    out << name << ": " << formatType(tensor.dtype, tensor.shape);
    if (counts)
      out << " counts=" << formatValues(*counts, 0, counts->elementCount());
    out << " =\n";
    printNested(out, tensor, 0, 0, 0);
    out << '\n';
    return;
  case PrintMode::Summary:
    if (counts) {
      printRagged(out, name, tensor, *counts, raggedAxis);
      return;
    }
    double sum = 0;
    int64_t count = tensor.elementCount();
    for (int64_t i = 0; i < count; ++i)
      sum += tensor.valueAsDouble(i);
    out << name << ": " << formatType(tensor.dtype, tensor.shape)
        << " sum=" << formatSum(sum);
    if (isIntegerDType(tensor.dtype) && count <= kMaxSummaryValues)
      out << " values=" << formatValues(tensor, 0, count);
    out << '\n';
    return;
  }
}

} // namespace winnow::run
