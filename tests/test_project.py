"""The project's packaging, CI, Binder and README agree with each other."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
README = (ROOT / "README.md").read_text()


def test_ruff_passes():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pyproject_is_the_single_source_of_dependencies():
    names = {re.split(r"[<>=!\[ ;]", d)[0].lower() for d in PYPROJECT["project"]["dependencies"]}
    assert {"numpy", "numba", "scipy", "torch", "matplotlib", "jupyterlab", "nbgrader",
            "ipywidgets", "tqdm"} <= names
    assert any(d.replace(" ", "") == "nbgrader>=0.9.6" for d in PYPROJECT["project"]["dependencies"])
    dev = {re.split(r"[<>=!\[ ]", d)[0] for d in PYPROJECT["project"]["optional-dependencies"]["dev"]}
    assert {"pytest", "nbval", "ruff"} <= dev
    assert PYPROJECT["project"]["requires-python"] == ">=3.10"
    assert not (ROOT / "requirements.txt").exists() and not (ROOT / "binder" / "requirements.txt").exists()


def test_readme_test_command_is_what_ci_runs():
    assert "./course test" in README and "./course lab" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^exec \./course test$", ci, re.M)
    assert os.access(ROOT / ".ci" / "run", os.X_OK) and os.access(ROOT / "course", os.X_OK)


def test_course_script_installs_cpu_torch_here_and_any_torch_elsewhere():
    script = (ROOT / "course").read_text()
    assert '"torch==2.13.0" || "$py" -m pip install torch' in script
    assert '-m pip install -e ".[dev]"' in script
    result = subprocess.run(["bash", str(ROOT / "course"), "nonsense"], capture_output=True, text=True)
    assert result.returncode == 2 and "usage" in result.stderr


FAKE_PYTHON = """#!/bin/sh
echo "python $*" >>"$COURSE_LOG"
[ "$1" = -c ] && dirname "$(dirname "$0")"
exit 0
"""


def test_course_sets_up_only_when_the_environment_is_missing_or_pyproject_changed(tmp_path):
    """./course installs on the first run and after pyproject.toml changes, and not
    otherwise; ./course check runs the environment's rnnlab check, from the caller's folder.
    The environment is a fake one whose python and rnnlab log their arguments."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "binder", course / "binder")
    for name in ("course", "pyproject.toml"):
        shutil.copy(ROOT / name, course / name)
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    for name, script in (("python", FAKE_PYTHON), ("rnnlab", 'echo "rnnlab $*" >>"$COURSE_LOG"')):
        (venv / "bin" / name).write_text(script)
        (venv / "bin" / name).chmod(0o755)
    log = tmp_path / "log"
    env = {**os.environ, "RNNLAB_VENV": str(venv), "COURSE_LOG": str(log)}

    def check():
        log.write_text("")
        result = subprocess.run([str(course / "course"), "check", "mine.ipynb"], cwd=tmp_path,
                                env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stderr, log.read_text().splitlines()

    said, ran = check()  # no stamp yet: this environment was never set up by ./course
    assert "pip install -e .[dev]" in " ".join(ran) and "changed" in said
    assert ran[-1] == "rnnlab check mine.ipynb"
    said, ran = check()
    assert said == "" and ran == ["rnnlab check mine.ipynb"]
    with (course / "pyproject.toml").open("a") as f:
        f.write("# a change\n")
    said, ran = check()
    assert "pip install -e .[dev]" in " ".join(ran) and "pyproject.toml" in said
    said, ran = check()
    assert said == "" and ran == ["rnnlab check mine.ipynb"]


def test_binder_installs_cpu_torch_then_the_package_and_opens_the_course():
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert os.access(ROOT / "binder" / "postBuild", os.X_OK)
    lines = [line for line in post_build.splitlines() if line.startswith("python -m pip")]
    assert "/whl/cpu torch" in lines[0]
    assert lines[1].endswith("-e .")  # dependencies come from pyproject.toml
    version = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.(1[0-9])", version)
    subprocess.run(["bash", "-n", str(ROOT / "binder" / "postBuild")], check=True)


def test_binder_badge_opens_jupyterlab_on_the_course():
    badges = re.findall(r"\(https://mybinder\.org/v2/gh/([\w.-]+/[\w.-]+)/(\w+)\?urlpath=([^)]+)\)",
                        README)
    assert len(badges) == 1
    repo, _ref, urlpath = badges[0]
    assert urlpath.startswith("lab/tree/notebooks")
    assert (ROOT / urlpath.removeprefix("lab/tree/")).exists()
    # The repository's address is written in one place: the badge.
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout
    mentions = [f for f in tracked.split() if f != "README.md" and (ROOT / f).is_file()
                and repo in (ROOT / f).read_text(errors="ignore")]
    assert mentions == [] and README.count(repo) == 1


def test_nbgrader_config():
    config = (ROOT / "nbgrader_config.py").read_text()
    for setting in ['source_directory = "solutions"', 'release_directory = "notebooks"',
                    'kernel_name = "python3"', "OverwriteCells.add_missing_cells = True",
                    "Execute.timeout = "]:
        assert setting in config
    assert "/work" not in config and "/home" not in config
    ignored = (ROOT / ".gitignore").read_text().split()
    assert {"gradebook.db", "submitted/", "autograded/", "feedback/"} <= set(ignored)


def test_students_lab_opens_the_index_rendered_and_hides_instructor_tools():
    prefix = Path(sys.prefix)
    config = prefix / "etc" / "jupyter" / "labconfig" / "page_config.json"
    if not config.exists():
        pytest.skip("this environment was not set up by ./course (binder/setup-lab not run)")
    disabled = json.loads(config.read_text())["disabledExtensions"]
    assert disabled["@jupyter/nbgrader:formgrader"] and disabled["@jupyter/nbgrader:create-assignment"]
    assert "@jupyter/nbgrader:validate-assignment" not in disabled  # students keep Validate
    overrides = json.loads((prefix / "share/jupyter/lab/settings/overrides.json").read_text())
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["markdown"] == "Markdown Preview"
    for script in ("course", "binder/postBuild"):
        assert "binder/setup-lab" in (ROOT / script).read_text(), script
