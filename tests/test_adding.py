"""The two definitions of the adding problem, checked against their papers' numbers."""

import numpy as np
import pytest

from rnnlab.data import adding


def test_le_definition():
    x, y = adding.adding_problem(20000, 40, np.random.default_rng(0), "le")
    assert x.shape == (20000, 40, 2) and y.shape == (20000,) and x.dtype == np.float32
    assert x[..., 0].min() >= 0 and x[..., 0].max() <= 1
    markers = x[..., 1]
    assert set(np.unique(markers)) == {0.0, 1.0}
    assert np.all(markers[:, :20].sum(1) == 1) and np.all(markers[:, 20:].sum(1) == 1)
    np.testing.assert_allclose(y, (x[..., 0] * markers).sum(1), rtol=1e-6)
    # Predicting 1 gives Var(X1 + X2) = 1/6.
    assert adding.baseline_mse("le") == pytest.approx(1 / 6)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(1 / 6, rel=0.03)


@pytest.mark.parametrize("T", [22, 30, 100])
def test_hochreiter_definition(T):
    x, y = adding.adding_problem(40000, T, np.random.default_rng(T), "hochreiter")
    values, markers = x[..., 0], x[..., 1]
    assert values.min() >= -1 and values.max() <= 1
    assert np.all((markers == 1).sum(1) == 2)
    marked = np.argwhere(markers == 1)[:, 1].reshape(-1, 2)
    assert marked[:, 0].max() < 10 and marked[:, 1].max() <= T // 2 - 1
    first_marked = markers[:, 0] == 1
    assert np.all(markers[~first_marked, 0] == -1) and np.all(markers[:, -1] == -1)
    assert np.all(values[first_marked, 0] == 0)
    x1_x2 = (values * (markers == 1)).sum(1)
    np.testing.assert_allclose(y, 0.5 + x1_x2 / 4, rtol=1e-6, atol=1e-7)
    assert y.min() >= 0 and y.max() <= 1
    assert np.mean((y - 0.5) ** 2) == pytest.approx(adding.baseline_mse("hochreiter", T), rel=0.03)
    # Predicting 0.5 solves P(|X1 + X2| < 0.16), about 15 %.
    assert adding.solved_fraction(np.full_like(y, 0.5), y) == pytest.approx(0.15, abs=0.02)


def test_generation_is_reproducible_and_checks_its_arguments():
    a = adding.adding_problem(5, 24, np.random.default_rng(1), "hochreiter")
    b = adding.adding_problem(5, 24, np.random.default_rng(1), "hochreiter")
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    with pytest.raises(ValueError, match="definition"):
        adding.adding_problem(5, 20, np.random.default_rng(0), "pascanu")
    with pytest.raises(ValueError, match="T must"):
        adding.adding_problem(5, 21, np.random.default_rng(0), "hochreiter")
    with pytest.raises(ValueError, match="prediction"):
        adding.solved_fraction(np.zeros(3), np.zeros(4))
