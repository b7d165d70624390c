#!/usr/bin/env python3
"""One artifact for every batch: each recipe in examples/ compiled with
`winnow-compile --dynamic-batch=BOUND` must compute, for every batch size up
to the bound, row for row the same bits as the recipe compiled for its own
batch size.

For each recipe and function the script makes seeded random inputs with
BOUND rows, runs the static artifact over them in chunks of its batch size
(the last chunk padded with copies of row 0) and the dynamic artifact on the
first b rows for each b in --sizes, and compares every result row bit for
bit (bf16 as raw bits). Recipes whose programs cannot run row by row are
reported as `SKIP name: <the compiler's error>`, so the test pins which
ones they are. A batch above the bound and inconsistent batches must be
refused with the runtime's messages.
"""

import argparse
import os
import re
import subprocess
import sys

import numpy as np

DTYPES = {
    "f32": np.float32, "f16": np.float16, "bf16": np.uint16, "f64": np.float64,
    "i1": np.bool_, "i8": np.int8, "i16": np.int16, "i32": np.int32,
    "i64": np.int64,
}
SIGNATURE = re.compile(r"^\s*func @(\w+)\((.*)\) -> \((.*)\)\s*$")
TENSOR = re.compile(r"(\w+): ([0-9x]*?)x?(f32|f16|bf16|f64|i1|i8|i16|i32|i64)\b")


