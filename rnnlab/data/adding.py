"""The adding problem, in its two published definitions, generated on the fly.

Each sequence has ``T`` steps of two features: a value and a marker. Exactly two steps
are marked; the target, given only at the end, is a function of the two marked values
``X1`` and ``X2``. A network solves it only if it carries the marked values across the
whole gap, so the problem measures long-term memory.

``"hochreiter"`` (Hochreiter and Schmidhuber 1997, experiment 4)
    Values uniform in ``[-1, 1]``; markers ``1`` on the two chosen steps, ``-1`` on the
    first and last step (unless the first step is chosen), ``0`` elsewhere. ``X1`` is
    one of the first 10 steps, ``X2`` one of the first ``T/2 - 1`` steps other than X1's.
    A chosen first step carries the value 0. Target ``0.5 + (X1 + X2) / 4``
    (in ``[0, 1]``); a sequence is solved when the absolute error is below ``0.04``.
    The original draws each length from ``[T, T + T/10]``; here every sequence in a
    batch has exactly ``T`` steps, so batches need no padding.
``"le"`` (Le, Jaitly and Hinton 2015)
    Values uniform in ``[0, 1]``; markers ``1`` on one step of the first half and one of
    the second half, ``0`` elsewhere. Target ``X1 + X2``. Always predicting 1, the
    mean of the target, gives the mean squared error ``Var(X1 + X2) = 2/12 = 1/6``.
"""

from __future__ import annotations

import numpy as np

DEFINITIONS = ("hochreiter", "le")
#: A sequence of the Hochreiter-Schmidhuber definition is solved below this error.
TOLERANCE = 0.04
#: Mean squared error of always predicting 1 in the Le et al. definition: Var(X1 + X2).
LE_BASELINE_MSE = 1.0 / 6.0


def _check(N: int, T: int, definition: str) -> None:
    if definition not in DEFINITIONS:
        raise ValueError(f"definition is {definition!r}; expected one of {DEFINITIONS}")
    if not isinstance(N, (int, np.integer)) or N < 1:
        raise ValueError(f"N must be a positive integer; got {N!r}")
    low = 22 if definition == "hochreiter" else 2
    if not isinstance(T, (int, np.integer)) or T < low:
        raise ValueError(f"T must be an integer >= {low} for the {definition!r} definition; "
                         f"got {T!r}")


def adding_problem(N: int, T: int, rng: np.random.Generator, definition: str = "le",
                   dtype: type = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """A batch of the adding problem.

    Parameters
    ----------
    N : number of sequences.
    T : steps per sequence (at least 22 for ``"hochreiter"``, so that both marked steps
        lie in the first half; at least 2 for ``"le"``).
    rng : the random generator (seed it in the caller).
    definition : ``"le"`` (Le et al. 2015) or ``"hochreiter"`` (Hochreiter and
        Schmidhuber 1997); see the module docstring.

    Returns
    -------
    x : (N, T, 2) ``x[..., 0]`` the values, ``x[..., 1]`` the markers.
    y : (N,) the targets: ``X1 + X2`` (``"le"``) or ``0.5 + (X1 + X2) / 4``
        (``"hochreiter"``).
    """
    _check(N, T, definition)
    rows = np.arange(N)
    x = np.zeros((N, T, 2), dtype=np.float64)
    if definition == "le":
        x[..., 0] = rng.uniform(0.0, 1.0, size=(N, T))
        first = rng.integers(0, T // 2, size=N)
        second = rng.integers(T // 2, T, size=N)
        x[rows, first, 1] = 1.0
        x[rows, second, 1] = 1.0
        y = x[rows, first, 0] + x[rows, second, 0]
        return x.astype(dtype), y.astype(dtype)
    x[..., 0] = rng.uniform(-1.0, 1.0, size=(N, T))
    x[:, 0, 1] = x[:, -1, 1] = -1.0
    first = rng.integers(0, 10, size=N)
    # The second marked step: one of the first T/2 - 1 steps other than the first one.
    second = rng.integers(0, T // 2 - 1, size=N)
    second = second + (second >= first)
    x[rows, first, 1] = 1.0
    x[rows, second, 1] = 1.0
    x[x[:, 0, 1] == 1.0, 0, 0] = 0.0  # a marked first step carries the value 0
    y = 0.5 + (x[rows, first, 0] + x[rows, second, 0]) / 4.0
    return x.astype(dtype), y.astype(dtype)


def baseline_mse(definition: str, T: int = 100) -> float:
    """Mean squared error of always predicting the target's mean (1 or 0.5).

    Notes
    -----
    ``"le"``: ``Var(X1 + X2) = 2 * 1/12 = 1/6`` for every ``T``.
    ``"hochreiter"``: ``Var((X1 + X2) / 4) = (2 - p0) / 3 / 16``, where a value uniform
    in ``[-1, 1]`` has variance 1/3 and ``p0 = 1/10 + (9/10) / (T//2 - 1)`` is the
    chance that the first step is marked (its value is then 0); about 1/24 for large T.
    """
    _check(1, T, definition)
    if definition == "le":
        return LE_BASELINE_MSE
    p0 = 0.1 + 0.9 / (T // 2 - 1)
    return (2.0 - p0) / 48.0


def baseline_prediction(definition: str) -> float:
    """The constant the baseline predicts: the target's mean, 1 (``"le"``) or 0.5."""
    _check(1, 22, definition)
    return 1.0 if definition == "le" else 0.5


def solved_fraction(prediction: np.ndarray, target: np.ndarray,
                    tolerance: float = TOLERANCE) -> float:
    """Fraction of sequences whose absolute error is below ``tolerance``."""
    prediction, target = np.asarray(prediction), np.asarray(target)
    if prediction.shape != target.shape:
        raise ValueError(f"prediction has shape {prediction.shape}; expected {target.shape} "
                         "like target")
    return float(np.mean(np.abs(prediction - target) < tolerance))
