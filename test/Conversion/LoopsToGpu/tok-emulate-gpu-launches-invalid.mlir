// RUN: winnow-opt %s --tok-emulate-gpu-launches --verify-diagnostics

// Threads that synchronise cannot run one after another.
func.func @barrier() {
  %c1 = arith.constant 1 : index
  // expected-error @below {{cannot be emulated: it synchronises threads}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    gpu.barrier
    gpu.terminator
  }
  return
}
