"""Record unit 08's experiment in full mode: translation by length, with and without attention.

Runs ``solutions/08_attention/08_attention.ipynb`` top to bottom in full mode (neither
``RNNLAB_FAST`` nor ``NBGRADER_EXECUTION`` set) in a fresh kernel, reads the notebook's
own results (``by_length``, ``seconds``, ``STEPS``) from that kernel and writes them to
``rnnlab/data/attention_by_length.json``, which the notebook shows as the recorded full
run. It also prints how long the whole unit took in full mode (budget: 10 minutes).

    python benchmarks/attention_by_length.py [--note "quiet machine"]
"""

from __future__ import annotations

import argparse

from full_run import ROOT, record

OUT = ROOT / "rnnlab" / "data" / "attention_by_length.json"

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--note", default="", help="a word on the machine, e.g. its load")
    args = parser.parse_args()
    record("08_attention", {"by_length": "by_length", "seconds": "seconds", "steps": "STEPS"},
           OUT, "python benchmarks/attention_by_length.py", args.note)
