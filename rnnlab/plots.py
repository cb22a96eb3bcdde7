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


# --- Units 01 and 03: windows, memory, backpropagation through time, training curves ---


def plot_sentences(tokens: np.ndarray, vocab: tuple[str, ...], highlight: tuple[int, ...] = (),
                   answers: list[str] | None = None, ax: plt.Axes | None = None,
                   title: str = "Sentences: the subject (shaded) decides the next word"
                   ) -> plt.Axes:
    """Write the words of ``tokens (N, T)`` in a grid, shading the ids in ``highlight``.

    ``answers`` (one string per row) is written after each row, as the word to predict.
    """
    n, t = tokens.shape
    ax = _axes(ax, figsize=(1.0 + 0.62 * (t + 1), 0.45 * n + 1.0))
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
    ax = _axes(ax)
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
    ax = _axes(ax)
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


def draw_bptt(steps: tuple[str, ...] = ("0", "1", "2", "3"), ax: plt.Axes | None = None
              ) -> plt.Axes:
    """The unrolled network with a loss at every step and the gradient flowing back.

    Black arrows: the forward pass. Red arrows: backpropagation through time; the
    gradient reaching ``h_t`` is the sum of what comes down from ``L_t`` and what comes
    back from ``h_{t+1}``.
    """
    ax = _axes(ax, figsize=(1.0 + 1.9 * len(steps), 4.2))
    red = {"color": "#c0392b"}
    for i, step in enumerate(steps):
        left = 1.9 * i
        _box(ax, (left, 0), f"$x_{{{step}}}$", "#fde2c4")
        _box(ax, (left, 1), f"$h_{{{step}}}$", "#cfe3f6")
        _box(ax, (left, 2), f"$y_{{{step}}}$", "#d7efd2")
        _box(ax, (left, 3), f"$L_{{{step}}}$", "#f3d1d1")
        _arrow(ax, (left - 0.08, 0.2), (left - 0.08, 0.78))
        _arrow(ax, (left - 0.08, 1.22), (left - 0.08, 1.78))
        _arrow(ax, (left - 0.08, 2.22), (left - 0.08, 2.78))
        ax.add_patch(FancyArrowPatch((left + 0.12, 2.78), (left + 0.12, 1.25),
                                     arrowstyle="-|>", mutation_scale=12, **red))
        if i:
            _arrow(ax, (left - 1.55, 1.08), (left - 0.35, 1.08))
            ax.add_patch(FancyArrowPatch((left - 0.35, 0.9), (left - 1.55, 0.9),
                                         arrowstyle="-|>", mutation_scale=12, **red))
            jacobian = rf"$\partial h_{{{step}}}/\partial h_{{{steps[i - 1]}}}$"
            ax.text(left - 0.95, 0.72, jacobian, ha="center", va="center", fontsize=8, **red)
    ax.text(1.9 * (len(steps) - 1) / 2, 3.6, r"$L = \sum_t L_t$", ha="center", fontsize=12)
    ax.set_xlim(-0.6, 1.9 * (len(steps) - 1) + 0.6)
    ax.set_ylim(-0.5, 3.9)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("Forward (black) and backpropagation through time (red)")
    return ax


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
    ax = _axes(ax)
    for label, curve in losses.items():
        curve = np.asarray(curve, dtype=float)
        first = 1
        if smooth > 1 and len(curve) >= smooth:
            curve = np.convolve(curve, np.ones(smooth) / smooth, mode="valid")
            first = smooth
        ax.plot(np.arange(first, first + len(curve)), curve, label=label, alpha=alpha)
    if reference is not None:
        ax.axhline(reference, color="0.6", linestyle="--", label=reference_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return ax


# --- Unit 06: the five types of recurrent network ---


def draw_rnn_types(ax: plt.Axes | None = None) -> plt.Axes:
    """The five types side by side: inputs (orange), states (blue), outputs (green).

    Every green box is an output that carries loss. One-to-many feeds its one input to
    every step; the encoder-decoder passes the encoder's last state (blue) to the decoder
    (purple); the synced tagger's states are linked both ways (bidirectional).
    """
    ax = _axes(ax, figsize=(14.0, 4.2))
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
            _box(ax, (x, 1), "h", "#e3d7f3" if decoder else "#cfe3f6")
            has_input = (kind in (0, 4) or (kind == 2) or (kind == 3 and c < 3)
                         or (kind == 1 and c == 0))
            has_output = kind in (0, 1, 4) or (kind == 2 and c == columns - 1) or decoder
            if has_input:
                _box(ax, (x, 0), "x", "#fde2c4")
                _arrow(ax, (x, 0.2), (x, 0.76))
            if kind == 1 and c > 0:  # the same input feeds every step
                _arrow(ax, (xs[0] + 0.15, 0.18), (x - 0.12, 0.78))
            if has_output:
                _box(ax, (x, 2), "y", "#d7efd2")
                _arrow(ax, (x, 1.24), (x, 1.76))
            if c:
                if kind == 4:
                    _arrow(ax, (xs[c - 1] + 0.2, 1.09), (x - 0.2, 1.09))
                    ax.add_patch(FancyArrowPatch((x - 0.2, 0.91), (xs[c - 1] + 0.2, 0.91),
                                                 arrowstyle="-|>", mutation_scale=12,
                                                 color="#7d3c98"))
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


def plot_loss_mask(mask: np.ndarray, ax: plt.Axes | None = None,
                   title: str = "Which outputs carry loss") -> plt.Axes:
    """Show a boolean ``mask (N, T)``: dark cells carry loss, light cells are padding."""
    mask = np.asarray(mask, dtype=bool)
    ax = _axes(ax, figsize=(0.32 * mask.shape[1] + 2.0, 0.32 * mask.shape[0] + 1.2))
    from matplotlib.colors import ListedColormap

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


def plot_gradient_norms(results: dict[str, dict], ax: plt.Axes | None = None,
                        bound: bool = True,
                        title: str = "Gradient norm against time lag") -> plt.Axes:
    """Measured ``||dh_t/dh_k||_2`` (solid) and the bound ``(gamma sigma_max)^(t-k)`` (dashed).

    ``results`` maps a label to a :func:`rnnlab.pathologies.gradient_norms` result
    (``lags``, ``median``, ``bound``); the y axis is logarithmic and clipped to
    ``[1e-16, 1e16]``.
    """
    ax = _axes(ax)
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
    ax = _axes(ax)
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


def plot_adding_results(summary: dict[tuple[str, int], tuple[float, float, float]],
                        ax: plt.Axes | None = None, ylabel: str = "test sequences solved",
                        title: str = "The adding problem") -> plt.Axes:
    """Grouped bars from :func:`rnnlab.experiments.summarise`: one group per length.

    Each bar is a model's mean over seeds with a [min, max] error bar; the baseline
    (model ``"baseline"``) is a black line across each group.
    """
    ax = _axes(ax, figsize=(8.0, 3.8))
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


def plot_against_k(ks: np.ndarray, curves: dict[str, np.ndarray], ax: plt.Axes | None = None,
                   ylabel: str = "cosine to the full gradient",
                   title: str = "Truncated BPTT against the full gradient") -> plt.Axes:
    """One line per label of a quantity measured for each truncation length ``k``."""
    ax = _axes(ax)
    for label, values in curves.items():
        ax.plot(ks, values, marker="o", markersize=3, label=label)
    ax.set_xlabel("truncation length k (steps)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def plot_adding_curves(records: list[dict], T: int, seed: int = 0,
                       baseline: float | None = None, ax: plt.Axes | None = None,
                       smooth: int = 20, title: str | None = None) -> plt.Axes:
    """Training loss of every model of :func:`rnnlab.experiments.run_grid` at length ``T``.

    One line per model (seed ``seed``), a moving average over ``smooth`` steps, log
    scale; ``baseline`` (the loss of predicting the mean) as a dashed line.
    """
    ax = _axes(ax)
    for r in records:
        if r["T"] == T and r["seed"] == seed:
            window = max(1, min(smooth, len(r["losses"])))
            ax.semilogy(np.convolve(r["losses"], np.ones(window) / window, mode="valid"),
                        label=r["model"])
    if baseline is not None:
        ax.axhline(baseline, color="black", linestyle="--", linewidth=1, label="baseline")
    ax.set_xlabel("training step")
    ax.set_ylabel(f"training MSE (moving average of {smooth})")
    ax.set_title(title or f"Training curves, T = {T}, seed {seed}")
    ax.legend(fontsize=8)
    return ax


# --- Unit 07: four applications ---


def plot_spectrogram(spec: np.ndarray, labels: list[tuple[float, float, str]] | None = None,
                     frame_seconds: float | None = None, ax: plt.Axes | None = None,
                     title: str = "Spectrogram") -> plt.Axes:
    """Heat map of ``spec (F, bands)``: time across, frequency band up.

    ``labels`` are ``(start, end, text)`` in frames, drawn as brackets above the image
    (where each digit sounds). With ``frame_seconds`` the time axis is in seconds.
    """
    ax = _axes(ax, figsize=(8.0, 3.2))
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


def plot_grouped_bars(groups: dict[str, dict[str, float]], ax: plt.Axes | None = None,
                      ylabel: str = "accuracy", title: str = "",
                      chance: float | None = None) -> plt.Axes:
    """Bars ``{series: {category: value}}``, one group per category, one colour per series."""
    ax = _axes(ax)
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
    ax = _axes(ax, figsize=(max(5.0, 0.75 * len(words)), 3.2))
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
