/* TestCudaHost.c - a hand-written stand-in for the host code winnow-compile
 * generates for a CUDA target: it exports the symbols of cuda_host_abi.h,
 * calls the driver only through __winnow_cuda_table in the order MLIR's
 * gpu-to-llvm code does (stream, alloc, get function, launch, copy, free,
 * synchronise, destroy), and embeds a fake cubin whose "kernels" are C
 * functions the fake driver runs on the host.
 *
 * Variants (compile definitions): TEST_LOAD_PTX loads PTX through
 * mgpuModuleLoadJIT that the fake JIT rejects; TEST_ABI_VERSION overrides the
 * exported ABI version; TEST_OMIT_TABLE leaves out the table symbol. */
#include "FakeCuda.h"
#include "winnow/runtime/cuda_host_abi.h"

#include "../TestMemrefs.h"
#include <stddef.h>
#include <stdint.h>

#ifndef TEST_ABI_VERSION
#define TEST_ABI_VERSION WINNOW_CUDA_HOST_ABI_VERSION
#endif

#define EXPORT __attribute__((visibility("default")))

#ifndef TEST_OMIT_TABLE
EXPORT void *__winnow_cuda_table[WINNOW_CUDA_SLOT_COUNT];
#define TABLE __winnow_cuda_table
#else
static void *TABLE[WINNOW_CUDA_SLOT_COUNT];
#endif
EXPORT uint32_t __winnow_cuda_abi_version = TEST_ABI_VERSION;

/* Typed views of the table slots. */
typedef void *(*ModuleLoadFn)(void *, int64_t);
typedef void *(*ModuleLoadJitFn)(void *, int32_t);
typedef void (*ModuleUnloadFn)(void *);
typedef void *(*ModuleGetFunctionFn)(void *, const char *);
typedef void (*LaunchKernelFn)(void *, int64_t, int64_t, int64_t, int64_t,
                               int64_t, int64_t, int32_t, void *, void **,
                               void **, int64_t);
typedef void *(*StreamCreateFn)(void);
typedef void (*StreamFn)(void *);
typedef void *(*MemAllocFn)(uint64_t, void *, int8_t);
typedef void (*MemFreeFn)(void *, void *);
typedef void (*MemcpyFn)(void *, void *, uint64_t, void *);
typedef void (*Memset32Fn)(void *, uint32_t, uint64_t, void *);

#define SLOT(type, name) ((type)TABLE[WINNOW_CUDA_SLOT_##name])

/* ----- kernels (run by the fake driver on the host) ----- */

/* params: const float *in, float *out, int64_t n, float addend */
static int addKernel(const FakeLaunch *launch, void **params) {
  const float *in = *(const float **)params[0];
  float *out = *(float **)params[1];
  int64_t n = *(const int64_t *)params[2];
  float addend = *(const float *)params[3];
  int64_t threads = (int64_t)launch->grid[0] * launch->block[0];
  for (int64_t i = 0; i < n && i < threads; ++i)
    out[i] = in[i] + addend;
  return 0;
}

/* Fails like a kernel that faulted. */
static int faultKernel(const FakeLaunch *launch, void **params) {
  (void)launch;
  (void)params;
  return 1;
}

/* Both kernels take (pointer, pointer, int64_t, float). */
static const uint32_t kParamBytes[] = {sizeof(void *), sizeof(void *),
                                       sizeof(int64_t), sizeof(float)};
static const FakeKernel kKernels[] = {
    {"add_kernel", addKernel, 4, kParamBytes},
    {"fault_kernel", faultKernel, 4, kParamBytes},
};
static const FakeCubin kCubin = {FAKE_CUBIN_MAGIC, 2, kKernels};

static void *gModule;

EXPORT void __winnow_cuda_load(void) {
#ifdef TEST_LOAD_PTX
  static char ptx[] = "// FAKE_JIT_FAIL\n.version 8.0\n.target sm_90\n";
  gModule = SLOT(ModuleLoadJitFn, MODULE_LOAD_JIT)(ptx, 2);
#else
  gModule = SLOT(ModuleLoadFn, MODULE_LOAD)((void *)&kCubin, sizeof(kCubin));
#endif
}

EXPORT void __winnow_cuda_unload(void) {
  SLOT(ModuleUnloadFn, MODULE_UNLOAD)(gModule);
  gModule = NULL;
}

