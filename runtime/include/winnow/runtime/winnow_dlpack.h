/*
 * winnow_dlpack.h - calling a Winnow executable on DLPack tensors.
 *
 * Separate from winnow_runtime.h so that the main header keeps no
 * dependency beyond the C standard headers; this one needs <dlpack/dlpack.h>
 * (Debian: libdlpack-dev). C99 and C++.
 */
#ifndef WINNOW_RUNTIME_WINNOW_DLPACK_H
#define WINNOW_RUNTIME_WINNOW_DLPACK_H

#include "winnow/runtime/winnow_runtime.h"

#include <dlpack/dlpack.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Calls a function on DLPack tensors, without copies: the semantics of
 * winnow_call_device (stream-ordered on `stream` for a CUDA executable, no
 * host synchronisation, CUDA-graph capturable; `stream` must be NULL for a
 * CPU executable). Pass `&managed->dl_tensor` for a DLManagedTensor; the
 * caller keeps ownership (nothing is deleted).
 *
 * Each tensor is checked against the function's signature, with messages
 * naming the argument: device (kDLCUDA or kDLCUDAManaged with device_id
 * equal to the executable's ordinal for CUDA; kDLCPU or kDLCUDAHost for the
 * CPU), dtype (lanes 1; f32/f16/f64 are kDLFloat, bf16 is kDLBfloat 16, iN
 * are kDLInt, i1 is kDLBool 8 or kDLUInt 8), ndim and every extent, strides
 * (NULL, or compact row-major; the stride of an extent-1 axis is ignored),
 * and a data pointer (data + byte_offset) aligned to the element size. */
WINNOW_API winnow_status winnow_call_dlpack(winnow_executable *executable,
                                            const char *function_name,
                                            const DLTensor *const *inputs,
                                            size_t num_inputs,
                                            const DLTensor *const *outputs,
                                            size_t num_outputs, void *stream);

/* winnow_call_dlpack with the function chosen by index (no name lookup). */
WINNOW_API winnow_status winnow_call_dlpack_by_index(
    winnow_executable *executable, size_t function_index,
    const DLTensor *const *inputs, size_t num_inputs,
    const DLTensor *const *outputs, size_t num_outputs, void *stream);

/* winnow_call_dlpack with the call's scratch taken from the caller's
 * `workspace`, as winnow_call_device_with_workspace (CUDA executables only).
 * This is the call for memory that a caching allocator hands out per call,
 * such as PyTorch's inside a CUDA-graph capture. */
WINNOW_API winnow_status winnow_call_dlpack_with_workspace(
    winnow_executable *executable, size_t function_index,
    const DLTensor *const *inputs, size_t num_inputs,
    const DLTensor *const *outputs, size_t num_outputs, void *stream,
    void *workspace, size_t workspace_bytes);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WINNOW_RUNTIME_WINNOW_DLPACK_H */
