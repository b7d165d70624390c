/*
 * winnow_runtime.h - the public C API of the Winnow runtime (loads .wnn
 * artifacts, checks calls against their manifest, runs them on a device).
 *
 * This is the only public header of libwinnow_runtime. It is C99 and C++
 * compatible and has no dependency beyond the C standard headers.
 *
 * Conventions
 * -----------
 * Status: every function that can fail returns a `winnow_status`. NULL means
 *   success (compare with WINNOW_OK); anything else is an error object owned
 *   by the caller, who must pass it to winnow_status_free() exactly once. The
 *   only functions that do not return a status are the status accessors, the
 *   retain/release functions and the pure dtype lookups, none of which can
 *   fail. No function lets a C++ exception escape; an allocation failure is
 *   reported as WINNOW_STATUS_OUT_OF_MEMORY.
 *
 * Ownership: objects (module, device, executable) are reference counted.
 *   A *_create / *_load function returns an object with one reference that the
 *   caller owns; *_retain adds one, *_release drops one and destroys the
 *   object when none are left. Releasing NULL is a no-op. An executable keeps
 *   its module and device alive. Strings and arrays returned by introspection
 *   functions are owned by the module and stay valid while the module lives.
 *   Out-parameters are written only on success.
 *
 * Thread-safety: a module is immutable once loaded and may be shared and
 *   queried from any number of threads. Devices and executables may be used
 *   concurrently too: winnow_call() keeps no per-call state in the executable,
 *   so concurrent calls are safe as long as their output buffers are
 *   distinct. Reference counts are atomic. A status object belongs to the
 *   thread that received it until freed. The library has no global mutable
 *   state (a CUDA call is published to the generated host code through a
 *   thread-local pointer that lives only for the call).
 *
 * Code execution: loading a module (winnow_module_load_*) only reads and
 *   verifies the manifest; no compiled code is mapped or run until a module is
 *   bound to a device with winnow_executable_create().
 */
#ifndef WINNOW_RUNTIME_WINNOW_RUNTIME_H
#define WINNOW_RUNTIME_WINNOW_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define WINNOW_API
#else
#define WINNOW_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the .wnn container format this runtime reads (major must match,
 * any minor is accepted). Format 2 added the whole-file SHA-256 digest and the
 * per-entry ABI descriptors that loading verifies; format 2.1 adds dynamic
 * extents (symbols with bounds, see winnow_symbol_info). */
#define WINNOW_ARTIFACT_FORMAT_MAJOR 2

/*===----------------------------------------------------------------------===*
 * Status
 *===----------------------------------------------------------------------===*/

/* The type has a _t suffix because winnow_status_code() is the accessor. */
typedef enum winnow_status_code_e {
  WINNOW_STATUS_OK = 0,
  /* The caller passed something wrong (bad argument, call that does not match
   * the function signature, malformed manifest rule). */
  WINNOW_STATUS_INVALID_ARGUMENT = 1,
  /* A named entity (file, function, symbol) does not exist. */
  WINNOW_STATUS_NOT_FOUND = 2,
  /* The object is not in a state that allows the operation (e.g. no target in
   * the artifact for this device or host). */
  WINNOW_STATUS_FAILED_PRECONDITION = 3,
  /* An index is past the end of a list. */
  WINNOW_STATUS_OUT_OF_RANGE = 4,
  /* A resource (device, system facility) cannot be used right now. */
  WINNOW_STATUS_UNAVAILABLE = 5,
  /* The feature exists in the API but not in this build / format version. */
  WINNOW_STATUS_UNIMPLEMENTED = 6,
  /* The data is truncated or corrupt. */
  WINNOW_STATUS_DATA_LOSS = 7,
  WINNOW_STATUS_OUT_OF_MEMORY = 8,
  /* A bug in the runtime or an unexpected system failure. */
  WINNOW_STATUS_INTERNAL = 9,
  /* Keeps the enum int-sized and makes any int a valid value in C++. */
  WINNOW_STATUS_CODE_MAX_ENUM = 0x7fffffff,
} winnow_status_code_t;

