"""Inputs and a NumPy reference for dynamic-batch-run.test.

  dynamic-batch.py inputs DIR   writes the .npy inputs of the calls at the
                                bounds (top2: 16 rows, prune: 4 rows)
  dynamic-batch.py check DIR    checks winnow-run's results (DIR/top2/,
                                DIR/prune/) against the reference; prints
                                one line per function, exits 1 on a mismatch
"""

import os
import sys

import numpy as np


def top_k(scores, lengths, k):
    """tok.select #tok.top_k<k> with lengths: per row the k best of the first
    clamp(len, 0, N) positions (larger score first, ties to the lower
    position), ascending, padded with -1; and their count."""
    batch, n = scores.shape
    indices = np.full((batch, k), -1, np.int32)
    count = np.zeros(batch, np.int32)
    for b in range(batch):
        valid = int(np.clip(lengths[b], 0, n))
        order = sorted(range(valid), key=lambda j: (-scores[b, j], j))[:k]
        indices[b, :len(order)] = sorted(order)
        count[b] = len(order)
    return indices, count


def inputs(directory):
    # A permutation of 0..7 in every row (no ties) and lengths 0..8, so the
    # rows' counts go from 0 to 2.
    b = np.arange(16)[:, None]
    j = np.arange(8)[None, :]
    np.save(os.path.join(directory, "top2_scores.npy"),
            ((3 * j + b) % 8).astype(np.float32))
    np.save(os.path.join(directory, "top2_lengths.npy"),
            (np.arange(16) % 9).astype(np.int32))
    b = np.arange(4)[:, None]
    np.save(os.path.join(directory, "prune_scores.npy"),
            ((5 * j + 2 * b) % 8).astype(np.float32))
    np.save(os.path.join(directory, "prune_lengths.npy"),
            np.array([8, 2, 0, 5], np.int32))
    # hidden[b, t, c] = 100 b + 10 t + c names the row it was gathered from.
    hidden = (100 * np.arange(4)[:, None, None] + 10 * np.arange(8)[None, :,
              None] + np.arange(4)[None, None, :])
    np.save(os.path.join(directory, "prune_hidden.npy"),
            hidden.astype(np.float32))


def check(directory):
    failed = False

    def expect(name, got, want):
        nonlocal failed
        if got.shape != want.shape or got.dtype != want.dtype or \
                not np.array_equal(got, want):
            print(f"MISMATCH {name}:\n{got!r}\nexpected\n{want!r}")
            failed = True

    def load(*parts):
        return np.load(os.path.join(directory, *parts))

    scores, lengths = load("top2_scores.npy"), load("top2_lengths.npy")
    indices, count = top_k(scores, lengths, 2)
    expect("top2 indices", load("top2", "indices.npy"), indices)
    expect("top2 count", load("top2", "count.npy"), count)
    print(f"top2: {len(count)} rows, counts {count.tolist()}")

    scores, lengths = load("prune_scores.npy"), load("prune_lengths.npy")
    hidden = load("prune_hidden.npy")
    indices, count = top_k(scores, lengths, 3)
    kept = np.zeros((4, 3, 4), np.float32)
    for b in range(4):
        for c in range(count[b]):
            kept[b, c] = hidden[b, indices[b, c]]
    expect("prune kept", load("prune", "kept.npy"), kept)
    expect("prune indices", load("prune", "indices.npy"), indices)
    expect("prune count", load("prune", "count.npy"), count)
    print(f"prune: {len(count)} rows, counts {count.tolist()}")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("inputs", "check"):
        sys.exit(__doc__)
    if sys.argv[1] == "inputs":
        inputs(sys.argv[2])
    else:
        sys.exit(check(sys.argv[2]))
