"""A class always finishes: one crafted submission per way of taking it down, graded beside
honest and blank work (issue 13: fail closed, a process per student, feedback text,
submissions, seeds, the Numba cache, a Dask cluster).
"""

import csv
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, SANDBOX_PROBLEM, needs_sandbox
from test_class_report import cells
from test_grading import (
    LEAKY_FORWARD,
    UNIT,
    append_cells,
    blank,
    honest,
    insert_after_setup,
    replace_exercise,
    solution,
    write,
)

from rnnlab.grader import class_report, feedback
from rnnlab.grader.classroom import GradingRefusedError, grade_class, student_seed
from rnnlab.grader.collect import collect, safe_extract
from rnnlab.grader.host import seccomp_filter
from rnnlab.grader.sandbox import Limits

LIMITS = Limits(cell_timeout=60, call_timeout=30, grace=2)
STUDENT_TIMEOUT = 150  # seconds; the sleeper below needs 4 x 50 s
GRADER_MEMORY_MB = 1200  # an honest student's grading process stays far below (report.json)
NASTY = "\ud800 <script>alert(1)</script> \x1b[31mred\x1b[0m | **bold** `tick`"
SURROGATE_FORWARD = f"def rnn_forward(x, h0, Wx, Wh, b):\n    raise ValueError({NASTY!r})\n"
# A reply of 100 MB per call: within the protocol's caps, refused by the test on its shape
# (the output layer's tests call it several times: the student's time limit must hold).
HOG_OUTPUT = ("def output_layer(hs, Wy, by):\n    import numpy as np\n"
              "    return np.ones(100 * 2**20, dtype=np.uint8)\n")
SLEEPY_CELL = "import time\ntime.sleep(50)"
ORPHAN = "977"  # seconds of a `sleep` the sleeper starts; no such process may outlive grading


def grade(folder, out, **kwargs):
    return grade_class(UNIT, folder, out, ROOT, limits=LIMITS, progress=False,
                       log=lambda line: None, jobs=2, student_timeout=STUDENT_TIMEOUT,
                       grader_memory_mb=GRADER_MEMORY_MB, **kwargs)


def processes_running(argv):
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (entry / "cmdline").read_bytes().split(b"\0")[:2] == [a.encode() for a in argv]:
                found.append(entry.name)
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """Honest, blank and one attacker per item, graded as one class without a seed."""
    if SANDBOX_PROBLEM is not None:
        pytest.skip(f"no sandbox here: {SANDBOX_PROBLEM}")
    folder = tmp_path_factory.mktemp("attacked")
    write(folder, "honest.ipynb", honest(UNIT))
    write(folder, "blank.ipynb", blank(UNIT))
    write(folder, "surrogate.ipynb", insert_after_setup(
        replace_exercise(honest(UNIT), "rnn_forward", SURROGATE_FORWARD),
        f"print({NASTY!r})\nraise RuntimeError({NASTY!r} * 100)"))
    write(folder, "hog.ipynb", replace_exercise(honest(UNIT), "output_layer", HOG_OUTPUT))
    write(folder, "sleeper.ipynb", insert_after_setup(
        honest(UNIT), f"import subprocess\nsubprocess.Popen(['sleep', '{ORPHAN}'])",
        *[SLEEPY_CELL] * 4))
    write(folder, "leaky_a.ipynb", replace_exercise(honest(UNIT), "rnn_forward", LEAKY_FORWARD))
    write(folder, "leaky_b.ipynb", replace_exercise(honest(UNIT), "rnn_forward", LEAKY_FORWARD))
    linker = folder / "linker"  # a folder holding only a link to the instructor's notebook
    linker.mkdir()
    (linker / f"{UNIT}.ipynb").symlink_to(solution(UNIT))
    (folder / "linked_folder").symlink_to(solution(UNIT).parent)
    out = folder / "graded"
    return folder, out, grade(folder, out)


def result(report, student):
    return report["results"][student]


@needs_sandbox
def test_honest_full_marks_blank_zero_and_everyone_written(attacked):
    _, out, report = attacked
    assert result(report, "honest")["score"] == 10 and result(report, "blank")["score"] == 0
    students = {"honest", "blank", "surrogate", "hog", "sleeper", "leaky_a", "leaky_b"}
    assert set(report["results"]) == students
    rows = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8")))
    assert {row["student_id"] for row in rows} == students
    for student in students:
        for ext in ("html", "md"):
            assert (out / "feedback" / student / UNIT / f"{UNIT}.{ext}").is_file()
    assert (out / "report.json").is_file()
    assert report["solution"]["score"] == 10


