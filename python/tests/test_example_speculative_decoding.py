"""examples/python/speculative_decoding.py: greedy speculative decoding
through tok.spec_verify reproduces plain greedy decoding exactly; rejection
sampling with Philox noise is reproducible, batch independent and samples
the target's distribution."""

import os
import sys

import numpy as np
import pytest
import torch

ROOT = os.environ.get("WINNOW_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "examples", "python"))
import speculative_decoding as sd  # noqa: E402

CFG = sd.Config()


@pytest.fixture(scope="module")
def models():
    torch.set_num_threads(1)
    return sd.make_models(CFG, sigma=0.2, seed=0)


def test_greedy_speculative_equals_plain_greedy(models):
    target, draft = models
    total = sd.Stats()
    runs = 0
    # Ragged batches: prompt lengths 2..11, num_draft[b] ~ U{0..K} per step,
    # batch sizes 1 to 5, draft lengths K = 1 to 5.
    for seed, B, K in [(1, 5, 1), (2, 4, 2), (3, 5, 3), (4, 3, 4), (5, 5, 5),
                       (6, 1, 3), (7, 5, 2), (8, 4, 4)]:
        rng = np.random.default_rng(seed)
        prompts = sd.random_prompts(CFG, B, rng)
        max_new = 14
        reference = sd.plain_greedy(target, CFG, prompts, max_new)
        out, st = sd.speculative_greedy(target, draft, CFG, prompts, max_new, K, rng)
        for b in range(B):
            assert out[b] == reference[b], (seed, K, b, prompts[b])
        runs += B
        for field in ("proposed", "accepted", "full_accepts", "rejections"):
            setattr(total, field, getattr(total, field) + getattr(st, field))
    print(f"{runs} requests; acceptance rate {total.acceptance_rate:.3f} "
          f"({total.accepted}/{total.proposed}), {total.full_accepts} full "
          f"accepts, {total.rejections} rejections")
    # The draft model agrees with the target sometimes, not always: both
    # paths of the verifier (accept all + bonus; reject + correction) ran.
    assert 0.2 <= total.acceptance_rate <= 0.8
    assert total.full_accepts >= 1
    assert total.rejections >= 1


def test_greedy_check_catches_off_by_one(models):
    """The equality check has teeth: a verifier that also takes the first
    rejected draft (an off-by-one in the accepted prefix) is caught."""
    target, draft = models
    B, K, max_new = 5, 3, 14
    real = sd.verifier("greedy", B, K, CFG.vocab)

    def off_by_one(logits, drafts, num_draft):
        tokens, accepted, emitted = real(logits, drafts, num_draft)
        tokens = tokens.clone()
        for b in range(B):
            a = int(accepted[b])
            if a < int(num_draft[b]):
                tokens[b, a] = drafts[b, a]  # the rejected draft instead of the correction
        return tokens, accepted, emitted

    rng = np.random.default_rng(11)
    prompts = sd.random_prompts(CFG, B, rng)
    reference = sd.plain_greedy(target, CFG, prompts, max_new)
    out, st = sd.speculative_greedy(target, draft, CFG, prompts, max_new, K, rng,
                                    verify=off_by_one)
    assert st.rejections > 0
    assert out != reference


def test_sampling_reproducible_and_batch_independent(models):
    target, draft = models
    K, max_new = 3, 12
    rng = np.random.default_rng(21)
    prompts = sd.random_prompts(CFG, 4, rng)
    temps = [1.0, 0.7, 0.0, 1.3]  # request 2 is greedy (T <= 0)
    seeds = [501, 502, 503, 504]

    def run(order, seed_override=None):
        reqs = [sd.Request(prompts[i], temps[i],
                           seed_override if seed_override is not None else seeds[i])
                for i in order]
        out = sd.speculative_sample(target, draft, CFG, reqs, max_new, K)
        return {i: o for i, o in zip(order, out)}

    first = run([0, 1, 2, 3])
    assert all(len(first[i]) == max_new for i in first)
    assert run([0, 1, 2, 3]) == first                 # same seeds: same tokens
    permuted = run([3, 0, 2, 1])                      # other batch positions
    assert permuted == first
    for i in (1, 3):                                  # alone, batch of one
        assert run([i])[i] == first[i]
    assert run([0, 1])[1] == first[1]                 # in a smaller batch
    # The greedy request decodes as plain greedy decoding does.
    assert first[2] == sd.plain_greedy(target, CFG, [prompts[2]], max_new)[0]
    # The seed matters: another seed gives other tokens at T = 1.3.
    assert run([3], seed_override=9999)[3] != first[3]


def test_first_emitted_token_follows_target_distribution(models):
    target, draft = models
    n, K, T = 3000, 3, 0.8
    prompt = [5, 17, 42, 3]
    step = sd.rejection_step(target, draft, CFG, prompt, n, K, T, seed0=7000)
    tokens, accepted, drafts = step.tokens, step.num_accepted, step.drafts
    # Structure: the accepted prefix is the drafts, one more token, -1 after.
    for b in range(n):
        a = int(accepted[b])
        assert tokens[b, :a].tolist() == drafts[b, :a].tolist()
        assert 0 <= int(tokens[b, a]) < CFG.vocab
        assert (tokens[b, a + 1:] == -1).all()
    rate = float(accepted.sum()) / (n * K)
    assert 0.05 < rate < 0.95, rate  # both accepted and corrected draws

    # Pearson χ² of the first emitted token against p = softmax(logits / T)
    # over 8 cells (the 7 most probable tokens, the rest pooled): df = 7, and
    # the upper 0.001 critical value of χ²(7) is 24.322. A correct sampler
    # fails this with probability 0.001 (the inputs are fixed, so the test
    # is deterministic).
    counts = np.bincount(tokens[:, 0].numpy(), minlength=CFG.vocab)
    stat, min_expected = sd.chi2_statistic(counts, step.p, bins=8)
    print(f"acceptance {rate:.3f}; chi2 vs p {stat:.2f}, min expected "
          f"{min_expected:.1f}")
    assert min_expected >= 5
    critical = sd.CHI2_CRITICAL_0_001[7]
    assert stat < critical, (stat, critical)
    # The test has power: the same counts are far from the draft's q.
    stat_q, _ = sd.chi2_statistic(counts, step.q, bins=8)
    assert stat_q > critical, stat_q

    # Same seeds and offsets: bit-identical tokens.
    again = sd.rejection_step(target, draft, CFG, prompt, n, K, T, seed0=7000)
    assert torch.equal(again.tokens, tokens)
