"""Figures of gradients over time: how they vanish or explode, and what the remedies do.

The norm of ``dh_t/dh_k`` against the lag ``t - k`` with its bound (units 04 and 05), the
loss cliff that an exploding gradient falls from (unit 04), and a truncated gradient
against the full one for each truncation length (unit 05). Every helper takes
``ax=None`` (a new figure is made) and returns the axes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from rnnlab.plots import ensure_axes


def plot_gradient_norms(results: dict[str, dict], ax: plt.Axes | None = None,
                        bound: bool = True,
                        title: str = "Gradient norm against time lag") -> plt.Axes:
    """Measured ``||dh_t/dh_k||_2`` (solid) and the bound ``(gamma sigma_max)^(t-k)`` (dashed).

    ``results`` maps a label to a :func:`rnnlab.pathologies.gradient_norms` result
    (``lags``, ``median``, ``bound``); the y axis is logarithmic and clipped to
    ``[1e-16, 1e16]``.
    """
    ax = ensure_axes(ax)
    for label, r in results.items():
        (line,) = ax.semilogy(r["lags"], np.maximum(r["median"], 1e-300), label=label)
        if bound:
            ax.semilogy(r["lags"], r["bound"], "--", color=line.get_color(), linewidth=1)
    if bound:
        ax.plot([], [], "--", color="0.4", linewidth=1,
                label="bound $(\\gamma\\sigma_{max})^{t-k}$")
    ax.set_ylim(1e-16, 1e16)
    ax.set_xlabel("time lag t - k")
    ax.set_ylabel("$\\|\\partial h_t / \\partial h_k\\|_2$ (median)")
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=2)
    return ax


def plot_loss_cliff(b: np.ndarray, loss: np.ndarray, dloss: np.ndarray,
                    ax: plt.Axes | None = None,
                    title: str = "A loss cliff and its gradient") -> plt.Axes:
    """Loss along one parameter (left axis) and ``|dloss/db|`` on a log scale (right axis)."""
    ax = ensure_axes(ax)
    ax.plot(b, loss, color="C0", label="loss")
    ax.set_xlabel("bias b")
    ax.set_ylabel("loss", color="C0")
    twin = ax.twinx()
    twin.semilogy(b, np.maximum(np.abs(dloss), 1e-12), color="C3", linewidth=1,
                  label="|dloss/db|")
    twin.set_ylabel("|dloss / db| (log scale)", color="C3")
    twin.grid(False)
    ax.set_title(title)
    lines = ax.get_lines()[:1] + twin.get_lines()[:1]
    ax.legend(lines, [line.get_label() for line in lines], loc="center right")
    return ax


def plot_against_k(ks: np.ndarray, curves: dict[str, np.ndarray], ax: plt.Axes | None = None,
                   ylabel: str = "cosine to the full gradient",
                   title: str = "Truncated BPTT against the full gradient") -> plt.Axes:
    """One line per label of a quantity measured for each truncation length ``k``."""
    ax = ensure_axes(ax)
    for label, values in curves.items():
        ax.plot(ks, values, marker="o", markersize=3, label=label)
    ax.set_xlabel("truncation length k (steps)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax
