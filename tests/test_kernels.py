"""The Numba kernel against the NumPy reference: values, errors, untouched inputs."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from rnnlab import kernels, lowlevel, reference
from rnnlab.backends import get_backend
from rnnlab.gradcheck import rel_error
from rnnlab.reference import SequenceCache

# Shapes (N, T, D, H): degenerate ones first, then ones whose step products go to BLAS
# (N >= 16 and N H H >= 16 * 64 * 64, see lowlevel.steps_use_blas), then seeded random ones.
SHAPES = [(1, 1, 1, 1), (1, 5, 1, 1), (1, 1, 3, 4), (3, 1, 2, 5), (1, 9, 4, 1), (2, 3, 1, 6),
          (4, 6, 5, 40), (2, 4, 3, 130), (16, 3, 5, 64), (20, 2, 3, 70)]
SHAPES += [tuple(int(s) for s in np.random.default_rng(i).integers(1, [7, 13, 11, 41]))
           for i in range(12)]
NAMES = ("hs", "dx", "dh0", "dWx", "dWh", "db")
TOL = {np.float64: 1e-12, np.float32: 1e-4}


def scaled_error(got: np.ndarray, want: np.ndarray) -> float:
    """:func:`rel_error` with a floor at 1% of the largest entry of ``want``.

    Entries that cancel to almost zero (far below their terms) carry the round-off of their
    terms; any change of summation order, even between two BLAS builds, moves them by far
    more than 1e-12 of themselves. Every other entry is compared relatively.
    """
    return rel_error(got, want, floor=0.01 * float(np.abs(want).max(initial=0.0)) or 1e-8)


def make_inputs(N, T, D, H, dtype=np.float64, seed=0):
    """Arguments of ``rnn_forward`` (weights scaled so that states stay in tanh's range)
    and an upstream gradient ``dhs``."""
    rng = np.random.default_rng(seed)
    inputs = {"x": rng.standard_normal((N, T, D)),
              "h0": 0.5 * rng.standard_normal((N, H)),
              "Wx": rng.standard_normal((D, H)) / np.sqrt(max(D, 1)),
              "Wh": rng.standard_normal((H, H)) / np.sqrt(H),
              "b": 0.1 * rng.standard_normal(H)}
    dhs = rng.standard_normal((N, T, H))
    return {k: v.astype(dtype) for k, v in inputs.items()}, dhs.astype(dtype)


def run(module, inputs, dhs):
    hs, cache = module.rnn_forward(**inputs)
    return (hs, *module.rnn_backward(dhs, cache))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_kernel_matches_reference(shape, dtype):
    inputs, dhs = make_inputs(*shape, dtype=dtype, seed=sum(shape))
    got, want = run(kernels, inputs, dhs), run(reference, inputs, dhs)
    for name, g, w in zip(NAMES, got, want):
        assert g.dtype == w.dtype and g.shape == w.shape, name
        error = scaled_error(g, w)
        assert error <= TOL[dtype], f"{name}: error {error:.1e} > {TOL[dtype]:.0e}"


def test_degenerate_shapes_match_exactly_enough_without_floor():
    for shape in [(1, 1, 1, 1), (1, 5, 1, 1), (3, 1, 2, 5)]:
        inputs, dhs = make_inputs(*shape)
        for name, g, w in zip(NAMES, run(kernels, inputs, dhs), run(reference, inputs, dhs)):
            assert rel_error(g, w) <= 1e-12, (shape, name)


@pytest.mark.parametrize("blas", [False, True])
@pytest.mark.parametrize("shape", [(1, 1, 3, 4), (3, 1, 5, 7), (17, 1, 4, 33)], ids=str)
def test_one_step_kernels_match_reference_step(shape, blas):
    """``step_forward`` and ``step_backward`` on their own, by loops and by BLAS, against
    ``rnn_step_forward`` and ``rnn_step_backward`` (step 1 of 2, from ``h_prev``)."""
    N, _, D, H = shape
    inputs, dhs = make_inputs(N, 1, D, H, seed=H)
    x, h_prev, Wx, Wh, b = (inputs[k] for k in ("x", "h0", "Wx", "Wh", "b"))
    h_next, cache = reference.rnn_step_forward(x[:, 0], h_prev, Wx, Wh, b)
    want = reference.rnn_step_backward(dhs[:, 0], cache)

    hs = np.zeros((N, 2, H))
    hs[:, 1] = x[:, 0] @ Wx
    kernels.step_forward(hs, 1, h_prev[:, None].copy(), 0, np.ascontiguousarray(Wh.T), b, blas)
    assert rel_error(hs[:, 1], h_next) <= 1e-12
    g, dh_prev = np.zeros((N, 2, H)), np.zeros((N, 1, H))
    g[:, 1] = dhs[:, 0]
    kernels.step_backward(g, 1, hs, Wh, dh_prev, 0, blas)
    assert rel_error(dh_prev[:, 0], want.dh_prev) <= 1e-12
    assert rel_error(g[:, 1].sum(axis=0), want.db) <= 1e-12  # g[:, 1] now holds da


@pytest.mark.parametrize("shape", [(2, 0, 3, 4), (0, 3, 2, 4), (2, 3, 0, 4)], ids=str)
def test_empty_sizes(shape):
    inputs, dhs = make_inputs(*shape)
    for name, g, w in zip(NAMES, run(kernels, inputs, dhs), run(reference, inputs, dhs)):
        assert g.shape == w.shape and rel_error(g, w) <= 1e-12, name


def test_non_contiguous_views_and_untouched_inputs():
    inputs, dhs = make_inputs(3, 5, 4, 6, seed=7)
    views = {"x": np.asfortranarray(inputs["x"]), "h0": inputs["h0"].T.copy().T,
             "Wx": np.repeat(inputs["Wx"], 2, axis=1)[:, ::2], "Wh": inputs["Wh"],
             "b": np.repeat(inputs["b"], 3)[::3]}
    dhs_view = np.repeat(dhs, 2, axis=2)[:, :, ::2]
    saved = {k: v.copy() for k, v in views.items()}
    saved_dhs = dhs_view.copy()
    hs, cache = kernels.rnn_forward(**views)
    hs_saved = hs.copy()
    grads = kernels.rnn_backward(dhs_view, cache)
    for name, g, w in zip(NAMES, (hs, *grads), run(reference, inputs, dhs)):
        assert scaled_error(g, w) <= 1e-12, name
    for k, v in views.items():
        np.testing.assert_array_equal(v, saved[k], err_msg=k)
    np.testing.assert_array_equal(dhs_view, saved_dhs, err_msg="dhs")
    np.testing.assert_array_equal(cache.hs, hs_saved, err_msg="cache.hs")


def test_caches_are_interchangeable_between_backends():
    inputs, dhs = make_inputs(2, 4, 3, 5, seed=3)
    _, cache = reference.rnn_forward(**inputs)
    want = reference.rnn_backward(dhs, cache)
    got = kernels.rnn_backward(dhs, cache)
    assert type(got) is type(want)
    for name, g, w in zip(NAMES[1:], got, want):
        assert scaled_error(g, w) <= 1e-12, name


def bad_forward_cases():
    inputs, _ = make_inputs(2, 3, 4, 5)
    yield "x 2-D", {**inputs, "x": inputs["x"][0]}
    yield "h0 wrong N", {**inputs, "h0": inputs["h0"][:1]}
    yield "Wx wrong H", {**inputs, "Wx": inputs["Wx"][:, :4]}
    yield "Wh not square", {**inputs, "Wh": inputs["Wh"][:, :4]}
    yield "b wrong size", {**inputs, "b": inputs["b"][:3]}
    yield "x is a list", {**inputs, "x": inputs["x"].tolist()}
    yield "integer x", {**inputs, "x": inputs["x"].astype(int)}
    yield "mixed dtypes", {**inputs, "Wh": inputs["Wh"].astype(np.float32)}


@pytest.mark.parametrize("case", list(bad_forward_cases()), ids=lambda c: c[0])
def test_forward_errors_match_reference(case):
    _, args = case
    with pytest.raises((TypeError, ValueError)) as want:
        reference.rnn_forward(**args)
    with pytest.raises(want.type) as got:
        kernels.rnn_forward(**args)
    assert str(got.value) == str(want.value)


def test_backward_errors_match_reference():
    inputs, dhs = make_inputs(2, 3, 4, 5)
    _, cache = kernels.rnn_forward(**inputs)
    cases = [(dhs[:, :2], cache), (dhs.astype(np.float32), cache), (dhs, tuple(cache)),
             (dhs, cache._replace(hs=cache.hs[:1]))]
    for args in cases:
        with pytest.raises((TypeError, ValueError)) as want:
            reference.rnn_backward(*args)
        with pytest.raises(want.type) as got:
            kernels.rnn_backward(*args)
        assert str(got.value) == str(want.value)


def test_inconsistent_cache_is_refused_not_read_out_of_bounds():
    inputs, dhs = make_inputs(2, 3, 4, 5)
    _, cache = kernels.rnn_forward(**inputs)
    bad = SequenceCache(cache.x[:, :, :2], cache.h0, cache.Wx, cache.Wh, cache.hs)
    with pytest.raises(ValueError, match="Wx has shape"):
        kernels.rnn_backward(dhs, bad)


def test_unsupported_float_dtype():
    inputs, _ = make_inputs(1, 2, 2, 2, dtype=np.float16)
    with pytest.raises(TypeError, match="float32 and float64"):
        kernels.rnn_forward(**inputs)


def test_tanh_matches_numpy():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-25, 25, 20000), rng.uniform(-1, 1, 20000),
                        np.sign(rng.standard_normal(20000)) * 10.0 ** rng.uniform(-320, 3, 20000),
                        [0.0, -0.0, 5e-324, -5e-324, 1e-300, 0.55, 19.06, 19.07, 20.0, 1e308,
                         -1e308, np.inf, -np.inf]])
    got, want = kernels.tanh(x), np.tanh(x)
    ulps = np.abs(got - want) / np.spacing(np.abs(want))
    assert ulps.max() <= 2, f"max {ulps.max()} ulp at x = {x[ulps.argmax()]!r}"
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    special = kernels.tanh(np.array([np.nan, -np.nan]))
    assert np.isnan(special).all()
    x32 = x[np.abs(x) < 1e38].astype(np.float32)
    assert kernels.tanh(x32).dtype == np.float32
    np.testing.assert_allclose(kernels.tanh(x32), np.tanh(x32), rtol=1.2e-7, atol=0)


@njit
def _exp_all(x, out):
    for i in range(x.size):
        out[i] = lowlevel.exp(x[i])


def test_exp_matches_numpy_for_softmax_arguments():
    rng = np.random.default_rng(1)
    x = np.concatenate([-rng.uniform(0, 1, 20000), -rng.uniform(0, 50, 20000),
                        -rng.uniform(0, 708, 20000), [0.0, -0.0, -5e-324, -708.0]])
    got, want = np.empty_like(x), np.exp(x)
    _exp_all(x, got)
    ulps = np.abs(got - want) / np.spacing(want)
    assert ulps.max() <= 2, f"max {ulps.max()} ulp at x = {x[ulps.argmax()]!r}"
    special = np.array([-708.5, -745.2, -1e300, -np.inf, np.nan])
    got = np.empty_like(special)
    _exp_all(special, got)
    np.testing.assert_array_equal(got, [0.0, 0.0, 0.0, 0.0, np.nan])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gemm_on_views_and_transposes(dtype):
    """``lowlevel.gemm`` reads each operand's layout from its strides: rows of a larger
    array (``hs[:, t]``), transposes (``x.T``), empty and one-row matrices."""
    rng = np.random.default_rng(4)
    for m, n, k in [(3, 5, 4), (1, 6, 2), (6, 1, 3), (4, 4, 1), (2, 3, 0), (0, 3, 2)]:
        a = rng.standard_normal((m, 2, k)).astype(dtype)  # a[:, 1] has a row stride 2k
        bt = rng.standard_normal((n, k)).astype(dtype)  # bt.T is (k, n), columns contiguous
        c = rng.standard_normal((m, 3, n)).astype(dtype)
        want = c[:, 2] + a[:, 1] @ bt.T
        lowlevel.gemm(a[:, 1], bt.T, c[:, 2], 1.0)
        np.testing.assert_allclose(c[:, 2], want, rtol=TOL[dtype], atol=TOL[dtype],
                                   err_msg=f"c += a @ b, (m, n, k) = {(m, n, k)}")
        out = np.full((k, n), np.nan, dtype)
        lowlevel.gemm(a[:, 0].T, c[:, 0], out)
        np.testing.assert_allclose(out, a[:, 0].T @ c[:, 0], rtol=TOL[dtype], atol=TOL[dtype],
                                   err_msg=f"c = a.T @ b, (m, n, k) = {(m, n, k)}")


def test_get_backend():
    assert get_backend("numpy") is reference
    assert get_backend("numba") is kernels
    with pytest.raises(ValueError, match=r"expected one of \['numba', 'numpy'\]"):
        get_backend("torch")
