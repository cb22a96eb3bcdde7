"""The worker: the process that runs one submission, inside the sandbox.

The grader (:mod:`rnnlab.grader.sandbox`) starts ``python -m rnnlab.grader.worker`` in a
bubblewrap sandbox and talks to it over its standard input and output
(:mod:`rnnlab.grader.protocol`):

* ``run``: execute one code cell of the submission (IPython syntax, magics allowed);
  the reply says whether it raised and what.
* ``call``: call an exercise function with arguments; the reply carries the return
  value and the arguments as they are after the call (so the grader sees in-place
  changes).
* ``interrupt`` (read by a separate thread): raise ``KeyboardInterrupt`` in the cell or
  call that is running.

Before any cell runs, :func:`hide_answers` arms the hiding of the course's own answers to
the unit's exercises; the first ``call`` hides them for the rest of the worker's life.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import shutil
import signal
import sys
import threading
import traceback
import types
from typing import BinaryIO

from rnnlab.grader.codec import TEXT_LIMIT, decode, encode
from rnnlab.grader.course import ANSWER_USED, answer_modules, catalogue_modules, is_catalogue
from rnnlab.grader.protocol import read_frame, write_frame

GRADING_STARTS = "rnnlab.grader.grading_starts"  # the audit event that hides the answers
CODE_ATTRIBUTES = frozenset({"__code__", "f_code", "gi_code", "cr_code", "ag_code"})

# --------------------------------------------------------------------------- worker


def _error(exc: BaseException, with_traceback: bool = False) -> dict:
    info = {"type": type(exc).__name__, "message": str(exc)[:TEXT_LIMIT]}
    if with_traceback:
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        info["traceback"] = "".join(lines[1:])[-TEXT_LIMIT:]  # skip the worker's own frame
    return info


class AnswerUsed(Exception):  # noqa: N818 (the error type the grader knows: ANSWER_USED)
    """A call of the course's own answer to an exercise while the exercise is graded."""

    def __init__(self, answer: str) -> None:
        super().__init__(f"calls {answer}, the course's own answer to an exercise, which is "
                         "not available while grading: write the exercise yourself")


AnswerUsed.__name__ = AnswerUsed.__qualname__ = ANSWER_USED


def _refusing_code(function: types.FunctionType) -> types.CodeType:
    """Code for ``function`` that raises :class:`AnswerUsed` naming it."""
    answer = f"{function.__module__}.{function.__qualname__}"
    free = function.__code__.co_freevars  # a closure's code must keep its free variables
    body = f"    def {function.__name__}(*args, **kwargs):\n"
    body += "".join(f"        {name}\n" for name in free)
    body += f"        raise __answer_used__({answer!r})\n"
    source = "def outer():\n" + "".join(f"    {name} = None\n" for name in free) + body
    module = compile(source, f"<{answer}: hidden while grading>", "exec")
    outer = next(c for c in module.co_consts if isinstance(c, types.CodeType))
    code = next(c for c in outer.co_consts if isinstance(c, types.CodeType))
    if code.co_freevars != free:
        raise ValueError(f"cannot hide {answer}: free variables {free} != {code.co_freevars}")
    return code


def hide_answers(exercises: list[str]) -> list[str]:
    """Arm the hiding of the course's answers to ``exercises``; returns the answers' names.

    The course library's modules that define a function named like an exercise are
    imported now and those functions noted, with every function of the named-mistake
    catalogues (:func:`rnnlab.grader.course.catalogue_modules`). Until grading starts
    they work as usual (a notebook's demo cells, the library calling its own functions).
    The audit event :data:`GRADING_STARTS` (the first exercise call) then replaces each
    one's code, in place, by code that raises :class:`AnswerUsed`: every reference to
    it, wherever it was bound (the module, ``rnnlab``'s re-exports, a cell, the
    library's own callers), now raises, from any thread, with or without profile and
    trace hooks.

    An audit hook, which cannot be removed, keeps the answers' code from being taken
    beforehand: reading it (a function's ``__code__``, a running frame's ``f_code``),
    gc's lists of objects, and running an answer's module again (``importlib.reload``)
    raise ``PermissionError``. Everything it needs lives in its closure, which nothing
    in the process can reach.
    """
    functions = {}
    for name in sorted(set(answer_modules(exercises)) | set(catalogue_modules())):
        try:
            module = importlib.import_module(name)
        except Exception:  # a module that cannot import here has no answer to hide
            continue
        for value in vars(module).values():
            if isinstance(value, types.FunctionType) and value.__module__ == name \
                    and (value.__name__ in exercises or is_catalogue(name)):
                functions[id(value)] = value
    codes = {id(f.__code__): f.__code__ for f in functions.values()}
    refusing = {key: _refusing_code(f) for key, f in functions.items()}  # before the hook
    files = {f.__code__.co_filename for f in functions.values()}
    guard = threading.local()

    def refuse(what: str) -> None:
        raise PermissionError(f"{what} is not allowed while grading")

    def audit(event: str, args: tuple) -> None:
        if getattr(guard, "busy", False):
            return
        if event == GRADING_STARTS:
            for key, function in functions.items():
                function.__globals__["__answer_used__"] = AnswerUsed
                function.__code__ = refusing[key]
        elif event in ("gc.get_objects", "gc.get_referrers", "gc.get_referents"):
            refuse(event)
        elif event == "exec" and getattr(args[0], "co_filename", None) in files:
            refuse("running a module that holds the course's answers again")
        elif event == "object.__getattr__" and args[1] in CODE_ATTRIBUTES:
            guard.busy = True
            try:
                code = getattr(args[0], args[1], None)
            finally:
                guard.busy = False
            if codes.get(id(code)) is code:
                refuse("reading the code of the course's own answer")

    sys.addaudithook(audit)
    return sorted(f"{f.__module__}.{f.__qualname__}" for f in functions.values())


