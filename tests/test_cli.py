"""``rnnlab check`` and ``rnnlab grade`` as students and instructors type them."""

import subprocess
import sys
import zipfile

import nbformat
import pytest
from conftest import ROOT, UNITS
from test_grading import UNIT, blank, honest, meta, solution

from rnnlab.grader import feedback
from rnnlab.grader.spec import HIDDEN_BEGIN, HIDDEN_SUFFIX

PARTIAL = "(visible part; the hidden cases run at grading)"


def rnnlab(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "rnnlab", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("check")
    nbformat.write(honest(UNIT), folder / "honest.ipynb")
    nbformat.write(blank(UNIT), folder / "blank.ipynb")
    (folder / "garbage.ipynb").write_text("not json at all")
    (folder / "plain.json").write_text('{"hello": "world"}')
    return folder


def test_check_passes_honest_work(notebooks):
    result = rnnlab("check", notebooks / "honest.ipynb")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert sum(line.startswith("passed") for line in lines) == 6
    assert "total 10/10" in result.stdout
    # The release's cells named _hidden ran without their hidden part, and say so.
    labelled = [line for line in lines if PARTIAL in line]
    assert len(labelled) == 3 and all("_hidden " + PARTIAL in line for line in labelled)
    assert not any("_visible " + PARTIAL in line for line in lines)
    assert "Visible tests only: 3 of these 6 test cells (7 of the 10 points) are the visible " \
           "part of a graded test. Their hidden cases run only when your instructor grades" \
           in " ".join(result.stdout.split())


def test_check_fails_a_blank_notebook_with_reasons(notebooks):
    result = rnnlab("check", notebooks / "blank.ipynb")
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 6
    assert all("raised NotImplementedError" in line for line in failed)
    assert "total 0/10" in result.stdout


@pytest.mark.parametrize("name, says", [("missing.ipynb", "no such file"),
                                        ("garbage.ipynb", "not JSON"),
                                        ("plain.json", "not a Jupyter notebook")])
def test_check_explains_unreadable_files_in_one_line(notebooks, name, says):
    result = rnnlab("check", notebooks / name)
    assert result.returncode == 2
    assert says in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr + result.stdout


def test_grade_an_lms_zip_writes_grades_and_feedback(notebooks, tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(notebooks / "honest.ipynb", f"submissions/smithjane_123_456_{UNIT}.ipynb")
        zf.write(notebooks / "garbage.ipynb", f"submissions/doejohn_late_124_457_{UNIT}.ipynb")
    out = tmp_path / "out"
    result = rnnlab("grade", UNIT, archive, "--out", out, "--jobs", "1", "--seed", "3",
                    "--no-sandbox", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING: grading WITHOUT the sandbox" in result.stdout
    assert "doejohn: invalid" in result.stdout
    rows = (out / "grades.csv").read_text().splitlines()
    assert rows[1].startswith(f"{UNIT},doejohn,0,0,10,invalid")
    assert rows[2].startswith(f"{UNIT},smithjane,10,10,10,graded,NO")
    assert (out / "submitted" / "smithjane" / UNIT / f"{UNIT}.ipynb").is_file()
    assert (out / "feedback" / "smithjane" / UNIT / f"{UNIT}.html").is_file()
    page = (out / "class_report.html").read_text()
    assert "<td>doejohn</td><td>invalid</td>" in page and "1 graded" in page


def test_grade_an_unknown_unit_says_which_exist(tmp_path):
    result = rnnlab("grade", "99_nothing", tmp_path, "--out", tmp_path / "out")
    assert result.returncode == 2
    assert "no unit '99_nothing'" in result.stderr and UNIT in result.stderr


# --------------------------------------------------------------- honest labels


@pytest.mark.parametrize("unit", UNITS)
def test_a_test_cell_is_named_hidden_exactly_when_it_has_hidden_tests(unit):
    """The release keeps grade ids, not hidden parts: ``rnnlab check`` relies on the name."""
    for cell in nbformat.read(solution(unit), as_version=4).cells:
        if meta(cell).get("grade") and not meta(cell).get("solution"):
            gid = meta(cell)["grade_id"]
            assert (HIDDEN_BEGIN in cell.source) == gid.endswith(HIDDEN_SUFFIX), gid


def check_result(*tests):
    return {"score": sum(t["points"] for t in tests),
            "max_score": sum(t["max_points"] for t in tests),
            "tests": [{"passed": True, "message": "", **t} for t in tests]}


def test_check_labels_a_release_cell_as_the_visible_part_of_a_graded_test():
    result = check_result(
        {"grade_id": "test_a_visible", "points": 1, "max_points": 1, "hidden": False},
        {"grade_id": "test_a_hidden", "points": 3, "max_points": 3, "hidden": False})
    lines = [feedback.result_line(t, 60) for t in result["tests"]]
    assert PARTIAL not in lines[0] and f"test_a_hidden {PARTIAL}" in lines[1]
    summary = " ".join(feedback.check_summary(result))
    assert summary.startswith("total 4/4 Visible tests only: 1 of these 2 test cells (3 of the 4 ")
    assert "run only when your instructor grades" in summary


def test_check_of_a_source_says_its_hidden_cases_ran():
    result = check_result(
        {"grade_id": "test_a_visible", "points": 1, "max_points": 1, "hidden": False},
        {"grade_id": "test_a_hidden", "points": 0, "max_points": 3, "hidden": True,
         "passed": False, "message": "hidden test failed: x"})
    line = feedback.result_line(result["tests"][1])
    assert PARTIAL not in line and "test_a_hidden (hidden cases included)" in line
    summary = " ".join(feedback.check_summary(result))
    assert summary.startswith("total 1/4 ") and "hidden tests" in summary
    assert "Visible tests only" not in summary


def test_check_of_a_notebook_without_hidden_parts_claims_none():
    result = check_result({"grade_id": "test_a", "points": 1, "max_points": 1, "hidden": False})
    assert feedback.result_line(result["tests"][0]).split() == ["passed", "test_a", "1/1"]
    assert feedback.check_summary(result) == [
        "total 1/1", "Visible tests only; none of these test cells has hidden cases."]
