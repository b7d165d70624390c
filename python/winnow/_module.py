"""Loading artifacts and calling their entry points on tensors."""

import inspect
import keyword
import os
import re
from collections import namedtuple
from typing import NamedTuple, Optional, Tuple, Union

from . import _runtime
from ._runtime import native

_DTYPES_NUMPY = {"f32": "float32", "f16": "float16", "f64": "float64",
                 "i1": "bool", "i8": "int8", "i16": "int16", "i32": "int32",
                 "i64": "int64"}
_DTYPES_TORCH = dict(_DTYPES_NUMPY, bf16="bfloat16")


class TensorSpec(NamedTuple):
    """One input or result of an entry point, from the artifact's manifest."""

    name: str
    dtype: str  # "f32", "bf16", "i32", "i1", ...
    #: Extents, outermost first: an int when static, the symbol's name (a
    #: str, e.g. "batch") when dynamic.
    shape: Tuple[Union[int, str], ...]
    #: For a ragged result: the index, among the results, of its [B] count
    #: tensor (rows past count[b] along `ragged_axis` are padding).
    count_result: Optional[int] = None
    ragged_axis: int = 1

    def __str__(self):
        text = f"{self.dtype}[{', '.join(map(str, self.shape))}]"
        return text


class Symbol(NamedTuple):
    """A dynamic extent of an entry point (e.g. the batch): each call takes
    its value from the first input extent that names it; every extent that
    names it must have that value, at most `bound` (0 is allowed)."""

    name: str
    bound: int

    def __str__(self):
        return f"{self.name} <= {self.bound}"


class Signature(NamedTuple):
    name: str
    inputs: Tuple[TensorSpec, ...]
    results: Tuple[TensorSpec, ...]
    #: The dynamic extents the specs' shapes name; () when all are static.
    symbols: Tuple[Symbol, ...] = ()

    def bindings(self):
        """{symbol name: (input index, dimension)}: where a call takes each
        symbol's value from."""
        found = {}
        for i, spec in enumerate(self.inputs):
            for d, extent in enumerate(spec.shape):
                if isinstance(extent, str):
                    found.setdefault(extent, (i, d))
        return found


def _spec(name, dtype, shape, dims, symbols, count=None, axis=1):
    """A TensorSpec from the native description: dynamic extents (-1 in
    `shape`, named by `dims`) become their symbol's name."""
    if dims is not None:
        shape = tuple(symbols[s].name if s >= 0 else e
                      for e, s in zip(shape, dims))
    return TensorSpec(name, dtype, tuple(shape), count, axis)


def _identifier(name, used):
    """A Python identifier for a manifest name (argument names may be any
    string)."""
    text = re.sub(r"\W", "_", name) or "arg"
    if text[0].isdigit() or keyword.iskeyword(text) or text == "out":
        text = "_" + text
    base, n = text, 1
    while text in used:
        n += 1
        text = f"{base}_{n}"
    used.add(text)
    return text


def _device_name(device):
    text = str(device)  # also takes a torch.device
    if text == "cuda" or text.startswith("cuda:") or text == "cpu":
        return text
    raise ValueError(f"device {device!r}: expected 'cpu', 'cuda' or 'cuda:N'")


def _describe_entry(signature, device_name, targets):
    lines = []
    width = max([len(t.name) for t in signature.inputs + signature.results]
                + [1])
    lines.append("Inputs (positional, in this order):")
    for spec in signature.inputs:
        lines.append(f"  {spec.name.ljust(width)}  {spec}")
    lines.append("Results:")
    for spec in signature.results:
        note = ""
        if spec.count_result is not None:
            count = signature.results[spec.count_result].name
            note = (f"  (padded along axis {spec.ragged_axis}: entries past "
                    f"{count}[b] are padding)")
        lines.append(f"  {spec.name.ljust(width)}  {spec}{note}")
    if signature.symbols:
        lines.append("Symbols (dynamic extents, taken from the inputs of "
                     "each call):")
        for symbol in signature.symbols:
            lines.append(f"  {symbol}")
        lines.append("  Every extent naming a symbol has its value, which "
                     "the first input extent naming it gives (0 up to the "
                     "bound); results take those values.")
    lines.append("")
    lines.append("out=: tensors to write the results into, one per result "
                 "in order (what CUDA graphs and serving loops need: no "
                 "allocation per call); without it the results are "
                 "allocated (torch tensors when PyTorch is in use, else "
                 "NumPy arrays).")
    lines.append(f"Runs on {device_name}; artifact targets: "
                 f"{', '.join(t['kind'] for t in targets)}.")
    return "\n".join(lines)


