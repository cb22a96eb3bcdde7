"""The Numba kernel: the reference RNN with its whole time loop compiled.

A drop-in for :func:`rnnlab.reference.rnn_forward` and :func:`rnnlab.reference.rnn_backward`:
the same arguments, shapes, checks, error messages, cache and gradients, for float32 and
float64. What makes it fast:

- the input projection ``x @ Wx`` of every time step is one matrix product before the
  loop, and ``dx``, ``dWx``, ``dWh``, ``db`` are matrix products after it, all on the
  course's batch-major arrays as they are (no transposed copies);
- inside the loop, the recurrent product ``h_prev @ Wh`` is added in place to the step's
  input projection: by plain loops (dot products the compiler vectorises) for fewer than
  16 rows, by BLAS for more; the step kernels (:func:`step_forward`,
  :func:`step_backward`) make no views and, on the loop path, call nothing;
- ``tanh`` (and the softmax's ``exp``) are written with arithmetic only, so the compiler
  vectorises them (Numba's ``np.tanh`` is one scalar libm call per element, about ten
  times slower).

It also holds the character model's whole training step (:func:`char_train_step`, used by
:mod:`rnnlab.charmodel` with ``backend="numba"``). Compiled code is cached on disk
(``cache=True``).
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

# A step's product (N, H) @ (H, H) goes to BLAS from this many rows and multiply-adds;
# measured: plain loops win for N <= 4 (up to H = 1024), BLAS for N >= 32, even between.
_BLAS_MIN_ROWS, _BLAS_MIN_WORK = 16, 16 * 64 * 64

# exp(y) = 2**n * exp(r) with r = y - n ln2 in (-ln2, ln2): ln2 = _LN2_HI + _LN2_LO, where
# _LN2_HI has 40 significant bits, so n * _LN2_HI is exact for every |n| < 2**13.
with localcontext() as _ctx:
    _ctx.prec = 40
    _LN2 = Decimal(2).ln()
    _INV_LN2 = float(1 / _LN2)
    _LN2_HI = math.ldexp(math.floor(math.ldexp(float(_LN2), 40)), -40)
    _LN2_LO = float(_LN2 - Decimal(_LN2_HI))
# Taylor coefficients 1/k! of expm1(r) = r + r**2 (1/2! + r/3! + ... + r**14/16!), highest
# first for Horner's rule; the truncation error on (-ln2, ln2) is below 1e-17 relative.
_EXPM1_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(16, 1, -1))
# 2**-(2**i) for the bits i of -n, 0 <= -n < 1024.
_POW2_DOWN = tuple((2**i, 2.0 ** -2**i) for i in range(10))


@njit(inline="always", fastmath={"contract"}, **_JIT)  # else LLVM does not inline it
def _exp(x):
    """``exp(x)`` for ``x <= 0`` (what a softmax needs), with arithmetic only like ``_tanh``:
    ``2**n (1 + expm1(r))``, ``n = int(x / ln2)``, ``2**n`` a product of powers of two
    chosen by the bits of ``-n``. Measured error at most 1.1 ulp (``np.exp``: 0.7 ulp);
    0 below -708 (where ``exp`` is below 3.3e-308, against subnormals down to 5e-324), NaN
    for NaN.
    """
    y = x if x >= -708.0 else -708.0  # NaN takes the -708 branch; fixed at the end
    n = int(y * _INV_LN2)
    r = (y - n * _LN2_HI) - n * _LN2_LO
    q = 0.0
    for c in _EXPM1_TAYLOR:
        q = c + r * q
    s = 1.0
    for bit, f in _POW2_DOWN:
        s *= f if -n & bit else 1.0
    e = s + s * (r + r * r * q)
    return e if x >= -708.0 else (0.0 if x == x else x)


@njit(fastmath={"contract"}, **_JIT)
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
    check_dtype("x", x)
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
    """Row-major ``C = op(A) @ op(B) + beta * C`` by BLAS, on C-contiguous arrays of any
    shape addressed as flat ones (``c[ic]`` is ``c.reshape(-1)[ic]``).

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


