"""Checks shared by the notebooks' visible and hidden tests.

They fail with a message in the student's terms: which quantity, the shape expected
against the shape got, the largest error and where it is.
"""

from __future__ import annotations

import os

import numpy as np

from rnnlab.gradcheck import rel_error

SEED_VARIABLE = "RNNLAB_GRADING_SEED"


def grading_rng(offset: int = 0) -> np.random.Generator:
    """Random generator for hidden tests, seeded from ``RNNLAB_GRADING_SEED`` (default 0).

    ``rnnlab grade`` sets it for each student to a 64-bit hash of the class's seed (random
    unless the instructor gives one) and the student's id, so a published copy of the
    tests gives nothing to hard-code against, and what one student learns about their
    cases says nothing about another's.
    """
    return np.random.default_rng([int(os.environ.get(SEED_VARIABLE, "0")), offset])


def assert_close(name: str, got: object, expected: np.ndarray, tol: float = 1e-7) -> None:
    """Fail unless ``got`` is an array of ``expected``'s shape within relative error ``tol``."""
    expected = np.asarray(expected)
    if got is None:
        raise AssertionError(f"{name}: got None; did the function forget to return?")
    if not isinstance(got, (np.ndarray, np.generic, float, int)):
        raise AssertionError(f"{name}: expected a numpy array of shape {expected.shape}; "
                             f"got {type(got).__name__}")
    got = np.asarray(got)
    if got.shape != expected.shape:
        raise AssertionError(f"{name}: expected shape {expected.shape}; got {got.shape}")
    if got.dtype.kind not in "fiub":
        raise AssertionError(f"{name}: expected numbers; got dtype {got.dtype}")
    bad = ~np.isfinite(got) & np.isfinite(expected)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise AssertionError(f"{name}: got {got[where]} at index {where}; "
                             f"expected {expected[where]:.6g}")
    error = rel_error(got, expected)
    if error > tol:
        diff = np.abs(got.astype(np.float64) - expected)
        where = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
        where = tuple(int(i) for i in where)
        raise AssertionError(f"{name}: max relative error {error:.2e} > {tol:.0e}; largest "
                             f"difference at index {where}: got {got[where]:.6g}, "
                             f"expected {expected[where]:.6g}")


def assert_unchanged(name: str, before: np.ndarray, after: np.ndarray) -> None:
    """Fail if an input array was modified in place."""
    if not np.array_equal(before, after, equal_nan=True):
        raise AssertionError(f"{name} was modified in place; a function must not change "
                             "its inputs (work on a copy)")
