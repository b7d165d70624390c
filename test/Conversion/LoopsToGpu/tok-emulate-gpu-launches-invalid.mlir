// RUN: winnow-opt %s --split-input-file --tok-emulate-gpu-launches --verify-diagnostics

// A synchronising op may sit in scf.for and scf.if, which run at block
// level; any other region (here a while loop) cannot be split into phases.
func.func @shuffle_in_while(%x: f32) {
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %w = arith.constant 32 : i32
    %one = arith.constant 1 : i32
    %false = arith.constant false
    // expected-error @below {{cannot be emulated: it contains a synchronising op (only scf.for and scf.if may)}}
    scf.while (%go = %false) : (i1) -> () {
      scf.condition(%go)
    } do {
      %o, %ok = gpu.shuffle xor %x, %one, %w : f32
      scf.yield %ok : i1
    }
    gpu.terminator
  }
  return
}

// -----

// Per-thread values cross a barrier in one slot per thread; a per-thread
// buffer cannot.
func.func @private_buffer_across_barrier() {
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    // expected-error @below {{cannot be emulated: a per-thread value of type 'memref<4xf32>' is used across a synchronising op}}
    %scratch = memref.alloca() : memref<4xf32>
    gpu.barrier
    %c0 = arith.constant 0 : index
    %v = memref.load %scratch[%c0] : memref<4xf32>
    gpu.terminator
  }
  return
}

// -----

func.func @vote_any(%p: i1) {
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %all = arith.constant -1 : i32
    // expected-error @below {{cannot be emulated: only the ballot vote is}}
    %v = nvvm.vote.sync any %all, %p -> i1
    gpu.terminator
  }
  return
}

// -----

func.func @private_attribution() {
  %c1 = arith.constant 1 : index
  // expected-error @below {{cannot be emulated: expected a synchronous single-block launch without private attributions}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1)
             private(%p : memref<4xf32, #gpu.address_space<private>>) {
    gpu.terminator
  }
  return
}
