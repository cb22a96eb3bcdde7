"""Fixed-window feedforward baselines: what a network without a loop can see.

A feedforward network maps one input vector to one output. To read a sequence it must be
given a fixed window of the last ``k`` inputs, concatenated into one vector
(:func:`window_features`); whatever lies further back is invisible to it. Unit 01 trains
such a window-MLP (:func:`train_window_mlp`) at several widths.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from rnnlab.training import train
from rnnlab.validation import check_arrays


def window_features(x: np.ndarray, k: int) -> np.ndarray:
    """The last ``k`` inputs at every step, concatenated oldest first.

    Parameters
    ----------
    x : (N, T, D) inputs.
    k : window width, ``k >= 1``.

    Returns
    -------
    (N, T, k * D) array, ``x``'s dtype. Block ``j`` (columns ``j*D`` to ``(j+1)*D``) of
    row ``t`` holds ``x[:, t - k + 1 + j]``, or zeros where that index is negative
    (before the sequence starts). The last block is ``x[:, t]`` itself.

    Notes
    -----
    ``out[n, t] = concat(x[n, t-k+1], ..., x[n, t-1], x[n, t])`` with ``x[n, s] = 0``
    for ``s < 0``.
    """
    sizes = check_arrays(x=(x, "N T D"))
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1; got {k!r}")
    N, T, D = sizes["N"], sizes["T"], sizes["D"]
    padded = np.concatenate([np.zeros((N, k - 1, D), dtype=x.dtype), x], axis=1)
    return np.concatenate([padded[:, j:j + T] for j in range(k)], axis=2)


def make_mlp(n_in: int, n_out: int, hidden: int = 32, seed: int = 0) -> torch.nn.Module:
    """A one-hidden-layer tanh MLP ``n_in -> hidden -> n_out`` (float64, seeded)."""
    generator = torch.Generator().manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(n_in, hidden), torch.nn.Tanh(),
                                torch.nn.Linear(hidden, n_out)).double()
    with torch.no_grad():
        for p in model.parameters():
            bound = 1.0 / np.sqrt(p.shape[-1]) if p.ndim == 2 else 0.1
            p.uniform_(-bound, bound, generator=generator)
    return model


def _check_classification(features: np.ndarray, labels: np.ndarray) -> None:
    check_arrays(features=(features, "N F"), labels=(labels, "N", "iu"))


def train_window_mlp(features: np.ndarray, labels: np.ndarray, n_classes: int = 2,
                     hidden: int = 32, steps: int = 300, lr: float = 0.01,
                     seed: int = 0, progress: bool = False) -> torch.nn.Module:
    """Train :func:`make_mlp` on ``(features, labels)`` with full-batch Adam.

    The loop is :func:`rnnlab.training.train` on one thread: the matrices are tiny, and
    one thread is many times faster than several that wait for each other on a busy
    machine.

    Parameters
    ----------
    features : (N, F) float inputs (for example one row of :func:`window_features`).
    labels : (N,) integer classes in ``[0, n_classes)``.
    steps, lr : Adam iterations and learning rate; cross-entropy loss.
    progress : show a progress bar (off: :func:`window_accuracy_by_width` shows one over
        the widths).

    Returns
    -------
    The trained model (float64).
    """
    _check_classification(features, labels)
    model = make_mlp(features.shape[1], n_classes, hidden, seed)
    inputs = torch.from_numpy(features.astype(np.float64))
    targets = torch.from_numpy(labels.astype(np.int64))
    train(model, lambda _step: torch.nn.functional.cross_entropy(model(inputs), targets),
          steps, lr, threads=1, desc="window-MLP", progress=progress)
    return model


def accuracy(model: torch.nn.Module, features: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of rows of ``features (N, F)`` whose arg-max class is ``labels (N,)``."""
    _check_classification(features, labels)
    with torch.no_grad():
        scores = model(torch.from_numpy(features.astype(np.float64)))
    return float((scores.argmax(dim=1).numpy() == labels).mean())


def window_accuracy_by_width(featurise: Callable[[np.ndarray, int], np.ndarray],
                             train: tuple[np.ndarray, np.ndarray],
                             test: tuple[np.ndarray, np.ndarray], widths: Sequence[int],
                             steps: int = 300, lr: float = 0.01, seed: int = 0) -> np.ndarray:
    """Test accuracy of a window-MLP at each width, predicting from the last step's window.

    Parameters
    ----------
    featurise : ``featurise(x, k) -> (N, T, k * D)``, e.g. :func:`window_features`.
    train, test : ``(x (N, T, D), labels (N,))``; the prediction is made after the last
        step, from ``featurise(x, k)[:, -1]``.
    widths : window widths ``k`` to try.
    steps, lr, seed : passed to :func:`train_window_mlp`.

    Returns
    -------
    (len(widths),) test accuracies.
    """
    result = []
    for k in tqdm(widths, desc="window widths"):
        model = train_window_mlp(featurise(train[0], k)[:, -1], train[1], steps=steps, lr=lr,
                                 seed=seed)
        result.append(accuracy(model, featurise(test[0], k)[:, -1], test[1]))
    return np.array(result)
