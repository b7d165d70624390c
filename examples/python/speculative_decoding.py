#!/usr/bin/python3
"""Speculative decoding with Winnow's tok.spec_verify, end to end.

A small random-initialised target transformer (PyTorch, float64) and a
draft model made from it by adding noise to its weights, so that the
drafts are right some of the time. Each step the drafter proposes up to K
tokens per request (a ragged number, num_draft[b] <= K), the target scores
prefix + drafts in one forward pass, and a compiled tok program runs
tok.spec_verify on the K + 1 logit rows of every request
(examples/spec_chain_greedy.mlir and spec_chain_rejection.mlir are the
recipes; the programs below are the same ones at this example's shapes).

  * greedy mode: the generated tokens are exactly those of plain greedy
    decoding with the target alone;
  * rejection mode (lossless sampling, Philox noise per request from
    (seed, offset)): the first emitted token is distributed as the target's
    softmax(logits / T); the same seeds and offsets give the same tokens,
    whatever the batch and the request's place in it.

No KV cache: every forward pass recomputes the whole prefix (tiny model).

  PYTHONPATH=build/python /usr/bin/python3 examples/python/speculative_decoding.py
"""

import functools
import string
import time
from dataclasses import dataclass

import numpy as np
import torch

import winnow

# ---------------------------------------------------------------------------
# The tok programs (one artifact per shape; compiled once and cached)
# ---------------------------------------------------------------------------

GREEDY_PROGRAM = string.Template("""
// Greedy chain verification: B = $B requests, K = $K drafts, V = $V.
func.func @verify(
    %logits: tensor<${B}x${K1}x${V}xf32> {tok.name = "logits"},
    %drafts: tensor<${B}x${K}xi32> {tok.name = "drafts"},
    %num_draft: tensor<${B}xi32> {tok.name = "num_draft"})
    -> (tensor<${B}x${K1}xi32> {tok.name = "tokens"},
        tensor<${B}xi32> {tok.name = "num_accepted"},
        tensor<${B}xi32> {tok.name = "num_emitted"}) {
  %tokens, %accepted, %emitted = tok.spec_verify %logits, %drafts, %num_draft
      {mode = #tok.verify_mode<greedy>}
      : (tensor<${B}x${K1}x${V}xf32>, tensor<${B}x${K}xi32>, tensor<${B}xi32>)
      -> (tensor<${B}x${K1}xi32>, tensor<${B}xi32>, tensor<${B}xi32>)
  return %tokens, %accepted, %emitted
      : tensor<${B}x${K1}xi32>, tensor<${B}xi32>, tensor<${B}xi32>
}
""")

REJECTION_PROGRAM = string.Template("""
// Lossless chain rejection sampling with Philox noise per request:
// B = $B requests, K = $K drafts, V = $V. T_b <= 0 makes request b greedy.
func.func @verify(
    %logits: tensor<${B}x${K1}x${V}xf32> {tok.name = "logits"},
    %drafts: tensor<${B}x${K}xi32> {tok.name = "drafts"},
    %num_draft: tensor<${B}xi32> {tok.name = "num_draft"},
    %draft_probs: tensor<${B}x${K}x${V}xf32> {tok.name = "draft_probs"},
    %temperature: tensor<${B}xf32> {tok.name = "temperature"},
    %seed: tensor<${B}xi64> {tok.name = "seed"},
    %offset: tensor<${B}xi64> {tok.name = "offset"})
    -> (tensor<${B}x${K1}xi32> {tok.name = "tokens"},
        tensor<${B}xi32> {tok.name = "num_accepted"},
        tensor<${B}xi32> {tok.name = "num_emitted"}) {
  %tokens, %accepted, %emitted = tok.spec_verify %logits, %drafts, %num_draft
      draft_probs %draft_probs temperature %temperature seed %seed offset %offset
      {mode = #tok.verify_mode<rejection>}
      : (tensor<${B}x${K1}x${V}xf32>, tensor<${B}x${K}xi32>, tensor<${B}xi32>,
         tensor<${B}x${K}x${V}xf32>, tensor<${B}xf32>, tensor<${B}xi64>,
         tensor<${B}xi64>)
      -> (tensor<${B}x${K1}xi32>, tensor<${B}xi32>, tensor<${B}xi32>)
  return %tokens, %accepted, %emitted
      : tensor<${B}x${K1}xi32>, tensor<${B}xi32>, tensor<${B}xi32>
}
""")


