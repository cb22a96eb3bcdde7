"""The sliding-window featuriser and the window-MLP baseline (rnnlab.window)."""

import numpy as np
import pytest

from rnnlab.data.sequences import agreement_task, best_window_accuracy, one_hot
from rnnlab.window import (
    accuracy,
    make_mlp,
    train_window_mlp,
    window_accuracy_by_width,
    window_features,
)


def loop_windows(x, k):
    """The definition, one block at a time."""
    N, T, D = x.shape
    z = np.zeros((N, T, k * D), dtype=x.dtype)
    for t in range(T):
        for j in range(k):
            if t - k + 1 + j >= 0:
                z[:, t, j * D:(j + 1) * D] = x[:, t - k + 1 + j]
    return z


def test_known_values():
    z = window_features(np.array([[[1.0], [2.0], [3.0]]]), 2)
    np.testing.assert_array_equal(z, [[[0, 1], [1, 2], [2, 3]]])


@pytest.mark.parametrize("N, T, D, k", [(1, 1, 1, 1), (1, 1, 2, 4), (3, 6, 2, 3), (2, 4, 3, 7),
                                        (4, 9, 1, 9)])
def test_matches_the_definition_and_leaves_x_alone(N, T, D, k):
    x = np.random.default_rng(N * T + k).standard_normal((N, T, D)).astype(np.float32)
    before = x.copy()
    z = window_features(x, k)
    assert z.dtype == np.float32
    np.testing.assert_array_equal(z, loop_windows(before, k), err_msg="windows")
    np.testing.assert_array_equal(x, before, err_msg="x modified")
    np.testing.assert_array_equal(z[:, :, -D:], x, err_msg="last block is x_t")


def test_bad_input():
    with pytest.raises(ValueError, match="k must be"):
        window_features(np.zeros((1, 2, 3)), 0)
    with pytest.raises(ValueError, match="x has shape"):
        window_features(np.zeros((2, 3)), 1)


def test_mlp_is_seeded_float64():
    a, b = make_mlp(4, 2, seed=3), make_mlp(4, 2, seed=3)
    for p, q in zip(a.parameters(), b.parameters()):
        assert p.dtype.is_floating_point and np.array_equal(p.detach(), q.detach())


def test_window_mlp_reaches_the_best_any_window_can_do():
    rng = np.random.default_rng(0)
    train, test = agreement_task(1500, 4, rng), agreement_task(800, 4, rng)
    V = len(train.vocab)
    widths = [1, 3, 5]
    acc = window_accuracy_by_width(window_features, (one_hot(train.tokens, V), train.labels),
                                   (one_hot(test.tokens, V), test.labels), widths, steps=150)
    best = np.array([best_window_accuracy(k, test.gaps) for k in widths])
    np.testing.assert_allclose(acc, best, atol=0.04, err_msg="window accuracy")
    assert acc[-1] == 1.0  # the window spans the longest dependency (5 words)


def test_train_and_accuracy_check_their_inputs():
    with pytest.raises(ValueError, match="labels has shape"):
        train_window_mlp(np.zeros((4, 2)), np.zeros(3, dtype=int), steps=1)
    with pytest.raises(TypeError, match="integer"):
        accuracy(make_mlp(2, 2), np.zeros((4, 2)), np.zeros(4))
