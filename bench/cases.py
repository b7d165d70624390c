"""The benchmark matrix (the project's performance targets, scaled to one short device run).

Every case kind describes one token op pipeline:

  inputs(p)          [(name, shape, dtype)] of the tok function's arguments
  outputs(p)         [(name, shape, dtype)] of its results
  body(p)            the tok ops (MLIR text), using %<input> and defining %<output>
  generate(p, rng)   {name: numpy array}: seeded inputs (bf16 as uint16 bits)
  eager(p)           a function of the torch input tensors: the PyTorch eager baseline
  check(p, x, w, e)  (ok, message): Winnow's results `w` (numpy, bf16 as bits)
                     against a reference, given the inputs `x` and eager's results `e`
  roofline_bytes(p)  the minimal bytes the op must move (read + write)

Inputs are generated from the seed on the machine that runs the benchmark, so
the bundle carries only programs and artifacts. dtypes: bf16, f32, i32, i64, i1.
Ties are broken by the lower index everywhere (tok's semantics); the checks
implement that rule independently of torch.
"""
import math

import numpy as np

# ----------------------------------------------------------------- dtypes

MLIR_ELEMENT = {"bf16": "bf16", "f32": "f32", "i32": "i32", "i64": "i64", "i1": "i1"}
BYTES = {"bf16": 2, "f32": 4, "i32": 4, "i64": 8, "i1": 1}


def tensor_type(shape, dtype):
    return "tensor<%sx%s>" % ("x".join(str(s) for s in shape), MLIR_ELEMENT[dtype])


def to_bf16_bits(values):
    """float32 -> bf16 bit patterns (uint16), round to nearest even (no NaN here)."""
    u = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    rounding = ((u >> 16) & 1) + np.uint32(0x7FFF)
    return ((u + rounding) >> 16).astype(np.uint16)


def bf16_bits_to_f32(bits):
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def normal_bf16(rng, shape):
    return to_bf16_bits(rng.standard_normal(shape, dtype=np.float32))


def payload_bf16(rng, shape):
    """Cheap random bf16 values in ±[0.5, 1): for tensors that are only moved or averaged."""
    bits = rng.integers(0, 1 << 16, size=shape, dtype=np.uint16)
    return (bits & np.uint16(0x807F)) | np.uint16(0x3F00)


def topk_lower_index(scores, k):
    """Ascending indices of the k largest scores per row, ties to the lower index."""
    order = np.argsort(-scores, axis=-1, kind="stable")[..., :k]
    return np.sort(order, axis=-1)


def gather_rows(source, indices):
    """source [B, N, ...], indices [B, K] -> [B, K, ...]."""
    return np.take_along_axis(source, indices.reshape(indices.shape + (1,) * (source.ndim - 2)), axis=1)


def result(ok, message="ok"):
    return bool(ok), message


def first_failure(checks):
    """checks: [(ok, what)] -> (ok, message naming the first failing check)."""
    for ok, what in checks:
        if not ok:
            return False, what + " differs"
    return True, "ok"


def torch_gather_rows(hidden, idx):
    return hidden.gather(1, idx.unsqueeze(-1).expand(-1, -1, hidden.shape[-1]))


# ----------------------------------------------------------------- pruning

class PruneScores:
    """Top-k of given scores, then gather the kept hidden states (bit-exact)."""
    family = "prune"

    def inputs(p):
        return [("scores", (p["B"], p["N"]), "f32"), ("hidden", (p["B"], p["N"], p["D"]), "bf16")]

    def outputs(p):
        B, k, D = p["B"], p["k"], p["D"]
        return [("indices", (B, k), "i32"), ("count", (B,), "i32"), ("kept", (B, k, D), "bf16")]

    def body(p):
        B, N, D, k = p["B"], p["N"], p["D"], p["k"]
        return f"""
  %indices, %count = tok.select #tok.top_k<{k}> of %scores : ({tensor_type((B, N), 'f32')}) -> ({tensor_type((B, k), 'i32')}, {tensor_type((B,), 'i32')})
  %kept, %map = tok.compact %indices, %count gather(%hidden) : ({tensor_type((B, k), 'i32')}, {tensor_type((B,), 'i32')}, {tensor_type((B, N, D), 'bf16')}) -> ({tensor_type((B, k, D), 'bf16')}, {tensor_type((B, N), 'i32')})"""

    def generate(p, rng):
        return {"scores": rng.standard_normal((p["B"], p["N"]), dtype=np.float32),
                "hidden": payload_bf16(rng, (p["B"], p["N"], p["D"]))}

    def eager(p):
        k = p["k"]

        def prune_given_scores(scores, hidden):
            idx = scores.topk(k, dim=1).indices.sort(dim=1).values
            return torch_gather_rows(hidden, idx), idx
        return prune_given_scores

    def check(p, x, w, e):
        want = topk_lower_index(x["scores"], p["k"])
        return first_failure([
            (np.array_equal(w["indices"], want), "indices"),
            (np.all(w["count"] == p["k"]), "count"),
            (np.array_equal(w["kept"], gather_rows(x["hidden"], want)), "kept rows (bits)")])

    def roofline_bytes(p):
        B, N, D, k = p["B"], p["N"], p["D"], p["k"]
        return B * N * 4 + 2 * B * k * D * 2 + B * k * 4 + B * 4


class PruneFastV:
    """FastV: score = mean over heads of exp(q_last·K/√d - lse), where lse is
    the log-sum-exp of the whole causal row that the layer's attention
    kernel returns (FastV's softmax runs over the whole row, not the image
    keys alone), top-k, gather."""
    family = "prune"

    def inputs(p):
        B, H, N, d = p["B"], p["H"], p["N"], p["d"]
        return [("q_last", (B, H, 1, d), "bf16"), ("keys", (B, H, N, d), "bf16"),
                ("row_lse", (B, H, 1), "f32"), ("hidden", (B, N, H * d), "bf16")]

    def outputs(p):
        B, N, k, D = p["B"], p["N"], p["k"], p["H"] * p["d"]
        return [("scores", (B, N), "f32"), ("indices", (B, k), "i32"), ("count", (B,), "i32"),
                ("kept", (B, k, D), "bf16")]

    def body(p):
        B, H, N, d, k = p["B"], p["H"], p["N"], p["d"], p["k"]
        D = H * d
        q, K = tensor_type((B, H, 1, d), "bf16"), tensor_type((B, H, N, d), "bf16")
        lse = tensor_type((B, H, 1), "f32")
        return f"""
  %scores = tok.attn_score %q_last, %keys lse %row_lse : ({q}, {K}, {lse}) -> {tensor_type((B, N), 'f32')}
  %indices, %count = tok.select #tok.top_k<{k}> of %scores : ({tensor_type((B, N), 'f32')}) -> ({tensor_type((B, k), 'i32')}, {tensor_type((B,), 'i32')})
  %kept, %map = tok.compact %indices, %count gather(%hidden) : ({tensor_type((B, k), 'i32')}, {tensor_type((B,), 'i32')}, {tensor_type((B, N, D), 'bf16')}) -> ({tensor_type((B, k, D), 'bf16')}, {tensor_type((B, N), 'i32')})"""

    def image_logits(p, x):
        q = bf16_bits_to_f32(x["q_last"])[:, :, 0].astype(np.float64)
        keys = bf16_bits_to_f32(x["keys"]).astype(np.float64)
        return np.einsum("bhd,bhnd->bhn", q, keys) / math.sqrt(p["d"])

    def generate(p, rng):
        B, H, N, d = p["B"], p["H"], p["N"], p["d"]
        x = {"q_last": normal_bf16(rng, (B, H, 1, d)), "keys": normal_bf16(rng, (B, H, N, d)),
             "hidden": payload_bf16(rng, (B, N, H * d))}
        # The whole row's lse: the image keys' own plus, per head, the mass
        # of the rest of the row (system prompt sinks, text): the image
        # span holds between 5 % and 95 % of each head's attention.
        logits = PruneFastV.image_logits(p, x)
        top = logits.max(-1)
        image_lse = top + np.log(np.exp(logits - top[..., None]).sum(-1))
        share = rng.uniform(0.05, 0.95, size=(B, H))
        x["row_lse"] = (image_lse - np.log(share)).astype(np.float32)[..., None]
        return x

    def eager(p):
        k, d = p["k"], p["d"]

        def prune_fastv(q_last, keys, row_lse, hidden):
            logits = torch.einsum("bhd,bhnd->bhn", q_last[:, :, 0].float(), keys.float()) / math.sqrt(d)
            scores = (logits - row_lse).exp().mean(1)
            idx = scores.topk(k, dim=1).indices.sort(dim=1).values
            return torch_gather_rows(hidden, idx), idx
        return prune_fastv

    def check(p, x, w, e):
        logits = PruneFastV.image_logits(p, x)
        want_scores = np.exp(logits - x["row_lse"].astype(np.float64)).mean(1)
        # The selection is checked on Winnow's own fp32 scores (fp32 vs fp64
        # rounding may reorder near-equal scores).
        own = topk_lower_index(w["scores"], p["k"])
        return first_failure([
            (np.allclose(w["scores"], want_scores, rtol=1e-4, atol=1e-9), "scores"),
            (np.array_equal(w["indices"], own), "indices"),
            (np.all(w["count"] == p["k"]), "count"),
            (np.array_equal(w["kept"], gather_rows(x["hidden"], own)), "kept rows (bits)")])

    def roofline_bytes(p):
        B, H, N, d, k = p["B"], p["H"], p["N"], p["d"], p["k"]
        return (B * H * N * d * 2 + B * H * d * 2 + B * H * 4 + 2 * B * k * H * d * 2
                + B * k * 4 + B * N * 4 + B * 4)


