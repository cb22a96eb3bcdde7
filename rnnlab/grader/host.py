"""What a sandbox takes from the host and gives back: its scratch folder and its cap on
processes.

* :func:`scratch_folder`: a temporary folder for one submission, removed however grading
  ends, even when the grader is interrupted.
* :func:`pids_cgroup`: a cgroup that caps the processes and threads of one sandbox, for a
  grader running as root (the kernel does not apply ``RLIMIT_NPROC`` to root's processes).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

SCRATCH_PREFIX = "rnnlab-grade-"  # then the grader's pid: rnnlab-grade-<pid>-<random>


def pids_cgroup(name: str, limit: int) -> Path | None:
    """A new pids cgroup (v1 or v2) of at most ``limit`` processes and threads, or None
    where this process cannot make one (not root, no pids controller)."""
    for base in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")):
        control = base / "cgroup.subtree_control"
        try:
            if base.name != "pids" and "pids" not in control.read_text().split():
                control.write_text("+pids")
            (base / name).mkdir()
        except OSError:
            continue
        try:
            (base / name / "pids.max").write_text(str(limit))
            return base / name
        except OSError:
            with contextlib.suppress(OSError):
                (base / name).rmdir()
    return None


def remove_cgroup(path: Path) -> None:
    """Kill what is left in a cgroup, then remove it."""
    for _ in range(50):
        try:
            pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
        except OSError:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            path.rmdir()
            return
        time.sleep(0.05)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_orphans(parent: Path) -> None:
    """Remove scratch folders left by a grader process that no longer runs (killed)."""
    for path in parent.glob(f"{SCRATCH_PREFIX}*-*"):
        pid = path.name[len(SCRATCH_PREFIX):].split("-", 1)[0]
        with contextlib.suppress(OSError):
            if pid.isdigit() and path.stat().st_uid == os.geteuid() and not _pid_alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def scratch_folder():
    """A temporary folder for one submission, removed however grading ends: normally, by
    an exception, on SIGINT (KeyboardInterrupt) or SIGTERM (made a SystemExit while the
    folder exists), and if the grader was killed outright, by the next grading here."""
    parent = Path(tempfile.gettempdir())
    _remove_orphans(parent)
    path = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=parent))
    catch = threading.current_thread() is threading.main_thread() \
        and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    if catch:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        if catch:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