@functools.lru_cache(maxsize=None)
def verifier(mode, B, K, V):
    """The compiled spec_verify entry for (mode, B, K, V)."""
    template = {"greedy": GREEDY_PROGRAM, "rejection": REJECTION_PROGRAM}[mode]
    source = template.substitute(B=B, K=K, K1=K + 1, V=V)
    artifact = winnow.compile(source, target="cpu",
                              name=f"spec_{mode}_{B}x{K}x{V}")
    return winnow.load(artifact, device="cpu").verify


# ---------------------------------------------------------------------------
# A tiny decoder-only transformer (float64, functional)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    vocab: int = 64
    width: int = 32
    layers: int = 2
    heads: int = 4
    max_len: int = 64
    logit_scale: float = 3.0  # sharpens the output distribution a little


def init_params(cfg, seed):
    g = torch.Generator().manual_seed(seed)

    def normal(*shape, std):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * std

    w = cfg.width
    params = {"embed": normal(cfg.vocab, w, std=1.0),
              "pos": normal(cfg.max_len, w, std=0.5),
              "out": normal(w, cfg.vocab, std=cfg.logit_scale / w ** 0.5)}
    for i in range(cfg.layers):
        for name in ("wq", "wk", "wv", "wo"):
            params[f"{i}.{name}"] = normal(w, w, std=1.0 / w ** 0.5)
        params[f"{i}.w1"] = normal(w, 4 * w, std=1.0 / w ** 0.5)
        params[f"{i}.w2"] = normal(4 * w, w, std=0.5 / w ** 0.5)
    return params


def perturb(params, sigma, seed):
    """A draft model: every weight plus sigma * its tensor's std * noise."""
    g = torch.Generator().manual_seed(seed)
    return {name: p + sigma * p.std() * torch.randn(
        p.shape, generator=g, dtype=p.dtype) for name, p in params.items()}


def _norm(x):
    return torch.nn.functional.layer_norm(x, x.shape[-1:])


def forward(params, cfg, tokens):
    """Logits [B, L, V] (float64) of right-padded token ids [B, L]: causal
    attention, so the rows of a request's real tokens never see its
    padding."""
    B, L = tokens.shape
    h, d = cfg.heads, cfg.width // cfg.heads
    x = params["embed"][tokens] + params["pos"][:L]
    causal = torch.ones(L, L, dtype=torch.bool).triu(1)
    for i in range(cfg.layers):
        y = _norm(x)
        q, k, v = (
            (y @ params[f"{i}.{n}"]).view(B, L, h, d).transpose(1, 2)
            for n in ("wq", "wk", "wv"))
        s = (q @ k.transpose(-1, -2)) / d ** 0.5
        a = torch.softmax(s.masked_fill(causal, float("-inf")), dim=-1)
        x = x + (a @ v).transpose(1, 2).reshape(B, L, cfg.width) @ params[f"{i}.wo"]
        x = x + torch.nn.functional.gelu(_norm(x) @ params[f"{i}.w1"]) @ params[f"{i}.w2"]
    return _norm(x) @ params["out"]


def _pad(seqs):
    width = max(len(s) for s in seqs)
    out = torch.zeros(len(seqs), width, dtype=torch.long)
    for b, s in enumerate(seqs):
        out[b, :len(s)] = torch.tensor(s, dtype=torch.long)
    return out


def last_logits(params, cfg, seqs):
    """Logits [B, V] predicting the token after each sequence."""
    logits = forward(params, cfg, _pad(seqs))
    rows = torch.tensor([len(s) - 1 for s in seqs])
    return logits[torch.arange(len(seqs)), rows]


def greedy_pick(logits):
    """argmax of the fp32 logits, ties to the lowest id (as spec_verify)."""
    return logits.float().argmax(dim=-1)  # torch: first maximal index


def plain_greedy(params, cfg, prompts, max_new):
    """Reference: greedy decoding with the target alone."""
    seqs = [list(p) for p in prompts]
    for _ in range(max_new):
        for s, t in zip(seqs, greedy_pick(last_logits(params, cfg, seqs)).tolist()):
            s.append(t)
    return [s[len(p):] for s, p in zip(seqs, prompts)]


def verify_rows(params, cfg, seqs, drafts):
    """Target logits [B, K+1, V] for prefix + drafts: row i scores draft i,
    row K is the bonus row (spec_verify reads row num_draft[b] as the bonus
    row and never the rows after it)."""
    K = drafts.shape[1]
    full = [s + drafts[b].tolist() for b, s in enumerate(seqs)]
    logits = forward(params, cfg, _pad(full))
    rows = torch.tensor([len(s) - 1 for s in seqs]).unsqueeze(1) + torch.arange(K + 1)
    return logits[torch.arange(len(seqs)).unsqueeze(1), rows]


