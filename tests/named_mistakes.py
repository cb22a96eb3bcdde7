"""The machinery of the named-mistake tests (tests/test_mistakes*.py), one unit at a time.

A unit lists, per exercise, each catalogued mistake written as a student would write it (a
function body). :meth:`UnitMistakes.check_named` runs that wrong function through the
visible part and then through the hidden part of the exercise's test cells in the
instructor's notebook, and each must fail naming exactly that mistake's ``[mistake: ID]``.
:meth:`UnitMistakes.check_catalogue` fails when the catalogue (``rnnlab.mistakes.unitNN``)
holds a mistake without a student version, or fewer than three.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from textwrap import dedent
from types import ModuleType

import matplotlib
import nbformat
import numpy as np
import pytest
from conftest import ROOT

from rnnlab import mistakes

TAG = re.compile(r"\[mistake: ([A-Za-z0-9_.-]+)\]")
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def cells(unit: str) -> dict[str, str]:
    """grade_id -> source of the instructor's notebook of ``unit``."""
    nb = nbformat.read(ROOT / "solutions" / unit / f"{unit}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if "grade_id" in c.metadata.get("nbgrader", {})}


def failure(source: str, namespace: dict) -> str | None:
    """The AssertionError's message when ``source`` fails in ``namespace``, else None."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # a student's overflowing softmax
            exec(source, namespace)
    except AssertionError as error:
        return str(error)
    return None


class UnitMistakes:
    """One unit's catalogue, its mistakes as student code, and the checks on both.

    ``students``: exercise -> mistake id -> the wrong function's body.
    ``signatures``: exercise -> its parameter list. ``inputs``: exercise -> the shapes of
    standard-normal arguments to build its catalogue from, or a function of a random
    generator returning the arguments. A catalogue function returns a list of mistakes,
    or, for an exercise with several outputs, a dict of one such list per output.
    """

    def __init__(self, unit: str, catalogue: ModuleType, signatures: dict[str, str],
                 students: dict[str, dict[str, str]], inputs: dict[str, list | Callable]):
        self.unit, self.catalogue = unit, catalogue
        self.signatures, self.students, self.inputs = signatures, students, inputs
        self._namespace: dict | None = None

    def cases(self) -> list[tuple[str, str]]:
        return [(exercise, mistake) for exercise, by_id in self.students.items()
                for mistake in by_id]

    def namespace(self) -> dict:
        """A copy of a namespace where the setup cell and every solution ran."""
        if self._namespace is None:
            source = cells(self.unit)
            self._namespace = {}
            with matplotlib.rc_context():  # the setup cell's plot style stays in the cell
                exec(source["setup"], self._namespace)
            for exercise in self.students:
                exec(source[exercise], self._namespace)
        return dict(self._namespace)

    def student(self, exercise: str, mistake: str) -> str:
        body = dedent(self.students[exercise][mistake]).strip()
        return f"def {exercise}({self.signatures[exercise]}):\n" + "\n".join(
            "    " + line for line in body.splitlines())

    def check_named(self, exercise: str, mistake: str) -> None:
        namespace = self.namespace()
        exec(self.student(exercise, mistake), namespace)
        tests = [s for grade_id, s in cells(self.unit).items()
                 if grade_id.startswith(f"test_{exercise}_")]
        visible = "\n".join(s.split(HIDDEN_BEGIN)[0] for s in tests)
        hidden = "\n".join(s.split(HIDDEN_BEGIN)[1].split(HIDDEN_END)[0] for s in tests
                           if HIDDEN_BEGIN in s)
        for part, source in [("visible", visible), ("hidden", hidden)]:
            message = failure(source, dict(namespace))
            assert message is not None, f"the {part} tests pass {mistake}"
            assert TAG.findall(message) == [mistake], f"{part}: {message}"

    def check_catalogue(self) -> None:
        namespace = self.namespace()
        rng = np.random.default_rng(0)
        for exercise, spec in self.inputs.items():
            args = spec(rng) if callable(spec) else [rng.standard_normal(s) for s in spec]
            found = getattr(self.catalogue, exercise)(*args)
            if isinstance(found, dict):  # one list per output, the same mistakes in each
                lists = [[m.id for m in named] for named in found.values()]
                assert all(ids == lists[0] for ids in lists), lists
                found = next(iter(found.values()))
            ids = [m.id for m in found]
            assert len(ids) >= 3 and len(set(ids)) == len(ids), ids
            assert all(mistakes.ID_PATTERN.fullmatch(i) for i in ids), ids
            assert set(ids) == set(self.students[exercise]), exercise
            assert callable(namespace[exercise])

    def tests(self) -> tuple[Callable, Callable]:
        """The two tests of a unit's test file, to bind to names starting with ``test_``:
        each catalogued mistake named by the visible and the hidden tests (one test per
        mistake), and the catalogue complete."""
        @pytest.mark.parametrize(("exercise", "mistake"), self.cases())
        def named(exercise: str, mistake: str) -> None:
            self.check_named(exercise, mistake)

        def complete() -> None:
            self.check_catalogue()

        return named, complete
