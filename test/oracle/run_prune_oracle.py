#!/usr/bin/python3
"""End-to-end oracle tests for tok.attn_score / tok.select / tok.compact.

Generates tok programs (several functions per module, one compile per
module), compiles them with winnow-compile, runs every case with winnow-run on
the CPU and compares with the independent NumPy reference in prune_oracle.py:

  * integer outputs (indices, counts, old_to_new maps, ids, positions) and
    gathered rows (copies) exactly, bit for bit;
  * attn_score (fp32) against a float64 reference with rtol 1e-4, atol 1e-6;
  * in pipelines (score -> select -> compact), select is checked exactly
    against the oracle applied to the scores Winnow returned, and compact
    against the oracle applied to the indices/count Winnow returned.

Prints one line per check and a final `N passed, M failed`; exits 1 on any
failure. Run with Debian's /usr/bin/python3 (needs NumPy).

  run_prune_oracle.py --compile winnow-compile --run winnow-run --workdir DIR
                      [--seed S] [--quick] [--filter SUBSTR]
"""

import argparse
import math
import os
import shutil
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prune_oracle as orc  # noqa: E402

SCORE_RTOL = 1e-4
SCORE_ATOL = 1e-6
# A module that fails to compile is retried function by function when it has
# at most this many functions (to say which one fails, at a bounded cost).
MAX_SPLIT = 8

# ---------------------------------------------------------------------------
# MLIR text helpers
# ---------------------------------------------------------------------------


def ttype(shape, dt):
    return "tensor<" + "".join("%dx" % s for s in shape) + dt + ">"


def fmt_f64(x):
    """A float literal MLIR parses back to the same double."""
    return "%.17e" % float(x)


def budget_text(budget):
    if budget[0] == "top_k":
        return "#tok.top_k<%d>" % budget[1]
    if budget[0] == "keep_ratio":
        return "#tok.keep_ratio<%s, %s>" % (fmt_f64(budget[1]), budget[2])
    if budget[0] == "threshold":
        return "#tok.threshold<%s, %s>" % (fmt_f64(budget[1]), budget[2])
    raise ValueError(budget)


class Program:
    """One func.func: typed args, typed results, body text, and a checker.

    args/results: lists of (name, shape, dtype) with dtype in
    f32|bf16|f16|i32|i1. check(inputs, outputs) -> list of (what, ok, detail),
    where inputs maps arg name -> decoded values (bf16/f16 as float32 values)
    and outputs maps result name -> raw arrays as winnow-run wrote them
    (bf16 as uint16 bits, --raw-bf16).
    """

    def __init__(self, module, name, args, results, body, check):
        self.module, self.name = module, name
        self.args, self.results = args, results
        self.body, self.check = body, check
        self.cases = []  # (case name, {arg name: logical values}, options)

    def types(self):
        return {n: ttype(s, d) for n, s, d in self.args + self.results}

    def text(self):
        args = ", ".join("%%%s: %s" % (n, ttype(s, d)) for n, s, d in self.args)
        res = ", ".join(ttype(s, d) for _, s, d in self.results)
        ret_vals = ", ".join("%" + n for n, _, _ in self.results)
        lines = ["func.func @%s(%s) -> (%s) {" % (self.name, args, res)]
        lines += ["  " + l for l in self.body]
        lines.append("  return %s : %s" % (ret_vals, res))
        lines.append("}")
        return "\n".join(lines)

    def add(self, case, inputs, **opts):
        self.cases.append((case, inputs, opts))


def attn_op(res, a, q, k, lengths=None, lse=None, qpos=None, scale=None,
            reduction=None):
    t = a.types()
    ops = ["%" + q, "%" + k]
    text = "%%%s = tok.attn_score %%%s, %%%s" % (res, q, k)
    for kw, v in (("lengths", lengths), ("lse", lse), ("query_positions", qpos)):
        if v is not None:
            text += " %s %%%s" % (kw, v)
            ops.append("%" + v)
    attrs = []
    if scale is not None:
        attrs.append("scale = %s : f32" % fmt_f64(scale))
    if reduction is not None:
        attrs.append("reduction = #tok.score_reduction<%s>" % reduction)
    if attrs:
        text += " {" + ", ".join(attrs) + "}"
    text += " : (%s) -> %s" % (", ".join(t[o[1:]] for o in ops), t[res])
    return text


def select_op(idx, cnt, a, scores, budget, lengths=None, protect=None,
              span=None, nan_policy=None, row_budget=None):
    t = a.types()
    ops = [scores]
    text = "%%%s, %%%s = tok.select %s of %%%s" % (idx, cnt, budget_text(budget), scores)
    for kw, v in (("lengths", lengths), ("protect", protect), ("row_budget", row_budget)):
        if v is not None:
            text += " %s %%%s" % (kw, v)
            ops.append(v)
    if span is not None:
        text += " span [%d, %d]" % span
    if nan_policy is not None:
        text += " {nan_policy = #tok.nan_policy<%s>}" % nan_policy
    text += " : (%s) -> (%s, %s)" % (", ".join(t[o] for o in ops), t[idx], t[cnt])
    return text


def compact_op(outs, omap, a, idx, cnt, sources, token_axes=None):
    t = a.types()
    text = "%s, %%%s = tok.compact %%%s, %%%s gather(%s)" % (
        ", ".join("%" + o for o in outs), omap, idx, cnt,
        ", ".join("%" + s for s in sources))
    if token_axes is not None:
        text += " {token_axes = array<i64: %s>}" % ", ".join(str(x) for x in token_axes)
    text += " : (%s) -> (%s)" % (
        ", ".join(t[x] for x in [idx, cnt] + list(sources)),
        ", ".join(t[x] for x in list(outs) + [omap]))
    return text


class _Types:
    def __init__(self, args, results):
        self._t = {n: ttype(s, d) for n, s, d in args + results}

    def types(self):
        return self._t


# ---------------------------------------------------------------------------
# Encoding / decoding of tensors
# ---------------------------------------------------------------------------


def encode(values, dt, bf16_as_f32=False):
    """Logical values -> the array written to .npy for winnow-run."""
    if dt == "f32":
        return np.asarray(values, dtype=np.float32)
    if dt == "bf16":
        if bf16_as_f32:  # the tool rounds to nearest even itself
            return np.asarray(values, dtype=np.float32)
        return orc.f32_to_bf16_bits(np.asarray(values, dtype=np.float32))
    if dt == "f16":
        return np.asarray(values, dtype=np.float32).astype(np.float16)
    if dt == "i32":
        return np.asarray(values, dtype=np.int64).astype(np.int32)
    if dt == "i64":  # Philox seeds and offsets
        return np.asarray(values, dtype=np.int64)
    if dt == "i1":
        return np.asarray(values).astype(np.bool_)
    raise ValueError(dt)