@needs_sandbox
def test_the_report_says_whether_the_system_call_filter_was_on(attacked):
    _, _, report = attacked
    on = seccomp_filter() is not None
    assert report["seccomp"] is on
    graded = [r for r in report["results"].values() if r["status"] == "graded"]
    assert graded and all(r["seccomp"] is on for r in graded)
    assert all(("no system-call filter" in " ".join(r["events"])) is not on for r in graded)


@needs_sandbox
def test_the_class_report_agrees_with_report_json(attacked):
    _, out, report = attacked
    saved = json.loads((out / "report.json").read_text(encoding="utf-8"))
    summary = saved["summary"]
    assert summary == json.loads(json.dumps(report["summary"]))
    assert summary == json.loads(json.dumps(class_report.summary(saved["results"], 10.0)))
    graded = {s for s, r in saved["results"].items() if r["status"] == "graded"}
    assert summary["graded"] == len(graded) and summary["not_graded"]["sleeper"] == "killed"
    assert sum(summary["histogram"]["counts"]) == len(graded)
    full = sum(saved["results"][s]["score"] == 10 for s in graded)
    assert summary["histogram"]["counts"][10] == full >= 1  # honest work, at least
    html = (out / "class_report.html").read_text(encoding="utf-8")
    assert cells(html, "test cell") == [
        [t, str(r["passed"]), str(r["graded"]), f"{100 * r['rate']:.0f}%"]
        for t, r in summary["pass_rates"].items()]
    assert [int(n) for _, n in cells(html, "score")] == summary["histogram"]["counts"]
    assert [row[:2] for row in cells(html, "student")] == \
        [[s, status] for s, status in summary["not_graded"].items()]
    # Only a test's own assertion can name a mistake: the hog's wrong shape is one, the
    # blank notebook's NotImplementedError (its own exception) is not.
    assert any(t["asserted"] for t in saved["results"]["hog"]["tests"] if not t["passed"])
    assert not any(t["asserted"] for t in saved["results"]["blank"]["tests"])
    assert summary["pass_rates"]["test_rnn_forward_hidden"]["passed"] \
        == sum(next(t["passed"] for t in saved["results"][s]["tests"]
                    if t["grade_id"] == "test_rnn_forward_hidden") for s in graded)


@needs_sandbox
def test_a_student_past_the_wall_clock_is_killed_with_its_processes(attacked):
    _, _, report = attacked
    r = result(report, "sleeper")
    assert r["status"] == "killed" and r["score"] == 0
    assert f"longer than {STUDENT_TIMEOUT} s" in r["message"]
    assert processes_running(["sleep", ORPHAN]) == []


@needs_sandbox
def test_a_huge_reply_fails_on_its_shape_and_the_grader_stays_small(attacked):
    _, _, report = attacked
    r = result(report, "hog")
    assert r["status"] == "graded" and r["score"] < 10
    failed = [t["message"] for t in r["tests"] if not t["passed"]]
    assert failed and all("output_layer" in t["grade_id"] for t in r["tests"] if not t["passed"])
    assert any("shape" in m for m in failed), failed
    # The limit leaves honest work room to spare, and the hog never came near it.
    assert result(report, "honest")["grader_peak_mb"] < GRADER_MEMORY_MB * 0.8
    assert r["grader_peak_mb"] < GRADER_MEMORY_MB


@needs_sandbox
def test_a_student_past_the_grader_memory_limit_is_killed(tmp_path):
    """The replies are capped (above), so no submission is known to reach the limit: here
    the limit is set below what any grading process needs, and the class still finishes."""
    write(tmp_path, "honest.ipynb", honest(UNIT))
    out = tmp_path / "graded"
    report = grade_class(UNIT, tmp_path, out, ROOT, limits=LIMITS, progress=False,
                         log=lambda line: None, jobs=1, student_timeout=STUDENT_TIMEOUT,
                         grader_memory_mb=64)
    r = result(report, "honest")
    assert r["status"] == "killed" and r["score"] == 0, r["message"]
    assert "more than the limit of 64 MB" in r["message"]
    assert "grading stopped" in (out / "feedback" / "honest" / UNIT / f"{UNIT}.md").read_text()
    assert (out / "grades.csv").is_file() and (out / "report.json").is_file()


