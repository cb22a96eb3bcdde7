"""rnnlab.remedies against torch, finite differences and values worked out by hand."""

import numpy as np
import pytest
import torch

import rnnlab
from rnnlab import remedies


def random_grads(seed, shapes=((3, 4), (4, 4), (4,)), scale=1.0):
    rng = np.random.default_rng(seed)
    return [scale * rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("max_norm", [0.01, 1.0, 100.0])
def test_clip_grad_norm_matches_torch(max_norm):
    grads = random_grads(0, scale=3.0)
    tensors = [torch.tensor(g) for g in grads]
    for t in tensors:
        t.grad = t.clone()
    torch_norm = torch.nn.utils.clip_grad_norm_(tensors, max_norm)
    assert remedies.global_norm(grads) == pytest.approx(torch_norm.item(), rel=1e-12)
    clipped = remedies.clip_grad_norm(grads, max_norm)
    for c, t in zip(clipped, tensors):
        np.testing.assert_allclose(c, t.grad.numpy(), rtol=1e-5)  # torch adds 1e-6 to the norm
    assert remedies.global_norm(clipped) <= max_norm * (1 + 1e-12) or max_norm > torch_norm


def test_clipping_by_hand_and_inputs_unchanged():
    grads = [np.array([3.0]), np.array([[4.0]])]
    clipped = remedies.clip_grad_norm(grads, 1.0)
    np.testing.assert_allclose(np.concatenate([c.ravel() for c in clipped]), [0.6, 0.8])
    assert grads[0][0] == 3.0 and grads[1][0, 0] == 4.0
    np.testing.assert_array_equal(remedies.clip_grad_value([np.array([-5.0, 0.5, 2.0])], 1.0)[0],
                                  [-1.0, 0.5, 1.0])
    assert remedies.cosine([np.array([1.0, 0.0])], [np.array([1.0, 1.0])]) == pytest.approx(2 ** -0.5)
    zero = remedies.clip_grad_norm([np.zeros(2)], 1.0)[0]
    np.testing.assert_array_equal(zero, np.zeros(2))


def test_norm_clipping_keeps_direction_and_value_clipping_turns_it():
    grads = random_grads(1, scale=10.0)
    grads[1][0, 0] = 1e4  # one huge entry, as after an explosion
    result = remedies.clipping_cosines(grads, [0.01, 0.1, 1.0])
    np.testing.assert_allclose(result["norm"], 1.0, rtol=1e-12)
    assert result["value"][0] < 0.9 and result["value"][-1] == pytest.approx(1.0)
    assert np.all(np.diff(result["value"]) >= 0)


def torch_truncated(dhs, x, h0, Wx, Wh, b, k):
    leaves = [torch.tensor(a, requires_grad=True) for a in (x, h0, Wx, Wh, b)]
    xt, h, Wxt, Wht, bt = leaves
    states = []
    for t in range(x.shape[1]):
        if t > 0 and t % k == 0:
            h = h.detach()
        h = torch.tanh(xt[:, t] @ Wxt + h @ Wht + bt)
        states.append(h)
    torch.stack(states, 1).backward(torch.tensor(dhs))
    return [leaf.grad.numpy() for leaf in leaves]


@pytest.mark.parametrize("N, T, D, H, k", [(1, 1, 1, 1, 1), (2, 7, 3, 4, 3), (3, 6, 2, 5, 1),
                                           (1, 9, 1, 3, 4), (2, 4, 3, 3, 10)])
def test_truncated_backward_matches_torch_detach(N, T, D, H, k):
    rng = np.random.default_rng(N * 100 + T)
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((D, H)), rng.standard_normal((H, H)), rng.standard_normal(H)
    hs, cache = rnnlab.rnn_forward(x, h0, Wx, Wh, b)
    dhs = rng.standard_normal(hs.shape)
    got = remedies.truncated_rnn_backward(dhs, cache, k)
    for name, g, e in zip(got._fields, got, torch_truncated(dhs, x, h0, Wx, Wh, b, k)):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12, err_msg=name)
    if k >= T:
        for name, g, e in zip(got._fields, got, rnnlab.rnn_backward(dhs, cache)):
            np.testing.assert_allclose(g, e, rtol=1e-13, err_msg=name)


def test_truncation_bias_grows_with_the_spectral_scale():
    ks = [1, 5, 20, 60]
    small = remedies.truncation_bias(ks, scale=0.5)
    large = remedies.truncation_bias(ks, scale=1.5)
    assert small["cosine"][1] > 0.99 and large["cosine"][2] < 0.5
    np.testing.assert_allclose([small["cosine"][-1], large["cosine"][-1]], 1.0)
    np.testing.assert_allclose([small["relative_error"][-1], large["relative_error"][-1]], 0.0,
                               atol=1e-12)
    with pytest.raises(ValueError, match="where"):
        remedies.truncation_bias(ks, where="first")


