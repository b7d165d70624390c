#!/usr/bin/env python3
"""CPU benchmark: Winnow artifacts against PyTorch CPU eager, side by side.

For each case it writes a tok program, compiles it with winnow-compile,
checks that Winnow's outputs agree with the PyTorch reference on the same
inputs, then times both in one run on this machine: PyTorch with
time.perf_counter around each call (median), Winnow with `winnow-run
--bench N` (in-process calls, median). Roofline = minimal bytes / the copy
bandwidth measured in the same run. Writes JSON and a Markdown table.

  /usr/bin/python3 bench/cpu_bench.py --compile build/bin/winnow-compile \\
      --run build/bin/winnow-run --out bench/results/cpu-DATE.json [--quick]

Use Debian's /usr/bin/python3 (numpy + torch). Speed is reported, never
asserted: this is a benchmark, not a test.
"""
import argparse, datetime, json, math, os, platform, re, statistics, subprocess, sys, time

import numpy as np
import torch
import torch.nn.functional as F


def median_us(fn, iters, warm=2):
    for _ in range(warm):
        fn()
    ts = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1e6)
    return statistics.median(ts)


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def copy_bandwidth(iters):
    """Read+write bytes/s of a large torch copy (the roofline's bandwidth)."""
    src = torch.empty(64 << 20, dtype=torch.uint8)
    dst = torch.empty_like(src)
    us = median_us(lambda: dst.copy_(src), iters)
    return 2 * src.numel() / (us * 1e-6)


# --------------------------------------------------------------- the cases
# Each case: name, params, tok program text, numpy inputs (in argument
# order), torch reference returning the outputs to compare, a comparison,
# and the minimal bytes moved.

def case_prune_scores(rng, B, N, D, k):
    hidden = rng.standard_normal((B, N, D), dtype=np.float32)
    scores = rng.standard_normal((B, N), dtype=np.float32)
    mlir = f"""
func.func @bench(%s: tensor<{B}x{N}xf32>, %h: tensor<{B}x{N}x{D}xf32>)
    -> (tensor<{B}x{k}xi32>, tensor<{B}xi32>, tensor<{B}x{k}x{D}xf32>) {{
  %i, %n = tok.select #tok.top_k<{k}> of %s : (tensor<{B}x{N}xf32>) -> (tensor<{B}x{k}xi32>, tensor<{B}xi32>)
  %g, %m = tok.compact %i, %n gather(%h) : (tensor<{B}x{k}xi32>, tensor<{B}xi32>, tensor<{B}x{N}x{D}xf32>) -> (tensor<{B}x{k}x{D}xf32>, tensor<{B}x{N}xi32>)
  return %i, %n, %g : tensor<{B}x{k}xi32>, tensor<{B}xi32>, tensor<{B}x{k}x{D}xf32>
}}"""
    th, ts = torch.from_numpy(hidden), torch.from_numpy(scores)

    def ref():
        idx = ts.topk(k, dim=1).indices.sort(dim=1).values
        return idx, hidden_gather(th, idx)

    def check(outs, r):
        return np.array_equal(outs[0], r[0].numpy()) and np.array_equal(outs[2], r[1].numpy())

    byt = B * N * 4 + 2 * B * k * D * 4 + B * k * 4
    return mlir, [scores, hidden], ref, check, byt


def hidden_gather(h, idx):
    return h.gather(1, idx.unsqueeze(-1).expand(-1, -1, h.shape[-1]))


