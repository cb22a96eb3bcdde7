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
(none)                          ``class_report.html``: scores, pass rates, named
                                mistakes, :mod:`rnnlab.grader.class_report`
==============================  =============================================

Whatever one student does, the class finishes:

* **Fail closed.** Without a working sandbox grading refuses
  (:class:`GradingRefusedError`) unless the caller passes ``sandbox=False``.
* **A process per student.** Each student is graded (its tests, the decoding of its
  worker's replies) in a process of its own, forked from a warm server
  (:func:`grade_task`), and killed, with the student's whole process tree, when it runs
  past ``student_timeout`` seconds or its resident memory passes ``grader_memory_mb``:
  that student gets 0 and the reason.
* **Seeds.** Without a seed the class gets a random 64-bit one; each student's hidden
  cases come from :func:`student_seed` (class seed, student id).
* **A warm Numba cache.** The instructor's own notebook is graded first, as a check of
  the tests and to fill a Numba cache that every student's worker gets a copy of.
* **Past one machine.** With ``scheduler``, the same tasks run on a Dask cluster
  (``pip install 'rnnlab[cluster]'``); each worker must have a working bubblewrap.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import resource
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from multiprocessing.connection import wait
from pathlib import Path

from rnnlab.checks import SEED_VARIABLE
from rnnlab.grader import class_report, feedback, results
from rnnlab.grader.collect import collect
from rnnlab.grader.host import seccomp_filter
from rnnlab.grader.runner import grade_notebook
from rnnlab.grader.sandbox import Limits, sandbox_problem
from rnnlab.grader.spec import Spec, read_notebook, spec_from_notebook

INSTALL = "apt-get install -y bubblewrap"
SOLUTION = "(instructor's notebook)"  # the warm-up run's name, never a student id
WARM_UP_CELLS = 4  # the warm-up's cells get this many times the students' cell time limit
# Imported once by the server that forks the students' processes (torch takes seconds).
PRELOAD = ["rnnlab.grader.classroom", "torch"]
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "NUMBA_NUM_THREADS")


class GradingRefusedError(RuntimeError):
    """Grading cannot be done safely: the sandbox does not work (here, or on a worker of
    the cluster), or the cluster's workers may not start a process per student."""


def refusal(problem: str, where: str = "here") -> str:
    return (f"refusing to grade: the sandbox does not work {where} ({problem}). Install "
            f"bubblewrap ({INSTALL}), or pass --no-sandbox to grade trusted work without it.")


