// Measures tok-portable-exp-log against f64 libm rounded to f32: the
// largest distance in ulps over a sweep of inputs, then special values.

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
    %rd = math.log %xd : f64
    %r = arith.truncf %rd : f64 to f32
    %u = func.call @ulps(%a, %r) : (f32, f32) -> i32
    %mm = arith.maxsi %m, %u : i32
    scf.yield %mm : i32
  }
  vector.print str "exp max ulp\n"
  vector.print %maxExp : i32
  vector.print str "log max ulp\n"
  vector.print %maxLog : i32
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
  return
}
