"""Gated cells by hand: the LSTM's backward pass, the GRU's step, and a NumPy LSTM trained
on the adding problem with whichever step functions it is given (the student's or these).

The LSTM's forward step is :func:`rnnlab.remedies.lstm_step_forward` (torch's equations,
gates ``i, f, g, o``). The GRU follows ``torch.nn.GRUCell`` (gates ``r, z, n``), which
needs two biases because the hidden-side bias of ``n`` sits inside the reset gate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from tqdm.auto import tqdm

from rnnlab.data.adding import adding_problem
from rnnlab.optim import adam_step
from rnnlab.remedies import lstm_step_forward, sigmoid
from rnnlab.validation import check_arrays


class LSTMStepGrads(NamedTuple):
    """Gradients of one LSTM step with respect to its inputs and weights."""

    dx: np.ndarray
    dh_prev: np.ndarray
    dc_prev: np.ndarray
    dWx: np.ndarray
    dWh: np.ndarray
    db: np.ndarray


def _check_gates(x, h_prev, Wx, Wh, gates: int, **more) -> int:
    """Check one gated step's arguments; return ``H``."""
    sizes = check_arrays(x=(x, "N D"), h_prev=(h_prev, "N H"), Wx=(Wx, "D G"),
                         Wh=(Wh, "H G"), **more)
    if sizes["G"] != gates * sizes["H"]:
        raise ValueError(f"Wh has shape {Wh.shape}; expected (H, {gates}H) = "
                         f"({sizes['H']}, {gates * sizes['H']})")
    return sizes["H"]


def lstm_step_backward(dh_next: np.ndarray, dc_next: np.ndarray, x: np.ndarray,
                       h_prev: np.ndarray, c_prev: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                       b: np.ndarray) -> LSTMStepGrads:
    """Backward pass of :func:`rnnlab.remedies.lstm_step_forward`.

    Parameters
    ----------
    dh_next, dc_next : (N, H) gradients of the loss with respect to ``h_next`` and
        ``c_next`` from everything after this step.
    x, h_prev, c_prev, Wx, Wh, b : the step's inputs, as in the forward pass.

    Returns
    -------
    LSTMStepGrads
        ``dx (N, D), dh_prev (N, H), dc_prev (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,)``.

    Notes
    -----
    With ``t = tanh(c_next)``: the cell receives ``dc = dc_next + dh_next * o * (1 - t**2)``;
    ``do = dh_next * t``, ``di = dc * g``, ``df = dc * c_prev``, ``dg = dc * i`` and
    ``dc_prev = dc * f``; through the nonlinearities ``da = [di * i (1 - i), df * f (1 - f),
    dg (1 - g**2), do * o (1 - o)]``, and then as in a plain RNN step: ``dx = da @ Wx.T``,
    ``dh_prev = da @ Wh.T``, ``dWx = x.T @ da``, ``dWh = h_prev.T @ da``, ``db = sum_n da``.
    """
    H = _check_gates(x, h_prev, Wx, Wh, 4, c_prev=(c_prev, "N H"), b=(b, "G"),
                     dh_next=(dh_next, "N H"), dc_next=(dc_next, "N H"))
    a = x @ Wx + h_prev @ Wh + b
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 3 * H:])
    g = np.tanh(a[:, 2 * H:3 * H])
    t = np.tanh(f * c_prev + i * g)
    dc = dc_next + dh_next * o * (1.0 - t**2)
    da = np.concatenate([dc * g * i * (1.0 - i), dc * c_prev * f * (1.0 - f),
                         dc * i * (1.0 - g**2), dh_next * t * o * (1.0 - o)], axis=1)
    return LSTMStepGrads(da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, h_prev.T @ da, da.sum(axis=0))


def lstm_step_grads_torch(dh_next: np.ndarray, dc_next: np.ndarray, x: np.ndarray,
                          h_prev: np.ndarray, c_prev: np.ndarray, Wx: np.ndarray,
                          Wh: np.ndarray, b: np.ndarray) -> LSTMStepGrads:
    """:func:`lstm_step_backward`'s gradients by autograd through ``torch.nn.LSTM`` (one
    step, the same weights): what the tests check a hand-written backward pass against."""
    import torch

    from rnnlab.remedies import to_torch_lstm

    lstm = to_torch_lstm(Wx, Wh, b)
    xt = torch.tensor(x[:, None], requires_grad=True)
    ht, ct = (torch.tensor(a[None], requires_grad=True) for a in (h_prev, c_prev))
    _, (h_next, c_next) = lstm(xt, (ht, ct))
    (h_next[0] * torch.from_numpy(dh_next) + c_next[0] * torch.from_numpy(dc_next)).sum().backward()
    return LSTMStepGrads(xt.grad[:, 0].numpy(), ht.grad[0].numpy(), ct.grad[0].numpy(),
                         lstm.weight_ih_l0.grad.T.numpy(), lstm.weight_hh_l0.grad.T.numpy(),
                         lstm.bias_ih_l0.grad.numpy())


