"""The class's results as an instructor exports them: ``grades.csv`` and ``report.json``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

FIELDS = ["assignment", "student_id", "raw_score", "score", "max_score", "status",
          "sandboxed", "timed_out_cells", "message"]


def points(value: float) -> str:
    """Points as people write them: ``10``, ``2.5``."""
    return f"{value:g}"


def _cell(text: str) -> str:
    """A text cell that a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(path: Path, unit: str, results: dict[str, dict]) -> None:
    """Grades, one row per student, columns like ``nbgrader export`` plus one per test.

    Always UTF-8: a character that is not (a lone surrogate) is written as ``?``."""
    test_ids = []
    for result in results.values():
        test_ids += [t["grade_id"] for t in result["tests"] if t["grade_id"] not in test_ids]
    with open(path, "w", newline="", encoding="utf-8", errors="replace") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS + test_ids)
        for student, r in sorted(results.items()):
            earned = {t["grade_id"]: points(t["points"]) for t in r["tests"]}
            timed_out = sum(bool(c.get("timed_out")) for c in r.get("cells", []))
            writer.writerow([unit, student, points(r["score"]), points(r["score"]),
                             points(r["max_score"]), r["status"],
                             "yes" if r.get("sandboxed") else "NO", timed_out,
                             _cell(str(r.get("message", "")))]
                            + [earned.get(t, "0") for t in test_ids])


def write_report(path: Path, report: dict) -> None:
    """Everything :func:`rnnlab.grader.classroom.grade_class` found, as JSON."""
    path.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
