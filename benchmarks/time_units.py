"""Time every unit top to bottom in fast mode against the course's budget.

Each solution notebook runs in a fresh kernel twice: with ``RNNLAB_FAST=1`` (a
self-learner's fast mode) and with ``NBGRADER_EXECUTION=autograde`` (what nbgrader
sets). The budget (COURSE.md) is 90 s per unit and 6 minutes for the whole course.

    python benchmarks/time_units.py [UNIT ...]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
UNIT_BUDGET, COURSE_BUDGET = 90.0, 360.0
MODES = {"RNNLAB_FAST=1": ("RNNLAB_FAST", "1"), "NBGRADER_EXECUTION": ("NBGRADER_EXECUTION",
                                                                      "autograde")}


def run_unit(unit: str, variable: str, value: str) -> float:
    """Seconds to execute ``solutions/<unit>/<unit>.ipynb`` in a fresh kernel."""
    path = ROOT / "solutions" / unit / f"{unit}.ipynb"
    nb = nbformat.read(path, as_version=4)
    saved = {k: os.environ.pop(k, None) for k in ("RNNLAB_FAST", "NBGRADER_EXECUTION")}
    os.environ[variable] = value  # the kernel inherits the environment
    try:
        start = time.perf_counter()
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        return time.perf_counter() - start
    finally:
        os.environ.pop(variable)
        os.environ.update({k: v for k, v in saved.items() if v is not None})


def main(units: list[str]) -> None:
    units = units or sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    print(f"{'unit':<26}" + "".join(f"{mode:>22}" for mode in MODES) + "   budget")
    totals = dict.fromkeys(MODES, 0.0)
    for unit in units:
        times = {mode: run_unit(unit, *env) for mode, env in MODES.items()}
        for mode, seconds in times.items():
            totals[mode] += seconds
        verdict = "ok" if max(times.values()) <= UNIT_BUDGET else "OVER"
        print(f"{unit:<26}" + "".join(f"{t:>21.1f}s" for t in times.values())
              + f"   {UNIT_BUDGET:.0f} s {verdict}")
    verdict = "ok" if max(totals.values()) <= COURSE_BUDGET else "OVER"
    print(f"{'whole course':<26}" + "".join(f"{t:>21.1f}s" for t in totals.values())
          + f"  {COURSE_BUDGET:.0f} s {verdict}")


if __name__ == "__main__":
    main(sys.argv[1:])