def lstm_backward(dhs: np.ndarray, x: np.ndarray, h0: np.ndarray, c0: np.ndarray,
                  Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray,
                  step_forward: Callable = lstm_step_forward,
                  step_backward: Callable = lstm_step_backward) -> LSTMStepGrads:
    """Backpropagation through time of an LSTM over ``x (N, T, D)``.

    ``dhs (N, T, H)`` is the loss's gradient with respect to every hidden state. The states
    are recomputed with ``step_forward``; each step's gradient comes from ``step_backward``
    (so a notebook can pass its own). Returns the gradients with respect to ``x (N, T, D)``,
    ``h0``, ``c0`` and the weights, as :class:`LSTMStepGrads` (``dh_prev`` is ``dh0``).
    """
    sizes = check_arrays(dhs=(dhs, "N T H"), x=(x, "N T D"), h0=(h0, "N H"), c0=(c0, "N H"))
    states = [(h0, c0)]
    for t in range(sizes["T"]):
        states.append(step_forward(x[:, t], *states[-1], Wx, Wh, b))
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh, dc = np.zeros_like(h0), np.zeros_like(c0)
    for t in reversed(range(sizes["T"])):
        # Unpacked by position: a notebook's step returns a plain tuple.
        dx[:, t], dh, dc, step_dWx, step_dWh, step_db = step_backward(
            dhs[:, t] + dh, dc, x[:, t], *states[t], Wx, Wh, b)
        dWx, dWh, db = dWx + step_dWx, dWh + step_dWh, db + step_db
    return LSTMStepGrads(dx, dh, dc, dWx, dWh, db)


def gru_step_forward(x: np.ndarray, h_prev: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                     bx: np.ndarray, bh: np.ndarray) -> np.ndarray:
    """One step of a GRU cell in ``torch.nn.GRUCell``'s convention.

    Parameters
    ----------
    x : (N, D) inputs; h_prev : (N, H) previous state.
    Wx : (D, 3H), Wh : (H, 3H) the gates ``r, z, n`` side by side.
    bx, bh : (3H,) input-side and hidden-side biases.

    Returns
    -------
    h_next : (N, H).

    Notes
    -----
    With ``u = x @ Wx + bx`` and ``v = h_prev @ Wh + bh`` split into blocks ``r, z, n``:
    ``r = sigmoid(u_r + v_r)``, ``z = sigmoid(u_z + v_z)``, ``n = tanh(u_n + r * v_n)``,
    ``h_next = (1 - z) * n + z * h_prev``.
    """
    H = _check_gates(x, h_prev, Wx, Wh, 3, bx=(bx, "G"), bh=(bh, "G"))
    u, v = x @ Wx + bx, h_prev @ Wh + bh
    r = sigmoid(u[:, :H] + v[:, :H])
    z = sigmoid(u[:, H:2 * H] + v[:, H:2 * H])
    n = np.tanh(u[:, 2 * H:] + r * v[:, 2 * H:])
    return (1.0 - z) * n + z * h_prev


def to_torch_gru_cell(Wx: np.ndarray, Wh: np.ndarray, bx: np.ndarray, bh: np.ndarray):
    """A ``torch.nn.GRUCell`` with these weights (``weight_ih = Wx.T``, ``weight_hh = Wh.T``)."""
    import torch

    from rnnlab.torch_bridge import load_weights

    sizes = check_arrays(Wx=(Wx, "D G"), Wh=(Wh, "H G"), bx=(bx, "G"), bh=(bh, "G"))
    if sizes["G"] != 3 * sizes["H"]:
        raise ValueError(f"Wh has shape {Wh.shape}; expected (H, 3H) = "
                         f"({sizes['H']}, {3 * sizes['H']})")
    return load_weights(torch.nn.GRUCell, sizes["D"], sizes["H"], Wx, Wh, bx, b_h=bh)


def train_lstm_adding(T: int, steps: int, step_forward: Callable = lstm_step_forward,
                      step_backward: Callable = lstm_step_backward, H: int = 16, N: int = 32,
                      lr: float = 1e-2, forget_bias: float = 1.0, seed: int = 0,
                      progress: bool = True) -> np.ndarray:
    """Train a NumPy LSTM with a linear read-out of its last state on the adding problem
    (Le et al.'s definition) with Adam; return the training MSE of every step.

    The gradient flows through ``step_backward`` only, so the student's LSTM learns or
    fails by its own backward pass. Compare the losses with
    :func:`rnnlab.data.adding.baseline_mse` (1/6: always predicting 1).
    """
    rng = np.random.default_rng(seed)
    params = {"Wx": rng.normal(0.0, 1.0 / np.sqrt(2), (2, 4 * H)),
              "Wh": rng.normal(0.0, 1.0 / np.sqrt(H), (H, 4 * H)),
              "b": np.zeros(4 * H), "Wy": rng.normal(0.0, 1.0 / np.sqrt(H), (H, 1)),
              "by": np.ones(1)}
    params["b"][H:2 * H] = forget_bias  # remember by default (Gers et al. 2000)
    first = {k: np.zeros_like(v) for k, v in params.items()}
    second = {k: np.zeros_like(v) for k, v in params.items()}
    zeros = np.zeros((N, H))
    losses = np.empty(steps)
    for step in tqdm(range(steps), desc=f"NumPy LSTM, T={T}", disable=not progress):
        x, y = adding_problem(N, T, rng, dtype=np.float64)
        state = (zeros, zeros)
        for t in range(T):
            state = step_forward(x[:, t], *state, params["Wx"], params["Wh"], params["b"])
        error = state[0] @ params["Wy"] + params["by"] - y[:, None]
        losses[step] = float(np.mean(error**2))
        dy = 2.0 * error / N
        dhs = np.zeros((N, T, H))
        dhs[:, -1] = dy @ params["Wy"].T
        grads = lstm_backward(dhs, x, zeros, zeros, params["Wx"], params["Wh"], params["b"],
                              step_forward, step_backward)
        grads = {"Wx": grads.dWx, "Wh": grads.dWh, "b": grads.db,
                 "Wy": state[0].T @ dy, "by": dy.sum(axis=0)}
        adam_step(params, grads, first, second, step, lr)
    return losses

