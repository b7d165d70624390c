#!/usr/bin/python3
"""End-to-end checks of the KV-selection method recipes against the papers.

Compiles examples/tokenselect_soft_vote.mlir, recycled_attention_topk.mlir
and dycoke_kv_decode.mlir with winnow-compile, runs each on seeded bf16
inputs with winnow-run and compares with kv_methods_oracle.py (float64,
written from the papers' equations):

  * scores (TokenSelect's soft vote, Recycled Attention's per-KV-head
    attention, DyCoke's head-mean attention) within rtol 1e-4 / atol 1e-6 of
    the float64 equations;
  * the kept slots and counts exactly, as the paper's keep rule applied to
    the scores Winnow returned (initial + local + top-k; top-K per KV head;
    non-visual + top-K visual), and against the float64 scores exactly up to
    near-ties (a kept slot may score below a dropped one by at most 1e-5
    relative: fp32 may order two nearly equal scores either way); deliberate
    exact ties (repeated keys, a zero query) must go to the lower slot;
  * the gathered keys / values bit for bit and the positions (original
    slots) exactly, on the slots Winnow returned;
  * per method: TokenSelect's slots are the same for every head, Recycled
    Attention's differ between KV heads, DyCoke's per-head slots are the
    broadcast of its index list and every valid non-visual token is kept.

Cases: ragged lengths, a request shorter than the budget, length 0, exact
ties. --compile-flag=--emulate-cuda-on-cpu checks the GPU mapping.

Prints one line per check and a final `N passed, M failed`; exits 1 on any
failure. Run with Debian's /usr/bin/python3 (needs NumPy).

  run_kv_methods.py --compile winnow-compile --run winnow-run --workdir DIR
                    [--seed S] [--filter SUBSTR] [--compile-flag FLAG]
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import kv_methods_oracle as orc  # noqa: E402
import prune_oracle as porc  # noqa: E402  (bf16 rounding of the inputs only)
from run_prune_oracle import (  # noqa: E402
    Program, check_bits, check_close, check_exact, run_programs, tool_args)

TIE_TOL = 1e-5  # relative near-tie margin between float64 and fp32 scores


def recipe(file, name, args, results, check):
    p = Program(name, name, args, results, None, check)
    p.source = os.path.join(ROOT, "examples", file)
    return p


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


def bf16(x):
    return porc.round_to_bf16(np.asarray(x, np.float32)).astype(np.float64)


def qkv(rng, B, H, Hkv, T, d, kinds):
    """Query [B, H, 1, d], keys and values [B, Hkv, T, d] (float32), one
    kind per request:
      random -- heads of different sharpness, a sink at slot 0, a few
                needles per KV head aligned with one of its query heads;
      ties   -- keys repeat with period 5 (exact score ties everywhere);
      zero   -- a zero query (every logit 0: all scores tie)."""
    G = H // Hkv
    q = rng.standard_normal((B, H, 1, d))
    k = rng.standard_normal((B, Hkv, T, d))
    v = rng.standard_normal((B, Hkv, T, d))
    for b, kind in enumerate(kinds):
        if kind == "random":
            q[b] *= rng.uniform(0.3, 2.5, size=(H, 1, 1))  # sharp and flat heads
            for g in range(Hkv):
                k[b, g, 0] += 1.5 * q[b, g * G:(g + 1) * G, 0].mean(axis=0)  # sink
                for j in rng.choice(np.arange(1, T), size=16, replace=False):
                    h = g * G + int(rng.integers(0, G))
                    k[b, g, j] += 0.6 * q[b, h, 0]  # a needle of one head
        elif kind == "ties":
            base = rng.standard_normal((Hkv, 5, d))
            k[b] = base[:, np.arange(T) % 5]
        elif kind == "zero":
            q[b] = 0.0
        else:
            raise ValueError(kind)
    return q.astype(np.float32), k.astype(np.float32), v.astype(np.float32)


def periodic(k_b):
    return np.array_equal(k_b[:, 5:10], k_b[:, 0:5])


# ---------------------------------------------------------------------------
# Shared checks
# ---------------------------------------------------------------------------


def float64_topk_checks(what, scores64, lengths, cand_fn, got_lists, k):
    """Winnow's kept candidates against the float64 scores (near-ties)."""
    bad, notes = [], []
    for key, got in got_lists:
        cand = cand_fn(key)
        ok, detail = orc.topk_within(scores64[key], cand, got, k, TIE_TOL)
        if not ok:
            bad.append("%s: %s" % (key, detail))
        elif detail:
            notes.append("%s %s" % (key, detail))
    label = what + " (against the float64 scores%s)" % (
        "; " + ", ".join(notes[:3]) if notes else "")
    return (label, not bad, "; ".join(bad[:3]))


