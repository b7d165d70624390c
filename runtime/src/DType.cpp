//===- DType.cpp - Element types: names, sizes and shape arithmetic ------===//

#include "DType.h"
#include "Status.h"

#include <cstring>
#include <limits>

namespace winnow::runtime {

namespace {
struct DTypeEntry {
  winnow_dtype dtype;
  const char *name;
  size_t size;
};
// Indexed by enum value; the values are fixed by the artifact schema.
constexpr DTypeEntry kDTypes[] = {
    {WINNOW_DTYPE_F32, "f32", 4},   {WINNOW_DTYPE_F16, "f16", 2},
    {WINNOW_DTYPE_BF16, "bf16", 2}, {WINNOW_DTYPE_F64, "f64", 8},
    {WINNOW_DTYPE_I1, "i1", 1},     {WINNOW_DTYPE_I8, "i8", 1},
    {WINNOW_DTYPE_I16, "i16", 2},   {WINNOW_DTYPE_I32, "i32", 4},
    {WINNOW_DTYPE_I64, "i64", 8},
};
constexpr int kNumDTypes = sizeof(kDTypes) / sizeof(kDTypes[0]);
} // namespace

bool isValidDType(int value) { return value >= 0 && value < kNumDTypes; }

std::string formatShape(const int64_t *shape, size_t rank) {
  std::string result;
  for (size_t i = 0; i < rank; ++i) {
    if (i)
      result += 'x';
    result += std::to_string(shape[i]);
  }
  return result;
}

std::string formatTensorType(const std::vector<int64_t> &shape,
                             winnow_dtype dtype) {
  std::string result = formatShape(shape);
  if (!result.empty())
    result += 'x';
  const char *name = winnow_dtype_name(dtype);
  result += name ? name : "<invalid dtype>";
  return result;
}

std::optional<int64_t> elementCount(const int64_t *shape, size_t rank) {
  int64_t count = 1;
  for (size_t i = 0; i < rank; ++i) {
    if (shape[i] < 0)
      return std::nullopt;
    if (shape[i] != 0 && count > std::numeric_limits<int64_t>::max() / shape[i])
      return std::nullopt;
    count *= shape[i];
  }
  return count;
}

std::optional<uint64_t> denseByteSize(const int64_t *shape, size_t rank,
                                      winnow_dtype dtype) {
  std::optional<int64_t> count = elementCount(shape, rank);
  size_t elementSize = winnow_dtype_element_size(dtype);
  if (!count || elementSize == 0)
    return std::nullopt;
  uint64_t n = static_cast<uint64_t>(*count);
  if (n > std::numeric_limits<uint64_t>::max() / elementSize)
    return std::nullopt;
  uint64_t bytes = n * elementSize;
  if (bytes > std::numeric_limits<size_t>::max())
    return std::nullopt;
  return bytes;
}

} // namespace winnow::runtime

using namespace winnow::runtime;

extern "C" {

const char *winnow_dtype_name(winnow_dtype dtype) {
  return isValidDType(dtype) ? kDTypes[dtype].name : nullptr;
}

size_t winnow_dtype_element_size(winnow_dtype dtype) {
  return isValidDType(dtype) ? kDTypes[dtype].size : 0;
}

winnow_status winnow_dtype_from_name(const char *name,
                                     winnow_dtype *out_dtype) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(name);
    WINNOW_CHECK_ARG(out_dtype);
    for (const DTypeEntry &entry : kDTypes) {
      if (std::strcmp(entry.name, name) == 0) {
        *out_dtype = entry.dtype;
        return WINNOW_OK;
      }
    }
    return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                      std::string("unknown dtype '") + name +
                          "' (expected one of f32, f16, bf16, f64, i1, i8, "
                          "i16, i32, i64)");
  });
}

} // extern "C"
