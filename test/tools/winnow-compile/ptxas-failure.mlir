// ptxas runs for every architecture at once; a failing one is reported with
// its output and the compile fails without writing an artifact (the other
// ptxas is still waited for).
// REQUIRES: cuda-toolkit
// RUN: rm -rf %t && mkdir -p %t/tk/bin
// RUN: ln -s %cuda_toolkit/nvvm %t/tk/nvvm
// RUN: ln -s %cuda_toolkit/bin/fatbinary %t/tk/bin/fatbinary
// RUN: printf '#!/bin/sh\ncase "$*" in *-arch=sm_80*) echo "simulated ptxas failure" >&2; exit 3;; esac\nexec %cuda_toolkit/bin/ptxas "$@"\n' > %t/tk/bin/ptxas
// RUN: chmod +x %t/tk/bin/ptxas
// RUN: not winnow-compile %s --target=cuda --cuda-toolkit=%t/tk -o %t/x.wnn 2>&1 | FileCheck %s
// RUN: not ls %t/x.wnn
// RUN: winnow-compile %s --target=cuda --cuda-toolkit=%t/tk --cuda-cubin=sm_90 -o %t/ok.wnn
// RUN: winnow-run %t/ok.wnn --list | FileCheck %s --check-prefix=OK

// CHECK: error: assembling PTX for sm_80 with '{{.*}}/tk/bin/ptxas' failed
// CHECK-NEXT: simulated ptxas failure
// OK: cuda sm_90

func.func @select(%s: tensor<2x64xf32>) -> (tensor<2x16xi32>, tensor<2xi32>) {
  %i, %n = tok.select #tok.top_k<16> of %s : (tensor<2x64xf32>) -> (tensor<2x16xi32>, tensor<2xi32>)
  return %i, %n : tensor<2x16xi32>, tensor<2xi32>
}