def decode_input(values, dt):
    """What the program actually sees (as float32 for float types)."""
    if dt == "bf16":
        return orc.round_to_bf16(np.asarray(values, dtype=np.float32))
    if dt == "f16":
        return np.asarray(values, dtype=np.float32).astype(np.float16).astype(np.float32)
    return encode(values, dt)


def to_bits(values, dt):
    """Expected float values -> comparable bit patterns for dtype dt."""
    if dt == "bf16":
        return orc.f32_to_bf16_bits(np.asarray(values, dtype=np.float32))
    if dt == "f16":
        return np.ascontiguousarray(np.asarray(values, dtype=np.float32).astype(np.float16)).view(np.uint16)
    if dt == "f32":
        return np.ascontiguousarray(np.asarray(values, dtype=np.float32)).view(np.uint32)
    if dt == "i32":
        return np.asarray(values).astype(np.int32)
    if dt == "i1":
        return np.asarray(values).astype(np.bool_)
    raise ValueError(dt)


def got_bits(raw, dt):
    raw = np.ascontiguousarray(raw)
    if dt == "bf16":
        return raw.view(np.uint16) if raw.dtype != np.float32 else orc.f32_to_bf16_bits(raw)
    if dt == "f16":
        return raw.astype(np.float16).view(np.uint16)
    if dt == "f32":
        return raw.astype(np.float32).view(np.uint32)
    if dt == "i32":
        return raw.astype(np.int64).astype(np.int32)
    if dt == "i1":
        return raw.astype(np.bool_)
    raise ValueError(dt)


def as_values(raw, dt):
    """winnow-run output -> float32 values (for floats) / ints."""
    if dt == "bf16" and raw.dtype == np.uint16:
        return orc.bf16_bits_to_f32(raw)
    return raw


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def _first_diff(exp, got):
    bad = np.argwhere(exp != got)
    return tuple(int(x) for x in bad[0]) if len(bad) else None


def check_exact(what, exp, got):
    exp = np.asarray(exp)
    got = np.asarray(got)
    if exp.shape != got.shape:
        return (what, False, "shape: expected %s, got %s" % (exp.shape, got.shape))
    if np.array_equal(exp, got):
        return (what, True, "")
    pos = _first_diff(exp, got)
    nbad = int(np.count_nonzero(exp != got))
    detail = "%d mismatches; first at %s: expected %s, got %s" % (
        nbad, pos, exp[pos], got[pos])
    if exp.ndim >= 2:  # show the whole first bad row (batch row / slot row)
        row = pos[:-1]
        detail += "\n      expected row %s: %s\n      got      row %s: %s" % (
            row, exp[row].tolist()[:40], row, got[row].tolist()[:40])
    return (what, False, detail)


def check_bits(what, exp_values, got_raw, dt):
    return check_exact(what + " [bit-exact %s]" % dt, to_bits(exp_values, dt),
                       got_bits(got_raw, dt))


def check_close(what, ref, got, rtol=SCORE_RTOL, atol=SCORE_ATOL):
    ref = np.asarray(ref, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    if ref.shape != got.shape:
        return (what, False, "shape: expected %s, got %s" % (ref.shape, got.shape))
    err = np.abs(got - ref)
    tol = atol + rtol * np.abs(ref)
    bad = ~(err <= tol)  # NaN in got counts as bad
    if not bad.any():
        return (what + " [max abs err %.2e]" % float(err.max() if err.size else 0.0), True, "")
    pos = tuple(int(x) for x in np.argwhere(bad)[0])
    return (what, False, "%d values outside rtol=%g atol=%g; first at %s: ref %.9g, got %.9g" % (
        int(bad.sum()), rtol, atol, pos, ref[pos], got[pos]))


# ---------------------------------------------------------------------------
# Program builders (each returns a Program with its checker)
# ---------------------------------------------------------------------------


def make_select(module, name, B, N, budget, capacity=None, lengths=True,
                protect=False, span=None, nan_policy=None, row_budget=False):
    if capacity is None:
        capacity = orc.max_kept_count(N, budget, span, protect)
    args = [("scores", (B, N), "f32")]
    if lengths:
        args.append(("lengths", (B,), "i32"))
    if protect:
        args.append(("protect", (B, N), "i1"))
    if row_budget:
        args.append(("row_budget", (B,), "i32" if budget[0] == "top_k" else "f32"))
    results = [("indices", (B, capacity), "i32"), ("count", (B,), "i32")]
    tt = _Types(args, results)
    body = [select_op("indices", "count", tt, "scores", budget,
                      "lengths" if lengths else None,
                      "protect" if protect else None, span, nan_policy,
                      "row_budget" if row_budget else None)]

    def check(inp, out):
        ei, ec = orc.select(inp["scores"], budget, capacity,
                            inp.get("lengths"), inp.get("protect"), span,
                            nan_policy or "as_neg_inf", inp.get("row_budget"))
        return [check_exact("count", ec, out["count"]),
                check_exact("indices", ei, out["indices"])]

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, N=N, budget=budget, capacity=capacity, span=span,
                  protect=protect, lengths=lengths)
    return p


def make_attn(module, name, B, H, Hkv, Q, N, d, dt, lengths=True, lse=False,
              qpos=False, scale=None, reduction=None):
    args = [("q", (B, H, Q, d), dt), ("k", (B, Hkv, N, d), dt)]
    if lengths:
        args.append(("lengths", (B,), "i32"))
    if lse:
        args.append(("lse", (B, H, Q), "f32"))
    if qpos:
        args.append(("qpos", (B, Q), "i32"))
    results = [("scores", (B, N), "f32")]
    tt = _Types(args, results)
    body = [attn_op("scores", tt, "q", "k", "lengths" if lengths else None,
                    "lse" if lse else None, "qpos" if qpos else None, scale,
                    reduction)]

    def check(inp, out):
        ref = orc.attn_score(inp["q"], inp["k"], inp.get("lengths"), inp.get("lse"),
                             inp.get("qpos"), scale, reduction or "mean")
        return [check_close("scores", ref, out["scores"])]

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, H=H, Hkv=Hkv, Q=Q, N=N, d=d, dt=dt, lengths=lengths,
                  lse=lse, qpos=qpos, scale=scale)
    return p


