"""The class at a glance, for its instructor: ``class_report.html`` beside ``grades.csv``.

:func:`summary` counts, from the results of ``rnnlab grade``, what the page shows and
``report.json`` keeps under ``summary``:

* the **score histogram** of the graded students (bins of whole points, or wider for
  more than 20 points; a bin holds its low edge, not its high one);
* the **pass rate** of every test cell, over the graded students;
* the **named mistakes**: for each mistake id, the number of distinct students a failed
  test told ``[mistake: ID]``, and in which tests. Only the test's own assertion counts
  (``asserted`` in its result): the text of an exception the submission raised is the
  student's, and could name any mistake;
* the students **not graded** (status other than ``graded``: ``invalid``, ``killed``,
  ``error``), who are left out of the three above.

:func:`render` makes the self-contained page (no network: the figures are PNG images
drawn with Matplotlib's Agg canvas and embedded in base64). Student ids and messages come
from submissions: every text on the page goes through
:func:`rnnlab.grader.feedback.html_escape`.
"""

from __future__ import annotations

import base64
import io
import math
import re
from pathlib import Path
from typing import Any

from rnnlab.grader.feedback import html_escape as e
from rnnlab.grader.results import points

MISTAKE = re.compile(r"\[mistake: ([A-Za-z0-9_.-]+)\]")
MAX_BINS = 20


def mistakes_named(test: dict) -> list[str]:
    """The mistake ids a failed test's own assertion names (none for a passed test)."""
    if test.get("passed") or not test.get("asserted"):
        return []
    return list(dict.fromkeys(MISTAKE.findall(str(test.get("message", "")))))


