"""Entry points as PyTorch operators (torch.library), so they run under
torch.compile, in CUDA-graph capture and in TorchScript-free dispatch.

Each entry point ``f`` of a module becomes ``torch.ops.winnow.<prefix>_f``:
a CPU and a CUDA kernel that call the module, a fake (meta) kernel that
gives the result shapes without running anything, and an autograd kernel
that refuses to differentiate (the ops select, merge and verify tokens:
there is no gradient to give).

PyTorch 1.13 (Debian's) accepts only Library(ns, "DEF") once per namespace
and process, so one library object defines every op; PyTorch >= 2.1 uses a
"FRAGMENT" library for the same purpose.
"""

import re
import types

from . import _runtime

_NAMESPACE = "winnow"
_library = None
_registered = {}  # op name -> the module whose entry it calls


def _torch():
    torch = _runtime.torch_module()
    if torch is None:
        raise ImportError("register_torch_ops needs PyTorch: import torch "
                          "first")
    return torch


def _get_library(torch):
    global _library
    if _library is None:
        try:
            _library = torch.library.Library(_NAMESPACE, "FRAGMENT")
        except ValueError:  # torch < 2.1: "Unsupported kind"
            _library = torch.library.Library(_NAMESPACE, "DEF")
    return _library


def _schema_name(text):
    text = re.sub(r"\W", "_", text)
    return text if text and not text[0].isdigit() else "_" + text


def _schema(op_name, signature):
    used = set()
    arguments = []
    for spec in signature.inputs:
        name = _schema_name(spec.name)
        while name in used or name in ("self", "out"):
            name += "_"
        used.add(name)
        arguments.append(f"Tensor {name}")
    results = ", ".join("Tensor" for _ in signature.results)
    if len(signature.results) != 1:
        results = f"({results})"
    return f"{op_name}({', '.join(arguments)}) -> {results}"


def register_torch_ops(module, prefix=None):
    """Registers each entry point of `module` as torch.ops.winnow.<prefix>_<entry>
    and returns a namespace of the op packets (``ops.fastv(...)``).

    prefix: defaults to the artifact's source name (e.g. "fastv_llava15");
    two modules registered with one prefix must not share entry names.
    """
    torch = _torch()
    library = _get_library(torch)
    if prefix is None:
        prefix = re.sub(r"\.mlir$", "", module.source_name or "module")
    prefix = _schema_name(prefix)
    namespace = types.SimpleNamespace()
    for entry_name, signature in module.signatures.items():
        op_name = f"{prefix}_{_schema_name(entry_name)}"
        if op_name in _registered:
            if _registered[op_name] is not module:
                raise ValueError(
                    f"torch.ops.{_NAMESPACE}.{op_name} is already registered "
                    "for another module: pass another prefix")
        else:
            _define(torch, library, op_name, module, signature,
                    getattr(module, entry_name))
            _registered[op_name] = module
        setattr(namespace, entry_name,
                getattr(getattr(torch.ops, _NAMESPACE), op_name))
    return namespace


def _below_autograd(torch, op, tensors):
    """Calls op with the autograd keys excluded (the backend kernel runs)."""
    guard_type = torch._C._AutoDispatchBelowAutograd
    if hasattr(guard_type, "__enter__"):  # torch 2.x: a context manager
        with guard_type():
            return op(*tensors)
    guard = guard_type()  # torch 1.13: active while it lives
    try:
        return op(*tensors)
    finally:
        del guard


def _result_shapes(module, signature, given):
    """The result shapes of a call on inputs of shapes `given`, for the fake
    kernel. Concrete extents (meta tensors; torch 1.13's fake tensors) are
    bound and checked by the runtime, as the call would; symbolic ones
    (torch.compile's dynamic shapes) are passed through: each dynamic result
    extent is the input extent that binds its symbol."""
    if all(isinstance(e, int) for shape in given for e in shape):
        return module.result_shapes(signature.name, given)
    if len(given) != len(signature.inputs):
        raise TypeError(f"{signature.name}() takes {len(signature.inputs)} "
                        f"tensors, got {len(given)}")
    values = {}
    for name, (i, d) in signature.bindings().items():
        spec = signature.inputs[i]
        if len(given[i]) != len(spec.shape):
            raise ValueError(
                f"function '{signature.name}' input {i} '{spec.name}': "
                f"expected rank {len(spec.shape)} ({spec}), got rank "
                f"{len(given[i])}")
        values[name] = given[i][d]
    return [tuple(values[e] if isinstance(e, str) else e for e in s.shape)
            for s in signature.results]


def _define(torch, library, op_name, module, signature, entry):
    library.define(_schema(op_name, signature))
    qualified = f"{_NAMESPACE}::{op_name}"
    single = len(signature.results) == 1
    dtypes = [getattr(torch, {"f32": "float32", "f16": "float16",
                              "f64": "float64", "bf16": "bfloat16",
                              "i1": "bool", "i8": "int8", "i16": "int16",
                              "i32": "int32", "i64": "int64"}[s.dtype])
              for s in signature.results]
    shapes = [s.shape for s in signature.results]

    def kernel(*tensors):
        results = entry(*tensors)
        return results if single else tuple(results)

    def autograd_kernel(*tensors):
        if torch.is_grad_enabled() and any(
                t.requires_grad for t in tensors):
            raise RuntimeError(
                f"{qualified} is not differentiable (it selects, merges or "
                "verifies tokens): call it on detached tensors or under "
                "torch.no_grad()")
        return _below_autograd(
            torch, getattr(getattr(torch.ops, _NAMESPACE), op_name), tensors)

    def fake(*tensors):
        device = tensors[0].device if tensors else module.device
        result_shapes = shapes if not signature.symbols else _result_shapes(
            module, signature, [tuple(t.shape) for t in tensors])
        results = tuple(torch.empty(shape, dtype=dtype, device=device)
                        for shape, dtype in zip(result_shapes, dtypes))
        return results[0] if single else results

    device_key = "CUDA" if module.device_kind == "cuda" else "CPU"
    library.impl(op_name, kernel, device_key)
    library.impl(op_name, autograd_kernel, "Autograd")
    register_fake = getattr(torch.library, "register_fake", None)
    if register_fake is not None:  # torch >= 2.4
        register_fake(qualified, fake, lib=library)
    else:
        library.impl(op_name, fake, "Meta")
