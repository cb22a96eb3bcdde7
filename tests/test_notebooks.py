"""The course's own notebook checks: solutions pass, blank releases fail, release in sync."""

import json
import shutil
import subprocess
import sys

import nbformat
import pytest
from conftest import ROOT, UNITS
from nbclient import NotebookClient
from nbgrader.validator import Validator
from traitlets.config.loader import PyFileConfigLoader


def course_config():
    return PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()


def solution(unit):
    return ROOT / "solutions" / unit / f"{unit}.ipynb"


def release(unit):
    return ROOT / "notebooks" / unit / f"{unit}.ipynb"


def grade_cells(path):
    nb = nbformat.read(path, as_version=4)
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


def test_every_unit_has_a_release():
    released = sorted(p.name for p in (ROOT / "notebooks").iterdir() if p.is_dir())
    assert UNITS and released == UNITS


@pytest.mark.parametrize("unit", UNITS)
def test_solution_passes_every_test(unit):
    results = Validator(config=course_config()).validate(str(solution(unit)))
    assert results == {}, json.dumps(results, indent=1)[:3000]


@pytest.mark.parametrize("unit", UNITS)
def test_blank_release_fails_every_test(unit):
    validator = Validator(config=course_config(), invert=True)
    results = validator.validate(str(release(unit)))
    assert "changed" not in results and "type_changed" not in results, results
    assert results.get("passed", []) == [], "tests that pass on a blank notebook:\n" + \
        "\n---\n".join(cell["source"][:300] for cell in results["passed"])
    assert len(grade_cells(release(unit))) >= 2


@pytest.mark.parametrize("unit", UNITS)
def test_blank_release_raises_only_not_implemented_outside_tests(unit, monkeypatch):
    monkeypatch.setenv("RNNLAB_FAST", "1")  # the kernel inherits it: train briefly
    nb = nbformat.read(release(unit), as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(release(unit).parent)}})
    client.execute()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("grade"):
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert all(e.ename == "NotImplementedError" for e in errors), (
            f"cell {index} raised {[e.ename + ': ' + e.evalue for e in errors]}:\n{cell.source}")


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