def histogram(scores: list[float], max_score: float) -> dict:
    """Counts of ``scores`` in bins ``[low, high)`` from 0 past ``max_score``."""
    width = max(1, math.ceil(max_score / MAX_BINS))
    bins = [[i * width, (i + 1) * width] for i in range(int(max_score // width) + 1)]
    counts = [0] * len(bins)
    for score in scores:
        counts[min(max(int(score // width), 0), len(bins) - 1)] += 1
    return {"bins": bins, "counts": counts}


def summary(results: dict[str, dict], max_score: float) -> dict:
    """What the class report shows, as plain data (``report.json``'s ``summary``)."""
    graded = {s: r for s, r in sorted(results.items()) if r.get("status") == "graded"}
    scores = [float(r["score"]) for r in graded.values()]
    rates: dict[str, dict] = {}
    mistakes: dict[str, dict] = {}
    for student, result in graded.items():
        for test in result["tests"]:
            rate = rates.setdefault(test["grade_id"], {"passed": 0, "graded": 0})
            rate["graded"] += 1
            rate["passed"] += bool(test["passed"])
            for mistake in mistakes_named(test):
                seen = mistakes.setdefault(mistake, {"students": [], "tests": []})
                if student not in seen["students"]:
                    seen["students"].append(student)
                if test["grade_id"] not in seen["tests"]:
                    seen["tests"].append(test["grade_id"])
    for rate in rates.values():
        rate["rate"] = rate["passed"] / rate["graded"]
    order = sorted(mistakes, key=lambda m: (-len(mistakes[m]["students"]), m))
    return {
        "students": len(results), "graded": len(graded), "max_score": max_score,
        "mean_score": sum(scores) / len(scores) if scores else None,
        "histogram": histogram(scores, max_score),
        "pass_rates": rates,
        "mistakes": {m: {"students": len(mistakes[m]["students"]),
                         "tests": mistakes[m]["tests"]} for m in order},
        "not_graded": {s: r.get("status") for s, r in sorted(results.items())
                       if r.get("status") != "graded"},
    }


# --------------------------------------------------------------------------- figures


def _png(draw, height: float) -> str:
    """An ``<img>`` of what ``draw(ax)`` draws, as base64 PNG (no pyplot, no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, height), dpi=90, layout="constrained")
    FigureCanvasAgg(figure)
    alt = draw(figure.add_subplot())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{e(alt)}">'


def _histogram_figure(s: dict) -> str:
    def draw(ax) -> str:
        bins, counts = s["histogram"]["bins"], s["histogram"]["counts"]
        lows = [low for low, _ in bins]
        if bins[0][1] - bins[0][0] == 1:  # one bar per whole point, over its value
            ax.bar(lows, counts, width=0.8, color="#4a7ab5")
            ax.set_xticks(lows)
        else:
            ax.bar(lows, counts, width=[high - low for low, high in bins], align="edge",
                   color="#4a7ab5", edgecolor="white")
        ax.set_xlabel(f"score (out of {points(s['max_score'])})")
        ax.set_ylabel("students")
        ax.set_title(f"Scores of the {s['graded']} graded students")
        ax.yaxis.get_major_locator().set_params(integer=True)
        return "histogram of the scores"

    return _png(draw, 3)


def _bars_figure(labels: list[str], values: list[float], xlabel: str, title: str,
                 limit: float | None = None) -> str:
    def draw(ax) -> str:
        ax.barh(range(len(labels)), values, color="#4a7ab5")
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        ax.set_title(title)
        if limit is not None:
            ax.set_xlim(0, limit)
        else:
            ax.xaxis.get_major_locator().set_params(integer=True)
        return title

    return _png(draw, 1 + 0.3 * len(labels))


# --------------------------------------------------------------------------- the page


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _scores(s: dict) -> str:
    if not s["graded"]:
        return "<p>No student was graded.</p>"
    rows = [[f"{points(low)} to {points(high)}" if high - low > 1 else points(low), count]
            for (low, high), count in zip(s["histogram"]["bins"], s["histogram"]["counts"])]
    return (_histogram_figure(s) + "<p>A bar counts the scores from its value up to, not "
            "including, the next bar's.</p>" + _table(["score", "students"], rows))


def _pass_rates(s: dict) -> str:
    rates = s["pass_rates"]
    if not rates:
        return "<p>No test ran: no student was graded.</p>"
    figure = _bars_figure(list(rates), [100 * r["rate"] for r in rates.values()],
                          "students who passed (%)", "Pass rate of each test cell", 100)
    return figure + _table(["test cell", "passed", "graded", "pass rate"], [
        [t, r["passed"], r["graded"], f"{100 * r['rate']:.0f}%"] for t, r in rates.items()])


def _mistakes(s: dict) -> str:
    found = s["mistakes"]
    if not found:
        return "<p>No failed test named a mistake.</p>"
    figure = _bars_figure(list(found), [m["students"] for m in found.values()], "students",
                          "Students who made each named mistake")
    return figure + _table(["mistake", "students", "named by"], [
        [m, n["students"], ", ".join(n["tests"])] for m, n in found.items()])


def _not_graded(s: dict, results: dict[str, dict]) -> str:
    if not s["not_graded"]:
        return "<p>Every student was graded.</p>"
    return _table(["student", "status", "why"], [
        [student, status, str(results.get(student, {}).get("message", ""))[:300]]
        for student, status in s["not_graded"].items()])


def render(report: dict) -> str:
    """The class report page of ``report`` (``rnnlab grade``'s, with its ``summary``)."""
    s, unit = report["summary"], report["unit"]
    mean = "" if s["mean_score"] is None else \
        f"; mean score {s['mean_score']:.2f} / {points(s['max_score'])}"
    solution = report.get("solution") or {}
    warning = "" if solution.get("score") in (None, s["max_score"]) else \
        (f"<p class=\"warn\">The instructor's own notebook scored {points(solution['score'])}"
         f" / {points(s['max_score'])}: check the tests before reading on.</p>")
    if not report.get("sandbox", True):
        warning += "<p class=\"warn\">Graded WITHOUT the sandbox.</p>"
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Class report: {e(unit)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}
td,th{{border-bottom:1px solid #ccc;padding:.2em .6em;text-align:left;vertical-align:top}}
img{{max-width:100%}} .warn{{color:#a11;font-weight:bold}}</style></head><body>
<h1>Class report: {e(unit)}</h1>
<p>{s['students']} students collected, {s['graded']} graded, {len(s['not_graded'])} not
graded{mean}. The figures and tables count graded students only.</p>{warning}
<h2>Scores</h2>{_scores(s)}
<h2>Pass rate of each test cell</h2>{_pass_rates(s)}
<h2>Named mistakes</h2>
<p>Students whose failed tests named the mistake (<code>[mistake: ID]</code> in a test's
message), counted once per student.</p>{_mistakes(s)}
<h2>Not graded</h2>{_not_graded(s, report.get("results", {}))}
</body></html>
"""


def write(path: Path, report: dict) -> Path:
    """Write :func:`render` of ``report`` to ``path`` (UTF-8)."""
    path.write_text(render(report), encoding="utf-8", errors="replace")
    return path
