"""What a student reads after grading: the terminal lines of ``rnnlab check`` and feedback.

Feedback shows, per test cell, pass or fail and the points. A failed visible test gives
its message (the student can read that test in the notebook). A failed hidden test
gives ``hidden test failed`` and at most a message written for students (see
:func:`rnnlab.grader.runner.failure_message`); never the hidden source, a traceback line or
what the hidden code printed.

Every text in a result may come from a submission (an exception's message, what a test
printed). :func:`clean_result` makes each one valid UTF-8 without terminal escapes or
control characters and cuts it to :data:`TEXT_LIMIT` characters; the HTML page escapes
it for HTML (:func:`html_escape`) and the Markdown page for Markdown (:func:`md_escape`).
"""

from __future__ import annotations

import html
import re
import textwrap
from pathlib import Path
from typing import Any

from rnnlab.grader.codec import clean_text
from rnnlab.grader.results import points as _points
from rnnlab.grader.spec import HIDDEN_SUFFIX

TEXT_LIMIT = 3000  # characters of any one text of a result
# Terminal escapes (CSI and OSC sequences), then any other control character except
# newline and tab, and the Unicode controls that reorder text on screen.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_MARKDOWN = re.compile(r"([\\`*_\[\]<>|&!~#])")


def clean(text: Any, limit: int = TEXT_LIMIT) -> str:
    """``text`` as valid UTF-8 (:func:`rnnlab.grader.codec.clean_text`: a lone surrogate
    becomes U+FFFD), without terminal escapes or control characters, cut to ``limit``
    characters."""
    return clean_text(_CONTROLS.sub("", _ESCAPES.sub("", clean_text(text))), limit)


def clean_result(value: Any) -> Any:
    """A copy of a grading result with :func:`clean` applied to every text in it."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(k) if isinstance(k, str) else k: clean_result(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_result(v) for v in value]
    return value


def html_escape(text: Any) -> str:
    """``text`` :func:`clean` and escaped for HTML (text and quoted attribute values)."""
    return html.escape(clean(text))


def md_escape(text: Any) -> str:
    """``text`` on one line, every character that Markdown (or raw HTML in Markdown) would
    read as markup backslash-escaped."""
    return _MARKDOWN.sub(r"\\\1", clean(text)).replace("\n", " ").replace("\t", " ")


def visible_part_only(test: dict) -> bool:
    """Whether a test cell ran without its hidden part: a release's cell named as having
    one (:data:`~rnnlab.grader.spec.HIDDEN_SUFFIX`) whose hidden cases nbgrader removed."""
    return not test.get("hidden") and str(test["grade_id"]).endswith(HIDDEN_SUFFIX)


def label(test: dict) -> str:
    """The test's grade id and, for a cell with hidden cases, whether they ran."""
    if visible_part_only(test):
        return f"{test['grade_id']} (visible part; the hidden cases run at grading)"
    if test.get("hidden"):
        return f"{test['grade_id']} (hidden cases included)"
    return str(test["grade_id"])


def result_line(test: dict, width: int = 36) -> str:
    """One line per test: verdict, id (:func:`label`, padded to ``width``), points, and the
    reason for a failure."""
    verdict = "passed" if test["passed"] else "FAILED"
    line = f"{verdict:<7} {clean(label(test)):<{width}} {_points(test['points']):>4}/" \
           f"{_points(test['max_points']):<4}"
    if not test["passed"] and test.get("message"):
        line += f"  {clean(test['message'])}"
    return line


def cell_problems(result: dict) -> list[str]:
    """Notebook cells that timed out or raised (other than a blank exercise's error)."""
    lines = []
    for cell in result.get("cells", []):
        if cell.get("timed_out"):
            lines.append(f"{cell['cell']}: stopped: {cell['error']}")
        elif cell.get("error") and not str(cell["error"]).startswith("NotImplementedError"):
            lines.append(f"{cell['cell']}: raised {cell['error']}")
    return lines


def summary_line(result: dict) -> str:
    return f"total {_points(result['score'])}/{_points(result['max_score'])}"


