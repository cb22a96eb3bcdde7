"""Run one unit's solution notebook in full mode and record what its kernel holds.

Shared by the recorders of full-mode results (``applications.py``, ``attention_by_length.py``):
the notebook runs top to bottom in a fresh kernel with neither ``RNNLAB_FAST`` nor
``NBGRADER_EXECUTION`` set; one extra cell prints, as JSON, the variables the recorder asks
for; the result gets the machine, the load and the unit's time, and is written to a
small file under ``rnnlab/data/`` that the notebook reads back as its recorded run.
"""

from __future__ import annotations

import json
import os
import platform
import time
from datetime import date
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
FULL_BUDGET = 600.0  # seconds: a unit in full mode on two cores (COURSE.md)


def machine(load: float, note: str = "") -> str:
    """Where and when a recording ran: date, cores, platform, the load at its start."""
    return (f"{date.today().isoformat()}, {os.cpu_count()} cores, {platform.machine()}, "
            f"Python {platform.python_version()}, load average {load:.1f} at the start"
            + (f"; {note}" if note else ""))


def execute(path: Path, nb, variables: dict[str, str] | None = None) -> float:
    """Seconds to run ``nb`` (read from ``path``) in a fresh kernel in its folder, with
    ``variables`` set and ``RNNLAB_FAST``/``NBGRADER_EXECUTION`` otherwise unset (full mode
    when ``variables`` is empty); the environment is restored afterwards."""
    variables = variables or {}
    saved = {k: os.environ.pop(k, None) for k in ("RNNLAB_FAST", "NBGRADER_EXECUTION")}
    os.environ.update(variables)  # the kernel inherits the environment
    try:
        start = time.perf_counter()
        NotebookClient(nb, timeout=1800, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        return time.perf_counter() - start
    finally:
        for k in variables:
            os.environ.pop(k)
        os.environ.update({k: v for k, v in saved.items() if v is not None})


def record(unit: str, read: dict[str, str], out: Path, command: str, note: str = "",
           executed: str = "") -> dict:
    """Run ``solutions/<unit>`` in full mode; write ``{name: value of expression}`` for
    ``read``, with the machine, to ``out``; print the unit's time against the budget."""
    path = ROOT / "solutions" / unit / f"{unit}.ipynb"
    nb = nbformat.read(path, as_version=4)
    fields = ", ".join(f"{name!r}: {expression}" for name, expression in read.items())
    nb.cells.append(nbformat.v4.new_code_cell(f"import json; print(json.dumps({{{fields}}}))"))
    load = os.getloadavg()[0]
    elapsed = execute(path, nb)
    if executed:
        nbformat.write(nb, executed)
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    result = json.loads(text, parse_float=lambda x: round(float(x), 4))
    result["command"] = command
    result["machine"] = machine(load, note)
    result["unit_seconds"] = round(elapsed, 1)
    out.write_text(json.dumps(result, indent=1) + "\n")
    verdict = "ok" if elapsed <= FULL_BUDGET else "OVER"
    print(f"{unit} in full mode: {elapsed:.0f} s (budget {FULL_BUDGET:.0f} s, {verdict}); "
          f"wrote {out.relative_to(ROOT)}")
    return result
