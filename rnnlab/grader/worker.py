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
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from typing import Any, BinaryIO

from rnnlab.grader.course import ANSWER_USED, is_course_library
from rnnlab.grader.protocol import TEXT_LIMIT, decode, encode, read_frame, write_frame

# --------------------------------------------------------------------------- worker


def _error(exc: BaseException, with_traceback: bool = False) -> dict:
    info = {"type": type(exc).__name__, "message": str(exc)[:TEXT_LIMIT]}
    if with_traceback:
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        info["traceback"] = "".join(lines[1:])[-TEXT_LIMIT:]  # skip the worker's own frame
    return info


class AnswerWatch:
    """A profile hook for the length of an exercise call: notes each call that the
    submission (its cells, or this worker calling a name the submission bound) makes to a
    function of the course library named like one of the unit's exercises, that is, to
    the course's own answer (:mod:`rnnlab.grader.course`). Calls among the course
    library's own functions do not count.
    """

    def __init__(self, exercises: list[str]) -> None:
        self.exercises, self.used = frozenset(exercises), []

    def __call__(self, frame: Any, event: str, arg: Any) -> None:
        if event != "call" or frame.f_code.co_name not in self.exercises:
            return
        module = frame.f_globals.get("__name__")
        if not is_course_library(module):
            return
        caller = frame.f_back.f_globals.get("__name__") if frame.f_back else None
        if is_course_library(caller):
            return
        name = f"{module}.{frame.f_code.co_name}"
        if name not in self.used:
            self.used.append(name)


class Worker:
    """Runs a submission's cells and serves calls of its functions; one per submission."""

    def __init__(self, proto_in: BinaryIO, proto_out: BinaryIO) -> None:
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False
        self.shell = InteractiveShell.instance(config=config)
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
        watch = AnswerWatch([str(n) for n in header.get("exercises", [])])
        sys.setprofile(watch)
        try:
            value = function(*args, **kwargs)
        except BaseException as exc:
            value, error = None, _error(exc, with_traceback=True)
        else:
            error = None
        finally:
            sys.setprofile(None)
        if watch.used:
            error = {"type": ANSWER_USED, "message": f"calls {', '.join(watch.used)}, the "
                     "course's own answer to an exercise: write the exercise yourself"}
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


def main() -> None:
    """Entry point inside the sandbox: keep the protocol away from the submission's prints."""
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