typedef struct winnow_status_s *winnow_status;

#define WINNOW_OK ((winnow_status)0)

/* Returns WINNOW_STATUS_OK for a NULL status. */
WINNOW_API winnow_status_code_t winnow_status_code(winnow_status status);
/* The error message (lowercase, no trailing period); "" for a NULL status.
 * Valid until the status is freed. */
WINNOW_API const char *winnow_status_message(winnow_status status);
/* Frees an error status; NULL is a no-op. */
WINNOW_API void winnow_status_free(winnow_status status);
/* "OK", "INVALID_ARGUMENT", ...; "UNKNOWN" for values outside the enum. */
WINNOW_API const char *winnow_status_code_name(winnow_status_code_t code);

/*===----------------------------------------------------------------------===*
 * Element types
 *===----------------------------------------------------------------------===*/

/* Values match the artifact schema's DType enum. */
typedef enum winnow_dtype_e {
  WINNOW_DTYPE_F32 = 0,
  WINNOW_DTYPE_F16 = 1,
  WINNOW_DTYPE_BF16 = 2,
  WINNOW_DTYPE_F64 = 3,
  WINNOW_DTYPE_I1 = 4, /* one byte per element holding 0 or 1 */
  WINNOW_DTYPE_I8 = 5,
  WINNOW_DTYPE_I16 = 6,
  WINNOW_DTYPE_I32 = 7,
  WINNOW_DTYPE_I64 = 8,
  /* Keeps the enum int-sized; the runtime rejects out-of-range values
   * coming from C without undefined behaviour. */
  WINNOW_DTYPE_MAX_ENUM = 0x7fffffff,
} winnow_dtype;

/* "f32", "bf16", "i1", ...; NULL for values outside the enum. */
WINNOW_API const char *winnow_dtype_name(winnow_dtype dtype);
/* Bytes per element in host memory; 0 for values outside the enum. */
WINNOW_API size_t winnow_dtype_element_size(winnow_dtype dtype);
/* Parses a dtype name as printed by winnow_dtype_name(). */
WINNOW_API winnow_status winnow_dtype_from_name(const char *name,
                                                winnow_dtype *out_dtype);

/*===----------------------------------------------------------------------===*
 * Module: a loaded, verified artifact
 *===----------------------------------------------------------------------===*/

typedef struct winnow_module_s winnow_module;

/* Reads and verifies a .wnn file. Does not execute or map any code. */
WINNOW_API winnow_status winnow_module_load_file(const char *path,
                                                 winnow_module **out_module);
/* Same, from memory; the bytes are copied, so `data` may be freed after. */
WINNOW_API winnow_status winnow_module_load_memory(const void *data,
                                                   size_t size,
                                                   winnow_module **out_module);
WINNOW_API void winnow_module_retain(winnow_module *module);
WINNOW_API void winnow_module_release(winnow_module *module);

typedef struct winnow_module_info_s {
  uint32_t format_major;
  uint32_t format_minor;
  const char *producer;    /* "" when absent */
  const char *source_name; /* "" when absent */
  size_t num_functions;
  size_t num_targets;
} winnow_module_info;

WINNOW_API winnow_status winnow_module_get_info(const winnow_module *module,
                                                winnow_module_info *out_info);

typedef enum winnow_target_kind_e {
  /* A target kind added by a newer format minor; listed but never bound. */
  WINNOW_TARGET_KIND_UNKNOWN = 0,
  WINNOW_TARGET_KIND_CPU = 1,
  /* NVIDIA GPUs: host code plus an embedded fatbin (format 1.1). */
  WINNOW_TARGET_KIND_CUDA = 2,
  WINNOW_TARGET_KIND_MAX_ENUM = 0x7fffffff,
} winnow_target_kind;

