"""README.md's Python quick start runs exactly as written."""

import os
import re
import subprocess
import sys

import winnow
from conftest import SOURCE_DIR


def test_readme_python_quick_start(tmp_path):
    with open(os.path.join(SOURCE_DIR, "README.md")) as file:
        text = file.read()
    section = text[text.index("## From Python"):text.index(
        "## A first program")]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    done = subprocess.run([sys.executable, "-c", block], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PAGER="cat",
                                   PYTHONPATH=os.path.dirname(os.path.dirname(
                                       os.path.abspath(winnow.__file__)))))
    assert done.returncode == 0, done.stderr
    # The program text, help() and the kept counts: floor(64 / 4) and
    # floor(40 / 4) (the second request has 40 valid image tokens).
    assert "tok.select #tok.keep_ratio<0.25, floor>" in done.stdout
    assert "kept_hidden" in done.stdout and "f32[2, 16, 32]" in done.stdout
    assert "tensor([16, 10], dtype=torch.int32)" in done.stdout
