"""rnnlab.pathologies against torch.autograd, finite differences and known values."""

import numpy as np
import pytest
import torch

import rnnlab
from rnnlab import pathologies
from rnnlab.gradcheck import numeric_gradient

TORCH_F = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda a: a,
           "relu": torch.relu}


def problem(N, T, H, seed, activation="tanh"):
    rng = np.random.default_rng(seed)
    x, h0 = rng.standard_normal((N, T, 2)), rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((2, H)), 0.7 * rng.standard_normal((H, H)), rng.standard_normal(H)
    hs = pathologies.hidden_states(x, h0, Wx, Wh, b, activation)
    return x, h0, Wx, Wh, b, hs


@pytest.mark.parametrize("activation", pathologies.ACTIVATIONS)
def test_forward_matches_torch_and_reference(activation):
    x, h0, Wx, Wh, b, hs = problem(3, 5, 4, 0, activation)
    h = torch.tensor(h0)
    for t in range(5):
        h = TORCH_F[activation](torch.tensor(x[:, t] @ Wx + b) + h @ torch.tensor(Wh))
        np.testing.assert_allclose(hs[:, t], h.numpy(), rtol=1e-12, atol=1e-14, err_msg=f"hs[:, {t}]")
    if activation == "tanh":
        np.testing.assert_allclose(hs, rnnlab.rnn_forward(x, h0, Wx, Wh, b)[0], rtol=1e-13)


@pytest.mark.parametrize("activation", pathologies.ACTIVATIONS)
@pytest.mark.parametrize("N, H", [(1, 1), (3, 4), (2, 6)])
def test_step_jacobian_matches_autograd(activation, N, H):
    x, h0, Wx, Wh, b, _ = problem(N, 1, H, N * 10 + H, activation)
    h_next = pathologies.hidden_states(x, h0, Wx, Wh, b, activation)[:, 0]
    J = pathologies.step_jacobian(h_next, Wh, activation)
    for n in range(N):
        expected = torch.autograd.functional.jacobian(
            lambda h, n=n: TORCH_F[activation](torch.tensor(x[n, 0] @ Wx + b) + h @ torch.tensor(Wh)),
            torch.tensor(h0[n]))
        np.testing.assert_allclose(J[n], expected.numpy(), rtol=1e-10, atol=1e-12, err_msg="J")


def test_step_jacobian_matches_finite_differences_and_hand_values():
    x, h0, Wx, Wh, b, _ = problem(1, 1, 3, 5)
    h_next = np.tanh(x[:, 0] @ Wx + h0 @ Wh + b)
    J = pathologies.step_jacobian(h_next, Wh)
    numeric = np.stack([numeric_gradient(lambda h, i=i: np.tanh(x[:, 0] @ Wx + h @ Wh + b)[0, i], h0)[0]
                        for i in range(3)])
    np.testing.assert_allclose(J[0], numeric, rtol=1e-6, atol=1e-9)
    # diag(1 - 0.25, 1) @ [[1, 2], [3, 4]].T, by hand.
    np.testing.assert_allclose(pathologies.step_jacobian(np.array([[0.5, 0.0]]), np.array([[1.0, 2.0], [3.0, 4.0]])),
                               [[[0.75, 2.25], [2.0, 4.0]]])


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_product_norms_match_autograd_of_the_unrolled_map(activation):
    N, T, H = 2, 6, 3
    x, _, Wx, Wh, b, hs = problem(N, T, H, 3, activation)
    norms = pathologies.jacobian_product_norms(hs, Wh, activation)
    assert norms.shape == (N, T) and np.all(norms[:, 0] == 1.0)
    for n in range(N):
        for lag in range(1, T):
            def unroll(h, n=n, lag=lag):
                for t in range(T - lag, T):
                    h = TORCH_F[activation](torch.tensor(x[n, t] @ Wx + b) + h @ torch.tensor(Wh))
                return h
            J = torch.autograd.functional.jacobian(unroll, torch.tensor(hs[n, T - 1 - lag]))
            np.testing.assert_allclose(norms[n, lag], torch.linalg.matrix_norm(J, ord=2).item(),
                                       rtol=1e-9, err_msg=f"norm at lag {lag}")


