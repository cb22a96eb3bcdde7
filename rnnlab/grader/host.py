"""What a sandbox takes from the host and gives back: its scratch folder, its cap on
processes and its system-call filter.

* :func:`scratch_folder`: a temporary folder for one submission, removed however grading
  ends, even when the grader is interrupted.
* :func:`pids_cgroup`: a cgroup that caps the processes and threads of one sandbox, for a
  grader running as root (the kernel does not apply ``RLIMIT_NPROC`` to root's processes).
* :func:`seccomp_filter`, :func:`filter_fd`: the filter of :data:`DENIED_SYSCALLS` as
  BPF, compiled by whichever Python here has libseccomp's bindings, for ``bwrap --seccomp``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

SCRATCH_PREFIX = "rnnlab-grade-"  # then the grader's pid: rnnlab-grade-<pid>-<random>


#: System calls no submission needs, refused with EPERM in the sandbox: tracing and
#: reading other processes, mounts and namespaces, kernel keys, BPF, performance
#: counters, userfaultfd and io_uring (kernel attack surface), modules, clocks, reboot.
DENIED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "mount_setattr",
    "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
    "open_by_handle_at", "name_to_handle_at", "keyctl", "add_key", "request_key", "bpf",
    "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "kexec_load", "kexec_file_load", "init_module", "finit_module",
    "delete_module", "reboot", "swapon", "swapoff", "acct", "iopl", "ioperm",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "syslog", "quotactl",
    "vhangup", "lookup_dcookie")
# Run by a Python that has libseccomp's bindings: the filter, as BPF, on stdout.
SECCOMP_SCRIPT = """
import errno, sys, seccomp
rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
for name in sys.argv[1:]:
    try:
        rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
    except (RuntimeError, ValueError, OSError):
        pass  # not a system call of this architecture
rules.export_bpf(sys.stdout)
"""
SECCOMP_PYTHONS = (sys.executable, "/usr/bin/python3")  # the course's, the system's


@functools.lru_cache(maxsize=1)
def seccomp_filter() -> bytes | None:
    """The sandbox's system-call filter as compiled BPF, or None where no Python here has
    libseccomp's bindings (Debian: ``apt-get install -y python3-seccomp``)."""
    for python in dict.fromkeys(SECCOMP_PYTHONS):
        if not os.path.exists(python):
            continue
        try:
            made = subprocess.run([python, "-I", "-c", SECCOMP_SCRIPT, *DENIED_SYSCALLS],
                                  capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if made.returncode == 0 and made.stdout and len(made.stdout) % 8 == 0:
            return made.stdout  # BPF instructions are 8 bytes each
    return None


def filter_fd() -> int | None:
    """A file descriptor holding :func:`seccomp_filter` at offset 0, for ``bwrap
    --seccomp`` (one per sandbox: bwrap reads it to the end), or None without one."""
    program = seccomp_filter()
    if program is None:
        return None
    fd = os.memfd_create("rnnlab-seccomp")
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


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
