"""The student's experience in a real browser: JupyterLab on loopback, headless Chromium.

One JupyterLab server (``RNNLAB_FAST=1``, rooted at a throwaway copy of the course) and one
Chromium serve every test of this module. For each released notebook the test does what a
student does: open it, Run > Run All Cells, read what renders, carry on past the blank
exercises, press nbgrader's *Validate*. Screenshots go to ``artifacts/screenshots/``.

Needs Debian's ``chromium`` (``apt-get install chromium``) and the ``playwright`` package;
skips with the reason otherwise. Nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import time
import urllib.parse

import nbformat
import pytest
from browser_helpers import (
    KERNEL_TIMEOUT,
    ROOT,
    SCREENSHOTS,
    VALIDATE_TIMEOUT,
    cell_states,
    chromium,
    course_default_url,
    lab_server,
    make_course_copy,
    open_in_lab,
    released_units,
    run_all,
    run_past_errors,
    screenshot_notebook,
    wait_cells_done,
    wait_kernel_ready,
)
from conftest import needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]
UNITS = released_units()


def release(unit):
    return ROOT / "notebooks" / unit / f"{unit}.ipynb"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(server, browser context, course copy) shared by the module's tests."""
    state = tmp_path_factory.mktemp("browser")
    root = make_course_copy(state / "course")
    with lab_server(root, state) as server, chromium(state / "profile") as context:
        context.set_default_timeout(60_000)
        yield server, context, root


@pytest.fixture
def page(lab):
    server, context, _root = lab
    page = context.new_page()
    yield page
    page.close()
    for session in server.api("sessions"):  # free the kernels: two shared cores
        server.api(f"sessions/{session['id']}", method="DELETE")


def completed_notebook(unit, root):
    """The release with every exercise filled in from solutions/: a finished student's work."""
    solved = {c.metadata["nbgrader"]["grade_id"]: c.source
              for c in nbformat.read(ROOT / "solutions" / unit / f"{unit}.ipynb", 4).cells
              if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.read(release(unit), 4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and not meta.get("grade"):
            cell.source = solved[meta["grade_id"]]
    path = root / "completed" / unit / f"{unit}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path.relative_to(root).as_posix()


def validate(page, unit_label):
    """Press the notebook toolbar's Validate (nbgrader's Lab extension); return the dialog."""
    button = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button")
    assert button.count() == 1, (
        "no Validate button in the notebook toolbar: nbgrader's Lab extension is missing "
        "(jupyter labextension list)")
    button.locator("jp-button, button").first.click()
    dialog = page.locator(".jp-Dialog").filter(has=page.locator("#validation-message"))
    dialog.wait_for(timeout=VALIDATE_TIMEOUT)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SCREENSHOTS / f"{unit_label}-validate.png"))
    message = dialog.locator("#validation-message")
    result = (message.get_attribute("class") or "", message.inner_text())
    dialog.locator(".jp-Dialog-button.jp-mod-accept, .jp-Dialog-button").last.click()
    return result