# ---------------------------------------------------------------------------
# Greedy speculative decoding
# ---------------------------------------------------------------------------


@dataclass
class Stats:
    steps: int = 0
    proposed: int = 0        # sum of num_draft over requests and steps
    accepted: int = 0        # sum of num_accepted
    full_accepts: int = 0    # (request, step) with num_draft > 0, all accepted
    rejections: int = 0      # (request, step) where a draft was rejected
    verify_s: float = 0.0    # time spent in the Winnow call
    total_s: float = 0.0

    @property
    def acceptance_rate(self):
        return self.accepted / max(self.proposed, 1)


def draft_greedy(draft, cfg, seqs, K):
    """K greedy draft tokens per request, [B, K] int32."""
    work = [list(s) for s in seqs]
    for _ in range(K):
        for s, t in zip(work, greedy_pick(last_logits(draft, cfg, work)).tolist()):
            s.append(t)
    return torch.tensor([s[len(p):] for s, p in zip(work, seqs)], dtype=torch.int32)


def speculative_greedy(target, draft, cfg, prompts, max_new, K, rng, verify=None):
    """Greedy speculative decoding of a ragged batch. Every step each
    unfinished request drafts num_draft[b] ~ U{0..K} tokens (finished ones
    draft 0 and their output is dropped). `verify` defaults to the Winnow
    entry point (a test may wrap it). Returns (new tokens per request,
    Stats)."""
    B = len(prompts)
    verify = verify or verifier("greedy", B, K, cfg.vocab)
    seqs = [list(p) for p in prompts]
    stats = Stats()
    start = time.perf_counter()
    while True:
        done = [len(s) - len(p) >= max_new for s, p in zip(seqs, prompts)]
        if all(done):
            break
        num_draft = torch.tensor([0 if d else int(rng.integers(0, K + 1)) for d in done],
                                 dtype=torch.int32)
        drafts = draft_greedy(draft, cfg, seqs, K)
        logits = verify_rows(target, cfg, seqs, drafts).float().contiguous()
        t0 = time.perf_counter()
        tokens, num_accepted, num_emitted = verify(logits, drafts, num_draft)
        stats.verify_s += time.perf_counter() - t0
        stats.steps += 1
        for b in range(B):
            if done[b]:
                continue
            nd, acc, emit = int(num_draft[b]), int(num_accepted[b]), int(num_emitted[b])
            assert 0 <= acc <= nd and emit == acc + 1, (nd, acc, emit)
            stats.proposed += nd
            stats.accepted += acc
            stats.full_accepts += int(nd > 0 and acc == nd)
            stats.rejections += int(acc < nd)
            seqs[b].extend(tokens[b, :emit].tolist())
    stats.total_s = time.perf_counter() - start
    return [s[len(p):len(p) + max_new] for s, p in zip(seqs, prompts)], stats


# ---------------------------------------------------------------------------
# Rejection sampling (lossless), Philox noise per request
# ---------------------------------------------------------------------------


def draft_probs_of(logits, temperature):
    """The draft distribution q = softmax(logits / T) in fp32 ([B, V]);
    one-hot on the argmax for a greedy request (T <= 0)."""
    logits = logits.float()
    sampled = (temperature > 0).unsqueeze(1)
    q = torch.softmax(logits / torch.where(sampled, temperature.unsqueeze(1),
                                           torch.ones(())), dim=-1)
    one_hot = torch.nn.functional.one_hot(logits.argmax(dim=-1), logits.shape[-1])
    return torch.where(sampled, q, one_hot.float())


@dataclass
class Request:
    """A sampling request: everything random about it derives from its own
    seed, so it decodes the same alone or in any batch."""
    prompt: list
    temperature: float
    seed: int

    def __post_init__(self):
        self.generator = torch.Generator().manual_seed(self.seed)  # drafter
        self.schedule = np.random.default_rng(self.seed)  # num_draft
        self.offset = 0  # Philox counter offset, bumped every step


