// RUN: winnow-opt %s --split-input-file --pass-pipeline='builtin.module(tok-outline-parallel-loops{min-work=100},canonicalize)' | FileCheck %s --enable-var-scope
// RUN: winnow-opt %s --split-input-file --pass-pipeline='builtin.module(tok-outline-parallel-loops{min-work=100})' | FileCheck %s --enable-var-scope --check-prefix=STAYS

// CHECK-LABEL: func.func @rows(
// CHECK-SAME: %[[IN:.*]]: memref<8x64xf32>, %[[OUT:.*]]: memref<8x64xf32>)
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[EIGHT:.*]] = arith.constant 8 : index
// CHECK-NOT: memref.alloca
// CHECK-NOT: scf.parallel
// CHECK: call @rows_par0_launch(%[[EIGHT]], %[[ONE]], %[[OUT]], %[[IN]])
// CHECK-LABEL: func.func private @rows_par0(
// CHECK-SAME: %[[BEGIN:.*]]: index, %[[END:.*]]: index, %[[TOUT:.*]]: memref<8x64xf32>, %[[TIN:.*]]: memref<8x64xf32>)
// CHECK: %[[SCRATCH:.*]] = memref.alloca() : memref<64xf32>
// CHECK: scf.for %[[R:.*]] = %[[BEGIN]] to %[[END]]
// CHECK: memref.load %[[TIN]][%[[R]],
// CHECK: memref.store %{{.*}}, %[[SCRATCH]]
// CHECK: memref.store %{{.*}}, %[[TOUT]][%[[R]],
// CHECK: func.func private @rows_par0_launch(index, index, memref<8x64xf32>, memref<8x64xf32>) attributes {tok.parallel_body = @rows_par0}

// Rows with their own scratch: the alloca moves into the task.
func.func @rows(%in: memref<8x64xf32>, %out: memref<8x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c64 = arith.constant 64 : index
  %scratch = memref.alloca() : memref<64xf32>
  scf.parallel (%r) = (%c0) to (%c8) step (%c1) {
    scf.for %j = %c0 to %c64 step %c1 {
      %v = memref.load %in[%r, %j] : memref<8x64xf32>
      memref.store %v, %scratch[%j] : memref<64xf32>
    }
    scf.for %j = %c0 to %c64 step %c1 {
      %v = memref.load %scratch[%j] : memref<64xf32>
      memref.store %v, %out[%r, %j] : memref<8x64xf32>
    }
    scf.reduce
  }
  return
}

// -----

// CHECK-LABEL: func.func @heap(
// CHECK-SAME: %[[IN:.*]]: memref<?x?xf32>, %[[N:.*]]: index, %[[M:.*]]: index)
// CHECK-NOT: memref.alloc
// CHECK: %[[ROWS:.*]] = arith.maxsi %[[N]]
// CHECK: %[[SPAN:.*]] = arith.subi %[[M]]
// CHECK: %[[COLS:.*]] = arith.maxsi %[[SPAN]]
// CHECK: %[[ITERATIONS:.*]] = arith.muli %[[ROWS]], %[[COLS]]
// CHECK: call @heap_par0_launch(%[[ITERATIONS]], %{{.*}}, %[[M]], %[[N]], %[[IN]])
// CHECK-NOT: memref.dealloc
// CHECK-LABEL: func.func private @heap_par0(
// CHECK-SAME: %[[BEGIN:.*]]: index, %[[END:.*]]: index, %[[TM:.*]]: index, %{{.*}}: index, %[[TIN:.*]]: memref<?x?xf32>)
// CHECK: %[[BUF:.*]] = memref.alloc() : memref<4x16xf32>
// CHECK: %[[ROW:.*]] = memref.subview %[[BUF]][1, 0] [1, 16] [1, 1]
// CHECK: %[[TSPAN:.*]] = arith.subi %[[TM]]
// CHECK: %[[TCOLS:.*]] = arith.maxsi %[[TSPAN]]
// CHECK: scf.for %[[L:.*]] = %[[BEGIN]] to %[[END]]
// CHECK: %[[J0:.*]] = arith.remui %[[L]], %[[TCOLS]]
// CHECK: %[[I:.*]] = arith.divui %[[L]], %[[TCOLS]]
// CHECK: %[[J:.*]] = arith.addi %[[J0]], %{{.*}}
// CHECK: memref.load %[[TIN]][%[[I]], %[[J]]]
// CHECK: memref.store %{{.*}}, %[[ROW]]
// CHECK: memref.dealloc %[[BUF]]

