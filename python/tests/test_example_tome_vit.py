"""examples/python/tome_vit.py: ToMe in a small ViT, the merging done by
Winnow (one call per block), against an eager PyTorch ToMe of the same
model.

Run: PYTHONPATH=build/python /usr/bin/python3 -m pytest python/tests/test_example_tome_vit.py
"""

import importlib.util
import os
import sys

import pytest

ROOT = os.environ.get("WINNOW_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
try:
    import winnow  # noqa: F401
except ImportError:  # the build tree's package, when PYTHONPATH lacks it
    sys.path.insert(0, os.path.join(os.environ.get("WINNOW_BUILD_DIR",
                                                   os.path.join(ROOT, "build")), "python"))
import numpy as np  # noqa: E402
import torch  # noqa: E402


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tv = _load(os.path.join(ROOT, "examples", "python", "tome_vit.py"), "winnow_example_tome_vit")

# 1 class token + 64 patches, width 64, 4 heads, 6 blocks, r = 8, batch 2.
CFG = tv.Config(batch=2, image=32, patch=4, width=64, heads=4, depth=6, r=8)
EXPECTED_TOKENS = [65, 57, 49, 41, 33, 25, 17]


@pytest.fixture(scope="module")
def result():
    return tv.check(CFG, seed=0)


def test_tokens_per_block():
    assert CFG.tokens_per_block() == EXPECTED_TOKENS


def test_merge_decisions_have_a_margin(result):
    assert result["findings"]["margin"] >= tv.MIN_PLAN_MARGIN


def test_winnow_tome_matches_eager(result):
    assert result["problems"] == []
    e_logits, e_x, e_rec = result["eager"]
    w_logits, w_x, w_rec = result["winnow"]
    assert result["findings"]["tokens"] == EXPECTED_TOKENS
    assert len(w_rec) == CFG.depth
    for i, (e, w) in enumerate(zip(e_rec, w_rec)):
        n_in, n_out = EXPECTED_TOKENS[i], EXPECTED_TOKENS[i + 1]
        assert (w["tokens_in"], w["tokens_out"]) == (n_in, n_out)
        assert w["count"].tolist() == [n_out] * CFG.batch
        # Identical merge plans: every token goes to the same output row.
        assert torch.equal(w["parent"], e["parent"]), i
        assert w["parent"].shape == (CFG.batch, n_in)
        # The class token is never merged and stays first.
        assert w["parent"][:, 0].tolist() == [0] * CFG.batch
        assert int((w["parent"] == 0).sum()) == CFG.batch
        # Sizes: exact, equal, and they still count the 65 original tokens.
        assert torch.equal(w["sizes"], e["sizes"])
        assert w["sizes"].sum(dim=1).tolist() == [65.0] * CFG.batch
        assert w["sizes"][:, 0].tolist() == [1.0] * CFG.batch
        # Each output row holds exactly the tokens that the plan sends there.
        members = torch.zeros(CFG.batch, n_out).scatter_add_(
            1, w["parent"], torch.ones(CFG.batch, n_in))
        assert bool((members >= 1).all())
    assert w_x.shape == (CFG.batch, EXPECTED_TOKENS[-1], CFG.width)
    assert torch.allclose(w_x, e_x, rtol=tv.OUT_RTOL, atol=tv.OUT_ATOL)
    assert torch.allclose(w_logits, e_logits, rtol=tv.OUT_RTOL, atol=tv.OUT_ATOL)


def test_tie_rule_lower_index():
    """Exact ties (a few +-1 patterns: every similarity is exact in fp32):
    Winnow's plan is the eager plan with ties to the lower index, and not the
    one with ties to the higher index; the repository's NumPy oracle agrees."""
    for seed in range(3):
        case = tv.tie_case(batch=2, n=17, metric_width=16, r=4, patterns=3, seed=seed)
        w = case["winnow"]
        parent = w.parent.to(torch.int64)
        assert torch.equal(parent, case["lower"]["parent"]), seed
        assert not torch.equal(parent, case["higher"]["parent"]), seed
        assert w.count.tolist() == [17 - 4] * 2
        assert torch.allclose(w.merged, case["eager_merged"], rtol=1e-6, atol=1e-6)
    oracle_path = os.path.join(ROOT, "test", "oracle", "merge_oracle.py")
    if os.path.isfile(oracle_path):
        sys.path.insert(0, os.path.dirname(oracle_path))
        try:
            oracle = _load(oracle_path, "winnow_merge_oracle_for_tome_example")
        finally:
            sys.path.pop(0)
        case = tv.tie_case(batch=2, n=17, metric_width=16, r=4, patterns=3, seed=0)
        parent, count, _ = oracle.bipartite_plan(case["metric"].numpy(), r=4,
                                                 class_token=True, exact=True)
        assert np.array_equal(parent, case["winnow"].parent.numpy())
        assert count.tolist() == [13, 13]


def test_wrong_r_is_caught(result):
    """An eager ToMe merging one token more per block must not compare
    equal."""
    model, images = result["model"], result["images"]
    eager_more = model.forward(images, tv.eager_tome_merge(CFG.r + 1))
    _, problems = tv.compare(CFG, eager_more, result["winnow"])
    assert any("tokens per block" in p for p in problems)


def test_missing_proportional_attention_is_caught(result):
    """Dropping the log(size) key bias (no proportional attention) changes
    the outputs beyond the tolerance (or the plans)."""
    model, images = result["model"], result["images"]
    inner = tv.winnow_tome_merge(CFG.r)

    def merge_without_bias(i, x, metric, state):
        x, state, _, info = inner(i, x, metric, state)
        return x, state, None, info

    win = model.forward(images, merge_without_bias)
    _, problems = tv.compare(CFG, result["eager"], win)
    assert problems


def test_sizes_not_carried_is_caught(result):
    """Merging every block without the tracked sizes (a plain mean, and
    log-sizes that count only the last merge) instead of ToMe's size-weighted
    mean must not compare equal."""
    model, images = result["model"], result["images"]

    def merge_unweighted(i, x, metric, state):
        res = tv.winnow_merge(x, metric, None, CFG.r)
        info = {"parent": res.parent.to(torch.int64), "count": res.count,
                "sizes": res.sizes}
        return res.merged, res.sizes, res.key_bias, info

    win = model.forward(images, merge_unweighted)
    _, problems = tv.compare(CFG, result["eager"], win)
    assert problems
