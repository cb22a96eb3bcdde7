"""The NumPy reference RNN: the ground truth of the course.

Batch first, row vectors: ``x (N, T, D)``, ``h (N, H)``, ``hs (N, T, H)``,
``Wx (D, H)``, ``Wh (H, H)``, ``b (H,)``. Every backward pass returns its gradients in
the order of the forward pass's arguments and never modifies its inputs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnnlab.validation import check_arrays


class StepCache(NamedTuple):
    """What :func:`rnn_step_backward` needs from one forward step."""

    x: np.ndarray
    h_prev: np.ndarray
    Wx: np.ndarray
    Wh: np.ndarray
    h_next: np.ndarray


class StepGrads(NamedTuple):
    """Gradients of one step, in the order of the step's arguments."""

    dx: np.ndarray
    dh_prev: np.ndarray
    dWx: np.ndarray
    dWh: np.ndarray
    db: np.ndarray


class SequenceCache(NamedTuple):
    """What :func:`rnn_backward` needs from a forward pass over a sequence."""

    x: np.ndarray
    h0: np.ndarray
    Wx: np.ndarray
    Wh: np.ndarray
    hs: np.ndarray


class SequenceGrads(NamedTuple):
    """Gradients of a sequence, in the order of :func:`rnn_forward`'s arguments."""

    dx: np.ndarray
    dh0: np.ndarray
    dWx: np.ndarray
    dWh: np.ndarray
    db: np.ndarray


class OutputCache(NamedTuple):
    """What :func:`output_backward` needs from :func:`output_forward`."""

    hs: np.ndarray
    Wy: np.ndarray


class OutputGrads(NamedTuple):
    """Gradients of the output layer, in the order of its arguments."""

    dhs: np.ndarray
    dWy: np.ndarray
    dby: np.ndarray


def _check_cache(cache: object, kind: type) -> None:
    if not isinstance(cache, kind):
        raise TypeError(f"cache must be the {kind.__name__} returned by the forward pass; "
                        f"got {type(cache).__name__}")


def rnn_step_forward(x: np.ndarray, h_prev: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                     b: np.ndarray) -> tuple[np.ndarray, StepCache]:
    """One time step of a vanilla tanh RNN.

    Parameters
    ----------
    x : (N, D) inputs at this step.
    h_prev : (N, H) hidden state of the previous step.
    Wx : (D, H) input-to-hidden weights.
    Wh : (H, H) hidden-to-hidden weights.
    b : (H,) bias.

    Returns
    -------
    h_next : (N, H) the new hidden state.
    cache : StepCache for :func:`rnn_step_backward`.

    Notes
    -----
    ``h_next = tanh(x @ Wx + h_prev @ Wh + b)``
    """
    check_arrays(x=(x, "N D"), h_prev=(h_prev, "N H"), Wx=(Wx, "D H"), Wh=(Wh, "H H"),
                 b=(b, "H"))
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    return h_next, StepCache(x, h_prev, Wx, Wh, h_next)


def rnn_step_backward(dh_next: np.ndarray, cache: StepCache) -> StepGrads:
    """Backward pass of one step.

    Parameters
    ----------
    dh_next : (N, H) gradient of the loss with respect to ``h_next``.
    cache : StepCache from :func:`rnn_step_forward`.

    Returns
    -------
    StepGrads
        ``(dx (N, D), dh_prev (N, H), dWx (D, H), dWh (H, H), db (H,))``.

    Notes
    -----
    With ``a = x @ Wx + h_prev @ Wh + b`` and ``h_next = tanh(a)``:
    ``da = dh_next * (1 - h_next**2)``, ``dx = da @ Wx.T``, ``dh_prev = da @ Wh.T``,
    ``dWx = x.T @ da``, ``dWh = h_prev.T @ da``, ``db = da.sum(axis=0)``.
    """
    _check_cache(cache, StepCache)
    check_arrays(h_next=(cache.h_next, "N H"), dh_next=(dh_next, "N H"))
    da = dh_next * (1.0 - cache.h_next**2)
    return StepGrads(da @ cache.Wx.T, da @ cache.Wh.T, cache.x.T @ da, cache.h_prev.T @ da,
                     da.sum(axis=0))


def rnn_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                b: np.ndarray) -> tuple[np.ndarray, SequenceCache]:
    """A vanilla tanh RNN over a whole sequence.

    Parameters
    ----------
    x : (N, T, D) inputs.
    h0 : (N, H) initial hidden state.
    Wx : (D, H), Wh : (H, H), b : (H,) the weights, shared by every step.

    Returns
    -------
    hs : (N, T, H) the hidden state after each step.
    cache : SequenceCache for :func:`rnn_backward`.

    Notes
    -----
    ``hs[:, t] = tanh(x[:, t] @ Wx + hs[:, t-1] @ Wh + b)`` with ``hs[:, -1] = h0``.
    """
    sizes = check_arrays(x=(x, "N T D"), h0=(h0, "N H"), Wx=(Wx, "D H"), Wh=(Wh, "H H"),
                         b=(b, "H"))
    hs = np.empty((sizes["N"], sizes["T"], sizes["H"]), dtype=x.dtype)
    h = h0
    for t in range(sizes["T"]):
        h, _ = rnn_step_forward(x[:, t], h, Wx, Wh, b)
        hs[:, t] = h
    return hs, SequenceCache(x, h0, Wx, Wh, hs)


