#!/usr/bin/python3
"""End-to-end oracle tests for tok.spec_verify (greedy, rejection, typical).

Generates tok programs (several functions per module, one compile per
module), compiles them with winnow-compile, runs every case with winnow-run on
the CPU and compares tokens, num_accepted and num_emitted **exactly** with
the independent NumPy reference in verify_oracle.py (which implements its
own Philox4x32-10 and checks it against the Random123 known answers first).

A request whose acceptance test, typical threshold, residual or race lies
within the fp32-vs-float64 uncertainty band of the oracle is ambiguous: it
is skipped (and counted) rather than failed; cases marked exact must have
no ambiguous request. Every request, ambiguous or not, must also be
well formed: num_emitted = num_accepted + 1 in [1, K_b + 1], the accepted
prefix equals the drafts, emitted ids lie in [0, V), -1 padding after
num_emitted. Some cases are paired: NaN written into rows that must not be
read (after the bonus row; after the first rejection) must not change any
output; Philox with the same seed/offset gives the same outputs twice, and
another offset gives different outputs. A case marked known_bug reproduces a
reported compiler bug: it prints XFAIL while it mismatches (not counted)
and fails as XPASS once fixed, so that its marker gets removed.

Prints one line per check and a final `N passed, M failed`; exits 1 on any
failure. Run with Debian's /usr/bin/python3 (needs NumPy).

  run_verify_oracle.py --compile winnow-compile --run winnow-run --workdir DIR
                       [--seed S] [--quick] [--filter SUBSTR] [--recipes DIR]

--recipes DIR checks the examples/spec_chain_greedy.mlir,
spec_chain_rejection.mlir and medusa_typical_chain.mlir recipes instead.
"""

import argparse
import os
import shutil
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_prune_oracle as rpo  # noqa: E402
import verify_bits as vb  # noqa: E402
import verify_oracle as vo  # noqa: E402

F32 = np.float32
NEG_INF = -np.inf

# ---------------------------------------------------------------------------
# Programs
# ---------------------------------------------------------------------------


encode, decode = rpo.encode, rpo.decode_input


def fmt_f64(x):
    return "%.17e" % float(x)


def verify_op_text(tt, operands, mode, attrs_mode, eps, alpha, probs=False):
    """The tok.spec_verify line; operands: ordered (keyword or None, name)."""
    text = "%tokens, %num_accepted, %num_emitted = tok.spec_verify "
    parts = []
    for kw, name in operands:
        parts.append(("%s %%%s" % (kw, name)) if kw else "%" + name)
    text += ", ".join(parts[:3]) + "".join(" " + x for x in parts[3:])
    attrs = ["target_probs"] if probs else []
    if attrs_mode:
        attrs.append("mode = #tok.verify_mode<%s>" % mode)
    if eps is not None:
        attrs.append("typical_epsilon = %s : f64" % fmt_f64(eps))
    if alpha is not None:
        attrs.append("typical_alpha = %s : f64" % fmt_f64(alpha))
    if attrs:
        text += " {" + ", ".join(attrs) + "}"
    t = tt.types()
    text += " : (%s) -> (%s, %s, %s)" % (
        ", ".join(t[n] for _, n in operands), t["tokens"], t["num_accepted"],
        t["num_emitted"])
    return text


class Stats:
    ambiguous = 0
    requests = 0


def make_verify(module, name, B, K, V, dt, mode, q=False, temp=False, isg=False,
                noise="philox", eps=None, alpha=None, probs=False):
    """One func.func wrapping tok.spec_verify. noise: philox|explicit|None;
    probs: the first operand holds probabilities (target_probs)."""
    args = [("logits", (B, K + 1, V), dt), ("drafts", (B, K), "i32"),
            ("num_draft", (B,), "i32")]
    operands = [(None, "logits"), (None, "drafts"), (None, "num_draft")]

    def opt(flag, kw, shape, adt):
        if flag:
            args.append((kw, shape, adt))
            operands.append((kw, kw))

    opt(q, "draft_probs", (B, K, V), "f32")
    opt(temp, "temperature", (B,), "f32")
    opt(isg, "is_greedy", (B,), "i1")
    opt(noise == "explicit" and mode == "rejection", "uniforms", (B, K), "f32")
    opt(noise == "explicit", "exponentials", (B, V), "f32")
    opt(noise == "philox", "seed", (B,), "i64")
    opt(noise == "philox", "offset", (B,), "i64")
    results = [("tokens", (B, K + 1), "i32"), ("num_accepted", (B,), "i32"),
               ("num_emitted", (B,), "i32")]
    tt = rpo._Types(args, results)
    # The default mode is written out only for some programs (both spellings
    # must mean rejection).
    body = [verify_op_text(tt, operands, mode, mode != "rejection" or noise == "explicit",
                           eps, alpha, probs)]

    def check(inp, out):
        return check_against_oracle(inp, out, mode, eps, alpha, probs=probs)

    p = rpo.Program(module, name, args, results, body, check)
    p.meta = dict(B=B, K=K, V=V, dt=dt, mode=mode, q=q, temp=temp, isg=isg, noise=noise,
                  eps=eps, alpha=alpha, probs=probs)
    return p


def oracle_for(inp, mode, eps=None, alpha=None, probs=False):
    return vo.spec_verify(
        inp["logits"], inp["drafts"], inp["num_draft"], inp.get("draft_probs"),
        inp.get("temperature"), inp.get("is_greedy"), inp.get("uniforms"),
        inp.get("exponentials"), inp.get("seed"), inp.get("offset"), mode,
        0.09 if eps is None else eps, 0.3 if alpha is None else alpha, probs)


def structure_check(inp, out):
    """Well-formedness of every request (ambiguous ones included)."""
    tok = np.asarray(out["tokens"]).astype(np.int64)
    acc = np.asarray(out["num_accepted"]).astype(np.int64)
    emi = np.asarray(out["num_emitted"]).astype(np.int64)
    B, R = tok.shape
    K, V = R - 1, inp["logits"].shape[2]
    bad = []
    for b in range(B):
        kb = min(max(int(inp["num_draft"][b]), 0), K)
        a, e = int(acc[b]), int(emi[b])
        if e != a + 1 or not (0 <= a <= kb):
            bad.append("request %d: num_accepted %d, num_emitted %d, K_b %d" % (b, a, e, kb))
            continue
        if list(tok[b, :a]) != [int(x) for x in inp["drafts"][b, :a]]:
            bad.append("request %d: accepted prefix %s != drafts %s" % (
                b, tok[b, :a].tolist(), inp["drafts"][b, :a].tolist()))
        if not (0 <= tok[b, a] < V):
            bad.append("request %d: emitted token %d outside [0, %d)" % (b, tok[b, a], V))
        if (tok[b, e:] != -1).any():
            bad.append("request %d: padding %s is not -1" % (b, tok[b, e:].tolist()))
    return ("well formed (counts, prefix = drafts, ids in range, -1 padding)", not bad,
            "; ".join(bad[:4]))


