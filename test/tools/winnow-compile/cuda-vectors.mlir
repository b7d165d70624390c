// Gathers of rows that are whole 16-byte vectors (a 128-wide bf16 head is
// 16 of them) move one vector per thread: ld/st.global.v4.b32 when both
// buffers are 16-byte aligned at run time, 16-bit accesses otherwise.
// RUN: winnow-compile %s --target=cuda --compile-to=loops | FileCheck %s --check-prefix=LOOPS
// RUN: winnow-compile %s --target=cuda --compile-to=ptx | FileCheck %s --check-prefix=PTX

// LOOPS-LABEL: func.func @kv_gather
// LOOPS: memref.extract_aligned_pointer_as_index
// LOOPS: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}, %[[V:.*]]) = ({{.*}}) to (%c2, %c4, %c32, %c16)
// LOOPS: vector.load {{.*}} {alignment = 16 : i64} : memref<2x4x256x128xbf16>, vector<8xbf16>
// LOOPS: vector.store {{.*}} {alignment = 16 : i64} : memref<2x4x32x128xbf16>, vector<8xbf16>

// PTX: ld.global.v4.b32
// PTX: st.global.v4.b32
// PTX: ld.global.b16
// PTX: st.global.b16
func.func @kv_gather(%slots: tensor<2x4x32xi32>, %n: tensor<2x4xi32>,
                     %k: tensor<2x4x256x128xbf16>) -> tensor<2x4x32x128xbf16> {
  %g, %pos = tok.kv_gather %slots, %n gather(%k)
      : (tensor<2x4x32xi32>, tensor<2x4xi32>, tensor<2x4x256x128xbf16>)
      -> (tensor<2x4x32x128xbf16>, tensor<2x4x32xi32>)
  return %g : tensor<2x4x32x128xbf16>
}
