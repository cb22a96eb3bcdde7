"""Shared fixtures: where the course lives, which units it has, which tools this machine
has (looked up once per test run), and the notebooks executed once per test run."""

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

from rnnlab.grader.sandbox import sandbox_problem

ROOT = Path(__file__).resolve().parents[1]
UNITS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())

# nbgrader runs alembic as a subprocess: the environment's bin/ must be on PATH.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])

# Tools some tests need. Each is looked up once, here, so that every test of a run sees
# the same answer; a test that needs a missing tool skips and says why.
SANDBOX_PROBLEM = sandbox_problem()  # None when bubblewrap works (the grader's own probe)
CHROMIUM = os.environ.get("RNNLAB_CHROMIUM") or shutil.which("chromium") or ""


def chromium_problem():
    if not os.access(CHROMIUM, os.X_OK):
        return ("no browser: chromium is not on PATH (Debian: apt-get install chromium) "
                f"and RNNLAB_CHROMIUM names no program ({CHROMIUM or 'unset'})")
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed"
    return None


CHROMIUM_PROBLEM = chromium_problem()
needs_sandbox = pytest.mark.skipif(SANDBOX_PROBLEM is not None,
                                   reason=f"no sandbox here: {SANDBOX_PROBLEM}")
needs_chromium = pytest.mark.skipif(CHROMIUM_PROBLEM is not None, reason=str(CHROMIUM_PROBLEM))


@pytest.fixture(scope="session")
def executed(request, tmp_path_factory):
    """``executed(path)``: the notebook at ``path`` as nbgrader's Validator executes it.

    On first use it starts executing, two at a time, the solution and the release of every
    unit that the run's tests using this fixture are parametrized with; each is executed
    at most once per run and not at all when cached (tests/notebook_runs.py).
    """
    from notebook_runs import Runs

    cache = getattr(request.config, "cache", None)  # None under -p no:cacheprovider
    folder = cache.mkdir("rnnlab-notebooks") if cache else tmp_path_factory.mktemp("notebooks")
    runs = Runs(Path(folder))
    units = sorted({item.callspec.params["unit"] for item in request.session.items
                    if "executed" in getattr(item, "fixturenames", ())
                    and "unit" in getattr(getattr(item, "callspec", None), "params", {})})
    runs.start([ROOT / "solutions" / u / f"{u}.ipynb" for u in units]
               + [ROOT / "notebooks" / u / f"{u}.ipynb" for u in units])
    yield runs.get
    runs.close()


def pytest_terminal_summary(terminalreporter):
    runs = sys.modules.get("notebook_runs")
    if runs and any(runs.COUNT.values()):
        terminalreporter.write_line(
            f"notebooks: {runs.COUNT['executed']} executed, {runs.COUNT['cached']} read from "
            "the cache "
            "(.pytest_cache/d/rnnlab-notebooks; --cache-clear executes them again)")