def gather_checks(out, keys, values):
    ek, pos = orc.gather_original(out["slots"], out["count"], keys)
    ev, _ = orc.gather_original(out["slots"], out["count"], values)
    return [check_bits("kept_keys (on Winnow's slots)", ek, out["kept_keys"], "bf16"),
            check_bits("kept_values (on Winnow's slots)", ev, out["kept_values"], "bf16"),
            check_exact("positions (original slots)", pos, out["positions"])]


def valid_row(slots, count):
    return [int(x) for x in slots[:max(int(count), 0)]]


# ---------------------------------------------------------------------------
# TokenSelect
# ---------------------------------------------------------------------------


def tokenselect(rng):
    B, H, Hkv, T, d = 2, 28, 4, 1024, 128
    N_INIT, N_LOCAL, K = 32, 128, 256
    C = N_INIT + N_LOCAL + K
    args = [("lengths", (B,), "i32"), ("query", (B, H, 1, d), "bf16"),
            ("keys", (B, Hkv, T, d), "bf16"), ("values", (B, Hkv, T, d), "bf16")]
    results = [("criticality", (B, T), "f32"), ("slots", (B, Hkv, C), "i32"),
               ("count", (B, Hkv), "i32"), ("kept_keys", (B, Hkv, C, d), "bf16"),
               ("kept_values", (B, Hkv, C, d), "bf16"), ("positions", (B, Hkv, C), "i32")]

    def check(inp, out):
        ln = inp["lengths"]
        S64 = orc.tokenselect_scores(inp["query"], inp["keys"], ln)
        c = [check_close("criticality = sum_h softmax_h(q k^T / sqrt(d))", S64,
                         out["criticality"])]
        S32 = np.asarray(out["criticality"], np.float64)
        ids, cnt = orc.pad_lists(orc.tokenselect_keep(S32, ln, N_INIT, N_LOCAL, K), C)
        c.append(check_exact("slots (initial + local + top-k on Winnow's scores)",
                             np.repeat(ids[:, None], Hkv, axis=1), out["slots"]))
        c.append(check_exact("count", np.repeat(cnt[:, None], Hkv, axis=1), out["count"]))

        def cand(b):
            n = min(max(int(ln[b]), 0), T)
            return [j for j in range(N_INIT, max(n - N_LOCAL, 0))]
        got = [(b, valid_row(out["slots"][b, 0], out["count"][b, 0])) for b in range(B)]
        c.append(float64_topk_checks("top-k of the soft vote", S64, ln, cand, got, K))
        fixed_ok = all(
            set(range(min(N_INIT, n))) | set(range(max(n - N_LOCAL, 0), n)) <= set(g)
            for (b, g), n in ((bg, min(max(int(ln[bg[0]]), 0), T)) for bg in got))
        c.append(("initial tokens and local window kept", fixed_ok, ""))
        # The inputs tell the soft vote from an unnormalised vote: summing the
        # raw q . k logits over heads (no per-head softmax) keeps other tokens.
        raw = orc._logits(inp["query"], inp["keys"], None).sum(axis=1)
        for b, g in got:
            n = min(max(int(ln[b]), 0), T)
            if n > C and not periodic(inp["keys"][b]) and np.any(inp["query"][b]):
                alt = orc.tokenselect_keep(raw, ln, N_INIT, N_LOCAL, K)[b]
                nd = len(set(alt) - set(g))
                c.append(("request %d: per-head softmax matters (a raw logit sum keeps %d "
                          "other tokens)" % (b, nd), nd > 0, ""))
        same = all(np.array_equal(out["slots"][b, 0], out["slots"][b, h])
                   for b in range(B) for h in range(Hkv))
        c.append(("one selection shared by every head", same, ""))
        c += gather_checks(out, inp["keys"], inp["values"])
        print("# tokenselect_soft_vote: count[:, 0] = %s for lengths %s" % (
            out["count"][:, 0].tolist(), ln.tolist()))
        return c

    p = recipe("tokenselect_soft_vote.mlir", "tokenselect_soft_vote", args, results, check)
    for ln, kinds in (([1024, 700], ("random", "random")),
                      ([300, 0], ("random", "random")),
                      ([1024, 417], ("ties", "zero"))):
        q, k, v = qkv(rng, B, H, Hkv, T, d, kinds)
        p.add("lengths%s_%s" % (ln, "_".join(kinds)),
              {"lengths": np.array(ln, np.int32), "query": q, "keys": k, "values": v})
    return p