def check_against_oracle(inp, out, mode, eps=None, alpha=None, require_exact=False,
                         probs=False):
    r = oracle_for(inp, mode, eps, alpha, probs)
    keep = ~r.ambiguous
    nskip = int(r.ambiguous.sum())
    Stats.ambiguous += nskip
    Stats.requests += len(keep)
    tag = "" if nskip == 0 else " [%d/%d ambiguous requests skipped]" % (nskip, len(keep))
    for b in sorted(r.reasons)[:3]:
        print("#   ambiguous request %d: %s" % (b, r.reasons[b]))
    checks = []
    if require_exact and nskip:
        checks.append(("no ambiguous request in an exact case", False, "; ".join(
            "request %d: %s" % (b, r.reasons[b]) for b in sorted(r.reasons))))
    checks.append(rpo.check_exact("num_accepted" + tag, r.num_accepted[keep],
                                  np.asarray(out["num_accepted"])[keep]))
    checks.append(rpo.check_exact("num_emitted" + tag, r.num_emitted[keep],
                                  np.asarray(out["num_emitted"])[keep]))
    checks.append(rpo.check_exact("tokens" + tag, r.tokens[keep],
                                  np.asarray(out["tokens"]).astype(np.int32)[keep]))
    checks.append(structure_check(inp, out))
    return checks


# ---------------------------------------------------------------------------
# Input generation
# ---------------------------------------------------------------------------


