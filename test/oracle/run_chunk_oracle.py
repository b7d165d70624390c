#!/usr/bin/python3
"""End-to-end oracle tests for tok.boundary / tok.segment_reduce / tok.ema_scan / tok.expand.

Generates tok programs (several functions per module, one compile per
module), compiles them with winnow-compile, runs every case with winnow-run on
the CPU and compares with the independent NumPy reference in chunk_oracle.py:

  * boundary: p (fp32) against float64 within atol 1e-6; p[b, 0] = 1 and
    padding p = 0 exactly; the boundary mask exactly, except where the
    float64 p lies within 1e-6 of 0.5 without being 0.5 (there fp32 may
    legitimately land on either side); and boundaries == (p > 0.5) on
    Winnow's own p, everywhere;
  * segment_reduce: counts and `first` exactly (bits); `max` exactly (as
    values, NaN == NaN); `mean`/`sum` within the fp32 accumulation bound plus
    one ulp of the element type (the float64 reference rounded to it);
  * ema_scan (fp32 result) within rtol 1e-5 / atol 1e-6 of the float64
    recurrence, NaN where expected, and bit for bit the op's fp32 order
    (chunk_oracle.ema_scan_fp32, blocks of `scan_block`; any NaN matches);
    the streamed dechunk pair likewise, through expand;
  * expand bit-exactly (a copy, or one fp32 addition rounded once to the
    residual's element type);
  * in H-Net pipelines (boundary -> segment_reduce -> select -> compact ->
    ema_scan -> expand) every stage is judged on the outputs Winnow gave the
    stage before (tok.select / tok.compact with prune_oracle.py).

Prints one line per check and a final `N passed, M failed`; exits 1 on any
failure. Run with Debian's /usr/bin/python3 (needs NumPy).

  run_chunk_oracle.py --compile winnow-compile --run winnow-run --workdir DIR
                      [--seed S] [--quick] [--filter SUBSTR]
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chunk_oracle as orc  # noqa: E402
import prune_oracle as porc  # noqa: E402
from run_prune_oracle import (  # noqa: E402
    Program, _Types, as_values, check_bits, check_exact, compact_op, fmt_f64,
    run_programs, select_op, tool_args)

P_ATOL = 1e-6        # boundary probabilities
P_AMBIGUOUS = 1e-6   # |p - 0.5| below this (and p != 0.5): either bit is right
EMA_RTOL, EMA_ATOL = 1e-5, 1e-6
I32_MIN, I32_MAX = -2 ** 31, 2 ** 31 - 1

# ---------------------------------------------------------------------------
# Op text
# ---------------------------------------------------------------------------


def _sig(t, ops, res):
    ins = ", ".join(t[o] for o in ops)
    outs = ", ".join(t[r] for r in res)
    return " : (%s) -> %s" % (ins, outs if len(res) == 1 else "(" + outs + ")")


def boundary_op(p, b, a, q, k, lengths=None):
    t = a.types()
    ops = [q, k] + ([lengths] if lengths else [])
    text = "%%%s, %%%s = tok.boundary %%%s, %%%s" % (p, b, q, k)
    if lengths:
        text += " lengths %" + lengths
    return text + _sig(t, ops, [p, b])


def segment_op(out, cnt, a, x, b, lengths=None, reduction=None):
    t = a.types()
    ops = [x, b] + ([lengths] if lengths else [])
    text = "%%%s, %%%s = tok.segment_reduce %%%s, %%%s" % (out, cnt, x, b)
    if lengths:
        text += " lengths %" + lengths
    if reduction is not None:
        text += " {reduction = #tok.segment_reduction<%s>}" % reduction
    return text + _sig(t, ops, [out, cnt])


def ema_op(out, a, x, gates, count, epsilon=None, scan_block=None):
    t = a.types()
    text = "%%%s = tok.ema_scan %%%s, %%%s, %%%s" % (out, x, gates, count)
    attrs = []
    if epsilon is not None:
        attrs.append("epsilon = %s : f64" % fmt_f64(epsilon))
    if scan_block is not None:
        attrs.append("scan_block = %d : i64" % scan_block)
    if attrs:
        text += " {" + ", ".join(attrs) + "}"
    return text + _sig(t, [x, gates, count], [out])


def expand_op(out, a, x, b, lengths=None, residual=None):
    t = a.types()
    ops = [x, b]
    text = "%%%s = tok.expand %%%s, %%%s" % (out, x, b)
    for kw, v in (("lengths", lengths), ("residual", residual)):
        if v:
            text += " %s %%%s" % (kw, v)
            ops.append(v)
    return text + _sig(t, ops, [out])


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def _fmt_pos(pos):
    return "(" + ", ".join(str(int(x)) for x in pos) + ")"


def check_close_nan(what, ref, got, rtol, atol):
    """|got - ref| <= atol + rtol |ref|; NaN where (and only where) ref is NaN."""
    ref = np.asarray(ref, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    if ref.shape != got.shape:
        return (what, False, "shape: expected %s, got %s" % (ref.shape, got.shape))
    rn, gn = np.isnan(ref), np.isnan(got)
    with np.errstate(invalid="ignore"):
        err = np.where(rn | gn, 0.0, np.abs(got - ref))
        bad = (rn != gn) | ~(err <= atol + rtol * np.abs(np.where(rn, 0.0, ref)))
    nnan = int(rn.sum())
    if not bad.any():
        return (what + " [max abs err %.2e%s]" % (
            float(err.max()) if err.size else 0.0,
            ", %d NaN as expected" % nnan if nnan else ""), True, "")
    pos = tuple(np.argwhere(bad)[0])
    return (what, False, "%d values outside rtol=%g atol=%g; first at %s: ref %.9g, got %.9g" % (
        int(bad.sum()), rtol, atol, _fmt_pos(pos), ref[pos], got[pos]))


def check_values_equal(what, ref, got):
    """Exact as values: -0.0 == +0.0, NaN == NaN."""
    ref = np.asarray(ref, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    if ref.shape != got.shape:
        return (what, False, "shape: expected %s, got %s" % (ref.shape, got.shape))
    bad = ~((ref == got) | (np.isnan(ref) & np.isnan(got)))
    if not bad.any():
        return (what, True, "")
    pos = tuple(np.argwhere(bad)[0])
    return (what, False, "%d mismatches; first at %s: expected %.9g, got %.9g" % (
        int(bad.sum()), _fmt_pos(pos), ref[pos], got[pos]))


def check_rounded(what, ref, bound, got, dt):
    """mean/sum: |got - ref| <= acc_bound + 1 ulp(dt); infinities exactly.

    ref [B, C, D] float64, bound [B, C] (fp32 accumulation), got float values.
    """
    ref = np.asarray(ref, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    if ref.shape != got.shape:
        return (what, False, "shape: expected %s, got %s" % (ref.shape, got.shape))
    rr = orc.round_to(ref, dt)
    tol = bound[..., None] + np.maximum(orc.ulp(rr, dt), orc.ulp(got, dt))
    special = ~np.isfinite(rr)
    with np.errstate(invalid="ignore"):
        bad = np.where(special, ~((rr == got) | (np.isnan(rr) & np.isnan(got))),
                       ~(np.abs(got - ref) <= tol))
    # Rows of no segment must be exactly 0.
    zero_rows = (ref == 0) & (bound[..., None] == 0)
    bad |= zero_rows & (got != 0)
    if not bad.any():
        with np.errstate(invalid="ignore"):
            used = np.where(special | zero_rows, 0.0, np.abs(got - ref) / tol)
        return (what + " [max |err| / tolerance %.2f]" % (
            float(np.nanmax(used)) if used.size else 0.0), True, "")
    pos = tuple(np.argwhere(bad)[0])
    return (what, False, "%d values outside fp32-accumulation bound + 1 ulp(%s); first at %s: "
            "ref %.9g (rounded %.9g), got %.9g, tol %.3g" % (
                int(bad.sum()), dt, _fmt_pos(pos), ref[pos], rr[pos], got[pos], tol[pos]))


def boundary_checks(q, k, lengths, got_p, got_b, prefix="", p_atol=P_ATOL):
    ref_p, ref_b = orc.boundary(q, k, lengths)
    got_p = np.asarray(got_p, dtype=np.float32)
    got_b = np.asarray(got_b).astype(bool)
    checks = [check_close_nan(prefix + "p", ref_p, got_p, 0.0, p_atol)]
    B, L = ref_p.shape
    struct = np.zeros((B, L), dtype=bool)
    for b in range(B):
        n = orc.valid_length(lengths, b, L)
        struct[b, n:] = True
        if n >= 1:
            struct[b, 0] = True
    checks.append(check_exact(prefix + "p[0] = 1, padding p = 0 (exact)",
                              ref_p[struct].astype(np.float32), got_p[struct]))
    ambiguous = (np.abs(ref_p - 0.5) <= P_AMBIGUOUS) & (ref_p != 0.5)
    namb = int(ambiguous.sum())
    checks.append(check_exact(
        prefix + "boundaries" + (" (%d within %g of 0.5 not compared)" % (namb, P_AMBIGUOUS)
                                 if namb else ""),
        np.where(ambiguous, False, ref_b), np.where(ambiguous, False, got_b)))
    checks.append(check_exact(prefix + "boundaries == (Winnow's p > 0.5)", got_p > 0.5, got_b))
    return checks


def segment_checks(x, bnd, lengths, red, C, dt, got_out, got_cnt, prefix=""):
    ref, cnt, bound = orc.segment_reduce(x, bnd, lengths, red, C)
    checks = [check_exact(prefix + "count", cnt, got_cnt)]
    got_v = as_values(got_out, dt)
    what = prefix + "segment " + red
    if red == "first":
        checks.append(check_bits(what, ref.astype(np.float32), got_out, dt))
    elif red == "max":
        checks.append(check_values_equal(what + " (values, NaN == NaN)", ref, got_v))
    else:
        checks.append(check_rounded(what, ref, bound, got_v, dt))
    return checks


# ---------------------------------------------------------------------------
# Program builders
# ---------------------------------------------------------------------------


def make_boundary(module, name, B, L, D, dt, lengths=True):
    args = [("q", (B, L, D), dt), ("k", (B, L, D), dt)]
    if lengths:
        args.append(("lengths", (B,), "i32"))
    results = [("p", (B, L), "f32"), ("b", (B, L), "i1")]
    tt = _Types(args, results)
    body = [boundary_op("p", "b", tt, "q", "k", "lengths" if lengths else None)]

    def check(inp, out):
        return boundary_checks(inp["q"], inp["k"], inp.get("lengths"), out["p"], out["b"])

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, L=L, D=D, dt=dt, lengths=lengths)
    return p


def make_segment(module, name, B, L, D, C, dt, reduction, lengths=True, explicit=True):
    args = [("x", (B, L, D), dt), ("b", (B, L), "i1")]
    if lengths:
        args.append(("lengths", (B,), "i32"))
    results = [("out", (B, C, D), dt), ("count", (B,), "i32")]
    tt = _Types(args, results)
    body = [segment_op("out", "count", tt, "x", "b", "lengths" if lengths else None,
                       reduction if explicit else None)]

    def check(inp, out):
        return segment_checks(inp["x"], inp["b"], inp.get("lengths"), reduction, C, dt,
                              out["out"], out["count"])

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, L=L, D=D, C=C, dt=dt, lengths=lengths, reduction=reduction)
    return p


def check_same_floats(what, exp, got, dt):
    """Bit-exact, except that any NaN matches any NaN (payloads are not
    part of the semantics)."""
    exp = np.asarray(exp, dtype=np.float32)
    got = np.asarray(as_values(got, dt), dtype=np.float32)
    if exp.shape != got.shape:
        return (what, False, "shape: expected %s, got %s" % (exp.shape, got.shape))
    en, gn = np.isnan(exp), np.isnan(got)
    same = (en & gn) | (exp.view(np.uint32) == got.view(np.uint32))
    if same.all():
        return (what + " [bit-exact]", True, "")
    pos = tuple(np.argwhere(~same)[0])
    return (what, False, "%d values differ in bits; first at %s: expected %.9g, got %.9g" % (
        int((~same).sum()), _fmt_pos(pos), exp[pos], got[pos]))


def make_ema(module, name, B, C, D, dt, epsilon=None, scan_block=None):
    args = [("z", (B, C, D), dt), ("gates", (B, C), "f32"), ("count", (B,), "i32")]
    results = [("zbar", (B, C, D), "f32")]
    tt = _Types(args, results)
    body = [ema_op("zbar", tt, "z", "gates", "count", epsilon, scan_block)]
    eps = 1e-4 if epsilon is None else epsilon
    block = 64 if scan_block is None else scan_block

    def check(inp, out):
        ref = orc.ema_scan(inp["z"], inp["gates"], inp["count"], eps)
        order = orc.ema_scan_fp32(as_values(inp["z"], dt), inp["gates"], inp["count"], eps, block)
        return [check_close_nan("ema_scan (eps %g)" % eps, ref, out["zbar"], EMA_RTOL, EMA_ATOL),
                check_same_floats("ema_scan fp32 order (scan_block %d)" % block, order,
                                  out["zbar"], "f32")]

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, C=C, D=D, dt=dt)
    return p


def make_expand(module, name, B, C, L, D, dt, res_dt=None, lengths=True):
    args = [("z", (B, C, D), dt), ("b", (B, L), "i1")]
    if lengths:
        args.append(("lengths", (B,), "i32"))
    if res_dt:
        args.append(("residual", (B, L, D), res_dt))
    odt = res_dt or dt
    results = [("out", (B, L, D), odt)]
    tt = _Types(args, results)
    body = [expand_op("out", tt, "z", "b", "lengths" if lengths else None,
                      "residual" if res_dt else None)]

    def check(inp, out):
        ref = orc.expand(inp["z"], inp["b"], inp.get("lengths"), inp.get("residual"), res_dt)
        what = "expand" + (" + %s residual" % res_dt if res_dt else " (copy)")
        return [check_bits(what, ref, out["out"], odt)]

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, C=C, L=L, D=D, dt=dt, res_dt=res_dt, lengths=lengths)
    return p


def make_dechunk(module, name, B, C, L, D, dt, epsilon=None, scan_block=None):
    """ema_scan -> expand with residual, the EMA result not returned: the
    compiler streams the pair (the [B, C, D] EMA tensor is never stored).
    Judged against expand(ema_scan(...)) of the oracles: within the EMA's
    tolerance, then one rounding to the element type."""
    args = [("z", (B, C, D), dt), ("gates", (B, C), "f32"), ("n", (B,), "i32"),
            ("b", (B, L), "i1"), ("lengths", (B,), "i32"), ("h", (B, L, D), dt)]
    results = [("out", (B, L, D), dt)]
    tt = _Types(args, results + [("zbar", (B, C, D), "f32")])
    body = [
        ema_op("zbar", tt, "z", "gates", "n", epsilon, scan_block),
        expand_op("out", tt, "zbar", "b", "lengths", "h"),
    ]
    eps = 1e-4 if epsilon is None else epsilon
    block = 64 if scan_block is None else scan_block
    rounding = {"f32": 1e-5, "bf16": 2.0 ** -7, "f16": 2.0 ** -10}[dt]

    def check(inp, out):
        zbar = orc.ema_scan(as_values(inp["z"], dt), inp["gates"], inp["n"], eps)
        ref = orc.expand(zbar, inp["b"].astype(bool), inp["lengths"], inp["h"], dt)
        atol = EMA_RTOL * (float(np.nanmax(np.abs(zbar), initial=0.0)) + 1.0)
        order = orc.ema_scan_fp32(as_values(inp["z"], dt), inp["gates"], inp["n"], eps, block)
        exact = orc.expand(order, inp["b"].astype(bool), inp["lengths"], inp["h"], dt)
        return [check_close_nan("out = expand(ema_scan(z)) + h, streamed",
                                ref, as_values(out["out"], dt),
                                rounding + EMA_RTOL, atol),
                check_same_floats("streamed, fp32 order (scan_block %d)" % block, exact,
                                  out["out"], dt)]

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, C=C, L=L, D=D, dt=dt)
    return p


def make_hnet(module, name, B, L, D, dt, epsilon=None):
    """The H-Net chain: boundary -> segment_reduce (first, mean) -> select ->
    compact (gates) -> ema_scan -> expand with residual."""
    args = [("q", (B, L, D), dt), ("k", (B, L, D), dt), ("lengths", (B,), "i32"),
            ("h", (B, L, D), dt)]
    results = [("p", (B, L), "f32"), ("b", (B, L), "i1"),
               ("chunks", (B, L, D), dt), ("n", (B,), "i32"),
               ("pooled", (B, L, D), dt), ("pn", (B,), "i32"),
               ("idx", (B, L), "i32"), ("cnt", (B,), "i32"),
               ("gates", (B, L), "f32"), ("map", (B, L), "i32"),
               ("zbar", (B, L, D), "f32"), ("out", (B, L, D), dt)]
    tt = _Types(args, results)
    budget = ("threshold", 0.5, "gt")
    body = [
        boundary_op("p", "b", tt, "q", "k", "lengths"),
        segment_op("chunks", "n", tt, "h", "b", "lengths"),
        segment_op("pooled", "pn", tt, "h", "b", "lengths", "mean"),
        select_op("idx", "cnt", tt, "p", budget, "lengths"),
        compact_op(["gates"], "map", tt, "idx", "cnt", ["p"]),
        ema_op("zbar", tt, "chunks", "gates", "n", epsilon),
        expand_op("out", tt, "zbar", "b", "lengths", "h"),
    ]
    eps = 1e-4 if epsilon is None else epsilon

    def check(inp, out):
        ln = inp["lengths"]
        c = boundary_checks(inp["q"], inp["k"], ln, out["p"], out["b"])
        gb = out["b"].astype(bool)
        c += segment_checks(inp["h"], gb, ln, "first", L, dt, out["chunks"], out["n"], "chunks: ")
        c += segment_checks(inp["h"], gb, ln, "mean", L, dt, out["pooled"], out["pn"], "pooled: ")
        got_p = np.asarray(out["p"], dtype=np.float32)
        ei, ec = porc.select(got_p, budget, L, ln)
        c.append(check_exact("select count (on Winnow's p)", ec, out["cnt"]))
        c.append(check_exact("select indices (on Winnow's p)", ei, out["idx"]))
        c.append(check_exact("select count == segment count", out["n"], out["cnt"]))
        (eg,), emap = porc.compact(out["idx"], out["cnt"], [got_p])
        c.append(check_bits("gates", eg, out["gates"], "f32"))
        c.append(check_exact("old_to_new", emap, out["map"]))
        chunks = as_values(out["chunks"], dt)
        ref = orc.ema_scan(chunks, out["gates"], out["n"], eps)
        c.append(check_close_nan("zbar (on Winnow's chunks/gates)", ref, out["zbar"],
                                 EMA_RTOL, EMA_ATOL))
        ref = orc.expand(out["zbar"], gb, ln, inp["h"], dt)
        c.append(check_bits("out = expand(zbar) + h", ref, out["out"], dt))
        return c

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, L=L, D=D, dt=dt)
    return p


# ---------------------------------------------------------------------------
# Input generators
# ---------------------------------------------------------------------------


def random_lengths(rng, B, L, oob=True):
    lo, hi = (-2, L + 3) if oob else (0, L + 1)
    ls = rng.integers(lo, hi, size=B)
    ls[rng.integers(0, B)] = L
    return ls.astype(np.int32)


def edge_lengths(B, L):
    """{0, 1, L} in one batch (then L - 2, ...)."""
    return np.array(([0, 1, L, max(L - 2, 0)] * B)[:B], dtype=np.int32)


def qk_rows(rng, L, D, kind):
    """q, k for one row of length L whose consecutive pairs have a given kind.

    parallel: k[t] = c q[t-1] (p = 0, no boundary after the first);
    antiparallel: k[t] = -c q[t-1] (p = 1, every token a boundary);
    orthogonal: disjoint supports (cos = 0 exactly: p = 0.5, not a boundary);
    zero: alternating zero q / zero k (p = 0.5); random.
    Small integers so every dtype holds them exactly.
    """
    q = rng.integers(-3, 4, size=(L, D)).astype(np.float32)
    k = rng.integers(-3, 4, size=(L, D)).astype(np.float32)
    q[np.all(q == 0, axis=1), 0] = 1.0
    if kind == "random":
        return rng.standard_normal((L, D)).astype(np.float32), rng.standard_normal((L, D)).astype(np.float32)
    for t in range(1, L):
        if kind == "parallel":
            k[t] = q[t - 1] * float(rng.integers(1, 4))
        elif kind == "antiparallel":
            k[t] = -q[t - 1] * float(rng.integers(1, 4))
        elif kind == "orthogonal":
            half = D // 2 if D > 1 else 1
            lo, hi = (slice(0, half), slice(half, D)) if t % 2 else (slice(half, D), slice(0, half))
            q[t - 1, hi] = 0.0
            q[t - 1, lo] = rng.integers(1, 4, size=q[t - 1, lo].shape)
            k[t, lo] = 0.0
            k[t, hi] = rng.integers(-3, 4, size=k[t, hi].shape)
        elif kind == "near_half":
            # k[t] orthogonal to q[t-1] plus a tiny multiple of it: |p - 0.5| < 1e-6.
            qq = q[t - 1].astype(np.float64)
            kk = rng.standard_normal(D)
            kk -= qq * (kk @ qq) / (qq @ qq)
            kk += qq * (rng.choice([-1.0, 1.0]) * 1e-7 * np.linalg.norm(kk) / np.linalg.norm(qq))
            k[t] = kk.astype(np.float32)
        elif kind == "zero":
            if t % 2:
                q[t - 1] = 0.0
            else:
                k[t] = 0.0
        else:
            raise ValueError(kind)
    return q, k


def boundary_inputs(rng, meta, kinds, lengths=None):
    B, L, D = meta["B"], meta["L"], meta["D"]
    q = np.zeros((B, L, D), np.float32)
    k = np.zeros((B, L, D), np.float32)
    for b in range(B):
        q[b], k[b] = qk_rows(rng, L, D, kinds[b % len(kinds)])
    inp = {"q": q, "k": k}
    if meta["lengths"]:
        inp["lengths"] = (np.asarray(lengths, np.int32) if lengths is not None
                          else random_lengths(rng, B, L))
    return inp


def mixed_boundary_row(rng, L, D):
    """One row mixing all kinds, position by position (also near-0.5 pairs)."""
    q = rng.standard_normal((L, D)).astype(np.float32)
    k = rng.standard_normal((L, D)).astype(np.float32)
    for t in range(1, L):
        r = t % 5
        if r == 0:
            k[t] = -q[t - 1]
        elif r == 1:
            k[t] = 2 * q[t - 1]
        elif r == 2 and D >= 2:
            q[t - 1] = 0
            q[t - 1, 0] = 1
            k[t] = 0
            k[t, 1] = -2
        elif r == 3:
            k[t] = 0
        # r == 4: random
    return q, k


def random_boundaries(rng, B, L, prob):
    return rng.random((B, L)) < prob


def random_activations(rng, shape, dt, specials=False):
    x = rng.standard_normal(shape).astype(np.float32)
    if specials:
        flat = x.reshape(-1)
        flat[rng.random(flat.size) < 0.05] = -0.0
    return x


# ---------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------


def build_corpus(rng, n_random):
    progs = []
    R = n_random

    # ---- tok.boundary ------------------------------------------------------------
    bcfg = [
        # name, B, L, D, dt, lengths
        ("bd_f32_L7", 4, 7, 4, "f32", True),
        ("bd_bf16_L9", 4, 9, 8, "bf16", True),
        ("bd_f16_L8", 4, 8, 16, "f16", True),
        ("bd_f32_nolen_L6", 3, 6, 3, "f32", False),
        ("bd_f32_L1", 3, 1, 2, "f32", True),
    ]
    for nm, B, L, D, dt, ln in bcfg:
        p = make_boundary("boundary_f16" if dt == "f16" else "boundary", nm, B, L, D, dt, ln)
        m = p.meta
        el = edge_lengths(B, L) if ln else None
        full = np.full((B,), L, np.int32) if ln else None
        p.add("exact_0.5(orthogonal)", boundary_inputs(rng, m, ["orthogonal"], full))
        p.add("zero_vectors(p=0.5)", boundary_inputs(rng, m, ["zero"], full))
        p.add("all_boundary(antiparallel)", boundary_inputs(rng, m, ["antiparallel"], full))
        p.add("no_boundary_after_first(parallel)", boundary_inputs(rng, m, ["parallel"], full))
        p.add("kinds_per_row/lengths{0,1,L,..}",
              boundary_inputs(rng, m, ["antiparallel", "orthogonal", "parallel", "zero"], el))
        if ln:
            p.add("lengths_out_of_range{-3,L+5}", boundary_inputs(
                rng, m, ["antiparallel", "random"], np.array(([-3, L + 5] * B)[:B], np.int32)))
            p.add("lengths{INT32_MIN,INT32_MAX}", boundary_inputs(
                rng, m, ["antiparallel", "random"], np.array(([I32_MIN, I32_MAX] * B)[:B], np.int32)))
            p.add("padding_garbage(antiparallel)/len{3,..}", boundary_inputs(
                rng, m, ["antiparallel"], np.array(([3, 5, 2, 1] * B)[:B], np.int32)))
        p.add("near_0.5(bit not compared)", boundary_inputs(rng, m, ["near_half"], full))
        mix = boundary_inputs(rng, m, ["random"], full)
        for b in range(B):
            mix["q"][b], mix["k"][b] = mixed_boundary_row(rng, L, D)
        p.add("mixed_positions", mix)
        if dt != "f16":  # ||q|| < 1e-12: n(q) = q / 1e-12 is not a unit vector
            tiny = boundary_inputs(rng, m, ["parallel"], full)
            tiny["q"][:, :-1] *= np.float32(5e-14)  # q[t-1] tiny and parallel to k[t]
            p.add("tiny_norm(<1e-12)", tiny)
        for r in range(R):  # small D: cosines spread over [-1, 1]
            p.add("random%d" % r, boundary_inputs(rng, m, ["random"]))
        progs.append(p)

    # ---- tok.segment_reduce ---------------------------------------------------
    B, L, D = 4, 9, 3
    given = np.zeros((B, L), bool)
    given[0, [2, 3, 6]] = True           # no boundary at 0: 0 starts a segment anyway
    given[1, [0, 1, 4, 7, 8]] = True     # length 5: 7, 8 are padding boundaries
    given[2, :] = True                   # length 1: only segment 0
    given[3, [0, 8]] = True              # length 0: nothing
    given_len = np.array([L, 5, 1, 0], np.int32)
    seg_cfgs = []
    for dt in ("f32", "bf16", "f16"):
        for red in ("first", "mean", "max", "sum"):
            seg_cfgs.append(("seg_%s_%s" % (dt, red), B, L, D, L, dt, red, True,
                             not (dt == "f32" and red == "first")))
    seg_cfgs += [
        ("seg_f32_mean_cap12_nolen", B, L, D, L + 3, "f32", "mean", False, True),
        ("seg_bf16_first_cap11_nolen", B, L, D, L + 2, "bf16", "first", False, True),
        ("seg_bf16_mean_L64", 3, 64, 8, 64, "bf16", "mean", True, True),
        ("seg_f32_sum_L64", 3, 64, 8, 64, "f32", "sum", True, True),
        ("seg_f16_mean_L64", 3, 64, 8, 64, "f16", "mean", True, True),
    ]
    for nm, B_, L_, D_, C_, dt, red, ln, explicit in seg_cfgs:
        mod = "segment_f16" if dt == "f16" else "segment"
        p = make_segment(mod, nm, B_, L_, D_, C_, dt, red, ln, explicit)

        def sinp(bnd, lens=None, x=None, B_=B_, L_=L_, D_=D_, dt=dt, ln=ln):
            d = {"x": random_activations(rng, (B_, L_, D_), dt, specials=True) if x is None else x,
                 "b": np.asarray(bnd, bool)}
            if ln:
                d["lengths"] = (np.asarray(lens, np.int32) if lens is not None
                                else random_lengths(rng, B_, L_))
            return d

        if L_ == L:
            p.add("given{b0 absent, padding boundaries}/len{L,5,1,0}", sinp(given, given_len))
            p.add("given_no_lengths_argument_semantics/len{L}*B", sinp(given, [L] * B))
            if ln:
                p.add("lengths_out_of_range{-2,L+4,3,0}", sinp(given, [-2, L + 4, 3, 0]))
                p.add("lengths{INT32_MAX,INT32_MIN,..}", sinp(given, [I32_MAX, I32_MIN, 3, 0]))
        else:
            ls = [L_, L_ // 2, 1, 0][:B_]
            b = random_boundaries(rng, B_, L_, 0.15)
            b[0, 0] = False
            p.add("long_segments/len{L,L/2,1}", sinp(b, ls))
            b = np.zeros((B_, L_), bool)
            b[0, L_ - 1] = True
            p.add("one_segment_L-1+one_token", sinp(b, [L_] * B_))
            if dt != "f32":
                # Large same-sign values: the sum grows past where a low
                # precision accumulator would lose most of its bits.
                x = (rng.random((B_, L_, D_)) * 4 + 60).astype(np.float32)
                p.add("large_same_sign", sinp(np.zeros((B_, L_), bool), [L_] * B_, x))
        p.add("all_boundaries", sinp(np.ones((B_, L_), bool)))
        p.add("no_boundaries", sinp(np.zeros((B_, L_), bool)))
        if red == "max":
            x = random_activations(rng, (B_, L_, D_), dt)
            x[0, 1, 0] = np.nan       # segment 0 of row 0 (length L)
            x[1, 6, 1] = np.nan       # padding of row 1 (length 5): must not leak
            x[0, 4, 2] = -np.inf
            x[0, 5, :] = -np.inf      # a segment [3, 6) with -inf rows
            p.add("nan_and_-inf(nan in padding ignored)", sinp(given, given_len, x))
            x = -np.abs(random_activations(rng, (B_, L_, D_), dt)) - 1
            p.add("all_negative(0 is not the identity)", sinp(given, given_len, x))
        if dt == "f16" and red in ("sum", "mean"):
            x = (rng.random((B_, L_, D_)) * 1000 + 30000).astype(np.float32)
            p.add("f16_large(sum past 65504%s)" % (": inf" if red == "sum" else ", mean finite"),
                  sinp(np.zeros((B_, L_), bool), [L_] * B_, x))
        for r in range(R):
            p.add("random%d" % r, sinp(random_boundaries(rng, B_, L_, rng.choice([0.1, 0.3, 0.6]))))
        progs.append(p)

    # ---- tok.ema_scan ---------------------------------------------------------
    ema_cfgs = [
        ("ema_f32", 4, 6, 4, "f32", None),
        ("ema_bf16_eps0", 4, 7, 5, "bf16", 0.0),
        ("ema_f16_eps_quarter", 4, 6, 3, "f16", 0.25),
        ("ema_f32_eps_1em7_C33", 3, 33, 8, "f32", 1e-7),
        # blocks of the fp32 order: partial last block, one chunk per block,
        # a block past the capacity, and many blocks
        ("ema_f32_C33_block4", 3, 33, 8, "f32", (None, 4)),
        ("ema_bf16_C9_block1", 3, 9, 5, "bf16", (0.0, 1)),
        ("ema_f32_C6_block7", 3, 6, 3, "f32", (None, 7)),
        ("ema_bf16_C200_block64", 3, 200, 6, "bf16", (None, None)),
    ]
    for nm, B, C, D, dt, eps in ema_cfgs:
        eps, block = eps if isinstance(eps, tuple) else (eps, None)
        p = make_ema("ema_f16" if dt == "f16" else "ema", nm, B, C, D, dt, eps, block)

        def einp(gates, count, B=B, C=C, D=D, dt=dt):
            return {"z": random_activations(rng, (B, C, D), dt),
                    "gates": np.asarray(gates, np.float32),
                    "count": np.asarray(count, np.int32)}

        g = rng.random((B, C)).astype(np.float32)
        g[:, 0] = 1.0  # p_0 = 1: the first chunk is scaled by 1 - eps
        p.add("p0=1/count{C,..}", einp(g, [C] * B))
        cnt = np.array(([C + 3, -2, 0, 1] * B)[:B], np.int32)
        p.add("count{C+3,-2,0,1}(clamped)", einp(g, cnt))
        p.add("count{INT32_MAX,INT32_MIN,..}(clamped)",
              einp(g, np.array(([I32_MAX, I32_MIN, C, 1] * B)[:B], np.int32)))
        ge = np.array(([0.0, 1.0, 1.5, -0.5, 0.5, 1e-5, 1 - 1e-5] * C)[:C], np.float32)
        p.add("gates{0,1,>1,<0,0.5,1e-5,1-1e-5}", einp(np.tile(ge, (B, 1)), [C, C - 1, C, 2][:B]))
        gn = g.copy()
        gn[0, 2] = np.nan
        gn[1, 0] = np.nan
        gn[2, C - 1] = np.nan  # beyond count: must not show
        p.add("nan_gate(propagates to later chunks)", einp(gn, [C, C, C - 1, C][:B]))
        for r in range(R):
            p.add("random%d" % r, einp(rng.random((B, C)).astype(np.float32),
                                       rng.integers(-1, C + 2, size=B)))
        progs.append(p)

    # ---- tok.expand -----------------------------------------------------------
    ex_cfgs = [
        # name, B, C, L, D, dt, res_dt, lengths
        ("ex_f32", 4, 9, 9, 3, "f32", None, True),
        ("ex_bf16", 4, 9, 9, 3, "bf16", None, True),
        ("ex_f16_nolen", 4, 9, 9, 3, "f16", None, False),
        ("ex_f32_res_f32", 4, 9, 9, 3, "f32", "f32", True),
        ("ex_f32_res_bf16", 4, 9, 9, 4, "f32", "bf16", True),
        ("ex_bf16_res_f32", 4, 9, 9, 3, "bf16", "f32", True),
        ("ex_f16_res_bf16", 4, 9, 9, 3, "f16", "bf16", True),
        ("ex_bf16_res_f16", 4, 9, 9, 3, "bf16", "f16", True),
        ("ex_f32_C3_res_f32", 4, 3, 9, 3, "f32", "f32", True),
        ("ex_bf16_C12_nolen", 4, 12, 9, 3, "bf16", None, False),
        ("ex_f32_C1_res_bf16", 4, 1, 9, 2, "f32", "bf16", True),
    ]
    for nm, B, C, L, D, dt, rdt, ln in ex_cfgs:
        mod = "expand_f16" if "f16" in (dt, rdt) else "expand"
        p = make_expand(mod, nm, B, C, L, D, dt, rdt, ln)

        def xinp(bnd, lens=None, B=B, C=C, L=L, D=D, dt=dt, rdt=rdt, ln=ln):
            d = {"z": random_activations(rng, (B, C, D), dt, specials=True),
                 "b": np.asarray(bnd, bool)}
            if ln:
                d["lengths"] = (np.asarray(lens, np.int32) if lens is not None
                                else random_lengths(rng, B, L))
            if rdt:
                d["residual"] = random_activations(rng, (B, L, D), rdt, specials=True)
            return d

        p.add("given{b0 absent, padding boundaries}/len{L,5,1,0}", xinp(given, given_len))
        p.add("all_boundaries%s" % ("(segments > C -> 0)" if C < L else ""),
              xinp(np.ones((B, L), bool), [L] * B))
        p.add("no_boundaries", xinp(np.zeros((B, L), bool), [L, 4, 1, 0]))
        if ln:
            p.add("lengths{L+3,-1,..}", xinp(random_boundaries(rng, B, L, 0.5), [L + 3, -1, 2, L]))
            p.add("lengths{INT32_MAX,INT32_MIN,..}",
                  xinp(random_boundaries(rng, B, L, 0.5), [I32_MAX, I32_MIN, 2, L]))
        if rdt:
            # Sums that round: residual much larger/smaller than the input.
            d = xinp(random_boundaries(rng, B, L, 0.4), [L] * B)
            d["residual"] = d["residual"] * np.float32(300.0)
            p.add("rounding_sums", d)
        for r in range(R):
            p.add("random%d" % r, xinp(random_boundaries(rng, B, L, rng.choice([0.2, 0.5, 0.8]))))
        progs.append(p)

    # ---- dechunk: ema_scan -> expand streamed ----------------------------------
    for nm, B, C, L, D, dt, eps in (("dechunk_f32", 3, 6, 11, 4, "f32", None),
                                    ("dechunk_bf16", 2, 5, 16, 8, "bf16", None),
                                    ("dechunk_f16", 3, 4, 9, 6, "f16", 0.0),
                                    # past one GPU tile of segment starts
                                    # (2048 tokens) and one trip of EMA
                                    # chunks (32)
                                    ("dechunk_bf16_long", 1, 400, 2100, 8, "bf16", None),
                                    ("dechunk_f32_block3", 3, 20, 40, 4, "f32", (None, 3)),
                                    # a lone row the CPU sweeps in parts
                                    # (runs of scan blocks, up to 8)
                                    ("dechunk_f32_row_parts", 1, 40, 120, 4, "f32", (None, 3))):
        eps, block = eps if isinstance(eps, tuple) else (eps, None)
        p = make_dechunk("dechunk_f16" if dt == "f16" else "dechunk", nm, B, C,
                         L, D, dt, eps, block)
        for r in range(R + 2):
            p.add("random%d" % r, dict(
                z=random_activations(rng, (B, C, D), dt),
                gates=rng.uniform(-0.2, 1.2, size=(B, C)).astype(np.float32),
                n=rng.integers(-1, C + 2, size=B).astype(np.int32),
                b=random_boundaries(rng, B, L, rng.choice([0.2, 0.5, 0.8])),
                lengths=random_lengths(rng, B, L),
                h=random_activations(rng, (B, L, D), dt)))
        if B == 1:
            # Live chunks ending inside, at the end of and before a part,
            # none, all; segments past the capacity; a short row.
            for n, rate, length in ((0, 0.5, L), (1, 0.5, L), (3, 0.5, L),
                                    (9, 0.3, L), (C - 1, 0.5, L), (C, 0.9, L),
                                    (C, 0.3, L // 3), (C + 5, 1.0, L)):
                p.add("n%d_rate%g_len%d" % (n, rate, length), dict(
                    z=random_activations(rng, (B, C, D), dt),
                    gates=rng.uniform(-0.2, 1.2, size=(B, C)).astype(np.float32),
                    n=np.array([n], np.int32),
                    b=random_boundaries(rng, B, L, rate),
                    lengths=np.array([length], np.int32),
                    h=random_activations(rng, (B, L, D), dt)))
        progs.append(p)

    # ---- pipelines: the H-Net chain ---------------------------------------------
    for nm, B, L, D, dt, eps in (("hnet_f32_L11", 3, 11, 4, "f32", None),
                                 ("hnet_bf16_L16", 3, 16, 8, "bf16", None),
                                 ("hnet_f16_L10_eps0", 4, 10, 6, "f16", 0.0)):
        p = make_hnet("pipeline_f16" if dt == "f16" else "pipeline", nm, B, L, D, dt, eps)
        m = dict(p.meta, lengths=True)

        def hinp(kinds, lens, B=B, L=L, D=D, dt=dt, m=m):
            d = boundary_inputs(rng, m, kinds, lens)
            d["h"] = random_activations(rng, (B, L, D), dt, specials=True)
            return d

        p.add("kinds_per_row/lengths{0,1,L,..}",
              hinp(["antiparallel", "orthogonal", "parallel", "zero"], edge_lengths(B, L)))
        d = hinp(["random"], [L] * B)
        for b in range(B):
            d["q"][b], d["k"][b] = mixed_boundary_row(rng, L, D)
        p.add("mixed_positions", d)
        p.add("all_boundary/len{L,..,L+2}", hinp(["antiparallel"], ([L, L - 3, L + 2, 2] * B)[:B]))
        for r in range(R):
            p.add("random%d" % r, hinp(["random"], random_lengths(rng, B, L)))
        progs.append(p)

    # ---- batch 1 (B = 1) --------------------------------------------------------
    # A batch of one gives 1-element batch loops (and grid axes under the GPU
    # mapping). Built last so that the draws of the cases above do not shift.
    B = 1
    L, D = 9, 8
    p = make_boundary("boundary", "bd_bf16_L9_b1", B, L, D, "bf16", True)
    m = p.meta
    for kind in ("orthogonal", "antiparallel", "parallel", "zero"):
        p.add("%s/len{L}" % kind, boundary_inputs(rng, m, [kind], [L]))
    p.add("antiparallel/len{5}", boundary_inputs(rng, m, ["antiparallel"], [5]))
    p.add("len{0}", boundary_inputs(rng, m, ["random"], [0]))
    mix = boundary_inputs(rng, m, ["random"], [L])
    mix["q"][0], mix["k"][0] = mixed_boundary_row(rng, L, D)
    p.add("mixed_positions", mix)
    for r in range(R):
        p.add("random%d" % r, boundary_inputs(rng, m, ["random"]))
    progs.append(p)

    L, D = 9, 3
    for nm, C_, red in (("seg_f32_mean_b1", L, "mean"), ("seg_bf16_max_b1", L, "max")):
        dt = nm.split("_")[1]
        p = make_segment("segment", nm, B, L, D, C_, dt, red, True, True)

        def sinp1(bnd, lens, dt=dt):
            return {"x": random_activations(rng, (B, L, D), dt, specials=True),
                    "b": np.asarray(bnd, bool), "lengths": np.asarray(lens, np.int32)}

        p.add("given{b0 absent, padding boundaries}/len{L}", sinp1(given[:1], [L]))
        p.add("given{b0 absent, padding boundaries}/len{5}", sinp1(given[:1], [5]))
        p.add("all_boundaries/len{L+4}", sinp1(np.ones((B, L), bool), [L + 4]))
        p.add("no_boundaries/len{0}", sinp1(np.zeros((B, L), bool), [0]))
        for r in range(R):
            p.add("random%d" % r, sinp1(random_boundaries(rng, B, L, 0.3), random_lengths(rng, B, L)))
        progs.append(p)

    C, D = 7, 5
    p = make_ema("ema", "ema_bf16_eps0_b1", B, C, D, "bf16", 0.0)

    def einp1(gates, count):
        return {"z": random_activations(rng, (B, C, D), "bf16"),
                "gates": np.asarray(gates, np.float32), "count": np.asarray(count, np.int32)}

    g = rng.random((B, C)).astype(np.float32)
    g[:, 0] = 1.0
    p.add("p0=1/count{C}", einp1(g, [C]))
    p.add("count{C+3}(clamped)", einp1(g, [C + 3]))
    p.add("count{-2}(clamped)", einp1(g, [-2]))
    gn = g.copy()
    gn[0, 2] = np.nan
    p.add("nan_gate(propagates to later chunks)", einp1(gn, [C]))
    for r in range(R):
        p.add("random%d" % r, einp1(rng.random((B, C)).astype(np.float32), rng.integers(-1, C + 2, size=B)))
    progs.append(p)

    C, L, D = 9, 9, 3
    p = make_expand("expand", "ex_bf16_res_f32_b1", B, C, L, D, "bf16", "f32", True)

    def xinp1(bnd, lens):
        return {"z": random_activations(rng, (B, C, D), "bf16", specials=True),
                "b": np.asarray(bnd, bool), "lengths": np.asarray(lens, np.int32),
                "residual": random_activations(rng, (B, L, D), "f32", specials=True)}

    p.add("given{b0 absent, padding boundaries}/len{L}", xinp1(given[:1], [L]))
    p.add("given{b0 absent, padding boundaries}/len{5}", xinp1(given[:1], [5]))
    p.add("all_boundaries", xinp1(np.ones((B, L), bool), [L]))
    p.add("no_boundaries/len{L+3}", xinp1(np.zeros((B, L), bool), [L + 3]))
    for r in range(R):
        p.add("random%d" % r, xinp1(random_boundaries(rng, B, L, 0.5), random_lengths(rng, B, L)))
    progs.append(p)

    L, D = 16, 8
    p = make_hnet("pipeline", "hnet_bf16_L16_b1", B, L, D, "bf16", None)
    m = dict(p.meta, lengths=True)

    def hinp1(kinds, lens):
        d = boundary_inputs(rng, m, kinds, lens)
        d["h"] = random_activations(rng, (B, L, D), "bf16", specials=True)
        return d

    d = hinp1(["random"], [L])
    d["q"][0], d["k"][0] = mixed_boundary_row(rng, L, D)
    p.add("mixed_positions", d)
    p.add("all_boundary/len{L-3}", hinp1(["antiparallel"], [L - 3]))
    p.add("len{0}", hinp1(["random"], [0]))
    for r in range(R):
        p.add("random%d" % r, hinp1(["random"], random_lengths(rng, B, L)))
    progs.append(p)

    return progs


# ---------------------------------------------------------------------------
# Running (also used by run_chunk_recipes.py)
# ---------------------------------------------------------------------------


def main():
    a = tool_args(__doc__.split("\n")[0]).parse_args()
    rng = np.random.default_rng(a.seed)
    progs = build_corpus(rng, 1 if a.quick else 3)
    if a.filter:
        progs = [p for p in progs if a.filter in p.name]
    return run_programs(progs, a, "run_chunk_oracle.py")


if __name__ == "__main__":
    sys.exit(main())