# ----------------------------------------------------------------- merging

class TomeMerge:
    """ToMe bipartite soft matching (mean merge, no class token) and scatter-merge."""
    family = "merge"

    def inputs(p):
        B, N, D, C = p["B"], p["N"], p["D"], p["C"]
        return [("metric", (B, N, C), "bf16"), ("x", (B, N, D), "bf16")]

    def outputs(p):
        B, N, D, r = p["B"], p["N"], p["D"], p["r"]
        return [("merged", (B, N - r, D), "bf16"), ("sizes", (B, N - r), "f32"),
                ("parent", (B, N), "i32"), ("count", (B,), "i32")]

    def body(p):
        B, N, D, C, r = p["B"], p["N"], p["D"], p["C"], p["r"]
        plan = f"({tensor_type((B, N), 'i32')}, {tensor_type((B,), 'i32')})"
        return f"""
  %parent, %count = tok.bipartite_plan %metric {{r = {r}}} : ({tensor_type((B, N, C), 'bf16')}) -> {plan}
  %merged, %sizes = tok.scatter_merge %parent, %count gather(%x) {{reduction = #tok.merge_reduction<mean>}} : ({tensor_type((B, N), 'i32')}, {tensor_type((B,), 'i32')}, {tensor_type((B, N, D), 'bf16')}) -> ({tensor_type((B, N - r, D), 'bf16')}, {tensor_type((B, N - r), 'f32')})"""

    def generate(p, rng):
        B, N, D, C = p["B"], p["N"], p["D"], p["C"]
        return {"metric": normal_bf16(rng, (B, N, C)), "x": payload_bf16(rng, (B, N, D))}

    def eager(p):
        r = p["r"]

        def tome_merge(metric, x):  # ToMe's bipartite_soft_matching + merge (mean), as anchors.py
            metric = metric / metric.norm(dim=-1, keepdim=True)
            a, b = metric[:, ::2], metric[:, 1::2]
            scores = a @ b.transpose(-1, -2)
            node_max, node_idx = scores.max(dim=-1)
            edge_idx = node_max.argsort(dim=-1, descending=True)[..., None]
            unm_idx, src_idx = edge_idx[:, r:], edge_idx[:, :r]
            dst_idx = node_idx[..., None].gather(1, src_idx)
            xa, xb = x[:, ::2], x[:, 1::2]
            Bb, Na, Dd = xa.shape
            unm = xa.gather(1, unm_idx.expand(Bb, Na - r, Dd))
            src = xa.gather(1, src_idx.expand(Bb, r, Dd))
            xb = xb.scatter_reduce(1, dst_idx.expand(Bb, r, Dd), src, reduce="mean")
            return torch.cat([unm, xb], dim=1)
        return tome_merge

    @staticmethod
    def reference_plan(metric, r, tie_tol=1e-4):
        """(parent [N], near_tie [N] bool) for one image, in float64, tok's tie rule."""
        norm = np.maximum(np.linalg.norm(metric, axis=-1, keepdims=True), 1e-12)
        m = metric / norm
        a, b = m[0::2], m[1::2]
        sim = a @ b.T
        best, dst = sim.max(1), sim.argmax(1)
        rank = np.argsort(-best, kind="stable")
        n_a, unmerged = len(a), len(a) - r
        parent = np.empty(len(metric), dtype=np.int64)
        parent[1::2] = unmerged + np.arange(len(b))
        parent[2 * rank[r:]] = np.arange(unmerged)
        parent[2 * rank[:r]] = unmerged + dst[rank[:r]]
        # An A token is at a near tie when its best similarity is within
        # tie_tol of another A token's, or its two best destinations are.
        near = np.zeros(len(metric), dtype=bool)
        sorted_best = best[rank]
        gap = np.abs(np.diff(sorted_best)) < tie_tol
        close = np.zeros(n_a, dtype=bool)
        close[rank[:-1]] |= gap
        close[rank[1:]] |= gap
        top2 = np.sort(sim, axis=1)[:, -2:] if sim.shape[1] > 1 else np.zeros((n_a, 2))
        close |= (top2[:, 1] - top2[:, 0]) < tie_tol
        near[0::2] = close
        return parent, near

    def check(p, x, w, e):
        B, N, r = p["B"], p["N"], p["r"]
        out_rows = N - r
        metric = bf16_bits_to_f32(x["metric"]).astype(np.float64)
        values = bf16_bits_to_f32(x["x"]).astype(np.float64)
        if not np.all(w["count"] == out_rows):
            return result(False, "count differs")
        tolerated = 0
        for b in range(B):
            want, near = TomeMerge.reference_plan(metric[b], r)
            differ = w["parent"][b] != want
            if np.any(differ & ~near):
                return result(False, "plan differs at image %d (not a near tie)" % b)
            tolerated += int(differ.sum())
            parent = w["parent"][b]
            sums = np.zeros((out_rows, values.shape[-1]))
            np.add.at(sums, parent, values[b])
            sizes = np.bincount(parent, minlength=out_rows).astype(np.float64)
            mean = sums / np.maximum(sizes, 1)[:, None]
            got = bf16_bits_to_f32(w["merged"][b])
            if not np.array_equal(w["sizes"][b], sizes):
                return result(False, "sizes differ at image %d" % b)
            if not np.allclose(got, mean, rtol=2 ** -8, atol=1e-6):
                return result(False, "merged rows differ at image %d" % b)
        return result(True, "ok" if not tolerated else "ok (%d tokens placed differently at near ties)" % tolerated)

    def roofline_bytes(p):
        B, N, D, C, r = p["B"], p["N"], p["D"], p["C"], p["r"]
        return B * N * C * 2 + B * N * D * 2 + B * (N - r) * D * 2 + B * (N - r) * 4 + B * N * 4 + B * 4


# ----------------------------------------------------------------- chunking

def expected_chunks(p):
    """Expected chunk count per row at boundary rate p['rate'] (token 0 always starts one)."""
    return 1 + int(round(p["rate"] * (p["L"] - 1)))


