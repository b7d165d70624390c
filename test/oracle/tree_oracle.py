"""Independent NumPy reference for Winnow's tok.tree_verify.

Written from the op description in
dialects/include/winnow/Dialect/Tok/IR/VerifyOps.td (tok.tree_verify, and
tok.spec_verify above it for the typical test, the temperature and the
exponential race with explicit or Philox noise) and from ops-reference
§4.2, §4.3, §4.4 and §8 ("Typical acceptance", "Tree"). It does not follow
the compiler's lowering: it is plain per-request code over an explicit
tree, and it reuses verify_oracle.py (Philox4x32-10 checked against the
Random123 known answers, the exponential noise, the typical threshold, the
fp32-vs-float64 uncertainty bands and the race with exact-tie detection).

  tree_structure(parents_row, T, num_nodes) -> Tree
  tree_verify(logits, tree_tokens, parents, num_nodes, ...) -> TreeResult
  well_formed(inputs, outputs, V) -> list of problems (any request)
  self_test() -> hand-computed expectations

Semantics, per request b (n = clamp(num_nodes[b], 1, T)):
  * node 0 is the root (its parent entry is never read); node 1 <= i < n is
    in the tree iff 0 <= parents[i] < i and parents[i] is in the tree;
    nodes >= n are padding: never in the tree, their rows are never read,
    and they are nobody's children;
  * match(i): greedy: tree_tokens[i] == argmax logits[parent] (ties to the
    lowest id); typical: 0 <= x < V and p(x) > min(eps, alpha exp(-H(p)))
    with p = softmax(logits[parent] / T_b); -1 and ids >= V never match;
  * ok(0) = true, ok(i) = ok(parent) and match(i); the leaves are the tree
    nodes without tree children; a leaf scores the number of ok nodes on
    its path below the root (= the depth of its deepest ok node);
  * best = the highest-scoring leaf; ties: (typical) the larger sum of
    log p over the accepted prefix, then the lower leaf index;
  * tokens = the accepted tokens below the root, then argmax (greedy) or
    race(p) (typical) of the last accepted node's row; accept_nodes = the
    root and the accepted nodes in depth order; both -1 padded to C;
    num_accepted = the best score, num_emitted = num_accepted + 1.

Floating point (typical mode): p is evaluated in float64 from logits / T
rounded to fp32 (verify_oracle.scaled_logits). A decision inside the
uncertainty band -- a typical test at a node whose parent is accepted, the
log-probability tie-break between different prefixes, the race for the next
token -- makes the request ambiguous (TreeResult.ambiguous, with a reason);
the caller skips it. Greedy mode is exact (argmax of the given values), as
are exact ties: duplicate siblings (same parent row, same token, or a token
with an equal logit) have bitwise-equal log-probabilities, so the lower
leaf index decides. A NaN in a row that is read makes the request
ambiguous (unspecified).

Temperature: in typical and rejection modes a request whose temperature is
not positive (or NaN) is verified greedily (path semantics, exactly as in
greedy mode; its noise is not used), as in tok.spec_verify.

Rejection mode (the lossless SpecInfer / EAGLE walk for one-hot children):
  node = root, r = p_node = softmax(logits[node] / T); the children of node
  are tried in index order with the uniform u[c] of child node c (explicit
  uniforms [B, T], or Philox n = c, stream 0); Z = 1 - (p mass of the
  node's children already rejected); child c with token x passes iff
  0 <= x < V, x not yet rejected here (a repeated token is skipped), and
  r(x) > 0 and r(x) >= u[c] * Z. A passing child becomes the current node
  (r = its row's p); a failing child's token is masked out of r. When no
  child passes (a leaf included) the walk emits race(r) and stops. tokens =
  the walked nodes' tokens then that sample; accept_nodes = the walked
  nodes. Each test r(x) >= u Z has an fp32-vs-float64 band (p's tolerance,
  and Z's, an fp32 sum of rejected masses); a one-hot row (a single finite
  logit) is exact: p = 1 at its token and 0 elsewhere, so Z = 1. A residual
  r that may be identically zero (every token with p > 0 rejected) is
  ambiguous (rounding), as is a p(x) that may underflow to 0.

Needs only NumPy; run with Debian's /usr/bin/python3.
"""

