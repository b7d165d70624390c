# lit configuration for Winnow's regression tests.
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "WINNOW"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "regressions", "CMakeLists.txt", "lit.cfg.py",
                   "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.winnow_obj_root, "test")

# Captured names must not leak across CHECK-LABEL blocks.
config.environment["FILECHECK_OPTS"] = "--enable-var-scope"
# Every CPU call runs its parallel loops on 2 threads (whatever the machine),
# each split into as many ranges as it has iterations: the oracle corpora
# check the threaded runs, with the most interleaving the pool can produce
# (docs/runtime.md, "Threads"). Either may be overridden from outside.
for name, default in (("WINNOW_NUM_THREADS", "2"),
                      ("WINNOW_PARALLEL_GRAIN", "1")):
    config.environment[name] = os.environ.get(name, default)

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tools = [
    "winnow-opt",
    "winnow-compile",
    "winnow-run",
    "winnow-mutate-artifacts",
    "winnow-concurrent-calls",
    "winnow-fuzz-artifact",
    "winnow-fuzz-artifact-resealed",
    "winnow-fuzz-npy",
    "winnow-fuzz-tok-parse",
    "winnow-fuzz-tok-pipeline",
    "mlir-runner",
    ToolSubst("%oracle-python", config.python_oracle, unresolved="fatal"),
]
llvm_config.add_tool_substitutions(tools, [config.winnow_tools_dir,
                                           config.llvm_tools_dir])
config.substitutions.append(("%winnow_src_root", config.winnow_src_root))
# mlir-runner's support libraries (printMemref*), for kernels run on the
# SIMT emulator.
config.substitutions.append(("%mlir_lib_dir", config.llvm_library_dir))
config.substitutions.append(("%examples", os.path.join(config.winnow_src_root,
                                                      "examples")))

# cubins need ptxas/fatbinary (and math kernels libdevice) from a CUDA
# toolkit; PTX needs nothing. Tests of cubins say `REQUIRES: cuda-toolkit`.
if config.cuda_toolkit:
    config.available_features.add("cuda-toolkit")
    config.substitutions.append(("%cuda_toolkit", config.cuda_toolkit))
