#!/usr/bin/env python3
"""Winnow benchmark harness: Winnow's artifacts against PyTorch eager (and
torch.compile on CUDA), side by side in one run on one device, outputs checked
before anything is timed.

Two steps, because the GPU machine has no compiler:

  bench.py prepare --out BUNDLE       (here) write and compile every case's tok
                                      program for cpu,cuda; bundle the
                                      artifacts, winnow-run, its runtime
                                      library and these scripts
  bench.py run BUNDLE --device=cuda|cpu --out results/DEVICE-DATE.json
                                      (on the device) generate the inputs
                                      from seeds, check, time, report

See bench/README.md for the columns, the targets and the exact commands.
"""
import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import cases as case_defs  # noqa: E402

SCRIPTS = ["bench.py", "cases.py", "measure.py", "report.py"]
# The NumPy references some cases check against (cases.oracle).
ORACLES = ["verify_oracle.py", "tree_oracle.py", "kv_oracle.py", "dart_oracle.py", "chunk_oracle.py",
           "prune_oracle.py"]
REPO = os.path.dirname(HERE)


def die(message, code=2):
    print("bench.py: error: " + message, file=sys.stderr)
    sys.exit(code)


def select_cases(matrix, quick, only):
    chosen = [c for c in matrix if (c["quick"] or not quick) and (not only or re.search(only, c["name"]))]
    if not chosen:
        die("no case matches (--quick=%s, --only=%r)" % (quick, only))
    return chosen


# =================================================================== prepare

def git_description():
    try:
        commit = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def compile_program(compiler, source, artifact, targets, extra_flags):
    """Compiles one program; returns the wall seconds. Raises with the compiler's output on failure."""
    cmd = [compiler, source, "--target=" + targets, "-o", artifact] + list(extra_flags)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s%s" % (" ".join(cmd), proc.returncode, proc.stdout, proc.stderr))
    return seconds


def six_op_compile_seconds(compiler, workdir, repeats=3):
    """Median wall time of compiling SIX_OP_RECIPE for cpu + cuda (cubins sm_80, sm_90 + PTX)."""
    source = os.path.join(workdir, "six_op_recipe.mlir")
    with open(source, "w") as f:
        f.write(case_defs.SIX_OP_RECIPE)
    artifact = os.path.join(workdir, "six_op_recipe.wnn")
    times = [compile_program(compiler, source, artifact, "cpu,cuda", ["--cuda-cubin=sm_80,sm_90"])
             for _ in range(repeats)]
    return statistics.median(times), times


def bundle_runtime(winnow_run, bundle):
    """Copies winnow-run and the non-system libraries it loads (ldd) into BUNDLE/bin and BUNDLE/lib."""
    os.makedirs(os.path.join(bundle, "bin"), exist_ok=True)
    os.makedirs(os.path.join(bundle, "lib"), exist_ok=True)
    shutil.copy2(winnow_run, os.path.join(bundle, "bin", "winnow-run"))
    ldd = subprocess.run(["ldd", winnow_run], capture_output=True, text=True, check=True).stdout
    copied = []
    for line in ldd.splitlines():
        m = re.match(r"\s*(\S+) => (\S+)", line)
        if m and "not found" in line:
            die("winnow-run needs %s, which ldd cannot find" % m.group(1), 3)
        if m and not m.group(2).startswith(("/lib", "/usr/lib", "/lib64")):
            shutil.copy2(os.path.realpath(m.group(2)), os.path.join(bundle, "lib", m.group(1)))
            copied.append(m.group(1))
    if not copied:
        die("ldd found no Winnow runtime library next to winnow-run:\n" + ldd, 3)
    return copied


def bundle_size_bytes(bundle):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(bundle) for f in fs)