class HNetChunk:
    """H-Net routing (cosine of q_{t-1}, k_t), threshold 0.5, compact chunks and gates."""
    family = "chunk"

    def inputs(p):
        B, L, D = p["B"], p["L"], p["D"]
        return [("queries", (B, L, D), "bf16"), ("keys", (B, L, D), "bf16"), ("hidden", (B, L, D), "bf16")]

    def outputs(p):
        B, L, D = p["B"], p["L"], p["D"]
        return [("probs", (B, L), "f32"), ("boundaries", (B, L), "i1"), ("indices", (B, L), "i32"),
                ("count", (B,), "i32"), ("chunks", (B, L, D), "bf16"), ("gates", (B, L), "f32")]

    def body(p):
        B, L, D = p["B"], p["L"], p["D"]
        h, BL = tensor_type((B, L, D), "bf16"), tensor_type((B, L), "f32")
        idx, cnt = tensor_type((B, L), "i32"), tensor_type((B,), "i32")
        return f"""
  %probs, %boundaries = tok.boundary %queries, %keys : ({h}, {h}) -> ({BL}, {tensor_type((B, L), 'i1')})
  %indices, %count = tok.select #tok.threshold<0.5, gt> of %probs : ({BL}) -> ({idx}, {cnt})
  %chunks, %gates, %map = tok.compact %indices, %count gather(%hidden, %probs) : ({idx}, {cnt}, {h}, {BL}) -> ({h}, {BL}, {idx})"""

    def generate(p, rng):
        """k_t = ±q_{t-1} + 0.5·q_{t-7}: a boundary (cos < 0) where the sign is -, at rate p['rate']."""
        B, L, D = p["B"], p["L"], p["D"]
        q = rng.standard_normal((B, L, D), dtype=np.float32)
        sign = np.where(rng.random((B, L)) < p["rate"], -1.0, 1.0).astype(np.float32)
        k = sign[..., None] * np.roll(q, 1, axis=1) + 0.5 * np.roll(q, 7, axis=1)
        return {"queries": to_bf16_bits(q), "keys": to_bf16_bits(k), "hidden": payload_bf16(rng, (B, L, D))}

    def eager(p):
        def hnet_chunk(queries, keys, hidden):  # anchors.py's routing + argsort compaction
            cos = F.cosine_similarity(queries[:, :-1].float(), keys[:, 1:].float(), dim=-1)
            prob = F.pad(((1 - cos) / 2).clamp(0, 1), (1, 0), value=1.0)
            boundary = prob > 0.5
            counts = boundary.sum(1)
            M = int(counts.max())
            order = torch.argsort((~boundary).to(torch.int8), dim=1, stable=True)[:, :M]
            chunks = hidden.gather(1, order.unsqueeze(-1).expand(-1, -1, hidden.shape[-1]))
            return chunks, prob.gather(1, order), boundary, counts
        return hnet_chunk

    def check(p, x, w, e):
        B, L = p["B"], p["L"]
        checks = []
        for b in range(B):
            q = bf16_bits_to_f32(x["queries"][b]).astype(np.float64)
            k = bf16_bits_to_f32(x["keys"][b]).astype(np.float64)
            qn = q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), 1e-12)
            kn = k / np.maximum(np.linalg.norm(k, axis=-1, keepdims=True), 1e-12)
            prob = np.concatenate([[1.0], np.clip((1 - (qn[:-1] * kn[1:]).sum(-1)) / 2, 0, 1)])
            own = w["boundaries"][b].astype(bool)
            decided = np.abs(prob - 0.5) > 1e-5
            kept = np.flatnonzero(own)
            n = len(kept)
            checks += [
                (np.allclose(w["probs"][b], prob, atol=1e-5), "probs"),
                (np.array_equal(own, w["probs"][b] > 0.5), "boundaries vs probs"),
                (np.array_equal(own[decided], prob[decided] > 0.5), "boundaries"),
                (w["count"][b] == n, "count"),
                (np.array_equal(w["indices"][b, :n], kept) and np.all(w["indices"][b, n:] == -1), "indices"),
                (np.array_equal(w["chunks"][b, :n], x["hidden"][b, kept]) and not w["chunks"][b, n:].any(), "chunks (bits)"),
                (np.array_equal(w["gates"][b, :n], w["probs"][b, kept]) and not w["gates"][b, n:].any(), "gates")]
        return first_failure(checks)

    def roofline_bytes(p):
        B, L, D = p["B"], p["L"], p["D"]
        M = expected_chunks(p)
        return 3 * B * L * D * 2 + B * M * D * 2 + B * L * (4 + 1) + B * M * (4 + 4) + B * 4


class HNetDechunk:
    """EMA over each row's chunks, then plug back into every token plus the residual."""
    family = "chunk"
    EPSILON = 1e-4  # tok.ema_scan's default (H-Net's)

    def inputs(p):
        B, L, D = p["B"], p["L"], p["D"]
        return [("z", (B, L, D), "bf16"), ("gates", (B, L), "f32"), ("count", (B,), "i32"),
                ("boundaries", (B, L), "i1"), ("residual", (B, L, D), "bf16")]

    def outputs(p):
        return [("out", (p["B"], p["L"], p["D"]), "bf16")]

    def body(p):
        B, L, D = p["B"], p["L"], p["D"]
        z, f = tensor_type((B, L, D), "bf16"), tensor_type((B, L, D), "f32")
        return f"""
  %zbar = tok.ema_scan %z, %gates, %count : ({z}, {tensor_type((B, L), 'f32')}, {tensor_type((B,), 'i32')}) -> {f}
  %out = tok.expand %zbar, %boundaries residual %residual : ({f}, {tensor_type((B, L), 'i1')}, {z}) -> {z}"""

    def generate(p, rng):
        B, L, D = p["B"], p["L"], p["D"]
        boundaries = rng.random((B, L)) < p["rate"]
        boundaries[:, 0] = True
        gates = rng.uniform(0.5, 1.0, (B, L)).astype(np.float32)
        gates[:, 0] = 1.0
        return {"z": payload_bf16(rng, (B, L, D)), "gates": gates,
                "count": boundaries.sum(1).astype(np.int32), "boundaries": boundaries,
                "residual": payload_bf16(rng, (B, L, D))}

    def eager(p):
        eps = HNetDechunk.EPSILON

        def hnet_dechunk(z, gates, count, boundaries, residual):
            # anchors.py's vectorised log-space scan (the fast eager form; it
            # over/underflows on long chunk sequences, so it is timed, and
            # Winnow is checked against the exact recurrence instead).
            M = z.shape[1]
            P = gates[:, :M].clamp(eps, 1 - eps)
            la = torch.log(1 - P).cumsum(1)
            acc = ((P * torch.exp(-la))[..., None] * z.float()).cumsum(1) * torch.exp(la)[..., None]
            idx = (boundaries.long().cumsum(1) - 1).clamp(min=0)
            out = acc.gather(1, idx.unsqueeze(-1).expand(-1, -1, z.shape[-1])) + residual.float()
            return out.to(residual.dtype)
        return hnet_dechunk

    @staticmethod
    def eager_inputs(x_torch, x):
        """Eager scans only the valid chunks: slice z to the longest row's count (host-side, untimed)."""
        M = int(x["count"].max())
        args = dict(x_torch)
        args["z"] = x_torch["z"][:, :M]
        return args

    def check(p, x, w, e):
        eps = HNetDechunk.EPSILON
        B, L, D = p["B"], p["L"], p["D"]
        z = bf16_bits_to_f32(x["z"]).astype(np.float64)
        P = np.clip(x["gates"].astype(np.float64), eps, 1 - eps)
        count = x["count"]
        ema = np.zeros((B, L, D))
        prev = np.zeros((B, D))
        for j in range(int(count.max())):
            live = (j < count)[:, None]
            prev = np.where(live, P[:, j, None] * z[:, j] + (1 - P[:, j, None]) * prev, prev)
            ema[:, j] = np.where(live, prev, 0.0)
        seg = np.cumsum(x["boundaries"], axis=1) - 1
        want = gather_rows(ema, np.maximum(seg, 0)) + bf16_bits_to_f32(x["residual"])
        got = bf16_bits_to_f32(w["out"])
        return first_failure([(np.allclose(got, want, rtol=2 ** -8, atol=2 ** -7), "out")])

    def roofline_bytes(p):
        B, L, D = p["B"], p["L"], p["D"]
        M = expected_chunks(p)
        return B * M * D * 2 + B * M * 4 + B * L + 2 * B * L * D * 2 + B * 4