class Worker:
    """Runs a submission's cells and serves calls of its functions; one per submission."""

    def __init__(self, proto_in: BinaryIO, proto_out: BinaryIO) -> None:
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False
        self.shell = InteractiveShell.instance(config=config)
        # Nobody reads the worker's tracebacks (a cell's error travels as type and
        # message); formatting them would read frames the answers' audit hook guards.
        self.shell.showtraceback = self.shell.showsyntaxerror = lambda *a, **k: None
        self.grading = False
        self.proto_in, self.proto_out = proto_in, proto_out
        self.requests: list = []
        self.ready = threading.Condition()
        self.closed = False

    def reader(self) -> None:
        """Read requests; an ``interrupt`` raises KeyboardInterrupt in the main thread."""
        while True:
            try:
                header, buffers = read_frame(self.proto_in, limit=2**40)
            except (EOFError, OSError, ValueError):
                header, buffers = {"op": "quit"}, []
            if header.get("op") == "interrupt":
                os.kill(os.getpid(), signal.SIGINT)
                continue
            with self.ready:
                self.requests.append((header, buffers))
                self.ready.notify()
            if header.get("op") == "quit":
                return

    def next_request(self) -> tuple[dict, list[bytes]]:
        with self.ready:
            while not self.requests:
                self.ready.wait()
            return self.requests.pop(0)

    def run_cell(self, source: str) -> dict:
        error = None
        try:
            result = self.shell.run_cell(source, store_history=False, silent=False)
            exc = result.error_before_exec or result.error_in_exec
            error = _error(exc) if exc is not None else None
        except BaseException as exc:
            error = _error(exc)
        try:
            plt = sys.modules.get("matplotlib.pyplot")
            if plt is not None:
                plt.close("all")
        except Exception:
            pass
        return {"op": "ran", "ok": error is None, "error": error}

    def call(self, header: dict, buffers: list[bytes]) -> tuple[dict, list[bytes]]:
        name = str(header.get("name"))
        function = self.shell.user_ns.get(name)
        if not callable(function):
            return {"op": "result", "ok": False,
                    "error": {"type": "NameError", "message": f"{name} is not defined in the "
                              "notebook (did its cell run without error?)"}}, []
        args, kwargs = decode(header["args"], buffers, allow_pickle=True)
        if not self.grading:
            self.grading = True
            sys.audit(GRADING_STARTS)
        try:
            value = function(*args, **kwargs)
        except BaseException as exc:
            value, error = None, _error(exc, with_traceback=True)
        else:
            error = None
        if error is not None:
            return {"op": "result", "ok": False, "error": error}, []
        try:
            tree, out = encode(value)
            after, more = encode({"args": list(args), "kwargs": kwargs}, lenient=True)
        except Exception as exc:
            return {"op": "result", "ok": False, "transfer": True,
                    "error": {"type": "TransferError", "message": f"{name}: {exc}"}}, []
        return {"op": "result", "ok": True, "value": tree, "after": after,
                "split": len(out)}, out + more

    def serve(self) -> None:
        threading.Thread(target=self.reader, daemon=True).start()
        write_frame(self.proto_out, {"op": "ready"})
        while True:
            header, buffers = self.next_request()
            op = header.get("op")
            try:
                if op == "quit":
                    return
                if op == "run":
                    reply, out = self.run_cell(str(header.get("source", ""))), []
                elif op == "call":
                    reply, out = self.call(header, buffers)
                else:
                    reply, out = {"op": "error", "error": {"type": "ValueError",
                                                           "message": f"unknown op {op}"}}, []
            except KeyboardInterrupt as exc:
                reply, out = {"op": "result" if op == "call" else "ran", "ok": False,
                              "error": _error(exc)}, []
            reply["seq"] = header.get("seq")
            write_frame(self.proto_out, reply, out)


def _copy_submission(source: str) -> None:
    """Copy the student's folder (read-only at ``source``) into the working directory."""
    for sub in (".tmp", ".config", ".cache", ".ipython"):
        os.makedirs(sub, exist_ok=True)
    if source and os.path.isdir(source):
        shutil.copytree(source, ".", symlinks=True, dirs_exist_ok=True)


def main() -> None:
    """Entry point inside the sandbox: keep the protocol away from the submission's prints.

    ``sys.argv[1]`` holds the settings (JSON): ``exercises`` (the unit's), and in the
    sandbox ``copy_from`` (the student's folder) and ``processes`` (a cap on processes
    and threads, counted by the kernel in the sandbox's own user namespace).
    """
    settings = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    if settings.get("processes"):
        cap = int(settings["processes"])
        resource.setrlimit(resource.RLIMIT_NPROC, (cap, cap))
    _copy_submission(settings.get("copy_from", ""))
    hide_answers([str(n) for n in settings.get("exercises", [])])
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    log = os.open("worker.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    sys.stdin = open(os.devnull)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.path.append(os.getcwd())  # a student's own modules next to the notebook, as in Jupyter
    Worker(proto_in, proto_out).serve()
    os._exit(0)


if __name__ == "__main__":
    main()
