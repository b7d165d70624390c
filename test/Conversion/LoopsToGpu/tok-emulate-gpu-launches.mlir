// RUN: winnow-opt %s --tok-emulate-gpu-launches | FileCheck %s

// A launch becomes a parallel loop over its grid and block (block ids first,
// then thread ids) with the body inlined in an alloca scope; device
// allocations, copies and frees become their memref forms.
// CHECK-LABEL: func.func @launch
// CHECK-NOT: gpu.
// CHECK: %[[BUF:.*]] = memref.alloc() : memref<64xf32>
// CHECK: memref.copy %{{.*}}, %[[BUF]]
// CHECK: scf.parallel (%[[BX:[a-z0-9]+]], %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %[[TX:[a-z0-9]+]], {{.*}}) to (%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %[[SX:[a-z0-9_]+]],
// CHECK-NEXT: memref.alloca_scope {
// CHECK-NEXT: %[[BASE:.*]] = arith.muli %[[BX]], %[[SX]]
// CHECK-NEXT: %[[I:.*]] = arith.addi %[[BASE]], %[[TX]]
// CHECK: memref.store %{{.*}}, %[[BUF]][%[[I]]]
// CHECK: memref.dealloc %[[BUF]]
func.func @launch(%host: memref<64xf32>) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c32 = arith.constant 32 : index
  %buf = gpu.alloc () : memref<64xf32>
  gpu.memcpy %buf, %host : memref<64xf32>, memref<64xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %base = arith.muli %bx, %sx : index
    %i = arith.addi %base, %tx : index
    %v = arith.constant 1.0 : f32
    memref.store %v, %buf[%i] : memref<64xf32>
    gpu.terminator
  }
  gpu.dealloc %buf : memref<64xf32>
  return
}

// A single-thread launch (grid and block of one) gets no alloca scope: once
// canonicalisation folds the one-iteration loop into the function, a scope
// followed by more code would stay and convert-scf-to-cf would split its
// single block (batch-1 programs used to fail that way).
// CHECK-LABEL: func.func @single_thread
// CHECK: scf.parallel
// CHECK-NOT: memref.alloca_scope
// CHECK: memref.alloca() : memref<8xi32>
// CHECK: scf.for
// CHECK: return
func.func @single_thread(%out: memref<8xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %scratch = memref.alloca() : memref<8xi32>
    scf.for %i = %c0 to %c8 step %c1 {
      %v = arith.index_cast %i : index to i32
      memref.store %v, %scratch[%i] : memref<8xi32>
      memref.store %v, %out[%i] : memref<8xi32>
    }
    gpu.terminator
  }
  %last = arith.constant 7 : i32
  memref.store %last, %out[%c0] : memref<8xi32>
  return
}

// The same program through the CPU pipeline: the folded launch and the code
// after it lower to the LLVM dialect.
// RUN: winnow-opt %s --tok-emulate-gpu-launches --canonicalize --winnow-cpu-to-llvm | FileCheck %s --check-prefix=LLVM
// LLVM-LABEL: llvm.func @single_thread
// LLVM-NOT: alloca_scope

// RUN: winnow-opt %s --tok-emulate-gpu-launches --canonicalize --cse | FileCheck %s --check-prefix=SIMT

// Threads that cooperate run lane by lane: a parallel loop over the grid
// only; per block, the workgroup buffer (on the stack) and one register file
// per value that crosses a synchronising op (on the heap, freed when the
// block ends); each phase a loop over the block's threads.
// The shuffle phase reads the partner lane's register (lane xor 1, PTX's
// clamp), or NaN for a lane that does not exist.
// SIMT-LABEL: func.func @simt
// SIMT-DAG: %[[NAN:.*]] = arith.constant 0x7FC00000 : f32
// SIMT: scf.parallel (%[[BX:.*]]) = (%{{.*}}) to (%{{.*}}) step
// SIMT-DAG: %[[SHARED:.*]] = memref.alloca() {alignment = 64 : i64} : memref<32xf32>
// SIMT-DAG: %[[V:.*]] = memref.alloc() {alignment = 64 : i64} : memref<32xf32>
// SIMT-DAG: %[[O:.*]] = memref.alloc() {alignment = 64 : i64} : memref<32xf32>
// SIMT: scf.for %[[T1:.*]] = %{{.*}} to %{{.*}} step
// SIMT: %[[LOADED:.*]] = memref.load %arg0
// SIMT: memref.store %[[LOADED]], %[[V]][%[[T1]]]
// SIMT: scf.for %[[T2:.*]] = %{{.*}} to %{{.*}} step
// SIMT: arith.xori %{{.*}}, %c1_i32
// SIMT: %[[PARTNER:.*]] = scf.if
// SIMT-NEXT: memref.load %[[V]]
// SIMT: scf.yield %[[NAN]]
// SIMT: memref.store %[[PARTNER]], %[[O]][%[[T2]]]
// SIMT: scf.for %[[T3:.*]] = %{{.*}} to %{{.*}} step
// SIMT: memref.load %[[O]][%[[T3]]]
// SIMT: memref.store %{{.*}}, %[[SHARED]]
// SIMT: scf.for
// SIMT: memref.load %[[SHARED]]
// SIMT: memref.store %{{.*}}, %arg1
// SIMT-DAG: memref.dealloc %[[V]]
// SIMT-DAG: memref.dealloc %[[O]]
func.func @simt(%in: memref<64xf32>, %out: memref<64xf32>) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1)
             workgroup(%shared : memref<32xf32, #gpu.address_space<workgroup>>) {
    %base = arith.muli %bx, %sx : index
    %i = arith.addi %base, %tx : index
    %v = memref.load %in[%i] : memref<64xf32>
    %w = arith.constant 32 : i32
    %one = arith.constant 1 : i32
    %o, %ok = gpu.shuffle xor %v, %one, %w : f32
    memref.store %o, %shared[%tx] : memref<32xf32, #gpu.address_space<workgroup>>
    gpu.barrier
    %c31 = arith.constant 31 : index
    %j = arith.subi %c31, %tx : index
    %r = memref.load %shared[%j] : memref<32xf32, #gpu.address_space<workgroup>>
    memref.store %r, %out[%i] : memref<64xf32>
    gpu.terminator
  }
  return
}
