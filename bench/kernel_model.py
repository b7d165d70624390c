#!/usr/bin/env python3
"""The kernel model over the benchmark matrix, without a GPU.

  kernel_model.py estimate [--out FILE.json] [--md FILE.md]
      compiles every case of cases.py for the cuda target up to the `gpu`
      phase with --kernel-report, and tabulates each case's estimate against
      its roofline (cases.py's roofline bytes at the card's copy bandwidth)
      and the PyTorch eager anchor measured on an H200
      (results/anchors-h200-2026-11-26.json); lists the worst launches.
  kernel_model.py check [--ratchet kernel-ratchet.json] [--update]
      the ratchet: fails when a case's estimate is more than 5 % above its
      committed value, or a launch's busiest-thread chain exceeds 64
      dependent global loads without a reason listed in the ratchet file.
      --update rewrites the committed estimates (improvements land with the
      change that made them; the reasons stay).
  kernel_model.py gather-check
      the model's one measured anchor: a row gather with 16-byte accesses
      (32768 of 65536 rows of 4096 f16) ran at 3.74 TB/s on an H200
      (143.5 us); the estimate must be within 25 %.

The model itself is defined in docs/cuda.md ("Performance model").
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import cases as case_defs  # noqa: E402

DEFAULT_COMPILER = os.path.join(REPO, "build", "bin", "winnow-compile")
ANCHORS = os.path.join(HERE, "results", "anchors-h200-2026-11-26.json")
RATCHET = os.path.join(HERE, "kernel-ratchet.json")
TOLERANCE = 1.05
CHAIN_LIMIT = 64

# cases.py kind -> the anchors' op name.
ANCHOR_OPS = {
    "prune_scores": "prune.scores", "prune_fastv": "prune.qk", "tome": "merge.tome",
    "hnet_chunk": "chunk.hnet", "hnet_dechunk": "dechunk.hnet.scan",
    "verify_greedy": "verify.greedy", "verify_rejection": "verify.rejection",
    "kv_h2o": "kv.evict", "kv_streaming": "kv.evict",
}


def report_for(compiler, kind, params, device, workdir, name):
    source = os.path.join(workdir, name + ".mlir")
    report = os.path.join(workdir, name + ".json")
    with open(source, "w") as f:
        f.write(case_defs.program(kind, params))
    cmd = [compiler, source, "--target=cuda", "--compile-to=gpu", "-o", os.devnull,
           "--kernel-report=" + report, "--kernel-report-device=" + device]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(cmd), proc.stderr))
    with open(report) as f:
        return json.load(f)


def source_op(program, launch):
    """The tok op on the source line a launch's kernel came from ("tok.select")."""
    try:
        line = int(launch.get("source", "").rsplit(":", 2)[1])
    except (IndexError, ValueError):
        return "?"
    text = program.splitlines()[line - 1] if 0 < line <= len(program.splitlines()) else ""
    for word in text.replace("(", " ").replace('"', " ").split():
        if word.startswith(("tok.", "linalg.", "arith.", "math.", "tensor.")):
            return word
    return "?"


def anchor_for(anchors, kind, params):
    """(eager_us, exact shape?) of the anchor for a case, or (None, False)."""
    op = ANCHOR_OPS.get(kind)
    candidates = [r for r in anchors if r.get("op") == op and "eager_us" in r]
    if not candidates:
        return None, False

    def distance(record):
        shape = record["shape"]
        keys = [k for k in shape if k in params or k.lower() in {p.lower() for p in params}]
        mismatch = sum(1 for k in keys if params.get(k, params.get(k.upper(), params.get(k.lower()))) != shape[k])
        return mismatch, abs(shape.get("B", 1) - params.get("B", 1))
    best = min(candidates, key=distance)
    return best["eager_us"], distance(best)[0] == 0


