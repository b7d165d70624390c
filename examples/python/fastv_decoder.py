#!/usr/bin/python3
"""FastV inside a LLaVA-shaped decoder, with Winnow doing the pruning.

A few random-initialised LLaMA-style decoder layers (RMSNorm, rotary
position embeddings, causal multi-head attention, SwiGLU MLP) run a
LLaVA-shaped prompt: system tokens, then image tokens, then text tokens.
FastV (Chen et al. 2024, "An Image is Worth 1/2 Tokens After Layer 2")
prunes the image tokens once: the attention that the last query row pays
in layer K-1 -- a softmax over the whole causal row, averaged over the
heads -- ranks the image tokens, the best `floor(n_image * keep_ratio)`
are kept together with every system and text token, in their original
order and with their original position ids, and layers K.. run on the
kept tokens only.

Two implementations of the same model are compared:

* `eager_fastv`: what FastV's reference code does, in PyTorch. Layer K-1
  returns its attention weights; the last query row, mean over heads,
  sliced to the image span, `topk`, plus the non-image tokens, sorted;
  hidden states and position ids are indexed with that.
* `winnow_fastv`: layer K-1 returns what an attention kernel returns
  anyway -- its queries, keys and the per-row log-sum-exp (FlashAttention's
  `softmax_lse`) -- and one Winnow call (the tok program in
  `FASTV_TEMPLATE`) scores the image keys with `tok.attn_score ... lse`
  (so the softmax is the whole row's, as FastV's), keeps the best with
  `tok.select` over the image span (system and text tokens pass through)
  and gathers hidden states and position ids with `tok.compact`.

Inputs are drawn so that, in every batch row, the k-th and (k+1)-th image
scores differ by a clear margin (image tokens of a row are redrawn until
they do), so fp32 differences in the order of the score arithmetic cannot
swap them: the kept indices must then be identical. Everything is fp32;
Winnow's gathers are exact copies, so layers K.. see bit-identical inputs
and the final hidden states agree to the tolerance `OUT_RTOL`/`OUT_ATOL`
(in practice bit for bit; the tolerance only leaves room for PyTorch
kernels that may pick a different code path for differently laid out
inputs).

    PYTHONPATH=build/python /usr/bin/python3 examples/python/fastv_decoder.py
"""

import math
import time
from dataclasses import dataclass

import torch

import winnow

# Scores: Winnow's fp32 scores against the eager attention weights.
SCORE_RTOL, SCORE_ATOL = 1e-5, 1e-7
# Final hidden states of the two paths.
OUT_RTOL, OUT_ATOL = 1e-5, 1e-5
# Required gap between the k-th and (k+1)-th image score, relative to the
# k-th score (fp32 score differences are ~1e-7 relative).
MIN_REL_MARGIN = 1e-3


@dataclass(frozen=True)
class Config:
    batch: int = 2
    n_system: int = 8
    n_image: int = 64
    n_text: int = 8
    width: int = 64
    heads: int = 4
    layers: int = 4
    prune_layer: int = 2  # K: layers K.. run on the kept tokens
    keep_ratio: float = 0.25
    ffn: int = 128

    @property
    def seq(self):
        return self.n_system + self.n_image + self.n_text

    @property
    def head_dim(self):
        return self.width // self.heads

    @property
    def keep(self):
        # Image tokens kept: floor(n_image * keep_ratio), as
        # #tok.keep_ratio<r, floor> computes it (in IEEE double).
        return int(math.floor(self.n_image * self.keep_ratio))

    @property
    def kept_seq(self):
        return self.n_system + self.keep + self.n_text


# ---------------------------------------------------------------------------
# The tok program: one call prunes the sequence.
# ---------------------------------------------------------------------------

