//===- Npy.h - Read and write NumPy .npy files ---------------------------===//
//
// C++ helpers for tools and tests, not part of the C API. Hand-written
// because Debian packages neither cnpy nor libnpy; the format is a short
// documented header plus raw data:
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
//
// Supported: format versions 1.0, 2.0 and 3.0; C order only; little-endian
// `<f4 <f2 <f8 |b1 |i1 <i2 <i4 <i8` and `<u2`, which Winnow uses for raw
// bf16 bits (NumPy has no bf16 dtype).
//
//===----------------------------------------------------------------------===//
#ifndef WINNOW_SUPPORT_NPY_H
#define WINNOW_SUPPORT_NPY_H

#include "winnow/runtime/winnow_runtime.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace winnow::support {

/// The descr NumPy uses for raw bf16 bits.
inline constexpr const char *kBFloat16BitsDescr = "<u2";

struct NpyArray {
  /// Normalised dtype descriptor, e.g. "<f4", "|b1", "<u2".
  std::string descr;
  std::vector<int64_t> shape;
  /// Dense, C order, little-endian.
  std::vector<uint8_t> data;

  int64_t elementCount() const;
};

/// Parses an in-memory .npy file. Returns false and sets `error` on failure.
bool parseNpy(const uint8_t *bytes, size_t size, NpyArray &out,
              std::string &error);
bool readNpyFile(const std::string &path, NpyArray &out, std::string &error);

/// Serialises a dense C-order array as a version 1.0 file (2.0 if the header
/// does not fit in 64 KiB). `byteSize` must match the shape and descr.
std::vector<uint8_t> serializeNpy(const std::string &descr,
                                  const std::vector<int64_t> &shape,
                                  const void *data, size_t byteSize);
bool writeNpyFile(const std::string &path, const std::string &descr,
                  const std::vector<int64_t> &shape, const void *data,
                  size_t byteSize, std::string &error);

/// The Winnow dtype stored as `descr`; bf16 is never returned because `<u2`
/// is ambiguous (the caller decides from the manifest).
std::optional<winnow_dtype> dtypeFromNpyDescr(const std::string &descr);
/// The descr to write for `dtype` (`<u2` for bf16 bits).
const char *npyDescrForDType(winnow_dtype dtype);
/// Bytes per element of a supported descr, 0 if unsupported.
size_t npyItemSize(const std::string &descr);

} // namespace winnow::support

#endif // WINNOW_SUPPORT_NPY_H
