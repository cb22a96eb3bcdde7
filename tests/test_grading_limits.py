"""The grader's limits, attacked: one crafted unit-02 submission per limit, graded in one
class beside honest and blank work, plus the pieces (pipes, replies, answers) alone.

The class is graded in a subprocess under an outer ``timeout`` so that a limit that fails
(a hang, a fork bomb) fails the test instead of taking the machine down; the fork bomb
itself stops at 1,000 processes, the disk and memory fillers at 400 MB.
"""

import errno
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import pytest
from conftest import ROOT, SANDBOX_PROBLEM, needs_sandbox
from test_grading import (
    UNIT,
    append_cells,
    blank,
    honest,
    insert_after_setup,
    replace_exercise,
    solution,
    write,
)

from rnnlab.grader import codec, protocol
from rnnlab.grader.host import seccomp_filter
from rnnlab.grader.sandbox import Limits, WorkerProcess, WorkerTimeoutError

CLASS_TIMEOUT = 1500  # seconds for the whole class, a hang included
LIMITS = {"cell_timeout": 30, "call_timeout": 10, "grace": 2, "budget": 90,
          "max_restarts": 2}


def raising(name, args, text):
    """An exercise that reports ``text`` (an expression) through the message of an error."""
    return f"def {name}({args}):\n    raise ValueError({text})\n"


# ------------------------------------------------------------------ the crafted work

STOP_AFTER_REPLY = """
import os, signal
import rnnlab.grader.worker as worker
send = worker.write_frame
def send_then_stop(stream, header, buffers=()):
    send(stream, header, buffers)
    os.kill(os.getpid(), signal.SIGSTOP)  # the worker stops: nobody reads its input
worker.write_frame = send_then_stop
"""
FLOOD_CELL = "# " + "x" * 2**20  # 1 MB: more than a pipe holds
GRADED = ("import sys\n\n\ndef graded():  # in a graded call, not in the notebook's cells\n"
          "    return sys._getframe(2).f_code.co_name == 'call'\n")
SLOW_CELL = "import time\ntime.sleep(19)"  # five of them: replays count against the budget
CRASHING_STEP = ("def rnn_step_forward(x, h_prev, Wx, Wh, b):\n"
                 "    if graded():\n        import os\n        os._exit(1)\n"
                 "    return np.tanh(x @ Wx + h_prev @ Wh + b)\n")
FORGE = """
import json, struct, threading, time

def _protocol_out():
    for t in threading.enumerate():
        target = getattr(getattr(t, "_target", None), "__self__", None)
        if hasattr(target, "proto_out"):
            return target.proto_out

def forge(header_bytes):
    out = _protocol_out()
    out.write(b"RNL1" + struct.pack(">Q", len(header_bytes)) + header_bytes)
    out.flush()
    time.sleep(30)
"""
HUGE_HEADER = ("def rnn_step_forward(x, h_prev, Wx, Wh, b):\n"
               "    if graded():\n"
               "        forge(b'[' + b'0,' * (32 * 2**20) + b'0]')\n")  # a 64 MB header
DEEP_REPLY = ("def rnn_forward(x, h0, Wx, Wh, b):\n"
              "    if graded():\n"
              "        forge(b'[' * 100000 + b']' * 100000)\n")
SURROGATE_CELL = "raise RuntimeError('cell \\ud800 broken')"
SURROGATE_STEP = raising("rnn_step_forward", "x, h_prev, Wx, Wh, b", "'step \\udcff broken'")
HUGE_BOOLS = ("def output_layer(hs, Wy, by):\n    import numpy as np\n"
              "    return np.ones(100 * 2**20, dtype=bool)\n")
