"""Collect a class's submissions: ``nbgrader collect`` and ``zip_collect`` in one step.

:func:`collect` takes a folder of ``<student>.ipynb``, a folder per student, or an LMS
zip (Canvas, Blackboard and Moodle file names understood) and copies each submission to
``submitted/<student>/<unit>/<unit>.ipynb``.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

# Student ids in LMS file names: Canvas, Blackboard, Moodle (folder names).
LMS_PATTERNS = [
    r"^(?P<student>[^_]+)_(?:late_)?\d+_\d+_.+$",  # Canvas: name_[late_]123_456_file
    r"^.+?_(?P<student>[^_]+)_attempt_[\d-]+(?:_.+)?$",  # Blackboard: unit_id_attempt_date_file
    r"^(?P<student>.+?)_\d+_assignsubmission_.*$",  # Moodle: Full Name_123_assignsubmission_
]
MAX_MEMBER = 50 * 2**20
MAX_ZIP_TOTAL = 2 * 2**30


def student_id(name: str, pattern: str | None = None) -> str:
    """A safe student id from a file or folder name (LMS prefixes understood)."""
    stem = name[:-6] if name.endswith(".ipynb") else Path(name).stem if "." in name else name
    for regex in [pattern] if pattern else LMS_PATTERNS:
        match = re.match(regex, stem, re.IGNORECASE)
        if match:
            stem = match.group("student")
            break
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._-") or "unknown"


def safe_extract(archive: Path, target: Path) -> list[str]:
    """Extract a zip without leaving ``target`` (no absolute paths, no ``..``, no links,
    size caps); returns the members it refused."""
    refused, total = [], 0
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = PurePosixPath(info.filename.replace("\\", "/"))
            if info.is_dir() or "__MACOSX" in name.parts or name.name.startswith("."):
                continue
            is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
            if name.is_absolute() or ".." in name.parts or ":" in info.filename or is_link \
                    or info.file_size > MAX_MEMBER or total + info.file_size > MAX_ZIP_TOTAL:
                refused.append(info.filename)
                continue
            total += info.file_size
            dest = target.joinpath(*name.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(dest, "wb") as out:
                out.write(src.read(MAX_MEMBER + 1)[:MAX_MEMBER])
    return refused


def _pick_notebook(folder: Path, unit: str) -> Path | None:
    named = sorted(folder.rglob(f"{unit}.ipynb"))
    if named:
        return named[0]
    notebooks = [p for p in sorted(folder.rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts]
    return notebooks[0] if notebooks else None


def collect(submissions: Path, unit: str, out: Path, pattern: str | None = None,
            ) -> tuple[dict[str, Path], list[str]]:
    """Copy every submission to ``out/submitted/<student>/<unit>/<unit>.ipynb``.

    Returns {student: collected notebook} and a list of problems (one line each).
    A file that is not a notebook is collected anyway: grading reports it.
    """
    problems: list[str] = []
    submissions = Path(submissions)
    if not submissions.exists():
        raise FileNotFoundError(f"{submissions}: no such file or folder")
    unpacked = None
    if submissions.is_file() and zipfile.is_zipfile(submissions):
        unpacked = Path(tempfile.mkdtemp(prefix="rnnlab-zip-"))
        problems += [f"{submissions.name}: refused zip member {m}"
                     for m in safe_extract(submissions, unpacked)]
        entries = list(unpacked.iterdir())
        # An LMS zip often wraps everything in one folder.
        while len(entries) == 1 and entries[0].is_dir():
            entries = list(entries[0].iterdir())
        root_entries = entries
    elif submissions.is_dir():
        root_entries = list(submissions.iterdir())
    else:
        raise ValueError(f"{submissions}: expected a folder or a zip file")
    found: dict[str, Path] = {}
    for entry in sorted(root_entries):
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        student = student_id(entry.name, pattern)
        notebook = _pick_notebook(entry, unit) if entry.is_dir() else entry
        if notebook is None:
            problems.append(f"{entry.name}: no notebook found; {student} not graded")
            continue
        if student in found:
            number = 2
            while f"{student}-{number}" in found:
                number += 1
            problems.append(f"{entry.name}: student id {student} seen twice; "
                            f"graded as {student}-{number}")
            student = f"{student}-{number}"
        dest = out / "submitted" / student / unit / f"{unit}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, dest)
        found[student] = dest
    if unpacked is not None:
        shutil.rmtree(unpacked, ignore_errors=True)
    return found, problems
