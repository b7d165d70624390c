//===- Call.cpp - winnow_call*: check arguments, then run on the target --===//
//
// The arguments are checked against the manifest here, once, for every
// device; the target then only moves data and runs the entry point
// (EntryArguments.h describes the calling convention).
//
//===----------------------------------------------------------------------===//

#include "Call.h"
#include "EntryArguments.h"
#include "Executable.h"
#include "Status.h"
#include "TensorChecks.h"
#include "ThreadPool.h"

#include <vector>

namespace winnow::runtime {

winnow_status callFunction(winnow_executable &executable, size_t functionIndex,
                           const winnow_tensor *inputs, size_t numInputs,
                           winnow_tensor *outputs, size_t numOutputs,
                           TensorMemory memory, void *stream) {
  const FunctionSpec &function = executable.module->functions[functionIndex];
  WINNOW_RETURN_IF_ERROR(checkCallArguments(function, inputs, numInputs,
                                            outputs, numOutputs, memory));
  if (executable.cuda) {
    if (memory == TensorMemory::Host)
      return callCudaWithHostTensors(executable, functionIndex, inputs,
                                     numInputs, outputs, numOutputs);
    return callCudaWithDeviceTensors(executable, functionIndex, inputs,
                                     numInputs, outputs, numOutputs, stream);
  }
  if (stream)
    return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                      "a stream was passed, but the executable runs on device "
                      "'" + executable.device->name +
                          "', which has no streams (pass NULL)");
  EntryArguments args(inputs, numInputs, outputs, numOutputs);
  CallThreads threads(resolvedThreads(executable));
  executable.entries[functionIndex](args.data());
  return WINNOW_OK;
}

winnow_status checkCudaDeviceCall(const winnow_executable &executable,
                                  size_t functionIndex, const char *what,
                                  const winnow_tensor *inputs, size_t numInputs,
                                  const winnow_tensor *outputs,
                                  size_t numOutputs) {
  WINNOW_RETURN_IF_ERROR(checkFunctionIndex(executable, functionIndex));
  if (!executable.cuda)
    return makeStatus(WINNOW_STATUS_FAILED_PRECONDITION,
                      std::string(what) +
                          " are for CUDA executables only (this one runs on "
                          "device '" +
                          executable.device->name + "')");
  return checkCallArguments(executable.module->functions[functionIndex], inputs,
                            numInputs, outputs, numOutputs,
                            TensorMemory::Device);
}

winnow_status checkFunctionIndex(const winnow_executable &executable,
                                 size_t functionIndex) {
  if (functionIndex >= executable.module->functions.size())
    return makeStatus(
        WINNOW_STATUS_OUT_OF_RANGE,
        "function index " + std::to_string(functionIndex) +
            " is out of range (the module has " +
            std::to_string(executable.module->functions.size()) +
            " functions)");
  return WINNOW_OK;
}

} // namespace winnow::runtime

using namespace winnow::runtime;

extern "C" {

winnow_status winnow_call(winnow_executable *executable,
                          const char *function_name,
                          const winnow_tensor *inputs, size_t num_inputs,
                          winnow_tensor *outputs, size_t num_outputs) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(executable);
    WINNOW_CHECK_ARG(function_name);
    size_t index = 0;
    WINNOW_RETURN_IF_ERROR(
        findFunction(*executable->module, function_name, index));
    return callFunction(*executable, index, inputs, num_inputs, outputs,
                        num_outputs, TensorMemory::Host, nullptr);
  });
}

winnow_status winnow_call_by_index(winnow_executable *executable,
                                   size_t function_index,
                                   const winnow_tensor *inputs,
                                   size_t num_inputs, winnow_tensor *outputs,
                                   size_t num_outputs) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(executable);
    WINNOW_RETURN_IF_ERROR(checkFunctionIndex(*executable, function_index));
    return callFunction(*executable, function_index, inputs, num_inputs,
                        outputs, num_outputs, TensorMemory::Host, nullptr);
  });
}

winnow_status winnow_call_device(winnow_executable *executable,
                                 const char *function_name,
                                 const winnow_tensor *inputs,
                                 size_t num_inputs, winnow_tensor *outputs,
                                 size_t num_outputs, void *stream) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(executable);
    WINNOW_CHECK_ARG(function_name);
    size_t index = 0;
    WINNOW_RETURN_IF_ERROR(
        findFunction(*executable->module, function_name, index));
    return callFunction(*executable, index, inputs, num_inputs, outputs,
                        num_outputs, TensorMemory::Device, stream);
  });
}

