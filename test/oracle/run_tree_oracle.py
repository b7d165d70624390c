#!/usr/bin/python3
"""End-to-end oracle tests for tok.tree_verify (greedy, typical and rejection).

Generates tok programs (several functions per module, one compile per
module: 3 compiles), compiles them with winnow-compile, runs every case with
winnow-run on the CPU (the shared runner run_chunk_oracle.run_programs) and
compares tokens, accept_nodes, num_accepted, num_emitted and best_leaf **exactly** with
the independent NumPy reference in tree_oracle.py (which reuses
verify_oracle.py: Philox4x32-10 checked against the Random123 known answers,
the typical threshold, the uncertainty bands and the exponential race).

A typical request whose acceptance test (at a node whose parent is
accepted), log-probability tie-break or race lies within the oracle's
fp32-vs-float64 band, or a rejection request whose test r(x) >= u Z or
final race does, is ambiguous: it is skipped and counted; cases marked
exact must have none (greedy is always exact). Every request, ambiguous or
not, must be well formed (tree_oracle.well_formed). Hand-built requests also
carry hand-computed expectations, checked against both the compiler and the
oracle, and the duplicate-children cases must tell path semantics apart
from a first-matching-child walk. Rows of padding nodes (>= num_nodes) are
NaN in every case: they must never be read.

Edge corpus (ops-reference §5.2, §8 "Tree"): root only (num_nodes 1, 0, -3),
num_nodes > T, chains, wide trees, duplicate children with different
subtrees, -1 / >= V / int32-extreme tokens, bad parents (self, forward,
pointing at padding, -1 for a non-root, < -1, child of an out-of-tree
node), padding nodes whose parents point into the tree, equal-length best
paths (lower leaf index; typical: larger log-probability sum first), greedy
argmax ties, f16 / bf16 / f32 logits, explicit and Philox exponentials,
temperature, custom epsilon / alpha, vocabularies that are not powers of
two, capacity C > T, batches with a different tree per request; requests
with a temperature <= 0 or NaN (verified greedily, path semantics) mixed
with sampling requests in typical and rejection batches.

Rejection mode (the lossless sampling walk): chains, wide trees, repeated
child tokens (skipped, not retried, even with u = 0), -1 / >= V / int32
extreme tokens, children whose p(x) = 0 exactly (u = 0 still fails), the
renormalisation Z by the rejected siblings' mass, a leaf reached (sample
from the full row), every child rejected (sample with the children's
tokens masked), one-hot rows with u = 1, explicit noise and Philox (the
uniform of child node i is counter n = i), identical requests with the same
seed/offset giving identical results, explicit noise equal to the Philox
stream giving the Philox program's answers.

Prints one line per check and a final `N passed, M failed`; exits 1 on any
failure. Run with Debian's /usr/bin/python3 (needs NumPy).

  run_tree_oracle.py --compile winnow-compile --run winnow-run --workdir DIR
                     [--seed S] [--quick] [--filter SUBSTR] [--recipes DIR]

--recipes DIR checks examples/eagle_tree_verify.mlir, medusa_tree_typical.mlir
and token_recycling.mlir instead (3 compiles).
"""

import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prune_oracle as porc  # noqa: E402
import run_chunk_oracle as rco  # noqa: E402
import tree_oracle as to  # noqa: E402
import verify_oracle as vo  # noqa: E402
from run_prune_oracle import decode_input as decode  # noqa: E402
from run_prune_oracle import Program, _Types, check_exact, fmt_f64, run_cmd, shorten  # noqa: E402

F32 = np.float32
I32_MIN, I32_MAX = -2 ** 31, 2 ** 31 - 1



class Stats:
    ambiguous = 0
    requests = 0
    greedy_by_temperature = 0


# ---------------------------------------------------------------------------
# Programs
# ---------------------------------------------------------------------------


def tree_op_text(tt, operands, mode, write_mode, eps, alpha):
    t = tt.types()
    text = ("%tokens, %accept_nodes, %num_accepted, %num_emitted, %best_leaf = "
            "tok.tree_verify ")
    text += ", ".join("%" + n for kw, n in operands if kw is None)
    text += "".join(" %s %%%s" % (kw, n) for kw, n in operands if kw is not None)
    attrs = []
    if write_mode:
        attrs.append("mode = #tok.verify_mode<%s>" % mode)
    if eps is not None:
        attrs.append("typical_epsilon = %s : f64" % fmt_f64(eps))
    if alpha is not None:
        attrs.append("typical_alpha = %s : f64" % fmt_f64(alpha))
    if attrs:
        text += " {" + ", ".join(attrs) + "}"
    text += " : (%s) -> (%s, %s, %s, %s, %s)" % (
        ", ".join(t[n] for _, n in operands), t["tokens"], t["accept_nodes"],
        t["num_accepted"], t["num_emitted"], t["best_leaf"])
    return text


class TreeProgram(Program):
    """A Program whose checker knows which case it is judging (found by its
    decoded inputs), so that cases can carry options: exact, expect,
    path_vs_first, info."""

    def find_case(self, decoded):
        for case, inputs, opts in self.cases:
            if all(np.array_equal(decode(inputs[n], dt), decoded[n],
                                  equal_nan=np.issubdtype(decoded[n].dtype, np.floating))
                   for n, _, dt in self.args):
                return case, opts
        return "?", {}


PRECHECKS = []  # (what, ok, detail) reported with the first case run


def make_tree(module, name, B, T, V, C, dt, mode, temp=False, noise=None, eps=None,
              alpha=None, write_mode=True):
    """One func.func wrapping tok.tree_verify. noise: None|explicit|philox."""
    args = [("logits", (B, T, V), dt), ("tree_tokens", (B, T), "i32"),
            ("parents", (B, T), "i32"), ("num_nodes", (B,), "i32")]
    operands = [(None, "logits"), (None, "tree_tokens"), (None, "parents"),
                (None, "num_nodes")]
    if temp:
        args.append(("temperature", (B,), "f32"))
        operands.append(("temperature", "temperature"))
    if noise == "explicit":
        if mode == "rejection":
            args.append(("uniforms", (B, T), "f32"))
            operands.append(("uniforms", "uniforms"))
        args.append(("exponentials", (B, V), "f32"))
        operands.append(("exponentials", "exponentials"))
    elif noise == "philox":
        args += [("seed", (B,), "i64"), ("offset", (B,), "i64")]
        operands += [("seed", "seed"), ("offset", "offset")]
    results = [("tokens", (B, C), "i32"), ("accept_nodes", (B, C), "i32"),
               ("num_accepted", (B,), "i32"), ("num_emitted", (B,), "i32"),
               ("best_leaf", (B,), "i32")]
    tt = _Types(args, results)
    body = [tree_op_text(tt, operands, mode, write_mode, eps, alpha)]
    p = TreeProgram(module, name, args, results, body, None)
    p.meta = dict(B=B, T=T, V=V, C=C, dt=dt, mode=mode, temp=temp, noise=noise, eps=eps,
                  alpha=alpha)

    def check(inp, out):
        case, opts = p.find_case(inp)
        checks = []
        while PRECHECKS:
            checks.append(PRECHECKS.pop(0))
        return checks + tree_checks(inp, out, p.meta, opts)

    p.check = check
    return p


