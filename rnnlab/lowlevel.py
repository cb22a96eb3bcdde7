"""The machinery under the Numba kernel: matrix products by BLAS, ``exp`` and ``tanh``.

:mod:`rnnlab.kernels` computes the RNN; this module holds what it needs from below, so
that the kernel reads like the equations. Nothing here is course material.

Why it exists:

- **BLAS from SciPy.** Numba has no BLAS of its own: its ``np.dot`` calls the Fortran
  BLAS that SciPy ships (``scipy.linalg.cython_blas``). ``np.dot`` cannot add into its
  output or write into a row ``hs[:, t]`` of a larger array, which every time step does,
  so :func:`gemm` calls BLAS's ``dgemm`` / ``sgemm`` directly, on array views.
- **Loops beat BLAS for small batches.** A step's product ``(N, H) @ (H, H)`` costs a BLAS
  call more than the arithmetic when ``N`` is small: measured, plain loops win for
  ``N <= 4`` (up to ``H = 1024``), BLAS for ``N >= 32``, and they are even between.
  :func:`add_product` chooses by :func:`steps_use_blas`.
- **A hand-rolled exp and tanh.** Numba compiles ``np.tanh`` and ``np.exp`` into one scalar
  libm call per element, which stops the compiler from vectorising the loop around it;
  :func:`tanh` and :func:`exp` use arithmetic only (about ten times faster in a loop).

Compiled code is cached on disk (``cache=True``). Numba checks the cache against the file
of each function only: after editing this module, clear ``NUMBA_CACHE_DIR`` (or the
``__pycache__`` next to it), or the kernel keeps the old compiled copy of what it inlined.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import llvmlite.binding as llvm
import numpy as np
from numba import njit, types
from numba.extending import get_cython_function_address

# Options of every compiled function of the kernel.
JIT = {"cache": True, "nogil": True, "error_model": "numpy"}

# ---------------------------------------------------------------------------------------
# exp and tanh with arithmetic only: exp(y) = 2**n * (1 + expm1(r)), r = y - n ln2.

# ln2 = LN2_HI + LN2_LO, where LN2_HI has 40 significant bits, so n * LN2_HI is exact for
# every |n| < 2**13 and r is accurate to the last bit.
with localcontext() as _ctx:
    _ctx.prec = 40
    _LN2 = Decimal(2).ln()
    INV_LN2 = float(1 / _LN2)
    LN2_HI = math.ldexp(math.floor(math.ldexp(float(_LN2), 40)), -40)
    LN2_LO = float(_LN2 - Decimal(LN2_HI))
# Taylor coefficients 1/k! of expm1(r) = r + r**2 (1/2! + r/3! + ... + r**14/16!), highest
# first for Horner's rule; the truncation error on (-ln2, ln2) is below 1e-17 relative.
EXPM1_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(16, 1, -1))
# (bit, 2**-bit) for the bits of -n, 0 <= -n < 1024: 2**n is the product of those set.
POW2_DOWN = tuple((2**i, 2.0 ** -2**i) for i in range(10))
EXP_MIN_ARG = -708.0  # exp(-708) = 3.3e-308; below it exp returns 0 (no subnormals)
TANH_SATURATES = 20.0  # tanh(x) rounds to 1 in float64 from x = 19.1


@njit(inline="always", fastmath={"contract"}, **JIT)
def _expm1_parts(y):
    """``(n, p)`` with ``exp(y) = 2**n * (1 + p)``: ``n = int(y / ln2)``, ``p = expm1(r)``."""
    n = int(y * INV_LN2)
    r = (y - n * LN2_HI) - n * LN2_LO
    q = 0.0
    for c in EXPM1_TAYLOR:
        q = c + r * q
    return n, r + r * r * q


@njit(inline="always", fastmath={"contract"}, **JIT)  # else LLVM does not inline it
def exp(x):
    """``exp(x)`` of one number ``x <= 0`` (what a softmax needs).

    ``2**n (1 + expm1(r))``, with ``2**n`` a product of powers of two chosen by the bits of
    ``-n``. Measured error at most 1.1 ulp (``np.exp``: 0.7 ulp); 0 below -708, NaN for NaN.
    """
    y = x if x >= EXP_MIN_ARG else EXP_MIN_ARG  # NaN takes this branch; fixed at the end
    n, p = _expm1_parts(y)
    s = 1.0
    for bit, factor in POW2_DOWN:
        s *= factor if -n & bit else 1.0
    e = s + s * p
    return e if x >= EXP_MIN_ARG else (0.0 if x == x else x)


@njit(fastmath={"contract"}, **JIT)
def tanh(x):
    """``tanh(x)`` of one number, computed in float64.

    Notes
    -----
    With ``a = min(|x|, 20)`` and ``v = expm1(2a) = 2**n (1 + p) - 1``:
    ``tanh(a) = v / (v + 2) = h - h**2 / (1 + h)`` with ``h = v / 2`` for ``a <= 0.55``,
    and ``1 - 1 / (1 + h)`` above. ``2**n`` (``n <= 57``) is a product of powers of two
    chosen by the bits of ``n``. Measured error: at most 1.6 ulp (``np.tanh``: 1.2 ulp), and
    at most 2 ulp away from ``np.tanh``; signs, zeros, infinities and NaN behave like
    ``np.tanh``.
    """
    a = abs(x)
    y = 2.0 * (a if a < TANH_SATURATES else TANH_SATURATES)  # NaN too; fixed at the end
    n, p = _expm1_parts(y)
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


# ---------------------------------------------------------------------------------------
# Matrix products by SciPy's BLAS.
#
# Fortran BLAS takes every argument by pointer, passed here as an integer address. The
# functions are registered as named symbols (as Numba does for its own helpers) so that
# compiled code refers to them by name and can be cached on disk.

for _name in ("dgemm", "sgemm"):
    llvm.add_symbol(f"rnnlab_{_name}",
                    get_cython_function_address("scipy.linalg.cython_blas", _name))
# dgemm(transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc), all pointers
_DGEMM = types.ExternalFunction("rnnlab_dgemm", types.void(*[types.intp] * 13))
_SGEMM = types.ExternalFunction("rnnlab_sgemm", types.void(*[types.intp] * 13))
AS_IS, TRANSPOSED = ord("N"), ord("T")  # BLAS's codes for op(A) = A and op(A) = A.T


@njit(inline="always", **JIT)
def _blas_layout(A):
    """``(flag, ld)`` of a 2-D view for row-major BLAS: rows contiguous (``AS_IS``, ``ld``
    the row stride) or columns contiguous (``TRANSPOSED``: ``A.T`` is row-major)."""
    size = A.itemsize
    if A.strides[1] == size or A.shape[1] <= 1:
        return AS_IS, max(A.strides[0] // size, A.shape[1], 1)
    if A.strides[0] == size or A.shape[0] <= 1:
        return TRANSPOSED, max(A.strides[1] // size, A.shape[0], 1)
    raise ValueError("gemm needs rows or columns of each matrix contiguous")


@njit(**JIT)
def gemm(A, B, C, beta=0.0):
    """``C = A @ B + beta * C`` by BLAS, in place on ``C``.

    Parameters
    ----------
    A : (m, k), B : (k, n) 2-D views whose rows or columns are contiguous, such as
        ``x.reshape(N * T, D)``, a transpose ``x.T`` or a slice ``hs[:, t]``.
    C : (m, n) 2-D view with contiguous rows, of the same dtype (float32 or float64).
    beta : 0 overwrites ``C``, 1 adds the product to it.

    Notes
    -----
    BLAS is column-major, where a row-major matrix reads as its transpose; so BLAS is asked
    for ``C.T = B.T @ A.T``.
    """
    m, n, k = A.shape[0], B.shape[1], A.shape[1]
    if m == 0 or n == 0:
        return
    flag_a, lda = _blas_layout(A)
    flag_b, ldb = _blas_layout(B)
    _, ldc = _blas_layout(C)
    ints = np.array([n, m, k, ldb, lda, ldc], np.int32)
    flags = np.array([flag_b, flag_a], np.uint8)
    scalars = np.array([1.0, beta], C.dtype)  # alpha, beta
    f, i, s = flags.ctypes.data, ints.ctypes.data, scalars.ctypes.data
    a, b, c = A.ctypes.data, B.ctypes.data, C.ctypes.data
    if C.itemsize == 8:
        _DGEMM(f, f + 1, i, i + 4, i + 8, s, b, i + 12, a, i + 16, s + 8, c, i + 20)
    else:
        _SGEMM(f, f + 1, i, i + 4, i + 8, s, b, i + 12, a, i + 16, s + 4, c, i + 20)


# ---------------------------------------------------------------------------------------
# A time step's product: loops for small batches, BLAS for large ones.

# A step's product (N, H) @ (H, H) goes to BLAS from this many rows and multiply-adds.
BLAS_MIN_ROWS, BLAS_MIN_WORK = 16, 16 * 64 * 64


@njit(**JIT)
def steps_use_blas(N, H):
    """Whether a step's ``(N, H) @ (H, H)`` goes to BLAS (see ``BLAS_MIN_ROWS``)."""
    return N >= BLAS_MIN_ROWS and N * H * H >= BLAS_MIN_WORK


@njit(inline="always", **JIT)
def add_product(c, tc, a, ta, BT, blas):
    """``c[:, tc] += a[:, ta] @ BT.T`` for ``a (N, Ta, K)``, ``c (N, Tc, H)`` and ``BT (H, K)``,
    all C-contiguous; ``a`` and ``c`` may be one array (``ta != tc``).

    By BLAS if ``blas``; else by dot products of a row of ``a`` with four rows of ``BT`` at
    a time, whose sums the caller's ``fastmath`` lets the compiler reorder and vectorise.
    Made for the time steps, whose cost at small sizes is mostly fixed: no views (making
    one, as ``a[n, ta]``, costs atomic reference-count updates) and no function calls in
    the loop branch (the steps pass ``blas`` as a constant, so the other branch is not
    compiled; either costs up to 40% of a small step).
    """
    if blas:
        gemm(a[:, ta], BT.T, c[:, tc], 1.0)
        return
    N, H, K = c.shape[0], BT.shape[0], BT.shape[1]
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
