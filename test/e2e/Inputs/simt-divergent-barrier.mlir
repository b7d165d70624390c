// Threads 0..2 of 32 wait at a barrier the others never reach.
func.func @main() {
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %few = arith.cmpi ult, %tx, %c3 : index
    scf.if %few {
      gpu.barrier
    }
    gpu.terminator
  }
  return
}
