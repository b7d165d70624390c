"""examples/python/fastv_decoder.py: FastV in a LLaVA-shaped decoder, the
pruning done by Winnow, against an eager PyTorch FastV of the same model.

Run: PYTHONPATH=build/python /usr/bin/python3 -m pytest python/tests/test_example_fastv_decoder.py
"""

import dataclasses
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
import torch  # noqa: E402


def _load_example(name):
    path = os.path.join(ROOT, "examples", "python", name + ".py")
    spec = importlib.util.spec_from_file_location("winnow_example_" + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fd = _load_example("fastv_decoder")

# Small, but LLaVA-shaped: system + image + text, batch 2, prune before
# layer 2 of 4, keep 25 % of the 64 image tokens.
CFG = fd.Config(batch=2, n_system=8, n_image=64, n_text=8, width=64, heads=4,
                layers=4, prune_layer=2, keep_ratio=0.25)


@pytest.fixture(scope="module")
def result():
    return fd.check(CFG, seed=0)


def test_config_sizes():
    assert CFG.keep == 16
    assert CFG.kept_seq == 8 + 16 + 8


def test_inputs_have_a_score_margin(result):
    """The k-th and (k+1)-th image scores differ by a clear margin in every
    row, far above the fp32 score differences between the two paths."""
    f = result["findings"]
    margin = f["margin"]
    assert margin.shape == (CFG.batch,)
    assert bool((margin >= fd.MIN_REL_MARGIN).all()), margin
    # Relative score differences are ~1e-6; the margin is >= 1e-3.
    e_scores = result["eager"][2]
    w_scores = result["winnow"][1].image_scores
    rel_err = float(((w_scores - e_scores).abs() / e_scores.abs()).max())
    assert rel_err < 1e-4
    assert float(margin.min()) > 100 * rel_err


def test_make_inputs_redraws_to_the_margin(result):
    """Asking for a larger margin redraws image tokens until every row has
    it (rows are independent: the system and text tokens stay)."""
    x, positions = fd.make_inputs(result["model"], CFG, seed=0, min_margin=0.1)
    _, stats = fd.run_prefix(result["model"], CFG, x, positions)
    margin = fd.score_margin(fd.eager_image_scores(stats, CFG), CFG.keep)
    assert bool((margin >= 0.1).all()), margin
    S, E = CFG.n_system, CFG.n_system + CFG.n_image
    assert torch.equal(x[:, :S], result["x"][:, :S])
    assert torch.equal(x[:, E:], result["x"][:, E:])


def test_winnow_fastv_matches_eager(result):
    assert result["problems"] == []
    e_out, e_idx, e_scores = result["eager"]
    w_out, r = result["winnow"]
    # Counts: every system and text token plus floor(64 * 0.25) image tokens.
    assert r.kept_count.tolist() == [CFG.kept_seq] * CFG.batch
    # Kept indices: identical, ascending, every non-image token kept, and
    # exactly `keep` image tokens per row.
    assert torch.equal(r.kept_indices.to(torch.int64), e_idx)
    S, E = CFG.n_system, CFG.n_system + CFG.n_image
    for b in range(CFG.batch):
        idx = r.kept_indices[b].tolist()
        assert idx == sorted(idx)
        assert set(range(S)) | set(range(E, CFG.seq)) <= set(idx)
        image = [i for i in idx if S <= i < E]
        assert len(image) == CFG.keep
        # The kept image tokens are the top `keep` of the eager scores.
        top = set((e_scores[b].topk(CFG.keep).indices + S).tolist())
        assert set(image) == top
    # Positions are gathered (the original position ids), not recomputed.
    assert torch.equal(r.kept_positions, r.kept_indices)
    # Kept hidden states: exact copies of the hidden states entering layer K.
    h, _ = fd.run_prefix(result["model"], CFG, result["x"], result["positions"])
    rows = torch.arange(CFG.batch)[:, None]
    assert torch.equal(r.kept_hidden, h[rows, r.kept_indices.long()])
    # Final hidden states within the stated tolerance (fp32 on both paths).
    assert w_out.shape == (CFG.batch, CFG.kept_seq, CFG.width)
    assert torch.allclose(w_out, e_out, rtol=fd.OUT_RTOL, atol=fd.OUT_ATOL)


def test_scores_are_whole_row_softmax(result):
    """Winnow's image scores are the eager attention weights of the last
    query row (softmax over the whole causal row), mean over heads."""
    e_scores = result["eager"][2]
    w_scores = result["winnow"][1].image_scores
    assert torch.allclose(w_scores, e_scores, rtol=fd.SCORE_RTOL, atol=fd.SCORE_ATOL)
    # The image span does not hold all the probability mass: the lse matters.
    assert float(e_scores.sum(dim=1).max()) < 0.999


def test_wrong_keep_count_is_caught(result):
    """A reference keeping one image token more, or a Winnow program with
    another keep ratio, must not compare equal."""
    model, x, positions = result["model"], result["x"], result["positions"]
    eager_more = fd.eager_fastv(model, CFG, x, positions, keep=CFG.keep + 1)
    _, problems = fd.compare(CFG, eager_more, result["winnow"])
    assert any("kept indices" in p for p in problems)
    wrong = dataclasses.replace(CFG, keep_ratio=0.3)  # floor(64 * 0.3) = 19
    win_wrong = fd.winnow_fastv(model, wrong, x, positions)
    _, problems = fd.compare(CFG, result["eager"], win_wrong)
    assert any("kept counts" in p for p in problems)
    assert any("kept indices" in p for p in problems)


def test_image_only_softmax_is_caught(result):
    """Scoring without the row's log-sum-exp renormalises the softmax over
    the image keys alone; these inputs make that keep other tokens, and the
    comparison reports it."""
    model, x, positions = result["model"], result["x"], result["positions"]
    win = fd.winnow_fastv(model, CFG, x, positions, use_lse=False)
    _, problems = fd.compare(CFG, result["eager"], win)
    assert any("kept indices" in p for p in problems)


def test_perturbed_output_is_caught(result):
    e_out, e_idx, e_scores = result["eager"]
    bumped = (e_out + 10 * fd.OUT_ATOL + 10 * fd.OUT_RTOL * e_out.abs(), e_idx, e_scores)
    _, problems = fd.compare(CFG, bumped, result["winnow"])
    assert any("final hidden" in p for p in problems)
