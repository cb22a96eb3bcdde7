"""Grade one notebook without trusting the student's kernel.

Stock nbgrader runs a submission's code and the tests in one kernel, so anything the
tests rely on can be faked from the notebook. Here the two never meet:

1. **Student side** (:class:`rnnlab.grader.worker.Worker`, sandboxed): the submission's code
   cells run in order, except its test cells; locked cells (the setup cell) are the
   instructor's version; each cell has a time limit, and an error or a timeout is
   recorded without stopping the rest. The worker then answers calls of the exercise
   functions (the top-level ``def`` of the source's solution cells) with plain data.
2. **Grader side** (this process): the instructor's test cells from ``solutions/`` run
   in a fresh namespace prepared by the source's setup cell, with each exercise name
   bound to an :class:`Exercise` proxy that calls the worker. References (``rnnlab``,
   numpy, torch) live here, untouched by student code. A test cell passes if it raises
   nothing; its points come from the source's metadata.

:func:`grade_notebook` does both for one file and returns a plain dict (the result the
feedback, the grades table and ``rnnlab check`` are made from).
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import shutil
import signal
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.grader.codec import OPAQUE, StateDict, TransferError
from rnnlab.grader.course import is_course_library
from rnnlab.grader.host import scratch_folder
from rnnlab.grader.protocol import RemoteError
from rnnlab.grader.sandbox import (
    Limits,
    WorkerDiedError,
    WorkerProcess,
    WorkerTimeoutError,
)
from rnnlab.grader.spec import (
    BadNotebookError,
    GradedTest,
    Spec,
    read_notebook,
    spec_from_notebook,
    worker_cells,
)

MESSAGE_LIMIT = 400
NUMBA_CACHE = ".cache/numba"  # the worker's NUMBA_CACHE_DIR, inside its home (the scratch)


class CellTimeLimitError(Exception):
    """A test cell ran past its time limit."""


# --------------------------------------------------------------------------- grader side


class Exercise:
    """Stands for a student's function in the grader: each call runs in the worker.

    Arguments go to the worker; the return value comes back as plain data, and the
    arguments as the student's code left them are copied back into the grader's own
    objects, so tests that check "inputs left unmodified" see what really happened.
    """

    def __init__(self, worker: WorkerProcess, name: str, exercises: list[str]) -> None:
        self.worker, self.__name__, self.exercises = worker, name, exercises

    def __repr__(self) -> str:
        return f"<your {self.__name__}, run in the sandbox>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        value, args_after, kwargs_after = self.worker.call(self.__name__, args, kwargs,
                                                           self.exercises)
        for before, after in zip(args, args_after):
            _write_back(before, after)
        for key, before in kwargs.items():
            if key in kwargs_after:
                _write_back(before, kwargs_after[key])
        return value


def _write_back(target: Any, new: Any) -> None:
    """Make ``target`` (the grader's argument) equal to ``new`` (the worker's) in place."""
    torch = __import__("sys").modules.get("torch")
    if new is OPAQUE:
        return
    if isinstance(target, np.ndarray) and isinstance(new, np.ndarray):
        if target.shape == new.shape and target.flags.writeable \
                and not np.array_equal(target, new, equal_nan=target.dtype.kind in "fc"):
            with contextlib.suppress(TypeError, ValueError):
                target[...] = new
    elif torch is not None and isinstance(target, torch.Tensor) \
            and isinstance(new, torch.Tensor):
        if target.shape == new.shape and not torch.equal(target.detach(), new.to(target.dtype)):
            with torch.no_grad(), contextlib.suppress(RuntimeError):
                target.copy_(new)
    elif torch is not None and isinstance(target, torch.nn.Module) \
            and isinstance(new, StateDict):
        with contextlib.suppress(RuntimeError, TypeError):
            target.load_state_dict(new)
    elif isinstance(target, list) and isinstance(new, list):
        if len(target) != len(new):
            if not any(b is OPAQUE for b in new):
                target[:] = new
            return
        for i, (a, b) in enumerate(zip(target, new)):
            if isinstance(a, (list, dict, np.ndarray, tuple)) or \
                    (torch is not None and isinstance(a, (torch.Tensor, torch.nn.Module))):
                _write_back(a, b)
            elif b is not OPAQUE and (type(a) is not type(b) or a != b):
                target[i] = b
    elif isinstance(target, tuple) and isinstance(new, tuple) and len(target) == len(new):
        for a, b in zip(target, new):
            _write_back(a, b)
    elif isinstance(target, dict) and isinstance(new, dict):
        for key in list(target):
            if key not in new:
                del target[key]
        for key, b in new.items():
            if key in target and not isinstance(target[key], (str, int, float, bool)):
                _write_back(target[key], b)
            elif b is not OPAQUE:
                target[key] = b


class _NoIPython:
    """``get_ipython()`` for the grader's namespace: magics in setup cells do nothing."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Raise TimeoutError in the main thread after ``seconds`` (no-op elsewhere)."""
    import threading

    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise CellTimeLimitError(f"the test did not finish within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _python(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _raising_module(exc: BaseException) -> str | None:
    """The ``__name__`` of the module whose code raised ``exc`` (its innermost frame)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_globals.get("__name__") if tb is not None else None


def failure_message(exc: BaseException, test: GradedTest) -> tuple[str, bool]:
    """(message for the student, whether the failure is in the hidden part).

    Visible part: the exception and the failing line, as the student can read them in
    the notebook. Hidden part: never a line of the hidden code or of a traceback; only
    messages written for students: an assertion's message (``rnnlab.checks`` helpers,
    ``assert cond, "message"``; Python never puts source text in it), a ValueError or
    TypeError raised by the course library's input checks, the student's own function raising, a
    timeout, a value that could not be transferred. Anything else (a NameError in the
    hidden code, a bare ``assert``) shows only the exception's type.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    filename = f"<test {test.grade_id}>"
    in_test = [f for f in frames if f.filename == filename]
    line = in_test[-1].lineno if in_test else None
    # Hidden if any frame of the cell is in the hidden part (a visible helper called
    # from hidden code counts as hidden).
    hidden = test.hidden_line is not None and (
        not in_test or any(f.lineno is None or f.lineno >= test.hidden_line for f in in_test))
    text = str(exc).strip()
    if isinstance(exc, RemoteError):
        text = str(exc)
    elif not hidden:
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        if line and (not isinstance(exc, AssertionError) or not str(exc).strip()):
            source_line = test.source.splitlines()[line - 1].strip() if line else ""
            if source_line:
                text += f" (at line {line}: {source_line})"
    if len(text) > MESSAGE_LIMIT:
        text = text[:MESSAGE_LIMIT] + "..."
    if not hidden:
        return text, False
    in_course = is_course_library(_raising_module(exc))
    written_for_students = (
        isinstance(exc, (RemoteError, WorkerTimeoutError, WorkerDiedError, TransferError,
                         CellTimeLimitError))
        or (isinstance(exc, AssertionError) and str(exc).strip())  # an assert's own message
        or (in_course and isinstance(exc, (ValueError, TypeError))))  # the course's input checks
    if written_for_students:
        return f"hidden test failed: {text}", True
    return f"hidden test failed ({type(exc).__name__})", True