@njit(inline="always", **_JIT)
def _add_products(a, ta, BT, c, tc, blas):
    """``c[:, tc] += a[:, ta] @ BT.T`` for ``a (N, Ta, K)``, ``c (N, Tc, H)`` and ``BT (H, K)``,
    all C-contiguous; ``a`` and ``c`` may be one array (``ta != tc``).

    By BLAS if ``blas``; else by dot products of a row of ``a`` with four rows of ``BT`` at
    a time, whose sums the caller's ``fastmath`` lets the compiler reorder and vectorise.
    Made for the steps, whose cost at small sizes is mostly fixed: no views (making one,
    as ``a[n, ta]``, costs atomic reference-count updates) and no function calls in the
    loop branch (the steps call it with a constant ``blas``, so the other branch is not
    compiled; either costs up to 40% of a small step).
    """
    N, H, K = c.shape[0], BT.shape[0], BT.shape[1]
    if blas:
        _gemm(a, ta * K, a.shape[1] * K, False, BT, 0, K, True, c, tc * H, c.shape[1] * H,
              N, H, K, 1.0)
        return
    for n in range(N):
        j = 0
        while j + 4 <= H:
            s0 = s1 = s2 = s3 = 0.0
            for k in range(K):
                x = a[n, ta, k]
                s0 += x * BT[j, k]
                s1 += x * BT[j + 1, k]
                s2 += x * BT[j + 2, k]
                s3 += x * BT[j + 3, k]
            c[n, tc, j] += s0
            c[n, tc, j + 1] += s1
            c[n, tc, j + 2] += s2
            c[n, tc, j + 3] += s3
            j += 4
        for jj in range(j, H):
            s0 = 0.0
            for k in range(K):
                s0 += a[n, ta, k] * BT[jj, k]
            c[n, tc, jj] += s0


@njit(**_JIT)
def _blas_steps(N, H):
    """Whether a step's ``(N, H) @ (H, H)`` goes to BLAS (see ``_BLAS_MIN_ROWS``)."""
    return N >= _BLAS_MIN_ROWS and N * H * H >= _BLAS_MIN_WORK


@njit(fastmath={"reassoc", "contract"}, **_JIT)
def step_forward(hs, t, prev, tp, WhT, b, blas):
    """One forward step, in place: ``hs[:, t] = tanh(hs[:, t] + prev[:, tp] @ Wh + b)``.

    Parameters
    ----------
    hs : (N, T, H) states; on entry ``hs[:, t]`` holds this step's ``x[:, t] @ Wx``.
    t : the step.
    prev, tp : the previous state is ``prev[:, tp]``: ``hs, t - 1``, or for the first step
        ``h0`` as an ``(N, 1, H)`` array and 0.
    WhT : (H, H) ``Wh.T``, and b : (H,).
    blas : a constant: the product by BLAS (large batches) or by loops.

    All arrays C-contiguous, one dtype. No checks: it is called from jitted code.
    """
    N, H = hs.shape[0], hs.shape[2]
    _add_products(prev, tp, WhT, hs, t, blas)
    for n in range(N):
        for j in range(H):
            hs[n, t, j] = _tanh(hs[n, t, j] + b[j])


@njit(fastmath={"reassoc", "contract"}, **_JIT)
def step_backward(g, t, hs, Wh, prev, tp, blas):
    """One backward step, in place: ``g[:, t] *= 1 - hs[:, t]**2``, then
    ``prev[:, tp] += g[:, t] @ Wh.T``.

    Parameters
    ----------
    g : (N, T, H); on entry ``g[:, t]`` is the whole gradient reaching ``hs[:, t]``, on exit
        it is ``da_t``.
    t : the step.
    hs : (N, T, H) the forward states. Wh : (H, H).
    prev, tp : where the gradient of the previous state goes: ``g, t - 1``, or for the
        first step a zeroed ``(N, 1, H)`` array for ``dh0`` and 0.
    blas : a constant: the product by BLAS (large batches) or by loops.

    All arrays C-contiguous, one dtype. No checks: it is called from jitted code.
    """
    N, H = g.shape[0], g.shape[2]
    for n in range(N):
        for j in range(H):
            g[n, t, j] = g[n, t, j] * (1.0 - hs[n, t, j] ** 2)
    _add_products(g, t, Wh, prev, tp, blas)


@njit(**_JIT)
def _forward_steps(hs, h0, WhT, b, blas):
    """Every step on ``hs (N, T, H)`` holding the steps' input projections."""
    N, T, H = hs.shape
    h0 = h0.reshape(N, 1, H)
    for t in range(T):  # t, not 0, in the first call: a constant would compile another copy
        if t:
            step_forward(hs, t, hs, t - 1, WhT, b, blas)
        else:
            step_forward(hs, t, h0, t, WhT, b, blas)


