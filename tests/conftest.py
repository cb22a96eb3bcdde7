"""Shared fixtures: where the course lives, which units it has, and which tools this
machine has (looked up once per test run)."""

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

from rnnlab.sandbox import sandbox_problem

ROOT = Path(__file__).resolve().parents[1]
UNITS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())

# nbgrader runs alembic as a subprocess: the environment's bin/ must be on PATH.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])

# Tools some tests need. Each is looked up once, here, so that every test of a run sees
# the same answer; a test that needs a missing tool skips and says why.
SANDBOX_PROBLEM = sandbox_problem()  # None when bubblewrap works (the grader's own probe)
CHROMIUM = Path(os.environ.get("RNNLAB_CHROMIUM") or shutil.which("chromium")
                or "/usr/bin/chromium")


def chromium_problem():
    if not os.access(CHROMIUM, os.X_OK):
        return f"no browser: {CHROMIUM} is missing (Debian: apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed"
    return None


CHROMIUM_PROBLEM = chromium_problem()
needs_sandbox = pytest.mark.skipif(SANDBOX_PROBLEM is not None,
                                   reason=f"no sandbox here: {SANDBOX_PROBLEM}")
needs_chromium = pytest.mark.skipif(CHROMIUM_PROBLEM is not None, reason=str(CHROMIUM_PROBLEM))
