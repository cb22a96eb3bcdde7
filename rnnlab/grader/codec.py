"""Values as plain data: what crosses between the grader and a submission's worker.

A value travels as a JSON tree plus raw ``.npy`` buffers (:func:`encode`,
:func:`decode`). What the worker sends is decoded with ``allow_pickle=False`` into
numbers, strings, arrays, tensors and containers of those: nothing a submission sends can
run code in the grader. Decoding is bounded: the arrays a reply decodes to are capped in
bytes (``MAX_DECODED``) and never converted to a larger type, containers in depth
(``MAX_DEPTH``), and every string is made valid UTF-8 (:func:`clean_text`). Only the
grader's own messages to the worker may carry a pickle (a torch module passed as an
argument), which the worker, never the grader, unpickles.
"""

from __future__ import annotations

import importlib
import io
import re
import sys
from typing import Any

import numpy as np

from rnnlab.grader.course import COURSE_LIBRARY

MAX_DECODED = 256 * 2**20  # bytes of the arrays one decoded value may hold
MAX_DEPTH = 40  # containers inside containers in a value
TEXT_LIMIT = 2000  # characters of an error message or traceback from the worker
SURROGATE = re.compile("[\ud800-\udfff]")  # not valid UTF-8 on its own


class TransferError(TypeError):
    """A value that is not plain data (numbers, strings, arrays, tensors, containers)."""


def clean_text(text: object, limit: int | None = None) -> str:
    """``text`` as valid UTF-8 (lone surrogates become U+FFFD), cut to ``limit`` characters."""
    text = SURROGATE.sub("\ufffd", str(text))
    return text if limit is None or len(text) <= limit else text[:limit] + "..."


def clean_tree(tree: Any, depth: int = 0) -> Any:
    """A parsed JSON header with every string (keys too) made valid UTF-8."""
    if depth > 4 * MAX_DEPTH:
        raise TransferError("message nested too deeply")
    if isinstance(tree, str):
        return clean_text(tree)
    if isinstance(tree, list):
        return [clean_tree(i, depth + 1) for i in tree]
    if isinstance(tree, dict):
        return {clean_text(k): clean_tree(v, depth + 1) for k, v in tree.items()}
    return tree


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


def decode(tree: Any, buffers: list[bytes], allow_pickle: bool = False,
           limit: int = MAX_DECODED) -> Any:
    """Rebuild a value from :func:`encode`'s output.

    With ``allow_pickle=False`` (the grader reading a worker) nothing but plain data is
    built: arrays are read with ``np.load(allow_pickle=False)``, at most ``limit`` bytes
    of them in all, and a tensor keeps the type of its data (never widened).
    """
    left = [limit]

    def array(index: Any) -> np.ndarray:
        if not isinstance(index, int) or not 0 <= index < len(buffers):
            raise TransferError("bad buffer reference")
        a = np.load(io.BytesIO(buffers[index]), allow_pickle=False)
        left[0] -= a.nbytes
        if left[0] < 0:
            raise TransferError(f"a value of more than {limit // 2**20} MB cannot be graded")
        if a.dtype.kind == "V":
            raise TransferError("a structured array cannot be graded")
        if a.dtype.kind == "U" and a.dtype.itemsize:  # text: valid code points only
            codes = np.ascontiguousarray(a).reshape(-1).view(np.uint32)
            bad = ((codes >= 0xD800) & (codes <= 0xDFFF)) | (codes > 0x10FFFF)
            if bad.any():
                codes = codes.copy()
                codes[bad] = 0xFFFD
                a = codes.view(a.dtype).reshape(a.shape)
        return a

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
            # encode sends a tensor's own data, bfloat16 as float32: nothing else is
            # converted, so a forged type cannot make a small buffer large.
            if dtype == torch.bfloat16 and t.dtype == torch.float32:
                t = t.to(dtype)
            elif isinstance(dtype, torch.dtype) and dtype != t.dtype:
                raise TransferError(f"a tensor said to be {dtype} holds {t.dtype} data")
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
