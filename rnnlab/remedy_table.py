"""The source's table of remedies, measured on the adding problem (unit 05).

The source files truncated BPTT, clipping and RMSprop under exploding gradients, and ReLU,
RMSprop and LSTM/GRU under vanishing ones. Each remedy is measured here where it is said
to work, on the adding problem of :mod:`rnnlab.data.adding` (Le et al.'s definition):

* **exploding**: a tanh RNN whose recurrent weights are orthogonal times ``sigma = 1.5``,
  on sequences of :data:`EXPLODING_T` steps, trained with plain SGD: with no remedy, with
  truncated BPTT, with norm clipping, and with RMSprop instead of SGD;
* **vanishing**: five networks (a tanh and a ReLU RNN with torch's default
  initialisation, the IRNN, the LSTM and the GRU), all clipped, on :data:`VANISHING_T`
  steps, each trained once with plain SGD and once with RMSprop.

Every run records the global gradient norm at the first step and the largest seen,
whether it ended finite, the test MSE (the baseline, always predicting 1, scores 1/6) and
the fraction of test sequences solved. ``benchmarks/remedies_table.py`` runs it and writes
:data:`RECORDED`, which the notebook prints with :func:`format_recorded`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from rnnlab import experiments
from rnnlab.remedies import global_norm

EXPLODING_T, VANISHING_T, SIGMA, TRUNCATE = 100, 60, 1.5, 10
SGD_LR, RMSPROP_LR = 0.05, 0.01

#: The rows of the exploding part: (remedy, model of experiments.make_model, config).
EXPLODING = (
    ("no remedy (SGD, full BPTT)", "tanh RNN", {"optimizer": "sgd", "lr": SGD_LR}),
    (f"truncated BPTT, k = {TRUNCATE}", "tanh RNN",
     {"optimizer": "sgd", "lr": SGD_LR, "truncate": TRUNCATE}),
    ("norm clipping to 1", "tanh RNN + clip", {"optimizer": "sgd", "lr": SGD_LR}),
    ("RMSprop instead of SGD", "tanh RNN", {"optimizer": "rmsprop", "lr": RMSPROP_LR}),
)
#: The rows of the vanishing part: (network, model of experiments.make_model).
VANISHING = (("tanh RNN", "tanh RNN + clip"), ("ReLU RNN, default init", "ReLU RNN"),
             ("IRNN (ReLU, Wh = I)", "IRNN"), ("LSTM", "LSTM"), ("GRU", "GRU"))
OPTIMIZERS = {"SGD": {"optimizer": "sgd", "lr": SGD_LR},
              "RMSprop": {"optimizer": "rmsprop", "lr": RMSPROP_LR}}

#: Written by ``benchmarks/remedies_table.py``.
RECORDED = Path(__file__).parent / "data" / "remedies_table.json"


def _record(row: str, kind: str, T: int, seed: int, steps: int, settings: dict) -> dict:
    config = experiments.TrainConfig(steps=steps, **settings)
    r = experiments.train_one(kind, T, seed, "le", config)
    finite = bool(np.all(np.isfinite(r["losses"]))) and math.isfinite(r["mse"])
    return {"row": row, "T": T, "seed": seed, "steps": steps, **settings, "finite": finite,
            **{k: round(float(r[k]), 5) for k in ("first_grad_norm", "max_grad_norm", "mse",
                                                   "solved", "baseline_mse")}}


def run(seeds: tuple[int, ...], exploding_steps: int, vanishing_steps: int,
        progress: bool = True) -> dict:
    """Every row of both parts for every seed: ``{"exploding": [...], "vanishing": [...]}``."""
    from tqdm.auto import tqdm

    jobs = [("exploding", row, kind, EXPLODING_T, exploding_steps, {**cfg, "sigma": SIGMA})
            for row, kind, cfg in EXPLODING]
    jobs += [("vanishing", f"{row}, {name}", kind, VANISHING_T, vanishing_steps, cfg)
             for row, kind in VANISHING for name, cfg in OPTIMIZERS.items()]
    out: dict = {"exploding": [], "vanishing": []}
    for part, row, kind, T, steps, cfg in tqdm(jobs, desc="remedies", disable=not progress):
        out[part] += [_record(row, kind, T, seed, steps, cfg) for seed in seeds]
    return out


def gradient_norms(lengths, sigma: float = SIGMA, truncate: int = TRUNCATE,
                   seed: int = 0) -> dict[str, np.ndarray]:
    """Global gradient norm of an untrained tanh RNN on one batch of 64 sequences of
    each length, with full and with truncated BPTT: ``{"full": (L,), "truncated": (L,)}``.

    The network is the exploding part's (recurrent weights orthogonal times ``sigma``);
    the loss is the mean squared error of its prediction.
    """
    import torch

    from rnnlab.data import adding

    norms: dict[str, list[float]] = {"full": [], "truncated": []}
    for T in lengths:
        x, y = (torch.from_numpy(a) for a in
                adding.adding_problem(64, T, np.random.default_rng([seed, T]), "le"))
        for name, k in (("full", None), ("truncated", truncate)):
            model = experiments.make_model("tanh RNN", seed=seed, sigma=sigma, truncate=k)
            loss = torch.mean((model(x) - y) ** 2)
            grads = torch.autograd.grad(loss, list(model.parameters()))
            norms[name].append(global_norm([g.numpy() for g in grads]))
    return {name: np.array(v) for name, v in norms.items()}


def recorded() -> dict:
    """The recorded run (``{}`` before ``benchmarks/remedies_table.py`` has written one)."""
    return json.loads(RECORDED.read_text()) if RECORDED.is_file() else {}


def _mean(records: list[dict], row: str, key: str) -> float:
    return float(np.mean([r[key] for r in records if r["row"] == row]))


def format_recorded(run: dict) -> str:
    """The recorded run as two text tables, means over the seeds."""
    if not run:
        return f"no recorded run: {RECORDED.name} is missing (python benchmarks/remedies_table.py)"
    ex, va = run["records"]["exploding"], run["records"]["vanishing"]
    lines = [f"RECORDED: `{run['command']}`, {run['seconds'] / 60:.1f} minutes "
             f"({run['machine']}); seeds {', '.join(map(str, run['seeds']))}; means over seeds",
             "", f"Exploding: tanh RNN, Wh orthogonal x {SIGMA}, T = {EXPLODING_T}, "
             f"{ex[0]['steps']} steps, SGD lr {SGD_LR} unless RMSprop (lr {RMSPROP_LR})",
             f"{'remedy':<30}{'grad norm, step 1':>18}{'largest':>12}{'runs finite':>13}"
             f"{'test MSE':>10}{'solved':>8}"]
    for row in dict.fromkeys(r["row"] for r in ex):
        runs = [r for r in ex if r["row"] == row]
        finite = [r for r in runs if r["finite"]]
        mse = f"{np.mean([r['mse'] for r in finite]):10.3g}" if finite else f"{'-':>10}"
        lines.append(f"{row:<30}{_mean(ex, row, 'first_grad_norm'):18.3g}"
                     f"{_mean(ex, row, 'max_grad_norm'):12.3g}"
                     f"{f'{len(finite)} of {len(runs)}':>13}{mse}"
                     f"{_mean(ex, row, 'solved'):8.1%}")
    lines += ["", f"Vanishing: T = {VANISHING_T}, {va[0]['steps']} steps, every network "
                  f"clipped to norm 1; SGD lr {SGD_LR}, RMSprop lr {RMSPROP_LR}",
              f"{'network':<24}{'SGD: test MSE':>15}{'solved':>8}{'RMSprop: test MSE':>19}"
              f"{'solved':>8}"]
    for row, _ in VANISHING:
        cells = "".join(f"{_mean(va, f'{row}, {o}', 'mse'):{w}.3f}"
                        f"{_mean(va, f'{row}, {o}', 'solved'):8.1%}"
                        for o, w in (("SGD", 15), ("RMSprop", 19)))
        lines.append(f"{row:<24}{cells}")
    lines.append(f"{'baseline (predict 1)':<24}{va[0]['baseline_mse']:15.3f}")
    lines += ["", "the most one RMSprop update moves an entry: lr / sqrt(1 - decay) = "
                  f"{evidence(run)['rmsprop_step_bound']:.3g}"]
    return "\n".join(lines)


def evidence(run: dict) -> dict[str, float]:
    """The numbers the notebook's verdicts on the source's table rest on (means over seeds).

    ``finite_no_remedy``: how many runs without a remedy ended finite; ``norm_full`` and
    ``norm_truncated``: the gradient norm at the first step; ``rmsprop_largest``: the
    largest gradient norm RMSprop received; ``rmsprop_step_bound``: the most one RMSprop
    step moves an entry, ``lr / sqrt(1 - decay)`` (a first gradient on an empty mean
    square); then the test MSE of every vanishing row (``"<network>, <optimizer>"``) and
    ``baseline``.
    """
    from rnnlab.training import RMS_DECAY

    ex, va = run["records"]["exploding"], run["records"]["vanishing"]
    rows = [row for row, _, _ in EXPLODING]
    out = {"finite_no_remedy": float(sum(r["finite"] for r in ex if r["row"] == rows[0])),
           "norm_full": _mean(ex, rows[0], "first_grad_norm"),
           "norm_truncated": _mean(ex, rows[1], "first_grad_norm"),
           "rmsprop_largest": _mean(ex, rows[3], "max_grad_norm"),
           "rmsprop_step_bound": RMSPROP_LR / math.sqrt(1 - RMS_DECAY),
           "baseline": va[0]["baseline_mse"]}
    out.update({row: _mean(va, row, "mse") for row in dict.fromkeys(r["row"] for r in va)})
    return out
