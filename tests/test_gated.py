"""Gated cells by hand (rnnlab.gated) against torch autograd, torch's cells, finite
differences and values worked out by hand; Adam against torch.optim.Adam."""

import numpy as np
import pytest
import torch

from rnnlab import gated, remedies
from rnnlab.data.adding import LE_BASELINE_MSE
from rnnlab.gradcheck import check_gradients, rel_error
from rnnlab.optim import adam_step


def lstm_case(N, D, H, seed):
    g = np.random.default_rng(seed)
    return (g.standard_normal((N, D)), g.standard_normal((N, H)), g.standard_normal((N, H)),
            0.5 * g.standard_normal((D, 4 * H)), 0.5 * g.standard_normal((H, 4 * H)),
            0.5 * g.standard_normal(4 * H))


@pytest.mark.parametrize("N, D, H, seed", [(1, 1, 1, 0), (3, 2, 4, 1), (5, 3, 2, 2)])
def test_lstm_step_backward_against_torch_and_finite_differences(N, D, H, seed):
    args = lstm_case(N, D, H, seed)
    g = np.random.default_rng(seed + 10)
    dh, dc = g.standard_normal((N, H)), g.standard_normal((N, H))
    copies = [a.copy() for a in args]
    got = gated.lstm_step_backward(dh, dc, *args)
    for before, after in zip(copies, args):
        assert np.array_equal(before, after)
    leaves = [torch.tensor(a, requires_grad=True) for a in args]
    x, h, c, Wx, Wh, b = leaves
    a = x @ Wx + h @ Wh + b
    i, f, gg, o = torch.sigmoid(a[:, :H]), torch.sigmoid(a[:, H:2 * H]), \
        torch.tanh(a[:, 2 * H:3 * H]), torch.sigmoid(a[:, 3 * H:])
    c_next = f * c + i * gg
    h_next = o * torch.tanh(c_next)
    (h_next * torch.from_numpy(dh) + c_next * torch.from_numpy(dc)).sum().backward()
    want = dict(zip(["dx", "dh_prev", "dc_prev", "dWx", "dWh", "db"],
                    [leaf.grad.numpy() for leaf in leaves]))
    for name, expected in want.items():
        assert rel_error(getattr(got, name), expected) < 1e-10, name

    def outputs(**kw):  # both outputs, weighted by their upstream gradients
        h_n, c_n = remedies.lstm_step_forward(**kw)
        return np.stack([h_n, c_n])

    names = ["x", "h_prev", "c_prev", "Wx", "Wh", "b"]
    table = check_gradients(outputs, dict(zip(names, args)),
                            dict(zip(names, [got.dx, got.dh_prev, got.dc_prev, got.dWx,
                                             got.dWh, got.db])), dout=np.stack([dh, dc]))
    assert table.passed, str(table)


def test_lstm_backward_against_torch_lstm():
    g = np.random.default_rng(3)
    N, T, D, H = 3, 6, 2, 4
    x, h0, c0 = g.standard_normal((N, T, D)), g.standard_normal((N, H)), g.standard_normal((N, H))
    Wx, Wh, b = (0.5 * g.standard_normal(s) for s in [(D, 4 * H), (H, 4 * H), (4 * H,)])
    dhs = g.standard_normal((N, T, H))
    got = gated.lstm_backward(dhs, x, h0, c0, Wx, Wh, b)
    lstm = remedies.to_torch_lstm(Wx, Wh, b)
    xt = torch.tensor(x, requires_grad=True)
    h0t, c0t = torch.tensor(h0[None], requires_grad=True), torch.tensor(c0[None], requires_grad=True)
    lstm(xt, (h0t, c0t))[0].backward(torch.from_numpy(dhs))
    want = [xt.grad, h0t.grad[0], c0t.grad[0], lstm.weight_ih_l0.grad.T, lstm.weight_hh_l0.grad.T,
            lstm.bias_ih_l0.grad]
    for name, value, expected in zip(got._fields, got, want):
        assert rel_error(value, expected.numpy()) < 1e-9, name


def test_gru_step_against_torch_grucell_and_by_hand():
    g = np.random.default_rng(4)
    N, D, H = 4, 3, 5
    x, h = g.standard_normal((N, D)), g.standard_normal((N, H))
    Wx, Wh, bx, bh = (g.standard_normal(s) for s in [(D, 3 * H), (H, 3 * H), (3 * H,), (3 * H,)])
    got = gated.gru_step_forward(x, h, Wx, Wh, bx, bh)
    with torch.no_grad():
        want = gated.to_torch_gru_cell(Wx, Wh, bx, bh)(torch.tensor(x), torch.tensor(h)).numpy()
    assert rel_error(got, want) < 1e-12
    # Zero weights: r = z = 1/2 and n = tanh(0) = 0, so h_next = h_prev / 2.
    zeros = [np.zeros(s) for s in [(D, 3 * H), (H, 3 * H), (3 * H,), (3 * H,)]]
    assert np.allclose(gated.gru_step_forward(x, h, *zeros), h / 2, rtol=0, atol=1e-15)
    # The hidden-side bias of n sits inside the reset gate: with r = 0 it has no effect.
    bh_n = np.zeros(3 * H)
    bh_n[:H] = -1e3  # r = sigmoid(-1000) = 0
    moved = bh_n.copy()
    moved[2 * H:] = 7.0
    assert np.allclose(gated.gru_step_forward(x, h, Wx, Wh, bx, bh_n),
                       gated.gru_step_forward(x, h, Wx, Wh, bx, moved), rtol=0, atol=1e-12)


def test_bad_shapes_name_the_argument():
    x, h, c, Wx, Wh, b = lstm_case(2, 3, 4, 0)
    with pytest.raises(ValueError, match="dc_next"):
        gated.lstm_step_backward(h, c[:, :3], x, h, c, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"expected \(H, 3H\)"):
        gated.gru_step_forward(x, h, Wx, Wh, b, b)


def test_numpy_lstm_learns_the_adding_problem_through_its_backward_pass():
    """Trained through lstm_step_backward it ends far below the baseline MSE of 1/6; with a
    backward pass that passes no gradient, only the read-out learns: it stays at the
    baseline."""
    solved = gated.train_lstm_adding(T=20, steps=300, progress=False)
    assert solved[-50:].mean() < 0.1 * LE_BASELINE_MSE

    def no_gradient(dh_next, dc_next, x, h_prev, c_prev, Wx, Wh, b):
        step = gated.lstm_step_backward(dh_next, dc_next, x, h_prev, c_prev, Wx, Wh, b)
        return step._replace(**{k: np.zeros_like(v) for k, v in step._asdict().items()})

    stuck = gated.train_lstm_adding(T=20, steps=300, step_backward=no_gradient, progress=False)
    assert stuck[-50:].mean() > 0.6 * LE_BASELINE_MSE


def test_adam_step_is_torch_adam():
    g = np.random.default_rng(5)
    params = {"w": g.standard_normal((3, 2)), "b": g.standard_normal(2)}
    first = {k: np.zeros_like(v) for k, v in params.items()}
    second = {k: np.zeros_like(v) for k, v in params.items()}
    theirs = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    optimiser = torch.optim.Adam(theirs.values(), lr=0.01)
    for step in range(5):
        grads = {k: g.standard_normal(v.shape) for k, v in params.items()}
        adam_step(params, grads, first, second, step, lr=0.01)
        for k, t in theirs.items():
            t.grad = torch.from_numpy(grads[k])
        optimiser.step()
    for k, v in params.items():
        assert rel_error(v, theirs[k].detach().numpy()) < 1e-12, k
