"""Plot helpers shared by the notebooks: one style, labelled axes, no ``plt.show()``.

Every helper takes ``ax=None`` (a new figure is made) and returns the axes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch

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


def _axes(ax: plt.Axes | None, **figure) -> plt.Axes:
    return ax if ax is not None else plt.figure(**figure).add_subplot()


def _box(ax: plt.Axes, xy: tuple[float, float], text: str, color: str) -> None:
    ax.text(*xy, text, ha="center", va="center", fontsize=11,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": color, "edgecolor": "0.3"})


def _arrow(ax: plt.Axes, start: tuple[float, float], end: tuple[float, float],
           label: str = "", **style) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12,
                                 color="0.25", **style))
    if label:
        vertical = abs(end[0] - start[0]) < abs(end[1] - start[1])
        dx, dy = (0.12, 0) if vertical else (0, 0.12)
        ax.text((start[0] + end[0]) / 2 + dx, (start[1] + end[1]) / 2 + dy, label,
                ha="left" if vertical else "center", va="center", fontsize=9, color="0.2")


def draw_unrolled(steps: tuple[str, ...] = ("t-1", "t", "t+1"), output: bool = True,
                  ax: plt.Axes | None = None) -> plt.Axes:
    """Draw the loop (left) and its unrolled picture over ``steps`` (right).

    The same weights ``Wx``, ``Wh`` (and ``Wy``) label every step: parameter sharing.
    """
    ax = _axes(ax, figsize=(2.2 + 2.0 * len(steps), 3.2))
    _box(ax, (0, 1), "h", "#cfe3f6")
    _box(ax, (0, 0), "x", "#fde2c4")
    _arrow(ax, (0, 0.2), (0, 0.78), "Wx")
    _arrow(ax, (0.2, 1.12), (0.2, 0.88), connectionstyle="arc3,rad=-3.0")
    ax.text(0.62, 1, "Wh", va="center", fontsize=9, color="0.2")
    if output:
        _box(ax, (0, 2), "y", "#d7efd2")
        _arrow(ax, (0, 1.22), (0, 1.78), "Wy")
    ax.text(1.15, 1, "=", fontsize=20, ha="center", va="center")
    for i, step in enumerate(steps):
        left = 2.2 + 1.6 * i
        _box(ax, (left, 1), f"$h_{{{step}}}$", "#cfe3f6")
        _box(ax, (left, 0), f"$x_{{{step}}}$", "#fde2c4")
        _arrow(ax, (left, 0.2), (left, 0.78), "Wx")
        if output:
            _box(ax, (left, 2), f"$y_{{{step}}}$", "#d7efd2")
            _arrow(ax, (left, 1.22), (left, 1.78), "Wy")
        _arrow(ax, (left - 1.2 if i else left - 0.7, 1), (left - 0.32, 1), "Wh")
    ax.set_xlim(-0.5, 2.2 + 1.6 * len(steps) - 1.0)
    ax.set_ylim(-0.5, 2.5 if output else 1.8)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("A recurrent network, folded and unrolled in time")
    return ax


def plot_hidden_states(hs: np.ndarray, ax: plt.Axes | None = None, units: int = 6,
                       title: str = "Hidden-state trajectories") -> plt.Axes:
    """Plot the first ``units`` hidden units of the first sequence of ``hs (N, T, H)``."""
    ax = _axes(ax)
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
    ax = _axes(ax)
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
    ax = _axes(ax, figsize=(4.2, 4.0))
    lo = float(min(np.min(got), np.min(expected)))
    hi = float(max(np.max(got), np.max(expected)))
    ax.plot([lo, hi], [lo, hi], color="0.6", linewidth=1, label="y = x")
    ax.scatter(np.ravel(expected), np.ravel(got), s=8, alpha=0.6)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return ax
