"""The Numba kernel: the reference RNN with its whole time loop compiled.

A drop-in for :func:`rnnlab.reference.rnn_forward` and :func:`rnnlab.reference.rnn_backward`:
the same arguments, shapes, checks, error messages, cache and gradients, for float32 and
float64. What makes it fast:

- the input projection ``x @ Wx`` of every time step is one matrix product before the
  loop, and ``dx``, ``dWx``, ``dWh``, ``db`` are matrix products after it, all on the
  course's batch-major arrays as they are (no transposed copies);
- inside the loop, the recurrent product ``h_prev @ Wh`` is added in place to the step's
  input projection, by plain loops for small batches and by BLAS for large ones; the step
  kernels (:func:`step_forward`, :func:`step_backward`) make no views and, on the loop
  path, call nothing;
- ``tanh`` (and the softmax's ``exp``) are written with arithmetic only, so the compiler
  vectorises them.

The machinery under it (BLAS called directly, the loops-or-BLAS product, ``exp`` and
``tanh``) is in :mod:`rnnlab.lowlevel`. This module also holds the character model's whole
training step (:func:`char_train_step`, used by :mod:`rnnlab.charmodel` with
``backend="numba"``). Compiled code is cached on disk (``cache=True``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from rnnlab import lowlevel
from rnnlab.lowlevel import JIT, add_product, gemm, steps_use_blas
from rnnlab.reference import SequenceCache, SequenceGrads, _check_cache
from rnnlab.validation import check_arrays


@njit(**JIT)
def _tanh_into(x, out):
    for i in range(x.size):
        out.flat[i] = lowlevel.tanh(x.flat[i])


def tanh(x: np.ndarray) -> np.ndarray:
    """Element-wise ``tanh`` of a float array by the kernel's own formula
    (:func:`rnnlab.lowlevel.tanh`).

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


@njit(fastmath={"reassoc", "contract"}, **JIT)
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
    add_product(hs, t, prev, tp, WhT, blas)
    for n in range(N):
        for j in range(H):
            hs[n, t, j] = lowlevel.tanh(hs[n, t, j] + b[j])


@njit(fastmath={"reassoc", "contract"}, **JIT)
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
    add_product(prev, tp, g, t, Wh, blas)


@njit(**JIT)
def _forward_steps(hs, h0, WhT, b, blas):
    """Every step on ``hs (N, T, H)`` holding the steps' input projections."""
    N, T, H = hs.shape
    h0 = h0.reshape(N, 1, H)
    for t in range(T):  # t, not 0, in the first call: a constant would compile another copy
        if t:
            step_forward(hs, t, hs, t - 1, WhT, b, blas)
        else:
            step_forward(hs, t, h0, t, WhT, b, blas)


@njit(**JIT)
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


@njit(**JIT)
def _forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = Wh.shape[0]
    hs = np.empty((N, T, H), x.dtype)
    gemm(x.reshape(N * T, D), Wx, hs.reshape(N * T, H))  # every step's x_t @ Wx at once
    _run_forward(hs, h0, np.ascontiguousarray(Wh.T), b)
    return hs


@njit(**JIT)
def _run_forward(hs, h0, WhT, b):
    """:func:`_forward_steps` with ``blas`` as a constant (compiled once for each)."""
    if steps_use_blas(hs.shape[0], hs.shape[2]):
        _forward_steps(hs, h0, WhT, b, True)
    else:
        _forward_steps(hs, h0, WhT, b, False)


@njit(**JIT)
def _bptt(g, hs, h0, Wh):
    """BPTT: ``g (N, T, H)`` holds ``dhs`` on entry and ``da`` on exit.

    Returns ``dh0 (N, H)``, ``dWh (H, H)`` and ``db (H,)``.
    """
    N, T, H = hs.shape
    if steps_use_blas(N, H):
        dh0 = _backward_steps(g, hs, Wh, True)
    else:
        dh0 = _backward_steps(g, hs, Wh, False)
    # dWh = h0.T @ da_0 + sum_n hs[n, :-1].T @ da[n, 1:]
    dWh = np.zeros((H, H), hs.dtype)
    if T > 0:
        gemm(h0.T, g[:, 0], dWh, 1.0)
    for n in range(N if T > 1 else 0):
        gemm(hs[n, :-1].T, g[n, 1:], dWh, 1.0)
    db = np.zeros(H, hs.dtype)
    for n in range(N):
        for t in range(T):
            for j in range(H):
                db[j] += g[n, t, j]
    return dh0.reshape(N, H), dWh, db


@njit(**JIT)
def _backward(dhs, x, h0, Wx, Wh, hs):
    N, T, H = hs.shape
    D = x.shape[2]
    g = dhs.copy()
    dh0, dWh, db = _bptt(g, hs, h0, Wh)
    da, x2 = g.reshape(N * T, H), x.reshape(N * T, D)  # g now holds da_t for every step
    dx = np.empty((N, T, D), hs.dtype)
    dWx = np.empty((D, H), hs.dtype)
    gemm(da, Wx.T, dx.reshape(N * T, D))
    gemm(x2.T, da, dWx)
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


@njit(**JIT)
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
                s[v] = lowlevel.exp(s[v] - top)
            total = s.sum()
            loss -= picked - math.log(total)
            for v in range(V):
                s[v] /= total
            s[y] -= 1.0
            for v in range(V):
                s[v] *= 1.0 / N
    return loss / N


@njit(**JIT)
def char_loss_and_grads(Wx, Wh, b, Wy, by, inputs, targets, h0):
    """:func:`rnnlab.charmodel.loss_and_grads` compiled: the one-hot inputs' ``x @ Wx`` is
    a row lookup (exactly equal), the rest as in the reference.

    Returns ``loss, dWx, dWh, db, dWy, dby, h_last``. All arrays C-contiguous, one float
    dtype, ids in ``[0, V)``; no checks (the caller checks).
    """
    N, T = inputs.shape
    V, H = Wx.shape
    hs = np.empty((N, T, H), Wh.dtype)
    for n in range(N):
        for t in range(T):
            hs[n, t] = Wx[inputs[n, t]]
    _run_forward(hs, h0, np.ascontiguousarray(Wh.T), b)
    rows = N * T  # the output layer on every step at once
    hs2, dscores = hs.reshape(rows, H), np.empty((N, T, V), Wh.dtype)
    scores = dscores.reshape(rows, V)
    gemm(hs2, Wy, scores)
    loss = _softmax_loss_rows(dscores, by, targets)
    dWy = np.empty((H, V), Wh.dtype)
    gemm(hs2.T, scores, dWy)
    dby = np.zeros(V, Wh.dtype)
    for i in range(rows):
        dby += scores[i]
    g = np.empty((N, T, H), Wh.dtype)
    gemm(scores, Wy.T, g.reshape(rows, H))
    _, dWh, db = _bptt(g, hs, h0, Wh)
    dWx = np.zeros((V, H), Wh.dtype)
    for t in range(T - 1, -1, -1):
        for n in range(N):
            dWx[inputs[n, t]] += g[n, t]
    h_last = hs[:, T - 1].copy() if T else h0.copy()
    return loss, dWx, dWh, db, dWy, dby, h_last


@njit(**JIT)
def _clip_adagrad(param, grad, memory, lr, clip, eps):
    p, g, m = param.reshape(-1), grad.reshape(-1), memory.reshape(-1)
    for i in range(p.size):
        gi = min(max(g[i], -clip), clip)
        m[i] += gi * gi
        p[i] -= lr * gi / (math.sqrt(m[i]) + eps)


@njit(**JIT)
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
