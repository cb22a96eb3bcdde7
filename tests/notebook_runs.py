"""Each notebook executed once per test run, the way nbgrader's Validator executes it.

nbgrader's ``Validator.validate`` does two things: it executes the notebook (its
preprocessors CheckCellMetadata, ClearOutput and Execute, in the notebook's folder, with
``NBGRADER_EXECUTION=validate`` and the course's ``nbgrader_config.py``: kernel
``python3``, the cell timeout), then it reads the outputs. :class:`Runs` does the first
half once per notebook, two notebooks at a time in fresh processes, and keeps the result
in pytest's cache folder, keyed on the notebook's bytes, every file of ``rnnlab/``,
``nbgrader_config.py`` and the environment (Python, every installed package's version,
the ``RNNLAB_*`` variables). :class:`ExecutedValidator` is nbgrader's own Validator doing
the second half on the executed copy. ``pytest --cache-clear`` executes everything again.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.metadata
import multiprocessing
import os
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbgrader import utils
from nbgrader.validator import Validator
from traitlets.config.loader import PyFileConfigLoader

ROOT = Path(__file__).resolve().parents[1]
COUNT = {"executed": 0, "cached": 0}  # this test run's notebooks; conftest reports them


def course_config():
    return PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()


class ExecutedValidator(Validator):
    """nbgrader's Validator, reading an executed copy instead of executing the notebook.

    ``Validator.validate`` reads the file (and checks cell types), calls ``_preprocess``
    to execute it, then checks checksums and grades with ``nbgrader.utils``; only the
    execution is replaced.
    """

    def __init__(self, executed: nbformat.NotebookNode, **kwargs):
        super().__init__(**kwargs)
        self.executed = executed

    def _preprocess(self, nb):
        return copy.deepcopy(self.executed)


def execute(path: str) -> str:
    """The notebook at ``path`` as nbgrader's Validator executes it, as JSON text.

    Runs in a fresh process: nbgrader sets environment variables and changes folder for
    the whole process while it executes.
    """
    validator = Validator(config=course_config())
    with utils.chdir(os.path.dirname(path)):
        nb = nbformat.read(os.path.basename(path), as_version=4)
        return nbformat.writes(validator._preprocess(nb))


def environment() -> bytes:
    """Python, every installed package's version and the RNNLAB_* variables."""
    packages = sorted(f"{d.metadata['Name']}=={d.version}"
                      for d in importlib.metadata.distributions())
    variables = sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith("RNNLAB_"))
    return "\n".join([sys.version, *packages, *variables]).encode()


def library() -> bytes:
    """Every file of rnnlab/ and nbgrader_config.py, with its name."""
    files = sorted(p for p in (ROOT / "rnnlab").rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts)
    files.append(ROOT / "nbgrader_config.py")
    return b"".join(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes() for p in files)


def timed_out(text: str) -> bool:
    nb = nbformat.reads(text, as_version=4)
    return any(o.get("ename") == "CellTimeoutError" for c in nb.cells for o in c.get("outputs", []))


class Runs:
    """Executed copies of notebooks, each executed at most once and cached under ``folder``."""

    def __init__(self, folder: Path, workers: int = 2):
        self.folder = folder
        self.common = hashlib.sha256(library() + environment()).hexdigest()
        self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        self.futures: dict[Path, Future] = {}

    def start(self, paths: list[Path]) -> None:
        """Start executing ``paths`` (in that order, two at a time) unless cached."""
        for path in paths:
            self._future(Path(path))

    def get(self, path: Path) -> nbformat.NotebookNode:
        """The executed copy of ``path`` (waits for its execution)."""
        return nbformat.reads(self._future(Path(path)).result(), as_version=4)

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)

    def _future(self, path: Path) -> Future:
        if path not in self.futures:
            key = hashlib.sha256(self.common.encode() + path.read_bytes()).hexdigest()[:16]
            name = f"{path.parent.parent.name}-{path.stem}"  # solutions-02_rnn_forward
            cached = self.folder / f"{name}-{key}.ipynb"
            if cached.is_file():
                COUNT["cached"] += 1
                future = Future()
                future.set_result(cached.read_text())
            else:
                COUNT["executed"] += 1
                future = self.pool.submit(execute, str(path))
                future.add_done_callback(lambda f, name=name, cached=cached: self._keep(
                    f, name, cached))
            self.futures[path] = future
        return self.futures[path]

    def _keep(self, future: Future, name: str, cached: Path) -> None:
        """Cache a finished execution (one copy per notebook); never one that timed out,
        which a busy machine may cause."""
        if future.cancelled() or future.exception() is not None or timed_out(future.result()):
            return
        for old in self.folder.glob(f"{name}-*.ipynb"):
            old.unlink()
        cached.write_text(future.result())