def case_prune_qk(rng, B, H, N, d, k):
    D = H * d
    q = rng.standard_normal((B, H, 1, d), dtype=np.float32)
    keys = rng.standard_normal((B, H, N, d), dtype=np.float32)
    hidden = rng.standard_normal((B, N, D), dtype=np.float32)
    mlir = f"""
func.func @bench(%q: tensor<{B}x{H}x1x{d}xf32>, %k: tensor<{B}x{H}x{N}x{d}xf32>, %h: tensor<{B}x{N}x{D}xf32>)
    -> (tensor<{B}x{N}xf32>, tensor<{B}x{k}xi32>, tensor<{B}x{k}x{D}xf32>) {{
  %s = tok.attn_score %q, %k : (tensor<{B}x{H}x1x{d}xf32>, tensor<{B}x{H}x{N}x{d}xf32>) -> tensor<{B}x{N}xf32>
  %i, %n = tok.select #tok.top_k<{k}> of %s : (tensor<{B}x{N}xf32>) -> (tensor<{B}x{k}xi32>, tensor<{B}xi32>)
  %g, %m = tok.compact %i, %n gather(%h) : (tensor<{B}x{k}xi32>, tensor<{B}xi32>, tensor<{B}x{N}x{D}xf32>) -> (tensor<{B}x{k}x{D}xf32>, tensor<{B}x{N}xi32>)
  return %s, %i, %g : tensor<{B}x{N}xf32>, tensor<{B}x{k}xi32>, tensor<{B}x{k}x{D}xf32>
}}"""
    tq, tk, th = (torch.from_numpy(a) for a in (q, keys, hidden))

    def ref():
        logits = torch.einsum("bhd,bhnd->bhn", tq[:, :, 0], tk) / math.sqrt(d)
        scores = logits.softmax(-1).mean(1)
        idx = scores.topk(k, dim=1).indices.sort(dim=1).values
        return scores, idx, hidden_gather(th, idx)

    def check(outs, r):
        # Scores within fp32 tolerance; the selection on Winnow's own scores.
        if not np.allclose(outs[0], r[0].numpy(), rtol=1e-4, atol=1e-7):
            return False
        own = torch.from_numpy(outs[0]).topk(k, dim=1).indices.sort(dim=1).values
        return np.array_equal(outs[1], own.numpy())

    byt = B * H * N * d * 4 + B * H * d * 4 + 2 * B * k * D * 4 + B * N * 4
    return mlir, [q, keys, hidden], ref, check, byt


def case_tome(rng, B, N, D, C, r):
    x = rng.standard_normal((B, N, D), dtype=np.float32)
    metric = rng.standard_normal((B, N, C), dtype=np.float32)
    out_n = N - r
    mlir = f"""
func.func @bench(%m: tensor<{B}x{N}x{C}xf32>, %x: tensor<{B}x{N}x{D}xf32>)
    -> (tensor<{B}x{out_n}x{D}xf32>, tensor<{B}xi32>) {{
  %p, %n = tok.bipartite_plan %m {{r = {r}}} : (tensor<{B}x{N}x{C}xf32>) -> (tensor<{B}x{N}xi32>, tensor<{B}xi32>)
  %x2, %s2 = tok.scatter_merge %p, %n gather(%x) {{reduction = #tok<merge_reduction mean>}}
      : (tensor<{B}x{N}xi32>, tensor<{B}xi32>, tensor<{B}x{N}x{D}xf32>) -> (tensor<{B}x{out_n}x{D}xf32>, tensor<{B}x{out_n}xf32>)
  return %x2, %n : tensor<{B}x{out_n}x{D}xf32>, tensor<{B}xi32>
}}"""
    tx, tm = torch.from_numpy(x), torch.from_numpy(metric)

    def ref():  # ToMe's merge (mean, no class token), as anchors.py
        m = tm / tm.norm(dim=-1, keepdim=True)
        a, b = m[:, ::2], m[:, 1::2]
        scores = a @ b.transpose(-1, -2)
        node_max, node_idx = scores.max(dim=-1)
        edge_idx = node_max.argsort(dim=-1, descending=True)[..., None]
        unm_idx, src_idx = edge_idx[:, r:], edge_idx[:, :r]
        dst_idx = node_idx[..., None].gather(1, src_idx)
        xa, xb = tx[:, ::2], tx[:, 1::2]
        Bb, Na, Dd = xa.shape
        unm = xa.gather(1, unm_idx.expand(Bb, Na - r, Dd))
        src = xa.gather(1, src_idx.expand(Bb, r, Dd))
        xb = xb.scatter_reduce(1, dst_idx.expand(Bb, r, Dd), src, reduce="mean")
        return torch.cat([unm, xb], dim=1)

    def check(outs, rr):
        # Two unmerged A tokens whose best similarities tie to fp32 rounding
        # may come out in either order (the reference's argsort is unstable
        # too): compare each image's rows as a set.
        got, want = outs[0], rr.numpy()
        for b in range(B):
            g = got[b][np.lexsort(got[b].T[::-1])]
            w = want[b][np.lexsort(want[b].T[::-1])]
            if not np.allclose(g, w, rtol=1e-5, atol=1e-5):
                return False
        return True

    byt = B * N * C * 4 + B * N * D * 4 + B * out_n * D * 4
    return mlir, [metric, x], ref, check, byt


