"""Named mistakes: every catalogued mistake is built as a student would write it, and the
unit's visible tests and its hidden tests must each name it with its ``[mistake: ID]`` tag.

The mistaken answers below are student code (a wrong function), run through the test
cells of the instructor's notebook; the catalogue in ``rnnlab.mistakes`` computes the wrong
answers independently from the test's inputs. A catalogue entry without a student version
here fails ``test_every_catalogued_mistake_is_tested``.
"""


import numpy as np
import pytest
from named_mistakes import TAG, UnitMistakes

from rnnlab import mistakes
from rnnlab.checks import assert_close
from rnnlab.mistakes import unit02

# unit -> exercise -> mistake id -> the student's wrong function
STUDENTS = {"02_rnn_forward": {
    "rnn_step_forward": {
        "transposed_Wh": "return np.tanh(x @ Wx + h_prev @ Wh.T + b)",
        "forgot_bias": "return np.tanh(x @ Wx + h_prev @ Wh)",
        "forgot_tanh": "return x @ Wx + h_prev @ Wh + b",
        "forgot_recurrence": "return np.tanh(x @ Wx + b)",
        "sigmoid_for_tanh": "return 1 / (1 + np.exp(-(x @ Wx + h_prev @ Wh + b)))",
    },
    "rnn_forward": {
        "transposed_Wh": """
            hs, h = np.zeros(x.shape[:2] + h0.shape[1:]), h0
            for t in range(x.shape[1]):
                h = np.tanh(x[:, t] @ Wx + h @ Wh.T + b)
                hs[:, t] = h
            return hs""",
        "state_not_carried": """
            hs = np.zeros(x.shape[:2] + h0.shape[1:])
            for t in range(x.shape[1]):
                hs[:, t] = rnn_step_forward(x[:, t], h0, Wx, Wh, b)
            return hs""",
        "ignored_h0": """
            hs, h = np.zeros(x.shape[:2] + h0.shape[1:]), np.zeros_like(h0)
            for t in range(x.shape[1]):
                h = rnn_step_forward(x[:, t], h, Wx, Wh, b)
                hs[:, t] = h
            return hs""",
        "stored_previous_state": """
            hs, h = np.zeros(x.shape[:2] + h0.shape[1:]), h0
            for t in range(x.shape[1]):
                hs[:, t] = h
                h = rnn_step_forward(x[:, t], h, Wx, Wh, b)
            return hs""",
        "shifted_input": """
            hs, h = np.zeros(x.shape[:2] + h0.shape[1:]), h0
            for t in range(x.shape[1]):
                h = rnn_step_forward(x[:, t - 1], h, Wx, Wh, b)
                hs[:, t] = h
            return hs""",
        "same_input_every_step": """
            hs, h = np.zeros(x.shape[:2] + h0.shape[1:]), h0
            for t in range(x.shape[1]):
                h = rnn_step_forward(x[:, 0], h, Wx, Wh, b)
                hs[:, t] = h
            return hs""",
        "last_state_only": """
            h = h0
            for t in range(x.shape[1]):
                h = rnn_step_forward(x[:, t], h, Wx, Wh, b)
            return h""",
        "only_last_state_kept": """
            hs, h = np.zeros(x.shape[:2] + h0.shape[1:]), h0
            for t in range(x.shape[1]):
                h = rnn_step_forward(x[:, t], h, Wx, Wh, b)
                hs[:, -1] = h
            return hs""",
    },
    "output_layer": {
        "softmax_over_time": """
            s = hs @ Wy + by
            e = np.exp(s - s.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)""",
        "softmax_over_batch": """
            s = hs @ Wy + by
            e = np.exp(s - s.max(axis=0, keepdims=True))
            return e / e.sum(axis=0, keepdims=True)""",
        "no_max_shift": """
            e = np.exp(hs @ Wy + by)
            return e / e.sum(axis=-1, keepdims=True)""",
        "forgot_output_bias": """
            s = hs @ Wy
            e = np.exp(s - s.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)""",
        "scores_not_probabilities": "return hs @ Wy + by",
        "not_normalised": """
            s = hs @ Wy + by
            return np.exp(s - s.max(axis=-1, keepdims=True))""",
    },
}}
SIGNATURES = {"rnn_step_forward": "x, h_prev, Wx, Wh, b", "rnn_forward": "x, h0, Wx, Wh, b",
              "output_layer": "hs, Wy, by"}
# The shapes of the arguments a catalogue is built from, to list its ids.
INPUTS = {"rnn_step_forward": [(2, 3), (2, 4), (3, 4), (4, 4), (4,)],
          "rnn_forward": [(2, 5, 3), (2, 4), (3, 4), (4, 4), (4,)],
          "output_layer": [(2, 3, 4), (4, 5), (5,)]}
UNIT = UnitMistakes("02_rnn_forward", unit02, SIGNATURES, STUDENTS["02_rnn_forward"], INPUTS)


test_the_visible_and_the_hidden_tests_name_the_mistake, test_every_catalogued_mistake_is_tested = UNIT.tests()


def test_a_right_answer_is_never_named_and_an_unknown_wrong_one_gets_no_tag():
    right = np.array([[0.5, -0.25]])
    catalogue = [mistakes.Mistake("same", "as the right answer", right.copy()),
                 mistakes.Mistake("other", "something else", -right)]
    assert_close("h", right, right, mistakes=catalogue)
    with pytest.raises(AssertionError) as caught:
        assert_close("h", 2 * right, right, mistakes=catalogue)
    assert TAG.search(str(caught.value)) is None
    assert str(caught.value).startswith("h: max relative error")


def test_the_message_names_the_mistake_then_says_how_far_off():
    right, wrong = np.array([[0.5, -0.25]]), np.array([[0.25, 0.5]])
    catalogue = [mistakes.Mistake("swapped.units-1", "with the units swapped", wrong)]
    with pytest.raises(AssertionError) as caught:
        assert_close("h_next", wrong + 1e-12, right, tol=1e-10, mistakes=catalogue)
    assert str(caught.value).startswith(
        "h_next: your answer is what you get with the units swapped [mistake: swapped.units-1]; "
        "max relative error")


def test_two_mistakes_with_the_same_answer_are_not_told_apart():
    right, wrong = np.array([[0.25, 0.75]]), np.ones((1, 2))
    catalogue = [mistakes.Mistake("over_time", "over time", wrong),
                 mistakes.Mistake("over_batch", "over the batch", wrong.copy())]
    with pytest.raises(AssertionError) as caught:
        assert_close("probs", wrong, right, mistakes=catalogue)
    assert TAG.search(str(caught.value)) is None


def test_a_mistake_of_another_shape_and_one_with_nan_are_recognised():
    right = np.ones((2, 3))
    catalogue = [mistakes.Mistake("last", "with the last row only", right[-1]),
                 mistakes.Mistake("overflow", "with an overflow", np.array([[np.nan, 0, 1]] * 2))]
    for got, expected_id in [(np.ones(3), "last"), (np.array([[np.nan, 0, 1]] * 2), "overflow")]:
        with pytest.raises(AssertionError) as caught:
            assert_close("probs", got, right, mistakes=catalogue)
        assert TAG.findall(str(caught.value)) == [expected_id], str(caught.value)
    with pytest.raises(AssertionError) as caught:  # NaN elsewhere is not that mistake
        assert_close("probs", np.array([[0, np.nan, 1]] * 2), right, mistakes=catalogue)
    assert TAG.search(str(caught.value)) is None
