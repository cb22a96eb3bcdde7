"""Time ``rnnlab grade`` on a class of 30 submissions of every unit, on two cores.

Each class is built from the unit's solution and release: mostly honest work, some blank
notebooks, some wrong answers, one file that is not a notebook. It is graded as an
instructor would (sandboxed, ``--jobs 2``: a process per student, the Numba cache warmed
by the instructor's notebook first), and a Markdown table is printed (per-student time,
whole class, scores as expected) and written with the details to artifacts/.

    python benchmarks/bench_grading.py [--units 02_rnn_forward 03_bptt] [--students 30]
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


def bench_unit(unit: str, students: int, jobs: int, sandbox: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="rnnlab-bench-") as tmp:
        folder = Path(tmp) / "class"
        folder.mkdir()
        build_class(unit, students, folder)
        start = time.perf_counter()
        report = grade_class(unit, folder, Path(tmp) / "out", ROOT, seed=1, jobs=jobs,
                             sandbox=sandbox, progress=False)
        wall = time.perf_counter() - start
    results = report["results"]
    per_student = [r.get("seconds", 0.0) for r in results.values() if r["status"] == "graded"]
    top = max(r["max_score"] for r in results.values())
    unexpected = {s: r["score"] for s, r in results.items()
                  if ("honest" in s) != (r["score"] == top)}
    return {"unit": unit, "students": len(results), "jobs": jobs,
            "sandbox": report["sandbox"], "wall_seconds": round(wall, 1),
            "mean_seconds_per_student": round(sum(per_student) / max(len(per_student), 1), 2),
            "max_seconds_per_student": round(max(per_student, default=0.0), 2),
            "instructor_notebook": report["solution"]["score"], "unexpected_scores": unexpected}


def main() -> None:
    units = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", nargs="+", default=units)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-sandbox", action="store_true")
    args = parser.parse_args()
    rows = []
    print("| unit | students | mean s per student | max s per student | whole class s "
          "| scores as expected |\n|---|---|---|---|---|---|", flush=True)
    for unit in args.units:
        row = bench_unit(unit, args.students, args.jobs, not args.no_sandbox)
        rows.append(row)
        print(f"| {unit} | {row['students']} | {row['mean_seconds_per_student']} | "
              f"{row['max_seconds_per_student']} | {row['wall_seconds']} | "
              f"{'yes' if not row['unexpected_scores'] else row['unexpected_scores']} |",
              flush=True)
    (ROOT / "artifacts").mkdir(exist_ok=True)
    (ROOT / "artifacts" / "bench_grading.json").write_text(json.dumps(
        {"sandbox_problem": sandbox_problem(), "units": rows}, indent=1))


if __name__ == "__main__":
    main()
