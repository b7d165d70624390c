// 16-byte vector accesses to shared memory reach PTX as ld.shared.v4: the
// kernels' vector ops are lowered by convert-gpu-to-nvvm, which maps the
// workgroup address space (convert-vector-to-llvm, run on the host code
// afterwards, cannot). tok.select's block form reads a thread's 8 keys back
// from shared memory as two 16-byte vectors.
// RUN: winnow-compile %s --target=cuda --compile-to=gpu | FileCheck %s --check-prefix=GPU
// RUN: winnow-compile %s --target=cuda --compile-to=ptx | FileCheck %s --check-prefix=PTX

// GPU: gpu.func @select_kernel
// GPU: vector.load %{{.*}} {alignment = 16 : i64} : memref<64xi32, #gpu.address_space<workgroup>>, vector<4xi32>
// PTX: .entry select_kernel(
// PTX: ld.shared.v4.{{[bu]}}32
func.func @select(%s: tensor<2x64xf32>) -> (tensor<2x16xi32>, tensor<2xi32>) {
  %i, %n = tok.select #tok.top_k<16> of %s : (tensor<2x64xf32>) -> (tensor<2x16xi32>, tensor<2xi32>)
  return %i, %n : tensor<2x16xi32>, tensor<2xi32>
}
