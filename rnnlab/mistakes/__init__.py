"""Named mistakes: the wrong answers that common mistakes give, so a test can say which one.

A test computes, from the inputs it gave the student's function, what each catalogued
mistake would have returned, and passes them to :func:`rnnlab.checks.assert_close`
(``mistakes=``). When the student's answer is wrong and equals one of them, the failure says
it in words and ends with ``[mistake: ID]``; instructors' reports count students per ``ID``.
The wrong answers are computed here, from the test's own copies of the inputs: the student's
code is never called to build them.

Each unit has a module, ``rnnlab.mistakes.unitNN`` (a notebook imports it as
``from rnnlab.mistakes import unit02 as mistakes``), with one function per exercise, named
after it, and one entry per line. Being named like the exercises, these functions are
hidden from a submission while it is graded, as the reference is
(:mod:`rnnlab.grader.course`): some wrong answers hold parts of the right one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from rnnlab.gradcheck import rel_error

ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]+")
MATCH_FLOOR = 1e-9  # a wrong answer is recognised within max(tol, MATCH_FLOOR)


class Mistake(NamedTuple):
    """A catalogued mistake: its ``id`` (the tag), what it is in words, the answer it gives."""

    id: str
    description: str
    answer: np.ndarray


def recognise(got: object, mistakes: Iterable[Mistake], tol: float) -> Mistake | None:
    """The one mistake whose answer ``got`` equals within ``max(tol, MATCH_FLOOR)``.

    None when no mistake matches, and when several do: on a small case two mistakes can
    give the same answer (a softmax over time and over the batch when T = N = 1), and then
    the test cannot tell which one was made. NaN and infinite entries must sit where the
    mistake's answer has the same ones (an overflowing softmax gives NaN in the same places
    however it is written).
    """
    got = np.asarray(got)
    if got.dtype.kind not in "fiub":
        return None
    matches = [m for m in mistakes if _equal(got, np.asarray(m.answer, dtype=np.float64), tol)]
    return matches[0] if len(matches) == 1 else None


def _equal(got: np.ndarray, wrong: np.ndarray, tol: float) -> bool:
    if wrong.shape != got.shape:
        return False
    finite = np.isfinite(wrong)
    same_specials = np.array_equal(np.isfinite(got), finite) and np.array_equal(
        got[~finite], wrong[~finite], equal_nan=True)
    return same_specials and rel_error(got[finite], wrong[finite]) <= max(tol, MATCH_FLOOR)


def message(name: str, mistake: Mistake) -> str:
    """``name: your answer is what you get <description> [mistake: ID]``."""
    return f"{name}: your answer is what you get {mistake.description} [mistake: {mistake.id}]"


def _softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(scores - scores.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _unroll(step, x: np.ndarray, h0: np.ndarray) -> np.ndarray:
    """``hs[:, t] = step(t, h_{t-1})`` with ``h_{-1} = h0``: the loop every mistake shares."""
    states, h = [], h0
    for t in range(x.shape[1]):
        h = step(t, h)
        states.append(h)
    return np.stack(states, axis=1)