@njit(**_JIT)
def _backward_steps(g, hs, Wh, blas):
    """Every step backwards, ``g (N, T, H)`` holding ``dhs`` on entry and ``da`` on exit;
    returns ``dh0 (N, 1, H)``."""
    N, T, H = hs.shape
    dh0 = np.zeros((N, 1, H), hs.dtype)
    for t in range(T - 1, -1, -1):
        if t:
            step_backward(g, t, hs, Wh, g, t - 1, blas)
        else:
            step_backward(g, t, hs, Wh, dh0, t, blas)
    return dh0


@njit(**_JIT)
def _forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = Wh.shape[0]
    hs = np.empty((N, T, H), x.dtype)
    _gemm(x, 0, D, False, Wx, 0, H, False, hs, 0, H, N * T, H, D, 0.0)
    _run_forward(hs, h0, np.ascontiguousarray(Wh.T), b)
    return hs


@njit(**_JIT)
def _run_forward(hs, h0, WhT, b):
    """:func:`_forward_steps` with ``blas`` as a constant (compiled once for each)."""
    if _blas_steps(hs.shape[0], hs.shape[2]):
        _forward_steps(hs, h0, WhT, b, True)
    else:
        _forward_steps(hs, h0, WhT, b, False)


@njit(**_JIT)
def _bptt(g, hs, h0, Wh):
    """BPTT: ``g (N, T, H)`` holds ``dhs`` on entry and ``da`` on exit.

    Returns ``dh0 (N, H)``, ``dWh (H, H)`` and ``db (H,)``.
    """
    N, T, H = hs.shape
    if _blas_steps(N, H):
        dh0 = _backward_steps(g, hs, Wh, True)
    else:
        dh0 = _backward_steps(g, hs, Wh, False)
    # dWh = h0.T @ da[:, 0] + sum_n hs[n, :-1].T @ da[n, 1:], products on rows of g and hs.
    dWh = np.zeros((H, H), hs.dtype)
    if T > 0:
        _gemm(h0, 0, H, True, g, 0, T * H, False, dWh, 0, H, H, H, N, 1.0)
    for n in range(N if T > 1 else 0):
        _gemm(hs, n * T * H, H, True, g, n * T * H + H, H, False, dWh, 0, H, H, H, T - 1, 1.0)
    db = np.zeros(H, hs.dtype)
    for n in range(N):
        for t in range(T):
            for j in range(H):
                db[j] += g[n, t, j]
    return dh0.reshape(N, H), dWh, db


@njit(**_JIT)
def _backward(dhs, x, h0, Wx, Wh, hs):
    N, T, H = hs.shape
    D = x.shape[2]
    g = dhs.copy()
    dh0, dWh, db = _bptt(g, hs, h0, Wh)
    rows = N * T  # g now holds da_t for every step
    dx = np.empty((N, T, D), hs.dtype)
    dWx = np.empty((D, H), hs.dtype)
    _gemm(g, 0, H, False, Wx, 0, H, True, dx, 0, D, rows, D, H, 0.0)
    _gemm(x, 0, D, True, g, 0, H, False, dWx, 0, H, D, H, rows, 0.0)
    return dx, dh0, dWx, dWh, db


def check_dtype(name: str, value: np.ndarray) -> None:
    """Raise ``TypeError`` naming ``name`` unless ``value`` is float32 or float64."""
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
    check_dtype("x", x)
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
    # The reference's check (hs and dhs first, so the same errors), then the rest of the
    # cache, a plain tuple: compiled code does not bounds-check, so check it whole.
    x, h0, Wx, Wh, hs = cache
    check_arrays(hs=(hs, "N T H"), dhs=(dhs, "N T H"), x=(x, "N T D"), h0=(h0, "N H"),
                 Wx=(Wx, "D H"), Wh=(Wh, "H H"))
    check_dtype("dhs", dhs)
    grads = _backward(*(np.ascontiguousarray(a) for a in (dhs, x, h0, Wx, Wh, hs)))
    return SequenceGrads(*grads)


# The character model of rnnlab.charmodel (backend="numba"): its whole training step.