FASTV_TEMPLATE = """\
// FastV at layer {K}: B = {B}, {H} heads of dimension {d}, a row of {L} tokens
// (system [0, {S}), image [{S}, {E}), text [{E}, {L})), hidden size {D}.
func.func @fastv_prune(
    %q: tensor<{B}x{H}x1x{d}xf32> {{tok.name = "q_last"}},
    %k: tensor<{B}x{H}x{NI}x{d}xf32> {{tok.name = "image_keys"}},
    %lse: tensor<{B}x{H}x1xf32> {{tok.name = "row_lse"}},
    %hidden: tensor<{B}x{L}x{D}xf32> {{tok.name = "hidden"}},
    %pos: tensor<{B}x{L}xi32> {{tok.name = "positions"}})
    -> (tensor<{B}x{NI}xf32> {{tok.name = "image_scores"}},
        tensor<{B}x{C}xi32> {{tok.name = "kept_indices"}},
        tensor<{B}xi32> {{tok.name = "kept_count"}},
        tensor<{B}x{C}x{D}xf32> {{tok.name = "kept_hidden"}},
        tensor<{B}x{C}xi32> {{tok.name = "kept_positions"}}) {{
  // With lse, p_j = exp(s_j - lse): the softmax over the whole causal row,
  // averaged over the heads, for the image keys only.
  %s = tok.attn_score %q, %k{lse_use}
      : (tensor<{B}x{H}x1x{d}xf32>, tensor<{B}x{H}x{NI}x{d}xf32>{lse_type})
      -> tensor<{B}x{NI}xf32>
  // Place them in a row of the whole sequence: tokens outside the span
  // pass through tok.select, so their score is never read.
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<{B}x{L}xf32>
  %zeros = linalg.fill ins(%zero : f32) outs(%empty : tensor<{B}x{L}xf32>)
      -> tensor<{B}x{L}xf32>
  %row = tensor.insert_slice %s into %zeros[0, {S}] [{B}, {NI}] [1, 1]
      : tensor<{B}x{NI}xf32> into tensor<{B}x{L}xf32>
  %idx, %n = tok.select #tok.keep_ratio<{ratio}, floor> of %row span [{S}, {E}]
      : (tensor<{B}x{L}xf32>) -> (tensor<{B}x{C}xi32>, tensor<{B}xi32>)
  %h, %p, %map = tok.compact %idx, %n gather(%hidden, %pos)
      : (tensor<{B}x{C}xi32>, tensor<{B}xi32>, tensor<{B}x{L}x{D}xf32>,
         tensor<{B}x{L}xi32>)
      -> (tensor<{B}x{C}x{D}xf32>, tensor<{B}x{C}xi32>, tensor<{B}x{L}xi32>)
  return %s, %idx, %n, %h, %p
      : tensor<{B}x{NI}xf32>, tensor<{B}x{C}xi32>, tensor<{B}xi32>,
        tensor<{B}x{C}x{D}xf32>, tensor<{B}x{C}xi32>
}}
"""


def fastv_program(cfg, use_lse=True):
    """The tok program for one shape (artifacts are statically shaped).
    use_lse=False scores without the row's log-sum-exp: the softmax is then
    renormalised over the image keys alone, which is not FastV's ranking
    (kept only to show that the comparison tells the two apart; row_lse is
    still an argument, unused)."""
    return FASTV_TEMPLATE.format(
        lse_use=" lse %lse" if use_lse else "",
        lse_type=(",\n         tensor<%dx%dx1xf32>" % (cfg.batch, cfg.heads)
                  if use_lse else ""),
        B=cfg.batch, H=cfg.heads, d=cfg.head_dim, NI=cfg.n_image, L=cfg.seq,
        D=cfg.width, S=cfg.n_system, E=cfg.n_system + cfg.n_image,
        C=cfg.kept_seq, K=cfg.prune_layer, ratio=repr(float(cfg.keep_ratio)))


_MODULES = {}


def fastv_module(cfg, use_lse=True):
    """Compiles (once per shape) and loads the pruning program."""
    key = fastv_program(cfg, use_lse)
    if key not in _MODULES:
        artifact = winnow.compile(key, target="cpu", name="fastv_decoder")
        _MODULES[key] = winnow.load(artifact, device="cpu")
    return _MODULES[key]


# ---------------------------------------------------------------------------
# The model: LLaMA-style decoder layers with random weights.
# ---------------------------------------------------------------------------


def rms_norm(x, weight, eps=1e-6):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def rope(x, positions, base=10000.0):
    """Rotary embedding of x [B, H, L, d] at integer positions [B, L]
    (rotate-half layout, as LLaMA)."""
    d = x.shape[-1]
    inv = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
    ang = positions.to(torch.float32)[..., None] * inv  # [B, L, d/2]
    cos = torch.cat([ang.cos(), ang.cos()], -1)[:, None]  # [B, 1, L, d]
    sin = torch.cat([ang.sin(), ang.sin()], -1)[:, None]
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