@needs_sandbox
def test_text_from_a_submission_is_utf8_cut_and_escaped(attacked):
    _, out, report = attacked
    r = result(report, "surrogate")
    assert r["status"] == "graded" and 0 < r["score"] < 10  # graded, its rnn_forward fails
    page = out / "feedback" / "surrogate" / UNIT / f"{UNIT}"
    md = page.with_suffix(".md").read_bytes().decode("utf-8")
    html = page.with_suffix(".html").read_bytes().decode("utf-8")
    for text in (md, html):
        assert "<script>" not in text and "\x1b" not in text and "\ud800" not in text
    assert "&lt;script&gt;" in html and "\\<script\\>" in md and "\\*\\*bold\\*\\*" in md
    message = next(t["message"] for t in r["tests"] if "rnn_forward" in t["grade_id"])
    assert "\ufffd" in message  # the lone surrogate, replaced where it left the worker
    # The cell prints the text, then raises it a hundred times over; whichever error the
    # worker reports for it, the record is cut to length.
    cell = next(c for c in r["cells"] if c["error"] and c["cell"] != "setup")
    assert len(cell["error"]) <= feedback.TEXT_LIMIT + 3
    (out / "grades.csv").read_bytes().decode("utf-8")


@needs_sandbox
def test_symlinks_are_never_followed(attacked):
    _, out, report = attacked
    assert "linker" not in report["results"] and "linked_folder" not in report["results"]
    assert any("linked_folder: a symbolic link, not followed" in p for p in report["problems"])
    assert any(p.startswith("linker: no notebook found") for p in report["problems"])
    hidden = "BEGIN HIDDEN TESTS"
    for path in (out / "submitted").rglob("*.ipynb"):
        assert hidden not in path.read_text(), path


@needs_sandbox
def test_each_student_has_hidden_cases_of_their_own_and_the_seed_reproduces(attacked,
                                                                             tmp_path):
    folder, _, report = attacked
    assert isinstance(report["seed"], int) and 0 <= report["seed"] < 2**64
    assert report["seed"] > 2**20  # drawn at random, not a small default (this fails 1 in 2**44)

    def hidden_message(r):
        return next(t["message"] for t in r["tests"] if t["grade_id"] == "test_rnn_forward_hidden")

    a, b = result(report, "leaky_a"), result(report, "leaky_b")
    assert hidden_message(a).startswith("hidden test failed: your rnn_forward raised ValueError")
    assert hidden_message(a) != hidden_message(b)  # same code, other cases
    assert a["seed"] == student_seed(report["seed"], "leaky_a") != b["seed"]
    again = tmp_path / "again"
    again.mkdir()
    (again / "leaky_a.ipynb").write_bytes((folder / "leaky_a.ipynb").read_bytes())
    regraded = grade(again, tmp_path / "out", seed=report["seed"])
    assert hidden_message(result(regraded, "leaky_a")) == hidden_message(a)


def test_student_seeds_are_64_bit_and_differ_by_student_and_class_seed():
    seeds = {student_seed(s, n) for s in (0, 1) for n in ("alice", "bob")}
    assert len(seeds) == 4 and all(0 <= s < 2**64 for s in seeds)
    assert student_seed(1, "alice") == student_seed(1, "alice")


# --------------------------------------------------------------- without a sandbox


