#!/usr/bin/python3
"""ToMe inside a small ViT, with Winnow doing the merging.

A small random-initialised ViT (a class token and 8 x 8 patches of a
32 x 32 image, pre-norm blocks) runs with ToMe (Bolya et al. 2023, "Token
Merging: Your ViT but Faster"): between the attention and the MLP of every
block, r tokens are merged by bipartite soft matching on the keys averaged
over the heads (alternating A/B sets, the class token never merged), each
merged row is the size-weighted mean of its members, sizes are tracked,
and the next block's attention adds log(size) of every key to its logits
(proportional attention).

Two implementations of the same model are compared:

* `eager_bipartite_soft_matching` / `eager_merge_wavg`: ToMe's algorithm in
  PyTorch, written here from the paper and the op description in
  docs/generated/tok-dialect.md, which pins what ToMe's code leaves to
  `argsort`/`max`: every tie goes to the lower index (the first maximal B
  token, and a stable rank).
* `winnow_merge`: one Winnow call per block (the tok program in
  `TOME_TEMPLATE`): `tok.bipartite_plan` -> `tok.scatter_merge` (weighted
  mean, sizes) -> `math.log` of the sizes (the next block's key bias). The
  token count shrinks by r per block, so there is one artifact per block
  shape, compiled once and cached.

Inputs are drawn so that every merge decision has a clear margin (the gap
between the r-th and (r+1)-th best A token, and between each merged
token's best and second-best B token), so the fp32 rounding differences of
the two paths cannot change a plan: the plans (parent maps) and token
counts must be identical in every block. The merged values are not bit
identical -- ToMe sums `x * size` in rank order and divides, Winnow sums
`size * x` in token order in fp32 and copies single-member rows unchanged,
and the log of the sizes may differ by an ulp -- so the final tokens and
logits are compared within `OUT_RTOL`/`OUT_ATOL`.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/tome_vit.py
"""

import math
import time
from dataclasses import dataclass

import torch

import winnow

OUT_RTOL, OUT_ATOL = 1e-4, 1e-5
# Required gap of every merge decision (cosine similarities of unit
# vectors; fp32 similarity errors are ~1e-7).
MIN_PLAN_MARGIN = 1e-4