# ---------------------------------------------------------------------------
# Recycled Attention
# ---------------------------------------------------------------------------


def recycled(rng):
    B, H, Hkv, T, d, K = 2, 32, 8, 1024, 128, 256
    args = [("lengths", (B,), "i32"), ("query", (B, H, 1, d), "bf16"),
            ("keys", (B, Hkv, T, d), "bf16"), ("values", (B, Hkv, T, d), "bf16"),
            ("lse", (B, H, 1), "f32")]
    results = [("group_scores", (B, Hkv, T), "f32"), ("slots", (B, Hkv, K), "i32"),
               ("count", (B, Hkv), "i32"), ("kept_keys", (B, Hkv, K, d), "bf16"),
               ("kept_values", (B, Hkv, K, d), "bf16"), ("positions", (B, Hkv, K), "i32")]

    def check(inp, out):
        ln = inp["lengths"]
        A64 = orc.recycled_scores(inp["query"], inp["keys"], ln, inp["lse"])
        c = [check_close("group_scores = sum over the group of exp(q k / sqrt(d) - lse)",
                         A64, out["group_scores"])]
        A32 = np.asarray(out["group_scores"], np.float64)
        keep = orc.recycled_keep(A32, ln, K)
        ids = np.full((B, Hkv, K), -1, np.int32)
        cnt = np.zeros((B, Hkv), np.int32)
        for b in range(B):
            ids[b], cnt[b] = orc.pad_lists(keep[b], K)
        c.append(check_exact("slots (top-K per KV head on Winnow's scores)", ids, out["slots"]))
        c.append(check_exact("count", cnt, out["count"]))

        def cand(key):
            return range(min(max(int(ln[key[0]]), 0), T))
        got = [((b, g), valid_row(out["slots"][b, g], out["count"][b, g]))
               for b in range(B) for g in range(Hkv)]
        c.append(float64_topk_checks("top-K of the full step's attention", A64, ln, cand, got, K))
        for b in range(B):
            n = min(max(int(ln[b]), 0), T)
            if n > K and np.any(inp["query"][b]) and not periodic(inp["keys"][b]):
                differ = sum(not np.array_equal(out["slots"][b, 0], out["slots"][b, g])
                             for g in range(1, Hkv))
                c.append(("request %d: KV heads keep their own slots (%d of %d differ from "
                          "head 0)" % (b, differ, Hkv - 1), differ > 0, ""))
        c += gather_checks(out, inp["keys"], inp["values"])
        print("# recycled_attention_topk: count[:, 0] = %s for lengths %s" % (
            out["count"][:, 0].tolist(), ln.tolist()))
        return c

    p = recipe("recycled_attention_topk.mlir", "recycled_attention_topk", args, results, check)
    for ln, kinds in (([1024, 700], ("random", "random")),
                      ([200, 0], ("random", "random")),
                      ([1024, 257], ("ties", "zero"))):
        q, k, v = qkv(rng, B, H, Hkv, T, d, kinds)
        lse = orc.row_lse(bf16(q), bf16(k), ln)
        p.add("lengths%s_%s" % (ln, "_".join(kinds)),
              {"lengths": np.array(ln, np.int32), "query": q, "keys": k, "values": v,
               "lse": lse.astype(np.float32)})
    return p


# ---------------------------------------------------------------------------
# DyCoke stage 2
# ---------------------------------------------------------------------------


