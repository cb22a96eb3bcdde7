"""The NumPy reference against torch, finite differences and known values."""

import numpy as np
import pytest
import torch

import rnnlab
from rnnlab.gradcheck import check_gradients, rel_error

SHAPES = [(1, 1, 1, 1), (1, 5, 3, 4), (3, 1, 2, 5), (2, 6, 1, 3), (4, 7, 5, 1), (5, 9, 6, 8)]


def random_problem(N, T, D, H, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D)).astype(dtype)
    h0 = rng.standard_normal((N, H)).astype(dtype)
    Wx, Wh, b = (0.5 * rng.standard_normal(s).astype(dtype) for s in [(D, H), (H, H), (H,)])
    return x, h0, Wx, Wh, b


def torch_forward_backward(x, h0, Wx, Wh, b, dhs):
    rnn = rnnlab.to_torch_rnn(Wx, Wh, b)
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    hs, _ = rnn(xt, h0t)
    hs.backward(torch.tensor(dhs))
    grads = rnnlab.from_torch_rnn(rnn)  # weights; gradients read below
    dWx = rnn.weight_ih_l0.grad.T.numpy()
    dWh = rnn.weight_hh_l0.grad.T.numpy()
    db = rnn.bias_ih_l0.grad.numpy()
    assert np.array_equal(grads.Wx, Wx)
    return hs.detach().numpy(), (xt.grad.numpy(), h0t.grad[0].numpy(), dWx, dWh, db)


@pytest.mark.parametrize("seed, shape", list(enumerate(SHAPES)))
def test_forward_and_backward_match_torch(seed, shape):
    x, h0, Wx, Wh, b = random_problem(*shape, seed)
    hs, cache = rnnlab.rnn_forward(x, h0, Wx, Wh, b)
    dhs = np.random.default_rng(100 + seed).standard_normal(hs.shape)
    hs_torch, grads_torch = torch_forward_backward(x, h0, Wx, Wh, b, dhs)
    np.testing.assert_allclose(hs, hs_torch, rtol=1e-12, atol=1e-14, err_msg="hs")
    grads = rnnlab.rnn_backward(dhs, cache)
    for name, got, want in zip(grads._fields, grads, grads_torch):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("seed, shape", list(enumerate(SHAPES[:4])))
def test_backward_matches_finite_differences(seed, shape):
    x, h0, Wx, Wh, b = random_problem(*shape, seed)
    hs, cache = rnnlab.rnn_forward(x, h0, Wx, Wh, b)
    dhs = np.random.default_rng(seed).standard_normal(hs.shape)
    g = rnnlab.rnn_backward(dhs, cache)
    table = check_gradients(lambda **a: rnnlab.rnn_forward(**a)[0],
                            dict(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b),
                            dict(x=g.dx, h0=g.dh0, Wx=g.dWx, Wh=g.dWh, b=g.db), dhs, tol=1e-5)
    assert table.passed, str(table)


def test_step_backward_matches_finite_differences():
    x, h0, Wx, Wh, b = random_problem(3, 1, 4, 5, seed=7)
    h, cache = rnnlab.rnn_step_forward(x[:, 0], h0, Wx, Wh, b)
    dh = np.random.default_rng(1).standard_normal(h.shape)
    g = rnnlab.rnn_step_backward(dh, cache)
    assert g._fields == ("dx", "dh_prev", "dWx", "dWh", "db")
    table = check_gradients(lambda **a: rnnlab.rnn_step_forward(**a)[0],
                            dict(x=x[:, 0], h_prev=h0, Wx=Wx, Wh=Wh, b=b),
                            dict(x=g.dx, h_prev=g.dh_prev, Wx=g.dWx, Wh=g.dWh, b=g.db), dh,
                            tol=1e-5)
    assert table.passed, str(table)


