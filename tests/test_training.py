"""rnnlab.training: the one training loop against torch.optim, hand values and its own promises."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from rnnlab.training import History, one_cycle, torch_threads, train


class Point(nn.Module):
    """A model that is just a parameter vector ``p`` (float64)."""

    def __init__(self, values):
        super().__init__()
        self.p = nn.Parameter(torch.tensor(values, dtype=torch.float64))


def quadratic(model, target):
    return lambda _step: ((model.p - torch.tensor(target, dtype=torch.float64)) ** 2).sum()


def test_adam_minimises_a_quadratic():
    model = Point([3.0, -2.0, 0.5])
    history = train(model, quadratic(model, [1.0, 1.0, 1.0]), 400, lr=0.05, progress=False)
    assert isinstance(history, History) and history.losses.shape == (400,)
    assert history.losses[-1] < 1e-6 * history.losses[0], "Adam did not minimise the loss"
    np.testing.assert_allclose(model.p.detach().numpy(), [1.0, 1.0, 1.0], atol=1e-3,
                               err_msg="the minimiser")


def test_sgd_step_by_hand():
    model = Point([3.0, -2.0])
    train(model, quadratic(model, [1.0, 1.0]), 1, lr=0.1, optimizer="sgd", progress=False)
    # p - lr * 2 (p - target) = (3 - 0.4, -2 + 0.6)
    np.testing.assert_allclose(model.p.detach().numpy(), [2.6, -1.4], rtol=1e-14,
                               err_msg="one SGD step")


def torch_adam_run(values, steps, lr, one_cycle_schedule):
    """Reference: the same problem with torch.optim.Adam (and OneCycleLR)."""
    model = Point(values)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = (torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps,
                                                     pct_start=0.1)
                 if one_cycle_schedule else None)
    loss_of_step = quadratic(model, [1.0, -1.0, 2.0])
    for step in range(steps):
        optimizer.zero_grad()
        loss_of_step(step).backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return model.p.detach().numpy()


@pytest.mark.parametrize("schedule", ["constant", "one-cycle"])
def test_adam_and_one_cycle_match_torch_optim(schedule):
    values = [3.0, -2.0, 0.5]
    model = Point(values)
    train(model, quadratic(model, [1.0, -1.0, 2.0]), 50, lr=0.1, schedule=schedule,
          progress=False)
    np.testing.assert_allclose(model.p.detach().numpy(),
                               torch_adam_run(values, 50, 0.1, schedule == "one-cycle"),
                               rtol=1e-12, err_msg=f"parameters after 50 Adam steps ({schedule})")


def test_rmsprop_matches_torch_optim():
    values = [3.0, -2.0, 0.5]
    model, reference = Point(values), Point(values)
    train(model, quadratic(model, [1.0, -1.0, 2.0]), 30, lr=0.05, optimizer="rmsprop",
          progress=False)
    optimizer = torch.optim.RMSprop(reference.parameters(), lr=0.05, alpha=0.9, eps=1e-8)
    loss_of_step = quadratic(reference, [1.0, -1.0, 2.0])
    for step in range(30):
        optimizer.zero_grad()
        loss_of_step(step).backward()
        optimizer.step()
    np.testing.assert_allclose(model.p.detach().numpy(), reference.p.detach().numpy(),
                               rtol=1e-12, err_msg="parameters after 30 RMSprop steps")


def test_rmsprop_step_by_hand():
    # g = 2 (p - target) = (4, -6), v = 0.1 g^2: each entry moves by lr / sqrt(0.1) = 0.316...
    model = Point([3.0, -2.0])
    train(model, quadratic(model, [1.0, 1.0]), 1, lr=0.1, optimizer="rmsprop", progress=False)
    expected = [3.0 - 0.1 * 4 / (np.sqrt(1.6) + 1e-8), -2.0 + 0.1 * 6 / (np.sqrt(3.6) + 1e-8)]
    np.testing.assert_allclose(model.p.detach().numpy(), expected, rtol=1e-12,
                               err_msg="one RMSprop step")


def test_clipping_bounds_the_gradient_norm():
    model = Point([0.0, 0.0, 0.0, 0.0])

    def steep(_step):
        return 1000.0 * model.p.sum()  # gradient (1000, ...), norm 2000

    history = train(model, steep, 1, lr=0.1, optimizer="sgd", clip=1.0, progress=False)
    assert history.grad_norms[0] == pytest.approx(2000.0), "the norm before clipping"
    step = model.p.detach().numpy()
    assert np.linalg.norm(step) == pytest.approx(0.1, rel=1e-5), (
        f"an SGD step of lr 0.1 with the gradient clipped to norm 1 moved {step}")
    measured = Point([0.0, 0.0, 0.0, 0.0])
    history = train(measured, lambda _s: 1000.0 * measured.p.sum(), 1, lr=0.1,
                    optimizer="sgd", clip=math.inf, progress=False)
    assert history.grad_norms[0] == pytest.approx(2000.0), "clip=inf measures the norm"
    assert np.linalg.norm(measured.p.detach().numpy()) == pytest.approx(200.0), (
        "clip=inf must not clip")
    unclipped = Point([0.0, 0.0, 0.0, 0.0])
    history = train(unclipped, lambda _s: 1000.0 * unclipped.p.sum(), 1, lr=0.1,
                    optimizer="sgd", progress=False)
    assert np.linalg.norm(unclipped.p.detach().numpy()) == pytest.approx(200.0)
    assert np.isnan(history.grad_norms[0]), "without clipping the norm is not measured"


def test_clip_fn_replaces_torch_clipping():
    model = Point([1.0, 2.0])
    seen = []

    def halve(grads, max_norm):
        seen.append(max_norm)
        return [g / 2 for g in grads]

    train(model, quadratic(model, [0.0, 0.0]), 1, lr=1.0, optimizer="sgd", clip=5.0,
          clip_fn=halve, progress=False)
    assert seen == [5.0]
    np.testing.assert_allclose(model.p.detach().numpy(), [0.0, 0.0], atol=1e-15,
                               err_msg="p - lr * (2 p) / 2")


def test_one_cycle_has_its_documented_shape():
    lrs, beta1s = one_cycle(100, 1.0)
    turn = 9  # warmup * steps - 1
    assert lrs[0] == pytest.approx(1 / 25) and lrs[turn] == pytest.approx(1.0)
    assert lrs[-1] == pytest.approx(1 / 25e4)
    assert np.all(np.diff(lrs[:turn + 1]) > 0) and np.all(np.diff(lrs[turn:]) < 0)
    assert beta1s[0] == pytest.approx(0.95) and beta1s[turn] == pytest.approx(0.85)
    assert beta1s[-1] == pytest.approx(0.95)
    model = Point([1.0])
    history = train(model, quadratic(model, [0.0]), 100, lr=1.0, schedule="one-cycle",
                    progress=False)
    np.testing.assert_allclose(history.lrs, lrs, rtol=1e-15, err_msg="the rates used")


def test_one_cycle_matches_torch_scheduler():
    model = Point([1.0])
    optimizer = torch.optim.Adam(model.parameters(), lr=0.3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.3, total_steps=40,
                                                    pct_start=0.1)
    expected = []
    for _ in range(40):
        expected.append((optimizer.param_groups[0]["lr"], optimizer.param_groups[0]["betas"][0]))
        optimizer.step()
        scheduler.step()
    lrs, beta1s = one_cycle(40, 0.3)
    np.testing.assert_allclose(lrs, [e[0] for e in expected], rtol=1e-12, err_msg="lr")
    np.testing.assert_allclose(beta1s, [e[1] for e in expected], rtol=1e-12, err_msg="beta1")


def test_training_stops_at_the_first_loss_that_is_not_finite():
    model = Point([1.0])
    calls = []

    def loss_of_step(step):
        calls.append(step)
        loss = (model.p ** 2).sum()
        return loss * math.inf if step == 2 else loss

    history = train(model, loss_of_step, 6, optimizer="sgd", lr=0.1, clip=math.inf,
                    progress=False)
    assert calls == [0, 1, 2]
    assert np.all(np.isfinite(history.losses[:2])) and np.all(np.isnan(history.losses[2:]))
    assert np.all(np.isfinite(history.grad_norms[:2]))
    assert np.all(np.isnan(history.grad_norms[2:]))
    assert model.p.item() == pytest.approx(0.8**2), "two SGD steps, then none"


def test_model_trains_in_training_mode_and_ends_in_evaluation_mode():
    model = Point([1.0])
    modes = []

    def loss_of_step(_step):
        modes.append(model.training)
        return (model.p ** 2).sum()

    model.eval()
    train(model, loss_of_step, 3, progress=False)
    assert modes == [True, True, True] and not model.training


def test_threads_are_set_and_restored_even_on_an_exception():
    before = torch.get_num_threads()
    other = 1 if before > 1 else 2
    with pytest.raises(RuntimeError, match="boom"):
        with torch_threads(other):
            assert torch.get_num_threads() == other
            raise RuntimeError("boom")
    assert torch.get_num_threads() == before

    model = Point([1.0])
    seen = []

    def failing(_step):
        seen.append(torch.get_num_threads())
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        train(model, failing, 3, threads=other, progress=False)
    assert seen == [other] and torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"steps": 0}, "steps"),
    ({"steps": 2.5}, "steps"),
    ({"lr": -1.0}, "lr"),
    ({"clip": 0.0}, "clip"),
    ({"optimizer": "adagrad"}, "optimizer"),
    ({"schedule": "cosine"}, "schedule"),
    ({"threads": 0}, "threads"),
    ({"clip_fn": lambda grads, max_norm: grads}, "clip_fn"),
])
def test_bad_arguments_raise_a_value_error_naming_them(kwargs, name):
    model = Point([1.0])
    arguments = {"steps": 3, **kwargs}
    with pytest.raises(ValueError, match=name):
        train(model, quadratic(model, [0.0]), progress=False, **arguments)
    assert model.p.item() == 1.0, "nothing trains before the arguments are checked"


def test_bad_one_cycle_arguments():
    with pytest.raises(ValueError, match="steps"):
        one_cycle(0, 1.0)
    with pytest.raises(ValueError, match="warmup"):
        one_cycle(10, 1.0, warmup=1.5)
