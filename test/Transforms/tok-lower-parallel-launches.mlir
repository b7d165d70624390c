// RUN: winnow-opt %s --split-input-file --tok-lower-parallel-launches | FileCheck %s --enable-var-scope

// The launch stores its captured values into a context struct and hands the
// task to the pool pointer, or runs it on every iteration when no runtime
// set the pointer.
// CHECK: llvm.mlir.global external @__winnow_parallel_for() {{.*}} : !llvm.ptr {
// CHECK-NEXT: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK-NEXT: llvm.return %[[NULL]]
// CHECK-LABEL: llvm.func internal @body_task(
// CHECK-SAME: %[[CTX:.*]]: !llvm.ptr, %[[BEGIN:.*]]: i64, %[[END:.*]]: i64)
// CHECK: %[[A0:.*]] = llvm.getelementptr %[[CTX]][0, 0] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(ptr, i64)>
// CHECK: %[[DATA:.*]] = llvm.load %[[A0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[A1:.*]] = llvm.getelementptr %[[CTX]][0, 1]
// CHECK: %[[SIZE:.*]] = llvm.load %[[A1]] : !llvm.ptr -> i64
// CHECK: llvm.call @body(%[[BEGIN]], %[[END]], %[[DATA]], %[[SIZE]])
// CHECK-LABEL: llvm.func internal @launch(
// CHECK-SAME: %[[N:.*]]: i64, %[[GRAIN:.*]]: i64, %[[LDATA:.*]]: !llvm.ptr, %[[LSIZE:.*]]: i64)
// CHECK: %[[STRUCT:.*]] = llvm.alloca %{{.*}} x !llvm.struct<(ptr, i64)>
// CHECK: %[[S0:.*]] = llvm.getelementptr %[[STRUCT]][0, 0]
// CHECK: llvm.store %[[LDATA]], %[[S0]]
// CHECK: %[[S1:.*]] = llvm.getelementptr %[[STRUCT]][0, 1]
// CHECK: llvm.store %[[LSIZE]], %[[S1]]
// CHECK: %[[SLOT:.*]] = llvm.mlir.addressof @__winnow_parallel_for
// CHECK: %[[POOL:.*]] = llvm.load %[[SLOT]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[NOPOOL:.*]] = llvm.icmp "eq" %[[POOL]], %{{.*}} : !llvm.ptr
// CHECK: llvm.cond_br %[[NOPOOL]], ^[[SERIAL:.*]], ^[[PARALLEL:[^ ]*]]
// CHECK: ^[[SERIAL]]:
// CHECK: %[[ZERO:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK: llvm.call @body_task(%[[STRUCT]], %[[ZERO]], %[[N]])
// CHECK: ^[[PARALLEL]]:
// CHECK: %[[TASK:.*]] = llvm.mlir.addressof @body_task
// CHECK: llvm.call %[[POOL]](%[[TASK]], %[[STRUCT]], %[[N]], %[[GRAIN]]) : !llvm.ptr, (!llvm.ptr, !llvm.ptr, i64, i64) -> ()
// CHECK-NOT: tok.parallel_body
// CHECK-LABEL: llvm.func @caller(
// CHECK: llvm.call @launch(
llvm.func @body(%begin: i64, %end: i64, %data: !llvm.ptr, %size: i64) {
  llvm.return
}
llvm.func @launch(i64, i64, !llvm.ptr, i64) attributes {tok.parallel_body = @body}
llvm.func @caller(%data: !llvm.ptr, %size: i64) {
  %c8 = llvm.mlir.constant(8 : i64) : i64
  %c2 = llvm.mlir.constant(2 : i64) : i64
  llvm.call @launch(%c8, %c2, %data, %size) : (i64, i64, !llvm.ptr, i64) -> ()
  llvm.return
}

// -----

// Nothing captured: a null context, no struct.
// CHECK-LABEL: llvm.func internal @empty_launch(
// CHECK-NOT: llvm.alloca
// CHECK: %[[CTX:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK: llvm.call @empty_body_task(%[[CTX]],
llvm.func @empty_body(%begin: i64, %end: i64) {
  llvm.return
}
llvm.func @empty_launch(i64, i64) attributes {tok.parallel_body = @empty_body}

// -----

// A module without launches is left alone: no pool pointer.
// CHECK-LABEL: llvm.func @plain(
// CHECK-NOT: __winnow_parallel_for
llvm.func @plain() {
  llvm.return
}