def test_known_values():
    # One step by hand: a = [1*0.5 + 0*0.1 + 0.2, 1*(-1) + 0*0.3 + 0] = [0.7, -1.0].
    x = np.array([[1.0]])
    h_prev = np.array([[0.0, 0.5]])
    Wx = np.array([[0.5, -1.0]])
    Wh = np.array([[0.1, 0.3], [0.0, 0.0]])
    b = np.array([0.2, 0.0])
    h, cache = rnnlab.rnn_step_forward(x, h_prev, Wx, Wh, b)
    np.testing.assert_allclose(h, [[np.tanh(0.7), np.tanh(-1.0)]], rtol=1e-15)
    g = rnnlab.rnn_step_backward(np.ones((1, 2)), cache)
    da = 1 - np.tanh([0.7, -1.0]) ** 2
    np.testing.assert_allclose(g.db, da, rtol=1e-15)
    np.testing.assert_allclose(g.dx, [[0.5 * da[0] - da[1]]], rtol=1e-14)
    np.testing.assert_allclose(g.dh_prev, [[0.1 * da[0] + 0.3 * da[1], 0.0]], rtol=1e-14)
    # Two steps: the state carries over, and dh0 collects the gradient of both steps.
    hs, cache = rnnlab.rnn_forward(np.ones((1, 2, 1)), np.zeros((1, 1)), np.ones((1, 1)),
                                   np.ones((1, 1)), np.zeros(1))
    np.testing.assert_allclose(hs[0, :, 0], [np.tanh(1), np.tanh(1 + np.tanh(1))], rtol=1e-15)


def test_output_layer_and_loss_against_torch():
    rng = np.random.default_rng(3)
    hs, Wy, by = rng.standard_normal((3, 4, 5)), rng.standard_normal((5, 6)), rng.standard_normal(6)
    y = rng.integers(0, 6, (3, 4))
    mask = rng.random((3, 4)) > 0.3
    scores, cache = rnnlab.output_forward(hs, Wy, by)
    loss, dscores = rnnlab.temporal_softmax_loss(scores, y, mask)
    dhs, dWy, dby = rnnlab.output_backward(dscores, cache)

    hs_t, Wy_t, by_t = (torch.tensor(a, requires_grad=True) for a in (hs, Wy, by))
    scores_t = hs_t @ Wy_t + by_t
    nll = torch.nn.functional.cross_entropy(scores_t.reshape(-1, 6), torch.tensor(y).reshape(-1),
                                            reduction="none")
    loss_t = (nll * torch.tensor(mask).reshape(-1)).sum() / 3
    loss_t.backward()
    assert abs(loss - loss_t.item()) < 1e-12
    for name, got, want in [("dhs", dhs, hs_t.grad), ("dWy", dWy, Wy_t.grad), ("dby", dby, by_t.grad)]:
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-10, atol=1e-13, err_msg=name)
    np.testing.assert_allclose(rnnlab.softmax(scores), torch.softmax(scores_t, -1).detach().numpy(),
                               rtol=1e-12)


def test_loss_known_value_and_finite_differences():
    scores = np.zeros((2, 3, 4))
    loss, dscores = rnnlab.temporal_softmax_loss(scores, np.zeros((2, 3), dtype=int))
    assert loss == pytest.approx(3 * np.log(4))  # uniform over 4 classes, 3 steps, mean over 2
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((2, 3, 4))
    y = rng.integers(0, 4, (2, 3))
    _, dscores = rnnlab.temporal_softmax_loss(scores, y)
    table = check_gradients(lambda scores: rnnlab.temporal_softmax_loss(scores, y)[0],
                            {"scores": scores}, {"scores": dscores}, tol=1e-6)
    assert table.passed, str(table)


def test_softmax_is_stable_and_sums_to_one():
    p = rnnlab.softmax(np.array([[1000.0, 1000.0, -1000.0]]))
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0]])
    assert rnnlab.softmax(np.random.default_rng(0).standard_normal((2, 3, 5))).sum(-1) == \
        pytest.approx(np.ones((2, 3)))


