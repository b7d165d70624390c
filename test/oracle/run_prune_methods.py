#!/usr/bin/python3
"""Compile and run the FoPru, Speculative Prefill and PromptDistill recipes
and check them against prune_methods_oracle.py (float64, the papers'
definitions):

  examples/fopru_rank.mlir           (@fopru_rank: B=2, CLIP-L/336 layer:
                                      16 heads, 577 query rows, 576 patches)
  examples/speculative_prefill.mlir  (@speculative_prefill: B=2, N=512,
                                      Q=4 steps, 2 layers x 8 heads, GQA 4)
  examples/promptdistill.mlir        (@promptdistill: B=2, N=1024, 32 heads,
                                      8 KV heads, top-256 of the context)

Inputs are seeded: bf16 queries/keys (the oracle sees the bf16-rounded
values), with edge cases: exact ties (identical keys: the lower index must
win), ragged lengths, a row of length 0 and of length 1, a context longer
than the prompt, a context of 0 tokens, fewer context tokens than K.

Checks:
  * scores (significance / importance / chunk scores / selection scores)
    against float64 within a stated tolerance;
  * kept sets against the paper oracle run on the float64 scores: equal, or
    differing only in tokens whose float64 scores are within the tolerance
    of the cut (reported as near-ties), and counts exactly;
  * the selection/gather plumbing exactly: the oracle's ranking applied to
    the scores Winnow returned gives exactly Winnow's indices and counts;
    gathered rows, ids and positions bit for bit, padding -1 / 0.

Prints PASS/FAIL per check and `N passed, M failed`; exits 1 on a failure.

  run_prune_methods.py --compile winnow-compile --run winnow-run --workdir DIR
                       [--compile-flag=--emulate-cuda-on-cpu] [--filter S]
"""

import hashlib
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import prune_methods_oracle as orc  # noqa: E402
from run_prune_oracle import (  # noqa: E402
    Program, as_values, check_bits, check_close, check_exact, decode_input,
    run_programs, tool_args)

EX = os.path.join(ROOT, "examples")


def recipe_program(module, name, args, results, check):
    p = Program(module, name, args, results, None, check)
    p.source = os.path.join(EX, module + ".mlir")
    return p


def bf16(x):
    return decode_input(np.asarray(x, np.float32), "bf16").astype(np.float64)