import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_oracle as vo  # noqa: E402

Ambiguous = vo.Ambiguous


class Tree:
    """The tree of one request: n (clamped node count), in_tree [T] bool,
    parent [T] (-1 for the root and nodes out of the tree), children lists,
    leaves (ascending), depth [T]."""

    def __init__(self, parents_row, T, num_nodes):
        n = min(max(int(num_nodes), 1), T)
        self.n = n
        self.in_tree = [False] * T
        self.parent = [-1] * T
        self.depth = [0] * T
        self.children = [[] for _ in range(T)]
        self.in_tree[0] = True
        for i in range(1, n):
            p = int(parents_row[i])
            if 0 <= p < i and self.in_tree[p]:
                self.in_tree[i] = True
                self.parent[i] = p
                self.depth[i] = self.depth[p] + 1
                self.children[p].append(i)
        self.leaves = [i for i in range(n) if self.in_tree[i] and not self.children[i]]

    def first_leaf_below(self, node):
        """The lowest-index leaf whose root path contains `node`."""
        return min(L for L in self.leaves if node in self.path(L))

    def path(self, i):
        out = []
        while i != -1:
            out.append(i)
            i = self.parent[i]
        return out[::-1]


def tree_structure(parents_row, T, num_nodes):
    return Tree(parents_row, T, num_nodes)


class TreeResult:
    def __init__(self, B, C):
        self.tokens = np.full((B, C), -1, dtype=np.int32)
        self.accept_nodes = np.full((B, C), -1, dtype=np.int32)
        self.num_accepted = np.zeros(B, dtype=np.int32)
        self.num_emitted = np.zeros(B, dtype=np.int32)
        self.ambiguous = np.zeros(B, dtype=bool)
        self.reasons = {}
        self.trees = [None] * B
        self.best_leaf = np.full(B, -1, dtype=np.int32)
        self.greedy = np.zeros(B, dtype=bool)


def _row_key(row):
    """Bitwise identity of a logits row (equal rows give equal results)."""
    return np.ascontiguousarray(np.asarray(row, np.float32)).tobytes()


def tree_verify(logits, tree_tokens, parents, num_nodes, capacity=None,
                temperature=None, exponentials=None, seed=None, offset=None,
                mode="greedy", typical_epsilon=0.09, typical_alpha=0.3, uniforms=None):
    """Reference tok.tree_verify. logits [B, T, V] as float32 values (bf16 /
    f16 already widened); the rest as in the op (uniforms [B, T]: rejection
    mode with explicit noise). Returns a TreeResult (best_leaf: the winning
    path's leaf; in rejection mode the first leaf below the node where the
    walk stopped; greedy: requests verified greedily)."""
    logits = np.asarray(logits, np.float32)
    B, T, V = logits.shape
    C = T if capacity is None else int(capacity)
    assert C >= T
    toks = np.asarray(tree_tokens, np.int64).reshape(B, T)
    pars = np.asarray(parents, np.int64).reshape(B, T)
    nn = np.asarray(num_nodes, np.int64).reshape(B)
    res = TreeResult(B, C)
    U = None
    if mode in ("typical", "rejection"):
        if mode == "rejection":
            U = (vo.philox_uniforms(seed, offset, T) if seed is not None
                 else np.asarray(uniforms, np.float32).reshape(B, T))
        if seed is not None:
            # The op pins E: evaluated in f64, then rounded to f32 (so the
            # band of vo.philox_exponentials, which allows an fp32 log, is
            # not needed): E as the program sees it, within one f32 ulp.
            E, _, E_keys = vo.philox_exponentials(seed, offset, V)
            E = E.astype(np.float32).astype(np.float64)
            E_rel = np.full_like(E, 2.0 ** -23)
        else:
            E = np.asarray(exponentials, np.float32).astype(np.float64)
            E_rel = np.zeros_like(E)
            E_keys = np.ascontiguousarray(np.asarray(exponentials, np.float32)).view(np.uint32)
    else:
        assert mode == "greedy", mode
    for b in range(B):
        tree = Tree(pars[b], T, nn[b])
        res.trees[b] = tree
        try:
            if mode == "greedy":
                path, nxt, leaf = _greedy(logits[b], toks[b], tree)
            else:
                Tb = 1.0 if temperature is None else float(np.float32(temperature[b]))
                if not (Tb > 0):
                    # Not positive (or NaN): verified greedily, noise unused.
                    res.greedy[b] = True
                    path, nxt, leaf = _greedy(logits[b], toks[b], tree)
                elif mode == "typical":
                    path, nxt, leaf = _typical(logits[b], toks[b], tree, Tb, E[b], E_rel[b],
                                               E_keys[b], typical_epsilon, typical_alpha)
                else:
                    path, nxt, stop = _rejection(logits[b], toks[b], tree, Tb, U[b], E[b],
                                                 E_rel[b], E_keys[b])
                    # Paths in ascending leaf order, ties to the first: the
                    # first path through every walked node.
                    leaf = tree.first_leaf_below(stop)
        except Ambiguous as e:
            res.ambiguous[b] = True
            res.reasons[b] = str(e)
            continue
        a = len(path) - 1
        res.accept_nodes[b, :a + 1] = path
        res.tokens[b, :a] = [int(toks[b, i]) for i in path[1:]]
        res.tokens[b, a] = nxt
        res.num_accepted[b] = a
        res.num_emitted[b] = a + 1
        res.best_leaf[b] = leaf
    return res