def make_compact(module, name, B, N, C, sources, token_axes=None):
    """sources: list of (name, shape, dtype); token axis per token_axes."""
    axes = token_axes or [1] * len(sources)
    args = [("indices", (B, C), "i32"), ("count", (B,), "i32")] + list(sources)
    results = []
    for (sname, shape, dt), ax in zip(sources, axes):
        oshape = list(shape)
        oshape[ax] = C
        results.append(("g_" + sname, tuple(oshape), dt))
    results.append(("old_to_new", (B, N), "i32"))
    tt = _Types(args, results)
    body = [compact_op([r[0] for r in results[:-1]], "old_to_new", tt, "indices",
                       "count", [s[0] for s in sources], token_axes)]

    def check(inp, out):
        srcs = [inp[s[0]] for s in sources]
        outs, omap = orc.compact(inp["indices"], inp["count"], srcs, axes)
        checks = []
        for (sname, _, dt), e in zip(sources, outs):
            checks.append(check_bits("gathered " + sname, e, out["g_" + sname], dt))
        checks.append(check_exact("old_to_new", omap, out["old_to_new"]))
        return checks

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, N=N, C=C, sources=sources, axes=axes)
    return p


def make_pipeline(module, name, B, H, Hkv, Q, N, d, dt, budget, sources,
                  token_axes=None, lse=False, qpos=False, protect=False,
                  span=None, nan_policy=None, scale=None, reduction=None,
                  row_budget=False):
    """attn_score -> select -> compact over `sources` (all with lengths)."""
    capacity = orc.max_kept_count(N, budget, span, protect)
    axes = token_axes or [1] * len(sources)
    args = [("q", (B, H, Q, d), dt), ("k", (B, Hkv, N, d), dt), ("lengths", (B,), "i32")]
    if lse:
        args.append(("lse", (B, H, Q), "f32"))
    if qpos:
        args.append(("qpos", (B, Q), "i32"))
    if protect:
        args.append(("protect", (B, N), "i1"))
    if row_budget:
        args.append(("row_budget", (B,), "i32" if budget[0] == "top_k" else "f32"))
    args += list(sources)
    results = [("scores", (B, N), "f32"), ("indices", (B, capacity), "i32"),
               ("count", (B,), "i32")]
    for (sname, shape, sdt), ax in zip(sources, axes):
        oshape = list(shape)
        oshape[ax] = capacity
        results.append(("g_" + sname, tuple(oshape), sdt))
    results.append(("old_to_new", (B, N), "i32"))
    tt = _Types(args, results)
    body = [
        attn_op("scores", tt, "q", "k", "lengths", "lse" if lse else None,
                "qpos" if qpos else None, scale, reduction),
        select_op("indices", "count", tt, "scores", budget, "lengths",
                  "protect" if protect else None, span, nan_policy,
                  "row_budget" if row_budget else None),
        compact_op(["g_" + s[0] for s in sources], "old_to_new", tt, "indices", "count",
                   [s[0] for s in sources], token_axes),
    ]

    def check(inp, out):
        checks = []
        ref = orc.attn_score(inp["q"], inp["k"], inp["lengths"], inp.get("lse"),
                             inp.get("qpos"), scale, reduction or "mean")
        checks.append(check_close("scores", ref, out["scores"]))
        got_scores = np.asarray(out["scores"], dtype=np.float32)
        ei, ec = orc.select(got_scores, budget, capacity, inp["lengths"],
                            inp.get("protect"), span, nan_policy or "as_neg_inf",
                            inp.get("row_budget"))
        checks.append(check_exact("count (oracle on Winnow's scores)", ec, out["count"]))
        checks.append(check_exact("indices (oracle on Winnow's scores)", ei, out["indices"]))
        srcs = [inp[s[0]] for s in sources]
        outs, omap = orc.compact(out["indices"], out["count"], srcs, axes)
        for (sname, _, sdt), e in zip(sources, outs):
            checks.append(check_bits("gathered " + sname, e, out["g_" + sname], sdt))
        checks.append(check_exact("old_to_new", omap, out["old_to_new"]))
        return checks

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, H=H, Hkv=Hkv, Q=Q, N=N, d=d, dt=dt, capacity=capacity,
                  sources=sources, axes=axes, lse=lse, qpos=qpos, protect=protect,
                  span=span, scale=scale, row_budget=row_budget, budget=budget)
    return p


# ---------------------------------------------------------------------------
# Input generators
# ---------------------------------------------------------------------------


def random_scores(rng, B, N, specials=True):
    """Scores with ties, and optionally NaN/+-inf/-0.0 sprinkled in."""
    mode = rng.integers(0, 3)
    if mode == 0:
        s = rng.standard_normal((B, N)).astype(np.float32)
    elif mode == 1:  # heavy ties
        s = rng.integers(-2, 3, size=(B, N)).astype(np.float32) * 0.25
    else:
        s = rng.random((B, N)).astype(np.float32) / N
    if specials:
        pool = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0], dtype=np.float32)
        mask = rng.random((B, N)) < 0.15
        s[mask] = rng.choice(pool, size=int(mask.sum()))
    return s


def random_lengths(rng, B, N, oob=True):
    lo, hi = (-2, N + 3) if oob else (0, N + 1)
    ls = rng.integers(lo, hi, size=B)
    ls[rng.integers(0, B)] = N
    return ls.astype(np.int32)


def attn_inputs(rng, meta, lengths=None, lse_extra=0.5, mag=1.0, qpos=None):
    B, H, Hkv, Q, N, d = (meta[x] for x in ("B", "H", "Hkv", "Q", "N", "d"))
    q = (rng.standard_normal((B, H, Q, d)) * mag).astype(np.float32)
    k = (rng.standard_normal((B, Hkv, N, d)) * mag).astype(np.float32)
    inp = {"q": q, "k": k}
    if meta.get("lengths", True):
        inp["lengths"] = (np.asarray(lengths, dtype=np.int32) if lengths is not None
                          else random_lengths(rng, B, N, oob=False))
    if meta.get("qpos"):
        inp["qpos"] = (np.asarray(qpos, dtype=np.int32) if qpos is not None
                       else rng.integers(-1, N + 1, size=(B, Q)).astype(np.int32))
    if meta.get("lse"):
        inp["lse"] = consistent_lse(inp, meta, lse_extra)
    return inp