def oracle_for(inp, meta):
    return to.tree_verify(
        inp["logits"], inp["tree_tokens"], inp["parents"], inp["num_nodes"], meta["C"],
        inp.get("temperature"), inp.get("exponentials"), inp.get("seed"), inp.get("offset"),
        meta["mode"], 0.09 if meta["eps"] is None else meta["eps"],
        0.3 if meta["alpha"] is None else meta["alpha"], inp.get("uniforms"))


def first_match_walk(inp, b, meta):
    """Greedy first-matching-child walk (what path semantics is NOT): the
    accepted nodes, or None when the walk reads an ambiguous row."""
    lg = inp["logits"][b]
    tree = to.Tree(inp["parents"][b], lg.shape[0], inp["num_nodes"][b])
    node, out = 0, [0]
    while True:
        if np.isnan(lg[node]).any():
            return None
        am = int(np.argmax(lg[node]))
        nxt = [c for c in tree.children[node] if int(inp["tree_tokens"][b, c]) == am]
        if not nxt:
            return out
        node = nxt[0]
        out.append(node)


def tree_checks(inp, out, meta, opts):
    r = oracle_for(inp, meta)
    B = len(r.num_accepted)
    tok = np.asarray(out["tokens"]).astype(np.int32)
    nodes = np.asarray(out["accept_nodes"]).astype(np.int32)
    acc = np.asarray(out["num_accepted"]).astype(np.int32)
    emi = np.asarray(out["num_emitted"]).astype(np.int32)
    keep = ~r.ambiguous
    nskip = int(r.ambiguous.sum())
    Stats.ambiguous += nskip
    Stats.requests += B
    Stats.greedy_by_temperature += int(r.greedy.sum())
    tag = "" if nskip == 0 else " [%d/%d ambiguous requests skipped]" % (nskip, B)
    for b in sorted(r.reasons)[:3]:
        print("#   ambiguous request %d: %s" % (b, r.reasons[b]))
    checks = []
    if opts.get("exact") and nskip:
        checks.append(("no ambiguous request in an exact case", False, "; ".join(
            "request %d: %s" % (b, r.reasons[b]) for b in sorted(r.reasons))))
    if opts.get("greedy_by_temperature") is not None:
        want = sorted(opts["greedy_by_temperature"])
        got_g = sorted(int(b) for b in np.nonzero(r.greedy)[0])
        checks.append(("oracle verifies requests %s greedily (temperature <= 0 or NaN)" % want,
                       got_g == want, "oracle: %s" % got_g))
        g = to.tree_verify(inp["logits"][want], inp["tree_tokens"][want], inp["parents"][want],
                           inp["num_nodes"][want], meta["C"])
        checks.append(check_exact("temperature <= 0 / NaN requests = greedy-mode verification "
                                  "(accept_nodes, tokens)",
                                  np.concatenate([g.accept_nodes, g.tokens], 1),
                                  np.concatenate([nodes[want], tok[want]], 1)))
    for b1, b2 in opts.get("same", []):
        checks.append(("requests %d and %d (identical inputs, same seed/offset) give identical "
                       "results" % (b1, b2),
                       nodes[b1].tolist() == nodes[b2].tolist() and
                       tok[b1].tolist() == tok[b2].tolist() and acc[b1] == acc[b2],
                       "%s %s vs %s %s" % (nodes[b1].tolist(), tok[b1].tolist(),
                                           nodes[b2].tolist(), tok[b2].tolist())))
    checks.append(check_exact("num_accepted" + tag, r.num_accepted[keep], acc[keep]))
    checks.append(check_exact("num_emitted" + tag, r.num_emitted[keep], emi[keep]))
    checks.append(check_exact("accept_nodes" + tag, r.accept_nodes[keep], nodes[keep]))
    checks.append(check_exact("tokens" + tag, r.tokens[keep], tok[keep]))
    if "best_leaf" in out:
        leaf = np.asarray(out["best_leaf"]).astype(np.int32)
        checks.append(check_exact("best_leaf" + tag, r.best_leaf[keep], leaf[keep]))
    bad = to.well_formed(inp["tree_tokens"], inp["parents"], inp["num_nodes"], meta["V"],
                         tok, nodes, acc, emi)
    checks.append(("well formed (counts, accept_nodes a root path, its tokens, ids in "
                   "range, -1 padding)", not bad, "; ".join(bad[:4])))
    for b, (want_nodes, want_next) in sorted(opts.get("expect", {}).items()):
        a = len(want_nodes) - 1
        wn = want_nodes + [-1] * (meta["C"] - a - 1)
        wt = [int(inp["tree_tokens"][b, i]) for i in want_nodes[1:]] + [want_next]
        wt += [-1] * (meta["C"] - a - 1)
        oracle_ok = (not r.ambiguous[b] and r.accept_nodes[b].tolist() == wn and
                     r.tokens[b].tolist() == wt)
        got_ok = nodes[b].tolist() == wn and tok[b].tolist() == wt and acc[b] == a
        checks.append(("request %d matches the hand-computed answer (oracle %s)" % (
            b, "agrees" if oracle_ok else "DISAGREES"), oracle_ok and got_ok,
            "want nodes %s tokens %s; oracle %s %s; got %s %s" % (
                wn, wt, r.accept_nodes[b].tolist(), r.tokens[b].tolist(),
                nodes[b].tolist(), tok[b].tolist())))
    if opts.get("path_vs_first"):
        differ = [b for b in range(B) if not r.ambiguous[b] and
                  first_match_walk(inp, b, meta) not in
                  (None, r.accept_nodes[b, :r.num_accepted[b] + 1].tolist())]
        checks.append(("path semantics differs from a first-matching-child walk in %d "
                       "request(s)" % len(differ), bool(differ), "the case does not discriminate"))
    return checks


# ---------------------------------------------------------------------------
# Input generation
# ---------------------------------------------------------------------------


def rounded(x, dt):
    """What the program sees of float32 values x in dtype dt."""
    return decode(np.asarray(x, F32), dt).astype(F32)


def rows_with_argmax(rng, T, V, am=None, dt="f32", scale=1.0):
    """[T, V] logits whose row r has its unique maximum at am[r]."""
    am = list(am or []) + list(rng.integers(0, V, size=T))[len(am or []):]
    lg = (rng.standard_normal((T, V)) * scale).astype(F32)
    for r in range(T):
        lg[r, am[r]] = lg[r].max() + 0.5 + rng.random()
    lg = rounded(lg, dt)
    assert all(int(np.argmax(lg[r])) == am[r] and (lg[r] == lg[r].max()).sum() == 1
               for r in range(T))
    return lg


