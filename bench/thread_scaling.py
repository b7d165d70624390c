#!/usr/bin/env python3
"""How Winnow's CPU code scales with threads: every case of a bench bundle
(bench.py prepare) timed with `winnow-run --bench` at 1 and at N threads,
interleaved (1, N, 1, N, ...) on the same inputs, the fastest median of each
count kept. No PyTorch runs in between, so no idle torch threads compete
with Winnow's, and drift of the machine hits both counts alike.

    /usr/bin/python3 bench/thread_scaling.py BUNDLE --threads 2 \\
        --out bench/results/cpu-thread-scaling-DATE.md
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases as case_defs  # noqa: E402

MEDIAN = re.compile(r"median ([0-9.]+) us")


def time_call(run_tool, artifact, paths, threads, calls, env):
    command = [run_tool, artifact, "--print=none", f"--threads={threads}",
               f"--bench={calls}"] + [f"--input=@{p}" for p in paths]
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    match = MEDIAN.search(out.stdout)
    if out.returncode != 0 or not match:
        raise RuntimeError(" ".join(command) + "\n" + out.stderr)
    return float(match.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--only", default="", help="regex of case names")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(os.path.join(args.bundle, "cases.json")) as f:
        manifest = json.load(f)
    run_tool = os.path.join(args.bundle, "bin", "winnow-run")
    env = dict(os.environ)
    lib = os.path.join(args.bundle, "lib")
    env["LD_LIBRARY_PATH"] = lib + (":" + env["LD_LIBRARY_PATH"]
                                    if env.get("LD_LIBRARY_PATH") else "")
    env.pop("WINNOW_PARALLEL_GRAIN", None)
    rows = []
    for case in manifest["cases"]:
        if args.only and not re.search(args.only, case["name"]):
            continue
        kind = case_defs.KINDS[case["kind"]]
        values = kind.generate(case["params"],
                               np.random.default_rng(case["seed"]))
        workdir = tempfile.mkdtemp(prefix=case["name"] + ".")
        paths = []
        for spec in case["inputs"]:
            paths.append(os.path.join(workdir, spec["name"] + ".npy"))
            np.save(paths[-1], values[spec["name"]])
        artifact = os.path.join(args.bundle, case["artifact"])
        best = {1: float("inf"), args.threads: float("inf")}
        for _ in range(args.rounds):
            for threads in (1, args.threads):
                best[threads] = min(best[threads], time_call(
                    run_tool, artifact, paths, threads, args.calls, env))
        rows.append((case["name"], best[1], best[args.threads]))
        print("%-34s %10.1f us %10.1f us  x%.2f" % (
            rows[-1] + (rows[-1][1] / rows[-1][2],)), flush=True)
    scaling = [one / many for _, one, many in rows]
    with open(args.out, "w") as out:
        out.write(f"# CPU thread scaling, {datetime.date.today()}\n\n")
        out.write(f"Machine: {platform.processor() or platform.machine()}, "
                  f"{os.cpu_count()} cores. `bench/thread_scaling.py` on the "
                  f"bundle of `bench.py prepare`: `winnow-run --bench "
                  f"{args.calls}` at 1 and {args.threads} threads, "
                  f"interleaved over {args.rounds} rounds, the fastest "
                  "median of each count.\n\n")
        out.write(f"| case | 1 thread µs | {args.threads} threads µs | "
                  "scaling |\n|---|---|---|---|\n")
        for (name, one, many), s in zip(rows, scaling):
            out.write(f"| {name} | {one:.1f} | {many:.1f} | {s:.2f}x |\n")
        if scaling:
            out.write(f"\nMedian scaling: {statistics.median(scaling):.2f}x "
                      f"over {len(rows)} cases.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
