// RUN: winnow-opt %s --collective-to-gpu --canonicalize --cse | FileCheck %s
// RUN: winnow-opt %s --collective-to-gpu=form=reference --canonicalize --cse | FileCheck %s --check-prefix=REF
// RUN: not winnow-opt %s --collective-to-gpu=form=fast 2>&1 | FileCheck %s --check-prefix=FORM
// The shuffle form compiled to PTX has butterflies and down/index trees, ballots, popc,
// barriers, workgroup buffers, workgroup atomics.
// RUN: winnow-opt %s --pass-pipeline='builtin.module(collective-to-gpu,canonicalize,gpu-launch-sink-index-computations,gpu-kernel-outlining,winnow-cuda-to-nvvm,gpu-module-to-binary{format=isa})' | FileCheck %s --check-prefix=PTX

// FORM: collective-to-gpu: form must be 'shuffle' or 'reference', got 'fast'

// Whole warps (a static block of 64): the xor butterfly, 5 shuffles, every
// lane ends with the sum.
// CHECK-LABEL: func.func @warp_sum_full
// CHECK: %[[S0:.*]], %{{.*}} = gpu.shuffle xor %[[X:.*]], %c16_i32, %c32_i32 : f32
// CHECK-NEXT: %[[A0:.*]] = arith.addf %[[X]], %[[S0]] : f32
// CHECK-NEXT: %[[S1:.*]], %{{.*}} = gpu.shuffle xor %[[A0]], %c8_i32, %c32_i32 : f32
// CHECK-COUNT-3: gpu.shuffle xor
// CHECK-NOT: gpu.shuffle
// CHECK: memref.store
// REF-LABEL: func.func @warp_sum_full
// REF-NOT: gpu.shuffle
// REF: memref.store %{{.*}}, %{{.*}}[%{{.*}}] : memref<1024xf32, #gpu.address_space<workgroup>>
// REF: gpu.barrier
// REF: memref.alloca() : memref<32xf32>
func.func @warp_sum_full(%x: f32, %out: memref<64xf32>) {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %s = collective.warp_reduce add %x : f32
    memref.store %s, %out[%tx] : memref<64xf32>
    gpu.terminator
  }
  return
}

// A partial last warp (40 threads): a down tree over the lanes that exist
// (the shuffle width), lanes past them never combined, then lane 0's value
// to every lane.
// CHECK-LABEL: func.func @warp_sum_partial
// CHECK: %[[LANES:.*]] = arith.index_cast %{{.*}} : index to i32
// CHECK: %[[LANE:.*]] = arith.index_cast %{{.*}} : index to i32
// CHECK: %[[D16:.*]], %{{.*}} = gpu.shuffle down %[[X:.*]], %c16_i32, %[[LANES]] : f32
// CHECK-NEXT: %[[P16:.*]] = arith.addi %[[LANE]], %c16_i32 : i32
// CHECK-NEXT: %[[IN16:.*]] = arith.cmpi slt, %[[P16]], %[[LANES]] : i32
// CHECK-NEXT: %[[SUM16:.*]] = arith.addf %[[X]], %[[D16]] : f32
// CHECK-NEXT: arith.select %[[IN16]], %[[SUM16]], %[[X]] : f32
// CHECK-COUNT-4: gpu.shuffle down
// CHECK: gpu.shuffle idx %{{.*}}, %c0_i32, %[[LANES]] : f32
func.func @warp_sum_partial(%x: f32, %out: memref<64xf32>) {
  %c1 = arith.constant 1 : index
  %c40 = arith.constant 40 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c40, %sy = %c1, %sz = %c1) {
    %s = collective.warp_reduce add %x : f32
    memref.store %s, %out[%tx] : memref<64xf32>
    gpu.terminator
  }
  return
}