def build_request(rng, T, V, lg, spec, n=None, root_parent=-1, pad_parent=None,
                  pad_match=True):
    """spec: (parent, token) for nodes 1..len(spec); token 'm' = the
    parent's argmax (for an out-of-range parent: the root's), 'x' = a valid
    id that does not match, or an int. Nodes after the spec are padding:
    their parents point into the tree (pad_parent or random) and their
    tokens match. Rows of nodes >= clamp(n, 1, T) become NaN."""
    n = len(spec) + 1 if n is None else n
    nc = min(max(n, 1), T)
    am = [int(np.argmax(lg[r])) if not np.isnan(lg[r]).any() else 0 for r in range(T)]
    toks = np.zeros(T, np.int64)
    pars = np.full(T, -1, np.int64)
    toks[0] = rng.integers(0, V)
    pars[0] = root_parent
    for i in range(1, T):
        if i <= len(spec):
            par, tk = spec[i - 1]
        else:
            par = pad_parent if pad_parent is not None else int(rng.integers(0, max(nc, 1)))
            tk = "m" if pad_match else "x"
        pars[i] = par
        ref = am[par] if 0 <= par < T else am[0]
        if tk == "m":
            toks[i] = ref
        elif tk == "x":
            toks[i] = (ref + 1 + rng.integers(0, V - 1)) % V
        else:
            toks[i] = tk
    lg = lg.copy()
    lg[nc:] = np.nan
    return dict(logits=lg, tree_tokens=toks, parents=pars, num_nodes=n)


def random_parents(rng, T):
    pars = np.full(T, -1, np.int64)
    for i in range(1, T):
        c = rng.random()
        if c < 0.55:
            pars[i] = i - 1 - rng.integers(0, min(i, 3))  # deep chains
        elif c < 0.93:
            pars[i] = rng.integers(0, i)
        else:
            pars[i] = rng.choice([i, i + 1, T + 2, -1, -2, I32_MIN])  # out of the tree
    return pars


