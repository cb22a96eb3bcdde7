"""Named mistakes of unit 04: every catalogued mistake, written as a student would write it,
is named by the visible tests and by the hidden tests (see tests/named_mistakes.py)."""

from named_mistakes import UnitMistakes

from rnnlab.mistakes import unit04

NORMS = """
    N, T, H = hs.shape
    norms = np.ones((N, T))
    product = np.broadcast_to(np.eye(H), (N, H, H))
    for lag in range(1, T):
        product = {product}
        norms[:, lag] = np.linalg.norm(product, ord={ord}, axis=(1, 2))
    return norms"""


def norms_student(product="product @ rnn_step_jacobian(hs[:, T - lag], Wh)", ord=2):
    return NORMS.format(product=product, ord=ord)


STUDENTS = {
    "rnn_step_jacobian": {
        "Wh_not_transposed": "return (1 - h_next**2)[:, :, None] * Wh[None]",
        "slope_on_columns": "return (1 - h_next**2)[:, None, :] * Wh.T[None]",
        "forgot_tanh_slope": "return np.broadcast_to(Wh.T, (len(h_next),) + Wh.shape).copy()",
        "tanh_applied_to_h_next": "return (1 - np.tanh(h_next)**2)[:, :, None] * Wh.T[None]",
        "slope_not_squared": "return (1 - h_next)[:, :, None] * Wh.T[None]",
    },
    "jacobian_product_norms": {
        "factor_on_the_left": norms_student("rnn_step_jacobian(hs[:, T - lag], Wh) @ product"),
        "state_one_step_early": norms_student("product @ rnn_step_jacobian(hs[:, T - lag - 1], Wh)"),
        "states_from_the_start": norms_student("product @ rnn_step_jacobian(hs[:, lag], Wh)"),
        "frobenius_norm": norms_student(ord='"fro"'),
        "elementwise_product": norms_student("product * rnn_step_jacobian(hs[:, T - lag], Wh)"),
        "product_of_norms": """
            N, T, H = hs.shape
            norms = np.ones((N, T))
            for lag in range(1, T):
                J = rnn_step_jacobian(hs[:, T - lag], Wh)
                norms[:, lag] = norms[:, lag - 1] * np.linalg.norm(J, ord=2, axis=(1, 2))
            return norms""",
    },
}
SIGNATURES = {"rnn_step_jacobian": "h_next, Wh", "jacobian_product_norms": "hs, Wh"}
INPUTS = {"rnn_step_jacobian": [(2, 3), (3, 3)], "jacobian_product_norms": [(2, 4, 3), (3, 3)]}
UNIT = UnitMistakes("04_gradient_pathologies", unit04, SIGNATURES, STUDENTS, INPUTS)


test_the_visible_and_the_hidden_tests_name_the_mistake, test_every_catalogued_mistake_is_tested = UNIT.tests()
