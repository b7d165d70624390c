"""Tests of winnow.methods: the builders reproduce the recipes in examples/,
build working programs for other parameters, reject bad parameters with
clear messages, and their text can be read.

    cd /work/main && PYTHONPATH=build/python /usr/bin/python3 -m pytest -q \
        python/tests/test_methods.py
"""

import functools
import math
import os

import numpy as np
import pytest
import torch

import winnow
from winnow import methods

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")

_TORCH = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32}
_BITS = {torch.bfloat16: torch.int16, torch.float16: torch.int16,
         torch.float32: torch.int32, torch.float64: torch.int64}


@functools.lru_cache(maxsize=None)
def recipe(name):
    """The compiled recipe examples/<name>.mlir, loaded on the CPU."""
    return winnow.load(winnow.compile(os.path.join(EXAMPLES, name + ".mlir")))


def build(program):
    return winnow.load(program.compile(target="cpu"))


def results_of(value):
    return tuple(value) if isinstance(value, tuple) else (value,)


def assert_identical(got, want, what=""):
    got, want = results_of(got), results_of(want)
    assert len(got) == len(want), what
    for i, (a, b) in enumerate(zip(got, want)):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{what} result {i}"
        bits_a = a.view(_BITS[a.dtype]) if a.dtype in _BITS else a
        bits_b = b.view(_BITS[b.dtype]) if b.dtype in _BITS else b
        assert torch.equal(bits_a, bits_b), f"{what} result {i} differs"


def make_inputs(signature, gen, given):
    """One tensor per input of the signature: `given[name]` where the test
    supplies it (every integer input; its first rows for an entry with a
    smaller batch), else seeded normal floats."""
    tensors = []
    for spec in signature.inputs:
        if spec.name in given:
            value = given[spec.name]
            tensor = value if isinstance(value, torch.Tensor) else \
                torch.from_numpy(np.ascontiguousarray(value))
        else:
            assert spec.dtype in _TORCH, f"no values for {spec.name}"
            tensor = torch.randn(spec.shape, generator=gen).to(
                _TORCH[spec.dtype])
        if tuple(tensor.shape[1:]) == spec.shape[1:]:
            tensor = tensor[:spec.shape[0]]
        assert tuple(tensor.shape) == spec.shape, spec.name
        tensors.append(tensor)
    return tensors


# -- 1. default parameters reproduce the recipes ---------------------------------------

def _lengths(values):
    return np.asarray(values, dtype=np.int32)


def _fastv_inputs(rng, gen):
    positions = np.broadcast_to(35 + np.arange(576, dtype=np.int32), (4, 576))
    return {"lengths": _lengths([576, 576, 301, 0]),
            "positions": positions.copy(),
            "row_lse": torch.randn((4, 32, 1), generator=gen) + 6.0}


def _dymu_inputs(rng, gen):
    # Noisy copies of 41 prototypes (odd, so even and odd tokens share
    # them): the best matches spread over [0.75, 1] and the threshold (0.9)
    # merges some tokens but not all.
    proto = torch.randn((2, 41, 64), generator=gen)
    noise = torch.rand((2, 577, 1), generator=gen) * 0.8
    metric = proto[:, torch.arange(577) % 41] + noise * torch.randn(
        (2, 577, 64), generator=gen)
    return {"metric": metric, "num_tokens": _lengths([577, 577])}


def _tome_inputs(rng, gen):
    return {"sizes": rng.integers(1, 5, (4, 181)).astype(np.float32)}


def _hnet_inputs(rng, gen):
    return {"lengths": _lengths([1024, 700]),
            "chunk_count": _lengths([600, 350]),
            "boundaries": rng.random((2, 1024)) < 0.5,
            "gates": rng.random((2, 1024)).astype(np.float32)}


def _kv_inputs(lengths, slots=1024):
    def make(rng, gen):
        ids = rng.integers(0, 32000, (2, slots)).astype(np.int32)
        seps = np.array([29889, 29892, 13], dtype=np.int32)
        mask = rng.random((2, slots)) < 0.1
        ids[mask] = rng.choice(seps, int(mask.sum()))
        return {"lengths": _lengths(lengths), "token_ids": ids}
    return make


def _chain_inputs(batch, k, vocab):
    def make(rng, gen):
        logits = torch.randn((batch, k + 1, vocab), generator=gen)
        best = logits.to(torch.bfloat16).float().argmax(-1).numpy()
        drafts = best[:, :k].astype(np.int32)
        wrong = rng.random((batch, k)) < 0.25
        drafts[wrong] = rng.integers(0, vocab, int(wrong.sum()))
        probs = torch.softmax(torch.randn((batch, k, vocab), generator=gen),
                              -1)
        temperature = rng.choice([0.0, 0.7, 1.0, 1.3], batch)
        return {"logits": logits.to(torch.bfloat16), "drafts": drafts,
                "num_draft": rng.integers(0, k + 1, batch).astype(np.int32),
                "draft_probs": probs,
                "temperature": temperature.astype(np.float32),
                "seed": rng.integers(0, 2**62, batch),
                "offset": rng.integers(0, 2**40, batch)}
    return make


