/* FakeCuda.h - shared by the fake CUDA driver (FakeCudaDriver.cpp), the test
 * host objects (TestCudaHost.c) and the CUDA runtime tests.
 *
 * The fake driver runs "kernels" on the host: a fake cubin is a FakeCubin
 * table of named C functions, and cuLaunchKernel calls the one
 * cuModuleGetFunction found with the launch's parameters. Device memory is
 * host memory, tracked so that copies into unallocated memory, double frees
 * and leaks are caught. Stream capture records the stream's work into a
 * graph instead of running it, and a graph launch replays it; allocations
 * made while capturing belong to the graph (its fixed addresses, as with
 * graph memory nodes) and are freed with it. Plain C. */
#ifndef WINNOW_RUNTIME_TESTS_CUDA_FAKECUDA_H
#define WINNOW_RUNTIME_TESTS_CUDA_FAKECUDA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FAKE_CUBIN_MAGIC 0x4e55434bu /* "KCUN" */

typedef struct FakeLaunch {
  unsigned grid[3];
  unsigned block[3];
  unsigned sharedBytes;
  void *stream;
} FakeLaunch;

/* Returns 0, or non-zero to make the launch fail (CUDA_ERROR_LAUNCH_FAILED). */
typedef int (*FakeKernelFn)(const FakeLaunch *launch, void **params);

typedef struct FakeKernel {
  const char *name;
  FakeKernelFn run;
  /* Bytes of each parameter: a launch captured into a graph copies them, as
   * a real driver does from the kernel's metadata. A kernel without them
   * cannot be captured (CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED). */
  uint32_t numParams;
  const uint32_t *paramBytes;
} FakeKernel;

typedef struct FakeCubin {
  uint32_t magic;
  uint32_t numKernels;
  const FakeKernel *kernels;
} FakeCubin;

/* Control API of the fake driver (tests link the library). */
/* Forgets injected failures and counters; keeps live objects. */
void fakeCudaReset(void);
void fakeCudaSetDeviceCount(int count);
void fakeCudaSetComputeCapability(int major, int minor);
/* The `nth` (1-based) call of `symbol` (e.g. "cuMemAllocAsync") from now on
 * returns `result` (a CUresult) without doing anything. */
void fakeCudaFailCall(const char *symbol, int nth, int result);
/* Calls of `symbol` since the last reset. */
int fakeCudaCallCount(const char *symbol);
long fakeCudaLiveAllocations(void);
long fakeCudaLiveModules(void);
long fakeCudaLiveStreams(void);
/* Stream of the last successful launch. */
void *fakeCudaLastLaunchStream(void);
/* Graphs and instantiated graphs alive (stream capture, cuGraph*). */
long fakeCudaLiveGraphs(void);
/* Kernel launches run so far, captured replays included. */
long fakeCudaKernelRuns(void);
/* A stream for tests to pass to winnow_call_device. */
void *fakeCudaCreateStream(void);

#ifdef __cplusplus
}
#endif

#endif /* WINNOW_RUNTIME_TESTS_CUDA_FAKECUDA_H */