typedef struct winnow_target_info_s {
  winnow_target_kind kind;
  const char *triple; /* CPU and CUDA (host code): LLVM triple; "" otherwise */
  const char *cpu;    /* LLVM CPU name of the (host) code; "" when absent */
  size_t binary_size; /* bytes of the (host) shared object */
  /* The fields below were appended for CUDA targets; they are 0, "" or NULL
   * for other kinds. */
  uint32_t cuda_abi_version; /* WINNOW_CUDA_HOST_ABI_VERSION of the host code */
  size_t num_cubin_architectures;
  const char *const *cubin_architectures; /* "sm_80", "sm_90", ... */
  const char *ptx_architecture; /* "sm_90" when PTX is embedded, else "" */
  size_t num_kernels;
  const char *const *kernels; /* every kernel the host code launches */
  /* One per function (winnow_module_info.num_functions entries): the device
   * scratch bytes of one call (winnow_function_workspace_size), -1 when
   * unknown; all 0 for other kinds. */
  const int64_t *workspace_bytes;
} winnow_target_info;

WINNOW_API winnow_status winnow_module_get_target(const winnow_module *module,
                                                  size_t target_index,
                                                  winnow_target_info *out_info);

typedef struct winnow_function_info_s {
  const char *name;
  size_t num_inputs;
  size_t num_results;
  /* The function's dynamic extents (format 2.1; 0 when every extent is
   * static): see winnow_module_get_symbol. */
  size_t num_symbols;
} winnow_function_info;

WINNOW_API winnow_status
winnow_module_get_function(const winnow_module *module, size_t function_index,
                           winnow_function_info *out_info);
/* NOT_FOUND (listing the available names) when there is no such function. */
WINNOW_API winnow_status winnow_module_find_function(
    const winnow_module *module, const char *name, size_t *out_function_index);

/* Signature of one input or result. */
typedef struct winnow_tensor_spec_s {
  const char *name;
  winnow_dtype dtype;
  size_t rank;
  /* `rank` extents: >= 0 when static, -1 when dynamic (then `dim_symbols`
   * names its symbol); NULL when rank is 0. */
  const int64_t *shape;
  /* For a ragged result (padded along `ragged_axis`): index among the
   * results of its `[B] i32` count tensor, where B is the extent of the axis
   * just before `ragged_axis`; -1 when not ragged (always -1 for inputs). */
  int32_t count_result;
  /* The padded axis of a ragged result (1 for `[B, C, ...]`, 2 for M-RoPE
   * `[3, B, C]` positions); 1 when not ragged. */
  int32_t ragged_axis;
  /* Format 2.1: `rank` entries, per extent the index of its symbol
   * (winnow_module_get_symbol) when dynamic, -1 when static; NULL when every
   * extent is static. */
  const int32_t *dim_symbols;
} winnow_tensor_spec;

WINNOW_API winnow_status winnow_module_get_input(const winnow_module *module,
                                                 size_t function_index,
                                                 size_t input_index,
                                                 winnow_tensor_spec *out_spec);
WINNOW_API winnow_status winnow_module_get_result(const winnow_module *module,
                                                  size_t function_index,
                                                  size_t result_index,
                                                  winnow_tensor_spec *out_spec);

/* Dynamic extents (format 2.1). A function's symbols (e.g. the batch) are
 * the extents it leaves to each call: every extent that names a symbol has
 * the same value in one call, taken from the inputs (in input order, the
 * first extent naming the symbol binds it), with 0 <= value <= bound; the
 * results' dynamic extents take those values. Scratch and workspaces are
 * sized for the bounds, so one artifact serves every value up to them. */
typedef struct winnow_symbol_info_s {
  const char *name; /* e.g. "batch"; unique within the function */
  int64_t bound;    /* the largest value a call may bind; >= 0 */
} winnow_symbol_info;

/* OUT_OF_RANGE when `symbol_index` >= winnow_function_info.num_symbols. */
WINNOW_API winnow_status winnow_module_get_symbol(const winnow_module *module,
                                                  size_t function_index,
                                                  size_t symbol_index,
                                                  winnow_symbol_info *out_info);

/*===----------------------------------------------------------------------===*
 * Device
 *===----------------------------------------------------------------------===*/

typedef struct winnow_device_s winnow_device;

