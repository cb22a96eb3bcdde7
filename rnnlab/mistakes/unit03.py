"""Named mistakes of unit 03 (backpropagation through time): see :mod:`rnnlab.mistakes`.

The exercises return several arrays; a test checks them one at a time, so each catalogue
function takes ``output``, the name of the returned array to give every mistake's value
of (the docstring's name, e.g. ``"dWh"``). The descriptions say what went wrong, never
the right formula: deriving it is the exercise.
"""

from __future__ import annotations

import numpy as np

from rnnlab.mistakes import Mistake


def _pick(answers: dict[str, tuple], names: tuple[str, ...], output: str,
          descriptions: dict[str, str]) -> list[Mistake]:
    index = names.index(output)
    return [Mistake(i, descriptions[i], np.asarray(value[index], dtype=np.float64))
            for i, value in answers.items()]


# ------------------------------------------------------------------ temporal_softmax_loss

LOSS_OUTPUTS = ("loss", "dscores")


def temporal_softmax_loss(scores: np.ndarray, y: np.ndarray,
                          output: str = "dscores") -> list[Mistake]:
    """What common mistakes in the loss and its gradient return, for ``output``.

    Shapes as the exercise's: ``scores (N, T, V)``, ``y (N, T)`` of int; ``loss`` is a
    float, ``dscores`` is ``(N, T, V)``.
    """
    N, T, V = scores.shape
    truth = np.eye(V)[y]

    def log_softmax(s, axis=-1):
        shifted = s - s.max(axis=axis, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    def answer(log_p, scale=1.0 / N):
        loss = -float(np.take_along_axis(log_p, y[..., None], axis=-1).sum()) * scale
        return loss, (np.exp(log_p) - truth) * scale

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(scores)
        p_unshifted = e / e.sum(axis=-1, keepdims=True)
        picked = np.take_along_axis(p_unshifted, y[..., None], axis=-1)
        unshifted = (-float(np.log(picked).sum()) / N,
                     (p_unshifted - truth) / N)
    right = log_softmax(scores)
    loss, dscores = answer(right)
    answers = {
        "forgot_batch_mean": answer(right, scale=1.0),
        "averaged_over_time_too": answer(right, scale=1.0 / (N * T)),
        "softmax_over_time": answer(log_softmax(scores, axis=1)),
        "no_max_shift": unshifted,
        "gradient_sign_flipped": (loss, -dscores),
        "forgot_target_term": (loss, np.exp(right) / N),
        "loss_not_negated": (-loss, dscores),
    }
    descriptions = {
        "forgot_batch_mean": "without averaging over the batch (no division by N)",
        "averaged_over_time_too": "when dividing by N * T instead of N (the loss is summed "
                                  "over time, not averaged)",
        "softmax_over_time": "with the softmax taken over time (axis 1) instead of over the "
                             "classes (the last axis)",
        "no_max_shift": "without subtracting each step's maximum score before exp (exp "
                        "overflows for large scores)",
        "gradient_sign_flipped": "with the sign of the gradient flipped",
        "forgot_target_term": "when the target's own score term of the loss is not "
                              "differentiated (only the log-sum-exp part)",
        "loss_not_negated": "without the minus sign: the log-likelihood, not the loss",
    }
    return _pick(answers, LOSS_OUTPUTS, output, descriptions)


# ------------------------------------------------------------------ rnn_step_backward

STEP_OUTPUTS = ("dx", "dh_prev", "dWx", "dWh", "db")


def _step(dh_next, x, h_prev, Wx, Wh, h_next, slope=None, Wh_back=None, dWh_T=False,
          db_mean=False):
    """One step backward, with the parts a mistake changes given explicitly."""
    da = dh_next * ((1.0 - h_next**2) if slope is None else slope)
    dWh = h_prev.T @ da
    return (da @ Wx.T, da @ (Wh.T if Wh_back is None else Wh_back), x.T @ da,
            dWh.T if dWh_T else dWh, da.mean(axis=0) if db_mean else da.sum(axis=0))


def rnn_step_backward(dh_next: np.ndarray, x: np.ndarray, h_prev: np.ndarray, Wx: np.ndarray,
                      Wh: np.ndarray, h_next: np.ndarray, output: str = "dx") -> list[Mistake]:
    """What common mistakes in one step's backward pass return, for ``output``.

    Shapes as the exercise's: ``dh_next (N, H)``, ``x (N, D)``, ``h_prev (N, H)``,
    ``Wx (D, H)``, ``Wh (H, H)``, ``h_next (N, H)``.
    """
    args = (dh_next, x, h_prev, Wx, Wh, h_next)
    answers = {
        "transposed_Wh": _step(*args, Wh_back=Wh),
        "forgot_tanh_slope": _step(*args, slope=1.0),
        "tanh_applied_to_h_next": _step(*args, slope=1.0 - np.tanh(h_next)**2),
        "slope_from_h_prev": _step(*args, slope=1.0 - h_prev**2),
        "transposed_dWh": _step(*args, dWh_T=True),
        "db_averaged": _step(*args, db_mean=True),
    }
    descriptions = {
        "transposed_Wh": "with Wh not transposed on the way back (the same orientation as "
                         "in the forward pass)",
        "forgot_tanh_slope": "without going back through the tanh (its slope left out)",
        "tanh_applied_to_h_next": "with the slope of tanh taken at h_next instead of at the "
                                  "pre-activation (h_next is already tanh of it)",
        "slope_from_h_prev": "with the slope of tanh computed from h_prev instead of h_next",
        "transposed_dWh": "transposed (the factors of the product in the wrong order)",
        "db_averaged": "with the bias gradient averaged over the batch instead of summed",
    }
    return _pick(answers, STEP_OUTPUTS, output, descriptions)


# ------------------------------------------------------------------ rnn_backward

SEQUENCE_OUTPUTS = ("dx", "dh0", "dWx", "dWh", "db")


def _sweep(dhs, x, h0, Wx, Wh, hs, carry=True, accumulate=True, h_prev_is_h_t=False,
           zero_h0=False, forwards=False, Wh_back=None, dh0_before_step0=False):
    """BPTT with the parts a mistake changes given explicitly."""
    T = x.shape[1]
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    dh = np.zeros_like(h0)
    entering = dh
    for t in (range(T) if forwards else reversed(range(T))):
        if h_prev_is_h_t:
            h_prev = hs[:, t]
        else:
            h_prev = hs[:, t - 1] if t > 0 else (np.zeros_like(h0) if zero_h0 else h0)
        entering = dhs[:, t] + (dh if carry else 0.0)
        dx[:, t], dh, dWx_t, dWh_t, db_t = _step(entering, x[:, t], h_prev, Wx, Wh, hs[:, t],
                                                 Wh_back=Wh_back)
        if accumulate:
            dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
        else:
            dWx, dWh, db = dWx_t, dWh_t, db_t
    return dx, (entering if dh0_before_step0 else dh), dWx, dWh, db


def rnn_backward(dhs: np.ndarray, x: np.ndarray, h0: np.ndarray, Wx: np.ndarray,
                 Wh: np.ndarray, hs: np.ndarray, output: str = "dx") -> list[Mistake]:
    """What common mistakes in backpropagation through time return, for ``output``.

    Shapes as the exercise's: ``dhs (N, T, H)``, ``x (N, T, D)``, ``h0 (N, H)``,
    ``Wx (D, H)``, ``Wh (H, H)``, ``hs (N, T, H)``.
    """
    args = (dhs, x, h0, Wx, Wh, hs)
    answers = {
        "not_carried_back": _sweep(*args, carry=False),
        "not_accumulated": _sweep(*args, accumulate=False),
        "h_t_for_h_prev": _sweep(*args, h_prev_is_h_t=True),
        "ignored_h0": _sweep(*args, zero_h0=True),
        "forward_order": _sweep(*args, forwards=True),
        "transposed_Wh": _sweep(*args, Wh_back=Wh),
        "dh0_before_step0": _sweep(*args, dh0_before_step0=True),
    }
    descriptions = {
        "not_carried_back": "when each step receives only its own dhs[:, t], without the "
                            "gradient coming back from later steps",
        "not_accumulated": "when the weight gradients are overwritten at every step instead "
                           "of added up over time (only step 0's are left)",
        "h_t_for_h_prev": "when step t is given h_t (hs[:, t]) where h_{t-1} belongs",
        "ignored_h0": "when step 0's previous state is zeros instead of h0",
        "forward_order": "when the steps are visited forwards (t = 0, 1, ...) instead of "
                         "from the last step back",
        "transposed_Wh": "with Wh transposed on the way back from step to step (look at "
                         "the Wh you pass to rnn_step_backward, and at its dh_prev)",
        "dh0_before_step0": "when dh0 is the gradient reaching h_0 (before going back "
                            "through step 0), not the gradient of h0",
    }
    return _pick(answers, SEQUENCE_OUTPUTS, output, descriptions)


# ------------------------------------------------------------------ adagrad_step

ADAGRAD_OUTPUTS = ("new_param", "new_memory")


def adagrad_step(param: np.ndarray, grad: np.ndarray, memory: np.ndarray, lr: float,
                 eps: float = 1e-8, output: str = "new_param") -> list[Mistake]:
    """What common mistakes in one Adagrad update return, for ``output``.

    All arrays have the same shape; ``lr`` and ``eps`` are floats.
    """
    new_memory = memory + grad**2

    def step(divisor, mem=new_memory):
        with np.errstate(divide="ignore", invalid="ignore"):
            return param - lr * grad / divisor, mem

    answers = {
        "old_memory": step(np.sqrt(memory) + eps, new_memory),
        "eps_inside_sqrt": step(np.sqrt(new_memory + eps)),
        "forgot_sqrt": step(new_memory + eps),
        "memory_not_squared": step(np.sqrt(memory + np.abs(grad)) + eps, memory + np.abs(grad)),
        "memory_not_accumulated": step(np.sqrt(grad**2) + eps, grad**2),
        "ascent": (param + lr * grad / (np.sqrt(new_memory) + eps), new_memory),
    }
    descriptions = {
        "old_memory": "when dividing by the root of the memory before this step's gradient "
                      "is added",
        "eps_inside_sqrt": "with eps inside the square root instead of added to it",
        "forgot_sqrt": "without the square root of the memory",
        "memory_not_squared": "when the memory adds |grad| instead of the squared gradient",
        "memory_not_accumulated": "when the memory holds only this step's squared gradient "
                                  "(not the running sum)",
        "ascent": "with the step added instead of subtracted (gradient ascent)",
    }
    return _pick(answers, ADAGRAD_OUTPUTS, output, descriptions)