def student_seed(seed: int, student: str) -> int:
    """The 64-bit seed of one student's hidden cases: a hash of the class seed and the id,
    so one student's cases say nothing about another's, and ``--seed`` reproduces all."""
    digest = hashlib.sha256(f"{seed}:{student}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass
class Task:
    """One student's grading, with everything it needs as data (so a Dask worker on
    another machine can run it)."""

    student: str
    name: str  # the notebook's file name
    notebook: bytes
    spec: Spec
    limits: Limits
    sandbox: bool
    seed: int
    forbidden: list[Path] = field(default_factory=list)
    numba_cache: dict[str, bytes] = field(default_factory=dict)
    warm_up: bool = False  # also return the worker's Numba cache


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def _failed(task: Task, status: str, message: str) -> dict:
    """The result of a student whose grading itself failed or was stopped (0 points)."""
    return {"status": status, "score": 0.0, "max_score": task.spec.max_score, "tests": [],
            "cells": [], "sandboxed": False, "message": message, "seed": task.seed}


def grade_task(task: Task, tmp: Path) -> dict:
    """Grade one student in this process, with files under ``tmp``."""
    if task.sandbox and sandbox_problem():
        return _failed(task, "error", refusal(sandbox_problem(), "on this machine"))
    os.environ[SEED_VARIABLE] = str(task.seed)
    folder = tmp / "submission"
    folder.mkdir(parents=True)
    (folder / task.name).write_bytes(task.notebook)
    cache = tmp / "numba"
    for name, data in task.numba_cache.items():
        (cache / name).parent.mkdir(parents=True, exist_ok=True)
        (cache / name).write_bytes(data)
    cache_out = tmp / "numba-out" if task.warm_up else None
    result = grade_notebook(folder / task.name, task.spec, task.limits, task.sandbox,
                            [*task.forbidden, tmp], numba_cache=cache,
                            numba_cache_out=cache_out)
    if cache_out is not None and cache_out.is_dir():
        result["numba_cache"] = _files(cache_out)
    result["seed"] = task.seed
    return result


def _child(task: Task, tmp: str, send) -> None:
    """A student's grading process: grade, send the result, exit."""
    tempfile.tempdir = tmp  # every scratch folder inside tmp, which the parent removes
    for name in THREAD_VARIABLES:
        os.environ[name] = str(task.limits.threads)
    os.environ.setdefault("MPLBACKEND", "Agg")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(task.limits.threads)
    try:
        result = grade_task(task, Path(tmp))
    except BaseException as exc:  # the class goes on whatever happens here
        result = _failed(task, "error", f"grading failed: {type(exc).__name__}: {exc}")
    result["grader_peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    send.send(result)
    send.close()


# --------------------------------------------------------------------------- processes


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = Path("/proc", entry, "stat").read_text()
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


def _kill_tree(pid: int) -> None:
    """Stop ``pid`` first (it starts nothing more), then kill it and everything below."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGSTOP)
    for each in [pid, *_descendants(pid)]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(each, signal.SIGKILL)


def _resident_mb(pid: int) -> float:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _verdict(task: Task, process, receive, started: float, seconds: float,
             memory_mb: float) -> dict | None:
    """The student's result if it is done (or stopped now), else None."""
    if receive.poll():
        try:
            return receive.recv()
        except (EOFError, OSError):
            process.join(1)
            return _failed(task, "error", "grading failed: its process ended without a "
                           f"result (exit code {process.exitcode})")
    if not process.is_alive():
        return _failed(task, "error", "grading failed: its process ended without a result "
                       f"(exit code {process.exitcode})")
    if time.monotonic() - started > seconds:
        return _failed(task, "killed", f"grading stopped: it took longer than {seconds:g} s, "
                       "the limit for one student (--student-timeout)")
    used = _resident_mb(process.pid)
    if used > memory_mb:
        return _failed(task, "killed", f"grading stopped: its process used {used:.0f} MB, "
                       f"more than the limit of {memory_mb:g} MB (--grader-memory-mb)")
    return None


def grade_locally(tasks: list[Task], jobs: int, seconds: float, memory_mb: float,
                  done: Callable[[str, dict], None]) -> None:
    """Grade each task in a process of its own, ``jobs`` at a time, within the limits."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    waiting, running = list(tasks), {}
    with tempfile.TemporaryDirectory(prefix="rnnlab-class-") as root:
        try:
            while waiting or running:
                while waiting and len(running) < max(jobs, 1):
                    task = waiting.pop(0)
                    tmp = Path(root, f"{len(running)}-{time.monotonic_ns()}")
                    tmp.mkdir()
                    receive, send = context.Pipe(duplex=False)
                    process = context.Process(target=_child, args=(task, str(tmp), send))
                    process.start()
                    send.close()
                    running[task.student] = (task, process, receive, time.monotonic(), tmp)
                handles = [r[2] for r in running.values()] + [r[1].sentinel
                                                              for r in running.values()]
                wait(handles, timeout=0.2)
                for student, (task, process, receive, started, tmp) in list(running.items()):
                    result = _verdict(task, process, receive, started, seconds, memory_mb)
                    if result is not None:
                        del running[student]
                        _stop(process, receive, tmp)
                        done(student, result)
        finally:
            for _, process, receive, _, tmp in running.values():
                _stop(process, receive, tmp)


def _stop(process, receive, tmp: Path) -> None:
    _kill_tree(process.pid)
    process.join(10)
    receive.close()
    shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- a cluster


def worker_problem(sandbox: bool) -> str | None:
    """Why this Dask worker cannot grade (None if it can); run on every worker."""
    if multiprocessing.current_process().daemon:
        return ("its tasks run in a daemon process, which may not start a student's grading "
                "process: start the workers with DASK_DISTRIBUTED__WORKER__DAEMON=False")
    return refusal(sandbox_problem(), "on this worker") if sandbox and sandbox_problem() \
        else None


def _grade_remote(task: Task, seconds: float, memory_mb: float) -> dict:
    """One student on a Dask worker, in a process of its own as on one machine."""
    graded = {}
    grade_locally([task], 1, seconds, memory_mb, graded.__setitem__)
    return graded[task.student]


def grade_on_cluster(tasks: list[Task], scheduler: str, seconds: float, memory_mb: float,
                     sandbox: bool, done: Callable[[str, dict], None]) -> None:
    """Grade the tasks on the Dask cluster at ``scheduler``; refuses workers that cannot."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ValueError("--scheduler needs Dask's distributed: "
                         "pip install 'rnnlab[cluster]'") from None
    with Client(scheduler, timeout=60) as client:
        problems = {w: p for w, p in client.run(worker_problem, sandbox).items() if p}
        if problems:
            raise GradingRefusedError("refusing to grade on this cluster: " + "; ".join(
                f"worker {w}: {p}" for w, p in sorted(problems.items())))
        if not client.scheduler_info()["workers"]:
            raise ValueError(f"the Dask cluster at {scheduler} has no workers")
        futures = {client.submit(_grade_remote, task, seconds, memory_mb, pure=False): task
                   for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                result = future.result()
            except Exception as exc:
                result = _failed(task, "error", f"grading failed on the cluster: "
                                 f"{type(exc).__name__}: {exc}")
            done(task.student, result)


# --------------------------------------------------------------------------- the class


def grade_class(unit: str, submissions: Path, out: Path, course: Path, seed: int | None = None,
                jobs: int = 2, sandbox: bool = True, limits: Limits | None = None,
                progress: bool = True, pattern: str | None = None, log=print,
                student_timeout: float = 1800.0, grader_memory_mb: float = 2048,
                scheduler: str | None = None) -> dict:
    """Collect, grade every student, write ``grades.csv``, feedback, ``report.json`` and
    ``class_report.html``.

    Raises :class:`GradingRefusedError` if ``sandbox`` and bubblewrap does not work (here,
    or on a worker of the cluster at ``scheduler``).
    """
    from tqdm.auto import tqdm

    limits = limits or Limits()
    course, out = Path(course).resolve(), Path(out).resolve()
    source = course / "solutions" / unit / f"{unit}.ipynb"
    if not source.is_file():
        units = sorted(p.name for p in (course / "solutions").glob("*") if p.is_dir())
        raise FileNotFoundError(f"no unit {unit!r} in {course / 'solutions'} "
                                f"(units: {', '.join(units) or 'none'})")
    problem = "--no-sandbox was given" if not sandbox else \
        None if scheduler else sandbox_problem()
    if problem and sandbox:
        raise GradingRefusedError(refusal(problem))
    if problem:
        log(f"WARNING: grading WITHOUT the sandbox ({problem}); submissions can read "
            "and write anything this user can. Grade only trusted work this way.")
    seccomp = None if scheduler or problem else seccomp_filter() is not None
    if seccomp is False:
        log("note: the sandbox runs without its system-call filter (no Python here has "
            "libseccomp's bindings: apt-get install -y python3-seccomp)")
    spec = spec_from_notebook(read_notebook(source))
    seed = secrets.randbits(64) if seed is None else int(seed)
    found, problems = collect(Path(submissions), unit, out, pattern)
    for line in problems:
        log(f"collect: {line}")
    forbidden = [course, out, Path(submissions).resolve()]

    def task(student: str, path: Path, limits: Limits = limits, **extra) -> Task:
        return Task(student, path.name, path.read_bytes(), spec, limits, sandbox,
                    student_seed(seed, student), forbidden, **extra)

    def run(tasks: list[Task], done: Callable[[str, dict], None]) -> None:
        if scheduler:
            grade_on_cluster(tasks, scheduler, student_timeout, grader_memory_mb, sandbox, done)
        else:
            grade_locally(tasks, jobs, student_timeout, grader_memory_mb, done)

    warm: dict[str, dict] = {}
    # Compiling takes the warm-up longer than a student, whose worker finds it cached.
    warm_limits = replace(limits, cell_timeout=WARM_UP_CELLS * limits.cell_timeout)
    run([task(SOLUTION, source, warm_limits, warm_up=True)], warm.__setitem__)
    solution = warm[SOLUTION]
    cache = solution.pop("numba_cache", {})
    if solution["score"] != spec.max_score:
        log(f"WARNING: the instructor's own notebook scored {solution['score']:g}/"
            f"{spec.max_score:g} when graded ({solution['message'] or 'see report.json'})")
    graded: dict[str, dict] = {}
    bar = tqdm(total=len(found), desc=f"grading {unit}", unit="student", disable=not progress)

    def done(student: str, result: dict) -> None:
        result = feedback.clean_result(result)
        result.update(student=student, notebook=str(found[student]))
        graded[student] = result
        feedback.write_feedback(out, unit, student, result)
        if result["status"] != "graded":
            log(f"{student}: {result['status']}: {result['message']}")
        bar.update()

    run([task(s, p, numba_cache=cache) for s, p in sorted(found.items())], done)
    bar.close()
    graded = dict(sorted(graded.items()))
    results.write_csv(out / "grades.csv", unit, graded)
    report = {"unit": unit, "seed": seed, "sandbox": problem is None,
              "sandbox_problem": problem, "seccomp": seccomp, "scheduler": scheduler,
              "limits": {**vars(limits), "student_timeout": student_timeout,
                         "grader_memory_mb": grader_memory_mb},
              "solution": {k: solution.get(k) for k in ("status", "score", "max_score",
                                                         "message")},
              "problems": problems,
              "summary": class_report.summary(graded, spec.max_score), "results": graded}
    results.write_report(out / "report.json", report)
    class_report.write(out / "class_report.html", report)
    return report