def run(command, check=True):
    result = subprocess.run(command, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(" ".join(command) + "\n" + result.stderr)
    return result


def signatures(run_tool, artifact):
    """name -> (inputs, results), each a list of (name, shape, dtype)."""
    listing = run([run_tool, "--list", artifact]).stdout
    functions = {}
    for line in listing.splitlines():
        match = SIGNATURE.match(line)
        if not match:
            continue
        name, ins, outs = match.groups()

        def tensors(text):
            found = []
            for tensor, shape, dtype in TENSOR.findall(text):
                dims = [int(d) for d in shape.split("x") if d]
                found.append((tensor, dims, dtype))
            return found

        functions[name] = (tensors(ins), tensors(outs))
    return functions


def make_inputs(inputs, rows, rng):
    """Seeded inputs with `rows` batch rows: floats in [0, 1) (valid
    probabilities, ratios and temperatures), integers in [0, n] where n is
    the input's last extent or, for a [B] tensor, the largest second extent
    of the other inputs (lengths, counts, indices mostly in range)."""
    widest = max([dims[1] for _, dims, _ in inputs if len(dims) > 1] or [1])
    arrays = []
    for _, dims, dtype in inputs:
        shape = [rows] + dims[1:]
        if dtype in ("f32", "f16", "f64"):
            arrays.append(rng.random(shape).astype(DTYPES[dtype]))
        elif dtype == "bf16":
            values = rng.random(shape).astype(np.float32)
            arrays.append((values.view(np.uint32) >> 16).astype(np.uint16))
        elif dtype == "i1":
            arrays.append(rng.random(shape) < 0.3)
        elif dtype == "i64":
            arrays.append(rng.integers(0, 2**31, shape, dtype=np.int64))
        else:
            high = dims[-1] if len(dims) > 1 else widest
            arrays.append(rng.integers(0, high + 1, shape).astype(DTYPES[dtype]))
    return arrays


def call(run_tool, artifact, function, arrays, results, workdir, tag):
    os.makedirs(workdir, exist_ok=True)
    command = [run_tool, artifact, "--function", function, "--print", "none",
               "--raw-bf16"]
    for i, array in enumerate(arrays):
        path = os.path.join(workdir, f"{tag}_in{i}.npy")
        np.save(path, np.ascontiguousarray(array))
        command.append(f"--input=@{path}")
    paths = []
    for i in range(len(results)):
        paths.append(os.path.join(workdir, f"{tag}_out{i}.npy"))
        command.append(f"--output=@{paths[-1]}")
    result = run(command, check=False)
    if result.returncode != 0:
        return None, result.stderr.strip()
    return [np.load(p) for p in paths], ""


def static_reference(run_tool, artifact, function, arrays, inputs, results,
                     workdir):
    batch = inputs[0][1][0]
    total = arrays[0].shape[0]
    rows = [[] for _ in results]
    for start in range(0, total, batch):
        index = [min(start + i, total - 1) if start + i < total else 0
                 for i in range(batch)]
        chunk = [a[index] for a in arrays]
        outs, error = call(run_tool, artifact, function, chunk, results,
                           workdir, f"static{start}")
        if outs is None:
            raise RuntimeError(f"static {function}: {error}")
        for r, out in enumerate(outs):
            rows[r].extend(out[: min(batch, total - start)])
    return [np.stack(r) if r else None for r in rows]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--compile", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--examples", required=True)
    parser.add_argument("--bound", type=int, default=8)
    parser.add_argument("--sizes", default="0,1,3,8")
    parser.add_argument("--filter", default="")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    assert max(sizes) <= args.bound
    os.makedirs(args.workdir, exist_ok=True)
    passed = failed = 0
    for file in sorted(os.listdir(args.examples)):
        if not file.endswith(".mlir") or args.filter not in file:
            continue
        name = file[:-5]
        source = os.path.join(args.examples, file)
        static = os.path.join(args.workdir, name + ".static.wnn")
        dynamic = os.path.join(args.workdir, name + ".dynamic.wnn")
        run([args.compile, source, "-o", static])
        compiled = run([args.compile, source, f"--dynamic-batch={args.bound}",
                        "-o", dynamic], check=False)
        if compiled.returncode != 0:
            error = compiled.stderr.strip().splitlines()[0]
            print(f"SKIP {name}: {error.split('error: ', 1)[-1]}")
            continue
        listed = run([args.run, "--list", dynamic]).stdout
        if f"symbols: batch <= {args.bound}" not in listed:
            print(f"FAIL {name}: --list shows no batch symbol")
            failed += 1
            continue
        for function, (inputs, results) in signatures(args.run,
                                                      static).items():
            rng = np.random.default_rng(len(name) * 7919 + len(function))
            workdir = os.path.join(args.workdir, name, function)
            arrays = make_inputs(inputs, args.bound, rng)
            reference = static_reference(args.run, static, function, arrays,
                                         inputs, results, workdir)
            for b in sizes:
                outs, error = call(args.run, dynamic, function,
                                   [a[:b] for a in arrays], results, workdir,
                                   f"dynamic{b}")
                label = f"{name}/{function} batch {b}"
                if outs is None:
                    print(f"FAIL {label}: {error}")
                    failed += 1
                    continue
                bad = [results[r][0] for r, out in enumerate(outs)
                       if out.shape[0] != b or
                       (b and not np.array_equal(out, reference[r][:b]))]
                if bad:
                    print(f"FAIL {label}: {', '.join(bad)} differ")
                    failed += 1
                else:
                    passed += 1
            print(f"PASS {name}/{function} at batch {args.sizes}")
            # Refusals: above the bound, and two inputs that disagree.
            if len(inputs) > 1:
                over = make_inputs(inputs, args.bound + 1, rng)
                _, error = call(args.run, dynamic, function, over, results,
                                workdir, "over")
                if f"above its bound {args.bound}" not in error:
                    print(f"FAIL {name}/{function}: batch {args.bound + 1} "
                          f"not refused: {error!r}")
                    failed += 1
                mixed = [a[:2] for a in arrays]
                mixed[-1] = arrays[-1][:1]
                _, error = call(args.run, dynamic, function, mixed, results,
                                workdir, "mixed")
                if "batch is 2 in" not in error or "but 1 in" not in error:
                    print(f"FAIL {name}/{function}: inconsistent batches not "
                          f"refused: {error!r}")
                    failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
