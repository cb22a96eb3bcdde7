"""Named mistakes of unit 05 (remedies and gated cells): see :mod:`rnnlab.mistakes`."""

from __future__ import annotations

import numpy as np

from rnnlab.mistakes import Mistake


def _sig(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _lstm_backward(dh_next, dc_next, x, h_prev, c_prev, Wx, Wh, b, mistake=None):
    """The LSTM step's six gradients, right or with one catalogued mistake."""
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i, f, g, o = _sig(a[:, :H]), _sig(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), _sig(a[:, 3 * H:])
    c_next = f * c_prev + i * g
    t = np.tanh(c_next)
    slope = 1.0 - c_next**2 if mistake == "tanh_derivative_of_c" else 1.0 - t**2
    dc = {"forgot_dc_next": dh_next * o * slope, "forgot_tanh_route": dc_next}.get(
        mistake, dc_next + dh_next * o * slope)
    dsig = (lambda s: 1.0 - s**2) if mistake == "sigmoid_derivative_as_tanh" else (
        lambda s: s * (1.0 - s))
    blocks = [dc * g * dsig(i), dc * c_prev * dsig(f), dc * i * (1.0 - g**2),
              dh_next * t * dsig(o)]
    if mistake == "gates_out_of_order":
        blocks = [blocks[0], blocks[1], blocks[3], blocks[2]]
    da = np.concatenate(blocks, axis=1)
    dc_prev = dc if mistake == "dc_prev_without_f" else dc * f
    return {"dx": da @ Wx.T, "dh_prev": da @ Wh.T, "dc_prev": dc_prev, "dWx": x.T @ da,
            "dWh": h_prev.T @ da, "db": da.sum(axis=0)}


LSTM_BACKWARD_MISTAKES = {
    "forgot_dc_next": "without dc_next (the gradient the next step sends to c_next)",
    "forgot_tanh_route": "without the route from c_next through h_next = o * tanh(c_next)",
    "tanh_derivative_of_c": "with tanh's slope taken at c_next (1 - c_next**2) instead of "
                            "at tanh(c_next)",
    "sigmoid_derivative_as_tanh": "with the gates' slope written 1 - s**2 (tanh's) instead "
                                  "of s * (1 - s)",
    "gates_out_of_order": "with the g and o blocks of da swapped (torch's order is i, f, g, o)",
    "dc_prev_without_f": "with dc_prev = dc (the forget gate f left out)",
}


def lstm_step_backward(dh_next: np.ndarray, dc_next: np.ndarray, x: np.ndarray,
                       h_prev: np.ndarray, c_prev: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                       b: np.ndarray) -> dict[str, list[Mistake]]:
    """What common mistakes in the LSTM step's backward pass return, per output.

    Shapes as the exercise's; returns ``{"dx": [...], "dh_prev": [...], "dc_prev": [...],
    "dWx": [...], "dWh": [...], "db": [...]}``, each a list of mistakes whose answer has
    that output's shape.
    """
    args = (dh_next, dc_next, x, h_prev, c_prev, Wx, Wh, b)
    wrong = {m: _lstm_backward(*args, mistake=m) for m in LSTM_BACKWARD_MISTAKES}
    return {name: [Mistake(m, words, wrong[m][name]) for m, words in LSTM_BACKWARD_MISTAKES.items()]
            for name in ("dx", "dh_prev", "dc_prev", "dWx", "dWh", "db")}


def gru_step_forward(x: np.ndarray, h_prev: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                     bx: np.ndarray, bh: np.ndarray) -> list[Mistake]:
    """What common mistakes in the GRU step (torch's convention) return: ``(N, H)`` each.

    Shapes as the exercise's: ``x (N, D)``, ``h_prev (N, H)``, ``Wx (D, 3H)``,
    ``Wh (H, 3H)``, ``bx, bh (3H,)``.
    """
    H = h_prev.shape[1]
    u, v = x @ Wx + bx, h_prev @ Wh + bh
    r, z = _sig(u[:, :H] + v[:, :H]), _sig(u[:, H:2 * H] + v[:, H:2 * H])
    n = np.tanh(u[:, 2 * H:] + r * v[:, 2 * H:])
    r_swapped, z_swapped = z, r  # blocks read in the order z, r, n
    n_swapped = np.tanh(u[:, 2 * H:] + r_swapped * v[:, 2 * H:])
    return [
        Mistake("z_roles_swapped", "with z and 1 - z swapped (z * n + (1 - z) * h_prev)",
                z * n + (1.0 - z) * h_prev),
        Mistake("reset_before_product", "with the reset gate applied to h_prev before the "
                "product ((r * h_prev) @ Wh_n, the original GRU's form, not torch's)",
                (1.0 - z) * np.tanh(u[:, 2 * H:] + (r * h_prev) @ Wh[:, 2 * H:]
                                    + bh[2 * H:]) + z * h_prev),
        Mistake("hidden_bias_outside_reset", "with the hidden-side bias of n outside the "
                "reset gate (r * (h_prev @ Wh_n) + bh_n)",
                (1.0 - z) * np.tanh(u[:, 2 * H:] + r * (h_prev @ Wh[:, 2 * H:])
                                    + bh[2 * H:]) + z * h_prev),
        Mistake("gates_out_of_order", "with the r and z blocks swapped (torch's order is "
                "r, z, n)", (1.0 - z_swapped) * n_swapped + z_swapped * h_prev),
        Mistake("forgot_reset", "without the reset gate (n = tanh(u_n + v_n))",
                (1.0 - z) * np.tanh(u[:, 2 * H:] + v[:, 2 * H:]) + z * h_prev),
    ]
