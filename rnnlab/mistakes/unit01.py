"""Named mistakes of unit 01 (why recurrence): see :mod:`rnnlab.mistakes`."""

from __future__ import annotations

import numpy as np

from rnnlab.mistakes import Mistake

GAP = 50  # fillers after a subject in :func:`memory_behaviour`'s sentences
BEHAVIOUR = ("plural read", "singular read", "plural held", "singular held",
             "plural overrides singular", "singular overrides plural")


def window_features(x: np.ndarray, k: int) -> list[Mistake]:
    """What common mistakes in building the windows of width ``k`` of ``x (N, T, D)`` return.

    The right block ``j`` of step ``t`` is ``x[:, t - k + 1 + j]`` (zeros before the start);
    the answers are ``(N, T, k * D)`` but for ``stacked_blocks``, ``(N, T, k, D)``.
    """
    N, T, D = x.shape

    def block(index):  # x[:, index(t)] at every step t, zeros where index(t) is None
        out = np.zeros((N, T, D))
        for t in range(T):
            i = index(t)
            if i is not None:
                out[:, t] = x[:, i]
        return out

    def inside(i):
        return i if 0 <= i < T else None

    past = [block(lambda t, j=j: inside(t - k + 1 + j)) for j in range(k)]
    return [
        Mistake("newest_first", "with the blocks newest first (x_t first); the oldest comes "
                "first, x_t last", np.concatenate(past[::-1], axis=2)),
        Mistake("future_window", "with the zeros padded at the end: the window looks ahead "
                "(x_t, ..., x_{t+k-1}) instead of back",
                np.concatenate([block(lambda t, j=j: inside(t + j)) for j in range(k)], axis=2)),
        Mistake("wrap_around", "when the window wraps around the end of the sequence "
                "(np.roll) instead of seeing zeros before the start",
                np.concatenate([block(lambda t, j=j: (t - k + 1 + j) % T) for j in range(k)],
                               axis=2)),
        Mistake("stacked_blocks", "with the blocks stacked on a new axis (N, T, k, D) instead "
                "of concatenated on the last one", np.stack(past, axis=2)),
    ]


def memory_behaviour(Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray, singular: int,
                     plural: int) -> np.ndarray:
    """Which of six checks the cell ``(Wx (V, 1), Wh (1, 1), b (1,))`` passes: 1.0 or 0.0.

    In the order of :data:`BEHAVIOUR`: the state right after a subject (from ``h = 0``) is
    beyond 0.5 on its side; it stays there over :data:`GAP` fillers; right after the
    opposite subject arrives at the end of those fillers, it is beyond 0.5 on the new side.
    """
    Wx, Wh, b = (np.asarray(a, dtype=np.float64) for a in (Wx, Wh, b))
    V = Wx.shape[0]
    filler = min(set(range(V)) - {singular, plural})

    def states(words):
        h, out = np.zeros(1), []
        for w in words:
            h = np.tanh(Wx[w] + h @ Wh + b)
            out.append(h[0])
        return np.array(out)

    reads, holds = [], []
    for subject, sign in ((plural, 1.0), (singular, -1.0)):
        hs = sign * states([subject] + [filler] * GAP)
        reads.append(hs[0] > 0.5)
        holds.append(np.all(hs[1:] > 0.5))
    overrides = [sign * states([first] + [filler] * GAP + [then])[-1] > 0.5
                 for first, then, sign in ((singular, plural, 1.0), (plural, singular, -1.0))]
    return np.array(reads + holds + overrides, dtype=np.float64)


def memory_cell_weights(V: int, singular: int, plural: int) -> list[Mistake]:
    """The :func:`memory_behaviour` that common mistakes in choosing the cell give.

    Every answer is the ``(6,)`` pattern of checks passed (the right one is all ones).
    """
    def pattern(*passed):
        return np.array(passed, dtype=np.float64)

    return [
        Mistake("swapped_subjects", "with the subjects' signs swapped (the plural must push "
                "the state up, the singular down)", pattern(0, 0, 0, 0, 0, 0)),
        Mistake("state_forgotten", "when the state fades over the fillers: |Wh| too small "
                "(or negative) to hold the sign of tanh(Wh h + b)", pattern(1, 1, 0, 0, 1, 1)),
        Mistake("subject_too_weak", "when a new subject cannot override the remembered one: "
                "|Wx| must beat Wh times the held state", pattern(1, 1, 1, 1, 0, 0)),
        Mistake("bias_towards_plural", "with a bias that pulls every state up, so a singular "
                "subject is not held (b = 0 keeps both sides)", pattern(1, 1, 1, 0, 1, 1)),
        Mistake("bias_towards_singular", "with a bias that pulls every state down, so a "
                "plural subject is not held (b = 0 keeps both sides)",
                pattern(1, 1, 0, 1, 1, 1)),
    ]