# ----------------------------------------------------------------- verification

def verify_outputs(p):
    B, K = p["B"], p["K"]
    return [("tokens", (B, K + 1), "i32"), ("num_accepted", (B,), "i32"), ("num_emitted", (B,), "i32")]


def expected_tokens(drafts, n_accepted, next_token):
    B, K = drafts.shape
    tokens = np.full((B, K + 1), -1, dtype=np.int64)
    for b in range(B):
        n = int(n_accepted[b])
        tokens[b, :n] = drafts[b, :n]
        tokens[b, n] = next_token[b]
    return tokens


def check_verify(w, drafts, n_accepted, next_token):
    return first_failure([
        (np.array_equal(w["num_accepted"], n_accepted), "num_accepted"),
        (np.array_equal(w["num_emitted"], n_accepted + 1), "num_emitted"),
        (np.array_equal(w["tokens"], expected_tokens(drafts, n_accepted, next_token)), "tokens")])


class VerifyGreedy:
    """Chain verification, greedy: accept while argmax == draft, then one more token."""
    family = "verify"

    def inputs(p):
        B, K, V = p["B"], p["K"], p["V"]
        return [("logits", (B, K + 1, V), "bf16"), ("drafts", (B, K), "i32"), ("num_draft", (B,), "i32")]

    outputs = verify_outputs

    def body(p):
        B, K, V = p["B"], p["K"], p["V"]
        args = f"{tensor_type((B, K + 1, V), 'bf16')}, {tensor_type((B, K), 'i32')}, {tensor_type((B,), 'i32')}"
        res = ", ".join(tensor_type(s, t) for _, s, t in verify_outputs(p))
        return f"""
  %tokens, %num_accepted, %num_emitted = tok.spec_verify %logits, %drafts, %num_draft {{mode = #tok.verify_mode<greedy>}} : ({args}) -> ({res})"""

    def generate(p, rng):
        B, K, V = p["B"], p["K"], p["V"]
        logits = normal_bf16(rng, (B, K + 1, V))
        drafts = bf16_bits_to_f32(logits).argmax(-1)[:, :K].astype(np.int32)
        miss = rng.integers(0, K + 1, B)  # first mismatching draft (K: all accepted)
        for b in range(B):
            if miss[b] < K:
                drafts[b, miss[b]] = (drafts[b, miss[b]] + 1) % V
        return {"logits": logits, "drafts": drafts, "num_draft": np.full(B, K, np.int32)}

    def eager(p):
        def greedy_verify(logits, drafts, num_draft):  # anchors.py
            am = logits.argmax(-1)
            match = (am[:, :drafts.shape[1]] == drafts.long()).int()
            n_acc = match.cumprod(1).sum(1)
            return n_acc, am.gather(1, n_acc[:, None]).squeeze(1)
        return greedy_verify

    def check(p, x, w, e):
        K = p["K"]
        am = bf16_bits_to_f32(x["logits"]).argmax(-1)  # first index on ties
        n_acc = np.cumprod(am[:, :K] == x["drafts"], axis=1).sum(1)
        nxt = am[np.arange(p["B"]), n_acc]
        return check_verify(w, x["drafts"], n_acc, nxt)

    def roofline_bytes(p):
        B, K, V = p["B"], p["K"], p["V"]
        return B * (K + 1) * V * 2 + B * K * 4 + B * 4 + B * (K + 1) * 4 + 2 * B * 4


class VerifyRejection:
    """Chain verification, rejection sampling with explicit noise (lossless speculative sampling)."""
    family = "verify"

    def inputs(p):
        B, K, V = p["B"], p["K"], p["V"]
        return [("logits", (B, K + 1, V), "bf16"), ("drafts", (B, K), "i32"), ("num_draft", (B,), "i32"),
                ("draft_probs", (B, K, V), "f32"), ("uniforms", (B, K), "f32"), ("exponentials", (B, V), "f32")]

    outputs = verify_outputs

    def body(p):
        args = ", ".join(tensor_type(s, t) for _, s, t in VerifyRejection.inputs(p))
        res = ", ".join(tensor_type(s, t) for _, s, t in verify_outputs(p))
        return f"""
  %tokens, %num_accepted, %num_emitted = tok.spec_verify %logits, %drafts, %num_draft draft_probs %draft_probs uniforms %uniforms exponentials %exponentials {{mode = #tok.verify_mode<rejection>}} : ({args}) -> ({res})"""

    def generate(p, rng):
        B, K, V = p["B"], p["K"], p["V"]
        draft_logits = rng.standard_normal((B, K, V), dtype=np.float32)
        draft_logits -= draft_logits.max(-1, keepdims=True)
        q = np.exp(draft_logits)
        q /= q.sum(-1, keepdims=True)
        return {"logits": normal_bf16(rng, (B, K + 1, V)),
                "drafts": rng.integers(0, V, (B, K), dtype=np.int32),
                "num_draft": np.full(B, K, np.int32), "draft_probs": q,
                "uniforms": rng.random((B, K), dtype=np.float32),
                "exponentials": np.maximum(rng.standard_exponential((B, V), dtype=np.float32), 1e-30)}

    def eager(p):
        def rejection_verify(logits, drafts, num_draft, draft_probs, uniforms, exponentials):
            # anchors.py's spec_verify, written to tok's acceptance rule:
            # pass iff q(x) > 0, p(x) > 0 and p(x)/q(x) >= u.
            K = drafts.shape[1]
            prob = logits.float().softmax(-1)
            d = drafts.long()[..., None]
            pd = prob[:, :K].gather(2, d).squeeze(-1)
            qd = draft_probs.gather(2, d).squeeze(-1)
            rejected = ~((qd > 0) & (pd > 0) & (pd / qd >= uniforms))
            first = torch.where(rejected.any(1), rejected.int().argmax(1), torch.full_like(num_draft.long(), K))
            rows = torch.arange(drafts.shape[0], device=logits.device)
            p_row = prob[rows, first]
            q_row = torch.cat([draft_probs, torch.zeros_like(draft_probs[:, :1])], 1)[rows, first]
            resid = (p_row - q_row).clamp_min(0)
            resid = torch.where(resid.sum(-1, keepdim=True) > 0, resid, p_row)
            return first, (resid / exponentials).argmax(-1)
        return rejection_verify

    def check(p, x, w, e):
        # Against the eager result (fp32, the same rule and noise).
        n_acc, nxt = e[0], e[1]
        return check_verify(w, x["drafts"], n_acc, nxt)

    def roofline_bytes(p):
        B, K, V = p["B"], p["K"], p["V"]
        # every logits row (its softmax normaliser), one draft-prob row for the
        # residual, the exponentials, the drafts' q(x) and the small outputs
        return B * (K + 1) * V * 2 + 2 * B * V * 4 + B * K * (4 + 4 + 4) + B * (K + 1) * 4 + 3 * B * 4


def oracle(name):
    """An independent NumPy reference of test/oracle (bench.py prepare copies
    them into the bundle beside this file)."""
    import importlib
    import os
    import sys
    here = os.path.dirname(os.path.abspath(__file__))
    for folder in (here, os.path.join(os.path.dirname(here), "test", "oracle")):
        if os.path.exists(os.path.join(folder, name + ".py")) and folder not in sys.path:
            sys.path.insert(0, folder)
    return importlib.import_module(name)


