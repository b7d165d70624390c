// RUN: winnow-opt %s --split-input-file --tok-lower-parallel-launches -verify-diagnostics

// The pool pointer's name is reserved.
// expected-error @below {{'__winnow_parallel_for' is reserved for the runtime's thread pool pointer}}
llvm.mlir.global external constant @__winnow_parallel_for(0 : i64) : i64
llvm.func @body(%begin: i64, %end: i64) {
  llvm.return
}
llvm.func @launch(i64, i64) attributes {tok.parallel_body = @body}

// -----

// expected-error @below {{expected a declared launch whose 'tok.parallel_body' names a defined function of the same type}}
llvm.func @launch(i64, i64, i64) attributes {tok.parallel_body = @body}
llvm.func @body(%begin: i64, %end: i64) {
  llvm.return
}

// -----

// expected-error @below {{expected a declared launch whose 'tok.parallel_body' names a defined function of the same type}}
llvm.func @launch(i64, i64) attributes {tok.parallel_body = @missing}