def case_dechunk(rng, B, L, D, rate):
    b = rng.random((B, L)) < rate
    b[:, 0] = True
    M = int(b.sum(1).max())
    z = rng.standard_normal((B, L, D), dtype=np.float32)
    p = rng.uniform(0.5, 1.0, (B, L)).astype(np.float32)
    counts = b.sum(1).astype(np.int32)
    mlir = f"""
func.func @bench(%z: tensor<{B}x{L}x{D}xf32>, %p: tensor<{B}x{L}xf32>, %n: tensor<{B}xi32>, %b: tensor<{B}x{L}xi1>)
    -> tensor<{B}x{L}x{D}xf32> {{
  %zbar = tok.ema_scan %z, %p, %n {{epsilon = 0.0}} : (tensor<{B}x{L}x{D}xf32>, tensor<{B}x{L}xf32>, tensor<{B}xi32>) -> tensor<{B}x{L}x{D}xf32>
  %out = tok.expand %zbar, %b : (tensor<{B}x{L}x{D}xf32>, tensor<{B}x{L}xi1>) -> tensor<{B}x{L}x{D}xf32>
  return %out : tensor<{B}x{L}x{D}xf32>
}}"""
    tz, tp, tb = torch.from_numpy(z[:, :M]), torch.from_numpy(p[:, :M]), torch.from_numpy(b)

    def ref():  # anchors.py's vectorised scan (log-space cumulative form)
        a = (1 - tp).clamp_min(1e-6)
        la = torch.log(a).cumsum(1)
        w = tp * torch.exp(-la)
        acc = (w[..., None] * tz).cumsum(1) * torch.exp(la)[..., None]
        idx = (tb.long().cumsum(1) - 1).clamp(min=0)
        return acc.gather(1, idx.unsqueeze(-1).expand(-1, -1, D))

    def check(outs, rr):
        # The timed log-space scan (anchors.py's) over- and underflows on
        # long chunk sequences, so agreement is checked against the exact
        # sequential recurrence in float64 instead.
        exact = np.zeros((B, M, D))
        for bi in range(B):
            prev = np.zeros(D)
            for j in range(int(counts[bi])):
                prev = p[bi, j] * z[bi, j].astype(np.float64) + (1 - p[bi, j]) * prev
                exact[bi, j] = prev
        idx = np.maximum(np.cumsum(b, axis=1) - 1, 0)
        want = np.take_along_axis(exact, idx[..., None], axis=1)
        return np.allclose(outs, want, rtol=1e-4, atol=1e-5)

    byt = B * M * D * 4 * 2 + B * L * D * 4 + B * L
    return mlir, [z, p, counts, b], ref, check, byt


