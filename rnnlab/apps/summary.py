"""The summary of unit 07: this run's numbers beside the recorded full-mode run.

The notebook collects every evaluation in ``results`` (``{application: {measure:
value}}``) and every training time in ``seconds`` (``{application: s}``).
``benchmarks/applications.py`` runs the notebook in full mode and stores both in
``rnnlab/data/applications.json``; :func:`format_summary` prints a run next to it.
"""

from __future__ import annotations

import json
from pathlib import Path

#: Written by ``benchmarks/applications.py``: unit 07 run in full mode.
RECORDED = Path(__file__).resolve().parents[1] / "data" / "applications.json"


def recorded() -> dict:
    """The recorded full-mode run (``{}`` before the benchmark has written one).

    Keys: ``results``, ``seconds`` (as in the notebook), ``unit_seconds`` (the whole
    notebook), ``command`` and ``machine`` (where and when it ran).
    """
    return json.loads(RECORDED.read_text()) if RECORDED.is_file() else {}


def format_summary(results: dict[str, dict[str, float]], seconds: dict[str, float],
                   mode: str, run: dict | None = None) -> str:
    """One row per (application, measure): this run's value and the recorded run's.

    ``mode`` names this run's mode; ``run`` is :func:`recorded` (read if omitted). A
    missing value (an exercise not done yet, no recorded run) prints as ``-``.
    """
    run = recorded() if run is None else run
    theirs, their_seconds = run.get("results", {}), run.get("seconds", {})
    this, full = f"this run ({mode})", "recorded full run"
    rows = [f"{'application':<30}{'measure':<18}{this:>20}{full:>20}"]
    for application in dict.fromkeys([*results, *theirs]):
        ours, recorded_values = results.get(application, {}), theirs.get(application, {})
        for measure in dict.fromkeys([*ours, *recorded_values]):
            cells = [f"{v[measure]:.3f}" if measure in v else "-"
                     for v in (ours, recorded_values)]
            rows.append(f"{application:<30}{measure:<18}{cells[0]:>20}{cells[1]:>20}")
    rows.append("")
    rows.append(f"{'training time (one core)':<48}{'':>20}{'':>20}")
    for application in dict.fromkeys([*seconds, *their_seconds]):
        cells = [f"{v[application]:.0f} s" if application in v else "-"
                 for v in (seconds, their_seconds)]
        rows.append(f"{application:<48}{cells[0]:>20}{cells[1]:>20}")
    if run:
        rows.append(f"\nrecorded by `{run['command']}` ({run['machine']}; the whole unit took "
                    f"{run['unit_seconds']:.0f} s)")
    else:
        rows.append(f"\nno recorded run: {RECORDED.name} is missing "
                    "(python benchmarks/applications.py)")
    return "\n".join(rows)
