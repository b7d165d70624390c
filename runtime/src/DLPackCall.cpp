//===- DLPackCall.cpp - winnow_call_dlpack: DLTensor arguments -----------===//
//
// DLPack tensors carry what winnow_tensor leaves implicit (device, strides,
// byte offset, a richer dtype), so those are checked here; shape, dtype and
// overlap checks are then the common ones of every call.
//
//===----------------------------------------------------------------------===//

#include "Call.h"
#include "DType.h"
#include "Executable.h"
#include "Status.h"
#include "winnow/runtime/winnow_dlpack.h"

namespace winnow::runtime {
namespace {

// Added in DLPack 0.8; PyTorch exports torch.bool with it.
constexpr uint8_t kDLBoolCode = 6;

bool toWinnowDType(DLDataType type, winnow_dtype &out) {
  if (type.lanes != 1)
    return false;
  switch (type.code) {
  case kDLFloat:
    if (type.bits == 32)
      out = WINNOW_DTYPE_F32;
    else if (type.bits == 16)
      out = WINNOW_DTYPE_F16;
    else if (type.bits == 64)
      out = WINNOW_DTYPE_F64;
    else
      return false;
    return true;
  case kDLBfloat:
    out = WINNOW_DTYPE_BF16;
    return type.bits == 16;
  case kDLInt:
    if (type.bits == 8)
      out = WINNOW_DTYPE_I8;
    else if (type.bits == 16)
      out = WINNOW_DTYPE_I16;
    else if (type.bits == 32)
      out = WINNOW_DTYPE_I32;
    else if (type.bits == 64)
      out = WINNOW_DTYPE_I64;
    else
      return false;
    return true;
  case kDLUInt: // the bool spelling of DLPack before 0.8
  case kDLBoolCode:
    out = WINNOW_DTYPE_I1;
    return type.bits == 8;
  default:
    return false;
  }
}

std::string deviceTypeName(int type) {
  switch (type) {
  case kDLCPU:
    return "kDLCPU";
  case kDLCUDA:
    return "kDLCUDA";
  case kDLCUDAHost:
    return "kDLCUDAHost";
  case kDLCUDAManaged:
    return "kDLCUDAManaged";
  default:
    return "device type " + std::to_string(type);
  }
}

std::string formatList(const int64_t *values, int32_t count) {
  std::string text = "[";
  for (int32_t i = 0; i < count; ++i)
    text += (i ? ", " : "") + std::to_string(values[i]);
  return text + "]";
}

std::string argumentLabel(const FunctionSpec &function, bool isOutput,
                          size_t index) {
  const std::vector<TensorSpec> &specs =
      isOutput ? function.results : function.inputs;
  std::string label = "function '" + function.name + "' " +
                      (isOutput ? "output " : "input ") + std::to_string(index);
  if (index < specs.size())
    label += " '" + specs[index].name + "'";
  return label;
}

/// Checks what only DLPack has and fills `out` for the common checks. The
/// argument's label is built only for a message (calls are the hot path).
winnow_status convertTensor(const winnow_executable &executable,
                            const FunctionSpec &function, bool isOutput,
                            size_t index, const DLTensor *tensor,
                            winnow_tensor &out) {
  auto fail = [&](const std::string &detail) {
    return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                      argumentLabel(function, isOutput, index) + ": " + detail);
  };
  if (!tensor)
    return fail("DLTensor pointer is null");
  int type = tensor->device.device_type;
  if (executable.cuda) {
    int ordinal = cudaDeviceOrdinal(*executable.device->cuda);
    if (type != kDLCUDA && type != kDLCUDAManaged)
      return fail("expected a kDLCUDA tensor for device '" +
                  executable.device->name + "', got " + deviceTypeName(type));
    if (tensor->device.device_id != ordinal)
      return fail("tensor is on CUDA device " +
                  std::to_string(tensor->device.device_id) +
                  ", but the executable runs on device '" +
                  executable.device->name + "'");
  } else if (type != kDLCPU && type != kDLCUDAHost) {
    return fail("expected a kDLCPU tensor for device '" +
                executable.device->name + "', got " + deviceTypeName(type));
  }
  if (!toWinnowDType(tensor->dtype, out.dtype))
    return fail("unsupported DLPack dtype (code " +
                std::to_string(tensor->dtype.code) + ", bits " +
                std::to_string(tensor->dtype.bits) + ", lanes " +
                std::to_string(tensor->dtype.lanes) + ")");
  if (tensor->ndim < 0)
    return fail("negative ndim " + std::to_string(tensor->ndim));
  if (tensor->ndim > 0 && !tensor->shape)
    return fail("shape is null but ndim is " + std::to_string(tensor->ndim));
  out.rank = static_cast<size_t>(tensor->ndim);
  out.shape = tensor->shape;
  for (int32_t d = 0; d < tensor->ndim; ++d)
    if (tensor->shape[d] < 0)
      return fail("negative extent in shape " +
                  formatList(tensor->shape, tensor->ndim));
  std::optional<uint64_t> bytes =
      denseByteSize(tensor->shape, out.rank, out.dtype);
  if (!bytes)
    return fail("shape " + formatList(tensor->shape, tensor->ndim) +
                " overflows the address space");
  out.byte_size = static_cast<size_t>(*bytes);
  out.data = out.byte_size
                 ? static_cast<char *>(tensor->data) + tensor->byte_offset
                 : nullptr;
  if (out.byte_size == 0)
    return WINNOW_OK; // no element is accessed: strides and data are free
  if (tensor->strides) {
    int64_t expected = 1;
    for (int32_t d = tensor->ndim; d-- > 0;) {
      if (tensor->shape[d] != 1 && tensor->strides[d] != expected)
        return fail("strides " + formatList(tensor->strides, tensor->ndim) +
                    " are not compact row-major for shape " +
                    formatList(tensor->shape, tensor->ndim) +
                    " (make the tensor contiguous)");
      expected *= tensor->shape[d];
    }
  }
  size_t elementSize = winnow_dtype_element_size(out.dtype);
  if (!tensor->data)
    return fail("data is null");
  if (reinterpret_cast<uintptr_t>(out.data) % elementSize)
    return fail("data + byte_offset is not aligned to the " +
                std::to_string(elementSize) + "-byte element size");
  return WINNOW_OK;
}

winnow_status convertTensors(const winnow_executable &executable,
                             const FunctionSpec &function, bool isOutput,
                             const DLTensor *const *tensors, size_t count,
                             std::vector<winnow_tensor> &out) {
  if (count > 0 && !tensors)
    return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                      "function '" + function.name + "': " +
                          (isOutput ? "outputs" : "inputs") +
                          " array is null but " + std::to_string(count) +
                          " were passed");
  out.resize(count);
  for (size_t i = 0; i < count; ++i)
    WINNOW_RETURN_IF_ERROR(
        convertTensor(executable, function, isOutput, i, tensors[i], out[i]));
  return WINNOW_OK;
}

} // namespace
} // namespace winnow::runtime

