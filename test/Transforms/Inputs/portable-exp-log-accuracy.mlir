// Measures tok-portable-exp-log against f64 libm rounded to f32: the
// largest distance in ulps over a sweep of inputs, then special values.
// Its f64 log against libm's log (called by name, so the pass leaves it
// alone): the largest distance in ulps over a sweep of inputs, and every
// Philox exponential -log((t + 0.5) 2^-24) rounded to f32 (t < 2^24).

func.func private @log(f64) -> f64

// Distance in ulps between two finite doubles of the same sign or zero.
func.func @ulps64(%a: f64, %b: f64) -> i64 {
  %ai = arith.bitcast %a : f64 to i64
  %bi = arith.bitcast %b : f64 to i64
  %min = arith.constant -9223372036854775808 : i64
  %zero = arith.constant 0 : i64
  %an = arith.subi %min, %ai : i64
  %bn = arith.subi %min, %bi : i64
  %aneg = arith.cmpi slt, %ai, %zero : i64
  %bneg = arith.cmpi slt, %bi, %zero : i64
  %ao = arith.select %aneg, %an, %ai : i64
  %bo = arith.select %bneg, %bn, %bi : i64
  %d = arith.subi %ao, %bo : i64
  %nd = arith.subi %zero, %d : i64
  %abs = arith.maxsi %d, %nd : i64
  return %abs : i64
}

// Distance in ulps between two finite floats of the same sign or zero.
func.func @ulps(%a: f32, %b: f32) -> i32 {
  %ai = arith.bitcast %a : f32 to i32
  %bi = arith.bitcast %b : f32 to i32
  %min = arith.constant -2147483648 : i32
  %zero = arith.constant 0 : i32
  // Sign-magnitude to a monotonic integer line.
  %an = arith.subi %min, %ai : i32
  %bn = arith.subi %min, %bi : i32
  %aneg = arith.cmpi slt, %ai, %zero : i32
  %bneg = arith.cmpi slt, %bi, %zero : i32
  %ao = arith.select %aneg, %an, %ai : i32
  %bo = arith.select %bneg, %bn, %bi : i32
  %d = arith.subi %ao, %bo : i32
  %nd = arith.subi %zero, %d : i32
  %abs = arith.maxsi %d, %nd : i32
  return %abs : i32
}

