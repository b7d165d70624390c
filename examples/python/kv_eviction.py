#!/usr/bin/python3
"""KV-cache eviction in a decode loop with Winnow: StreamingLLM and H2O.

A tiny decoder (PyTorch, float64, 2 layers x 4 heads) decodes a ragged
batch greedily with a KV cache of fixed capacity T. Every step appends the
new token's K/V at slot lengths[b] and attends over the cache; then a
compiled tok program (tok.kv_select + tok.kv_gather, the recipes
examples/streamingllm_evict.mlir and examples/h2o_heavy_hitters.mlir at
this example's shapes) brings every request back to its budget C. It is
called every step, unconditionally: a request within its budget keeps
everything. Layers are folded into the head axis ([B, layers * heads, T,
d]): kv_select ranks per (request, head), so one call evicts every layer.

  StreamingLLM: sinks + recent window. Keys are cached *before* RoPE; the
    kept entries are re-numbered by cache slot (position_mode = reindexed,
    positions 0..count-1) and the attention rotates the cached keys with
    those positions and the query with its own slot, at every step.
  H2O: recent window + heavy hitters by the attention each slot has
    accumulated (sum over all past query rows, per request and head; the
    scores travel with their entries through kv_gather). RoPE is applied
    before caching (position_mode = original), so the query uses its
    absolute position.

Eviction follows the authors' order (H2O's H2OKVCache_LayerWise): append,
attend, accumulate, then evict, so attention sees at most C + 1 entries.

Side by side runs an eager PyTorch reference of the same policies, written
independently of the tok ops: one request at a time, growing per-layer
tensors, torch slicing for StreamingLLM (StartRecentKVCache) and a stable
descending sort for H2O's heavy hitters (ties to the lower slot, as
tok.kv_select and docs/methods.md pin them; H2O's own torch.topk is
unstable, and it sums scores over the batch, which the recipe does not).

  PYTHONPATH=build/python /usr/bin/python3 examples/python/kv_eviction.py
"""

import functools
import string
import time
from dataclasses import dataclass, field

import torch

import winnow

# ---------------------------------------------------------------------------
# The tok programs
# ---------------------------------------------------------------------------

STREAMING_PROGRAM = string.Template("""
// StreamingLLM: keep $sinks sinks + the $window most recent of T = $T slots.
// No scores: T comes from cache_size. Positions are re-indexed 0..count-1.
func.func @evict(
    %len: tensor<${B}xi32> {tok.name = "lengths"},
    %k: tensor<${B}x${H}x${T}x${D}xf64> {tok.name = "keys"},
    %v: tensor<${B}x${H}x${T}x${D}xf64> {tok.name = "values"},
    %tpos: tensor<${B}x${H}x${T}xi32> {tok.name = "token_pos"})
    -> (tensor<${B}x${H}x${C}xi32> {tok.name = "slots"},
        tensor<${B}x${H}xi32> {tok.name = "count"},
        tensor<${B}x${H}x${C}x${D}xf64> {tok.name = "kept_keys"},
        tensor<${B}x${H}x${C}x${D}xf64> {tok.name = "kept_values"},
        tensor<${B}x${H}x${C}xi32> {tok.name = "kept_token_pos"},
        tensor<${B}x${H}x${C}xi32> {tok.name = "positions"}) {
  %slots, %n = tok.kv_select %len {sinks = $sinks, window = $window, cache_size = $T}
      : (tensor<${B}xi32>) -> (tensor<${B}x${H}x${C}xi32>, tensor<${B}x${H}xi32>)
  %k2, %v2, %t2, %pos = tok.kv_gather %slots, %n gather(%k, %v, %tpos)
      {position_mode = #tok.position_mode<reindexed>}
      : (tensor<${B}x${H}x${C}xi32>, tensor<${B}x${H}xi32>,
         tensor<${B}x${H}x${T}x${D}xf64>, tensor<${B}x${H}x${T}x${D}xf64>,
         tensor<${B}x${H}x${T}xi32>)
      -> (tensor<${B}x${H}x${C}x${D}xf64>, tensor<${B}x${H}x${C}x${D}xf64>,
          tensor<${B}x${H}x${C}xi32>, tensor<${B}x${H}x${C}xi32>)
  return %slots, %n, %k2, %v2, %t2, %pos
      : tensor<${B}x${H}x${C}xi32>, tensor<${B}x${H}xi32>,
        tensor<${B}x${H}x${C}x${D}xf64>, tensor<${B}x${H}x${C}x${D}xf64>,
        tensor<${B}x${H}x${C}xi32>, tensor<${B}x${H}x${C}xi32>
}
""")

