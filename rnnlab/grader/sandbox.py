"""Start a submission's worker in a bubblewrap sandbox and talk to it with time limits.

The sandbox (``bwrap`` 0.8 or later, Debian package ``bubblewrap``) gives the worker:

* a read-only view of the system, the Python installation and the ``rnnlab`` package,
  and nothing else of the machine: no course folder (so no ``solutions/``, no
  ``gradebook.db``, no other student's submission), no home folder, no ``/tmp``;
* a copy of the student's own submission folder, read-only at ``/submission``, which the
  worker copies into ``/sandbox`` (its working directory): a memory file system of
  ``Limits.scratch_mb``, the only writable place besides ``/dev/shm`` (``Limits.shm_mb``);
* no network, its own process, IPC and user namespaces, no nested user namespaces, no
  capabilities, uid 65534;
* resource limits: address space (``--memory``), file size, no core files, and at most
  ``Limits.processes`` processes and threads (:func:`pids_cgroup` when the grader runs
  as root, else ``RLIMIT_NPROC`` in the sandbox's user namespace);
* a system-call filter (``bwrap --seccomp``) refusing, with ``EPERM``, the calls of
  :data:`rnnlab.grader.host.DENIED_SYSCALLS`, where libseccomp's Python bindings are here
  (Debian ``python3-seccomp``); without them an event says it is missing.

Where ``bwrap`` is missing or cannot start (for example in a container without user
namespaces), :class:`WorkerProcess` runs the same worker as a plain subprocess with the same
time and memory limits but without the file-system and network isolation, and
``sandboxed`` is False so the caller can say so.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rnnlab
from rnnlab.grader.codec import TEXT_LIMIT, TransferError, clean_text, decode, encode
from rnnlab.grader.host import (
    SCRATCH_PREFIX,
    filter_fd,
    pids_cgroup,
    remove_cgroup,
    seccomp_filter,
)
from rnnlab.grader.protocol import Channel, remote_error

INSIDE = "/sandbox"
NUMBA_INSIDE = "/numba-cache"  # a trusted run's writable Numba cache (the class warm-up)
SUBMISSION = "/submission"  # the student's folder, read-only; the worker copies it to INSIDE
NOBODY = 65534  # the sandbox's uid and gid
# The worker imports the very rnnlab this grader runs (an installed copy, a checkout, or
# a folder on PYTHONPATH, which ``python -I`` would ignore): its folder goes first on
# the worker's sys.path. In the sandbox only the package itself is visible there.
LIBRARY_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(rnnlab.__file__)))
WORKER_MAIN = "import sys; sys.path.insert(0, {library!r}); " \
              "from rnnlab.grader.worker import main; main()"
BWRAP_OPTIONS = ("--disable-userns", "--size", "--perms")  # bubblewrap 0.8


@dataclass
class Limits:
    """Time and memory limits of one submission's worker."""

    cell_timeout: float = 60.0  # seconds per notebook cell
    setup_timeout: float = 120.0  # seconds for the setup cell (heavy imports)
    call_timeout: float = 30.0  # seconds per call of an exercise function
    startup_timeout: float = 60.0
    memory_mb: int = 4096  # address space of the worker process
    file_mb: int = 256  # largest file the worker may write
    threads: int = 1  # BLAS / torch / numba threads
    grace: float = 3.0  # seconds between an interrupt and killing the worker
    max_restarts: int = 3
    budget: float = 900.0  # seconds for all of a notebook's cells, replays included
    processes: int = 64  # processes and threads in the sandbox
    scratch_mb: int = 256  # the sandbox's writable folder (a memory file system)
    shm_mb: int = 64  # its /dev/shm


class WorkerTimeoutError(Exception):
    """A cell or call ran past its time limit."""


class WorkerDiedError(Exception):
    """The worker exited or could not be started."""


def _existing(paths: list[str]) -> list[str]:
    return [p for p in dict.fromkeys(paths) if p and os.path.exists(p)]


