"""The measured table of remedies: truncation, sigma, the recorded run (a few seconds)."""

import numpy as np
import pytest
import torch

from rnnlab import experiments, remedy_table
from rnnlab.remedies import global_norm


def test_sigma_sets_every_singular_value_of_the_recurrent_weights():
    for kind in ("tanh RNN", "ReLU RNN"):
        model = experiments.make_model(kind, hidden_size=6, seed=3, sigma=1.5)
        singular = np.linalg.svd(model.rnn.weight_hh_l0.detach().numpy(), compute_uv=False)
        np.testing.assert_allclose(singular, np.full(6, 1.5), rtol=1e-6, err_msg=kind)
    assert experiments.make_model("ReLU RNN", 4).rnn.nonlinearity == "relu"
    with pytest.raises(ValueError, match="sigma"):
        experiments.make_model("LSTM", sigma=1.5)
    with pytest.raises(ValueError, match="truncate"):
        experiments.make_model("GRU", truncate=0)


@pytest.mark.parametrize("kind", ["tanh RNN", "LSTM"])
def test_truncation_keeps_the_values_and_cuts_the_gradient_at_the_chunks(kind):
    x = torch.randn(3, 12, 2, dtype=torch.float32)
    full = experiments.make_model(kind, hidden_size=5, seed=1)
    cut = experiments.make_model(kind, hidden_size=5, seed=1, truncate=5)
    torch.testing.assert_close(cut(x), full(x), rtol=0, atol=0)
    x_cut = x.clone().requires_grad_(True)
    cut(x_cut).sum().backward()
    reach = x_cut.grad.abs().sum(dim=(0, 2))
    # chunks are steps 0-4, 5-9, 10-11: only the last chunk reaches the prediction
    assert torch.all(reach[:10] == 0) and torch.all(reach[10:] > 0), reach


def test_train_one_records_the_gradient_norm_before_any_update():
    config = experiments.TrainConfig(steps=2, hidden_size=4, batch_size=8, test_size=10,
                                     optimizer="sgd", sigma=1.5)
    r = experiments.train_one("tanh RNN", 10, 0, "le", config)
    model = experiments.make_model("tanh RNN", 4, seed=0, sigma=1.5)
    x, y = experiments.adding.adding_problem(8, 10, np.random.default_rng([0, 10]), "le")
    loss = torch.mean((model(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2)
    grads = torch.autograd.grad(loss, list(model.parameters()))
    norm = global_norm([g.numpy() for g in grads])
    assert r["first_grad_norm"] == pytest.approx(norm, rel=1e-5)
    assert r["max_grad_norm"] >= r["first_grad_norm"]


def test_truncation_caps_the_exploding_gradient_norm():
    norms = remedy_table.gradient_norms([10, 100])
    assert norms["truncated"][0] == norms["full"][0]  # T = k: nothing is cut
    assert norms["full"][1] > 10 * norms["full"][0], norms  # sigma = 1.5 explodes here
    assert norms["truncated"][1] < norms["full"][0], norms


def test_a_short_run_fills_every_row_and_the_table_prints_them():
    records = remedy_table.run((0,), 2, 2, progress=False)
    rows_ex = [row for row, _, _ in remedy_table.EXPLODING]
    assert [r["row"] for r in records["exploding"]] == rows_ex
    assert len(records["vanishing"]) == len(remedy_table.VANISHING) * 2
    text = remedy_table.format_recorded({"command": "c", "seeds": [0], "records": records,
                                         "seconds": 1.0, "machine": "m"})
    for row in rows_ex + [row for row, _ in remedy_table.VANISHING]:
        assert row in text
    assert "no recorded run" in remedy_table.format_recorded({})


def test_the_recorded_run_holds_every_row_and_seed():
    run = remedy_table.recorded()
    seeds = run["seeds"]
    assert len(seeds) >= 3
    assert sorted((r["row"], r["seed"]) for r in run["records"]["exploding"]) == sorted(
        (row, s) for row, _, _ in remedy_table.EXPLODING for s in seeds)
    assert sorted((r["row"], r["seed"]) for r in run["records"]["vanishing"]) == sorted(
        (f"{row}, {o}", s) for row, _ in remedy_table.VANISHING
        for o in remedy_table.OPTIMIZERS for s in seeds)
    assert all(r["T"] == remedy_table.EXPLODING_T for r in run["records"]["exploding"])
    assert "RECORDED" in remedy_table.format_recorded(run)


def test_the_notebooks_verdicts_hold_on_the_recorded_run():
    """Unit 05's section 8 reads these off the recorded tables; re-recording must keep them."""
    run = remedy_table.recorded()
    ev = remedy_table.evidence(run)
    base = ev["baseline"]
    assert ev["finite_no_remedy"] == 0, "without a remedy no run ends finite"
    remedied = [r for r in run["records"]["exploding"]
                if r["row"] != remedy_table.EXPLODING[0][0]]
    assert all(r["finite"] for r in remedied), "every remedied run ends finite"
    assert all(r["mse"] > 0.9 * base for r in remedied), "no exploding-side remedy learns"
    assert ev["norm_truncated"] < ev["norm_full"] / 5, "truncation caps the norm"
    assert ev["rmsprop_largest"] > ev["norm_full"], "RMSprop does not shrink the gradient"
    assert ev["tanh RNN, RMSprop"] > 0.9 * base and ev["tanh RNN, SGD"] > 0.9 * base
    assert ev["ReLU RNN, default init, RMSprop"] > base
    assert min(ev["IRNN (ReLU, Wh = I), SGD"], ev["IRNN (ReLU, Wh = I), RMSprop"]) > 0.9 * base
    sgd = [v for k, v in ev.items() if k.endswith(", SGD")]
    assert len(sgd) == len(remedy_table.VANISHING) and min(sgd) > 0.9 * base, sgd
    assert max(ev["LSTM, RMSprop"], ev["GRU, RMSprop"]) < 0.5 * base, "gated cells learn"
    gru = [r["solved"] for r in run["records"]["vanishing"] if r["row"] == "GRU, RMSprop"]
    assert min(gru) > 0.9, "the GRU solves nearly every test sequence"
