"""Grade a whole class: collect submissions, grade each in parallel, write grades and feedback.

:func:`grade_class` is ``rnnlab grade``. It stands for the stock nbgrader commands:

==============================  =============================================
``nbgrader collect`` /          :func:`collect`: a folder of notebooks, a folder
``nbgrader zip_collect``        per student, or an LMS zip, copied to
                                ``submitted/<student>/<unit>/<unit>.ipynb``
``nbgrader autograde``          :func:`rnnlab.autograde.grade_notebook` per student
                                (sandboxed, tests from ``solutions/``)
``nbgrader generate_feedback``  ``feedback/<student>/<unit>/<unit>.html`` (and ``.md``)
``nbgrader export``             ``grades.csv`` (nbgrader's columns plus one per test)
==============================  =============================================
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import tempfile
import zipfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path, PurePosixPath

from rnnlab import feedback
from rnnlab.autograde import grade_notebook, read_notebook, spec_from_notebook
from rnnlab.grading import SEED_VARIABLE
from rnnlab.sandbox import Limits, sandbox_problem

# Student ids in LMS file names: Canvas, Blackboard, Moodle (folder names).
LMS_PATTERNS = [
    r"^(?P<student>[^_]+)_(?:late_)?\d+_\d+_.+$",  # Canvas: name_[late_]123_456_file
    r"^.+?_(?P<student>[^_]+)_attempt_[\d-]+(?:_.+)?$",  # Blackboard: unit_id_attempt_date_file
    r"^(?P<student>.+?)_\d+_assignsubmission_.*$",  # Moodle: Full Name_123_assignsubmission_
]
MAX_MEMBER = 50 * 2**20
MAX_ZIP_TOTAL = 2 * 2**30


def student_id(name: str, pattern: str | None = None) -> str:
    """A safe student id from a file or folder name (LMS prefixes understood)."""
    stem = name[:-6] if name.endswith(".ipynb") else Path(name).stem if "." in name else name
    for regex in [pattern] if pattern else LMS_PATTERNS:
        match = re.match(regex, stem, re.IGNORECASE)
        if match:
            stem = match.group("student")
            break
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._-") or "unknown"


def safe_extract(archive: Path, target: Path) -> list[str]:
    """Extract a zip without leaving ``target`` (no absolute paths, no ``..``, no links,
    size caps); returns the members it refused."""
    refused, total = [], 0
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = PurePosixPath(info.filename.replace("\\", "/"))
            if info.is_dir() or "__MACOSX" in name.parts or name.name.startswith("."):
                continue
            is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
            if name.is_absolute() or ".." in name.parts or ":" in info.filename or is_link \
                    or info.file_size > MAX_MEMBER or total + info.file_size > MAX_ZIP_TOTAL:
                refused.append(info.filename)
                continue
            total += info.file_size
            dest = target.joinpath(*name.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(dest, "wb") as out:
                out.write(src.read(MAX_MEMBER + 1)[:MAX_MEMBER])
    return refused


def _pick_notebook(folder: Path, unit: str) -> Path | None:
    named = sorted(folder.rglob(f"{unit}.ipynb"))
    if named:
        return named[0]
    notebooks = [p for p in sorted(folder.rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts]
    return notebooks[0] if notebooks else None


def collect(submissions: Path, unit: str, out: Path, pattern: str | None = None,
            ) -> tuple[dict[str, Path], list[str]]:
    """Copy every submission to ``out/submitted/<student>/<unit>/<unit>.ipynb``.

    Returns {student: collected notebook} and a list of problems (one line each).
    A file that is not a notebook is collected anyway: grading reports it.
    """
    problems: list[str] = []
    submissions = Path(submissions)
    if not submissions.exists():
        raise FileNotFoundError(f"{submissions}: no such file or folder")
    unpacked = None
    if submissions.is_file() and zipfile.is_zipfile(submissions):
        unpacked = Path(tempfile.mkdtemp(prefix="rnnlab-zip-"))
        problems += [f"{submissions.name}: refused zip member {m}"
                     for m in safe_extract(submissions, unpacked)]
        entries = list(unpacked.iterdir())
        # An LMS zip often wraps everything in one folder.
        while len(entries) == 1 and entries[0].is_dir():
            entries = list(entries[0].iterdir())
        root_entries = entries
    elif submissions.is_dir():
        root_entries = list(submissions.iterdir())
    else:
        raise ValueError(f"{submissions}: expected a folder or a zip file")
    found: dict[str, Path] = {}
    for entry in sorted(root_entries):
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        student = student_id(entry.name, pattern)
        notebook = _pick_notebook(entry, unit) if entry.is_dir() else entry
        if notebook is None:
            problems.append(f"{entry.name}: no notebook found; {student} not graded")
            continue
        if student in found:
            number = 2
            while f"{student}-{number}" in found:
                number += 1
            problems.append(f"{entry.name}: student id {student} seen twice; "
                            f"graded as {student}-{number}")
            student = f"{student}-{number}"
        dest = out / "submitted" / student / unit / f"{unit}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, dest)
        found[student] = dest
    if unpacked is not None:
        shutil.rmtree(unpacked, ignore_errors=True)
    return found, problems


def _grade_one(args: tuple) -> tuple[str, dict]:
    student, path, source, limits, sandbox, forbidden = args
    try:
        return student, grade_notebook(path, source, limits, sandbox, forbidden)
    except Exception as exc:
        return student, {"notebook": str(path), "status": "error", "score": 0.0,
                         "max_score": 0.0, "tests": [], "cells": [], "sandboxed": False,
                         "message": f"grading failed: {type(exc).__name__}: {exc}"}


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
    results: dict[str, dict] = {}
    bar = tqdm(total=len(tasks), desc=f"grading {unit}", unit="student", disable=not progress)
    if jobs <= 1:
        for task in tasks:
            student, result = _grade_one(task)
            results[student] = result
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
                    student = futures[future]
                    result = {"status": "error", "score": 0.0, "max_score": spec.max_score,
                              "tests": [], "cells": [], "sandboxed": False,
                              "message": f"grading failed: {type(exc).__name__}: {exc}"}
                results[student] = result
                bar.update()
    bar.close()
    for student, result in sorted(results.items()):
        result["student"] = student
        feedback.write_feedback(out, unit, student, result)
        if result["status"] != "graded":
            log(f"{student}: {result['status']}: {result['message']}")
    feedback.write_csv(out / "grades.csv", unit, results)
    report = {"unit": unit, "seed": os.environ.get(SEED_VARIABLE, "0"),
              "sandbox": problem is None, "sandbox_problem": problem, "problems": problems,
              "results": results}
    (out / "report.json").write_text(json.dumps(report, indent=1, default=str))
    return report
