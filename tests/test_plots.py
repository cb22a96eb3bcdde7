"""Every plot helper draws into the axes it is given (or a new figure), returns them, gives
them a title and, unless it is a drawing, labelled axes; none calls ``plt.show()``."""

from __future__ import annotations

import inspect

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from rnnlab import diagrams, gradient_plots, memory_plots, plots

MODULES = (plots, diagrams, gradient_plots, memory_plots)
STEPS = np.arange(1, 6)
CURVE = np.linspace(0.9, 0.5, 5)
NORMS = {"lags": STEPS, "median": CURVE, "bound": CURVE}
# name: a call with small data, given the axes (None for a new figure)
CALLS = {
    "plot_loss_curve": lambda ax: plots.plot_loss_curve({"a": CURVE, "b": []}, ax=ax, smooth=2),
    "plot_hidden_states": lambda ax: plots.plot_hidden_states(np.zeros((1, 5, 3)), ax=ax),
    "plot_probabilities": lambda ax: plots.plot_probabilities(np.full((4, 2), 0.5), ["a", "b"],
                                                              ax=ax),
    "plot_agreement": lambda ax: plots.plot_agreement(CURVE, CURVE, "want", "got", ax=ax),
    "plot_loss_mask": lambda ax: plots.plot_loss_mask(np.eye(3, dtype=bool), ax=ax),
    "plot_grouped_bars": lambda ax: plots.plot_grouped_bars({"s": {"a": 0.5, "b": 0.7}}, ax=ax,
                                                            title="bars", chance=0.5),
    "plot_word_trace": lambda ax: plots.plot_word_trace(["a", "b"], {"m": CURVE[:2]}, ax=ax),
    "plot_spectrogram": lambda ax: plots.plot_spectrogram(np.zeros((10, 8)), [(0, 5, "1")],
                                                          frame_seconds=0.01, ax=ax),
    "draw_unrolled": lambda ax: diagrams.draw_unrolled(ax=ax),
    "draw_bptt": lambda ax: diagrams.draw_bptt(ax=ax),
    "draw_rnn_types": lambda ax: diagrams.draw_rnn_types(ax=ax),
    "plot_gradient_norms": lambda ax: gradient_plots.plot_gradient_norms({"a": NORMS}, ax=ax),
    "plot_loss_cliff": lambda ax: gradient_plots.plot_loss_cliff(STEPS, CURVE, CURVE - 1, ax=ax),
    "plot_against_k": lambda ax: gradient_plots.plot_against_k(STEPS, {"a": CURVE}, ax=ax),
    "plot_sentences": lambda ax: memory_plots.plot_sentences(np.array([[0, 1], [1, 0]]),
                                                             ("a", "b"), (0,), ["x", "y"], ax=ax),
    "plot_window_accuracy": lambda ax: memory_plots.plot_window_accuracy(STEPS, CURVE, 3,
                                                                         CURVE, ax=ax),
    "plot_accuracy_by_gap": lambda ax: memory_plots.plot_accuracy_by_gap(STEPS, {"m": CURVE},
                                                                         window=2, ax=ax),
    "plot_adding_results": lambda ax: memory_plots.plot_adding_results(
        {("m", 10): (0.5, 0.4, 0.6), ("baseline", 10): (0.3, 0.3, 0.3)}, ax=ax),
    "plot_adding_curves": lambda ax: memory_plots.plot_adding_curves(
        [{"T": 10, "seed": 0, "model": "m", "losses": np.ones(30)}], 10, baseline=0.1, ax=ax),
}


def helpers():
    return {name: f for module in MODULES for name, f in vars(module).items()
            if name.startswith(("plot_", "draw_")) and inspect.getmodule(f) is module}


def test_every_helper_is_called_here_and_takes_ax_none():
    assert set(helpers()) == set(CALLS)
    for name, f in helpers().items():
        assert inspect.signature(f).parameters["ax"].default is None, name


@pytest.fixture(autouse=True)
def no_show(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a plot helper called plt.show()")
    monkeypatch.setattr(plt, "show", refuse)
    yield
    plt.close("all")


@pytest.mark.parametrize("name", list(CALLS))
def test_helper_draws_into_its_axes_and_labels_them(name):
    plots.use_style()
    ax = plt.figure().add_subplot()
    assert CALLS[name](ax) is ax
    assert ax.get_title(), f"{name} gives no title"
    if not name.startswith("draw_"):  # categories named on the ticks label an axis too
        named_ticks = all(t.get_text() for t in ax.get_xticklabels())
        assert ax.get_xlabel() or named_ticks, f"{name} leaves the x axis unlabelled"
        assert ax.get_ylabel(), f"{name} leaves the y axis unlabelled"
    new = CALLS[name](None)
    assert isinstance(new, plt.Axes) and new is not ax


def test_show_images_returns_its_grid_of_axes():
    axes = plots.show_images(np.zeros((3, 3, 4, 4)), ["a", "b", "c"], ncols=2, title="grid")
    assert axes.shape == (2, 2) and axes[0, 0].get_title() == "a"
    assert axes[0, 0].figure._suptitle.get_text() == "grid"