def estimate(args):
    with open(ANCHORS) as f:
        anchors = json.load(f)["records"]
    rows, worst = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name, kind, params, _quick in case_defs.MATRIX:
            report = report_for(args.compiler, kind, params, args.device, tmp, name.replace(".", "_"))
            bandwidth = report["device"]["copy_bandwidth_gbps"] * 1e9
            entry = report["entries"][0]
            roofline_us = case_defs.KINDS[kind].roofline_bytes(params) / bandwidth * 1e6
            eager_us, exact = anchor_for(anchors, kind, params)
            rows.append(dict(case=name, estimate_us=entry["estimate_us"], roofline_us=roofline_us,
                             x_roofline=entry["estimate_us"] / roofline_us,
                             launches=len(entry["launches"]), eager_us=eager_us,
                             anchor_shape_exact=exact,
                             x_eager=(entry["estimate_us"] / eager_us) if eager_us else None))
            program = case_defs.program(kind, params)
            for launch in entry["launches"]:
                worst.append(dict(case=name, kernel=launch["kernel"], op=source_op(program, launch),
                                  estimate_us=launch["estimate_us"], bound=launch["bound"],
                                  chain=launch["chain_global_loads"], chain_split=launch["chain"],
                                  grid=launch["grid"][0], block=launch["block"][0]))
            print("%-34s %11.1f us  %8.1fx roofline  %s" % (
                name, entry["estimate_us"], entry["estimate_us"] / roofline_us,
                ("%.2fx eager%s" % (entry["estimate_us"] / eager_us, "" if exact else " (nearby shape)"))
                if eager_us else "no anchor"), flush=True)
    worst.sort(key=lambda w: -w["estimate_us"])
    ratios = [r["x_roofline"] for r in rows]
    compared = [r for r in rows if r["x_eager"] is not None]
    summary = dict(device=args.device, cases=len(rows), median_x_roofline=statistics.median(ratios),
                   slower_than_eager=sum(1 for r in compared if r["x_eager"] > 1), compared_with_eager=len(compared))
    print("median %.1fx the roofline; slower than eager in %d of %d cases" % (
        summary["median_x_roofline"], summary["slower_than_eager"], summary["compared_with_eager"]))
    result = dict(summary=summary, cases=rows, worst_launches=worst[:15])
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    if args.md:
        with open(args.md, "w") as f:
            f.write(markdown(result))
    return 0


def markdown(result):
    s = result["summary"]
    lines = ["# Kernel model over the benchmark matrix (%s, no GPU)" % s["device"], "",
             "Median estimate **%.1f× the roofline**; slower than PyTorch eager (H200 anchors) in **%d of %d** "
             "cases." % (s["median_x_roofline"], s["slower_than_eager"], s["compared_with_eager"]), "",
             "| case | launches | estimate µs | roofline µs | × roofline | eager µs | × eager |",
             "|---|---|---|---|---|---|---|"]
    for r in result["cases"]:
        eager = "%.1f%s" % (r["eager_us"], "" if r["anchor_shape_exact"] else "*") if r["eager_us"] else "–"
        ratio = "%.2f" % r["x_eager"] if r["x_eager"] else "–"
        lines.append("| %s | %d | %.1f | %.2f | %.1f | %s | %s |" % (
            r["case"], r["launches"], r["estimate_us"], r["roofline_us"], r["x_roofline"], eager, ratio))
    lines += ["", "\\* anchor at a nearby shape.", "", "Worst launches:", "",
              "| case | kernel | from | grid × block | bound | chain DRAM / L2 / L1 loads | estimate µs |",
              "|---|---|---|---|---|---|---|"]
    for w in result["worst_launches"]:
        c = w["chain_split"]
        lines.append("| %s | %s | `%s` | %d × %d | %s | %.0f / %.0f / %.0f | %.1f |" % (
            w["case"], w["kernel"].split("::")[-1], w["op"], w["grid"], w["block"], w["bound"],
            c["dram"], c["l2"], c["l1"], w["estimate_us"]))
    return "\n".join(lines) + "\n"


