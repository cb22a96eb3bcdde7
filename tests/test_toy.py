"""The toy tasks of unit 06: shapes, padding, masks and labels worked out independently."""

import numpy as np
import pytest
import torch

from rnnlab.data import toy


def rng(seed=0):
    return np.random.default_rng(seed)


def test_quadrants_labels_follow_the_signs():
    batch = toy.quadrants(200, rng())
    assert batch.x.shape == (200, 2) and batch.x.dtype == torch.float32
    assert torch.equal(batch.y, ((batch.x[:, 0] > 0) == (batch.x[:, 1] > 0)).long())
    assert 0.3 < batch.y.float().mean() < 0.7


def test_counting_sequences():
    batch = toy.counting(50, rng(), steps=5)
    assert batch.x.shape == (50, 13) and batch.y.shape == (50, 5)
    for x, y in zip(batch.x, batch.y):
        start, stride = int(x[:10].argmax()), 1 + int(x[10:].argmax())
        assert y.tolist() == [(start + t * stride) % 10 for t in range(5)]


def test_majority_labels_lengths_and_padding():
    batch = toy.majority(100, rng(1), symbols=3, min_len=2, max_len=9)
    assert batch.x.shape == (100, 9, 3) and batch.mask.shape == (100, 9)
    assert torch.equal(batch.mask.sum(1), batch.lengths)
    assert torch.all(batch.x[~batch.mask] == 0)
    assert torch.all(batch.x[batch.mask].sum(-1) == 1)
    counts = batch.x.sum(1)
    assert torch.equal(counts.argmax(-1), batch.y)
    assert torch.all((counts == counts.max(-1, keepdim=True).values).sum(-1) == 1)  # no ties


def test_collapse_runs_targets():
    batch = toy.collapse_runs(100, rng(2), symbols=4, max_len=7)
    end, start = 4, 5
    assert batch.src.shape == (100, 7, 4) and batch.tgt_in.shape == (100, 8)
    for n in range(100):
        seq = batch.src[n, :int(batch.src_lengths[n])].argmax(-1).tolist()
        collapsed = [s for i, s in enumerate(seq) if i == 0 or s != seq[i - 1]]
        k = len(collapsed)
        assert batch.tgt_out[n, :k + 1].tolist() == [*collapsed, end]
        assert torch.all(batch.tgt_out[n, k + 1:] == toy.PAD)
        assert batch.tgt_in[n, :k + 1].tolist() == [start, *collapsed]
        assert batch.mask[n].tolist() == [t <= k for t in range(8)]
    assert toy.until_end(batch.tgt_out[:3], end) == [
        tuple(batch.tgt_out[n, :int(batch.mask[n].sum()) - 1].tolist()) for n in range(3)]


def test_local_max_labels():
    batch = toy.local_max(50, rng(3), symbols=4, max_len=10)
    for n in range(50):
        L = int(batch.lengths[n])
        s = batch.x[n, :L].argmax(-1).tolist()
        expected = [max(s[max(t - 1, 0):t + 2]) for t in range(L)]
        assert batch.y[n, :L].tolist() == expected
        assert torch.all(batch.y[n, L:] == toy.PAD) and torch.all(batch.x[n, L:] == 0)


def test_generators_are_reproducible_and_check_sizes():
    a, b = toy.local_max(8, rng(5)), toy.local_max(8, rng(5))
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    with pytest.raises(ValueError, match="n must be a positive integer"):
        toy.majority(0, rng())
    with pytest.raises(ValueError, match="min_len"):
        toy.local_max(3, rng(), min_len=5, max_len=4)
