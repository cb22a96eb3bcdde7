"""Drawings of recurrent networks: boxes for the vectors, arrows for the weights.

The loop and its unrolled picture (units 01 and 02), the forward and backward flow of
backpropagation through time (unit 03), and the five types of recurrent network
(unit 06). Inputs are orange, hidden states blue, outputs green, losses and gradients
red. Every drawing takes ``ax=None`` (a new figure is made) and returns the axes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch

from rnnlab.plots import ensure_axes

# Box colours: inputs, hidden states (a decoder's in purple), outputs, losses; arrows.
INPUT, STATE, DECODER, OUTPUT, LOSS = "#fde2c4", "#cfe3f6", "#e3d7f3", "#d7efd2", "#f3d1d1"
BACKWARD, BIDIRECTIONAL = "#c0392b", "#7d3c98"  # gradients flowing back; the backward RNN


def _box(ax: plt.Axes, xy: tuple[float, float], text: str, color: str) -> None:
    ax.text(*xy, text, ha="center", va="center", fontsize=11,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": color, "edgecolor": "0.3"})


def _arrow(ax: plt.Axes, start: tuple[float, float], end: tuple[float, float],
           label: str = "", color: str = "0.25", **style) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12,
                                 color=color, **style))
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
    ax = ensure_axes(ax, figsize=(2.2 + 2.0 * len(steps), 3.2))
    _box(ax, (0, 1), "h", STATE)
    _box(ax, (0, 0), "x", INPUT)
    _arrow(ax, (0, 0.2), (0, 0.78), "Wx")
    _arrow(ax, (0.2, 1.12), (0.2, 0.88), connectionstyle="arc3,rad=-3.0")
    ax.text(0.62, 1, "Wh", va="center", fontsize=9, color="0.2")
    if output:
        _box(ax, (0, 2), "y", OUTPUT)
        _arrow(ax, (0, 1.22), (0, 1.78), "Wy")
    ax.text(1.15, 1, "=", fontsize=20, ha="center", va="center")
    for i, step in enumerate(steps):
        left = 2.2 + 1.6 * i
        _box(ax, (left, 1), f"$h_{{{step}}}$", STATE)
        _box(ax, (left, 0), f"$x_{{{step}}}$", INPUT)
        _arrow(ax, (left, 0.2), (left, 0.78), "Wx")
        if output:
            _box(ax, (left, 2), f"$y_{{{step}}}$", OUTPUT)
            _arrow(ax, (left, 1.22), (left, 1.78), "Wy")
        _arrow(ax, (left - 1.2 if i else left - 0.7, 1), (left - 0.32, 1), "Wh")
    ax.set_xlim(-0.5, 2.2 + 1.6 * len(steps) - 1.0)
    ax.set_ylim(-0.5, 2.5 if output else 1.8)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("A recurrent network, folded and unrolled in time")
    return ax


def draw_bptt(steps: tuple[str, ...] = ("0", "1", "2", "3"), ax: plt.Axes | None = None
              ) -> plt.Axes:
    """The unrolled network with a loss at every step and the gradient flowing back.

    Black arrows: the forward pass. Red arrows: backpropagation through time; the
    gradient reaching ``h_t`` is the sum of what comes down from ``L_t`` and what comes
    back from ``h_{t+1}``.
    """
    ax = ensure_axes(ax, figsize=(1.0 + 1.9 * len(steps), 4.2))
    for i, step in enumerate(steps):
        left = 1.9 * i
        _box(ax, (left, 0), f"$x_{{{step}}}$", INPUT)
        _box(ax, (left, 1), f"$h_{{{step}}}$", STATE)
        _box(ax, (left, 2), f"$y_{{{step}}}$", OUTPUT)
        _box(ax, (left, 3), f"$L_{{{step}}}$", LOSS)
        _arrow(ax, (left - 0.08, 0.2), (left - 0.08, 0.78))
        _arrow(ax, (left - 0.08, 1.22), (left - 0.08, 1.78))
        _arrow(ax, (left - 0.08, 2.22), (left - 0.08, 2.78))
        _arrow(ax, (left + 0.12, 2.78), (left + 0.12, 1.25), color=BACKWARD)
        if i:
            _arrow(ax, (left - 1.55, 1.08), (left - 0.35, 1.08))
            _arrow(ax, (left - 0.35, 0.9), (left - 1.55, 0.9), color=BACKWARD)
            jacobian = rf"$\partial h_{{{step}}}/\partial h_{{{steps[i - 1]}}}$"
            ax.text(left - 0.95, 0.72, jacobian, ha="center", va="center", fontsize=8,
                    color=BACKWARD)
    ax.text(1.9 * (len(steps) - 1) / 2, 3.6, r"$L = \sum_t L_t$", ha="center", fontsize=12)
    ax.set_xlim(-0.6, 1.9 * (len(steps) - 1) + 0.6)
    ax.set_ylim(-0.5, 3.9)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("Forward (black) and backpropagation through time (red)")
    return ax


def draw_rnn_types(ax: plt.Axes | None = None) -> plt.Axes:
    """The five types side by side: inputs (orange), states (blue), outputs (green).

    Every green box is an output that carries loss. One-to-many feeds its one input to
    every step; the encoder-decoder passes the encoder's last state (blue) to the decoder
    (purple); the synced tagger's states are linked both ways (bidirectional).
    """
    ax = ensure_axes(ax, figsize=(14.0, 4.2))
    gap, step = 1.1, 0.95
    panels = [("one-to-one", "a plain network", 1),
              ("one-to-many", "generation, captioning", 3),
              ("many-to-one", "sentiment of a review", 3),
              ("many-to-many\n(encoder-decoder)", "translation", 5),
              ("synced many-to-many\n(bidirectional)", "tagging every step", 3)]
    left = 0.0
    for kind, (title, example, columns) in enumerate(panels):
        xs = [left + step * c for c in range(columns)]
        for c, x in enumerate(xs):
            decoder = kind == 3 and c >= 3
            _box(ax, (x, 1), "h", DECODER if decoder else STATE)
            has_input = (kind in (0, 4) or (kind == 2) or (kind == 3 and c < 3)
                         or (kind == 1 and c == 0))
            has_output = kind in (0, 1, 4) or (kind == 2 and c == columns - 1) or decoder
            if has_input:
                _box(ax, (x, 0), "x", INPUT)
                _arrow(ax, (x, 0.2), (x, 0.76))
            if kind == 1 and c > 0:  # the same input feeds every step
                _arrow(ax, (xs[0] + 0.15, 0.18), (x - 0.12, 0.78))
            if has_output:
                _box(ax, (x, 2), "y", OUTPUT)
                _arrow(ax, (x, 1.24), (x, 1.76))
            if c:
                if kind == 4:
                    _arrow(ax, (xs[c - 1] + 0.2, 1.09), (x - 0.2, 1.09))
                    _arrow(ax, (x - 0.2, 0.91), (xs[c - 1] + 0.2, 0.91), color=BIDIRECTIONAL)
                else:
                    _arrow(ax, (xs[c - 1] + 0.2, 1), (x - 0.2, 1))
        middle = (xs[0] + xs[-1]) / 2
        ax.text(middle, -0.6, title, ha="center", va="top", fontsize=10, fontweight="bold")
        ax.text(middle, -1.45, example, ha="center", va="top", fontsize=9, color="0.35")
        left = xs[-1] + step + gap
    ax.set_xlim(-0.5, left - step - gap + 0.5)
    ax.set_ylim(-1.9, 2.4)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("The five types of recurrent network (green outputs carry loss)")
    return ax
