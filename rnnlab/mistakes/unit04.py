"""Named mistakes of unit 04 (vanishing and exploding gradients): see :mod:`rnnlab.mistakes`.

The descriptions say what went wrong, never the right formula: deriving the Jacobian is
the exercise.
"""

from __future__ import annotations

import numpy as np

from rnnlab.mistakes import Mistake


def _jacobian(h_next, Wh, slope=None, W=None, on_columns=False):
    """One Jacobian per sequence, with the parts a mistake changes given explicitly."""
    s = (1.0 - h_next**2) if slope is None else slope
    W = Wh.T if W is None else W
    return (s[:, None, :] if on_columns else s[:, :, None]) * W[None]


def rnn_step_jacobian(h_next: np.ndarray, Wh: np.ndarray) -> list[Mistake]:
    """What common mistakes in the one-step Jacobian return.

    Shapes as the exercise's: ``h_next (N, H)``, ``Wh (H, H)``; every answer is ``(N, H, H)``.
    """
    return [
        Mistake("Wh_not_transposed", "with Wh where its transpose belongs (row i of J is "
                "how unit i of the new state moves)", _jacobian(h_next, Wh, W=Wh)),
        Mistake("slope_on_columns", "with the slope of tanh scaling the columns instead of "
                "the rows", _jacobian(h_next, Wh, on_columns=True)),
        Mistake("forgot_tanh_slope", "without the slope of tanh",
                _jacobian(h_next, Wh, slope=np.ones_like(h_next))),
        Mistake("tanh_applied_to_h_next", "with the slope of tanh taken at h_next instead of "
                "at the pre-activation (h_next is already tanh of it)",
                _jacobian(h_next, Wh, slope=1.0 - np.tanh(h_next)**2)),
        Mistake("slope_not_squared", "with 1 - h_next as the slope of tanh",
                _jacobian(h_next, Wh, slope=1.0 - h_next)),
    ]


def jacobian_product_norms(hs: np.ndarray, Wh: np.ndarray) -> list[Mistake]:
    """What common mistakes in the norms of the Jacobian products return.

    Shapes as the exercise's: ``hs (N, T, H)``, ``Wh (H, H)``; every answer is ``(N, T)``.
    """
    N, T, H = hs.shape

    def norms(state, left=False, elementwise=False, ord=2, of_factors=False):
        out = np.ones((N, T))
        product = np.broadcast_to(np.eye(H), (N, H, H))
        for lag in range(1, T):
            J = _jacobian(hs[:, state(lag)], Wh)
            if of_factors:
                out[:, lag] = out[:, lag - 1] * np.linalg.norm(J, ord=ord, axis=(1, 2))
                continue
            product = J * product if elementwise else (J @ product if left else product @ J)
            out[:, lag] = np.linalg.norm(product, ord=ord, axis=(1, 2))
        return out

    back = lambda lag: T - lag  # noqa: E731 (the states of the right answer)
    return [
        Mistake("factor_on_the_left", "with each new (earlier) factor multiplied on the left "
                "of the running product instead of the right", norms(back, left=True)),
        Mistake("state_one_step_early", "with J_s computed from h_{s-1} (one state too early) "
                "instead of h_s", norms(lambda lag: T - lag - 1)),
        Mistake("states_from_the_start", "with the states taken from the start of the "
                "sequence (hs[:, lag]) instead of back from the end", norms(lambda lag: lag)),
        Mistake("frobenius_norm", "with the Frobenius norm instead of the spectral norm",
                norms(back, ord="fro")),
        Mistake("elementwise_product", "with the Jacobians multiplied elementwise (*) instead "
                "of as matrices", norms(back, elementwise=True)),
        Mistake("product_of_norms", "as the product of each Jacobian's norm (the bound) "
                "instead of the norm of the product", norms(back, of_factors=True)),
    ]
