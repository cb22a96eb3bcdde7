"""Named mistakes of unit 05's gated cells (``lstm_step_backward``, ``gru_step_forward``):
each catalogued mistake, written as a student would, is named by the visible and the
hidden tests (see tests/named_mistakes.py)."""

from named_mistakes import UnitMistakes

from rnnlab.mistakes import unit05

LSTM_FORWARD = """
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    sig = lambda z: 1 / (1 + np.exp(-z))
    i, f, g, o = sig(a[:, :H]), sig(a[:, H:2*H]), np.tanh(a[:, 2*H:3*H]), sig(a[:, 3*H:])
    c_next = f * c_prev + i * g
    t = np.tanh(c_next)
"""


def lstm(dc="dc_next + dh_next * o * (1 - t**2)", dsig="s * (1 - s)", order="i, f, g, o",
         dc_prev="dc * f"):
    return LSTM_FORWARD + f"""
    dc = {dc}
    ds = lambda s: {dsig}
    blocks = dict(i=dc * g * ds(i), f=dc * c_prev * ds(f), g=dc * i * (1 - g**2),
                  o=dh_next * t * ds(o))
    da = np.concatenate([blocks[k] for k in "{order}".split(", ")], axis=1)
    return da @ Wx.T, da @ Wh.T, {dc_prev}, x.T @ da, h_prev.T @ da, da.sum(axis=0)
"""


GRU_GATES = """
    H = h_prev.shape[1]
    u, v = x @ Wx + bx, h_prev @ Wh + bh
    sig = lambda s: 1 / (1 + np.exp(-s))
    r, z = sig(u[:, :H] + v[:, :H]), sig(u[:, H:2*H] + v[:, H:2*H])
"""

STUDENTS = {
    "lstm_step_backward": {
        "forgot_dc_next": lstm(dc="dh_next * o * (1 - t**2)"),
        "forgot_tanh_route": lstm(dc="dc_next"),
        "tanh_derivative_of_c": lstm(dc="dc_next + dh_next * o * (1 - c_next**2)"),
        "sigmoid_derivative_as_tanh": lstm(dsig="1 - s**2"),
        "gates_out_of_order": lstm(order="i, f, o, g"),
        "dc_prev_without_f": lstm(dc_prev="dc"),
    },
    "gru_step_forward": {
        "z_roles_swapped": GRU_GATES + """
    n = np.tanh(u[:, 2*H:] + r * v[:, 2*H:])
    return z * n + (1 - z) * h_prev""",
        "reset_before_product": GRU_GATES + """
    n = np.tanh(u[:, 2*H:] + (r * h_prev) @ Wh[:, 2*H:] + bh[2*H:])
    return (1 - z) * n + z * h_prev""",
        "hidden_bias_outside_reset": GRU_GATES + """
    n = np.tanh(u[:, 2*H:] + r * (h_prev @ Wh[:, 2*H:]) + bh[2*H:])
    return (1 - z) * n + z * h_prev""",
        "gates_out_of_order": GRU_GATES + """
    r, z = z, r
    n = np.tanh(u[:, 2*H:] + r * v[:, 2*H:])
    return (1 - z) * n + z * h_prev""",
        "forgot_reset": GRU_GATES + """
    n = np.tanh(u[:, 2*H:] + v[:, 2*H:])
    return (1 - z) * n + z * h_prev""",
    },
}
SIGNATURES = {"lstm_step_backward": "dh_next, dc_next, x, h_prev, c_prev, Wx, Wh, b",
              "gru_step_forward": "x, h_prev, Wx, Wh, bx, bh"}
INPUTS = {"lstm_step_backward": [(2, 3), (2, 3), (2, 4), (2, 3), (2, 3), (4, 12), (3, 12),
                                 (12,)],
          "gru_step_forward": [(2, 4), (2, 3), (4, 9), (3, 9), (9,), (9,)]}
UNIT = UnitMistakes("05_remedies", unit05, SIGNATURES, STUDENTS, INPUTS)


test_the_visible_and_the_hidden_tests_name_the_mistake, test_every_catalogued_gated_cell_mistake_is_tested = UNIT.tests()
