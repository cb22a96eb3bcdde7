"""Named mistakes of unit 05 (remedies and gated cells): see :mod:`rnnlab.mistakes`.

Exercises that return several arrays (a list of gradients, ``(dx, dh0, dWx, dWh, db)``,
``(param, cache)``, ...) have catalogues whose answers are tuples of the same arrays; a
test compares one returned array at a time against :func:`part` of the catalogue
(``lstm_step_backward``'s catalogue is a dict of one list per returned array instead).
"""

from __future__ import annotations

import numpy as np

from rnnlab.mistakes import Mistake


def part(named: list[Mistake], i: int) -> list[Mistake]:
    """The catalogue ``named`` with each answer cut to its ``i``-th array."""
    return [Mistake(m.id, m.description, m.answer[i]) for m in named]


def clip_grad_norm(grads: list[np.ndarray], max_norm: float) -> list[Mistake]:
    """What common mistakes in clipping by the global norm return.

    ``grads``: arrays of any shapes; each answer is a tuple of arrays of those shapes.
    """
    norm = np.sqrt(sum(float(np.sum(g**2)) for g in grads))
    squares = norm**2

    def scaled(scale):
        return tuple(g * scale for g in grads)

    def own_norm(g):
        n = np.sqrt(np.sum(g**2))
        return g * (min(1.0, max_norm / n) if n > 0 else 1.0)

    return [
        Mistake("clipped_elementwise", "clipping each entry to [-max_norm, max_norm] "
                "instead of rescaling by the global norm",
                tuple(np.clip(g, -max_norm, max_norm) for g in grads)),
        Mistake("norm_per_array", "clipping each array by its own norm instead of by the "
                "norm of all of them together", tuple(own_norm(g) for g in grads)),
        Mistake("always_rescaled", "rescaling to max_norm even when the norm is already "
                "below it (g * max_norm / norm)",
                scaled(max_norm / norm if norm > 0 else 1.0)),
        Mistake("norm_not_square_rooted", "with the sum of squares (no square root) as "
                "the norm", scaled(min(1.0, max_norm / squares) if squares > 0 else 1.0)),
    ]


def truncated_rnn_backward(dhs: np.ndarray, x: np.ndarray, h0: np.ndarray, Wx: np.ndarray,
                           Wh: np.ndarray, hs: np.ndarray, k: int) -> list[Mistake]:
    """What common mistakes in truncated BPTT return: answers ``(dx, dh0, dWx, dWh, db)``.

    Shapes as the exercise's: ``dhs, hs (N, T, H)``, ``x (N, T, D)``, ``h0 (N, H)``,
    ``Wx (D, H)``, ``Wh (H, H)``.
    """
    def _tbptt(dhs, x, h0, Wx, Wh, hs, cut, carry=True, state_at=-1, Wh_back=None):
        """Truncated BPTT with switches; ``cut(t)`` stops the gradient from t to t - 1.

        Nested, so that grading hides it with the catalogue: with the right ``cut`` and no
        other switch it is the right answer.
        """
        N, T, H = hs.shape
        Wh_back = Wh.T if Wh_back is None else Wh_back
        dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H)
        dh = np.zeros((N, H))
        for t in reversed(range(T)):
            h_prev = hs[:, t + state_at] if t + state_at >= 0 else h0
            da = (dhs[:, t] + (dh if carry else 0.0)) * (1.0 - hs[:, t] ** 2)
            dx[:, t] = da @ Wx.T
            dWx += x[:, t].T @ da
            dWh += h_prev.T @ da
            db += da.sum(axis=0)
            dh = da @ Wh_back
            if cut(t):
                dh = np.zeros((N, H))
        return dx, dh, dWx, dWh, db

    def run(cut, **switches):
        return _tbptt(dhs, x, h0, Wx, Wh, hs, cut, **switches)

    def right(t):
        return t > 0 and t % k == 0

    return [
        Mistake("not_truncated", "without truncation (the full BPTT gradient)",
                run(lambda t: False)),
        Mistake("cut_at_step_zero", "when the gradient is also cut at t = 0 (dh0 is zero)",
                run(lambda t: t % k == 0)),
        Mistake("cut_one_step_late", "when the chunks are cut one step late (between t and "
                "t - 1 where t - 1 is a multiple of k)", run(lambda t: t > 0 and t % k == 1)),
        Mistake("not_carried", "when dh from step t + 1 is not added to dhs[:, t] (every "
                "step sees only its own upstream gradient)", run(right, carry=False)),
        Mistake("h_t_for_h_prev", "with h_t instead of h_{t-1} in dWh",
                run(right, state_at=0)),
        Mistake("Wh_not_transposed", "with da @ Wh instead of da @ Wh.T for the gradient "
                "of the previous state", run(right, Wh_back=Wh)),
    ]