// A block reduction: warp trees, per-warp values in workgroup memory, warp 0
// reduces them, the result goes back through workgroup memory; three
// barriers (the last so the op can run again at once). The buffers are
// attributions of the launch.
// CHECK-LABEL: func.func @block_argmax
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%[[VALS:.*]] : memref<32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<1xf32, #gpu.address_space<workgroup>>, %[[IDXS:.*]] : memref<32xi32, #gpu.address_space<workgroup>>, %{{.*}} : memref<1xi32, #gpu.address_space<workgroup>>)
// CHECK-COUNT-10: gpu.shuffle xor
// CHECK: memref.store %{{.*}}, %[[VALS]]
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK: memref.load %[[VALS]]
// CHECK: gpu.barrier
// CHECK: gpu.barrier
func.func @block_argmax(%x: f32, %i: i32, %out: memref<2xf32>, %idx: memref<2xi32>) {
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %m, %k = collective.block_argmax %x, %i : f32, i32
    memref.store %m, %out[%bx] : memref<2xf32>
    memref.store %k, %idx[%bx] : memref<2xi32>
    gpu.terminator
  }
  return
}

// Flags are counted by a ballot and popc over the lanes before this one;
// the histogram adds with workgroup atomics.
// CHECK-LABEL: func.func @scan_and_histogram
// CHECK: %[[BALLOT:.*]] = nvvm.vote.sync ballot
// CHECK: %[[BELOW:.*]] = nvvm.read.ptx.sreg.lanemask.lt : i32
// CHECK: %[[MINE:.*]] = arith.andi %[[BALLOT]], %[[BELOW]] : i32
// CHECK: math.ctpop %[[MINE]] : i32
// CHECK: math.ctpop %[[BALLOT]] : i32
// CHECK: memref.atomic_rmw addi %c1_i32, %{{.*}}[%{{.*}}] : (i32, memref<16xi32, #gpu.address_space<workgroup>>) -> i32
// REF-LABEL: func.func @scan_and_histogram
// REF-NOT: nvvm.vote.sync
// REF-NOT: memref.atomic_rmw
// REF: return
func.func @scan_and_histogram(%flag: i32, %bin: index, %valid: i1, %out: memref<256xi32>) {
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1)
             workgroup(%h : memref<16xi32, #gpu.address_space<workgroup>>) {
    %p, %t = collective.block_exclusive_scan %flag flags : i32
    collective.block_histogram %bin if %valid into %h : index, memref<16xi32, #gpu.address_space<workgroup>>
    %c0 = arith.constant 0 : index
    %c = memref.load %h[%c0] : memref<16xi32, #gpu.address_space<workgroup>>
    %s = arith.addi %p, %t : i32
    %r = arith.addi %s, %c : i32
    memref.store %r, %out[%tx] : memref<256xi32>
    gpu.terminator
  }
  return
}

// The radix select: k' = min(k, count), nothing to do for k' = 0; else four
// digit passes (shifts 24, 16, 8, 0), each a cleared workgroup histogram,
// atomic counts of the keys matching the digits so far (8 keys per thread
// and iteration, loaded before any is counted), and warp 0's search of the
// bins (a lane scan by index shuffles).
// CHECK-LABEL: func.func @radix_select
// CHECK: %[[WANTED:.*]] = arith.minui %arg2, %arg1 : index
// CHECK: %[[NONE:.*]] = arith.cmpi eq, %[[WANTED]], %c0 : index
// CHECK: scf.if %[[NONE]] -> (i32, index)
// CHECK: scf.yield %c-1_i32, %c0
// CHECK-COUNT-8: memref.load %arg0
// CHECK-NOT: memref.atomic_rmw
// CHECK-COUNT-8: arith.shrui %{{.*}}, %c24_i32
// CHECK: memref.atomic_rmw addi
// CHECK: gpu.shuffle idx
// CHECK-COUNT-8: arith.shrui %{{.*}}, %c16_i32
// CHECK-COUNT-8: arith.shrui %{{.*}}, %c8_i32
// CHECK-NOT: arith.shrui
// CHECK: return
// REF-LABEL: func.func @radix_select
// REF-NOT: memref.atomic_rmw
// REF: memref.alloca() : memref<256xi32>
func.func @radix_select(%keys: memref<4096xi32>, %n: index, %k: index, %out: memref<2xi32>) {
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %t, %a = collective.block_radix_select %k of %keys[%n] : memref<4096xi32>
    %a32 = arith.index_cast %a : index to i32
    %c0 = arith.constant 0 : index
    memref.store %t, %out[%c0] : memref<2xi32>
    memref.store %a32, %out[%c1] : memref<2xi32>
    gpu.terminator
  }
  return
}

