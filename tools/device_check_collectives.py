"""The device check's collective micro-kernels (docs/collectives.md).

`prepare` (device_check.py) writes one case per block size into
BUNDLE/collectives/ with test/oracle/collectives_oracle.py --emit-dir: the
kernel's PTX, its launch and parameters, its inputs and the NumPy oracle's
expected results. `run_cases` loads each PTX with the CUDA driver (ctypes on
libcuda.so.1: nothing else is needed on the GPU machine), launches it once
and compares every result bit for bit (NaN matches any NaN), which is what
the SIMT emulator checks on a machine without a GPU.
"""

import ctypes
import json
import os

import numpy as np

CUDA_SUCCESS = 0


class Driver:
    """The few driver calls a case needs, each checked."""

    def __init__(self, ordinal):
        self.lib = ctypes.CDLL("libcuda.so.1")
        self.check("cuInit", ctypes.c_uint(0))
        device = ctypes.c_int()
        self.check("cuDeviceGet", ctypes.byref(device), ctypes.c_int(ordinal))
        self.device = device
        self.context = ctypes.c_void_p()
        self.check("cuDevicePrimaryCtxRetain", ctypes.byref(self.context), device)
        self.check("cuCtxSetCurrent", self.context)

    def check(self, name, *args):
        result = getattr(self.lib, name)(*args)
        if result != CUDA_SUCCESS:
            text = ctypes.c_char_p()
            self.lib.cuGetErrorName(result, ctypes.byref(text))
            raise RuntimeError("%s failed: %s" % (
                name, text.value.decode() if text.value else result))

    def close(self):
        self.lib.cuDevicePrimaryCtxRelease_v2(self.device)


def memref_parameters(pointer, length):
    """MLIR's kernel ABI of a 1-D memref: allocated and aligned pointers,
    offset, size, stride."""
    return [ctypes.c_uint64(pointer), ctypes.c_uint64(pointer),
            ctypes.c_int64(0), ctypes.c_int64(length), ctypes.c_int64(1)]


def run_case(driver, directory, case):
    with open(os.path.join(directory, case["ptx"]), "rb") as handle:
        ptx = handle.read() + b"\0"
    module, function = ctypes.c_void_p(), ctypes.c_void_p()
    driver.check("cuModuleLoadData", ctypes.byref(module), ctypes.c_char_p(ptx))
    buffers = []
    try:
        driver.check("cuModuleGetFunction", ctypes.byref(function), module,
                     case["kernel"].encode())
        params = []
        for argument in case["arguments"]:
            host = np.array(case["inputs"].get(argument["name"],
                                               [-7] * argument["length"]),
                            dtype=np.int32)
            pointer = ctypes.c_uint64()
            driver.check("cuMemAlloc_v2", ctypes.byref(pointer),
                         ctypes.c_size_t(host.nbytes))
            buffers.append((pointer, host))
            driver.check("cuMemcpyHtoD_v2", pointer,
                         host.ctypes.data_as(ctypes.c_void_p),
                         ctypes.c_size_t(host.nbytes))
            params += memref_parameters(pointer.value, argument["length"])
        pointers = (ctypes.c_void_p * len(params))(
            *[ctypes.cast(ctypes.byref(p), ctypes.c_void_p) for p in params])
        grid, block = case["grid"], case["block"]
        driver.check("cuLaunchKernel", function,
                     *[ctypes.c_uint(v) for v in grid + block],
                     ctypes.c_uint(0), ctypes.c_void_p(0), pointers,
                     ctypes.c_void_p(0))
        driver.check("cuCtxSynchronize")
        out_pointer, out = buffers[-1]
        driver.check("cuMemcpyDtoH_v2", out.ctypes.data_as(ctypes.c_void_p),
                     out_pointer, ctypes.c_size_t(out.nbytes))
        return out
    finally:
        for pointer, _ in buffers:
            driver.lib.cuMemFree_v2(pointer)
        driver.lib.cuModuleUnload(module)


def compare(case, got):
    total = case["grid"][0] * case["block"][0]
    mismatches = []
    for row, name in enumerate(case["results"]):
        for thread, expected in enumerate(case["expected"][name]):
            value = int(got[row * total + thread])
            if expected is None:
                ok = np.isnan(np.array([value], dtype=np.int32).view(np.float32)[0])
            else:
                ok = value == expected
            if not ok:
                mismatches.append("%s[%d]: expected %s, got %d" % (
                    name, thread, "NaN" if expected is None else expected, value))
    return mismatches


def run_cases(directory, ordinal, log):
    """Runs every case in `directory`; returns one report entry per case."""
    names = sorted(f[:-len(".json")] for f in os.listdir(directory)
                   if f.endswith(".json"))
    entries = []
    try:
        driver = Driver(ordinal)
    except (OSError, RuntimeError) as error:
        return [{"case": name, "status": "FAIL", "error": str(error)} for name in names]
    try:
        for name in names:
            with open(os.path.join(directory, name + ".json")) as handle:
                case = json.load(handle)
            try:
                mismatches = compare(case, run_case(driver, directory, case))
                entry = {"case": name, "status": "FAIL" if mismatches else "PASS",
                         "mismatches": len(mismatches), "first": mismatches[:4]}
            except RuntimeError as error:
                entry = {"case": name, "status": "FAIL", "error": str(error)}
            entries.append(entry)
            log("%s  collectives/%-36s %s" % (
                entry["status"], name,
                entry.get("error") or ("%d mismatches: %s" % (
                    entry["mismatches"], "; ".join(entry["first"]))
                    if entry["mismatches"] else "bit-identical to the oracle")))
    finally:
        driver.close()
    return entries
