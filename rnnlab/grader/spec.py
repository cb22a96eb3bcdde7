"""What grading takes from a notebook: its setup, locked cells, tests and exercises.

:func:`spec_from_notebook` reads the instructor's source (``solutions/<unit>/<unit>.ipynb``)
into a :class:`Spec`; :func:`worker_cells` picks the cells of a submission that its
worker runs. :func:`read_notebook` reads any file and says in one line what is wrong
with it.
"""

from __future__ import annotations

import ast
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

HIDDEN_BEGIN = "BEGIN HIDDEN TESTS"
# The grade id of every test cell with a hidden part ends so (a test holds the sources to
# it). A release keeps the grade id but not the hidden part: ``rnnlab check`` tells from
# the two that a cell it ran is only the visible part of a graded test.
HIDDEN_SUFFIX = "_hidden"
MAX_NOTEBOOK_BYTES = 50 * 2**20


class BadNotebookError(Exception):
    """The file is missing, not JSON, or not a Jupyter notebook (one-line message)."""


# --------------------------------------------------------------------------- notebooks


def read_notebook(path: str | os.PathLike) -> nbformat.NotebookNode:
    """Read a notebook or raise :class:`BadNotebookError` saying in one line what is wrong."""
    path = Path(path)
    if not path.exists():
        raise BadNotebookError(f"{path}: no such file")
    if not path.is_file():
        raise BadNotebookError(f"{path}: not a file")
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise BadNotebookError(f"{path}: larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadNotebookError(f"{path}: not a notebook (not JSON: {exc})") from None
    except RecursionError:
        raise BadNotebookError(f"{path}: not a notebook (JSON nested too deeply)") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list) \
            or not isinstance(data.get("nbformat"), int) or data["nbformat"] < 4:
        raise BadNotebookError(f"{path}: JSON but not a Jupyter notebook (version 4 expected)")
    try:
        return nbformat.reads(json.dumps(data), as_version=4)
    except Exception as exc:
        raise BadNotebookError(f"{path}: not a valid notebook ({type(exc).__name__})") from None


def _meta(cell: Any) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def _source(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


@dataclass
class GradedTest:
    """One graded test cell of the source."""

    grade_id: str
    points: float
    source: str
    hidden_line: int | None  # first line of the hidden part (1-based), None if all visible


@dataclass
class Spec:
    """What grading needs from the instructor's source notebook."""

    setup: str
    setup_id: str | None
    locked: dict[str, str]
    tests: list[GradedTest]
    exercises: list[str]
    manual: dict[str, float] = field(default_factory=dict)
    test_ids: set[str] = field(default_factory=set)

    @property
    def max_score(self) -> float:
        return float(sum(t.points for t in self.tests))


def _top_level_defs(source: str) -> list[str]:
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        tree = ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return []
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def spec_from_notebook(nb: nbformat.NotebookNode) -> Spec:
    """Read setup, locked cells, tests and exercise names from a source (or release)."""
    setup, setup_id, locked, tests, exercises, manual, test_ids = "", None, {}, [], [], {}, set()
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        meta, source = _meta(cell), _source(cell)
        gid = str(meta.get("grade_id", ""))
        if meta.get("grade") and not meta.get("solution"):
            lines = source.splitlines()
            hidden = next((i + 1 for i, line in enumerate(lines) if HIDDEN_BEGIN in line), None)
            tests.append(GradedTest(gid, float(meta.get("points", 0) or 0), source, hidden))
            test_ids.add(gid)
            if cell.get("id"):
                test_ids.add(str(cell["id"]))
        elif meta.get("grade") and meta.get("solution"):
            manual[gid] = float(meta.get("points", 0) or 0)
        elif meta.get("solution"):
            exercises += [n for n in _top_level_defs(source) if n not in exercises]
        elif meta.get("locked"):
            if not setup_id and not setup:
                setup, setup_id = source, gid
            locked[gid] = source
    return Spec(setup, setup_id, locked, tests, exercises, manual, test_ids)


def worker_cells(student: nbformat.NotebookNode, spec: Spec) -> list[tuple[str, str]]:
    """The (label, source) cells the worker runs: setup first, then the student's code
    cells in order without test cells, locked cells replaced by the source's version."""
    cells = [("setup", spec.setup)] if spec.setup else []
    for index, cell in enumerate(student.cells):
        if cell.get("cell_type") != "code":
            continue
        meta = _meta(cell)
        gid = str(meta.get("grade_id", ""))
        if meta.get("grade") or gid in spec.test_ids or str(cell.get("id")) in spec.test_ids:
            continue
        if spec.setup_id is not None and gid == spec.setup_id:
            continue
        source = spec.locked.get(gid, _source(cell)) if gid else _source(cell)
        if source.strip():
            cells.append((f"cell {index}", source))
    return cells