@pytest.mark.parametrize("unit", UNITS)
def test_blank_release_renders_and_validates(unit, lab, page):
    server, _context, _root = lab
    nb = nbformat.read(release(unit), 4)
    started = time.monotonic()
    open_in_lab(page, server, f"notebooks/{unit}/{unit}.ipynb")
    wait_kernel_ready(page)

    # Run > Run All Cells stops at the first blank exercise (its NotImplementedError).
    run_all(page)
    states = cell_states(page)
    assert len(states) == len(nb.cells), "the notebook shows a different number of cells"
    ran_with_error = [s for s in states if s["errors"]]
    assert ran_with_error, "Run All raised nothing: where is the blank exercise?"
    assert "NotImplementedError" in ran_with_error[0]["errors"][0], ran_with_error[0]

    # A student carries on past each blank exercise (Run Selected Cell and All Below).
    run_past_errors(page)
    states = cell_states(page)
    not_run = [s for s in states if s["code"] and not re.fullmatch(r"\[\d+\]:", s["prompt"])]
    assert not_run == [], f"cells never ran: {not_run}"
    for state, cell in zip(states, nb.cells):
        grade = cell.metadata.get("nbgrader", {}).get("grade", False)
        allowed = ("NotImplementedError", "AssertionError") if grade else ("NotImplementedError",)
        for error in state["errors"]:
            last = [line for line in error.strip().splitlines() if line.strip()][-1]
            assert last.startswith(allowed), (
                f"cell {state['index']} raised {last!r} on a blank release; only "
                f"{' or '.join(allowed)} is allowed:\n{cell.source[:300]}")

    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    # Headings: the title (one h1, the notebook's first line) and sections.
    title = re.match(r"#\s+(.+)", nb.cells[0].source).group(1).strip()
    h1 = panel.locator(".jp-MarkdownOutput h1")
    assert h1.count() == 1 and h1.first.inner_text().strip().rstrip("¶").strip() == title
    assert panel.locator(".jp-MarkdownOutput h2").count() >= 2
    # Maths is typeset, not shown as raw $...$.
    if any("$" in c.source for c in nb.cells if c.cell_type == "markdown"):
        assert panel.locator(".jp-MarkdownOutput mjx-container").count() > 0, "LaTeX not typeset"
    # Figures: at least one, every one decoded by the browser.
    images = panel.locator(".jp-OutputArea-output img")
    assert images.count() >= 1, "no figure rendered"
    sizes = images.evaluate_all("els => els.map(e => [e.complete, e.naturalWidth])")
    assert all(done and width > 0 for done, width in sizes), f"broken images: {sizes}"
    # Progress bars are tqdm's notebook widgets, not text fallbacks or widget errors.
    outputs = panel.locator(".jp-OutputArea").all_inner_texts()
    joined = "\n".join(outputs)
    assert "IProgress not found" not in joined, "tqdm fell back to text: ipywidgets missing"
    assert "Error displaying widget" not in joined
    if "tqdm" in "".join(c.source for c in nb.cells if c.cell_type == "code"):
        assert panel.locator(".widget-hprogress, .jupyter-widgets .widget-progress").count() > 0, \
            "the notebook uses tqdm but no progress bar widget rendered"

    shot = screenshot_notebook(page, unit)
    assert shot.stat().st_size > 10_000
    ran_for = time.monotonic() - started

    # Validate, as the student would: a blank notebook fails, and says why.
    kind, text = validate(page, unit)
    assert "validation-failed" in kind, f"Validate on a blank notebook said: {kind}\n{text[:2000]}"
    assert "The following cell failed" in text and "NotImplementedError" in text, text[:2000]
    assert "There was an error running the validate command" not in text
    print(f"{unit}: run all + past errors {ran_for:.0f} s, with Validate "
          f"{time.monotonic() - started:.0f} s; screenshot {shot}")


@pytest.mark.parametrize("unit", UNITS[:1] if UNITS else [])
def test_completed_notebook_validates(unit, lab, page):
    """A finished notebook runs without an error and Validate says it passes."""
    server, _context, root = lab
    path = completed_notebook(unit, root)
    open_in_lab(page, server, path)
    wait_kernel_ready(page)
    run_all(page)
    errors = [s for s in cell_states(page) if s["errors"]]
    assert errors == [], f"a completed notebook raised: {errors[:2]}"
    kind, text = validate(page, f"{unit}-completed")
    assert "validation-success" in kind and "passes all the tests" in text, text[:2000]


