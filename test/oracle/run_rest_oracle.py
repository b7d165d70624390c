#!/usr/bin/python3
"""End-to-end oracle for examples/rest_trie_verify.mlir (REST).

REST (He et al. 2023, FasterDecoding/REST) drafts from a datastore: the
longest suffix of the context (at most 16 tokens, the last one being the
token just committed) is looked up in a token corpus, the continuations
(up to 10 tokens) that follow its occurrences are counted prefix by prefix,
and the 64 most frequent prefixes form a trie; the target model verifies the
trie greedily (evaluate_posterior at temperature 0, as Medusa's): every
root-to-leaf path of candidates is matched position by position against the
argmax of the target logits at its parent, the accepted length is the
number of leading matches, the longest path wins (the first one on ties)
and the next token is the argmax at the last accepted position.

This script builds a random datastore whose entries are noisy copies of a
few phrases (so continuations share prefixes), retrieves tries from it as
above (ties in the frequency cut broken deterministically: shorter prefix,
then smaller tokens, which keeps the kept set prefix-closed), lays each
trie out as an engine does (SGLang: node 0 = the root, nodes in BFS or DFS
preorder, int64 first-child / next-sibling lists and int64 draft tokens),
runs the compiled recipe with winnow-run and compares tokens,
accept_nodes, num_accepted, num_emitted and kv_slots exactly with an
independent NumPy reference that walks the trie object itself (paths by
ascending leaf id, the Medusa/REST cumulative-match rule, argmax ties to the
lowest id), not the encoded lists or the parent arrays. Rows of padding
nodes (>= num_nodes) are NaN: they must never be read.

Cases: random tries (BFS and DFS layouts, junk in the padding nodes'
lists), an empty trie (num_nodes 1) and num_nodes 0, a request whose root
row matches no root child (deeper rows all match a child: nothing may be
accepted), a fully accepted deepest path, argmax ties (the lower id wins:
a child with the higher tied id fails, one with the lower id passes), and
draft ids outside [0, V) in int64 (-1, V, id + 2**32, INT64_MIN: never
match, even when they would wrap onto the argmax). Hand-computed
expectations are checked against both the reference and the program.

Prints one line per check and a final `N passed, M failed`; exits 1 on any
failure. Run with Debian's /usr/bin/python3 (needs NumPy).

  run_rest_oracle.py --recipes DIR --compile winnow-compile --run winnow-run
                     --workdir DIR [--seed S]
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_chunk_oracle as rco  # noqa: E402
from run_prune_oracle import Program, check_exact, run_cmd, shorten  # noqa: E402
from run_prune_oracle import decode_input as decode  # noqa: E402

F32 = np.float32
B, T, V = 2, 65, 32000          # REST: max_num_draft = 64 nodes + the root
MAX_DRAFT, LONG, MAX_SPAN = 64, 10, 16
FUNC = "rest_trie_verify"


# ---------------------------------------------------------------------------
# Datastore and retrieval (REST's DraftRetriever, written from its semantics)
# ---------------------------------------------------------------------------


def make_corpus(rng, n_phrases=40, n_entries=600, alphabet=400):
    """A token corpus of noisy phrase copies (shared prefixes)."""
    ids = rng.choice(V, size=alphabet, replace=False)
    phrases = [ids[rng.integers(0, alphabet, size=rng.integers(8, 24))] for _ in range(n_phrases)]
    weights = 1.0 / (1 + np.arange(n_phrases))
    weights /= weights.sum()
    corpus = []
    for _ in range(n_entries):
        p = phrases[rng.choice(n_phrases, p=weights)].copy()
        noise = rng.random(len(p)) < 0.08
        p[noise] = ids[rng.integers(0, alphabet, size=int(noise.sum()))]
        corpus.extend(int(x) for x in p[:rng.integers(len(p) // 2, len(p) + 1)])
    return np.array(corpus, np.int64), phrases, weights


def retrieve(corpus, context):
    """The prefix-closed set of at most MAX_DRAFT most frequent continuation
    prefixes for the longest context suffix found, as {prefix: count}."""
    for span in range(min(MAX_SPAN, len(context)), 1, -1):
        q = context[-span:]
        starts = [s for s in range(len(corpus) - span)
                  if corpus[s] == q[0] and np.array_equal(corpus[s:s + span], q)]
        if not starts:
            continue
        cnt = {}
        for s in starts:
            cont = tuple(int(x) for x in corpus[s + span:s + span + LONG])
            for j in range(1, len(cont) + 1):
                cnt[cont[:j]] = cnt.get(cont[:j], 0) + 1
        keep = sorted(cnt, key=lambda p: (-cnt[p], len(p), p))[:MAX_DRAFT]
        kept = {p: cnt[p] for p in keep}
        assert all(p[:-1] in kept for p in kept if len(p) > 1), "not prefix-closed"
        return kept
    return {}


class Node:
    def __init__(self, token, depth, count=0):
        self.token, self.depth, self.count = token, depth, count
        self.children = []
        self.id = None
        self.parent = None


def build_trie(root_token, prefixes):
    """Trie nodes from a prefix-closed {prefix: count}; children ordered by
    (-count, token) as a frequency-sorted engine would."""
    root = Node(root_token, 0)
    nodes = {(): root}
    for p in sorted(prefixes, key=lambda p: (len(p), p)):
        n = Node(p[-1], len(p), prefixes[p])
        n.parent = nodes[p[:-1]]
        n.parent.children.append(n)
        nodes[p] = n
    for n in nodes.values():
        n.children.sort(key=lambda c: (-c.count, c.token))
        toks = [c.token for c in n.children]
        assert len(set(toks)) == len(toks), "a trie has distinct sibling tokens"
    return root


def number(root, order):
    """Assign node ids: BFS or DFS preorder (parent before child)."""
    out = []
    if order == "bfs":
        q = [root]
        while q:
            n = q.pop(0)
            out.append(n)
            q.extend(n.children)
    else:
        stack = [root]
        while stack:
            n = stack.pop()
            out.append(n)
            stack.extend(reversed(n.children))
    for i, n in enumerate(out):
        n.id = i
    return out


def encode(nodes, junk_rng=None):
    """SGLang's int64 lists for one request (padding nodes: -1, or junk
    pointing back into the trie when junk_rng is given)."""
    toks = np.zeros(T, np.int64)
    first = np.full(T, -1, np.int64)
    nxt = np.full(T, -1, np.int64)
    for n in nodes:
        toks[n.id] = n.token
        if n.children:
            first[n.id] = n.children[0].id
        for a, b in zip(n.children, n.children[1:]):
            nxt[a.id] = b.id
    if junk_rng is not None:
        for i in range(len(nodes), T):
            toks[i] = junk_rng.integers(0, V)
            first[i] = junk_rng.integers(1, max(len(nodes), 2))
            nxt[i] = junk_rng.integers(-1, T)
    return toks, first, nxt


# ---------------------------------------------------------------------------
# Reference verification (REST evaluate_posterior, T = 0), on the trie object
# ---------------------------------------------------------------------------


def leaves_in_id_order(nodes, n_max=T):
    """Leaves of the trie restricted to node ids < n_max (the engine's
    num_nodes, clamped to [1, T]: later nodes are padding)."""
    inside = [n for n in nodes if n.id < n_max and all(p.id < n_max for p in path_to(n))]
    return [n for n in sorted(inside, key=lambda n: n.id)
            if not any(c.id < n_max for c in n.children)]


def path_to(n):
    path = []
    while n is not None:
        path.append(n)
        n = n.parent
    return path[::-1]


def reference(lg, nodes, prefix_len, num_nodes):
    """lg: [T, V] float32 as the program sees it. Returns (tokens,
    accept_nodes, num_accepted, num_emitted, kv_slots) for one request."""
    best_len, best_path = -1, None
    for leaf in leaves_in_id_order(nodes, min(max(num_nodes, 1), T)):  # the root alone too
        path = path_to(leaf)
        cand = [n.token for n in path]
        acc = 0
        for i in range(len(path) - 1):   # cumprod of matches
            if cand[i + 1] != int(np.argmax(lg[path[i].id])):
                break
            acc += 1
        if acc > best_len:           # strict: the first path wins ties
            best_len, best_path = acc, path
    kept = best_path[:best_len + 1]
    nxt = int(np.argmax(lg[kept[-1].id]))
    tokens = np.full(T, -1, np.int32)
    an = np.full(T, -1, np.int32)
    tokens[:best_len + 1] = [n.token for n in kept[1:]] + [nxt]
    an[:best_len + 1] = [n.id for n in kept]
    slots = np.where(an >= 0, an + prefix_len, -1).astype(np.int32)
    return tokens, an, best_len, best_len + 1, slots


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------


def base_logits(rng):
    lg = (rng.standard_normal((T, V)) * 2.0).astype(F32)
    for r in range(T):
        lg[r, rng.integers(0, V, size=6)] += rng.uniform(3, 8, size=6).astype(F32)
    return lg


def set_argmax(lg, r, tok, tie_with=None):
    """Row r's unique maximum at tok (or an exact tie with tie_with)."""
    top = float(np.ceil(max(np.nanmax(lg[r]), 0.0))) + 16.0   # bf16-exact
    lg[r, tok] = top
    if tie_with is not None:
        lg[r, tie_with] = top