def check_summary(result: dict) -> list[str]:
    """The last lines of ``rnnlab check``: the total, and which tests it leaves out."""
    tests = result["tests"]
    partial = [t for t in tests if visible_part_only(t)]
    if any(t.get("hidden") for t in tests):
        note = ("This notebook still holds its hidden tests (an instructor's source): they "
                "ran here, and grading draws other random cases for each student.")
    elif partial:
        points = _points(sum(t["max_points"] for t in partial))
        note = (f"Visible tests only: {len(partial)} of these {len(tests)} test cells "
                f"({points} of the {_points(result['max_score'])} points) are the visible part "
                "of a graded test. Their hidden cases run only when your instructor grades, "
                "and can fail where the visible part passed.")
    else:
        note = "Visible tests only; none of these test cells has hidden cases."
    return [summary_line(result), *textwrap.wrap(note, 88)]


def sandbox_warning(result: dict) -> str | None:
    if result.get("status") == "invalid" or result.get("sandboxed"):
        return None
    return "WARNING: graded WITHOUT the sandbox: the submission's code could read and write " \
           "anything this user can"


def markdown(result: dict, unit: str, student: str) -> str:
    """Feedback for one student, in Markdown."""
    out = [f"# Feedback: {md_escape(unit)}, {md_escape(student)}", ""]
    if result["status"] != "graded":
        out += [f"Not graded: {md_escape(result['message'])}", ""]
    out += [f"**Score: {_points(result['score'])} / {_points(result['max_score'])}**", "",
            "| test | result | points | details |", "|---|---|---|---|"]
    for test in result["tests"]:
        details = md_escape(test.get("message") or "")
        out.append(f"| {md_escape(test['grade_id'])}"
                   f"{' (has hidden tests)' if test['hidden'] else ''} | "
                   f"{'passed' if test['passed'] else 'failed'} | {_points(test['points'])}/"
                   f"{_points(test['max_points'])} | {details} |")
    problems = cell_problems(result)
    if problems:
        out += ["", "Notebook cells that did not run to the end:", ""]
        out += [f"- {md_escape(p)}" for p in problems]
    return "\n".join(out) + "\n"


def render_html(result: dict, unit: str, student: str) -> str:
    """Feedback for one student, as a standalone HTML page (every text escaped)."""

    e = html_escape
    rows = []
    for test in result["tests"]:
        output = "" if test["hidden"] or not test.get("output") else \
            f"<pre>{e(test['output'][-2000:])}</pre>"
        hidden = " <em>(hidden tests)</em>" if test["hidden"] else ""
        rows.append(f"<tr class=\"{'pass' if test['passed'] else 'fail'}\">"
                    f"<td>{e(test['grade_id'])}{hidden}"
                    f"</td><td>{'passed' if test['passed'] else 'failed'}</td>"
                    f"<td>{_points(test['points'])}/{_points(test['max_points'])}</td>"
                    f"<td>{e(test.get('message') or '')}{output}</td></tr>")
    problems = "".join(f"<li>{e(p)}</li>" for p in cell_problems(result))
    status = "" if result["status"] == "graded" else f"<p>Not graded: {e(result['message'])}</p>"
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{e(unit)}: {e(student)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}
td,th{{border-bottom:1px solid #ccc;padding:.3em .6em;vertical-align:top}}
tr.pass td:nth-child(2){{color:#161}} tr.fail td:nth-child(2){{color:#a11}}
pre{{background:#f6f6f6;padding:.4em;overflow-x:auto}}</style></head><body>
<h1>Feedback: {e(unit)}, {e(student)}</h1>{status}
<p><strong>Score: {_points(result['score'])} / {_points(result['max_score'])}</strong></p>
<table><tr><th>test</th><th>result</th><th>points</th><th>details</th></tr>
{''.join(rows)}</table>
{f'<h2>Notebook cells that did not run to the end</h2><ul>{problems}</ul>' if problems else ''}
</body></html>
"""


def write_feedback(out: Path, unit: str, student: str, result: dict) -> Path:
    """nbgrader's layout: ``feedback/<student>/<unit>/<unit>.html`` (and ``.md``)."""
    folder = out / "feedback" / student / unit
    folder.mkdir(parents=True, exist_ok=True)
    result = clean_result(result)
    (folder / f"{unit}.md").write_text(markdown(result, unit, student), encoding="utf-8",
                                       errors="replace")
    path = folder / f"{unit}.html"
    path.write_text(render_html(result, unit, student), encoding="utf-8", errors="replace")
    return path