/* `name` is "cpu", "cuda" (ordinal 0) or "cuda:N"; anything else is
 * INVALID_ARGUMENT. A CUDA device loads the driver with
 * dlopen("libcuda.so.1") (the environment variable WINNOW_CUDA_DRIVER names
 * another library) and retains the GPU's primary context. Errors:
 * UNAVAILABLE when the driver cannot be loaded ("no CUDA driver: ...") or
 * cuInit fails (e.g. no GPU), NOT_FOUND for an ordinal past the last GPU,
 * FAILED_PRECONDITION when the GPU lacks stream-ordered allocation, and
 * UNIMPLEMENTED when the runtime was built without CUDA support. */
WINNOW_API winnow_status winnow_device_create(const char *name,
                                              winnow_device **out_device);
WINNOW_API void winnow_device_retain(winnow_device *device);
WINNOW_API void winnow_device_release(winnow_device *device);
/* The canonical device name ("cpu", "cuda:0"); owned by the device. */
WINNOW_API winnow_status winnow_device_get_name(const winnow_device *device,
                                                const char **out_name);

typedef enum winnow_device_kind_e {
  WINNOW_DEVICE_KIND_CPU = 1,
  WINNOW_DEVICE_KIND_CUDA = 2,
  WINNOW_DEVICE_KIND_MAX_ENUM = 0x7fffffff,
} winnow_device_kind;

typedef struct winnow_device_info_s {
  winnow_device_kind kind;
  const char *name;        /* canonical name, as winnow_device_get_name */
  const char *description; /* CUDA: cuDeviceGetName; CPU: "host CPU" */
  int32_t ordinal;         /* CUDA device ordinal; -1 for the CPU */
  int32_t compute_capability_major; /* CUDA only; 0 for the CPU */
  int32_t compute_capability_minor;
  uint64_t total_memory_bytes; /* CUDA: global memory; 0 for the CPU */
} winnow_device_info;

/* Strings are owned by the device. */
WINNOW_API winnow_status winnow_device_get_info(const winnow_device *device,
                                                winnow_device_info *out_info);

/* Device memory for winnow_call_device, for callers without their own
 * allocator (tools, C programs). All three are synchronous. On a CUDA device
 * they use cuMemAlloc / cuMemFree / cuMemcpy (the copy direction follows
 * from unified addressing, so `dst` and `src` may each be host or device
 * memory); on the CPU they are 64-byte aligned host allocations and memcpy.
 * A zero-byte allocation returns NULL; freeing NULL is a no-op. */
WINNOW_API winnow_status winnow_device_allocate(winnow_device *device,
                                                size_t byte_size,
                                                void **out_data);
WINNOW_API winnow_status winnow_device_free(winnow_device *device, void *data);
WINNOW_API winnow_status winnow_device_copy(winnow_device *device, void *dst,
                                            const void *src, size_t byte_size);

/* GPU timing events (CUDA devices only; FAILED_PRECONDITION on the CPU).
 * `stream` is a CUstream; NULL is the legacy default stream. */
typedef struct winnow_event_s winnow_event;
WINNOW_API winnow_status winnow_event_create(winnow_device *device,
                                             winnow_event **out_event);
/* Destroys the event; NULL is a no-op. */
WINNOW_API void winnow_event_destroy(winnow_event *event);
WINNOW_API winnow_status winnow_event_record(winnow_event *event,
                                             void *stream);
/* Waits for `end`, then gives the GPU time between the two records. */
WINNOW_API winnow_status winnow_event_elapsed_ms(winnow_event *start,
                                                 winnow_event *end,
                                                 float *out_milliseconds);

/* Evicts the GPU's L2 cache, for cold-cache timing: enqueues on `stream` a
 * write of a device-owned buffer twice the L2's size (allocated at the
 * first call, freed with the device), so that the next work on the stream
 * finds none of its data in L2. Concurrent flushes are safe. CUDA devices
 * only (FAILED_PRECONDITION on the CPU). */
WINNOW_API winnow_status winnow_device_flush_l2(winnow_device *device,
                                                void *stream);

/*===----------------------------------------------------------------------===*
 * Executable: a module bound to a device
 *===----------------------------------------------------------------------===*/

typedef struct winnow_executable_s winnow_executable;