def random_request(rng, corpus, order, junk=False):
    """A trie retrieved for a context that ends with the start of a
    datastore phrase (random tokens before it, so the longest matching
    suffix is a few tokens long and occurs many times). The target's argmax
    follows the phrase while it is in the trie (so paths get accepted),
    other rows favour one of their children half of the time (so matches
    below a failed node exist and must not count)."""
    corpus, phrases, weights = corpus
    for _ in range(100):
        ph = phrases[rng.choice(len(phrases), p=weights)]
        k = int(rng.integers(2, 5))
        ctx = np.concatenate([rng.integers(0, V, size=MAX_SPAN - k), ph[:k]]).astype(np.int64)
        prefixes = retrieve(corpus, ctx)
        if len(prefixes) >= 24 and len(ph) > k + 3:
            break
    cont = np.concatenate([ph[k:], rng.integers(0, V, size=LONG)]).astype(np.int64)
    root = build_trie(int(ctx[-1]), prefixes)
    nodes = number(root, order)
    lg = base_logits(rng)
    for n in nodes:
        if n.children and rng.random() < 0.5:
            set_argmax(lg, n.id, n.children[rng.integers(0, len(n.children))].token)
    node, k = root, 0
    while True:
        set_argmax(lg, node.id, int(cont[k]))
        nxt = [c for c in node.children if c.token == int(cont[k])]
        if not nxt or rng.random() < 0.1:
            break
        node, k = nxt[0], k + 1
    return dict(root=root, nodes=nodes, lg=lg, num_nodes=len(nodes), junk=junk)


