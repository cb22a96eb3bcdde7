"""``rnnlab check`` for students and ``rnnlab grade`` for instructors.

    rnnlab check NOTEBOOK
        Run your notebook the way the autograder will (in a fresh sandboxed process, the
        tests outside it) with the visible tests it contains; one line per test, the
        total; exit status 1 if any test fails, 2 if the notebook cannot be read. A test
        cell whose hidden part the release left out is labelled as the visible part of a
        graded test (its hidden cases run only at grading). The notebook's own test cells
        run in this process, outside the sandbox: check only your own notebook.

    rnnlab grade UNIT SUBMISSIONS [--seed N] [--jobs J] [--out DIR] [--scheduler ADDRESS]
        Collect a class (a folder of <student>.ipynb, a folder per student, or an LMS zip),
        grade every student against solutions/UNIT (hidden tests included), write
        DIR/grades.csv, DIR/feedback/<student>/UNIT/UNIT.html, DIR/report.json and
        DIR/class_report.html.
        Refuses (exit status 2) where the bubblewrap sandbox does not work, unless
        --no-sandbox is given.

Also ``python -m rnnlab ...``; the ``rnnlab`` command is :func:`main`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rnnlab.grader.sandbox import Limits


def course_root(given: str | None) -> Path:
    """The course folder: --course, else the current folder or rnnlab's checkout."""
    if given:
        return Path(given).resolve()
    import rnnlab

    for candidate in (Path.cwd(), Path(rnnlab.__file__).resolve().parents[1]):
        if (candidate / "solutions").is_dir():
            return candidate
    return Path.cwd()


def _limits(args: argparse.Namespace) -> Limits:
    return Limits(cell_timeout=args.cell_timeout, call_timeout=args.call_timeout,
                  memory_mb=args.memory_mb)


def check(args: argparse.Namespace) -> int:
    from rnnlab.grader import feedback
    from rnnlab.grader.runner import grade_notebook
    from rnnlab.grader.sandbox import sandbox_problem
    from rnnlab.grader.spec import BadNotebookError, read_notebook, spec_from_notebook

    try:
        spec = spec_from_notebook(read_notebook(args.notebook))
    except BadNotebookError as exc:
        print(f"rnnlab check: {exc}", file=sys.stderr)
        return 2
    if not spec.tests:
        print(f"rnnlab check: {args.notebook}: no graded test cells (is it a course notebook?)",
              file=sys.stderr)
        return 2
    problem = "--no-sandbox was given" if args.no_sandbox else sandbox_problem()
    where = "in the sandbox" if problem is None else f"without the sandbox ({problem})"
    print(f"Checking {args.notebook} {where}, as the autograder runs it...", flush=True)
    result = grade_notebook(args.notebook, spec, _limits(args), sandbox=not args.no_sandbox,
                            copy_folder=False)
    for line in feedback.cell_problems(result):
        print(f"  note: {line}")
    width = max([36] + [len(feedback.label(t)) for t in result["tests"]])
    for test in result["tests"]:
        print(feedback.result_line(test, width))
    print("\n".join(feedback.check_summary(result)))
    if result["status"] != "graded":
        print(f"rnnlab check: {result['message']}", file=sys.stderr)
        return 2
    return 0 if all(t["passed"] for t in result["tests"]) else 1


def grade(args: argparse.Namespace) -> int:
    from rnnlab.grader.classroom import GradingRefusedError, grade_class

    out = Path(args.out or Path("graded") / args.unit)
    try:
        report = grade_class(args.unit, Path(args.submissions), out, course_root(args.course),
                             seed=args.seed, jobs=args.jobs, sandbox=not args.no_sandbox,
                             limits=_limits(args), progress=not args.quiet,
                             pattern=args.id_pattern, student_timeout=args.student_timeout,
                             grader_memory_mb=args.grader_memory_mb, scheduler=args.scheduler)
    except (FileNotFoundError, ValueError, GradingRefusedError) as exc:
        print(f"rnnlab grade: {exc}", file=sys.stderr)
        return 2
    results = report["results"]
    for student, r in sorted(results.items()):
        flag = "" if r.get("sandboxed") or r["status"] != "graded" else "  (NOT sandboxed)"
        print(f"{student:<24} {r['score']:>6g}/{r['max_score']:<6g} {r['status']}{flag}")
    print(f"{len(results)} students graded (seed {report['seed']}); grades: {out / 'grades.csv'}"
          f"; feedback: {out / 'feedback'}")
    if not report["sandbox"]:
        print(f"WARNING: graded WITHOUT the sandbox ({report['sandbox_problem']})")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rnnlab", description="Check and grade rnnlab notebooks.")
    sub = p.add_subparsers(dest="command", required=True)

    def limits(q: argparse.ArgumentParser, cell: float, call: float) -> None:
        q.add_argument("--cell-timeout", type=float, default=cell, metavar="S",
                       help=f"seconds per notebook cell (default {cell:g})")
        q.add_argument("--call-timeout", type=float, default=call, metavar="S",
                       help=f"seconds per call of an exercise function (default {call:g})")
        q.add_argument("--memory-mb", type=int, default=4096, metavar="MB",
                       help="address-space limit of the notebook's process (default 4096)")
        q.add_argument("--no-sandbox", action="store_true",
                       help="run the notebook without bubblewrap (trusted work only)")

    q = sub.add_parser("check", help="run your notebook's visible tests as the autograder will")
    q.add_argument("notebook")
    limits(q, 60, 30)
    q.set_defaults(run=check)

    q = sub.add_parser("grade", help="grade a class (collect, autograde, feedback, CSV)")
    q.add_argument("unit", help="unit name, e.g. 02_rnn_forward (solutions/UNIT/UNIT.ipynb)")
    q.add_argument("submissions", help="folder of notebooks, folder per student, or LMS zip")
    q.add_argument("--seed", type=int, default=None,
                   help="class seed of the hidden tests' random cases, each student's derived "
                        "from it and the student id (default: a random 64-bit seed, recorded "
                        "in report.json)")
    q.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                   help="students graded at once (default: number of cores)")
    q.add_argument("--out", help="output folder (default graded/UNIT)")
    q.add_argument("--course", help="course folder holding solutions/ (default: found)")
    q.add_argument("--id-pattern", help="regex with a (?P<student>...) group for file names")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    q.add_argument("--student-timeout", type=float, default=1800, metavar="S",
                   help="seconds for all of one student's grading; past it the student's "
                        "processes are killed and the student gets 0 (default 1800)")
    q.add_argument("--grader-memory-mb", type=float, default=2048, metavar="MB",
                   help="resident memory of one student's grading process (the tests' "
                        "side); past it, as --student-timeout (default 2048)")
    q.add_argument("--scheduler", metavar="ADDRESS",
                   help="grade on the Dask cluster at ADDRESS (tcp://host:8786); needs "
                        "rnnlab[cluster] and bubblewrap on every worker")
    limits(q, 60, 30)
    q.set_defaults(run=grade)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
