"""Compiling tok programs: drives the winnow-compile tool."""

import os
import shutil
import subprocess
import tempfile

from ._errors import CompileError

_TARGETS = {"cpu", "cuda"}


def find_compiler():
    """The winnow-compile this package uses: $WINNOW_COMPILE, the copy
    installed with the package, the build tree the package came from, or
    winnow-compile on PATH."""
    named = os.environ.get("WINNOW_COMPILE")
    if named:
        if not (os.path.isfile(named) and os.access(named, os.X_OK)):
            raise FileNotFoundError(
                f"WINNOW_COMPILE names {named}, which is not an executable "
                "file")
        return named
    candidates = []
    here = os.path.dirname(os.path.abspath(__file__))
    candidates.append(os.path.join(here, "bin", "winnow-compile"))
    try:
        from ._build_info import COMPILER
        candidates.append(COMPILER)
    except ImportError:
        pass
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    found = shutil.which("winnow-compile")
    if found:
        return found
    raise FileNotFoundError(
        "winnow-compile was not found: set WINNOW_COMPILE, install the "
        "package from a built tree (pip install ./python), or put "
        "winnow-compile on PATH")


class Artifact:
    """A compiled .wnn artifact (its bytes), ready for winnow.load or
    Artifact.load."""

    def __init__(self, data, name="", targets=(), path=None):
        self.data = bytes(data)
        self.name = name
        self.targets = tuple(targets)
        #: Where it was written, when compile() was given output=.
        self.path = path

    def save(self, path):
        with open(path, "wb") as file:
            file.write(self.data)
        return path

    def load(self, device="cpu", threads=None):
        from ._module import load
        return load(self.data, device, threads=threads)

    def __repr__(self):
        return (f"<winnow.Artifact {self.name or '?'}: "
                f"{','.join(self.targets)}, {len(self.data)} bytes>")


def _is_source_text(text):
    return "\n" in text or "func.func" in text or "{" in text


# Artifacts compiled in this process, by program text and command line: a
# program compiled again (one artifact per shape, reused across calls of a
# model loop) is not recompiled.
_cache = {}
_CACHE_ENTRIES = 256


def compile(source, target="cpu", *, name=None, output=None, fuse=True,
            cpu_threads=None, cpu=None, opt_level=None, cuda_cubin=None,
            cuda_ptx=None, emulate_cuda_on_cpu=False, dynamic_batch=None,
            extra_args=(),
            timeout=None, cache=True):
    """Compiles a tok program into an artifact.

    source: the program's text, or the path of a .mlir file.
    target: "cpu", "cuda" or "cpu,cuda" (also a list).
    name: the program's name in diagnostics and the manifest (default: the
        file's name, or "program" for text).
    output: also write the artifact there.
    fuse, cpu_threads, cpu, opt_level, cuda_cubin, cuda_ptx,
        emulate_cuda_on_cpu: the winnow-compile options of the same names
        (winnow-compile --help; cpu may also be a list of CPU names, most
        preferred first);
        extra_args: any other winnow-compile arguments.
    dynamic_batch: compile every entry point for any batch from 0 to this
        bound (winnow-compile --dynamic-batch; docs/dynamic-shapes.md): the
        program may be written, or built by winnow.methods, at any batch.
    cache: reuse the artifact when this process already compiled the same
        text with the same options (the compiler is deterministic).

    Raises CompileError with the compiler's diagnostics (file:line:col) when
    the program is rejected.
    """
    targets = target.split(",") if isinstance(target, str) else list(target)
    for t in targets:
        if t not in _TARGETS:
            raise ValueError(f"target {t!r}: expected 'cpu', 'cuda' or "
                             "'cpu,cuda'")
    with tempfile.TemporaryDirectory(prefix="winnow-") as workdir:
        if isinstance(source, os.PathLike) or (
                isinstance(source, str) and not _is_source_text(source)):
            path = os.fspath(source)
            if not os.path.isfile(path):
                raise FileNotFoundError(f"no such tok program: {path}")
            display = name or os.path.basename(path)
        elif isinstance(source, str):
            display = name or "program"
            if not display.endswith(".mlir"):
                display += ".mlir"
            path = os.path.join(workdir, os.path.basename(display))
            with open(path, "w") as file:
                file.write(source)
        else:
            raise TypeError("compile() takes program text or a path, not "
                            f"{type(source).__name__}")
        out_path = os.path.join(workdir, "artifact.wnn")
        command = [find_compiler(), path, "-o", out_path,
                   "--target=" + ",".join(targets)]
        if not fuse:
            command.append("--fuse=false")
        if cpu_threads is not None:
            command.append(f"--cpu-threads={int(cpu_threads)}")
        if cpu:
            cpus = [cpu] if isinstance(cpu, str) else list(cpu)
            command.append("--cpu=" + ",".join(cpus))
        if opt_level is not None:
            command.append(f"--opt-level={int(opt_level)}")
        if cuda_cubin:
            cubin = cuda_cubin if isinstance(cuda_cubin, str) else ",".join(
                cuda_cubin)
            command.append(f"--cuda-cubin={cubin}")
        if cuda_ptx:
            command.append(f"--cuda-ptx={cuda_ptx}")
        if emulate_cuda_on_cpu:
            command.append("--emulate-cuda-on-cpu")
        if dynamic_batch is not None:
            if (isinstance(dynamic_batch, bool) or
                    not isinstance(dynamic_batch, int) or dynamic_batch < 0):
                raise ValueError("dynamic_batch must be a non-negative int "
                                 f"(the largest batch), got {dynamic_batch!r}")
            command.append(f"--dynamic-batch={dynamic_batch}")
        command.extend(extra_args)
        with open(path, "rb") as file:
            key = (file.read(), display, tuple(command[4:]), find_compiler())
        if cache and key in _cache:
            artifact = Artifact(_cache[key], display, targets)
            if output is not None:
                artifact.save(output)
                artifact.path = os.fspath(output)
            return artifact
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode != 0:
            diagnostics = done.stderr.replace(path, display).strip()
            raise CompileError(f"{display} did not compile:\n{diagnostics}",
                               diagnostics)
        with open(out_path, "rb") as file:
            data = file.read()
        if cache:
            if len(_cache) >= _CACHE_ENTRIES:
                _cache.pop(next(iter(_cache)))
            _cache[key] = data
    artifact = Artifact(data, display, targets)
    if output is not None:
        artifact.save(output)
        artifact.path = os.fspath(output)
    return artifact
