"""examples/python/kv_eviction.py: StreamingLLM and H2O eviction through
tok.kv_select + tok.kv_gather in a decode loop keep the same slots as an
eager PyTorch reference at every step, and the decoder outputs agree."""

import os
import sys

import pytest
import torch

ROOT = os.environ.get("WINNOW_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "examples", "python"))
import kv_eviction as kv  # noqa: E402

CFG = kv.Config()
STEPS = 24
# Both paths compute the decoder in float64 from the same kept entries in
# the same order; the batched path pads and masks, so allow float64
# round-off (in practice the logits are bit-identical).
LOGIT_TOL = 1e-9


@pytest.fixture(scope="module")
def setup():
    torch.set_num_threads(1)
    params = kv.init_params(CFG, seed=3)
    g = torch.Generator().manual_seed(4)
    # ragged: one prompt within the budget for a while, one at it, one over
    prompts = [torch.randint(0, CFG.vocab, (n,), generator=g).tolist()
               for n in (3, 16, 21)]
    return params, prompts


def check_run(run, prompts):
    C = run.policy.budget
    for i, step in enumerate(run.steps):
        where = f"{run.policy.name} step {i}"
        assert step.slots_match, where
        assert step.tokens_match, where
        assert step.logit_diff <= LOGIT_TOL, (where, step.logit_diff)
        assert step.tokens == step.ref_tokens, where
        # the budget holds while the sequence grows
        assert step.count == [min(n, C) for n in step.lengths_before], where
        want = [len(p) + i for p in prompts]
        if i == 0:
            assert step.lengths_before == want, where
    # the run evicted, and the batch was ragged while it did
    assert any(n > C for s in run.steps for n in s.lengths_before)
    assert any(len(set(s.count)) > 1 for s in run.steps)
    assert run.steps[-1].count == [C] * len(prompts)


def test_streamingllm_matches_eager_reference(setup):
    params, prompts = setup
    run = kv.run_side_by_side(params, CFG, kv.STREAMINGLLM, prompts, STEPS)
    check_run(run, prompts)
    pol = kv.STREAMINGLLM
    # sinks + window: every head keeps the same slots
    last = run.steps[-1]
    n = last.lengths_before[0]
    want = list(range(pol.sinks)) + list(range(n - pol.window, n))
    assert (last.slots[0] == torch.tensor(want, dtype=torch.int32)).all()


def test_h2o_matches_eager_reference(setup):
    params, prompts = setup
    run = kv.run_side_by_side(params, CFG, kv.H2O, prompts, STEPS)
    check_run(run, prompts)
    # The heavy hitters are a real choice: at some step the heads of a
    # request hold different tokens, and old tokens other than the first
    # `heavy` ones survive.
    heads = CFG.layers * CFG.heads
    assert any(len({tuple(s.kept_tokens[b][h]) for h in range(heads)}) > 1
               for s in run.steps for b in range(len(prompts)))
    C, W = kv.H2O.budget, kv.H2O.window
    assert any(s.kept_tokens[b][h][:C - W] != list(range(C - W))
               for s in run.steps for b in range(len(prompts)) for h in range(heads)
               if len(s.kept_tokens[b][h]) == C)


def test_eviction_changes_outputs(setup):
    """The comparison is not vacuous: with no eviction the outputs after the
    first eviction differ, so the kept cache contents matter."""
    params, prompts = setup
    evicting = kv.run_side_by_side(params, CFG, kv.H2O, prompts, 3)
    keep_all = kv.run_side_by_side(params, CFG, kv.Policy("h2o", window=64), prompts, 3)
    assert (evicting.steps[1].logits - keep_all.steps[1].logits).abs().max() > 1e-3


def test_wrong_reference_is_detected(setup):
    """A reference with an off-by-one window (keeps one slot less recent) or
    with H2O ranked by the last query's attention instead of the
    accumulated one disagrees with Winnow: the checks can fail."""
    params, prompts = setup

    class OffByOne(kv.EagerRequest):
        def evict(self):
            kept = []
            for i in range(self.cfg.layers):
                H, n = self.k[i].shape[:2]
                pol = self.policy
                keep = (torch.arange(n) if n <= pol.budget else torch.cat(
                    [torch.arange(pol.sinks), torch.arange(n - pol.window - 1, n - 1)]))
                keep = keep.expand(H, -1)
                idx = keep.unsqueeze(-1).expand(-1, -1, self.cfg.head_dim)
                self.k[i], self.v[i] = self.k[i].gather(1, idx), self.v[i].gather(1, idx)
                self.token_pos[i] = self.token_pos[i].gather(1, keep)
                kept.append(keep)
            return kept

    run = kv.run_side_by_side(params, CFG, kv.STREAMINGLLM, prompts, 4, reference=OffByOne)
    assert not all(s.slots_match for s in run.steps)

    class NoAccumulation(kv.EagerRequest):
        def append(self, tokens):
            # rank by the newest query rows' attention only (no running sum)
            self.acc = [torch.zeros_like(a) for a in self.acc]
            return super().append(tokens)

    run = kv.run_side_by_side(params, CFG, kv.H2O, prompts, STEPS, reference=NoAccumulation)
    assert not all(s.slots_match for s in run.steps)


def test_h2o_ties_go_to_the_lower_slot():
    """Scores with many exact ties: tok.kv_select (through the example's
    program) and the eager h2o_keep rank them the same way."""
    B, LH, T, D = 3, 4, 20, 2
    pol = kv.H2O
    evict = kv.evictor(pol, B, LH, T, D)
    g = torch.Generator().manual_seed(5)
    acc = torch.randint(0, 3, (B, LH, T), generator=g).float()  # 3 levels
    acc[0, 0] = 1.0                                   # all tied
    lengths = torch.tensor([20, 17, 9], dtype=torch.int32)
    keys = torch.randn(B, LH, T, D, generator=g, dtype=torch.float64)
    tpos = torch.arange(T, dtype=torch.int32).expand(B, LH, T).contiguous()
    r = evict(lengths, acc, keys, keys, tpos)
    for b in range(B):
        n = int(lengths[b])
        if n <= pol.budget:
            want = torch.arange(n).expand(LH, n)
        else:
            want = kv.h2o_keep(acc[b, :, :n], pol.window, pol.heavy)
        for h in range(LH):
            assert r.slots[b, h, :int(r.count[b, h])].tolist() == want[h].tolist(), (b, h)
    assert r.slots[0, 0].tolist() == list(range(8)) + list(range(12, 20))