// A barrier is gpu.barrier in both forms.
// CHECK-LABEL: func.func @barrier
// CHECK: gpu.barrier
// CHECK-NOT: collective.
// REF-LABEL: func.func @barrier
// REF: gpu.barrier
func.func @barrier(%out: memref<64xf32>) {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %z = arith.constant 0.0 : f32
    memref.store %z, %out[%tx] : memref<64xf32>
    collective.block_barrier
    gpu.terminator
  }
  return
}

// PTX-DAG: .shared .align 4 .b8 __wg_block_argmax_kernel_0[128];
// PTX-DAG: .shared .align 4 .b8 __wg_radix_select_kernel_0[1024];
// PTX-DAG: .shared .align 4 .b8 __wg_scan_and_histogram_kernel_0[64];
// PTX-DAG: shfl.sync.bfly.b32
// PTX-DAG: shfl.sync.down.b32
// PTX-DAG: shfl.sync.idx.b32
// PTX-DAG: bar.sync{{.*}}0;
// PTX-DAG: vote.sync.ballot.b32
// PTX-DAG: popc.b32
// PTX-DAG: atom.shared.add.u32
// PTX-DAG: ld.shared.b32
// PTX-DAG: st.shared.b32

// A grid arrival, the same in both forms: a barrier; thread 0 fences
// (release, GPU scope), adds 1 to the group's counter and compares the old
// count with blocks - 1; the last block fences (acquire) and clears the
// counter; the flag goes through workgroup memory to every thread.
// CHECK-LABEL: func.func @grid_arrive
// CHECK-SAME: (%[[CNT:.*]]: memref<4xi32>, %[[OUT:.*]]: memref<4xi32>)
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%[[GX:.*]] = %c4, {{.*}} workgroup(%[[FLAG:.*]] : memref<1xi32, #gpu.address_space<workgroup>>)
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK-NEXT: llvm.fence syncscope("device") release
// CHECK-NEXT: %[[OLD:.*]] = memref.atomic_rmw addi %c1_i32, %[[CNT]][%[[BX]]]
// CHECK: %[[LAST:.*]] = arith.cmpi eq, %[[OLD]], %{{.*}} : i32
// CHECK: scf.if %[[LAST]]
// CHECK-NEXT: llvm.fence syncscope("device") acquire
// CHECK-NEXT: memref.store %c0_i32, %[[CNT]][%[[BX]]]
// CHECK: memref.store %{{.*}}, %[[FLAG]][%c0]
// CHECK: gpu.barrier
// CHECK: memref.load %[[FLAG]][%c0]
// REF-LABEL: func.func @grid_arrive
// REF: llvm.fence syncscope("device") release
// REF: memref.atomic_rmw addi
// REF: llvm.fence syncscope("device") acquire
// PTX: gpu.binary @grid_arrive_kernel {{.*}}fence.acq_rel.gpu;{{.*}}atom.global.add.u32{{.*}}fence.acq_rel.gpu;\0A\09st.global.b32 \09[%rd{{[0-9]+}}], 0;
func.func @grid_arrive(%counters: memref<4xi32>, %out: memref<4xi32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %last = collective.grid_arrive %counters[%bx] of %gx : memref<4xi32>
    %flag = arith.extui %last : i1 to i32
    memref.store %flag, %out[%bx] : memref<4xi32>
    gpu.terminator
  }
  return
}
