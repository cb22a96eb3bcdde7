"""Time every unit top to bottom, in fast and in full mode, against the course's budgets.

Each solution notebook runs in a fresh kernel once per mode: ``fast`` with
``RNNLAB_FAST=1`` (a self-learner's fast mode), ``nbgrader`` with
``NBGRADER_EXECUTION=autograde`` (what nbgrader sets), and ``full`` with neither (what a
self-learner runs by default). The budgets (COURSE.md, issue 14): 90 s per unit in fast
mode and 6 minutes for the whole course; 10 minutes per unit in full mode. The result is
printed as a Markdown table, a column per unit.

    python benchmarks/time_units.py [UNIT ...] [--modes fast nbgrader full]
"""

from __future__ import annotations

import argparse
import os

import nbformat
from full_run import ROOT, execute

#: mode: (environment variables set, unit budget in seconds, whole-course budget)
MODES = {"fast": ({"RNNLAB_FAST": "1"}, 90.0, 360.0),
         "nbgrader": ({"NBGRADER_EXECUTION": "autograde"}, 90.0, 360.0),
         "full": ({}, 600.0, None)}
LABELS = {"fast": "`RNNLAB_FAST=1`", "nbgrader": "`NBGRADER_EXECUTION`", "full": "full mode"}


def run_unit(unit: str, variables: dict[str, str]) -> float:
    """Seconds to execute ``solutions/<unit>/<unit>.ipynb`` in a fresh kernel."""
    path = ROOT / "solutions" / unit / f"{unit}.ipynb"
    return execute(path, nbformat.read(path, as_version=4), variables)


def main(units: list[str], modes: list[str]) -> None:
    units = units or sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    print(f"load average at the start: {os.getloadavg()[0]:.1f}")
    print("| mode | " + " | ".join(u[:2] for u in units) + " | whole course | budget |")
    print("|---" * (len(units) + 3) + "|", flush=True)
    for mode in modes:
        variables, unit_budget, course_budget = MODES[mode]
        times = [run_unit(unit, variables) for unit in units]
        over = [u for u, t in zip(units, times) if t > unit_budget]
        total = sum(times)
        if course_budget is not None and total > course_budget:
            over.append("whole course")
        budget = f"{unit_budget:.0f} s a unit" + (
            f", {course_budget:.0f} s in all" if course_budget else "")
        print(f"| {LABELS[mode]} | " + " | ".join(f"{t:.1f} s" for t in times)
              + f" | {total:.1f} s | {budget}: " + (f"OVER ({', '.join(over)})" if over
                                                     else "ok") + " |", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("units", nargs="*", help="units to time (default: all)")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    args = parser.parse_args()
    main(args.units, args.modes)