def test_backward_passes_leave_inputs_untouched():
    x, h0, Wx, Wh, b = random_problem(3, 4, 2, 5, seed=11)
    hs, cache = rnnlab.rnn_forward(x, h0, Wx, Wh, b)
    dhs = np.ones_like(hs)
    before = [a.copy() for a in (x, h0, Wx, Wh, b, hs, dhs)]
    rnnlab.rnn_backward(dhs, cache)
    for name, old, new in zip(["x", "h0", "Wx", "Wh", "b", "hs", "dhs"], before,
                              (x, h0, Wx, Wh, b, hs, dhs)):
        assert np.array_equal(old, new), name
    h, step_cache = rnnlab.rnn_step_forward(x[:, 0], h0, Wx, Wh, b)
    dh = np.ones_like(h)
    rnnlab.rnn_step_backward(dh, step_cache)
    assert np.array_equal(dh, np.ones_like(h)) and np.array_equal(step_cache.h_next, h)


def test_float32_stays_float32():
    x, h0, Wx, Wh, b = random_problem(2, 3, 4, 5, seed=1, dtype=np.float32)
    hs, cache = rnnlab.rnn_forward(x, h0, Wx, Wh, b)
    assert hs.dtype == np.float32
    assert all(g.dtype == np.float32 for g in rnnlab.rnn_backward(np.ones_like(hs), cache))


BAD_INPUTS = [
    (lambda p: (p[0][0], *p[1:]), ValueError, "x has shape (5, 4); expected 3 dimensions (N, T, D)"),
    (lambda p: (p[0], p[1][:, :3], *p[2:]), ValueError, "Wx has shape (4, 6); expected (D, H) = (4, 3) (H = 3 from h0)"),
    (lambda p: (p[0], p[1][:2], *p[2:]), ValueError, "h0 has shape (2, 6); expected (N, H) = (3, 6) (N = 3 from x)"),
    (lambda p: (*p[:4], p[4][:5]), ValueError, "b has shape (5,); expected (H) = (6,) (H = 6 from h0)"),
    (lambda p: (p[0].astype(int), *p[1:]), TypeError, "x has dtype int64; expected float32 or float64"),
    (lambda p: (p[0].tolist(), *p[1:]), TypeError, "x must be a numpy array of shape (N, T, D); got list"),
    (lambda p: (*p[:3], p[3].astype(np.float32), p[4]), TypeError, "Wh has dtype float32; expected float64 like x"),
]


@pytest.mark.parametrize("change, error, message", BAD_INPUTS)
def test_bad_inputs_name_the_argument(change, error, message):
    problem = random_problem(3, 5, 4, 6, seed=0)
    with pytest.raises(error) as info:
        rnnlab.rnn_forward(*change(problem))
    assert str(info.value) == message


def test_bad_backward_inputs():
    x, h0, Wx, Wh, b = random_problem(2, 3, 4, 5, seed=0)
    hs, cache = rnnlab.rnn_forward(x, h0, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"dhs has shape \(2, 3, 4\)"):
        rnnlab.rnn_backward(hs[..., :4], cache)
    with pytest.raises(TypeError, match="cache must be the SequenceCache"):
        rnnlab.rnn_backward(hs, (x, h0))
    with pytest.raises(ValueError, match=r"y holds labels in \[0, 9\]; expected \[0, 4\)"):
        rnnlab.temporal_softmax_loss(np.zeros((1, 2, 4)), np.array([[0, 9]]))
    with pytest.raises(TypeError, match="mask has dtype int64; expected dtype bool"):
        rnnlab.temporal_softmax_loss(np.zeros((1, 2, 4)), np.array([[0, 1]]), np.ones((1, 2), int))


def test_rel_error_and_table():
    assert rel_error(np.ones(3), np.ones(3)) == 0
    assert rel_error(np.ones(3), np.ones(4)) == float("inf")
    assert rel_error(np.array([1.0, np.nan]), np.ones(2)) == float("inf")
    table = rnnlab.gradcheck.compare({"a": (np.ones(2), np.ones(2)), "b": (np.ones(2), 3 * np.ones(2))})
    lines = str(table).splitlines()
    assert lines[2].startswith("a") and lines[2].endswith("pass")
    assert lines[3].startswith("b") and lines[3].endswith("FAIL") and "5.00e-01" in lines[3]
    assert not table.passed


