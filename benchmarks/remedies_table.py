"""Record unit 05's measured table of remedies (:mod:`rnnlab.remedy_table`).

Trains every row of both parts (exploding: a tanh RNN with sigma = 1.5 on long sequences,
plain SGD with no remedy, truncated BPTT, norm clipping, or RMSprop; vanishing: five
networks, each with plain SGD and with RMSprop) for every seed, and writes the scores to
``rnnlab/data/remedies_table.json``, which the notebook prints as a recorded run.

    python benchmarks/remedies_table.py [--seeds 0 1 2] [--note "quiet machine"]
"""

from __future__ import annotations

import argparse
import json
import os
import time

from full_run import ROOT, machine

from rnnlab import remedy_table

EXPLODING_STEPS, VANISHING_STEPS = 600, 1000


def main(seeds: tuple[int, ...], note: str) -> None:
    load, start = os.getloadavg()[0], time.perf_counter()
    records = remedy_table.run(seeds, EXPLODING_STEPS, VANISHING_STEPS)
    out = {"command": "python benchmarks/remedies_table.py"
                      + (f" --seeds {' '.join(map(str, seeds))}" if seeds != (0, 1, 2) else ""),
           "seeds": list(seeds), "records": records,
           "seconds": round(time.perf_counter() - start, 1), "machine": machine(load, note)}
    remedy_table.RECORDED.write_text(json.dumps(out, indent=1) + "\n")
    print(remedy_table.format_recorded(out))
    print(f"wrote {remedy_table.RECORDED.relative_to(ROOT)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--note", default="", help="a word on the machine, e.g. its load")
    args = parser.parse_args()
    main(tuple(args.seeds), args.note)
