"""Helpers for the browser tests: a JupyterLab server on loopback and headless Chromium.

The server runs from a throwaway copy of the course (``notebooks/`` and
``nbgrader_config.py``) so that running cells, saving and validating never touch the
repository. Chromium is Debian's ``chromium`` package driven by Playwright; nothing is
downloaded.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from conftest import CHROMIUM, ROOT

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

# Bounds on every wait, in milliseconds: generous on two shared cores, never unbounded.
START_TIMEOUT_S = 90          # JupyterLab server up
PAGE_TIMEOUT = 60_000         # the Lab front end loaded, a notebook opened
KERNEL_TIMEOUT = 240_000      # Run All on one unit in fast mode (budget 90 s, margin x2.5)
VALIDATE_TIMEOUT = 300_000    # nbgrader's Validate runs the whole notebook server-side


def released_units() -> list[str]:
    """Every released unit: notebooks/<unit>/<unit>.ipynb, in course order."""
    return sorted(p.parent.name for p in (ROOT / "notebooks").glob("*/*.ipynb")
                  if p.stem == p.parent.name)


def course_default_url() -> str:
    """The page ``./course lab`` opens (its ``--LabApp.default_url``)."""
    match = re.search(r"--LabApp\.default_url=(\S+)", (ROOT / "course").read_text())
    assert match, "./course lab no longer sets --LabApp.default_url"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_course_copy(dest: Path) -> Path:
    """Lay out the course as a student sees it: notebooks/ and nbgrader's config."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "notebooks", dest / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", dest)
    return dest


def _user_settings(settings_dir: Path) -> None:
    """Quiet the Lab front end (no news toast: it would try to reach the network) and draw
    every cell (no windowing), so that screenshots hold the whole notebook and cells do not
    move while the test clicks them."""
    for plugin, values in {
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        "notebook-extension/tracker": {"windowingMode": "none"},
    }.items():
        path = settings_dir / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


class LabServer:
    """A running ``jupyter lab``: its URL, token and log."""

    def __init__(self, root: Path, state: Path, env_extra: dict[str, str] | None = None):
        self.root, self.state = root, state
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = state / "jupyter.log"
        settings = state / "user-settings"
        _user_settings(settings)
        env = dict(os.environ)
        env.update({
            "RNNLAB_FAST": "1",
            "JUPYTER_CONFIG_DIR": str(state / "config"),
            "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
            "IPYTHONDIR": str(state / "ipython"),
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            # nbgrader's Validate calls alembic as a subprocess: the environment's bin/ first.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]]),
        })
        env.pop("NBGRADER_EXECUTION", None)
        env.update(env_extra or {})
        self.command = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={state / 'workspaces'}",
            "--LabApp.news_url=", "--ServerApp.terminals_enabled=True",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI and these machines run as root
            self.command.append("--ServerApp.allow_root=True")
        self._log = open(self.log_path, "w")  # closed in stop()
        self.process = subprocess.Popen(self.command, cwd=root, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def api(self, path: str, method: str = "GET", timeout: float = 10) -> dict:
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"{}")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited ({self.process.returncode}):\n"
                                   + self.log())
            try:
                self.api("status", timeout=2)
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.5)
        raise TimeoutError(f"jupyter lab not up after {START_TIMEOUT_S} s:\n" + self.log())

    def lab_url(self, path: str) -> str:
        """The address of ``path`` with the token; ``reset`` starts from an empty workspace
        (no tabs restored from an earlier page)."""
        sep = "&" if "?" in path else "?"
        return f"{self.url}{path}{sep}reset&token={self.token}"

    def log(self, tail: int = 6000) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-tail:]

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.api("shutdown", method="POST", timeout=5)
                self.process.wait(timeout=15)
            except Exception:  # a server that does not answer is ended by its id
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)
        self._log.close()


@contextmanager
def lab_server(root: Path, state: Path, env_extra: dict[str, str] | None = None):
    server = LabServer(root, state, env_extra)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@contextmanager
def chromium(profile: Path):
    """A headless Chromium from Debian's package, in a fresh profile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000}, accept_downloads=False)
        try:
            yield context
        finally:
            context.close()


# ---------------------------------------------------------------- the Lab front end

def open_in_lab(page, server: LabServer, path: str) -> None:
    """Open /lab/tree/<path> and wait until the document's tab is there."""
    page.goto(server.lab_url(f"/lab/tree/{path}"), timeout=PAGE_TIMEOUT)
    page.wait_for_selector("#jp-main-dock-panel", timeout=PAGE_TIMEOUT)
    name = path.rsplit("/", 1)[-1]
    page.wait_for_selector(f".lm-DockPanel-tabBar .lm-TabBar-tab[title*='{name}'], "
                           f".lm-DockPanel-tabBar .lm-TabBar-tab:has-text('{name}')",
                           timeout=PAGE_TIMEOUT)


def current_notebook(page):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first


def wait_kernel_ready(page) -> None:
    """Wait until the notebook's kernel has started and is idle."""
    page.wait_for_function(
        """() => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            if (!panel) return false;
            const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
            return status && status.getAttribute('data-status') === 'idle';
        }""", timeout=KERNEL_TIMEOUT)


