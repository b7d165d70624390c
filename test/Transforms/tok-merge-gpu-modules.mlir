// RUN: winnow-opt %s --tok-merge-gpu-modules | FileCheck %s --enable-var-scope

// Two outlined kernels end up in the first module; the second keeps its
// module's name, and the launches follow.
// CHECK-LABEL: func.func @two_kernels
// CHECK: gpu.launch_func @f_kernel::@f_kernel
// CHECK: gpu.launch_func @f_kernel::@f_kernel_0
// CHECK: gpu.module @f_kernel {
// CHECK: gpu.func @f_kernel(
// CHECK: gpu.func @f_kernel_0(
// CHECK-NOT: gpu.module
module attributes {gpu.container_module} {
  func.func @two_kernels(%m: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @f_kernel::@f_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%m : memref<4xf32>)
    gpu.launch_func @f_kernel_0::@f_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%m : memref<4xf32>)
    return
  }
  gpu.module @f_kernel {
    gpu.func @f_kernel(%m: memref<4xf32>) kernel {
      gpu.return
    }
  }
  gpu.module @f_kernel_0 {
    gpu.func @f_kernel(%m: memref<4xf32>) kernel {
      %c0 = arith.constant 0 : index
      %x = memref.load %m[%c0] : memref<4xf32>
      gpu.return
    }
  }
}