// A heap buffer with a view, used only inside: allocated and freed by each
// task; the dynamic bounds and a 2-D loop are linearised.
func.func @heap(%in: memref<?x?xf32>, %n: index, %m: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %buf = memref.alloc() : memref<4x16xf32>
  %row = memref.subview %buf[1, 0] [1, 16] [1, 1] : memref<4x16xf32> to memref<16xf32, strided<[1], offset: 16>>
  scf.parallel (%i, %j) = (%c0, %c1) to (%n, %m) step (%c1, %c1) {
    %v = memref.load %in[%i, %j] : memref<?x?xf32>
    memref.store %v, %row[%c0] : memref<16xf32, strided<[1], offset: 16>>
    %w = memref.load %row[%c0] : memref<16xf32, strided<[1], offset: 16>>
    memref.store %w, %in[%i, %j] : memref<?x?xf32>
    scf.reduce
  }
  memref.dealloc %buf : memref<4x16xf32>
  return
}

// -----

// CHECK-LABEL: func.func @produced(
// CHECK: %[[SUMS:.*]] = memref.alloc() : memref<8xf32>
// CHECK: call @produced_par0_launch(%{{.*}}, %{{.*}}, %[[SUMS]], %{{.*}})
// CHECK: memref.copy %[[SUMS]]
// CHECK: memref.dealloc %[[SUMS]]
// CHECK-LABEL: func.func private @produced_par0(
// CHECK-NOT: memref.alloc
// CHECK: scf.for

// An intermediate the iterations write and later code reads: shared.
func.func @produced(%in: memref<8x4096xf32>, %out: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c4096 = arith.constant 4096 : index
  %sums = memref.alloc() : memref<8xf32>
  scf.parallel (%r) = (%c0) to (%c8) step (%c1) {
    %zero = arith.constant 0.0 : f32
    %s = scf.for %j = %c0 to %c4096 step %c1 iter_args(%acc = %zero) -> f32 {
      %v = memref.load %in[%r, %j] : memref<8x4096xf32>
      %a = arith.addf %acc, %v : f32
      scf.yield %a : f32
    }
    memref.store %s, %sums[%r] : memref<8xf32>
    scf.reduce
  }
  memref.copy %sums, %out : memref<8xf32> to memref<8xf32>
  memref.dealloc %sums : memref<8xf32>
  return
}

// -----

// Scratch two loops take turns with: the first writes it and the second
// writes it again, so it is not data the first produced for later code;
// neither loop is outlined.
// CHECK-LABEL: func.func @reused_scratch(
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK-NOT: call
// CHECK: memref.dealloc
// CHECK-NEXT: return
// CHECK-NEXT: }
// CHECK-NEXT: }
func.func @reused_scratch(%in: memref<8x4096xf32>, %out: memref<8x4096xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c4096 = arith.constant 4096 : index
  %scratch = memref.alloc() : memref<4096xf32>
  scf.parallel (%r) = (%c0) to (%c8) step (%c1) {
    scf.for %j = %c0 to %c4096 step %c1 {
      %v = memref.load %in[%r, %j] : memref<8x4096xf32>
      memref.store %v, %scratch[%j] : memref<4096xf32>
      %w = memref.load %scratch[%j] : memref<4096xf32>
      memref.store %w, %out[%r, %j] : memref<8x4096xf32>
    }
    scf.reduce
  }
  scf.parallel (%r) = (%c0) to (%c8) step (%c1) {
    scf.for %j = %c0 to %c4096 step %c1 {
      %v = memref.load %out[%r, %j] : memref<8x4096xf32>
      memref.store %v, %scratch[%j] : memref<4096xf32>
      %w = memref.load %scratch[%j] : memref<4096xf32>
      memref.store %w, %out[%r, %j] : memref<8x4096xf32>
    }
    scf.reduce
  }
  memref.dealloc %scratch : memref<4096xf32>
  return
}

// -----

// CHECK-LABEL: func.func @shared_scratch(
// CHECK: scf.parallel
// CHECK-NOT: call
// CHECK: memref.dealloc
// CHECK-NEXT: return
// CHECK-NEXT: }
// CHECK-NEXT: }

// Scratch filled before the loop and written by every iteration, read by
// nothing after: the iterations would share it, so the loop stays.
func.func @shared_scratch(%in: memref<8x4096xf32>, %out: memref<8x4096xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c4096 = arith.constant 4096 : index
  %zero = arith.constant 0.0 : f32
  %scratch = memref.alloc() : memref<4096xf32>
  linalg.fill ins(%zero : f32) outs(%scratch : memref<4096xf32>)
  scf.parallel (%r) = (%c0) to (%c8) step (%c1) {
    scf.for %j = %c0 to %c4096 step %c1 {
      %v = memref.load %in[%r, %j] : memref<8x4096xf32>
      memref.store %v, %scratch[%j] : memref<4096xf32>
      %w = memref.load %scratch[%j] : memref<4096xf32>
      memref.store %w, %out[%r, %j] : memref<8x4096xf32>
    }
    scf.reduce
  }
  memref.dealloc %scratch : memref<4096xf32>
  return
}

