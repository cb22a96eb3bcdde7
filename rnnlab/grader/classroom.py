"""Grade a whole class: collect submissions, grade each in parallel, write grades and feedback.

:func:`grade_class` is ``rnnlab grade``. It stands for the stock nbgrader commands:

==============================  =============================================
``nbgrader collect`` /          :func:`rnnlab.grader.collect.collect`: a folder of
``nbgrader zip_collect``        notebooks, a folder per student, or an LMS zip, copied
                                to ``submitted/<student>/<unit>/<unit>.ipynb``
``nbgrader autograde``          :func:`rnnlab.grader.runner.grade_notebook` per student
                                (sandboxed, tests from ``solutions/``)
``nbgrader generate_feedback``  ``feedback/<student>/<unit>/<unit>.html`` (and ``.md``),
                                :mod:`rnnlab.grader.feedback`
``nbgrader export``             ``grades.csv`` and ``report.json``,
                                :mod:`rnnlab.grader.results`
==============================  =============================================
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from rnnlab.checks import SEED_VARIABLE
from rnnlab.grader import feedback, results
from rnnlab.grader.collect import collect
from rnnlab.grader.runner import grade_notebook
from rnnlab.grader.sandbox import Limits, sandbox_problem
from rnnlab.grader.spec import read_notebook, spec_from_notebook


def _grade_one(args: tuple) -> tuple[str, dict]:
    student, path, source, limits, sandbox, forbidden = args
    try:
        return student, grade_notebook(path, source, limits, sandbox, forbidden)
    except Exception as exc:
        return student, _failed(exc, source.max_score)


def _failed(exc: BaseException, max_score: float) -> dict:
    """The result of a student whose grading itself failed (0 points, the reason)."""
    return {"status": "error", "score": 0.0, "max_score": max_score, "tests": [], "cells": [],
            "sandboxed": False, "message": f"grading failed: {type(exc).__name__}: {exc}"}


def _init_process(threads: int) -> None:
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)
    os.environ.setdefault("MPLBACKEND", "Agg")


def grade_class(unit: str, submissions: Path, out: Path, course: Path, seed: int | None = None,
                jobs: int = 2, sandbox: bool = True, limits: Limits | None = None,
                progress: bool = True, pattern: str | None = None, log=print) -> dict:
    """Collect, grade every student, write ``grades.csv``, feedback and ``report.json``."""
    limits = limits or Limits()
    course, out = Path(course).resolve(), Path(out).resolve()
    source = course / "solutions" / unit / f"{unit}.ipynb"
    if not source.is_file():
        units = sorted(p.name for p in (course / "solutions").glob("*") if p.is_dir())
        raise FileNotFoundError(f"no unit {unit!r} in {course / 'solutions'} "
                                f"(units: {', '.join(units) or 'none'})")
    spec = spec_from_notebook(read_notebook(source))
    saved_seed = os.environ.get(SEED_VARIABLE)
    if seed is not None:
        os.environ[SEED_VARIABLE] = str(seed)
    try:
        return _grade(unit, submissions, out, course, spec, jobs, sandbox, limits, progress,
                      pattern, log)
    finally:
        if saved_seed is None:
            os.environ.pop(SEED_VARIABLE, None)
        else:
            os.environ[SEED_VARIABLE] = saved_seed


def _grade(unit, submissions, out, course, spec, jobs, sandbox, limits, progress, pattern,
           log) -> dict:
    from tqdm.auto import tqdm

    problem = sandbox_problem() if sandbox else "--no-sandbox was given"
    if problem:
        log(f"WARNING: grading WITHOUT the sandbox ({problem}); submissions can read "
            "and write anything this user can. Grade only trusted work this way.")
    found, problems = collect(Path(submissions), unit, out, pattern)
    for line in problems:
        log(f"collect: {line}")
    forbidden = [course, out, Path(submissions).resolve()]
    tasks = [(s, p, spec, limits, sandbox, forbidden) for s, p in sorted(found.items())]
    graded: dict[str, dict] = {}
    bar = tqdm(total=len(tasks), desc=f"grading {unit}", unit="student", disable=not progress)
    if jobs <= 1:
        for task in tasks:
            student, result = _grade_one(task)
            graded[student] = result
            bar.update()
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_process,
                                 initargs=(limits.threads,)) as pool:
            futures = {pool.submit(_grade_one, task): task[0] for task in tasks}
            for future in as_completed(futures):
                try:
                    student, result = future.result()
                except Exception as exc:
                    student, result = futures[future], _failed(exc, spec.max_score)
                graded[student] = result
                bar.update()
    bar.close()
    for student, result in sorted(graded.items()):
        result["student"] = student
        feedback.write_feedback(out, unit, student, result)
        if result["status"] != "graded":
            log(f"{student}: {result['status']}: {result['message']}")
    results.write_csv(out / "grades.csv", unit, graded)
    report = {"unit": unit, "seed": os.environ.get(SEED_VARIABLE, "0"),
              "sandbox": problem is None, "sandbox_problem": problem, "problems": problems,
              "results": graded}
    results.write_report(out / "report.json", report)
    return report
