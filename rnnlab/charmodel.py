"""A character-level language model in the style of Karpathy's min-char-rnn.

One-hot characters ``x (N, T, V)`` go through a vanilla RNN, then the output layer and
softmax loss:

``hs = rnn(onehot(inputs), h0)``, ``scores = hs @ Wy + by``,
``loss = -(1/N) sum_{n,t} log softmax(scores[n, t])[targets[n, t]]``.

``backend="numpy"`` composes the NumPy reference (:mod:`rnnlab.reference`) and
:func:`rnnlab.optim.adagrad_step`; ``backend="numba"`` runs the same math compiled, the
whole training step in one call (:func:`rnnlab.kernels.char_train_step`), where the
one-hot product ``onehot(inputs) @ Wx`` is the row lookup ``Wx[inputs]`` (exactly equal).
Both give the same losses and gradients up to round-off.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from tqdm.auto import tqdm

from rnnlab.backends import get_backend
from rnnlab.optim import adagrad_step
from rnnlab.reference import (
    output_backward,
    output_forward,
    rnn_forward,
    softmax,
    temporal_softmax_loss,
)
from rnnlab.validation import check_arrays
from rnnlab.weights import init_rnn, xavier


class CharParams(NamedTuple):
    """The model's weights: ``Wx (V, H)``, ``Wh (H, H)``, ``b (H,)``, ``Wy (H, V)``, ``by (V,)``."""

    Wx: np.ndarray
    Wh: np.ndarray
    b: np.ndarray
    Wy: np.ndarray
    by: np.ndarray


def init_char_model(V: int, H: int, rng: np.random.Generator,
                    dtype: type = np.float64) -> CharParams:
    """Initial weights: :func:`rnnlab.weights.init_rnn` for the RNN, Glorot-uniform ``Wy``,
    zero biases.

    Parameters
    ----------
    V : vocabulary size; H : hidden size; rng : the random generator.
    """
    Wx, Wh, b = init_rnn(V, H, rng, dtype=dtype)
    return CharParams(Wx, Wh, b, xavier(H, V, rng, dtype), np.zeros(V, dtype=dtype))


def _check_ids(name: str, ids: np.ndarray, V: int) -> None:
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"{name} holds values in [{ids.min()}, {ids.max()}]; "
                         f"expected [0, {V})")


def one_hot(ids: np.ndarray, V: int, dtype: type = np.float64) -> np.ndarray:
    """``(N, T)`` integer ids in ``[0, V)`` as ``(N, T, V)`` one-hot vectors."""
    check_arrays(ids=(ids, "...", "iu"))
    _check_ids("ids", ids, V)
    x = np.zeros((*ids.shape, V), dtype=dtype)
    np.put_along_axis(x, ids[..., None], 1.0, axis=-1)
    return x


def _check_batch(params: CharParams, inputs: np.ndarray, targets: np.ndarray, h0: np.ndarray,
                 backend: str) -> None:
    """The checks of :func:`loss_and_grads` (compiled code reads ids without bounds checks)."""
    check_arrays(inputs=(inputs, "N T", "iu"), targets=(targets, "N T", "iu"),
                 Wx=(params.Wx, "V H"), Wh=(params.Wh, "H H"), b=(params.b, "H"),
                 Wy=(params.Wy, "H V"), by=(params.by, "V"), h0=(h0, "N H"))
    _check_ids("inputs", inputs, len(params.Wx))
    _check_ids("targets", targets, len(params.Wx))
    if backend == "numba":
        get_backend(backend).check_dtype("Wx", params.Wx)


def loss_and_grads(params: CharParams, inputs: np.ndarray, targets: np.ndarray,
                   h0: np.ndarray, backend: str = "numpy") -> tuple[float, CharParams, np.ndarray]:
    """Loss and gradients of the model on a batch of sequences.

    Parameters
    ----------
    params : CharParams.
    inputs : (N, T) integer character ids fed in.
    targets : (N, T) integer ids to predict (usually ``inputs`` shifted by one).
    h0 : (N, H) initial hidden state.
    backend : ``"numpy"`` (the reference, step by step) or ``"numba"`` (compiled, one call).

    Returns
    -------
    loss : float, summed over time and averaged over the batch.
    grads : CharParams of gradients, same shapes as ``params``.
    h_last : (N, H) the last hidden state, to carry into the next batch.

    Notes
    -----
    ``hs = rnn_forward(onehot(inputs), h0, Wx, Wh, b)``,
    ``scores = output_forward(hs, Wy, by)``,
    ``loss = temporal_softmax_loss(scores, targets)``; the gradients flow back through
    ``output_backward`` and ``rnn_backward``.
    """
    rnn = get_backend(backend)
    _check_batch(params, inputs, targets, h0, backend)
    if backend == "numba":
        loss, *grads, h_last = rnn.char_loss_and_grads(
            *(np.ascontiguousarray(a) for a in (*params, inputs, targets, h0)))
        return loss, CharParams(*grads), h_last
    x = one_hot(inputs, params.Wx.shape[0], params.Wx.dtype)
    hs, cache = rnn.rnn_forward(x, h0, params.Wx, params.Wh, params.b)
    scores, out_cache = output_forward(hs, params.Wy, params.by)
    loss, dscores = temporal_softmax_loss(scores, targets)
    dhs, dWy, dby = output_backward(dscores, out_cache)
    _, _, dWx, dWh, db = rnn.rnn_backward(dhs, cache)
    h_last = hs[:, -1].copy() if hs.shape[1] else h0.copy()
    return loss, CharParams(dWx, dWh, db, dWy, dby), h_last