def prepare(args):
    bundle = args.out
    for sub in ("programs", "artifacts", "kernel-reports"):
        os.makedirs(os.path.join(bundle, sub), exist_ok=True)
    matrix = [dict(name=n, kind=k, params=p, quick=q) for n, k, p, q in case_defs.MATRIX]
    chosen = select_cases(matrix, args.quick, args.only)
    entries = []
    for index, case in enumerate(chosen):
        kind = case_defs.KINDS[case["kind"]]
        source = os.path.join(bundle, "programs", case["name"] + ".mlir")
        artifact = os.path.join(bundle, "artifacts", case["name"] + ".wnn")
        with open(source, "w") as f:
            f.write(case_defs.program(case["kind"], case["params"]))
        # The kernel model's estimate rides along with every cuda build
        # (docs/cuda.md, "Performance model"), to print beside the measured time.
        report = os.path.join(bundle, "kernel-reports", case["name"] + ".json")
        model_flags = ["--kernel-report=" + report] if "cuda" in args.targets.split(",") else []
        seconds = compile_program(args.compiler, source, artifact, args.targets, args.compile_flag + model_flags)
        model_estimate_us = None
        if model_flags:
            with open(report) as f:
                model_estimate_us = json.load(f)["entries"][0]["estimate_us"]
        entries.append(dict(
            case, family=kind.family, seed=args.seed + index,
            inputs=[dict(name=n, shape=list(s), dtype=t) for n, s, t in kind.inputs(case["params"])],
            outputs=[dict(name=n, shape=list(s), dtype=t) for n, s, t in kind.outputs(case["params"])],
            roofline_bytes=kind.roofline_bytes(case["params"]),
            program="programs/%s.mlir" % case["name"], artifact="artifacts/%s.wnn" % case["name"],
            artifact_bytes=os.path.getsize(artifact), artifact_sha256=sha256(artifact),
            compile_s=seconds, model_estimate_us=model_estimate_us,
            kernel_report=("kernel-reports/%s.json" % case["name"]) if model_flags else None))
        print("compiled %-34s %6.2f s  %7d bytes" % (case["name"], seconds, os.path.getsize(artifact)), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        six_op_s, six_op_all = six_op_compile_seconds(args.compiler, tmp)
    print("6-op recipe, cpu + cuda sm_80, sm_90: %.2f s (median of %s)" % (six_op_s, ", ".join("%.2f" % t for t in six_op_all)))
    libraries = bundle_runtime(args.winnow_run, bundle)
    for script in SCRIPTS:
        shutil.copy2(os.path.join(HERE, script), os.path.join(bundle, script))
    for script in ORACLES:
        shutil.copy2(os.path.join(REPO, "test", "oracle", script), os.path.join(bundle, script))
    manifest = dict(created=datetime.datetime.now().isoformat(timespec="seconds"), git=git_description(),
                    compiler=os.path.abspath(args.compiler), compiler_sha256=sha256(args.compiler),
                    targets=args.targets, compile_flags=args.compile_flag,
                    compile_time_6op_s=six_op_s, compile_time_6op_runs_s=six_op_all,
                    libraries=libraries, cases=entries)
    with open(os.path.join(bundle, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    size = bundle_size_bytes(bundle)
    print("bundle %s: %d cases, %.1f MiB" % (bundle, len(entries), size / 2 ** 20))
    if size > args.max_bundle_mib * 2 ** 20:
        die("the bundle is %.1f MiB, over --max-bundle-mib %d" % (size / 2 ** 20, args.max_bundle_mib), 3)
    return 0


# =================================================================== run

def winnow_command(ctx, case, device, input_paths, extra):
    threads = ["--threads=%d" % ctx["winnow_threads"]] if device == "cpu" else []
    return [ctx["winnow_run"], os.path.join(ctx["bundle"], case["artifact"]), "--device=" + device,
            "--print=none", "--raw-bf16"] + threads + ["--input=@" + p for p in input_paths] + extra


def run_winnow(ctx, case, device, input_paths, extra, timeout_s):
    proc = subprocess.run(winnow_command(ctx, case, device, input_paths, extra), capture_output=True,
                          text=True, env=ctx["env"], timeout=timeout_s)
    if proc.returncode != 0:
        raise RuntimeError("winnow-run failed (%d): %s" % (proc.returncode, (proc.stderr or proc.stdout).strip()))
    return proc.stdout


def write_inputs(case, values, workdir):
    paths = []
    for spec in case["inputs"]:
        path = os.path.join(workdir, "%s.npy" % spec["name"])
        np.save(path, values[spec["name"]])
        paths.append(path)
    return paths


def read_outputs(case, outdir):
    return {spec["name"]: np.load(os.path.join(outdir, spec["name"] + ".npy")) for spec in case["outputs"]}


def to_torch(values, case, device):
    import torch
    tensors = {}
    for spec in case["inputs"]:
        a = values[spec["name"]]
        t = torch.from_numpy(a.view(np.int16)).view(torch.bfloat16) if spec["dtype"] == "bf16" else torch.from_numpy(a)
        tensors[spec["name"]] = t.to(device)
    return tensors


def as_numpy_list(outputs):
    import torch
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    return [o.float().cpu().numpy() if o.is_floating_point() else o.cpu().numpy() for o in outputs]


def same_results(a, b):
    """torch.compile against eager: integers exactly, floats within bf16 tolerance."""
    a, b = as_numpy_list(a), as_numpy_list(b)
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x.shape != y.shape:
            return False
        if np.issubdtype(x.dtype, np.floating):
            if not np.allclose(x, y, rtol=1e-2, atol=1e-2, equal_nan=True):
                return False
        elif not np.array_equal(x, y):
            return False
    return True


def eager_arguments(case, kind, tensors, values):
    hook = getattr(kind, "eager_inputs", None)
    if hook is not None:
        tensors = hook(tensors, values)
    return [tensors[spec["name"]] for spec in case["inputs"]]


def winnow_iterations(estimate_us, iters, budget_s):
    """Fewer calls for slow cases, so one case cannot eat the device budget."""
    if estimate_us <= 0:
        return iters
    return int(max(3, min(iters, budget_s * 1e6 / estimate_us)))


def time_eager(ctx, fn, record):
    """Times fn under each eager setting of this device (cold/warm L2, direct call or CUDA-graph replay on
    CUDA; thread counts on the CPU). A function torch cannot capture as a graph gets a note, not a time."""
    import torch
    import measure
    for key, label, threads, flushed, graph, _ in ctx["eager_settings"]:
        if threads:
            torch.set_num_threads(threads)
        try:
            record[key + "_us"] = measure.median_us(fn, ctx["device"], ctx["iters"],
                                                    flush=ctx["flush"] if flushed else None, graph=graph)
        except RuntimeError as error:
            if not graph:
                raise
            record[key + "_us"] = None
            record[key + "_note"] = "not capturable as a CUDA graph: %s" % str(error).splitlines()[0][:200]
            measure.synchronize(ctx["device"])
    if ctx["device"] == "cpu":
        torch.set_num_threads(ctx["winnow_threads"])


def time_torch_compile(ctx, case, fn, args, eager_result, record):
    import torch
    import measure
    if not ctx["torch_compile"]:
        return
    if ctx["compile_skip"] and re.search(ctx["compile_skip"], case["name"]):
        record["torch_compile_note"] = "skipped (--compile-skip %r)" % ctx["compile_skip"]
        return
    if ctx["compile_spent_s"] >= ctx["compile_budget_s"]:
        record["torch_compile_note"] = "skipped: --compile-budget-s %.0f spent" % ctx["compile_budget_s"]
        return
    torch._dynamo.reset()
    start = time.perf_counter()
    try:
        compiled = torch.compile(fn)
        with torch.no_grad():
            result = compiled(*args)
        measure.synchronize(ctx["device"])
    except Exception as error:  # record and go on: a baseline failing is a result
        record["torch_compile_note"] = "failed: %s" % repr(error)[:300]
        return
    finally:
        ctx["compile_spent_s"] += time.perf_counter() - start
    record["torch_compile_s"] = time.perf_counter() - start
    if not same_results(result, eager_result):
        record["torch_compile_note"] = "outputs differ from eager: not timed"
        return
    with torch.no_grad():
        record["torch_compile_us"] = measure.median_us(lambda: compiled(*args), ctx["device"], ctx["iters"],
                                                       flush=ctx["flush"])


def derive_columns(ctx, record):
    """Roofline and bandwidth columns; each eager setting's speedup against Winnow timed the same way."""
    import report
    bw = ctx["bandwidth"]
    record["roofline_us"] = record["roofline_bytes"] / bw * 1e6
    if record.get("winnow_us") is None:
        return
    us = record["winnow_us"]
    record["effective_gbs"] = record["roofline_bytes"] / (us * 1e-6) / 1e9
    record["fraction_of_copy_bw"] = record["roofline_bytes"] / (us * 1e-6) / bw
    record["within_roofline_target"] = report.within_target(us, record["roofline_us"])
    conditions = record.get("winnow_conditions") or {}
    for key, _, _, _, _, condition in ctx["eager_settings"]:
        winnow = conditions.get(condition, us if condition == "host clock" else None)
        if record.get(key + "_us") is not None and winnow:
            record["speedup_vs_" + key] = record[key + "_us"] / winnow
    if record.get("torch_compile_us") is not None:
        record["speedup_vs_torch_compile"] = record["torch_compile_us"] / conditions.get("cold L2, direct call", us)


def model_launches(ctx, case):
    """The kernel report's launches of this case (bundled at prepare), or None."""
    if not case.get("kernel_report"):
        return None
    with open(os.path.join(ctx["bundle"], case["kernel_report"])) as f:
        entry = json.load(f)["entries"][0]
    return [dict(kernel=l["kernel"].split("::")[-1], grid=l["grid"], block=l["block"],
                 estimate_us=l["estimate_us"], bound=l["bound"]) for l in entry["launches"]]


def run_case(ctx, case):
    import torch
    kind = case_defs.KINDS[case["kind"]]
    p = case["params"]
    record = dict(case=case["name"], kind=case["kind"], family=case["family"], params=p, seed=case["seed"],
                  roofline_bytes=case["roofline_bytes"], winnow_compile_s=case["compile_s"],
                  model_estimate_us=case.get("model_estimate_us"))
    start = time.perf_counter()
    workdir = tempfile.mkdtemp(prefix=case["name"] + ".", dir=ctx["workdir"])
    try:
        values = kind.generate(p, np.random.default_rng(case["seed"]))
        paths = write_inputs(case, values, workdir)
        outdir = os.path.join(workdir, "out")
        # 1. Winnow's outputs (one call; its --bench=1 is only an estimate for step 3).
        stdout = run_winnow(ctx, case, ctx["device"], paths, ["--output-dir=" + outdir, "--bench=1"],
                            ctx["case_timeout_s"])
        estimate_us = ctx["parse_bench"](stdout)["median_us"]
        winnow = read_outputs(case, outdir)
        # 2. The eager baseline's outputs, and the check.
        tensors = to_torch(values, case, ctx["device"])
        args = eager_arguments(case, kind, tensors, values)
        fn = kind.eager(p)
        with torch.no_grad():
            eager_result = fn(*args)
        ok, message = kind.check(p, values, winnow, as_numpy_list(eager_result))
        record.update(outputs_agree=ok, check_message=message)
        if not ok:
            print("%-34s OUTPUTS DIFFER: %s (not timed)" % (case["name"], message), flush=True)
            return record
        if ctx["check_only"]:
            print("%-34s agree (%.1f s)" % (case["name"], time.perf_counter() - start), flush=True)
            return record
        # 3. Timing, only after the check passed.
        # On CUDA winnow-run times four conditions: the budget is shared.
        conditions = 4 if ctx["device"] == "cuda" else 1
        calls = winnow_iterations(estimate_us, ctx["iters"], ctx["winnow_budget_s"] / conditions)
        bench = ctx["parse_bench"](run_winnow(ctx, case, ctx["device"], paths, ["--bench=%d" % calls],
                                              ctx["case_timeout_s"]))
        # winnow_us: the first line, cold L2 + graph replay on CUDA (the targets' condition).
        record.update(winnow_us=bench["median_us"], winnow_min_us=bench["min_us"], winnow_calls=bench["calls"],
                      winnow_timing=bench["note"] or "host clock, in-process calls",
                      winnow_conditions={k: v["median_us"] for k, v in bench["conditions"].items()})
        if ctx["device"] == "cuda":
            # Per-launch GPU time, beside the model's per-launch estimate (the model-vs-measured table).
            stdout = run_winnow(ctx, case, ctx["device"], paths, ["--bench-launches=%d" % min(calls, 20)],
                                ctx["case_timeout_s"])
            record["winnow_launches"] = ctx["parse_launches"](stdout)
            record["model_launches"] = model_launches(ctx, case)
        with torch.no_grad():
            time_eager(ctx, lambda: fn(*args), record)
        time_torch_compile(ctx, case, fn, args, eager_result, record)
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as error:
        record.update(outputs_agree=record.get("outputs_agree", False), check_message=str(error)[:500])
        print("%-34s ERROR: %s" % (case["name"], str(error)[:500]), flush=True)
        return record
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if ctx["device"] == "cuda":
            torch.cuda.empty_cache()
        record["case_wall_s"] = time.perf_counter() - start
    derive_columns(ctx, record)
    print_case(ctx, record)
    return record


def run_cases(ctx, chosen, time_budget_s):
    """Runs the cases in order; once time_budget_s is spent, the rest are recorded as skipped."""
    start = time.perf_counter()
    records = []
    for case in chosen:
        if time_budget_s and time.perf_counter() - start > time_budget_s:
            records.append(dict(case=case["name"], kind=case["kind"], family=case["family"], params=case["params"],
                                seed=case["seed"], roofline_bytes=case["roofline_bytes"],
                                skipped="--time-budget-s %.0f spent" % time_budget_s))
            print("%-34s skipped: time budget spent" % case["name"], flush=True)
            continue
        records.append(run_case(ctx, case))
    return records


def print_case(ctx, r):
    eager = "  ".join("%s %9s" % (key.replace("torch_", ""), report_fmt(r.get(key + "_us")))
                      for key, _, _, _, _, _ in ctx["eager_settings"])
    compiled = " compile %9.1f" % r["torch_compile_us"] if r.get("torch_compile_us") is not None else ""
    model = " model %9.1f" % r["model_estimate_us"] if r.get("model_estimate_us") is not None else ""
    speedup = r.get("speedup_vs_" + ctx["eager_settings"][0][0])
    print("%-34s winnow %9.1f us%s  %s%s  roofline %8.1f  x%s  %.0fs" % (
        r["case"], r["winnow_us"], model, eager, compiled, r["roofline_us"],
        "%.2f" % speedup if speedup is not None else "–", r["case_wall_s"]), flush=True)


def report_fmt(value):
    return "%.1f" % value if value is not None else "–"


def eager_settings(device, winnow_threads):
    """(key, label, torch threads, L2 flushed, CUDA-graph replay, Winnow condition compared with) per eager
    timing. On CUDA the first is the targets' condition: cold L2, graph replay, as Winnow's first line."""
    if device == "cuda":
        return [("torch_eager_graph", "eager, cold L2, graph", None, True, True, "cold L2, graph replay"),
                ("torch_eager", "eager, cold L2", None, True, False, "cold L2, direct call"),
                ("torch_eager_warm", "eager, warm L2", None, False, False, "warm L2, direct call")]
    nproc = os.cpu_count() or 1
    settings = [("torch_eager_%dt" % winnow_threads, "eager %d thread%s" % (winnow_threads, "s" * (winnow_threads > 1)),
                 winnow_threads, False, False, "host clock")]
    if nproc != winnow_threads:
        settings.append(("torch_eager_%dt" % nproc, "eager %d threads" % nproc, nproc, False, False, "host clock"))
    return settings


def build_context(args, bundle_manifest):
    import torch
    import measure
    device = args.device
    env = dict(os.environ)
    lib = os.path.join(args.bundle, "lib")
    env["LD_LIBRARY_PATH"] = lib + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    ctx = dict(bundle=args.bundle, device=device, env=env, iters=args.iters,
               winnow_run=os.path.join(args.bundle, "bin", "winnow-run"),
               workdir=args.workdir or tempfile.gettempdir(), case_timeout_s=args.case_timeout_s,
               winnow_budget_s=args.winnow_budget_s, parse_bench=measure.parse_winnow_bench,
               parse_launches=measure.parse_winnow_launches,
               winnow_threads=args.winnow_threads, compile_budget_s=args.compile_budget_s,
               compile_skip=args.compile_skip, compile_spent_s=0.0, check_only=args.check_only)
    ctx["eager_settings"] = eager_settings(device, args.winnow_threads)
    has_compile = hasattr(torch, "compile")
    ctx["torch_compile"] = args.torch_compile == "on" or (args.torch_compile == "auto" and has_compile and device == "cuda")
    if ctx["torch_compile"]:
        import torch._dynamo
        for name in ("cache_size_limit", "recompile_limit"):
            if hasattr(torch._dynamo.config, name):
                setattr(torch._dynamo.config, name, 64)
    ctx["flush"] = measure.L2Flusher(device)
    return ctx


def run_notes(ctx):
    notes = []
    if ctx["device"] == "cuda":
        notes.append("Winnow: `winnow-run --bench=N`, CUDA events around each call on device tensors, in four "
                     "conditions: L2 flushed (a 2×L2 write before each call, untimed) or warm, and the call captured "
                     "once as a CUDA graph and replayed, or called directly. `Winnow µs` is cold L2 + graph replay, "
                     "the targets' condition. PyTorch eager is timed the same way: `eager, cold L2, graph` (captured "
                     "with torch.cuda.graph; cases torch cannot capture have a note), `eager, cold L2` (direct "
                     "calls) and `eager, warm L2`; each speedup divides by Winnow's time in the same condition. "
                     "`torch.compile` is cold L2, direct calls, compared with Winnow's cold-L2 direct call. "
                     "Cases whose bytes fit in L2 can beat the HBM roofline warm.")
    else:
        notes.append("Winnow: `winnow-run --threads=%d --bench=N`, host clock around in-process calls; its parallel "
                     "loops (batch rows, heads, tokens) run on the runtime's thread pool, the calling thread "
                     "included. PyTorch eager runs with the same number of threads (`torch.set_num_threads`)."
                     % ctx["winnow_threads"])
    if not ctx["torch_compile"]:
        import torch
        notes.append("torch.compile: not run (%s)." % (
            "torch %s has no torch.compile" % torch.__version__ if not hasattr(torch, "compile")
            else "--torch-compile=off or not a CUDA run"))
    return notes


def output_paths(out):
    stem = out[:-5] if out.endswith(".json") else out
    return stem + ".json", stem + ".md", stem + ".png", stem + ".plot.json"


def run(args):
    import measure
    if args.device == "cuda":
        problem = measure.cuda_driver_problem()
        if problem:
            die(problem + "; nothing was run", 2)
    manifest_path = os.path.join(args.bundle, "cases.json")
    if not os.path.isfile(manifest_path):
        die("%s is not a bundle (no cases.json); make one with `bench.py prepare --out %s`" % (args.bundle, args.bundle), 3)
    with open(manifest_path) as f:
        manifest = json.load(f)
    import torch
    import report
    ctx = build_context(args, manifest)
    if args.device == "cpu":
        torch.set_num_threads(args.winnow_threads)
    chosen = select_cases(manifest["cases"], args.quick, args.only)
    env = measure.describe_device(args.device)
    ctx["bandwidth"] = measure.copy_bandwidth(args.device) if args.device == "cuda" else \
        max(bandwidth_at_threads(t) for t in {1, os.cpu_count() or 1})
    bandwidth_note = ("torch copy_ of 1 GiB, device to device, CUDA events" if args.device == "cuda" else
                      "torch copy_ of 256 MiB with 1 and %d threads, the larger" % (os.cpu_count() or 1))
    print("# %s (%s), torch %s, copy bandwidth %.1f GB/s, %d cases" % (
        env["name"], args.device, torch.__version__, ctx["bandwidth"] / 1e9, len(chosen)), flush=True)
    records = run_cases(ctx, chosen, args.time_budget_s)
    for r in records:
        r.setdefault("roofline_us", r["roofline_bytes"] / ctx["bandwidth"] * 1e6)
    eager_cols = [(key, label) for key, label, _, _, _, _ in ctx["eager_settings"]]
    result = dict(date=datetime.date.today().isoformat(), device=args.device, environment=env,
                  bundle=dict(path=os.path.abspath(args.bundle), git=manifest["git"], created=manifest["created"]),
                  copy_bandwidth_gbs=ctx["bandwidth"] / 1e9, copy_bandwidth_method=bandwidth_note,
                  compile_time_6op_s=manifest.get("compile_time_6op_s"),
                  method="Outputs were checked against the reference before anything was timed; times are medians "
                         "(%d calls, fewer for cases slower than %.0f s in total)." % (args.iters, args.winnow_budget_s),
                  notes=run_notes(ctx) + args.note, eager_columns=eager_cols, command=" ".join(sys.argv),
                  summary=report.summarize(records, [k for k, _ in eager_cols]), cases=records,
                  model_vs_measured=report.model_vs_measured(records))
    env["load_average_at_end"] = list(os.getloadavg())
    json_path, md_path, png_path, plot_data_path = output_paths(args.out)
    os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
    with open(json_path, "w") as f:
        json.dump(result, f, indent=1)
    with open(md_path, "w") as f:
        f.write(report.markdown(result))
    skipped = report.roofline_plot(result, png_path, plot_data_path)
    if skipped:
        print("plot: " + skipped)
    else:
        os.remove(plot_data_path)
    print_summary(result, json_path, md_path, None if skipped else png_path)
    return 1 if any(r.get("outputs_agree") is False for r in records) else 0


def bandwidth_at_threads(threads):
    import torch
    import measure
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return measure.copy_bandwidth("cpu", iters=10)
    finally:
        torch.set_num_threads(previous)


def print_summary(result, *paths):
    s = result["summary"]
    print("# %d cases, %d agreed, %d timed; within roofline target: %d" % (
        s["cases"], s["agreed"], s["timed"], s["within_roofline_target"]))
    for key, label in result["eager_columns"]:
        v = s.get("median_speedup_vs_" + key)
        print("# median speedup vs %s: %s" % (label, "%.2fx" % v if v else "–"))
    v = s["median_speedup_vs_torch_compile"]
    print("# median speedup vs torch.compile: %s" % ("%.2fx" % v if v else "– (not run)"))
    print("# wrote " + ", ".join(p for p in paths if p))


# =================================================================== CLI

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    pre = sub.add_parser("prepare", help="compile the matrix into a bundle (on the build machine)")
    pre.add_argument("--out", required=True, help="bundle directory to write (e.g. build-bench)")
    pre.add_argument("--compiler", default=os.path.join(REPO, "build", "bin", "winnow-compile"))
    pre.add_argument("--winnow-run", default=os.path.join(REPO, "build", "bin", "winnow-run"))
    pre.add_argument("--targets", default="cpu,cuda", help="winnow-compile --target (default cpu,cuda)")
    pre.add_argument("--compile-flag", action="append", default=[], help="extra winnow-compile flag (repeatable)")
    pre.add_argument("--seed", type=int, default=1000, help="seed of the first case; case i uses seed + i")
    pre.add_argument("--quick", action="store_true", help="only the --quick subset")
    pre.add_argument("--only", help="only cases whose name matches this regex")
    pre.add_argument("--max-bundle-mib", type=int, default=60)
    r = sub.add_parser("run", help="check and time a bundle on a device")
    r.add_argument("bundle")
    r.add_argument("--device", choices=["cuda", "cpu"], required=True)
    r.add_argument("--out", required=True, help="result JSON path; .md and .png are written beside it")
    r.add_argument("--quick", action="store_true", help="only the --quick subset")
    r.add_argument("--only", help="only cases whose name matches this regex")
    r.add_argument("--iters", type=int, default=50, help="timed calls per measurement (median)")
    r.add_argument("--winnow-threads", type=int, default=1,
                   help="Winnow's CPU thread count; torch is matched to it on the CPU (default 1)")
    r.add_argument("--torch-compile", choices=["auto", "on", "off"], default="auto",
                   help="auto: on CUDA when torch has torch.compile")
    r.add_argument("--compile-budget-s", type=float, default=150.0,
                   help="stop torch.compile-ing further cases after this many seconds of compiling")
    r.add_argument("--compile-skip", default=r"^merge\.tome",
                   help="regex of cases not to torch.compile (ToMe took 344 s to compile on an H200)")
    r.add_argument("--winnow-budget-s", type=float, default=5.0, help="time budget of one Winnow timing run")
    r.add_argument("--case-timeout-s", type=float, default=180.0, help="timeout of one winnow-run process")
    r.add_argument("--time-budget-s", type=float, default=0,
                   help="skip the remaining cases once this many seconds have passed (0: no limit)")
    r.add_argument("--check-only", action="store_true",
                   help="generate, run and check every case, time nothing (a quick correctness pass)")
    r.add_argument("--note", action="append", default=[], help="a line to add to the report's notes (repeatable)")
    r.add_argument("--workdir", help="where generated inputs go (removed after each case)")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    return prepare(args) if args.command == "prepare" else run(args)


if __name__ == "__main__":
    sys.exit(main())
