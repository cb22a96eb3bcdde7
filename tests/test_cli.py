"""``rnnlab check`` and ``rnnlab grade`` as students and instructors type them."""

import subprocess
import sys
import zipfile

import nbformat
import pytest
from conftest import ROOT
from test_grading import UNIT, blank, honest


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


def test_grade_an_unknown_unit_says_which_exist(tmp_path):
    result = rnnlab("grade", "99_nothing", tmp_path, "--out", tmp_path / "out")
    assert result.returncode == 2
    assert "no unit '99_nothing'" in result.stderr and UNIT in result.stderr
