"""Time ``rnnlab grade`` on a class: 30 submissions of one unit on two cores.

The class is built from the unit's solution and release: mostly honest work, some blank
notebooks, some wrong answers, one file that is not a notebook. It is graded as an
instructor would (sandboxed where bubblewrap works, ``--jobs 2``), and the wall time,
the time per student and the scores are printed (and written to artifacts/).

    python benchmarks/bench_grading.py [--unit 02_rnn_forward] [--students 30] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_grading import blank, honest, wrong  # noqa: E402

from rnnlab.grader.classroom import grade_class  # noqa: E402
from rnnlab.grader.sandbox import sandbox_problem  # noqa: E402


def build_class(unit: str, students: int, folder: Path) -> None:
    """Honest work for most, then blank, wrong and one broken file."""
    kinds = {"blank": max(1, students // 8), "wrong": max(1, students // 10), "broken": 1}
    kinds["honest"] = students - sum(kinds.values())
    makers = {"honest": honest, "blank": blank, "wrong": wrong}
    number = 0
    for kind, count in kinds.items():
        for _ in range(count):
            number += 1
            path = folder / f"s{number:03d}_{kind}.ipynb"
            if kind == "broken":
                path.write_text("this is not a notebook")
            else:
                nbformat.write(makers[kind](unit), path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unit", default="02_rnn_forward")
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-sandbox", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rnnlab-bench-") as tmp:
        folder = Path(tmp) / "class"
        folder.mkdir()
        build_class(args.unit, args.students, folder)
        start = time.perf_counter()
        report = grade_class(args.unit, folder, Path(tmp) / "out", ROOT, seed=1,
                             jobs=args.jobs, sandbox=not args.no_sandbox)
        wall = time.perf_counter() - start
    results = report["results"]
    per_student = [r.get("seconds", 0.0) for r in results.values() if r["status"] == "graded"]
    summary = {
        "unit": args.unit, "students": len(results), "jobs": args.jobs,
        "sandbox": report["sandbox"], "sandbox_problem": sandbox_problem(),
        "wall_seconds": round(wall, 1),
        "mean_seconds_per_student": round(sum(per_student) / max(len(per_student), 1), 2),
        "max_seconds_per_student": round(max(per_student, default=0.0), 2),
        "scores": {s: r["score"] for s, r in sorted(results.items())},
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "scores"}, indent=1))
    wrong_scores = {s: v for s, v in summary["scores"].items()
                    if ("honest" in s) != (v == max(r["max_score"] for r in results.values()))}
    print("scores as expected" if not wrong_scores else f"UNEXPECTED scores: {wrong_scores}")
    (ROOT / "artifacts").mkdir(exist_ok=True)
    (ROOT / "artifacts" / "bench_grading.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