def test_course_index_renders_the_units_in_order(lab, page):
    """./course lab (and the Binder badge) open notebooks/README.md: a self-learner must see
    it rendered, with a link to every released unit, in course order, that opens it."""
    server, _context, _root = lab
    default_url = course_default_url()
    badge = re.search(r"urlpath=([^)\s]+)", (ROOT / "README.md").read_text())
    assert badge and "/" + badge.group(1) == default_url, \
        f"the Binder badge ({badge and badge.group(1)}) and ./course lab ({default_url}) differ"
    page.goto(server.lab_url(default_url))
    page.wait_for_selector(".lm-DockPanel-tabBar .lm-TabBar-tab", timeout=60_000)
    page.wait_for_timeout(1500)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "course-index.png"))
    main = page.locator("#jp-main-dock-panel")
    if main.locator(".jp-RenderedMarkdown").count() == 0:
        assert main.locator(".jp-FileEditor").count() == 1
        reason = ("the course index opens as raw Markdown source in the text editor, not "
                  "rendered: JupyterLab's default viewer for .md is the Editor")
        if not (ROOT / "binder" / "overrides.json").exists():
            pytest.xfail(reason + " (fix proposed: binder/overrides.json sets defaultViewers)")
        pytest.fail(reason + "; binder/overrides.json exists but is not installed in the "
                    "environment's share/jupyter/lab/settings/")
    rendered = main.locator(".jp-RenderedMarkdown").first
    assert rendered.locator("h1").count() == 1
    hrefs = rendered.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    # JupyterLab rewrites relative links to absolute /files/... addresses with a query.
    paths = [urllib.parse.urlsplit(h).path for h in hrefs if h]
    linked = [p.split("/")[-2] for p in paths if p.endswith(".ipynb")]
    assert linked == UNITS, f"the index links {linked}; released units are {UNITS}"
    assert rendered.locator("table").count() >= 1  # units with what each teaches and the time
    rendered.locator("a[href*='.ipynb']").first.click()
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden)", timeout=60_000)


def interactive_units():
    return [u for u in UNITS if re.search(r"ipywidgets|interact\(|\bslider\b",
                                          release(u).read_text(), re.I)]


@pytest.mark.parametrize("unit", interactive_units() or
                         [pytest.param(None, marks=pytest.mark.skip(
                             reason="no released notebook has an interactive figure yet"))])
def test_sliders_redraw_their_figure(unit, lab, page):
    """Every ipywidgets slider of a notebook redraws its figure when moved (keyboard)."""
    server, _context, root = lab
    open_in_lab(page, server, completed_notebook(unit, root))
    wait_kernel_ready(page)
    run_all(page)
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    cells = panel.locator(".jp-CodeCell").filter(has=page.locator(".widget-slider"))
    cells.first.wait_for(timeout=60_000)
    assert cells.count() > 0, "the notebook mentions widgets but no slider rendered"
    for i in range(cells.count()):
        cell = cells.nth(i)
        slider = cell.locator(".widget-slider").first
        cell.locator("img").first.wait_for(timeout=60_000)  # widgets render after idle
        before = cell.locator("img").evaluate_all("els => els.map(e => e.src)")
        assert before, f"slider {i}: no figure in its cell"
        handle = slider.locator(".noUi-handle, input[type=range]").first
        handle.focus()
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        page.keyboard.press("PageUp")
        page.wait_for_function(
            """([cell, before]) => {
                const now = [...cell.querySelectorAll('img')].map(e => e.src);
                return now.length > 0 && JSON.stringify(now) !== JSON.stringify(before);
            }""", arg=[cell.element_handle(), before], timeout=60_000)
        wait_cells_done(page, KERNEL_TIMEOUT)
    screenshot_notebook(page, f"{unit}-slider")


@pytest.mark.skipif(importlib.util.find_spec("rnnlab.__main__") is None,
                    reason="no self-check command yet (python -m rnnlab check)")
@pytest.mark.parametrize("unit", UNITS[:1])
def test_self_check_command_fails_a_blank_notebook(unit, tmp_path):
    """The self-learner's check: it must fail (non-zero) on a blank notebook, and say why."""
    copy = tmp_path / f"{unit}.ipynb"
    copy.write_text(release(unit).read_text())
    result = subprocess.run([sys.executable, "-m", "rnnlab", "check", str(copy)],
                            capture_output=True, text=True, timeout=300,
                            env={**__import__("os").environ, "RNNLAB_FAST": "1"})
    assert result.returncode != 0, "a failing check exited 0:\n" + result.stdout[-2000:]
    assert "NotImplementedError" in result.stdout + result.stderr


def test_screenshots_are_not_committed():
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "artifacts/" in ignored and SCREENSHOTS.is_relative_to(ROOT / "artifacts")