def rnn_backward(dhs: np.ndarray, cache: SequenceCache) -> SequenceGrads:
    """Backpropagation through time over a whole sequence.

    Parameters
    ----------
    dhs : (N, T, H) upstream gradient of every hidden state (for example from an
        output layer at each step).
    cache : SequenceCache from :func:`rnn_forward`.

    Returns
    -------
    SequenceGrads
        ``(dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,))``.

    Notes
    -----
    Walking back from ``t = T-1``, the gradient reaching ``hs[:, t]`` is its own
    upstream ``dhs[:, t]`` plus what flows back from step ``t+1``; the weight
    gradients are summed over all steps.
    """
    _check_cache(cache, SequenceCache)
    check_arrays(hs=(cache.hs, "N T H"), dhs=(dhs, "N T H"))
    x, h0, Wx, Wh, hs = cache
    dx = np.empty_like(x)
    dWx, dWh = np.zeros_like(Wx), np.zeros_like(Wh)
    db = np.zeros(Wh.shape[0], dtype=dhs.dtype)
    dh = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        h_prev = hs[:, t - 1] if t > 0 else h0
        step = StepCache(x[:, t], h_prev, Wx, Wh, hs[:, t])
        dx[:, t], dh, dWx_t, dWh_t, db_t = rnn_step_backward(dhs[:, t] + dh, step)
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return SequenceGrads(dx, dh, dWx, dWh, db)


def output_forward(hs: np.ndarray, Wy: np.ndarray,
                   by: np.ndarray) -> tuple[np.ndarray, OutputCache]:
    """The output layer applied at every time step.

    Parameters
    ----------
    hs : (N, T, H) hidden states.
    Wy : (H, V) hidden-to-output weights.
    by : (V,) output bias.

    Returns
    -------
    scores : (N, T, V) unnormalised scores (logits).
    cache : OutputCache for :func:`output_backward`.

    Notes
    -----
    ``scores[:, t] = hs[:, t] @ Wy + by``
    """
    check_arrays(hs=(hs, "N T H"), Wy=(Wy, "H V"), by=(by, "V"))
    return hs @ Wy + by, OutputCache(hs, Wy)


def output_backward(dscores: np.ndarray, cache: OutputCache) -> OutputGrads:
    """Backward pass of :func:`output_forward`.

    Returns
    -------
    OutputGrads
        ``(dhs (N, T, H), dWy (H, V), dby (V,))``.
    """
    _check_cache(cache, OutputCache)
    check_arrays(hs=(cache.hs, "N T H"), Wy=(cache.Wy, "H V"),
                 dscores=(dscores, "N T V"))
    hs = cache.hs
    dWy = hs.reshape(-1, hs.shape[-1]).T @ dscores.reshape(-1, dscores.shape[-1])
    return OutputGrads(dscores @ cache.Wy.T, dWy, dscores.sum(axis=(0, 1)))


def softmax(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, stable for large scores.

    Notes
    -----
    ``p_i = exp(s_i - max s) / sum_j exp(s_j - max s)``
    """
    ndim = scores.ndim if isinstance(scores, np.ndarray) and scores.ndim else 1
    check_arrays(scores=(scores, " ".join(f"d{i}" for i in range(ndim - 1)) + " V"))
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def temporal_softmax_loss(scores: np.ndarray, y: np.ndarray,
                          mask: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy summed over time and averaged over the batch.

    Parameters
    ----------
    scores : (N, T, V) scores from :func:`output_forward`.
    y : (N, T) integer targets in ``[0, V)``.
    mask : (N, T) bool, optional. Steps where it is False (padding) carry no loss.

    Returns
    -------
    loss : float.
    dscores : (N, T, V) gradient of the loss with respect to ``scores``.

    Notes
    -----
    ``loss = -(1/N) sum_{n,t} mask[n,t] * log softmax(scores[n,t])[y[n,t]]`` and
    ``dscores = mask * (softmax(scores) - onehot(y)) / N``.
    """
    if mask is None and isinstance(scores, np.ndarray):
        mask = np.ones(scores.shape[:2], dtype=bool)
    sizes = check_arrays(scores=(scores, "N T V"), y=(y, "N T", "iu"), mask=(mask, "N T", "b"))
    n, v = sizes["N"], sizes["V"]
    if y.size and (y.min() < 0 or y.max() >= v):
        raise ValueError(f"y holds labels in [{y.min()}, {y.max()}]; expected [0, {v})")
    shifted = scores - scores.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probs, y[..., None], axis=-1)[..., 0]
    loss = -float((picked * mask).sum()) / n
    dscores = np.exp(log_probs)
    np.put_along_axis(dscores, y[..., None], np.take_along_axis(dscores, y[..., None], -1) - 1,
                      axis=-1)
    dscores *= mask[..., None] / n
    return loss, dscores
