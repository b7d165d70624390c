// RUN: winnow-opt %s --pass-pipeline='builtin.module(collective-to-gpu{form=shuffle},tok-emulate-gpu-launches,canonicalize,cse,convert-scf-to-cf,expand-strided-metadata,lower-affine,finalize-memref-to-llvm,convert-math-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,convert-cf-to-llvm,convert-func-to-llvm,reconcile-unrealized-casts)' | mlir-runner -e main --entry-point-result=void --shared-libs=%mlir_lib_dir/libmlir_runner_utils.so,%mlir_lib_dir/libmlir_c_runner_utils.so | FileCheck %s
// RUN: winnow-opt %s --pass-pipeline='builtin.module(collective-to-gpu{form=reference},tok-emulate-gpu-launches,canonicalize,cse,convert-scf-to-cf,expand-strided-metadata,lower-affine,finalize-memref-to-llvm,convert-math-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,convert-cf-to-llvm,convert-func-to-llvm,reconcile-unrealized-casts)' | mlir-runner -e main --entry-point-result=void --shared-libs=%mlir_lib_dir/libmlir_runner_utils.so,%mlir_lib_dir/libmlir_c_runner_utils.so | FileCheck %s

// Four blocks each publish a partial sum (block_reduce of their threads'
// global ids); exactly one block is told it is the last, it folds the four
// partials in block order (0 + 1 + ... + 127 = 8128), and the counter is 0
// again afterwards, so a second launch on the same counter works too.
// CHECK: [8128, 1, 0, 8128, 2, 0]
func.func @fold(%counters: memref<1xi32>, %partials: memref<4xi32>,
                %out: memref<6xi32>, %round: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c32 = arith.constant 32 : index
  %one = arith.constant 1 : i32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %base = arith.muli %bx, %c32 : index
    %id = arith.addi %base, %tx : index
    %v = arith.index_cast %id : index to i32
    %partial = collective.block_reduce add %v : i32
    %first = arith.cmpi eq, %tx, %c0 : index
    scf.if %first {
      memref.store %partial, %partials[%bx] : memref<4xi32>
    }
    %last = collective.grid_arrive %counters[%c0] of %gx : memref<1xi32>
    %leads = arith.andi %last, %first : i1
    scf.if %leads {
      %sum = scf.for %b = %c0 to %c4 step %c1 iter_args(%acc = %v) -> (i32) {
        %p = memref.load %partials[%b] : memref<4xi32>
        %next = arith.addi %acc, %p : i32
        scf.yield %next : i32
      }
      // %acc started at thread 0's own id, which is bx * 32.
      %own = arith.index_cast %base : index to i32
      %total = arith.subi %sum, %own : i32
      %at = arith.muli %round, %c3 : index
      memref.store %total, %out[%at] : memref<6xi32>
      %count_at = arith.addi %at, %c1 : index
      %old = memref.atomic_rmw addi %one, %out[%count_at] : (i32, memref<6xi32>) -> i32
    }
    gpu.terminator
  }
  %c2 = arith.constant 2 : index
  %at = arith.muli %round, %c3 : index
  %counter_at = arith.addi %at, %c2 : index
  %left = memref.load %counters[%c0] : memref<1xi32>
  memref.store %left, %out[%counter_at] : memref<6xi32>
  return
}

func.func private @printMemrefI32(memref<*xi32>)

func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c6 = arith.constant 6 : index
  %zero = arith.constant 0 : i32
  %counters = memref.alloc() : memref<1xi32>
  memref.store %zero, %counters[%c0] : memref<1xi32>
  %partials = memref.alloc() : memref<4xi32>
  %out = memref.alloc() : memref<6xi32>
  scf.for %i = %c0 to %c6 step %c1 {
    memref.store %zero, %out[%i] : memref<6xi32>
  }
  // The second round's count slot starts at 1, so it reads 2 when exactly
  // one block of that round was last.
  %c4 = arith.constant 4 : index
  %one = arith.constant 1 : i32
  memref.store %one, %out[%c4] : memref<6xi32>
  call @fold(%counters, %partials, %out, %c0) : (memref<1xi32>, memref<4xi32>, memref<6xi32>, index) -> ()
  call @fold(%counters, %partials, %out, %c1) : (memref<1xi32>, memref<4xi32>, memref<6xi32>, index) -> ()
  %u = memref.cast %out : memref<6xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}