/* Picks the artifact's target for `device` (and the host CPU), loads its
 * native code and resolves every entry point. Fails with FAILED_PRECONDITION
 * when the artifact has no usable target for the device. On a CUDA device it
 * also loads the kernels (cuModuleLoadData, or the PTX JIT); a load error,
 * with the JIT log, is returned as a status. */
WINNOW_API winnow_status
winnow_executable_create(winnow_module *module, winnow_device *device,
                         winnow_executable **out_executable);
WINNOW_API void winnow_executable_retain(winnow_executable *executable);
WINNOW_API void winnow_executable_release(winnow_executable *executable);
/* The module the executable was created from (not retained). */
WINNOW_API winnow_status winnow_executable_get_module(
    const winnow_executable *executable, const winnow_module **out_module);
/* Index of the artifact target that was bound. */
WINNOW_API winnow_status winnow_executable_get_target_index(
    const winnow_executable *executable, size_t *out_target_index);

/*===----------------------------------------------------------------------===*
 * Threads (CPU executables)
 *===----------------------------------------------------------------------===*/

/* A CPU executable runs the outermost parallel loops of its functions (batch
 * rows, heads, tokens) on one pool of threads the process shares: concurrent
 * callers queue their loops on the same workers, and the calling thread
 * works on its own loops too, so a call never starts threads of its own.
 * Results are bit-identical for every thread count. */

/* The threads each call of `executable` uses, the caller's included: 1 runs
 * serially, 0 (the initial value) means winnow_default_num_threads(). At
 * most 256. May be changed between calls from any thread. FAILED_PRECONDITION
 * for an executable that does not run on the CPU. */
WINNOW_API winnow_status winnow_executable_set_num_threads(
    winnow_executable *executable, size_t num_threads);
/* The thread count calls of a CPU executable use (0 resolved). */
WINNOW_API winnow_status winnow_executable_get_num_threads(
    const winnow_executable *executable, size_t *out_num_threads);
/* WINNOW_NUM_THREADS when set to a positive number, else the number of CPUs
 * this process may run on (read once). */
WINNOW_API size_t winnow_default_num_threads(void);

/* Process-wide counters of the pool, for tests and tuning. */
typedef struct winnow_thread_stats_s {
  size_t pool_threads;     /* workers started so far (never more than the
                              largest thread count asked for, minus 1) */
  uint64_t parallel_loops; /* loops split over more than one thread */
  uint64_t serial_loops;   /* loops run on the calling thread alone */
  uint64_t ranges_on_pool_threads; /* ranges of iterations workers ran */
} winnow_thread_stats;
WINNOW_API winnow_status
winnow_get_thread_stats(winnow_thread_stats *out_stats);

/*===----------------------------------------------------------------------===*
 * Calls
 *===----------------------------------------------------------------------===*/

/* A dense, row-major (C order) tensor: in host memory for winnow_call, in
 * the executable's device memory for winnow_call_device. `data` is read for
 * inputs and written for outputs; `byte_size` must equal the product of the
 * extents times winnow_dtype_element_size(dtype). */
typedef struct winnow_tensor_s {
  winnow_dtype dtype;
  size_t rank;
  const int64_t *shape; /* may be NULL when rank is 0 */
  void *data;           /* may be NULL when byte_size is 0 */
  size_t byte_size;
} winnow_tensor;

/* Binds the symbols of one call from its inputs' shapes and writes their
 * values to `out_symbol_values` (num_symbols entries; may be NULL when the
 * function has none). Checks what result shapes depend on, with the
 * messages of winnow_call: the number of inputs, each input's rank and
 * every extent (static ones against the manifest; dynamic ones against
 * their symbol's bound, INVALID_ARGUMENT "function 'f': batch is 65 in x,
 * above its bound 64", and against the value an earlier extent bound,
 * "function 'f': batch is 5 in x but 4 in lengths"). Only `rank` and
 * `shape` of the tensors are read (dtype, data and byte_size are left to
 * the call), so shape-only tensors may be passed. */