def test_linear_orthogonal_network_sits_on_the_bound_and_tanh_below_it():
    for scale in (0.8, 1.0, 1.3):
        r = pathologies.gradient_norms(scale, "linear", T=30, H=8, N=2)
        np.testing.assert_allclose(r["norms"], np.tile(r["bound"], (2, 1)), rtol=1e-9)
        assert r["sigma_max"] == pytest.approx(scale)
    for activation in ("tanh", "sigmoid", "relu"):
        r = pathologies.gradient_norms(2.0, activation, T=30, H=8, N=3)
        assert np.all(r["norms"] <= r["bound"] * (1 + 1e-9)), activation


def test_tanh_with_sigma_above_one_vanishes_when_driven_and_explodes_at_rest():
    driven = pathologies.gradient_norms(1.5, "tanh", T=60, input_std=1.0)
    at_rest = pathologies.gradient_norms(1.5, "tanh", T=60, input_std=0.0)
    assert driven["median"][-1] < 1e-2
    np.testing.assert_allclose(at_rest["median"], 1.5 ** np.arange(60), rtol=1e-9)


def test_pascanu_bound_and_gamma():
    np.testing.assert_allclose(pathologies.pascanu_bound(2.0, 0.25, [0, 1, 2]), [1.0, 0.5, 0.25])
    assert pathologies.GAMMA == {"tanh": 1.0, "sigmoid": 0.25, "linear": 1.0, "relu": 1.0}
    a = np.linspace(-6, 6, 10001)
    for name, f in [("tanh", np.tanh), ("sigmoid", lambda v: 1 / (1 + np.exp(-v)))]:
        slope = np.abs(np.gradient(f(a), a)).max()
        assert slope == pytest.approx(pathologies.GAMMA[name], rel=1e-3)


def test_loss_cliff_gradient_matches_finite_differences_and_has_a_cliff():
    b = np.linspace(-1.4, -0.4, 201)
    loss, dloss = pathologies.loss_cliff(b)
    eps = 1e-6
    numeric = (pathologies.loss_cliff(b + eps)[0] - pathologies.loss_cliff(b - eps)[0]) / (2 * eps)
    np.testing.assert_allclose(dloss, numeric, rtol=1e-4, atol=1e-6)
    assert loss[0] > 3.0 and loss[-1] < 0.05
    assert np.abs(dloss).max() > 1000 * np.median(np.abs(dloss))


def test_overflow_run_gives_nan_and_clipping_prevents_it():
    plain = pathologies.overflow_run(steps=3)
    clipped = pathologies.overflow_run(steps=3, max_norm=1.0)
    assert np.isfinite(plain["losses"][0]) and np.isnan(plain["losses"][1])
    assert np.all(np.isfinite(clipped["losses"]))
    assert clipped["losses"][0] == plain["losses"][0]


def test_widget_redraws_when_the_slider_or_menu_moves():
    widget = pathologies.interactive_gradient_norms(scale=0.5, T=20, H=8)
    first_image = widget.image.value
    first = widget.ax.get_lines()[0].get_ydata().copy()
    assert len(first_image) > 1000 and "0.5" in widget.ax.get_lines()[0].get_label()
    widget.slider.value = 3.0
    assert "3.0" in widget.ax.get_lines()[0].get_label()
    assert widget.ax.get_lines()[0].get_ydata()[-1] > first[-1]
    assert widget.image.value != first_image
    widget.dropdown.value = "linear"
    np.testing.assert_allclose(widget.ax.get_lines()[0].get_ydata(), 3.0 ** np.arange(20), rtol=1e-9)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="activation"):
        pathologies.step_jacobian(np.zeros((1, 2)), np.zeros((2, 2)), "softsign")
    with pytest.raises(ValueError, match="Wh"):
        pathologies.jacobian_product_norms(np.zeros((1, 3, 2)), np.zeros((3, 3)))
