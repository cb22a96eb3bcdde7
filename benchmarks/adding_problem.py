"""Record unit 05's experiment in full mode: the adding problem and the forget-bias ablation.

Runs the full-mode grid of ``solutions/05_remedies`` (:data:`rnnlab.experiments.FULL`:
five models, both definitions, 1000 Adam steps, seeds 0, 1 and 2) with the library's
reference ``clip_grad_norm`` and ``identity_init`` (which compute what the exercises'
solutions compute), then the LSTM's forget-bias ablation on the original definition at
``T = 30``, and writes every run's scores (no loss curves) to
``rnnlab/data/adding_problem.json``. The notebook prints that file as the recorded full
run, beside its own (fast-mode) preview.

    python benchmarks/adding_problem.py [--note "quiet machine"]

``--seeds`` and ``--steps`` shrink the grid when time is short; the file records the grid
that actually ran, so the notebook says what it shows.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict
from pathlib import Path

from full_run import machine

from rnnlab import experiments
from rnnlab.data import adding

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "rnnlab" / "data" / "adding_problem.json"
FORGET_BIASES = (0.0, 1.0, 3.0)
ABLATION_T = 30


def _rounded(records: list[dict]) -> list[dict]:
    return [{k: round(v, 5) if isinstance(v, float) else v for k, v in r.items()}
            for r in experiments.records_without_curves(records)]


def main(note: str, seeds: tuple[int, ...] | None, steps: int | None) -> None:
    load = os.getloadavg()[0]
    start = time.perf_counter()
    command = "python benchmarks/adding_problem.py" + (
        f" --seeds {' '.join(map(str, seeds))}" if seeds else "") + (
        f" --steps {steps}" if steps else "")
    out: dict = {"command": command, "grids": {}, "records": {}}
    for definition in adding.DEFINITIONS:
        g = experiments.grid(definition, fast=False)
        g["seeds"] = tuple(seeds or g["seeds"])
        g["steps"] = steps or g["steps"]
        config = experiments.TrainConfig(steps=g["steps"])
        records = experiments.run_grid(lengths=g["lengths"], seeds=g["seeds"],
                                       definition=definition, config=config)
        out["grids"][definition] = {**g, "config": asdict(config)}
        out["records"][definition] = _rounded(records)
        print(f"\n{definition}: {g}")
        print(experiments.format_table(records, "mse"))
        print(experiments.format_table(records, "solved"))
    g = out["grids"]["hochreiter"]
    ablation = []
    for bias in FORGET_BIASES:
        config = experiments.TrainConfig(steps=g["steps"], forget_bias=bias)
        for r in experiments.run_grid(("LSTM",), (ABLATION_T,), g["seeds"], "hochreiter",
                                      config, progress=False):
            ablation.append({**r, "forget_bias": bias})
    out["forget_bias"] = {"definition": "hochreiter", "T": ABLATION_T, "seeds": g["seeds"],
                          "steps": g["steps"], "records": _rounded(ablation)}
    for bias in FORGET_BIASES:
        solved = [r["solved"] for r in ablation if r["forget_bias"] == bias]
        print(f"LSTM, forget bias {bias:+.0f}, T = {ABLATION_T}: solved "
              f"{sum(solved) / len(solved):.1%} (seeds {g['seeds']})")
    elapsed = time.perf_counter() - start
    out["seconds"] = round(elapsed, 1)
    out["machine"] = machine(load, note)
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"\nadding problem, full grid: {elapsed:.0f} s; wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--note", default="", help="a word on the machine, e.g. its load")
    parser.add_argument("--seeds", type=int, nargs="+", help="fewer seeds than the full grid")
    parser.add_argument("--steps", type=int, help="fewer Adam steps than the full grid")
    args = parser.parse_args()
    main(args.note, tuple(args.seeds) if args.seeds else None, args.steps)
