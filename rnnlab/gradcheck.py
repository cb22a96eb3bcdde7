"""Gradient checking: centred finite differences, relative error, a readable table."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np


def rel_error(got: np.ndarray, expected: np.ndarray, floor: float = 1e-8) -> float:
    """Largest element-wise relative error ``|got - expected| / max(|got| + |expected|, floor)``.

    The floor keeps entries that are both (nearly) zero from dividing by zero.
    Arrays of different shapes have an infinite error.
    """
    got, expected = np.asarray(got), np.asarray(expected)
    if got.shape != expected.shape:  # before any conversion: a huge wrong answer stays cheap
        return float("inf")
    got, expected = got.astype(np.float64, copy=False), expected.astype(np.float64, copy=False)
    if got.size == 0:
        return 0.0
    err = np.abs(got - expected) / np.maximum(np.abs(got) + np.abs(expected), floor)
    return float(np.nan_to_num(err, nan=np.inf).max())


FD_RESOLUTION = 1e-2  # see check_gradients


def numeric_gradient(f: Callable[[np.ndarray], object], x: np.ndarray,
                     dout: np.ndarray | None = None, eps: float = 1e-6) -> np.ndarray:
    """Centred finite-difference gradient of ``sum(f(x) * dout)`` with respect to ``x``.

    Parameters
    ----------
    f : function of one array returning a scalar (then ``dout`` is omitted) or an array
        of the shape of ``dout``.
    x : the point; it is copied, never modified.
    dout : upstream gradient of ``f``'s output.
    eps : step; the error of the estimate is of order ``eps**2``.

    Notes
    -----
    ``grad[i] = (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)`` with
    ``L(x) = sum(f(x) * dout)``.
    """
    point = np.array(x, dtype=np.float64 if np.asarray(x).dtype.kind != "f" else x.dtype)
    grad = np.zeros_like(point)

    def loss(p: np.ndarray) -> float:
        out = f(p)
        return float(out) if dout is None else float(np.sum(np.asarray(out) * dout))

    for i in np.ndindex(point.shape):
        saved = point[i]
        point[i] = saved + eps
        plus = loss(point.copy())
        point[i] = saved - eps
        minus = loss(point.copy())
        point[i] = saved
        grad[i] = (plus - minus) / (2 * eps)
    return grad


class Comparison(NamedTuple):
    """One line of a comparison table."""

    name: str
    error: float
    tol: float

    @property
    def passed(self) -> bool:
        return self.error <= self.tol

    def line(self, width: int = 14) -> str:
        verdict = "pass" if self.passed else "FAIL"
        return f"{self.name:<{width}} {self.error:>14.2e} {self.tol:>9.0e}  {verdict}"

    def __str__(self) -> str:
        return self.line()


class Table(list):
    """Comparisons that print one line per quantity; ``table.passed`` is True if all pass."""

    @property
    def passed(self) -> bool:
        return all(row.passed for row in self)

    def __str__(self) -> str:
        width = max([14, *(len(row.name) for row in self)])
        header = f"{'quantity':<{width}} {'max rel error':>14} {'tolerance':>9}  result"
        return "\n".join([header, "-" * len(header), *(row.line(width) for row in self)])


def compare(pairs: dict[str, tuple[np.ndarray, np.ndarray]], tol: float = 1e-7) -> Table:
    """Compare ``{name: (got, expected)}`` by :func:`rel_error`; print the result to read it."""
    return Table(Comparison(name, rel_error(got, want), tol) for name, (got, want) in pairs.items())


def check_gradients(f: Callable[..., object], inputs: dict[str, np.ndarray],
                    grads: dict[str, np.ndarray], dout: np.ndarray | None = None,
                    tol: float = 1e-6, eps: float = 1e-6) -> Table:
    """Compare analytic gradients with centred finite differences.

    Parameters
    ----------
    f : function called as ``f(**inputs)``.
    inputs : the arguments of ``f``.
    grads : ``{name: gradient of sum(f(**inputs) * dout) with respect to inputs[name]}``.
    dout : upstream gradient of ``f``'s output (omit when ``f`` returns a scalar).

    Notes
    -----
    A difference quotient carries an absolute error (rounding of ``f`` over ``2 eps``, and
    ``eps**2`` times the third derivative) that does not shrink with the entry, so an entry
    far smaller than the gradient's largest cannot be checked relative to itself: entries
    below ``FD_RESOLUTION`` times the largest are compared relative to that amount instead.
    A wrong gradient is wrong by a fraction of its scale and still fails by orders of
    magnitude.
    """
    table = Table()
    for name, grad in grads.items():
        def partial(value: np.ndarray, name: str = name) -> object:
            return f(**{**inputs, name: value})
        numeric = numeric_gradient(partial, inputs[name], dout, eps)
        floor = max(1e-8, FD_RESOLUTION * float(np.abs(numeric).max(initial=0.0)))
        table.append(Comparison("d" + name, rel_error(grad, numeric, floor), tol))
    return table
