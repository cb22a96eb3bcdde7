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

from full_run import ROOT, record

OUT = ROOT / "rnnlab" / "data" / "applications.json"

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--note", default="", help="a word on the machine, e.g. its load")
    parser.add_argument("--executed", default="", help="also save the executed notebook here")
    args = parser.parse_args()
    record("07_applications", {"results": "results", "seconds": "seconds"}, OUT,
           "python benchmarks/applications.py", args.note, args.executed)
