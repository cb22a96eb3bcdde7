"""The adding-problem harness: models, training records, tables (kept to a few seconds)."""

import numpy as np
import pytest
import torch

from rnnlab import experiments


@pytest.mark.parametrize("kind", experiments.MODELS)
def test_models_map_sequences_to_one_number(kind):
    model = experiments.make_model(kind, hidden_size=8, seed=0)
    assert model(torch.zeros(3, 5, 2)).shape == (3,)
    if kind == "IRNN":
        np.testing.assert_array_equal(model.rnn.weight_hh_l0.detach().numpy(), np.eye(8))
        assert model.rnn.nonlinearity == "relu"
    if kind.startswith("tanh"):
        assert model.rnn.nonlinearity == "tanh"


def test_forget_bias_and_seed():
    a = experiments.make_model("LSTM", 4, seed=1)
    b = experiments.make_model("LSTM", 4, seed=1, forget_bias=3.0)
    diff = (b.rnn.bias_hh_l0 - a.rnn.bias_hh_l0).detach().numpy()
    np.testing.assert_allclose(diff, np.r_[np.zeros(4), np.full(4, 3.0), np.zeros(8)], atol=1e-6)
    with pytest.raises(ValueError, match="kind"):
        experiments.make_model("transformer")


def test_train_one_is_reproducible_and_scored_against_the_baseline():
    config = experiments.TrainConfig(steps=30, hidden_size=8, batch_size=16, test_size=200)
    r1 = experiments.train_one("GRU", 10, 0, "le", config)
    r2 = experiments.train_one("GRU", 10, 0, "le", config)
    np.testing.assert_array_equal(r1["losses"], r2["losses"])
    assert r1["mse"] == r2["mse"] and 0 <= r1["solved"] <= 1
    assert r1["baseline_mse"] == pytest.approx(1 / 6)
    assert 0.2 < r1["baseline_solved"] < 0.4  # P(|X1 + X2 - 1| < 0.16) for the Le definition
    assert np.all(np.isfinite(r1["losses"]))
    hs = experiments.train_one("tanh RNN + clip", 22, 1, "hochreiter", config)
    assert 0.1 < hs["baseline_solved"] < 0.2 and hs["definition"] == "hochreiter"


def test_training_lowers_the_loss_on_a_short_problem():
    config = experiments.TrainConfig(steps=150, hidden_size=16, batch_size=32, test_size=200)
    r = experiments.train_one("GRU", 5, 0, "le", config)
    assert r["mse"] < 0.5 * r["baseline_mse"], r["mse"]


def test_grid_summary_and_table():
    config = experiments.TrainConfig(steps=5, hidden_size=4, batch_size=8, test_size=50)
    records = experiments.run_grid(("tanh RNN", "LSTM"), (10, 12), (0, 1), "le", config,
                                   progress=False)
    assert len(records) == 8
    summary = experiments.summarise(records, "mse")
    assert set(summary) == {(m, T) for m in ("tanh RNN", "LSTM", "baseline") for T in (10, 12)}
    mean, lo, hi = summary[("LSTM", 10)]
    assert lo <= mean <= hi
    table = experiments.format_table(records, "solved")
    assert "T = 12" in table and "baseline" in table and "%" in table
    assert "losses" not in experiments.records_without_curves(records)[0]


def test_grids_fast_and_full():
    fast, full = experiments.grid("le", fast=True), experiments.grid("le", fast=False)
    assert fast["steps"] < full["steps"] and max(fast["lengths"]) < max(full["lengths"])
    assert min(experiments.grid("hochreiter", fast=True)["lengths"]) >= 22
    with pytest.raises(ValueError, match="definition"):
        experiments.grid("copy")


def test_input_gradient_norms_irnn_keeps_early_inputs():
    irnn = experiments.input_gradient_norms("IRNN", T=40, N=4, hidden_size=8)
    tanh = experiments.input_gradient_norms("tanh RNN", T=40, N=4, hidden_size=8)
    assert irnn.shape == (40,)
    assert irnn[-1] > 0.1 * irnn[0] and tanh[-1] < 1e-4 * tanh[0]


def test_student_functions_are_used_and_checked_before_training():
    def half_identity(D, H, rng):
        return np.zeros((D, H)), 0.5 * np.eye(H), np.zeros(H)

    model = experiments.make_model("IRNN", 4, init_fn=half_identity)
    np.testing.assert_array_equal(model.rnn.weight_hh_l0.detach().numpy(), 0.5 * np.eye(4))
    assert float(model.rnn.weight_ih_l0.detach().abs().sum()) == 0.0

    def blank(*args):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        experiments.run_grid(("LSTM",), (10,), (0,), clip_fn=blank, progress=False)
    calls = []

    def counting_clip(grads, max_norm):
        calls.append(len(grads))
        return grads

    config = experiments.TrainConfig(steps=3, hidden_size=4, batch_size=4, test_size=10)
    experiments.train_one("tanh RNN", 10, 0, "le", config, clip_fn=counting_clip)
    assert calls == []  # the plain tanh RNN is never clipped
    experiments.train_one("GRU", 10, 0, "le", config, clip_fn=counting_clip)
    assert calls == [6, 6, 6]  # four GRU tensors and the read-out's two, every step


def test_the_recorded_full_run_holds_the_full_grid_and_the_ablation():
    run = experiments.recorded()
    for definition, grid in experiments.FULL.items():
        records = run["records"][definition]
        assert {(r["model"], r["T"], r["seed"]) for r in records} == {
            (m, T, s) for m in experiments.MODELS for T in grid["lengths"]
            for s in run["grids"][definition]["seeds"]}
        assert run["grids"][definition]["lengths"] == list(grid["lengths"])
    assert {r["forget_bias"] for r in run["forget_bias"]["records"]} == {0.0, 1.0, 3.0}
    text = experiments.format_recorded(run)
    assert "RECORDED" in text and "forget bias +1" in text and "GRU" in text
    assert "no recorded run" in experiments.format_recorded({})