@dataclass(frozen=True)
class Config:
    batch: int = 4
    image: int = 32
    patch: int = 4
    width: int = 64
    heads: int = 4
    depth: int = 6
    r: int = 8
    mlp: int = 128
    classes: int = 10

    @property
    def patches(self):
        return (self.image // self.patch) ** 2

    @property
    def head_dim(self):
        return self.width // self.heads

    def tokens_per_block(self):
        """Tokens entering each block, then the tokens that leave the last."""
        n, out = self.patches + 1, []
        for _ in range(self.depth):
            out.append(n)
            n -= effective_r(n, self.r)
        return out + [n]


def effective_r(n, r, protected=1):
    """ToMe's r' = min(r, (N - protected) // 2) (at most half the tokens)."""
    return max(0, min(r, (n - protected) // 2))


# ---------------------------------------------------------------------------
# The tok program: one call merges the tokens of one block.
# ---------------------------------------------------------------------------

TOME_TEMPLATE = """\
// ToMe merge of one block: B = {B}, {N} -> {M} tokens of width {C}, metric
// width {Cm} (the keys averaged over the heads), r = {r}, class token kept.
func.func @tome_merge(
    %x: tensor<{B}x{N}x{C}xf32> {{tok.name = "x"}},
    %metric: tensor<{B}x{N}x{Cm}xf32> {{tok.name = "metric"}}{sizes_arg})
    -> (tensor<{B}x{M}x{C}xf32> {{tok.name = "merged"}},
        tensor<{B}x{M}xf32> {{tok.name = "sizes"}},
        tensor<{B}x{M}xf32> {{tok.name = "key_bias"}},
        tensor<{B}x{N}xi32> {{tok.name = "parent"}},
        tensor<{B}xi32> {{tok.name = "count"}}) {{
  %parent, %count = tok.bipartite_plan %metric {{r = {r}, class_token}}
      : (tensor<{B}x{N}x{Cm}xf32>) -> (tensor<{B}x{N}xi32>, tensor<{B}xi32>)
  // The size-weighted mean of the members (ToMe's merge_wavg); without
  // sizes every token counts 1 (the first block).
  %merged, %sizes = tok.scatter_merge %parent, %count gather(%x){sizes_use}
      {{reduction = #tok.merge_reduction<weighted_mean>}}
      : (tensor<{B}x{N}xi32>, tensor<{B}xi32>, tensor<{B}x{N}x{C}xf32>{sizes_type})
      -> (tensor<{B}x{M}x{C}xf32>, tensor<{B}x{M}xf32>)
  // Proportional attention: the next block adds log(size) to every logit
  // of that key.
  %bias = math.log %sizes : tensor<{B}x{M}xf32>
  return %merged, %sizes, %bias, %parent, %count
      : tensor<{B}x{M}x{C}xf32>, tensor<{B}x{M}xf32>, tensor<{B}x{M}xf32>,
        tensor<{B}x{N}xi32>, tensor<{B}xi32>
}}
"""


def tome_program(batch, n, width, metric_width, r, sized):
    """The tok program for one block shape (artifacts are statically
    shaped); `sized`: the tokens carry sizes (every block after the
    first)."""
    B = batch
    return TOME_TEMPLATE.format(
        B=B, N=n, M=n - effective_r(n, r), C=width, Cm=metric_width, r=r,
        sizes_arg=(',\n    %%in_sizes: tensor<%dx%dxf32> {tok.name = "in_sizes"}' % (B, n)
                   if sized else ""),
        sizes_use=" sizes %in_sizes" if sized else "",
        sizes_type=", tensor<%dx%dxf32>" % (B, n) if sized else "")


_MODULES = {}


def tome_module(batch, n, width, metric_width, r, sized):
    """Compiles (once per block shape) and loads a merge program."""
    key = tome_program(batch, n, width, metric_width, r, sized)
    if key not in _MODULES:
        artifact = winnow.compile(key, target="cpu", name="tome_merge_%d" % n)
        _MODULES[key] = winnow.load(artifact, device="cpu")
    return _MODULES[key]


def winnow_merge(x, metric, sizes, r):
    """One block's merge through Winnow. sizes None: every token has size
    1 (the first block). Returns the call's results (merged, sizes,
    key_bias, parent, count)."""
    B, N, C = x.shape
    module = tome_module(B, N, C, metric.shape[-1], r, sizes is not None)
    args = (x.contiguous(), metric.contiguous())
    if sizes is not None:
        args += (sizes.contiguous(),)
    return module.tome_merge(*args)


# ---------------------------------------------------------------------------
# ToMe in eager PyTorch.
# ---------------------------------------------------------------------------


def _first_argmax(scores, tie):
    """Max and argmax over the last axis; ties to the lower index
    (tie="lower", the pinned rule) or to the higher one."""
    if tie == "higher":
        flipped = scores.flip(-1)
        best, idx = _first_argmax(flipped, "lower")
        return best, scores.shape[-1] - 1 - idx
    best = scores.max(dim=-1).values
    # argmax of a 0/1 tensor returns the first maximal index.
    idx = (scores == best[..., None]).to(torch.int32).argmax(dim=-1)
    return best, idx


def _rank_descending(values, tie):
    """Indices sorting `values` descending; equal values by ascending index
    (tie="lower") or descending index."""
    if tie == "higher":
        n = values.shape[-1]
        return n - 1 - torch.sort(values.flip(-1), dim=-1, descending=True,
                                  stable=True).indices
    return torch.sort(values, dim=-1, descending=True, stable=True).indices


def eager_bipartite_soft_matching(metric, r, class_token=True, tie="lower"):
    """ToMe's bipartite soft matching. metric [B, N, Cm]. Returns a dict
    with the gather/scatter indices of the merge (unm_idx, src_idx,
    dst_idx, all [B, *]), the parent map [B, N] (each token's output row),
    the effective r and the decision margins per batch row."""
    B, N, _ = metric.shape
    protected = 1 if class_token else 0
    r = effective_r(N, r, protected)
    metric = metric / metric.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    a, b = metric[:, ::2, :], metric[:, 1::2, :]  # A = 0, 2, 4, ...; B = 1, 3, ...
    scores = a @ b.transpose(-1, -2)  # [B, |A|, |B|]
    if class_token:
        scores[:, 0, :] = float("-inf")
    node_max, node_idx = _first_argmax(scores, tie)
    edge_idx = _rank_descending(node_max, tie)
    src_idx = edge_idx[:, :r]
    unm_idx = edge_idx[:, r:]
    dst_idx = node_idx.gather(1, src_idx)
    if class_token:
        # ToMe keeps the unmerged A tokens in index order (class token first).
        unm_idx = unm_idx.sort(dim=1).values
    n_a, n_b, n_unm = a.shape[1], b.shape[1], unm_idx.shape[1]

    # The output row of every input token: unmerged A tokens first, then B.
    parent = torch.empty(B, N, dtype=torch.int64)
    rows = torch.arange(B)[:, None]
    parent[rows, 2 * unm_idx] = torch.arange(n_unm).expand(B, -1)
    parent[:, 1::2] = n_unm + torch.arange(n_b)
    parent[rows, 2 * src_idx] = n_unm + dst_idx

    # Margins of the decisions: the r-th vs the (r+1)-th best A token (the
    # class token excluded), and each source's best vs second-best B token.
    ranked = node_max.gather(1, edge_idx)
    eligible = n_a - protected
    if 0 < r < eligible:
        rank_gap = ranked[:, r - 1] - ranked[:, r]
    else:
        rank_gap = torch.full((B,), float("inf"))
    if r > 0 and n_b > 1:
        top2 = scores.gather(1, src_idx[..., None].expand(-1, -1, n_b)).topk(2, dim=-1).values
        dst_gap = (top2[..., 0] - top2[..., 1]).min(dim=1).values
    else:
        dst_gap = torch.full((B,), float("inf"))
    return {"r": r, "unm_idx": unm_idx, "src_idx": src_idx, "dst_idx": dst_idx,
            "parent": parent, "margin": torch.minimum(rank_gap, dst_gap)}


def eager_merge(plan, x, mode="sum"):
    """ToMe's merge: gathers the unmerged A tokens, reduces the sources into
    their destinations among the B tokens, and concatenates [unm, B]."""
    src, dst = x[:, ::2, :], x[:, 1::2, :]
    C = x.shape[-1]
    unm = src.gather(1, plan["unm_idx"][..., None].expand(-1, -1, C))
    moved = src.gather(1, plan["src_idx"][..., None].expand(-1, -1, C))
    index = plan["dst_idx"][..., None].expand(-1, -1, C)
    if mode == "sum":
        dst = dst.scatter_add(1, index, moved)
    else:
        dst = dst.scatter_reduce(1, index, moved, reduce=mode)
    return torch.cat([unm, dst], dim=1)


def eager_merge_wavg(plan, x, size=None):
    """ToMe's size-weighted average: x [B, N, C], size [B, N, 1] or None
    (every token 1). Returns (x', size')."""
    if size is None:
        size = torch.ones_like(x[..., :1])
    x = eager_merge(plan, x * size, mode="sum")
    size = eager_merge(plan, size, mode="sum")
    return x / size, size


# ---------------------------------------------------------------------------
# The ViT.
# ---------------------------------------------------------------------------


class ViT:
    def __init__(self, cfg, seed=0):
        gen = torch.Generator().manual_seed(seed)
        C, P = cfg.width, cfg.patch * cfg.patch * 3

        def w(rows, cols, gain=1.0):
            return torch.randn(rows, cols, generator=gen) * (gain / math.sqrt(cols))

        def vec(n, scale):
            return scale * torch.randn(n, generator=gen)

        self.cfg = cfg
        self.patch_w, self.patch_b = w(C, P), vec(C, 0.02)
        self.cls = vec(C, 1.0)
        self.pos = 0.5 * torch.randn(1, cfg.patches + 1, C, generator=gen)
        self.blocks = []
        for _ in range(cfg.depth):
            self.blocks.append({
                "ln1_w": 1 + vec(C, 0.1), "ln1_b": vec(C, 0.1),
                "qkv_w": w(3 * C, C, 1.5), "qkv_b": vec(3 * C, 0.02),
                "proj_w": w(C, C, 0.5), "proj_b": vec(C, 0.02),
                "ln2_w": 1 + vec(C, 0.1), "ln2_b": vec(C, 0.1),
                "fc1_w": w(cfg.mlp, C), "fc1_b": vec(cfg.mlp, 0.02),
                "fc2_w": w(C, cfg.mlp, 0.5), "fc2_b": vec(C, 0.02),
            })
        self.ln_w, self.ln_b = 1 + vec(C, 0.1), vec(C, 0.1)
        self.head_w, self.head_b = w(cfg.classes, C), vec(cfg.classes, 0.02)

    def embed(self, images):
        """images [B, 3, H, W] -> tokens [B, 1 + patches, C]."""
        cfg = self.cfg
        B, p = images.shape[0], cfg.patch
        patches = images.unfold(2, p, p).unfold(3, p, p)  # [B, 3, h, w, p, p]
        patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(B, cfg.patches, -1)
        x = patches @ self.patch_w.T + self.patch_b
        cls = self.cls.expand(B, 1, -1)
        return torch.cat([cls, x], dim=1) + self.pos

    def attention(self, blk, x, key_bias):
        """Multi-head attention with ToMe's proportional attention: key_bias
        [B, N] (log of the sizes) is added to the logits of every key.
        Returns (output, metric = the keys averaged over the heads)."""
        cfg = self.cfg
        B, N, C = x.shape
        H, d = cfg.heads, cfg.head_dim
        qkv = (x @ blk["qkv_w"].T + blk["qkv_b"]).view(B, N, 3, H, d).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        logits = (q @ k.transpose(-1, -2)) * (d ** -0.5)
        if key_bias is not None:
            logits = logits + key_bias[:, None, None, :]
        a = logits.softmax(dim=-1) @ v
        out = a.transpose(1, 2).reshape(B, N, C) @ blk["proj_w"].T + blk["proj_b"]
        return out, k.mean(dim=1)

    def mlp(self, blk, x):
        h = torch.nn.functional.gelu(x @ blk["fc1_w"].T + blk["fc1_b"])
        return h @ blk["fc2_w"].T + blk["fc2_b"]

    def ln(self, x, w, b):
        return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, 1e-6)

    def forward(self, images, merge):
        """merge(block index, x, metric, state) -> (x, state, key_bias, plan
        info) merges the tokens of a block (or not); returns the logits, the
        final tokens and the per-block records."""
        x = self.embed(images)
        key_bias, state, records = None, None, []
        for i, blk in enumerate(self.blocks):
            h, metric = self.attention(blk, self.ln(x, blk["ln1_w"], blk["ln1_b"]), key_bias)
            x = x + h
            n_in = x.shape[1]
            x, state, key_bias, info = merge(i, x, metric, state)
            records.append(dict(info, tokens_in=n_in, tokens_out=x.shape[1]))
            x = x + self.mlp(blk, self.ln(x, blk["ln2_w"], blk["ln2_b"]))
        x = self.ln(x, self.ln_w, self.ln_b)
        return x[:, 0] @ self.head_w.T + self.head_b, x, records


def eager_tome_merge(r, tie="lower"):
    """The merge callback of the eager ToMe: state = sizes [B, N, 1]."""
    def merge(i, x, metric, size):
        plan = eager_bipartite_soft_matching(metric, r, class_token=True, tie=tie)
        x, size = eager_merge_wavg(plan, x, size)
        info = {"parent": plan["parent"], "margin": plan["margin"],
                "sizes": size[..., 0]}
        return x, size, size[..., 0].log(), info
    return merge


def winnow_tome_merge(r):
    """The merge callback through Winnow: state = sizes [B, N] (None before
    the first merge)."""
    def merge(i, x, metric, sizes):
        res = winnow_merge(x, metric, sizes, r)
        info = {"parent": res.parent.to(torch.int64), "count": res.count,
                "sizes": res.sizes}
        return res.merged, res.sizes, res.key_bias, info
    return merge


def no_merge(i, x, metric, state):
    return x, None, None, {}


# ---------------------------------------------------------------------------
# Inputs with clear merge decisions, and the comparison.
# ---------------------------------------------------------------------------


def make_inputs(model, cfg, seed=0, min_margin=MIN_PLAN_MARGIN, max_tries=200):
    """Images [B, 3, H, W]. An image whose eager ToMe run has a merge
    decision closer than `min_margin` (in any block) is redrawn; images are
    independent in the model, so a redraw leaves the others unchanged."""
    gen = torch.Generator().manual_seed(seed + 1000)
    images = torch.randn(cfg.batch, 3, cfg.image, cfg.image, generator=gen)
    for _ in range(max_tries):
        _, _, records = model.forward(images, eager_tome_merge(cfg.r))
        margin = torch.stack([rec["margin"] for rec in records]).min(dim=0).values
        low = margin < min_margin
        if not low.any():
            return images
        images[low] = torch.randn(int(low.sum()), 3, cfg.image, cfg.image, generator=gen)
    raise RuntimeError("no images with merge margins of %g found" % min_margin)


def compare(cfg, eager, win):
    """eager, win: (logits, tokens, records) of the two paths. Returns
    (findings, problems); problems is empty when they agree."""
    e_logits, e_x, e_rec = eager
    w_logits, w_x, w_rec = win
    problems = []
    expected = cfg.tokens_per_block()
    e_tokens = [rec["tokens_in"] for rec in e_rec] + [e_rec[-1]["tokens_out"]]
    w_tokens = [rec["tokens_in"] for rec in w_rec] + [w_rec[-1]["tokens_out"]]
    if e_tokens != expected or w_tokens != expected:
        problems.append("tokens per block: winnow %s, eager %s, expected %s"
                        % (w_tokens, e_tokens, expected))
    for i, (e, w) in enumerate(zip(e_rec, w_rec)):
        counts = w["count"].tolist()
        if counts != [e["tokens_out"]] * cfg.batch:
            problems.append("block %d: counts %s, eager keeps %d" % (i, counts, e["tokens_out"]))
        if e["parent"].shape != w["parent"].shape:
            problems.append("block %d: plans of %s and %s tokens" % (
                i, tuple(w["parent"].shape), tuple(e["parent"].shape)))
            break
        if not torch.equal(e["parent"], w["parent"]):
            rows = (e["parent"] != w["parent"]).any(dim=1).nonzero()[:, 0].tolist()
            problems.append("block %d: merge plans differ in rows %s" % (i, rows))
        elif not torch.equal(e["sizes"], w["sizes"]):
            problems.append("block %d: sizes differ" % i)
    out_err = logit_err = float("inf")
    if e_x.shape == w_x.shape:
        out_err = float((e_x - w_x).abs().max())
        logit_err = float((e_logits - w_logits).abs().max())
        if not torch.allclose(w_x, e_x, rtol=OUT_RTOL, atol=OUT_ATOL):
            problems.append("final tokens differ by up to %.3g" % out_err)
        if not torch.allclose(w_logits, e_logits, rtol=OUT_RTOL, atol=OUT_ATOL):
            problems.append("logits differ by up to %.3g" % logit_err)
    else:
        problems.append("final token shapes differ: %s vs %s"
                        % (tuple(w_x.shape), tuple(e_x.shape)))
    margin = min(float(rec["margin"].min()) for rec in e_rec)
    return ({"tokens": w_tokens, "out_err": out_err, "logit_err": logit_err,
             "margin": margin}, problems)


def check(cfg=Config(), seed=0):
    model = ViT(cfg, seed)
    images = make_inputs(model, cfg, seed)
    eager = model.forward(images, eager_tome_merge(cfg.r))
    win = model.forward(images, winnow_tome_merge(cfg.r))
    findings, problems = compare(cfg, eager, win)
    return {"model": model, "images": images, "eager": eager, "winnow": win,
            "findings": findings, "problems": problems}


def tie_case(batch=2, n=17, metric_width=16, r=4, patterns=3, seed=0):
    """A metric with exact ties: every row is one of a few +-1 patterns
    (norm 4, so every cosine similarity is a multiple of 1/16, exact in
    fp32 whatever the order of the sums). Returns the Winnow plan and the
    eager plans with ties to the lower and to the higher index."""
    gen = torch.Generator().manual_seed(seed)
    base = torch.randint(0, 2, (patterns, metric_width), generator=gen).float() * 2 - 1
    choice = torch.randint(0, patterns, (batch, n), generator=gen)
    metric = base[choice]
    x = torch.randn(batch, n, 8, generator=gen)
    res = winnow_merge(x, metric, None, r)
    lower = eager_bipartite_soft_matching(metric, r, tie="lower")
    higher = eager_bipartite_soft_matching(metric, r, tie="higher")
    merged, _ = eager_merge_wavg(lower, x)
    return {"metric": metric, "x": x, "winnow": res, "lower": lower, "higher": higher,
            "eager_merged": merged}


def time_us_per_image(fns, batch, repeat, rounds=5):
    """Microseconds per image of each function (a call handles `batch`
    images): the best of `rounds` rounds of `repeat` calls, the functions
    interleaved round by round (the machine may be shared)."""
    best = {name: float("inf") for name in fns}
    for fn in fns.values():
        fn()  # warm-up
    for _ in range(rounds):
        for name, fn in fns.items():
            t = time.perf_counter()
            for _ in range(repeat):
                fn()
            best[name] = min(best[name], (time.perf_counter() - t) / repeat)
    return {name: v * 1e6 / batch for name, v in best.items()}


def main():
    cfg = Config()
    t = time.perf_counter()
    res = check(cfg)
    first_s = time.perf_counter() - t
    f = res["findings"]
    print("ToMe in a ViT: batch %d, %dx%d images, %d patches + class token, width %d, "
          "%d heads, %d blocks, r = %d per block"
          % (cfg.batch, cfg.image, cfg.image, cfg.patches, cfg.width, cfg.heads,
             cfg.depth, cfg.r))
    print("first run (compiles %d block artifacts, one per shape): %.2f s"
          % (cfg.depth, first_s))
    print("tokens per block (entering each block, then leaving the last):", f["tokens"])
    w_rec = res["winnow"][2]
    sizes = w_rec[-1]["sizes"][0]
    print("sizes after the last block, image 0: class token %g, largest %g, sum %g"
          % (float(sizes[0]), float(sizes.max()), float(sizes.sum())))
    print("smallest merge-decision margin: %.2e; max |tokens winnow - eager|: %.2e, "
          "max |logits|: %.2e (tolerance rtol %g atol %g)"
          % (f["margin"], f["out_err"], f["logit_err"], OUT_RTOL, OUT_ATOL))
    model, images = res["model"], res["images"]
    times = time_us_per_image({
        "ViT without merging": lambda: model.forward(images, no_merge),
        "eager ToMe": lambda: model.forward(images, eager_tome_merge(cfg.r)),
        "Winnow ToMe": lambda: model.forward(images, winnow_tome_merge(cfg.r)),
    }, cfg.batch, repeat=3)
    x = torch.randn(cfg.batch, cfg.patches + 1, cfg.width)
    metric = torch.randn(cfg.batch, cfg.patches + 1, cfg.head_dim)
    times.update(time_us_per_image({
        "one merge (block 0), Winnow": lambda: winnow_merge(x, metric, None, cfg.r),
        "one merge (block 0), eager": lambda: eager_merge_wavg(
            eager_bipartite_soft_matching(metric, cfg.r), x),
    }, cfg.batch, repeat=50))
    print("µs per image (batch %d; best of 5 interleaved rounds):" % cfg.batch)
    for name, us in times.items():
        print("  %-28s %9.1f" % (name, us))
    if res["problems"]:
        print("MISMATCH:\n  " + "\n  ".join(res["problems"]))
        return 1
    print("OK: merge plans and token counts identical in every block, outputs within tolerance")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