winnow_status winnow_call_device_by_index(winnow_executable *executable,
                                          size_t function_index,
                                          const winnow_tensor *inputs,
                                          size_t num_inputs,
                                          winnow_tensor *outputs,
                                          size_t num_outputs, void *stream) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(executable);
    WINNOW_RETURN_IF_ERROR(checkFunctionIndex(*executable, function_index));
    return callFunction(*executable, function_index, inputs, num_inputs,
                        outputs, num_outputs, TensorMemory::Device, stream);
  });
}

winnow_status
winnow_function_workspace_size(const winnow_executable *executable,
                               size_t function_index, size_t *out_bytes) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(executable);
    WINNOW_CHECK_ARG(out_bytes);
    WINNOW_RETURN_IF_ERROR(checkFunctionIndex(*executable, function_index));
    const TargetSpec &target =
        executable->module->targets[executable->targetIndex];
    int64_t bytes = target.workspaceBytes[function_index];
    if (bytes < 0)
      return makeStatus(
          WINNOW_STATUS_FAILED_PRECONDITION,
          "function '" + executable->module->functions[function_index].name +
              "' has no workspace size (the artifact predates workspace "
              "sizes, or the compiler could not bound its scratch); its "
              "scratch is allocated stream-ordered per call");
    *out_bytes = static_cast<size_t>(bytes);
    return WINNOW_OK;
  });
}

winnow_status winnow_call_device_with_workspace(
    winnow_executable *executable, size_t function_index,
    const winnow_tensor *inputs, size_t num_inputs, winnow_tensor *outputs,
    size_t num_outputs, void *stream, void *workspace, size_t workspace_bytes) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(executable);
    WINNOW_RETURN_IF_ERROR(checkCudaDeviceCall(
        *executable, function_index, "calls with a caller's workspace", inputs,
        num_inputs, outputs, num_outputs));
    size_t needed = 0;
    WINNOW_RETURN_IF_ERROR(
        winnow_function_workspace_size(executable, function_index, &needed));
    std::string function =
        "function '" + executable->module->functions[function_index].name + "'";
    if (workspace_bytes < needed)
      return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                        "workspace of " + std::to_string(workspace_bytes) +
                            " bytes is too small: " + function + " needs " +
                            std::to_string(needed) +
                            " (winnow_function_workspace_size)");
    if (needed > 0 && !workspace)
      return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                        "argument 'workspace' is null but " + function +
                            " needs " + std::to_string(needed) + " bytes");
    if (reinterpret_cast<uintptr_t>(workspace) % WINNOW_WORKSPACE_ALIGNMENT)
      return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                        "workspace is not aligned to " +
                            std::to_string(WINNOW_WORKSPACE_ALIGNMENT) +
                            " bytes (WINNOW_WORKSPACE_ALIGNMENT)");
    CallerWorkspace caller{workspace, workspace_bytes};
    return callCudaWithDeviceTensors(*executable, function_index, inputs,
                                     num_inputs, outputs, num_outputs, stream,
                                     &caller);
  });
}

winnow_status winnow_call_device_timed(
    winnow_executable *executable, size_t function_index,
    const winnow_tensor *inputs, size_t num_inputs, winnow_tensor *outputs,
    size_t num_outputs, void *stream, winnow_launch_timing *timings,
    size_t capacity, size_t *out_num_launches) {
  return guardApi([&]() -> winnow_status {
    WINNOW_CHECK_ARG(executable);
    WINNOW_CHECK_ARG(out_num_launches);
    if (!timings && capacity > 0)
      return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                        "argument 'timings' is null but capacity is " +
                            std::to_string(capacity));
    WINNOW_RETURN_IF_ERROR(
        checkCudaDeviceCall(*executable, function_index, "timed calls", inputs,
                            num_inputs, outputs, num_outputs));
    std::vector<winnow_launch_timing> launches;
    WINNOW_RETURN_IF_ERROR(callCudaTimed(*executable, function_index, inputs,
                                         num_inputs, outputs, num_outputs,
                                         stream, launches));
    for (size_t i = 0; i < launches.size() && i < capacity; ++i)
      timings[i] = launches[i];
    *out_num_launches = launches.size();
    return WINNOW_OK;
  });
}

} // extern "C"