def case_greedy_verify(rng, B, K, V):
    logits = rng.standard_normal((B, K + 1, V), dtype=np.float32)
    am = logits.argmax(-1)
    drafts = am[:, :K].astype(np.int32).copy()
    # Mismatch at a random position per request so acceptance lengths vary.
    pos = rng.integers(0, K + 1, B)
    for i in range(B):
        if pos[i] < K:
            drafts[i, pos[i]] = (drafts[i, pos[i]] + 1) % V
    nd = np.full(B, K, np.int32)
    mlir = f"""
func.func @bench(%l: tensor<{B}x{K+1}x{V}xf32>, %d: tensor<{B}x{K}xi32>, %n: tensor<{B}xi32>)
    -> (tensor<{B}x{K+1}xi32>, tensor<{B}xi32>) {{
  %t, %a, %e = tok.spec_verify %l, %d, %n {{mode = #tok<verify_mode greedy>}}
      : (tensor<{B}x{K+1}x{V}xf32>, tensor<{B}x{K}xi32>, tensor<{B}xi32>) -> (tensor<{B}x{K+1}xi32>, tensor<{B}xi32>, tensor<{B}xi32>)
  return %t, %a : tensor<{B}x{K+1}xi32>, tensor<{B}xi32>
}}"""
    tl, td = torch.from_numpy(logits), torch.from_numpy(drafts).long()

    def ref():  # anchors.py's greedy verification
        a = tl.argmax(-1)
        match = (a[:, :K] == td).int()
        n_acc = match.cumprod(1).sum(1)
        nxt = a.gather(1, n_acc[:, None]).squeeze(1)
        return n_acc, nxt

    def check(outs, r):
        n_acc = outs[1]
        nxt = outs[0][np.arange(B), n_acc]
        return np.array_equal(n_acc, r[0].numpy()) and np.array_equal(nxt, r[1].numpy())

    byt = B * (K + 1) * V * 4 + B * K * 4 + B * (K + 1) * 4
    return mlir, [logits, drafts, nd], ref, check, byt


def case_h2o(rng, B, H, T, d, sinks, window, heavy):
    keys = rng.standard_normal((B, H, T, d), dtype=np.float32)
    vals = rng.standard_normal((B, H, T, d), dtype=np.float32)
    acc = rng.random((B, H, T), dtype=np.float32)
    lengths = np.full(B, T, np.int32)
    C = sinks + window + heavy
    mlir = f"""
func.func @bench(%len: tensor<{B}xi32>, %acc: tensor<{B}x{H}x{T}xf32>, %k: tensor<{B}x{H}x{T}x{d}xf32>, %v: tensor<{B}x{H}x{T}x{d}xf32>)
    -> (tensor<{B}x{H}x{C}x{d}xf32>, tensor<{B}x{H}x{C}x{d}xf32>) {{
  %s, %n = tok.kv_select %len scores %acc {{sinks = {sinks}, window = {window}, heavy = {heavy}}}
      : (tensor<{B}xi32>, tensor<{B}x{H}x{T}xf32>) -> (tensor<{B}x{H}x{C}xi32>, tensor<{B}x{H}xi32>)
  %k2, %v2, %pos = tok.kv_gather %s, %n gather(%k, %v)
      : (tensor<{B}x{H}x{C}xi32>, tensor<{B}x{H}xi32>, tensor<{B}x{H}x{T}x{d}xf32>, tensor<{B}x{H}x{T}x{d}xf32>)
      -> (tensor<{B}x{H}x{C}x{d}xf32>, tensor<{B}x{H}x{C}x{d}xf32>, tensor<{B}x{H}x{C}xi32>)
  return %k2, %v2 : tensor<{B}x{H}x{C}x{d}xf32>, tensor<{B}x{H}x{C}x{d}xf32>
}}"""
    tk, tv, ta = (torch.from_numpy(a) for a in (keys, vals, acc))

    def ref():  # anchors.py's kv_evict
        mid = ta[:, :, sinks:T - window]
        hh = mid.topk(heavy, dim=-1).indices + sinks
        sink_idx = torch.arange(sinks).expand(B, H, sinks)
        win_idx = torch.arange(T - window, T).expand(B, H, window)
        idx = torch.cat([sink_idx, hh.sort(-1).values, win_idx], dim=-1)
        g = idx[..., None].expand(-1, -1, -1, d)
        return tk.gather(2, g), tv.gather(2, g)

    def check(outs, r):
        return np.array_equal(outs[0], r[0].numpy()) and np.array_equal(outs[1], r[1].numpy())

    byt = B * H * T * 4 + 2 * 2 * B * H * C * d * 4
    return mlir, [lengths, acc, keys, vals], ref, check, byt