def test_gradient_check_resolves_tiny_entries_by_scale():
    """A softmax gradient with one entry near zero by cancellation: finite differences
    carry ~1e-10 of rounding there, above 1e-6 of the entry itself, yet the check passes;
    a gradient wrong by 1% of its largest entry, or wrong only in that tiny entry by more
    than the resolution allows, fails."""
    scores = np.array([[0.3, -1.2, 0.8, 2.0]])
    p = np.exp(scores) / np.exp(scores).sum()
    dout = np.array([[0.5, -0.7, 1.1, 0.0]])
    # dout_3 - sum(p * dout) = dout_3 (1 - p_3) - sum_{r<3} p_r dout_r: set it to 1e-7.
    dout[0, 3] = ((p[0, :3] * dout[0, :3]).sum() + 1e-7) / (1 - p[0, 3])
    known = p * (dout - (p * dout).sum())

    def softmax(scores):
        e = np.exp(scores - scores.max())
        return e / e.sum()

    assert abs(known[0, 3]) < 1e-6 < np.abs(known).max()
    assert check_gradients(softmax, {"scores": scores}, {"scores": known}, dout=dout).passed
    wrong = known + 0.01 * np.abs(known).max() * np.array([[1.0, 0, 0, 0]])
    assert not check_gradients(softmax, {"scores": scores}, {"scores": wrong}, dout=dout).passed
    tiny_wrong = known.copy()
    tiny_wrong[0, 3] += 1e-6
    assert not check_gradients(softmax, {"scores": scores}, {"scores": tiny_wrong},
                               dout=dout).passed


def test_initialisers():
    rng = np.random.default_rng(0)
    w = rnnlab.init_rnn(3, 8, rng, recurrent="orthogonal", gain=0.9)
    np.testing.assert_allclose(np.linalg.svd(w.Wh, compute_uv=False), 0.9, rtol=1e-12)
    assert w.Wx.shape == (3, 8) and np.all(np.abs(w.Wx) <= np.sqrt(6 / 11)) and not w.b.any()
    np.testing.assert_array_equal(rnnlab.init_rnn(3, 4, rng, "identity").Wh, np.eye(4))
    with pytest.raises(ValueError, match="recurrent is 'zeros'"):
        rnnlab.init_rnn(3, 4, rng, "zeros")
    with pytest.raises(ValueError, match="H must be a positive integer; got 0"):
        rnnlab.init_rnn(3, 0, rng)


def test_torch_converter_round_trip():
    _, _, Wx, Wh, b = random_problem(1, 1, 3, 4, seed=5)
    back = rnnlab.from_torch_rnn(rnnlab.to_torch_rnn(Wx, Wh, b))
    for got, want in zip(back, (Wx, Wh, b)):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(TypeError, match="rnn must be a torch.nn.RNN; got LSTM"):
        rnnlab.from_torch_rnn(torch.nn.LSTM(2, 3))


def test_fast_mode(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("RNNLAB_FAST", raising=False)
    assert not rnnlab.fast_mode() and rnnlab.steps(100, 5) == 100
    monkeypatch.setenv("RNNLAB_FAST", "1")
    assert rnnlab.fast_mode() and rnnlab.steps(100, 5) == 5
    monkeypatch.delenv("RNNLAB_FAST")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert rnnlab.steps(100, 5) == 5
    with pytest.raises(ValueError):
        rnnlab.steps(5, 100)


def test_import_has_no_side_effects():
    import subprocess
    import sys
    code = ("import sys, numpy as np; s = np.random.get_state()[1][:3].tolist(); import rnnlab; "
            "print('torch' in sys.modules, 'matplotlib' in sys.modules, "
            "np.random.get_state()[1][:3].tolist() == s)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "True"]
