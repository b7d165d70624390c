//===- CudaUnavailable.cpp - The CUDA backend of a build without cuda.h --===//
//
// Only createCudaDevice is reachable (no CUDA device, executable or event
// can exist); the rest satisfy the linker.
//
//===----------------------------------------------------------------------===//

#include "cuda/CudaBackend.h"
#include "Status.h"

namespace winnow::runtime {
namespace {
winnow_status unavailable() {
  return makeStatus(WINNOW_STATUS_UNIMPLEMENTED,
                    "CUDA devices are not supported by this runtime build "
                    "(cuda.h was not found when it was configured)");
}
} // namespace

winnow_status createCudaDevice(int, CudaDevice *&) { return unavailable(); }
void destroyCudaDevice(CudaDevice *) {}
void getCudaDeviceInfo(const CudaDevice &, winnow_device_info &) {}
winnow_status cudaAllocate(CudaDevice &, size_t, void **) {
  return unavailable();
}
winnow_status cudaFree(CudaDevice &, void *) { return unavailable(); }
winnow_status cudaCopy(CudaDevice &, void *, const void *, size_t) {
  return unavailable();
}
winnow_status createCudaEvent(CudaDevice &, CudaEvent *&) {
  return unavailable();
}
void destroyCudaEvent(CudaEvent *) {}
winnow_status recordCudaEvent(CudaEvent &, void *) { return unavailable(); }
winnow_status cudaElapsedMilliseconds(CudaEvent &, CudaEvent &, float &) {
  return unavailable();
}
winnow_status bindCudaExecutable(winnow_executable_s &) {
  return unavailable();
}
void destroyCudaExecutable(CudaExecutable *) {}
winnow_status callCudaWithHostTensors(winnow_executable_s &, size_t,
                                      const winnow_tensor *, size_t,
                                      winnow_tensor *, size_t) {
  return unavailable();
}
winnow_status callCudaWithDeviceTensors(winnow_executable_s &, size_t,
                                        const winnow_tensor *, size_t,
                                        winnow_tensor *, size_t, void *,
                                        const CallerWorkspace *) {
  return unavailable();
}
winnow_status cudaFlushL2(CudaDevice &, void *) { return unavailable(); }
winnow_status callCudaTimed(winnow_executable_s &, size_t,
                            const winnow_tensor *, size_t, winnow_tensor *,
                            size_t, void *, std::vector<winnow_launch_timing> &) {
  return unavailable();
}
winnow_status captureCudaGraph(winnow_executable_s &, size_t,
                               const winnow_tensor *, size_t, winnow_tensor *,
                               size_t, CudaGraph *&) {
  return unavailable();
}
winnow_status launchCudaGraph(CudaGraph &, void *) { return unavailable(); }
void destroyCudaGraph(CudaGraph *) {}
int cudaDeviceOrdinal(const CudaDevice &) { return -1; }

} // namespace winnow::runtime