def check(args):
    with open(args.ratchet) as f:
        ratchet = json.load(f)
    committed = ratchet["cases"]
    reasons = ratchet.get("long_chains", {})
    failures, updated, long_chains, seen_failures = [], {}, {}, set()
    with tempfile.TemporaryDirectory() as tmp:
        for name, kind, params, _quick in case_defs.MATRIX:
            report = report_for(args.compiler, kind, params, ratchet["device"], tmp, name.replace(".", "_"))
            entry = report["entries"][0]
            now = entry["estimate_us"]
            updated[name] = now
            before = committed.get(name)
            if before is None:
                failures.append("%s: not in the ratchet file (run with --update)" % name)
            elif now > before * TOLERANCE:
                failures.append("%s: estimate %.2f us, %.1f %% above the committed %.2f us" % (
                    name, now, (now / before - 1) * 100, before))
            program = case_defs.program(kind, params)
            for launch in entry["launches"]:
                if launch["chain_global_loads"] > CHAIN_LIMIT:
                    # Keyed by case and tok op: kernel numbering moves when
                    # launches are added or removed.
                    key = "%s %s" % (name, source_op(program, launch))
                    long_chains[key] = max(long_chains.get(key, 0), launch["chain_global_loads"])
                    if key not in reasons and key not in seen_failures:
                        seen_failures.add(key)
                        failures.append("%s: busiest thread chains %.0f dependent global loads (> %d) "
                                        "with no reason in %s" % (key, launch["chain_global_loads"],
                                                                  CHAIN_LIMIT, os.path.basename(args.ratchet)))
            status = "ok" if before is not None and now <= before * TOLERANCE else "FAIL"
            print("%-34s %11.2f us (committed %s) %s" % (
                name, now, "%.2f" % before if before is not None else "none", status), flush=True)
    if args.update:
        ratchet["cases"] = updated
        # Keep the reasons of chains that are still long; a new long chain
        # needs its reason written by hand.
        ratchet["long_chains"] = {k: v for k, v in reasons.items() if k in long_chains}
        with open(args.ratchet, "w") as f:
            json.dump(ratchet, f, indent=1, sort_keys=True)
            f.write("\n")
        print("updated %s" % args.ratchet)
        failures = [f for f in failures if "no reason" in f]
    for failure in failures:
        print("FAIL " + failure)
    print("%d cases, %d failures" % (len(updated), len(failures)))
    return 1 if failures else 0


GATHER = """func.func @gather(%idx: tensor<1x32768xi32>, %n: tensor<1xi32>, %rows: tensor<1x65536x4096xf16>)
    -> tensor<1x32768x4096xf16> {
  %g, %map = tok.compact %idx, %n gather(%rows)
      : (tensor<1x32768xi32>, tensor<1xi32>, tensor<1x65536x4096xf16>) -> (tensor<1x32768x4096xf16>, tensor<1x65536xi32>)
  return %g : tensor<1x32768x4096xf16>
}
"""


def gather_check(args):
    measured_us = 2 * 32768 * 4096 * 2 / 3.74e12 * 1e6
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "gather.mlir")
        with open(source, "w") as f:
            f.write(GATHER)
        report_path = os.path.join(tmp, "gather.json")
        subprocess.run([args.compiler, source, "--target=cuda", "--compile-to=gpu", "-o", os.devnull,
                        "--kernel-report=" + report_path], check=True)
        with open(report_path) as f:
            report = json.load(f)
    launch = max(report["entries"][0]["launches"], key=lambda l: l["bytes_read"] + l["bytes_written"])
    ratio = launch["estimate_us"] / measured_us
    print("gather launch %s: estimate %.1f us (%s bound, %.0f %% of its bytes in 16-byte accesses), "
          "measured %.1f us on an H200: %.2f" % (
              launch["kernel"], launch["estimate_us"], launch["bound"], launch["vector16_fraction"] * 100,
              measured_us, ratio))
    ok = 0.75 <= ratio <= 1.25
    print("within 25 %%: %s" % ("yes" if ok else "NO"))
    return 0 if ok else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--compiler", default=DEFAULT_COMPILER)
    sub = ap.add_subparsers(dest="command", required=True)
    e = sub.add_parser("estimate")
    e.add_argument("--device", default="h200")
    e.add_argument("--out")
    e.add_argument("--md")
    c = sub.add_parser("check")
    c.add_argument("--ratchet", default=RATCHET)
    c.add_argument("--update", action="store_true")
    sub.add_parser("gather-check")
    args = ap.parse_args(argv)
    return {"estimate": estimate, "check": check, "gather-check": gather_check}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