def deepest_leaf(nodes):
    return max(leaves_in_id_order(nodes), key=lambda n: n.depth)


def assemble(rng, reqs, prefix_len):
    inp = dict(logits=np.zeros((B, T, V), F32), draft_tokens=np.zeros((B, T), np.int64),
               first_child=np.zeros((B, T), np.int64), next_sibling=np.zeros((B, T), np.int64),
               num_nodes=np.zeros(B, np.int32), prefix_len=np.array(prefix_len, np.int32))
    for b, r in enumerate(reqs):
        toks, first, nxt = encode(r["nodes"], rng if r["junk"] else None)
        for n, t in r.get("token_override", {}).items():
            toks[n.id] = t
            n.token = t                    # the reference sees the same id
        lg = r["lg"].copy()
        nc = min(max(r["num_nodes"], 1), T)
        lg[nc:] = np.nan
        inp["logits"][b] = lg
        inp["draft_tokens"][b], inp["first_child"][b], inp["next_sibling"][b] = toks, first, nxt
        inp["num_nodes"][b] = r["num_nodes"]
    return inp


def cases(rng):
    corpus = make_corpus(rng)
    out = []
    # case0/1: random tries, BFS and DFS layouts; junk padding lists in case1.
    for c in range(2):
        reqs = [random_request(rng, corpus, "bfs", junk=c == 1),
                random_request(rng, corpus, "dfs", junk=c == 1)]
        branching = max(len(n.children) for r in reqs for n in r["nodes"])
        out.append(("case%d" % c, reqs, [137 + c, 4093], {}, branching))
    # case2: an empty trie (num_nodes 1) and num_nodes 0 (clamped to 1).
    r0 = dict(root=Node(7, 0), lg=base_logits(rng), num_nodes=1, junk=False)
    r0["nodes"] = number(r0["root"], "bfs")
    set_argmax(r0["lg"], 0, 1234)
    r1 = random_request(rng, corpus, "bfs")
    r1["num_nodes"] = 0                  # its lists still hold the whole trie
    set_argmax(r1["lg"], 0, 4321)
    out.append(("case2", [r0, r1], [0, 17], {0: ([0], 1234), 1: ([0], 4321)}, None))
    # case3: the root row matches no root child although every other row
    # matches one of its children; a fully accepted deepest path.
    ra = random_request(rng, corpus, "bfs")
    for n in ra["nodes"]:
        if n.children:
            set_argmax(ra["lg"], n.id, n.children[-1].token)
    root_toks = {c.token for c in ra["root"].children}
    miss = next(t for t in range(V) if t not in root_toks)
    set_argmax(ra["lg"], 0, miss)
    rb = random_request(rng, corpus, "dfs")
    leaf = deepest_leaf(rb["nodes"])
    path = path_to(leaf)
    for p, c in zip(path, path[1:]):
        set_argmax(rb["lg"], p.id, c.token)
    set_argmax(rb["lg"], leaf.id, 999)
    out.append(("case3", [ra, rb], [64, 2048],
                {0: ([0], miss), 1: ([n.id for n in path], 999)}, None))
    # case4: argmax ties. Request 0: the first accepted child's parent row
    # ties its token with a lower id -> the child fails. Request 1: a tie
    # with a higher id -> the child passes (to a leaf's row argmax).
    reqs, expect = [], {}
    for b, lower in enumerate((True, False)):
        r = random_request(rng, corpus, "bfs")
        leaf = deepest_leaf(r["nodes"])
        path = path_to(leaf)
        for p, c in zip(path, path[1:]):
            set_argmax(r["lg"], p.id, c.token)
        set_argmax(r["lg"], leaf.id, 555)
        # tie at the root: the path's first child against another id
        c1 = path[1].token
        others = {c.token for c in r["root"].children}
        other = next(t for t in (range(c1 - 1, -1, -1) if lower else range(c1 + 1, V))
                     if t not in others)
        set_argmax(r["lg"], 0, c1, tie_with=other)
        if lower:
            expect[b] = ([0], other)
        else:
            expect[b] = ([n.id for n in path], 555)
        reqs.append(r)
    out.append(("case4", reqs, [5, 6], expect, None))
    # case5: int64 ids outside [0, V) on the accepted chain never match.
    reqs, expect = [], {}
    for b in range(B):
        r = random_request(rng, corpus, "dfs" if b else "bfs")
        leaf = deepest_leaf(r["nodes"])
        path = path_to(leaf)
        for p, c in zip(path, path[1:]):
            set_argmax(r["lg"], p.id, c.token)
        cut = min(2, len(path) - 1) if b == 0 else 1   # the node that gets a bad id
        bad = [path[cut].token + 2 ** 32, -1, V, -2 ** 63][2 * b:2 * b + 2]
        r["token_override"] = {path[cut]: bad[0]}
        # siblings of the cut node, if any, get the second bad id
        sib = [c for c in path[cut - 1].children if c is not path[cut]]
        if sib:
            r["token_override"][sib[0]] = bad[1]
        want_next = int(path[cut].token)             # the parent's argmax
        expect[b] = ([n.id for n in path[:cut]], want_next)
        reqs.append(r)
    out.append(("case5", reqs, [300, 301], expect, None))
    return out


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


