"""Named mistakes of unit 05: every catalogued mistake, written as a student would write
it, is named by the visible tests and by the hidden tests (see tests/named_mistakes.py)."""

import numpy as np
from named_mistakes import UnitMistakes

from rnnlab.mistakes import unit05

BPTT = """
    N, T, H = hs.shape
    dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H)
    dh = np.zeros((N, H))
    for t in reversed(range(T)):
        h_prev = hs[:, t - 1] if t > 0 else h0
        da = (dhs[:, t] + dh) * (1.0 - hs[:, t] ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh = da @ Wh.T
        if t > 0 and t % k == 0:
            dh = np.zeros((N, H))
    return dx, dh, dWx, dWh, db"""


def bptt(old, new):
    assert old in BPTT
    return BPTT.replace(old, new)


LSTM = """
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    s = lambda z: 0.5 * (1.0 + np.tanh(0.5 * z))
    i, f, g, o = s(a[:, :H]), s(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), s(a[:, 3 * H:])
    c_next = f * c_prev + i * g
    return o * np.tanh(c_next), c_next"""


def lstm(old, new):
    assert old in LSTM
    return LSTM.replace(old, new)


STUDENTS = {
    "clip_grad_norm": {
        "clipped_elementwise": "return [np.clip(g, -max_norm, max_norm) for g in grads]",
        "norm_per_array": """
            out = []
            for g in grads:
                norm = np.linalg.norm(g)
                out.append(g * max_norm / norm if norm > max_norm else g.copy())
            return out""",
        "always_rescaled": """
            norm = np.sqrt(sum(np.sum(g**2) for g in grads))
            return [g * max_norm / norm if norm > 0 else g.copy() for g in grads]""",
        "norm_not_square_rooted": """
            norm = sum(np.sum(g**2) for g in grads)
            return [g * min(1.0, max_norm / norm) if norm > 0 else g.copy() for g in grads]""",
    },
    "truncated_rnn_backward": {
        "not_truncated": bptt("        if t > 0 and t % k == 0:\n            dh = np.zeros((N, H))\n",
                              ""),
        "cut_at_step_zero": bptt("if t > 0 and t % k == 0:", "if t % k == 0:"),
        "cut_one_step_late": bptt("if t > 0 and t % k == 0:", "if t > 0 and t % k == 1:"),
        "not_carried": bptt("(dhs[:, t] + dh)", "dhs[:, t]"),
        "h_t_for_h_prev": bptt("dWh += h_prev.T @ da", "dWh += hs[:, t].T @ da"),
        "Wh_not_transposed": bptt("dh = da @ Wh.T", "dh = da @ Wh"),
    },
    "rmsprop_step": {
        "old_cache_in_step": """
            new_cache = decay * cache + (1 - decay) * grad**2
            return param - lr * grad / (np.sqrt(cache) + eps), new_cache""",
        "eps_inside_sqrt": """
            new_cache = decay * cache + (1 - decay) * grad**2
            return param - lr * grad / np.sqrt(new_cache + eps), new_cache""",
        "decay_swapped": """
            new_cache = (1 - decay) * cache + decay * grad**2
            return param - lr * grad / (np.sqrt(new_cache) + eps), new_cache""",
        "no_sqrt": """
            new_cache = decay * cache + (1 - decay) * grad**2
            return param - lr * grad / (new_cache + eps), new_cache""",
    },
    "identity_init": {
        "identity_not_scaled": "return rng.normal(0.0, input_std, size=(D, H)), np.eye(H), np.zeros(H)",
        "ones_for_identity": """
            Wx = rng.normal(0.0, input_std, size=(D, H))
            return Wx, scale * np.ones((H, H)), np.zeros(H)""",
        "input_std_ignored": """
            return rng.normal(0.0, 1.0, size=(D, H)), scale * np.eye(H), np.zeros(H)""",
    },
    "lstm_step_forward": {
        "gate_order_ifog": lstm("np.tanh(a[:, 2 * H:3 * H]), s(a[:, 3 * H:])",
                                "np.tanh(a[:, 3 * H:]), s(a[:, 2 * H:3 * H])"),
        "h_prev_for_c_prev": lstm("f * c_prev", "f * h_prev"),
        "no_tanh_on_cell": lstm("return o * np.tanh(c_next)", "return o * c_next"),
        "sigmoid_for_g": lstm("np.tanh(a[:, 2 * H:3 * H])", "s(a[:, 2 * H:3 * H])"),
    },
}
SIGNATURES = {"clip_grad_norm": "grads, max_norm",
              "truncated_rnn_backward": "dhs, x, h0, Wx, Wh, hs, k",
              "rmsprop_step": "param, grad, cache, lr=1e-3, decay=0.9, eps=1e-8",
              "identity_init": "D, H, rng, scale=1.0, input_std=1e-3",
              "lstm_step_forward": "x, h_prev, c_prev, Wx, Wh, b"}
INPUTS = {
    "clip_grad_norm": lambda rng: [[rng.standard_normal((3, 4)), rng.standard_normal(4)], 1.0],
    "truncated_rnn_backward": lambda rng: [*(rng.standard_normal(s) for s in [
        (2, 5, 4), (2, 5, 3), (2, 4), (3, 4), (4, 4), (2, 5, 4)]), 2],
    "rmsprop_step": [(3, 2), (3, 2), (3, 2)],
    "identity_init": lambda rng: [2, 3, np.random.default_rng(0)],
    "lstm_step_forward": [(2, 3), (2, 4), (2, 4), (3, 16), (4, 16), (16,)],
}
UNIT = UnitMistakes("05_remedies", unit05, SIGNATURES, STUDENTS, INPUTS)


test_the_visible_and_the_hidden_tests_name_the_mistake, test_every_catalogued_mistake_is_tested = UNIT.tests()