def consistent_lse(inp, meta, extra):
    """lse of a softmax over the valid keys plus `extra` (relative) outside mass,
    computed from the storage-precision q/k in float64 and rounded to f32."""
    dt = meta["dt"]
    q = decode_input(inp["q"], dt).astype(np.float64)
    k = decode_input(inp["k"], dt).astype(np.float64)
    B, H, Q, d = q.shape
    Hkv, N = k.shape[1], k.shape[2]
    scale = 1.0 / math.sqrt(d) if meta.get("scale") is None else float(np.float32(meta["scale"]))
    lse = np.zeros((B, H, Q), dtype=np.float64)
    for b in range(B):
        L = N if "lengths" not in inp else int(inp["lengths"][b])
        for h in range(H):
            for qi in range(Q):
                lim = min(L, N)
                if "qpos" in inp:
                    lim = min(lim, int(inp["qpos"][b, qi]) + 1)
                s = scale * (k[b, h // (H // Hkv), :max(lim, 0)] @ q[b, h, qi])
                if s.size == 0:
                    lse[b, h, qi] = 0.0
                    continue
                m = s.max()
                lse[b, h, qi] = m + math.log(np.exp(s - m).sum() * (1.0 + extra))
    return lse.astype(np.float32)


def gen_source(rng, shape, dt, N, token_axis):
    if dt == "i32":  # position-like ids: distinct per slot
        base = np.arange(N, dtype=np.int64) * 3 + 7
        shp = [1] * len(shape)
        shp[token_axis] = N
        lead = rng.integers(0, 1000, size=shape)
        return (base.reshape(shp) + lead * 10000).astype(np.int32)
    if dt == "i1":
        return rng.random(shape) < 0.5
    v = rng.standard_normal(shape).astype(np.float32)
    flat = v.reshape(-1)
    flat[rng.random(flat.size) < 0.05] = -0.0  # signed zeros must be copied exactly
    return v


# ---------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------


def build_corpus(rng, n_random):
    progs = []
    R = n_random

    # ---- select: top_k over N = 7 (odd), B = 4 -------------------------------
    N, B = 7, 4
    special = np.array([
        [-0.0, 0.0, np.inf, -np.inf, 1.0, -0.0, np.inf],
        [np.nan, 2.0, np.nan, -np.inf, -np.inf, 0.0, -0.0],
        [1.0, 1.0, 1.0, np.nan, 1.0, -1.0, 1.0],
        [0.5, -0.0, 0.0, 0.5, np.nan, np.nan, -np.inf]], dtype=np.float32)
    for k in (0, 1, 3, 4, N - 1, N, N + 5, -2):
        cap = None
        if k == -2:
            cap = 2  # larger than the verifier's bound: extra slots are padding
        p = make_select("select_topk", "topk_%s" % str(k).replace("-", "m"), B, N,
                        ("top_k", k), capacity=cap)
        p.add("distinct/len{7,0,1,5}", {"scores": rng.permutation(N * B).reshape(B, N).astype(np.float32) - 10,
                                        "lengths": [7, 0, 1, 5]})
        p.add("all_equal", {"scores": np.full((B, N), 0.25, np.float32), "lengths": [7, 7, 3, 6]})
        p.add("special(nan,inf,-0)", {"scores": special, "lengths": [7, 7, 7, 4]})
        p.add("lengths_out_of_range{-3,9,7,2}", {"scores": rng.standard_normal((B, N)).astype(np.float32),
                                                 "lengths": [-3, 9, 7, 2]})
        for r in range(R):
            p.add("random%d" % r, {"scores": random_scores(rng, B, N), "lengths": random_lengths(rng, B, N)})
        progs.append(p)
    # Rows longer than four tiles of 256 threads: the GPU form selects them
    # with 1024 threads; scores on a coarse grid (ties at the threshold).
    p = make_select("select_topk", "topk2250_long_rows", 2, 9000, ("top_k", 2250))
    for r in range(max(R, 1)):
        p.add("quantised%d" % r, {"scores": np.round(rng.standard_normal((2, 9000)) * 4)
                                  .astype(np.float32),
                                  "lengths": [9000, int(rng.integers(8193, 9000))]})
    progs.append(p)
    p = make_select("select_topk", "topk3_nolengths", 3, 9, ("top_k", 3), lengths=False)
    p.add("ties", {"scores": np.array([[1, 2, 2, 2, 0, 2, 1, 1, 2], [0] * 9,
                                       [-1, -2, -3, -4, -5, -6, -7, -8, -9]], np.float32)})
    for r in range(R):
        p.add("random%d" % r, {"scores": random_scores(rng, 3, 9)})
    progs.append(p)

    # ---- select: keep_ratio rounding, N = 100, B = 8 ------------------------
    N, B = 100, 8
    ratio_lengths = [5, 7, 6, 25, 50, 100, 0, 1]  # 0.5 -> 2.5/3.5/3; 0.14 -> 3.5000000000000004, 7.000000000000001, 14.000000000000002; 0.29 -> ..., 14.499999999999998, 28.999999999999996
    for ratio in (0.5, 0.14, 0.29):
        for mode in ("floor", "ceil", "half_even", "half_away"):
            p = make_select("select_ratio", "ratio_%s_%s" % (str(ratio).replace(".", "p"), mode),
                            B, N, ("keep_ratio", ratio, mode))
            p.add("distinct/len{5,7,6,25,50,100,0,1}",
                  {"scores": rng.standard_normal((B, N)).astype(np.float32), "lengths": ratio_lengths})
            p.add("ties", {"scores": (rng.integers(0, 3, (B, N)) * 0.5).astype(np.float32),
                           "lengths": ratio_lengths})
            progs.append(p)
    for ratio, mode in ((0.0, "ceil"), (1.0, "floor"), (0.25, "half_even")):
        p = make_select("select_ratio", "ratio_%s_%s" % (str(ratio).replace(".", "p"), mode),
                        B, N, ("keep_ratio", ratio, mode))
        p.add("distinct", {"scores": rng.standard_normal((B, N)).astype(np.float32),
                           "lengths": ratio_lengths})
        for r in range(R):
            p.add("random%d" % r, {"scores": random_scores(rng, B, N), "lengths": random_lengths(rng, B, N)})
        progs.append(p)

    # ---- select: threshold (gt / ge, tau rounded to f32) and NaN policies ----
    N, B = 9, 3
    f01 = float(np.float32(0.1))
    boundary = np.array([
        [0.5, np.nextafter(np.float32(0.5), np.float32(1)), np.nextafter(np.float32(0.5), np.float32(0)),
         f01, 0.1 + 1e-9, -0.0, 0.0, np.nan, np.inf],
        [-np.inf, 0.5, 0.5, np.nan, -0.0, f01, 1.0, 0.0, 0.25],
        [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]], dtype=np.float32)
    thr = [(0.5, "gt", None), (0.5, "ge", None), (0.1, "gt", None), (0.1, "ge", None),
           (0.0, "gt", None), (-0.0, "ge", None), (0.5, "gt", "as_pos_inf"),
           (-1e30, "ge", None), (-1e30, "ge", "as_pos_inf")]
    for tau, cmp, pol in thr:
        nm = "thr_%s_%s%s" % (("%g" % tau).replace("-", "m").replace(".", "p").replace("+", ""), cmp,
                              "_posinf" if pol else "")
        p = make_select("select_threshold", nm, B, N, ("threshold", tau, cmp), nan_policy=pol)
        p.add("boundary/len{9,5,0}", {"scores": boundary, "lengths": [9, 5, 0]})
        p.add("boundary/len{9,9,9}", {"scores": boundary, "lengths": [9, 9, 9]})
        for r in range(R):
            p.add("random%d" % r, {"scores": random_scores(rng, B, N), "lengths": random_lengths(rng, B, N)})
        progs.append(p)

    N, B = 8, 3
    nan_rows = np.array([
        [np.nan, 1.0, -np.inf, np.nan, 0.0, -np.inf, 2.0, np.nan],
        [np.nan] * 8,
        [-np.inf, np.nan, np.inf, np.nan, -0.0, np.inf, 0.0, -np.inf]], dtype=np.float32)
    for k in (2, 5):
        for pol in ("as_neg_inf", "as_pos_inf"):
            p = make_select("select_threshold", "nan_topk%d_%s" % (k, pol), B, N, ("top_k", k),
                            nan_policy=pol)
            p.add("nan_rows", {"scores": nan_rows, "lengths": [8, 8, 8]})
            p.add("nan_rows/len{8,3,6}", {"scores": nan_rows, "lengths": [8, 3, 6]})
            progs.append(p)
    p = make_select("select_threshold", "nan_ratio_half_even_pos", B, N, ("keep_ratio", 0.5, "half_even"),
                    nan_policy="as_pos_inf")
    p.add("nan_rows/len{8,5,7}", {"scores": nan_rows, "lengths": [8, 5, 7]})
    progs.append(p)

    # ---- select: per-request budgets (row_budget) ----------------------------
    # Each request's own keep count or ratio, bounded by the attribute's:
    # negative, zero, above the maximum, NaN ratios; exact halves for the
    # ratio roundings; with lengths, a span and a protect mask.
    N, B = 40, 8
    counts = np.array([0, 1, 5, 12, -3, 99, 12, 7], np.int32)
    ratios = np.array([0.5, 0.25, 0.0, -0.1, np.nan, 0.9, 0.125, 0.375], np.float32)
    budget_lengths = [40, 40, 8, 40, 33, 40, 0, 20]
    for nm, budget, prot, span in [
            ("rb_topk12", ("top_k", 12), False, None),
            ("rb_topk12_protect_span", ("top_k", 12), True, (4, 36)),
            ("rb_ratio_half_even", ("keep_ratio", 0.5, "half_even"), False, None),
            ("rb_ratio_ceil_span", ("keep_ratio", 0.4, "ceil"), False, (5, 29)),
            ("rb_ratio_floor_protect", ("keep_ratio", 0.5, "floor"), True, None)]:
        p = make_select("select_row_budget", nm, B, N, budget, protect=prot, span=span,
                        row_budget=True)
        own = counts if budget[0] == "top_k" else ratios
        base = {"scores": rng.standard_normal((B, N)).astype(np.float32),
                "lengths": budget_lengths, "row_budget": own}
        if prot:
            base["protect"] = rng.random((B, N)) < 0.2
        p.add("own_budgets", base)
        p.add("ties", dict(base, scores=(rng.integers(0, 3, (B, N)) * 0.5).astype(np.float32)))
        for r in range(R):
            inp = {"scores": random_scores(rng, B, N), "lengths": random_lengths(rng, B, N),
                   "row_budget": (rng.integers(-2, 16, B).astype(np.int32)
                                  if budget[0] == "top_k"
                                  else rng.uniform(-0.1, 0.7, B).astype(np.float32))}
            if prot:
                inp["protect"] = rng.random((B, N)) < 0.2
            p.add("random%d" % r, inp)
        progs.append(p)

    # ---- select: protect and span -------------------------------------------
    N, B = 10, 4
    sc = rng.standard_normal((B, N)).astype(np.float32)
    prot01 = np.zeros((B, N), bool)
    prot01[:, 0] = True
    prot01[:, 1] = True
    prot01[0, 9] = True  # protected padding in row 0 (length 6)
    prot01[3, 4] = True
    prot_all = np.ones((B, N), bool)
    span_cfgs = [
        ("ps_topk2_protect", ("top_k", 2), True, None),
        ("ps_topk2_span", ("top_k", 2), False, (2, 7)),
        ("ps_topk2_protect_span", ("top_k", 2), True, (2, 7)),
        ("ps_topk0_protect_span", ("top_k", 0), True, (1, 9)),
        ("ps_ratio_half_away_span", ("keep_ratio", 0.5, "half_away"), False, (3, 8)),
        ("ps_ratio_floor_protect", ("keep_ratio", 0.5, "floor"), True, None),
        ("ps_thr_ge_protect_span", ("threshold", 0.3, "ge"), True, (1, 8)),
        ("ps_topk3_span_tail", ("top_k", 3), False, (5, 10)),
    ]
    for nm, budget, prot, span in span_cfgs:
        p = make_select("select_protect", nm, B, N, budget, protect=prot, span=span)
        base = {"scores": sc, "lengths": [6, 0, 1, 10]}
        if prot:
            p.add("protect{0,1}+protected_padding/len{6,0,1,10}", dict(base, protect=prot01))
            p.add("protect_all", dict(base, protect=prot_all, lengths=[10, 10, 3, 7]))
            p.add("protect_none/all_equal", {"scores": np.ones((B, N), np.float32), "lengths": [10, 4, 9, 10],
                                             "protect": np.zeros((B, N), bool)})
        else:
            p.add("len{6,0,1,10}", base)
            p.add("all_equal/len{10,4,9,3}", {"scores": np.ones((B, N), np.float32), "lengths": [10, 4, 9, 3]})
        for r in range(R):
            inp = {"scores": random_scores(rng, B, N), "lengths": random_lengths(rng, B, N)}
            if prot:
                inp["protect"] = rng.random((B, N)) < 0.3
            p.add("random%d" % r, inp)
        progs.append(p)

    # ---- attn_score -----------------------------------------------------------
    attn_cfgs = [
        # name, B, H, Hkv, Q, N, d, dt, lengths, lse, qpos, scale, reduction
        ("as_f32", 3, 4, 4, 1, 16, 8, "f32", True, False, False, None, None),
        ("as_bf16_gqa_lse", 2, 8, 2, 1, 13, 16, "bf16", True, True, False, None, None),
        ("as_f16_gqa4_qpos_sum", 2, 4, 1, 3, 12, 8, "f16", True, False, True, 0.3, "sum"),
        ("as_bf16_lse_qpos_nolen", 1, 2, 2, 2, 10, 8, "bf16", False, True, True, None, None),
        ("as_bf16_d128", 2, 4, 4, 1, 64, 128, "bf16", True, False, False, None, None),
        # more query rows (H * Q = 144) than the GPU form sums per chunk (128)
        ("as_bf16_144_rows_qpos", 1, 16, 4, 9, 40, 8, "bf16", True, False, True, None, None),
    ]
    for nm, B, H, Hkv, Q, N, d, dt, ln, lse, qp, scale, red in attn_cfgs:
        # f16 score programs get their own module, so that an f16-only
        # compile failure does not hide the bf16/f32 results.
        p = make_attn("attn_f16" if dt == "f16" else "attn", nm, B, H, Hkv, Q, N, d, dt,
                      ln, lse, qp, scale, red)
        m = p.meta
        lens_edge = ([N, 1, 0] + [N] * B)[:B] if B >= 3 else [N, 0][:B]
        p.add("lengths_edge", attn_inputs(rng, m, lengths=lens_edge if ln else None))
        p.add("large_magnitude", attn_inputs(rng, m, mag=3.0))
        if ln:
            p.add("lengths_out_of_range", attn_inputs(rng, m, lengths=([N + 4, -1, 5] * B)[:B]))
        if qp:
            qpe = np.zeros((B, Q), np.int32)
            qpe[0] = [(N - 1, -1, 0)[i % 3] for i in range(Q)]
            p.add("qpos_edge{N-1,-1,0}", attn_inputs(rng, m, qpos=qpe))
        if dt == "bf16":
            p.add("bf16_given_as_f32_npy", attn_inputs(rng, m), bf16_as_f32=True)
        for r in range(R):
            p.add("random%d" % r, attn_inputs(rng, m))
        progs.append(p)

    # ---- compact (indices/count fed directly) ---------------------------------
    B, N, C = 3, 8, 5
    srcs = [("hidden", (B, N, 6), "bf16"), ("mrope", (3, B, N), "i32"), ("mask", (B, N), "i1"),
            ("w", (B, N), "f32"), ("h16", (B, N, 4), "f16"), ("x4d", (2, B, N, 2), "f32")]
    axes = [1, 2, 1, 1, 1, 2]
    p = make_compact("compact", "cp_bundle", B, N, C, srcs, axes)

    def src_inputs(idx, cnt, sources=srcs, ax=axes, n=N):
        d = {"indices": np.asarray(idx, np.int32), "count": np.asarray(cnt, np.int32)}
        for (sn, shp, sdt), a in zip(sources, ax):
            d[sn] = gen_source(rng, shp, sdt, n, a)
        return d

    I32_MIN, I32_MAX = -2 ** 31, 2 ** 31 - 1
    p.add("ascending", src_inputs([[0, 2, 5, 7, -1], [1, 3, -1, -1, -1], [0, 1, 2, 3, 4]], [4, 2, 5]))
    p.add("out_of_range_indices", src_inputs([[-1, 8, 3, 100, -7], [I32_MIN, 7, I32_MAX, 0, 9],
                                              [-1, -1, -1, -1, -1]], [5, 5, 5]))
    p.add("count>C_and_count<0", src_inputs([[4, 5, 6, 7, 0], [1, 2, 3, 4, 5], [0, 1, 2, 3, 4]],
                                            [9, -3, I32_MAX]))
    p.add("count_min_int", src_inputs([[4, 5, 6, 7, 0], [1, 2, 3, 4, 5], [0, 1, 2, 3, 4]],
                                      [I32_MIN, 0, 1]))
    p.add("duplicates_unsorted", src_inputs([[3, 3, 1, 3, 0], [7, 0, 7, 0, 7], [2, 2, 2, 2, 2]], [5, 4, 2]))
    for r in range(R):
        p.add("random%d" % r, src_inputs(rng.integers(-2, N + 2, (B, C)), rng.integers(-1, C + 2, B)))
    progs.append(p)

    p = make_compact("compact", "cp_pos1d_default_axis", 2, 6, 4, [("pos", (2, 6), "i32")])
    p.add("ascending", src_inputs([[0, 1, 4, 5], [2, -1, -1, -1]], [4, 1], [("pos", (2, 6), "i32")], [1], 6))
    p.add("padding_slots_ignored", src_inputs([[5, 4, 3, 2], [0, 5, 1, 4]], [2, 0], [("pos", (2, 6), "i32")], [1], 6))
    progs.append(p)

    cs = [("hid", (2, 6, 3), "f32"), ("ids", (2, 6), "i32")]
    p = make_compact("compact", "cp_capacity_eq_n", 2, 6, 6, cs)
    p.add("all_kept", src_inputs([[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0]], [6, 6], cs, [1, 1], 6))
    p.add("count>C", src_inputs([[0, 1, 2, 3, 4, 5], [0, 0, 0, 0, 0, 0]], [7, 1000], cs, [1, 1], 6))
    progs.append(p)

    # ---- pipelines: attn_score -> select -> compact ---------------------------
    pl = []
    pl.append(make_pipeline(
        "pipeline_mrope", "pl_fastv_small", 2, 4, 4, 1, 16, 8, "bf16", ("keep_ratio", 0.25, "floor"),
        [("hidden", (2, 16, 32), "bf16"), ("pos", (3, 2, 16), "i32")], [1, 2]))
    pl.append(make_pipeline(
        "pipeline_f16", "pl_f16_gqa_span_protect", 3, 8, 2, 1, 20, 16, "f16", ("top_k", 3),
        [("hidden", (3, 20, 8), "f16"), ("pos", (3, 20), "i32")], None,
        protect=True, span=(4, 16)))
    pl.append(make_pipeline(
        "pipeline", "pl_bf16_gqa_span_protect", 3, 8, 2, 1, 20, 16, "bf16", ("top_k", 3),
        [("hidden", (3, 20, 8), "bf16"), ("pos", (3, 20), "i32")], None,
        protect=True, span=(4, 16)))
    pl.append(make_pipeline(
        "pipeline", "pl_bf16_lse_threshold", 3, 4, 1, 1, 16, 8, "bf16", ("threshold", 1.0 / 16, "gt"),
        [("hidden", (3, 16, 8), "bf16"), ("mask", (3, 16), "i1")], None, lse=True))
    pl.append(make_pipeline(
        "pipeline", "pl_f32_qpos_ratio_half_even_sum", 3, 4, 4, 2, 11, 8, "f32",
        ("keep_ratio", 0.5, "half_even"), [("hidden", (3, 11, 4), "f32")], None,
        qpos=True, reduction="sum"))
    # Per-request budgets inside the fused dispatch (one row per block).
    pl.append(make_pipeline(
        "pipeline", "pl_bf16_row_budget_topk", 3, 4, 4, 1, 16, 8, "bf16", ("top_k", 6),
        [("hidden", (3, 16, 8), "bf16")], None, row_budget=True))
    pl.append(make_pipeline(
        "pipeline", "pl_f32_row_budget_ratio", 3, 4, 4, 1, 16, 8, "f32",
        ("keep_ratio", 0.5, "ceil"), [("hidden", (3, 16, 4), "f32")], None, span=(2, 14),
        row_budget=True))
    def add_pipeline_cases(p):
        m = p.meta
        B, N = m["B"], m["N"]

        def full_inputs(lengths=None, mag=1.0, zero_keys=False, p=p, m=m, B=B, N=N):
            inp = attn_inputs(rng, m, lengths=lengths, mag=mag)
            if zero_keys:  # all-equal scores inside each row
                inp["k"] = np.zeros_like(inp["k"])
            if m["lse"]:
                inp["lse"] = consistent_lse(inp, m, 0.5)
            if m["protect"]:
                pr = np.zeros((B, N), bool)
                pr[:, 0] = True
                pr[:, 1] = True
                pr[:, 5] = True
                pr[0, N - 1] = True
                inp["protect"] = pr
            if m["row_budget"]:
                inp["row_budget"] = (
                    np.array([6, 2, -1, 9, 0][:B], np.int32) if m["budget"][0] == "top_k"
                    else np.array([0.5, 0.2, np.nan, 0.75, 0.0][:B], np.float32))
            for (sn, shp, sdt), a in zip(m["sources"], m["axes"]):
                inp[sn] = gen_source(rng, shp, sdt, N, a)
            return inp

        edge = ([N, 1, 0] + [N] * B)[:B]
        p.add("lengths{N,1,0}", full_inputs(lengths=edge))
        p.add("all_equal_scores(zero keys)",
              full_inputs(lengths=([N, N - 3] + [N] * B)[:B], zero_keys=True))
        p.add("large_magnitude", full_inputs(mag=2.5))
        for r in range(R):
            p.add("random%d" % r, full_inputs())
        progs.append(p)

    for p in pl:
        add_pipeline_cases(p)

    # ---- batch 1 (B = 1): select, compact and a pipeline ----------------------
    # A batch of one gives 1-element batch loops (and grid axes under the GPU
    # mapping). Built last so that the draws of the cases above do not shift.
    B = 1
    p = make_select("select_topk", "topk3_b1", B, 9, ("top_k", 3))
    p.add("ties/len{9}", {"scores": np.array([[1, 2, 2, 2, 0, 2, 1, 1, 2]], np.float32), "lengths": [9]})
    p.add("special(nan,inf,-0)/len{6}",
          {"scores": np.array([[np.nan, -0.0, np.inf, 0.0, -np.inf, 1.0, np.inf, 2.0, np.nan]],
                              np.float32), "lengths": [6]})
    p.add("len{0}", {"scores": rng.standard_normal((B, 9)).astype(np.float32), "lengths": [0]})
    for r in range(R):
        p.add("random%d" % r, {"scores": random_scores(rng, B, 9), "lengths": random_lengths(rng, B, 9)})
    progs.append(p)

    p = make_select("select_protect", "ps_ratio_half_even_protect_span_b1", B, 10,
                    ("keep_ratio", 0.5, "half_even"), protect=True, span=(2, 9))
    pr = np.zeros((B, 10), bool)
    pr[0, [0, 3, 9]] = True
    p.add("protect{0,3,9}/len{10}", {"scores": rng.standard_normal((B, 10)).astype(np.float32),
                                     "lengths": [10], "protect": pr})
    p.add("protect{0,3,9}/len{5}", {"scores": rng.standard_normal((B, 10)).astype(np.float32),
                                    "lengths": [5], "protect": pr})
    for r in range(R):
        p.add("random%d" % r, {"scores": random_scores(rng, B, 10), "lengths": random_lengths(rng, B, 10),
                               "protect": rng.random((B, 10)) < 0.3})
    progs.append(p)

    cs = [("hidden", (B, 8, 6), "bf16"), ("mrope", (3, B, 8), "i32"), ("w", (B, 8), "f32")]
    cax = [1, 2, 1]
    p = make_compact("compact", "cp_b1", B, 8, 5, cs, cax)
    p.add("ascending", src_inputs([[0, 2, 5, 7, -1]], [4], cs, cax, 8))
    p.add("out_of_range_indices/count>C", src_inputs([[-1, 8, 3, I32_MAX, 7]], [9], cs, cax, 8))
    p.add("count{0}", src_inputs([[3, 3, 1, 3, 0]], [0], cs, cax, 8))
    for r in range(R):
        p.add("random%d" % r, src_inputs(rng.integers(-2, 10, (B, 5)), rng.integers(-1, 7, B), cs, cax, 8))
    progs.append(p)

    p = make_pipeline(
        "pipeline", "pl_bf16_gqa_topk_protect_b1", B, 4, 2, 1, 16, 8, "bf16", ("top_k", 4),
        [("hidden", (B, 16, 8), "bf16"), ("pos", (B, 16), "i32")], None, protect=True)
    add_pipeline_cases(p)

    return progs


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------


def run_cmd(cmd, timeout=120):
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, "", "timeout after %ds" % timeout
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def shorten(text, n=1500):
    text = text.strip()
    return text if len(text) <= n else text[:n] + "\n      ... (%d more chars)" % (len(text) - n)


def run_programs(progs, a, generator):
    """Compiles every module (one winnow-compile each), runs every case and
    reports. A Program with a `source` attribute is compiled from that file
    (all Programs of its module must share it). Returns the exit status."""
    for tool in (a.compile, a.run):
        if shutil.which(tool) is None and not os.path.exists(tool):
            print("error: tool not found: %s" % tool)
            return 2
    os.makedirs(a.workdir, exist_ok=True)
    modules = {}
    for p in progs:
        modules.setdefault(p.module, []).append(p)

    passed = failed = 0
    t0 = time.time()
    compile_time = run_time = 0.0
    n_runs = n_compiles = 0
    failures = {}

    def report(label, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print("PASS %s" % label)
        else:
            failed += 1
            print("FAIL %s%s" % (label, (": " + detail) if detail else ""))

    def compile_module(src_path, art_path, funcs):
        nonlocal compile_time, n_compiles
        source = getattr(funcs[0], "source", None)
        if source is None:
            with open(src_path, "w") as f:
                f.write("// Generated by %s (seed %d)\n" % (generator, a.seed))
                f.write("\n\n".join(p.text() for p in funcs) + "\n")
        else:
            src_path = source
        if os.path.exists(art_path):
            os.remove(art_path)
        cmd = [a.compile, src_path, "-o", art_path] + getattr(a, "compile_flag", [])
        if a.verbose:
            print("+ " + " ".join(cmd))
        ts = time.time()
        rc, _, err = run_cmd(cmd, timeout=300)
        compile_time += time.time() - ts
        n_compiles += 1
        if rc != 0 or not os.path.exists(art_path):
            return "winnow-compile exit %d on %s\n      %s" % (rc, src_path, shorten(err))
        print("# compiled %s (%d functions) in %.2fs" % (
            os.path.basename(src_path), len(funcs), time.time() - ts))
        return None

    for mod, mprogs in modules.items():
        mdir = os.path.join(a.workdir, mod)
        os.makedirs(mdir, exist_ok=True)
        artifact = {}
        art = os.path.join(mdir, mod + ".wnn")
        err = compile_module(os.path.join(mdir, mod + ".mlir"), art, mprogs)
        if err is None:
            artifact = {p.name: art for p in mprogs}
        elif 1 < len(mprogs) <= MAX_SPLIT and getattr(mprogs[0], "source", None) is None:
            print("# module %s failed to compile; compiling its functions separately" % mod)
            for p in mprogs:
                part = os.path.join(mdir, p.name + ".wnn")
                perr = compile_module(os.path.join(mdir, p.name + ".mlir"), part, [p])
                if perr is None:
                    artifact[p.name] = part
                else:
                    failures[p.name] = perr
        for p in mprogs:
            if p.name not in artifact:
                detail = failures.get(p.name, err)
                for case, _, _ in p.cases:
                    report("%s/%s/%s: compile" % (mod, p.name, case), False, detail)
                    detail = "(see above)"

        for p in mprogs:
            if p.name not in artifact:
                continue
            for ci, (case, inputs, opts) in enumerate(p.cases):
                label = "%s/%s/%s" % (mod, p.name, case)
                cdir = os.path.join(mdir, "%s.%d" % (p.name, ci))
                os.makedirs(cdir, exist_ok=True)
                cmd = [a.run, artifact[p.name], "--function=" + p.name, "--raw-bf16",
                       "--print=none"]
                decoded = {}
                for n, shape, dt in p.args:
                    arr = encode(inputs[n], dt, opts.get("bf16_as_f32", False))
                    assert tuple(arr.shape) == tuple(shape), (label, n, arr.shape, shape)
                    path = os.path.join(cdir, "in_%s.npy" % n)
                    np.save(path, arr)
                    cmd.append("--input=@" + path)
                    decoded[n] = decode_input(inputs[n], dt)
                outpaths = {}
                for n, _, _ in p.results:
                    outpaths[n] = os.path.join(cdir, "out_%s.npy" % n)
                    if os.path.exists(outpaths[n]):
                        os.remove(outpaths[n])
                    cmd.append("--output=@" + outpaths[n])
                if a.verbose:
                    print("+ " + " ".join(cmd))
                ts = time.time()
                rc, _, err = run_cmd(cmd, timeout=300)
                run_time += time.time() - ts
                n_runs += 1
                if rc != 0:
                    report(label + ": run", False, "winnow-run exit %d\n      %s" % (rc, shorten(err)))
                    continue
                outs = {n: np.load(outpaths[n]) for n, _, _ in p.results}
                try:
                    checks = p.check(decoded, outs)
                except Exception as e:  # an oracle error is a failure too
                    report(label + ": oracle", False, "%s: %s" % (type(e).__name__, e))
                    continue
                for what, ok, detail in checks:
                    report("%s: %s" % (label, what), ok, detail)

    print("# %d compiles in %.1fs; %d runs in %.1fs; total %.1fs" % (
        n_compiles, compile_time, n_runs, run_time, time.time() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def tool_args(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--compile", required=True, help="winnow-compile executable")
    ap.add_argument("--run", required=True, help="winnow-run executable")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--quick", action="store_true", help="fewer random cases")
    ap.add_argument("--filter", default="", help="only programs whose name contains this")
    ap.add_argument("--verbose", action="store_true", help="echo commands")
    ap.add_argument("--compile-flag", action="append", default=[],
                    help="extra winnow-compile flag (repeatable), e.g. "
                         "--emulate-cuda-on-cpu to check the GPU mapping")
    return ap


def main():
    a = tool_args(__doc__.split("\n")[0]).parse_args()

    rng = np.random.default_rng(a.seed)
    progs = build_corpus(rng, 1 if a.quick else 3)
    if a.filter:
        progs = [p for p in progs if a.filter in p.name]
    return run_programs(progs, a, "run_prune_oracle.py")


if __name__ == "__main__":
    sys.exit(main())
