"""The character model: gradients by finite differences, backends agree, sampling, training."""

from __future__ import annotations

import numpy as np
import pytest
from test_kernels import TOL, scaled_error

from rnnlab.charmodel import (
    CharParams,
    evaluate,
    init_char_model,
    loss_and_grads,
    one_hot,
    sample,
    train,
)
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


# (N, T, V, H): min-char-rnn's size, degenerate ones, one whose step products go to BLAS,
# then seeded random ones.
SHAPES = [(1, 25, 80, 100), (3, 7, 6, 5), (1, 1, 2, 1), (1, 1, 1, 1), (2, 1, 3, 1),
          (1, 6, 1, 3), (4, 3, 9, 130), (16, 3, 7, 64)]
SHAPES += [tuple(int(s) for s in np.random.default_rng(i).integers(1, [5, 30, 90, 120]))
           for i in range(8)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_backends_agree(shape, dtype):
    N, T, V, H = shape
    params, inputs, targets, h0 = small_problem(N, T, V, H, seed=sum(shape))
    params, h0 = CharParams(*(p.astype(dtype) for p in params)), h0.astype(dtype)
    loss_np, grads_np, h_np = loss_and_grads(params, inputs, targets, h0, backend="numpy")
    loss_nb, grads_nb, h_nb = loss_and_grads(params, inputs, targets, h0, backend="numba")
    tol = TOL[dtype]
    assert abs(loss_np - loss_nb) <= tol * abs(loss_np), f"loss {loss_nb} != {loss_np}"
    for name, got, want in zip(CharParams._fields, grads_nb, grads_np):
        assert got.dtype == want.dtype and got.shape == want.shape, name
        error = scaled_error(got, want)
        assert error <= tol, f"d{name}: error {error:.1e} > {tol:.0e}"
    assert h_nb.dtype == dtype and scaled_error(h_nb, h_np) <= tol, "h_last"


def test_backends_agree_on_empty_sequences():
    params, inputs, targets, h0 = small_problem(N=2, T=3)
    results = [loss_and_grads(params, inputs[:, :0], targets[:, :0], h0, backend=backend)
               for backend in ("numpy", "numba")]
    (loss_np, grads_np, _), (loss_nb, grads_nb, h_nb) = results
    assert loss_np == loss_nb == 0.0
    for name, got, want in zip(CharParams._fields, grads_nb, grads_np):
        np.testing.assert_array_equal(got, want, err_msg=name)
    np.testing.assert_array_equal(h_nb, h0)


def test_numba_backend_leaves_inputs_alone_and_takes_views():
    params, inputs, targets, h0 = small_problem(N=2, T=5, V=7, H=6)
    views = CharParams(*(np.asfortranarray(p) for p in params))._replace(
        b=np.repeat(params.b, 2)[::2])
    saved = [a.copy() for a in (*views, inputs, targets, h0)]
    got = loss_and_grads(views, inputs, targets, h0, backend="numba")
    want = loss_and_grads(params, inputs, targets, h0, backend="numpy")
    for name, g, w in zip(CharParams._fields, got[1], want[1]):
        assert scaled_error(g, w) <= 1e-12, name
    for a, b in zip((*views, inputs, targets, h0), saved):
        np.testing.assert_array_equal(a, b)


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
    with pytest.raises(ValueError, match=r"ids holds values in \[-1, 2\]; expected \[0, 3\)"):
        one_hot(np.array([2, -1]), 3)
    bad = [((params, np.full_like(inputs, 5), targets, h0),
            ValueError, r"inputs holds values in \[5, 5\]; expected \[0, 5\)"),
           ((params, inputs, targets - 1, h0), ValueError, r"targets holds values in \[-1, "),
           ((params, inputs.astype(float), targets, h0), TypeError, "inputs has dtype float64"),
           ((params, inputs[0], targets, h0), ValueError, "inputs has shape"),
           ((params, inputs, targets[:, 1:], h0), ValueError, "targets has shape"),
           ((params, inputs, targets, h0[:1]), ValueError, r"h0 has shape \(1, 3\)"),
           ((params._replace(Wy=params.Wy[:2]), inputs, targets, h0), ValueError, "Wy has shape"),
           ((params._replace(by=params.by.astype(np.float32)), inputs, targets, h0), TypeError,
            "by has dtype float32")]
    for backend in ("numpy", "numba"):
        for args, kind, message in bad:
            with pytest.raises(kind, match=message):
                loss_and_grads(*args, backend=backend)
    with pytest.raises(ValueError, match="expected one of"):
        loss_and_grads(params, inputs, targets, h0, backend="jax")
    half = CharParams(*(p.astype(np.float16) for p in params))
    with pytest.raises(TypeError, match="float32 and float64"):
        loss_and_grads(half, inputs, targets, h0.astype(np.float16), backend="numba")


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
    losses = train(params, text, 150, seq_length=10, lr=0.1, backend="numba", progress=False)
    assert np.mean(losses[-10:]) < 0.2 * np.mean(losses[:10])


def test_evaluate_is_the_loss_per_character_and_sees_generalisation():
    params, *_ = small_problem(V=5, H=3)
    ids = np.random.default_rng(1).integers(0, 5, 30)
    loss, _, _ = loss_and_grads(params, ids[None, :-1], ids[None, 1:], np.zeros((1, 3)))
    assert evaluate(params, ids) == pytest.approx(loss / 29, rel=1e-12)
    # Trained on a repeating text, the model predicts more of it well (held-out copies)
    # but not a shuffled text of the same characters.
    text = np.tile(np.arange(6), 40)
    params = init_char_model(6, 16, np.random.default_rng(0))
    before = evaluate(params, np.tile(np.arange(6), 5))
    train(params, text, 150, seq_length=10, lr=0.1, backend="numba", progress=False)
    assert evaluate(params, np.tile(np.arange(6), 5)) < 0.2 * before
    assert evaluate(params, np.random.default_rng(2).permutation(np.tile(np.arange(6), 5))) \
        > before
    with pytest.raises(ValueError, match="L >= 2"):
        evaluate(params, np.array([1]))


def train_both(start, text, steps, **options):
    """Parameters and losses after training copies of ``start`` with each backend."""
    runs = []
    for backend in ("numpy", "numba"):
        params = CharParams(*(p.copy() for p in start))
        losses = train(params, text, steps, backend=backend, progress=False, **options)
        runs.append((params, np.array(losses)))
    return runs


def test_train_steps_match_the_reference_with_clipping():
    text = np.random.default_rng(3).integers(0, 12, 400)
    start = init_char_model(12, 20, np.random.default_rng(4))
    _, grads, _ = loss_and_grads(start, text[None, :15], text[None, 1:16], np.zeros((1, 20)))
    assert all(np.abs(g).max() > 0.05 for g in grads), "every gradient should be clipped"
    for steps, tol in [(1, 1e-12), (3, 1e-10)]:
        (p_np, l_np), (p_nb, l_nb) = train_both(start, text, steps, seq_length=15, lr=0.3,
                                                clip=0.05)
        assert rel_error(l_nb, l_np) <= 1e-12, f"losses after {steps} steps"
        for name, got, want in zip(CharParams._fields, p_nb, p_np):
            error = scaled_error(got, want)
            assert error <= tol, f"{name} after {steps} steps: error {error:.1e} > {tol:.0e}"


def test_training_curves_agree():
    """On a learnable text (a cycle of 10 ids, 10% replaced at random) the two curves agree
    to round-off (measured 2e-12 at most). Training can amplify round-off: with random text
    and large weights the losses of the two backends part after a few dozen steps, like any
    two correct implementations' would."""
    rng = np.random.default_rng(5)
    text = np.tile(np.arange(10), 200)
    text = np.where(rng.random(text.size) < 0.1, rng.integers(0, 10, text.size), text)
    start = init_char_model(10, 32, np.random.default_rng(4))
    (_, l_np), (_, l_nb) = train_both(start, text, 400, seq_length=20, lr=0.1)
    assert l_nb[-100:].mean() < 0.8 * l_nb[:100].mean()
    assert np.max(np.abs(l_nb - l_np) / l_np) <= 1e-9


def test_train_updates_views_in_place_and_checks_the_whole_text():
    text = np.tile(np.arange(5), 20)
    params = init_char_model(5, 4, np.random.default_rng(0))
    want = CharParams(*(p.copy() for p in params))
    views = params._replace(Wh=np.asfortranarray(params.Wh))
    train(want, text, 7, seq_length=6, backend="numpy", progress=False)
    train(views, text, 7, seq_length=6, backend="numba", progress=False)
    for name, got, w in zip(CharParams._fields, views, want):
        assert scaled_error(got, w) <= 1e-12, name
    text[-1] = 5  # read only at the end of the text, checked before the first step
    with pytest.raises(ValueError, match=r"ids holds values in \[0, 5\]; expected \[0, 5\)"):
        train(params, text, 1, backend="numba", progress=False)
    with pytest.raises(ValueError, match="expected one of"):
        train(params, text, 1, backend="jax", progress=False)


def test_train_shows_a_progress_bar_unless_disabled(capsys):
    text = np.tile(np.arange(5), 20)
    params = init_char_model(5, 4, np.random.default_rng(0))
    train(params, text, 3, seq_length=6, backend="numba", progress=False)
    assert "training" not in capsys.readouterr().err
    train(params, text, 3, seq_length=6, backend="numba")
    assert "training (numba)" in capsys.readouterr().err
