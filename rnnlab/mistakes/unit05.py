"""Named mistakes of unit 05 (remedies): see :mod:`rnnlab.mistakes`.

Exercises that return several arrays (a list of gradients, ``(dx, dh0, dWx, dWh, db)``,
``(param, cache)``, ...) have catalogues whose answers are tuples of the same arrays; a
test compares one returned array at a time against :func:`part` of the catalogue.
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