def _python_dirs(forbidden: list[Path]) -> list[str]:
    """Folders the worker's Python needs read-only: prefixes, sys.path, the rnnlab package."""
    dirs = [sys.prefix, sys.base_prefix, sys.exec_prefix,
            os.path.dirname(os.path.realpath(sys.executable)),
            os.path.dirname(os.path.abspath(rnnlab.__file__))]
    dirs += [p for p in sys.path if p and os.path.isdir(p)]
    keep = []
    for d in _existing([os.path.abspath(d) for d in dirs]):
        real = Path(os.path.realpath(d))
        # Never a folder that holds the course (solutions/, gradebook.db) or submissions.
        if any(f == real or f.is_relative_to(real) for f in forbidden):
            continue
        keep.append(d)
        if os.path.realpath(d) != d:
            keep.append(os.path.realpath(d))
    # Drop folders already inside another bound folder.
    keep = sorted(set(keep), key=len)
    return [d for i, d in enumerate(keep)
            if not any(Path(d).is_relative_to(o) for o in keep[:i])]


def bwrap_command(scratch: Path, forbidden: list[Path], limits: Limits | None = None,
                  numba_cache: Path | None = None, seccomp_fd: int | None = None) -> list[str]:
    """The ``bwrap`` arguments that run a worker given a read-only copy of ``scratch``
    (and, for a trusted run only, ``numba_cache`` writable at :data:`NUMBA_INSIDE`), with
    the system-call filter read from ``seccomp_fd`` if one is given."""
    limits = limits or Limits()
    cmd = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--unshare-user",
           "--disable-userns", "--uid", str(NOBODY), "--gid", str(NOBODY),
           "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--proc", "/proc",
           "--dev", "/dev", "--size", str(limits.shm_mb * 2**20), "--tmpfs", "/dev/shm"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            cmd += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            cmd += ["--ro-bind", top, top]
    cmd += ["--ro-bind", "/usr", "/usr"]
    for etc in _existing(["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
                          "/etc/fonts", "/etc/localtime", "/etc/alternatives"]):
        cmd += ["--ro-bind", etc, etc]
    for d in _python_dirs(forbidden):
        if not d.startswith(("/usr/", "/bin/", "/lib")):
            cmd += ["--ro-bind", d, d]
    cmd += ["--ro-bind", str(scratch), SUBMISSION,
            "--size", str(limits.scratch_mb * 2**20), "--perms", "0700", "--tmpfs", INSIDE]
    if numba_cache is not None:
        cmd += ["--bind", str(numba_cache), NUMBA_INSIDE]
    if seccomp_fd is not None:
        cmd += ["--seccomp", str(seccomp_fd)]
    # The root itself (a tmpfs holding the mount points) is made read-only last.
    cmd += ["--remount-ro", "/", "--chdir", INSIDE]
    return cmd


@functools.lru_cache(maxsize=1)
def sandbox_problem() -> str | None:
    """None if bubblewrap works here, else why not (one line)."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed: apt-get install -y bubblewrap"
    try:
        usage = subprocess.run([shutil.which("bwrap"), "--help"], capture_output=True,
                               text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap cannot start: {exc}"
    missing = [o for o in BWRAP_OPTIONS if o not in usage]
    if missing:
        return f"bubblewrap 0.8 or later is needed (this one has no {', '.join(missing)})"
    probe, fd = Path(tempfile.mkdtemp(prefix="rnnlab-probe-")), filter_fd()
    try:  # the worker's own command and filter, importing the very rnnlab of the grader
        code = f"import sys; sys.path.insert(0, {LIBRARY_PARENT!r}); import rnnlab"
        cmd = [*bwrap_command(probe, [], seccomp_fd=fd), sys.executable, "-I", "-c", code]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                                pass_fds=() if fd is None else (fd,))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap cannot start: {exc}"
    finally:
        shutil.rmtree(probe, ignore_errors=True)
        if fd is not None:
            os.close(fd)
    if result.returncode != 0:
        return "bubblewrap cannot start: " + (result.stderr.strip().splitlines() or ["?"])[-1]
    return None


def _environment(home: str, threads: int) -> dict[str, str]:
    """The worker's whole environment: no seed, no instructor paths."""
    env = {"HOME": home, "TMPDIR": f"{home}/.tmp", "USER": "student", "LOGNAME": "student",
           "LANG": "C.UTF-8", "PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin",
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{home}/.config/matplotlib",
           "NUMBA_CACHE_DIR": f"{home}/.cache/numba", "IPYTHONDIR": f"{home}/.ipython",
           "NBGRADER_EXECUTION": "autograde", "PYTHONDONTWRITEBYTECODE": "1"}
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                 "NUMBA_NUM_THREADS"):
        env[name] = str(threads)
    return env