H2O_PROGRAM = string.Template("""
// H2O: keep the $window most recent + the $heavy older slots with the largest
// accumulated attention, per request and head, of T = $T slots. The scores
// are gathered with the entries they belong to.
func.func @evict(
    %len: tensor<${B}xi32> {tok.name = "lengths"},
    %acc: tensor<${B}x${H}x${T}xf32> {tok.name = "acc_scores"},
    %k: tensor<${B}x${H}x${T}x${D}xf64> {tok.name = "keys"},
    %v: tensor<${B}x${H}x${T}x${D}xf64> {tok.name = "values"},
    %tpos: tensor<${B}x${H}x${T}xi32> {tok.name = "token_pos"})
    -> (tensor<${B}x${H}x${C}xi32> {tok.name = "slots"},
        tensor<${B}x${H}xi32> {tok.name = "count"},
        tensor<${B}x${H}x${C}x${D}xf64> {tok.name = "kept_keys"},
        tensor<${B}x${H}x${C}x${D}xf64> {tok.name = "kept_values"},
        tensor<${B}x${H}x${C}xi32> {tok.name = "kept_token_pos"},
        tensor<${B}x${H}x${C}xi32> {tok.name = "positions"},
        tensor<${B}x${H}x${C}xf32> {tok.name = "kept_acc"}) {
  %slots, %n = tok.kv_select %len scores %acc {window = $window, heavy = $heavy}
      : (tensor<${B}xi32>, tensor<${B}x${H}x${T}xf32>)
      -> (tensor<${B}x${H}x${C}xi32>, tensor<${B}x${H}xi32>)
  %k2, %v2, %t2, %a2, %pos = tok.kv_gather %slots, %n gather(%k, %v, %tpos, %acc)
      {position_mode = #tok.position_mode<original>}
      : (tensor<${B}x${H}x${C}xi32>, tensor<${B}x${H}xi32>,
         tensor<${B}x${H}x${T}x${D}xf64>, tensor<${B}x${H}x${T}x${D}xf64>,
         tensor<${B}x${H}x${T}xi32>, tensor<${B}x${H}x${T}xf32>)
      -> (tensor<${B}x${H}x${C}x${D}xf64>, tensor<${B}x${H}x${C}x${D}xf64>,
          tensor<${B}x${H}x${C}xi32>, tensor<${B}x${H}x${C}xf32>,
          tensor<${B}x${H}x${C}xi32>)
  return %slots, %n, %k2, %v2, %t2, %pos, %a2
      : tensor<${B}x${H}x${C}xi32>, tensor<${B}x${H}xi32>,
        tensor<${B}x${H}x${C}x${D}xf64>, tensor<${B}x${H}x${C}x${D}xf64>,
        tensor<${B}x${H}x${C}xi32>, tensor<${B}x${H}x${C}xi32>,
        tensor<${B}x${H}x${C}xf32>
}
""")


@dataclass(frozen=True)
class Policy:
    name: str  # "streamingllm" or "h2o"
    sinks: int = 0
    window: int = 0
    heavy: int = 0

    @property
    def budget(self):
        return self.sinks + self.window + self.heavy

    @property
    def rope_before_cache(self):
        return self.name == "h2o"


STREAMINGLLM = Policy("streamingllm", sinks=4, window=12)
H2O = Policy("h2o", window=8, heavy=8)


@functools.lru_cache(maxsize=None)
def evictor(policy, B, H, T, D):
    template = H2O_PROGRAM if policy.name == "h2o" else STREAMING_PROGRAM
    source = template.substitute(B=B, H=H, T=T, D=D, C=policy.budget,
                                 sinks=policy.sinks, window=policy.window,
                                 heavy=policy.heavy)
    artifact = winnow.compile(source, target="cpu", name=f"{policy.name}_evict")
    return winnow.load(artifact, device="cpu").evict


# ---------------------------------------------------------------------------
# The model (shared by both paths: parameters, RoPE, the MLP)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    vocab: int = 64
    width: int = 32
    layers: int = 2
    heads: int = 4

    @property
    def head_dim(self):
        return self.width // self.heads