def _scores(tree, ok):
    """last_ok[i]: the deepest ok node on the root..i path; acc[i]: its depth."""
    T = len(ok)
    last_ok = [0] * T
    for i in range(1, tree.n):
        if tree.in_tree[i]:
            last_ok[i] = i if ok[i] else last_ok[tree.parent[i]]
    return last_ok


def _greedy(lg, toks, tree):
    cache = {}

    def am(r):
        if r not in cache:
            cache[r] = vo._argmax_first(lg[r])  # raises Ambiguous on NaN
        return cache[r]

    T, V = lg.shape
    ok = [False] * T
    ok[0] = True
    for i in range(1, tree.n):
        if tree.in_tree[i] and ok[tree.parent[i]]:
            x = int(toks[i])
            ok[i] = 0 <= x < V and x == am(tree.parent[i])
    last_ok = _scores(tree, ok)
    # Highest score, then the lower leaf index (leaves are ascending).
    best = max(tree.leaves, key=lambda L: (tree.depth[last_ok[L]], -L))
    node = last_ok[best]
    return tree.path(node), am(node), best


def _typical(lg, toks, tree, Tb, E, E_rel, E_keys, eps, alpha):
    T, V = lg.shape
    rows = {}

    def row(r):
        if r not in rows:
            z, p, tol = vo._row_probs(lg[r], Tb)  # raises Ambiguous on NaN
            thr, H = vo.typical_threshold(p, eps, alpha)
            m = float(np.max(z))
            lse = m + math.log(float(np.sum(np.exp(z - m))))
            rows[r] = (z, p, tol, thr, H, lse)
        return rows[r]

    ok = [False] * T
    ok[0] = True
    logp = [0.0] * T
    err = [0.0] * T
    for i in range(1, tree.n):
        if not (tree.in_tree[i] and ok[tree.parent[i]]):
            continue
        x = int(toks[i])
        if not (0 <= x < V):
            continue
        z, p, tol, thr, H, lse = row(tree.parent[i])
        px = float(p[x])
        band = (tol * (2.0 + abs(H)) + 2.0 ** -22) * max(px, thr)
        if abs(px - thr) <= band:
            raise Ambiguous("node %d: p(x) = %.9g within tolerance of the typical threshold %.9g"
                            % (i, px, thr))
        ok[i] = px > thr
        if ok[i]:
            logp[i] = float(z[x]) - lse
            err[i] = tol + 2.0 ** -21 * (abs(float(z[x])) + abs(lse) + abs(logp[i]) + 1.0)
    last_ok = _scores(tree, ok)
    # Cumulative log-probability, its uncertainty and the identity of the
    # computation (parent row bits, logit of the token) along each accepted
    # prefix: equal keys give bitwise-equal sums on any implementation.
    lsum, lerr, key = [0.0] * T, [0.0] * T, [()] * T
    for i in range(1, tree.n):
        if tree.in_tree[i] and ok[i]:
            p_ = tree.parent[i]
            lsum[i] = lsum[p_] + logp[i]
            lerr[i] = lerr[p_] + err[i]
            key[i] = key[p_] + ((_row_key(lg[p_]), float(lg[p_, int(toks[i])])),)
    top = max(tree.depth[last_ok[L]] for L in tree.leaves)
    cands = [L for L in tree.leaves if tree.depth[last_ok[L]] == top]
    best = max(cands, key=lambda L: (lsum[last_ok[L]], -L))
    bn = last_ok[best]
    for L in cands:
        n2 = last_ok[L]
        if n2 == bn or key[n2] == key[bn]:
            continue  # identical computation: bitwise-equal sums, leaf index decides
        band = 2.0 * (lerr[n2] + lerr[bn]) + 2.0 ** -20 * (abs(lsum[n2]) + abs(lsum[bn]))
        if abs(lsum[n2] - lsum[bn]) <= band:
            raise Ambiguous("leaves %d and %d: log-probability sums %.9g and %.9g within "
                            "tolerance" % (best, L, lsum[bn], lsum[n2]))
    z, p, tol, _, _, _ = row(bn)
    nxt = vo._race_p(z, p, tol, E, E_rel, E_keys)
    return tree.path(bn), nxt, best


