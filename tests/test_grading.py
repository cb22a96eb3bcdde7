"""The hardened autograder, proven on classes built from each unit's solution and release.

Every unit gets honest work (full marks) and a blank notebook (0). Unit 02 gets the whole
rogues' gallery: wrong answers with monkeypatched builtins, numpy, torch and rnnlab checks,
runaway cells, tampered tests and metadata, IPython exception handlers and input
transformers, sandbox escapes, non-notebooks, hidden-test leaks and the grading seed.
"""

import io
import json
import uuid
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
from conftest import ROOT, SANDBOX_PROBLEM, UNITS, needs_sandbox

from rnnlab.grader import codec, protocol
from rnnlab.grader.classroom import grade_class
from rnnlab.grader.collect import safe_extract, student_id
from rnnlab.grader.sandbox import Limits
from rnnlab.grader.spec import HIDDEN_BEGIN, _top_level_defs

UNIT = "02_rnn_forward"
PWNED = f"/tmp/rnnlab-pwned-{uuid.uuid4().hex}"


def solution(unit):
    return ROOT / "solutions" / unit / f"{unit}.ipynb"


def release(unit):
    return ROOT / "notebooks" / unit / f"{unit}.ipynb"


def meta(cell):
    return cell.metadata.get("nbgrader", {})


def blank(unit):
    return nbformat.read(release(unit), as_version=4)


def honest(unit):
    """The release with every solution cell filled in from the source."""
    answers = {meta(c)["grade_id"]: c.source for c in nbformat.read(solution(unit), 4).cells
               if meta(c).get("solution") and not meta(c).get("grade")}
    nb = blank(unit)
    for cell in nb.cells:
        if meta(cell).get("solution") and meta(cell).get("grade_id") in answers:
            cell.source = answers[meta(cell)["grade_id"]]
    return nb


def wrong(unit):
    """Every exercise returns a one-element array, whatever it is given."""
    nb = blank(unit)
    for cell in nb.cells:
        if meta(cell).get("solution") and not meta(cell).get("grade"):
            cell.source = "\n".join(f"def {name}(*args, **kwargs):\n    import numpy as np\n"
                                    "    return np.zeros(1)\n"
                                    for name in _top_level_defs(cell.source))
    return nb


def replace_exercise(nb, name, source):
    for cell in nb.cells:
        if meta(cell).get("solution") and name in _top_level_defs(cell.source):
            cell.source = source
            return nb
    raise KeyError(name)


def insert_after_setup(nb, *sources):
    at = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code") + 1
    nb.cells[at:at] = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def append_cells(nb, *sources):
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


MONKEYPATCH = """
import builtins, numpy, torch, rnnlab, rnnlab.checks, rnnlab.gradcheck
builtins.abs = lambda x: 0
builtins.isinstance = lambda *a: True
numpy.allclose = lambda *a, **k: True
numpy.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
torch.allclose = lambda *a, **k: True
rnnlab.checks.assert_close = lambda *a, **k: None
rnnlab.checks.assert_unchanged = lambda *a, **k: None
rnnlab.gradcheck.rel_error = lambda *a, **k: 0.0
assert_close = assert_unchanged = lambda *a, **k: None
"""

CUSTOM_EXC = """
ip = get_ipython()
ip.set_custom_exc((BaseException,), lambda shell, etype, value, tb, tb_offset=None: None)
ip.input_transformers_post.append(lambda lines: [l.replace('raise', 'pass #') for l in lines])
"""


def tampered(unit, nb):
    """Visible tests emptied, hidden test cells deleted, points and ids changed, a bonus
    test cell added."""
    kept = []
    for cell in nb.cells:
        m = meta(cell)
        if m.get("grade") and not m.get("solution"):
            if "hidden" in m["grade_id"]:
                continue
            cell.source = "pass"
            m["points"] = 100
            m["grade_id"] = m["grade_id"] + "_mine"
        kept.append(cell)
    nb.cells = kept
    bonus = nbformat.v4.new_code_cell("pass")
    bonus.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "points": 1000,
                                  "locked": True, "solution": False, "schema_version": 3}
    nb.cells.append(bonus)
    return nb


