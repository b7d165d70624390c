//===- DType.h - Internal element-type helpers ---------------------------===//
#ifndef WINNOW_RUNTIME_SRC_DTYPE_H
#define WINNOW_RUNTIME_SRC_DTYPE_H

#include "winnow/runtime/winnow_runtime.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace winnow::runtime {

bool isValidDType(int value);

/// Formats a shape as "4x576" ("" for rank 0), the manifest/CLI spelling.
std::string formatShape(const int64_t *shape, size_t rank);
inline std::string formatShape(const std::vector<int64_t> &shape) {
  return formatShape(shape.data(), shape.size());
}

/// "4x576xf32", or "f32" for a scalar.
std::string formatTensorType(const std::vector<int64_t> &shape,
                             winnow_dtype dtype);

/// Number of elements, or nullopt when it overflows int64 (extents must be
/// >= 0; the caller checks that first).
std::optional<int64_t> elementCount(const int64_t *shape, size_t rank);

/// Number of bytes for a dense tensor, or nullopt on overflow.
std::optional<uint64_t> denseByteSize(const int64_t *shape, size_t rank,
                                      winnow_dtype dtype);

} // namespace winnow::runtime

#endif // WINNOW_RUNTIME_SRC_DTYPE_H
