"""Binder, checked without Docker: repo2docker's generated build recipe for binder/.

`repo2docker --no-build --no-run --debug` prints the Dockerfile it would build and needs no
Docker daemon. repo2docker is installed into a throwaway virtual environment (never the
project's), unless ``RNNLAB_REPO2DOCKER`` names an existing ``repo2docker`` executable.
Marked ``slow`` (about a minute, most of it the pip install).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo2docker(tmp_path_factory):
    given = os.environ.get("RNNLAB_REPO2DOCKER")
    if given:
        return given
    venv = tmp_path_factory.mktemp("r2d") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    result = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                             "jupyter-repo2docker"], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        pytest.skip("cannot install jupyter-repo2docker (no package index?):\n"
                    + result.stderr[-1500:])
    return str(venv / "bin" / "repo2docker")


@pytest.fixture(scope="module")
def recipe(repo2docker, tmp_path_factory):
    """The Dockerfile repo2docker generates for a copy of the repository."""
    src = tmp_path_factory.mktemp("r2d-src") / "repo"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "artifacts", "__pycache__", "*.egg-info", ".pytest_cache",
        ".ruff_cache", "gradebook.db", "submitted", "autograded", "feedback"))
    result = subprocess.run([repo2docker, "--no-build", "--no-run", "--debug", str(src)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def test_repo2docker_uses_runtime_txt(recipe):
    version = (ROOT / "binder" / "runtime.txt").read_text().strip().removeprefix("python-")
    assert f"python={version}" in recipe, "repo2docker did not pick the runtime.txt Python"


def test_repo2docker_runs_postbuild_after_copying_the_repo(recipe):
    lines = recipe.splitlines()
    run = [i for i, line in enumerate(lines) if line.strip() == "RUN ./binder/postBuild"]
    assert run, "repo2docker does not run binder/postBuild"
    copies = [i for i, line in enumerate(lines) if re.match(r"COPY .*src/ \$\{REPO_DIR\}", line)]
    assert copies and copies[-1] < run[0], "postBuild must run after the repository is copied"


def test_binder_has_no_second_dependency_list(recipe):
    """Dependencies come from pyproject.toml through postBuild, not from another file."""
    assert "requirements.txt" not in recipe and "environment.yml" not in recipe.replace(
        "environment.py", "")