TYPICAL_EPSILON, TYPICAL_ALPHA = 0.09, 0.3  # Medusa's posterior threshold and alpha


class VerifyTypical:
    """Chain verification, Medusa's typical acceptance; the next token sampled from p (Philox noise)."""
    family = "verify"

    def inputs(p):
        B, K, V = p["B"], p["K"], p["V"]
        return [("logits", (B, K + 1, V), "bf16"), ("drafts", (B, K), "i32"), ("num_draft", (B,), "i32"),
                ("temperature", (B,), "f32"), ("seed", (B,), "i64"), ("offset", (B,), "i64")]

    outputs = verify_outputs

    def body(p):
        args = ", ".join(tensor_type(s, t) for _, s, t in VerifyTypical.inputs(p))
        res = ", ".join(tensor_type(s, t) for _, s, t in verify_outputs(p))
        return f"""
  %tokens, %num_accepted, %num_emitted = tok.spec_verify %logits, %drafts, %num_draft temperature %temperature seed %seed offset %offset {{mode = #tok.verify_mode<typical>, typical_epsilon = {TYPICAL_EPSILON} : f64, typical_alpha = {TYPICAL_ALPHA} : f64}} : ({args}) -> ({res})"""

    def generate(p, rng):
        B, K, V = p["B"], p["K"], p["V"]
        logits = normal_bf16(rng, (B, K + 1, V))
        values = bf16_bits_to_f32(logits)
        # Confident rows for the drafts (typical acceptance takes likely
        # tokens), one random draft per request from where it stops.
        drafts = values.argmax(-1)[:, :K].astype(np.int32)
        for b in range(B):
            for k in range(K):
                values[b, k, drafts[b, k]] += 12.0
        miss = rng.integers(0, K + 1, B)
        for b in range(B):
            if miss[b] < K:
                drafts[b, miss[b]] = rng.integers(0, V)
        return {"logits": to_bf16_bits(values), "drafts": drafts, "num_draft": np.full(B, K, np.int32),
                "temperature": rng.choice([0.7, 1.0], B).astype(np.float32),
                "seed": rng.integers(0, 2 ** 62, B, dtype=np.int64),
                "offset": rng.integers(0, 1 << 20, B, dtype=np.int64)}

    def eager(p):
        def typical_verify(logits, drafts, num_draft, temperature, seed, offset):
            # Medusa's evaluate_posterior (typical) on a chain: p at T,
            # threshold min(epsilon, alpha exp(-H)), the accepted prefix,
            # then the next token sampled from p at the first rejected row.
            K = drafts.shape[1]
            prob = (logits.float() / temperature[:, None, None]).softmax(-1)
            entropy = -(prob[:, :K] * torch.log(prob[:, :K] + 1e-5)).sum(-1)
            threshold = torch.minimum(torch.full_like(entropy, TYPICAL_EPSILON),
                                      TYPICAL_ALPHA * torch.exp(-entropy))
            pd = prob[:, :K].gather(2, drafts.long()[..., None]).squeeze(-1)
            n_acc = (pd > threshold).int().cumprod(1).sum(1)
            rows = torch.arange(drafts.shape[0], device=logits.device)
            return n_acc, torch.multinomial(prob[rows, n_acc], 1).squeeze(1)
        return typical_verify

    def check(p, x, w, e):
        vo = oracle("verify_oracle")
        want = vo.spec_verify(bf16_bits_to_f32(x["logits"]), x["drafts"], x["num_draft"],
                              temperature=x["temperature"], seed=x["seed"], offset=x["offset"],
                              mode="typical", typical_epsilon=TYPICAL_EPSILON, typical_alpha=TYPICAL_ALPHA)
        sure = ~want.ambiguous  # a decision within rounding of its threshold is not judged
        return first_failure([
            (sure.any(), "every request ambiguous"),
            (np.array_equal(w["num_accepted"][sure], want.num_accepted[sure]), "num_accepted"),
            (np.array_equal(w["num_emitted"][sure], want.num_emitted[sure]), "num_emitted"),
            (np.array_equal(w["tokens"][sure], want.tokens[sure]), "tokens")])

    def roofline_bytes(p):
        B, K, V = p["B"], p["K"], p["V"]
        return B * (K + 1) * V * 2 + B * K * 4 + B * (4 + 4 + 8 + 8) + B * (K + 1) * 4 + 2 * B * 4


class TreeVerifyGreedy:
    """Tree verification (Medusa / EAGLE), greedy: the deepest path whose tokens are their parents' argmax."""
    family = "verify"

    def inputs(p):
        B, T, V = p["B"], p["T"], p["V"]
        return [("logits", (B, T, V), "bf16"), ("tree_tokens", (B, T), "i32"), ("parents", (B, T), "i32"),
                ("num_nodes", (B,), "i32")]

    def outputs(p):
        B, T = p["B"], p["T"]
        return [("tokens", (B, T), "i32"), ("accept_nodes", (B, T), "i32"),
                ("num_accepted", (B,), "i32"), ("num_emitted", (B,), "i32")]

    def body(p):
        args = ", ".join(tensor_type(s, t) for _, s, t in TreeVerifyGreedy.inputs(p))
        res = ", ".join(tensor_type(s, t) for _, s, t in TreeVerifyGreedy.outputs(p))
        return f"""
  %tokens, %accept_nodes, %num_accepted, %num_emitted = tok.tree_verify %logits, %tree_tokens, %parents, %num_nodes {{mode = #tok.verify_mode<greedy>}} : ({args}) -> ({res})"""

    def generate(p, rng):
        B, T, V = p["B"], p["T"], p["V"]
        logits = normal_bf16(rng, (B, T, V))
        am = bf16_bits_to_f32(logits).argmax(-1)
        # A Medusa-like tree: each node hangs below one of the 8 nodes before
        # it; half the nodes carry their parent's argmax (accepted).
        parents = np.zeros((B, T), np.int32)
        tokens = rng.integers(0, V, (B, T)).astype(np.int32)
        for b in range(B):
            for i in range(1, T):
                parents[b, i] = rng.integers(max(0, i - 8), i)
                if rng.random() < 0.5:
                    tokens[b, i] = am[b, parents[b, i]]
        return {"logits": logits, "tree_tokens": tokens, "parents": parents,
                "num_nodes": np.full(B, T, np.int32)}

    def eager(p):
        def tree_greedy(logits, tree_tokens, parents, num_nodes):
            # Vectorised over the tree: each node's accepted depth from its
            # parent's, one tree level per step, then the deepest node.
            am = logits.argmax(-1)
            ok = tree_tokens.long() == am.gather(1, parents.long())
            ok[:, 0] = True
            depth = torch.zeros_like(tree_tokens, dtype=torch.long)
            for _ in range(tree_tokens.shape[1].bit_length() + 8):
                depth = torch.where(ok, depth.gather(1, parents.long()) + 1, torch.zeros_like(depth))
                depth[:, 0] = 0
            best = depth.argmax(1)
            return best, am.gather(1, best[:, None]).squeeze(1)
        return tree_greedy

    def check(p, x, w, e):
        to = oracle("tree_oracle")
        want = to.tree_verify(bf16_bits_to_f32(x["logits"]), x["tree_tokens"], x["parents"], x["num_nodes"],
                              mode="greedy")
        sure = ~want.ambiguous
        return first_failure([
            (sure.any(), "every request ambiguous"),
            (np.array_equal(w["num_accepted"][sure], want.num_accepted[sure]), "num_accepted"),
            (np.array_equal(w["num_emitted"][sure], want.num_emitted[sure]), "num_emitted"),
            (np.array_equal(w["accept_nodes"][sure], want.accept_nodes[sure]), "accept_nodes"),
            (np.array_equal(w["tokens"][sure], want.tokens[sure]), "tokens")])

    def roofline_bytes(p):
        B, T, V = p["B"], p["T"], p["V"]
        return B * T * V * 2 + 3 * B * T * 4 + B * 4 + 2 * B * T * 4 + 2 * B * 4