def speculative_sample(target, draft, cfg, requests, max_new, K, stats=None):
    """Rejection-sampling speculative decoding of a ragged batch (different
    prompts, temperatures, num_draft[b] <= K). Returns the new tokens per
    request."""
    B = len(requests)
    verify = verifier("rejection", B, K, cfg.vocab)
    seqs = [list(r.prompt) for r in requests]
    temperature = torch.tensor([r.temperature for r in requests], dtype=torch.float32)
    seed = torch.tensor([r.seed for r in requests], dtype=torch.int64)
    while True:
        done = [len(s) - len(r.prompt) >= max_new for s, r in zip(seqs, requests)]
        if all(done):
            break
        num_draft = torch.tensor(
            [int(r.schedule.integers(0, K + 1)) for r in requests], dtype=torch.int32)
        num_draft[torch.tensor(done)] = 0
        # Draft K tokens per request by sampling from the draft model.
        work = [list(s) for s in seqs]
        q = torch.zeros(B, K, cfg.vocab, dtype=torch.float32)
        for i in range(K):
            q[:, i] = draft_probs_of(last_logits(draft, cfg, work), temperature)
            for b, r in enumerate(requests):
                work[b].append(int(torch.multinomial(q[b, i], 1, generator=r.generator)))
        drafts = torch.tensor([w[len(s):] for w, s in zip(work, seqs)], dtype=torch.int32)
        logits = verify_rows(target, cfg, seqs, drafts).float().contiguous()
        offset = torch.tensor([r.offset for r in requests], dtype=torch.int64)
        t0 = time.perf_counter()
        tokens, num_accepted, num_emitted = verify(
            logits, drafts, num_draft, q, temperature, seed, offset)
        if stats is not None:
            stats.verify_s += time.perf_counter() - t0
            stats.steps += 1
        for b, r in enumerate(requests):
            r.offset += 1
            if done[b]:
                continue
            nd, acc = int(num_draft[b]), int(num_accepted[b])
            if stats is not None and r.temperature > 0:
                stats.proposed += nd
                stats.accepted += acc
            seqs[b].extend(tokens[b, :int(num_emitted[b])].tolist())
    return [s[len(r.prompt):len(r.prompt) + max_new] for s, r in zip(seqs, requests)]


# χ² critical values at p = 0.001 (upper tail), by degrees of freedom; from
# the standard table (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.4).
CHI2_CRITICAL_0_001 = {4: 18.467, 5: 20.515, 6: 22.458, 7: 24.322, 8: 26.124}


def chi2_statistic(counts, probs, bins):
    """Pearson's χ² of token counts against the probabilities `probs`, over
    `bins` cells: the bins - 1 most probable tokens and the rest pooled
    (df = bins - 1). Returns (statistic, smallest expected count)."""
    counts = np.asarray(counts, dtype=np.float64)
    probs = np.asarray(probs, dtype=np.float64)
    top = np.argsort(-probs, kind="stable")[:bins - 1]
    rest = np.ones(len(probs), dtype=bool)
    rest[top] = False
    observed = np.append(counts[top], counts[rest].sum())
    expected = np.append(probs[top], probs[rest].sum()) * counts.sum()
    return float(((observed - expected) ** 2 / expected).sum()), float(expected.min())


@dataclass
class RejectionStep:
    tokens: torch.Tensor        # [n, K+1] emitted tokens (-1 padded)
    num_accepted: torch.Tensor  # [n]
    drafts: torch.Tensor        # [n, K]
    p: np.ndarray               # the target's distribution at row 0 (float64)
    q: np.ndarray               # the draft's distribution at row 0 (float64)


def rejection_step(target, draft, cfg, prompt, n, K, temperature, seed0=1000):
    """One rejection-mode verification step for n independent requests on
    the same prompt, in one batch: each has its own Philox seed and its own
    draft chain sampled from q. (Batch rows never interact in spec_verify;
    speculative_sample's callers check that a request decodes the same
    alone and in a batch.)"""
    g = torch.Generator().manual_seed(seed0)
    temp = torch.full((n,), temperature, dtype=torch.float32)
    work = [list(prompt) for _ in range(n)]
    q = torch.zeros(n, K, cfg.vocab, dtype=torch.float32)
    for i in range(K):
        q[:, i] = draft_probs_of(last_logits(draft, cfg, work), temp)
        picks = torch.multinomial(q[:, i], 1, generator=g)[:, 0].tolist()
        for w, t in zip(work, picks):
            w.append(t)
    drafts = torch.tensor([w[len(prompt):] for w in work], dtype=torch.int32)
    logits = verify_rows(target, cfg, [list(prompt)] * n, drafts).float().contiguous()
    num_draft = torch.full((n,), K, dtype=torch.int32)
    seed = torch.arange(seed0, seed0 + n, dtype=torch.int64)
    offset = torch.zeros(n, dtype=torch.int64)
    tokens, num_accepted, _ = verifier("rejection", n, K, cfg.vocab)(
        logits, drafts, num_draft, q, temp, seed, offset)
    # p as the op forms it, softmax(fp32 logits / T), here in float64; every
    # request has the same prompt, so the same p and q at row 0.
    p = torch.softmax((logits[0, 0] / temperature).double(), dim=-1).numpy()
    return RejectionStep(tokens, num_accepted, drafts, p, q[0, 0].double().numpy())