def test_rmsprop_matches_torch_and_hand_values():
    param, cache = remedies.rmsprop_step(np.array([1.0]), np.array([2.0]), np.zeros(1), lr=0.1,
                                         decay=0.9, eps=0.0)
    np.testing.assert_allclose(cache, [0.4])
    np.testing.assert_allclose(param, [1 - 0.2 / np.sqrt(0.4)])
    rng = np.random.default_rng(3)
    w, cache = rng.standard_normal((3, 2)), np.zeros((3, 2))
    wt = torch.tensor(w.copy(), requires_grad=True)
    opt = torch.optim.RMSprop([wt], lr=0.01, alpha=0.95, eps=1e-6)
    for _ in range(5):
        grad = rng.standard_normal((3, 2)) * 100
        before = w.copy()
        w, cache = remedies.rmsprop_step(w, grad, cache, lr=0.01, decay=0.95, eps=1e-6)
        assert not np.shares_memory(w, before)
        wt.grad = torch.tensor(grad)
        opt.step()
        np.testing.assert_allclose(w, wt.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(cache, opt.state[wt]["square_avg"].numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="cache"):
        remedies.rmsprop_step(np.zeros(2), np.zeros(2), np.zeros(3))


def test_identity_init():
    Wx, Wh, b = remedies.identity_init(3, 4, np.random.default_rng(0), scale=0.9)
    np.testing.assert_array_equal(Wh, 0.9 * np.eye(4))
    np.testing.assert_array_equal(b, np.zeros(4))
    np.testing.assert_array_equal(Wx, np.random.default_rng(0).normal(0, 1e-3, (3, 4)))


@pytest.mark.parametrize("N, T, D, H", [(1, 1, 1, 1), (3, 5, 2, 4), (2, 8, 4, 6)])
def test_lstm_matches_torch(N, T, D, H):
    rng = np.random.default_rng(N + T + D + H)
    x, h0, c0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H)), rng.standard_normal(4 * H)
    hs, cs = remedies.lstm_forward(x, h0, c0, Wx, Wh, b)
    with torch.no_grad():
        out, (_, cT) = remedies.to_torch_lstm(Wx, Wh, b)(torch.tensor(x), (torch.tensor(h0[None]),
                                                                          torch.tensor(c0[None])))
    np.testing.assert_allclose(hs, out.numpy(), rtol=1e-11, atol=1e-13, err_msg="hs")
    np.testing.assert_allclose(cs[:, -1], cT[0].numpy(), rtol=1e-11, atol=1e-13, err_msg="c_T")


def test_lstm_gate_order_by_hand():
    # Only the bias of one block is set, c_prev = 1 (see the hidden tests of unit 05).
    for block, value, c_expected, h_expected in [(2, 50.0, 1.0, 0.5 * np.tanh(1.0)),
                                                 (3, -50.0, 0.5, 0.0),
                                                 (0, -50.0, 0.5, 0.5 * np.tanh(0.5)),
                                                 (1, -50.0, 0.0, 0.0)]:
        b = np.zeros(4)
        b[block] = value
        h, c = remedies.lstm_step_forward(np.zeros((1, 1)), np.zeros((1, 1)), np.ones((1, 1)),
                                          np.zeros((1, 4)), np.zeros((1, 4)), b)
        np.testing.assert_allclose(c, [[c_expected]], atol=1e-12, err_msg="ifgo"[block])
        np.testing.assert_allclose(h, [[h_expected]], atol=1e-12, err_msg="ifgo"[block])
    with pytest.raises(ValueError, match="Wx"):
        remedies.lstm_step_forward(np.zeros((1, 2)), np.zeros((1, 3)), np.zeros((1, 3)),
                                   np.zeros((2, 8)), np.zeros((3, 8)), np.zeros(8))


def test_bad_input_names_the_argument():
    with pytest.raises(TypeError, match="grads"):
        remedies.clip_grad_norm(np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="max_norm"):
        remedies.clip_grad_norm([np.zeros(3)], 0.0)
    with pytest.raises(ValueError, match="k must"):
        x = np.zeros((1, 2, 1))
        _, cache = rnnlab.rnn_forward(x, np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((2, 2)), np.zeros(2))
        remedies.truncated_rnn_backward(np.zeros((1, 2, 2)), cache, 0)


def test_lstm_cell_jacobian_matches_finite_differences_and_its_direct_path():
    rng = np.random.default_rng(7)
    H, t = 5, 4
    x = rng.standard_normal((2, 8, 3))
    Wx, Wh, b = (rng.standard_normal(s) for s in [(3, 4 * H), (H, 4 * H), (4 * H,)])
    jac = remedies.lstm_cell_jacobian(x, Wx, Wh, b, t=t, n=1)
    zeros = np.zeros((1, H))
    hs, cs = remedies.lstm_forward(x[1:2, :t], zeros, zeros, Wx, Wh, b)
    o_prev = hs[:, t - 1] / np.tanh(cs[:, t - 1])  # h_{t-1} = o_{t-1} tanh(c_{t-1})

    def c_next(c_prev, gates_from=None):
        h_prev = o_prev * np.tanh(c_prev if gates_from is None else gates_from)
        return remedies.lstm_step_forward(x[1:2, t], h_prev, c_prev, Wx, Wh, b)[1][0]

    eps, c0 = 1e-6, cs[:, t - 1]
    for name, expected in [("whole", lambda c: c_next(c)),
                           ("direct", lambda c: c_next(c, gates_from=c0))]:
        numeric = np.stack([(expected(c0 + eps * e) - expected(c0 - eps * e)) / (2 * eps)
                            for e in np.eye(H)], axis=1)
        np.testing.assert_allclose(jac[name], numeric, atol=1e-8,
                                   err_msg=f"dc_t/dc_(t-1), {name}")
    assert not np.allclose(jac["whole"], jac["direct"]), "the paths through h_(t-1) count"
    with pytest.raises(ValueError, match="t is 0"):
        remedies.lstm_cell_jacobian(x, Wx, Wh, b, t=0)
