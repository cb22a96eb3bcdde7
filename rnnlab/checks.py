"""Checks shared by the notebooks' visible and hidden tests.

They fail with a message in the student's terms: which quantity, the shape expected
against the shape got, the largest error and where it is.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np

from rnnlab.gradcheck import rel_error
from rnnlab.mistakes import Mistake, message, recognise

SEED_VARIABLE = "RNNLAB_GRADING_SEED"


def grading_rng(offset: int = 0) -> np.random.Generator:
    """Random generator for hidden tests, seeded from ``RNNLAB_GRADING_SEED`` (default 0).

    ``rnnlab grade`` sets it for each student to a 64-bit hash of the class's seed (random
    unless the instructor gives one) and the student's id, so a published copy of the
    tests gives nothing to hard-code against, and what one student learns about their
    cases says nothing about another's.
    """
    return np.random.default_rng([int(os.environ.get(SEED_VARIABLE, "0")), offset])


def assert_close(name: str, got: object, expected: np.ndarray, tol: float = 1e-7,
                 mistakes: Iterable[Mistake] = ()) -> None:
    """Fail unless ``got`` is an array of ``expected``'s shape within relative error ``tol``.

    ``mistakes``: wrong answers the test computed from the same inputs
    (:mod:`rnnlab.mistakes`); when ``got`` is wrong and equals one of them, the message
    names it in words and ends the first clause with ``[mistake: ID]``.
    """
    expected = np.asarray(expected)
    if got is None:
        raise AssertionError(f"{name}: got None; did the function forget to return?")
    if not isinstance(got, (np.ndarray, np.generic, float, int)):
        raise AssertionError(f"{name}: expected a numpy array of shape {expected.shape}; "
                             f"got {type(got).__name__}")
    got = np.asarray(got)
    problem = _problem(name, got, expected, tol)
    if problem is None:
        return
    named = recognise(got, mistakes, tol)
    if named is not None:
        problem = f"{message(name, named)}; {problem.split(': ', 1)[1]}"
    raise AssertionError(problem)


def _problem(name: str, got: np.ndarray, expected: np.ndarray, tol: float) -> str | None:
    """What is wrong with ``got`` against ``expected``, in one line; None if nothing."""
    if got.shape != expected.shape:
        return f"{name}: expected shape {expected.shape}; got {got.shape}"
    if got.dtype.kind not in "fiub":
        return f"{name}: expected numbers; got dtype {got.dtype}"
    bad = ~np.isfinite(got) & np.isfinite(expected)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        return f"{name}: got {got[where]} at index {where}; expected {expected[where]:.6g}"
    error = rel_error(got, expected)
    if error > tol:
        diff = np.abs(got.astype(np.float64) - expected)
        where = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
        where = tuple(int(i) for i in where)
        return (f"{name}: max relative error {error:.2e} > {tol:.0e}; largest difference at "
                f"index {where}: got {got[where]:.6g}, expected {expected[where]:.6g}")
    return None


def assert_unchanged(name: str, before: np.ndarray, after: np.ndarray) -> None:
    """Fail if an input array was modified in place."""
    if not np.array_equal(before, after, equal_nan=True):
        raise AssertionError(f"{name} was modified in place; a function must not change "
                             "its inputs (work on a copy)")
