// RUN: winnow-opt %s --split-input-file --tok-offload-to-gpu --canonicalize | FileCheck %s
// RUN: not winnow-opt %s --split-input-file --pass-pipeline="builtin.module(tok-offload-to-gpu{block-size=48})" 2>&1 | FileCheck %s --check-prefix=BLOCK

// BLOCK: error: tok-offload-to-gpu: block-size must be a multiple of 32 in [32, 1024], got 48

// A parallel nest becomes a 1-D grid, one thread per iteration, delinearised
// innermost-fastest; scratch allocas become private to the launch.
// CHECK-LABEL: func.func @rows
// CHECK-DAG: %[[C100:.*]] = arith.constant 100 : index
// CHECK-DAG: %[[C400:.*]] = arith.constant 400 : index
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C2]], {{.*}}) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%[[BDIM:.*]] = %[[C256]],
// CHECK-NEXT: %[[SCRATCH:.*]] = memref.alloca() : memref<16xf32>
// CHECK-NEXT: %[[BASE:.*]] = arith.muli %[[BX]], %[[BDIM]]
// CHECK-NEXT: %[[LINEAR:.*]] = arith.addi %[[BASE]], %[[TX]]
// CHECK-NEXT: %[[IN:.*]] = arith.cmpi ult, %[[LINEAR]], %[[C400]]
// CHECK-NEXT: scf.if %[[IN]] {
// CHECK-NEXT: %[[I:.*]] = arith.remui %[[LINEAR]], %[[C100]]
// CHECK-NEXT: %[[B:.*]] = arith.divui %[[LINEAR]], %[[C100]]
// CHECK-NEXT: %[[V:.*]] = memref.load %{{.*}}[%[[B]], %[[I]]]
// CHECK-NEXT: memref.store %[[V]], %[[SCRATCH]]
// CHECK: gpu.terminator
// CHECK-NOT: memref.alloca
// CHECK: return
func.func @rows(%in: memref<4x100xf32>, %out: memref<4x100xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c100 = arith.constant 100 : index
  %scratch = memref.alloca() : memref<16xf32>
  scf.parallel (%b, %i) = (%c0, %c0) to (%c4, %c100) step (%c1, %c1) {
    %v = memref.load %in[%b, %i] : memref<4x100xf32>
    memref.store %v, %scratch[%c0] : memref<16xf32>
    %w = memref.load %scratch[%c0] : memref<16xf32>
    memref.store %w, %out[%b, %i] : memref<4x100xf32>
    scf.reduce
  }
  return
}

// -----

// Sequential code gets a single-thread launch; a small static loop a warp-
// sized block; memref.copy a parallel copy; buffers move to device memory
// and are freed after their last launch.
// CHECK-LABEL: func.func @serial_then_parallel
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK: %[[TMP:.*]] = gpu.alloc () : memref<8xi32>
// CHECK: gpu.launch {{.*}} in (%{{.*}} = %[[C1]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]]) threads({{.*}}) in (%{{.*}} = %[[C1]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]])
// CHECK-NEXT: memref.load
// CHECK-NEXT: memref.store
// CHECK-NEXT: gpu.terminator
// CHECK: gpu.launch {{.*}} threads({{.*}}) in (%{{.*}} = %[[C32]],
// CHECK: memref.store %{{.*}}, %[[TMP]]
// CHECK: gpu.launch {{.*}} threads({{.*}}) in (%{{.*}} = %[[C32]],
// CHECK: memref.load %[[TMP]]
// CHECK: gpu.dealloc %[[TMP]]
// CHECK-NEXT: return
func.func @serial_then_parallel(%in: memref<8xi32>, %out: memref<8xi32>, %n: memref<1xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %tmp = memref.alloc() : memref<8xi32>
  %first = memref.load %in[%c0] : memref<8xi32>
  memref.store %first, %n[%c0] : memref<1xi32>
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %v = memref.load %in[%i] : memref<8xi32>
    memref.store %v, %tmp[%i] : memref<8xi32>
    scf.reduce
  }
  memref.copy %tmp, %out : memref<8xi32> to memref<8xi32>
  memref.dealloc %tmp : memref<8xi32>
  return
}

// -----

// A loop bound read from device memory cannot leave a kernel: the read and
// the loop share one launch.
// CHECK-LABEL: func.func @flow_into_parallel
// CHECK: gpu.launch
// CHECK-NEXT: %[[RAW:.*]] = memref.load
// CHECK-NEXT: %[[N:.*]] = arith.index_cast %[[RAW]]
// CHECK-NEXT: scf.parallel (%{{.*}}) = (%{{.*}}) to (%[[N]])
// CHECK: gpu.terminator
// CHECK-NOT: gpu.launch
func.func @flow_into_parallel(%in: memref<8xi32>, %out: memref<8xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %raw = memref.load %in[%c0] : memref<8xi32>
  %bound = arith.index_cast %raw : i32 to index
  scf.parallel (%i) = (%c0) to (%bound) step (%c1) {
    %v = memref.load %in[%i] : memref<8xi32>
    memref.store %v, %out[%i] : memref<8xi32>
    scf.reduce
  }
  return
}