WINNOW_API winnow_status winnow_module_bind_symbols(const winnow_module *module,
                                                    size_t function_index,
                                                    const winnow_tensor *inputs,
                                                    size_t num_inputs,
                                                    int64_t *out_symbol_values);

/* The shape result `result_index` has in a call whose symbols have
 * `symbol_values` (as winnow_module_bind_symbols gives them; may be NULL
 * when the result has no dynamic extent): its static extents, and each dynamic
 * one replaced by its symbol's value. Writes winnow_tensor_spec.rank extents to
 * `out_shape` (may be NULL for rank 0). INVALID_ARGUMENT when a value is
 * outside [0, bound]. */
WINNOW_API winnow_status winnow_module_get_result_shape(
    const winnow_module *module, size_t function_index, size_t result_index,
    const int64_t *symbol_values, int64_t *out_shape);

/* Calls a function with caller-allocated outputs, one per result in order.
 * Every tensor is checked against the manifest before any memory is read or
 * written: counts, dtype, rank, each extent, byte_size, non-NULL data, i1
 * inputs holding only 0/1, and outputs overlapping neither the inputs nor
 * each other. A function with dynamic extents first binds its symbols from
 * the inputs (winnow_module_bind_symbols); its outputs' dynamic extents
 * must then equal the bound values (winnow_module_get_result_shape).
 * Inputs are never written. On error the outputs are untouched.
 * On a CUDA executable the tensors stay in host memory: the runtime copies
 * the inputs to stream-ordered device buffers, runs the function on the
 * executable's own stream, copies the results back and waits for the stream
 * before writing the outputs. */
WINNOW_API winnow_status winnow_call(winnow_executable *executable,
                                     const char *function_name,
                                     const winnow_tensor *inputs,
                                     size_t num_inputs, winnow_tensor *outputs,
                                     size_t num_outputs);
WINNOW_API winnow_status winnow_call_by_index(winnow_executable *executable,
                                              size_t function_index,
                                              const winnow_tensor *inputs,
                                              size_t num_inputs,
                                              winnow_tensor *outputs,
                                              size_t num_outputs);

/* Calls a function on tensors already in the executable's device memory
 * (CUDA: device pointers; CPU: host memory), without copies. The checks are
 * those of winnow_call except the i1 value check, which would read device
 * memory.
 *
 * On a CUDA executable the call is stream-ordered on `stream` (a CUstream
 * cast to void *; NULL is the legacy default stream, as in CUDA): every
 * allocation, copy and kernel is enqueued on it and the function returns
 * without waiting, so the outputs are ready when the stream reaches this
 * point. Nothing synchronises the host and nothing is read back, so the call
 * can be captured in a CUDA graph (cuStreamBeginCapture on `stream`).
 * Scratch memory comes from a workspace the executable keeps for each
 * stream it was called on (allocated once, at the first call on that
 * stream, and sized for the executable's largest function): calls on one
 * stream take turns enqueuing, so they never share scratch that is still in
 * use, and a call allocates nothing. A graph captured from such a call
 * refers to the stream's workspace, so replay it on that stream, or give
 * the call a workspace of its own with winnow_call_device_with_workspace.
 * (An artifact without workspace sizes, from before they existed, allocates
 * scratch stream-ordered instead; in a capture that becomes graph memory
 * nodes.) Errors the driver reports
 * while enqueuing are returned; a fault while the kernels run shows up at
 * the caller's next synchronisation, and the outputs are then unspecified.
 * On a CPU executable `stream` must be NULL and the call is synchronous. */
WINNOW_API winnow_status winnow_call_device(winnow_executable *executable,
                                            const char *function_name,
                                            const winnow_tensor *inputs,
                                            size_t num_inputs,
                                            winnow_tensor *outputs,
                                            size_t num_outputs, void *stream);
WINNOW_API winnow_status winnow_call_device_by_index(
    winnow_executable *executable, size_t function_index,
    const winnow_tensor *inputs, size_t num_inputs, winnow_tensor *outputs,
    size_t num_outputs, void *stream);