def run_tests(spec: Spec, worker: WorkerProcess, test_timeout: float) -> list[dict]:
    """Run the source's test cells against the worker's functions; one dict per test."""
    from IPython.display import display

    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins,
                                 "get_ipython": _NoIPython, "display": display}
    setup_error = None
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(_python(spec.setup), "<setup>", "exec"), namespace)
    except Exception as exc:
        setup_error = f"the instructor's setup cell failed: {type(exc).__name__}: {exc}"
    for name in spec.exercises:
        namespace[name] = Exercise(worker, name, spec.exercises)
    results = []
    for test in spec.tests:
        out = io.StringIO()
        start = time.monotonic()
        result = {"grade_id": test.grade_id, "max_points": test.points, "points": 0.0,
                  "passed": False, "hidden": test.hidden_line is not None, "message": "",
                  "output": ""}
        try:
            if setup_error:
                raise RuntimeError(setup_error)
            code = compile(_python(test.source), f"<test {test.grade_id}>", "exec")
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), \
                    _time_limit(test_timeout):
                exec(code, namespace)
            result.update(passed=True, points=test.points)
        except Exception as exc:
            result["message"], result["failed_in_hidden"] = failure_message(exc, test)
            # The test's own assertion, not the submission's exception: only its message
            # names a mistake (rnnlab.grader.class_report).
            result["asserted"] = isinstance(exc, AssertionError) \
                and not isinstance(exc, RemoteError)
        result["seconds"] = round(time.monotonic() - start, 3)
        result["output"] = out.getvalue()[-3000:]
        results.append(result)
    return results