def f32_softmax(x):
    x = np.asarray(x, np.float64)
    m = np.max(x, axis=-1, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(axis=-1, keepdims=True)


def random_q(rng, logits, zero_frac=0.25):
    """Draft distributions near softmax(logits) (perturbed), some zeros."""
    B, R, V = logits.shape
    q = f32_softmax(logits[:, :R - 1] * rng.uniform(0.5, 1.5) +
                    rng.standard_normal((B, R - 1, V)) * 0.8)
    q[rng.random(q.shape) < zero_frac] = 0.0
    s = q.sum(-1, keepdims=True)
    q = np.where(s > 0, q / np.where(s > 0, s, 1), 1.0 / V)
    return q.astype(F32)


def random_inputs(rng, meta, **over):
    B, K, V = meta["B"], meta["K"], meta["V"]
    scale = rng.choice([0.5, 1.0, 2.0, 3.0]) if V < 500 else 2.5
    logits = (rng.standard_normal((B, K + 1, V)) * scale).astype(F32)
    inp = {"logits": logits}
    if meta["q"]:
        inp["draft_probs"] = random_q(rng, logits)
    if meta["temp"]:
        inp["temperature"] = rng.choice(
            np.array([1.0, 0.7, 1.3, 0.5, 2.0, 0.0, -0.5], F32), size=B,
            p=[0.3, 0.15, 0.15, 0.1, 0.1, 0.1, 0.1]).astype(F32)
    if meta["isg"]:
        inp["is_greedy"] = rng.random(B) < 0.2
    drafts = np.zeros((B, K), np.int64)
    for b in range(B):
        for i in range(K):
            c = rng.random()
            am = int(np.argmax(logits[b, i]))
            if meta["mode"] == "greedy":
                drafts[b, i] = am if c < 0.75 else rng.integers(0, V)
            elif c < 0.55:
                src = inp["draft_probs"][b, i] if meta["q"] else f32_softmax(logits[b, i])
                src = np.asarray(src, np.float64)
                drafts[b, i] = rng.choice(V, p=src / src.sum())
            elif c < 0.8:
                drafts[b, i] = am
            elif c < 0.95:
                drafts[b, i] = rng.integers(0, V)
            else:
                drafts[b, i] = rng.choice([-1, V, V + 7, -100])
    inp["drafts"] = drafts.astype(np.int32)
    inp["num_draft"] = rng.integers(-1, K + 3, size=B).astype(np.int32)
    if meta["noise"] == "explicit":
        if meta["mode"] == "rejection":
            inp["uniforms"] = rng.random((B, K)).astype(F32)
        inp["exponentials"] = np.maximum(rng.exponential(size=(B, V)), 1e-30).astype(F32)
    elif meta["noise"] == "philox":
        inp["seed"] = rng.integers(-2 ** 63, 2 ** 63 - 1, size=B, dtype=np.int64)
        inp["offset"] = rng.integers(0, 2 ** 40, size=B, dtype=np.int64)
    inp.update(over)
    return inp


def with_nan_after_bonus(inp, K):
    """NaN in every logits row after the bonus row (and draft_probs rows from
    row K_b on, uniforms from K_b on, garbage drafts after K_b)."""
    out = {k: np.array(v, copy=True) for k, v in inp.items()}
    for b in range(out["logits"].shape[0]):
        kb = min(max(int(out["num_draft"][b]), 0), K)
        out["logits"][b, kb + 1:] = np.nan
        out["drafts"][b, kb:] = [-7, 123456, 0, 2 ** 31 - 1][:K - kb] + [5] * max(0, K - kb - 4)
        if "draft_probs" in out:
            out["draft_probs"][b, kb:] = np.nan
        if "uniforms" in out:
            out["uniforms"][b, kb:] = np.nan
    return out


def with_nan_after_stop(inp, K, mode, eps=None, alpha=None):
    """NaN in the rows between the first rejection and the bonus row (the
    outputs do not depend on them). Requests without a rejection unchanged."""
    r = oracle_for(inp, mode, eps, alpha)  # f32 programs only: inputs are exact
    out = {k: np.array(v, copy=True) for k, v in inp.items()}
    for b in range(out["logits"].shape[0]):
        kb = min(max(int(out["num_draft"][b]), 0), K)
        a = int(r.num_accepted[b])
        if r.ambiguous[b] or a >= kb:
            continue
        out["logits"][b, a + 1:kb + 1] = np.nan
        if "draft_probs" in out:
            out["draft_probs"][b, a + 1:] = np.nan
        if "uniforms" in out:
            out["uniforms"][b, a + 1:] = np.nan
    return out


def one_hot_row(V, x, value=0.0):
    row = np.full(V, NEG_INF, F32)
    row[x] = value
    return row


# ---------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------


def build_corpus(rng, R):
    progs = []

    # ---- greedy mode ---------------------------------------------------------
    B, K, V = 6, 4, 11
    p = make_verify("verify_greedy", "g_f32", B, K, V, "f32", "greedy", noise=None)
    m = p.meta
    base = random_inputs(rng, m, num_draft=np.array([-2, 0, K, K + 3, 1, 2], np.int32))
    p.add("K_b{-2,0,K,K+3,1,2}", base, exact=True)
    p.add("nan_after_bonus", with_nan_after_bonus(base, K), exact=True, same_as="K_b{-2,0,K,K+3,1,2}")
    p.add("nan_after_first_mismatch", with_nan_after_stop(base, K, "greedy"), exact=True,
          same_as="K_b{-2,0,K,K+3,1,2}")
    lg = rng.integers(-2, 3, size=(B, K + 1, V)).astype(F32)  # many ties
    am = np.argmax(lg, axis=-1)
    dr = am[:, :K].copy()
    for b in range(B):  # a tied but higher id is a mismatch
        for i in range(K):
            tied = np.nonzero(lg[b, i] == lg[b, i].max())[0]
            if b % 2 and len(tied) > 1:
                dr[b, i] = tied[-1]
    p.add("argmax_ties_lowest_id", dict(base, logits=lg, drafts=dr.astype(np.int32),
                                        num_draft=np.full(B, K, np.int32)), exact=True)
    allm = random_inputs(rng, m)
    allm["drafts"] = np.argmax(allm["logits"], -1)[:, :K].astype(np.int32)
    allm["num_draft"] = np.array([K, K, 3, 0, K + 1, 2], np.int32)
    p.add("all_drafts_match(bonus)", allm, exact=True)
    inv = random_inputs(rng, m, num_draft=np.full(B, K, np.int32))
    inv["drafts"][:, 0] = [-1, V, V + 1, -100, 2 ** 31 - 1, -(2 ** 31)]
    p.add("invalid_draft_ids", inv, exact=True)
    # Rows with nothing above -inf: the argmax is id 0, however the lanes'
    # partials are combined (a draft of 0 matches, another does not).
    dead = random_inputs(rng, m, num_draft=np.full(B, K, np.int32))
    dead["logits"][:2, :, :] = -np.inf
    dead["drafts"][0, :] = 0
    dead["drafts"][1, :] = [0, 3, 0, 0]
    p.add("rows_of_-inf(argmax 0)", dead, exact=True)
    for r in range(R):
        p.add("random%d" % r, random_inputs(rng, m))
    progs.append(p)

    B, K, V = 4, 3, 1000
    p = make_verify("verify_greedy", "g_bf16_temp_isg", B, K, V, "bf16", "greedy", temp=True,
                    isg=True, noise=None)
    m = p.meta
    for r in range(R + 1):
        inp = random_inputs(rng, m)
        inp["temperature"] = np.array([1.0, 0.0, -2.0, 0.3], F32)
        p.add("random%d(temperature, is_greedy ignored)" % r, inp)
    progs.append(p)

    # A long vocabulary with few rows: the GPU form cuts its argmax tables
    # into vocabulary slices (exact whatever the partition). Integer logits
    # tie across slices; the lowest id must win, and a draft at a later tied
    # id is a mismatch.
    B, K, V = 1, 2, 40000
    p = make_verify("verify_greedy", "g_f32_long_vocab", B, K, V, "f32", "greedy",
                    noise=None)
    m = p.meta
    for r in range(R + 1):
        inp = random_inputs(rng, m, num_draft=np.full(B, K, np.int32))
        inp["logits"] = rng.integers(-3, 4, size=(B, K + 1, V)).astype(F32)
        tied = np.nonzero(inp["logits"][0, 0] == inp["logits"][0, 0].max())[0]
        inp["drafts"][0, 0] = tied[0] if r % 2 == 0 else tied[-1]
        inp["drafts"][0, 1] = np.argmax(inp["logits"][0, 1])
        p.add("long_vocab_ties%d" % r, inp, exact=True)
    progs.append(p)
    p = make_verify("verify_rejection", "r_q_explicit_long_vocab", B, K, V, "f32",
                    "rejection", q=True, temp=True, noise="explicit")
    m = p.meta
    for r in range(R + 1):
        p.add("random%d" % r, random_inputs(rng, m))
    progs.append(p)

    # ---- rejection, draft_probs, explicit noise, temperature, is_greedy ---------
    B, K, V = 8, 4, 13
    p = make_verify("verify_rejection", "r_q_explicit_f32", B, K, V, "f32", "rejection",
                    q=True, temp=True, isg=True, noise="explicit")
    m = p.meta
    e = random_inputs(rng, m)
    e["temperature"] = np.ones(B, F32)
    e["is_greedy"] = np.zeros(B, bool)
    e["num_draft"] = np.array([0, K, -3, K + 5, K, K, K, K], np.int32)
    e["uniforms"] = np.zeros((B, K), F32)  # accept whenever q(x) > 0 and p(x) > 0
    e["logits"][e["logits"] == NEG_INF] = 0
    for b in range(B):
        for i in range(K):
            x = int(np.argmax(e["draft_probs"][b, i]))
            e["drafts"][b, i] = x
    # b4: q(x) = 0 at row 1 (u = 0): rejected.
    e["draft_probs"][4, 1, e["drafts"][4, 1]] = 0.0
    # b5: p(x) = 0 at row 2 (logit -inf, u = 0): rejected even so.
    e["logits"][5, 2, e["drafts"][5, 2]] = NEG_INF
    # b6: invalid draft -1 at row 1; b7: draft = V at row 0.
    e["drafts"][6, 1] = -1
    e["drafts"][7, 0] = V
    p.add("edges(K_b 0/K/-3/K+5, q(x)=0, p(x)=0 with u=0, ids -1/V)", e, exact=True)
    p.add("nan_after_bonus", with_nan_after_bonus(e, K), exact=True,
          same_as="edges(K_b 0/K/-3/K+5, q(x)=0, p(x)=0 with u=0, ids -1/V)")

    # Exact ratios: p one-hot at x (p(x) = 1 exactly), q(x) a power of two,
    # u = 1/q(x) accepts (>=); u one ulp above rejects, and the residual
    # max(p - q, 0) is then one-hot at x again.
    ex = random_inputs(rng, m, num_draft=np.full(B, K, np.int32))
    ex["temperature"] = np.array([1, 1, 1, 1, 0.5, 2, 1, 1], F32)
    ex["is_greedy"] = np.zeros(B, bool)
    for b in range(B):
        for i in range(K + 1):
            x = int(rng.integers(1, V))
            ex["logits"][b, i] = one_hot_row(V, x, float(rng.standard_normal()))
            if i < K:
                qx = [1.0, 0.5, 0.25, 0.125][(b + i) % 4]
                qrow = np.zeros(V)
                qrow[x] = qx
                others = [v for v in range(V) if v != x]
                qrow[others] = (1 - qx) / len(others)
                ex["draft_probs"][b, i] = qrow.astype(F32)
                ex["draft_probs"][b, i, x] = qx
                ex["drafts"][b, i] = x
                ex["uniforms"][b, i] = F32(1.0 / qx)
        if b % 2:  # one ulp above at row b // 2 % K
            i = (b // 2) % K
            ex["uniforms"][b, i] = np.nextafter(ex["uniforms"][b, i], F32(np.inf))
    p.add("ratio_exactly_u_accepts(p(x)=1, q(x)=2^-k, u=1/q(x); +1ulp rejects)", ex, exact=True)

    # p == q: residual identically zero -> race over p (not token 0).
    pq = random_inputs(rng, m, num_draft=np.full(B, K, np.int32))
    pq["temperature"] = np.ones(B, F32)
    pq["is_greedy"] = np.zeros(B, bool)
    pq["exponentials"][:, 0] = 1e-6  # token 0 would win any race it is part of
    for b in range(B):
        S = np.sort(rng.choice(np.arange(1, V), size=4, replace=False))
        for i in range(K + 1):
            row = np.full(V, NEG_INF, F32)
            row[S] = 0.5
            pq["logits"][b, i] = row
            if i < K:
                qrow = np.zeros(V, F32)
                qrow[S] = 0.25
                pq["draft_probs"][b, i] = qrow
                # Draft outside S (p(x) = q(x) = 0: rejected), or inside S
                # with u > 1 (p/q = 1 < u: rejected).
                if (b + i) % 2:
                    pq["drafts"][b, i] = [v for v in range(V) if v not in S][b % (V - 4)]
                else:
                    pq["drafts"][b, i] = S[b % 4]
                    pq["uniforms"][b, i] = 1.5
    p.add("p_eq_q(residual all zero -> race over p)", pq, exact=True)

    # Race ties go to the first index; NaN (0/0) never wins; w/0 = inf wins.
    rt = random_inputs(rng, m, num_draft=np.array([0, 0, 0, 1, 1, 0, 0, 0], np.int32))
    rt["temperature"] = np.ones(B, F32)
    rt["is_greedy"] = np.zeros(B, bool)
    rt["exponentials"][:] = 1.0
    rt["logits"][:, :, :] = 0.0  # uniform p: every ratio equal -> token 0
    rt["logits"][1, 0, :3] = NEG_INF  # p = 0 at 0..2: token 3
    rt["logits"][2, 0, 0] = NEG_INF  # 0/0 = NaN at token 0 must not win
    rt["exponentials"][2, 0] = 0.0
    rt["exponentials"][2, [5, 9]] = 0.5  # ties between 5 and 9 -> 5
    rt["drafts"][3:5, 0] = -1  # rejected: residual race over p (one-hot drafts: q row)
    rt["draft_probs"][3, 0] = 0.0
    rt["draft_probs"][3, 0, [2, 7]] = 0.5  # residual = p except at 2, 7 (q >= p)
    rt["exponentials"][3, [2, 7, 8, 11]] = [0.25, 0.25, 0.5, 0.5]  # 8 beats 11
    rt["draft_probs"][4, 0] = F32(1.0 / V)
    rt["logits"][5, 0, 6] = 1.0  # finite weight over E = 0 is +inf: token 4 wins
    rt["exponentials"][5, 4] = 0.0
    rt["exponentials"][5, 6] = 0.5
    rt["logits"][6, 0, :] = NEG_INF
    rt["logits"][6, 0, [3, 10]] = 2.0
    rt["exponentials"][6, [3, 10]] = 0.75  # exact tie 3 vs 10 -> 3
    rt["logits"][7, 0, 12] = 0.0
    rt["exponentials"][7, :] = np.inf  # every other ratio is p / inf = 0
    rt["exponentials"][7, 12] = 1.0
    p.add("race_ties_first_index/nan_never_wins", rt, exact=True)

    mix = random_inputs(rng, m)
    mix["is_greedy"] = np.array([1, 0, 0, 0, 1, 0, 0, 0], bool)
    mix["temperature"] = np.array([0.7, 0.0, -1.0, 0.7, 0.0, 1.0, 1.3, 0.5], F32)
    mix["num_draft"] = np.full(B, K, np.int32)
    am = np.argmax(mix["logits"], -1)[:, :K]
    mix["drafts"][:4] = am[:4]
    p.add("mixed_greedy_random(is_greedy, T=0, T<0)", mix)
    for r in range(R):
        p.add("random%d" % r, random_inputs(rng, m))
    nb = random_inputs(rng, m)
    p.add("random_for_nan", nb)
    p.add("random_nan_after_bonus", with_nan_after_bonus(nb, K), same_as="random_for_nan")
    p.add("random_nan_after_first_rejection", with_nan_after_stop(nb, K, "rejection"),
          same_as="random_for_nan")
    progs.append(p)

    # ---- rejection, draft_probs, Philox ---------------------------------------
    B, K, V = 8, 3, 10
    p = make_verify("verify_rejection", "r_q_philox_f32", B, K, V, "f32", "rejection", q=True)
    m = p.meta
    det = random_inputs(rng, m)
    det["seed"] = np.array([0, 1, -1, 2 ** 62, -(2 ** 63), 12345, 7, 7], np.int64)
    det["offset"] = np.array([0, 0, 2 ** 32, 2 ** 32 + 5, 3, -1, 0, 2 ** 33], np.int64)
    p.add("philox", det)
    p.add("philox_again(same seed/offset)", det, same_as="philox")
    det2 = dict(det, offset=det["offset"] + 1)
    p.add("philox_offset+1", det2, differs_from="philox")
    det3 = dict(det, seed=det["seed"] ^ np.int64(1 << 40))
    p.add("philox_seed_hi_bit", det3, differs_from="philox")
    for r in range(R):
        p.add("random%d" % r, random_inputs(rng, m))
    progs.append(p)

    # ---- rejection, one-hot drafts, explicit noise, f16 ------------------------
    B, K, V = 6, 4, 17
    p = make_verify("verify_rejection", "r_onehot_explicit_f16", B, K, V, "f16", "rejection",
                    temp=True, noise="explicit")
    m = p.meta
    oh = random_inputs(rng, m, num_draft=np.full(B, K, np.int32))
    oh["temperature"] = np.ones(B, F32)
    oh["uniforms"][:] = 0.0
    for b in range(B):
        for i in range(K + 1):
            x = int(rng.integers(1, V))
            oh["logits"][b, i] = one_hot_row(V, x, 1.0)
            if i < K:
                oh["drafts"][b, i] = x
    oh["uniforms"][0, :] = 1.0  # p(x) = 1 >= u = 1: accepts
    oh["uniforms"][1, 2] = np.nextafter(F32(1), F32(2))  # rejects; residual 0 -> race(p) = x
    oh["logits"][2, 1] = 0.0
    oh["logits"][2, 1, oh["drafts"][2, 1]] = NEG_INF  # p(x) = 0 with u = 0: rejected
    oh["drafts"][3, 0] = -1  # invalid: residual = p
    oh["drafts"][4, 3] = V
    oh["num_draft"][5] = 0
    p.add("one_hot_exact(u=1 accepts, u=1+ulp rejects -> race(p), p(x)=0, ids -1/V)", oh,
          exact=True)
    for r in range(R):
        p.add("random%d" % r, random_inputs(rng, m))
    progs.append(p)

    # ---- rejection, one-hot drafts, Philox, bf16, V = 1000 ---------------------
    B, K, V = 6, 4, 1000
    p = make_verify("verify_rejection", "r_onehot_philox_bf16_V1000", B, K, V, "bf16",
                    "rejection", isg=True)
    m = p.meta
    for r in range(R):
        p.add("random%d" % r, random_inputs(rng, m))
    hi = random_inputs(rng, m, num_draft=np.full(B, K, np.int32))
    hi["logits"] *= 4.0  # peaked rows: long accepted prefixes
    hi["drafts"] = np.argmax(hi["logits"], -1)[:, :K].astype(np.int32)
    hi["is_greedy"] = np.array([0, 0, 0, 0, 1, 0], bool)
    p.add("peaked(long prefixes, bonus)", hi)
    progs.append(p)

    # ---- rejection, draft_probs + temperature + Philox, V = 4099 ---------------
    B, K, V = 3, 2, 4099
    p = make_verify("verify_rejection", "r_q_temp_philox_f32_V4099", B, K, V, "f32",
                    "rejection", q=True, temp=True)
    m = p.meta
    for r in range(max(R - 1, 1)):
        inp = random_inputs(rng, m)
        inp["temperature"] = np.array([0.8, 1.0, 1.5], F32)
        p.add("random%d" % r, inp)
    progs.append(p)

    # ---- Philox exponential of the largest word ---------------------------------
    # w >> 8 = 2^24 - 1 gives E = -log((2^24 - 0.5) * 2^-24) ~ 2.98e-8 > 0: that
    # token wins its race by a factor ~10^6. (Found by search: seed 0, offset
    # 1272464, v = 14 and offset 1936809, v = 12.) An fp32 evaluation of
    # (m + 0.5) rounds to 2^24, so E = -log(1) = -0.0 and the ratio is -inf
    # (a bug this case caught; the op now evaluates E in f64).
    B, K, V = 2, 1, 16
    p = make_verify("verify_rejection", "r_philox_E_min_word", B, K, V, "f32", "rejection")
    m = p.meta
    inp = random_inputs(rng, m, logits=np.zeros((B, K + 1, V), F32),
                        drafts=np.array([[3], [-1]], np.int32),
                        num_draft=np.array([0, 1], np.int32),
                        seed=np.array([0, 0], np.int64),
                        offset=np.array([1272464, 1936809], np.int64))
    p.add("E(w>>8 = 2^24-1) ~ 3e-8 wins (bonus: 14, correction: 12)", inp, exact=True)
    progs.append(p)

    # ---- K = 0 (bonus only) -----------------------------------------------------
    B, K, V = 4, 0, 9
    p = make_verify("verify_rejection", "r_k0_philox_f32", B, K, V, "f32", "rejection")
    m = p.meta
    for r in range(R):
        p.add("random%d" % r, random_inputs(rng, m))
    progs.append(p)

    # ---- typical ------------------------------------------------------------------
    B, K, V = 6, 4, 12
    p = make_verify("verify_typical", "t_default_philox_f32", B, K, V, "f32", "typical",
                    temp=True)
    m = p.meta
    te = random_inputs(rng, m, num_draft=np.array([0, K, -1, K + 2, K, K], np.int32))
    te["temperature"] = np.array([1, 1, 1, 1, 0, 0.5], F32)
    for b in range(B):
        for i in range(K + 1):
            x = int(rng.integers(0, V))
            te["logits"][b, i] = one_hot_row(V, x, 3.0)  # p(x) = 1 > 0.09
            if i < K:
                te["drafts"][b, i] = x
    te["logits"][1, 2] = 0.0
    te["logits"][1, 2, te["drafts"][1, 2]] = NEG_INF  # p(x) = 0: rejected, race(p)
    te["drafts"][3, 1] = -1  # -1 never passes
    te["drafts"][5, 2] = V
    p.add("exact(one-hot p, p(x)=0, ids -1/V, T=0 greedy)", te, exact=True)
    # eps vs alpha * exp(-H): a peaked row (threshold eps = 0.09) and a flat
    # row (threshold alpha * exp(-H) ~ alpha / V = 0.025).
    th = random_inputs(rng, m, num_draft=np.full(B, K, np.int32))
    th["temperature"] = np.ones(B, F32)
    for b in range(B):
        for i in range(K + 1):
            if (b + i) % 2:
                row = np.full(V, -2.0, F32)
                row[0] = 3.0
                row[1 + b] = 1.0  # p ~ 0.11: > eps = 0.09 but < alpha * exp(-H) ~ 0.15
                th["logits"][b, i] = row
                if i < K:
                    th["drafts"][b, i] = 1 + b
            else:
                th["logits"][b, i] = (rng.standard_normal(V) * 0.1).astype(F32)
                if i < K:
                    th["drafts"][b, i] = int(rng.integers(0, V))
    th["drafts"][5, 3] = 0
    p.add("threshold_min(eps, alpha*exp(-H))", th)
    for r in range(R):
        p.add("random%d" % r, random_inputs(rng, m))
    nb = random_inputs(rng, m)
    p.add("random_for_nan", nb)
    p.add("random_nan_after_bonus", with_nan_after_bonus(nb, K), same_as="random_for_nan")
    p.add("random_nan_after_first_rejection", with_nan_after_stop(nb, K, "typical"),
          same_as="random_for_nan")
    progs.append(p)

    B, K, V = 6, 3, 50
    EPS, ALPHA = 0.2, 0.5
    p = make_verify("verify_typical", "t_custom_explicit_bf16", B, K, V, "bf16", "typical",
                    isg=True, noise="explicit", eps=EPS, alpha=ALPHA)
    m = p.meta
    for r in range(R + 1):
        inp = random_inputs(rng, m)
        inp["logits"] *= 2.0
        p.add("random%d(epsilon 0.2, alpha 0.5)" % r, inp)
    progs.append(p)

    B, K, V = 4, 2, 1000
    p = make_verify("verify_typical", "t_f16_philox_V1000", B, K, V, "f16", "typical")
    m = p.meta
    for r in range(R):
        inp = random_inputs(rng, m)
        inp["logits"] *= 2.0
        p.add("random%d" % r, inp)
    progs.append(p)

    # ---- batch 1 (B = 1) ----------------------------------------------------------
    # A batch of one gives 1-element batch loops (and grid axes under the GPU
    # mapping). Built last so that the draws of the cases above do not shift.
    B, K, V = 1, 4, 11
    p = make_verify("verify_greedy", "g_f32_b1", B, K, V, "f32", "greedy", noise=None)
    m = p.meta
    base = random_inputs(rng, m, num_draft=np.array([K], np.int32))
    p.add("K_b{K}", base, exact=True)
    p.add("nan_after_first_mismatch", with_nan_after_stop(base, K, "greedy"), exact=True,
          same_as="K_b{K}")
    allm = random_inputs(rng, m, num_draft=np.array([K + 1], np.int32))
    allm["drafts"] = np.argmax(allm["logits"], -1)[:, :K].astype(np.int32)
    p.add("all_drafts_match(bonus)", allm, exact=True)
    p.add("K_b{-2}", random_inputs(rng, m, num_draft=np.array([-2], np.int32)), exact=True)
    for r in range(R):
        p.add("random%d" % r, random_inputs(rng, m))
    progs.append(p)

    B, K, V = 1, 4, 13
    p = make_verify("verify_rejection", "r_q_explicit_f32_b1", B, K, V, "f32", "rejection",
                    q=True, temp=True, isg=True, noise="explicit")
    m = p.meta
    nb = random_inputs(rng, m, num_draft=np.array([K], np.int32),
                       temperature=np.ones(B, F32), is_greedy=np.zeros(B, bool))
    p.add("random_for_nan", nb)
    p.add("random_nan_after_bonus", with_nan_after_bonus(nb, K), same_as="random_for_nan")
    p.add("random_nan_after_first_rejection", with_nan_after_stop(nb, K, "rejection"),
          same_as="random_for_nan")
    p.add("is_greedy", random_inputs(rng, m, num_draft=np.array([K], np.int32),
                                     is_greedy=np.ones(B, bool)))
    for r in range(R):
        p.add("random%d" % r, random_inputs(rng, m))
    progs.append(p)

    B, K, V = 1, 3, 1000
    p = make_verify("verify_rejection", "r_onehot_philox_bf16_V1000_b1", B, K, V, "bf16",
                    "rejection", isg=True)
    m = p.meta
    det = random_inputs(rng, m, num_draft=np.array([K], np.int32), is_greedy=np.zeros(B, bool))
    p.add("philox", det)
    p.add("philox_again(same seed/offset)", det, same_as="philox")
    for r in range(R):
        p.add("random%d" % r, random_inputs(rng, m))
    progs.append(p)

    B, K, V = 1, 4, 12
    p = make_verify("verify_typical", "t_default_philox_f32_b1", B, K, V, "f32", "typical",
                    temp=True)
    m = p.meta
    nb = random_inputs(rng, m, num_draft=np.array([K], np.int32), temperature=np.ones(B, F32))
    p.add("random_for_nan", nb)
    p.add("random_nan_after_first_rejection", with_nan_after_stop(nb, K, "typical"),
          same_as="random_for_nan")
    for r in range(R):
        p.add("random%d" % r, random_inputs(rng, m))
    progs.append(p)

    progs.append(knife_edge_program(rng))
    progs += given_probability_programs(rng, R)

    # ---- a batch that fills the GPU -------------------------------------------------
    # Grids of 264 blocks or more walk their full trips without bound checks
    # and only the last trip with them: 70 requests x 5 rows of V = 5000 (the
    # greedy argmax table: two full trips, one partial), 280 requests of three
    # 3000-entry race slices (one full trip, one partial).
    B, K, V = 70, 4, 5000
    p = make_verify("verify_greedy", "g_bf16_b70_V5000", B, K, V, "bf16", "greedy",
                    noise=None)
    m = p.meta
    for r in range(R):
        p.add("random%d" % r, random_inputs(rng, m))
    progs.append(p)
    B, K, V = 280, 2, 9000
    p = make_verify("verify_rejection", "r_onehot_philox_bf16_b280_V9000", B, K, V, "bf16",
                    "rejection")
    m = p.meta
    p.add("random0", random_inputs(rng, m))
    progs.append(p)
    # 280 requests of one vocabulary slice each: the GPU form folds every row's
    # chunk statistics once, in a launch of its own, instead of in the race
    # blocks (its choice below 264 blocks). V = 300: a full and a partial chunk.
    B, K, V = 280, 2, 300
    p = make_verify("verify_rejection", "r_q_philox_f32_b280", B, K, V, "f32", "rejection",
                    q=True, temp=True, isg=True)
    m = p.meta
    for r in range(R):
        p.add("random%d" % r, random_inputs(rng, m))
    progs.append(p)
    p = make_verify("verify_typical", "t_philox_bf16_b280", B, K, V, "bf16", "typical",
                    temp=True)
    m = p.meta
    for r in range(R):
        inp = random_inputs(rng, m)
        inp["logits"] *= 2.0
        p.add("random%d" % r, inp)
    progs.append(p)
    return progs


def as_probabilities(rng, inp):
    """The target rows as the probabilities an engine passes: fp32 softmax
    of the logits, some entries exactly 0 (top-k / top-p) and the rest
    renormalised in fp32 (so rows sum to 1 only up to rounding)."""
    p = f32_softmax(inp["logits"])
    V = p.shape[-1]
    cut = rng.random(p.shape) < 0.3
    cut[..., 0] &= rng.random(cut.shape[:-1]) < 0.5  # keep some rows full
    p = np.where(cut, 0.0, p)
    s = p.sum(-1, keepdims=True)
    p = np.where(s > 0, p / np.where(s > 0, s, 1.0), 1.0 / V)
    inp["logits"] = p.astype(F32)
    return inp


def given_probability_programs(rng, R):
    """tok.spec_verify {target_probs}: the first operand holds f32
    probabilities, used as given; rejection with and without draft
    distributions, typical, greedy requests by is_greedy; explicit and Philox
    noise; and the knife edge u = p(x) / q(x) in fp32, exactly."""
    progs = []
    for name, mode, kw in [
            ("r_probs_q_explicit", "rejection", dict(q=True, noise="explicit", isg=True)),
            ("r_probs_onehot_philox", "rejection", dict()),
            ("t_probs_philox", "typical", dict(isg=True)),
            ("g_probs", "greedy", dict(noise=None))]:
        B, K, V = 6, 3, 300
        p = make_verify("verify_" + mode, name, B, K, V, "f32", mode, probs=True, **kw)
        for r in range(R):
            inp = random_inputs(rng, p.meta)
            # Drafts sampled from the logits' softmax stay likely under p.
            p.add("random%d" % r, as_probabilities(rng, inp))
        progs.append(p)
    # 280 requests: the GPU form folds rows in a launch of its own (its
    # choice from 264 blocks on), which given probabilities must bypass too.
    p = make_verify("verify_rejection", "r_probs_q_philox_b280", 280, 2, 300, "f32",
                    "rejection", q=True, isg=True, probs=True)
    p.add("random0", as_probabilities(rng, random_inputs(rng, p.meta)))
    progs.append(p)
    # Without is_greedy no request reads a table: the GPU form computes no
    # row statistics at all (small and large grids).
    p = make_verify("verify_rejection", "r_probs_q_philox_b280_no_greedy", 280, 2, 300,
                    "f32", "rejection", q=True, probs=True)
    p.add("random0", as_probabilities(rng, random_inputs(rng, p.meta)))
    progs.append(p)
    p = make_verify("verify_typical", "t_probs_philox_b280", 280, 2, 300, "f32", "typical",
                    probs=True)
    p.add("random0", as_probabilities(rng, random_inputs(rng, p.meta)))
    progs.append(p)
    progs.append(knife_edge_probs_program(rng))
    return progs


def knife_edge_probs_program(rng):
    """Given probabilities make the test exact: u = fp32(p(x) / q(x)) must
    accept and the next float up must reject, on every target."""
    B, K, V = 8, 1, 700
    p = make_verify("verify_rejection", "r_knife_edge_probs", B, K, V, "f32", "rejection",
                    q=True, noise="explicit", probs=True)
    inp = random_inputs(rng, p.meta, num_draft=np.full(B, K, np.int32))
    inp = as_probabilities(rng, inp)
    drafts = inp["drafts"]
    for b in range(B):
        d = int(drafts[b, 0]) % V
        drafts[b, 0] = d
        inp["logits"][b, 0, d] = F32(rng.uniform(0.01, 0.9))
        inp["draft_probs"][b, 0, d] = F32(rng.uniform(0.02, 0.95))
        ratio = F32(inp["logits"][b, 0, d]) / F32(inp["draft_probs"][b, 0, d])
        inp["uniforms"][b, 0] = ratio if b % 2 == 0 else np.nextafter(ratio, F32(np.inf))
    expected = np.array([1 if b % 2 == 0 else 0 for b in range(B)], np.int32)

    def check(inp, out):
        accepted = np.asarray(out["num_accepted"]).astype(np.int32)
        return [rpo.check_exact("num_accepted (u = fp32 p(x)/q(x) accepts, the next float "
                                "rejects)", expected, accepted),
                structure_check(inp, out)]

    p.check = check
    p.add("u_on_the_ratio", inp, bits=True)
    return p


def knife_edge_program(rng):
    """Uniforms exactly on p(x) / q(x) as the targets compute it in fp32
    (verify_bits: Winnow's exp and log, the chunk order of the log-sum-exp):
    even requests must accept, odd ones (the next float up) must reject. A
    log-sum-exp one bit off on either target flips decisions (sequential
    lane sums instead of the tree are caught). V = 9000: 36 chunks, the
    last one partial, lanes 0-3 of the chunk fold adding two."""
    B, K, V = 16, 1, 9000
    p = make_verify("verify_rejection", "r_knife_edge_f32", B, K, V, "f32", "rejection",
                    q=True, noise="explicit")
    # One logit at 0, the rest near -12: the sum of exponentials is about
    # 1.4, so the log-sum-exp (about 0.34) shows the last bits of the sum,
    # and the draft is the token at 0, so that p(x) = exp(-lse) shows the
    # last bits of the log-sum-exp (a large maximum or a logit far below
    # would round them away).
    drafts = rng.integers(0, V, (B, K)).astype(np.int32)
    logits = (rng.standard_normal((B, K + 1, V)) * 2 - 12).astype(F32)
    logits[np.arange(B), 0, drafts[:, 0]] = 0.0
    inp = dict(logits=logits,
               drafts=drafts, num_draft=np.full(B, K, np.int32),
               draft_probs=rng.uniform(0.05, 1.0, (B, K, V)).astype(F32),
               uniforms=np.zeros((B, K), F32),
               exponentials=rng.exponential(1.0, (B, V)).astype(F32))
    for b in range(B):
        d = int(drafts[b, 0])
        lse = vb.row_lse_f32(inp["logits"][b, 0])
        ratio = F32(vb.prob_f32(inp["logits"][b, 0, d], lse) / inp["draft_probs"][b, 0, d])
        inp["uniforms"][b, 0] = ratio if b % 2 == 0 else np.nextafter(ratio, F32(np.inf))
    expected = np.array([1 if b % 2 == 0 else 0 for b in range(B)], np.int32)

    def check(inp, out):
        accepted = np.asarray(out["num_accepted"]).astype(np.int32)
        first = np.asarray(out["tokens"]).astype(np.int32)[:, 0]
        return [rpo.check_exact("num_accepted (u = p(x)/q(x) accepts, the next float rejects)",
                                expected, accepted),
                rpo.check_exact("accepted drafts emitted", drafts[expected == 1, 0],
                                first[expected == 1]),
                structure_check(inp, out)]

    p.check = check
    p.add("u_on_the_ratio", inp, bits=True)
    return p


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------


def main_corpus(a, rn):
    rng = np.random.default_rng(a.seed)
    progs = build_corpus(rng, 1 if a.quick else 3)
    if a.filter:
        progs = [p for p in progs if a.filter in p.name]
    modules = {}
    for p in progs:
        modules.setdefault(p.module, []).append(p)
    return run_modules(a, modules, rn)


class Runner:
    def __init__(self, a):
        self.a = a
        self.passed = self.failed = 0
        self.compile_time = self.run_time = 0.0
        self.n_compiles = self.n_runs = 0
        self.xfail = 0

    def report(self, label, ok, detail=""):
        if ok:
            self.passed += 1
            print("PASS %s" % label)
        else:
            self.failed += 1
            print("FAIL %s%s" % (label, (": " + detail) if detail else ""))

    def compile(self, src_path, art_path, text=None):
        if text is not None:
            with open(src_path, "w") as f:
                f.write(text)
        if os.path.exists(art_path):
            os.remove(art_path)
        ts = time.time()
        rc, _, err = rpo.run_cmd([self.a.compile, src_path, "-o", art_path] + getattr(self.a, "compile_flag", []), timeout=300)
        dt = time.time() - ts
        self.compile_time += dt
        self.n_compiles += 1
        if rc != 0 or not os.path.exists(art_path):
            return "winnow-compile exit %d on %s\n      %s" % (rc, src_path, rpo.shorten(err))
        print("# compiled %s in %.2fs" % (os.path.basename(src_path), dt))
        return None

    def run(self, art, func, args, inputs, results, cdir):
        """Returns (outputs dict, error string)."""
        os.makedirs(cdir, exist_ok=True)
        cmd = [self.a.run, art, "--function=" + func, "--print=none"]
        for n, shape, dt in args:
            arr = encode(inputs[n], dt)
            assert tuple(arr.shape) == tuple(shape), (func, n, arr.shape, shape)
            path = os.path.join(cdir, "in_%s.npy" % n)
            np.save(path, arr)
            cmd.append("--input=@" + path)
        outpaths = {}
        for n, _, _ in results:
            outpaths[n] = os.path.join(cdir, "out_%s.npy" % n)
            if os.path.exists(outpaths[n]):
                os.remove(outpaths[n])
            cmd.append("--output=@" + outpaths[n])
        ts = time.time()
        rc, _, err = rpo.run_cmd(cmd)
        self.run_time += time.time() - ts
        self.n_runs += 1
        if rc != 0:
            return None, "winnow-run exit %d\n      %s" % (rc, rpo.shorten(err))
        return {n: np.load(outpaths[n]) for n, _, _ in results}, None


def run_modules(a, modules, rn):
    t0 = time.time()
    os.makedirs(a.workdir, exist_ok=True)
    for mod, mprogs in modules.items():
        mdir = os.path.join(a.workdir, mod)
        os.makedirs(mdir, exist_ok=True)
        art = os.path.join(mdir, mod + ".wnn")
        text = "// Generated by run_verify_oracle.py (seed %d)\n" % a.seed
        text += "\n\n".join(p.text() for p in mprogs) + "\n"
        err = rn.compile(os.path.join(mdir, mod + ".mlir"), art, text)
        if err is not None:
            for p in mprogs:
                for case, _, _ in p.cases:
                    rn.report("%s/%s/%s: compile" % (mod, p.name, case), False, err)
                    err = "(see above)"
            continue
        for p in mprogs:
            outs_by_case = {}
            for ci, (case, inputs, opts) in enumerate(p.cases):
                label = "%s/%s/%s" % (mod, p.name, case)
                outs, err = rn.run(art, p.name, p.args, inputs, p.results,
                                   os.path.join(mdir, "%s.%d" % (p.name, ci)))
                if err is not None:
                    rn.report(label + ": run", False, err)
                    continue
                outs_by_case[case] = outs
                decoded = {n: decode(inputs[n], dt) for n, _, dt in p.args}
                try:
                    if opts.get("bits"):  # the case's own fp32 replay decides
                        checks = p.check(decoded, outs)
                    else:
                        checks = check_against_oracle(
                            decoded, outs, p.meta["mode"], p.meta["eps"],
                            p.meta["alpha"], require_exact=opts.get("exact", False),
                            probs=p.meta.get("probs", False))
                except Exception as e:  # an oracle error is a failure too
                    rn.report(label + ": oracle", False, "%s: %s" % (type(e).__name__, e))
                    continue
                if opts.get("known_bug"):
                    bad = [c for c in checks if not c[1]]
                    if bad:
                        rn.xfail += 1
                        print("XFAIL %s: known compiler bug (%s): %s: %s" % (
                            label, opts["known_bug"], bad[0][0], bad[0][2].split("\n")[0]))
                    else:
                        rn.report("%s: known bug '%s' no longer reproduces (XPASS): "
                                  "remove its known_bug marker" % (label, opts["known_bug"]), False)
                    continue
                for what, ok, detail in checks:
                    rn.report("%s: %s" % (label, what), ok, detail)
                if "same_as" in opts and opts["same_as"] in outs_by_case:
                    ref = outs_by_case[opts["same_as"]]
                    same = all(np.array_equal(ref[n], outs[n]) for n, _, _ in p.results)
                    rn.report("%s: outputs identical to '%s'" % (label, opts["same_as"]), same,
                              "" if same else "tokens %s vs %s" % (
                                  outs["tokens"].tolist(), ref["tokens"].tolist()))
                if "differs_from" in opts and opts["differs_from"] in outs_by_case:
                    ref = outs_by_case[opts["differs_from"]]
                    diff = not np.array_equal(ref["tokens"], outs["tokens"])
                    rn.report("%s: tokens differ from '%s'" % (label, opts["differs_from"]), diff)
    print("# %d compiles in %.1fs; %d runs in %.1fs; %d/%d requests ambiguous (skipped); "
          "total %.1fs" % (rn.n_compiles, rn.compile_time, rn.n_runs, rn.run_time,
                           Stats.ambiguous, Stats.requests, time.time() - t0))
    if rn.xfail:
        print("# %d case(s) reproduce known compiler bugs (XFAIL, not counted)" % rn.xfail)
    print("%d passed, %d failed" % (rn.passed, rn.failed))
    return 1 if rn.failed else 0


# ---------------------------------------------------------------------------
# Recipes (examples/*.mlir)
# ---------------------------------------------------------------------------

RECIPES = [
    # file, function, mode, B, K, V, logits dtype, operands
    ("spec_chain_greedy.mlir", "spec_chain_greedy", "greedy", 8, 4, 32000, "bf16", ()),
    ("spec_chain_rejection.mlir", "spec_chain_rejection", "rejection", 8, 4, 32000, "bf16",
     ("draft_probs", "temperature", "seed", "offset")),
    ("medusa_typical_chain.mlir", "medusa_typical_chain", "typical", 4, 4, 32000, "bf16",
     ("temperature", "seed", "offset")),
]


def recipe_inputs(rng, mode, B, K, V, operands):
    """Realistic inputs: peaked target rows (an LLM's logits), drafts mostly
    from the draft distribution / the target argmax, ragged num_draft."""
    meta = dict(B=B, K=K, V=V, dt="bf16", mode=mode, q="draft_probs" in operands,
                temp="temperature" in operands, isg=False,
                noise="philox" if "seed" in operands else None)
    logits = (rng.standard_normal((B, K + 1, V)) * 2.0).astype(F32)
    hot = rng.integers(0, V, size=(B, K + 1, 8))
    for b in range(B):
        for i in range(K + 1):
            logits[b, i, hot[b, i]] += rng.uniform(4, 12, size=8).astype(F32)
    inp = random_inputs(rng, meta, logits=logits)
    if meta["q"]:
        inp["draft_probs"] = random_q(rng, logits, zero_frac=0.0)
        for b in range(B):
            for i in range(K):
                src = inp["draft_probs"][b, i].astype(np.float64)
                inp["drafts"][b, i] = rng.choice(V, p=src / src.sum())
    else:
        am = np.argmax(logits, -1)[:, :K]
        pick = rng.random((B, K)) < 0.7
        inp["drafts"] = np.where(pick, am, hot[:, :K, 1]).astype(np.int32)
    inp["num_draft"] = np.array(([K, K, 2, 0, K, 1, K + 1, -1] * B)[:B], np.int32)
    if meta["temp"]:
        inp["temperature"] = np.array(([1.0, 0.7, 0.0, 1.0, 0.9, 1.2, 1.0, 0.6] * B)[:B], F32)
    return inp, meta


def main_recipes(a, rn):
    t0 = time.time()
    os.makedirs(a.workdir, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    for fname, func, mode, B, K, V, dt, operands in RECIPES:
        src = os.path.join(a.recipes, fname)
        art = os.path.join(a.workdir, func + ".wnn")
        ts = time.time()
        err = rn.compile(src, art)
        if err is not None:
            rn.report("%s: compile" % func, False, err)
            continue
        args = [("logits", (B, K + 1, V), dt), ("drafts", (B, K), "i32"),
                ("num_draft", (B,), "i32")]
        rc, listing, lerr = rpo.run_cmd([a.run, art, "--list"])
        want = "func @%s(logits: %dx%dx%dx%s, drafts: %dx%dxi32, num_draft: %dxi32" % (
            func, B, K + 1, V, dt, B, K, B)
        want_res = "-> (tokens: %dx%dxi32" % (B, K + 1)
        rn.report("%s: tok.name signature in winnow-run --list" % func,
                  rc == 0 and want in listing and want_res in listing and
                  "num_accepted: %dxi32" % B in listing and "num_emitted: %dxi32" % B in listing,
                  rpo.shorten(listing + lerr))
        shapes = {"draft_probs": ((B, K, V), "f32"), "temperature": ((B,), "f32"),
                  "seed": ((B,), "i64"), "offset": ((B,), "i64")}
        args += [(n,) + shapes[n] for n in operands]
        results = [("tokens", (B, K + 1), "i32"), ("num_accepted", (B,), "i32"),
                   ("num_emitted", (B,), "i32")]
        for c in range(2):
            inp, _ = recipe_inputs(rng, mode, B, K, V, operands)
            label = "%s/case%d" % (func, c)
            tr = time.time()
            outs, err = rn.run(art, func, args, inp, results,
                               os.path.join(a.workdir, "%s.%d" % (func, c)))
            if err is not None:
                rn.report(label + ": run", False, err)
                continue
            decoded = {n: decode(inp[n], d) for n, _, d in args}
            for what, ok, detail in check_against_oracle(decoded, outs, mode):
                rn.report("%s: %s" % (label, what), ok, detail)
            print("# [%s] case %d: run %.2fs; num_accepted = %s" % (
                func, c, time.time() - tr, outs["num_accepted"].tolist()))
        print("# [%s] %.2fs with compile" % (func, time.time() - ts))
    print("# %d compiles in %.1fs; %d runs in %.1fs; %d/%d requests ambiguous (skipped); "
          "total %.1fs" % (rn.n_compiles, rn.compile_time, rn.n_runs, rn.run_time,
                           Stats.ambiguous, Stats.requests, time.time() - t0))
    print("%d passed, %d failed" % (rn.passed, rn.failed))
    return 1 if rn.failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--compile", required=True, help="winnow-compile executable")
    ap.add_argument("--run", required=True, help="winnow-run executable")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--quick", action="store_true", help="fewer random cases")
    ap.add_argument("--filter", default="", help="only programs whose name contains this")
    ap.add_argument("--recipes", default=None,
                    help="check the spec_verify recipes in this examples/ directory")
    ap.add_argument("--compile-flag", action="append", default=[],
                    help="extra winnow-compile flag (repeatable)")
    a = ap.parse_args()
    for tool in (a.compile, a.run):
        if shutil.which(tool) is None and not os.path.exists(tool):
            print("error: tool not found: %s" % tool)
            return 2
    rn = Runner(a)
    try:
        vo.philox_self_check()
        rn.report("Philox4x32-10 known-answer tests (Random123)", True)
    except AssertionError as e:
        rn.report("Philox4x32-10 known-answer tests (Random123)", False, str(e))
        print("%d passed, %d failed" % (rn.passed, rn.failed))
        return 1
    return main_recipes(a, rn) if a.recipes else main_corpus(a, rn)


if __name__ == "__main__":
    sys.exit(main())
