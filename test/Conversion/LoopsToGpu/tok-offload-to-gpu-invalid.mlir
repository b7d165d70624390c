// RUN: winnow-opt %s --split-input-file --tok-offload-to-gpu --verify-diagnostics

// A buffer shared by every iteration, written at a position that does not
// depend on the iteration: the GPU threads would race (the CPU would not).
func.func @shared_accumulator(%in: memref<4x8xf32>, %out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %acc = memref.alloc() : memref<8xf32>
  scf.parallel (%b) = (%c0) to (%c4) step (%c1) {
    scf.for %i = %c0 to %c8 step %c1 {
      %v = memref.load %in[%b, %i] : memref<4x8xf32>
      // expected-error @below {{writes a buffer shared by every iteration of a parallel loop at a position that does not depend on the iteration: GPU threads would race}}
      memref.store %v, %acc[%i] : memref<8xf32>
    }
    %s = memref.load %acc[%c0] : memref<8xf32>
    memref.store %s, %out[%b] : memref<4xf32>
    scf.reduce
  }
  memref.dealloc %acc : memref<8xf32>
  return
}

// -----

// A function body with several blocks is not a loop nest the pass maps.
func.func @branches(%c: i1, %out: memref<1xf32>) {
  // expected-error @above {{cannot be offloaded to the GPU: its body has more than one block}}
  cf.cond_br %c, ^a, ^b
^a:
  return
^b:
  return
}

// -----

// A prebuilt launch that uses a value device code computed outside it (a
// count loaded from device memory) cannot be separated from that code, and
// a launch cannot be nested in another.
func.func @launch_uses_device_value(%count: memref<1xindex>, %out: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %n = memref.load %count[%c0] : memref<1xindex>
  // expected-error @below {{cannot be offloaded: it shares device values with the code around it, which would have to run inside it}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %f = arith.index_cast %n : index to i32
    %v = arith.sitofp %f : i32 to f32
    memref.store %v, %out[%tx] : memref<64xf32>
    gpu.terminator
  }
  return
}