class WorkerProcess:
    """A running worker for one submission, restarted (and its cells replayed) if killed.

    Every exchange with the worker has a deadline (:class:`~rnnlab.grader.protocol.Channel`).
    All cells, replays included, share ``Limits.budget``. ``exercises`` are the unit's
    exercises, whose course answers the worker hides (:mod:`rnnlab.grader.worker`).
    """

    def __init__(self, scratch: Path, limits: Limits, sandbox: bool = True,
                 forbidden: list[Path] = (), exercises: list[str] = (),
                 numba_cache_out: Path | None = None) -> None:
        self.scratch, self.limits = Path(scratch), limits
        self.numba_cache_out = numba_cache_out  # a trusted run's writable Numba cache
        self.forbidden = [Path(os.path.realpath(f)) for f in forbidden]
        self.exercises = list(exercises)
        self.sandboxed = sandbox and sandbox_problem() is None
        self.seccomp = self.sandboxed and seccomp_filter() is not None
        self.history: list[tuple[str, float]] = []  # cells that finished, replayed on restart
        self.restarts = 0
        self.cell_seconds = 0.0  # spent running cells, replays included
        self.proc: subprocess.Popen | None = None
        self.channel: Channel | None = None
        self.cgroup: Path | None = None
        self.seq = 0
        self.started = False
        self.events: list[str] = []

    # -- process

    def _limit(self) -> None:  # runs in the child before exec
        mem = self.limits.memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        size = self.limits.file_mb * 2**20
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if self.cgroup is not None:
            (self.cgroup / "cgroup.procs").write_text(str(os.getpid()))

    def start(self) -> None:
        settings = {"exercises": self.exercises}
        if self.sandboxed:
            settings["copy_from"] = SUBMISSION
            # The cap on processes: for root a pids cgroup; for anyone else RLIMIT_NPROC,
            # set by the worker itself inside its user namespace, where the kernel counts
            # the sandbox's processes only.
            if os.geteuid() == 0:
                self.cgroup = pids_cgroup(f"{SCRATCH_PREFIX}{os.getpid()}-{id(self)}-"
                                          f"{self.restarts}", self.limits.processes)
                if self.cgroup is None:
                    self.events.append("no cap on processes: no pids cgroup could be made")
            else:
                settings["processes"] = self.limits.processes
        argv = [sys.executable, "-I", "-c", WORKER_MAIN.format(library=LIBRARY_PARENT),
                json.dumps(settings)]
        out = self.numba_cache_out
        if out is not None:
            Path(out).mkdir(parents=True, exist_ok=True)
        fd = filter_fd() if self.seccomp else None
        if self.sandboxed:
            cmd = bwrap_command(self.scratch, self.forbidden, self.limits, out, fd)
            cwd, home, numba = None, INSIDE, NUMBA_INSIDE
            if fd is None and "no system-call filter" not in " ".join(self.events):
                self.events.append("no system-call filter: no Python here has libseccomp's "
                                   "bindings (apt-get install -y python3-seccomp)")
        else:
            cmd, cwd, home, numba = [], str(self.scratch), str(self.scratch), str(out)
        env = _environment(home, self.limits.threads)
        if out is not None:
            env["NUMBA_CACHE_DIR"] = numba
        try:
            self.proc = subprocess.Popen(
                cmd + argv, cwd=cwd, env=env, stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, preexec_fn=self._limit,
                start_new_session=True, pass_fds=() if fd is None else (fd,))
        finally:
            if fd is not None:
                os.close(fd)
        self.channel = Channel(self.proc.stdin.fileno(), self.proc.stdout.fileno())
        try:
            reply = self._wait(None, time.monotonic() + self.limits.startup_timeout)
        except (TimeoutError, EOFError, OSError, TransferError):
            reply = None
        if reply is None or reply[0].get("op") != "ready":
            self.kill()
            raise WorkerDiedError("the notebook's worker did not start")

    def kill(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            self.proc, self.channel = None, None
        if self.cgroup is not None:
            remove_cgroup(self.cgroup)
            self.cgroup = None

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(OSError, EOFError, TimeoutError):
                self.channel.send({"op": "quit"}, [], time.monotonic() + 1)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=2)
        self.kill()

    def budget_left(self) -> float:
        """Seconds the notebook's cells may still run (replays count)."""
        return self.limits.budget - self.cell_seconds

    def _ensure(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        if not self.started:
            self.started = True
            self.start()
            return
        if self.restarts >= self.limits.max_restarts:
            raise WorkerDiedError("the notebook's worker was restarted too often; giving up")
        self.kill()
        self.restarts += 1
        self.events.append(f"worker restarted ({self.restarts}), earlier cells replayed")
        self.start()
        replay, self.history = self.history, []
        for source, timeout in replay:
            if self.budget_left() <= 0:
                self.kill()
                self.history = replay  # a later restart is refused the same way
                raise WorkerDiedError("the notebook's worker was restarted, but its cells "
                                      f"could not be replayed within their "
                                      f"{self.limits.budget:g} s")
            with contextlib.suppress(WorkerTimeoutError):
                self.run_cell(source, timeout)

    # -- requests

    def _wait(self, seq: int | None, deadline: float) -> tuple[dict, list[bytes]]:
        """The reply to request ``seq`` (stale replies to earlier requests are skipped)."""
        while True:
            reply = self.channel.receive(deadline)
            if seq is None or reply[0].get("seq") == seq:
                return reply

    def _request(self, header: dict, buffers: list[bytes], timeout: float,
                 what: str) -> tuple[dict, list[bytes]]:
        self._ensure()
        self.seq += 1
        deadline = time.monotonic() + timeout
        try:
            self.channel.send({**header, "seq": self.seq}, buffers, deadline)
            return self._wait(self.seq, deadline)
        except TimeoutError:
            self._interrupt()
            raise WorkerTimeoutError(f"{what} did not finish within {timeout:g} s") from None
        except TransferError as exc:
            self.kill()
            raise WorkerDiedError(f"the notebook's worker sent a reply that was refused "
                                  f"during {what}: {exc}") from None
        except (EOFError, OSError):
            self.kill()
            raise WorkerDiedError(f"the notebook's worker died during {what}") from None

    def _interrupt(self) -> None:
        """Interrupt the running request; kill the worker if it does not stop in time."""
        try:
            deadline = time.monotonic() + self.limits.grace
            self.channel.send({"op": "interrupt"}, [], deadline)
            self._wait(self.seq, deadline)
        except (TimeoutError, EOFError, OSError, TransferError):
            self.kill()
            self.events.append("worker killed: it ignored an interrupt")

    def run_cell(self, source: str, timeout: float | None = None) -> dict | None:
        """Run one cell; returns the error (type, message) or None. Raises WorkerTimeoutError.

        The cell gets at most what is left of the notebook's budget.
        """
        timeout = timeout or self.limits.cell_timeout
        self._ensure()
        limit = min(timeout, self.budget_left())
        if limit <= 0:
            raise WorkerTimeoutError(f"skipped: the notebook's cells used up their "
                                     f"{self.limits.budget:g} s")
        started = time.monotonic()
        try:
            header, _ = self._request({"op": "run", "source": source}, [], limit, "the cell")
        finally:
            self.cell_seconds += time.monotonic() - started
        self.history.append((source, timeout))
        return _error_fields(header.get("error"))

    def call(self, name: str, args: tuple, kwargs: dict, exercises: list[str] = (),
             ) -> tuple[Any, list, dict]:
        """Call exercise ``name``; returns (value, args after, kwargs after) or raises.

        The worker hides the course's own answers to the unit's exercises from then on:
        the call fails (``RemoteError``) if the submission's code calls one.
        """
        tree, buffers = encode((list(args), dict(kwargs)), allow_pickle=True)
        request = {"op": "call", "name": name, "args": tree, "exercises": list(exercises)}
        header, out = self._request(request, buffers, self.limits.call_timeout, f"{name}(...)")
        if not header.get("ok"):
            error = _error_fields(header.get("error")) or {}
            raise remote_error(name, error.get("type", "Exception"), error.get("message", ""),
                               error.get("traceback", ""))
        split = header.get("split")
        if not isinstance(split, int) or not 0 <= split <= len(out):
            raise TransferError("garbled reply")
        value = decode(header.get("value"), out[:split])
        after = decode(header.get("after"), out[split:])
        if not isinstance(after, dict) or not isinstance(after.get("args"), list) \
                or not isinstance(after.get("kwargs"), dict):
            raise TransferError("garbled reply")
        return value, after["args"], after["kwargs"]


def _error_fields(error: Any) -> dict | None:
    """An error reported by the worker, as short valid text: type, message, traceback."""
    if not isinstance(error, dict):
        return None
    return {"type": clean_text(error.get("type", "Exception"), 100),
            "message": clean_text(error.get("message", ""), TEXT_LIMIT),
            "traceback": clean_text(error.get("traceback", ""), TEXT_LIMIT)}