def random_request(rng, meta, n=None, temp=1.0):
    """A random tree; tokens mostly accepted by the parent's row (argmax in
    greedy mode; sampled from p or the argmax in typical mode), some
    duplicates of a sibling, some invalid."""
    T, V, dt, mode = meta["T"], meta["V"], meta["dt"], meta["mode"]
    scale = rng.choice([0.5, 1.0, 2.0, 3.0]) if V < 500 else 2.5
    lg = (rng.standard_normal((T, V)) * scale).astype(F32)
    if V >= 500:
        for r in range(T):
            lg[r, rng.integers(0, V, size=6)] += rng.uniform(3, 9, size=6).astype(F32)
    if rng.random() < 0.25:  # ties
        lg = np.round(lg).astype(F32)
    if mode == "rejection":
        for r in range(T):
            c = rng.random()
            if c < 0.3:  # tokens with p = 0 exactly
                lg[r, rng.integers(0, V, size=max(1, V // 3))] = -np.inf
            elif c < 0.4:  # one-hot row
                k = rng.integers(0, V)
                lg[r, :] = -np.inf
                lg[r, k] = rng.standard_normal()
            if c > 0.6:  # peaked: deeper accepted paths
                lg[r, rng.integers(0, V)] += rng.uniform(3, 8)
    lg = rounded(lg, dt)
    pars = random_parents(rng, T)
    toks = np.zeros(T, np.int64)
    toks[0] = rng.integers(0, V)
    for i in range(1, T):
        par = int(pars[i])
        row = lg[par] if 0 <= par < T else lg[0]
        c = rng.random()
        am = int(np.argmax(row))
        sibs = [j for j in range(1, i) if pars[j] == par]
        if mode == "greedy":
            if c < 0.6:
                toks[i] = am
            elif c < 0.75 and sibs:
                toks[i] = toks[sibs[0]]
            elif c < 0.85:
                tied = np.nonzero(row == row.max())[0]
                toks[i] = tied[-1]
            elif c < 0.95:
                toks[i] = rng.integers(0, V)
            else:
                toks[i] = rng.choice([-1, V, V + 3, I32_MAX, I32_MIN])
        elif mode == "rejection":
            p = vo.softmax64(vo.scaled_logits(row, temp if temp > 0 else 1.0))
            zero = np.nonzero(p == 0)[0]
            if c < 0.35:
                toks[i] = rng.choice(V, p=p / p.sum())
            elif c < 0.5:
                toks[i] = am
            elif c < 0.62 and sibs:
                toks[i] = toks[sibs[int(rng.integers(0, len(sibs)))]]
            elif c < 0.72 and zero.size:
                toks[i] = rng.choice(zero)
            elif c < 0.9:
                toks[i] = rng.integers(0, V)
            else:
                toks[i] = rng.choice([-1, V, V + 3, I32_MAX, I32_MIN])
        else:
            p = vo.softmax64(vo.scaled_logits(row, temp if temp > 0 else 1.0))
            if c < 0.25:
                # Near the threshold (within 2-15 %, either side): a test of
                # min(epsilon, alpha exp(-H)) and of the strict comparison.
                thr, _ = vo.typical_threshold(p, 0.09 if meta["eps"] is None else meta["eps"],
                                              0.3 if meta["alpha"] is None else meta["alpha"])
                f = rng.choice([1.0, -1.0]) * rng.uniform(0.02, 0.15)
                toks[i] = int(np.argmin(np.abs(p - thr * (1 + f))))
            elif c < 0.5:
                toks[i] = rng.choice(V, p=p / p.sum())
            elif c < 0.7:
                toks[i] = am
            elif c < 0.8 and sibs:
                toks[i] = toks[sibs[0]]
            elif c < 0.95:
                toks[i] = rng.integers(0, V)
            else:
                toks[i] = rng.choice([-1, V, V + 3, I32_MAX])
    if n is None:
        n = int(rng.choice([T, T, rng.integers(1, T + 1), rng.integers(-2, T + 4)]))
    lg = lg.copy()
    lg[min(max(n, 1), T):] = np.nan
    return dict(logits=lg, tree_tokens=toks, parents=pars, num_nodes=n)


def batch(rng, meta, reqs, temps=None):
    """Stack per-request dicts (missing requests are random trees) and add
    temperature and noise operands."""
    B = meta["B"]
    reqs = list(reqs)
    temps = list(temps) if temps is not None else []
    while len(temps) < B:
        temps.append(float(rng.choice([1.0, 0.7, 1.3, 0.5, 2.0])))
    while len(reqs) < B:
        reqs.append(random_request(rng, meta, temp=temps[len(reqs)]))
    inp = {k: np.stack([np.asarray(r[k]) for r in reqs]) for k in
           ("logits", "tree_tokens", "parents")}
    inp["tree_tokens"] = inp["tree_tokens"].astype(np.int32)
    inp["parents"] = inp["parents"].astype(np.int32)
    inp["num_nodes"] = np.array([r["num_nodes"] for r in reqs], np.int32)
    if meta["temp"]:
        inp["temperature"] = np.array(temps, F32)
    if meta["noise"] == "explicit":
        if meta["mode"] == "rejection":
            inp["uniforms"] = rng.random((B, meta["T"])).astype(F32)
        inp["exponentials"] = np.maximum(rng.exponential(size=(B, meta["V"])), 1e-30).astype(F32)
    elif meta["noise"] == "philox":
        inp["seed"] = rng.integers(-2 ** 63, 2 ** 63 - 1, size=B, dtype=np.int64)
        inp["offset"] = rng.integers(0, 2 ** 40, size=B, dtype=np.int64)
    return inp


def probs_row(V, spec, rest=None):
    """Logits log(p) for p with the given {token: probability}; the rest of
    the mass spread uniformly (or `rest` per remaining token)."""
    p = np.zeros(V)
    for t, q in spec.items():
        p[t] = q
    others = [v for v in range(V) if v not in spec]
    left = 1.0 - sum(spec.values())
    p[others] = left / len(others) if rest is None else rest
    return np.log(p).astype(F32)


# ---------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------


def greedy_hand_cases(rng, p):
    """Hand-built greedy requests with hand-computed answers, 4 per batch."""
    m = p.meta
    T, V = m["T"], m["V"]
    assert T == 10 and V == 11 and m["B"] == 4
    rq = []  # (request, accepted nodes, row whose argmax is the next token)

    def add(req, nodes, last=None):
        rq.append((req, nodes, nodes[-1] if last is None else last))

    # 0. The sketch: duplicate children, path semantics (first-matching
    # child would stop below node 1).
    lg = rows_with_argmax(rng, T, V, [2, 1, 3, 0, 0])
    r = build_request(rng, T, V, lg, [(0, 2), (0, 2), (1, 0), (2, 3)])
    r["tree_tokens"][0] = 7
    add(r, [0, 2, 4])
    # 1. Equal scores: the lower leaf index (leaf 2), not the lower node.
    lg = rows_with_argmax(rng, T, V)
    add(build_request(rng, T, V, lg, [(0, "m"), (0, "m"), (1, "x")]), [0, 2])
    # 2. Equal-length paths 0-1-4 and 0-2-3: leaf 3 wins.
    lg = rows_with_argmax(rng, T, V)
    add(build_request(rng, T, V, lg, [(0, "m"), (0, "m"), (2, "m"), (1, "m")]), [0, 2, 3])
    # 3. Three duplicates, the last has the longest subtree.
    lg = rows_with_argmax(rng, T, V)
    add(build_request(rng, T, V, lg, [(0, "m"), (0, "m"), (0, "m"), (1, "x"), (2, "m"),
                                      (5, "x"), (3, "m"), (7, "m"), (7, "x")]),
        [0, 3, 7, 8])
    # 4-7: root only: num_nodes 1, 0, -3 (a matching chain behind is padding).
    chain = [(i - 1, "m") for i in range(1, T)]
    for n in (1, 0, -3, I32_MIN):
        lg = rows_with_argmax(rng, T, V)
        add(build_request(rng, T, V, lg, chain, n=n), [0])
    # 8. num_nodes > T: the whole chain, then the bonus argmax of row T-1.
    lg = rows_with_argmax(rng, T, V)
    add(build_request(rng, T, V, lg, chain, n=T + 4), list(range(T)))
    # 9. num_nodes = I32_MAX clamps to T; the chain stops at node 4.
    lg = rows_with_argmax(rng, T, V)
    add(build_request(rng, T, V, lg, chain[:4] + [(4, "x")] + chain[5:], n=I32_MAX),
        [0, 1, 2, 3, 4])
    # 10. Wide: root with 9 children, only the last matches.
    lg = rows_with_argmax(rng, T, V)
    add(build_request(rng, T, V, lg, [(0, "x"), (0, -1), (0, V), (0, V + 5), (0, I32_MAX),
                                      (0, I32_MIN), (0, "x"), (0, -7), (0, "m")]), [0, 9])
    # 11. Wide, nothing matches: root only.
    lg = rows_with_argmax(rng, T, V)
    add(build_request(rng, T, V, lg, [(0, "x"), (0, -1), (0, V)] + [(0, "x")] * 6), [0])
    # 12. Bad parents: self (2), pointing at padding (3 -> 9, n = 8), -1 for a
    # non-root (4: it would tie with leaf 6 and win as leaf 4), < -1 (5),
    # child of an out-of-tree node (7 -> 3). Valid tree: 0-1-6.
    lg = rows_with_argmax(rng, T, V)
    add(build_request(rng, T, V, lg, [(0, "m"), (2, "m"), (9, "m"), (-1, "m"), (-7, "m"),
                                      (1, "x"), (3, "m")], n=8), [0, 1])
    # 13. Forward parent (1 -> 2) that would extend the path; I32 extremes.
    lg = rows_with_argmax(rng, T, V)
    add(build_request(rng, T, V, lg, [(2, "m"), (0, "m"), (2, "x"), (I32_MIN, "m"),
                                      (I32_MAX, "m")]), [0, 2])
    # 14. Padding children: node 1's only child is padding (n = 3), so 1 is
    # a leaf and wins the tie with leaf 2.
    lg = rows_with_argmax(rng, T, V)
    add(build_request(rng, T, V, lg, [(0, "m"), (0, "m")], n=3, pad_parent=1), [0, 1])
    # 15. A -1 token stops a chain; garbage parent of the root.
    lg = rows_with_argmax(rng, T, V)
    add(build_request(rng, T, V, lg, [(0, "m"), (1, -1), (2, "m"), (1, "x")],
                      root_parent=5), [0, 1])
    for k in range(0, len(rq), 4):
        part = rq[k:k + 4]
        inp = batch(rng, m, [x[0] for x in part])
        expect = {b: (nodes, int(np.argmax(inp["logits"][b, last])))
                  for b, (_, nodes, last) in enumerate(part)}
        p.add("hand%d" % (k // 4), inp, exact=True, expect=expect,
              path_vs_first=(k == 0))


def typical_hand_cases(rng, p):
    m = p.meta
    T, V = m["T"], m["V"]
    assert T == 10 and V == 13 and m["B"] == 4
    rq = []

    def rnd(k):
        return (rng.standard_normal((k, V)) * 1.5).astype(F32)

    # 0. Equal lengths: path 0-2-4 (log .40 + log .95) beats the lower leaf 3
    # (log .55 + log .5).
    lg = rnd(T)
    lg[0] = probs_row(V, {1: 0.55, 2: 0.40})
    lg[1] = probs_row(V, {3: 0.5, 4: 0.45})
    lg[2] = probs_row(V, {3: 0.95})
    rq.append((build_request(rng, T, V, lg, [(0, 1), (0, 2), (1, 3), (2, 3)]), [0, 2, 4]))
    # 1. Duplicate children: exact tie of the sums, the lower leaf (2) wins.
    lg = rnd(T)
    lg[0] = probs_row(V, {5: 0.7})
    lg[1] = probs_row(V, {6: 0.7})
    rq.append((build_request(rng, T, V, lg, [(0, 5), (0, 5), (1, 8)]), [0, 2]))
    # 2. Duplicate children, path semantics: 0-2-4 (first match stops at 1).
    lg = rnd(T)
    lg[0] = probs_row(V, {4: 0.6})
    lg[1] = probs_row(V, {9: 0.8})
    lg[2] = probs_row(V, {7: 0.8})
    lg[4] = probs_row(V, {11: 0.9})
    rq.append((build_request(rng, T, V, lg, [(0, 4), (0, 4), (1, 3), (2, 7), (4, 12)]),
               [0, 2, 4]))
    # 3. Uniform root row (every valid id passes): -1, V, V+3 never do; bad
    # parents (self, forward, -1, padding) are out of the tree.
    lg = rnd(T)
    lg[0] = 0.0
    rq.append((build_request(rng, T, V, lg, [(0, -1), (0, V), (0, V + 3), (4, 2), (4, 3),
                                             (-1, 4), (9, 5), (0, 12)], n=9), [0, 8]))
    # 4-6. Root only (num_nodes 1, 0) and num_nodes > T over a chain of
    # near-certain tokens.
    for n in (1, 0, T + 3):
        lg = rnd(T)
        for r in range(T):
            lg[r] = probs_row(V, {(3 * r + 1) % V: 0.9})
        chain = [(i - 1, (3 * (i - 1) + 1) % V) for i in range(1, T)]
        rq.append((build_request(rng, T, V, lg, chain, n=n), [0] if n < 2 else list(range(T))))
    # 7. Chain with a failing node at depth 3 (p = 0.01).
    lg = rnd(T)
    for r in range(T):
        lg[r] = probs_row(V, {(5 * r + 2) % V: 0.8, (5 * r + 3) % V: 0.01})
    chain = [(i - 1, (5 * (i - 1) + 2) % V) for i in range(1, T)]
    chain[2] = (2, (5 * 2 + 3) % V)
    rq.append((build_request(rng, T, V, lg, chain), [0, 1, 2]))
    for k in range(0, len(rq), 4):
        part = rq[k:k + 4]
        inp = batch(rng, m, [x[0] for x in part], temps=[1.0] * 4)
        expect = {}
        for b, (_, nodes) in enumerate(part):
            r = to.tree_verify(inp["logits"][b:b + 1], inp["tree_tokens"][b:b + 1],
                               inp["parents"][b:b + 1], inp["num_nodes"][b:b + 1], m["C"],
                               inp["temperature"][b:b + 1], inp["exponentials"][b:b + 1],
                               mode="typical")
            # The next token is the race over the last accepted row: taken
            # from the oracle; the accepted nodes are hand-computed.
            expect[b] = (nodes, int(r.tokens[0, len(nodes) - 1]))
        p.add("hand%d" % (k // 4), inp, exact=True, expect=expect, path_vs_first=False)
    # Exact race ties: uniform rows and equal exponentials -> token 0.
    inp = batch(rng, m, [], temps=[1.0] * 4)
    inp["logits"][:, :] = 0.0
    inp["exponentials"][:] = 1.0
    inp["num_nodes"][:] = [1, 1, 3, T]
    inp["tree_tokens"][:, 1:] = -1
    inp["parents"][:, :] = -1
    inp["logits"][2, 3:] = np.nan
    p.add("race_ties_first_index", inp, exact=True,
          expect={b: ([0], 0) for b in range(4)})


def ties_case(rng, meta):
    """Integer logits (many argmax ties): tokens are the lowest tied id
    (match) or the highest (mismatch)."""
    T, V = meta["T"], meta["V"]
    reqs = []
    for _ in range(meta["B"]):
        lg = rng.integers(-2, 2, size=(T, V)).astype(F32)
        pars = random_parents(rng, T)
        toks = np.zeros(T, np.int64)
        for i in range(1, T):
            par = int(pars[i])
            row = lg[par] if 0 <= par < T else lg[0]
            tied = np.nonzero(row == row.max())[0]
            toks[i] = tied[0] if rng.random() < 0.6 else tied[-1]
        n = int(rng.integers(T // 2, T + 1))
        lg[n:] = np.nan
        reqs.append(dict(logits=lg, tree_tokens=toks, parents=pars, num_nodes=n))
    return batch(rng, meta, reqs)


def build_corpus(rng, R):
    progs = []
    # ---- greedy ------------------------------------------------------------
    p = make_tree("tree_greedy", "g_f32_C12", 4, 10, 11, 12, "f32", "greedy")
    greedy_hand_cases(rng, p)
    p.add("argmax_ties_lowest_id", ties_case(rng, p.meta), exact=True)
    for r in range(R):
        p.add("random%d" % r, batch(rng, p.meta, []), exact=True)
    progs.append(p)

    p = make_tree("tree_greedy", "g_bf16_V1000", 3, 16, 1000, 16, "bf16", "greedy",
                  write_mode=False)
    lg = rows_with_argmax(rng, 16, 1000, [2, 1, 3, 0, 0], dt="bf16")
    sk = build_request(rng, 16, 1000, lg, [(0, 2), (0, 2), (1, 0), (2, 3)])
    inp = batch(rng, p.meta, [sk])
    p.add("sketch_and_random", inp, exact=True,
          expect={0: ([0, 2, 4], int(np.argmax(inp["logits"][0, 4])))}, path_vs_first=True)
    p.add("argmax_ties_lowest_id", ties_case(rng, p.meta), exact=True)
    for r in range(R):
        p.add("random%d" % r, batch(rng, p.meta, []), exact=True)
    progs.append(p)

    p = make_tree("tree_greedy", "g_f16_V5", 5, 7, 5, 7, "f16", "greedy")
    p.add("argmax_ties_lowest_id", ties_case(rng, p.meta), exact=True)
    for r in range(R + 1):
        p.add("random%d" % r, batch(rng, p.meta, []), exact=True)
    progs.append(p)

    # ---- typical -----------------------------------------------------------
    p = make_tree("tree_typical", "t_f32_explicit_temp", 4, 10, 13, 11, "f32", "typical",
                  temp=True, noise="explicit")
    typical_hand_cases(rng, p)
    for r in range(R):
        p.add("random%d" % r, batch(rng, p.meta, []))
    inp = batch(rng, p.meta, [], temps=[float("nan"), 0.0, -1.0, 0.5])
    p.add("temperature_nonpositive_or_nan_greedy", inp, greedy_by_temperature=[0, 1, 2])
    progs.append(p)

    p = make_tree("tree_typical", "t_bf16_philox_temp_V1000", 3, 12, 1000, 12, "bf16",
                  "typical", temp=True, noise="philox")
    for r in range(R + 1):
        p.add("random%d" % r, batch(rng, p.meta, []))
    progs.append(p)

    p = make_tree("tree_typical", "t_f16_explicit_eps0.2_alpha0.5", 4, 8, 7, 8, "f16",
                  "typical", noise="explicit", eps=0.2, alpha=0.5)
    for r in range(R + 1):
        p.add("random%d" % r, batch(rng, p.meta, []))
    progs.append(p)

    p = make_tree("tree_typical", "t_f32_philox_V37_C9", 2, 6, 37, 9, "f32", "typical",
                  noise="philox", eps=0.09, alpha=0.3)
    for r in range(R + 1):
        p.add("random%d" % r, batch(rng, p.meta, []))
    progs.append(p)

    # ---- rejection (the sampling walk) -------------------------------------
    pe = make_tree("tree_rejection", "r_f32_explicit_temp_C12", 4, 10, 11, 12, "f32",
                   "rejection", temp=True, noise="explicit")
    rejection_hand_cases(rng, pe)
    for r in range(R):
        pe.add("random%d" % r, batch(rng, pe.meta, []))
    inp = batch(rng, pe.meta, [], temps=[0.0, 1.0, float("nan"), -2.0])
    pe.add("temperature_nonpositive_or_nan_greedy", inp, greedy_by_temperature=[0, 2, 3])
    pp = make_tree("tree_rejection", "r_f32_philox_temp_C12", 4, 10, 11, 12, "f32",
                   "rejection", temp=True, noise="philox")
    explicit_vs_philox(rng, pe, pp)
    for r in range(R):
        pp.add("random%d" % r, batch(rng, pp.meta, []))
    # Identical requests with the same seed/offset: identical results.
    inp = batch(rng, pp.meta, [], temps=[1.0, 1.0, 0.7, 0.7])
    for k in ("logits", "tree_tokens", "parents", "num_nodes", "temperature", "seed", "offset"):
        inp[k][1] = inp[k][0]
        inp[k][3] = inp[k][2]
    pp.add("same_seed_offset_twice", inp, same=[(0, 1), (2, 3)])
    inp = batch(rng, pp.meta, [], temps=[-1.0, 1.3, 0.0, float("nan")])
    pp.add("temperature_nonpositive_or_nan_greedy", inp, greedy_by_temperature=[0, 2, 3])
    progs += [pe, pp]

    p = make_tree("tree_rejection", "r_bf16_philox_temp_V1000", 3, 12, 1000, 12, "bf16",
                  "rejection", temp=True, noise="philox")
    for r in range(R + 1):
        p.add("random%d" % r, batch(rng, p.meta, []))
    progs.append(p)

    p = make_tree("tree_rejection", "r_f16_explicit_V7_C9", 5, 7, 7, 9, "f16", "rejection",
                  noise="explicit")
    for r in range(R + 1):
        p.add("random%d" % r, batch(rng, p.meta, []))
    progs.append(p)

    # ---- batch 1 (B = 1) ---------------------------------------------------
    # A batch of one gives 1-element batch loops (and grid axes under the GPU
    # mapping). Built last so that the draws of the cases above do not shift.
    p = make_tree("tree_greedy", "g_f32_C12_b1", 1, 10, 11, 12, "f32", "greedy")
    lg = rows_with_argmax(rng, 10, 11, [2, 1, 3, 0, 0])
    sk = build_request(rng, 10, 11, lg, [(0, 2), (0, 2), (1, 0), (2, 3)])
    inp = batch(rng, p.meta, [sk])
    p.add("sketch", inp, exact=True,
          expect={0: ([0, 2, 4], int(np.argmax(inp["logits"][0, 4])))}, path_vs_first=True)
    p.add("argmax_ties_lowest_id", ties_case(rng, p.meta), exact=True)
    for r in range(R):
        p.add("random%d" % r, batch(rng, p.meta, []), exact=True)
    progs.append(p)

    p = make_tree("tree_typical", "t_f32_explicit_temp_b1", 1, 10, 13, 11, "f32", "typical",
                  temp=True, noise="explicit")
    for r in range(R):
        p.add("random%d" % r, batch(rng, p.meta, []))
    inp = batch(rng, p.meta, [], temps=[0.0])
    p.add("temperature_zero_greedy", inp, greedy_by_temperature=[0])
    progs.append(p)

    p = make_tree("tree_rejection", "r_f32_philox_temp_C12_b1", 1, 10, 11, 12, "f32",
                  "rejection", temp=True, noise="philox")
    for r in range(R + 1):
        p.add("random%d" % r, batch(rng, p.meta, []))
    inp = batch(rng, p.meta, [], temps=[float("nan")])
    p.add("temperature_nan_greedy", inp, greedy_by_temperature=[0])
    progs.append(p)
    return progs


def sparse_row(V, spec):
    """Logits log(p) for p = {token: probability}, -inf (p = 0) elsewhere."""
    row = np.full(V, -np.inf, F32)
    for t, q in spec.items():
        row[t] = np.log(q)
    return row


def rejection_hand_cases(rng, p):
    """Hand-built rejection requests (explicit uniforms, indexed by child
    node) with hand-computed answers. Every sample is from a row with a
    single token of mass left, so the answers do not depend on E."""
    m = p.meta
    T, V = m["T"], m["V"]
    assert T == 10 and V == 11 and m["B"] == 4
    rnd = lambda: (rng.standard_normal((T, V)) * 1.5).astype(F32)  # noqa: E731
    U = {}

    def req(name, lg, spec, u, n=None, **kw):
        r = build_request(rng, T, V, lg, spec, n=n, **kw)
        U[name] = np.array(list(u) + [0.5] * (T - len(u)), F32)
        return r

    # R0. Wide root p = {3: .5, 5: .3, 7: .2}: node 1 (3, u .9) fails, Z =
    # .5; node 2 repeats 3 and is skipped although u = 0 and it has a
    # child; -1, V and INT32_MAX never pass; node 5 (5, u .7): .3 < .35
    # fails, Z = .2; node 6 (7, u .99): .2 >= .198 passes (not without the
    # renormalisation). Node 6 is a leaf: its one-hot row (9) is sampled.
    lg = rnd()
    lg[0] = sparse_row(V, {3: .5, 5: .3, 7: .2})
    lg[6] = sparse_row(V, {9: 1.0})
    R0 = lambda: req("R0", lg, [(0, 3), (0, 3), (0, -1), (0, V), (0, 5), (0, 7),  # noqa: E731
                                (2, "m"), (0, I32_MAX)],
                     [0, .9, 0, 0, 0, .7, .99, 0, 0])
    # R1. Chain 0-1-2 accepted (.8 >= .5, .6 >= .5); node 3 (8 in row 2,
    # p .3, u .5) fails; node 5 repeats 8 (skipped); row 2 with 8 masked
    # leaves 10.
    lg1 = rnd()
    lg1[0] = sparse_row(V, {1: .8, 2: .2})
    lg1[1] = sparse_row(V, {4: .6, 6: .4})
    lg1[2] = sparse_row(V, {8: .3, 10: .7})
    R1 = req("R1", lg1, [(0, 1), (1, 4), (2, 8), (3, "m"), (2, 8)], [0, .5, .5, .5, 0, 0])
    # R2. Every child rejected: p = {2: .4, 4: .4, 6: .2}; node 1 (2, u
    # .95) fails, Z = .6; node 2 (4, u .95): .4 < .57 fails; nodes 3 and 4
    # carry tokens with p = 0 and u = 0 (r(x) > 0 fails); node 5 is a child
    # of a rejected node. The sample avoids 2 and 4: 6.
    lg2 = rnd()
    lg2[0] = sparse_row(V, {2: .4, 4: .4, 6: .2})
    R2 = req("R2", lg2, [(0, 2), (0, 4), (0, 1), (0, 9), (1, "m")], [0, .95, .95, 0, 0, 0])
    # R3. One-hot chain to the last node with u = 1 (p(x) = 1 >= 1 * 1);
    # the leaf's one-hot row is sampled: (3 * 9 + 1) % 11 = 6.
    lg3 = np.stack([sparse_row(V, {(3 * r + 1) % V: 1.0}) for r in range(T)])
    R3 = req("R3", lg3, [(i - 1, (3 * (i - 1) + 1) % V) for i in range(1, T)], [1.0] * T)
    # R4. Root only (num_nodes 0 clamps to 1): the root's one-hot row (5).
    lg4 = rnd()
    lg4[0] = sparse_row(V, {5: 1.0})
    R4 = req("R4", lg4, [(i - 1, "m") for i in range(1, T)], [0.0] * T, n=0)
    # R5. The second sibling passes only thanks to Z: p = {1: .6, 2: .3,
    # 3: .1}; node 1 (1, u .7) fails, Z = .4; node 2 (2, u .7): .3 >= .28;
    # node 3 (5 in row 2 = {5: .5, 6: .5}, u .4) passes; node 4 is a child
    # of the rejected node 1 (u 0); leaf 3's one-hot row gives 7.
    lg5 = rnd()
    lg5[0] = sparse_row(V, {1: .6, 2: .3, 3: .1})
    lg5[2] = sparse_row(V, {5: .5, 6: .5})
    lg5[3] = sparse_row(V, {7: 1.0})
    R5 = req("R5", lg5, [(0, 1), (0, 2), (2, 5), (1, "m")], [0, .7, .7, .4, 0])
    # R6. Temperature 0.5 sharpens {1: .6, 2: .4} to {1: .692, 2: .308}:
    # node 1 (2, u .35) fails (it would pass at T = 1): the sample is 1.
    lg6 = rnd()
    lg6[0] = sparse_row(V, {1: .6, 2: .4})
    R6 = req("R6", lg6, [(0, 2), (1, "m")], [0, .35, 0])
    batches = [
        ([R0(), R1, R2, R3], [1.0] * 4,
         [([0, 6], 9), ([0, 1, 2], 10), ([0], 6), (list(range(T)), 6)], None),
        ([R4, R5, R6, R0()], [1.0, 1.0, 0.5, 0.0],
         [([0], 5), ([0, 2, 3], 7), ([0], 1), ([0, 2, 7], "argmax7")], [3]),
        ([R0(), R0(), R1, R3], [-1.0, float("nan"), 1.0, 1.0],
         [([0, 2, 7], "argmax7"), ([0, 2, 7], "argmax7"), ([0, 1, 2], 10),
          (list(range(T)), 6)], [0, 1]),
    ]
    names = [["R0", "R1", "R2", "R3"], ["R4", "R5", "R6", "R0"], ["R0", "R0", "R1", "R3"]]
    for k, (reqs, temps, want, greedy) in enumerate(batches):
        inp = batch(rng, m, reqs, temps=temps)
        expect = {}
        for b, (nodes, nxt) in enumerate(want):
            inp["uniforms"][b] = U[names[k][b]]
            if nxt == "argmax7":  # greedy (T <= 0): path 0-2-7, next argmax row 7
                nxt = int(np.argmax(inp["logits"][b, 7]))
            expect[b] = (nodes, nxt)
        opts = dict(exact=True, expect=expect)
        if greedy is not None:
            opts["greedy_by_temperature"] = greedy
        p.add("hand%d" % k, inp, **opts)


def explicit_vs_philox(rng, pe, pp):
    """The same random batch through the explicit program, with uniforms
    and exponentials taken from the Philox stream of (seed, offset), and
    through the Philox program: the oracle's Philox answers are expected of
    both (so both programs agree)."""
    T, V = pp.meta["T"], pp.meta["V"]
    for _ in range(50):
        inp = batch(rng, pp.meta, [], temps=[1.0, 0.8, 1.2, 1.0])
        r = oracle_for(inp, pp.meta)
        if not r.ambiguous.any():
            break
    expect = {b: (r.accept_nodes[b, :r.num_accepted[b] + 1].tolist(),
                  int(r.tokens[b, r.num_accepted[b]])) for b in range(pp.meta["B"])}
    pp.add("philox_stream", inp, exact=True, expect=expect)
    ex = {k: inp[k] for k in ("logits", "tree_tokens", "parents", "num_nodes", "temperature")}
    ex["uniforms"] = vo.philox_uniforms(inp["seed"], inp["offset"], T)
    E, _, _ = vo.philox_exponentials(inp["seed"], inp["offset"], V)
    ex["exponentials"] = E.astype(F32)
    pe.add("explicit_noise_equal_to_the_philox_stream", ex, exact=True, expect=expect)


# ---------------------------------------------------------------------------
# Recipes (examples/*.mlir)
# ---------------------------------------------------------------------------


def level_tree(rng, sizes, max_children=None):
    """Parents of a tree given by level sizes (BFS order, node 0 = root):
    each node's parent is one of the previous level's nodes, earlier ones
    preferred (as in EAGLE / Medusa / Token Recycling trees)."""
    pars = [-1]
    prev = [0]
    for s in sizes:
        cur = []
        w = np.array([1.0 / (k + 1) for k in range(len(prev))])
        for _ in range(s):
            cur.append(len(pars))
            pars.append(int(prev[rng.choice(len(prev), p=w / w.sum())]))
        prev = cur
    return np.array(pars, np.int64)


def peaked_logits(rng, shape, dt):
    lg = (rng.standard_normal(shape) * 2.0).astype(F32)
    flat = lg.reshape(-1, shape[-1])
    for r in range(flat.shape[0]):
        flat[r, rng.integers(0, shape[-1], size=8)] += rng.uniform(4, 12, size=8).astype(F32)
    return rounded(lg, dt)


def recipe_tree_inputs(rng, B, T, V, sizes_list, typical, num_nodes):
    """Trees from level sizes; a node's tokens are its parent row's top
    candidates (greedy: mostly the argmax; typical: the hot tokens)."""
    lg = peaked_logits(rng, (B, T, V), "bf16")
    toks = np.zeros((B, T), np.int64)
    pars = np.zeros((B, T), np.int64)
    for b in range(B):
        pars[b] = level_tree(rng, sizes_list[b % len(sizes_list)])
        toks[b, 0] = rng.integers(0, V)
        for i in range(1, T):
            row = lg[b, pars[b, i]]
            order = np.argsort(-row, kind="stable")
            k = sum(1 for j in range(1, i) if pars[b, j] == pars[b, i])  # sibling rank
            if typical:
                toks[b, i] = order[k] if rng.random() < 0.8 else rng.integers(0, V)
            else:
                toks[b, i] = order[0] if (k == 0 and rng.random() < 0.7) else order[k + 1]
        lg[b, min(max(num_nodes[b], 1), T):] = np.nan
    return dict(logits=lg, tree_tokens=toks.astype(np.int32), parents=pars.astype(np.int32),
                num_nodes=np.array(num_nodes, np.int32))


def list_check(a, art, func, want):
    rc, listing, lerr = run_cmd([a.run, art, "--list"])
    return ("tok.name signature of @%s in winnow-run --list" % func,
            rc == 0 and all(w in listing for w in want), shorten(listing + lerr))


def make_recipe(a, fname, func, args, results, meta, extra_check=None):
    p = TreeProgram(func, func, args, results, None, None)
    p.source = os.path.join(a.recipes, fname)
    p.meta = meta
    art = os.path.join(a.workdir, func, func + ".wnn")
    want = ["func @%s(" % func] + ["%s: %s" % (n, "x".join(str(s) for s in shp) + "x" + dt)
                                    for n, shp, dt in args + results]
    state = {"listed": False}

    def check(inp, out):
        case, opts = p.find_case(inp)
        checks = []
        while PRECHECKS:
            checks.append(PRECHECKS.pop(0))
        if not state["listed"]:
            state["listed"] = True
            checks.append(list_check(a, art, func, want))
        checks += tree_checks(inp, out, meta, opts)
        if extra_check is not None:
            checks += extra_check(inp, out)
        r = oracle_for(inp, meta)
        print("# [%s] %s: num_accepted = %s (oracle %s)" % (
            func, case, np.asarray(out["num_accepted"]).tolist(), r.num_accepted.tolist()))
        return checks

    p.check = check
    return p


def recipes(a, rng):
    progs = []
    V = 32000
    # EAGLE-2/3 dynamic tree: 60 nodes + root, depth <= 7, greedy; KV slots.
    B, T = 2, 61
    meta = dict(B=B, T=T, V=V, C=T, dt="bf16", mode="greedy", temp=False, noise=None,
                eps=None, alpha=None)
    args = [("logits", (B, T, V), "bf16"), ("tree_tokens", (B, T), "i32"),
            ("parents", (B, T), "i32"), ("num_nodes", (B,), "i32"), ("prefix_len", (B,), "i32")]
    results = [("tokens", (B, T), "i32"), ("accept_nodes", (B, T), "i32"),
               ("num_accepted", (B,), "i32"), ("num_emitted", (B,), "i32"),
               ("kv_slots", (B, T), "i32")]

    def kv_check(inp, out):
        nodes = np.asarray(out["accept_nodes"]).astype(np.int64)
        want = np.where(nodes >= 0, nodes + inp["prefix_len"][:, None].astype(np.int64), -1)
        return [check_exact("kv_slots = accept_nodes + prefix_len (-1 padded)", want,
                            np.asarray(out["kv_slots"]))]

    p = make_recipe(a, "eagle_tree_verify.mlir", "eagle_tree_verify", args, results, meta,
                    kv_check)
    eagle_sizes = [[10, 10, 10, 10, 8, 7, 5], [10, 14, 12, 10, 8, 4, 2]]
    for c, nn in enumerate(([61, 61], [45, 100])):
        inp = recipe_tree_inputs(rng, B, T, V, eagle_sizes, False, nn)
        inp["prefix_len"] = np.array([137, 2048 + 5 * c], np.int32)
        p.add("case%d" % c, inp, exact=True)
    progs.append(p)

    # Medusa: 63 nodes + root, depth <= 4, typical with Philox.
    B, T = 2, 64
    meta = dict(B=B, T=T, V=V, C=T, dt="bf16", mode="typical", temp=True, noise="philox",
                eps=None, alpha=None)
    args = [("logits", (B, T, V), "bf16"), ("tree_tokens", (B, T), "i32"),
            ("parents", (B, T), "i32"), ("num_nodes", (B,), "i32"),
            ("temperature", (B,), "f32"), ("seed", (B,), "i64"), ("offset", (B,), "i64")]
    results = [("tokens", (B, T), "i32"), ("accept_nodes", (B, T), "i32"),
               ("num_accepted", (B,), "i32"), ("num_emitted", (B,), "i32")]
    p = make_recipe(a, "medusa_tree_typical.mlir", "medusa_tree_typical", args, results, meta)
    for c in range(2):
        inp = recipe_tree_inputs(rng, B, T, V, [[10, 30, 17, 6], [10, 24, 20, 9]], True,
                                 [64, 64] if c == 0 else [50, 64])
        inp["temperature"] = np.array([[1.0, 0.7], [0.9, 1.0]][c], F32)
        inp["seed"] = rng.integers(-2 ** 63, 2 ** 63 - 1, size=B, dtype=np.int64)
        inp["offset"] = rng.integers(0, 2 ** 40, size=B, dtype=np.int64)
        p.add("case%d" % c, inp)
    progs.append(p)

    # Token Recycling: 80-node static template (8/21/25/15/8/3) + root,
    # greedy, plus the adjacency rows top-8 of every verified row.
    B, T, K = 2, 81, 8
    meta = dict(B=B, T=T, V=V, C=T, dt="bf16", mode="greedy", temp=False, noise=None,
                eps=None, alpha=None)
    args = [("logits", (B, T, V), "bf16"), ("tree_tokens", (B, T), "i32"),
            ("parents", (B, T), "i32"), ("num_nodes", (B,), "i32")]
    results = [("tokens", (B, T), "i32"), ("accept_nodes", (B, T), "i32"),
               ("num_accepted", (B,), "i32"), ("num_emitted", (B,), "i32"),
               ("adj_rows", (B, T, K), "i32")]

    def adj_check(inp, out):
        lg = inp["logits"].reshape(B * T, V)
        n = np.minimum(np.maximum(inp["num_nodes"].astype(np.int64), 1), T)
        lengths = np.array([V if i < n[b] else 0 for b in range(B) for i in range(T)])
        # Larger logit first, ties to the lower id, then ascending ids (what
        # prune_oracle.select computes; NumPy here for speed, cross-checked
        # with it on a few rows).
        idx = np.full((B * T, K), -1, np.int32)
        for r in range(B * T):
            if lengths[r]:
                idx[r] = np.sort(np.argsort(-lg[r], kind="stable")[:K])
        ref, _ = porc.select(lg[:3], ("top_k", K), K, lengths=lengths[:3])
        checks = [check_exact("top-8 helper agrees with prune_oracle.select", ref, idx[:3])]
        return checks + [check_exact("adj_rows = ascending top-8 ids of each verified row (-1 for "
                            "padding rows)", idx.reshape(B, T, K), np.asarray(out["adj_rows"]))]

    p = make_recipe(a, "token_recycling.mlir", "token_recycling", args, results, meta,
                    adj_check)
    for c, nn in enumerate(([81, 81], [81, 60])):
        inp = recipe_tree_inputs(rng, B, T, V, [[8, 21, 25, 15, 8, 3]], False, nn)
        p.add("case%d" % c, inp, exact=True)
    progs.append(p)
    return progs


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def main():
    ap = rco.tool_args(__doc__.split("\n")[0])
    ap.add_argument("--recipes", default=None,
                    help="check the tree-verification recipes in this examples/ directory")
    a = ap.parse_args()
    try:
        vo.philox_self_check()
        PRECHECKS.append(("Philox4x32-10 known-answer tests (Random123)", True, ""))
    except AssertionError as e:
        PRECHECKS.append(("Philox4x32-10 known-answer tests (Random123)", False, str(e)))
    try:
        to.self_test()
        PRECHECKS.append(("tree_oracle hand-computed self-test", True, ""))
    except AssertionError as e:
        PRECHECKS.append(("tree_oracle hand-computed self-test", False, str(e)))
    rng = np.random.default_rng(a.seed)
    if a.recipes:
        progs = recipes(a, rng)
    else:
        progs = build_corpus(rng, 2 if a.quick else 6)
    if a.filter:
        progs = [p for p in progs if a.filter in p.name]
    out = sys.stdout

    class Summary:
        """Prints the ambiguity summary just before the final count line."""

        def write(self, text):
            if re.match(r"^[0-9]+ passed, [0-9]+ failed", text):
                out.write("# %d/%d requests ambiguous (skipped); %d verified greedily "
                          "(temperature <= 0 or NaN)\n" % (
                              Stats.ambiguous, Stats.requests, Stats.greedy_by_temperature))
            return out.write(text)

        def flush(self):
            out.flush()

    sys.stdout = Summary()
    try:
        return rco.run_programs(progs, a, generator="run_tree_oracle.py")
    finally:
        sys.stdout = out


if __name__ == "__main__":
    sys.exit(main())