# ---------------------------------------------------------------------------


def make_models(cfg=Config(), sigma=0.2, seed=0):
    target = init_params(cfg, seed)
    return target, perturb(target, sigma, seed + 1)


def random_prompts(cfg, n, rng, lengths=(2, 12)):
    return [rng.integers(0, cfg.vocab, int(rng.integers(*lengths))).tolist()
            for _ in range(n)]


def main():
    torch.set_num_threads(1)
    cfg = Config()
    target, draft = make_models(cfg)
    rng = np.random.default_rng(0)
    B, K, max_new = 8, 4, 32
    prompts = random_prompts(cfg, B, rng)
    print(f"target: {cfg.layers} layers, width {cfg.width}, vocab {cfg.vocab}; "
          f"draft = target + noise; batch {B} (prompt lengths "
          f"{[len(p) for p in prompts]}), K = {K}, num_draft[b] ~ U{{0..{K}}}")
    print("(the draft is as large as the target and every pass recomputes the "
          "prefix: no speed-up is expected, the point is exactness)")

    t0 = time.perf_counter()
    reference = plain_greedy(target, cfg, prompts, max_new)
    plain_s = time.perf_counter() - t0
    verifier("greedy", B, K, cfg.vocab)  # compile outside the timing
    out, st = speculative_greedy(target, draft, cfg, prompts, max_new, K, rng)
    same = out == reference
    print(f"greedy: {B * max_new} tokens in {st.steps} steps; plain greedy "
          f"{B * max_new / plain_s:.0f} tok/s, speculative {B * max_new / st.total_s:.0f} "
          f"tok/s; spec_verify {1e6 * st.verify_s / st.steps:.1f} us/call")
    print(f"        acceptance rate {st.acceptance_rate:.2f} "
          f"({st.accepted}/{st.proposed}), {st.full_accepts} fully accepted "
          f"drafts, {st.rejections} rejections; equal to plain greedy: {same}")

    requests = [Request(p, t, 100 + b) for b, (p, t) in
                enumerate(zip(prompts, [1.0, 0.8, 0.0, 1.2, 1.0, 0.6, 1.0, 0.0]))]
    sst = Stats()
    t0 = time.perf_counter()
    sampled = speculative_sample(target, draft, cfg, requests, max_new, K, sst)
    sst.total_s = time.perf_counter() - t0
    again = speculative_sample(target, draft, cfg, [Request(r.prompt, r.temperature, r.seed)
                                                   for r in requests], max_new, K)
    alone = speculative_sample(target, draft, cfg, [Request(requests[3].prompt, 1.2, 103)],
                               max_new, K)
    greedy_ok = sampled[2] == reference[2] and sampled[7] == reference[7]
    print(f"sampling: {B * max_new / sst.total_s:.0f} tok/s, acceptance rate "
          f"{sst.acceptance_rate:.2f} (T > 0 requests); rerun identical: "
          f"{again == sampled}; request 3 alone identical: {alone[0] == sampled[3]}; "
          f"T = 0 requests equal greedy: {greedy_ok}")
    n = 4000
    step = rejection_step(target, draft, cfg, prompts[0], n, K, 1.0)
    counts = np.bincount(step.tokens[:, 0].numpy(), minlength=cfg.vocab)
    stat, _ = chi2_statistic(counts, step.p, 8)
    stat_q, _ = chi2_statistic(counts, step.q, 8)
    print(f"first emitted token over {n} seeds (step acceptance "
          f"{float(step.num_accepted.sum()) / (n * K):.2f}): chi2 vs target p = "
          f"{stat:.1f}, vs draft q = {stat_q:.1f} (df 7, critical "
          f"{CHI2_CRITICAL_0_001[7]} at p = 0.001)")


if __name__ == "__main__":
    main()