BOMB = """
import os, time
started = 0
for i in range(1000):                 # a fork bomb that stops at 1,000
    try:
        if os.fork() == 0:
            time.sleep(1)
            os._exit(0)
        started += 1
    except OSError:
        pass
print(started)
for i in range(started):
    os.wait()
"""
HOG_CELL = f"""
import subprocess, sys
REPORT = {{}}
REPORT['processes'] = int(subprocess.run([sys.executable, '-c', {BOMB!r}],
                                         capture_output=True, text=True).stdout)
"""
FILL_CELL = """
import json, os, subprocess

def fill(folder, total=400):          # at most 400 MB, 1 MB at a time, 50 MB per file
    written = 0
    for i in range(total):
        try:
            with open(os.path.join(folder, f'fill{i // 50}'), 'ab') as f:
                f.write(b'x' * 2**20)
            written += 1
        except OSError:
            break
    return written

REPORT['scratch_mb'] = fill('.')
REPORT['shm_mb'] = fill('/dev/shm')
REPORT['userns'] = subprocess.run(['unshare', '-Ur', 'true'], capture_output=True).returncode
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
REPORT['syscalls'] = {}
for name, call in [('ptrace', lambda: libc.ptrace(0, 0, 0, 0)),                # TRACEME
                   ('perf_event_open', lambda: libc.syscall(298, 0, 0, -1, -1, 0)),
                   ('io_uring_setup', lambda: libc.syscall(425, 1, 0)),
                   ('keyctl', lambda: libc.syscall(250, 0, -3, 0))]:      # x86-64 numbers
    ctypes.set_errno(0)
    REPORT['syscalls'][name] = [call(), ctypes.get_errno()]
"""
HOG_REPORT = raising("output_layer", "hs, Wy, by", "'REPORT=' + json.dumps(REPORT)")
TAKE_CODE_CELL = """
import gc, rnnlab, types
TAKEN = {}
for name in ('rnn_step_forward', 'rnn_forward'):
    try:
        TAKEN[name] = getattr(rnnlab.reference, name).__code__
    except Exception as exc:
        TAKEN[name] = None
try:
    gc.get_objects()
    GC = 'open'
except Exception:
    GC = 'refused'
"""
LIBRARY_IN_A_CELL = """
import numpy as np
from rnnlab import charmodel
params = charmodel.init_char_model(5, 3, np.random.default_rng(0))
ids = np.array([[1, 2, 3]])
LOSS = charmodel.loss_and_grads(params, ids, ids, np.zeros((1, 3)))
"""
COPIED_CODE = """def rnn_step_forward(x, h_prev, Wx, Wh, b):
    names = {**vars(rnnlab.reference), '__name__': 'mine'}
    answer = types.FunctionType(TAKEN['rnn_step_forward'], names)
    return answer(x, h_prev, Wx, Wh, b)[0]
"""
THREADED = """def rnn_forward(x, h0, Wx, Wh, b):
    import sys, threading
    sys.setprofile(None)
    out = []
    thread = threading.Thread(target=lambda: out.append(rnnlab.reference.rnn_forward(
        x, h0, Wx, Wh, b)[0]))
    thread.start()
    thread.join()
    return out[0]
"""
UNHOOKED = """def rnn_step_forward(x, h_prev, Wx, Wh, b):
    import sys
    sys.setprofile(None)
    sys.settrace(None)
    return rnnlab.rnn_step_forward(x, h_prev, Wx, Wh, b)[0]
"""
HELPER_DURING_A_CALL = """def rnn_forward(x, h0, Wx, Wh, b):
    from rnnlab import charmodel, pathologies
    charmodel.loss_and_grads(params, ids, ids, np.zeros((1, 3)))
    return pathologies.rnn_forward(x, h0, Wx, Wh, b)
"""


def crafted_class(folder):
    write(folder, "honest.ipynb", honest(UNIT))
    write(folder, "blank.ipynb", blank(UNIT))
    write(folder, "stalled.ipynb", insert_after_setup(honest(UNIT), STOP_AFTER_REPLY,
                                                      FLOOD_CELL))
    replayer = append_cells(insert_after_setup(honest(UNIT), GRADED), *[SLOW_CELL] * 5)
    write(folder, "replayer.ipynb", replace_exercise(replayer, "rnn_step_forward",
                                                     CRASHING_STEP))
    forger = replace_exercise(insert_after_setup(honest(UNIT), GRADED, FORGE),
                              "rnn_step_forward", HUGE_HEADER)
    write(folder, "forger.ipynb", replace_exercise(forger, "rnn_forward", DEEP_REPLY))
    surrogates = replace_exercise(honest(UNIT), "rnn_step_forward", SURROGATE_STEP)
    write(folder, "surrogates.ipynb", insert_after_setup(surrogates, SURROGATE_CELL))
    write(folder, "bools.ipynb", replace_exercise(honest(UNIT), "output_layer", HUGE_BOOLS))
    hog = replace_exercise(insert_after_setup(honest(UNIT), HOG_CELL, FILL_CELL),
                           "output_layer", HOG_REPORT)
    write(folder, "hog.ipynb", hog)
    taker = insert_after_setup(honest(UNIT), TAKE_CODE_CELL, LIBRARY_IN_A_CELL)
    taker = replace_exercise(taker, "rnn_step_forward", COPIED_CODE)
    write(folder, "taker.ipynb", replace_exercise(taker, "rnn_forward", THREADED))
    helper = insert_after_setup(honest(UNIT), LIBRARY_IN_A_CELL)
    helper = replace_exercise(helper, "rnn_step_forward", UNHOOKED)
    write(folder, "helper.ipynb", replace_exercise(helper, "rnn_forward", HELPER_DURING_A_CALL))
    (folder / "deep.ipynb").write_text('{"cells": ' + "[" * 100000 + "]" * 100000 + "}")