// -----

// STAYS-LABEL: func.func @stays(
// STAYS: scf.parallel {{.*}} init
// STAYS: scf.parallel (%{{.*}}) = (%c0) to (%c1) step
// STAYS: scf.parallel (%{{.*}}) = (%c0) to (%c2) step
// STAYS-NOT: scf.parallel
// STAYS: call @stays_par0_launch
// STAYS-LABEL: func.func private @stays_par0(
// STAYS: scf.for
// STAYS: scf.parallel

// Not outlined: a reduction, a single iteration, too little work; of two
// nested loops only the outer one is.
func.func @stays(%in: memref<8x4096xf32>, %out: memref<8x4096xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %c4096 = arith.constant 4096 : index
  %zero = arith.constant 0.0 : f32
  %sum = scf.parallel (%r) = (%c0) to (%c8) step (%c1) init (%zero) -> f32 {
    %v = memref.load %in[%r, %c0] : memref<8x4096xf32>
    scf.reduce(%v : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  scf.parallel (%r) = (%c0) to (%c1) step (%c1) {
    scf.for %j = %c0 to %c4096 step %c1 {
      %v = memref.load %in[%r, %j] : memref<8x4096xf32>
      memref.store %v, %out[%r, %j] : memref<8x4096xf32>
    }
    scf.reduce
  }
  scf.parallel (%r) = (%c0) to (%c2) step (%c1) {
    %v = memref.load %in[%r, %c0] : memref<8x4096xf32>
    memref.store %v, %out[%r, %c0] : memref<8x4096xf32>
    scf.reduce
  }
  scf.parallel (%r) = (%c0) to (%c8) step (%c1) {
    scf.parallel (%j) = (%c0) to (%c4096) step (%c1) {
      %v = memref.load %in[%r, %j] : memref<8x4096xf32>
      memref.store %v, %out[%r, %j] : memref<8x4096xf32>
      scf.reduce
    }
    scf.reduce
  }
  return %sum : f32
}

// -----

// Per-token state the lowering marked tok.shared_scratch (k_center's
// running minimum for a lone row): each step reads it, then its loop
// writes its own tokens of it for the next step. Unmarked, it would be
// scratch the iterations share (nothing after the loop reads it); marked,
// it is passed to every task, not copied into it, and the loop is
// outlined.
// CHECK-LABEL: func.func @marked_shared_state(
// CHECK-SAME: %[[IN:.*]]: memref<4096xf32>, %[[OUT:.*]]: memref<f32>)
// CHECK: %[[STATE:.*]] = memref.alloca() {tok.shared_scratch} : memref<4096xf32>
// CHECK: scf.for
// CHECK: memref.load %[[STATE]]
// CHECK: call @marked_shared_state_par0_launch(%{{.*}}, %{{.*}}, %[[IN]], %[[STATE]])
// CHECK-LABEL: func.func private @marked_shared_state_par0(
// CHECK-SAME: %{{.*}}: index, %{{.*}}: index, %[[TIN:.*]]: memref<4096xf32>, %[[TSTATE:.*]]: memref<4096xf32>)
// CHECK-NOT: memref.alloca
// CHECK: memref.load %[[TSTATE]]
// CHECK: memref.load %[[TIN]]
// CHECK: memref.store %{{.*}}, %[[TSTATE]]
func.func @marked_shared_state(%in: memref<4096xf32>, %out: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c512 = arith.constant 512 : index
  %state = memref.alloca() {tok.shared_scratch} : memref<4096xf32>
  scf.for %step = %c0 to %c8 step %c1 {
    %v = memref.load %state[%step] : memref<4096xf32>
    memref.store %v, %out[] : memref<f32>
    scf.parallel (%p) = (%c0) to (%c8) step (%c1) {
      %lo = arith.muli %p, %c512 : index
      %hi = arith.addi %lo, %c512 : index
      scf.for %j = %lo to %hi step %c1 {
        %old = memref.load %state[%j] : memref<4096xf32>
        %x = memref.load %in[%j] : memref<4096xf32>
        %m = arith.minimumf %old, %x : f32
        memref.store %m, %state[%j] : memref<4096xf32>
      }
      scf.reduce
    }
  }
  return
}