def init_params(cfg, seed=0):
    g = torch.Generator().manual_seed(seed)

    def normal(*shape, std):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * std

    w = cfg.width
    params = {"embed": normal(cfg.vocab, w, std=1.0),
              "out": normal(w, cfg.vocab, std=3.0 / w ** 0.5)}
    for i in range(cfg.layers):
        for name, std in (("wq", 3.0), ("wk", 3.0), ("wv", 1.5), ("wo", 1.5)):
            params[f"{i}.{name}"] = normal(w, w, std=std / w ** 0.5)
        params[f"{i}.w1"] = normal(w, 4 * w, std=1.0 / w ** 0.5)
        params[f"{i}.w2"] = normal(4 * w, w, std=0.5 / w ** 0.5)
    return params


def norm(x):
    return torch.nn.functional.layer_norm(x, x.shape[-1:])


def rope(x, pos, base=10000.0):
    """Rotary embedding of x [..., d] at integer positions pos [...]."""
    half = x.shape[-1] // 2
    inv = base ** (-torch.arange(half, dtype=torch.float64) / half)
    angle = pos.to(torch.float64).unsqueeze(-1) * inv
    x1, x2 = x[..., :half], x[..., half:]
    cos, sin = angle.cos(), angle.sin()
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def mlp(params, i, x):
    return x + torch.nn.functional.gelu(norm(x) @ params[f"{i}.w1"]) @ params[f"{i}.w2"]


def qkv(params, cfg, i, x):
    """Per-head q, k, v [..., heads, S, d] of x [..., S, width]."""
    y = norm(x)
    shape = x.shape[:-1] + (cfg.heads, cfg.head_dim)
    return tuple((y @ params[f"{i}.{n}"]).view(shape).transpose(-2, -3)
                 for n in ("wq", "wk", "wv"))


# ---------------------------------------------------------------------------
# The Winnow path: one batch, fixed-capacity cache, tok program evicts
# ---------------------------------------------------------------------------


