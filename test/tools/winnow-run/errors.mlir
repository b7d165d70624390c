// winnow-run rejects bad inputs and artifacts with a clear message and a
// non-zero exit, before running any code.
// RUN: winnow-compile %s -o %t.wnn
// RUN: winnow-run %t.wnn --input=1x6xf32=3,1,4,1,5,9 --input=1xi32=6 | FileCheck %s --check-prefix=OK
// RUN: not winnow-run %t.wnn --input=1x6xf32=3,1,4,1,5,9 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not winnow-run %t.wnn --input=1x6xf32=3,1,4,1,5,9 --input=1xi32=6 --input=1xi32=6 2>&1 | FileCheck %s --check-prefix=EXTRA
// RUN: not winnow-run %t.wnn --input=1x6xi32=3,1,4,1,5,9 --input=1xi32=6 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not winnow-run %t.wnn --input=1x5xf32=3,1,4,1,5 --input=1xi32=6 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: not winnow-run %t.wnn --function=nope --input=1x6xf32=3,1,4,1,5,9 --input=1xi32=6 2>&1 | FileCheck %s --check-prefix=FUNC
// RUN: env WINNOW_CUDA_DRIVER=/nonexistent/libcuda.so.1 not winnow-run %t.wnn --device=cuda --input=1x6xf32=3,1,4,1,5,9 --input=1xi32=6 2>&1 | FileCheck %s --check-prefix=CUDA
// RUN: head -c 100 %t.wnn > %t.truncated.wnn
// RUN: not winnow-run %t.truncated.wnn --list 2>&1 | FileCheck %s --check-prefix=TRUNCATED
// RUN: not winnow-run %t.missing.wnn --list 2>&1 | FileCheck %s --check-prefix=NOFILE
// RUN: cp %s %t.notanartifact.wnn
// RUN: not winnow-run %t.notanartifact.wnn --list 2>&1 | FileCheck %s --check-prefix=NOTWNN

// OK: kept: 1x2xi32 counts=[2] valid_sum=9.000000e+00
// OK-NEXT: batch 0: [4, 5]
// OK-NEXT: count: 1xi32 sum=2.000000e+00 values=[2]
// MISSING: winnow-run: error: function 'prune' takes 2 inputs (scores: 1x6xf32, lengths: 1xi32), but 1 --input flags were given
// EXTRA: winnow-run: error: function 'prune' takes 2 inputs (scores: 1x6xf32, lengths: 1xi32), but 3 --input flags were given
// DTYPE: winnow-run: error: function 'prune' input 0 'scores': expected dtype f32, got i32
// SHAPE: winnow-run: error: function 'prune' input 0 'scores': expected shape 1x6xf32, got 1x5xf32 (dimension 1 differs)
// FUNC: winnow-run: error: function 'nope' not found in the module (available: prune)
// CUDA: winnow-run: error: no CUDA driver: /nonexistent/libcuda.so.1 could not be loaded (/nonexistent/libcuda.so.1: cannot open shared object file: No such file or directory)
// TRUNCATED: winnow-run: error: {{.*}}truncated.wnn: corrupt artifact: FlatBuffers verification failed (the file is truncated or damaged)
// NOFILE: winnow-run: error: cannot open artifact '{{.*}}missing.wnn': No such file or directory
// NOTWNN: winnow-run: error: {{.*}}notanartifact.wnn: not a Winnow artifact: file identifier is '{{.*}}', expected 'WNNW'

func.func @prune(%s: tensor<1x6xf32> {tok.name = "scores"}, %len: tensor<1xi32> {tok.name = "lengths"})
    -> (tensor<1x2xi32> {tok.name = "kept"}, tensor<1xi32> {tok.name = "count"}) {
  %i, %n = tok.select #tok.top_k<2> of %s lengths %len : (tensor<1x6xf32>, tensor<1xi32>) -> (tensor<1x2xi32>, tensor<1xi32>)
  return %i, %n : tensor<1x2xi32>, tensor<1xi32>
}
