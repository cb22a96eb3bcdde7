"""The instructor's class report (``class_report.html``, ``report.json``'s ``summary``),
built from synthetic results: no sandbox, no grading."""

import base64
import json
import re
from html.parser import HTMLParser

from rnnlab.grader import class_report

EVIL = '<script>alert("x")</script>'
TESTS = [("test_a_visible", 1), ("test_a_hidden", 2), ("test_b_hidden", 3)]


def student(passed, messages=None, asserted=True, status="graded", message=""):
    """A result: which tests passed (a set of grade ids), the failures' messages."""
    messages = messages or {}
    tests = [{"grade_id": gid, "max_points": pts, "points": pts if gid in passed else 0.0,
              "passed": gid in passed, "hidden": gid.endswith("_hidden"),
              "message": "" if gid in passed else messages.get(gid, "wrong"),
              "asserted": asserted and gid not in passed} for gid, pts in TESTS]
    if status != "graded":
        tests = []
    return {"status": status, "message": message, "tests": tests,
            "score": float(sum(t["points"] for t in tests)), "max_score": 6.0}


def report(results):
    return {"unit": "02_rnn_forward", "seed": 1, "sandbox": True,
            "solution": {"score": 6.0}, "results": results,
            "summary": class_report.summary(results, 6.0)}


class Page(HTMLParser):
    """Tags, text and image sources of a page."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.text, self.images = [], [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_data(self, data):
        self.text.append(data)


def cells(html, header):
    """The rows of the table whose first header cell is ``header``, as lists of text."""
    table = html.split(f"<th>{header}</th>", 1)[1].split("</table>", 1)[0]
    return [re.findall(r"<td>(.*?)</td>", row) for row in table.split("<tr>")[1:]]


def test_histogram_pass_rates_and_not_graded_are_counted():
    results = {"ann": student({"test_a_visible", "test_a_hidden", "test_b_hidden"}),
               "bob": student({"test_a_visible"}),
               "cat": student({"test_a_visible", "test_a_hidden"}),
               "dan": student(set(), status="invalid", message="not JSON"),
               "eve": student(set(), status="killed", message="took longer than 1800 s")}
    s = class_report.summary(results, 6.0)
    assert (s["students"], s["graded"], s["mean_score"]) == (5, 3, (6 + 1 + 3) / 3)
    assert s["histogram"]["bins"] == [[i, i + 1] for i in range(7)]
    assert s["histogram"]["counts"] == [0, 1, 0, 1, 0, 0, 1]  # 1, 3 and 6 points
    assert s["pass_rates"] == {
        "test_a_visible": {"passed": 3, "graded": 3, "rate": 1.0},
        "test_a_hidden": {"passed": 2, "graded": 3, "rate": 2 / 3},
        "test_b_hidden": {"passed": 1, "graded": 3, "rate": 1 / 3}}
    assert s["not_graded"] == {"dan": "invalid", "eve": "killed"}
    html = class_report.render(report(results))
    assert cells(html, "test cell") == [["test_a_visible", "3", "3", "100%"],
                                        ["test_a_hidden", "2", "3", "67%"],
                                        ["test_b_hidden", "1", "3", "33%"]]
    assert cells(html, "score")[1] == ["1", "1"] and cells(html, "score")[6] == ["6", "1"]
    assert cells(html, "student") == [["dan", "invalid", "not JSON"],
                                      ["eve", "killed", "took longer than 1800 s"]]


def test_wide_scores_get_wider_bins():
    h = class_report.histogram([0, 39.5, 40, 100], 100)
    assert h["bins"][0] == [0, 5] and h["bins"][-1] == [100, 105] and len(h["bins"]) == 21
    assert h["counts"][0] == 1 and h["counts"][7] == 1 and h["counts"][8] == 1
    assert h["counts"][-1] == 1 and sum(h["counts"]) == 4


def test_named_mistakes_are_counted_once_per_student():
    tw = "hs is off [mistake: transposed_Wh]: your hs is what Wh.T gives"
    results = {
        # Named twice by two tests: one student.
        "ann": student({"test_a_visible"}, {"test_a_hidden": "hidden test failed: " + tw,
                                            "test_b_hidden": tw}),
        "bob": student(set(), {"test_a_visible": tw,
                               "test_b_hidden": "[mistake: no_bias] [mistake: off-by.1]"}),
        "cat": student(set(), {"test_a_visible": "[mistake: no_bias]"}),
        # The student's own exception names a mistake: not counted.
        "dan": student(set(), {"test_a_visible": "your f raised ValueError: [mistake: fake]"},
                       asserted=False),
        # A passed test's message (none) and malformed tags name nothing.
        "eve": student({"test_a_visible", "test_a_hidden", "test_b_hidden"}),
        "fay": student(set(), {"test_a_visible": "[mistake: bad id] [mistake:x] [mistake: ]"}),
    }
    s = class_report.summary(results, 6.0)
    assert s["mistakes"] == {
        "no_bias": {"students": 2, "tests": ["test_b_hidden", "test_a_visible"]},
        "transposed_Wh": {"students": 2,
                          "tests": ["test_a_hidden", "test_b_hidden", "test_a_visible"]},
        "off-by.1": {"students": 1, "tests": ["test_b_hidden"]}}
    html = class_report.render(report(results))
    assert cells(html, "mistake") == [
        ["no_bias", "2", "test_b_hidden, test_a_visible"],
        ["transposed_Wh", "2", "test_a_hidden, test_b_hidden, test_a_visible"],
        ["off-by.1", "1", "test_b_hidden"]]
    assert "fake" not in html
    assert len(Page(html).images) == 3  # scores, pass rates, mistakes


def test_text_from_submissions_is_escaped():
    results = {EVIL: student(set(), {"test_a_visible": EVIL + " [mistake: x]"}),
               f"{EVIL}2": student(set(), status="error", message=EVIL + "\x1b[31m")}
    html = class_report.render(report(results))
    page = Page(html)
    assert "script" not in page.tags and "<script>" not in html and "\x1b" not in html
    assert html.count("&lt;script&gt;") == 2  # the id and the message of the ungraded one
    assert cells(html, "student") == [[
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;2", "error",
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"]]
    # The page needs nothing from the network: its only images are inline PNGs.
    assert not re.search(r"(src|href)=\"(?!data:image/png;base64,)", html)
    for src in page.images:
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG")
    json.dumps(report(results))  # the summary is plain data


def test_a_class_with_nobody_graded():
    results = {"ann": student(set(), status="invalid", message="not a notebook"),
               "bob": student(set(), status="killed", message="used 3000 MB")}
    s = class_report.summary(results, 6.0)
    assert (s["graded"], s["mean_score"], s["pass_rates"], s["mistakes"]) == (0, None, {}, {})
    assert sum(s["histogram"]["counts"]) == 0
    html = class_report.render(report(results))
    assert "No student was graded." in html and "<img" not in html
    assert cells(html, "student") == [["ann", "invalid", "not a notebook"],
                                      ["bob", "killed", "used 3000 MB"]]
    assert class_report.render(report({})).count("No student was graded.") == 1