/* Device scratch for callers that own their memory (serving engines, CUDA
 * graphs): the bytes one call of the function takes from a workspace, and a
 * call that takes them from the caller's. 0 on a CPU executable and for a
 * function without scratch. FAILED_PRECONDITION when the artifact predates
 * workspace sizes or the compiler could not bound the function's scratch
 * (its allocations are then stream-ordered). */
#define WINNOW_WORKSPACE_ALIGNMENT 256
WINNOW_API winnow_status
winnow_function_workspace_size(const winnow_executable *executable,
                               size_t function_index, size_t *out_bytes);

/* winnow_call_device with the call's scratch taken from `workspace`: device
 * memory of at least winnow_function_workspace_size bytes, aligned to
 * WINNOW_WORKSPACE_ALIGNMENT (NULL when the size is 0). The workspace is the
 * caller's: two calls whose work may overlap on the GPU (on different
 * streams, or graph replays on different streams) need different
 * workspaces; calls on one stream may share one. Nothing is allocated. CUDA
 * executables only. */
WINNOW_API winnow_status winnow_call_device_with_workspace(
    winnow_executable *executable, size_t function_index,
    const winnow_tensor *inputs, size_t num_inputs, winnow_tensor *outputs,
    size_t num_outputs, void *stream, void *workspace, size_t workspace_bytes);

/*===----------------------------------------------------------------------===*
 * CUDA graphs and per-launch timing (CUDA executables only; both are
 * FAILED_PRECONDITION on a CPU executable)
 *===----------------------------------------------------------------------===*/

/* One call of a function captured as an instantiated CUDA graph: every
 * allocation, copy and kernel of the call replayed with one driver call. */
typedef struct winnow_graph_s winnow_graph;

/* Captures a call of the function on device tensors, checked as by
 * winnow_call_device, and instantiates it. Nothing runs during capture (it
 * is recorded on a private stream in thread-local capture mode); each
 * winnow_graph_launch then does what winnow_call_device would, on the same
 * pointers, whose memory must stay valid and unmoved while the graph
 * exists. The call's scratch is a workspace the graph owns (allocated at
 * capture, freed with the graph), so replays of one graph must not overlap:
 * launch them on one stream, or capture one graph per stream. A failed
 * capture leaves nothing behind. The graph retains the executable. */
WINNOW_API winnow_status winnow_graph_capture(winnow_executable *executable,
                                              size_t function_index,
                                              const winnow_tensor *inputs,
                                              size_t num_inputs,
                                              winnow_tensor *outputs,
                                              size_t num_outputs,
                                              winnow_graph **out_graph);
/* Enqueues one replay on `stream` (NULL: the legacy default stream);
 * returns without waiting, like winnow_call_device. */
WINNOW_API winnow_status winnow_graph_launch(winnow_graph *graph,
                                             void *stream);
/* Destroys the graph; NULL is a no-op. Replays still in flight finish. */
WINNOW_API void winnow_graph_destroy(winnow_graph *graph);

/* One kernel launch of a timed call. */
typedef struct winnow_launch_timing_s {
  const char *kernel; /* the kernel's name; owned by the executable */
  uint32_t grid[3];
  uint32_t block[3];
  uint32_t dynamic_shared_bytes;
  /* GPU time between CUDA events recorded on the stream just before and
   * just after the launch. */
  float milliseconds;
} winnow_launch_timing;

/* Calls the function as winnow_call_device does, with a pair of CUDA events
 * around every kernel launch, then waits for the stream and reports each
 * launch in order: the first min(capacity, launches) are written to
 * `timings` and the number of launches to *out_num_launches (so a caller
 * may ask with capacity 0 first). This replaces a profiler: the events
 * separate the launches slightly, so their sum exceeds a plain call's time
 * by a few microseconds per launch. */
WINNOW_API winnow_status winnow_call_device_timed(
    winnow_executable *executable, size_t function_index,
    const winnow_tensor *inputs, size_t num_inputs, winnow_tensor *outputs,
    size_t num_outputs, void *stream, winnow_launch_timing *timings,
    size_t capacity, size_t *out_num_launches);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WINNOW_RUNTIME_WINNOW_RUNTIME_H */
