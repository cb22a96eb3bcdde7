"""Figures of the memory tasks: how far back each model can remember.

The sentence task of unit 01 (the subject decides a verb many words later): the
sentences themselves, a window model's accuracy against its width, and accuracy against
the length of the dependency. The adding problem of unit 05: success rates per model and
length against the baseline, and the training curves. Every helper takes ``ax=None``
(a new figure is made) and returns the axes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from rnnlab.plots import ensure_axes, moving_average


def plot_sentences(tokens: np.ndarray, vocab: tuple[str, ...], highlight: tuple[int, ...] = (),
                   answers: list[str] | None = None, ax: plt.Axes | None = None,
                   title: str = "Sentences: the subject (shaded) decides the next word"
                   ) -> plt.Axes:
    """Write the words of ``tokens (N, T)`` in a grid, shading the ids in ``highlight``.

    ``answers`` (one string per row) is written after each row, as the word to predict.
    """
    n, t = tokens.shape
    ax = ensure_axes(ax, figsize=(1.0 + 0.62 * (t + 1), 0.45 * n + 1.0))
    for i in range(n):
        for j in range(t):
            shaded = int(tokens[i, j]) in highlight
            ax.text(j, n - 1 - i, vocab[int(tokens[i, j])], ha="center", va="center",
                    fontsize=8, fontweight="bold" if shaded else "normal",
                    bbox={"boxstyle": "round,pad=0.25", "edgecolor": "none",
                          "facecolor": "#f6c28b" if shaded else "#eeeeee"})
        if answers is not None:
            ax.text(t + 0.1, n - 1 - i, "→ " + answers[i], ha="left", va="center", fontsize=8,
                    color="#1f5fa8", fontweight="bold")
    ax.set_xlim(-0.6, t + (1.2 if answers is not None else -0.4))
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xticks(range(t), [f"{j - t}" for j in range(t)])
    ax.set_xlabel("position relative to the word to predict")
    ax.set_yticks([])
    ax.set_ylabel("sentence")
    ax.grid(False)
    for side in ("left", "top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(title)
    return ax


def plot_window_accuracy(widths: np.ndarray, accuracies: np.ndarray, dependency: int,
                         best: np.ndarray | None = None, chance: float = 0.5,
                         ax: plt.Axes | None = None,
                         title: str = "A window sees only what fits in it") -> plt.Axes:
    """Accuracy of a window model against window width, with the dependency length marked.

    Parameters
    ----------
    widths, accuracies : (K,) window widths and the measured test accuracies.
    dependency : the longest dependency of the task (a vertical line).
    best : (K,) optional, the best accuracy any window of that width can reach.
    chance : accuracy of guessing (a horizontal line).
    """
    ax = ensure_axes(ax)
    ax.plot(widths, accuracies, marker="o", label="window-MLP (measured)")
    if best is not None:
        ax.plot(widths, best, color="0.4", linestyle=":", label="best any window can do")
    ax.axhline(chance, color="0.6", linewidth=1, label="chance")
    ax.axvline(dependency, color="#c0392b", linestyle="--",
               label=f"longest dependency = {dependency} words")
    ax.set_xlabel("window width k (words the network sees)")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(min(chance, float(np.min(accuracies))) - 0.05, 1.03)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    return ax


def plot_accuracy_by_gap(dependencies: np.ndarray, curves: dict[str, np.ndarray],
                         window: int | None = None, chance: float = 0.5,
                         ax: plt.Axes | None = None,
                         title: str = "Accuracy against dependency length") -> plt.Axes:
    """Accuracy of several models (``{label: (K,) accuracies}``) against dependency length.

    The x axis is logarithmic; ``window`` marks a window model's width.
    """
    ax = ensure_axes(ax)
    for (label, acc), marker in zip(curves.items(), "osD^v"):
        ax.plot(dependencies, acc, marker=marker, label=label)
    ax.axhline(chance, color="0.6", linewidth=1, label="chance")
    if window is not None:
        ax.axvline(window, color="#c0392b", linestyle="--", label=f"window width = {window}")
    ax.set_xscale("log")
    ax.set_xlabel("dependency length (words from the subject to the verb)")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(chance - 0.1, 1.05)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def plot_adding_results(summary: dict[tuple[str, int], tuple[float, float, float]],
                        ax: plt.Axes | None = None, ylabel: str = "test sequences solved",
                        title: str = "The adding problem") -> plt.Axes:
    """Grouped bars from :func:`rnnlab.experiments.summarise`: one group per length.

    Each bar is a model's mean over seeds with a [min, max] error bar; the baseline
    (model ``"baseline"``) is a black line across each group.
    """
    ax = ensure_axes(ax, figsize=(8.0, 3.8))
    lengths = sorted({T for _, T in summary})
    models = [m for m in dict.fromkeys(m for m, _ in summary) if m != "baseline"]
    width = 0.8 / max(len(models), 1)
    for i, model in enumerate(models):
        stats = np.array([summary.get((model, T), (np.nan,) * 3) for T in lengths])
        xs = np.arange(len(lengths)) - 0.4 + width * (i + 0.5)
        ax.bar(xs, stats[:, 0], width, label=model,
               yerr=[stats[:, 0] - stats[:, 1], stats[:, 2] - stats[:, 0]], capsize=2)
    for j, T in enumerate(lengths):
        if ("baseline", T) in summary:
            ax.hlines(summary[("baseline", T)][0], j - 0.45, j + 0.45, color="black",
                      linewidth=2, label="baseline" if j == 0 else None)
    ax.set_xticks(range(len(lengths)), [f"T = {T}" for T in lengths])
    ax.set_xlabel("sequence length")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    return ax


def plot_adding_curves(records: list[dict], T: int, seed: int = 0,
                       baseline: float | None = None, ax: plt.Axes | None = None,
                       smooth: int = 20, title: str | None = None) -> plt.Axes:
    """Training loss of every model of :func:`rnnlab.experiments.run_grid` at length ``T``.

    One line per model (seed ``seed``), a moving average over ``smooth`` steps, log
    scale; ``baseline`` (the loss of predicting the mean) as a dashed line.
    """
    ax = ensure_axes(ax)
    for r in records:
        if r["T"] == T and r["seed"] == seed:
            window = max(1, min(smooth, len(r["losses"])))
            ax.semilogy(moving_average(r["losses"], window), label=r["model"])
    if baseline is not None:
        ax.axhline(baseline, color="black", linestyle="--", linewidth=1, label="baseline")
    ax.set_xlabel("training step")
    ax.set_ylabel(f"training MSE (moving average of {smooth})")
    ax.set_title(title or f"Training curves, T = {T}, seed {seed}")
    ax.legend(fontsize=8)
    return ax
