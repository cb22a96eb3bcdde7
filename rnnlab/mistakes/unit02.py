"""Named mistakes of unit 02 (the forward pass): see :mod:`rnnlab.mistakes`."""

from __future__ import annotations

import numpy as np

from rnnlab.mistakes import Mistake, _softmax, _unroll


def rnn_step_forward(x: np.ndarray, h_prev: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                     b: np.ndarray) -> list[Mistake]:
    """What common mistakes in ``h_next = tanh(x @ Wx + h_prev @ Wh + b)`` return.

    Shapes as the exercise's: ``x (N, D)``, ``h_prev (N, H)``, ``Wx (D, H)``, ``Wh (H, H)``,
    ``b (H,)``; every answer is ``(N, H)``.
    """
    return [
        Mistake("transposed_Wh", "with Wh transposed (h_prev @ Wh.T instead of h_prev @ Wh)",
                np.tanh(x @ Wx + h_prev @ Wh.T + b)),
        Mistake("forgot_bias", "without the bias b", np.tanh(x @ Wx + h_prev @ Wh)),
        Mistake("forgot_tanh", "without the tanh (the pre-activation itself)",
                x @ Wx + h_prev @ Wh + b),
        Mistake("forgot_recurrence", "without the recurrent term h_prev @ Wh",
                np.tanh(x @ Wx + b)),
        Mistake("sigmoid_for_tanh", "with the logistic sigmoid instead of tanh",
                1 / (1 + np.exp(-(x @ Wx + h_prev @ Wh + b)))),
    ]


def rnn_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                b: np.ndarray) -> list[Mistake]:
    """What common mistakes in unrolling the recurrence return.

    Shapes as the exercise's: ``x (N, T, D)``, ``h0 (N, H)``, ``Wx (D, H)``, ``Wh (H, H)``,
    ``b (H,)``; the answers are ``(N, T, H)`` but for ``last_state_only``, ``(N, H)``.
    """
    def run(x_at, h_first=h0, W=Wh, reset=False):
        return _unroll(lambda t, h: np.tanh(x_at(t) @ Wx + (h0 if reset else h) @ W + b),
                       x, h_first)

    right = run(lambda t: x[:, t])
    stale = np.concatenate([h0[:, None], right[:, :-1]], axis=1)
    return [
        Mistake("transposed_Wh", "with Wh transposed (h @ Wh.T instead of h @ Wh)",
                run(lambda t: x[:, t], W=Wh.T)),
        Mistake("state_not_carried", "when every step starts again from h0 instead of the "
                "previous step's state", run(lambda t: x[:, t], reset=True)),
        Mistake("ignored_h0", "when the first state is zeros instead of h0",
                run(lambda t: x[:, t], h_first=np.zeros_like(h0))),
        Mistake("stored_previous_state", "when hs[:, t] holds h_{t-1} (the state before the "
                "step) instead of h_t", stale),
        Mistake("shifted_input", "when step t reads x[:, t-1] (off by one in time)",
                run(lambda t: x[:, t - 1])),
        Mistake("same_input_every_step", "when every step reads x[:, 0]",
                run(lambda t: x[:, 0])),
        Mistake("last_state_only", "when only the last state is returned (shape (N, H), not "
                "(N, T, H))", right[:, -1]),
        Mistake("only_last_state_kept", "when the states are overwritten instead of stored "
                "at every step (only hs[:, T-1] filled)",
                np.concatenate([np.zeros_like(right[:, :-1]), right[:, -1:]], axis=1)),
    ]


def output_layer(hs: np.ndarray, Wy: np.ndarray, by: np.ndarray) -> list[Mistake]:
    """What common mistakes in ``softmax(hs @ Wy + by)`` over the last axis return.

    Shapes as the exercise's: ``hs (N, T, H)``, ``Wy (H, V)``, ``by (V,)``; every answer is
    ``(N, T, V)``.
    """
    scores = hs @ Wy + by
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(scores)
        unshifted = e / e.sum(axis=-1, keepdims=True)
    return [
        Mistake("softmax_over_time", "with the softmax taken over time (axis 1) instead of "
                "over the classes (the last axis)", _softmax(scores, axis=1)),
        Mistake("softmax_over_batch", "with the softmax taken over the batch (axis 0) instead "
                "of over the classes (the last axis)", _softmax(scores, axis=0)),
        Mistake("no_max_shift", "without subtracting each row's maximum before exp (exp "
                "overflows for large scores)", unshifted),
        Mistake("forgot_output_bias", "without the output bias by", _softmax(hs @ Wy)),
        Mistake("scores_not_probabilities", "without the softmax (the scores hs @ Wy + by)",
                scores),
        Mistake("not_normalised", "without dividing by the sum (exp of the shifted scores)",
                np.exp(scores - scores.max(axis=-1, keepdims=True))),
    ]
