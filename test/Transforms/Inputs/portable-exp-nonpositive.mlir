// A math.exp marked tok.nonpositive_exponent gives the bits of the plain
// expansion for every x <= 0 (and a NaN for a NaN): counts the sign-bit
// patterns 0x80000000 + 131 k (every 131st negative float, -0.0, the
// subnormals, -inf and the negative NaNs among them) where the two differ.

func.func private @printI64(i64)
func.func private @printNewline()

func.func @main() {
  %zero = arith.constant 0 : i64
  %one = arith.constant 1 : i64
  %first = arith.constant 2147483648 : i64
  %end = arith.constant 4294967296 : i64
  %step = arith.constant 131 : i64
  %mismatches = scf.for %i = %first to %end step %step
      iter_args(%count = %zero) -> (i64) : i64 {
    %word = arith.trunci %i : i64 to i32
    %x = arith.bitcast %word : i32 to f32
    %plain = math.exp %x : f32
    %marked = math.exp %x {tok.nonpositive_exponent} : f32
    %plainBits = arith.bitcast %plain : f32 to i32
    %markedBits = arith.bitcast %marked : f32 to i32
    %isNan = arith.cmpf uno, %x, %x : f32
    %markedNan = arith.cmpf uno, %marked, %marked : f32
    %same = arith.cmpi eq, %plainBits, %markedBits : i32
    %ok = arith.select %isNan, %markedNan, %same : i1
    %okWide = arith.extui %ok : i1 to i64
    %bad = arith.xori %okWide, %one : i64
    %next = arith.addi %count, %bad : i64
    scf.yield %next : i64
  }
  call @printI64(%mismatches) : (i64) -> ()
  call @printNewline() : () -> ()
  return
}
