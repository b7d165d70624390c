//===- Call.h - The one call path every winnow_call* variant goes through ===//
#ifndef WINNOW_RUNTIME_SRC_CALL_H
#define WINNOW_RUNTIME_SRC_CALL_H

#include "TensorChecks.h"
#include "winnow/runtime/winnow_runtime.h"

namespace winnow::runtime {

/// Checks the arguments against the function's signature, then runs it.
/// `memory` says where the tensors live; `stream` is for device tensors of a
/// CUDA executable and must be NULL otherwise.
winnow_status callFunction(winnow_executable &executable, size_t functionIndex,
                           const winnow_tensor *inputs, size_t numInputs,
                           winnow_tensor *outputs, size_t numOutputs,
                           TensorMemory memory, void *stream);

/// The checks of a CUDA-only call on device tensors (graph capture, timed
/// calls): the function index, FAILED_PRECONDITION naming `what` ("CUDA
/// graphs") unless the executable is bound to a CUDA device, and the
/// arguments as winnow_call_device checks them.
winnow_status checkCudaDeviceCall(const winnow_executable &executable,
                                  size_t functionIndex, const char *what,
                                  const winnow_tensor *inputs, size_t numInputs,
                                  const winnow_tensor *outputs,
                                  size_t numOutputs);

/// OUT_OF_RANGE when the module has no function `functionIndex`.
winnow_status checkFunctionIndex(const winnow_executable &executable,
                                 size_t functionIndex);

} // namespace winnow::runtime

#endif // WINNOW_RUNTIME_SRC_CALL_H
