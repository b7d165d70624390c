"""The native extension, loaded once, with the package's exceptions and
(when PyTorch is importable) the torch.Tensor fast path registered."""

import sys

from ._errors import BY_STATUS_CODE

try:
    from . import _native
except ImportError as error:  # pragma: no cover - depends on the build
    raise ImportError(
        "winnow's native extension (winnow/_native.abi3.so) was not found "
        "next to this package: build Winnow first (tools/build.sh) and use "
        "the package from the build tree (PYTHONPATH=build/python) or install "
        f"it with pip (docs/python.md); the import said: {error}") from error

_native.set_error_classes(BY_STATUS_CODE)

# DLPack type codes (dlpack.h): kDLInt 0, kDLUInt 1, kDLFloat 2, kDLBfloat 4,
# kDLBool 6.
_TORCH_DTYPE_CODES = {
    "float32": (2, 32), "float16": (2, 16), "float64": (2, 64),
    "bfloat16": (4, 16), "int8": (0, 8), "int16": (0, 16),
    "int32": (0, 32), "int64": (0, 64), "bool": (6, 8),
}

_torch = None


def torch_module():
    """torch when the process has imported it, else None.

    The package never imports PyTorch itself (NumPy and any DLPack producer
    work without it); once the caller has imported it, torch tensors take
    the attribute fast path and results can be torch tensors."""
    global _torch
    if _torch is None and "torch" in sys.modules:
        torch = sys.modules["torch"]
        _native.set_torch(
            torch.Tensor,
            {getattr(torch, name): code
             for name, code in _TORCH_DTYPE_CODES.items()})
        _torch = torch
    return _torch


native = _native
