// RUN: winnow-opt %s --split-input-file --verify-diagnostics

// A collective is executed by the threads of a block.
func.func @outside_kernel(%x: f32) -> f32 {
  // expected-error @below {{must be inside a gpu.launch or gpu.func: it is executed by the threads of a block}}
  %s = collective.warp_reduce add %x : f32
  return %s : f32
}

// -----

func.func @histogram_in_global_memory(%bin: index, %valid: i1, %h: memref<16xi32>) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    // expected-error @below {{histogram must be in workgroup memory (#gpu.address_space<workgroup>), got 'memref<16xi32>'}}
    collective.block_histogram %bin if %valid into %h : index, memref<16xi32>
    gpu.terminator
  }
  return
}

// -----

func.func @reduce_f16(%x: f16) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    // expected-error @below {{operand #0 must be 32-bit float or 32-bit signless integer}}
    %s = collective.block_reduce max %x : f16
    gpu.terminator
  }
  return
}

// -----

func.func @barrier_outside_kernel() {
  // expected-error @below {{must be inside a gpu.launch or gpu.func: it is executed by the threads of a block}}
  collective.block_barrier
  return
}

// -----

func.func @grid_arrive_outside_kernel(%counters: memref<4xi32>, %g: index) {
  // expected-error @below {{must be inside a gpu.launch or gpu.func: it is executed by the threads of a block}}
  %last = collective.grid_arrive %counters[%g] of %g : memref<4xi32>
  return
}

// -----

func.func @grid_arrive_workgroup_counters() {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1)
             workgroup(%c : memref<4xi32, #gpu.address_space<workgroup>>) {
    // expected-error @below {{counters must be in global memory: they are shared by the blocks of the grid}}
    %last = collective.grid_arrive %c[%bx] of %gx : memref<4xi32, #gpu.address_space<workgroup>>
    gpu.terminator
  }
  return
}