GRADE_SCRIPT = """
import json, sys
from pathlib import Path
from rnnlab.grader.classroom import grade_class
from rnnlab.grader.sandbox import Limits
folder, out, root, limits = sys.argv[1:5]
report = grade_class({unit!r}, Path(folder), Path(out), Path(root),
                     limits=Limits(**json.loads(limits)), jobs=2, seed=1, progress=False,
                     log=lambda line: None)
print(json.dumps({{"finished": True}}))
"""


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    if SANDBOX_PROBLEM is not None:  # never let a fork bomb loose without the sandbox
        pytest.skip(f"no sandbox here: {SANDBOX_PROBLEM}")
    folder = tmp_path_factory.mktemp("crafted")
    crafted_class(folder)
    out = folder / "graded"
    script = GRADE_SCRIPT.format(unit=UNIT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    result = subprocess.run(
        ["timeout", "-s", "KILL", str(CLASS_TIMEOUT), sys.executable, "-c", script,
         folder, out, ROOT, json.dumps(LIMITS)], capture_output=True, text=True, env=env)
    seconds = time.monotonic() - started
    assert result.returncode == 0, (seconds, result.stdout[-2000:], result.stderr[-4000:])
    report = json.loads((out / "report.json").read_text())
    return out, report, seconds


def result(report, student):
    return report["results"][student]


def messages(report, student):
    return {t["grade_id"]: t["message"] for t in result(report, student)["tests"]}


def test_the_class_completes_honest_full_blank_zero(crafted):
    out, report, _ = crafted
    assert result(report, "honest")["score"] == 10 and result(report, "blank")["score"] == 0
    rows = (out / "grades.csv").read_text().splitlines()
    assert len(rows) == 1 + len(report["results"]) == 1 + 11
    for student in report["results"]:
        assert (out / "feedback" / student / UNIT / f"{UNIT}.html").is_file(), student
        assert (out / "feedback" / student / UNIT / f"{UNIT}.md").is_file(), student


def test_a_worker_that_stops_reading_is_killed_not_waited_for(crafted):
    """The worker stops itself after its reply; the grader's write of a 1 MB cell has a
    deadline (without one, the grader waits for ever and the class is never graded)."""
    _, report, _ = crafted
    r = result(report, "stalled")
    flood = r["cells"][2]
    assert flood["timed_out"] and "did not finish within" in flood["error"], r["cells"]
    assert any("killed" in e for e in r["events"]), r["events"]


def test_replays_count_against_the_notebooks_budget(crafted):
    """Five 19 s cells at the end use up the 90 s budget; the exercise crashes the worker
    when it is graded, and a restart would replay them: it is refused instead."""
    _, report, _ = crafted
    r = result(report, "replayer")
    said = [c["error"] or "" for c in r["cells"]] + list(messages(report, "replayer").values())
    assert any("could not be replayed within their 90 s" in m for m in said), said
    assert sum("restarted" in e for e in r["events"]) <= LIMITS["max_restarts"], r["events"]


def test_forged_replies_are_refused_before_they_are_read(crafted):
    _, report, _ = crafted
    m = messages(report, "forger")
    assert "message header of 67108867 bytes is too large" in \
        m["test_rnn_step_forward_visible"], m
    assert "message nested too deeply" in m["test_rnn_forward_visible"], m


def test_text_from_the_worker_is_valid_utf8(crafted):
    out, report, _ = crafted
    r = result(report, "surrogates")
    assert "step \ufffd broken" in messages(report, "surrogates")["test_rnn_step_forward_visible"]
    assert any("cell \ufffd broken" in (c["error"] or "") for c in r["cells"]), r["cells"]
    assert "surrogates" in (out / "grades.csv").read_text(encoding="utf-8")
    assert r["score"] == 3  # output_layer: rnn_forward calls the raising rnn_step_forward


def test_a_huge_wrong_answer_fails_on_its_shape(crafted):
    _, report, _ = crafted
    m = messages(report, "bools")
    assert re.search(r"expected shape \(\d+(, \d+)*\); got \(104857600,\)",
                     m["test_output_layer_visible"]), m
    assert result(report, "bools")["score"] == 10 - 3


def test_processes_scratch_shm_and_user_namespaces_are_capped(crafted):
    _, report, _ = crafted
    message = messages(report, "hog")["test_output_layer_visible"]
    hog = json.loads(message.split("REPORT=", 1)[1].rstrip(".").rstrip())
    limits = Limits()
    assert 0 < hog["processes"] < limits.processes, hog
    assert hog["scratch_mb"] <= limits.scratch_mb and hog["shm_mb"] <= limits.shm_mb, hog  # of 400
    assert hog["userns"] != 0, hog
    assert result(report, "hog")["score"] == 10 - 3


def test_system_calls_outside_the_filter_are_refused(crafted):
    """Without the filter (in the sandbox all the same) ptrace(TRACEME) succeeds and the
    others fail only on their bad arguments (EFAULT, EINVAL...); with it, each is EPERM."""
    if seccomp_filter() is None:
        pytest.skip("no system-call filter here: apt-get install -y python3-seccomp")
    if os.uname().machine != "x86_64":
        pytest.skip("the crafted calls use x86-64 system-call numbers")
    _, report, _ = crafted
    message = messages(report, "hog")["test_output_layer_visible"]
    hog = json.loads(message.split("REPORT=", 1)[1].rstrip(".").rstrip())
    assert hog["syscalls"] == {name: [-1, errno.EPERM] for name in hog["syscalls"]}, hog
    assert len(hog["syscalls"]) == 4 and result(report, "hog")["seccomp"] is True
    assert result(report, "honest")["score"] == 10


def test_the_course_answers_are_not_reachable_by_any_route(crafted):
    _, report, _ = crafted
    taker = result(report, "taker")
    assert taker["score"] == 3, messages(report, "taker")  # only output_layer is its own
    helper = result(report, "helper")
    assert helper["score"] == 3, messages(report, "helper")
    m = messages(report, "helper")
    assert "calls rnnlab.reference.rnn_step_forward, the course's own answer" in \
        m["test_rnn_step_forward_visible"]
    assert "not available while grading" in m["test_rnn_forward_visible"], m
    # The library calling its own functions still works in the notebook's cells.
    for student in ("taker", "helper"):
        assert all(c["error"] is None for c in result(report, student)["cells"][:3]), \
            result(report, student)["cells"]


def test_a_deeply_nested_notebook_is_reported(crafted):
    _, report, _ = crafted
    r = result(report, "deep")
    assert r["status"] == "invalid" and "nested too deeply" in r["message"], r


# ------------------------------------------------------------------ pieces


def test_a_write_to_a_worker_that_does_not_read_has_a_deadline():
    read_end, write_end = os.pipe()
    try:
        channel = protocol.Channel(write_end, read_end)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            channel.send({"op": "run"}, [b"x" * 2**20], time.monotonic() + 0.5)
        assert time.monotonic() - started < 5
        with pytest.raises(TimeoutError):  # and so does a read of a reply that never comes
            channel.receive(time.monotonic() + 0.2)
    finally:
        os.close(read_end)
        os.close(write_end)


def test_a_huge_header_is_refused_from_its_length_alone():
    prefix = protocol.MAGIC + (100 * 2**20).to_bytes(8, "big")
    with pytest.raises(protocol.TransferError, match="header of 104857600 bytes is too large"):
        protocol.read_frame(io.BytesIO(prefix))  # nothing after the prefix is read
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, prefix)
        with pytest.raises(protocol.TransferError, match="too large"):
            protocol.Channel(write_end, read_end).receive(time.monotonic() + 5)
    finally:
        os.close(read_end)
        os.close(write_end)