def _rejection(lg, toks, tree, Tb, u, E, E_rel, E_keys):
    """The sampling walk; returns (walked nodes, sample, last node)."""
    T, V = lg.shape
    node, walked = 0, [0]
    while True:
        z, p, tol = vo._row_probs(lg[node], Tb)  # raises Ambiguous on NaN
        one_hot = int(np.count_nonzero(np.isfinite(z))) == 1
        masked = []      # tokens of rejected children (distinct)
        mass = 0.0       # their p mass
        nxt = None
        for c in tree.children[node]:
            x = int(toks[c])
            if not (0 <= x < V) or x in masked:
                continue  # never passes; a repeated token is skipped
            px, p_zero, p_maybe_zero = vo._p_of(p, z, x, tol)
            uc = float(u[c])
            if p_zero:
                passed = False  # r(x) > 0 fails exactly
            elif one_hot:
                passed = 1.0 >= uc  # p(x) = 1 and Z = 1 exactly
            else:
                Z = 1.0 - mass
                rhs = uc * Z
                # p(x)'s error, and Z's: the rejected masses' errors plus
                # one rounding per subtraction (at most T of them).
                band = ((tol + 2.0 ** -21) * max(px, rhs) + (tol + 2.0 ** -22) * mass * uc
                        + (T + 1) * 2.0 ** -24 * uc)
                if abs(px - rhs) <= band:
                    raise Ambiguous("node %d (child of %d): p(x) = %.9g within tolerance of "
                                    "u Z = %.9g * %.9g" % (c, node, px, uc, Z))
                passed = px >= rhs
                if passed and p_maybe_zero:
                    raise Ambiguous("node %d: p(x) = %.3g may underflow to 0" % (c, px))
            if passed:
                nxt = c
                break
            masked.append(x)
            if not p_zero:
                mass += px
        if nxt is None:
            break
        node = nxt
        walked.append(node)
    # race(r): p with the rejected tokens masked to 0.
    w = p.copy()
    err = p * tol
    w_lo, w_hi = np.maximum(w - err, 0.0), w + err
    for x in masked:
        w[x] = w_lo[x] = w_hi[x] = 0.0
    mk = np.zeros(V, bool)
    mk[masked] = True
    keys = list(zip(vo._zbits(z).tolist(), mk.tolist(), E_keys.tolist()))
    if not (w_lo > 0).any():
        raise Ambiguous("node %d: every child rejected and the residual may be identically "
                        "zero" % node)
    return walked, vo.race(w, w_lo, w_hi, E, E_rel, keys), node