/* Launches `kernel` over n floats from `in` into a scratch buffer, then
 * copies the scratch buffer to `out`: the alloc/launch/copy/free shape of
 * generated code. */
static void launchThroughScratch(const char *kernel, const float *in,
                                 float *out, int64_t n, float addend,
                                 int32_t sharedBytes) {
  void *stream = SLOT(StreamCreateFn, STREAM_CREATE)();
  uint64_t bytes = (uint64_t)n * sizeof(float);
  float *scratch = (float *)SLOT(MemAllocFn, MEM_ALLOC)(bytes, stream, 0);
  void *function = SLOT(ModuleGetFunctionFn, MODULE_GET_FUNCTION)(
      gModule, kernel);
  void *params[] = {&in, &scratch, &n, &addend};
  SLOT(LaunchKernelFn, LAUNCH_KERNEL)(function, (n + 127) / 128, 1, 1, 128, 1,
                                      1, sharedBytes, stream, params, NULL, 4);
  SLOT(MemcpyFn, MEMCPY)(out, scratch, bytes, stream);
  SLOT(MemFreeFn, MEM_FREE)(scratch, stream);
  SLOT(StreamFn, STREAM_SYNCHRONIZE)(stream);
  SLOT(StreamFn, STREAM_DESTROY)(stream);
}

/* add_one(x: 2x3xf32) -> (y: 2x3xf32) */
/* The ABI descriptors the loader compares with cudaTestArtifact()'s
 * manifest (winnow/support/EntryAbi.h), spelled out by hand. */
EXPORT const char __winnow_abi_add_one[] =
    "winnow-abi 1 (f32[2,3]) -> (f32[2,3])";
EXPORT const char __winnow_abi_add_two_big_smem[] =
    "winnow-abi 1 (f32[4]) -> (f32[4])";
EXPORT const char __winnow_abi_fault[] = "winnow-abi 1 (f32[4]) -> (f32[4])";
EXPORT const char __winnow_abi_missing_kernel[] =
    "winnow-abi 1 (f32[4]) -> (f32[4])";
EXPORT const char __winnow_abi_fill[] = "winnow-abi 1 (i32[4]) -> (i32[4])";

EXPORT void __winnow_entry_add_one(void **args) {
  const Memref2 *x = (const Memref2 *)args[0];
  const Memref2 *y = (const Memref2 *)args[1];
  launchThroughScratch("add_kernel", (const float *)x->aligned,
                       (float *)y->aligned, 6, 1.0f, 0);
}

/* add_two_big_smem(x: 4xf32) -> (y: 4xf32): 64 KiB of dynamic shared memory,
 * above the 48 KiB a kernel gets without opting in. */
EXPORT void __winnow_entry_add_two_big_smem(void **args) {
  const Memref1 *x = (const Memref1 *)args[0];
  const Memref1 *y = (const Memref1 *)args[1];
  launchThroughScratch("add_kernel", (const float *)x->aligned,
                       (float *)y->aligned, 4, 2.0f, 64 * 1024);
}

/* fault(x: 4xf32) -> (y: 4xf32): the kernel launch fails. */
EXPORT void __winnow_entry_fault(void **args) {
  const Memref1 *x = (const Memref1 *)args[0];
  const Memref1 *y = (const Memref1 *)args[1];
  launchThroughScratch("fault_kernel", (const float *)x->aligned,
                       (float *)y->aligned, 4, 0.0f, 0);
}

/* missing_kernel(x: 4xf32) -> (y: 4xf32): looks up a kernel the module does
 * not have. */
EXPORT void __winnow_entry_missing_kernel(void **args) {
  const Memref1 *x = (const Memref1 *)args[0];
  const Memref1 *y = (const Memref1 *)args[1];
  launchThroughScratch("no_such_kernel", (const float *)x->aligned,
                       (float *)y->aligned, 4, 0.0f, 0);
}

/* fill(x: 4xi32) -> (y: 4xi32): y = 7 everywhere, by mgpuMemset32. */
EXPORT void __winnow_entry_fill(void **args) {
  const Memref1 *y = (const Memref1 *)args[1];
  void *stream = SLOT(StreamCreateFn, STREAM_CREATE)();
  SLOT(Memset32Fn, MEMSET32)(y->aligned, 7u, 4, stream);
  SLOT(StreamFn, STREAM_DESTROY)(stream);
}