def click_menu(page, menu: str, item: str) -> None:
    """Click a menu of the menu bar, then one of its items (by its visible label).

    Retries while the item is disabled (the notebook not yet the current widget)."""
    for _ in range(20):
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
        entry = page.locator(".lm-Menu-item").filter(
            has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")))
        entry.first.wait_for(timeout=10_000)
        if "lm-mod-disabled" not in (entry.first.get_attribute("class") or ""):
            entry.first.click()
            return
        page.keyboard.press("Escape")
        page.wait_for_timeout(500)
    raise AssertionError(f"menu {menu} > {item} stayed disabled")


def focus_notebook(page) -> None:
    """Click into the open notebook (its first cell), as a student does before running it."""
    select_cell(page, 0)


def wait_cells_done(page, timeout: int = KERNEL_TIMEOUT) -> None:
    """Wait until no cell is queued or running ([*]) and the kernel is idle."""
    page.wait_for_function(
        """() => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            if (!panel) return false;
            const prompts = [...panel.querySelectorAll('.jp-InputArea-prompt')];
            if (prompts.some(p => p.textContent.includes('*'))) return false;
            const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
            return status && status.getAttribute('data-status') === 'idle';
        }""", timeout=timeout, polling=500)


def run_all(page) -> None:
    """Run > Run All Cells, as a student does, and wait for the kernel to finish."""
    focus_notebook(page)
    click_menu(page, "Run", "Run All Cells")
    wait_execution_started(page)
    wait_cells_done(page)


def wait_execution_started(page, index: int | None = None) -> None:
    """Wait until cell ``index`` (default: the first code cell) is queued, running or done
    ([*] or [n])."""
    page.wait_for_function(
        """(index) => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            if (!panel) return false;
            const cell = index === null ? panel.querySelector('.jp-CodeCell')
                : panel.querySelectorAll('.jp-Notebook .jp-Cell')[index];
            const prompt = cell && cell.querySelector('.jp-InputArea-prompt');
            return prompt && /\\[(\\*|\\d+)\\]/.test(prompt.textContent);
        }""", arg=index, timeout=PAGE_TIMEOUT, polling=200)


def cell_states(page) -> list[dict]:
    """For every code cell of the open notebook: its prompt, error names and images."""
    return page.evaluate(
        """() => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            return [...panel.querySelectorAll('.jp-Notebook .jp-Cell')].map((cell, index) => {
                const prompt = cell.querySelector('.jp-InputArea-prompt');
                const errors = [...cell.querySelectorAll(
                    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
                    .map(e => e.textContent);
                return {
                    index,
                    code: cell.classList.contains('jp-CodeCell'),
                    prompt: prompt ? prompt.textContent.trim() : '',
                    errors,
                    images: cell.querySelectorAll('.jp-OutputArea-output img').length,
                    text: cell.querySelector('.jp-InputArea-editor')?.textContent?.slice(0, 80) || '',
                };
            });
        }""")


def run_past_errors(page, max_rounds: int = 60) -> int:
    """After Run All stopped at an error, carry on as a student would: select the first
    code cell that never ran, Run > Run Selected Cell and All Below; repeat to the end.

    Returns how many times the run was restarted.
    """
    for rounds in range(max_rounds):
        states = cell_states(page)
        not_run = [s for s in states if s["code"] and not re.fullmatch(r"\[\d+\]:", s["prompt"])]
        if not not_run:
            return rounds
        target = not_run[0]["index"]
        select_cell(page, target)
        click_menu(page, "Run", "Run Selected Cell and All Below")
        wait_execution_started(page, target)
        wait_cells_done(page)
    raise AssertionError(f"cells still not run after {max_rounds} restarts")


def select_cell(page, index: int) -> None:
    """Make cell ``index`` the active cell (click its prompt; check; retry)."""
    from playwright.sync_api import Error as PlaywrightError

    for _ in range(8):
        cell = current_notebook(page).locator(".jp-Notebook .jp-Cell").nth(index)
        try:  # the notebook may re-render just after it opened: find the cell again
            cell.scroll_into_view_if_needed(timeout=5_000)
            cell.locator(".jp-InputPrompt").click(timeout=5_000)
            page.keyboard.press("Escape")
            page.wait_for_timeout(200)
            if "jp-mod-active" in (cell.get_attribute("class") or ""):
                return
        except PlaywrightError:
            page.wait_for_timeout(1000)
    raise AssertionError(f"could not select cell {index}")


def screenshot_notebook(page, name: str) -> Path:
    """A screenshot of the whole open notebook: the viewport is made as tall as it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate(
        """() => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)'
                                                  + ' .jp-WindowedPanel-outer')
                || document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
            return panel ? panel.scrollHeight : 1000;
        }""")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 200, 30_000)})
    page.wait_for_timeout(500)
    page.evaluate("""() => document.querySelectorAll(
        '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer').forEach(
        e => { e.scrollTop = 0; })""")
    page.wait_for_timeout(800)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    page.set_viewport_size(size)
    return path