@njit(**_JIT)
def _softmax_loss_rows(scores, by, targets):
    """In place on ``scores (N, T, V)`` holding ``hs @ Wy``: add ``by``, then replace each
    row by its ``dscores``, and return the loss, as ``temporal_softmax_loss`` (whose
    ``exp(shifted - log(total))`` is ``exp(shifted) / total`` here, equal to round-off)."""
    N, T, V = scores.shape
    loss = 0.0
    for n in range(N):
        for t in range(T):
            s, y = scores[n, t], targets[n, t]
            for v in range(V):
                s[v] += by[v]
            top = s.max()
            picked = s[y] - top
            for v in range(V):
                s[v] = _exp(s[v] - top)
            total = s.sum()
            loss -= picked - math.log(total)
            for v in range(V):
                s[v] /= total
            s[y] -= 1.0
            for v in range(V):
                s[v] *= 1.0 / N
    return loss / N


@njit(**_JIT)
def char_loss_and_grads(Wx, Wh, b, Wy, by, inputs, targets, h0):
    """:func:`rnnlab.charmodel.loss_and_grads` compiled: the one-hot inputs' ``x @ Wx`` is
    a row lookup (exactly equal), the rest as in the reference.

    Returns ``loss, dWx, dWh, db, dWy, dby, h_last``. All arrays C-contiguous, one float
    dtype, ids in ``[0, V)``; no checks (the caller checks).
    """
    N, T = inputs.shape
    V, H = Wx.shape
    rows = N * T
    hs = np.empty((N, T, H), Wh.dtype)
    for n in range(N):
        for t in range(T):
            hs[n, t] = Wx[inputs[n, t]]
    _run_forward(hs, h0, np.ascontiguousarray(Wh.T), b)
    dscores = np.empty((N, T, V), Wh.dtype)
    _gemm(hs, 0, H, False, Wy, 0, V, False, dscores, 0, V, rows, V, H, 0.0)
    loss = _softmax_loss_rows(dscores, by, targets)
    dWy = np.empty((H, V), Wh.dtype)
    _gemm(hs, 0, H, True, dscores, 0, V, False, dWy, 0, V, H, V, rows, 0.0)
    dby = np.zeros(V, Wh.dtype)
    for i in range(rows):
        dby += dscores.reshape(rows, V)[i]
    g = np.empty((N, T, H), Wh.dtype)
    _gemm(dscores, 0, V, False, Wy, 0, V, True, g, 0, H, rows, H, V, 0.0)
    _, dWh, db = _bptt(g, hs, h0, Wh)
    dWx = np.zeros((V, H), Wh.dtype)
    for t in range(T - 1, -1, -1):
        for n in range(N):
            dWx[inputs[n, t]] += g[n, t]
    h_last = hs[:, T - 1].copy() if T else h0.copy()
    return loss, dWx, dWh, db, dWy, dby, h_last


@njit(**_JIT)
def _clip_adagrad(param, grad, memory, lr, clip, eps):
    p, g, m = param.reshape(-1), grad.reshape(-1), memory.reshape(-1)
    for i in range(p.size):
        gi = min(max(g[i], -clip), clip)
        m[i] += gi * gi
        p[i] -= lr * gi / (math.sqrt(m[i]) + eps)


@njit(**_JIT)
def char_train_step(Wx, Wh, b, Wy, by, mWx, mWh, mb, mWy, mby, inputs, targets, h0, lr, clip,
                    eps):
    """One step of :func:`rnnlab.charmodel.train` compiled: loss and gradients, gradients
    clipped to ``[-clip, clip]``, then Adagrad in place on the weights and the memories
    ``m*``. Returns ``loss, h_last``. Same requirements as :func:`char_loss_and_grads`.
    """
    loss, dWx, dWh, db, dWy, dby, h_last = char_loss_and_grads(Wx, Wh, b, Wy, by, inputs,
                                                               targets, h0)
    _clip_adagrad(Wx, dWx, mWx, lr, clip, eps)
    _clip_adagrad(Wh, dWh, mWh, lr, clip, eps)
    _clip_adagrad(b, db, mb, lr, clip, eps)
    _clip_adagrad(Wy, dWy, mWy, lr, clip, eps)
    _clip_adagrad(by, dby, mby, lr, clip, eps)
    return loss, h_last