class WinnowDecoder:
    """Batched decoding with a [B, layers * heads, T, d] cache; `lengths`
    valid slots per request."""

    def __init__(self, params, cfg, policy, batch, capacity):
        self.params, self.cfg, self.policy = params, cfg, policy
        B, LH, T, d = batch, cfg.layers * cfg.heads, capacity, cfg.head_dim
        self.B, self.T = B, T
        self.keys = torch.zeros(B, LH, T, d, dtype=torch.float64)
        self.values = torch.zeros(B, LH, T, d, dtype=torch.float64)
        self.acc = torch.zeros(B, LH, T, dtype=torch.float32)       # H2O
        self.token_pos = torch.full((B, LH, T), -1, dtype=torch.int32)
        self.rope_pos = torch.zeros(B, LH, T, dtype=torch.int32)   # StreamingLLM
        self.lengths = torch.zeros(B, dtype=torch.long)   # valid cache slots
        self.seen = torch.zeros(B, dtype=torch.long)      # tokens so far
        self.evict_fn = evictor(policy, B, LH, T, d)
        self.results = None  # the program's result buffers, reused (out=)
        self.evict_s = 0.0

    def append(self, tokens, valid):
        """Appends right-padded tokens [B, S] (valid[b] real ones) at slots
        lengths[b].., attends, accumulates H2O scores. Returns the logits
        [B, V] of each request's last real token."""
        p, cfg, B = self.params, self.cfg, self.B
        S, H = tokens.shape[1], cfg.heads
        s = torch.arange(S)
        slot = self.lengths.unsqueeze(1) + s                   # [B, S]
        abs_pos = self.seen.unsqueeze(1) + s                   # [B, S]
        real = s < valid.unsqueeze(1)                          # [B, S]
        assert int(slot[real].max()) < self.T, "cache capacity exceeded"
        slot = slot.clamp(max=self.T - 1)
        rows = torch.arange(B).unsqueeze(1)
        # causal over the cache: query s sees slots <= lengths[b] + s
        visible = torch.arange(self.T) <= slot.unsqueeze(-1)   # [B, S, T]
        x = p["embed"][tokens]
        for i in range(cfg.layers):
            heads = slice(i * H, (i + 1) * H)
            q, k, v = qkv(p, cfg, i, x)                        # [B, H, S, d]
            if self.policy.rope_before_cache:
                q, k = rope(q, abs_pos.unsqueeze(1)), rope(k, abs_pos.unsqueeze(1))
            else:
                q = rope(q, slot.unsqueeze(1))
            # write the new entries at their slots (padding rows are written
            # too, past lengths + valid: never visible, overwritten later)
            for j in range(S):
                self.keys[rows[:, 0], heads, slot[:, j]] = k[:, :, j]
                self.values[rows[:, 0], heads, slot[:, j]] = v[:, :, j]
            self.token_pos[:, heads].scatter_(
                2, slot.unsqueeze(1).expand(B, H, S), abs_pos.int().unsqueeze(1).expand(B, H, S))
            self.rope_pos[:, heads].scatter_(
                2, slot.unsqueeze(1).expand(B, H, S), slot.int().unsqueeze(1).expand(B, H, S))
            cache_k = self.keys[:, heads]
            if not self.policy.rope_before_cache:
                cache_k = rope(cache_k, self.rope_pos[:, heads])
            scores = (q @ cache_k.transpose(-1, -2)) / cfg.head_dim ** 0.5
            a = torch.softmax(scores.masked_fill(~visible.unsqueeze(1), float("-inf")), dim=-1)
            if self.policy.name == "h2o":
                self.acc[:, heads] += (a * real[:, None, :, None]).sum(dim=2).float()
            out = (a @ self.values[:, heads]).transpose(1, 2).reshape(B, S, cfg.width)
            x = mlp(p, i, x + out @ p[f"{i}.wo"])
        self.lengths += valid
        self.seen += valid
        last = norm(x[torch.arange(B), valid - 1]) @ p["out"]
        return last

    def evict(self):
        """Runs the tok program; returns (slots [B, LH, C], count [B, LH])."""
        t0 = time.perf_counter()
        lengths = self.lengths.to(torch.int32)
        if self.policy.name == "h2o":
            r = self.evict_fn(lengths, self.acc, self.keys, self.values, self.token_pos,
                              out=self.results)
        else:
            r = self.evict_fn(lengths, self.keys, self.values, self.token_pos,
                              out=self.results)
        self.results = tuple(r)
        self.evict_s += time.perf_counter() - t0
        C = self.policy.budget
        self.keys[:, :, :C] = r.kept_keys
        self.values[:, :, :C] = r.kept_values
        self.token_pos[:, :, :C] = r.kept_token_pos
        self.token_pos[:, :, :C][r.positions < 0] = -1
        self.keys[:, :, C:] = 0
        self.values[:, :, C:] = 0
        self.token_pos[:, :, C:] = -1
        if self.policy.name == "h2o":
            # original positions = the slot each kept entry came from
            assert torch.equal(r.positions, r.slots)
            self.acc[:, :, :C] = r.kept_acc
            self.acc[:, :, C:] = 0
        else:
            # re-indexed positions: 0..count-1, the RoPE positions from now on
            self.rope_pos[:, :, :C] = r.positions
        count = r.count
        assert bool((count == count[:, :1]).all()), "heads kept different counts"
        self.lengths = count[:, 0].long()
        return r.slots.clone(), count.clone()

    def kept_token_positions(self):
        """The absolute token positions held per (request, layer*head)."""
        return [[self.token_pos[b, h, :int(self.lengths[b])].tolist()
                 for h in range(self.token_pos.shape[1])] for b in range(self.B)]


# ---------------------------------------------------------------------------
# The eager reference: one request at a time, growing tensors
# ---------------------------------------------------------------------------


def streaming_keep(n, sinks, window):
    """StartRecentKVCache: cache[:sinks] + cache[n - window:] (n > sinks +
    window)."""
    return torch.cat([torch.arange(sinks), torch.arange(n - window, n)])


def h2o_keep(acc, window, heavy):
    """H2O for acc [H, n] (n > window + heavy): per head, the `heavy` best
    older slots by accumulated attention (ranked as fp32, larger first, ties
    to the lower slot: a stable descending sort) plus the recent window,
    ascending. [H, heavy + window]."""
    H, n = acc.shape
    older = acc[:, :n - window].float()
    order = torch.sort(older, dim=1, descending=True, stable=True).indices
    hitters = order[:, :heavy].sort(dim=1).values
    return torch.cat([hitters, torch.arange(n - window, n).expand(H, -1)], dim=1)


