"""Named mistakes of unit 03: every catalogued mistake, written as a student would write it,
is named by the visible tests and by the hidden tests (see tests/named_mistakes.py)."""

import numpy as np
import pytest
from named_mistakes import UnitMistakes

from rnnlab.mistakes import unit03

LOSS = """
    N, V = scores.shape[0], scores.shape[-1]
    shifted = scores - scores.max(axis={axis}, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis={axis}, keepdims=True))
    loss = {sign}float(np.take_along_axis(log_p, y[..., None], axis=-1).sum()) / {scale}
    dscores = {dscores}
    return loss, dscores / {scale}"""
RIGHT_D = "np.exp(log_p) - np.eye(V)[y]"


def loss_student(axis=-1, sign="-", scale="N", dscores=RIGHT_D):
    return LOSS.format(axis=axis, sign=sign, scale=scale, dscores=dscores)


STEP = """
    da = dh_next * {slope}
    return da @ Wx.T, da @ {Wh_back}, x.T @ da, {dWh}, {db}"""


def step_student(slope="(1 - h_next**2)", Wh_back="Wh.T", dWh="h_prev.T @ da",
                 db="da.sum(axis=0)"):
    return STEP.format(slope=slope, Wh_back=Wh_back, dWh=dWh, db=db)


SWEEP = """
    T = x.shape[1]
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    dh = np.zeros_like(h0)
    for t in {order}:
        h_prev = {h_prev}
        grad_in = {grad_in}
        dx[:, t], dh, dWx_t, dWh_t, db_t = rnn_step_backward(grad_in, x[:, t], h_prev, Wx,
                                                             {Wh}, hs[:, t])
        {accumulate}
    return dx, {dh0}, dWx, dWh, db"""


def sweep_student(order="reversed(range(T))", h_prev="hs[:, t - 1] if t > 0 else h0",
                  grad_in="dhs[:, t] + dh", Wh="Wh",
                  accumulate="dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t", dh0="dh"):
    return SWEEP.format(order=order, h_prev=h_prev, grad_in=grad_in, Wh=Wh,
                        accumulate=accumulate, dh0=dh0)


ADAGRAD = """
    new_memory = {memory}
    return param {sign} lr * grad / ({divisor}), new_memory"""


def adagrad_student(memory="memory + grad**2", sign="-", divisor="np.sqrt(new_memory) + eps"):
    return ADAGRAD.format(memory=memory, sign=sign, divisor=divisor)


STUDENTS = {
    "temporal_softmax_loss": {
        "forgot_batch_mean": loss_student(scale="1"),
        "averaged_over_time_too": loss_student(scale="(N * scores.shape[1])"),
        "softmax_over_time": loss_student(axis=1),
        "no_max_shift": """
            N, V = scores.shape[0], scores.shape[-1]
            p = np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)
            loss = -float(np.log(np.take_along_axis(p, y[..., None], axis=-1)).sum()) / N
            return loss, (p - np.eye(V)[y]) / N""",
        "gradient_sign_flipped": loss_student(dscores="np.eye(V)[y] - np.exp(log_p)"),
        "forgot_target_term": loss_student(dscores="np.exp(log_p)"),
        "loss_not_negated": loss_student(sign=""),
    },
    "rnn_step_backward": {
        "transposed_Wh": step_student(Wh_back="Wh"),
        "forgot_tanh_slope": step_student(slope="1.0"),
        "tanh_applied_to_h_next": step_student(slope="(1 - np.tanh(h_next)**2)"),
        "slope_from_h_prev": step_student(slope="(1 - h_prev**2)"),
        "transposed_dWh": step_student(dWh="da.T @ h_prev"),
        "db_averaged": step_student(db="da.mean(axis=0)"),
    },
    "rnn_backward": {
        "not_carried_back": sweep_student(grad_in="dhs[:, t]"),
        "not_accumulated": sweep_student(accumulate="dWx, dWh, db = dWx_t, dWh_t, db_t"),
        "h_t_for_h_prev": sweep_student(h_prev="hs[:, t]"),
        "ignored_h0": sweep_student(h_prev="hs[:, t - 1] if t > 0 else np.zeros_like(h0)"),
        "forward_order": sweep_student(order="range(T)"),
        "transposed_Wh": sweep_student(Wh="Wh.T"),
        "dh0_before_step0": sweep_student(dh0="grad_in"),
    },
    "adagrad_step": {
        "old_memory": adagrad_student(divisor="np.sqrt(memory) + eps"),
        "eps_inside_sqrt": adagrad_student(divisor="np.sqrt(new_memory + eps)"),
        "forgot_sqrt": adagrad_student(divisor="new_memory + eps"),
        "memory_not_squared": adagrad_student(memory="memory + np.abs(grad)"),
        "memory_not_accumulated": adagrad_student(memory="grad**2"),
        "ascent": adagrad_student(sign="+"),
    },
}
SIGNATURES = {"temporal_softmax_loss": "scores, y",
              "rnn_step_backward": "dh_next, x, h_prev, Wx, Wh, h_next",
              "rnn_backward": "dhs, x, h0, Wx, Wh, hs",
              "adagrad_step": "param, grad, memory, lr, eps=1e-8"}
INPUTS = {"temporal_softmax_loss": lambda rng: [rng.standard_normal((2, 3, 4)),
                                                rng.integers(0, 4, (2, 3))],
          "rnn_step_backward": [(2, 4), (2, 3), (2, 4), (3, 4), (4, 4), (2, 4)],
          "rnn_backward": [(2, 5, 4), (2, 5, 3), (2, 4), (3, 4), (4, 4), (2, 5, 4)],
          "adagrad_step": lambda rng: [rng.standard_normal(3), rng.standard_normal(3),
                                       rng.random(3), 0.1]}
UNIT = UnitMistakes("03_bptt", unit03, SIGNATURES, STUDENTS, INPUTS)


test_the_visible_and_the_hidden_tests_name_the_mistake, test_every_catalogued_mistake_is_tested = UNIT.tests()


@pytest.mark.parametrize("exercise", list(STUDENTS))
def test_every_output_of_an_exercise_has_the_whole_catalogue(exercise):
    outputs = {"temporal_softmax_loss": unit03.LOSS_OUTPUTS,
               "rnn_step_backward": unit03.STEP_OUTPUTS,
               "rnn_backward": unit03.SEQUENCE_OUTPUTS, "adagrad_step": unit03.ADAGRAD_OUTPUTS}
    rng = np.random.default_rng(1)
    spec = INPUTS[exercise]
    args = spec(rng) if callable(spec) else [rng.standard_normal(s) for s in spec]
    ids = [[m.id for m in getattr(unit03, exercise)(*args, output=o)] for o in outputs[exercise]]
    assert all(i == ids[0] for i in ids)
