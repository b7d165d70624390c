"""Winnow from Python: compile tok programs, load artifacts, call them on
torch tensors, NumPy arrays or any DLPack producer without copies.

    import winnow
    artifact = winnow.compile(open("fastv.mlir").read(), target="cpu")
    module = winnow.load(artifact, device="cpu")
    kept = module.fastv(q_last, keys, hidden)

See docs/python.md.
"""

from ._errors import (CompileError, DataLossError, FailedPreconditionError,
                      InternalError, InvalidArgumentError, NotFoundError,
                      OutOfMemoryError, OutOfRangeError, UnavailableError,
                      UnimplementedError, WinnowError)
from ._module import Module, Signature, Symbol, TensorSpec, load, thread_stats
from ._compile import Artifact, compile, find_compiler
from ._torch_library import register_torch_ops
from . import methods

__all__ = [
    "Artifact", "CompileError", "DataLossError", "FailedPreconditionError",
    "InternalError", "InvalidArgumentError", "Module", "NotFoundError",
    "OutOfMemoryError", "OutOfRangeError", "Signature", "Symbol", "TensorSpec",
    "UnavailableError", "UnimplementedError", "WinnowError", "compile",
    "find_compiler", "load", "methods", "register_torch_ops", "thread_stats",
]
__version__ = "0.1.0"
