// RUN: winnow-opt %s --pass-pipeline='builtin.module(gpu.module(tok-align-workgroup-buffers))' | FileCheck %s

// Every workgroup buffer gets 16-byte alignment unless it has one.
// CHECK-LABEL: gpu.func @arena
// CHECK-SAME: workgroup(%{{.*}} : memref<100xi8, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<8xf32, #gpu.address_space<workgroup>> {llvm.align = 64 : i64})
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @arena()
        workgroup(%bytes : memref<100xi8, #gpu.address_space<workgroup>>,
                  %floats : memref<8xf32, #gpu.address_space<workgroup>> {llvm.align = 64 : i64})
        kernel {
      gpu.return
    }
  }
}