ARGS = [("logits", (B, T, V), "bf16"), ("draft_tokens", (B, T), "i64"),
        ("first_child", (B, T), "i64"), ("next_sibling", (B, T), "i64"),
        ("num_nodes", (B,), "i32"), ("prefix_len", (B,), "i32")]
RESULTS = [("tokens", (B, T), "i32"), ("accept_nodes", (B, T), "i32"),
           ("num_accepted", (B,), "i32"), ("num_emitted", (B,), "i32"),
           ("kv_slots", (B, T), "i32")]


def main():
    ap = rco.tool_args(__doc__.split("\n")[0])
    ap.add_argument("--recipes", required=True, help="the examples/ directory")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    p = Program(FUNC, FUNC, ARGS, RESULTS, None, None)
    p.source = os.path.join(a.recipes, FUNC + ".mlir")
    art = os.path.join(a.workdir, FUNC, FUNC + ".wnn")
    state = {"listed": False}
    table = {}

    def check(inp, out):
        name = next(n for n, (ci, _, _) in table.items()
                    if all(np.array_equal(ci[k], inp[k], equal_nan=(k == "logits"))
                           for k in ci))
        _, reqs, expect = table[name]
        checks = []
        if not state["listed"]:
            state["listed"] = True
            rc, listing, err = run_cmd([a.run, art, "--list"])
            want = ["func @%s(" % FUNC] + ["%s: %s" % (n, "x".join(map(str, s)) + "x" + d)
                                          for n, s, d in ARGS + RESULTS]
            checks.append(("tok.name signature of @%s in winnow-run --list" % FUNC,
                           rc == 0 and all(w in listing for w in want), shorten(listing + err)))
        refs = [reference(inp["logits"][b], reqs[b]["nodes"], int(inp["prefix_len"][b]),
                          int(inp["num_nodes"][b])) for b in range(B)]
        got = {k: np.asarray(out[k]).astype(np.int32) for k, _, _ in RESULTS}
        for k, i in (("num_accepted", 2), ("num_emitted", 3), ("accept_nodes", 1),
                     ("tokens", 0), ("kv_slots", 4)):
            want = np.array([r[i] for r in refs], np.int32)
            what = k if k != "kv_slots" else "kv_slots = prefix_len + accept_nodes (-1 padded)"
            checks.append(check_exact(what, want, got[k]))
        for b, (wn, wnext) in sorted(expect.items()):
            a_ = len(wn) - 1
            ok_ref = refs[b][1][:a_ + 1].tolist() == wn and refs[b][0][a_] == wnext \
                and refs[b][2] == a_
            ok_got = got["accept_nodes"][b, :a_ + 1].tolist() == wn and \
                got["tokens"][b, a_] == wnext and got["num_accepted"][b] == a_
            checks.append(("request %d matches the hand-computed answer (%d accepted, next %d; "
                           "reference %s)" % (b, a_, wnext, "agrees" if ok_ref else "DISAGREES"),
                           ok_ref and ok_got,
                           "want nodes %s next %d; reference %s %s; got %s %s" % (
                               wn, wnext, refs[b][1][:a_ + 2].tolist(),
                               refs[b][0][:a_ + 2].tolist(),
                               got["accept_nodes"][b, :a_ + 2].tolist(),
                               got["tokens"][b, :a_ + 2].tolist())))
        print("# [%s] %s: trie nodes %s, num_accepted = %s (reference %s)" % (
            FUNC, name, [len(r["nodes"]) - 1 for r in reqs], got["num_accepted"].tolist(),
            [r[2] for r in refs]))
        return checks

    for name, reqs, prefix_len, expect, branching in cases(rng):
        inp = assemble(rng, reqs, prefix_len)
        decoded = {n: decode(inp[n], dt) for n, _, dt in ARGS}
        table[name] = (decoded, reqs, expect)
        if branching is not None:
            print("# %s: trie sizes %s, widest node has %d children" % (
                name, [len(r["nodes"]) - 1 for r in reqs], branching))
        p.add(name, inp)
    p.check = check
    return rco.run_programs([p], a, generator="run_rest_oracle.py")


if __name__ == "__main__":
    sys.exit(main())