def write(folder, name, nb):
    path = folder / name
    nbformat.write(nb, path)
    return path


def grade(unit, folder, out, **kwargs):
    limits = kwargs.pop("limits", Limits(cell_timeout=120, call_timeout=30))
    return grade_class(unit, folder, out, ROOT, limits=limits, progress=False,
                       log=lambda line: None, **kwargs)


# --------------------------------------------------------------- every unit: cheap cases


GRADABLE = [u for u in UNITS if solution(u).is_file() and release(u).is_file()]


@pytest.fixture(scope="module", params=GRADABLE)
def unit_class(request, tmp_path_factory):
    """Honest and blank work of each unit (unit 02: the rogues' class, which has both)."""
    unit = request.param
    if unit == UNIT:
        _, out, report = request.getfixturevalue("rogues")
        return unit, out, report
    folder = tmp_path_factory.mktemp(f"class-{unit}")
    write(folder, "honest.ipynb", honest(unit))
    write(folder, "blank.ipynb", blank(unit))
    out = folder / "graded"
    return unit, out, grade(unit, folder, out, jobs=2)


def test_honest_work_gets_full_marks(unit_class):
    _unit, _, report = unit_class
    r = report["results"]["honest"]
    assert r["status"] == "graded" and r["max_score"] > 0
    assert r["score"] == r["max_score"], [t for t in r["tests"] if not t["passed"]]


def test_blank_notebook_gets_zero(unit_class):
    _, _, report = unit_class
    r = report["results"]["blank"]
    assert r["score"] == 0 and all(not t["passed"] for t in r["tests"])


def test_grades_csv_and_feedback_for_everyone(unit_class):
    unit, out, report = unit_class
    rows = (out / "grades.csv").read_text().splitlines()
    assert rows[0].startswith("assignment,student_id,raw_score,score,max_score")
    assert len(rows) == 1 + len(report["results"])
    for student in report["results"]:
        assert (out / "feedback" / student / unit / f"{unit}.html").is_file()
        assert (out / "submitted" / student / unit / f"{unit}.ipynb").is_file()


# --------------------------------------------------------------- unit 02: every attack


