"""Adagrad and SGD with momentum against hand-computed values and torch.optim."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest
import torch

from rnnlab.gradcheck import rel_error
from rnnlab.optim import adagrad_step, sgd_momentum_step


class Pair(NamedTuple):
    W: np.ndarray
    b: np.ndarray


def test_adagrad_by_hand():
    params = {"w": np.array([1.0, -2.0])}
    memory = {"w": np.array([0.0, 3.0])}
    grads = {"w": np.array([2.0, 1.0])}
    adagrad_step(params, grads, memory, lr=0.5, eps=0.0)
    # memory = [4, 4]; update = 0.5 * [2, 1] / 2
    np.testing.assert_allclose(memory["w"], [4.0, 4.0], rtol=0, atol=0)
    np.testing.assert_allclose(params["w"], [0.5, -2.25], rtol=1e-15)
    np.testing.assert_array_equal(grads["w"], [2.0, 1.0])


def test_sgd_momentum_by_hand():
    params, velocity = Pair(np.array([1.0]), np.array([0.0])), Pair(np.zeros(1), np.ones(1))
    grads = Pair(np.array([2.0]), np.array([-1.0]))
    sgd_momentum_step(params, grads, velocity, lr=0.1, momentum=0.5)
    # velocity = 0.5 * [0, 1] + [2, -1] = [2, -0.5]
    assert velocity.W[0] == 2.0 and velocity.b[0] == -0.5
    np.testing.assert_allclose([params.W[0], params.b[0]], [0.8, 0.05], rtol=1e-15)


def torch_run(optimizer_class, kwargs, params, grads_seq):
    tensors = [torch.tensor(p, requires_grad=True) for p in params]
    opt = optimizer_class(tensors, **kwargs)
    for grads in grads_seq:
        for t, g in zip(tensors, grads):
            t.grad = torch.tensor(g)
        opt.step()
    return [t.detach().numpy() for t in tensors]


def random_problem(seed=0, steps=5):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    grads_seq = [[rng.standard_normal(p.shape) for p in params] for _ in range(steps)]
    return params, grads_seq


def test_adagrad_matches_torch():
    params, grads_seq = random_problem()
    want = torch_run(torch.optim.Adagrad, {"lr": 0.1, "eps": 1e-10}, params, grads_seq)
    mine = Pair(*(p.copy() for p in params))
    memory = Pair(*(np.zeros_like(p) for p in params))
    for grads in grads_seq:
        adagrad_step(mine, Pair(*grads), memory, lr=0.1, eps=1e-10)
    for name, got, w in zip(Pair._fields, mine, want):
        assert rel_error(got, w) <= 1e-13, name


def test_sgd_momentum_matches_torch():
    params, grads_seq = random_problem(seed=1)
    want = torch_run(torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}, params, grads_seq)
    mine = {"W": params[0].copy(), "b": params[1].copy()}
    velocity = {"W": np.zeros((3, 4)), "b": np.zeros(4)}
    for grads in grads_seq:
        sgd_momentum_step(mine, {"W": grads[0], "b": grads[1]}, velocity, lr=0.05)
    assert rel_error(mine["W"], want[0]) <= 1e-13
    assert rel_error(mine["b"], want[1]) <= 1e-13


@pytest.mark.parametrize("step", [adagrad_step, sgd_momentum_step])
def test_clear_errors(step):
    params = {"W": np.zeros((2, 2)), "b": np.zeros(2)}
    with pytest.raises(ValueError, match=r"grads has keys \['W'\]; expected \['W', 'b'\]"):
        step(params, {"W": np.zeros((2, 2))}, {"W": np.zeros((2, 2)), "b": np.zeros(2)}, 0.1)
    with pytest.raises(ValueError, match=r"grads\['b'\] has shape \(3,\); expected \(2,\)"):
        step(params, {"W": np.zeros((2, 2)), "b": np.zeros(3)},
             {"W": np.zeros((2, 2)), "b": np.zeros(2)}, 0.1)
    with pytest.raises(TypeError, match="must be a dict or a NamedTuple"):
        step(params, [np.zeros((2, 2)), np.zeros(2)], params, 0.1)
    with pytest.raises(TypeError, match=r"params\['b'\] must be a floating-point numpy array"):
        step({**params, "b": [0.0, 0.0]}, params, params, 0.1)
