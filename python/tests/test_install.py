"""`pip install ./python` into a venv that sees Debian's packages (PEP 668
forbids installing into the system Python; there is no package index here),
then the installed package compiles, loads and calls from outside the
source and build trees."""

import os
import shutil
import subprocess
import sys

import pytest

from conftest import SOURCE_DIR, TOP2


@pytest.mark.skipif(not os.environ.get("WINNOW_BUILD_DIR"),
                    reason="needs WINNOW_BUILD_DIR (ctest sets it)")
def test_pip_install_into_a_venv(tmp_path):
    # A copy of python/, so the in-tree build leaves the checkout clean.
    source = tmp_path / "src"
    shutil.copytree(os.path.join(SOURCE_DIR, "python"), source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info",
                                                  "__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages",
                    str(venv)], check=True)
    python = venv / "bin" / "python"
    environment = dict(os.environ)
    environment.pop("PYTHONPATH", None)
    environment.pop("WINNOW_COMPILE", None)
    subprocess.run([str(python), "-m", "pip", "install", "-q",
                    "--no-build-isolation", "--no-index", str(source)],
                   check=True, env=environment, cwd=tmp_path)
    program = tmp_path / "top2.mlir"
    program.write_text(TOP2)
    script = f"""
import numpy as np, winnow, os
assert winnow.__file__.startswith({str(venv)!r}), winnow.__file__
assert winnow.find_compiler().startswith({str(venv)!r})
module = winnow.load(winnow.compile({str(program)!r}))
result = module.top2(np.array([[1, 3, 3, 0, 9]] * 3, np.float32),
                     np.array([5, 3, 0], np.int32))
print(result.indices.tolist(), result.count.tolist())
"""
    done = subprocess.run([str(python), "-c", script], env=environment,
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == \
        "[[1, 4], [1, 2], [-1, -1]] [2, 2, 0]"  # ties: lower index