// -----

// Constant tensors live in host memory: copied to a device buffer first.
// CHECK-LABEL: func.func @constant
// CHECK: %[[HOST:.*]] = memref.get_global @table
// CHECK-NEXT: %[[DEV:.*]] = gpu.alloc () : memref<4xf32>
// CHECK-NEXT: gpu.memcpy %[[DEV]], %[[HOST]]
// CHECK: gpu.launch
// CHECK: memref.load %[[DEV]]
// CHECK: gpu.dealloc %[[DEV]]
memref.global "private" constant @table : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
func.func @constant(%out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %g = memref.get_global @table : memref<4xf32>
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    %v = memref.load %g[%i] : memref<4xf32>
    memref.store %v, %out[%i] : memref<4xf32>
    scf.reduce
  }
  return
}

// -----

// A row buffer at the top level (a one-row tok.dispatch whose row loop
// canonicalisation folded away) is shared by the launches that write and
// read it: device memory freed at the end, not per-thread scratch.
// CHECK-LABEL: func.func @one_row_dispatch
// CHECK: %[[ROW:.*]] = gpu.alloc () : memref<1x64xf32>
// CHECK: gpu.launch
// CHECK-NOT: memref.alloca
// CHECK: memref.store %{{.*}}, %[[ROW]]
// CHECK: gpu.launch
// CHECK-NOT: memref.alloca
// CHECK: memref.load %[[ROW]]
// CHECK: gpu.dealloc %[[ROW]] : memref<1x64xf32>
// CHECK-NEXT: return
func.func @one_row_dispatch(%in: memref<1x64xf32>, %out: memref<1x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %row = memref.alloca() {tok.row_buffer} : memref<1x64xf32>
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %v = memref.load %in[%c0, %i] : memref<1x64xf32>
    memref.store %v, %row[%c0, %i] : memref<1x64xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %j = arith.subi %c64, %i : index
    %k = arith.subi %j, %c1 : index
    %v = memref.load %row[%c0, %k] : memref<1x64xf32>
    memref.store %v, %out[%c0, %i] : memref<1x64xf32>
    scf.reduce
  }
  return
}

// -----

// A top-level row buffer nothing reads (an unused result) is dropped with
// its stores, so the launch that only filled it disappears.
// CHECK-LABEL: func.func @unread_row_buffer
// CHECK-NOT: gpu.alloc
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @unread_row_buffer(%in: memref<1x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %row = memref.alloca() {tok.row_buffer} : memref<1x64xf32>
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %v = memref.load %in[%c0, %i] : memref<1x64xf32>
    memref.store %v, %row[%c0, %i] : memref<1x64xf32>
    scf.reduce
  }
  return
}

// -----

// A launch a GPU form built itself (a cooperative block kernel) stays one
// launch: its workgroup-space allocas become workgroup attributions, the
// scratch it uses gets a private copy, the code around it its own launches.
// CHECK-LABEL: func.func @prebuilt_launch
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c4, %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c64, %{{.*}} = %c1, %{{.*}} = %c1)
// CHECK-SAME: workgroup(%[[SHARED:.*]] : memref<64xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[SCRATCH:.*]] = memref.alloca() : memref<2xf32>
// CHECK: memref.store %{{.*}}, %[[SHARED]]
// CHECK: gpu.barrier
// CHECK: memref.store %{{.*}}, %[[SCRATCH]]
// CHECK: gpu.terminator
// CHECK: gpu.launch
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @prebuilt_launch(%in: memref<4x64xf32>, %out: memref<4x64xf32>, %other: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c63 = arith.constant 63 : index
  %c64 = arith.constant 64 : index
  %scratch = memref.alloca() : memref<2xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %shared = memref.alloca() : memref<64xf32, #gpu.address_space<workgroup>>
    %v = memref.load %in[%bx, %tx] : memref<4x64xf32>
    memref.store %v, %shared[%tx] : memref<64xf32, #gpu.address_space<workgroup>>
    gpu.barrier
    %mirror = arith.subi %c63, %tx : index
    %w = memref.load %shared[%mirror] : memref<64xf32, #gpu.address_space<workgroup>>
    memref.store %w, %scratch[%c0] : memref<2xf32>
    %x = memref.load %scratch[%c0] : memref<2xf32>
    memref.store %x, %out[%bx, %tx] : memref<4x64xf32>
    gpu.terminator
  }
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    %z = arith.constant 0.0 : f32
    memref.store %z, %other[%i] : memref<4xf32>
    scf.reduce
  }
  return
}

// -----

// A prebuilt launch whose results were dead (canonicalisation dropped its
// stores) only synchronises: it is dropped, the rest stays.
// CHECK-LABEL: func.func @barrier_only_launch
// CHECK: gpu.launch
// CHECK-NEXT: memref.load
// CHECK-NEXT: collective.block_barrier
// CHECK: memref.store
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @barrier_only_launch(%in: memref<4xf32>, %out: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    collective.block_barrier
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    %v = memref.load %in[%bx] : memref<4xf32>
    collective.block_barrier
    memref.store %v, %out[%bx] : memref<4xf32>
    gpu.terminator
  }
  return
}