class Module:
    """An artifact bound to a device. Each entry point is an attribute:
    ``module.fastv(q_last, keys, ..., out=None)``; ``help(module.fastv)``
    shows its signature."""

    def __init__(self, module_handle, device, source=None, threads=None):
        self._handle = module_handle
        info = native.describe(module_handle)
        self.producer = info["producer"]
        self.source_name = info["source_name"]
        self.targets = [
            {"kind": kind, "triple": triple, "cpu": cpu,
             "cubin_architectures": archs, "ptx_architecture": ptx,
             "workspace_bytes": workspace}
            for kind, triple, cpu, archs, ptx, workspace in info["targets"]]
        self._device_handle = native.create_device(_device_name(device))
        kind, name, description, ordinal = native.device_info(
            self._device_handle)
        self.device = name
        self.device_kind = kind
        self.device_description = description
        self._ordinal = ordinal
        self._executable = native.create_executable(module_handle,
                                                    self._device_handle)
        if threads is not None:
            self.threads = threads
        self.signatures = {}
        self._entries = {}
        self._indices = {}
        for index, (fname, inputs, results, symbols) in enumerate(
                info["functions"]):
            symbols = tuple(Symbol(n, b) for n, b in symbols)
            signature = Signature(
                fname,
                tuple(_spec(n, d, s, dims, symbols)
                      for n, d, s, _, _, dims in inputs),
                tuple(_spec(n, d, s, dims, symbols,
                            None if count < 0 else count, axis)
                      for n, d, s, count, axis, dims in results),
                symbols)
            self.signatures[fname] = signature
            self._indices[fname] = index
            self._entries[fname] = self._make_entry(index, signature)
        _runtime.torch_module()

    # -- threads ------------------------------------------------------------

    @property
    def threads(self):
        """Threads each call on the CPU uses, the caller's included: the
        value set, else WINNOW_NUM_THREADS, else every CPU the process may
        run on. Every count gives the same bits. Setting it applies to later
        calls (from any Python thread); 0 or None restores the default. The
        runtime's one thread pool is shared by every module and caller:
        calls from several Python threads do not add threads of their own
        (docs/runtime.md, "Threads")."""
        return native.num_threads(self._executable)

    @threads.setter
    def threads(self, count):
        if count is None:
            count = 0
        if isinstance(count, bool) or not isinstance(count, int):
            raise TypeError("threads must be an int or None, not "
                            f"{type(count).__name__}")
        native.set_num_threads(self._executable, count)

    # -- entry points -------------------------------------------------------

    def _make_entry(self, index, signature):
        executable = self._executable
        call = native.call
        name = signature.name
        n_inputs = len(signature.inputs)
        n_results = len(signature.results)
        single = n_results == 1
        used = set()
        input_names = [_identifier(s.name, used) for s in signature.inputs]
        used = set()
        result_type = namedtuple(
            _identifier(name, set()) + "_results",
            [_identifier(s.name, used) for s in signature.results],
            rename=True)
        make_results = result_type._make
        allocate = self._allocator(index, signature)
        cuda = self.device_kind == "cuda"
        ordinal = self._ordinal
        workspace_bytes = (native.workspace_size(executable, index)
                           if cuda else 0)
        device = self.device

        def check_counts(tensors, out):
            if len(tensors) != n_inputs:
                raise TypeError(
                    f"{name}() takes {n_inputs} tensors "
                    f"({', '.join(s.name for s in signature.inputs)}), "
                    f"got {len(tensors)}")
            if out is not None and len(out) != n_results:
                raise TypeError(
                    f"{name}(): out= needs {n_results} tensors "
                    f"({', '.join(s.name for s in signature.results)}), "
                    f"got {len(out)}")

        if not cuda:
            def entry(*tensors, out=None):
                if single and out is not None and not isinstance(
                        out, (tuple, list)):
                    out = (out,)
                check_counts(tensors, out)
                if out is None:
                    out = allocate(tensors)
                call(executable, index, tensors, out)
                return out[0] if single else make_results(out)
        else:
            def entry(*tensors, out=None):
                if single and out is not None and not isinstance(
                        out, (tuple, list)):
                    out = (out,)
                check_counts(tensors, out)
                torch = _runtime.torch_module()
                if out is None:
                    out = allocate(tensors)
                stream, workspace, buffer = 0, 0, None
                if torch is not None:
                    # The caller's current stream; the call enqueues and
                    # returns (no host synchronisation).
                    stream = torch.cuda.current_stream(ordinal).cuda_stream
                    if workspace_bytes:
                        # Scratch from PyTorch's caching allocator: reused
                        # only in stream order, and taken from the graph's
                        # pool inside a CUDA-graph capture.
                        buffer = torch.empty(workspace_bytes + 256,
                                             dtype=torch.uint8, device=device)
                        workspace = (buffer.data_ptr() + 255) & ~255
                call(executable, index, tensors, out, True, stream, workspace,
                     workspace_bytes if workspace else 0)
                return out[0] if single else make_results(out)

        entry.__name__ = entry.__qualname__ = name
        entry.__doc__ = _describe_entry(signature, self.device, self.targets)
        parameters = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY)
                      for n in input_names]
        parameters.append(inspect.Parameter(
            "out", inspect.Parameter.KEYWORD_ONLY, default=None))
        entry.__signature__ = inspect.Signature(parameters)
        entry.signature = signature
        return entry

    def result_shapes(self, name, shapes):
        """The shapes the results of entry point `name` have in a call on
        inputs of the given shapes (one tuple of ints per input): the
        manifest's, with each dynamic extent at the value the inputs bind.
        Raises the error the call would raise for inconsistent extents or
        extents above their bound."""
        if name not in self._indices:
            self.__getattr__(name)  # raises, naming the entry points
        return native.result_shapes(self._handle, self._indices[name],
                                    [tuple(s) for s in shapes])

    def _allocator(self, index, signature):
        """Allocates one call's results: torch tensors on the module's
        device when the inputs are torch tensors (or the device is a GPU),
        NumPy arrays otherwise."""
        specs = signature.results
        device = self.device
        cuda = self.device_kind == "cuda"
        handle = self._handle
        static_shapes = tuple(s.shape for s in specs)

        def shapes_of(tensors):
            if not signature.symbols:
                return static_shapes
            # The runtime binds the symbols (and reports bad extents) before
            # anything is allocated.
            shapes = []
            for i, t in enumerate(tensors):
                shape = getattr(t, "shape", None)
                if shape is None:
                    raise TypeError(
                        f"{signature.name}(): input {i} has no .shape to "
                        "take its dynamic extents from: pass out= tensors")
                shapes.append(tuple(shape))
            return native.result_shapes(handle, index, shapes)

        def allocate(tensors):
            shapes = shapes_of(tensors)
            torch = _runtime.torch_module()
            if torch is not None and (cuda or any(
                    isinstance(t, torch.Tensor) for t in tensors)):
                return tuple(
                    torch.empty(shape, dtype=getattr(torch,
                                                     _DTYPES_TORCH[s.dtype]),
                                device=device)
                    for s, shape in zip(specs, shapes))
            if cuda:
                raise TypeError(
                    f"{signature.name}(): results on {device} need PyTorch "
                    "(import torch) or out= device tensors")
            import numpy
            for s in specs:
                if s.dtype not in _DTYPES_NUMPY:
                    raise TypeError(
                        f"{signature.name}(): result '{s.name}' is {s.dtype}, "
                        "which NumPy cannot hold: pass torch tensors or out= "
                        "tensors of that type")
            return tuple(numpy.empty(shape, dtype=_DTYPES_NUMPY[s.dtype])
                         for s, shape in zip(specs, shapes))

        return allocate

    def __getattr__(self, name):
        entries = self.__dict__.get("_entries", {})
        if name in entries:
            return entries[name]
        raise AttributeError(
            f"the artifact has no entry point '{name}' (it has: "
            f"{', '.join(entries) or 'none'})")

    def __getitem__(self, name):
        return self.__getattr__(name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._entries))

    def __repr__(self):
        return (f"<winnow.Module {self.source_name or '?'} on {self.device}: "
                f"{', '.join(self._entries)}>")


def load(artifact, device="cpu", threads=None):
    """Loads an artifact (a path, its bytes, or a winnow.Artifact) and binds
    it to a device: "cpu", "cuda" or "cuda:N". On the CPU, `threads` sets
    the threads each call uses (Module.threads; default: every CPU)."""
    from ._compile import Artifact
    if isinstance(artifact, Artifact):
        artifact = artifact.data
    if isinstance(artifact, (bytes, bytearray, memoryview)):
        handle = native.load_memory(bytes(artifact))
    elif isinstance(artifact, (str, os.PathLike)):
        handle = native.load_file(os.fspath(artifact))
    else:
        raise TypeError("load() takes a path, bytes or a winnow.Artifact, "
                        f"not {type(artifact).__name__}")
    return Module(handle, device, threads=threads)


def thread_stats():
    """The process's thread pool counters: pool_threads (workers started),
    parallel_loops (loops split over several threads), serial_loops and
    ranges_on_pool_threads (ranges of iterations the workers ran)."""
    return native.thread_stats()
