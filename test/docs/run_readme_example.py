"""Runs README.md's first program exactly as written: its ```mlir block is
compiled, its first ```python block writes the inputs, the ```sh block's
winnow-run line runs it, and the second ```python block reads the results.

usage: run_readme_example.py README.md WORKDIR WINNOW_COMPILE WINNOW_RUN
"""
import os
import re
import shutil
import subprocess
import sys


def main(readme, workdir, compiler, runner):
    compiler, runner = (os.path.abspath(shutil.which(t) or t) for t in (compiler, runner))
    text = open(readme).read()
    section = text[text.index("## A first program"):]
    mlir = re.search(r"```mlir\n(.*?)```", section, re.S).group(1)
    python = re.findall(r"```python\n(.*?)```", section, re.S)
    shell = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "prune.mlir"), "w") as f:
        f.write(mlir)
    subprocess.run([sys.executable, "-c", python[0]], cwd=workdir, check=True)
    # The shell block, with the tools' paths substituted and comments dropped.
    for line in shell.replace("\\\n", " ").splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        argv = line.split()
        tool = {"build/bin/winnow-compile": compiler, "build/bin/winnow-run": runner}[argv[0]]
        out = subprocess.run([tool] + argv[1:], cwd=workdir, check=True, stdout=subprocess.PIPE,
                             universal_newlines=True).stdout
        print(out, end="", flush=True)
    subprocess.run([sys.executable, "-c", python[1]], cwd=workdir, check=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
