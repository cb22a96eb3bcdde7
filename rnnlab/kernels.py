"""The Numba kernel: the reference RNN with its whole time loop compiled.

A drop-in for :func:`rnnlab.reference.rnn_forward` and :func:`rnnlab.reference.rnn_backward`:
the same arguments, shapes, checks, error messages, cache and gradients, for float32 and
float64. What makes it fast:

- the input projection ``x @ Wx`` of every time step is one matrix product before the
  loop, and ``dx``, ``dWx``, ``dWh``, ``db`` are matrix products after it;
- inside the loop, the recurrent product ``h_prev @ Wh`` is a plain loop when
  ``N * H * H`` is small and a BLAS call otherwise, added in place to the step's input
  projection;
- ``tanh`` is written with arithmetic only, so the compiler vectorises it (Numba's
  ``np.tanh`` is one scalar libm call per element, about ten times slower).

Inside, arrays are time major, ``(T, N, H)``, so that every step works on contiguous
``(N, H)`` blocks (a batch-major step would read rows ``T * H`` apart, which thrashes the
caches when that stride is a multiple of 4 KiB). The public functions take and return
the course's batch-major arrays. Compiled code is cached on disk (``cache=True``).
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import llvmlite.binding as llvm
import numpy as np
from numba import njit, types
from numba.extending import get_cython_function_address

from rnnlab.reference import SequenceCache, SequenceGrads, _check_cache
from rnnlab.validation import check_arrays

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}

# Below this many multiply-adds in a step's product (N * H * H), plain loops beat BLAS.
_BLAS_MIN_WORK = 16 * 32 * 32

# exp(y) = 2**n * exp(r) with r = y - n ln2 in [0, ln2): ln2 = _LN2_HI + _LN2_LO, where
# _LN2_HI has 40 significant bits, so n * _LN2_HI is exact for every n used here.
with localcontext() as _ctx:
    _ctx.prec = 40
    _LN2 = Decimal(2).ln()
    _INV_LN2 = float(1 / _LN2)
    _LN2_HI = math.ldexp(math.floor(math.ldexp(float(_LN2), 40)), -40)
    _LN2_LO = float(_LN2 - Decimal(_LN2_HI))
# Taylor coefficients 1/k! of expm1(r) = r + r**2 (1/2! + r/3! + ... + r**14/16!), highest
# first for Horner's rule; the truncation error on [0, ln2) is below 1e-17 relative.
_EXPM1_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(16, 1, -1))


@njit(**_JIT)
def _tanh(x):
    """``tanh(x)`` of one number, computed in float64 with arithmetic only.

    Notes
    -----
    With ``a = min(|x|, 20)`` (``tanh`` is 1 in float64 beyond 19.1) and
    ``v = expm1(2a) = 2**n (1 + p) - 1``, ``p = expm1(r)`` from its Taylor series:
    ``tanh(a) = v / (v + 2) = h - h**2 / (1 + h)`` with ``h = v / 2`` for ``a <= 0.55``,
    and ``1 - 1 / (1 + h)`` above. ``2**n`` is a product of powers of two chosen by the
    bits of ``n``. Measured error: at most 1.6 ulp (``np.tanh``: 1.2 ulp), and at most
    2 ulp away from ``np.tanh``; signs, zeros, infinities and NaN behave like ``np.tanh``.
    """
    a = abs(x)
    y = 2.0 * (a if a < 20.0 else 20.0)  # NaN takes the 20 branch; fixed at the end
    n = int(y * _INV_LN2)
    r = (y - n * _LN2_HI) - n * _LN2_LO
    q = 0.0
    for c in _EXPM1_TAYLOR:
        q = c + r * q
    p = r + r * r * q
    s = 2.0 if n & 1 else 1.0
    s *= 4.0 if n & 2 else 1.0
    s *= 16.0 if n & 4 else 1.0
    s *= 256.0 if n & 8 else 1.0
    s *= 65536.0 if n & 16 else 1.0
    s *= 4294967296.0 if n & 32 else 1.0
    h = 0.5 * (s * p + (s - 1.0))
    large = a > 0.55
    w = (1.0 if large else h * h) / (1.0 + h)
    t = math.copysign(1.0 - w if large else h - w, x)
    return t if x == x else x


@njit(**_JIT)
def _tanh_into(x, out):
    for i in range(x.size):
        out.flat[i] = _tanh(x.flat[i])


def tanh(x: np.ndarray) -> np.ndarray:
    """Element-wise ``tanh`` of a float array by the kernel's own formula (see ``_tanh``).

    Parameters
    ----------
    x : float32 or float64 array of any shape.

    Returns
    -------
    Array of ``x``'s shape and dtype; within 2 ulp of ``np.tanh`` in float64.
    """
    x = np.ascontiguousarray(x)
    _check_dtype("x", x)
    out = np.empty_like(x)
    _tanh_into(x, out)
    return out


# Fortran BLAS from SciPy (the library Numba's np.dot uses), called directly so that a
# product can add into its output (beta = 1) and read matrices with row strides, such
# as hs[:, t] inside an (N, T, H) array. Every argument is a pointer, passed here as an
# integer address. The functions are registered as named symbols (as Numba does for its
# own helpers) so that compiled code refers to them by name and can be cached on disk.
for _name in ("dgemm", "sgemm"):
    llvm.add_symbol(f"rnnlab_{_name}",
                    get_cython_function_address("scipy.linalg.cython_blas", _name))
_DGEMM = types.ExternalFunction("rnnlab_dgemm", types.void(*[types.intp] * 13))
_SGEMM = types.ExternalFunction("rnnlab_sgemm", types.void(*[types.intp] * 13))


@njit(**_JIT)
def _gemm(a, ia, lda, trans_a, b, ib, ldb, trans_b, c, ic, ldc, m, n, k, beta):
    """Row-major ``C = op(A) @ op(B) + beta * C`` on flat arrays, by BLAS.

    ``C (m, n)`` starts at ``c[ic]`` with row stride ``ldc``; ``op(A) (m, k)`` is ``A`` or,
    if ``trans_a``, the transpose of the ``(k, m)`` matrix stored at ``a[ia]`` with row
    stride ``lda``; likewise ``op(B) (k, n)``. (A row-major matrix is its transpose in
    BLAS's column-major view, so BLAS computes ``C.T = op(B).T @ op(A).T``.)
    """
    if m == 0 or n == 0:
        return
    ints = np.array([n, m, k, max(ldb, 1), max(lda, 1), max(ldc, 1)], np.int32)
    flags = np.array([84 if trans_b else 78, 84 if trans_a else 78], np.uint8)  # "T", "N"
    scalars = np.array([1.0, beta], c.dtype)
    size = c.itemsize
    A, B, C = a.ctypes.data + ia * size, b.ctypes.data + ib * size, c.ctypes.data + ic * size
    f, i, s = flags.ctypes.data, ints.ctypes.data, scalars.ctypes.data
    if size == 8:
        _DGEMM(f, f + 1, i, i + 4, i + 8, s, B, i + 12, A, i + 16, s + size, C, i + 20)
    else:
        _SGEMM(f, f + 1, i, i + 4, i + 8, s, B, i + 12, A, i + 16, s + size, C, i + 20)


@njit(**_JIT)
def _matmul_add(a, ia, lda, B, c, ic, ldc, N):
    """``C += A @ B`` for ``A (N, K)`` at ``a[ia]`` and ``C (N, H)`` at ``c[ic]`` (flat
    arrays, row strides ``lda`` and ``ldc``) and a C-contiguous ``B (K, H)``.

    BLAS for large products; for small ones, loops that take four rows of ``B`` at a
    time, so that the compiler vectorises the inner loop over ``j``.
    """
    K, H = B.shape
    if N * K * H >= _BLAS_MIN_WORK:
        _gemm(a, ia, lda, False, B.reshape(-1), 0, H, False, c, ic, ldc, N, H, K, 1.0)
        return
    for n in range(N):
        ra, rc = ia + n * lda, ic + n * ldc
        k = 0
        while k + 4 <= K:
            a0, a1, a2, a3 = a[ra + k], a[ra + k + 1], a[ra + k + 2], a[ra + k + 3]
            for j in range(H):
                c[rc + j] += (a0 * B[k, j] + a1 * B[k + 1, j]) + (a2 * B[k + 2, j]
                                                                  + a3 * B[k + 3, j])
            k += 4
        for kk in range(k, K):
            ak = a[ra + kk]
            for j in range(H):
                c[rc + j] += ak * B[kk, j]


@njit(**_JIT)
def step_forward(hs, t, h0, Wh, b):
    """One forward step, in place, time major: ``hs[t] = tanh(hs[t] + h_prev @ Wh + b)``.

    Parameters
    ----------
    hs : (T, N, H) states; on entry ``hs[t]`` holds this step's ``x[:, t] @ Wx``.
    t : the step; ``h_prev`` is ``hs[t-1]``, or ``h0 (N, H)`` when ``t = 0``.
    Wh : (H, H) and b : (H,) weights.

    All arrays C-contiguous, one dtype. No checks: it is called from jitted code.
    """
    N, H = hs.shape[1:]
    flat = hs.reshape(-1)
    if t == 0:
        _matmul_add(h0.reshape(-1), 0, H, Wh, flat, 0, H, N)
    else:
        _matmul_add(flat, (t - 1) * N * H, H, Wh, flat, t * N * H, H, N)
    for n in range(N):
        for j in range(H):
            hs[t, n, j] = _tanh(hs[t, n, j] + b[j])


@njit(**_JIT)
def step_backward(g, hs, t, WhT, dh0):
    """One backward step, in place, time major.

    Parameters
    ----------
    g : (T, N, H) on entry ``g[t]`` is the whole gradient reaching ``hs[t]``. On exit it
        is ``da_t = g[t] * (1 - hs[t]**2)``, and ``da_t @ Wh.T`` has been added to
        ``g[t-1]`` (or, when ``t = 0``, written to ``dh0 (N, H)``).
    hs : (T, N, H) the forward states.
    WhT : (H, H) ``Wh.T`` as a C-contiguous array.

    All arrays C-contiguous, one dtype. No checks: it is called from jitted code.
    """
    N, H = g.shape[1:]
    for n in range(N):
        for j in range(H):
            g[t, n, j] = g[t, n, j] * (1.0 - hs[t, n, j] ** 2)
    flat = g.reshape(-1)
    if t > 0:
        _matmul_add(flat, t * N * H, H, WhT, flat, (t - 1) * N * H, H, N)
    else:
        dh0[:] = 0.0
        _matmul_add(flat, 0, H, WhT, dh0.reshape(-1), 0, H, N)


@njit(**_JIT)
def _swap_nt(a):
    """A C-contiguous copy of ``a (P, Q, K)`` as ``(Q, P, K)``."""
    P, Q, K = a.shape
    out = np.empty((Q, P, K), a.dtype)
    for p in range(P):
        for q in range(Q):
            out[q, p, :] = a[p, q, :]
    return out


@njit(**_JIT)
def _forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = Wh.shape[0]
    hs = np.empty((T, N, H), x.dtype)
    _gemm(_swap_nt(x).reshape(-1), 0, D, False, Wx.reshape(-1), 0, H, False, hs.reshape(-1),
          0, H, T * N, H, D, 0.0)
    for t in range(T):
        step_forward(hs, t, h0, Wh, b)
    return _swap_nt(hs)


@njit(**_JIT)
def _backward(dhs, x, h0, Wx, Wh, hs):
    N, T, H = hs.shape
    D = x.shape[2]
    g, hs = _swap_nt(dhs), _swap_nt(hs)
    dh0 = np.zeros((N, H), hs.dtype)
    WhT = np.ascontiguousarray(Wh.T)
    for t in range(T - 1, -1, -1):
        step_backward(g, hs, t, WhT, dh0)
    da, rows = g.reshape(-1), T * N  # g now holds da_t for every step
    dx = np.empty((T, N, D), hs.dtype)
    dWx = np.empty((D, H), hs.dtype)
    dWh = np.zeros((H, H), hs.dtype)
    _gemm(da, 0, H, False, Wx.reshape(-1), 0, H, True, dx.reshape(-1), 0, D, rows, D, H, 0.0)
    _gemm(_swap_nt(x).reshape(-1), 0, D, True, da, 0, H, False, dWx.reshape(-1), 0, H,
          D, H, rows, 0.0)
    # dWh = h0.T @ da_0 + sum_{t >= 1} hs[t-1].T @ da_t: two products on contiguous rows.
    _gemm(h0.reshape(-1), 0, H, True, da, 0, H, False, dWh.reshape(-1), 0, H, H, H,
          min(N, rows), 0.0)
    _gemm(hs.reshape(-1), 0, H, True, da, N * H, H, False, dWh.reshape(-1), 0, H, H, H,
          rows - min(N, rows), 1.0)
    db = np.zeros(H, hs.dtype)
    for i in range(rows):
        for j in range(H):
            db[j] += da[i * H + j]
    return _swap_nt(dx), dh0, dWx, dWh, db


def _check_dtype(name: str, value: np.ndarray) -> None:
    if value.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} has dtype {value.dtype}; the Numba kernel supports "
                        "float32 and float64")


def rnn_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                b: np.ndarray) -> tuple[np.ndarray, SequenceCache]:
    """A vanilla tanh RNN over a whole sequence, compiled; see :func:`rnnlab.reference.rnn_forward`.

    Parameters
    ----------
    x : (N, T, D) inputs.
    h0 : (N, H) initial hidden state.
    Wx : (D, H), Wh : (H, H), b : (H,) the weights, shared by every step.
        All float32 or all float64; any memory layout (non-contiguous views are copied).

    Returns
    -------
    hs : (N, T, H) the hidden state after each step.
    cache : SequenceCache for :func:`rnn_backward` (also accepted by the reference's).

    Notes
    -----
    ``hs[:, t] = tanh(x[:, t] @ Wx + hs[:, t-1] @ Wh + b)`` with ``hs[:, -1] = h0``.
    """
    check_arrays(x=(x, "N T D"), h0=(h0, "N H"), Wx=(Wx, "D H"), Wh=(Wh, "H H"), b=(b, "H"))
    _check_dtype("x", x)
    hs = _forward(*(np.ascontiguousarray(a) for a in (x, h0, Wx, Wh, b)))
    return hs, SequenceCache(x, h0, Wx, Wh, hs)


def rnn_backward(dhs: np.ndarray, cache: SequenceCache) -> SequenceGrads:
    """Backpropagation through time, compiled; see :func:`rnnlab.reference.rnn_backward`.

    Parameters
    ----------
    dhs : (N, T, H) upstream gradient of every hidden state.
    cache : SequenceCache from :func:`rnn_forward` (this one's or the reference's).

    Returns
    -------
    SequenceGrads
        ``(dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,))``. The inputs are
        never modified.

    Notes
    -----
    Walking back from ``t = T-1``: ``da_t = (dhs[:, t] + dh) * (1 - hs[:, t]**2)`` and
    ``dh = da_t @ Wh.T``; then ``dx[:, t] = da_t @ Wx.T``, ``dWx = sum_t x[:, t].T @ da_t``,
    ``dWh = sum_t hs[:, t-1].T @ da_t``, ``db = sum_t da_t.sum(axis=0)``.
    """
    _check_cache(cache, SequenceCache)
    check_arrays(hs=(cache.hs, "N T H"), dhs=(dhs, "N T H"))
    # The cache is a plain tuple; compiled code does not bounds-check, so check it whole.
    x, h0, Wx, Wh, hs = cache
    check_arrays(hs=(hs, "N T H"), x=(x, "N T D"), h0=(h0, "N H"), Wx=(Wx, "D H"),
                 Wh=(Wh, "H H"))
    _check_dtype("dhs", dhs)
    grads = _backward(*(np.ascontiguousarray(a) for a in (dhs, x, h0, Wx, Wh, hs)))
    return SequenceGrads(*grads)
