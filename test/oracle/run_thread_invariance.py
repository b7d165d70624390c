#!/usr/bin/env python3
"""Thread invariance of the CPU target: every recipe in examples/ computes
the same bits on 1, 2 and 3 threads, and in each of the artifact's CPU
variants (x86-64-v3 and x86-64-v2 by default).

Each recipe is compiled once; each function runs on seeded random inputs
of its own shapes (drawn as run_dynamic_batch.py draws them) with --threads=1, then with 2 and 3 threads
and WINNOW_PARALLEL_GRAIN=1, which splits every outlined parallel loop of
two or more iterations into ranges (the most interleaving the runtime can
produce), and with 2 threads at the compiled grains. Every result must be
bit-identical to the single-threaded run (bf16 as raw bits). The runs with
threads must have split loops onto pool threads (winnow-run --thread-stats:
parallel loops and ranges run by pool threads above 0); the single-threaded
one must split none. Each CPU variant after the first that this host runs
(WINNOW_CPU_TARGET) must give the same bits at 2 threads.
"""

import argparse
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_dynamic_batch import make_inputs, run, signatures  # noqa: E402

import subprocess

CPU_TARGET = re.compile(r"^\s*\[\d+\] cpu \S+ \(cpu ([^)]+)\)", re.M)
STATS = re.compile(r"threads: (\d+) per call; pool (\d+); loops: (\d+) "
                   r"parallel, (\d+) serial; ranges on pool threads (\d+)")


def cpu_variants(run_tool, artifact):
    """The CPU names of the artifact's CPU targets, in their order."""
    listing = subprocess.run([run_tool, artifact, "--list"],
                             capture_output=True, text=True, check=True)
    return CPU_TARGET.findall(listing.stdout)


def call(run_tool, artifact, function, paths, count, workdir, tag, threads,
         grain, cpu=None):
    command = [run_tool, artifact, "--function", function, "--print", "none",
               "--raw-bf16", f"--threads={threads}", "--thread-stats"]
    command += [f"--input=@{p}" for p in paths]
    outputs = [os.path.join(workdir, f"{tag}_out{i}.npy") for i in range(count)]
    command += [f"--output=@{p}" for p in outputs]
    env = dict(os.environ)
    env.pop("WINNOW_PARALLEL_GRAIN", None)
    if grain:
        env["WINNOW_PARALLEL_GRAIN"] = str(grain)
    env.pop("WINNOW_CPU_TARGET", None)
    if cpu:
        env["WINNOW_CPU_TARGET"] = cpu
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(" ".join(command) + "\n" + result.stderr)
    stats = STATS.search(result.stdout)
    if not stats:
        raise RuntimeError("no thread stats in: " + result.stdout)
    return [np.load(p) for p in outputs], [int(g) for g in stats.groups()]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--compile", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--examples", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()

    passed = failed = 0
    split_somewhere = False
    variants_compared = set()
    for recipe in sorted(os.listdir(args.examples)):
        if not recipe.endswith(".mlir"):
            continue
        name = recipe[:-len(".mlir")]
        workdir = os.path.join(args.workdir, name)
        os.makedirs(workdir, exist_ok=True)
        artifact = os.path.join(workdir, name + ".wnn")
        run([args.compile, os.path.join(args.examples, recipe), "-o",
             artifact])
        variants = cpu_variants(args.run, artifact)
        rng = np.random.default_rng(sum(map(ord, name)))
        for function, (inputs, results) in sorted(
                signatures(args.run, artifact).items()):
            # make_inputs gives every input the first one's batch; inputs
            # of other leading extents (tables) are drawn on their own.
            batch = inputs[0][1][0]
            arrays = make_inputs(inputs, batch, rng)
            for i, (_, dims, _) in enumerate(inputs):
                if dims and dims[0] != batch:
                    arrays[i] = make_inputs([inputs[i]], dims[0], rng)[0]
            paths = []
            for i, array in enumerate(arrays):
                paths.append(os.path.join(workdir, f"{function}_in{i}.npy"))
                np.save(paths[-1], np.ascontiguousarray(array))
            reference, stats = call(args.run, artifact, function, paths,
                                    len(results), workdir, "t1", 1, 1)
            problems = []
            if stats[2] != 0:
                problems.append(f"1 thread split {stats[2]} loops")
            for threads, grain in ((2, 1), (3, 1), (2, None)):
                outs, stats = call(args.run, artifact, function, paths,
                                   len(results), workdir,
                                   f"t{threads}g{grain}", threads, grain)
                if grain == 1 and stats[2] > 0 and stats[4] > 0:
                    split_somewhere = True
                for (result, _, _), want, got in zip(results, reference, outs):
                    if want.tobytes() != got.tobytes():
                        problems.append(
                            f"{result} differs at {threads} threads"
                            f" (grain {grain or 'compiled'})")
            for cpu in variants[1:]:
                try:
                    outs, _ = call(args.run, artifact, function, paths,
                                   len(results), workdir, f"cpu{cpu}", 2,
                                   None, cpu)
                except RuntimeError as error:
                    if "lacks" in str(error):
                        continue  # this host cannot run that variant
                    raise
                variants_compared.add(cpu)
                for (result, _, _), want, got in zip(results, reference, outs):
                    if want.tobytes() != got.tobytes():
                        problems.append(f"{result} differs on CPU {cpu}")
            label = f"{name} {function}"
            if problems:
                failed += 1
                print(f"FAIL {label}: " + "; ".join(problems))
            else:
                passed += 1
                print(f"PASS {label}")
    if not split_somewhere:
        failed += 1
        print("FAIL no run split a loop onto pool threads")
    print("CPU variants compared: " + (", ".join(sorted(variants_compared))
                                        or "none"))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