def well_formed(tree_tokens, parents, num_nodes, V, tokens, accept_nodes, num_accepted,
                num_emitted):
    """Problems with the outputs of each request (ambiguous ones included):
    counts, accept_nodes a root-to-node chain of tree nodes starting at 0,
    tokens = their tree tokens then one id in [0, V), -1 padding."""
    toks = np.asarray(tree_tokens, np.int64)
    B, T = toks.shape
    bad = []
    for b in range(B):
        tree = Tree(parents[b], T, num_nodes[b])
        a, e = int(num_accepted[b]), int(num_emitted[b])
        C = tokens.shape[1]
        if e != a + 1 or not (0 <= a < tree.n) or e > C:
            bad.append("request %d: num_accepted %d, num_emitted %d, n %d" % (b, a, e, tree.n))
            continue
        nodes = [int(x) for x in accept_nodes[b, :a + 1]]
        chain_ok = nodes[0] == 0 and all(
            0 < nodes[k] < tree.n and tree.in_tree[nodes[k]] and tree.parent[nodes[k]] == nodes[k - 1]
            for k in range(1, a + 1))
        if not chain_ok:
            bad.append("request %d: accept_nodes %s is not a root path of the tree" % (b, nodes))
            continue
        want = [int(toks[b, i]) for i in nodes[1:]]
        if [int(x) for x in tokens[b, :a]] != want:
            bad.append("request %d: accepted tokens %s != tree tokens %s" % (
                b, tokens[b, :a].tolist(), want))
        if not (0 <= int(tokens[b, a]) < V):
            bad.append("request %d: next token %d outside [0, %d)" % (b, tokens[b, a], V))
        if (tokens[b, e:] != -1).any() or (accept_nodes[b, a + 1:] != -1).any():
            bad.append("request %d: padding is not -1: tokens %s, accept_nodes %s" % (
                b, tokens[b, e:].tolist(), accept_nodes[b, a + 1:].tolist()))
    return bad


