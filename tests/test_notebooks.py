"""The course's own notebook checks: solutions pass, blank releases fail, release in sync.

Each unit's solution and release is executed once per test run, as nbgrader's Validator
executes it (the ``executed`` fixture, tests/notebook_runs.py); every check here reads
those executed copies.
"""

import shutil
import subprocess
import sys

import nbformat
import pytest
from conftest import ROOT, UNITS
from nbgrader import utils
from notebook_runs import ExecutedValidator, course_config


def solution(unit):
    return ROOT / "solutions" / unit / f"{unit}.ipynb"


def release(unit):
    return ROOT / "notebooks" / unit / f"{unit}.ipynb"


def grade_cells(path):
    nb = nbformat.read(path, as_version=4)
    return [c for c in nb.cells if utils.is_grade(c)]


def validate(path, nb, invert=False):
    """What ``nbgrader validate`` finds in ``path`` (``--invert``: tests that pass), one
    string per cell: nbgrader's Validator reading ``nb``, the executed copy of ``path``."""
    results = ExecutedValidator(nb, config=course_config(), invert=invert).validate(str(path))
    return [f"{kind}: {cell['source'][:300]}" + (f"\n{cell['raw_error'][-1500:]}"
                                                  if "raw_error" in cell else "")
            for kind, cells in results.items() for cell in cells]


def raised(nb, tests=True, allowed=()):
    """Every error a code cell of the executed ``nb`` raised (``tests=False``: outside
    graded test cells), except ``allowed`` exception names, as "cell i raised Name: ..."."""
    return [f"cell {i} raised {out.ename}: {out.evalue}\n{cell.source[:300]}"
            for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            and (tests or not utils.is_grade(cell))
            for out in cell.outputs if out.output_type == "error" and out.ename not in allowed]


def test_every_unit_has_a_release():
    released = sorted(p.name for p in (ROOT / "notebooks").iterdir() if p.is_dir())
    assert UNITS and released == UNITS


@pytest.mark.parametrize("unit", UNITS)
def test_solution_passes_every_test(unit, executed):
    problems = validate(solution(unit), executed(solution(unit)))
    assert problems == [], "\n---\n".join(problems)


@pytest.mark.parametrize("unit", UNITS)
def test_no_solution_cell_raises(unit, executed):
    """What ``pytest --nbval-lax`` checked: the solution runs top to bottom without an error."""
    problems = raised(executed(solution(unit)))
    assert problems == [], "\n---\n".join(problems)


@pytest.mark.parametrize("unit", UNITS)
def test_blank_release_fails_every_test(unit, executed):
    problems = validate(release(unit), executed(release(unit)), invert=True)
    assert problems == [], "tests that pass on a blank notebook (or changed cells):\n" + \
        "\n---\n".join(problems)
    assert len(grade_cells(release(unit))) >= 2


@pytest.mark.parametrize("unit", UNITS)
def test_blank_release_raises_only_not_implemented_outside_tests(unit, executed):
    problems = raised(executed(release(unit)), tests=False, allowed=("NotImplementedError",))
    assert problems == [], "\n---\n".join(problems)


@pytest.mark.parametrize("unit", UNITS)
def test_committed_release_equals_a_fresh_generate_assignment(unit, tmp_path):
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    shutil.copytree(ROOT / "solutions" / unit, tmp_path / "solutions" / unit)
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", unit, "--force",
                    "--log-level=ERROR"], cwd=tmp_path, check=True, capture_output=True)
    fresh = (tmp_path / "notebooks" / unit / f"{unit}.ipynb").read_text()
    assert fresh == release(unit).read_text(), (
        f"notebooks/{unit} is out of date: run `nbgrader generate_assignment {unit} --force`")


@pytest.mark.parametrize("path", sorted(ROOT.glob("*/*/*.ipynb")), ids=lambda p: p.name)
def test_notebooks_are_committed_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:80]


def synthetic(folder, answer, tests, demo):
    """A tiny course notebook at folder/synthetic/synthetic.ipynb: a locked setup cell, an
    answer cell, one graded test cell per entry of ``tests`` and a demo cell."""
    def cell(source, grade_id, **flags):
        c = nbformat.v4.new_code_cell(source)
        c.metadata.nbgrader = {"grade_id": grade_id, "grade": False, "solution": False,
                               "locked": False, "schema_version": 3, **flags}
        if flags.get("grade"):
            c.metadata.nbgrader["points"] = 1
        if utils.is_grade(c) or utils.is_locked(c):
            c.metadata.nbgrader["checksum"] = utils.compute_checksum(c)
        return c

    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3",
                              "language": "python"}
    nb.cells = [cell("import math", "setup", locked=True), cell(answer, "answer", solution=True),
                *(cell(t, f"test_{i}", grade=True, locked=True) for i, t in enumerate(tests)),
                nbformat.v4.new_code_cell(demo)]
    path = folder / "synthetic" / "synthetic.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    return path


def test_the_checks_fail_a_broken_solution_and_a_passing_blank(tmp_path, executed):
    """What `nbgrader validate`'s exit code would miss, caught by the checks above: a test
    that fails on a solution, an error outside the tests, a test that passes on a blank."""
    tests = ["assert double(2) == 4", "assert triple(2) == 6", "assert callable(double)"]
    broken = synthetic(tmp_path / "solutions", "def double(x):\n    return 2 * x\n\n\n"
                       "def triple(x):\n    return 2 * x\n", tests, "math.sqrt(-1)")
    blank = synthetic(tmp_path / "notebooks", "def double(x):\n    raise NotImplementedError()"
                      "\n\n\ndef triple(x):\n    raise NotImplementedError()\n", tests,
                      "math.sqrt(-1)")

    found = validate(broken, executed(broken))
    assert len(found) == 1 and found[0].startswith("failed: assert triple(2) == 6\n"), found
    found = raised(executed(broken))
    assert [p.split(":")[0] for p in found] == ["cell 3 raised AssertionError",
                                                "cell 5 raised ValueError"], found
    assert validate(blank, executed(blank), invert=True) == ["passed: assert callable(double)"]
    found = raised(executed(blank), tests=False, allowed=("NotImplementedError",))
    assert [p.split(":")[0] for p in found] == ["cell 5 raised ValueError"], found
    found = raised(executed(blank))  # the blank's tests raise NotImplementedError
    assert [p.split(":")[0] for p in found] == ["cell 2 raised NotImplementedError",
                                                "cell 3 raised NotImplementedError",
                                                "cell 5 raised ValueError"], found
