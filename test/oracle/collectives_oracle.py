#!/usr/bin/env python3
"""Collective micro-kernels against a NumPy oracle, on the SIMT emulator.

Each case is one gpu.launch of two blocks of `n` threads in which every
thread runs every `collective` op (warp and block reductions, argmax,
exclusive scans, a histogram) on generated inputs — ties, NaN, -0.0 and
+0.0, partial warps (n not a multiple of 32) and blocks smaller than a warp —
and stores its results. The program is lowered with
`collective-to-gpu{form=shuffle|reference}`, run on the CPU through
`tok-emulate-gpu-launches` (lane-accurate shuffles, ballots, barriers and
workgroup memory) and `mlir-runner`, and every result is compared bit for bit
with the oracle below, which follows the op descriptions (the reduction tree
of CollectiveOps.td), not the lowering.

`--emit-dir DIR` instead writes each case for the device check
(tools/device-check.sh): the kernel's sm_90 PTX, its launch, inputs and the
oracle's expected results, so the GPU machine runs the same kernels without
MLIR.
"""

import argparse
import json
import os
import re
import subprocess
import sys

import numpy as np

WARP = 32
GRID = 2
BINS = 16
# One row of the output per result, in this order.
RESULTS = [
    "warp_add_f32", "warp_max_f32", "warp_min_f32", "warp_argmax_value",
    "warp_argmax_index", "warp_add_i32", "block_add_f32", "block_max_f32",
    "block_argmax_value", "block_argmax_index", "block_max_i32",
    "scan_flags_prefix", "scan_flags_total", "scan_prefix", "scan_total",
    "histogram", "radix_threshold", "radix_above",
]
# Keys per block for the radix select.
KEYS = 300
BLOCK_SIZES = [64, 80, 33, 7, 1, 256]


# --------------------------------------------------------------------------
# The oracle: the op descriptions in NumPy.
# --------------------------------------------------------------------------

def f32(value):
    return np.float32(value)


def maximumf(a, b):
    if np.isnan(a) or np.isnan(b):
        return f32(np.nan)
    if a == b:  # -0.0 and +0.0: +0.0 is the larger
        return a if not np.signbit(a) else b
    return a if a > b else b


def minimumf(a, b):
    if np.isnan(a) or np.isnan(b):
        return f32(np.nan)
    if a == b:
        return a if np.signbit(a) else b
    return a if a < b else b


def argmax_pair(x, y):
    """y replaces x if greater (NaN below every number) or equal with a lower
    index (NaN equals NaN, -0.0 equals +0.0)."""
    (xv, xi), (yv, yi) = x, y
    xnan, ynan = np.isnan(xv), np.isnan(yv)
    greater = (not xnan and not ynan and yv > xv) or (xnan and not ynan)
    same = (not xnan and not ynan and yv == xv) or (xnan and ynan)
    return y if greater or (same and yi < xi) else x


def tree(values, combine):
    """The reduction tree of the op description: lane l takes lane l + d for
    d = 16, 8, 4, 2, 1 while l + d < count; lane 0's value."""
    lanes = list(values)
    for d in (16, 8, 4, 2, 1):
        for lane in range(len(lanes)):
            if lane + d < len(lanes):
                lanes[lane] = combine(lanes[lane], lanes[lane + d])
    return lanes[0]


def warp_values(values, n, combine):
    """Every thread's warp reduction, for one block of n threads."""
    out = []
    for thread in range(n):
        base = thread - thread % WARP
        out.append(tree(values[base:min(base + WARP, n)], combine))
    return out


def block_value(values, n, combine):
    per_warp = [tree(values[b:min(b + WARP, n)], combine)
                for b in range(0, n, WARP)]
    return tree(per_warp, combine)


def bits(value):
    return int(np.array([value], dtype=np.float32).view(np.int32)[0])


def same_bits(expected, got):
    if isinstance(expected, np.floating) or isinstance(expected, float):
        e = f32(expected)
        g = np.array([got], dtype=np.int32).view(np.float32)[0]
        if np.isnan(e):
            return bool(np.isnan(g))
        return bits(e) == got
    return int(expected) == int(got)