def _tree_inputs(batch, nodes, vocab=32000):
    def make(rng, gen):
        logits = torch.randn((batch, nodes, vocab), generator=gen)
        best = logits.to(torch.bfloat16).float().argmax(-1).numpy()
        parents = np.full((batch, nodes), -1, dtype=np.int32)
        tokens = rng.integers(0, vocab, (batch, nodes)).astype(np.int32)
        for b in range(batch):
            for i in range(1, nodes):
                parents[b, i] = rng.integers(0, i) if i > 1 else 0
                if rng.random() < 0.7:
                    tokens[b, i] = best[b, parents[b, i]]
        return {"logits": logits.to(torch.bfloat16), "tree_tokens": tokens,
                "parents": parents,
                "num_nodes": np.asarray([nodes, nodes - 9], dtype=np.int32),
                "prefix_len": _lengths([17, 250]),
                "temperature": np.asarray([0.8, 1.2], dtype=np.float32),
                "seed": rng.integers(0, 2**62, batch),
                "offset": rng.integers(0, 2**40, batch)}
    return make


DEFAULT_CASES = {
    "fastv": (methods.fastv, "fastv_llava15", _fastv_inputs),
    "fastervlm": (methods.fastervlm, "fastervlm_cls", None),
    "tome": (methods.tome, "tome_vit", _tome_inputs),
    "dymu": (methods.dymu, "dymu_threshold_merge", _dymu_inputs),
    "hnet": (methods.hnet, "hnet_chunk_dechunk", _hnet_inputs),
    "streamingllm": (methods.streamingllm, "streamingllm_evict",
                     _kv_inputs([1024, 300])),
    "h2o": (methods.h2o, "h2o_heavy_hitters", _kv_inputs([1024, 200])),
    "sepllm": (methods.sepllm, "sepllm_separators", _kv_inputs([1024, 500])),
    "spec_chain_greedy": (methods.spec_chain, "spec_chain_greedy",
                          _chain_inputs(8, 4, 32000)),
    "spec_chain_rejection": (functools.partial(methods.spec_chain,
                                               mode="rejection"),
                             "spec_chain_rejection",
                             _chain_inputs(8, 4, 32000)),
    "typical_chain": (methods.typical_chain, "medusa_typical_chain",
                      _chain_inputs(4, 4, 32000)),
    "tree_greedy": (methods.tree_verify, "eagle_tree_verify",
                    _tree_inputs(2, 61)),
    "tree_typical": (functools.partial(methods.tree_verify, mode="typical"),
                     "medusa_tree_typical", _tree_inputs(2, 64)),
}


@pytest.mark.parametrize("case", sorted(DEFAULT_CASES))
def test_defaults_reproduce_recipe(case):
    builder, recipe_name, inputs = DEFAULT_CASES[case]
    program = builder()
    want = recipe(recipe_name)
    got = build(program)
    assert got.signatures == want.signatures
    assert tuple(got.signatures) == program.entries
    assert program.name == program.entries[0]
    rng = np.random.default_rng(1234)
    gen = torch.Generator().manual_seed(1234)
    given = inputs(rng, gen) if inputs else {}
    for entry, signature in want.signatures.items():
        tensors = make_inputs(signature, gen, given)
        assert_identical(got[entry](*tensors), want[entry](*tensors),
                         f"{case}: {entry}")


def test_reproduction_check_can_fail():
    """The comparison above tells programs apart: a builder with another
    parameter gives another signature, and the same signature with another
    method parameter gives other results."""
    assert build(methods.h2o(heavy=64)).signatures != \
        recipe("h2o_heavy_hitters").signatures
    other = build(methods.dymu(threshold=0.8))
    rng = np.random.default_rng(5)
    gen = torch.Generator().manual_seed(5)
    signature = other.signatures["dymu_merge"]
    tensors = make_inputs(signature, gen, _dymu_inputs(rng, gen))
    with pytest.raises(AssertionError):
        assert_identical(other.dymu_merge(*tensors),
                         recipe("dymu_threshold_merge").dymu_merge(*tensors))


# -- 2. other parameters: properties checked in NumPy -----------------------------------