# --------------------------------------------------------------------------- one notebook


def _copy_folder(src: Path, dst: Path, limit: int = 100 * 2**20) -> None:
    """Copy a submission folder (regular files only, up to ``limit`` bytes in all)."""
    total = 0
    for path in sorted(src.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        total += path.stat().st_size
        if total > limit:
            break
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def _run_cell(worker: WorkerProcess, label: str, source: str, limits: Limits) -> dict:
    """Run one of the submission's cells; what happened, as a record of the result."""
    record = {"cell": label, "error": None, "timed_out": False}
    try:
        timeout = limits.setup_timeout if label == "setup" else limits.cell_timeout
        error = worker.run_cell(source, max(timeout, limits.cell_timeout))
        if error:
            record["error"] = f"{error.get('type')}: {error.get('message')}"[:300]
    except WorkerTimeoutError as exc:
        record.update(timed_out=True, error=str(exc))
    except WorkerDiedError as exc:
        record["error"] = str(exc)
    return record


def grade_notebook(path: str | os.PathLike, source: str | os.PathLike | Spec,
                   limits: Limits | None = None, sandbox: bool = True,
                   forbidden: list[Path] = (), copy_folder: bool = True,
                   test_timeout: float | None = None, numba_cache: Path | None = None,
                   numba_cache_out: Path | None = None) -> dict:
    """Grade one notebook against the source's tests; never raises for a bad submission.

    Parameters
    ----------
    path : the submission.
    source : the instructor's notebook (``solutions/<unit>/<unit>.ipynb``) or its Spec;
        for ``rnnlab check`` the submission itself.
    limits : time and memory limits of the worker.
    sandbox : run the worker in bubblewrap when it is available.
    forbidden : folders the sandbox must never expose (course root, other submissions).
    copy_folder : give the worker a copy of the notebook's whole folder, not only the file.
    numba_cache : a warm Numba cache, copied to the worker's ``NUMBA_CACHE_DIR`` before it
        starts (each worker gets its own copy: nothing it writes reaches another).
    numba_cache_out : a folder that becomes the worker's own ``NUMBA_CACHE_DIR``, writable,
        so that what it compiles stays there (the class's warm-up run of the instructor's
        own notebook, never a student's).
    """
    limits = limits or Limits()
    path = Path(path)
    started = time.monotonic()
    result: dict[str, Any] = {"notebook": str(path), "status": "graded", "message": "",
                              "score": 0.0, "max_score": 0.0, "tests": [], "cells": [],
                              "events": [], "sandboxed": False}
    spec = source if isinstance(source, Spec) else spec_from_notebook(read_notebook(source))
    result["max_score"] = spec.max_score
    result["tests"] = [{"grade_id": t.grade_id, "max_points": t.points, "points": 0.0,
                        "passed": False, "hidden": t.hidden_line is not None,
                        "message": "not graded", "output": ""} for t in spec.tests]
    try:
        student = read_notebook(path)
    except BadNotebookError as exc:
        result.update(status="invalid", message=str(exc).replace(str(path), path.name))
        return result
    with scratch_folder() as scratch:
        if numba_cache is not None and numba_cache.is_dir():
            shutil.copytree(numba_cache, scratch / NUMBA_CACHE, dirs_exist_ok=True)
        worker = WorkerProcess(scratch, limits, sandbox=sandbox, forbidden=list(forbidden),
                               exercises=spec.exercises, numba_cache_out=numba_cache_out)
        result["sandboxed"] = worker.sandboxed
        result["seccomp"] = worker.seccomp
        try:
            if copy_folder:
                _copy_folder(path.parent, scratch)
            else:
                shutil.copyfile(path, scratch / path.name)
            for label, cell_source in worker_cells(student, spec):
                result["cells"].append(_run_cell(worker, label, cell_source, limits))
            result["tests"] = run_tests(spec, worker, test_timeout or 4 * limits.call_timeout)
        except Exception as exc:
            result.update(status="error", message=f"grading failed: {type(exc).__name__}: {exc}")
        finally:
            worker.close()
    result["events"] = worker.events
    result["score"] = float(sum(t["points"] for t in result["tests"]))
    result["seconds"] = round(time.monotonic() - started, 2)
    return result