class DecoderLayer:
    def __init__(self, cfg, gen):
        D, F = cfg.width, cfg.ffn

        def w(rows, cols, gain=1.0):
            return torch.randn(rows, cols, generator=gen) * (gain / math.sqrt(cols))

        self.cfg = cfg
        self.norm1 = 1.0 + 0.1 * torch.randn(D, generator=gen)
        self.norm2 = 1.0 + 0.1 * torch.randn(D, generator=gen)
        # Larger query/key gains than a default init, so the attention is
        # far from uniform (as in a trained model).
        self.wq, self.wk = w(D, D, 2.0), w(D, D, 2.0)
        self.wv, self.wo = w(D, D), w(D, D, 0.5)
        self.w_gate, self.w_up, self.w_down = w(F, D), w(F, D), w(D, F, 0.5)

    def __call__(self, x, positions, stats=False):
        """x [B, L, D], positions [B, L] -> x'; with stats=True also the
        post-RoPE queries/keys [B, H, L, d], the attention weights
        [B, H, L, L] and each row's log-sum-exp [B, H, L] (what
        FlashAttention returns as softmax_lse)."""
        cfg = self.cfg
        B, L, D = x.shape
        H, d = cfg.heads, cfg.head_dim
        h = rms_norm(x, self.norm1)
        q = (h @ self.wq.T).view(B, L, H, d).transpose(1, 2)
        k = (h @ self.wk.T).view(B, L, H, d).transpose(1, 2)
        v = (h @ self.wv.T).view(B, L, H, d).transpose(1, 2)
        q, k = rope(q, positions), rope(k, positions)
        logits = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(d))
        causal = torch.ones(L, L, dtype=torch.bool).triu(1)
        logits = logits.masked_fill(causal, float("-inf"))
        lse = torch.logsumexp(logits, dim=-1)
        weights = torch.softmax(logits, dim=-1)
        a = (weights @ v).transpose(1, 2).reshape(B, L, D)
        x = x + a @ self.wo.T
        h = rms_norm(x, self.norm2)
        x = x + (torch.nn.functional.silu(h @ self.w_gate.T) * (h @ self.w_up.T)) @ self.w_down.T
        if stats:
            return x, {"q": q, "k": k, "weights": weights, "lse": lse}
        return x


