"""The wire between the grader and a submission's worker: framed messages of plain data.

A message is a frame: the magic ``RNL1``, the length of a JSON header (8 bytes, big
endian), the header, then raw ``.npy`` buffers whose sizes the header lists
(:func:`write_frame`, :func:`read_frame`). Values travel as a JSON tree plus buffers
(:func:`encode`, :func:`decode`).

What the worker sends is decoded with ``allow_pickle=False`` into numbers, strings,
arrays, tensors and containers of those: nothing a submission sends can run code in the
grader. Only the grader's own messages to the worker may carry a pickle (a torch module
passed as an argument), which the worker, never the grader, unpickles.
"""

from __future__ import annotations

import importlib
import io
import json
import struct
import sys
from typing import Any, BinaryIO

import numpy as np

from rnnlab.grader.course import COURSE_LIBRARY

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
    if module == COURSE_LIBRARY or module.startswith(COURSE_LIBRARY + "."):
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

