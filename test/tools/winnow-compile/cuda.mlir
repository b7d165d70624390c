// The cuda target: outlined kernels chained on one stream, PTX for each
// architecture with no unresolved externals, and host code that reaches the
// driver only through the runtime's table.
// RUN: winnow-compile %s --target=cuda --compile-to=gpu | FileCheck %s --check-prefix=GPU
// RUN: winnow-compile %s --target=cuda --compile-to=nvvm | FileCheck %s --check-prefix=NVVM
// RUN: winnow-compile %s --target=cuda --compile-to=ptx | FileCheck %s --check-prefix=PTX
// RUN: winnow-compile %s --target=cuda --cuda-cubin=none --compile-to=llvm-ir | FileCheck %s --check-prefix=HOST
// RUN: winnow-compile %s --target=cuda --cuda-cubin=none --compile-to=object -o %t.o
// RUN: llvm-nm --defined-only --extern-only %t.o | FileCheck %s --check-prefix=SYMS
// RUN: llvm-nm --undefined-only %t.o | count 0
// RUN: rm -rf %t.dump && winnow-compile %s --target=cuda --cuda-cubin=none --dump-kernels=%t.dump -o %t.wnn
// RUN: ls %t.dump | FileCheck %s --check-prefix=DUMP
// RUN: winnow-run %t.wnn --list | FileCheck %s --check-prefix=LIST
// RUN: winnow-compile %s --target=cuda --compile-to=gpu --fuse=false | FileCheck %s --check-prefix=UNFUSED

// tok-form-dispatch-regions fuses select and compact (small rows: one
// launch beats two under the cuda cost model), and tok-offload-to-gpu maps
// the fused row loop to one thread block per row: the select's phases
// (rank, placement, padding, count) and the gather are spread over the
// block's threads with barriers between them; the kept flags live in the
// block's shared memory (a 16-byte aligned workgroup buffer). Everything
// waits on async tokens, nothing on the host.
// GPU-LABEL: func.func @prune
// GPU: %[[T0:.*]] = gpu.wait async
// GPU-NOT: gpu.alloc
// GPU: %[[T1:.*]] = gpu.launch_func async [%[[T0]]] @prune_kernel::@prune_kernel blocks in (%c2, %c1, %c1) threads in (%c256,
// GPU-NOT: gpu.launch_func
// GPU: gpu.wait [%[[T1]]]
// GPU: gpu.module @prune_kernel
// GPU: gpu.func @prune_kernel({{.*}}) workgroup(%[[SHARED:.*]] : memref<64xi8, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}) kernel
// GPU: %[[ARENA:.*]] = memref.memory_space_cast %[[SHARED]]
// GPU: memref.view %[[ARENA]]{{.*}} : memref<64xi8> to memref<1x64xi8>
// GPU: scf.for {{.*}} {
// GPU: } {tok.thread_phase}
// GPU-NEXT: gpu.barrier
// GPU-NOT: gpu.module

// Without fusion: the select's block per row (it uses shared memory and
// barriers, not the dispatch's block phases), then the gather: two launches.
// UNFUSED-LABEL: func.func @prune
// UNFUSED-COUNT-2: gpu.launch_func
// UNFUSED-NOT: gpu.launch_func
// UNFUSED-NOT: tok.block_phases

// NVVM: gpu.module @prune_kernel [#nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">, #nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">]
// NVVM: llvm.func @prune_kernel({{.*}}) attributes {gpu.kernel
// NVVM: nvvm.read.ptx.sreg.tid.x

// PTX-NOT: .extern
// PTX: kernel module prune_kernel, sm_80
// PTX: .target sm_80
// PTX: .entry prune_kernel(
// PTX: kernel module prune_kernel, sm_90
// PTX: .target sm_90
// PTX: bar.sync
// The gather moves 8 bf16 per 16-byte load and store when both buffers are
// 16-byte aligned, else 16-bit loads and stores.
// PTX-DAG: ld.global.v4.b32
// PTX-DAG: st.global.v4.b32
// PTX-DAG: ld.global.{{[bu]}}16
// PTX-DAG: st.global.{{[bu]}}16
// Index computations are sunk into the launches before outlining, so trip
// counts are immediates (here the 64-token loop's bound).
// PTX-DAG: setp.{{[a-z]+}}.{{[bu]}}64 {{.*}}, 64;
// PTX-NOT: .extern

// HOST-NOT: llvm.global_ctors
// HOST-DAG: @__winnow_cuda_table = {{.*}}global [19 x ptr] zeroinitializer
// HOST-DAG: @__winnow_cuda_abi_version = {{.*}}constant i32 1
// HOST-DAG: @prune_kernel_binary = internal constant {{.*}} align 16
// HOST-DAG: define void @__winnow_entry_prune(ptr
// HOST-DAG: define void @__winnow_cuda_load()
// HOST-DAG: define void @__winnow_cuda_unload()
// No host readback: nothing in the call copies memory or waits on an event.
// HOST-NOT: mgpuMemcpy
// HOST-NOT: mgpuEventSynchronize
// HOST-NOT: llvm.global_ctors

// SYMS: R __winnow_cuda_abi_version
// SYMS-NEXT: T __winnow_cuda_load
// SYMS-NEXT: B __winnow_cuda_table
// SYMS-NEXT: T __winnow_cuda_unload
// SYMS-NEXT: T __winnow_entry_prune
// SYMS-NOT: {{.}}

// DUMP: prune_kernel.nvvm.mlir
// DUMP-NEXT: prune_kernel.sm_90.ptx
// DUMP-NOT: prune_kernel_0

// LIST: [0] cuda ptx sm_90, host {{.*}} host ABI 1
// LIST: kernels: prune_kernel::prune_kernel{{$}}

func.func @prune(%s: tensor<2x64xf32>, %h: tensor<2x64x32xbf16>) -> (tensor<2x16xi32>, tensor<2xi32>, tensor<2x16x32xbf16>) {
  %i, %n = tok.select #tok.top_k<16> of %s : (tensor<2x64xf32>) -> (tensor<2x16xi32>, tensor<2xi32>)
  %g, %m = tok.compact %i, %n gather(%h) : (tensor<2x16xi32>, tensor<2xi32>, tensor<2x64x32xbf16>) -> (tensor<2x16x32xbf16>, tensor<2x64xi32>)
  return %i, %n, %g : tensor<2x16xi32>, tensor<2xi32>, tensor<2x16x32xbf16>
}