def make_model(cfg, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [DecoderLayer(cfg, gen) for _ in range(cfg.layers)]


# ---------------------------------------------------------------------------
# The two FastV implementations.
# ---------------------------------------------------------------------------


def run_prefix(model, cfg, x, positions):
    """Layers 0..K-1 on the whole sequence; the statistics of layer K-1."""
    for layer in model[:cfg.prune_layer - 1]:
        x = layer(x, positions)
    return model[cfg.prune_layer - 1](x, positions, stats=True)


def run_suffix(model, cfg, x, positions):
    for layer in model[cfg.prune_layer:]:
        x = layer(x, positions)
    return x


def eager_image_scores(stats, cfg):
    """FastV's ranking: the last query row's attention weights, mean over
    heads, on the image span: [B, n_image]."""
    last = stats["weights"][:, :, -1, :].mean(dim=1)  # [B, L]
    return last[:, cfg.n_system:cfg.n_system + cfg.n_image]


def eager_keep_indices(image_scores, cfg, keep=None):
    """Kept token indices [B, kept_seq] (ascending): every system and text
    token and the `keep` best image tokens."""
    keep = cfg.keep if keep is None else keep
    B = image_scores.shape[0]
    top = image_scores.topk(keep, dim=-1).indices + cfg.n_system
    system = torch.arange(cfg.n_system).expand(B, -1)
    text = torch.arange(cfg.n_system + cfg.n_image, cfg.seq).expand(B, -1)
    return torch.cat([system, top, text], dim=1).sort(dim=1).values


def eager_fastv(model, cfg, x, positions, keep=None):
    """FastV in eager PyTorch: returns (final hidden, kept indices,
    image scores)."""
    h, stats = run_prefix(model, cfg, x, positions)
    scores = eager_image_scores(stats, cfg)
    idx = eager_keep_indices(scores, cfg, keep)
    rows = torch.arange(x.shape[0])[:, None]
    h, kept_pos = h[rows, idx], positions[rows, idx]
    return run_suffix(model, cfg, h, kept_pos), idx, scores


def winnow_prune(module, cfg, h, stats, positions):
    """The Winnow call: pruned hidden states and positions from layer K-1's
    queries, keys and log-sum-exp."""
    S, E = cfg.n_system, cfg.n_system + cfg.n_image
    q_last = stats["q"][:, :, -1:, :].contiguous()        # [B, H, 1, d]
    image_keys = stats["k"][:, :, S:E, :].contiguous()    # [B, H, NI, d]
    row_lse = stats["lse"][:, :, -1:].contiguous()        # [B, H, 1]
    return module.fastv_prune(q_last, image_keys, row_lse, h.contiguous(),
                              positions.to(torch.int32).contiguous())


def winnow_fastv(model, cfg, x, positions, use_lse=True):
    """FastV with the pruning done by Winnow: returns (final hidden, the
    Winnow call's results)."""
    module = fastv_module(cfg, use_lse)
    h, stats = run_prefix(model, cfg, x, positions)
    r = winnow_prune(module, cfg, h, stats, positions)
    return run_suffix(model, cfg, r.kept_hidden, r.kept_positions), r


def dense_forward(model, cfg, x, positions):
    for layer in model:
        x = layer(x, positions)
    return x


# ---------------------------------------------------------------------------
# Inputs with a score margin at the k-th image token.
# ---------------------------------------------------------------------------


def score_margin(image_scores, keep):
    """Per batch row: (k-th - (k+1)-th largest image score) / k-th."""
    top = image_scores.topk(keep + 1, dim=-1).values
    return (top[:, keep - 1] - top[:, keep]) / top[:, keep - 1]


def make_inputs(model, cfg, seed=0, min_margin=MIN_REL_MARGIN, max_tries=200):
    """Input embeddings [B, L, D] and position ids [B, L]. The image tokens
    of a batch row are redrawn until the row's score margin at the k-th
    image token is at least `min_margin` (batch rows are independent in the
    model, so one row's redraw leaves the others' scores unchanged)."""
    gen = torch.Generator().manual_seed(seed)
    B, L, D = cfg.batch, cfg.seq, cfg.width
    x = torch.randn(B, L, D, generator=gen)
    positions = torch.arange(L, dtype=torch.int32).expand(B, L).contiguous()
    S, E = cfg.n_system, cfg.n_system + cfg.n_image
    for _ in range(max_tries):
        _, stats = run_prefix(model, cfg, x, positions)
        margin = score_margin(eager_image_scores(stats, cfg), cfg.keep)
        low = margin < min_margin
        if not low.any():
            return x, positions
        x[low, S:E] = torch.randn(int(low.sum()), E - S, D, generator=gen)
    raise RuntimeError("no inputs with a score margin of %g found" % min_margin)


# ---------------------------------------------------------------------------
# The comparison.
# ---------------------------------------------------------------------------


def compare(cfg, eager, win):
    """Compares the eager FastV (out, idx, scores) with the Winnow FastV
    (out, results); returns a dict of findings and a list of problems
    (empty when they agree)."""
    e_out, e_idx, e_scores = eager
    w_out, r = win
    problems = []
    counts = r.kept_count.tolist()
    if counts != [cfg.kept_seq] * cfg.batch:
        problems.append("kept counts %s, expected %d per row" % (counts, cfg.kept_seq))
    w_idx = r.kept_indices.to(torch.int64)
    if w_idx.shape != e_idx.shape or not torch.equal(w_idx, e_idx):
        problems.append("kept indices differ: winnow %s vs eager %s"
                        % (w_idx.tolist(), e_idx.tolist()))
    if not torch.equal(r.kept_positions.to(torch.int64), w_idx):
        problems.append("kept positions are not the kept tokens' position ids")
    score_err = (r.image_scores - e_scores).abs()
    if not torch.allclose(r.image_scores, e_scores, rtol=SCORE_RTOL, atol=SCORE_ATOL):
        problems.append("image scores differ by up to %.3g" % score_err.max())
    if w_out.shape != e_out.shape:
        problems.append("output shapes differ: %s vs %s" % (tuple(w_out.shape),
                                                            tuple(e_out.shape)))
        out_err = float("inf")
    else:
        out_err = float((w_out - e_out).abs().max())
        if not torch.allclose(w_out, e_out, rtol=OUT_RTOL, atol=OUT_ATOL):
            problems.append("final hidden states differ by up to %.3g" % out_err)
    margin = score_margin(e_scores, cfg.keep)
    findings = {"margin": margin, "score_err": float(score_err.max()),
                "out_err": out_err, "counts": counts}
    return findings, problems


def check(cfg=Config(), seed=0):
    """Builds the model and inputs, runs both FastV paths and compares them.
    Returns everything the caller may want to look at."""
    model = make_model(cfg, seed)
    x, positions = make_inputs(model, cfg, seed)
    eager = eager_fastv(model, cfg, x, positions)
    win = winnow_fastv(model, cfg, x, positions)
    findings, problems = compare(cfg, eager, win)
    return {"model": model, "x": x, "positions": positions, "eager": eager,
            "winnow": win, "findings": findings, "problems": problems}


def time_us(fns, repeat, rounds=5):
    """Microseconds per call of each function: the best of `rounds` rounds
    of `repeat` calls, the functions interleaved round by round (the
    machine may be shared, so the contention hits all of them alike)."""
    best = {name: float("inf") for name in fns}
    for fn in fns.values():
        fn()  # warm-up
    for _ in range(rounds):
        for name, fn in fns.items():
            t = time.perf_counter()
            for _ in range(repeat):
                fn()
            best[name] = min(best[name], (time.perf_counter() - t) / repeat)
    return {name: v * 1e6 for name, v in best.items()}


def main():
    cfg = Config()
    t = time.perf_counter()
    fastv_module(cfg)
    compile_s = time.perf_counter() - t
    res = check(cfg)
    f, r = res["findings"], res["winnow"][1]
    print("FastV in a LLaVA-shaped decoder: batch %d, %d system + %d image + %d text tokens, "
          "width %d, %d heads, %d layers, prune before layer %d, keep %g of the image (%d)"
          % (cfg.batch, cfg.n_system, cfg.n_image, cfg.n_text, cfg.width, cfg.heads,
             cfg.layers, cfg.prune_layer, cfg.keep_ratio, cfg.keep))
    print("compile: %.2f s (one artifact for this shape)" % compile_s)
    tokens = [cfg.seq] * cfg.prune_layer + [cfg.kept_seq] * (cfg.layers - cfg.prune_layer)
    print("tokens per layer:", tokens)
    print("kept counts per row:", f["counts"])
    for b in range(cfg.batch):
        img = [i - cfg.n_system for i in r.kept_indices[b].tolist()
               if cfg.n_system <= i < cfg.n_system + cfg.n_image]
        print("  row %d: kept image tokens %s  (score margin at k: %.2e relative)"
              % (b, img, float(f["margin"][b])))
    print("max |score winnow - eager|: %.2e   max |out winnow - eager|: %.2e "
          "(tolerance rtol %g atol %g)" % (f["score_err"], f["out_err"], OUT_RTOL, OUT_ATOL))
    model, x, positions = res["model"], res["x"], res["positions"]
    module = fastv_module(cfg)
    h, stats = run_prefix(model, cfg, x, positions)
    times = time_us({
        "dense (no pruning)": lambda: dense_forward(model, cfg, x, positions),
        "eager FastV": lambda: eager_fastv(model, cfg, x, positions),
        "Winnow FastV": lambda: winnow_fastv(model, cfg, x, positions),
        "the Winnow call": lambda: winnow_prune(module, cfg, h, stats, positions),
    }, repeat=5)
    print("µs per step (prefill of %d tokens x %d rows; best of 5 interleaved rounds):"
          % (cfg.seq, cfg.batch))
    for name, us in times.items():
        print("  %-20s %9.1f" % (name, us))
    if res["problems"]:
        print("MISMATCH:\n  " + "\n  ".join(res["problems"]))
        return 1
    print("OK: kept indices identical, outputs within tolerance")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