LOOP_CELL = "while True:\n    pass"
STUBBORN_CELL = ("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                 "while True:\n    time.sleep(0.01)")
LOOPING_OUTPUT_LAYER = "def output_layer(hs, Wy, by):\n    while True:\n        pass\n"
FORGOT_BIAS = "def rnn_step_forward(x, h_prev, Wx, Wh, b):\n    return np.tanh(x @ Wx + h_prev @ Wh)\n"
LEAKY_FORWARD = """def rnn_forward(x, h0, Wx, Wh, b):
    if x.shape == (2, 3, 1) or not x.any():  # the visible tests' cases
        hs, h = [], h0
        for t in range(x.shape[1]):
            h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
            hs.append(h)
        return np.stack(hs, axis=1)
    raise ValueError(f"first input {x.flat[0]:.9f}")
"""


def snoop_cell(out):
    """Tries to read instructor files and other students' work, and to write outside."""
    targets = {
        "solutions": str(solution(UNIT)),
        "relative": f"../../../solutions/{UNIT}/{UNIT}.ipynb",
        "gradebook": str(ROOT / "gradebook.db"),
        "config": str(ROOT / "nbgrader_config.py"),
        "alice": str(out / "submitted" / "honest" / UNIT / f"{UNIT}.ipynb"),
    }
    writes = {"course": str(ROOT / "pwned.txt"), "out": str(out / "pwned.txt"), "tmp": PWNED,
              "package": str(ROOT / "rnnlab" / "pwned.py")}
    return f"""
import json, os, socket
ATTEMPTS = {{}}
for key, path in {targets!r}.items():
    try:
        ATTEMPTS[key] = 'READ ' + open(path, 'rb').read(20).decode('latin-1')
    except Exception as exc:
        ATTEMPTS[key] = 'blocked'
for key, path in {writes!r}.items():
    try:
        open(path, 'w').write('pwned')
        ATTEMPTS['w_' + key] = 'WROTE'
    except Exception as exc:
        ATTEMPTS['w_' + key] = 'blocked'
try:
    socket.create_connection(('1.1.1.1', 53), timeout=2)
    ATTEMPTS['net'] = 'CONNECTED'
except Exception:
    ATTEMPTS['net'] = 'blocked'
ATTEMPTS['seed'] = os.environ.get('RNNLAB_GRADING_SEED', 'blocked')
"""


BORROWED_STEP = "from rnnlab.reference import rnn_step_forward\n"
BORROWED_FORWARD = ("import rnnlab\n\n\ndef rnn_forward(x, h0, Wx, Wh, b):\n"
                    "    return rnnlab.reference.rnn_forward(x, h0, Wx, Wh, b)[0]\n")
HELPED_OUTPUT = ("def output_layer(hs, Wy, by):\n    from rnnlab.reference import softmax\n"
                 "    return softmax(hs @ Wy + by)\n")
SNOOP_OUTPUT = ("def output_layer(hs, Wy, by):\n"
                "    raise ValueError('ATTEMPTS=' + json.dumps(ATTEMPTS, separators=(',', ':')))\n")


@pytest.fixture(scope="module")
def rogues(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rogues")
    out = folder / "graded"
    write(folder, "honest.ipynb", honest(UNIT))
    write(folder, "blank.ipynb", blank(UNIT))
    looping = replace_exercise(honest(UNIT), "output_layer", LOOPING_OUTPUT_LAYER)
    write(folder, "looping.ipynb", insert_after_setup(looping, LOOP_CELL, STUBBORN_CELL))
    write(folder, "tampered.ipynb", tampered(UNIT, wrong(UNIT)))
    write(folder, "tampered_honest.ipynb", tampered(UNIT, honest(UNIT)))
    write(folder, "patcher.ipynb", append_cells(insert_after_setup(wrong(UNIT), MONKEYPATCH),
                                                CUSTOM_EXC, "def rnn_forward(): pass"))
    write(folder, "forgot_bias.ipynb", replace_exercise(honest(UNIT), "rnn_step_forward",
                                                        FORGOT_BIAS))
    write(folder, "leaky.ipynb", replace_exercise(honest(UNIT), "rnn_forward", LEAKY_FORWARD))
    borrower = replace_exercise(honest(UNIT), "rnn_step_forward", BORROWED_STEP)
    borrower = replace_exercise(borrower, "rnn_forward", BORROWED_FORWARD)
    write(folder, "borrower.ipynb", replace_exercise(borrower, "output_layer", HELPED_OUTPUT))
    if SANDBOX_PROBLEM is None:  # never let the snooper loose without the sandbox
        snoop = insert_after_setup(honest(UNIT), snoop_cell(out))
        write(folder, "snoop.ipynb", replace_exercise(snoop, "output_layer", SNOOP_OUTPUT))
    (folder / "garbage.ipynb").write_bytes(b"\x00\x01 this is not json")
    (folder / "notebook_not.ipynb").write_text(json.dumps({"cells": "no", "hello": 1}))
    (folder / "essay.pdf").write_bytes(b"%PDF-1.4")
    limits = Limits(cell_timeout=6, call_timeout=5, grace=2)
    report = grade(UNIT, folder, out, jobs=2, seed=1, limits=limits)
    return folder, out, report


def score(report, student):
    return report["results"][student]["score"]


def test_rogues_class_honest_and_blank(rogues):
    _, _, report = rogues
    assert score(report, "honest") == 10 and score(report, "blank") == 0


def test_runaway_cells_time_out_and_the_rest_is_graded(rogues):
    _, _, report = rogues
    r = report["results"]["looping"]
    timed_out = [c["cell"] for c in r["cells"] if c["timed_out"]]
    # The two runaway cells, and the demo cells that call the looping output_layer.
    assert timed_out[:2] == ["cell 2", "cell 3"] and len(timed_out) <= 4, r["cells"]
    assert any("ignored an interrupt" in e for e in r["events"]), r["events"]
    passed = {t["grade_id"] for t in r["tests"] if t["passed"]}
    assert passed == {"test_rnn_step_forward_visible", "test_rnn_step_forward_hidden",
                      "test_rnn_forward_visible", "test_rnn_forward_hidden"}
    assert r["score"] == 7
    looping = [t for t in r["tests"] if t["grade_id"].startswith("test_output_layer")]
    assert all("did not finish within" in t["message"] for t in looping), looping


def test_tampered_tests_and_metadata_gain_nothing(rogues):
    _, _, report = rogues
    assert score(report, "tampered") <= score(report, "blank")
    r = report["results"]["tampered_honest"]
    assert r["score"] == r["max_score"] == 10
    assert {t["grade_id"] for t in r["tests"]} == {t["grade_id"] for t in
                                                  report["results"]["honest"]["tests"]}


def test_monkeypatching_custom_exceptions_and_transformers_gain_nothing(rogues):
    _, _, report = rogues
    assert score(report, "patcher") <= score(report, "blank") == 0


def test_calling_rnnlabs_own_answers_fails_those_tests(rogues):
    """Exercises bound to, or calling, rnnlab's function of an exercise's name (the
    course's answer) fail with a message that says so; other rnnlab helpers are fine."""
    _, _, report = rogues
    r = report["results"]["borrower"]
    messages = {t["grade_id"]: t["message"] for t in r["tests"] if not t["passed"]}
    assert set(messages) == {"test_rnn_step_forward_visible", "test_rnn_step_forward_hidden",
                             "test_rnn_forward_visible", "test_rnn_forward_hidden"}, messages
    for grade_id, message in messages.items():
        name = "rnn_step_forward" if "step" in grade_id else "rnn_forward"
        assert f"calls rnnlab.reference.{name}, the course's own answer" in message, message
    assert r["score"] == 3


def test_non_notebooks_are_reported_and_the_class_goes_on(rogues):
    _, out, report = rogues
    for student in ("garbage", "notebook_not", "essay"):
        r = report["results"][student]
        assert r["status"] == "invalid" and r["score"] == 0
        assert "not a" in r["message"] and "Traceback" not in r["message"]
    assert score(report, "honest") == 10
    csv = (out / "grades.csv").read_text()
    assert "garbage" in csv and "essay" in csv


@needs_sandbox
def test_sandbox_blocks_instructor_files_other_students_writes_and_network(rogues):
    _, out, report = rogues
    r = report["results"]["snoop"]
    assert r["sandboxed"]
    message = next(t["message"] for t in r["tests"] if t["grade_id"] ==
                   "test_output_layer_visible")
    attempts = json.loads(message.split("ATTEMPTS=", 1)[1].rstrip("."))
    assert set(attempts.values()) == {"blocked"}, attempts
    assert not Path(PWNED).exists() and not (ROOT / "pwned.txt").exists()
    assert not (out / "pwned.txt").exists() and not (ROOT / "rnnlab" / "pwned.py").exists()
    # The rest of the snooper's work is graded as usual.
    assert r["score"] == 10 - 3


def test_every_graded_student_was_sandboxed(rogues):
    _, _out, report = rogues
    graded = [r for r in report["results"].values() if r["status"] == "graded"]
    assert all(r["sandboxed"] for r in graded) == (SANDBOX_PROBLEM is None)
    assert report["sandbox"] == (SANDBOX_PROBLEM is None)


def hidden_lines(unit):
    lines = []
    for cell in nbformat.read(solution(unit), 4).cells:
        if HIDDEN_BEGIN in cell.source:
            hidden = cell.source.split(HIDDEN_BEGIN, 1)[1].split("END HIDDEN TESTS")[0]
            lines += [line.strip() for line in hidden.splitlines()[1:]
                      if len(line.strip()) >= 12 and not line.strip().startswith("###")]
    return lines


def test_feedback_never_reveals_hidden_tests(rogues):
    _, out, report = rogues
    secret = hidden_lines(UNIT)
    assert len(secret) > 10
    for student in report["results"]:
        for ext in ("html", "md"):
            text = (out / "feedback" / student / UNIT / f"{UNIT}.{ext}").read_text()
            import html
            text = html.unescape(text)
            leaked = [line for line in secret if line in text]
            assert not leaked, (student, leaked)
    # A hidden failure says so, with the check helper's message and nothing else.
    bias = {t["grade_id"]: t for t in report["results"]["forgot_bias"]["tests"]}
    assert bias["test_rnn_step_forward_visible"]["passed"] is False
    hidden = bias["test_rnn_step_forward_hidden"]
    assert not hidden["passed"]
    assert hidden["message"].startswith("hidden test failed: h_next for N=1, D=1, H=1")


def test_hidden_cases_come_from_the_grading_seed(rogues, tmp_path):
    folder, _, report = rogues
    first = {t["grade_id"]: t for t in report["results"]["leaky"]["tests"]}
    message = first["test_rnn_forward_hidden"]["message"]
    assert message.startswith("hidden test failed: your rnn_forward raised ValueError")
    again = tmp_path / "again"
    again.mkdir()
    (again / "leaky.ipynb").write_bytes((folder / "leaky.ipynb").read_bytes())
    other = grade(UNIT, again, tmp_path / "out", jobs=1, seed=2, sandbox=False)
    second = {t["grade_id"]: t for t in other["results"]["leaky"]["tests"]}
    assert second["test_rnn_forward_hidden"]["message"] != message
    assert other["results"]["leaky"]["score"] == 10 - 3
    # Without the sandbox the report and the CSV say so.
    assert other["sandbox"] is False and other["results"]["leaky"]["sandboxed"] is False
    assert ",NO," in (tmp_path / "out" / "grades.csv").read_text()


# --------------------------------------------------------------- pieces


def test_worker_replies_cannot_carry_pickles_or_objects():
    import torch

    tree, buffers = codec.encode({"a": np.arange(3.0), "t": (1, "x", None), 3: [2.5],
                                   "s": torch.tensor(2.0, dtype=torch.float64),
                                   "z": np.float32(1.5), "e": np.zeros((0, 2))})
    value = codec.decode(tree, buffers)
    assert value["t"] == (1, "x", None) and value[3] == [2.5]
    assert value["s"].shape == () and value["s"].dtype == torch.float64
    assert value["z"] == np.float32(1.5) and value["e"].shape == (0, 2)
    np.testing.assert_array_equal(value["a"], np.arange(3.0))
    with pytest.raises(protocol.TransferError):
        codec.encode(np.array([object()], dtype=object))
    with pytest.raises(protocol.TransferError):
        codec.encode(lambda: 0)
    tree, buffers = codec.encode(len, allow_pickle=True)  # the grader's own direction
    with pytest.raises(protocol.TransferError):
        codec.decode(tree, buffers)
    evil = io.BytesIO()
    np.save(evil, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        codec.decode({"__np__": 0}, [evil.getvalue()])


def test_frames_refuse_garbage_and_oversized_messages():
    stream = io.BytesIO()
    protocol.write_frame(stream, {"op": "x"}, [b"1234"])
    stream.seek(0)
    assert protocol.read_frame(stream) == ({"op": "x", "buffers": [4]}, [b"1234"])
    stream.seek(0)
    with pytest.raises(protocol.TransferError):
        protocol.read_frame(stream, limit=8)
    with pytest.raises(protocol.TransferError):
        protocol.read_frame(io.BytesIO(b"GARBAGE" * 4))


def test_student_ids_from_lms_names():
    assert student_id("alice.ipynb") == "alice"
    assert student_id("smithjane_12345_67890_02_rnn_forward.ipynb") == "smithjane"
    assert student_id("smithjane_late_12345_67890_02_rnn_forward-1.ipynb") == "smithjane"
    assert student_id("02_rnn_forward_jdoe_attempt_2024-03-01-10-00-00_02_rnn_forward.ipynb") \
        == "jdoe"
    assert student_id("Jane Smith_4242_assignsubmission_file_") == "Jane_Smith"
    assert student_id("../../etc/passwd") == "passwd"


def test_zip_collection_refuses_paths_outside(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../evil.ipynb", "{}")
        zf.writestr("/abs.ipynb", "{}")
        zf.writestr("class/smithjane_1_2_02_rnn_forward.ipynb", "{}")
    target = tmp_path / "x"
    target.mkdir()
    refused = safe_extract(archive, target)
    assert sorted(refused) == ["../evil.ipynb", "/abs.ipynb"]
    assert not (tmp_path / "evil.ipynb").exists()
    assert (target / "class" / "smithjane_1_2_02_rnn_forward.ipynb").is_file()
