"""The student side of the hardened autograder: a worker that runs one submission.

The grader (:mod:`rnnlab.autograde`) starts ``python -m rnnlab.worker`` in a sandbox
(:mod:`rnnlab.sandbox`) and talks to it over its standard input and output:

* ``run``: execute one code cell of the submission (IPython syntax, magics allowed);
  the reply says whether it raised and what.
* ``call``: call an exercise function with arguments; the reply carries the return
  value and the arguments as they are after the call (so the grader sees in-place
  changes).
* ``interrupt`` (read by a separate thread): raise ``KeyboardInterrupt`` in the cell or
  call that is running.

Messages are frames of JSON plus raw ``.npy`` buffers (:func:`encode` / :func:`decode`).
What the worker sends is decoded with ``allow_pickle=False`` into numbers, strings,
arrays, tensors and containers of those: nothing a submission sends can run code in
the grader. Only the grader's own messages to the worker may carry a pickle (a torch
module passed as an argument), which the worker, never the grader, unpickles.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import signal
import struct
import sys
import threading
import traceback
from typing import Any, BinaryIO

import numpy as np

MAGIC = b"RNL1"
MAX_FRAME = 512 * 2**20  # bytes a worker may send in one reply
MAX_DEPTH = 40
TEXT_LIMIT = 2000


class TransferError(TypeError):
    """A value that is not plain data (numbers, strings, arrays, tensors, containers)."""


# --------------------------------------------------------------------------- codec


class Opaque:
    """Stands for an argument the worker could not send back (it is not copied back)."""

    def __repr__(self) -> str:
        return "<opaque>"


OPAQUE = Opaque()


def encode(value: Any, allow_pickle: bool = False, lenient: bool = False,
           ) -> tuple[Any, list[bytes]]:
    """Turn ``value`` into a JSON-able structure and a list of binary buffers.

    ``allow_pickle`` (the grader's direction only) pickles what is not plain data, for
    example a vocabulary object or a torch module. ``lenient`` replaces what cannot be
    sent by an opaque marker instead of failing (arguments sent back after a call).
    """
    buffers: list[bytes] = []

    def array(a: np.ndarray) -> int:
        if a.dtype.hasobject:
            raise TransferError("an array of Python objects (dtype=object) cannot be graded")
        out = io.BytesIO()
        np.save(out, a, allow_pickle=False)
        buffers.append(out.getvalue())
        return len(buffers) - 1

    def go(v: Any, depth: int) -> Any:
        if not lenient:
            return strict(v, depth)
        try:
            return strict(v, depth)
        except TransferError:
            return {"__opaque__": True}

    def strict(v: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise TransferError("value nested too deeply")
        if v is None:
            return None
        if isinstance(v, bool):
            return bool(v)
        if isinstance(v, str):
            return str(v)
        if isinstance(v, int):
            return int(v)
        if isinstance(v, float):
            return {"__float__": repr(float(v))}
        if isinstance(v, complex):
            return {"__np__": array(np.asarray(v)), "scalar": True}
        if isinstance(v, np.ndarray):
            return {"__np__": array(np.asarray(v))}
        if isinstance(v, np.generic):
            return {"__np__": array(np.asarray(v)), "scalar": True}
        torch = sys.modules.get("torch")
        if torch is not None:
            if isinstance(v, torch.Tensor):
                t = v.detach().cpu()
                dtype = str(t.dtype).removeprefix("torch.")
                if t.dtype == torch.bfloat16:
                    t = t.float()
                return {"__tensor__": array(t.resolve_conj().resolve_neg().numpy()),
                        "dtype": dtype, "requires_grad": bool(v.requires_grad)}
            if isinstance(v, torch.Size):
                return {"__tuple__": [int(i) for i in v]}
            if isinstance(v, torch.dtype):
                return {"__torch_dtype__": str(v).removeprefix("torch.")}
            if isinstance(v, torch.nn.Module):
                if allow_pickle:
                    out = io.BytesIO()
                    torch.save(v, out)
                    buffers.append(out.getvalue())
                    return {"__pickle_module__": len(buffers) - 1}
                return {"__state_dict__": go(dict(v.state_dict()), depth + 1)}
        if isinstance(v, tuple) and hasattr(v, "_fields"):
            cls = type(v)
            return {"__namedtuple__": f"{cls.__module__}:{cls.__qualname__}",
                    "items": [go(i, depth + 1) for i in v]}
        if isinstance(v, tuple):
            return {"__tuple__": [go(i, depth + 1) for i in v]}
        if isinstance(v, list):
            return [go(i, depth + 1) for i in v]
        if isinstance(v, dict):
            items = []
            for k, i in v.items():
                if not isinstance(k, (str, int)) or isinstance(k, bool):
                    raise TransferError(f"dictionary key {type(k).__name__} is not a str or int")
                items.append([k if isinstance(k, str) else int(k), go(i, depth + 1)])
            return {"__dict__": items}
        if allow_pickle:
            import pickle

            try:
                buffers.append(pickle.dumps(v))
            except Exception as exc:
                raise TransferError(f"a {type(v).__name__} cannot be sent to the notebook: "
                                    f"{exc}") from None
            return {"__pickle__": len(buffers) - 1}
        raise TransferError(f"a {type(v).__name__} cannot be graded: return numbers, strings, "
                            "numpy arrays, torch tensors, or lists/tuples/dicts of those")

    return go(value, 0), buffers


def decode(tree: Any, buffers: list[bytes], allow_pickle: bool = False) -> Any:
    """Rebuild a value from :func:`encode`'s output.

    With ``allow_pickle=False`` (the grader reading a worker) nothing but plain data is
    built: arrays are read with ``np.load(allow_pickle=False)``.
    """

    def array(index: Any) -> np.ndarray:
        if not isinstance(index, int) or not 0 <= index < len(buffers):
            raise TransferError("bad buffer reference")
        return np.load(io.BytesIO(buffers[index]), allow_pickle=False)

    def go(v: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise TransferError("value nested too deeply")
        if v is None or isinstance(v, (bool, int, str)):
            return v
        if isinstance(v, list):
            return [go(i, depth + 1) for i in v]
        if not isinstance(v, dict) or len(v) == 0:
            raise TransferError(f"unexpected {type(v).__name__} in a message")
        if "__opaque__" in v:
            return OPAQUE
        if "__float__" in v:
            return float(v["__float__"])
        if "__np__" in v:
            a = array(v["__np__"])
            return a[()] if v.get("scalar") else a
        if "__tensor__" in v:
            import torch

            dtype = getattr(torch, str(v.get("dtype")), None)
            t = torch.from_numpy(array(v["__tensor__"]).copy())
            if isinstance(dtype, torch.dtype):
                t = t.to(dtype)
            return t.requires_grad_() if v.get("requires_grad") and t.is_floating_point() else t
        if "__torch_dtype__" in v:
            import torch

            dtype = getattr(torch, str(v["__torch_dtype__"]), None)
            if not isinstance(dtype, torch.dtype):
                raise TransferError("bad torch dtype")
            return dtype
        if "__tuple__" in v:
            return tuple(go(i, depth + 1) for i in v["__tuple__"])
        if "__dict__" in v:
            return {k: go(i, depth + 1) for k, i in v["__dict__"]
                    if isinstance(k, (str, int))}
        if "__state_dict__" in v:
            return StateDict(go(v["__state_dict__"], depth + 1))
        if "__namedtuple__" in v:
            items = [go(i, depth + 1) for i in v["items"]]
            return _namedtuple(str(v["__namedtuple__"]), items)
        if allow_pickle and "__pickle_module__" in v:
            import torch

            return torch.load(io.BytesIO(buffers[v["__pickle_module__"]]), weights_only=False)
        if allow_pickle and "__pickle__" in v:
            import pickle

            return pickle.loads(buffers[v["__pickle__"]])
        raise TransferError(f"unexpected field {sorted(v)[0]!r} in a message")

    return go(tree, 0)


class StateDict(dict):
    """The tensors of a torch module as the worker left them (a module argument)."""


def _namedtuple(path: str, items: list) -> tuple:
    """Rebuild a named tuple of rnnlab's own (anything else becomes a plain tuple)."""
    module, _, name = path.partition(":")
    if module == "rnnlab" or module.startswith("rnnlab."):
        try:
            cls = getattr(importlib.import_module(module), name)
            if isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields"):
                return cls(*items)
        except (ImportError, AttributeError, TypeError):
            pass
    return tuple(items)


def write_frame(stream: BinaryIO, header: dict, buffers: list[bytes] = ()) -> None:
    """Write one message: magic, header length, JSON header, then the buffers."""
    header = {**header, "buffers": [len(b) for b in buffers]}
    data = json.dumps(header).encode()
    stream.write(MAGIC + struct.pack(">Q", len(data)) + data)
    for b in buffers:
        stream.write(b)
    stream.flush()


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO, limit: int = MAX_FRAME) -> tuple[dict, list[bytes]]:
    """Read one message written by :func:`write_frame`, refusing more than ``limit`` bytes."""
    head = _read_exact(stream, 12)
    if head[:4] != MAGIC:
        raise TransferError("garbled message")
    (size,) = struct.unpack(">Q", head[4:])
    if size > limit:
        raise TransferError(f"message of {size} bytes is too large")
    header = json.loads(_read_exact(stream, size))
    sizes = header.get("buffers", []) if isinstance(header, dict) else None
    if not isinstance(sizes, list) or not all(isinstance(s, int) and s >= 0 for s in sizes):
        raise TransferError("garbled message")
    if sum(sizes) + size > limit:
        raise TransferError("message too large")
    return header, [_read_exact(stream, s) for s in sizes]