def self_test():
    """Hand-computed expectations (ops-reference §8 "Tree"); raises
    AssertionError on a mismatch."""
    V = 4

    def rows(argmaxes):
        lg = np.zeros((len(argmaxes), V), np.float32)
        for i, a in enumerate(argmaxes):
            lg[i, a] = 1.0
        return lg

    def run(argmaxes, toks, pars, n, **kw):
        r = tree_verify(rows(argmaxes)[None], [toks], [pars], [n], **kw)
        assert not r.ambiguous[0], r.reasons
        return (r.tokens[0].tolist(), r.accept_nodes[0].tolist(), int(r.num_accepted[0]),
                int(r.num_emitted[0]))

    # Duplicate children: path semantics picks node 2's longer path (a
    # first-matching-child walk would stop below node 1: tokens [2, 1]).
    got = run([2, 1, 3, 0, 0], [7, 2, 2, 0, 3], [-1, 0, 0, 1, 2], 5)
    assert got == ([2, 3, 0, -1, -1], [0, 2, 4, -1, -1], 2, 3), got
    # Equal scores: the lower *leaf* index wins (leaf 2, not node 1 whose
    # leaf is 3).
    got = run([2, 1, 3, 0], [7, 2, 2, 0], [-1, 0, 0, 1], 4)
    assert got == ([2, 3, -1, -1], [0, 2, -1, -1], 1, 2), got
    # Root only; num_nodes 0 and -3 clamp to 1; > T clamps to T.
    for n in (1, 0, -3):
        got = run([2, 1, 3], [7, 2, 1], [-1, 0, 1], n)
        assert got == ([2, -1, -1], [0, -1, -1], 0, 1), got
    got = run([2, 1, 3], [7, 2, 1], [-1, 0, 1], 9)
    assert got == ([2, 1, 3], [0, 1, 2], 2, 3), got
    # Bad parents: self, forward, < -1, -1; a child of an out-of-tree node.
    got = run([2, 1, 3, 0, 0], [7, 2, 2, 2, 3], [-1, 1, 4, -1, 2], 5)
    assert got == ([2, -1, -1, -1, -1], [0, -1, -1, -1, -1], 0, 1), got
    got = run([2, 1, 3, 0], [7, 2, -1, 1], [-1, 0, 1, 2], 4)
    assert got == ([2, 1, -1, -1], [0, 1, -1, -1], 1, 2), got
    # Typical: equal lengths, the larger log-probability sum wins over the
    # lower leaf index.
    lg = np.full((5, 6), -30.0, np.float32)
    lg[0, 1], lg[0, 2] = math.log(0.55), math.log(0.45)
    lg[1, 3] = lg[1, 4] = 0.0  # node 1 row: p(3) = 1/2
    lg[2, 3] = 0.0             # node 2 row: p(3) = 1
    r = tree_verify(lg[None], [[5, 1, 2, 3, 3]], [[-1, 0, 0, 1, 2]], [5], mode="typical",
                    exponentials=np.ones((1, 6), np.float32))
    assert not r.ambiguous[0], r.reasons
    # via 1: log .55 + log .5 = -1.29; via 2: log .45 + log 1 = -0.80.
    assert r.accept_nodes[0].tolist() == [0, 2, 4, -1, -1], r.accept_nodes
    assert r.tokens[0].tolist() == [2, 3, 0, -1, -1], r.tokens
    # Rejection walk at the root p = {3: .5, 5: .3, 7: .2}: node 1 (3, u .9)
    # fails, Z = .5; node 2 repeats 3 (skipped, although u = 0 and it has a
    # matching child); -1 and V never pass; node 5 (5, u .7): .3 < .35
    # fails, Z = .2; node 6 (7, u .99): .2 >= .198 passes (without the
    # renormalisation by Z it would fail). Node 6 is a leaf: its one-hot
    # row (9) is sampled.
    V = 11
    lg = np.zeros((8, V), np.float32)
    lg[0] = -np.inf
    lg[0, [3, 5, 7]] = np.log([0.5, 0.3, 0.2])
    lg[6] = -np.inf
    lg[6, 9] = 0.0
    toks = [[4, 3, 3, -1, V, 5, 7, 0]]
    pars = [[-1, 0, 0, 0, 0, 0, 0, 2]]
    u = np.array([[0.0, 0.9, 0.0, 0.0, 0.0, 0.7, 0.99, 0.0]], np.float32)
    ones = np.ones((1, V), np.float32)
    r = tree_verify(lg[None], toks, pars, [8], mode="rejection", uniforms=u, exponentials=ones)
    assert not r.ambiguous[0], r.reasons
    assert r.accept_nodes[0].tolist() == [0, 6] + [-1] * 6, r.accept_nodes
    assert r.tokens[0].tolist() == [7, 9] + [-1] * 6, r.tokens
    # Every child rejected: p = {3: .45, 5: .3, 7: .2, 2: .05}; node 1
    # fails (.45 < .9), Z = .55; node 5 fails (.3 < .385), Z = .25; node 6
    # fails (.2 < 1 * .25): the sample avoids 3, 5 and 7, leaving 2.
    u2 = u.copy()
    u2[0, 6] = 1.0
    lg2 = lg.copy()
    lg2[0, 3] = np.log(0.45)
    lg2[0, 2] = np.log(0.05)
    r = tree_verify(lg2[None], toks, pars, [8], mode="rejection", uniforms=u2, exponentials=ones)
    assert not r.ambiguous[0], r.reasons
    assert r.accept_nodes[0].tolist() == [0] + [-1] * 7, r.accept_nodes
    assert r.tokens[0].tolist() == [2] + [-1] * 7, r.tokens
    # Temperature <= 0 or NaN: greedy path semantics (argmax 3: nodes 1 and
    # 2; node 2's child 0 matches the argmax of the zero row 2).
    for t in (0.0, -1.0, float("nan")):
        r = tree_verify(lg[None], toks, pars, [8], mode="rejection", uniforms=u,
                        exponentials=ones, temperature=[t])
        assert not r.ambiguous[0] and r.greedy[0], r.reasons
        assert r.accept_nodes[0].tolist() == [0, 2, 7] + [-1] * 5, r.accept_nodes
        assert r.tokens[0].tolist() == [3, 0, 0] + [-1] * 5, r.tokens
        r = tree_verify(lg[None], toks, pars, [8], mode="typical", exponentials=ones,
                        temperature=[t])
        assert r.accept_nodes[0].tolist() == [0, 2, 7] + [-1] * 5, r.accept_nodes
    return True


if __name__ == "__main__":
    vo.philox_self_check()
    self_test()
    print("tree_oracle self-test: PASS")