# ----------------------------------------------------------------- diversity

class KCenterToDRE:
    """ToDRE: seed = top-1 [CLS] attention, greedy k-center (cosine farthest points), gather the kept tokens."""
    family = "cluster"

    def inputs(p):
        return [("cls_attention", (p["B"], p["N"]), "f32"), ("hidden", (p["B"], p["N"], p["D"]), "bf16")]

    def outputs(p):
        B, k, D = p["B"], p["k"], p["D"]
        return [("indices", (B, k), "i32"), ("count", (B,), "i32"), ("kept", (B, k, D), "bf16")]

    def body(p):
        B, N, D, k = p["B"], p["N"], p["D"], p["k"]
        i32 = lambda *shape: tensor_type(shape, "i32")
        x = tensor_type((B, N, D), "bf16")
        return f"""
  %seed, %one = tok.select #tok.top_k<1> of %cls_attention : ({tensor_type((B, N), 'f32')}) -> ({i32(B, 1)}, {i32(B)})
  %first = tensor.collapse_shape %seed [[0, 1]] : {i32(B, 1)} into {i32(B)}
  %indices, %count = tok.k_center %hidden first %first {{k = {k}}} : ({x}, {i32(B)}) -> ({i32(B, k)}, {i32(B)})
  %kept, %map = tok.compact %indices, %count gather(%hidden) : ({i32(B, k)}, {i32(B)}, {x}) -> ({tensor_type((B, k, D), 'bf16')}, {i32(B, N)})"""

    def generate(p, rng):
        return {"cls_attention": rng.random((p["B"], p["N"]), dtype=np.float32),
                "hidden": normal_bf16(rng, (p["B"], p["N"], p["D"]))}

    def eager(p):
        k = p["k"]

        def todre_kcenter(cls_attention, hidden):
            # Farthest-point sampling as the reference writes it: a running
            # minimum cosine distance per token, k - 1 argmax steps.
            x = F.normalize(hidden.float(), dim=-1, eps=1e-12)
            B, N, _ = x.shape
            rows = torch.arange(B, device=x.device)
            pick = cls_attention.argmax(1)
            chosen = torch.zeros(B, N, dtype=torch.bool, device=x.device)
            chosen[rows, pick] = True
            md = 1 - torch.einsum("bnd,bd->bn", x, x[rows, pick])
            for _ in range(k - 1):
                pick = md.masked_fill(chosen, -float("inf")).argmax(1)
                chosen[rows, pick] = True
                md = torch.minimum(md, 1 - torch.einsum("bnd,bd->bn", x, x[rows, pick]))
            idx = chosen.nonzero()[:, 1].view(B, k)
            return torch_gather_rows(hidden, idx), idx
        return todre_kcenter

    def check(p, x, w, e):
        ko = oracle("kv_oracle")
        hidden = bf16_bits_to_f32(x["hidden"])
        first = topk_lower_index(x["cls_attention"], 1)[:, 0]
        ok, detail, _near = ko.k_center_verify(hidden, p["k"], p["k"], None, first,
                                               w["indices"], w["count"], tol=1e-5)
        return first_failure([
            (ok, "indices (k_center_verify: %s)" % detail),
            (np.array_equal(w["kept"], gather_rows(x["hidden"], w["indices"])), "kept rows (bits)")])

    def roofline_bytes(p):
        B, N, D, k = p["B"], p["N"], p["D"], p["k"]
        return B * N * 4 + B * N * D * 2 + 2 * B * k * D * 2 + B * k * 4 + B * 4