def oracle(n, inputs):
    """Expected results per (result, thread) for GRID blocks of n threads."""
    expected = {name: [] for name in RESULTS}
    add_f = lambda a, b: f32(a + b)
    for block in range(GRID):
        rows = slice(block * n, (block + 1) * n)
        x = [f32(v) for v in inputs["x"][rows]]
        y = [int(v) for v in inputs["y"][rows]]
        idx = [int(v) for v in inputs["idx"][rows]]
        flags = [int(v) for v in inputs["flags"][rows]]
        pairs = list(zip(x, idx))
        expected["warp_add_f32"] += warp_values(x, n, add_f)
        expected["warp_max_f32"] += warp_values(x, n, maximumf)
        expected["warp_min_f32"] += warp_values(x, n, minimumf)
        warp_pairs = warp_values(pairs, n, argmax_pair)
        expected["warp_argmax_value"] += [p[0] for p in warp_pairs]
        expected["warp_argmax_index"] += [p[1] for p in warp_pairs]
        wrap = lambda a, b: int(np.int32(np.int64(a) + np.int64(b)))
        expected["warp_add_i32"] += warp_values(y, n, wrap)
        expected["block_add_f32"] += [block_value(x, n, add_f)] * n
        expected["block_max_f32"] += [block_value(x, n, maximumf)] * n
        best = block_value(pairs, n, argmax_pair)
        expected["block_argmax_value"] += [best[0]] * n
        expected["block_argmax_index"] += [best[1]] * n
        expected["block_max_i32"] += [block_value(y, n, max)] * n
        expected["scan_flags_prefix"] += list(np.cumsum([0] + flags)[:n])
        expected["scan_flags_total"] += [sum(flags)] * n
        expected["scan_prefix"] += list(np.cumsum([0] + y)[:n])
        expected["scan_total"] += [sum(y)] * n
        counts = [0] * BINS
        for bin_, valid in zip(inputs["bins"][rows], inputs["valid"][rows]):
            if valid and 0 <= bin_ < BINS:
                counts[bin_] += 1
        expected["histogram"] += [counts[t] if t < BINS else -7
                                  for t in range(n)]
        threshold, above = radix_select(
            inputs["keys"][block * KEYS:(block + 1) * KEYS],
            int(inputs["key_count"][block]), int(inputs["key_k"][block]))
        expected["radix_threshold"] += [threshold] * n
        expected["radix_above"] += [above] * n
    return expected


def radix_select(keys, count, k):
    """The k'-th largest of keys[:count] as unsigned 32-bit integers and the
    number of keys above it; k' = 0 gives (0xFFFFFFFF, 0)."""
    row = [int(v) & 0xFFFFFFFF for v in keys[:count]]
    wanted = min(k, count)
    if wanted == 0:
        return -1, 0
    threshold = sorted(row, reverse=True)[wanted - 1]
    above = sum(1 for v in row if v > threshold)
    signed = threshold - (1 << 32) if threshold >= 1 << 31 else threshold
    return signed, above


# --------------------------------------------------------------------------
# Inputs and the micro-kernel program.
# --------------------------------------------------------------------------