func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0 : i32
  // exp over [-103.9, 88.7] in 400000 steps.
  %n = arith.constant 400000 : index
  %lo = arith.constant -103.9 : f32
  %step = arith.constant 0.00048 : f32
  %maxExp = scf.for %i = %c0 to %n step %c1 iter_args(%m = %zero) -> (i32) {
    %ii = arith.index_cast %i : index to i32
    %fi = arith.sitofp %ii : i32 to f32
    %x2 = arith.mulf %fi, %step : f32
    %xx = arith.addf %lo, %x2 : f32
    %a = math.exp %xx : f32
    %xd = arith.extf %xx : f32 to f64
    %rd = math.exp %xd : f64
    %r = arith.truncf %rd : f64 to f32
    %u = func.call @ulps(%a, %r) : (f32, f32) -> i32
    %mm = arith.maxsi %m, %u : i32
    scf.yield %mm : i32
  }
  // log over every 7919th positive float bit pattern (subnormals to the largest finite).
  %stride = arith.constant 7919 : i32
  %count = arith.constant 270100 : index
  %maxLog = scf.for %i = %c0 to %count step %c1 iter_args(%m = %zero) -> (i32) {
    %ii = arith.index_cast %i : index to i32
    %b = arith.muli %ii, %stride : i32
    %one = arith.constant 1 : i32
    %b1 = arith.addi %b, %one : i32
    %x = arith.bitcast %b1 : i32 to f32
    %a = math.log %x : f32
    %xd = arith.extf %x : f32 to f64
    %rd = func.call @log(%xd) : (f64) -> f64
    %r = arith.truncf %rd : f64 to f32
    %u = func.call @ulps(%a, %r) : (f32, f32) -> i32
    %mm = arith.maxsi %m, %u : i32
    scf.yield %mm : i32
  }
  vector.print str "exp max ulp\n"
  vector.print %maxExp : i32
  vector.print str "log max ulp\n"
  vector.print %maxLog : i32
  // f64 log over every 23047171093068th positive double bit pattern
  // (subnormals to the largest finite), then densely over [0.5, 2).
  %zero64 = arith.constant 0 : i64
  %count64 = arith.constant 400000 : index
  %stride64 = arith.constant 23047171093068 : i64
  %maxLog64 = scf.for %i = %c0 to %count64 step %c1 iter_args(%m = %zero64) -> (i64) {
    %ii = arith.index_cast %i : index to i64
    %b = arith.muli %ii, %stride64 : i64
    %one = arith.constant 1 : i64
    %b1 = arith.addi %b, %one : i64
    %x = arith.bitcast %b1 : i64 to f64
    %a = math.log %x : f64
    %r = func.call @log(%x) : (f64) -> f64
    %u = func.call @ulps64(%a, %r) : (f64, f64) -> i64
    %mm = arith.maxsi %m, %u : i64
    scf.yield %mm : i64
  }
  %half = arith.constant 0x3FE0000000000000 : i64
  %denseStride = arith.constant 22517998136 : i64
  %maxLogNearOne = scf.for %i = %c0 to %count64 step %c1 iter_args(%m = %zero64) -> (i64) {
    %ii = arith.index_cast %i : index to i64
    %b = arith.muli %ii, %denseStride : i64
    %b1 = arith.addi %b, %half : i64
    %x = arith.bitcast %b1 : i64 to f64
    %a = math.log %x : f64
    %r = func.call @log(%x) : (f64) -> f64
    %u = func.call @ulps64(%a, %r) : (f64, f64) -> i64
    %mm = arith.maxsi %m, %u : i64
    scf.yield %mm : i64
  }
  // Every exponential Philox makes (Philox.cpp): -log((t + 0.5) 2^-24)
  // rounded to f32, t = the top 24 bits of a word.
  %words = arith.constant 16777216 : index
  %pointFive = arith.constant 0.5 : f64
  %scale = arith.constant 0x3E70000000000000 : f64
  %differ = scf.for %t = %c0 to %words step %c1 iter_args(%unlike = %zero) -> (i32) {
    %ti = arith.index_cast %t : index to i32
    %td = arith.uitofp %ti : i32 to f64
    %sum = arith.addf %td, %pointFive : f64
    %u = arith.mulf %sum, %scale : f64
    %a = math.log %u : f64
    %r = func.call @log(%u) : (f64) -> f64
    %an = arith.negf %a : f64
    %rn = arith.negf %r : f64
    %af = arith.truncf %an : f64 to f32
    %rf = arith.truncf %rn : f64 to f32
    %ab = arith.bitcast %af : f32 to i32
    %rb = arith.bitcast %rf : f32 to i32
    %ne = arith.cmpi ne, %ab, %rb : i32
    %one = arith.constant 1 : i32
    %inc = arith.addi %unlike, %one : i32
    %next = arith.select %ne, %inc, %unlike : i32
    scf.yield %next : i32
  }
  vector.print str "log f64 max ulp\n"
  vector.print %maxLog64 : i64
  vector.print %maxLogNearOne : i64
  vector.print str "philox exponentials unlike libm's\n"
  vector.print %differ : i32
  vector.print str "specials\n"
  %nan = arith.constant 0x7FC00000 : f32
  %inf = arith.constant 0x7F800000 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %f0 = arith.constant 0.0 : f32
  %f1 = arith.constant 1.0 : f32
  %fm1 = arith.constant -1.0 : f32
  %e1 = math.exp %nan : f32
  %e2 = math.exp %inf : f32
  %e3 = math.exp %ninf : f32
  %e4 = math.exp %f0 : f32
  %l1 = math.log %f1 : f32
  %l2 = math.log %f0 : f32
  %l3 = math.log %fm1 : f32
  %l4 = math.log %inf : f32
  %nz = arith.constant -0.0 : f32
  %l5 = math.log %nz : f32
  vector.print %e1 : f32
  vector.print %e2 : f32
  vector.print %e3 : f32
  vector.print %e4 : f32
  vector.print %l1 : f32
  vector.print %l2 : f32
  vector.print %l3 : f32
  vector.print %l4 : f32
  vector.print %l5 : f32
  vector.print str "specials f64\n"
  %dnan = arith.constant 0x7FF8000000000000 : f64
  %dinf = arith.constant 0x7FF0000000000000 : f64
  %d0 = arith.constant 0.0 : f64
  %dn0 = arith.constant -0.0 : f64
  %d1 = arith.constant 1.0 : f64
  %dm1 = arith.constant -1.0 : f64
  %dmin = arith.constant 0x0000000000000001 : f64
  %m1 = math.log %dnan : f64
  %m2 = math.log %dinf : f64
  %m3 = math.log %d0 : f64
  %m4 = math.log %dn0 : f64
  %m5 = math.log %d1 : f64
  %m6 = math.log %dm1 : f64
  %m7 = math.log %dmin : f64
  vector.print %m1 : f64
  vector.print %m2 : f64
  vector.print %m3 : f64
  vector.print %m4 : f64
  vector.print %m5 : f64
  vector.print %m6 : f64
  vector.print %m7 : f64
  return
}