def test_replies_decode_to_bounded_valid_data():
    import torch

    tree, buffers = codec.encode(torch.zeros(1000, dtype=torch.bool))
    tree["dtype"] = "float64"  # a forged type would make the tensor 8 times larger
    with pytest.raises(protocol.TransferError, match="holds torch.bool data"):
        codec.decode(tree, buffers)
    tree, buffers = codec.encode(np.zeros(1000))
    with pytest.raises(protocol.TransferError, match="cannot be graded"):
        codec.decode(tree, buffers, limit=4000)
    text = np.array(["ok", "bad \ud800"])
    tree, buffers = codec.encode({"a": text})
    stream = io.BytesIO(protocol.frame({"s": "x\udfff", "v": tree}, buffers))
    header, buffers = protocol.read_frame(stream)
    assert header["s"] == "x\ufffd"
    assert list(codec.decode(header["v"], buffers)["a"]) == ["ok", "bad \ufffd"]
    deep = io.BytesIO(protocol.frame({}) [:4] + (200002).to_bytes(8, "big")
                      + b"[" * 100001 + b"]" * 100001)
    with pytest.raises(protocol.TransferError, match="nested too deeply"):
        protocol.read_frame(deep)


def test_a_shape_check_comes_before_any_conversion():
    from rnnlab.checks import assert_close
    from rnnlab.gradcheck import compare

    huge = np.ones(100 * 2**20, dtype=bool)
    tracemalloc.start()
    try:
        table = compare({"probs": (huge, np.zeros((1, 1, 2)))})
        with pytest.raises(AssertionError, match="expected shape"):
            assert_close("probs", huge, np.zeros((1, 1, 2)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not table.passed and peak < 10 * 2**20, peak


def test_replayed_cells_run_inside_the_budget(tmp_path):
    """A killed worker's cells are replayed only within what is left of the budget."""
    limits = Limits(budget=6, cell_timeout=10, grace=1)
    worker = WorkerProcess(tmp_path, limits, sandbox=SANDBOX_PROBLEM is None)
    try:
        worker.run_cell("import time\ntime.sleep(4)")
        with pytest.raises(Exception, match="died"):
            worker.run_cell("import os\nos._exit(1)")
        started = time.monotonic()
        with pytest.raises(WorkerTimeoutError, match="used up their 6 s"):
            worker.run_cell("x = 1")  # restart; the 4 s cell gets the 2 s left, no more
        assert time.monotonic() - started < limits.startup_timeout + 3.5
        assert worker.budget_left() <= 0
    finally:
        worker.close()


ANSWERS_SCRIPT = """
import gc, importlib, sys, threading, types
import numpy as np
import rnnlab
from rnnlab import charmodel, reference
from rnnlab.grader.worker import GRADING_STARTS, hide_answers
hidden = hide_answers(["rnn_forward", "rnn_backward", "output_layer"])
assert "rnnlab.reference.rnn_forward" in hidden and "rnnlab.kernels.rnn_backward" in hidden
# The catalogues' helpers, whatever their names: with no mistake switched on some of them
# give an exercise's right answer (unit 03's _step is rnn_step_backward).
assert "rnnlab.mistakes.unit03._step" in hidden and "rnnlab.mistakes.unit05.part" in hidden
from rnnlab.mistakes import unit03
def refused(action):
    try:
        action()
    except PermissionError:
        return True
    return False
bound = rnnlab.rnn_forward  # bound before grading starts, as a cell could
params = charmodel.init_char_model(5, 3, np.random.default_rng(0))
ids, h0 = np.array([[1, 2, 3]]), np.zeros((1, 3))
charmodel.loss_and_grads(params, ids, ids, h0)  # the library calls its own answers
x = charmodel.one_hot(ids, 5)
assert refused(lambda: rnnlab.rnn_forward.__code__)
assert refused(lambda: gc.get_objects()) and refused(lambda: gc.get_referents(bound))
assert refused(lambda: importlib.reload(reference))
def tracer(frame, event, arg):
    frame.f_code  # refused for the frame of a running answer
def traced():
    sys.settrace(tracer)
    try:
        reference.rnn_forward(x, h0, *params[:3])
    finally:
        sys.settrace(None)
assert refused(traced)
sys.audit(GRADING_STARTS)
def used(action):
    try:
        action()
    except Exception as exc:
        return type(exc).__name__ == "AnswerUsed" and "not available while grading" in str(exc)
    return False
assert used(lambda: rnnlab.rnn_forward(x, h0, *params[:3]))
assert used(lambda: bound(x, h0, *params[:3]))
assert used(lambda: charmodel.loss_and_grads(params, ids, ids, h0))
assert used(lambda: unit03._step(np.ones((1, 3)), x[:, 0], h0, params[0], params[1], h0))
sys.setprofile(None)
errors = []
thread = threading.Thread(target=lambda: errors.append(used(lambda: reference.rnn_forward(
    x, h0, *params[:3]))))
thread.start(); thread.join()
assert errors == [True]
assert reference.softmax(np.zeros(3)).sum() == 1  # other helpers still work
print("ok")
"""


def test_answers_are_hidden_from_every_route_and_helpers_keep_working():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", ANSWERS_SCRIPT], capture_output=True,
                            text=True, env=env, timeout=300)
    assert result.stdout.strip() == "ok", result.stderr[-3000:]


INTERRUPTED_SCRIPT = """
import sys
from rnnlab.grader.runner import grade_notebook
from rnnlab.grader.sandbox import Limits
grade_notebook(sys.argv[1], sys.argv[2], Limits(cell_timeout=120))
"""


@needs_sandbox
def test_scratch_folders_are_removed_when_grading_is_interrupted(tmp_path):
    notebook = write(tmp_path, "sleeper.ipynb",
                     append_cells(honest(UNIT), "import time\ntime.sleep(100)"))
    scratch_parent = tmp_path / "tmp"
    scratch_parent.mkdir()
    orphan = scratch_parent / "rnnlab-grade-999999999-left"  # a grader killed earlier
    orphan.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(scratch_parent)}
    for sig in (signal.SIGTERM, signal.SIGINT):
        grader = subprocess.Popen([sys.executable, "-c", INTERRUPTED_SCRIPT, notebook,
                                   solution(UNIT)], env=env, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 300
        while not list(scratch_parent.glob(f"rnnlab-grade-{grader.pid}-*")):
            assert time.monotonic() < deadline and grader.poll() is None
            time.sleep(0.2)
        time.sleep(5)  # the worker is running the notebook's cells
        grader.send_signal(sig)
        grader.wait(timeout=180)  # a loaded machine stops a process slowly
        assert list(scratch_parent.glob("rnnlab-grade-*")) == [], sig
    assert not orphan.exists()


SYSCALLS = """
import ctypes, json
libc = ctypes.CDLL(None, use_errno=True)
ctypes.set_errno(0)
traced = [libc.ptrace(0, 0, 0, 0), ctypes.get_errno()]
import numpy, torch
print(json.dumps({"ptrace": traced, "torch": float(torch.ones(3).sum())}))
"""


@needs_sandbox
def test_the_filter_refuses_its_calls_and_the_sandbox_still_runs_torch(tmp_path):
    """The same sandbox with and without the filter: ptrace(TRACEME) succeeds without it."""
    from rnnlab.grader.host import filter_fd
    from rnnlab.grader.sandbox import bwrap_command

    if seccomp_filter() is None:
        pytest.skip("no system-call filter here: apt-get install -y python3-seccomp")
    seen = {}
    for name, fd in (("without", None), ("with", filter_fd())):
        cmd = [*bwrap_command(tmp_path, [], seccomp_fd=fd), sys.executable, "-c", SYSCALLS]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                             pass_fds=() if fd is None else (fd,))
        if fd is not None:
            os.close(fd)
        assert run.returncode == 0, run.stderr[-2000:]
        seen[name] = json.loads(run.stdout)
    assert seen["without"] == {"ptrace": [0, 0], "torch": 3.0}, seen
    assert seen["with"] == {"ptrace": [-1, errno.EPERM], "torch": 3.0}, seen


@needs_sandbox
def test_without_the_filter_the_sandbox_runs_and_says_so(tmp_path, monkeypatch):
    from rnnlab.grader import sandbox

    monkeypatch.setattr(sandbox, "seccomp_filter", lambda: None)
    worker = WorkerProcess(tmp_path, Limits(), sandbox=True)
    try:
        assert worker.sandboxed and worker.seccomp is False
        error = worker.run_cell("import ctypes\n"  # ptrace(TRACEME) is not refused
                                "assert ctypes.CDLL(None).ptrace(0, 0, 0, 0) == 0")
        assert error is None, error
    finally:
        worker.close()
    assert sum("no system-call filter" in e for e in worker.events) == 1, worker.events