def all_cases(quick):
    if quick:
        return [
            ("prune.scores", dict(B=4, N=576, D=1024, k=144), case_prune_scores),
            ("verify.greedy", dict(B=8, K=4, V=32000), case_greedy_verify),
        ]
    return [
        ("prune.scores", dict(B=16, N=576, D=4096, k=144), case_prune_scores),
        ("prune.qk", dict(B=8, H=32, N=576, d=128, k=144), case_prune_qk),
        ("tome.merge", dict(B=64, N=197, D=1024, C=64, r=8), case_tome),
        ("hnet.dechunk", dict(B=1, L=8192, D=1024, rate=1 / 6), case_dechunk),
        ("verify.greedy", dict(B=64, K=8, V=32000), case_greedy_verify),
        ("kv.h2o", dict(B=1, H=32, T=8192, d=128, sinks=4, window=512, heavy=512), case_h2o),
    ]


# --------------------------------------------------------------- harness

def run_case(name, params, make, args, workdir, bandwidth):
    rng = np.random.default_rng(0)
    mlir, inputs, ref, check, byt = make(rng, **params)
    base = os.path.join(workdir, name)
    with open(base + ".mlir", "w") as f:
        f.write(mlir)
    t0 = time.time()
    subprocess.run([args.compile, base + ".mlir", "-o", base + ".wnn", "--cpu=" + args.cpu],
                   check=True)
    compile_s = time.time() - t0
    in_flags = []
    for i, a in enumerate(inputs):
        path = "%s.in%d.npy" % (base, i)
        np.save(path, a)
        in_flags.append("--input=@" + path)
    outdir = base + ".out"
    os.makedirs(outdir, exist_ok=True)
    proc = subprocess.run([args.run, base + ".wnn", "--print=none", "--output-dir=" + outdir,
                           "--bench=%d" % args.iters] + in_flags,
                          check=True, capture_output=True, text=True)
    m = re.search(r"median ([0-9.]+) us", proc.stdout)
    winnow_us = float(m.group(1))
    names = sorted(os.listdir(outdir), key=lambda s: int(re.sub(r"\D", "", s) or 0))
    outs = [np.load(os.path.join(outdir, n)) for n in names]
    with torch.no_grad():
        r = ref()
        agree = bool(check(outs if len(outs) > 1 else outs[0], r))
        torch_us = median_us(ref, args.iters)
    roofline_us = byt / bandwidth * 1e6
    rec = dict(case=name, params=params, bytes=byt, roofline_us=roofline_us,
               winnow_us=winnow_us, torch_eager_us=torch_us,
               speedup_vs_eager=torch_us / winnow_us,
               winnow_vs_roofline=winnow_us / roofline_us,
               outputs_agree=agree, compile_s=compile_s)
    print("%-14s %-48s winnow %10.1f us  eager %10.1f us  x%6.2f  roofline %8.1f us  agree=%s" % (
        name, json.dumps(params), winnow_us, torch_us, torch_us / winnow_us, roofline_us, agree))
    return rec


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--compile", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--workdir", default="/tmp/winnow-cpu-bench")
    ap.add_argument("--out")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--cpu", default="native", help="winnow-compile --cpu")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    torch.set_num_threads(args.threads)
    bandwidth = copy_bandwidth(args.iters)
    print("# %s, %d cores, torch %s with %d threads, Winnow single-threaded; copy bandwidth %.1f GB/s"
          % (platform.processor() or platform.machine(), os.cpu_count(), torch.__version__,
             args.threads, bandwidth / 1e9))
    records = [run_case(n, p, f, args, args.workdir, bandwidth) for n, p, f in all_cases(args.quick)]
    speedups = [r["speedup_vs_eager"] for r in records]
    summary = dict(date=datetime.date.today().isoformat(), machine=platform.machine(),
                   cpu=cpu_model(),
                   cores=os.cpu_count(), torch=torch.__version__, torch_threads=args.threads,
                   winnow_threads=1, winnow_cpu=args.cpu, copy_bandwidth_gbs=bandwidth / 1e9,
                   median_speedup_vs_eager=statistics.median(speedups), cases=records)
    print("# median speedup vs PyTorch CPU eager: %.2fx" % summary["median_speedup_vs_eager"])
    if args.out:
        with open(args.out, "w") as f:
            json.dump(summary, f, indent=1)
    return 0 if all(r["outputs_agree"] for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
