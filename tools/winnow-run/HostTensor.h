//===- HostTensor.h - winnow-run's host tensors: parse, convert, save ----===//
#ifndef WINNOW_TOOLS_WINNOW_RUN_HOSTTENSOR_H
#define WINNOW_TOOLS_WINNOW_RUN_HOSTTENSOR_H

#include "winnow/runtime/winnow_runtime.h"

#include <cstdint>
#include <string>
#include <vector>

namespace winnow::run {

/// A dense C-order tensor in host memory that the tool owns.
struct HostTensor {
  winnow_dtype dtype = WINNOW_DTYPE_F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;

  int64_t elementCount() const;
  /// A view for winnow_call; valid while this tensor is alive and unchanged.
  winnow_tensor view();
  /// Element `i` as a double (bf16/f16 widened, i1 as 0/1).
  double valueAsDouble(int64_t i) const;
};

bool isIntegerDType(winnow_dtype dtype);

/// "4x576xf32"-style spelling; "f32" for a scalar.
std::string formatType(winnow_dtype dtype, const std::vector<int64_t> &shape);

/// Makes a zero-filled tensor of the given type.
HostTensor makeZeroTensor(winnow_dtype dtype,
                          const std::vector<int64_t> &shape);

/// Parses one --input value for an input whose manifest type is `spec`:
/// "@path.npy" (converted to bf16/f16 from f32 where the spec asks for it) or
/// inline "SHAPExDTYPE=v0,v1,...". `what` names the input in messages.
bool parseInput(const std::string &text, const winnow_tensor_spec &spec,
                const std::string &what, HostTensor &out, std::string &error);

/// Writes a result as .npy; bf16 becomes <f4 unless `rawBf16`.
bool writeResult(const std::string &path, const HostTensor &tensor,
                 bool rawBf16, std::string &error);

} // namespace winnow::run

#endif // WINNOW_TOOLS_WINNOW_RUN_HOSTTENSOR_H
