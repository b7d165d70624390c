// RUN: winnow-opt %s | winnow-opt | FileCheck %s

// Every op round-trips through its declarative format.
// CHECK-LABEL: func.func @all_ops
// CHECK: collective.warp_reduce add %{{.*}} : f32
// CHECK: collective.block_reduce max %{{.*}} : i32
// CHECK: collective.warp_argmax %{{.*}}, %{{.*}} : f32, i32
// CHECK: collective.block_argmax %{{.*}}, %{{.*}} : f32, i32
// CHECK: collective.block_exclusive_scan %{{.*}} flags : i32
// CHECK: collective.block_exclusive_scan %{{.*}} : i32
// CHECK: collective.block_histogram %{{.*}} if %{{.*}} into %{{.*}} : index, memref<16xi32, #gpu.address_space<workgroup>>
// CHECK: collective.block_radix_select %{{.*}} of %{{.*}}[%{{.*}}] : memref<512xi32>
// CHECK: collective.block_barrier
// CHECK: collective.grid_arrive %{{.*}}[%{{.*}}] of %{{.*}} : memref<8xi32>
func.func @all_ops(%x: f32, %i: i32, %bin: index, %valid: i1, %keys: memref<512xi32>, %counters: memref<8xi32>) {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1)
             workgroup(%h : memref<16xi32, #gpu.address_space<workgroup>>) {
    %a = collective.warp_reduce add %x : f32
    %b = collective.block_reduce max %i : i32
    %m, %k = collective.warp_argmax %x, %i : f32, i32
    %bm, %bk = collective.block_argmax %x, %i : f32, i32
    %p, %t = collective.block_exclusive_scan %i flags : i32
    %q, %u = collective.block_exclusive_scan %i : i32
    collective.block_histogram %bin if %valid into %h : index, memref<16xi32, #gpu.address_space<workgroup>>
    %threshold, %above = collective.block_radix_select %bin of %keys[%c64] : memref<512xi32>
    collective.block_barrier
    %last = collective.grid_arrive %counters[%bx] of %gx : memref<8xi32>
    gpu.terminator
  }
  return
}
