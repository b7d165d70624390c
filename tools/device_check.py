#!/usr/bin/env python3
"""Device correctness suite: every recipe in examples/ on a CUDA GPU against the
CPU backend, on the same inputs, in one call on the GPU machine.

  prepare BUNDLE   (build machine: needs winnow-compile) compiles every
                   examples/*.mlir for cpu,cuda, generates seeded inputs for
                   every function and copies winnow-run, the runtime and this
                   script into BUNDLE.
  run BUNDLE       (GPU machine: needs only Python with NumPy and the CUDA
                   driver) runs every function on the CPU and on cuda:N and
                   compares the results; writes a JSON report.
  self-test        checks the comparison rules and input generators on
                   synthetic data.

Exit status of `run`: 0 all passed, 1 a comparison failed or a call failed,
2 no CUDA driver/GPU (the CPU side ran, nothing was compared), 3 unusable
bundle or tools. See docs/device-check.md.
"""

import argparse
import ctypes
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import zlib

import numpy as np

EXIT_OK, EXIT_MISMATCH, EXIT_NO_GPU, EXIT_BUNDLE = 0, 1, 2, 3

BUNDLE_MANIFEST = "bundle.json"
COLLECTIVES_DIR = "collectives"
DETERMINISM_DIR = "determinism"
BUNDLE_FORMAT = 1

# Floating-point results must satisfy |cuda - cpu| <= atol + rtol * |cpu|.
# f32: a few ulps of reduction-order differences (sums, softmax, cosine).
# bf16/f16: one rounding step of the storage type (bf16 has 8 significant
# bits, so 1/128 relative is one ulp at the top of a binade) plus an absolute
# floor for values that cancel to near zero.
TOLERANCES = {
    "f32": (1e-5, 1e-4),
    "f64": (1e-9, 1e-9),
    "bf16": (1e-2, 1.0 / 128),
    "f16": (1e-3, 1e-3),
}
FLOAT_DTYPES = set(TOLERANCES)

DEFAULT_VOCAB = 32000

# ---------------------------------------------------------------------------
# Manifest (`winnow-run ART --list`)
# ---------------------------------------------------------------------------

_FUNC_RE = re.compile(r"^\s*func @(\w+)\((.*)\) -> \((.*)\)\s*$")
_TENSOR_RE = re.compile(
    r"(\w+): ((?:\d+x)*)([a-z]+\d+)(?: \[count: result (\d+)\])?")


def parse_tensor_list(text):
    """'a: 4x32xbf16, n: 4xi32 [count: result 1]' -> list of tensor specs."""
    specs = []
    for match in _TENSOR_RE.finditer(text):
        name, dims, dtype, count = match.groups()
        shape = [int(d) for d in dims.split("x") if d]
        specs.append({"name": name, "shape": shape, "dtype": dtype,
                      "count_result": int(count) if count is not None else -1})
    return specs


def parse_manifest(listing):
    """Functions of a `winnow-run --list` listing, plus the target kinds."""
    functions, targets = [], []
    for line in listing.splitlines():
        match = _FUNC_RE.match(line)
        if match:
            name, inputs, results = match.groups()
            functions.append({"name": name,
                              "inputs": parse_tensor_list(inputs),
                              "results": parse_tensor_list(results)})
        elif re.match(r"^\s*\[\d+\] (cpu|cuda) ", line):
            targets.append(line.split("]", 1)[1].split()[0])
    return {"functions": functions, "targets": targets}


# ---------------------------------------------------------------------------
# Inputs: deterministic, seeded by (suite seed, recipe, function)
# ---------------------------------------------------------------------------

