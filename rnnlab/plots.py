"""The course's plot style and its general-purpose plots.

Every unit calls :func:`use_style` once in its setup cell. The plots here show data of any
unit: loss curves, hidden states, probabilities, agreement of two computations, bars,
masks, spectrograms and images. Drawings of networks are in :mod:`rnnlab.diagrams`, the
figures of the memory tasks in :mod:`rnnlab.memory_plots`, those of gradients over time
in :mod:`rnnlab.gradient_plots`.

Every helper takes ``ax=None`` (a new figure is made), labels its axes, returns the axes
and never calls ``plt.show()``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

STYLE = {
    "figure.figsize": (7.0, 3.6),
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.frameon": False,
    "image.cmap": "viridis",
}


def use_style() -> None:
    """Apply the course's plot style (call it once in a notebook's setup cell)."""
    plt.rcParams.update(STYLE)


def ensure_axes(ax: plt.Axes | None, **figure) -> plt.Axes:
    """``ax`` itself, or the axes of a new figure made with ``figure`` (``figsize=...``)."""
    return ax if ax is not None else plt.figure(**figure).add_subplot()


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Means of ``values`` over every run of ``window`` consecutive entries."""
    return np.convolve(values, np.ones(window) / window, mode="valid")


def plot_loss_curve(losses: dict[str, np.ndarray], ax: plt.Axes | None = None,
                    xlabel: str = "iteration", ylabel: str = "loss per character",
                    reference: float | None = None, reference_label: str = "",
                    smooth: int = 1, alpha: float = 1.0,
                    title: str = "Training loss") -> plt.Axes:
    """Loss curves ``{label: (I,) losses}``, with an optional horizontal reference level.

    ``smooth > 1`` draws the moving average over that many iterations instead (a curve
    shorter than ``smooth`` is drawn as it is); empty curves are allowed. ``alpha`` is
    the curves' opacity (draw raw, noisy curves faintly under a smoothed one).
    """
    ax = ensure_axes(ax)
    for label, curve in losses.items():
        curve = np.asarray(curve, dtype=float)
        first = 1
        if smooth > 1 and len(curve) >= smooth:
            curve = moving_average(curve, smooth)
            first = smooth
        ax.plot(np.arange(first, first + len(curve)), curve, label=label, alpha=alpha)
    if reference is not None:
        ax.axhline(reference, color="0.6", linestyle="--", label=reference_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return ax


def plot_hidden_states(hs: np.ndarray, ax: plt.Axes | None = None, units: int = 6,
                       title: str = "Hidden-state trajectories") -> plt.Axes:
    """Plot the first ``units`` hidden units of the first sequence of ``hs (N, T, H)``."""
    ax = ensure_axes(ax)
    steps = np.arange(hs.shape[1])
    for k in range(min(units, hs.shape[2])):
        ax.plot(steps, hs[0, :, k], marker="o", markersize=3, label=f"unit {k}")
    ax.set_xlabel("time step t")
    ax.set_ylabel("$h_t$ (tanh, in [-1, 1])")
    ax.set_ylim(-1.05, 1.05)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax


def plot_probabilities(probs: np.ndarray, labels: list[str] | None = None,
                       ax: plt.Axes | None = None,
                       title: str = "Output distribution at each step") -> plt.Axes:
    """Heat map of ``probs (T, V)``: one column per time step, one row per class."""
    ax = ensure_axes(ax)
    image = ax.imshow(probs.T, aspect="auto", origin="lower", vmin=0, vmax=1)
    ax.figure.colorbar(image, ax=ax, label="probability")
    ax.set_xlabel("time step t")
    ax.set_ylabel("class")
    if labels is not None:
        ax.set_yticks(range(len(labels)), labels)
    ax.grid(False)
    ax.set_title(title)
    return ax


def plot_agreement(got: np.ndarray, expected: np.ndarray, xlabel: str, ylabel: str,
                   ax: plt.Axes | None = None, title: str = "Agreement") -> plt.Axes:
    """Scatter ``got`` against ``expected`` with the line y = x: points on it agree."""
    ax = ensure_axes(ax, figsize=(4.2, 4.0))
    lo = float(min(np.min(got), np.min(expected)))
    hi = float(max(np.max(got), np.max(expected)))
    ax.plot([lo, hi], [lo, hi], color="0.6", linewidth=1, label="y = x")
    ax.scatter(np.ravel(expected), np.ravel(got), s=8, alpha=0.6)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return ax


def plot_loss_mask(mask: np.ndarray, ax: plt.Axes | None = None,
                   title: str = "Which outputs carry loss") -> plt.Axes:
    """Show a boolean ``mask (N, T)``: dark cells carry loss, light cells are padding."""
    mask = np.asarray(mask, dtype=bool)
    ax = ensure_axes(ax, figsize=(0.32 * mask.shape[1] + 2.0, 0.32 * mask.shape[0] + 1.2))
    ax.imshow(mask, cmap=ListedColormap(["#eeeeee", "#7fbf8e"]), vmin=0, vmax=1,
              aspect="equal")
    ax.set_xticks(range(mask.shape[1]))
    ax.set_yticks(range(mask.shape[0]))
    ax.set_xlabel("time step t")
    ax.set_ylabel("sequence n")
    ax.grid(False)
    for n, t in zip(*np.nonzero(~mask)):
        ax.text(t, n, "pad", ha="center", va="center", fontsize=6, color="0.45")
    ax.set_title(title)
    return ax


def plot_grouped_bars(groups: dict[str, dict[str, float]], ax: plt.Axes | None = None,
                      ylabel: str = "accuracy", title: str = "",
                      chance: float | None = None) -> plt.Axes:
    """Bars ``{series: {category: value}}``, one group per category, one colour per series."""
    ax = ensure_axes(ax)
    categories = list(dict.fromkeys(c for values in groups.values() for c in values))
    width = 0.8 / max(len(groups), 1)
    x = np.arange(len(categories))
    for i, (series, values) in enumerate(groups.items()):
        heights = [values.get(c, np.nan) for c in categories]
        bars = ax.bar(x + (i - (len(groups) - 1) / 2) * width, heights, width, label=series)
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    if chance is not None:
        ax.axhline(chance, color="0.5", linestyle="--", linewidth=1, label="chance")
    ax.set_xticks(x, categories)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.3)
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=len(groups) + (chance is not None), loc="upper left")
    return ax


