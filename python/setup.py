"""Installs the winnow package from a built Winnow tree.

The native pieces are not compiled here: CMake builds them with the rest of
Winnow (tools/build.sh), and this script copies them into the package:
winnow/_native.abi3.so (the limited-API extension), libwinnow_runtime.so
next to it (found through the extension's $ORIGIN run path) and
winnow/bin/winnow-compile (for winnow.compile). The build tree is
$WINNOW_BUILD_DIR, or ../build next to this directory.

    python3 -m venv --system-site-packages venv
    venv/bin/pip install --no-build-isolation --no-index ./python
"""

import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))


def build_tree():
    path = os.environ.get("WINNOW_BUILD_DIR") or os.path.join(
        HERE, os.pardir, "build")
    path = os.path.abspath(path)
    native = os.path.join(path, "python", "winnow", "_native.abi3.so")
    if not os.path.isfile(native):
        raise SystemExit(
            f"winnow: {native} does not exist: build Winnow first "
            "(tools/build.sh), or set WINNOW_BUILD_DIR to its build tree")
    return path


class BuildPyWithNativePieces(build_py):
    """build_py, plus the built extension, runtime library and compiler."""

    def run(self):
        super().run()
        tree = build_tree()
        package = os.path.join(self.build_lib, "winnow")
        os.makedirs(os.path.join(package, "bin"), exist_ok=True)
        pieces = [
            (os.path.join(tree, "python", "winnow", "_native.abi3.so"),
             os.path.join(package, "_native.abi3.so")),
            (os.path.join(tree, "lib", "libwinnow_runtime.so"),
             os.path.join(package, "libwinnow_runtime.so")),
        ]
        compiler = os.path.join(tree, "bin", "winnow-compile")
        if os.path.isfile(compiler):  # absent in runtime-only builds
            pieces.append((compiler,
                           os.path.join(package, "bin", "winnow-compile")))
        for source, target in pieces:
            shutil.copy2(os.path.realpath(source), target)


class BinaryDistribution(Distribution):
    """The wheel carries native code, so it is tagged for this platform."""

    def has_ext_modules(self):
        return True


setup(
    packages=["winnow"],
    cmdclass={"build_py": BuildPyWithNativePieces},
    distclass=BinaryDistribution,
    # One build serves every CPython >= 3.10 (the extension uses the limited
    # API), so the wheel is tagged abi3.
    options={"bdist_wheel": {"py_limited_api": "cp310"}},
)