class EagerRequest:
    """One request's decoding with per-layer growing caches and the policy
    applied by torch indexing."""

    def __init__(self, params, cfg, policy):
        self.params, self.cfg, self.policy = params, cfg, policy
        H, d = cfg.heads, cfg.head_dim
        empty = torch.zeros(H, 0, d, dtype=torch.float64)
        self.k = [empty] * cfg.layers            # [H, n, d] per layer
        self.v = [empty] * cfg.layers
        self.acc = [torch.zeros(H, 0)] * cfg.layers          # f32 [H, n]
        self.token_pos = [torch.zeros(H, 0, dtype=torch.long)] * cfg.layers
        self.seen = 0

    def append(self, tokens):
        """Appends tokens (a list), returns the logits [V] of the last."""
        p, cfg = self.params, self.cfg
        S = len(tokens)
        x = p["embed"][torch.tensor(tokens)]                 # [S, w]
        new_pos = torch.arange(self.seen, self.seen + S)
        for i in range(cfg.layers):
            q, k, v = qkv(p, cfg, i, x)                      # [H, S, d]
            n = self.k[i].shape[1]
            if self.policy.rope_before_cache:                # H2O: absolute
                q, k = rope(q, new_pos), rope(k, new_pos)
            self.k[i] = torch.cat([self.k[i], k], dim=1)
            self.v[i] = torch.cat([self.v[i], v], dim=1)
            self.token_pos[i] = torch.cat(
                [self.token_pos[i], new_pos.expand(cfg.heads, S)], dim=1)
            keys = self.k[i]
            if not self.policy.rope_before_cache:            # StreamingLLM:
                cache_pos = torch.arange(n + S)              # position = slot
                keys, q = rope(keys, cache_pos), rope(q, cache_pos[n:])
            scores = q @ keys.transpose(-1, -2) / cfg.head_dim ** 0.5
            causal = torch.arange(n + S) > (n + torch.arange(S)).unsqueeze(1)
            a = torch.softmax(scores.masked_fill(causal, float("-inf")), dim=-1)
            if self.policy.name == "h2o":
                self.acc[i] = torch.cat([self.acc[i], torch.zeros(cfg.heads, S)], dim=1)
                self.acc[i] = self.acc[i] + a.sum(dim=1).float()
            out = (a @ self.v[i]).transpose(0, 1).reshape(S, cfg.width)
            x = mlp(p, i, x + out @ p[f"{i}.wo"])
        self.seen += S
        return norm(x[-1]) @ p["out"]

    def evict(self):
        """The policy; returns the kept slots per layer, [H, c] each."""
        pol, kept = self.policy, []
        for i in range(self.cfg.layers):
            H, n = self.k[i].shape[:2]
            if n <= pol.budget:
                keep = torch.arange(n).expand(H, n)
            elif pol.name == "streamingllm":
                keep = streaming_keep(n, pol.sinks, pol.window).expand(H, -1)
            else:
                keep = h2o_keep(self.acc[i], pol.window, pol.heavy)
            idx = keep.unsqueeze(-1).expand(-1, -1, self.cfg.head_dim)
            self.k[i] = self.k[i].gather(1, idx)
            self.v[i] = self.v[i].gather(1, idx)
            self.token_pos[i] = self.token_pos[i].gather(1, keep)
            if pol.name == "h2o":
                self.acc[i] = self.acc[i].gather(1, keep)
            kept.append(keep.clone())
        return kept


# ---------------------------------------------------------------------------
# Side by side
# ---------------------------------------------------------------------------


@dataclass
class Step:
    lengths_before: list      # cache length per request before eviction
    count: list               # kept per request (Winnow)
    slots_match: bool         # Winnow's kept slots == the reference's, all heads
    tokens_match: bool        # the kept entries' token positions agree
    logit_diff: float         # max |Winnow-path logits - reference logits|
    tokens: list              # the greedy tokens fed next (Winnow path)
    ref_tokens: list
    slots: torch.Tensor       # Winnow's kept slots [B, layers * heads, C]
    logits: torch.Tensor      # Winnow path logits [B, V]
    kept_tokens: list         # [b][layer * heads + h]: absolute positions kept


@dataclass
class Run:
    policy: Policy
    steps: list = field(default_factory=list)
    winnow_s: float = 0.0     # Winnow path, all steps
    evict_s: float = 0.0      # of which the tok program
    eager_s: float = 0.0      # reference path, all steps


def _compare(dec, refs, slots, count):
    slots_ok = True
    for b, ref in enumerate(refs):
        kept = ref.last_kept
        for i, keep in enumerate(kept):
            for h in range(keep.shape[0]):
                row = dec.cfg.heads * i + h
                got = slots[b, row, :int(count[b, row])].tolist()
                slots_ok &= got == keep[h].tolist()
    positions = dec.kept_token_positions()
    tokens_ok = all(
        positions[b][dec.cfg.heads * i + h] == ref.token_pos[i][h].tolist()
        for b, ref in enumerate(refs) for i in range(dec.cfg.layers)
        for h in range(dec.cfg.heads))
    return slots_ok, tokens_ok