def test_grading_without_a_sandbox_refuses_unless_told(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    write(folder, "honest.ipynb", honest(UNIT))
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # no bwrap on it
    command = [sys.executable, "-m", "rnnlab", "grade", UNIT, folder, "--quiet", "--jobs", "1"]
    refused = subprocess.run([*command, "--out", tmp_path / "a"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=600)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "refusing to grade" in refused.stderr
    assert "apt-get install -y bubblewrap" in refused.stderr and "--no-sandbox" in refused.stderr
    assert not (tmp_path / "a" / "grades.csv").exists()


# --------------------------------------------------------------- submissions


def test_bad_zip_members_are_reported_and_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    archive = tmp_path / "class.zip"
    good = nbformat.writes(honest(UNIT)).encode()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("class/alice.ipynb", good)
        zf.writestr("class/" + "x" * 300 + ".ipynb", good)  # a name over 255 bytes
        zf.writestr("class/badcrc.ipynb", b"CORRUPTME" + good)
        zf.writestr("class/liar.ipynb", b"SIZELIES" + good)
        zf.writestr("class/bob.ipynb", good)
    data = bytearray(archive.read_bytes())
    data[data.index(b"CORRUPTME")] = ord("c")  # the stored bytes no longer match the CRC
    # The central directory claims liar.ipynb is 7 bytes long.
    entry = data.index(b"PK\x01\x02", data.index(b"class/bob.ipynb")
                       - len("class/liar.ipynb") - 200)
    while not data[entry + 46:].startswith(b"class/liar.ipynb"):
        entry = data.index(b"PK\x01\x02", entry + 1)
    data[entry + 24:entry + 28] = (7).to_bytes(4, "little")
    archive.write_bytes(bytes(data))
    found, problems = collect(archive, UNIT, tmp_path / "out")
    assert sorted(found) == ["alice", "bob"]
    refused = " ".join(problems)
    assert "x" * 300 in refused and "badcrc.ipynb" in refused and "liar.ipynb" in refused
    assert list((tmp_path / "tmp").iterdir()) == []  # the unpacked zip is gone


def test_links_inside_student_folders_are_not_followed(tmp_path):
    folder = tmp_path / "class"
    (folder / "mallory" / "sub").mkdir(parents=True)
    (folder / "mallory" / f"{UNIT}.ipynb").symlink_to(solution(UNIT))
    (folder / "mallory" / "sub" / "inner").symlink_to(solution(UNIT).parent)
    (folder / "alice").mkdir()
    write(folder / "alice", f"{UNIT}.ipynb", blank(UNIT))
    found, problems = collect(folder, UNIT, tmp_path / "out")
    assert list(found) == ["alice"]
    assert problems == ["mallory: no notebook found; mallory not graded"]


def test_zip_links_are_refused(tmp_path):
    archive = tmp_path / "links.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        link = zipfile.ZipInfo("alice/02_rnn_forward.ipynb")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, str(solution(UNIT)))
    target = tmp_path / "x"
    target.mkdir()
    assert safe_extract(archive, target) == ["alice/02_rnn_forward.ipynb"]
    assert not any(target.rglob("*"))


# --------------------------------------------------------------- feedback text


def test_clean_and_escape():
    text = feedback.clean("a\ud800b\x1b[1mc\x1b]0;title\x07d\u202ee\x00f\n" + "g" * 5000)
    assert text.startswith("a\ufffdbcdef\ng") and len(text) == feedback.TEXT_LIMIT + 3
    text.encode("utf-8")
    assert feedback.md_escape("<b>|x|</b> *y* [z](u) &amp;") == \
        "\\<b\\>\\|x\\|\\</b\\> \\*y\\* \\[z\\](u) \\&amp;"


# --------------------------------------------------------------- the Numba cache


NUMBA_PROBE = """
from rnnlab import kernels
_stats = [f.stats for f in vars(kernels).values() if hasattr(f, 'stats')]
raise RuntimeError(f"NUMBA hits={sum(sum(s.cache_hits.values()) for s in _stats)} "
                   f"misses={sum(sum(s.cache_misses.values()) for s in _stats)}")
"""


@needs_sandbox
def test_unit_03_workers_find_the_numba_cache_warm(tmp_path):
    unit = "03_bptt"
    folder = tmp_path / "class"
    folder.mkdir()
    write(folder, "probe.ipynb", append_cells(honest(unit), NUMBA_PROBE))
    report = grade_class(unit, folder, tmp_path / "out", ROOT, limits=Limits(), progress=False,
                         log=lambda line: None, jobs=1, seed=3)
    r = result(report, "probe")
    assert r["score"] == r["max_score"]
    probe = next(c["error"] for c in r["cells"] if c["error"] and "NUMBA" in c["error"])
    hits, misses = (int(part.split("=")[1]) for part in probe.split()[-2:])
    assert misses == 0 and hits > 0, probe


# --------------------------------------------------------------- a Dask cluster


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed", reason="rnnlab[cluster] not installed")
    import dask

    with dask.config.set({"distributed.worker.daemon": False}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=":0") as local:
        yield local.scheduler_address


@needs_sandbox
def test_a_dask_cluster_grades_as_this_machine_does(cluster, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    write(folder, "honest.ipynb", honest(UNIT))
    write(folder, "blank.ipynb", blank(UNIT))
    write(folder, "leaky.ipynb", replace_exercise(honest(UNIT), "rnn_forward", LEAKY_FORWARD))
    here = grade(folder, tmp_path / "here", seed=11)
    there = grade(folder, tmp_path / "there", seed=11, scheduler=cluster)

    def outcome(report):
        return {s: (r["score"], r["status"], [(t["grade_id"], t["message"]) for t in r["tests"]])
                for s, r in report["results"].items()}

    assert outcome(here) == outcome(there)
    assert there["results"]["honest"]["score"] == 10 and there["results"]["blank"]["score"] == 0
    assert (tmp_path / "there" / "grades.csv").read_text() == \
        (tmp_path / "here" / "grades.csv").read_text()


def test_a_cluster_whose_workers_are_daemons_is_refused(tmp_path):
    distributed = pytest.importorskip("distributed", reason="rnnlab[cluster] not installed")
    import dask

    folder = tmp_path / "class"
    folder.mkdir()
    write(folder, "honest.ipynb", honest(UNIT))
    with dask.config.set({"distributed.worker.daemon": True}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                     dashboard_address=":0") as local:
        with pytest.raises(GradingRefusedError, match="DASK_DISTRIBUTED__WORKER__DAEMON=False"):
            grade(folder, tmp_path / "out", seed=1, scheduler=local.scheduler_address,
                  sandbox=False)
