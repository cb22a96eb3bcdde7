"""Collect a class's submissions: ``nbgrader collect`` and ``zip_collect`` in one step.

:func:`collect` takes a folder of ``<student>.ipynb``, a folder per student, or an LMS
zip (Canvas, Blackboard and Moodle file names understood) and copies each submission to
``submitted/<student>/<unit>/<unit>.ipynb``.

A symbolic link is never followed, in a folder or in a zip: a student's folder could
otherwise point at the instructor's solution. A zip member that cannot be extracted
(a name too long, sizes that lie, a bad checksum) is reported and skipped.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import zipfile
import zlib
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
    size caps); returns the members it refused or could not extract, with the reason."""
    refused, total = [], 0
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ValueError(f"{archive}: not a readable zip ({exc})") from None
    with zf:
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
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(dest, "wb") as out:
                    out.write(src.read(MAX_MEMBER + 1)[:MAX_MEMBER])
            except (OSError, EOFError, RuntimeError, ValueError, NotImplementedError,
                    zipfile.BadZipFile, zlib.error) as exc:
                # Names over 255 bytes, sizes that lie, a bad CRC, encrypted members...
                refused.append(f"{info.filename} ({type(exc).__name__}: {exc})")
                with contextlib.suppress(OSError):
                    dest.unlink(missing_ok=True)  # a partly written member
    return refused


def _regular_files(folder: Path) -> list[Path]:
    """The files under ``folder``, sorted, reached without following any symbolic link."""
    found = []
    for parent, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(parent, d)))
        found += [Path(parent, f) for f in files if not os.path.islink(os.path.join(parent, f))]
    return sorted(found)


def _pick_notebook(folder: Path, unit: str) -> Path | None:
    notebooks = [p for p in _regular_files(folder)
                 if p.suffix == ".ipynb" and ".ipynb_checkpoints" not in p.parts]
    named = [p for p in notebooks if p.name == f"{unit}.ipynb"]
    return (named or notebooks or [None])[0]


def collect(submissions: Path, unit: str, out: Path, pattern: str | None = None,
            ) -> tuple[dict[str, Path], list[str]]:
    """Copy every submission to ``out/submitted/<student>/<unit>/<unit>.ipynb``.

    Returns {student: collected notebook} and a list of problems (one line each).
    A file that is not a notebook is collected anyway: grading reports it.
    """
    submissions = Path(submissions)
    if not submissions.exists():
        raise FileNotFoundError(f"{submissions}: no such file or folder")
    if submissions.is_file() and zipfile.is_zipfile(submissions):
        with tempfile.TemporaryDirectory(prefix="rnnlab-zip-") as unpacked:
            problems = [f"{submissions.name}: refused zip member {m}"
                        for m in safe_extract(submissions, Path(unpacked))]
            entries = list(Path(unpacked).iterdir())
            # An LMS zip often wraps everything in one folder.
            while len(entries) == 1 and entries[0].is_dir():
                entries = list(entries[0].iterdir())
            return _collect_entries(entries, unit, out, pattern, problems)
    if submissions.is_dir():
        return _collect_entries(list(submissions.iterdir()), unit, out, pattern, [])
    raise ValueError(f"{submissions}: expected a folder or a zip file")


def _collect_entries(entries: list[Path], unit: str, out: Path, pattern: str | None,
                     problems: list[str]) -> tuple[dict[str, Path], list[str]]:
    found: dict[str, Path] = {}
    for entry in sorted(entries):
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            problems.append(f"{entry.name}: a symbolic link, not followed; not graded")
            continue
        student = student_id(entry.name, pattern)
        if not entry.is_dir() and not entry.is_file():
            problems.append(f"{entry.name}: not a file or folder; {student} not graded")
            continue
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
    return found, problems
