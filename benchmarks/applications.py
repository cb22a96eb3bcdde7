"""Record unit 07 in full mode: every application's held-out numbers and training times.

Runs ``solutions/07_applications/07_applications.ipynb`` top to bottom in full mode
(neither ``RNNLAB_FAST`` nor ``NBGRADER_EXECUTION`` set) in a fresh kernel, reads the
notebook's own ``results`` and ``seconds`` from that kernel and writes them to
``rnnlab/data/applications.json``, which the notebook's summary prints beside its own run
as the recorded full run. It also prints how long the whole unit took in full mode
(budget: 10 minutes).

    python benchmarks/applications.py [--note "quiet machine"] [--executed run.ipynb]

``--executed`` also saves the executed notebook, to read every printed number of the run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import date
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "solutions" / "07_applications" / "07_applications.ipynb"
OUT = ROOT / "rnnlab" / "data" / "applications.json"
FULL_BUDGET = 600.0
READ = "import json; print(json.dumps({'results': results, 'seconds': seconds}))"


def main(note: str, executed: str = "") -> None:
    nb = nbformat.read(UNIT, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(READ))
    saved = {k: os.environ.pop(k, None) for k in ("RNNLAB_FAST", "NBGRADER_EXECUTION")}
    load = os.getloadavg()[0]
    try:
        start = time.perf_counter()
        NotebookClient(nb, timeout=1800, kernel_name="python3",
                       resources={"metadata": {"path": str(UNIT.parent)}}).execute()
        elapsed = time.perf_counter() - start
    finally:
        os.environ.update({k: v for k, v in saved.items() if v is not None})
    if executed:
        nbformat.write(nb, executed)
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    result = json.loads(text, parse_float=lambda x: round(float(x), 4))
    result["command"] = "python benchmarks/applications.py"
    result["machine"] = (f"{date.today().isoformat()}, {os.cpu_count()} cores, "
                         f"{platform.machine()}, Python {platform.python_version()}, load "
                         f"average {load:.1f} at the start" + (f"; {note}" if note else ""))
    result["unit_seconds"] = round(elapsed, 1)
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    verdict = "ok" if elapsed <= FULL_BUDGET else "OVER"
    print(f"07_applications in full mode: {elapsed:.0f} s (budget {FULL_BUDGET:.0f} s, "
          f"{verdict}); wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--note", default="", help="a word on the machine, e.g. its load")
    parser.add_argument("--executed", default="", help="also save the executed notebook here")
    args = parser.parse_args()
    main(args.note, args.executed)