def evaluate(params: CharParams, ids: np.ndarray) -> float:
    """Mean loss per character (nats) of predicting ``ids[1:]`` from ``ids[:-1]``.

    A forward pass only, over the whole text as one sequence from a zero state (the
    reference's ``rnn_forward``, output layer and loss). ``exp`` of it is the model's
    perplexity on that text: the number of equally likely characters it is as unsure as.
    Evaluate on text the model was not trained on (a validation split) to see whether it
    generalises or only memorises.
    """
    check_arrays(ids=(ids, "L", "iu"))
    if len(ids) < 2:
        raise ValueError(f"ids has shape {ids.shape}; expected (L,) with L >= 2")
    h0 = np.zeros((1, params.Wh.shape[0]), dtype=params.Wh.dtype)
    _check_batch(params, ids[None, :-1], ids[None, 1:], h0, "numpy")
    x = one_hot(ids[None, :-1], params.Wx.shape[0], params.Wx.dtype)
    hs, _ = rnn_forward(x, h0, params.Wx, params.Wh, params.b)
    scores, _ = output_forward(hs, params.Wy, params.by)
    loss, _ = temporal_softmax_loss(scores, ids[None, 1:])
    return float(loss) / (len(ids) - 1)


def sample(params: CharParams, h: np.ndarray, first_id: int, n: int,
           rng: np.random.Generator, temperature: float = 1.0) -> list[int]:
    """Draw ``n`` characters one at a time, each fed back as the next input.

    Parameters
    ----------
    params : CharParams.
    h : (H,) or (1, H) hidden state to start from (not modified).
    first_id : the id fed in first.
    n : how many ids to draw.
    rng : the random generator.
    temperature : scores are divided by it; below 1 sharpens, above 1 flattens.

    Returns
    -------
    list of int
        The ``n`` drawn ids (``first_id`` not included).

    Notes
    -----
    ``h = tanh(Wx[i] + h @ Wh + b)``, ``p = softmax((h @ Wy + by) / temperature)``,
    ``i ~ p``.
    """
    V, H = params.Wx.shape
    check_arrays(h=(np.reshape(h, (H,)) if isinstance(h, np.ndarray) and h.size == H else h,
                    "H"))
    if not 0 <= first_id < V:
        raise ValueError(f"first_id is {first_id}; expected an id in [0, {V})")
    if temperature <= 0:
        raise ValueError(f"temperature is {temperature}; expected a positive number")
    h, i, ids = np.reshape(h, (H,)), first_id, []
    for _ in range(n):
        h = np.tanh(params.Wx[i] + h @ params.Wh + params.b)
        p = softmax((h @ params.Wy + params.by) / temperature)
        i = int(rng.choice(V, p=p))
        ids.append(i)
    return ids


def train(params: CharParams, ids: np.ndarray, steps: int, seq_length: int = 25,
          lr: float = 0.1, backend: str = "numpy", clip: float = 5.0,
          progress: bool = True) -> list[float]:
    """Train in place with Adagrad on consecutive windows of one long sequence (batch 1).

    Parameters
    ----------
    params : CharParams, updated in place.
    ids : (L,) integer character ids of the training text.
    steps : number of updates.
    seq_length : characters per update (the truncation length of BPTT).
    lr : Adagrad learning rate.
    backend : ``"numpy"`` (the reference composition) or ``"numba"`` (each whole step
        compiled, :func:`rnnlab.kernels.char_train_step`).
    clip : gradients are clipped to ``[-clip, clip]`` element-wise.
    progress : show a tqdm progress bar.

    Returns
    -------
    list of float
        The loss of every step.

    Notes
    -----
    Each step: ``loss_and_grads`` on the next window, ``np.clip`` of every gradient,
    :func:`rnnlab.optim.adagrad_step` (``eps = 1e-8``). As in min-char-rnn, the hidden
    state is carried from one window to the next and reset to zero at the end of the text.
    """
    rnn = get_backend(backend)
    check_arrays(ids=(ids, "L", "iu"))
    if len(ids) < seq_length + 1:
        raise ValueError(f"ids has shape {ids.shape}; expected (L,) with L > seq_length = "
                         f"{seq_length}")
    h = np.zeros((1, params.Wh.shape[0]), dtype=params.Wh.dtype)
    _check_batch(params, ids[None, :seq_length], ids[None, 1:seq_length + 1], h, backend)
    _check_ids("ids", ids, len(params.Wx))  # the whole text, once
    work = CharParams(*(np.ascontiguousarray(p) for p in params))  # params, if contiguous
    memory = CharParams(*(np.zeros_like(p) for p in work))
    losses, pos = [], 0
    for _ in tqdm(range(steps), desc=f"training ({backend})", disable=not progress):
        if pos + seq_length + 1 > len(ids):
            h, pos = np.zeros_like(h), 0
        inputs, targets = ids[None, pos:pos + seq_length], ids[None, pos + 1:pos + seq_length + 1]
        if backend == "numba":
            loss, h = rnn.char_train_step(*work, *memory, inputs, targets, h, lr, clip, 1e-8)
        else:
            loss, grads, h = loss_and_grads(work, inputs, targets, h, backend)
            for g in grads:
                np.clip(g, -clip, clip, out=g)
            adagrad_step(work, grads, memory, lr)
        losses.append(loss)
        pos += seq_length
    for p, w in zip(params, work):
        if p is not w:
            p[...] = w
    return losses
