"""The wire between the grader and a submission's worker: framed messages.

A message is a frame: the magic ``RNL1``, the length of a JSON header (8 bytes, big
endian), the header, then raw ``.npy`` buffers whose sizes the header lists
(:func:`write_frame`, :func:`read_frame`); the values in it are :mod:`rnnlab.grader.codec`'s.
The grader's end of the pipes is a :class:`Channel`: every write and every read has a
deadline, so a worker that stops reading or writing cannot block the grader. The header
(``MAX_HEADER``) and the whole reply (``MAX_REPLY``) are capped separately, the header's
length checked before it is read. An error the student's code raised comes back as a
:class:`RemoteError`.
"""

from __future__ import annotations

import builtins
import json
import os
import select
import struct
import time
from typing import BinaryIO

from rnnlab.grader.codec import TransferError, clean_tree
from rnnlab.grader.course import ANSWER_USED

MAGIC = b"RNL1"
MAX_HEADER = 4 * 2**20  # bytes of a reply's JSON header
MAX_REPLY = 256 * 2**20  # bytes of a whole reply: header and buffers


def frame(header: dict, buffers: list[bytes] = ()) -> bytes:
    """One message as bytes: magic, header length, JSON header, then the buffers."""
    header = {**header, "buffers": [len(b) for b in buffers]}
    data = json.dumps(header).encode()
    return b"".join([MAGIC, struct.pack(">Q", len(data)), data, *buffers])


def write_frame(stream: BinaryIO, header: dict, buffers: list[bytes] = ()) -> None:
    """Write one message (:func:`frame`) to a blocking stream (the worker's side)."""
    stream.write(frame(header, buffers))
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


def parse_header(data: bytes, size: int, limit: int) -> tuple[dict, list[int]]:
    """The header of a message and its buffers' sizes, refused if more than ``limit`` bytes."""
    try:
        header = json.loads(data)
    except RecursionError:
        raise TransferError("message nested too deeply") from None
    except ValueError as exc:  # not JSON, not UTF-8, an integer of too many digits
        raise TransferError(f"garbled message ({exc.__class__.__name__})") from None
    sizes = header.get("buffers", []) if isinstance(header, dict) else None
    if not isinstance(sizes, list) or not all(isinstance(s, int) and s >= 0 for s in sizes):
        raise TransferError("garbled message")
    if 12 + size + sum(sizes) > limit:
        raise TransferError(f"message of {12 + size + sum(sizes)} bytes is too large "
                            f"(at most {limit})")
    return clean_tree(header), sizes


def read_frame(stream: BinaryIO, limit: int = MAX_REPLY,
               header_limit: int = MAX_HEADER) -> tuple[dict, list[bytes]]:
    """Read one message written by :func:`write_frame` from a blocking stream."""
    head = _read_exact(stream, 12)
    if head[:4] != MAGIC:
        raise TransferError("garbled message")
    (size,) = struct.unpack(">Q", head[4:])
    if size > min(header_limit, limit):
        raise TransferError(f"message header of {size} bytes is too large")
    header, sizes = parse_header(_read_exact(stream, size), size, limit)
    return header, [_read_exact(stream, s) for s in sizes]


class Channel:
    """The grader's end of the pipes to a worker: each read and write has a deadline.

    ``send`` and ``receive`` take a deadline (``time.monotonic()`` seconds) and raise
    ``TimeoutError`` when it passes, ``EOFError`` when the worker has gone and
    :class:`TransferError` for a reply too large or garbled; bytes of a reply that came
    before a deadline passed are kept for the next ``receive``.
    """

    def __init__(self, to_worker: int, from_worker: int) -> None:
        self.to_worker, self.from_worker = to_worker, from_worker
        os.set_blocking(to_worker, False)
        os.set_blocking(from_worker, False)
        self.inbox = bytearray()
        self.pending: tuple[dict, list[int], int] | None = None  # a header already read

    @staticmethod
    def _wait(fd: int, event: int, deadline: float, what: str) -> None:
        left = deadline - time.monotonic()
        poll = select.poll()
        poll.register(fd, event)
        if left <= 0 or not poll.poll(left * 1000):
            raise TimeoutError(f"the worker did not {what} in time")

    def send(self, header: dict, buffers: list[bytes] = (), deadline: float = 0.0) -> None:
        data = memoryview(frame(header, buffers))
        while data:
            self._wait(self.to_worker, select.POLLOUT, deadline, "read its input")
            try:
                data = data[os.write(self.to_worker, data[:1 << 16]):]
            except BlockingIOError:
                continue
            except BrokenPipeError:
                raise EOFError("the worker has gone") from None

    def _take(self) -> tuple[dict, list[bytes]] | None:
        """A whole message from the bytes received so far, or None."""
        if self.pending is None:
            if len(self.inbox) < 12:
                return None
            if self.inbox[:4] != MAGIC:
                raise TransferError("garbled message")
            (size,) = struct.unpack(">Q", self.inbox[4:12])
            if size > MAX_HEADER:
                raise TransferError(f"message header of {size} bytes is too large "
                                    f"(at most {MAX_HEADER})")
            if len(self.inbox) < 12 + size:
                return None
            header, sizes = parse_header(bytes(self.inbox[12:12 + size]), size, MAX_REPLY)
            del self.inbox[:12 + size]
            self.pending = header, sizes, sum(sizes)
        header, sizes, total = self.pending
        if len(self.inbox) < total:
            return None
        buffers, at = [], 0
        with memoryview(self.inbox) as view:  # one copy of each buffer, no more
            for n in sizes:
                buffers.append(bytes(view[at:at + n]))
                at += n
        del self.inbox[:total]
        self.pending = None
        return header, buffers

    def receive(self, deadline: float) -> tuple[dict, list[bytes]]:
        while True:
            message = self._take()
            if message is not None:
                return message
            self._wait(self.from_worker, select.POLLIN, deadline, "reply")
            try:
                chunk = os.read(self.from_worker, 1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                raise EOFError("the worker has gone")
            self.inbox += chunk


class RemoteError(Exception):
    """An exception raised by the student's function inside the worker.

    :func:`remote_error` makes it also an instance of the builtin exception the student's
    code raised (``ValueError``...), so a test's ``except ValueError`` still works.
    """

    name = kind = message = remote_traceback = ""


_REMOTE_CLASSES: dict[str, type] = {}


def remote_error(name: str, kind: str, message: str, traceback: str = "") -> RemoteError:
    """The exception to raise in the grader for one raised by exercise ``name``."""
    text = f"your {name} raised {kind}: {message}" if message else f"your {name} raised {kind}"
    if kind == ANSWER_USED:
        text = f"your {name} {message}"
    base = getattr(builtins, kind, None)
    cls = RemoteError
    if isinstance(base, type) and issubclass(base, Exception) and base is not Exception:
        if kind not in _REMOTE_CLASSES:
            try:
                _REMOTE_CLASSES[kind] = type(f"Remote{kind}", (RemoteError, base), {})
            except TypeError:
                _REMOTE_CLASSES[kind] = RemoteError
        cls = _REMOTE_CLASSES[kind]
    try:
        exc = cls(text)
    except TypeError:
        exc = RemoteError(text)
    exc.name, exc.kind, exc.message, exc.remote_traceback = name, kind, message, traceback
    return exc
