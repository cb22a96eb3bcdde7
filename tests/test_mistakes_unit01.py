"""Named mistakes of unit 01: every catalogued mistake, written as a student would write
it, is named by the visible tests and by the hidden tests (see tests/named_mistakes.py)."""

from named_mistakes import UnitMistakes

from rnnlab.mistakes import unit01

PAD = "padded = np.concatenate([np.zeros((x.shape[0], k - 1, x.shape[2])), x], axis=1)"
STUDENTS = {
    "window_features": {
        "newest_first": f"""
            {PAD}
            return np.concatenate([padded[:, j:j + x.shape[1]] for j in reversed(range(k))],
                                  axis=2)""",
        "future_window": """
            padded = np.concatenate([x, np.zeros((x.shape[0], k - 1, x.shape[2]))], axis=1)
            return np.concatenate([padded[:, j:j + x.shape[1]] for j in range(k)], axis=2)""",
        "wrap_around": "return np.concatenate([np.roll(x, k - 1 - j, axis=1) for j in range(k)],"
                       " axis=2)",
        "stacked_blocks": f"""
            {PAD}
            return np.stack([padded[:, j:j + x.shape[1]] for j in range(k)], axis=2)""",
    },
    "memory_cell_weights": {
        "swapped_subjects": """
            Wx = np.zeros((V, 1))
            Wx[plural, 0], Wx[singular, 0] = -4.0, 4.0
            return Wx, np.array([[2.0]]), np.zeros(1)""",
        "state_forgotten": """
            Wx = np.zeros((V, 1))
            Wx[plural, 0], Wx[singular, 0] = 4.0, -4.0
            return Wx, np.array([[0.5]]), np.zeros(1)""",
        "subject_too_weak": """
            Wx = np.zeros((V, 1))
            Wx[plural, 0], Wx[singular, 0] = 2.0, -2.0
            return Wx, np.array([[2.0]]), np.zeros(1)""",
        "bias_towards_plural": """
            Wx = np.zeros((V, 1))
            Wx[plural, 0], Wx[singular, 0] = 4.0, -4.0
            return Wx, np.array([[2.0]]), np.ones(1)""",
        "bias_towards_singular": """
            Wx = np.zeros((V, 1))
            Wx[plural, 0], Wx[singular, 0] = 4.0, -4.0
            return Wx, np.array([[2.0]]), -np.ones(1)""",
    },
}
SIGNATURES = {"window_features": "x, k", "memory_cell_weights": "V, singular, plural"}
# The arguments a catalogue is built from, to list its ids.
INPUTS = {"window_features": lambda rng: [rng.standard_normal((2, 5, 3)), 3],
          "memory_cell_weights": lambda rng: [5, 1, 3]}
UNIT = UnitMistakes("01_why_recurrence", unit01, SIGNATURES, STUDENTS, INPUTS)


test_the_visible_and_the_hidden_tests_name_the_mistake, test_every_catalogued_mistake_is_tested = UNIT.tests()