using namespace winnow::runtime;

namespace {

/// Converts both tensor lists of a call of `index` (counts first, so a wrong
/// count is reported as such, not as a bad tensor past the signature's end).
winnow_status convertCall(const winnow_executable &executable, size_t index,
                          const DLTensor *const *inputs, size_t num_inputs,
                          const DLTensor *const *outputs, size_t num_outputs,
                          std::vector<winnow_tensor> &in,
                          std::vector<winnow_tensor> &out) {
  const FunctionSpec &function = executable.module->functions[index];
  WINNOW_RETURN_IF_ERROR(
      checkArgumentCounts(function, num_inputs, num_outputs));
  WINNOW_RETURN_IF_ERROR(
      convertTensors(executable, function, false, inputs, num_inputs, in));
  return convertTensors(executable, function, true, outputs, num_outputs, out);
}

} // namespace

extern "C" {

winnow_status winnow_call_dlpack(winnow_executable *executable,
                                 const char *function_name,
                                 const DLTensor *const *inputs,
                                 size_t num_inputs,
                                 const DLTensor *const *outputs,
                                 size_t num_outputs, void *stream) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(executable);
    WINNOW_CHECK_ARG(function_name);
    size_t index = 0;
    WINNOW_RETURN_IF_ERROR(
        findFunction(*executable->module, function_name, index));
    return winnow_call_dlpack_by_index(executable, index, inputs, num_inputs,
                                       outputs, num_outputs, stream);
  });
}

winnow_status winnow_call_dlpack_by_index(winnow_executable *executable,
                                          size_t function_index,
                                          const DLTensor *const *inputs,
                                          size_t num_inputs,
                                          const DLTensor *const *outputs,
                                          size_t num_outputs, void *stream) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(executable);
    WINNOW_RETURN_IF_ERROR(checkFunctionIndex(*executable, function_index));
    std::vector<winnow_tensor> in, out;
    WINNOW_RETURN_IF_ERROR(convertCall(*executable, function_index, inputs,
                                       num_inputs, outputs, num_outputs, in,
                                       out));
    return callFunction(*executable, function_index, in.data(), in.size(),
                        out.data(), out.size(), TensorMemory::Device, stream);
  });
}

winnow_status winnow_call_dlpack_with_workspace(
    winnow_executable *executable, size_t function_index,
    const DLTensor *const *inputs, size_t num_inputs,
    const DLTensor *const *outputs, size_t num_outputs, void *stream,
    void *workspace, size_t workspace_bytes) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(executable);
    WINNOW_RETURN_IF_ERROR(checkFunctionIndex(*executable, function_index));
    std::vector<winnow_tensor> in, out;
    WINNOW_RETURN_IF_ERROR(convertCall(*executable, function_index, inputs,
                                       num_inputs, outputs, num_outputs, in,
                                       out));
    return winnow_call_device_with_workspace(
        executable, function_index, in.data(), in.size(), out.data(),
        out.size(), stream, workspace, workspace_bytes);
  });
}

} // extern "C"