def dycoke(rng):
    B, H, Hkv, T, d = 2, 28, 4, 1024, 128
    SPAN, KEEP = (14, 798), int((798 - 14) * (1 - 0.7))
    C = T - (SPAN[1] - SPAN[0]) + KEEP
    assert (KEEP, C) == (235, 475)
    args = [("lengths", (B,), "i32"), ("query", (B, H, 1, d), "bf16"),
            ("keys", (B, Hkv, T, d), "bf16"), ("values", (B, Hkv, T, d), "bf16"),
            ("lse", (B, H, 1), "f32")]
    results = [("scores", (B, T), "f32"), ("indices", (B, C), "i32"), ("kept", (B,), "i32"),
               ("slots", (B, Hkv, C), "i32"), ("count", (B, Hkv), "i32"),
               ("kept_keys", (B, Hkv, C, d), "bf16"), ("kept_values", (B, Hkv, C, d), "bf16"),
               ("positions", (B, Hkv, C), "i32")]

    def check(inp, out):
        ln = inp["lengths"]
        a64 = orc.dycoke_scores(inp["query"], inp["keys"], ln, inp["lse"])
        c = [check_close("scores = mean_h exp(q k / sqrt(d) - lse)", a64, out["scores"])]
        a32 = np.asarray(out["scores"], np.float64)
        ids, cnt = orc.pad_lists(orc.dycoke_keep(a32, ln, SPAN, KEEP), C)
        c.append(check_exact("indices (non-visual + top-235 visual on Winnow's scores)",
                             ids, out["indices"]))
        c.append(check_exact("kept", cnt, out["kept"]))

        def cand(b):
            n = min(max(int(ln[b]), 0), T)
            return range(SPAN[0], min(SPAN[1], n))
        got = [(b, valid_row(out["indices"][b], out["kept"][b])) for b in range(B)]
        c.append(float64_topk_checks("top-235 of the visual attention", a64, ln, cand, got, KEEP))
        other_ok = all({j for j in range(min(max(int(ln[b]), 0), T))
                        if not SPAN[0] <= j < SPAN[1]} <= set(g) for b, g in got)
        c.append(("every valid non-visual token kept", other_ok, ""))
        # The inputs tell the whole-row softmax (lse) from one renormalised
        # over the visual tokens alone: the latter keeps other tokens.
        s = orc._logits(inp["query"], inp["keys"], None)
        for b, g in got:
            n = min(max(int(ln[b]), 0), T)
            vis = list(cand(b))
            if len(vis) > KEEP and np.any(inp["query"][b]) and not periodic(inp["keys"][b]):
                x = s[b][:, vis]
                e = np.exp(x - x.max(axis=1, keepdims=True))
                alt = (e / e.sum(axis=1, keepdims=True)).mean(axis=0)
                top = set(np.array(vis)[sorted(range(len(vis)), key=lambda i: (-alt[i], i))[:KEEP]])
                nd = len(top - set(g))
                c.append(("request %d: the whole-row softmax matters (a softmax over the "
                          "visual tokens alone keeps %d other tokens)" % (b, nd), nd > 0, ""))
        c.append(check_exact("slots = indices for every KV head",
                             np.repeat(out["indices"][:, None], Hkv, axis=1), out["slots"]))
        c.append(check_exact("count = kept for every KV head",
                             np.repeat(out["kept"][:, None], Hkv, axis=1), out["count"]))
        c += gather_checks(out, inp["keys"], inp["values"])
        print("# dycoke_kv_decode: kept = %s for lengths %s" % (out["kept"].tolist(),
                                                               ln.tolist()))
        return c

    p = recipe("dycoke_kv_decode.mlir", "dycoke_kv_decode", args, results, check)
    for ln, kinds in (([1024, 900], ("random", "random")),
                      ([500, 100], ("random", "random")),
                      ([0, 1024], ("random", "zero")),
                      ([1024, 1000], ("ties", "ties"))):
        q, k, v = qkv(rng, B, H, Hkv, T, d, kinds)
        lse = orc.row_lse(bf16(q), bf16(k), ln)
        p.add("lengths%s_%s" % (ln, "_".join(kinds)),
              {"lengths": np.array(ln, np.int32), "query": q, "keys": k, "values": v,
               "lse": lse.astype(np.float32)})
    return p


def main():
    a = tool_args(__doc__.split("\n")[0]).parse_args()
    rng = np.random.default_rng(a.seed)
    progs = [tokenselect(rng), recycled(rng), dycoke(rng)]
    if a.filter:
        progs = [p for p in progs if a.filter in p.name]
    return run_programs(progs, a, "run_kv_methods.py")


if __name__ == "__main__":
    sys.exit(main())
