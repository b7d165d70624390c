#!/usr/bin/env python3
"""Batch invariance and target invariance of the ops whose GPU form splits a
reduction.

The same eight requests run as one batch of 8, as batches of 3 and 1 (each
request alone), on the CPU target and through the GPU mapping emulated on
the CPU (`--emulate-cuda-on-cpu`, the cuda target's own loops, launches and
split-vocabulary tables). Every result of every request must be
bit-identical across all of them: a request's accepted tokens, kept indices
and scores may not depend on which other requests share its batch nor on
the target. Cases:

* spec_verify typical (entropy and log-sum-exp sums; Philox noise),
* spec_verify rejection (log-sum-exp, exponential race, residual race),
* attn_score + select (softmax sums per query, per-key sums, top-k ties),
  at a vocabulary and key count that are not multiples of 256,
* scatter_merge (members summed in token order, magnitudes far apart),
* ema_scan alone and streamed into expand (the blocks' fp32 join),
* boundary (three ordered sums per token, eight threads each on the GPU).

Inputs are random logits and keys on a coarse grid (many exact ties and
near ties). A last-bit difference that flips no decision is not visible
here; tok-lower-to-loops-verify.mlir pins the verifiers' sum order.

`--emit-dir DIR` compiles the same runs for cpu,cuda into DIR for the
device check (tools/device-check.sh), which runs them on the GPU with
run_on_device and compares every request with the CPU's batch of 8.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np

REQUESTS = 8
BATCHES = ((0, 8), (0, 3), (3, 6), (5, 6))  # [first, last) request of each run


def verify_program(name, batch, rows, vocab, mode):
    drafts = rows - 1
    extra = ("{mode = #tok.verify_mode<typical>, typical_epsilon = 0.09 : f64, "
             "typical_alpha = 0.3 : f64}" if mode == "typical"
             else "{mode = #tok.verify_mode<rejection>}")
    q = ("draft_probs %q " if mode == "rejection" else "")
    q_arg = (f"%q: tensor<{batch}x{drafts}x{vocab}xf32>, "
             if mode == "rejection" else "")
    q_type = (f"tensor<{batch}x{drafts}x{vocab}xf32>, "
              if mode == "rejection" else "")
    return f"""func.func @{name}(%logits: tensor<{batch}x{rows}x{vocab}xf32>,
    %drafts: tensor<{batch}x{drafts}xi32>, %n: tensor<{batch}xi32>, {q_arg}
    %t: tensor<{batch}xf32>, %seed: tensor<{batch}xi64>, %offset: tensor<{batch}xi64>)
    -> (tensor<{batch}x{rows}xi32>, tensor<{batch}xi32>, tensor<{batch}xi32>) {{
  %tokens, %a, %e = tok.spec_verify %logits, %drafts, %n {q}temperature %t seed %seed offset %offset
      {extra}
      : (tensor<{batch}x{rows}x{vocab}xf32>, tensor<{batch}x{drafts}xi32>, tensor<{batch}xi32>, {q_type}
         tensor<{batch}xf32>, tensor<{batch}xi64>, tensor<{batch}xi64>)
      -> (tensor<{batch}x{rows}xi32>, tensor<{batch}xi32>, tensor<{batch}xi32>)
  return %tokens, %a, %e : tensor<{batch}x{rows}xi32>, tensor<{batch}xi32>, tensor<{batch}xi32>
}}
"""


def prune_program(name, batch, heads, keys, dim, keep):
    return f"""func.func @{name}(%q: tensor<{batch}x{heads}x2x{dim}xf32>,
    %k: tensor<{batch}x{heads}x{keys}x{dim}xf32>)
    -> (tensor<{batch}x{keys}xf32>, tensor<{batch}x{keep}xi32>, tensor<{batch}xi32>) {{
  %s = tok.attn_score %q, %k
      : (tensor<{batch}x{heads}x2x{dim}xf32>, tensor<{batch}x{heads}x{keys}x{dim}xf32>)
      -> tensor<{batch}x{keys}xf32>
  %idx, %count = tok.select #tok.top_k<{keep}> of %s
      : (tensor<{batch}x{keys}xf32>) -> (tensor<{batch}x{keep}xi32>, tensor<{batch}xi32>)
  return %s, %idx, %count : tensor<{batch}x{keys}xf32>, tensor<{batch}x{keep}xi32>, tensor<{batch}xi32>
}}
"""


def merge_program(name, batch, tokens, rows, dim):
    return f"""func.func @{name}(%p: tensor<{batch}x{tokens}xi32>,
    %n: tensor<{batch}xi32>, %x: tensor<{batch}x{tokens}x{dim}xf32>)
    -> (tensor<{batch}x{rows}x{dim}xf32>, tensor<{batch}x{rows}xf32>) {{
  %m, %s = tok.scatter_merge %p, %n gather(%x) {{reduction = #tok.merge_reduction<sum>}}
      : (tensor<{batch}x{tokens}xi32>, tensor<{batch}xi32>, tensor<{batch}x{tokens}x{dim}xf32>)
      -> (tensor<{batch}x{rows}x{dim}xf32>, tensor<{batch}x{rows}xf32>)
  return %m, %s : tensor<{batch}x{rows}x{dim}xf32>, tensor<{batch}x{rows}xf32>
}}
"""


def diversity_program(name, batch, tokens, dim, k, keep):
    """k_center, dart_select, density_peaks and similarity_components on the
    same rows (their ties, the components' numbering)."""
    return f"""func.func @{name}(%x: tensor<{batch}x{tokens}x{dim}xf32>)
    -> (tensor<{batch}x{k}xi32>, tensor<{batch}xi32>, tensor<{batch}x{tokens}xi32>, tensor<{batch}xi32>,
        tensor<{batch}x{tokens}xi32>, tensor<{batch}xi32>,
        tensor<{batch}x{tokens}xi32>, tensor<{batch}xi32>) {{
  %c, %cn = tok.k_center %x {{k = {k}}}
      : (tensor<{batch}x{tokens}x{dim}xf32>) -> (tensor<{batch}x{k}xi32>, tensor<{batch}xi32>)
  %d, %dn = tok.dart_select %x, %x {{span = array<i64: 2, {tokens - 3}>, image_pivots = 3, text_pivots = 1, keep = {keep}}}
      : (tensor<{batch}x{tokens}x{dim}xf32>, tensor<{batch}x{tokens}x{dim}xf32>) -> (tensor<{batch}x{tokens}xi32>, tensor<{batch}xi32>)
  %p, %pn = tok.density_peaks %x {{clusters = 16 : i64, k = 5 : i64}}
      : (tensor<{batch}x{tokens}x{dim}xf32>) -> (tensor<{batch}x{tokens}xi32>, tensor<{batch}xi32>)
  %g, %gn = tok.similarity_components %x {{threshold = 0.9 : f64}}
      : (tensor<{batch}x{tokens}x{dim}xf32>) -> (tensor<{batch}x{tokens}xi32>, tensor<{batch}xi32>)
  return %c, %cn, %d, %dn, %p, %pn, %g, %gn : tensor<{batch}x{k}xi32>, tensor<{batch}xi32>, tensor<{batch}x{tokens}xi32>, tensor<{batch}xi32>,
      tensor<{batch}x{tokens}xi32>, tensor<{batch}xi32>, tensor<{batch}x{tokens}xi32>, tensor<{batch}xi32>
}}
"""


def ema_program(name, batch, chunks, tokens, dim, block):
    """ema_scan's blocked fp32 order, alone and streamed into expand (another
    epsilon, so that the two scans stay two)."""
    return f"""func.func @{name}(%z: tensor<{batch}x{chunks}x{dim}xf32>,
    %g: tensor<{batch}x{chunks}xf32>, %n: tensor<{batch}xi32>,
    %b: tensor<{batch}x{tokens}xi1>, %h: tensor<{batch}x{tokens}x{dim}xf32>)
    -> (tensor<{batch}x{chunks}x{dim}xf32>, tensor<{batch}x{tokens}x{dim}xf32>) {{
  %zbar = tok.ema_scan %z, %g, %n {{scan_block = {block} : i64}}
      : (tensor<{batch}x{chunks}x{dim}xf32>, tensor<{batch}x{chunks}xf32>, tensor<{batch}xi32>)
      -> tensor<{batch}x{chunks}x{dim}xf32>
  %again = tok.ema_scan %z, %g, %n {{scan_block = {block} : i64, epsilon = 0.01 : f64}}
      : (tensor<{batch}x{chunks}x{dim}xf32>, tensor<{batch}x{chunks}xf32>, tensor<{batch}xi32>)
      -> tensor<{batch}x{chunks}x{dim}xf32>
  %out = tok.expand %again, %b residual %h
      : (tensor<{batch}x{chunks}x{dim}xf32>, tensor<{batch}x{tokens}xi1>, tensor<{batch}x{tokens}x{dim}xf32>)
      -> tensor<{batch}x{tokens}x{dim}xf32>
  return %zbar, %out : tensor<{batch}x{chunks}x{dim}xf32>, tensor<{batch}x{tokens}x{dim}xf32>
}}
"""


def boundary_program(name, batch, tokens, dim):
    """tok.boundary's three ordered sums per token."""
    return f"""func.func @{name}(%q: tensor<{batch}x{tokens}x{dim}xf32>,
    %k: tensor<{batch}x{tokens}x{dim}xf32>, %len: tensor<{batch}xi32>)
    -> (tensor<{batch}x{tokens}xf32>, tensor<{batch}x{tokens}xi1>) {{
  %p, %b = tok.boundary %q, %k lengths %len
      : (tensor<{batch}x{tokens}x{dim}xf32>, tensor<{batch}x{tokens}x{dim}xf32>, tensor<{batch}xi32>)
      -> (tensor<{batch}x{tokens}xf32>, tensor<{batch}x{tokens}xi1>)
  return %p, %b : tensor<{batch}x{tokens}xf32>, tensor<{batch}x{tokens}xi1>
}}
"""


def quantised(rng, shape, step):
    """Values on a coarse grid: many exact ties and near ties."""
    return (np.round(rng.standard_normal(shape) * 2 / step) * step).astype(np.float32)


def make_cases(rng):
    cases = []
    rows, vocab = 4, 1000
    for mode in ("typical", "rejection"):
        inputs = {
            "logits": quantised(rng, (REQUESTS, rows, vocab), 0.25),
            "drafts": rng.integers(0, vocab, (REQUESTS, rows - 1)).astype(np.int32),
            "n": rng.integers(0, rows, REQUESTS).astype(np.int32),
            "t": rng.choice([0.7, 1.0, 1.3], REQUESTS).astype(np.float32),
            "seed": rng.integers(0, 2**31, REQUESTS).astype(np.int64),
            "offset": rng.integers(0, 1000, REQUESTS).astype(np.int64),
        }
        # Drafts that the target likes, so acceptance is decided by the sums.
        for r in range(REQUESTS):
            for i in range(rows - 1):
                inputs["logits"][r, i, inputs["drafts"][r, i]] += 3.0
        order = ["logits", "drafts", "n", "t", "seed", "offset"]
        if mode == "rejection":
            q = rng.random((REQUESTS, rows - 1, vocab)).astype(np.float32)
            inputs["q"] = q / q.sum(axis=-1, keepdims=True)
            order = ["logits", "drafts", "n", "q", "t", "seed", "offset"]
        cases.append({
            "name": "verify_" + mode, "inputs": inputs, "order": order,
            "results": ["tokens", "num_accepted", "num_emitted"],
            "program": lambda name, b, mode=mode: verify_program(
                name, b, rows, vocab, mode)})
    # scatter_merge sums members in ascending token order: values of very
    # different magnitudes and rows of up to 12 members make any other order
    # visible in the bits.
    members, outputs, width = 12, 5, 8
    cases.append({
        "name": "scatter_merge",
        "inputs": {"p": rng.integers(-1, outputs + 1, (REQUESTS, members)).astype(np.int32),
                   "n": rng.integers(0, outputs + 1, REQUESTS).astype(np.int32),
                   "x": (rng.standard_normal((REQUESTS, members, width))
                         * 10.0 ** rng.integers(-4, 5, (REQUESTS, members, width))
                         ).astype(np.float32)},
        "order": ["p", "n", "x"], "results": ["merged", "sizes"],
        "program": lambda name, b, w=width: merge_program(name, b, members, outputs, w)})
    cases[-1]["inputs"]["p"][0] = 2  # one row with every token a member
    cases[-1]["inputs"]["n"][0] = outputs
    heads, keys, dim, keep = 4, 300, 16, 37
    cases.append({
        "name": "attn_select",
        "inputs": {"q": quantised(rng, (REQUESTS, heads, 2, dim), 0.5),
                   "k": quantised(rng, (REQUESTS, heads, keys, dim), 0.5)},
        "order": ["q", "k"], "results": ["scores", "kept", "count"],
        "program": lambda name, b: prune_program(name, b, heads, keys, dim, keep)})
    # k_center's farthest point and DART's pivots and least similar tokens
    # are argmaxes over the row: rows drawn from a palette of 24 vectors
    # repeat, so equal distances and similarities are everywhere and the
    # tie rule (lower index) decides.
    points, width = 2500, 8  # several tokens per thread of a 1024-thread block
    palette = quantised(rng, (24, width), 1.0)
    cases.append({
        "name": "diversity",
        "inputs": {"x": palette[rng.integers(0, 24, (REQUESTS, points))]},
        "order": ["x"], "results": ["centers", "centers_count", "dart", "dart_count", "clusters",
                    "clusters_count", "components", "components_count"],
        "program": lambda name, b: diversity_program(name, b, points, width, 40, 60)})
    # ema_scan's blocks (8 chunks) are joined by Q * carry + L: any other
    # order or partition changes the last bits of values this spread out.
    chunks, tokens, features = 45, 120, 6
    bounds = rng.random((REQUESTS, tokens)) < 0.4
    cases.append({
        "name": "ema_dechunk",
        "inputs": {"z": (rng.standard_normal((REQUESTS, chunks, features))
                         * 10.0 ** rng.integers(-3, 4, (REQUESTS, chunks, features))
                         ).astype(np.float32),
                   "g": rng.uniform(0.05, 1.0, (REQUESTS, chunks)).astype(np.float32),
                   "n": rng.integers(0, chunks + 3, REQUESTS).astype(np.int32),
                   "b": bounds,
                   "h": rng.standard_normal((REQUESTS, tokens, features)).astype(np.float32)},
        "order": ["z", "g", "n", "b", "h"], "results": ["zbar", "out"],
        "program": lambda name, b, c=chunks, t=tokens, f=features: ema_program(
            name, b, c, t, f, 8)})
    cases[-1]["inputs"]["n"][0] = chunks  # one row with every chunk live
    # boundary's dot products and norms: 8 lanes over 37 features (a tail),
    # magnitudes far apart, so another order shows in p's last bits.
    tokens, features = 50, 37
    spread = 10.0 ** rng.integers(-3, 4, (REQUESTS, tokens, features))
    cases.append({
        "name": "boundary",
        "inputs": {"q": (rng.standard_normal((REQUESTS, tokens, features)) * spread).astype(np.float32),
                   "k": (rng.standard_normal((REQUESTS, tokens, features)) * spread).astype(np.float32),
                   "len": rng.integers(0, tokens + 2, REQUESTS).astype(np.int32)},
        "order": ["q", "k", "len"], "results": ["p", "boundaries"],
        "program": lambda name, b, t=tokens, f=features: boundary_program(name, b, t, f)})
    return cases


def compile_case(compiler, case, first, last, flags, workdir, tag):
    source = os.path.join(workdir, tag + ".mlir")
    artifact = os.path.join(workdir, tag + ".wnn")
    with open(source, "w") as handle:
        handle.write(case["program"]("f", last - first))
    subprocess.run([compiler, source, "-o", artifact] + flags, check=True,
                   capture_output=True, text=True)
    inputs = []
    for name in case["order"]:
        path = os.path.join(workdir, "%s.%s.npy" % (tag, name))
        np.save(path, case["inputs"][name][first:last])
        inputs.append(path)
    return artifact, inputs


def run_artifact(runner, artifact, inputs, out_dir, device="cpu", env=None):
    command = [runner, artifact, "--function=f", "--device=" + device,
               "--output-dir=" + out_dir] + ["--input=@" + p for p in inputs]
    subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    outputs = sorted(f for f in os.listdir(out_dir) if f.endswith(".npy"))
    return [np.load(os.path.join(out_dir, f)) for f in outputs]


def run(args, case, first, last, flavour, workdir):
    tag = "%s.b%d-%d.%s" % (case["name"], first, last, flavour)
    flags = ["--emulate-cuda-on-cpu"] if flavour == "gpu-emulated" else []
    artifact, inputs = compile_case(args.compile, case, first, last, flags,
                                    workdir, tag)
    return run_artifact(args.run, artifact, inputs, os.path.join(workdir, tag))


def same_rows(reference, got, first, last):
    """Indices of the results whose rows [first, last) differ in any bit."""
    return [i for i, (r, g) in enumerate(zip(reference, got))
            if not np.array_equal(r[first:last].view(np.uint8), g.view(np.uint8))]


def emit(args):
    """The device check's batch-invariance cases: every case and batch split
    compiled for cpu,cuda with its inputs, and a manifest; the GPU machine
    runs them with run_on_device (no compiler needed)."""
    os.makedirs(args.emit_dir, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    manifest = []
    for case in make_cases(rng):
        for first, last in BATCHES:
            tag = "%s.b%d-%d" % (case["name"], first, last)
            artifact, inputs = compile_case(args.compile, case, first, last,
                                            ["--target=cpu,cuda"],
                                            args.emit_dir, tag)
            manifest.append({"case": case["name"], "first": first, "last": last,
                             "artifact": os.path.basename(artifact),
                             "inputs": [os.path.basename(p) for p in inputs]})
            os.remove(os.path.join(args.emit_dir, tag + ".mlir"))
    with open(os.path.join(args.emit_dir, "cases.json"), "w") as handle:
        json.dump(manifest, handle, indent=1)
    print("emitted %d batch-invariance runs into %s" % (len(manifest), args.emit_dir))
    return 0


def run_on_device(directory, runner, device, workdir, log, env=None):
    """Every run of `directory` on `device`, each request's results compared
    bit for bit with the batch of 8 on the CPU. Returns report entries."""
    with open(os.path.join(directory, "cases.json")) as handle:
        manifest = json.load(handle)
    entries, references = [], {}
    for run_spec in manifest:
        path = lambda name: os.path.join(directory, name)
        inputs = [path(p) for p in run_spec["inputs"]]
        label = "%s requests %d..%d" % (run_spec["case"], run_spec["first"],
                                        run_spec["last"] - 1)
        try:
            if (run_spec["first"], run_spec["last"]) == (0, REQUESTS):
                references[run_spec["case"]] = run_artifact(
                    runner, path(run_spec["artifact"]), inputs,
                    os.path.join(workdir, run_spec["artifact"] + ".cpu"),
                    "cpu", env)
            got = run_artifact(runner, path(run_spec["artifact"]), inputs,
                               os.path.join(workdir, run_spec["artifact"] + ".gpu"),
                               device, env)
            diffs = same_rows(references[run_spec["case"]], got,
                              run_spec["first"], run_spec["last"])
            entry = {"run": label, "status": "FAIL" if diffs else "PASS",
                     "differing_results": diffs}
        except (subprocess.CalledProcessError, KeyError, OSError) as error:
            detail = getattr(error, "stderr", "") or str(error)
            entry = {"run": label, "status": "FAIL", "error": detail.strip()[-500:]}
        entries.append(entry)
        log("%s  determinism/%-34s %s" % (
            entry["status"], label, entry.get("error") or (
                "results %s differ from the CPU's batch of 8" % entry["differing_results"]
                if entry["differing_results"] else
                "bit-identical to the CPU's batch of 8")))
    return entries


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compile", required=True)
    parser.add_argument("--run")
    parser.add_argument("--workdir")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--emit-dir", help="write the device check's runs "
                        "(compiled for cpu,cuda) here instead of checking")
    args = parser.parse_args()
    if args.emit_dir:
        return emit(args)
    if not (args.run and args.workdir):
        parser.error("--run and --workdir are needed to check")
    os.makedirs(args.workdir, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    passed = failed = 0
    for case in make_cases(rng):
        reference = run(args, case, 0, REQUESTS, "cpu", args.workdir)
        for first, last in BATCHES:
            for flavour in ("cpu", "gpu-emulated"):
                if (first, last, flavour) == (0, REQUESTS, "cpu"):
                    continue
                got = run(args, case, first, last, flavour, args.workdir)
                label = "%s requests %d..%d (%s)" % (case["name"], first,
                                                     last - 1, flavour)
                diffs = same_rows(reference, got, first, last)
                if not diffs:
                    passed += 1
                    print("PASS " + label + ": bit-identical to the batch of 8 on the CPU")
                else:
                    failed += 1
                    print("FAIL " + label + ": results %s differ" % diffs)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
