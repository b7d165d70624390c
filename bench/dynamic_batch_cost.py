#!/usr/bin/env python3
"""What a dynamic batch costs on the CPU: each recipe compiled for its own
batch size and with --dynamic-batch=BOUND, timed in the same run with
`winnow-run --bench` on the same inputs (full rows: every length at its
maximum), plus the dynamic artifact at the bound with full rows and with
every row empty (all lengths 0, the padding rows of a bucketed batch).

Writes a Markdown table (and the raw lines) to --out.
"""

import argparse
import datetime
import os
import platform
import re
import subprocess

import numpy as np

RECIPES = [
    ("fastv_llava15", "fastv_llava15"),
    ("spec_chain_rejection", "spec_chain_rejection"),
    ("h2o_heavy_hitters", "h2o_heavy_hitters"),
    ("streamingllm_evict", "streamingllm_evict"),
    ("tome_vit", "tome_step"),
    ("hnet_chunk_dechunk", "hnet_chunk"),
]
TENSOR = re.compile(r"(\w+): ([0-9a-z]*?)x?(f32|f16|bf16|i1|i32|i64)\b")
LENGTH_NAMES = ("lengths", "num_draft", "num_nodes", "length")


def inputs_of(run_tool, artifact, function):
    listing = subprocess.run([run_tool, "--list", artifact], check=True,
                             capture_output=True, text=True).stdout
    line = next(l for l in listing.splitlines() if f"func @{function}(" in l)
    found = []
    for name, shape, dtype in TENSOR.findall(line.split(") -> (")[0]):
        dims = [int(d) for d in shape.split("x") if d.isdigit()]
        found.append((name, dims, dtype))
    return found


def make(inputs, rows, empty, rng, workdir, tag):
    flags = []
    widest = max([d[0] for _, d, _ in inputs if d] or [1])
    for name, dims, dtype in inputs:
        shape = [rows] + dims
        if dtype == "bf16":
            array = (rng.random(shape, dtype=np.float32).view(np.uint32)
                     >> 16).astype(np.uint16)
        elif dtype in ("f32", "f16"):
            array = rng.random(shape).astype(np.float32 if dtype == "f32"
                                              else np.float16)
        elif dtype == "i1":
            array = rng.random(shape) < 0.3
        elif dtype == "i64":
            array = rng.integers(0, 2**31, shape, dtype=np.int64)
        elif len(shape) == 1 and name in LENGTH_NAMES:
            array = np.full(shape, 0 if empty else widest, dtype=np.int32)
        else:
            high = dims[-1] if dims else widest
            array = rng.integers(0, high, shape).astype(np.int32)
        path = os.path.join(workdir, f"{tag}_{name}.npy")
        np.save(path, array)
        flags.append(f"--input=@{path}")
    return flags


def bench(run_tool, artifact, function, flags, calls):
    out = subprocess.run([run_tool, artifact, "--function", function,
                          "--print", "none", f"--bench={calls}"] + flags,
                         capture_output=True, text=True)
    match = re.search(r"median ([0-9.]+) us", out.stdout)
    if not match:
        raise RuntimeError(out.stderr)
    return float(match.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--compile", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--examples", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--bound", type=int, default=16)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    rng = np.random.default_rng(0)
    rows = []
    for recipe, function in RECIPES:
        source = os.path.join(args.examples, recipe + ".mlir")
        static = os.path.join(args.workdir, recipe + ".static.wnn")
        dynamic = os.path.join(args.workdir, recipe + ".dynamic.wnn")
        subprocess.run([args.compile, source, "-o", static], check=True)
        subprocess.run([args.compile, source,
                        f"--dynamic-batch={args.bound}", "-o", dynamic],
                       check=True)
        signature = inputs_of(args.run, static, function)
        batch = signature[0][1][0]
        per_row = [(n, d[1:], t) for n, d, t in signature]
        own = make(per_row, batch, False, rng, args.workdir, recipe + "_own")
        full = make(per_row, args.bound, False, rng, args.workdir,
                    recipe + "_full")
        empty = make(per_row, args.bound, True, rng, args.workdir,
                     recipe + "_empty")
        has_lengths = any(n in LENGTH_NAMES for n, d, _ in per_row if not d)
        t_static = bench(args.run, static, function, own, args.calls)
        t_dynamic = bench(args.run, dynamic, function, own, args.calls)
        t_full = bench(args.run, dynamic, function, full, args.calls)
        t_empty = (bench(args.run, dynamic, function, empty, args.calls)
                   if has_lengths else None)
        rows.append((f"{recipe}/{function}", batch, t_static, t_dynamic,
                     t_full, t_empty))
        print(rows[-1], flush=True)
    with open(args.out, "w") as out:
        out.write(f"# Dynamic batch on the CPU: cost ({datetime.date.today()})"
                  "\n\n")
        out.write(f"Machine: {platform.processor() or platform.machine()}, "
                  f"{os.cpu_count()} cores; `winnow-run --bench "
                  f"{args.calls}`, median µs, one thread. Made by "
                  "`bench/dynamic_batch_cost.py`. Static = compiled for the "
                  "recipe's own batch B; dynamic = `--dynamic-batch="
                  f"{args.bound}`, same inputs; then the dynamic artifact at "
                  f"batch {args.bound} with full rows and with every length "
                  "0.\n\n")
        out.write(f"| recipe | B | static µs | dynamic µs (same B) | "
                  f"dynamic / static | dynamic, {args.bound} full rows µs | "
                  f"{args.bound} empty rows µs | empty / full |\n")
        out.write("|---|---|---|---|---|---|---|---|\n")
        for name, batch, s, d, f, e in rows:
            empty_cells = (f"{e:.0f} | {e / f:.2f}" if e is not None
                           else "no lengths input | -")
            out.write(f"| {name} | {batch} | {s:.0f} | {d:.0f} | {d / s:.2f} "
                      f"| {f:.0f} | {empty_cells} |\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