def make_inputs(n, seed):
    rng = np.random.default_rng(seed)
    total = GRID * n
    # Block 0: ties among a few values, -0.0 and +0.0. Block 1: the same
    # with NaNs.
    pool = np.array([-2.0, -1.0, -0.0, 0.0, 0.5, 1.0, 2.5, 3.0],
                    dtype=np.float32)
    x = pool[rng.integers(0, len(pool), total)]
    x[:n] += rng.standard_normal(n).astype(np.float32) * (rng.random(n) < 0.5)
    nan_at = n + rng.integers(0, n, max(1, n // 8))
    x[nan_at] = np.nan
    # Radix select keys: shared high digits and ties, the full unsigned
    # range (keys with the top bit set sort above the others).
    bases = rng.integers(0, 1 << 32, 6, dtype=np.uint64)
    keys = bases[rng.integers(0, len(bases), GRID * KEYS)]
    keys ^= rng.integers(0, 4, GRID * KEYS).astype(np.uint64) << \
        rng.choice([0, 8, 16, 24], GRID * KEYS).astype(np.uint64)
    key_count = np.array([KEYS - int(rng.integers(0, 40)),
                          int(rng.integers(0, 12))], dtype=np.int32)
    key_k = np.array([int(rng.integers(1, key_count[0] + 1)),
                      int(rng.integers(0, 16))], dtype=np.int32)
    return {
        "keys": keys.astype(np.uint32).view(np.int32),
        "key_count": key_count,
        "key_k": key_k,
        "x": x.astype(np.float32),
        "y": rng.integers(-50, 50, total).astype(np.int32),
        "idx": np.arange(total, dtype=np.int32),
        "flags": rng.integers(0, 2, total).astype(np.int32),
        "bins": rng.integers(-2, BINS + 4, total).astype(np.int32),
        "valid": rng.integers(0, 2, total).astype(np.int32),
    }


def dense(values):
    return "dense<[" + ", ".join(str(int(v)) for v in values) + "]>"


INPUTS = ("x", "y", "idx", "flags", "bins", "valid", "keys", "key_count",
          "key_k")


def input_lengths(n):
    total = GRID * n
    return {"x": total, "y": total, "idx": total, "flags": total,
            "bins": total, "valid": total, "keys": GRID * KEYS,
            "key_count": GRID, "key_k": GRID}


def kernel_function(n):
    """func.func @collectives(inputs..., out) holding the launch: every
    argument a 1-D i32 buffer, the results row by row in `out`."""
    total = GRID * n
    lengths = input_lengths(n)
    out = f"memref<{len(RESULTS) * total}xi32>"
    params = ", ".join(f"%{name}: memref<{lengths[name]}xi32>"
                       for name in INPUTS)
    t = f"memref<{total}xi32>"
    kt = f"memref<{GRID * KEYS}xi32>"
    gt = f"memref<{GRID}xi32>"
    results = {
        "warp_add_f32": "%wa_b", "warp_max_f32": "%wmax_b",
        "warp_min_f32": "%wmin_b", "warp_argmax_value": "%wam_b",
        "warp_argmax_index": "%wai", "warp_add_i32": "%wai32",
        "block_add_f32": "%ba_b", "block_max_f32": "%bmax_b",
        "block_argmax_value": "%bam_b", "block_argmax_index": "%bai",
        "block_max_i32": "%bmi32", "scan_flags_prefix": "%sfp",
        "scan_flags_total": "%sft", "scan_prefix": "%sp",
        "scan_total": "%st", "histogram": "%h",
        "radix_threshold": "%rt", "radix_above": "%ra32",
    }
    stores = "\n".join(
        f"      %r{row} = arith.constant {row * total} : index\n"
        f"      %at{row} = arith.addi %r{row}, %g : index\n"
        f"      memref.store {results[name]}, %out[%at{row}] : {out}"
        for row, name in enumerate(RESULTS))
    wg = "#gpu.address_space<workgroup>"
    return f"""  func.func @collectives({params}, %out: {out}) {{
    %c1 = arith.constant 1 : index
    %grid = arith.constant {GRID} : index
    %n = arith.constant {n} : index
    %nkeys = arith.constant {KEYS} : index
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %grid, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %n, %sy = %c1, %sz = %c1)
               workgroup(%hist : memref<{BINS}xi32, {wg}>) {{
      %base = arith.muli %bx, %n : index
      %g = arith.addi %base, %tx : index
      %xb = memref.load %x[%g] : {t}
      %xf = arith.bitcast %xb : i32 to f32
      %yv = memref.load %y[%g] : {t}
      %iv = memref.load %idx[%g] : {t}
      %fv = memref.load %flags[%g] : {t}
      %binv = memref.load %bins[%g] : {t}
      %vv = memref.load %valid[%g] : {t}
      %wa = collective.warp_reduce add %xf : f32
      %wa_b = arith.bitcast %wa : f32 to i32
      %wmax = collective.warp_reduce max %xf : f32
      %wmax_b = arith.bitcast %wmax : f32 to i32
      %wmin = collective.warp_reduce min %xf : f32
      %wmin_b = arith.bitcast %wmin : f32 to i32
      %wam, %wai = collective.warp_argmax %xf, %iv : f32, i32
      %wam_b = arith.bitcast %wam : f32 to i32
      %wai32 = collective.warp_reduce add %yv : i32
      %ba = collective.block_reduce add %xf : f32
      %ba_b = arith.bitcast %ba : f32 to i32
      %bmax = collective.block_reduce max %xf : f32
      %bmax_b = arith.bitcast %bmax : f32 to i32
      %bam, %bai = collective.block_argmax %xf, %iv : f32, i32
      %bam_b = arith.bitcast %bam : f32 to i32
      %bmi32 = collective.block_reduce max %yv : i32
      %sfp, %sft = collective.block_exclusive_scan %fv flags : i32
      %sp, %st = collective.block_exclusive_scan %yv : i32
      %bin = arith.index_cast %binv : i32 to index
      %zero = arith.constant 0 : i32
      %live = arith.cmpi ne, %vv, %zero : i32
      collective.block_histogram %bin if %live into %hist : index, memref<{BINS}xi32, {wg}>
      %nbins = arith.constant {BINS} : index
      %inhist = arith.cmpi ult, %tx, %nbins : index
      %h = scf.if %inhist -> (i32) {{
        %c = memref.load %hist[%tx] : memref<{BINS}xi32, {wg}>
        scf.yield %c : i32
      }} else {{
        %none = arith.constant -7 : i32
        scf.yield %none : i32
      }}
      %keys_at = arith.muli %bx, %nkeys : index
      %row = memref.subview %keys[%keys_at] [{KEYS}] [1] : {kt} to memref<{KEYS}xi32, strided<[1], offset: ?>>
      %kc = memref.load %key_count[%bx] : {gt}
      %kk = memref.load %key_k[%bx] : {gt}
      %kci = arith.index_cast %kc : i32 to index
      %kki = arith.index_cast %kk : i32 to index
      %rt, %ra = collective.block_radix_select %kki of %row[%kci] : memref<{KEYS}xi32, strided<[1], offset: ?>>
      %ra32 = arith.index_cast %ra : index to i32
{stores}
      gpu.terminator
    }}
    return
  }}
"""


def input_data(inputs, name):
    return inputs[name].view(np.int32) if name == "x" else inputs[name]


def program(n, inputs):
    """The emulator's program: the inputs as constants, @collectives, and a
    main that calls it and prints the results."""
    lengths = input_lengths(n)
    globals_ = "\n".join(
        f'  memref.global "private" constant @{name} : '
        f"memref<{lengths[name]}xi32> = {dense(input_data(inputs, name))}"
        for name in INPUTS)
    loads = "\n".join(
        f"    %{name} = memref.get_global @{name} : memref<{lengths[name]}xi32>"
        for name in INPUTS)
    out = f"memref<{len(RESULTS) * GRID * n}xi32>"
    args = ", ".join(f"%{name}" for name in INPUTS)
    types = ", ".join(f"memref<{lengths[name]}xi32>" for name in INPUTS)
    return f"""module {{
{globals_}
  func.func private @printMemrefI32(memref<*xi32>)
{kernel_function(n)}
  func.func @main() {{
{loads}
    %out = memref.alloc() : {out}
    call @collectives({args}, %out) : ({types}, {out}) -> ()
    %u = memref.cast %out : {out} to memref<*xi32>
    call @printMemrefI32(%u) : (memref<*xi32>) -> ()
    return
  }}
}}
"""


CPU_LOWERING = (
    "tok-emulate-gpu-launches,canonicalize,cse,convert-scf-to-cf,"
    "expand-strided-metadata,lower-affine,finalize-memref-to-llvm,"
    "convert-math-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,"
    "convert-cf-to-llvm,convert-func-to-llvm,reconcile-unrealized-casts")


def run_case(args, text, form, workdir, tag):
    source = os.path.join(workdir, f"{tag}.mlir")
    with open(source, "w") as f:
        f.write(text)
    lowered = subprocess.run(
        [args.winnow_opt, source,
         f"--pass-pipeline=builtin.module(collective-to-gpu{{form={form}}},"
         f"{CPU_LOWERING})"],
        capture_output=True, text=True)
    if lowered.returncode != 0:
        raise RuntimeError(f"winnow-opt failed:\n{lowered.stderr}")
    libs = ",".join(os.path.join(args.mlir_lib_dir, lib) for lib in
                    ("libmlir_runner_utils.so", "libmlir_c_runner_utils.so"))
    ran = subprocess.run(
        [args.mlir_runner, "-e", "main", "--entry-point-result=void",
         f"--shared-libs={libs}"],
        input=lowered.stdout, capture_output=True, text=True)
    if ran.returncode != 0:
        raise RuntimeError(f"mlir-runner failed ({ran.returncode}):\n"
                           f"{ran.stderr[-2000:]}")
    data = ran.stdout[ran.stdout.index("data ="):]
    return [int(v) for v in re.findall(r"-?\d+", data)]


# The cuda target's kernel pipeline after the collectives are lowered.
DEVICE_PIPELINE = (
    "builtin.module(collective-to-gpu,canonicalize,"
    "gpu-launch-sink-index-computations,gpu-kernel-outlining,"
    "winnow-cuda-to-nvvm,gpu-module-to-binary{format=isa})")
PTX_ARCHITECTURE = "sm_90"


def extract_ptx(text):
    """Every PTX object of a gpu.binary, unescaped."""
    objects = []
    for match in re.finditer(r'assembly\s*=\s*"((?:[^"\\]|\\.)*)"', text):
        raw, out, i = match.group(1), bytearray(), 0
        while i < len(raw):
            if raw[i] == "\\" and raw[i + 1] in '\\"':
                out.append(ord(raw[i + 1]))
                i += 2
            elif raw[i] == "\\":
                out.append(int(raw[i + 1:i + 3], 16))
                i += 3
            else:
                out += raw[i].encode()
                i += 1
        objects.append(out.decode())
    return objects


def emit_device_cases(args):
    """One case per block size for the device check: the kernel's PTX, its
    launch and parameters, the inputs and the oracle's expected results, so
    that the GPU machine needs neither MLIR nor this oracle."""
    os.makedirs(args.emit_dir, exist_ok=True)
    cases = []
    for n in BLOCK_SIZES:
        inputs = make_inputs(n, args.seed + n)
        source = "module {\n" + kernel_function(n) + "}\n"
        compiled = subprocess.run(
            [args.winnow_opt, "-", f"--pass-pipeline={DEVICE_PIPELINE}"],
            input=source, capture_output=True, text=True)
        if compiled.returncode != 0:
            raise RuntimeError(f"winnow-opt failed for n = {n}:\n"
                               f"{compiled.stderr}")
        ptx = [text for text in extract_ptx(compiled.stdout)
               if f".target {PTX_ARCHITECTURE}" in text]
        if len(ptx) != 1:
            raise RuntimeError(f"expected one {PTX_ARCHITECTURE} PTX object "
                               f"for n = {n}, got {len(ptx)}")
        entry = re.search(r"\.entry\s+(\w+)\s*\(([^)]*)\)", ptx[0])
        params = entry.group(2).count(".param")
        # Every argument is a 1-D memref: allocated and aligned pointers,
        # offset, size, stride (MLIR's default kernel ABI).
        arguments = list(INPUTS) + ["out"]
        if params != 5 * len(arguments):
            raise RuntimeError(f"kernel {entry.group(1)} takes {params} "
                               f"parameters, expected {5 * len(arguments)}")
        name = f"collectives-n{n}"
        with open(os.path.join(args.emit_dir, name + ".ptx"), "w") as f:
            f.write(ptx[0])
        expected = oracle(n, inputs)
        case = {
            "name": name, "ptx": name + ".ptx", "kernel": entry.group(1),
            "grid": [GRID, 1, 1], "block": [n, 1, 1],
            "arguments": [{"name": a, "length": input_lengths(n)[a]
                           if a != "out" else len(RESULTS) * GRID * n}
                          for a in arguments],
            "inputs": {a: [int(v) for v in input_data(inputs, a)]
                       for a in INPUTS},
            "results": RESULTS,
            # Floats as their bits, NaN as null (any NaN matches).
            "expected": {r: [None if isinstance(v, (float, np.floating))
                             and np.isnan(v) else
                             bits(v) if isinstance(v, (float, np.floating))
                             else int(v) for v in expected[r]]
                         for r in RESULTS},
        }
        with open(os.path.join(args.emit_dir, name + ".json"), "w") as f:
            json.dump(case, f)
        cases.append(name)
    print(f"emitted {len(cases)} collective cases for {PTX_ARCHITECTURE} "
          f"into {args.emit_dir}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--winnow-opt", required=True)
    parser.add_argument("--mlir-runner")
    parser.add_argument("--mlir-lib-dir")
    parser.add_argument("--workdir")
    parser.add_argument("--forms", default="shuffle,reference")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--emit-dir",
                        help="write the device check's cases here instead "
                             "of running on the emulator")
    args = parser.parse_args()
    if args.emit_dir:
        return emit_device_cases(args)
    if not (args.mlir_runner and args.mlir_lib_dir and args.workdir):
        parser.error("--mlir-runner, --mlir-lib-dir and --workdir are needed "
                     "to run on the emulator")
    os.makedirs(args.workdir, exist_ok=True)
    passed = failed = 0
    for n in BLOCK_SIZES:
        inputs = make_inputs(n, args.seed + n)
        expected = oracle(n, inputs)
        text = program(n, inputs)
        for form in args.forms.split(","):
            tag = f"collectives-n{n}-{form}"
            try:
                got = run_case(args, text, form, args.workdir, tag)
            except RuntimeError as error:
                print(f"FAIL {tag}: {error}")
                failed += 1
                continue
            total = GRID * n
            mismatches = []
            for row, name in enumerate(RESULTS):
                for thread in range(total):
                    e = expected[name][thread]
                    g = got[row * total + thread]
                    if not same_bits(e, g):
                        mismatches.append(f"{name}[{thread}]: expected {e}, "
                                          f"got {g}")
            if mismatches:
                failed += 1
                print(f"FAIL {tag}: {len(mismatches)} mismatches, first: "
                      + "; ".join(mismatches[:4]))
            else:
                passed += 1
                print(f"PASS {tag}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