def plot_word_trace(words: list[str], traces: dict[str, np.ndarray],
                    ax: plt.Axes | None = None, ylabel: str = "P(positive)",
                    title: str = "What the model thinks after each word") -> plt.Axes:
    """One line per trace ``{label: (T,) values}`` over the words of one sentence."""
    ax = ensure_axes(ax, figsize=(max(5.0, 0.75 * len(words)), 3.2))
    for label, values in traces.items():
        ax.plot(np.arange(len(words)), values, marker="o", label=label)
    ax.axhline(0.5, color="0.6", linestyle="--", linewidth=1)
    ax.set_xticks(np.arange(len(words)), words, rotation=30)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("word read")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def plot_spectrogram(spec: np.ndarray, labels: list[tuple[float, float, str]] | None = None,
                     frame_seconds: float | None = None, ax: plt.Axes | None = None,
                     title: str = "Spectrogram") -> plt.Axes:
    """Heat map of ``spec (F, bands)``: time across, frequency band up.

    ``labels`` are ``(start, end, text)`` in frames, drawn as brackets above the image
    (where each digit sounds). With ``frame_seconds`` the time axis is in seconds.
    """
    ax = ensure_axes(ax, figsize=(8.0, 3.2))
    scale = frame_seconds or 1.0
    ax.imshow(spec.T, aspect="auto", origin="lower", cmap="magma",
              extent=(0, spec.shape[0] * scale, 0, spec.shape[1]))
    for start, end, text in labels or []:
        ax.annotate("", xy=(start * scale, spec.shape[1] + 1), xytext=(end * scale,
                    spec.shape[1] + 1), arrowprops={"arrowstyle": "|-|", "color": "0.3"},
                    annotation_clip=False)
        ax.text((start + end) / 2 * scale, spec.shape[1] + 2.5, text, ha="center",
                fontsize=10)
    ax.set_xlabel("time (s)" if frame_seconds else "frame")
    ax.set_ylabel("frequency band")
    ax.grid(False)
    ax.set_title(title, pad=22 if labels else 6)
    return ax


def show_images(images: np.ndarray, titles: list[str] | None = None, ncols: int = 4,
                title: str = "", size: float = 2.2) -> np.ndarray:
    """A grid of ``images (N, 3, S, S)`` (channels first, values in [0, 1]) with titles.

    Returns the array of axes (one figure; unused axes are hidden).
    """
    n = len(images)
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * 1.15),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(np.clip(np.transpose(images[i], (1, 2, 0)), 0, 1))
            if titles is not None:
                ax.set_title(titles[i], fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return axes
