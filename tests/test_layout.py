"""The repository's shape: the course library, the grader beside it, what is declared.

Read from the source with ``ast`` and from ``pyproject.toml``; nothing is imported that
could hide a missing declaration.
"""

import ast
import importlib.metadata
import re
import subprocess
import sys

import pytest
import tomllib
from conftest import ROOT

from rnnlab.grader import course

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LIBRARY = sorted((ROOT / "rnnlab").rglob("*.py"))
GRADER = ROOT / "rnnlab" / "grader"
COURSE_LIBRARY = [p for p in LIBRARY if not p.is_relative_to(GRADER) and p.name != "__main__.py"]


def module_name(path):
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def imported(path):
    """Absolute names ``path`` imports (``rnnlab.grader.cli``, ``numpy``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return names


def third_party(paths):
    tops = {name.split(".")[0] for path in paths for name in imported(path)}
    local = {"rnnlab", "conftest", "browser_helpers"} | {
        p.stem for p in [*ROOT.glob("tests/*.py"), *ROOT.glob("benchmarks/*.py")]}
    return {t for t in tops if t not in sys.stdlib_module_names and t not in local}


def distributions(requirements):
    return {re.split(r"[<>=!\[ ;]", r)[0].lower().replace("_", "-") for r in requirements}


def provider(module):
    """The distribution that installs ``module`` (``IPython`` -> ``ipython``)."""
    found = importlib.metadata.packages_distributions().get(module)
    assert found, f"{module} is imported but not installed"
    return found[0].lower().replace("_", "-")


def test_nothing_in_the_course_library_imports_the_grader():
    offenders = {module_name(p): sorted(n for n in imported(p) if n.startswith("rnnlab.grader"))
                 for p in COURSE_LIBRARY}
    assert {m: n for m, n in offenders.items() if n} == {}


def test_the_grader_has_one_module_per_role():
    modules = {p.stem for p in GRADER.glob("*.py")} - {"__init__"}
    assert modules == {"course", "collect", "spec", "sandbox", "host", "codec", "worker", "protocol",
                       "runner", "feedback", "results", "class_report", "classroom", "cli"}
    overview = ast.get_docstring(ast.parse((GRADER / "__init__.py").read_text()))
    assert all(f"``{m}``" in overview for m in modules), "grader/__init__ lists every module"


def test_no_two_modules_share_a_name_across_data_and_apps():
    data = {p.stem for p in (ROOT / "rnnlab" / "data").glob("*.py")}
    apps = {p.stem for p in (ROOT / "rnnlab" / "apps").glob("*.py")}
    assert data & apps <= {"__init__"}


@pytest.mark.parametrize("path", LIBRARY, ids=module_name)
def test_modules_are_short_enough_to_read_in_one_go(path):
    lines = len(path.read_text().splitlines())
    assert lines <= 420, f"{module_name(path)} has {lines} lines; split it by concept"


def test_every_imported_package_is_declared():
    project = PYPROJECT["project"]
    runtime = distributions(project["dependencies"])
    dev = runtime | distributions(project["optional-dependencies"]["dev"])
    cluster = runtime | distributions(project["optional-dependencies"]["cluster"])
    missing = {m for m in third_party(LIBRARY) if provider(m) not in cluster}
    assert missing == set(), f"rnnlab imports {missing}: add them to [project.dependencies]"
    assert cluster - runtime <= dev, "the dev extra installs the cluster extra's packages"
    others = list(ROOT.glob("tests/*.py")) + list(ROOT.glob("benchmarks/*.py"))
    missing = {m for m in third_party(others) if provider(m) not in dev}
    assert missing == set(), f"tests/benchmarks import {missing}: declare them (dev extra)"


def test_version_is_written_once_and_the_command_is_the_cli():
    project = PYPROJECT["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "rnnlab.__version__"}
    listed = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.split()
    writes = [ROOT / p for p in listed
              if re.search(r"^__version__\s*=", (ROOT / p).read_text(), re.M)]
    assert writes == [ROOT / "rnnlab" / "__init__.py"]
    module, _, function = project["scripts"]["rnnlab"].partition(":")
    assert module == "rnnlab.grader.cli" and function == "main"
    cli = ast.parse((GRADER / "cli.py").read_text())
    assert any(isinstance(n, ast.FunctionDef) and n.name == "main" for n in cli.body)


@pytest.mark.parametrize(("module", "expected"), [
    ("rnnlab", True), ("rnnlab.reference", True), ("rnnlab.data.corpus", True),
    ("rnnlab.grader", False), ("rnnlab.grader.worker", False), ("rnnlabx", False),
    ("rnnlab_extra.reference", False), ("__main__", False), ("numpy", False), (None, False)])
def test_the_course_library_is_told_by_module_name(module, expected):
    assert course.is_course_library(module) is expected