def rmsprop_step(param: np.ndarray, grad: np.ndarray, cache: np.ndarray, lr: float = 1e-3,
                 decay: float = 0.9, eps: float = 1e-8) -> list[Mistake]:
    """What common mistakes in one RMSprop step return: answers ``(new_param, new_cache)``."""
    new_cache = decay * cache + (1.0 - decay) * grad**2
    swapped = (1.0 - decay) * cache + decay * grad**2
    with np.errstate(divide="ignore", invalid="ignore"):
        return _rmsprop_mistakes(param, grad, cache, lr, decay, eps, new_cache, swapped)


def _rmsprop_mistakes(param, grad, cache, lr, decay, eps, new_cache, swapped):
    stale = param - lr * grad / (np.sqrt(cache) + eps)
    return [
        Mistake("old_cache_in_step", "dividing by the old cache instead of the updated one",
                (stale, new_cache)),
        Mistake("eps_inside_sqrt", "with sqrt(cache + eps) instead of sqrt(cache) + eps",
                (param - lr * grad / np.sqrt(new_cache + eps), new_cache)),
        Mistake("decay_swapped", "with decay and 1 - decay swapped in the running mean",
                (param - lr * grad / (np.sqrt(swapped) + eps), swapped)),
        Mistake("no_sqrt", "dividing by the mean square instead of its square root",
                (param - lr * grad / (new_cache + eps), new_cache)),
    ]


def identity_init(D: int, H: int, rng: np.random.Generator, scale: float = 1.0,
                  input_std: float = 1e-3) -> list[Mistake]:
    """What common mistakes in the IRNN initialisation return: answers ``(Wx, Wh, b)``.

    ``rng`` must be a fresh generator in the state the exercise's got.
    """
    Wx = rng.normal(0.0, input_std, size=(D, H))
    unit_std = Wx / input_std if input_std else Wx
    return [
        Mistake("identity_not_scaled", "with Wh = I, ignoring scale",
                (Wx, np.eye(H), np.zeros(H))),
        Mistake("ones_for_identity", "with Wh = scale * ones((H, H)) instead of scale * I",
                (Wx, scale * np.ones((H, H)), np.zeros(H))),
        Mistake("input_std_ignored", "with Wx of standard deviation 1, ignoring input_std",
                (unit_std, scale * np.eye(H), np.zeros(H))),
    ]


def lstm_step_forward(x: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, Wx: np.ndarray,
                      Wh: np.ndarray, b: np.ndarray) -> list[Mistake]:
    """What common mistakes in one LSTM step return: answers ``(h_next, c_next)``.

    Shapes as the exercise's: ``x (N, D)``, ``h_prev, c_prev (N, H)``, ``Wx (D, 4H)``,
    ``Wh (H, 4H)``, ``b (4H,)``.
    """
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i_, f_, g_, o_ = (a[:, j * H:(j + 1) * H] for j in range(4))

    def sigmoid(z):
        return 0.5 * (1.0 + np.tanh(0.5 * z))

    def cell(i, f, g, o, prev=c_prev, squash=np.tanh):
        c = sigmoid(f) * prev + sigmoid(i) * g
        return sigmoid(o) * squash(c), c

    return [
        Mistake("gate_order_ifog", "with the gates in the order i, f, o, g instead of "
                "torch's i, f, g, o", cell(i_, f_, np.tanh(o_), g_)),
        Mistake("h_prev_for_c_prev", "with h_prev instead of c_prev in f * c_prev",
                cell(i_, f_, np.tanh(g_), o_, prev=h_prev)),
        Mistake("no_tanh_on_cell", "with h_next = o * c_next (no tanh of the cell)",
                cell(i_, f_, np.tanh(g_), o_, squash=lambda c: c)),
        Mistake("sigmoid_for_g", "with a sigmoid instead of tanh for the candidate g",
                cell(i_, f_, sigmoid(g_), o_)),
    ]


# ---------------------------------------------------------------- the gated cells by hand

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