def run_side_by_side(params, cfg, policy, prompts, steps, reference=EagerRequest):
    """Greedy decoding of `prompts` for `steps` tokens by both paths; a Step
    record for the prefill (index 0) and every decode step. `reference` is
    the eager request class (a test may pass a variant)."""
    B = len(prompts)
    capacity = max(policy.budget + 1, max(len(p) for p in prompts))
    dec = WinnowDecoder(params, cfg, policy, B, capacity)
    refs = [reference(params, cfg, policy) for _ in prompts]
    run = Run(policy)
    evictor(policy, B, cfg.layers * cfg.heads, capacity, cfg.head_dim)  # compile first

    width = max(len(p) for p in prompts)
    tokens = torch.zeros(B, width, dtype=torch.long)
    for b, p in enumerate(prompts):
        tokens[b, :len(p)] = torch.tensor(p)
    valid = torch.tensor([len(p) for p in prompts])
    ref_inputs = [list(p) for p in prompts]
    for _ in range(steps + 1):
        t0 = time.perf_counter()
        logits = dec.append(tokens, valid)
        before = dec.lengths.tolist()
        slots, count = dec.evict()
        next_tokens = logits.float().argmax(dim=-1)
        run.winnow_s += time.perf_counter() - t0

        t0 = time.perf_counter()
        ref_logits = []
        for ref, inputs in zip(refs, ref_inputs):
            ref_logits.append(ref.append(inputs))
            ref.last_kept = ref.evict()
        ref_logits = torch.stack(ref_logits)
        ref_next = ref_logits.float().argmax(dim=-1)
        run.eager_s += time.perf_counter() - t0

        slots_ok, tokens_ok = _compare(dec, refs, slots, count)
        run.steps.append(Step(before, count[:, 0].tolist(), slots_ok, tokens_ok,
                              float((logits - ref_logits).abs().max()),
                              next_tokens.tolist(), ref_next.tolist(), slots, logits,
                              dec.kept_token_positions()))
        tokens, valid = next_tokens.unsqueeze(1), torch.ones(B, dtype=torch.long)
        ref_inputs = [[t] for t in ref_next.tolist()]
    run.evict_s = dec.evict_s
    return run


def main():
    torch.set_num_threads(1)
    cfg = Config()
    params = init_params(cfg)
    g = torch.Generator().manual_seed(1)
    prompts = [torch.randint(0, cfg.vocab, (n,), generator=g).tolist() for n in (5, 13, 22)]
    steps, B = 32, len(prompts)
    for policy in (STREAMINGLLM, H2O):
        run = run_side_by_side(params, cfg, policy, prompts, steps)
        what = (f"sinks {policy.sinks} + window {policy.window}" if policy.name == "streamingllm"
                else f"window {policy.window} + heavy {policy.heavy}")
        print(f"{policy.name}: budget C = {policy.budget} ({what}); prompts "
              f"{[len(p) for p in prompts]}, {steps} decode steps, "
              f"{cfg.layers} layers x {cfg.heads} heads")
        print("  step  cache before -> kept   slots=ref  max|dlogits|")
        for i, s in enumerate(run.steps):
            label = "prefill" if i == 0 else f"{i:7d}"
            print(f"  {label}  {str(s.lengths_before):>12} -> {str(s.count):<12} "
                  f"{str(s.slots_match and s.tokens_match):5}  {s.logit_diff:.1e}")
        n = len(run.steps)
        same_tokens = all(s.tokens == s.ref_tokens for s in run.steps)
        print(f"  Winnow path {1e6 * run.winnow_s / n:.0f} us/step (tok program "
              f"{1e6 * run.evict_s / n:.0f} us), eager reference {1e6 * run.eager_s / n:.0f} "
              f"us/step; kept slots equal at every step: "
              f"{all(s.slots_match and s.tokens_match for s in run.steps)}; "
              f"greedy tokens equal: {same_tokens}")
        last = run.steps[-1].kept_tokens[-1]
        print(f"  request {B - 1} now holds tokens (absolute positions), layer 0: "
              + "; ".join(f"head {h}: {last[h]}" for h in range(cfg.heads)))


if __name__ == "__main__":
    main()