def f32_to_bf16_bits(values):
    """Round float32 to bf16 (nearest even) and return the raw <u2 bits, the
    form winnow-run takes for a bf16 input."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    rounding = ((bits >> 16) & 1) + np.uint32(0x7FFF)
    return ((bits + rounding) >> 16).astype(np.uint16)


def bf16_bits_to_f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def function_rng(seed, recipe, function):
    # RandomState (not Generator): NumPy guarantees its streams never change,
    # so the GPU machine regenerates bit-identical inputs with any NumPy.
    key = "%d/%s/%s" % (seed, recipe, function)
    return np.random.RandomState(zlib.crc32(key.encode()))


LENGTH_NAMES = {"lengths", "length", "num_tokens", "num_nodes", "num_draft",
                "chunk_count", "count", "counts"}


def is_length_input(spec):
    name = spec["name"].lower()
    return (spec["dtype"] == "i32" and len(spec["shape"]) == 1 and
            (name in LENGTH_NAMES or name.startswith("num_") or
             name.endswith("_count") or name.endswith("_lengths")))


def token_extent(inputs, batch):
    """The extent that per-row lengths index: the largest of the 'sequence'
    axes (axis 1 of a rank-2 input, axes 1..rank-2 of higher ranks, whose
    last axis is a feature/vocab axis) among inputs with this batch size."""
    extents = []
    for spec in inputs:
        shape = spec["shape"]
        if len(shape) < 2 or shape[0] != batch:
            continue
        extents += shape[1:2] if len(shape) == 2 else shape[1:-1]
    return max(extents) if extents else 1


def make_lengths(rng, batch, extent):
    """Full rows, a partial row, an empty row (B >= 4) and random ones."""
    values = rng.randint(1, extent + 1, size=batch)
    pattern = [extent, max(1, extent // 4 + rng.randint(0, max(1, extent // 2)))]
    if batch >= 4:
        pattern += [extent, 0]
    for i, value in enumerate(pattern[:batch]):
        values[i] = value
    return values.astype(np.int32)


def make_parents(rng, shape):
    """A valid tree per row: -1 for the root, parents[i] in [0, i); half the
    nodes extend the previous node so that trees have deep paths."""
    parents = np.empty(shape, dtype=np.int32)
    parents[..., 0] = -1
    for i in range(1, shape[-1]):
        chain = rng.random_sample(shape[:-1]) < 0.5
        parents[..., i] = np.where(chain, i - 1, rng.randint(0, i, size=shape[:-1]))
    return parents


# Feature inputs that merging / clustering recipes compare by similarity.
REDUNDANT_FEATURE_NAMES = {"frames", "metric", "x", "hidden", "features"}


def redundant_features(rng, shape, temporal):
    """randn features with the redundancy merging methods look for: 30 % of
    the tokens (axis 1) are a noisy copy of an earlier token, and with
    `temporal` (axis 0 is time) 40 % of the token positions stay nearly
    static across frames. The copies have cosine ~0.998 with their source,
    random pairs ~0: far from any similarity threshold on both sides, so
    rounding differences cannot flip a merge decision."""
    values = rng.standard_normal(shape)
    tokens = shape[1]
    for i in range(1, tokens):
        copy = rng.random_sample(shape[0]) < 0.3
        source = rng.randint(0, i, size=shape[0])
        noise = 0.05 * rng.standard_normal((shape[0],) + tuple(shape[2:]))
        rows = np.arange(shape[0])
        values[copy, i] = values[rows[copy], source[copy]] + noise[copy]
    if temporal and shape[0] > 1:
        static = rng.random_sample(tokens) < 0.4
        noise = 0.05 * rng.standard_normal(values[1:, static].shape)
        values[1:, static] = values[0:1, static] + noise
    return values


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def splat_constants(source_text):
    """Integer splat constants of a recipe (`dense<29889>`): candidates for the
    token ids it compares against (separators, end of sentence, ...)."""
    return sorted({int(v) for v in re.findall(r"dense<(\d+)>", source_text)})


def generate_function_inputs(function, rng, id_constants=()):
    """Inputs for one function, in signature order, as NumPy arrays in the
    file format winnow-run reads (bf16 as raw <u2 bits, i1 as bool)."""
    inputs = function["inputs"]
    by_name = {spec["name"]: spec for spec in inputs}
    vocab = DEFAULT_VOCAB
    for spec in inputs:
        if spec["name"] == "logits" and len(spec["shape"]) >= 2:
            vocab = spec["shape"][-1]
    generated = {}  # name -> values as float32/int (bf16 not yet rounded)

    def logits_rows():
        """The logits as the kernels see them (bf16-rounded), or None."""
        if "logits" not in generated:
            return None
        values = generated["logits"]
        if by_name["logits"]["dtype"] == "bf16":
            values = bf16_bits_to_f32(f32_to_bf16_bits(values))
        return values

    # Some inputs depend on others (tree tokens on logits and parents), so
    # generate in a dependency order, but draw in a fixed order per name.
    order = sorted(inputs, key=lambda s: {"logits": 0, "parents": 1}.get(s["name"], 2))
    for spec in order:
        name, shape, dtype = spec["name"], tuple(spec["shape"]), spec["dtype"]
        lname = name.lower()
        if dtype == "i1":
            # Boundaries / word starts: sparse, and the first token always
            # starts a segment.
            values = rng.random_sample(shape) < 0.2
            if len(shape) >= 2:
                values[:, 0] = True
            elif len(shape) == 1 and shape[0] > 0:
                values[0] = True
        elif lname == "prefix_len":
            values = rng.randint(0, 4096, size=shape).astype(np.int32)
        elif lname == "num_draft" and "drafts" in by_name:
            batch, drafts = by_name["drafts"]["shape"][:2]
            values = make_lengths(rng, shape[0], drafts)
        elif lname == "num_nodes" and "parents" in by_name:
            values = make_lengths(rng, shape[0], by_name["parents"]["shape"][1])
        elif is_length_input(spec):
            values = make_lengths(rng, shape[0], token_extent(inputs, shape[0]))
        elif lname == "parents":
            values = make_parents(rng, shape)
        elif lname in ("tree_tokens", "drafts"):
            values = rng.randint(0, vocab, size=shape)
            logits = logits_rows()
            if logits is not None and len(shape) == 2:
                # Greedy targets: a draft / tree node matches the argmax of
                # the logits it is verified against (the parent's row for a
                # tree, row i for a chain) most of the time, so acceptance
                # paths are long enough to exercise the verifiers.
                best = logits.argmax(axis=-1)
                match = rng.random_sample(shape) < 0.8
                if lname == "tree_tokens" and "parents" in generated:
                    parents = np.maximum(generated["parents"], 0)
                    targets = np.take_along_axis(best, parents, axis=1)
                else:
                    targets = best[:, :shape[1]]
                values = np.where(match, targets, values)
            values = values.astype(np.int32)
        elif lname in ("byte_ids", "bytes") and dtype.startswith("i"):
            # Raw bytes: mostly letters, with whitespace (9-13, 32) often
            # enough that words end, and a few other bytes.
            values = rng.randint(97, 123, size=shape)
            pick = rng.random_sample(shape)
            values = np.where(pick < 0.15, rng.choice([9, 10, 13, 32, 32, 32],
                                                      size=shape), values)
            values = np.where(pick > 0.95, rng.randint(0, 256, size=shape), values)
            values = values.astype(np.int32)
        elif "token" in lname and "id" in lname or lname == "ids":
            values = rng.randint(0, vocab, size=shape)
            # Mix in the recipe's own constants so its comparisons hit.
            specials = [i for i in id_constants if 1 < i < vocab]
            if specials:
                pick = rng.random_sample(shape) < 0.1
                values = np.where(pick, rng.choice(specials, size=shape), values)
            values = values.astype(np.int32)
        elif lname in ("seed", "offset") or dtype == "i64":
            values = rng.randint(0, 2**31, size=shape).astype(np.int64)
        elif "position" in lname and len(shape) >= 1:
            start = rng.randint(0, 64, size=shape[:-1] + (1,))
            values = (start + np.arange(shape[-1])).astype(np.int32)
        elif dtype.startswith("i"):
            values = rng.randint(0, 1024, size=shape).astype(
                np.int64 if dtype == "i64" else np.int32)
        elif lname == "temperature":
            values = rng.uniform(0.5, 1.5, size=shape)
        elif lname == "draft_probs":
            values = softmax(rng.standard_normal(shape))
        elif lname in REDUNDANT_FEATURE_NAMES and len(shape) >= 3:
            values = redundant_features(rng, shape, temporal=(lname == "frames"))
        elif lname.startswith("sizes"):
            values = rng.uniform(1.0, 3.0, size=shape)
        elif lname == "gates":
            values = rng.uniform(0.0, 1.0, size=shape)
        else:
            values = rng.standard_normal(shape)
        if dtype in FLOAT_DTYPES:
            values = np.asarray(values, dtype=np.float32)
        generated[name] = values
    return [(spec, to_file_array(generated[spec["name"]], spec["dtype"]))
            for spec in inputs]


def to_file_array(values, dtype):
    if dtype == "bf16":
        return f32_to_bf16_bits(values)
    if dtype == "f16":
        return values.astype(np.float16)
    if dtype == "f64":
        return values.astype(np.float64)
    if dtype == "i1":
        return values.astype(np.bool_)
    return np.ascontiguousarray(values)


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------

def valid_mask(shape, counts):
    """True on the valid rows of a ragged result: axis 1 index < counts[b]
    (counts clamped to [0, rows], as winnow-run does)."""
    rows = shape[1]
    clamped = np.clip(np.asarray(counts, dtype=np.int64), 0, rows)
    mask = np.arange(rows)[None, :] < clamped[:, None]
    return np.broadcast_to(mask.reshape(mask.shape + (1,) * (len(shape) - 2)), shape)


def same_bits_or_both_nan(a, b):
    return (a == b) | (np.isnan(a) & np.isnan(b))


def index_of(flat_index, shape):
    return [int(i) for i in np.unravel_index(int(flat_index), shape)]


def compare_result(spec, cpu, cuda, cpu_counts=None):
    """Compares one result of the CUDA run (`got`) with the CPU run (`ref`,
    the reference).

    Integer and i1 results must be identical everywhere. Floating results must
    be within TOLERANCES on the valid elements; on the padding of a ragged
    result (rows >= count[b], the counts taken from the CPU run) both backends
    must have written identical values. Returns a dict for the report."""
    dtype = spec["dtype"]
    report = {"name": spec["name"], "dtype": dtype,
              "shape": list(spec["shape"]), "ragged": cpu_counts is not None,
              "elements": int(np.prod(spec["shape"], dtype=np.int64))}
    expected_shape = tuple(spec["shape"])
    if cpu.shape != expected_shape or cuda.shape != expected_shape:
        report.update(status="FAIL", mismatches=report["elements"],
                      detail="shape: manifest %s, cpu %s, cuda %s" % (
                          list(expected_shape), list(cpu.shape), list(cuda.shape)))
        return report

    if cpu_counts is not None:
        valid = valid_mask(expected_shape, cpu_counts)
    else:
        valid = np.ones(expected_shape, dtype=bool)

    if dtype in FLOAT_DTYPES:
        ref = cpu.astype(np.float64)
        got = cuda.astype(np.float64)
        atol, rtol = TOLERANCES[dtype]
        with np.errstate(invalid="ignore"):
            diff = np.abs(got - ref)
            allowed = atol + rtol * np.abs(ref)
            # Infinities only match themselves (inf - inf is NaN, and
            # atol + rtol * inf would accept anything).
            close = ((np.isfinite(ref) & np.isfinite(got) & (diff <= allowed)) |
                     same_bits_or_both_nan(ref, got))
        bad_valid = valid & ~close
        bad_padding = ~valid & ~same_bits_or_both_nan(ref, got)
        finite = valid & np.isfinite(ref) & np.isfinite(got)
        report["atol"], report["rtol"] = atol, rtol
        if finite.any():
            report["max_abs_error"] = float(diff[finite].max())
            with np.errstate(divide="ignore", invalid="ignore"):
                rel = np.where(np.abs(ref) > 0, diff / np.abs(ref), np.where(diff > 0, np.inf, 0.0))
            report["max_rel_error"] = float(rel[finite].max())
        else:
            report["max_abs_error"] = report["max_rel_error"] = 0.0
        # -0.0 and +0.0 count as identical (the project's semantics).
        report["bit_identical"] = bool(same_bits_or_both_nan(ref, got).all())
        with np.errstate(invalid="ignore"):
            excess = np.where(valid, np.nan_to_num(diff - allowed, nan=np.inf), -np.inf)
        worst = int(np.argmax(excess)) if bad_valid.any() else None
    else:
        ref = cpu.astype(np.int64)
        got = cuda.astype(np.int64)
        bad_valid = valid & (ref != got)
        bad_padding = ~valid & (ref != got)
        report["max_abs_error"] = float(np.abs(ref - got).max()) if ref.size else 0.0
        report["bit_identical"] = not (bad_valid.any() or bad_padding.any())
        worst = int(np.argmax(bad_valid)) if bad_valid.any() else None

    if worst is None and bad_padding.any():
        worst = int(np.argmax(bad_padding))
    report["mismatches"] = int(bad_valid.sum())
    report["padding_mismatches"] = int(bad_padding.sum())
    report["status"] = "PASS" if not (bad_valid.any() or bad_padding.any()) else "FAIL"
    if worst is not None:
        where = index_of(worst, expected_shape)
        report["worst"] = {"index": where, "cpu": ref.flat[worst].item(),
                           "cuda": got.flat[worst].item(),
                           "in_padding": bool(not valid.flat[worst])}
    return report


def describe_result(result):
    """One short phrase for the PASS/FAIL line."""
    if "detail" in result:
        return "%s: %s" % (result["name"], result["detail"])
    text = result["name"]
    if result["status"] == "FAIL":
        parts = []
        if result["mismatches"]:
            parts.append("%d of %d differ" % (result["mismatches"], result["elements"]))
        if result["padding_mismatches"]:
            parts.append("%d padding elements differ" % result["padding_mismatches"])
        worst = result.get("worst")
        if worst:
            parts.append("at %s cpu %r cuda %r" % (worst["index"], worst["cpu"], worst["cuda"]))
        return text + ": " + ", ".join(parts)
    if result["dtype"] in FLOAT_DTYPES:
        return "%s max abs %.2e rel %.2e" % (text, result["max_abs_error"],
                                             result["max_rel_error"])
    return text + " identical"


def compare_function(function, cpu_dir, cuda_dir):
    """Compares every result of one function; returns the list of reports."""
    reports = []
    cpu_values, cuda_values = {}, {}
    for spec in function["results"]:
        for values, directory in ((cpu_values, cpu_dir), (cuda_values, cuda_dir)):
            path = os.path.join(directory, spec["name"] + ".npy")
            values[spec["name"]] = np.load(path) if os.path.exists(path) else None
    for spec in function["results"]:
        cpu, cuda = cpu_values[spec["name"]], cuda_values[spec["name"]]
        if cpu is None or cuda is None:
            reports.append({"name": spec["name"], "dtype": spec["dtype"],
                            "status": "FAIL", "mismatches": 0,
                            "padding_mismatches": 0,
                            "detail": "missing output (cpu %s, cuda %s)" % (
                                cpu is not None, cuda is not None)})
            continue
        counts = None
        if spec["count_result"] >= 0:
            count_name = function["results"][spec["count_result"]]["name"]
            counts = cpu_values[count_name]
        reports.append(compare_result(spec, cpu, cuda, counts))
    return reports


def near_tie_note(reports):
    """Integer results that differ while every float result is within
    tolerance but not bit-identical: possibly a selection over values within
    rounding of a tie. Still a failure; the note helps triage."""
    ints_differ = any(r["status"] == "FAIL" and r["dtype"] not in FLOAT_DTYPES
                      for r in reports)
    floats = [r for r in reports if r["dtype"] in FLOAT_DTYPES and "bit_identical" in r]
    if ints_differ and floats and not all(r["bit_identical"] for r in floats):
        return ("integer results differ while float results differ by rounding: "
                "check for near-ties in the selection (still a failure)")
    return None


# ---------------------------------------------------------------------------
# Running winnow-run
# ---------------------------------------------------------------------------

class Bundle:
    def __init__(self, root):
        self.root = os.path.abspath(root)
        with open(os.path.join(self.root, BUNDLE_MANIFEST)) as handle:
            self.manifest = json.load(handle)
        if self.manifest.get("format") != BUNDLE_FORMAT:
            raise RuntimeError("bundle format %r, this script reads %d" % (
                self.manifest.get("format"), BUNDLE_FORMAT))

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def environment(self):
        """winnow-run finds the bundled runtime through LD_LIBRARY_PATH (its
        RUNPATH points into the build tree, which the GPU machine lacks)."""
        env = dict(os.environ)
        lib = self.path("lib")
        env["LD_LIBRARY_PATH"] = lib + (":" + env["LD_LIBRARY_PATH"]
                                        if env.get("LD_LIBRARY_PATH") else "")
        return env


def run_winnow(bundle, recipe, function, device, out_dir, bench):
    """One winnow-run call; returns a dict with ok, wall_s, bench, error."""
    inputs = [spec["path"] for spec in function["inputs"]]
    command = [bundle.path("bin", "winnow-run"),
               bundle.path("artifacts", recipe["artifact"]),
               "--function=" + function["name"], "--device=" + device,
               "--output-dir=" + out_dir, "--print=none"]
    command += ["--input=@" + path for path in inputs]
    if bench > 0:
        command.append("--bench=%d" % bench)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    start = time.monotonic()
    proc = subprocess.run(command, env=bundle.environment(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    outcome = {"ok": proc.returncode == 0,
               "wall_s": round(time.monotonic() - start, 4)}
    match = re.search(r"bench: (\d+) calls, median ([\d.]+) us, min ([\d.]+) us, "
                      r"mean ([\d.]+) us(.*)", proc.stdout)
    if match:
        outcome["bench"] = {"calls": int(match.group(1)),
                            "median_us": float(match.group(2)),
                            "min_us": float(match.group(3)),
                            "mean_us": float(match.group(4)),
                            "clock": match.group(5).strip(" ()") or "host clock"}
    if proc.returncode != 0:
        outcome["error"] = (proc.stderr.strip() or proc.stdout.strip() or
                            "exit status %d" % proc.returncode)
    return outcome


class DeviceInfo(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("name", ctypes.c_char_p),
                ("description", ctypes.c_char_p), ("ordinal", ctypes.c_int32),
                ("cc_major", ctypes.c_int32), ("cc_minor", ctypes.c_int32),
                ("total_memory_bytes", ctypes.c_uint64)]


def query_device(bundle, device):
    """Opens the device through the bundled runtime's C API. Returns
    (info dict, None) or (None, error message); no GPU/driver is an error
    with status UNAVAILABLE or NOT_FOUND."""
    try:
        lib = ctypes.CDLL(bundle.path("lib", "libwinnow_runtime.so"))
    except OSError as error:
        return None, "cannot load the bundled runtime: %s" % error
    lib.winnow_device_create.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.winnow_device_create.restype = ctypes.c_void_p
    lib.winnow_device_get_info.argtypes = [ctypes.c_void_p, ctypes.POINTER(DeviceInfo)]
    lib.winnow_device_get_info.restype = ctypes.c_void_p
    lib.winnow_device_release.argtypes = [ctypes.c_void_p]
    lib.winnow_status_message.argtypes = [ctypes.c_void_p]
    lib.winnow_status_message.restype = ctypes.c_char_p
    lib.winnow_status_code.argtypes = [ctypes.c_void_p]
    lib.winnow_status_code.restype = ctypes.c_int
    lib.winnow_status_code_name.argtypes = [ctypes.c_int]
    lib.winnow_status_code_name.restype = ctypes.c_char_p
    lib.winnow_status_free.argtypes = [ctypes.c_void_p]

    def failure(status):
        message = "%s: %s" % (
            lib.winnow_status_code_name(lib.winnow_status_code(status)).decode(),
            lib.winnow_status_message(status).decode())
        lib.winnow_status_free(status)
        return None, message

    handle = ctypes.c_void_p()
    status = lib.winnow_device_create(device.encode(), ctypes.byref(handle))
    if status:
        return failure(status)
    info = DeviceInfo()
    status = lib.winnow_device_get_info(handle, ctypes.byref(info))
    if status:
        lib.winnow_device_release(handle)
        return failure(status)
    result = {"device": info.name.decode(), "name": info.description.decode(),
              "ordinal": info.ordinal,
              "compute_capability": "%d.%d" % (info.cc_major, info.cc_minor),
              "memory_bytes": int(info.total_memory_bytes)}
    lib.winnow_device_release(handle)
    return result, None


def nvidia_smi_summary():
    try:
        proc = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
             "--format=csv,noheader"], stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, universal_newlines=True, timeout=30)
        return proc.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def ensure_inputs(bundle, work, log):
    """Sets spec["path"] for every input: the bundled file, or for inputs left
    out of the bundle (to keep it small) a file regenerated under WORK from
    the same seed. Every file is checked against the sha256 recorded by
    `prepare`; a mismatch is a warning, not an error (both backends still get
    the same files). Returns the warnings."""
    warnings = []
    seed = bundle.manifest["seed"]
    for recipe in bundle.manifest["recipes"]:
        constants = recipe.get("id_constants", [])
        for function in recipe["functions"]:
            for spec in function["inputs"]:
                bundled = bundle.path(spec["file"])
                spec["path"] = bundled if os.path.exists(bundled) else os.path.join(
                    work, spec["file"])
            missing = [s for s in function["inputs"] if not os.path.exists(s["path"])]
            if missing:
                log("inputs %-47s generating %s" % (
                    recipe["name"] + "/" + function["name"],
                    ", ".join(s["name"] for s in missing)))
                rng = function_rng(seed, recipe["name"], function["name"])
                for spec, values in generate_function_inputs(function, rng, constants):
                    if spec in missing:
                        os.makedirs(os.path.dirname(spec["path"]), exist_ok=True)
                        np.save(spec["path"], values)
            for spec in function["inputs"]:
                if sha256_of(spec["path"]) != spec["sha256"]:
                    warnings.append("%s differs from the prepared input (sha256)" % spec["file"])
    return warnings


def command_run(args):
    log = lambda text: print(text, flush=True)
    try:
        bundle = Bundle(args.bundle)
    except (OSError, ValueError, RuntimeError) as error:
        print("device-check: error: not a usable bundle: %s" % error, file=sys.stderr)
        return EXIT_BUNDLE
    # Outputs and regenerated inputs go outside the bundle, so that the
    # bundle stays small enough to carry again.
    work = os.path.abspath(args.work_dir) if args.work_dir else tempfile.mkdtemp(prefix="device-check-")
    try:
        return run_suite(args, bundle, work, log)
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)


def run_suite(args, bundle, work, log):
    started = time.monotonic()
    try:
        input_warnings = ensure_inputs(bundle, work, log)
    except (OSError, ValueError) as error:
        print("device-check: error: inputs: %s" % error, file=sys.stderr)
        return EXIT_BUNDLE
    for warning in input_warnings:
        log("warning: " + warning)

    selected = []
    for recipe in bundle.manifest["recipes"]:
        for function in recipe["functions"]:
            label = "%s/%s" % (recipe["name"], function["name"])
            if args.only and not re.search(args.only, label):
                continue
            selected.append((label, recipe, function))

    # The CPU side first, for every function: it is the reference and it is
    # what this script can run on a machine without a GPU.
    cpu_runs = {}
    for label, recipe, function in selected:
        outcome = run_winnow(bundle, recipe, function, "cpu",
                             os.path.join(work, "cpu", label), args.bench)
        cpu_runs[label] = outcome
        if not outcome["ok"] and "error while loading shared libraries" in outcome.get("error", ""):
            print("device-check: error: winnow-run cannot start: %s" % outcome["error"],
                  file=sys.stderr)
            return EXIT_BUNDLE
        log("cpu   %-48s %s" % (label, "%.2f s" % outcome["wall_s"] if outcome["ok"]
                                  else "ERROR " + outcome["error"]))
    cpu_seconds = time.monotonic() - started

    gpu, gpu_error = query_device(bundle, args.device)
    report = {
        "tool": "tools/device_check.py",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": socket.gethostname(), "platform": platform.platform(),
        "numpy": np.__version__,
        "device": args.device, "gpu": gpu, "nvidia_smi": nvidia_smi_summary(),
        "bundle": {key: bundle.manifest.get(key) for key in
                   ("prepared_at", "prepared_on", "git_commit", "seed",
                    "winnow_compile_sha256")},
        "tolerances": {k: {"atol": v[0], "rtol": v[1]} for k, v in TOLERANCES.items()},
        "input_warnings": input_warnings, "bench_calls": args.bench,
        "cpu_side_seconds": round(cpu_seconds, 2),
        "functions": [],
    }
    if gpu is None:
        report["status"] = "no-gpu"
        report["error"] = gpu_error
        write_report(report, args, bundle)
        print("device-check: no CUDA driver/GPU on this machine (%s: %s); the CPU "
              "side ran for %d functions in %.1f s, nothing was compared" % (
                  args.device, gpu_error, len(selected), cpu_seconds), file=sys.stderr)
        return EXIT_NO_GPU
    log("gpu: %s (%s, compute capability %s)" % (gpu["name"], gpu["device"],
                                                   gpu["compute_capability"]))

    passed = failed = 0
    for label, recipe, function in selected:
        cuda_dir = os.path.join(work, "cuda", label)
        cuda = run_winnow(bundle, recipe, function, args.device, cuda_dir, args.bench)
        cpu = cpu_runs[label]
        entry = {"recipe": recipe["name"], "function": function["name"],
                 "timing": {"cpu": strip_ok(cpu), "cuda": strip_ok(cuda)}}
        if not (cpu["ok"] and cuda["ok"]):
            entry["status"] = "FAIL"
            entry["error"] = "; ".join("%s: %s" % (side, run["error"])
                                       for side, run in (("cpu", cpu), ("cuda", cuda))
                                       if not run["ok"])
            line = entry["error"]
        else:
            results = compare_function(function, os.path.join(work, "cpu", label), cuda_dir)
            entry["results"] = results
            entry["status"] = "PASS" if all(r["status"] == "PASS" for r in results) else "FAIL"
            note = near_tie_note(results)
            if note:
                entry["note"] = note
            line = summarize_line(results, entry["status"])
            if "bench" in cpu and "bench" in cuda:
                line += " | median cpu %.1f us, %s %.1f us" % (
                    cpu["bench"]["median_us"], args.device, cuda["bench"]["median_us"])
            if note:
                line += " | " + note
        passed += entry["status"] == "PASS"
        failed += entry["status"] != "PASS"
        report["functions"].append(entry)
        log("%s  %-48s %s" % (entry["status"], label, line))

    # The collective micro-kernels (docs/collectives.md), when the bundle
    # has them, the device is a GPU and no --only narrowed the run to
    # recipes.
    collectives = bundle.path(COLLECTIVES_DIR)
    if os.path.isdir(collectives) and not args.only and args.device.startswith("cuda"):
        sys.path.insert(0, bundle.root)
        import device_check_collectives
        ordinal = int(args.device.split(":")[1]) if ":" in args.device else 0
        report["collectives"] = device_check_collectives.run_cases(
            collectives, ordinal, log)
        for entry in report["collectives"]:
            passed += entry["status"] == "PASS"
            failed += entry["status"] != "PASS"

    # Batch invariance on the GPU: each request's results in batches of 8, 3
    # and 1 against the CPU's batch of 8, bit for bit.
    determinism = bundle.path(DETERMINISM_DIR)
    if os.path.isdir(determinism) and not args.only:
        sys.path.insert(0, bundle.root)
        import determinism_check
        os.makedirs(os.path.join(work, DETERMINISM_DIR), exist_ok=True)
        report["determinism"] = determinism_check.run_on_device(
            determinism, bundle.path("bin", "winnow-run"), args.device,
            os.path.join(work, DETERMINISM_DIR), log, env=bundle.environment())
        for entry in report["determinism"]:
            passed += entry["status"] == "PASS"
            failed += entry["status"] != "PASS"

    report["status"] = "pass" if failed == 0 else "fail"
    report["summary"] = {"passed": passed, "failed": failed}
    report["total_seconds"] = round(time.monotonic() - started, 2)
    path = write_report(report, args, bundle)
    log("device-check: %d passed, %d failed on %s (%s)" % (
        passed, failed, gpu["name"], gpu["device"]))
    log("report: %s" % path)
    return EXIT_OK if failed == 0 else EXIT_MISMATCH


def strip_ok(outcome):
    return {k: v for k, v in outcome.items() if k != "ok"}


def summarize_line(results, status):
    if status == "FAIL":
        return "; ".join(describe_result(r) for r in results if r["status"] == "FAIL")
    floats = [r for r in results if r["dtype"] in FLOAT_DTYPES]
    if all(r.get("bit_identical") for r in results):
        return "%d results bit-identical" % len(results)
    worst = max(floats, key=lambda r: r["max_abs_error"] / (r["atol"] or 1))
    return "%d results, worst %s" % (len(results), describe_result(worst))


def write_report(report, args, bundle):
    """--report, else REPORT_DIR (default BUNDLE/reports) with the name
    bench/results/ uses: device-check-<gpu>-<date>.json."""
    if args.report:
        path = args.report
    else:
        gpu = report.get("gpu") or {}
        path = os.path.join(args.report_dir or bundle.path("reports"),
                            "device-check-%s-%s.json" % (
                                slug(gpu.get("name", "no-gpu")), report["date"][:10]))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(report, handle, indent=1, sort_keys=False)
        handle.write("\n")
    return path


# ---------------------------------------------------------------------------
# prepare
# ---------------------------------------------------------------------------

def build_libraries(binary, build_dir):
    """Shared libraries of `binary` that resolve inside the build tree (the
    runtime); system libraries are expected on the GPU machine."""
    proc = subprocess.run(["ldd", binary], stdout=subprocess.PIPE,
                          universal_newlines=True, check=True)
    build_dir = os.path.realpath(build_dir)
    found = []
    for match in re.finditer(r"=> (\S+) \(", proc.stdout):
        path = os.path.realpath(match.group(1))
        if path.startswith(build_dir + os.sep):
            found.append(path)
    return found


def git_commit(repo):
    try:
        proc = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              universal_newlines=True)
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain",
                                "--untracked-files=no"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, universal_newlines=True)
        commit = proc.stdout.strip()
        return commit + ("+dirty" if dirty.stdout.strip() else "") if commit else None
    except OSError:
        return None


def directory_bytes(root):
    return sum(os.path.getsize(os.path.join(d, f))
               for d, _, files in os.walk(root) for f in files)


def command_prepare(args):
    repo = os.path.abspath(args.repo)
    compiler = os.path.abspath(args.compiler or os.path.join(args.build_dir, "bin", "winnow-compile"))
    runner = os.path.abspath(os.path.join(args.build_dir, "bin", "winnow-run"))
    bundle_root = os.path.abspath(args.bundle)
    for tool in (compiler, runner):
        if not os.access(tool, os.X_OK):
            print("device-check: error: %s is not an executable" % tool, file=sys.stderr)
            return EXIT_BUNDLE
    examples = sorted(f for f in os.listdir(args.examples) if f.endswith(".mlir"))
    if args.only:
        examples = [f for f in examples if re.search(args.only, f)]
    if not examples:
        print("device-check: error: no examples/*.mlir selected", file=sys.stderr)
        return EXIT_BUNDLE

    # Compile with a snapshot of winnow-compile: the build tree may be
    # relinked while this runs, and one bundle should come from one compiler.
    snapshot_dir = tempfile.mkdtemp(prefix="device-check-compiler-")
    try:
        compiler = snapshot_tool(compiler, snapshot_dir)
        return prepare_bundle(args, repo, compiler, runner, bundle_root, examples)
    finally:
        shutil.rmtree(snapshot_dir, ignore_errors=True)


def snapshot_tool(tool, directory, attempts=10):
    for attempt in range(attempts):
        try:
            copy = os.path.join(directory, os.path.basename(tool))
            shutil.copy2(tool, copy)
            subprocess.run([copy, "--version"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=True)
            return copy
        except (OSError, subprocess.CalledProcessError):
            if attempt == attempts - 1:
                raise
            time.sleep(3)


def emit_stage(command, directory, what):
    """Runs a Python script that writes a stage of the bundle into
    `directory` (its --emit-dir); prints its output, reports a failure."""
    emitted = subprocess.run([sys.executable] + command + ["--emit-dir", directory],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True)
    print(emitted.stdout.strip(), flush=True)
    if emitted.returncode != 0:
        print("device-check: error: %s failed to build" % what, file=sys.stderr)
    return emitted.returncode == 0


def prepare_bundle(args, repo, compiler, runner, bundle_root, examples):
    # A fresh bundle: stale artifacts or inputs from an older prepare would be
    # compared as if they were current.
    shutil.rmtree(bundle_root, ignore_errors=True)
    for sub in ("artifacts", "inputs", "bin", "lib"):
        os.makedirs(os.path.join(bundle_root, sub))

    recipes, failures = [], []
    for example in examples:
        name = example[:-len(".mlir")]
        source = os.path.join(args.examples, example)
        artifact = os.path.join(bundle_root, "artifacts", name + ".wnn")
        start = time.monotonic()
        proc = subprocess.run([compiler, source, "--target=" + args.targets, "-o", artifact],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True)
        seconds = time.monotonic() - start
        if proc.returncode != 0:
            failures.append(name)
            # The first lines carry the diagnostic; a crash adds a stack dump.
            print("compile FAIL %-28s\n  %s" % (name, "\n  ".join(
                proc.stdout.strip().splitlines()[:8])), flush=True)
            continue
        listing = subprocess.run([runner, artifact, "--list"], stdout=subprocess.PIPE,
                                 universal_newlines=True, check=True).stdout
        manifest = parse_manifest(listing)
        print("compile %-28s %5.2f s  %7d bytes  targets %s  functions %s" % (
            name, seconds, os.path.getsize(artifact), ",".join(manifest["targets"]),
            ",".join(f["name"] for f in manifest["functions"])), flush=True)
        with open(source) as handle:
            source_text = handle.read()
        recipe = {"name": name, "source": os.path.relpath(source, repo),
                  "artifact": name + ".wnn", "compile_seconds": round(seconds, 3),
                  "targets": manifest["targets"],
                  "id_constants": splat_constants(source_text),
                  "functions": []}
        for function in manifest["functions"]:
            rng = function_rng(args.seed, name, function["name"])
            entry = {"name": function["name"], "inputs": [], "results": function["results"]}
            for spec, values in generate_function_inputs(function, rng, recipe["id_constants"]):
                relative = os.path.join("inputs", name, function["name"], spec["name"] + ".npy")
                path = os.path.join(bundle_root, relative)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                np.save(path, values)
                entry["inputs"].append(dict(spec, file=relative, sha256=sha256_of(path),
                                            bytes=os.path.getsize(path)))
            recipe["functions"].append(entry)
        recipes.append(recipe)
    if failures:
        print("device-check: error: %d recipe(s) failed to compile: %s" % (
            len(failures), ", ".join(failures)), file=sys.stderr)
        return EXIT_BUNDLE

    # Tools: winnow-run, the runtime, and this script with its wrapper, so the
    # bundle runs on its own.
    shutil.copy2(runner, os.path.join(bundle_root, "bin", "winnow-run"))
    for library in build_libraries(runner, args.build_dir):
        shutil.copy2(library, os.path.join(bundle_root, "lib", os.path.basename(library)))
    here = os.path.dirname(os.path.abspath(__file__))
    shutil.copy2(os.path.abspath(__file__), os.path.join(bundle_root, "device_check.py"))
    shutil.copy2(os.path.join(here, "device-check.sh"), os.path.join(bundle_root, "device-check.sh"))
    shutil.copy2(os.path.join(here, "device_check_collectives.py"),
                 os.path.join(bundle_root, "device_check_collectives.py"))

    # The collective micro-kernels: PTX, launches, inputs and the oracle's
    # results, written by the oracle itself (test/oracle/collectives_oracle.py).
    winnow_opt = os.path.join(args.build_dir, "bin", "winnow-opt")
    if not emit_stage([os.path.join(repo, "test", "oracle", "collectives_oracle.py"),
                       "--winnow-opt", winnow_opt],
                      os.path.join(bundle_root, COLLECTIVES_DIR),
                      "the collective micro-kernels"):
        return EXIT_BUNDLE

    # Batch invariance: the same requests in batches of 8, 3 and 1, compiled
    # for cpu,cuda by test/oracle/determinism_check.py, which also runs them.
    determinism = os.path.join(repo, "test", "oracle", "determinism_check.py")
    shutil.copy2(determinism, os.path.join(bundle_root, "determinism_check.py"))
    if not emit_stage([determinism, "--compile", compiler],
                      os.path.join(bundle_root, DETERMINISM_DIR),
                      "the batch-invariance runs"):
        return EXIT_BUNDLE

    # Inputs: `run` regenerates them from the seed on the GPU machine and
    # checks each against the sha256 recorded here, so by default none is
    # carried (the bundle is the artifacts and the tools, and stays small as
    # recipes are added). --carry-inputs-mib N carries the smallest inputs
    # up to N MiB. The whole bundle must stay under --max-bundle-mib.
    inputs = [spec for recipe in recipes for function in recipe["functions"]
              for spec in function["inputs"]]
    room = int(args.carry_inputs_mib * 1024 * 1024)
    left_out = 0
    for spec in sorted(inputs, key=lambda s: s["bytes"]):
        if spec["bytes"] <= room:
            room -= spec["bytes"]
            spec["bundled"] = True
            continue
        os.remove(os.path.join(bundle_root, spec["file"]))
        spec["bundled"] = False
        left_out += spec["bytes"]
    total = directory_bytes(bundle_root) + 256 * 1024  # + bundle.json
    if total > args.max_bundle_mib * 1024 * 1024:
        print("device-check: error: the bundle is %.1f MiB, over --max-bundle-mib %g "
              "(carry fewer inputs)" % (total / 2**20, args.max_bundle_mib), file=sys.stderr)
        return EXIT_BUNDLE

    manifest = {
        "format": BUNDLE_FORMAT,
        "prepared_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "prepared_on": socket.gethostname(),
        "git_commit": git_commit(repo),
        "winnow_compile_sha256": sha256_of(compiler),
        "targets": args.targets, "seed": args.seed,
        "recipes": recipes,
    }
    with open(os.path.join(bundle_root, BUNDLE_MANIFEST), "w") as handle:
        json.dump(manifest, handle, indent=1)
        handle.write("\n")

    functions = sum(len(r["functions"]) for r in recipes)
    all_input_bytes = sum(s["bytes"] for s in inputs)
    print("bundle: %s: %d recipes, %d functions, %.1f MiB on disk "
          "(inputs %.1f MiB, of which %.1f MiB regenerated on the GPU machine; "
          "compile %.1f s)" % (
              bundle_root, len(recipes), functions, directory_bytes(bundle_root) / 2**20,
              all_input_bytes / 2**20, left_out / 2**20,
              sum(r["compile_seconds"] for r in recipes)))
    return EXIT_OK


# ---------------------------------------------------------------------------
# self-test
# ---------------------------------------------------------------------------

class ComparisonTests(unittest.TestCase):
    def spec(self, shape, dtype, count_result=-1, name="r"):
        return {"name": name, "shape": list(shape), "dtype": dtype, "count_result": count_result}

    def test_equal_float_and_int_pass(self):
        x = np.linspace(-3, 3, 24, dtype=np.float32).reshape(2, 12)
        self.assertEqual(compare_result(self.spec(x.shape, "f32"), x, x.copy())["status"], "PASS")
        i = np.arange(24, dtype=np.int32).reshape(2, 12)
        self.assertEqual(compare_result(self.spec(i.shape, "i32"), i, i.copy())["status"], "PASS")

    def test_within_tolerance_passes(self):
        x = np.array([1.0, -2.0, 1000.0, 0.0], dtype=np.float32)
        y = x + np.array([5e-5, -1e-4, 0.05, 5e-6], dtype=np.float32)
        result = compare_result(self.spec(x.shape, "f32"), x, y)
        self.assertEqual(result["status"], "PASS")
        self.assertFalse(result["bit_identical"])
        # bf16: one ulp at 1.0 is 1/128.
        b = np.array([1.0, 3.0], dtype=np.float32)
        self.assertEqual(compare_result(self.spec(b.shape, "bf16"), b, b + [1 / 128, 1 / 64])["status"], "PASS")

    def test_outside_tolerance_fails(self):
        x = np.array([1.0, 2.0, 3.0], dtype=np.float32)
        y = x.copy()
        y[1] += 1e-3
        result = compare_result(self.spec(x.shape, "f32"), x, y)
        self.assertEqual(result["status"], "FAIL")
        self.assertEqual(result["mismatches"], 1)
        self.assertEqual(result["worst"]["index"], [1])
        b = np.array([1.0], dtype=np.float32)
        self.assertEqual(compare_result(self.spec(b.shape, "bf16"), b, b + 0.03)["status"], "FAIL")
        h = np.array([1.0], dtype=np.float16)
        self.assertEqual(compare_result(self.spec(h.shape, "f16"), h, h + np.float16(0.01))["status"], "FAIL")

    def test_nan_and_inf(self):
        x = np.array([np.nan, np.inf, -np.inf, 1.0], dtype=np.float32)
        self.assertEqual(compare_result(self.spec(x.shape, "f32"), x, x.copy())["status"], "PASS")
        y = x.copy()
        y[0] = 0.0
        self.assertEqual(compare_result(self.spec(x.shape, "f32"), x, y)["status"], "FAIL")
        y = x.copy()
        y[1] = -np.inf
        self.assertEqual(compare_result(self.spec(x.shape, "f32"), x, y)["status"], "FAIL")

    def test_integer_mismatch_fails(self):
        a = np.array([[3, 1, -1], [0, 2, 5]], dtype=np.int32)
        b = a.copy()
        b[1, 2] = 6
        result = compare_result(self.spec(a.shape, "i32"), a, b)
        self.assertEqual((result["status"], result["mismatches"]), ("FAIL", 1))
        self.assertEqual(result["worst"]["index"], [1, 2])
        t = np.array([True, False])
        self.assertEqual(compare_result(self.spec(t.shape, "i1"), t, ~t)["status"], "FAIL")

    def test_ragged_valid_prefix_uses_tolerance(self):
        counts = np.array([2, 0], dtype=np.int32)
        cpu = np.zeros((2, 3, 4), dtype=np.float32)
        cpu[0, :2] = 1.0
        cuda = cpu.copy()
        cuda[0, :2] += 5e-5  # valid rows: within tolerance
        result = compare_result(self.spec(cpu.shape, "f32", 1), cpu, cuda, counts)
        self.assertEqual(result["status"], "PASS")

    def test_ragged_padding_must_be_identical(self):
        counts = np.array([2, 1], dtype=np.int32)
        cpu = np.zeros((2, 3, 4), dtype=np.float32)
        cuda = cpu.copy()
        cuda[1, 2, 3] = 1e-7  # padding row of batch 1: within tolerance, but not identical
        result = compare_result(self.spec(cpu.shape, "f32", 1), cpu, cuda, counts)
        self.assertEqual((result["status"], result["mismatches"], result["padding_mismatches"]),
                         ("FAIL", 0, 1))
        self.assertTrue(result["worst"]["in_padding"])
        ints = np.full((2, 3), -1, dtype=np.int32)
        other = ints.copy()
        other[0, 2] = 0
        result = compare_result(self.spec(ints.shape, "i32", 1), ints, other, counts)
        self.assertEqual((result["status"], result["padding_mismatches"]), ("FAIL", 1))

    def test_counts_are_clamped(self):
        mask = valid_mask((3, 4), np.array([-2, 9, 2]))
        self.assertEqual(mask.sum(axis=1).tolist(), [0, 4, 2])

    def test_shape_mismatch_fails(self):
        x = np.zeros((2, 3), dtype=np.float32)
        result = compare_result(self.spec((2, 3), "f32"), x, np.zeros((2, 4), dtype=np.float32))
        self.assertEqual(result["status"], "FAIL")

    def test_compare_function_reads_files_and_counts(self):
        function = {"name": "f", "results": [
            self.spec((2, 3), "i32", 1, "indices"), self.spec((2,), "i32", -1, "count"),
            self.spec((2, 3, 2), "f32", 1, "rows")]}
        with tempfile.TemporaryDirectory() as tmp:
            cpu_dir, cuda_dir = os.path.join(tmp, "cpu"), os.path.join(tmp, "cuda")
            for directory in (cpu_dir, cuda_dir):
                os.makedirs(directory)
                np.save(os.path.join(directory, "indices.npy"),
                        np.array([[0, 2, -1], [1, -1, -1]], dtype=np.int32))
                np.save(os.path.join(directory, "count.npy"), np.array([2, 1], dtype=np.int32))
            rows = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
            np.save(os.path.join(cpu_dir, "rows.npy"), rows)
            rows = rows.copy()
            rows[1, 2, 0] = 99.0  # padding (count[1] == 1)
            np.save(os.path.join(cuda_dir, "rows.npy"), rows)
            reports = compare_function(function, cpu_dir, cuda_dir)
            self.assertEqual([r["status"] for r in reports], ["PASS", "PASS", "FAIL"])
            os.remove(os.path.join(cuda_dir, "count.npy"))
            self.assertEqual(compare_function(function, cpu_dir, cuda_dir)[1]["status"], "FAIL")


    def test_near_tie_note_only_for_rounded_floats_with_integer_mismatch(self):
        floats_rounded = {"name": "s", "dtype": "f32", "status": "PASS", "bit_identical": False}
        floats_exact = dict(floats_rounded, bit_identical=True)
        ints_bad = {"name": "i", "dtype": "i32", "status": "FAIL"}
        ints_good = dict(ints_bad, status="PASS")
        self.assertIsNotNone(near_tie_note([floats_rounded, ints_bad]))
        self.assertIsNone(near_tie_note([floats_exact, ints_bad]))
        self.assertIsNone(near_tie_note([floats_rounded, ints_good]))


class InputTests(unittest.TestCase):
    def test_bf16_rounding_is_nearest_even(self):
        values = np.array([1.0, 1.0 + 2**-8, 1.0 + 3 * 2**-8, -2.5], dtype=np.float32)
        back = bf16_bits_to_f32(f32_to_bf16_bits(values))
        self.assertEqual(back.tolist(), [1.0, 1.0, 1.0 + 2**-6, -2.5])

    def test_manifest_parsing(self):
        listing = ("targets:\n  [0] cpu x86_64 (cpu x86-64), 1 bytes\n"
                   "  [1] cuda sm_80 sm_90 + ptx sm_90, host x, host ABI 1, 2 bytes\n"
                   "functions:\n  func @f(q: 4x32x1x128xbf16, n: 4xi32, s: i64) -> "
                   "(idx: 4x144xi32 [count: result 1], count: 4xi32)\n")
        manifest = parse_manifest(listing)
        self.assertEqual(manifest["targets"], ["cpu", "cuda"])
        function = manifest["functions"][0]
        self.assertEqual([(s["name"], s["shape"], s["dtype"]) for s in function["inputs"]],
                         [("q", [4, 32, 1, 128], "bf16"), ("n", [4], "i32"), ("s", [], "i64")])
        self.assertEqual([s["count_result"] for s in function["results"]], [1, -1])

    def test_generated_inputs_are_valid_and_deterministic(self):
        function = {"name": "verify", "inputs": [
            {"name": "logits", "shape": [3, 9, 50], "dtype": "bf16"},
            {"name": "tree_tokens", "shape": [3, 9], "dtype": "i32"},
            {"name": "parents", "shape": [3, 9], "dtype": "i32"},
            {"name": "num_nodes", "shape": [3], "dtype": "i32"},
            {"name": "keys", "shape": [3, 4, 100, 8], "dtype": "f16"},
            {"name": "lengths", "shape": [3], "dtype": "i32"},
            {"name": "starts", "shape": [3, 100], "dtype": "i1"},
            {"name": "seed", "shape": [3], "dtype": "i64"},
            {"name": "draft_probs", "shape": [3, 2, 50], "dtype": "f32"}]}
        first = generate_function_inputs(function, function_rng(1, "r", "verify"))
        again = generate_function_inputs(function, function_rng(1, "r", "verify"))
        for (_, a), (_, b) in zip(first, again):
            self.assertTrue(np.array_equal(a, b))
        values = {spec["name"]: array for spec, array in first}
        self.assertEqual(values["logits"].dtype, np.uint16)
        self.assertEqual(values["keys"].dtype, np.float16)
        parents = values["parents"]
        self.assertTrue((parents[:, 0] == -1).all())
        for i in range(1, 9):
            self.assertTrue(((parents[:, i] >= 0) & (parents[:, i] < i)).all())
        self.assertTrue(((values["num_nodes"] >= 0) & (values["num_nodes"] <= 9)).all())
        self.assertTrue(((values["lengths"] >= 0) & (values["lengths"] <= 100)).all())
        self.assertEqual(values["lengths"][0], 100)  # a full row
        self.assertTrue(values["starts"][:, 0].all())
        self.assertTrue(((values["tree_tokens"] >= 0) & (values["tree_tokens"] < 50)).all())
        self.assertTrue(np.allclose(values["draft_probs"].sum(axis=-1), 1.0, atol=1e-5))
        self.assertTrue(((values["seed"] >= 0) & (values["seed"] < 2**31)).all())


class CollectiveTests(unittest.TestCase):
    """The comparison and kernel ABI of the collective micro-kernels."""

    def setUp(self):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import device_check_collectives
        self.module = device_check_collectives
        self.case = {"grid": [2, 1, 1], "block": [2, 1, 1],
                     "results": ["sum", "index"],
                     "expected": {"sum": [0x3F800000, None, 7, -1],
                                  "index": [0, 1, 2, 3]}}

    def test_bit_identical_and_any_nan_pass(self):
        nan = int(np.array([np.nan], dtype=np.float32).view(np.int32)[0])
        got = np.array([0x3F800000, nan | 5, 7, -1, 0, 1, 2, 3], dtype=np.int32)
        self.assertEqual(self.module.compare(self.case, got), [])

    def test_a_wrong_bit_or_a_number_for_nan_fails(self):
        got = np.array([0x3F800001, 0, 7, -1, 0, 1, 3, 3], dtype=np.int32)
        mismatches = self.module.compare(self.case, got)
        self.assertEqual(len(mismatches), 3)
        self.assertIn("sum[0]: expected 1065353216, got 1065353217", mismatches[0])
        self.assertIn("sum[1]: expected NaN", mismatches[1])
        self.assertIn("index[2]: expected 2, got 3", mismatches[2])

    def test_memref_parameters(self):
        params = self.module.memref_parameters(4096, 10)
        self.assertEqual([p.value for p in params], [4096, 4096, 0, 10, 1])


def command_self_test(args):
    suite = unittest.TestSuite()
    loader = unittest.TestLoader()
    for case in (ComparisonTests, InputTests, CollectiveTests):
        suite.addTests(loader.loadTestsFromTestCase(case))
    result = unittest.TextTestRunner(verbosity=2 if args.verbose else 1).run(suite)
    return EXIT_OK if result.wasSuccessful() else EXIT_MISMATCH


# ---------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="device-check", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit status of run: 0 pass, 1 mismatch or failed call, "
               "2 no CUDA driver/GPU (CPU side ran), 3 unusable bundle or tools.")
    commands = parser.add_subparsers(dest="command", required=True)

    prepare = commands.add_parser("prepare", help="compile the examples and write a bundle (build machine)")
    prepare.add_argument("bundle", help="bundle directory to (re)create")
    prepare.add_argument("--repo", default=".", help="repository root (default: .)")
    prepare.add_argument("--build-dir", default="build", help="build tree with bin/winnow-run (default: build)")
    prepare.add_argument("--compiler", help="winnow-compile (default: BUILD_DIR/bin/winnow-compile)")
    prepare.add_argument("--examples", default="examples", help="directory of recipes (default: examples)")
    prepare.add_argument("--targets", default="cpu,cuda", help="--target of winnow-compile (default: cpu,cuda)")
    prepare.add_argument("--seed", type=int, default=20250101, help="input seed (default: 20250101)")
    prepare.add_argument("--only", help="regex: only recipes whose file name matches")
    prepare.add_argument("--carry-inputs-mib", type=float, default=0.0,
                         help="carry the smallest inputs up to this many MiB; run regenerates "
                              "the others from the seed (default: 0, none carried)")
    prepare.add_argument("--max-bundle-mib", type=float, default=48.0,
                         help="fail when the bundle is larger (default: 48)")

    run = commands.add_parser("run", help="run every function on cpu and cuda and compare (GPU machine)")
    run.add_argument("bundle", help="bundle directory written by prepare")
    run.add_argument("--report", help="JSON report path (default: BUNDLE/reports/"
                                      "device-check-<gpu>-<date>.json)")
    run.add_argument("--report-dir", help="write the report here as device-check-<gpu>-<date>.json "
                                          "(default: BUNDLE/reports)")
    run.add_argument("--device", default="cuda:0",
                     help="device under test (default: cuda:0); cpu compares the CPU "
                          "with itself, a dry run of the harness")
    run.add_argument("--bench", type=int, default=5, metavar="N",
                     help="winnow-run --bench=N on both devices, 0 to skip (default: 5)")
    run.add_argument("--work-dir", help="keep outputs and regenerated inputs here "
                                        "(default: a temporary directory, removed at the end)")
    run.add_argument("--only", help="regex: only recipe/function labels that match")

    self_test = commands.add_parser("self-test", help="test the comparison rules and input generators")
    self_test.add_argument("-v", "--verbose", action="store_true")

    args = parser.parse_args(argv)
    handler = {"prepare": command_prepare, "run": command_run,
               "self-test": command_self_test}[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
