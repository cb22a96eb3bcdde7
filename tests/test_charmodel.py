"""The character model: gradients by finite differences, backends agree, sampling, training."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.charmodel import CharParams, init_char_model, loss_and_grads, one_hot, sample, train
from rnnlab.gradcheck import numeric_gradient, rel_error


def small_problem(N=2, T=4, V=5, H=3, seed=0):
    rng = np.random.default_rng(seed)
    params = init_char_model(V, H, rng)
    params = params._replace(b=0.1 * rng.standard_normal(H), by=0.1 * rng.standard_normal(V))
    inputs, targets = rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))
    return params, inputs, targets, 0.3 * rng.standard_normal((N, H))


def test_gradients_match_finite_differences():
    params, inputs, targets, h0 = small_problem()
    _, grads, _ = loss_and_grads(params, inputs, targets, h0)
    for name in CharParams._fields:
        def f(value, name=name):
            return loss_and_grads(params._replace(**{name: value}), inputs, targets, h0)[0]
        err = rel_error(getattr(grads, name), numeric_gradient(f, getattr(params, name)))
        assert err <= 1e-6, f"d{name}: {err:.1e}"


@pytest.mark.parametrize("shape", [(1, 25, 80, 100), (3, 7, 6, 5), (1, 1, 2, 1)], ids=str)
def test_backends_agree(shape):
    N, T, V, H = shape
    params, inputs, targets, h0 = small_problem(N, T, V, H, seed=sum(shape))
    loss_np, grads_np, h_np = loss_and_grads(params, inputs, targets, h0, backend="numpy")
    loss_nb, grads_nb, h_nb = loss_and_grads(params, inputs, targets, h0, backend="numba")
    assert abs(loss_np - loss_nb) <= 1e-13 * abs(loss_np)
    for name, a, b in zip(CharParams._fields, grads_nb, grads_np):
        assert rel_error(a, b, floor=0.01 * np.abs(b).max()) <= 1e-12, name
    assert rel_error(h_nb, h_np) <= 1e-12


def test_h_last_is_the_last_state():
    params, inputs, targets, h0 = small_problem(N=1, T=3)
    _, _, h = loss_and_grads(params, inputs, targets, h0)
    _, _, h1 = loss_and_grads(params, inputs[:, :2], targets[:, :2], h0)
    _, _, h2 = loss_and_grads(params, inputs[:, 2:], targets[:, 2:], h1)
    np.testing.assert_allclose(h, h2, rtol=1e-14)


def test_one_hot_and_errors():
    np.testing.assert_array_equal(one_hot(np.array([[2, 0]]), 3),
                                  [[[0, 0, 1], [1, 0, 0]]])
    params, inputs, targets, h0 = small_problem()
    with pytest.raises(ValueError, match=r"ids holds values in \[5, 5\]; expected \[0, 5\)"):
        loss_and_grads(params, np.full_like(inputs, 5), targets, h0)
    with pytest.raises(TypeError, match="inputs has dtype float64"):
        loss_and_grads(params, inputs.astype(float), targets, h0)
    with pytest.raises(ValueError, match="expected one of"):
        loss_and_grads(params, inputs, targets, h0, backend="jax")


def test_sample_is_reproducible_and_in_range():
    params, *_ = small_problem(V=7, H=4)
    h = np.zeros(4)
    ids = sample(params, h, 3, 50, np.random.default_rng(0))
    assert len(ids) == 50 and all(0 <= i < 7 for i in ids)
    assert ids == sample(params, h[None], 3, 50, np.random.default_rng(0))
    cold = sample(params, h, 3, 200, np.random.default_rng(1), temperature=0.01)
    assert len(set(cold[20:])) <= 3  # nearly greedy: falls into a short cycle
    with pytest.raises(ValueError, match="first_id is 7"):
        sample(params, h, 7, 5, np.random.default_rng(0))


def test_train_lowers_the_loss_on_a_repeating_text():
    text = np.tile(np.arange(6), 40)
    params = init_char_model(6, 16, np.random.default_rng(0))
    losses = train(params, text, 150, seq_length=10, lr=0.1, backend="numba")
    assert np.mean(losses[-10:]) < 0.2 * np.mean(losses[:10])
