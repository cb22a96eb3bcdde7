"""Real text that every Python install has: the standard library's own source code.

Unit 03 trains a character-level language model on it. The files are read from the
running interpreter's standard-library folder (the folder of ``os.py``), in a fixed
order, so every machine with the same Python version gets the same text. Nothing is
downloaded; a module missing from a trimmed install is skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

#: Pure-Python standard-library modules, read in this order. They exist in CPython
#: 3.10 to 3.13 and are plain, well-commented code.
STDLIB_MODULES = ("textwrap", "heapq", "bisect", "fnmatch", "shlex", "glob", "queue",
                  "sched", "colorsys", "graphlib", "calendar", "string", "copy", "abc")


def stdlib_dir() -> Path:
    """The folder of the running interpreter's standard library (where ``os.py`` lives)."""
    return Path(os.__file__).resolve().parent


def stdlib_source(modules: Sequence[str] = STDLIB_MODULES, max_chars: int | None = None,
                  folder: Path | None = None) -> str:
    """The source of some standard-library modules, concatenated in the given order.

    Parameters
    ----------
    modules : module names; ``name`` is read from ``<folder>/<name>.py``. Missing
        files are skipped.
    max_chars : keep at most this many characters (all of them if ``None``).
    folder : where to look; :func:`stdlib_dir` by default.

    Returns
    -------
    str
        The files' text, each followed by a blank line, with tabs expanded to four
        spaces and any non-ASCII character replaced by ``?`` (so the alphabet is small).

    Raises
    ------
    FileNotFoundError
        If none of the modules is found.
    """
    if isinstance(modules, str):
        raise TypeError("modules must be a sequence of module names, not one string")
    if max_chars is not None and (not isinstance(max_chars, int) or max_chars < 1):
        raise ValueError(f"max_chars must be a positive integer or None; got {max_chars!r}")
    folder = stdlib_dir() if folder is None else Path(folder)
    parts = []
    for name in modules:
        path = folder / f"{name}.py"
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace").expandtabs(4)
            parts.append(text.encode("ascii", errors="replace").decode("ascii") + "\n\n")
    if not parts:
        raise FileNotFoundError(f"none of {list(modules)} found in {folder}")
    text = "".join(parts)
    return text if max_chars is None else text[:max_chars]


class CharVocab:
    """The characters of a text, each given an integer id (in sorted order).

    >>> vocab = CharVocab("hello")
    >>> vocab.chars, vocab.encode("hole").tolist(), vocab.decode([3, 1])
    ('ehlo', [1, 3, 2, 0], 'oh')
    """

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text:
            raise ValueError("text must be a non-empty string")
        self.chars = "".join(sorted(set(text)))
        self._index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} characters)"

    def encode(self, text: str) -> np.ndarray:
        """``(len(text),)`` int64 ids; a character outside the vocabulary raises ValueError."""
        missing = set(text) - self._index.keys()
        if missing:
            raise ValueError(f"characters not in the vocabulary: {sorted(missing)!r}")
        return np.array([self._index[c] for c in text], dtype=np.int64)

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        """The text of a sequence of ids."""
        ids = np.asarray(ids).ravel()
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids must lie in [0, {len(self)}); got [{ids.min()}, {ids.max()}]")
        return "".join(self.chars[int(i)] for i in ids)


class Chunk(NamedTuple):
    """One training chunk: ``inputs[t]`` is followed in the text by ``targets[t]``."""

    inputs: np.ndarray
    targets: np.ndarray
    start: int


def chunks(ids: np.ndarray, seq_len: int, start: int = 0,
           repeat: bool = False) -> Iterator[Chunk]:
    """Consecutive ``(inputs, targets)`` chunks of a text, for truncated BPTT.

    Chunk ``i`` covers ``ids[start + i*seq_len : start + (i+1)*seq_len]`` and the targets
    are the same positions shifted by one. Because the chunks follow each other, the
    hidden state at the end of one chunk is the right initial state of the next: carry
    it across, and restart from zero when the iterator starts again.

    Parameters
    ----------
    ids : (L,) integer ids of the text.
    seq_len : time steps per chunk, ``T``.
    start : where the first chunk begins.
    repeat : if True, start again from ``start`` after the last whole chunk, for ever
        (a chunk whose ``start`` equals the argument marks a new pass: reset the state).

    Yields
    ------
    Chunk
        ``inputs (T,)``, ``targets (T,)`` int arrays and the position ``start`` of the chunk.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise TypeError(f"ids must be a 1-D integer array; got {ids.dtype} of shape {ids.shape}")
    if not isinstance(seq_len, int) or seq_len < 1:
        raise ValueError(f"seq_len must be a positive integer; got {seq_len!r}")
    if start < 0 or start + seq_len + 1 > len(ids):
        raise ValueError(f"no chunk of {seq_len} steps fits in {len(ids)} ids from {start}")
    while True:
        position = start
        while position + seq_len + 1 <= len(ids):
            yield Chunk(ids[position:position + seq_len],
                        ids[position + 1:position + seq_len + 1], position)
            position += seq_len
        if not repeat:
            return
