"""Named mistakes: every catalogued mistake is built as a student would write it, and the
unit's visible tests and its hidden tests must each name it with its ``[mistake: ID]`` tag.

The mistaken answers below are student code (a wrong function), run through the test
cells of the instructor's notebook; the catalogue in ``rnnlab.mistakes`` computes the wrong
answers independently from the test's inputs. A catalogue entry without a student version
here fails ``test_every_catalogued_mistake_is_tested``.
"""

import re
from textwrap import dedent

import matplotlib
import nbformat
import numpy as np
import pytest
from conftest import ROOT

from rnnlab import mistakes
from rnnlab.checks import assert_close
from rnnlab.mistakes import unit02

TAG = re.compile(r"\[mistake: ([A-Za-z0-9_.-]+)\]")
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"

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
CASES = [(unit, exercise, mistake) for unit, by_exercise in STUDENTS.items()
         for exercise, by_id in by_exercise.items() for mistake in by_id]


def cells(unit):
    nb = nbformat.read(ROOT / "solutions" / unit / f"{unit}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if "grade_id" in c.metadata.get("nbgrader", {})}


@pytest.fixture(scope="module")
def notebook_namespace():
    """unit -> a function making a namespace where the setup and every solution ran."""
    made = {}

    def make(unit):
        if unit not in made:
            namespace = {}
            with matplotlib.rc_context():  # the setup cell's plot style stays in the cell
                exec(cells(unit)["setup"], namespace)
            for exercise in STUDENTS[unit]:
                exec(cells(unit)[exercise], namespace)
            made[unit] = namespace
        return dict(made[unit])
    return make


def student(exercise, body):
    body = dedent(body).strip()
    return f"def {exercise}({SIGNATURES[exercise]}):\n" + "\n".join(
        "    " + line for line in body.splitlines())


def failure(source, namespace):
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # a student's overflowing softmax
            exec(source, namespace)
    except AssertionError as error:
        return str(error)
    return None


@pytest.mark.parametrize(("unit", "exercise", "mistake"), CASES)
def test_the_visible_and_the_hidden_tests_name_the_mistake(unit, exercise, mistake,
                                                            notebook_namespace):
    namespace = notebook_namespace(unit)
    exec(student(exercise, STUDENTS[unit][exercise][mistake]), namespace)
    tests = [s for grade_id, s in cells(unit).items() if grade_id.startswith(f"test_{exercise}_")]
    visible = "\n".join(s.split(HIDDEN_BEGIN)[0] for s in tests)
    hidden = "\n".join(s.split(HIDDEN_BEGIN)[1].split(HIDDEN_END)[0] for s in tests
                       if HIDDEN_BEGIN in s)
    for part, source in [("visible", visible), ("hidden", hidden)]:
        message = failure(source, dict(namespace))
        assert message is not None, f"the {part} tests pass {mistake}"
        assert TAG.findall(message) == [mistake], f"{part}: {message}"


@pytest.mark.parametrize("unit", sorted(STUDENTS))
def test_every_catalogued_mistake_is_tested(unit, notebook_namespace):
    namespace = notebook_namespace(unit)
    rng = np.random.default_rng(0)
    inputs = {"rnn_step_forward": [(2, 3), (2, 4), (3, 4), (4, 4), (4,)],
              "rnn_forward": [(2, 5, 3), (2, 4), (3, 4), (4, 4), (4,)],
              "output_layer": [(2, 3, 4), (4, 5), (5,)]}
    for exercise, shapes in inputs.items():
        catalogue = getattr(unit02, exercise)(*(rng.standard_normal(s) for s in shapes))
        ids = [m.id for m in catalogue]
        assert len(ids) >= 3 and len(set(ids)) == len(ids), ids
        assert all(mistakes.ID_PATTERN.fullmatch(i) for i in ids), ids
        assert set(ids) == set(STUDENTS[unit][exercise]), exercise
        assert callable(namespace[exercise])


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