def check_kept_set(what, ref_scores, exp, got, tol):
    """exp: the paper oracle's kept candidates (float64 scores); got: Winnow's.
    Equal, or every difference scored within tol of the cut."""
    exp = np.asarray(exp, np.int64)
    got = np.asarray(got, np.int64)
    if len(exp) != len(got):
        return (what, False, "count: expected %d, got %d" % (len(exp), len(got)))
    if np.array_equal(np.sort(exp), np.sort(got)):
        return (what + " [exact]", True, "")
    diff = np.setxor1d(exp, got)
    cut = np.min(ref_scores[exp]) if len(exp) else 0.0
    far = [int(j) for j in diff if abs(ref_scores[j] - cut) > tol]
    if far:
        j = far[0]
        return (what, False, "%d differences, %d beyond the near-tie tolerance %g; first: token %d "
                "score %.9g, cut %.9g" % (len(diff), len(far), tol, j, ref_scores[j], cut))
    return (what + " [%d near-tie(s) within %g]" % (len(diff) // 2, tol), True, "")


def ragged(rows, C, fill=-1):
    out = np.full((len(rows), C), fill, np.int64)
    for b, r in enumerate(rows):
        out[b, :len(r)] = r
    return out


def gathered(src, rows, C):
    """src [B, N, ...] gathered with the ragged rows, zero/-1 padded."""
    src = np.asarray(src)
    fill = -1 if src.dtype.kind in "iu" else 0
    out = np.full((src.shape[0], C) + src.shape[2:], fill, src.dtype)
    for b, r in enumerate(rows):
        if len(r):
            out[b, :len(r)] = src[b, np.asarray(r, np.int64)]
    return out


# ---------------------------------------------------------------------------
# FoPru (rank strategy)
# ---------------------------------------------------------------------------

FB, FH, FM, FN, FD, FC, FK = 2, 16, 577, 576, 64, 1024, 144
F_SCORE_TOL = dict(rtol=1e-4, atol=1e-7)
F_TIE = 1e-7
_cls_keys = {}


def fopru_program():
    args = [("vit_queries", (FB, FH, FM, FD), "bf16"), ("patch_keys", (FB, FH, FN, FD), "bf16"),
            ("row_lse", (FB, FH, FM), "f32"), ("features", (FB, FN, FC), "bf16")]
    results = [("significance", (FB, FN), "f32"), ("kept_indices", (FB, FK), "i32"),
               ("kept_count", (FB,), "i32"), ("kept_features", (FB, FK, FC), "bf16"),
               ("old_to_new", (FB, FN), "i32")]

    def check(inp, out):
        k_cls = _cls_keys[hashlib.sha1(inp["row_lse"].tobytes()).hexdigest()]
        ref = np.stack([orc.fopru_significance(inp["vit_queries"][b], k_cls[b], inp["patch_keys"][b])
                        for b in range(FB)])
        got_s = out["significance"].astype(np.float32)
        c = [check_close("significance vs float64 column mean of the attention map", ref, got_s,
                         **F_SCORE_TOL)]
        exp = [orc.fopru_rank(ref[b], FK) for b in range(FB)]
        c.append(check_exact("kept_count", np.array([len(e) for e in exp], np.int32),
                             out["kept_count"]))
        for b in range(FB):
            n = int(out["kept_count"][b])
            c.append(check_kept_set("row %d: kept set vs FoPru rank strategy" % b, ref[b], exp[b],
                                    out["kept_indices"][b, :max(0, min(n, FK))], F_TIE))
        mine = [orc.fopru_rank(got_s[b].astype(np.float64), FK) for b in range(FB)]
        c.append(check_exact("kept_indices == ranking of Winnow's significance (ascending)",
                             ragged(mine, FK), out["kept_indices"]))
        rows = [out["kept_indices"][b, :int(out["kept_count"][b])] for b in range(FB)]
        c.append(check_bits("kept_features (gather)", gathered(inp["features"], rows, FK),
                            out["kept_features"], "bf16"))
        omap = np.full((FB, FN), -1, np.int64)
        for b, r in enumerate(rows):
            omap[b, r] = np.arange(len(r))
        c.append(check_exact("old_to_new", omap, out["old_to_new"]))
        return c

    return recipe_program("fopru_rank", "fopru_rank", args, results, check)


def fopru_inputs(rng, tie=False):
    # A CLIP-like late layer: a few patches draw attention (large q.k).
    base = rng.standard_normal((FB, FH, FD))
    q = bf16(0.5 * rng.standard_normal((FB, FH, FM, FD)) + 1.2 * base[:, :, None, :])
    kp = 0.7 * rng.standard_normal((FB, FH, FN, FD))
    salient = rng.random((FB, FN)) < 0.3
    kp += np.where(salient[:, None, :, None], 0.9 * base[:, :, None, :], 0.0)
    if tie:  # 300 identical patch keys (and the strongest): the top 144 are 100..243
        kp[:, :, 100:400, :] = 1.5 * base[:, :, None, :]
    kp = bf16(kp)
    kc = bf16(rng.standard_normal((FB, FH, FD)) + base)
    lse = np.stack([orc.fopru_row_lse(q[b], kc[b], kp[b]) for b in range(FB)]).astype(np.float32)
    _cls_keys[hashlib.sha1(lse.tobytes()).hexdigest()] = kc
    feats = rng.standard_normal((FB, FN, FC)).astype(np.float32)
    return {"vit_queries": q.astype(np.float32), "patch_keys": kp.astype(np.float32),
            "row_lse": lse, "features": feats}


# ---------------------------------------------------------------------------
# Speculative Prefill
# ---------------------------------------------------------------------------

SB, SQ, SLH, SLKV, SN, SD = 2, 4, 16, 4, 512, 64
SG, SPOOL, SCHUNK, SRATIO, SKC = SLH // SLKV, 13, 32, 0.3, 5
SNCH = SN // SCHUNK
S_TOL = dict(rtol=1e-4, atol=1e-8)
S_TIE = 1e-8


def specprefill_program():
    args = [("lookahead_queries", (SB, SQ, SLH, SD), "bf16"),
            ("prompt_keys", (SB, SLKV, SN, SD), "bf16"), ("lengths", (SB,), "i32"),
            ("token_ids", (SB, SN), "i32"), ("positions", (SB, SN), "i32")]
    results = [("importance", (SB, SN), "f32"), ("chunk_scores", (SB, SNCH), "f32"),
               ("kept_chunks", (SB, SKC), "i32"), ("kept_chunk_count", (SB,), "i32"),
               ("kept_indices", (SB, SN), "i32"), ("kept_count", (SB,), "i32"),
               ("kept_token_ids", (SB, SN), "i32"), ("kept_positions", (SB, SN), "i32")]

    def check(inp, out):
        ln = [max(0, min(int(x), SN)) for x in inp["lengths"]]
        imp = np.zeros((SB, SN))
        cs = np.zeros((SB, SNCH))
        exp_c, exp_t = [], []
        for b in range(SB):
            i = orc.specprefill_importance(inp["lookahead_queries"][b], inp["prompt_keys"][b],
                                           ln[b], SG, SPOOL)
            imp[b, :ln[b]] = i
            c_b, kc, kt = orc.specprefill_chunks(i, SCHUNK, SRATIO)
            cs[b, :len(c_b)] = c_b
            exp_c.append(kc)
            exp_t.append(kt)
        c = [check_close("importance vs float64 (smoothed, max over layer-heads, mean over steps)",
                         imp, out["importance"], **S_TOL),
             check_close("chunk_scores vs float64 chunk means", cs, out["chunk_scores"], **S_TOL),
             check_exact("kept_chunk_count == ceil(0.3 * #chunks)",
                         np.array([len(x) for x in exp_c], np.int32), out["kept_chunk_count"])]
        for b in range(SB):
            n = int(out["kept_chunk_count"][b])
            c.append(check_kept_set("row %d: kept chunks vs SpecPrefill chunk selection" % b, cs[b],
                                    exp_c[b], out["kept_chunks"][b, :max(0, min(n, SKC))], S_TIE))
        # Plumbing, exactly, from Winnow's own chunk scores.
        got_cs = out["chunk_scores"].astype(np.float64)
        mine_c, mine_t = [], []
        for b in range(SB):
            nch = (ln[b] + SCHUNK - 1) // SCHUNK
            kc = orc.top_k_ascending(got_cs[b, :nch], math.ceil(nch * SRATIO))
            mine_c.append(kc)
            mine_t.append(np.sort(np.concatenate(
                [np.arange(x * SCHUNK, min(ln[b], (x + 1) * SCHUNK)) for x in kc]))
                if len(kc) else np.zeros(0, np.int64))
        c.append(check_exact("kept_chunks == ranking of Winnow's chunk scores", ragged(mine_c, SKC),
                             out["kept_chunks"]))
        c.append(check_exact("kept_count == tokens of the kept chunks",
                             np.array([len(t) for t in mine_t], np.int32), out["kept_count"]))
        c.append(check_exact("kept_indices == tokens of the kept chunks (ascending)",
                             ragged(mine_t, SN), out["kept_indices"]))
        rows = [out["kept_indices"][b, :int(out["kept_count"][b])] for b in range(SB)]
        c.append(check_exact("kept_token_ids (gather)", gathered(inp["token_ids"], rows, SN),
                             out["kept_token_ids"]))
        c.append(check_exact("kept_positions == original position ids",
                             gathered(inp["positions"], rows, SN), out["kept_positions"]))
        print("# speculative_prefill: lengths %s -> kept chunks %s, kept tokens %s" % (
            ln, [int(x) for x in out["kept_chunk_count"]], [int(x) for x in out["kept_count"]]))
        return c

    return recipe_program("speculative_prefill", "speculative_prefill", args, results, check)


def specprefill_inputs(rng, lengths, uniform=False):
    q = rng.standard_normal((SB, SQ, SLH, SD)) * 1.5
    k = rng.standard_normal((SB, SLKV, SN, SD))
    # Local structure: spans of prompt tokens that the look-ahead attends to.
    for b in range(SB):
        for _ in range(6):
            s = int(rng.integers(0, SN - 16))
            k[b, :, s:s + int(rng.integers(4, 16)), :] += 0.8 * q[b, :, :SLKV, :].mean(axis=0)[:, None, :]
    if uniform:  # identical keys: uniform attention, equal interior chunks
        k[:] = k[:, :, :1, :]
    ids = rng.integers(0, 128000, (SB, SN))
    pos = np.arange(SN)[None, :] + rng.integers(0, 8, (SB, 1))
    return {"lookahead_queries": bf16(q).astype(np.float32),
            "prompt_keys": bf16(k).astype(np.float32),
            "lengths": np.array(lengths, np.int32), "token_ids": ids, "positions": pos}


# ---------------------------------------------------------------------------
# PromptDistill
# ---------------------------------------------------------------------------

PB, PH, PKV, PN, PD, PC, PK = 2, 32, 8, 1024, 128, 4096, 256
PG = PH // PKV
P_TOL = dict(rtol=1e-4, atol=2e-5)
P_TIE = 1e-4


def promptdistill_program():
    args = [("selector_query", (PB, PH, 1, PD), "bf16"), ("keys", (PB, PKV, PN, PD), "bf16"),
            ("selector_lse", (PB, PH, 1), "f32"), ("lengths", (PB,), "i32"),
            ("context_lengths", (PB,), "i32"), ("hidden", (PB, PN, PC), "bf16"),
            ("positions", (PB, PN), "i32")]
    results = [("selection_scores", (PB, PN), "f32"), ("kept_indices", (PB, PN), "i32"),
               ("kept_count", (PB,), "i32"), ("kept_hidden", (PB, PN, PC), "bf16"),
               ("kept_positions", (PB, PN), "i32"), ("old_to_new", (PB, PN), "i32")]

    def check(inp, out):
        ln = [max(0, min(int(x), PN)) for x in inp["lengths"]]
        ref = np.zeros((PB, PN))
        ctx, exp = [], []
        for b in range(PB):
            pooled, cb = orc.promptdistill_scores(inp["selector_query"][b, :, 0], inp["keys"][b],
                                                  inp["context_lengths"][b], ln[b], PG)
            ref[b, :cb] = pooled[:cb]
            ctx.append(cb)
            exp.append(orc.promptdistill_keep(pooled, cb, ln[b], PK))
        got_s = out["selection_scores"].astype(np.float64)
        c = [check_close("selection_scores vs float64 (head-mean logits, pooled, context only)",
                         ref, got_s, **P_TOL),
             check_exact("kept_count == min(K, context) + query tokens",
                         np.array([len(e) for e in exp], np.int32), out["kept_count"])]
        for b in range(PB):
            n = max(0, min(int(out["kept_count"][b]), PN))
            c.append(check_kept_set("row %d: kept set vs PromptDistill" % b, ref[b], exp[b],
                                    out["kept_indices"][b, :n], P_TIE))
        mine = []
        for b in range(PB):
            top = orc.top_k_ascending(got_s[b, :ctx[b]], PK)
            mine.append(np.sort(np.concatenate([top, np.arange(ctx[b], ln[b])])))
        c.append(check_exact("kept_indices == ranking of Winnow's scores + query tokens",
                             ragged(mine, PN), out["kept_indices"]))
        rows = [out["kept_indices"][b, :int(out["kept_count"][b])] for b in range(PB)]
        c.append(check_bits("kept_hidden (gather)", gathered(inp["hidden"], rows, PN),
                            out["kept_hidden"], "bf16"))
        c.append(check_exact("kept_positions == original position ids",
                             gathered(inp["positions"], rows, PN), out["kept_positions"]))
        omap = np.full((PB, PN), -1, np.int64)
        for b, r in enumerate(rows):
            omap[b, r] = np.arange(len(r))
        c.append(check_exact("old_to_new", omap, out["old_to_new"]))
        print("# promptdistill: lengths %s, context %s -> kept %s" % (
            ln, ctx, [int(x) for x in out["kept_count"]]))
        return c

    return recipe_program("promptdistill", "promptdistill", args, results, check)


def promptdistill_inputs(rng, lengths, context, tie=False):
    q = rng.standard_normal((PB, PH, 1, PD)) * 1.2
    k = rng.standard_normal((PB, PKV, PN, PD))
    for b in range(PB):  # relevant passages in the context
        for _ in range(8):
            s = int(rng.integers(0, PN - 32))
            k[b, :, s:s + int(rng.integers(8, 32)), :] += 0.5 * q[b, ::PG, 0, :][:, None, :]
    if tie:  # identical keys over a long stretch: equal interior scores
        k[:, :, 200:900, :] = k[:, :, 200:201, :]
    q, k = bf16(q), bf16(k)
    # The row's lse over the causal prefix (any finite per-head value works).
    lse = np.zeros((PB, PH, 1), np.float32)
    for b in range(PB):
        end = max(1, min(int(context[b]) + 1, PN))
        for h in range(PH):
            lse[b, h, 0] = orc.logsumexp(k[b, h // PG, :end] @ q[b, h, 0] / math.sqrt(PD))
    hidden = rng.standard_normal((PB, PN, PC)).astype(np.float32)
    pos = np.arange(PN)[None, :] + rng.integers(0, 4, (PB, 1))
    return {"selector_query": q.astype(np.float32), "keys": k.astype(np.float32),
            "selector_lse": lse, "lengths": np.array(lengths, np.int32),
            "context_lengths": np.array(context, np.int32), "hidden": hidden, "positions": pos}


# ---------------------------------------------------------------------------


def build(rng, quick):
    f = fopru_program()
    f.add("clip_like", fopru_inputs(rng))
    f.add("ties/300_identical_keys", fopru_inputs(rng, tie=True))

    s = specprefill_program()
    s.add("len{512,300}", specprefill_inputs(rng, [512, 300]))
    s.add("len{0,77}", specprefill_inputs(rng, [0, 77]))
    s.add("ties/uniform_keys/len{512,1}", specprefill_inputs(rng, [512, 1], uniform=True))
    if not quick:
        s.add("len{33,481}", specprefill_inputs(rng, [33, 481]))

    p = promptdistill_program()
    p.add("len{1024,700}/ctx{1000,600}", promptdistill_inputs(rng, [1024, 700], [1000, 600]))
    p.add("len{0,500}/ctx{0,600}(ctx>len)", promptdistill_inputs(rng, [0, 500], [0, 600]))
    p.add("ties/identical_keys/len{1024,300}/ctx{1020,100}(ctx<K)",
          promptdistill_inputs(rng, [1024, 300], [1020, 100], tie=True))
    if not quick:
        p.add("len{1,1024}/ctx{1,0}", promptdistill_inputs(rng, [1, 1024], [1, 0]))
    return [f, s, p]


def main():
    a = tool_args(__doc__.split("\n")[0]).parse_args()
    rng = np.random.default_rng(a.seed)
    progs = build(rng, a.quick)
    if a.filter:
        progs = [p for p in progs if a.filter in p.name]
    return run_programs(progs, a, "run_prune_methods.py")


if __name__ == "__main__":
    sys.exit(main())