# --------------------------------------------------------------------------- worker


def _error(exc: BaseException, with_traceback: bool = False) -> dict:
    info = {"type": type(exc).__name__, "message": str(exc)[:TEXT_LIMIT]}
    if with_traceback:
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        info["traceback"] = "".join(lines[1:])[-TEXT_LIMIT:]  # skip the worker's own frame
    return info


PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
ANSWER_USED = "AnswerUsed"  # the error type of a call that used rnnlab's own answer


class AnswerWatch:
    """A profile hook for the length of an exercise call: notes each call that the
    submission (its cells, or this worker calling a name the submission bound) makes to a
    function of rnnlab's named like one of the unit's exercises, that is, to the course's
    own answer. Calls among rnnlab's own functions do not count.
    """

    def __init__(self, exercises: list[str]) -> None:
        self.exercises, self.used = frozenset(exercises), []

    def __call__(self, frame: Any, event: str, arg: Any) -> None:
        code = frame.f_code
        if event != "call" or code.co_name not in self.exercises \
                or not code.co_filename.startswith(PACKAGE):
            return
        caller = frame.f_back.f_code.co_filename if frame.f_back else ""
        if caller.startswith(PACKAGE) and caller != __file__:
            return
        name = f"{frame.f_globals.get('__name__', 'rnnlab')}.{code.co_name}"
        if name not in self.used:
            self.used.append(name)


class Worker:
    """Runs cells and serves calls; one per submission."""

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