class DartPrune:
    """DART: key-L1 pivots, each pivot takes the pool tokens least similar to it, gather hidden states and positions."""
    family = "prune"

    def capacity(p):
        start, end = p["span"]
        pivots = p["image_pivots"] + p["text_pivots"]
        return (p["L"] - (end - start)) + min(end - start, p["image_pivots"] + p["keep"] // pivots * pivots)

    def inputs(p):
        B, L, D = p["B"], p["L"], p["D"]
        return [("keys", (B, L, D), "bf16"), ("hidden", (B, L, D), "bf16"), ("lengths", (B,), "i32"),
                ("positions", (B, L), "i32")]

    def outputs(p):
        B, D, C = p["B"], p["D"], DartPrune.capacity(p)
        return [("indices", (B, C), "i32"), ("count", (B,), "i32"), ("kept", (B, C, D), "bf16"),
                ("kept_positions", (B, C), "i32")]

    def body(p):
        B, L, D, C = p["B"], p["L"], p["D"], DartPrune.capacity(p)
        i32 = lambda *shape: tensor_type(shape, "i32")
        x = tensor_type((B, L, D), "bf16")
        start, end = p["span"]
        return f"""
  %indices, %count = tok.dart_select %keys, %hidden lengths %lengths {{span = array<i64: {start}, {end}>, image_pivots = {p["image_pivots"]}, text_pivots = {p["text_pivots"]}, keep = {p["keep"]}}} : ({x}, {x}, {i32(B)}) -> ({i32(B, C)}, {i32(B)})
  %kept, %kept_positions, %map = tok.compact %indices, %count gather(%hidden, %positions) : ({i32(B, C)}, {i32(B)}, {x}, {i32(B, L)}) -> ({tensor_type((B, C, D), 'bf16')}, {i32(B, C)}, {i32(B, L)})"""

    def generate(p, rng):
        B, L = p["B"], p["L"]
        return {"keys": normal_bf16(rng, (B, L, p["D"])), "hidden": normal_bf16(rng, (B, L, p["D"])),
                "lengths": np.full(B, L, np.int32),
                "positions": np.tile(np.arange(L, dtype=np.int32), (B, 1))}

    def eager(p):
        start, end = p["span"]
        ip, tp, keep = p["image_pivots"], p["text_pivots"], p["keep"]
        M = keep // (ip + tp)

        def dart(keys, hidden, lengths, positions):
            # DART's reference on full rows: pivots by key L1 norm, then each
            # pivot in turn takes the M remaining image tokens least similar
            # to it (cosine of the hidden states).
            B, L, _ = hidden.shape
            l1 = keys.float().abs().sum(-1)
            image = l1[:, start:end]
            img_piv = image.topk(ip, dim=1).indices + start
            text = torch.cat([l1[:, :start], l1[:, end:]], 1)
            txt = text.topk(tp, dim=1).indices
            txt_piv = torch.where(txt < start, txt, txt + (end - start))
            x = F.normalize(hidden.float(), dim=-1, eps=1e-12)
            rows = torch.arange(B, device=x.device)
            kept = torch.ones(B, L, dtype=torch.bool, device=x.device)
            kept[:, start:end] = False
            kept[rows[:, None], img_piv] = True
            free = ~kept  # the pool: image tokens that are not pivots
            for pv in torch.cat([img_piv.sort(1).values, txt_piv.sort(1).values], 1).unbind(1):
                sim = torch.einsum("bld,bd->bl", x, x[rows, pv]).masked_fill(~free, float("inf"))
                take = sim.topk(M, dim=1, largest=False).indices
                kept[rows[:, None], take] = True
                free[rows[:, None], take] = False
            idx = kept.nonzero()[:, 1].view(B, -1)
            return torch_gather_rows(hidden, idx), positions.gather(1, idx), idx
        return dart

    def check(p, x, w, e):
        do = oracle("dart_oracle")
        keys, hidden = bf16_bits_to_f32(x["keys"]), bf16_bits_to_f32(x["hidden"])
        sim_tol, l1_rtol = do.tolerances(p["D"], p["D"])
        ok, detail, exact, resolved, _skipped = do.dart_verify(
            keys, hidden, x["lengths"], p["span"], p["image_pivots"], p["text_pivots"], p["keep"],
            w["indices"], w["count"], sim_tol, l1_rtol)
        idx = np.where(w["indices"] >= 0, w["indices"], 0)
        valid = w["indices"] >= 0
        return first_failure([
            (ok, "indices (dart_verify: %s)" % detail),
            (exact + resolved > 0, "every row only checked structurally"),
            (np.array_equal(w["kept"][valid], gather_rows(x["hidden"], idx)[valid]), "kept rows (bits)"),
            (np.array_equal(w["kept_positions"][valid], np.take_along_axis(x["positions"], idx, 1)[valid]),
             "kept positions")])

    def roofline_bytes(p):
        B, L, D, C = p["B"], p["L"], p["D"], DartPrune.capacity(p)
        # keys and hidden once, the kept rows read and written, positions
        return 2 * B * L * D * 2 + 2 * B * C * D * 2 + B * L * 4 + B * C * 4 * 3 + B * 4


# ----------------------------------------------------------------- KV cache

class KvH2O:
    """H2O: keep sinks, a recent window and the heavy hitters per head; gather K and V."""
    family = "kv"

    def capacity(p):
        return p["sinks"] + p["window"] + p["heavy"]

    def inputs(p):
        B, H, T, d = p["B"], p["H"], p["T"], p["d"]
        return [("lengths", (B,), "i32"), ("scores", (B, H, T), "f32"),
                ("keys", (B, H, T, d), "bf16"), ("values", (B, H, T, d), "bf16")]

    def outputs(p):
        B, H, d, C = p["B"], p["H"], p["d"], KvH2O.capacity(p)
        return [("slots", (B, H, C), "i32"), ("count", (B, H), "i32"),
                ("kept_keys", (B, H, C, d), "bf16"), ("kept_values", (B, H, C, d), "bf16")]

    def body(p):
        B, H, T, d, C = p["B"], p["H"], p["T"], p["d"], KvH2O.capacity(p)
        kv, out = tensor_type((B, H, T, d), "bf16"), tensor_type((B, H, C, d), "bf16")
        slots, cnt = tensor_type((B, H, C), "i32"), tensor_type((B, H), "i32")
        return f"""
  %slots, %count = tok.kv_select %lengths scores %scores {{sinks = {p['sinks']}, window = {p['window']}, heavy = {p['heavy']}}} : ({tensor_type((B,), 'i32')}, {tensor_type((B, H, T), 'f32')}) -> ({slots}, {cnt})
  %kept_keys, %kept_values, %positions = tok.kv_gather %slots, %count gather(%keys, %values) : ({slots}, {cnt}, {kv}, {kv}) -> ({out}, {out}, {slots})"""

    def generate(p, rng):
        B, H, T, d = p["B"], p["H"], p["T"], p["d"]
        return {"lengths": np.full(B, T, np.int32), "scores": rng.random((B, H, T), dtype=np.float32),
                "keys": payload_bf16(rng, (B, H, T, d)), "values": payload_bf16(rng, (B, H, T, d))}

    def eager(p):
        sinks, window, heavy = p["sinks"], p["window"], p["heavy"]

        def h2o_evict(lengths, scores, keys, values):  # anchors.py's kv_evict
            B, H, T, d = keys.shape
            hh = scores[:, :, sinks:T - window].topk(heavy, dim=-1).indices + sinks
            sink_idx = torch.arange(sinks, device=keys.device).expand(B, H, sinks)
            win_idx = torch.arange(T - window, T, device=keys.device).expand(B, H, window)
            idx = torch.cat([sink_idx, hh.sort(-1).values, win_idx], dim=-1)
            g = idx[..., None].expand(-1, -1, -1, d)
            return keys.gather(2, g), values.gather(2, g)
        return h2o_evict

    def check(p, x, w, e):
        T, sinks, window, heavy = p["T"], p["sinks"], p["window"], p["heavy"]
        B, H = p["B"], p["H"]
        heavy_slots = topk_lower_index(x["scores"][:, :, sinks:T - window], heavy) + sinks
        want = np.concatenate([np.broadcast_to(np.arange(sinks), (B, H, sinks)), heavy_slots,
                               np.broadcast_to(np.arange(T - window, T), (B, H, window))], axis=-1)
        g = want[..., None]
        return first_failure([
            (np.array_equal(w["slots"], want), "slots"),
            (np.all(w["count"] == KvH2O.capacity(p)), "count"),
            (np.array_equal(w["kept_keys"], np.take_along_axis(x["keys"], g, 2)), "kept keys (bits)"),
            (np.array_equal(w["kept_values"], np.take_along_axis(x["values"], g, 2)), "kept values (bits)")])

    def roofline_bytes(p):
        B, H, T, d, C = p["B"], p["H"], p["T"], p["d"], KvH2O.capacity(p)
        return B * 4 + B * H * T * 4 + 2 * 2 * B * H * C * d * 2 + B * H * C * 4 + B * H * 4


class KvStreaming:
    """StreamingLLM: keep the attention sinks and a recent window (no scores)."""
    family = "kv"

    def capacity(p):
        return p["sinks"] + p["window"]

    def inputs(p):
        B, H, T, d = p["B"], p["H"], p["T"], p["d"]
        return [("lengths", (B,), "i32"), ("keys", (B, H, T, d), "bf16"), ("values", (B, H, T, d), "bf16")]

    def outputs(p):
        B, H, d, C = p["B"], p["H"], p["d"], KvStreaming.capacity(p)
        return [("slots", (B, H, C), "i32"), ("count", (B, H), "i32"),
                ("kept_keys", (B, H, C, d), "bf16"), ("kept_values", (B, H, C, d), "bf16")]

    def body(p):
        B, H, T, d, C = p["B"], p["H"], p["T"], p["d"], KvStreaming.capacity(p)
        kv, out = tensor_type((B, H, T, d), "bf16"), tensor_type((B, H, C, d), "bf16")
        slots, cnt = tensor_type((B, H, C), "i32"), tensor_type((B, H), "i32")
        return f"""
  %slots, %count = tok.kv_select %lengths {{sinks = {p['sinks']}, window = {p['window']}, cache_size = {T}}} : ({tensor_type((B,), 'i32')}) -> ({slots}, {cnt})
  %kept_keys, %kept_values, %positions = tok.kv_gather %slots, %count gather(%keys, %values) {{position_mode = #tok.position_mode<reindexed>}} : ({slots}, {cnt}, {kv}, {kv}) -> ({out}, {out}, {slots})"""

    def generate(p, rng):
        B, H, T, d = p["B"], p["H"], p["T"], p["d"]
        return {"lengths": np.full(B, T, np.int32),
                "keys": payload_bf16(rng, (B, H, T, d)), "values": payload_bf16(rng, (B, H, T, d))}

    def eager(p):
        sinks, window = p["sinks"], p["window"]

        def streaming_evict(lengths, keys, values):  # StreamingLLM's slice + cat
            T = keys.shape[2]
            return (torch.cat([keys[:, :, :sinks], keys[:, :, T - window:]], dim=2),
                    torch.cat([values[:, :, :sinks], values[:, :, T - window:]], dim=2))
        return streaming_evict

    def check(p, x, w, e):
        T, sinks, window = p["T"], p["sinks"], p["window"]
        keep = np.concatenate([np.arange(sinks), np.arange(T - window, T)])
        return first_failure([
            (np.array_equal(w["slots"], np.broadcast_to(keep, w["slots"].shape)), "slots"),
            (np.array_equal(w["kept_keys"], x["keys"][:, :, keep]), "kept keys (bits)"),
            (np.array_equal(w["kept_values"], x["values"][:, :, keep]), "kept values (bits)")])

    def roofline_bytes(p):
        B, H, d, C = p["B"], p["H"], p["d"], KvStreaming.capacity(p)
        return B * 4 + 2 * 2 * B * H * C * d * 2 + B * H * C * 4 + B * H * 4


KINDS = {
    "prune_scores": PruneScores, "prune_fastv": PruneFastV, "tome": TomeMerge,
    "hnet_chunk": HNetChunk, "hnet_dechunk": HNetDechunk,
    "verify_greedy": VerifyGreedy, "verify_rejection": VerifyRejection,
    "verify_typical": VerifyTypical, "tree_verify_greedy": TreeVerifyGreedy,
    "kv_h2o": KvH2O, "kv_streaming": KvStreaming,
    "kcenter_todre": KCenterToDRE, "dart": DartPrune,
}

# ----------------------------------------------------------------- the matrix
# (name, kind, params, in the --quick subset). Shapes of the targeted models:
# LLaVA-1.5 (N=576, D=4096), LLaVA-NeXT (N=2880), a 64-frame video
# (N=64·196, D=3584), ToMe ViT-B/L and LLaVA scale, H-Net at boundary rate
# 1/6, verification at B ∈ {1, 8, 64}, k ∈ {4, 8}, V ∈ {32000, 128256,
# 151936}, and H2O / StreamingLLM caches. keep = 0.25 for pruning.

LLAVA15 = dict(N=576, D=4096, k=144)
FASTV15 = dict(H=32, N=576, d=128, k=144)
HNET = dict(L=8192, D=1024, rate=1 / 6)
H2O = dict(H=32, d=128, sinks=4, window=512, heavy=512)
STREAM = dict(H=32, d=128, sinks=4, window=1020)
TODRE = dict(N=576, D=1024, k=64)
DART15 = dict(L=700, D=4096, span=(35, 611), image_pivots=4, text_pivots=4, keep=128)

MATRIX = [
    ("prune.scores.llava15.b1", "prune_scores", dict(B=1, **LLAVA15), True),
    ("prune.scores.llava15.b8", "prune_scores", dict(B=8, **LLAVA15), False),
    ("prune.scores.llava15.b32", "prune_scores", dict(B=32, **LLAVA15), False),
    ("prune.scores.next.b8", "prune_scores", dict(B=8, N=2880, D=4096, k=720), False),
    ("prune.scores.video64f.b1", "prune_scores", dict(B=1, N=12544, D=3584, k=3136), False),
    ("prune.fastv.llava15.b1", "prune_fastv", dict(B=1, **FASTV15), True),
    ("prune.fastv.llava15.b8", "prune_fastv", dict(B=8, **FASTV15), False),
    ("prune.fastv.llava15.b32", "prune_fastv", dict(B=32, **FASTV15), False),
    ("prune.fastv.next.b8", "prune_fastv", dict(B=8, H=32, N=2880, d=128, k=720), False),
    ("merge.tome.vitb.b256", "tome", dict(B=256, N=197, D=768, C=64, r=16), False),
    ("merge.tome.vitl.b64", "tome", dict(B=64, N=197, D=1024, C=64, r=8), True),
    ("merge.tome.llava.b1", "tome", dict(B=1, N=576, D=4096, C=4096, r=144), False),
    ("chunk.hnet.b1", "hnet_chunk", dict(B=1, **HNET), True),
    ("chunk.hnet.b8", "hnet_chunk", dict(B=8, **HNET), False),
    ("dechunk.hnet.b1", "hnet_dechunk", dict(B=1, **HNET), True),
    ("dechunk.hnet.b8", "hnet_dechunk", dict(B=8, **HNET), False),
    ("verify.greedy.b1.k4.v32000", "verify_greedy", dict(B=1, K=4, V=32000), True),
    ("verify.greedy.b8.k4.v128256", "verify_greedy", dict(B=8, K=4, V=128256), False),
    ("verify.greedy.b64.k8.v151936", "verify_greedy", dict(B=64, K=8, V=151936), False),
    ("verify.greedy.b64.k4.v32000", "verify_greedy", dict(B=64, K=4, V=32000), True),
    ("verify.rejection.b1.k4.v32000", "verify_rejection", dict(B=1, K=4, V=32000), True),
    ("verify.rejection.b8.k4.v128256", "verify_rejection", dict(B=8, K=4, V=128256), False),
    ("verify.rejection.b64.k8.v151936", "verify_rejection", dict(B=64, K=8, V=151936), False),
    ("verify.typical.b8.k4.v32000", "verify_typical", dict(B=8, K=4, V=32000), False),
    ("verify.tree.greedy.b4.t64.v32000", "tree_verify_greedy", dict(B=4, T=64, V=32000), False),
    ("prune.dart.llava15.b1", "dart", dict(B=1, **DART15), False),
    ("prune.dart.llava15.b8", "dart", dict(B=8, **DART15), False),
    ("cluster.kcenter.todre.b1", "kcenter_todre", dict(B=1, **TODRE), True),
    ("cluster.kcenter.todre.b8", "kcenter_todre", dict(B=8, **TODRE), False),
    ("kv.h2o.b1.t8192", "kv_h2o", dict(B=1, T=8192, **H2O), True),
    ("kv.h2o.b8.t4096", "kv_h2o", dict(B=8, T=4096, **H2O), False),
    ("kv.streaming.b1.t8192", "kv_streaming", dict(B=1, T=8192, **STREAM), True),
    ("kv.streaming.b8.t4096", "kv_streaming", dict(B=8, T=4096, **STREAM), False),
]


def program(kind, params):
    """The tok program of one case: func.func @bench with named arguments and results."""
    k = KINDS[kind]
    args = ",\n    ".join('%%%s: %s {tok.name = "%s"}' % (n, tensor_type(s, t), n) for n, s, t in k.inputs(params))
    outs = k.outputs(params)
    res = ",\n        ".join('%s {tok.name = "%s"}' % (tensor_type(s, t), n) for n, s, t in outs)
    ret = ", ".join("%" + n for n, _, _ in outs)
    types = ", ".join(tensor_type(s, t) for _, s, t in outs)
    return (f"func.func @bench(\n    {args})\n    -> ({res}) {{{k.body(params)}\n"
            f"  return {ret} : {types}\n}}\n")


# A 6-op recipe for the compile-time target: FastV prune, then ToMe-merge the
# kept tokens and return the proportional-attention bias (log of the sizes).
SIX_OP_RECIPE = """
func.func @prune_then_merge(%q: tensor<4x32x1x128xbf16>, %k: tensor<4x32x576x128xbf16>,
                            %len: tensor<4xi32>, %hidden: tensor<4x576x4096xbf16>)
    -> (tensor<4x128x4096xbf16>, tensor<4x128xf32>) {
  %s = tok.attn_score %q, %k lengths %len
      : (tensor<4x32x1x128xbf16>, tensor<4x32x576x128xbf16>, tensor<4xi32>) -> tensor<4x576xf32>
  %idx, %n = tok.select #tok.top_k<144> of %s lengths %len
      : (tensor<4x576xf32>, tensor<4xi32>) -> (tensor<4x144xi32>, tensor<4xi32>)
  %h, %map = tok.compact %idx, %n gather(%hidden)
      : (tensor<4x144xi32>, tensor<4xi32>, tensor<4x576x4096xbf16>) -> (tensor<4x144x4096xbf16>, tensor<4x576xi32>)
  %parent, %count = tok.bipartite_plan %h {r = 16}
      : (tensor<4x144x4096xbf16>) -> (tensor<4x144xi32>, tensor<4xi32>)
  %merged, %sizes = tok.scatter_merge %parent, %count gather(%h)
      : (tensor<4x144xi32>, tensor<4xi32>, tensor<4x144x4096xbf16>) -> (tensor<4x128x4096xbf16>, tensor<4x128xf32>)
  %bias = math.log %sizes : tensor<4x128xf32>
  return %merged, %bias : tensor<4x128x4096xbf16>, tensor<4x128xf32>
}
"""

# torch / F are imported lazily so that `prepare` (which only writes programs)
# does not need torch.
try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - prepare on a machine without torch
    torch = F = None
