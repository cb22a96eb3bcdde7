"""The adding-problem comparison of unit 05: which recurrent networks learn long gaps.

Five models read an adding-problem sequence (:mod:`rnnlab.data.adding`) and predict its
target from their last hidden state through one linear unit:

===================== ==========================================================
``"tanh RNN"``        ``torch.nn.RNN(tanh)``, torch's default initialisation
``"tanh RNN + clip"`` the same network, gradients clipped to a global norm
``"IRNN"``            ``torch.nn.RNN(relu)``, ``Wh = I``, zero biases, small ``Wx``
                      (Le, Jaitly and Hinton 2015), gradients clipped
``"LSTM"``            ``torch.nn.LSTM``, gradients clipped
``"GRU"``             ``torch.nn.GRU``, gradients clipped
===================== ==========================================================

Every model trains with Adam on the mean squared error of fresh batches, is scored on
one fixed test set per length, and is compared with the baseline that always predicts
the target's mean. Clipping and the IRNN's initialisation are NumPy functions passed in
(``clip_fn``, ``init_fn``; by default :func:`rnnlab.remedies.clip_grad_norm` and
:func:`rnnlab.remedies.identity_init`), so unit 05 trains with the student's own.
:func:`run_grid` runs every (model, length, seed) with a progress bar; :func:`summarise`
turns the records into a table. CPU only; torch is imported when a function is called.

Run it from a shell (full mode, a few minutes on two cores)::

    python -m rnnlab.experiments
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from rnnlab.data import adding

MODELS = ("tanh RNN", "tanh RNN + clip", "IRNN", "LSTM", "GRU")
#: Every model :func:`make_model` builds: the race's, and a ReLU RNN with torch's
#: default initialisation (the remedies table's "ReLU alone").
KINDS = (*MODELS, "ReLU RNN")

#: The grids of the notebook: lengths, seeds and training steps per definition.
FULL = {"le": {"lengths": (10, 30, 60), "seeds": (0, 1, 2), "steps": 1000},
        "hochreiter": {"lengths": (30, 60), "seeds": (0, 1, 2), "steps": 1000}}
FAST = {"le": {"lengths": (10, 20), "seeds": (0, 1), "steps": 400},
        "hochreiter": {"lengths": (22,), "seeds": (0, 1), "steps": 300}}

#: Written by ``benchmarks/adding_problem.py``: unit 05's grid in full mode.
RECORDED = Path(__file__).parent / "data" / "adding_problem.json"


@dataclass(frozen=True)
class TrainConfig:
    """How one model is trained on the adding problem.

    ``steps`` updates of ``lr`` by ``optimizer`` (see :func:`rnnlab.training.train`) on
    batches of ``batch_size`` fresh sequences; gradients clipped to global norm ``clip``
    for every model but the plain tanh RNN; scored on ``test_size`` sequences.
    ``forget_bias`` is added to the LSTM's forget-gate bias at initialisation; ``sigma``
    and ``truncate`` are :func:`make_model`'s.
    """

    steps: int = 1000
    hidden_size: int = 32
    batch_size: int = 64
    lr: float = 1e-2
    clip: float = 1.0
    test_size: int = 1000
    threads: int = 1
    forget_bias: float = 0.0
    optimizer: str = "adam"
    sigma: float | None = None
    truncate: int | None = None


def _torch():
    import torch

    return torch


def make_model(kind: str, hidden_size: int = 32, seed: int = 0, forget_bias: float = 0.0,
               init_fn: Callable | None = None, sigma: float | None = None,
               truncate: int | None = None):
    """One of :data:`KINDS` as a ``torch.nn.Module`` mapping ``x (N, T, 2)`` to ``(N,)``.

    ``forget_bias`` is added to the LSTM's forget-gate bias (torch's default is about 0,
    so the gate starts half open). The IRNN's weights come from
    ``init_fn(2, hidden_size, np.random.default_rng(seed))``, which returns
    ``(Wx, Wh, b)`` in the layout of :mod:`rnnlab.reference` (default
    :func:`rnnlab.remedies.identity_init`). ``sigma`` replaces a tanh or ReLU RNN's
    recurrent weights by a random orthogonal matrix times ``sigma`` (every singular value
    ``sigma``). ``truncate = k`` runs the sequence in chunks of ``k`` steps and detaches
    the state between them: truncated backpropagation through time.
    """
    torch = _torch()
    from rnnlab.remedies import identity_init
    from rnnlab.weights import orthogonal

    if kind not in KINDS:
        raise ValueError(f"kind is {kind!r}; expected one of {KINDS}")
    if sigma is not None and kind in ("IRNN", "LSTM", "GRU"):
        raise ValueError(f"sigma is for the tanh and ReLU RNNs; got it for {kind!r}")
    if truncate is not None and (isinstance(truncate, bool) or not isinstance(truncate, int)
                                 or truncate < 1):
        raise ValueError(f"truncate must be a positive integer or None; got {truncate!r}")
    torch.manual_seed(seed)

    class AddingModel(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            if kind in ("LSTM", "GRU"):
                layer = torch.nn.LSTM if kind == "LSTM" else torch.nn.GRU
                self.rnn = layer(2, hidden_size, batch_first=True)
                if kind == "LSTM" and forget_bias:
                    with torch.no_grad():
                        self.rnn.bias_hh_l0[hidden_size:2 * hidden_size] += forget_bias
            else:
                nonlinearity = "tanh" if kind.startswith("tanh") else "relu"
                self.rnn = torch.nn.RNN(2, hidden_size, nonlinearity=nonlinearity,
                                        batch_first=True)
                if sigma is not None:
                    Wh = orthogonal(hidden_size, np.random.default_rng(seed), sigma)
                    with torch.no_grad():
                        self.rnn.weight_hh_l0.copy_(torch.from_numpy(Wh.astype(np.float32)))
                if kind == "IRNN":
                    Wx, Wh, b = (np.asarray(w, dtype=np.float32) for w in
                                 (init_fn or identity_init)(2, hidden_size,
                                                            np.random.default_rng(seed)))
                    with torch.no_grad():
                        self.rnn.weight_ih_l0.copy_(torch.from_numpy(Wx.T.copy()))
                        self.rnn.weight_hh_l0.copy_(torch.from_numpy(Wh.T.copy()))
                        self.rnn.bias_ih_l0.copy_(torch.from_numpy(b))
                        self.rnn.bias_hh_l0.zero_()
            self.head = torch.nn.Linear(hidden_size, 1)

        def forward(self, x):
            state = None
            for chunk in torch.split(x, truncate or x.shape[1], dim=1):
                out, state = self.rnn(chunk, _detached(state))
            return self.head(out[:, -1])[:, 0]

    return AddingModel()


def _detached(state):
    """A recurrent state (a tensor, an LSTM's pair, or None) cut from the graph."""
    if state is None:
        return None
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def train_one(kind: str, T: int, seed: int, definition: str = "le",
              config: TrainConfig | None = None, clip_fn: Callable | None = None,
              init_fn: Callable | None = None) -> dict:
    """Train one model on sequences of length ``T`` and score it.

    ``clip_fn(grads, max_norm)`` clips the list of NumPy gradients of every model but
    the plain tanh RNN (default :func:`rnnlab.remedies.clip_grad_norm`); ``init_fn``
    initialises the IRNN (see :func:`make_model`).

    Returns
    -------
    dict
        ``model, T, seed, definition``; ``mse`` on the test set; ``baseline_mse``;
        ``solved``, the fraction of test sequences within the tolerance (0.04 on the
        Hochreiter-Schmidhuber scale ``0.5 + (X1+X2)/4``, i.e. 0.16 on ``X1 + X2``);
        ``baseline_solved``; ``losses``, the training loss at every step (NaN once the
        run has diverged); ``first_grad_norm`` and ``max_grad_norm``, the global
        gradient norm (before clipping) at the first step and the largest of the run;
        ``seconds``.
    """
    torch = _torch()
    from rnnlab.remedies import clip_grad_norm
    from rnnlab.training import torch_threads, train

    config = config or TrainConfig()
    tolerance = adding.TOLERANCE * (4.0 if definition == "le" else 1.0)
    rng = np.random.default_rng([seed, T])
    start = time.perf_counter()
    with torch_threads(config.threads):
        model = make_model(kind, config.hidden_size, seed, config.forget_bias, init_fn,
                           config.sigma, config.truncate)

        def loss_of_step(_step: int):
            x, y = adding.adding_problem(config.batch_size, T, rng, definition)
            return torch.mean((model(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2)

        clipped = kind != "tanh RNN"
        history = train(model, loss_of_step, config.steps, config.lr,
                        optimizer=config.optimizer, clip=config.clip if clipped else math.inf,
                        clip_fn=(clip_fn or clip_grad_norm) if clipped else None,
                        progress=False)
        x, y = adding.adding_problem(config.test_size, T, np.random.default_rng([10**6, T]),
                                     definition)
        with torch.no_grad():
            prediction = model(torch.from_numpy(x)).numpy()
    baseline = np.full_like(y, adding.baseline_prediction(definition))
    finite = bool(np.all(np.isfinite(prediction)))
    return {
        "model": kind, "T": T, "seed": seed, "definition": definition,
        "mse": float(np.mean((prediction - y) ** 2)) if finite else float("nan"),
        "baseline_mse": adding.baseline_mse(definition, T),
        "solved": adding.solved_fraction(prediction, y, tolerance) if finite else 0.0,
        "baseline_solved": adding.solved_fraction(baseline, y, tolerance),
        "losses": history.losses,
        "first_grad_norm": float(history.grad_norms[0]),
        "max_grad_norm": float(np.nanmax(history.grad_norms)),
        "seconds": time.perf_counter() - start,
    }


def grid(definition: str = "le", fast: bool | None = None) -> dict:
    """The notebook's grid for a definition: :data:`FAST` in fast mode, else :data:`FULL`."""
    from rnnlab.config import fast_mode

    if definition not in adding.DEFINITIONS:
        raise ValueError(f"definition is {definition!r}; expected one of {adding.DEFINITIONS}")
    return dict((FAST if (fast_mode() if fast is None else fast) else FULL)[definition])


def run_grid(models: tuple[str, ...] = MODELS, lengths: tuple[int, ...] = (10, 50, 100),
             seeds: tuple[int, ...] = (0, 1, 2), definition: str = "le",
             config: TrainConfig | None = None, progress: bool = True,
             clip_fn: Callable | None = None, init_fn: Callable | None = None) -> list[dict]:
    """:func:`train_one` for every model, length and seed, with a tqdm progress bar.

    ``clip_fn`` and ``init_fn`` are called once on a tiny case before any training, so
    an unfinished one fails at once rather than after minutes of training.
    """
    from tqdm.auto import tqdm

    if clip_fn is not None:
        clip_fn([np.ones(2, dtype=np.float32)], 1.0)
    if init_fn is not None:
        init_fn(2, 2, np.random.default_rng(0))

    jobs = [(m, T, s) for T in lengths for m in models for s in seeds]
    records = []
    for kind, T, seed in tqdm(jobs, desc=f"adding problem ({definition})", disable=not progress):
        records.append(train_one(kind, T, seed, definition, config, clip_fn, init_fn))
    return records


def summarise(records: list[dict], key: str = "solved") -> dict[tuple[str, int], tuple]:
    """``{(model, T): (mean, min, max)}`` of ``key`` over the seeds, plus the baseline.

    The baseline appears as model ``"baseline"`` (``baseline_solved`` or
    ``baseline_mse``).
    """
    table: dict[tuple[str, int], list[float]] = {}
    for r in records:
        table.setdefault((r["model"], r["T"]), []).append(r[key])
        table.setdefault(("baseline", r["T"]), []).append(r["baseline_" + key])
    return {k: (float(np.mean(v)), float(np.min(v)), float(np.max(v))) for k, v in table.items()}


def format_table(records: list[dict], key: str = "solved") -> str:
    """The summary as text: one row per model, one column per length, ``mean [min, max]``."""
    summary = summarise(records, key)
    lengths = sorted({T for _, T in summary})
    models = [m for m in (*MODELS, "baseline") if (m, lengths[0]) in summary]
    fmt = "{:6.1%}" if key == "solved" else "{:6.3f}"
    rows = [f"{'model':<16}" + "".join(f"{'T = ' + str(T):>24}" for T in lengths)]
    for m in models:
        cells = []
        for T in lengths:
            mean, lo, hi = summary[(m, T)]
            cells.append(f"{fmt.format(mean)} [{fmt.format(lo)}, {fmt.format(hi)}]".rjust(24))
        rows.append(f"{m:<16}" + "".join(cells))
    return "\n".join(rows)


def records_without_curves(records: list[dict]) -> list[dict]:
    """The records without the loss curves (for printing or saving)."""
    return [{k: v for k, v in r.items() if k != "losses"} for r in records]


def recorded() -> dict:
    """The recorded full-mode run (``{}`` before the benchmark has written one).

    Keys: ``grids`` (lengths, seeds, steps and training config per definition),
    ``records`` (per definition, :func:`records_without_curves` of :func:`run_grid`),
    ``forget_bias`` (the LSTM ablation: ``definition``, ``T``, ``seeds``, ``steps`` and
    its ``records``, each with its ``forget_bias``), ``command``, ``seconds`` and
    ``machine`` (where and when it ran).
    """
    return json.loads(RECORDED.read_text()) if RECORDED.is_file() else {}


def format_recorded(run: dict) -> str:
    """The recorded run of :func:`recorded` as text: its grids, tables and the ablation."""
    if not run:
        return f"no recorded run: {RECORDED.name} is missing (python benchmarks/adding_problem.py)"
    lines = [f"RECORDED full-mode run: `{run['command']}`, {run['seconds'] / 60:.1f} minutes",
             f"({run['machine']})"]
    for definition, g in run["grids"].items():
        records = run["records"][definition]
        lines += ["", f"{definition} definition: T = {', '.join(map(str, g['lengths']))}; "
                      f"seeds {', '.join(map(str, g['seeds']))}; {g['steps']} Adam steps"]
        if definition == "le":
            lines += ["test MSE, mean [min, max] over seeds (baseline: predict 1, MSE 1/6)",
                      format_table(records, "mse")]
        tolerance = "0.16 on X1 + X2" if definition == "le" else "0.04"
        lines += [f"fraction of test sequences solved (|error| < {tolerance})",
                  format_table(records, "solved")]
    ablation = run["forget_bias"]
    lines += ["", f"LSTM forget-bias ablation, {ablation['definition']} definition, "
                  f"T = {ablation['T']}, {ablation['steps']} Adam steps: fraction solved"]
    for bias in dict.fromkeys(r["forget_bias"] for r in ablation["records"]):
        solved = [r["solved"] for r in ablation["records"] if r["forget_bias"] == bias]
        lines.append(f"  forget bias {bias:+.0f}: mean {np.mean(solved):6.1%}   per seed "
                     + ", ".join(f"{v:.1%}" for v in solved))
    return "\n".join(lines)


def main() -> None:
    """Run the notebook's grid (full unless ``RNNLAB_FAST=1``) and print the tables."""
    for definition in adding.DEFINITIONS:
        g = grid(definition)
        config = TrainConfig(steps=g["steps"])
        results = run_grid(lengths=g["lengths"], seeds=g["seeds"], definition=definition,
                           config=config)
        print(f"\n{definition}, {asdict(config)}")
        print("fraction of test sequences solved, mean [min, max] over seeds")
        print(format_table(results, "solved"))
        print("test mean squared error")
        print(format_table(results, "mse"))


if __name__ == "__main__":
    main()


def input_gradient_norms(kind: str, T: int = 100, N: int = 32, hidden_size: int = 32,
                         seed: int = 0, forget_bias: float = 0.0) -> np.ndarray:
    """How strongly an untrained model's prediction depends on each earlier input.

    Returns ``(T,)``: entry ``l`` is the mean over ``N`` adding-problem sequences
    (Le et al.) of ``||d prediction / d x_{T-1-l}||``, computed by autograd.
    """
    torch = _torch()
    from rnnlab.training import torch_threads

    with torch_threads(1):
        model = make_model(kind, hidden_size, seed, forget_bias)
        x, _ = adding.adding_problem(N, T, np.random.default_rng(seed), "le")
        x = torch.from_numpy(x).requires_grad_(True)
        model(x).sum().backward()
        norms = x.grad.norm(dim=2).mean(dim=0).numpy()
    return norms[::-1].copy()