def _top(scores, count):
    """The `count` best of `scores` (larger first, ties to the lower index),
    ascending."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return sorted(order[:count])


def _attn_scores(q, k, lse, lengths):
    """FastV / FasterVLM scores in float64: mean over heads of
    exp(q.k / sqrt(d) - lse) over the valid keys (GQA: head h reads key
    head h // (H / Hkv))."""
    q, k, lse = (np.asarray(t, dtype=np.float64) for t in (q, k, lse))
    batch, heads, _, dim = q.shape
    group = heads // k.shape[1]
    out = np.zeros((batch, k.shape[2]))
    for b in range(batch):
        for h in range(heads):
            s = k[b, h // group] @ q[b, h, 0] / math.sqrt(dim)
            out[b] += np.exp(s - lse[b, h, 0])
        out[b, lengths[b]:] = 0
    return out / heads


@pytest.mark.parametrize("rounding", ["floor", "ceil"])
def test_fastv_small(rounding):
    program = methods.fastv(batch=2, heads=4, kv_heads=2, head_dim=16,
                            image_tokens=40, hidden=8, keep_ratio=0.33,
                            rounding=rounding, dtype="f32",
                            single_request=False)
    module = build(program)
    assert list(module.signatures) == ["fastv_llava15"]
    capacity = 13 if rounding == "floor" else 14  # 40 * 0.33 = 13.2
    gen = torch.Generator().manual_seed(7)
    q = torch.randn((2, 4, 1, 16), generator=gen)
    k = torch.randn((2, 2, 40, 16), generator=gen)
    lse = torch.randn((2, 4, 1), generator=gen) + 4.0
    lengths = torch.tensor([40, 23], dtype=torch.int32)
    hidden = torch.randn((2, 40, 8), generator=gen)
    positions = (35 + torch.arange(40, dtype=torch.int32)).repeat(2, 1)
    out = module.fastv_llava15(q, k, lse, lengths, hidden, positions)
    assert out.kept_indices.shape == (2, capacity)
    np.testing.assert_allclose(out.scores.numpy(),
                               _attn_scores(q, k, lse, [40, 23]),
                               rtol=1e-5, atol=1e-7)
    for b, length in enumerate([40, 23]):
        keep = {"floor": math.floor, "ceil": math.ceil}[rounding](
            length * 0.33)
        assert out.kept_count[b] == keep
        idx = _top(out.scores[b, :length].tolist(), keep)
        assert out.kept_indices[b, :keep].tolist() == idx
        assert (out.kept_indices[b, keep:] == -1).all()
        assert torch.equal(out.kept_hidden[b, :keep], hidden[b, idx])
        assert (out.kept_hidden[b, keep:] == 0).all()
        assert out.kept_positions[b, :keep].tolist() == [35 + i for i in idx]
        expect_map = [-1] * 40
        for j, i in enumerate(idx):
            expect_map[i] = j
        assert out.old_to_new[b].tolist() == expect_map


def test_fastv_per_request_ratio():
    """Each request's own keep ratio (tok.select's row_budget), bounded by
    keep_ratio, which sizes the capacity."""
    program = methods.fastv(batch=4, heads=2, head_dim=8, image_tokens=30,
                            hidden=4, keep_ratio=0.5, dtype="f32",
                            single_request=False, per_request_ratio=True)
    assert "row_budget %ratios" in program.text
    module = build(program)
    names = [s.name for s in module.signatures["fastv_llava15"].inputs]
    assert names[3:5] == ["lengths", "keep_ratios"]
    gen = torch.Generator().manual_seed(11)
    q = torch.randn((4, 2, 1, 8), generator=gen)
    k = torch.randn((4, 2, 30, 8), generator=gen)
    lse = torch.randn((4, 2, 1), generator=gen) + 4.0
    lengths = torch.tensor([30, 30, 17, 30], dtype=torch.int32)
    ratios = torch.tensor([0.5, 0.1, 0.3, 0.9])  # the last is capped at 0.5
    hidden = torch.randn((4, 30, 4), generator=gen)
    positions = torch.arange(30, dtype=torch.int32).repeat(4, 1)
    out = module.fastv_llava15(q, k, lse, lengths, ratios, hidden, positions)
    want = [math.floor(n * min(r, 0.5)) for n, r in
            zip([30, 30, 17, 30], [0.5, float(np.float32(0.1)),
                                   float(np.float32(0.3)), 0.9])]
    assert out.kept_count.tolist() == want == [15, 3, 5, 15]
    for b in range(4):
        idx = _top(out.scores[b, :lengths[b]].tolist(), want[b])
        assert out.kept_indices[b, :want[b]].tolist() == idx


def test_fastervlm_small():
    program = methods.fastervlm(batch=2, heads=2, head_dim=8, patches=30,
                                features=6, keep=7, dtype="f32")
    module = build(program)
    gen = torch.Generator().manual_seed(8)
    q = torch.randn((2, 2, 1, 8), generator=gen)
    k = torch.randn((2, 2, 30, 8), generator=gen)
    lse = torch.randn((2, 2, 1), generator=gen) + 3.0
    feats = torch.randn((2, 30, 6), generator=gen)
    out = module.fastervlm_cls(q, k, lse, feats)
    np.testing.assert_allclose(out.cls_scores.numpy(),
                               _attn_scores(q, k, lse, [30, 30]), rtol=1e-5)
    assert out.count.tolist() == [7, 7]
    for b in range(2):
        idx = _top(out.cls_scores[b].tolist(), 7)
        assert out.indices[b].tolist() == idx
        assert torch.equal(out.kept_features[b], feats[b, idx])


def _tome_plan(metric, r, threshold=None):
    """ToMe's bipartite soft matching with a class token, in float64:
    A = even tokens (token 0 never a source), B = odd tokens; the sources
    are the r best A tokens (or those above the threshold); output rows are
    the unmerged A tokens by index, then B."""
    m = np.asarray(metric, dtype=np.float64)
    m = m / np.linalg.norm(m, axis=-1, keepdims=True)
    a_idx, b_idx = np.arange(0, len(m), 2), np.arange(1, len(m), 2)
    sim = m[a_idx] @ m[b_idx].T
    best, dst = sim.max(1), sim.argmax(1)
    best[0] = -np.inf  # the class token
    rank = sorted(range(len(a_idx)), key=lambda a: (-best[a], a))
    if threshold is None:
        sources = set(rank[:r])
    else:
        sources = {a for a in range(len(a_idx)) if best[a] > threshold}
    kept_a = [a for a in range(len(a_idx)) if a not in sources]
    parent = np.zeros(len(m), dtype=np.int64)
    for row, a in enumerate(kept_a):
        parent[a_idx[a]] = row
    for j, b in enumerate(b_idx):
        parent[b] = len(kept_a) + j
    for a in sources:
        parent[a_idx[a]] = len(kept_a) + dst[a]
    return parent, len(kept_a) + len(b_idx)


def test_tome_small():
    program = methods.tome(batch=2, tokens=21, channels=6, metric_dim=5, r=4,
                           dtype="f32")
    module = build(program)
    assert program.entries == ("tome_step", "tome_step_sized")
    gen = torch.Generator().manual_seed(9)
    x = torch.randn((2, 21, 6), generator=gen)
    metric = torch.randn((2, 21, 5), generator=gen)
    out = module.tome_step(x, metric)
    assert out.merged.shape == (2, 17, 6)
    for b in range(2):
        parent, count = _tome_plan(metric[b], 4)
        assert count == 17 and out.count[b] == 17
        assert out.parent[b].tolist() == parent.tolist()
        sizes = np.bincount(parent, minlength=17)
        assert out.sizes[b].tolist() == sizes.tolist()
        means = np.stack([x[b].numpy()[parent == j].mean(0)
                          for j in range(17)])
        np.testing.assert_allclose(out.merged[b].numpy(), means, rtol=1e-6)
        np.testing.assert_allclose(out.key_bias[b].numpy(), np.log(sizes),
                                   rtol=1e-6)
    # The sized step: size-weighted means, sizes summed.
    x2 = torch.randn((2, 17, 6), generator=gen)
    metric2 = torch.randn((2, 17, 5), generator=gen)
    sizes2 = out.sizes.clone()
    out2 = module.tome_step_sized(x2, metric2, sizes2)
    assert out2.count.tolist() == [13, 13]
    for b in range(2):
        parent, _ = _tome_plan(metric2[b], 4)
        assert out2.parent[b].tolist() == parent.tolist()
        w = sizes2[b].numpy().astype(np.float64)
        want_sizes = np.bincount(parent, weights=w, minlength=13)
        assert out2.sizes_out[b].tolist() == want_sizes.tolist()
        want = np.stack([(w[parent == j, None] * x2[b].numpy()[parent == j])
                         .sum(0) / want_sizes[j] for j in range(13)])
        np.testing.assert_allclose(out2.merged[b].numpy(), want, rtol=1e-5)


def test_dymu_small():
    program = methods.dymu(batch=2, tokens=25, channels=6, metric_dim=5,
                           threshold=0.5, dtype="f32")
    module = build(program)
    gen = torch.Generator().manual_seed(10)
    x = torch.randn((2, 25, 6), generator=gen)
    metric = torch.randn((2, 25, 5), generator=gen)
    out = module.dymu_merge(x, metric, torch.tensor([25, 25],
                                                    dtype=torch.int32))
    for b in range(2):
        parent, count = _tome_plan(metric[b], None, threshold=0.5)
        assert out.count[b] == count < 25
        assert out.parent[b].tolist() == parent.tolist()
        assert (out.merged[b, count:] == 0).all()
        assert torch.equal(out.unmerged[b], out.merged[b, out.parent[b].long()])


def test_hnet_small():
    program = methods.hnet(batch=2, length=20, d_model=8, dtype="f32",
                           scan_block=4)
    module = build(program)
    assert program.entries == ("hnet_chunk", "hnet_dechunk")
    gen = torch.Generator().manual_seed(11)
    q, k, h = (torch.randn((2, 20, 8), generator=gen) for _ in range(3))
    lengths = torch.tensor([20, 13], dtype=torch.int32)
    out = module.hnet_chunk(q, k, lengths, h)
    qn = q.double() / q.double().norm(dim=-1, keepdim=True)
    kn = k.double() / k.double().norm(dim=-1, keepdim=True)
    for b, length in enumerate([20, 13]):
        p = np.zeros(20)
        p[0] = 1
        cos = (qn[b, :length - 1] * kn[b, 1:length]).sum(-1).numpy()
        p[1:length] = np.clip((1 - cos) / 2, 0, 1)
        np.testing.assert_allclose(out.probs[b].numpy(), p, atol=1e-6)
        starts = [t for t in range(length) if out.probs[b, t] > 0.5]
        assert out.boundaries[b].nonzero().flatten().tolist() == starts
        n = len(starts)
        assert out.chunk_count[b] == n
        assert out.chunk_indices[b, :n].tolist() == starts
        assert torch.equal(out.chunks[b, :n], h[b, starts])
        assert torch.equal(out.gates[b, :n], out.probs[b, starts])
    # Dechunk: EMA over the chunks, plugged back into every byte + residual.
    z = torch.randn((2, 20, 8), generator=gen)
    residual = torch.randn((2, 20, 8), generator=gen)
    res = module.hnet_dechunk(z, out.gates, out.chunk_count, out.boundaries,
                              lengths, residual)
    for b, length in enumerate([20, 13]):
        n = int(out.chunk_count[b])
        zbar, prev = [], np.zeros(8)
        for j in range(n):
            gate = min(max(float(out.gates[b, j]), 1e-4), 1 - 1e-4)
            prev = gate * z[b, j].double().numpy() + (1 - gate) * prev
            zbar.append(prev)
        chunk_of = np.cumsum(out.boundaries[b].numpy()) - 1
        want = np.zeros((20, 8))
        for t in range(length):
            want[t] = zbar[chunk_of[t]] + residual[b, t].double().numpy()
        np.testing.assert_allclose(res[b].numpy(), want, rtol=1e-5,
                                   atol=1e-6)


def _check_kv(out, keys, values, expected, reindexed):
    for (b, h), kept in expected.items():
        n = len(kept)
        assert out.count[b, h] == n, (b, h)
        assert out.slots[b, h, :n].tolist() == kept
        assert (out.slots[b, h, n:] == -1).all()
        assert torch.equal(out.kept_keys[b, h, :n], keys[b, h, kept])
        assert torch.equal(out.kept_values[b, h, :n], values[b, h, kept])
        positions = list(range(n)) if reindexed else kept
        assert out.positions[b, h, :n].tolist() == positions


def test_streamingllm_small():
    program = methods.streamingllm(batch=3, kv_heads=2, slots=16, head_dim=4,
                                   sinks=2, window=3, dtype="f32")
    module = build(program)
    assert module.signatures["streamingllm_evict"].results[0].shape == \
        (3, 2, 5)
    gen = torch.Generator().manual_seed(12)
    keys, values = (torch.randn((3, 2, 16, 4), generator=gen)
                    for _ in range(2))
    lengths = [16, 5, 9]
    out = module.streamingllm_evict(torch.tensor(lengths, dtype=torch.int32),
                                    keys, values)
    expected = {(b, h): sorted(set(range(min(2, n)))
                               | set(range(max(n - 3, 0), n)))
                for b, n in enumerate(lengths) for h in range(2)}
    _check_kv(out, keys, values, expected, reindexed=True)


def test_h2o_small():
    program = methods.h2o(batch=2, kv_heads=2, slots=16, head_dim=4,
                          window=3, heavy=4, dtype="f32")
    module = build(program)
    gen = torch.Generator().manual_seed(13)
    acc = torch.rand((2, 2, 16), generator=gen)
    keys, values = (torch.randn((2, 2, 16, 4), generator=gen)
                    for _ in range(2))
    lengths = [16, 10]
    out = module.h2o_heavy_hitters(torch.tensor(lengths, dtype=torch.int32),
                                   acc, keys, values)
    expected = {}
    for b, n in enumerate(lengths):
        for h in range(2):
            window = set(range(n - 3, n))
            older = acc[b, h, :n - 3].tolist()
            expected[b, h] = sorted(window | set(_top(older, 4)))
    _check_kv(out, keys, values, expected, reindexed=False)


def test_sepllm_small():
    program = methods.sepllm(batch=2, kv_heads=2, slots=16, head_dim=4,
                             sinks=1, window=2, separator_ids=(7, 9),
                             dtype="f32")
    module = build(program)
    rng = np.random.default_rng(14)
    ids = rng.integers(0, 12, (2, 16)).astype(np.int32)
    gen = torch.Generator().manual_seed(14)
    keys, values = (torch.randn((2, 2, 16, 4), generator=gen)
                    for _ in range(2))
    lengths = [16, 11]
    out = module.sepllm_separators(torch.from_numpy(ids),
                                   torch.tensor(lengths, dtype=torch.int32),
                                   keys, values)
    assert out.separators.numpy().tolist() == \
        np.isin(ids, [7, 9]).tolist()
    expected = {}
    for b, n in enumerate(lengths):
        seps = {t for t in range(n) if ids[b, t] in (7, 9)}
        kept = sorted({0} | set(range(n - 2, n)) | seps)
        expected.update({(b, h): kept for h in range(2)})
    _check_kv(out, keys, values, expected, reindexed=False)


def _greedy_chain(logits, drafts, num_draft):
    """Greedy chain verification in NumPy: the argmax prefix."""
    best = np.asarray(logits).argmax(-1)
    tokens, accepted = [], []
    for b in range(len(drafts)):
        emitted = []
        for i in range(num_draft[b]):
            emitted.append(int(best[b, i]))
            if best[b, i] != drafts[b, i]:
                break
        else:
            emitted.append(int(best[b, num_draft[b]]))
        tokens.append(emitted)
        accepted.append(len(emitted) - 1)
    return tokens, accepted


def _chain_case(batch, k, vocab, seed):
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    logits = torch.randn((batch, k + 1, vocab), generator=gen)
    drafts = logits.argmax(-1)[:, :k].numpy().astype(np.int32)
    for b in range(batch):  # request b's first wrong draft at position b
        if b < k:
            drafts[b, b] = (drafts[b, b] + 1) % vocab
    num_draft = rng.integers(0, k + 1, batch).astype(np.int32)
    num_draft[-1] = k
    return logits, drafts, num_draft


def test_spec_chain_greedy_small():
    module = build(methods.spec_chain(mode="greedy", batch=6, k=3, vocab=50,
                                      dtype="f32"))
    logits, drafts, num_draft = _chain_case(6, 3, 50, 15)
    out = module.spec_chain_greedy(logits, torch.from_numpy(drafts),
                                   torch.from_numpy(num_draft))
    tokens, accepted = _greedy_chain(logits.numpy(), drafts, num_draft)
    assert out.num_accepted.tolist() == accepted
    assert out.num_emitted.tolist() == [a + 1 for a in accepted]
    assert out.tokens.tolist() == [t + [-1] * (4 - len(t)) for t in tokens]
    assert max(accepted) == 3 and min(accepted) == 0  # both cases occur


def test_spec_chain_rejection_small():
    batch, k, vocab = 6, 3, 50
    module = build(methods.spec_chain(mode="rejection", batch=batch, k=k,
                                      vocab=vocab, dtype="f32"))
    logits, drafts, num_draft = _chain_case(batch, k, vocab, 16)
    temperature = np.asarray([0, 0, 0.8, 1.0, 1.5, 1.0], dtype=np.float32)
    # The draft distribution equals the target's: every draft with q > 0
    # passes (p / q = 1 >= u); temperature 0 rows are greedy.
    p = torch.softmax(logits[:, :k].double()
                      / torch.from_numpy(temperature).double().clamp(min=1e-3)
                      .view(-1, 1, 1), -1).float()
    rng = np.random.default_rng(16)
    out = module.spec_chain_rejection(
        logits, torch.from_numpy(drafts), torch.from_numpy(num_draft), p,
        torch.from_numpy(temperature),
        torch.from_numpy(rng.integers(0, 2**62, batch)),
        torch.from_numpy(rng.integers(0, 2**40, batch)))
    tokens, accepted = _greedy_chain(logits.numpy(), drafts, num_draft)
    for b in range(batch):
        n = int(out.num_accepted[b])
        assert out.num_emitted[b] == n + 1
        if temperature[b] == 0:
            assert n == accepted[b] and out.tokens[b, :n + 1].tolist() == \
                tokens[b]
        else:
            assert n == num_draft[b]
            assert out.tokens[b, :n].tolist() == drafts[b, :n].tolist()
            assert 0 <= out.tokens[b, n] < vocab
        assert (out.tokens[b, n + 1:] == -1).all()


def test_typical_chain_small():
    batch, k, vocab = 3, 3, 50
    module = build(methods.typical_chain(batch=batch, k=k, vocab=vocab,
                                         dtype="f32"))
    gen = torch.Generator().manual_seed(17)
    logits = torch.randn((batch, k + 1, vocab), generator=gen)
    peak = torch.randint(0, vocab, (batch, k + 1), generator=gen)
    logits.scatter_(2, peak.unsqueeze(-1), 12.0)  # p(peak) ~ 0.99
    drafts = peak[:, :k].clone().int()
    drafts[0, 1] = (drafts[0, 1] + 1) % vocab  # p ~ 1e-5: fails the test
    num_draft = torch.tensor([3, 3, 2], dtype=torch.int32)
    out = module.medusa_typical_chain(
        logits, drafts, num_draft, torch.ones(batch),
        torch.tensor([1, 2, 3]), torch.tensor([0, 0, 5]))
    # The same test in float64: p(x) > min(0.09, 0.3 exp(-H(p))).
    p = torch.softmax(logits.double(), -1)
    entropy = -(p * torch.log(p + 1e-5)).sum(-1)
    bound = torch.minimum(torch.full_like(entropy, 0.09),
                          0.3 * torch.exp(-entropy))
    for b in range(batch):
        n = 0
        while n < num_draft[b] and p[b, n, drafts[b, n]] > bound[b, n]:
            n += 1
        assert out.num_accepted[b] == n
        assert out.tokens[b, :n].tolist() == drafts[b, :n].tolist()
    assert out.num_accepted.tolist() == [1, 3, 2]


def _greedy_tree(logits, tree_tokens, parents, num_nodes):
    """Greedy tree verification, path semantics, in NumPy."""
    best = np.asarray(logits).argmax(-1)
    n = min(max(num_nodes, 1), len(parents))
    ok = [True] + [False] * (n - 1)
    depth = [0] * n
    for i in range(1, n):
        ok[i] = ok[parents[i]] and tree_tokens[i] == best[parents[i]]
        depth[i] = depth[parents[i]] + 1
    children = {parents[i] for i in range(1, n)}
    paths = []
    for leaf in range(n):
        if leaf in children:
            continue
        path, node = [], leaf
        while node != 0:
            path.append(node)
            node = parents[node]
        path = [0] + path[::-1]
        accepted = [v for v in path if ok[v]]
        paths.append((-(len(accepted) - 1), leaf, accepted))
    _, leaf, accepted = min(paths)
    tokens = [int(tree_tokens[v]) for v in accepted[1:]]
    _greedy_tree.last_leaf = leaf  # the winning path's leaf (ties: lower)
    return tokens + [int(best[accepted[-1]])], accepted


TREE = [-1, 0, 0, 0, 1, 1, 2, 4, 4, 6]


def test_tree_verify_static_greedy():
    program = methods.tree_verify(batch=3, vocab=20, parents=TREE,
                                  dtype="f32")
    assert program.parameters["nodes"] == len(TREE)
    module = build(program)
    names = [s.name for s in module.signatures["eagle_tree_verify"].inputs]
    assert names == ["logits", "tree_tokens", "num_nodes", "prefix_len"]
    gen = torch.Generator().manual_seed(18)
    rng = np.random.default_rng(18)
    logits = torch.randn((3, 10, 20), generator=gen)
    best = logits.argmax(-1).numpy()
    tree_tokens = rng.integers(0, 20, (3, 10)).astype(np.int32)
    for b in range(3):
        for i in range(1, 10):
            if rng.random() < 0.75:
                tree_tokens[b, i] = best[b, TREE[i]]
    num_nodes = np.asarray([10, 7, 10], dtype=np.int32)
    prefix = np.asarray([5, 0, 100], dtype=np.int32)
    out = module.eagle_tree_verify(logits, torch.from_numpy(tree_tokens),
                                   torch.from_numpy(num_nodes),
                                   torch.from_numpy(prefix))
    depths = []
    for b in range(3):
        tokens, nodes = _greedy_tree(logits[b].numpy(), tree_tokens[b], TREE,
                                     num_nodes[b])
        n = len(nodes) - 1
        depths.append(n)
        assert out.num_accepted[b] == n and out.num_emitted[b] == n + 1
        assert out.tokens[b].tolist() == tokens + [-1] * (10 - n - 1)
        assert out.accept_nodes[b].tolist() == nodes + [-1] * (10 - n - 1)
        assert out.kv_slots[b].tolist() == \
            [prefix[b] + v for v in nodes] + [-1] * (10 - n - 1)
    assert max(depths) >= 2


def test_tree_verify_best_leaf():
    """best_leaf=True adds the winning path's leaf; ties (equal accepted
    depth) go to the lower leaf, here checked against the NumPy reference."""
    program = methods.tree_verify(batch=4, vocab=12, parents=TREE,
                                  kv_slots=False, best_leaf=True,
                                  dtype="f32")
    assert "%leaf = tok.tree_verify" in program.text
    module = build(program)
    results = [s.name for s in module.signatures["eagle_tree_verify"].results]
    assert results[-1] == "best_leaf"
    gen = torch.Generator().manual_seed(23)
    rng = np.random.default_rng(23)
    logits = torch.randn((4, 10, 12), generator=gen)
    best = logits.argmax(-1).numpy()
    tree_tokens = rng.integers(0, 12, (4, 10)).astype(np.int32)
    for b in range(4):
        for i in range(1, 10):
            if rng.random() < 0.6:
                tree_tokens[b, i] = best[b, TREE[i]]
    num_nodes = np.asarray([10, 10, 6, 1], dtype=np.int32)
    out = module.eagle_tree_verify(logits, torch.from_numpy(tree_tokens),
                                   torch.from_numpy(num_nodes))
    leaves = []
    for b in range(4):
        _greedy_tree(logits[b].numpy(), tree_tokens[b], TREE, num_nodes[b])
        leaves.append(_greedy_tree.last_leaf)
    assert out.best_leaf.tolist() == leaves
    assert leaves[3] == 0  # a root-only tree: the root is the leaf


def test_tree_verify_static_typical_matches_input_parents():
    """A static template gives what the same parents as an input give."""
    static = build(methods.tree_verify(mode="typical", batch=2, vocab=30,
                                       parents=TREE, dtype="f16"))
    dynamic = build(methods.tree_verify(mode="typical", batch=2, vocab=30,
                                        nodes=len(TREE), dtype="f16"))
    gen = torch.Generator().manual_seed(19)
    logits = torch.randn((2, 10, 30), generator=gen)
    peak = logits.argmax(-1)
    logits.scatter_(2, peak.unsqueeze(-1), 6.0)
    tree_tokens = peak[:, TREE].int()
    tree_tokens[:, 0] = 3
    tree_tokens[0, 5] = 0
    logits = logits.half()
    rest = (torch.tensor([10, 8], dtype=torch.int32),
            torch.tensor([0.9, 1.1]), torch.tensor([3, 4]),
            torch.tensor([1, 1]))
    parents = torch.tensor(TREE, dtype=torch.int32).repeat(2, 1)
    a = static.medusa_tree_typical(logits, tree_tokens, *rest)
    b = dynamic.medusa_tree_typical(logits, tree_tokens, parents, *rest)
    assert_identical(a, b)
    assert a.num_accepted.min() >= 1


# -- 3. validation ----------------------------------------------------------------

BAD = [
    (methods.fastv, dict(keep_ratio=1.5), r"keep_ratio=1\.5: .*\(0\.0, 1\.0\]"),
    (methods.fastv, dict(keep_ratio=0.0), r"keep_ratio"),
    (methods.fastv, dict(keep_ratio=0.001), r"keep_ratio=0\.001: keeps 0"),
    (methods.fastv, dict(heads=-1), r"heads=-1: expected an integer >= 1"),
    (methods.fastv, dict(batch=2.5), r"batch=2\.5"),
    (methods.fastv, dict(kv_heads=5), r"kv_heads=5"),
    (methods.fastv, dict(dtype="f8"), r"dtype='f8': expected one of 'bf16'"),
    (methods.fastv, dict(rounding="up"), r"rounding='up'"),
    (methods.fastv, dict(name="1bad"), r"name='1bad'"),
    (methods.fastervlm, dict(keep=577), r"keep=577: .*\[1, 576\]"),
    (methods.fastervlm, dict(keep=-3), r"keep=-3"),
    (methods.tome, dict(r=99, sized_step=False), r"r=99: .*\[1, 98\]"),
    (methods.tome, dict(r=66), r"r=66: .*\[1, 65\]"),
    (methods.tome, dict(r=-1), r"r=-1"),
    (methods.tome, dict(tokens=0), r"tokens=0"),
    (methods.tome, dict(dtype="i32"), r"dtype"),
    (methods.dymu, dict(threshold=1.5), r"threshold=1\.5: .*\[-1\.0, 1\.0\]"),
    (methods.dymu, dict(threshold=float("nan")), r"threshold=nan"),
    (methods.hnet, dict(length=0), r"length=0"),
    (methods.hnet, dict(epsilon=0.6), r"epsilon=0\.6"),
    (methods.streamingllm, dict(sinks=-1), r"sinks=-1: .*>= 0"),
    (methods.streamingllm, dict(sinks=0, window=0), r"window"),
    (methods.streamingllm, dict(position_mode="rope"), r"position_mode"),
    (methods.h2o, dict(heavy=0), r"heavy=0"),
    (methods.h2o, dict(window=-128), r"window=-128"),
    (methods.sepllm, dict(separator_ids=()), r"separator_ids"),
    (methods.sepllm, dict(separator_ids=(13, 13)), r"separator_ids.*distinct"),
    (methods.sepllm, dict(separator_ids=(-5,)), r"separator_ids\[0\]=-5"),
    (methods.spec_chain, dict(mode="typical"), r"mode='typical'"),
    (methods.spec_chain, dict(k=0), r"k=0: expected an integer >= 1"),
    (methods.spec_chain, dict(vocab=1), r"vocab=1"),
    (methods.typical_chain, dict(epsilon=1.5), r"epsilon=1\.5"),
    (methods.typical_chain, dict(alpha=-0.3), r"alpha=-0\.3"),
    (methods.tree_verify, dict(mode="rejection"), r"mode='rejection'"),
    (methods.tree_verify, dict(nodes=-2), r"nodes=-2"),
    (methods.tree_verify, dict(parents=[-1, 2, 1]), r"parents.*cycle"),
    (methods.tree_verify, dict(parents=[-1, 0, 1, 3]), r"parents.*cycle"),
    (methods.tree_verify, dict(parents=[-1, 0, -1]),
     r"parents\[2\]=-1: a second root"),
    (methods.tree_verify, dict(parents=[-1, 0, 5]),
     r"parents\[2\]=5: parent out of range .*\[0, 2\]"),
    (methods.tree_verify, dict(parents=[-1, 0, -4]),
     r"parents\[2\]=-4: parent out of range"),
    (methods.tree_verify, dict(parents=[-1, 2, 0]),
     r"parents\[1\]=2: not in topological order"),
    (methods.tree_verify, dict(parents=[3, 0]), r"parents\[0\]=3"),
    (methods.tree_verify, dict(parents=[]), r"parents"),
    (methods.tree_verify, dict(parents="0,0"), r"parents"),
    (methods.tree_verify, dict(parents=[-1, 0], nodes=5), r"nodes=5"),
]


@pytest.mark.parametrize("builder, kwargs, match", BAD,
                         ids=[f"{b.__name__}-{'-'.join(k)}"
                              for b, k, _ in BAD])
def test_validation(builder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        builder(**kwargs)


def test_valid_edges_are_accepted():
    assert methods.fastv(keep_ratio=1.0).parameters["keep_ratio"] == 1.0
    assert "#tok.keep_ratio<1.0, floor>" in methods.fastv(keep_ratio=1).text
    assert methods.tome(r=65).parameters["r"] == 65
    assert methods.tome(r=98, sized_step=False).entries == ("tome_step",)
    assert methods.tree_verify(parents=[0]).parameters["nodes"] == 1
    assert methods.tree_verify(parents=[0, 0, 1]).parameters["parents"] == \
        [-1, 0, 1]


# -- 4. the text can be read ------------------------------------------------------

def test_text_is_inspectable():
    program = methods.fastv(batch=2, heads=4, keep_ratio=0.3)
    text = str(program)
    assert text == program.text
    assert "tok.select #tok.keep_ratio<0.3, floor>" in text
    assert "tok.attn_score %q, %k lengths %len lse %lse" in text
    assert "tensor<2x4x1x128xbf16>" in text
    assert "tensor<2x172x4096xbf16>" in text  # floor(576 * 0.3)
    header = text.split("func.func")[0]
    assert header.startswith("// Generated by winnow.methods.fastv")
    assert all(line.startswith("//") or not line
               for line in header.splitlines())
    for key, value in program.parameters.items():
        assert f"//   {key} = {value!r}" in header
    assert program.parameters["keep_ratio"] == 0.3
    assert program.name == "fastv_llava15"
    assert "fastv" in repr(program)


def test_text_of_other_builders():
    assert text_has(methods.fastervlm(keep=32), "#tok.top_k<32>")
    assert text_has(methods.tome(r=8), "tok.bipartite_plan %metric "
                    "{r = 8, class_token}", "@tome_step_sized")
    assert text_has(methods.tome(class_token=False), "{r = 16}")
    assert text_has(methods.dymu(threshold=0.75),
                    "{threshold = 0.75 : f64, class_token}")
    assert text_has(methods.hnet(epsilon=1e-5), "epsilon = 1.0e-05 : f64",
                    "@hnet_chunk(", "@hnet_dechunk(")
    assert text_has(methods.streamingllm(sinks=8, window=1000),
                    "{sinks = 8, window = 1000}", "tensor<2x8x1008xi32>",
                    "#tok.position_mode<reindexed>")
    assert text_has(methods.h2o(sinks=4), "{sinks = 4, window = 128, "
                    "heavy = 128}", "tensor<2x8x260xi32>")
    sep = methods.sepllm(separator_ids=(11, 12, 13, 14))
    assert sep.text.count("arith.cmpi eq") == 4
    assert sep.text.count("arith.ori") == 3
    assert text_has(methods.spec_chain(mode="rejection", k=7),
                    "#tok.verify_mode<rejection>", "tensor<8x8x32000xbf16>",
                    "draft_probs %draft_probs")
    assert text_has(methods.typical_chain(epsilon=0.1, alpha=0.25),
                    "typical_epsilon = 0.1 : f64, typical_alpha = 0.25 : f64")
    tree = methods.tree_verify(parents=TREE)
    assert text_has(tree, "dense<[-1, 0, 0, 0, 1, 1, 2, 4, 4, 6]>",
                    "tok.tree_verify")
    assert '{tok.name = "parents"}' not in tree.text
    assert '{tok.name = "parents"}' in methods.tree_verify().text
    assert '{tok.name = "kv_slots"}' not in \
        methods.tree_verify(mode="typical").text
    assert '{tok.name = "kv_slots"}' in methods.tree_verify().text


def text_has(program, *pieces):
    missing = [p for p in pieces if p not in program.text]
    assert not missing, missing
    return True


def test_compile_passes_options(tmp_path):
    program = methods.spec_chain(batch=2, k=2, vocab=16, dtype="f32")
    artifact = program.compile(target="cpu", output=tmp_path / "chain.wnn")
    assert artifact.name.startswith("spec_chain_greedy")
    assert os.path.isfile(tmp_path / "chain.wnn")
    module = winnow.load(artifact)
    assert [s.name for s in module.signatures["spec_chain_greedy"].inputs] \
        == ["logits", "drafts", "num_draft"]
