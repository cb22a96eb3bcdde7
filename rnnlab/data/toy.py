"""Toy tasks for the five types of recurrent network (unit 06), generated on the fly.

Each generator takes a batch size ``n`` and a NumPy ``rng`` and returns a NamedTuple of
torch tensors, batch first: inputs float32, class labels int64, masks bool. Padded
positions of inputs are 0 and of targets :data:`PAD` (-1), so a loss that forgets the
mask fails loudly instead of learning from padding.

==========================  ==================  =======================================
task                        type                what is predicted
==========================  ==================  =======================================
:func:`quadrants`           one-to-one          do a point's two coordinates agree in sign?
:func:`counting`            one-to-many         ``start, start + stride, ...`` (mod ``base``)
:func:`majority`            many-to-one         the most frequent symbol of a sequence
:func:`collapse_runs`       encoder-decoder     the sequence with repeats collapsed, then END
:func:`local_max`           synced (bidir.)     the largest symbol among t-1, t, t+1
==========================  ==================  =======================================
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from rnnlab.validation import check_positive

PAD = -1

__all__ = [
    "PAD",
    "Classification",
    "Sequences",
    "Translation",
    "collapse_runs",
    "counting",
    "local_max",
    "majority",
    "one_hot",
    "quadrants",
    "until_end",
]


class Classification(NamedTuple):
    """Vectors in, one label or a fixed-length label sequence out.

    ``x (N, D)`` float32; ``y (N,)`` or ``(N, T)`` int64.
    """

    x: torch.Tensor
    y: torch.Tensor


class Sequences(NamedTuple):
    """Padded sequences in: ``x (N, T, D)`` float32, ``lengths (N,)`` int64.

    ``y`` is ``(N,)`` (one label per sequence) or ``(N, T)`` (one per step, ``PAD``
    after the end); ``mask (N, T)`` bool is True at the valid steps.
    """

    x: torch.Tensor
    lengths: torch.Tensor
    y: torch.Tensor
    mask: torch.Tensor


class Translation(NamedTuple):
    """Source and target sequences of different lengths, padded.

    ``src (N, S, D)`` float32 one-hot, ``src_lengths (N,)``; ``tgt_in (N, T)`` int64
    (START, then the target shifted right; padding END), ``tgt_out (N, T)`` int64 (the
    target, then END; padding ``PAD``), ``mask (N, T)`` bool (True up to and including END).
    """

    src: torch.Tensor
    src_lengths: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor
    mask: torch.Tensor


def one_hot(tokens: np.ndarray, depth: int, valid: np.ndarray | None = None) -> torch.Tensor:
    """``tokens (...)`` ints in 0..depth-1 -> float32 one-hot ``(..., depth)``.

    Entries where ``valid`` (same shape, bool) is False become all-zero vectors (padding).
    """
    out = np.zeros((*tokens.shape, depth), dtype=np.float32)
    keep = np.ones(tokens.shape, bool) if valid is None else valid
    idx = np.nonzero(keep)
    out[(*idx, tokens[idx])] = 1.0
    return torch.from_numpy(out)


def _lengths(n: int, min_len: int, max_len: int, rng: np.random.Generator) -> np.ndarray:
    check_positive(n=n, min_len=min_len, max_len=max_len)
    if min_len > max_len:
        raise ValueError(f"min_len = {min_len} > max_len = {max_len}")
    return rng.integers(min_len, max_len + 1, size=n)


def quadrants(n: int, rng: np.random.Generator) -> Classification:
    """One-to-one: points ``x (n, 2)`` uniform in the square [-1, 1]^2; ``y = 1`` when
    ``x_0 x_1 > 0`` (first or third quadrant), else 0.

    No straight line separates the classes (it is XOR of the two signs), so a linear
    model stays at chance (0.5) and a hidden layer is needed.
    """
    check_positive(n=n)
    x = rng.uniform(-1, 1, size=(n, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    return Classification(torch.from_numpy(x), torch.from_numpy(y))


def counting(n: int, rng: np.random.Generator, steps: int = 6, base: int = 10,
             strides: tuple[int, ...] = (1, 2, 3)) -> Classification:
    """One-to-many: count from ``start`` in steps of ``stride``, modulo ``base``.

    Returns
    -------
    Classification
        ``x (n, base + len(strides))``: one-hot start digit, then one-hot stride;
        ``y (n, steps)``: ``y[:, t] = (start + t * stride) % base``. Every step carries
        loss (no padding); chance accuracy is ``1 / base``.
    """
    check_positive(n=n, steps=steps, base=base)
    start = rng.integers(0, base, size=n)
    which = rng.integers(0, len(strides), size=n)
    stride = np.asarray(strides)[which]
    x = torch.cat([one_hot(start, base), one_hot(which, len(strides))], dim=1)
    y = (start[:, None] + np.arange(steps)[None, :] * stride[:, None]) % base
    return Classification(x, torch.from_numpy(y.astype(np.int64)))


def majority(n: int, rng: np.random.Generator, symbols: int = 3, min_len: int = 3,
             max_len: int = 15) -> Sequences:
    """Many-to-one: which symbol occurs most often? Ties are redrawn.

    Returns
    -------
    Sequences
        ``x (n, max_len, symbols)`` one-hot, zero after each sequence's length;
        ``lengths (n,)`` uniform in ``min_len..max_len``; ``y (n,)`` the majority symbol;
        ``mask (n, max_len)``. Chance accuracy is ``1 / symbols``.
    """
    check_positive(symbols=symbols)
    lengths = _lengths(n, min_len, max_len, rng)
    mask = np.arange(max_len)[None, :] < lengths[:, None]
    tokens = np.zeros((n, max_len), dtype=np.int64)
    y = np.zeros(n, dtype=np.int64)
    for i, length in enumerate(lengths):
        while True:
            seq = rng.integers(0, symbols, size=length)
            counts = np.bincount(seq, minlength=symbols)
            if (counts == counts.max()).sum() == 1:
                break
        tokens[i, :length], y[i] = seq, counts.argmax()
    return Sequences(one_hot(tokens, symbols, mask), torch.from_numpy(lengths.astype(np.int64)),
                     torch.from_numpy(y), torch.from_numpy(mask))


def collapse_runs(n: int, rng: np.random.Generator, symbols: int = 5, min_len: int = 2,
                  max_len: int = 10, repeat: float = 0.5) -> Translation:
    """Encoder-decoder: collapse runs of repeated symbols, ``2 2 4 4 4 1 -> 2 4 1 END``.

    The target is shorter than the source by a varying amount, so the two lengths differ.
    Symbols are ``0..symbols-1``; ``END = symbols`` and ``START = symbols + 1``, so the
    target vocabulary has ``symbols + 2`` entries. Each source step repeats the previous
    symbol with probability ``repeat`` and otherwise draws a different one.

    Returns
    -------
    Translation
        ``src (n, max_len, symbols)``; ``tgt_in``, ``tgt_out``, ``mask`` of shape
        ``(n, max_len + 1)`` (the longest target is ``max_len`` symbols plus END).
    """
    check_positive(symbols=symbols)
    if symbols < 2:
        raise ValueError(f"symbols must be at least 2; got {symbols}")
    end, start = symbols, symbols + 1
    lengths = _lengths(n, min_len, max_len, rng)
    src = np.zeros((n, max_len), dtype=np.int64)
    T = max_len + 1
    tgt_out = np.full((n, T), PAD, dtype=np.int64)
    tgt_in = np.full((n, T), end, dtype=np.int64)
    for i, length in enumerate(lengths):
        seq = [int(rng.integers(0, symbols))]
        for _ in range(length - 1):
            change = rng.random() >= repeat
            seq.append((seq[-1] + int(rng.integers(1, symbols))) % symbols if change
                       else seq[-1])
        collapsed = [s for j, s in enumerate(seq) if j == 0 or s != seq[j - 1]]
        src[i, :length] = seq
        tgt_out[i, :len(collapsed) + 1] = [*collapsed, end]
        tgt_in[i, :len(collapsed) + 1] = [start, *collapsed]
    src_mask = np.arange(max_len)[None, :] < lengths[:, None]
    return Translation(one_hot(src, symbols, src_mask), torch.from_numpy(lengths.astype(np.int64)),
                       torch.from_numpy(tgt_in), torch.from_numpy(tgt_out),
                       torch.from_numpy(tgt_out != PAD))


def local_max(n: int, rng: np.random.Generator, symbols: int = 4, min_len: int = 4,
              max_len: int = 16) -> Sequences:
    """Synced many-to-many: label each step with ``max(s[t-1], s[t], s[t+1])``.

    Neighbours outside the sequence are ignored. The label needs the next symbol, which
    a left-to-right RNN has not read yet: only a bidirectional RNN can get every step
    right.

    Returns
    -------
    Sequences
        ``x (n, max_len, symbols)`` one-hot, zero on padding; ``lengths (n,)``;
        ``y (n, max_len)`` with ``PAD`` on padding; ``mask (n, max_len)``.
    """
    check_positive(symbols=symbols)
    lengths = _lengths(n, min_len, max_len, rng)
    mask = np.arange(max_len)[None, :] < lengths[:, None]
    tokens = np.where(mask, rng.integers(0, symbols, size=(n, max_len)), 0)
    # Padding and the edges count as -1, below every symbol.
    padded = np.pad(np.where(mask, tokens, -1), ((0, 0), (1, 1)), constant_values=-1)
    y = np.maximum(np.maximum(padded[:, :-2], padded[:, 1:-1]), padded[:, 2:])
    y = np.where(mask, y, PAD)
    return Sequences(one_hot(tokens, symbols, mask), torch.from_numpy(lengths.astype(np.int64)),
                     torch.from_numpy(y.astype(np.int64)), torch.from_numpy(mask))


def until_end(tokens: torch.Tensor, end: int) -> list[tuple[int, ...]]:
    """Each row of ``tokens (N, T)`` up to (not including) its first ``end`` token.

    Turns decoder outputs or ``tgt_out`` into comparable sequences, e.g. for exact match.
    """
    rows = []
    for row in tokens.tolist():
        rows.append(tuple(row[:row.index(end)] if end in row else row))
    return rows
