//===- CudaCall.cpp - Running a CUDA entry point on host or device tensors ===//
//
// Device tensors: the entry runs on the caller's stream with the caller's
// pointers; nothing waits, nothing is copied, so the call is stream-ordered
// and capturable in a CUDA graph.
//
// Host tensors: stream-ordered device buffers on the executable's stream,
// inputs copied in, the entry, results copied into host staging buffers,
// buffers freed, one synchronisation; the caller's outputs are written only
// after all of that succeeded, so they are untouched on any error.
//
//===----------------------------------------------------------------------===//

#include "EntryArguments.h"
#include "Executable.h"
#include "Status.h"
#include "cuda/CudaCall.h"

#include <algorithm>
#include <cstring>

namespace winnow::runtime {

winnow_status inCudaFunction(winnow_status status,
                             const winnow_executable_s &executable,
                             size_t functionIndex, const std::string &step) {
  if (status == WINNOW_OK || status == outOfMemoryStatus())
    return status;
  std::string prefix =
      "function '" + executable.module->functions[functionIndex].name +
      "' on device '" + executable.device->name + "': ";
  if (!step.empty())
    prefix += step + ": ";
  winnow_status annotated = makeStatus(winnow_status_code(status),
                                       prefix + winnow_status_message(status));
  winnow_status_free(status);
  return annotated;
}

namespace {

winnow_status runWithWorkspace(winnow_executable_s &executable,
                               size_t functionIndex, CUstream stream,
                               CallWorkspace *workspace,
                               const winnow_tensor *inputs, size_t numInputs,
                               const winnow_tensor *outputs, size_t numOutputs,
                               std::vector<TimedLaunch> *timedLaunches) {
  EntryArguments args(inputs, numInputs, outputs, numOutputs);
  ScopedHostCall call(*executable.cuda, stream);
  call.timedLaunches = timedLaunches;
  call.workspace = workspace;
  executable.entries[functionIndex](args.data());
  return call.takeError();
}

} // namespace

winnow_status runCudaEntry(winnow_executable_s &executable,
                           size_t functionIndex, CUstream stream,
                           const winnow_tensor *inputs, size_t numInputs,
                           const winnow_tensor *outputs, size_t numOutputs,
                           const OwnedWorkspace *owned,
                           std::vector<TimedLaunch> *timedLaunches) {
  CudaExecutable &cuda = *executable.cuda;
  if (owned) {
    CallWorkspace workspace{owned->base, owned->bytes, 0};
    return runWithWorkspace(executable, functionIndex, stream, &workspace,
                            inputs, numInputs, outputs, numOutputs,
                            timedLaunches);
  }
  if (cuda.workspaceBytes[functionIndex] <= 0)
    return runWithWorkspace(executable, functionIndex, stream, nullptr, inputs,
                            numInputs, outputs, numOutputs, timedLaunches);
  CudaExecutable::StreamWorkspace *shared = nullptr;
  WINNOW_RETURN_IF_ERROR(cuda.streamWorkspace(stream, shared));
  std::lock_guard<std::mutex> turn(shared->inUse);
  CallWorkspace workspace{shared->base, shared->bytes, 0};
  return runWithWorkspace(executable, functionIndex, stream, &workspace, inputs,
                          numInputs, outputs, numOutputs, timedLaunches);
}

namespace {

std::string argumentName(const FunctionSpec &function, size_t index) {
  size_t numInputs = function.inputs.size();
  if (index < numInputs)
    return "input " + std::to_string(index) + " '" +
           function.inputs[index].name + "'";
  return "output " + std::to_string(index - numInputs) + " '" +
         function.results[index - numInputs].name + "'";
}

} // namespace

winnow_status callCudaWithDeviceTensors(
    winnow_executable_s &executable, size_t functionIndex,
    const winnow_tensor *inputs, size_t numInputs, winnow_tensor *outputs,
    size_t numOutputs, void *stream, const CallerWorkspace *callerWorkspace) {
  ScopedContext scope(executable.cuda->device);
  WINNOW_RETURN_IF_ERROR(scope.push());
  OwnedWorkspace owned;
  if (callerWorkspace)
    owned = {reinterpret_cast<CUdeviceptr>(callerWorkspace->data),
             callerWorkspace->bytes};
  return inCudaFunction(runCudaEntry(executable, functionIndex,
                                     static_cast<CUstream>(stream), inputs,
                                     numInputs, outputs, numOutputs,
                                     callerWorkspace ? &owned : nullptr),
                        executable, functionIndex);
}

winnow_status callCudaTimed(winnow_executable_s &executable,
                            size_t functionIndex, const winnow_tensor *inputs,
                            size_t numInputs, winnow_tensor *outputs,
                            size_t numOutputs, void *stream,
                            std::vector<winnow_launch_timing> &timings) {
  const CudaDriver &cu = *executable.cuda->device.driver;
  ScopedContext scope(executable.cuda->device);
  WINNOW_RETURN_IF_ERROR(scope.push());
  std::vector<TimedLaunch> launches;
  winnow_status error = inCudaFunction(
      runCudaEntry(executable, functionIndex, static_cast<CUstream>(stream),
                   inputs, numInputs, outputs, numOutputs, nullptr, &launches),
      executable, functionIndex);
  // Wait for the whole call (its last launch may not be the last work).
  if (!error)
    error = inCudaFunction(
        cu.check(cu.streamSynchronize(static_cast<CUstream>(stream)),
                 "cuStreamSynchronize"),
        executable, functionIndex);
  for (const TimedLaunch &launch : launches) {
    if (!error) {
      winnow_launch_timing timing{};
      timing.kernel = launch.kernel;
      std::copy(launch.grid, launch.grid + 3, timing.grid);
      std::copy(launch.block, launch.block + 3, timing.block);
      timing.dynamic_shared_bytes = launch.sharedBytes;
      error = inCudaFunction(
          cu.check(cu.eventElapsedTime(&timing.milliseconds, launch.start,
                                       launch.stop),
                   "cuEventElapsedTime"),
          executable, functionIndex, "timing a launch");
      if (!error)
        timings.push_back(timing);
    }
    for (CUevent event : {launch.start, launch.stop})
      if (event)
        cu.eventDestroy(event);
  }
  return error;
}

winnow_status callCudaWithHostTensors(winnow_executable_s &executable,
                                      size_t functionIndex,
                                      const winnow_tensor *inputs,
                                      size_t numInputs, winnow_tensor *outputs,
                                      size_t numOutputs) {
  CudaExecutable &cuda = *executable.cuda;
  const CudaDriver &cu = *cuda.device.driver;
  const FunctionSpec &function = executable.module->functions[functionIndex];
  CUstream stream = cuda.stream;

  // Host memory first: an allocation failure here has touched nothing.
  std::vector<winnow_tensor> onDevice(inputs, inputs + numInputs);
  onDevice.insert(onDevice.end(), outputs, outputs + numOutputs);
  std::vector<std::vector<uint8_t>> staging(numOutputs);
  for (size_t i = 0; i < numOutputs; ++i)
    staging[i].resize(outputs[i].byte_size);

  ScopedContext scope(cuda.device);
  WINNOW_RETURN_IF_ERROR(scope.push());

  winnow_status error = WINNOW_OK;
  std::vector<CUdeviceptr> buffers(onDevice.size(), 0);
  for (size_t i = 0; i < onDevice.size() && !error; ++i) {
    if (onDevice[i].byte_size == 0) {
      onDevice[i].data = nullptr;
      continue;
    }
    error = inCudaFunction(
        cu.check(cu.memAllocAsync(&buffers[i], onDevice[i].byte_size, stream),
                 "cuMemAllocAsync"),
        executable, functionIndex,
        "allocating " + std::to_string(onDevice[i].byte_size) +
            " bytes for " + argumentName(function, i));
    onDevice[i].data = reinterpret_cast<void *>(buffers[i]);
  }
  for (size_t i = 0; i < numInputs && !error; ++i) {
    if (inputs[i].byte_size == 0)
      continue;
    error = inCudaFunction(cu.check(cu.memcpyHtoDAsync(buffers[i], inputs[i].data,
                                                   inputs[i].byte_size, stream),
                                "cuMemcpyHtoDAsync"),
                       executable, functionIndex,
                       "copying " + argumentName(function, i) +
                           " to the device");
  }
  if (!error)
    error = inCudaFunction(runCudaEntry(executable, functionIndex, stream,
                                onDevice.data(), numInputs,
                                onDevice.data() + numInputs, numOutputs),
                       executable, functionIndex);
  for (size_t i = 0; i < numOutputs && !error; ++i) {
    if (outputs[i].byte_size == 0)
      continue;
    error = inCudaFunction(
        cu.check(cu.memcpyDtoHAsync(staging[i].data(), buffers[numInputs + i],
                                    outputs[i].byte_size, stream),
                 "cuMemcpyDtoHAsync"),
        executable, functionIndex,
        "copying " + argumentName(function, numInputs + i) + " to the host");
  }
  // Always release and wait, also after an error, so nothing is left in
  // flight on the executable's stream; keep the first error.
  auto keepFirst = [&](winnow_status status) {
    if (error == WINNOW_OK)
      error = status;
    else
      winnow_status_free(status);
  };
  for (CUdeviceptr buffer : buffers)
    if (buffer)
      keepFirst(inCudaFunction(cu.check(cu.memFreeAsync(buffer, stream),
                                    "cuMemFreeAsync"),
                           executable, functionIndex));
  keepFirst(inCudaFunction(
      cu.check(cu.streamSynchronize(stream), "cuStreamSynchronize"),
      executable, functionIndex));
  if (error)
    return error;
  for (size_t i = 0; i < numOutputs; ++i)
    if (outputs[i].byte_size)
      std::memcpy(outputs[i].data, staging[i].data(), outputs[i].byte_size);
  return WINNOW_OK;
}

} // namespace winnow::runtime
