"""The remedies for vanishing and exploding gradients, in NumPy (reference for unit 05).

* gradient clipping: :func:`clip_grad_norm` (rescale the whole gradient) and
  :func:`clip_grad_value` (clip every entry), compared by :func:`cosine`;
* truncated backpropagation through time: :func:`truncated_rnn_backward`;
* RMSprop: :func:`rmsprop_step`;
* ReLU with identity initialisation (IRNN): :func:`identity_init`;
* the LSTM cell: :func:`lstm_step_forward`, :func:`lstm_forward`, and the one converter
  to ``torch.nn.LSTM``, :func:`to_torch_lstm`.

LSTM layout (torch's gate order ``i, f, g, o``): ``Wx (D, 4H)``, ``Wh (H, 4H)``,
``b (4H,)``; columns ``[0:H]`` input gate, ``[H:2H]`` forget gate, ``[2H:3H]`` cell
candidate, ``[3H:4H]`` output gate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnnlab.reference import SequenceCache, SequenceGrads, StepCache, rnn_step_backward
from rnnlab.validation import check_arrays
from rnnlab.weights import RNNWeights


def _check_grads(grads: Sequence[np.ndarray]) -> list[np.ndarray]:
    if not isinstance(grads, (list, tuple)) or not grads:
        raise TypeError(f"grads must be a non-empty list of numpy arrays; got "
                        f"{type(grads).__name__}")
    for i, g in enumerate(grads):
        if not isinstance(g, np.ndarray) or g.dtype.kind != "f":
            raise TypeError(f"grads[{i}] must be a floating-point numpy array; got "
                            f"{type(g).__name__}")
    return list(grads)


def global_norm(grads: Sequence[np.ndarray]) -> float:
    """``sqrt(sum_i ||g_i||^2)``: the norm of all gradients seen as one long vector."""
    grads = _check_grads(grads)
    return float(np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads)))


def clip_grad_norm(grads: Sequence[np.ndarray], max_norm: float) -> list[np.ndarray]:
    """Rescale the gradients so their global norm is at most ``max_norm``.

    Parameters
    ----------
    grads : list of arrays (any shapes), e.g. ``[dWx, dWh, db]``.
    max_norm : positive threshold.

    Returns
    -------
    list of arrays
        New arrays: ``g * min(1, max_norm / global_norm(grads))``. The direction of the
        whole gradient is kept (Pascanu, Mikolov and Bengio 2013).
    """
    grads = _check_grads(grads)
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive; got {max_norm!r}")
    norm = global_norm(grads)
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return [g * scale for g in grads]


def clip_grad_value(grads: Sequence[np.ndarray], clip_value: float) -> list[np.ndarray]:
    """Clip every entry to ``[-clip_value, clip_value]`` (this turns the gradient)."""
    grads = _check_grads(grads)
    if not clip_value > 0:
        raise ValueError(f"clip_value must be positive; got {clip_value!r}")
    return [np.clip(g, -clip_value, clip_value) for g in grads]


def cosine(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    """Cosine of the angle between two gradients, each a list of arrays seen as one vector."""
    a, b = _check_grads(a), _check_grads(b)
    va = np.concatenate([np.ravel(g) for g in a]).astype(np.float64)
    vb = np.concatenate([np.ravel(g) for g in b]).astype(np.float64)
    if va.shape != vb.shape:
        raise ValueError(f"a has {va.size} entries in all; b has {vb.size}")
    denominator = np.linalg.norm(va) * np.linalg.norm(vb)
    return float(va @ vb / denominator) if denominator > 0 else float("nan")


def truncated_rnn_backward(dhs: np.ndarray, cache: SequenceCache, k: int) -> SequenceGrads:
    """Backpropagation through time truncated to chunks of ``k`` steps.

    Parameters
    ----------
    dhs : (N, T, H) upstream gradient of every hidden state.
    cache : SequenceCache from :func:`rnnlab.rnn_forward`.
    k : chunk length, a positive integer; ``k >= T`` gives :func:`rnnlab.rnn_backward`.

    Returns
    -------
    SequenceGrads
        ``(dx, dh0, dWx, dWh, db)`` as if the state were detached at the start of every
        chunk: the sequence is cut into ``[0, k), [k, 2k), ...``; the forward pass still
        carries the state across the cuts, but no gradient flows from step ``t`` back to
        step ``t - 1`` when ``t`` is a positive multiple of ``k``. ``dh0`` receives the
        gradient of the first chunk only.

    Notes
    -----
    What ``if t > 0 and t % k == 0: h = h.detach()`` does in a torch loop. The gradient of
    a loss at step ``t`` reaches back at most to the start of ``t``'s chunk.
    """
    if not isinstance(cache, SequenceCache):
        raise TypeError(f"cache must be the SequenceCache of rnnlab.rnn_forward; got "
                        f"{type(cache).__name__}")
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer; got {k!r}")
    check_arrays(hs=(cache.hs, "N T H"), dhs=(dhs, "N T H"))
    x, h0, Wx, Wh, hs = cache
    dx = np.empty_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0], dhs.dtype)
    dh = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        step = StepCache(x[:, t], hs[:, t - 1] if t > 0 else h0, Wx, Wh, hs[:, t])
        dx[:, t], dh, dWx_t, dWh_t, db_t = rnn_step_backward(dhs[:, t] + dh, step)
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
        if t > 0 and t % k == 0:
            dh = np.zeros_like(dh)
    return SequenceGrads(dx, dh, dWx, dWh, db)


def rmsprop_step(param: np.ndarray, grad: np.ndarray, cache: np.ndarray, lr: float = 1e-3,
                 decay: float = 0.9, eps: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """One RMSprop update (Hinton's lecture 6e; ``torch.optim.RMSprop`` with ``alpha=decay``).

    Parameters
    ----------
    param, grad, cache : arrays of one shape: the parameter, its gradient, and the running
        mean of squared gradients (start it at zeros).
    lr, decay, eps : step size, decay of the running mean, and the guard against 0 / 0.

    Returns
    -------
    (new_param, new_cache), new arrays.

    Notes
    -----
    ``cache' = decay * cache + (1 - decay) * grad**2`` and
    ``param' = param - lr * grad / (sqrt(cache') + eps)``.
    """
    for name, value in (("param", param), ("grad", grad), ("cache", cache)):
        if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
            raise TypeError(f"{name} must be a floating-point numpy array; got "
                            f"{type(value).__name__}")
        if value.shape != param.shape:
            raise ValueError(f"{name} has shape {value.shape}; expected {param.shape} "
                             "like param")
    cache = decay * cache + (1.0 - decay) * grad**2
    return param - lr * grad / (np.sqrt(cache) + eps), cache


def identity_init(D: int, H: int, rng: np.random.Generator, scale: float = 1.0,
                  input_std: float = 1e-3, dtype: type = np.float64) -> RNNWeights:
    """IRNN weights (Le, Jaitly and Hinton 2015) in the layout of :mod:`rnnlab.reference`.

    Returns
    -------
    RNNWeights
        ``Wx (D, H)`` from ``rng.normal(0, input_std, (D, H))`` (one call),
        ``Wh = scale * I (H, H)``, ``b = 0 (H,)``.
    """
    if not isinstance(D, (int, np.integer)) or not isinstance(H, (int, np.integer)) \
            or D < 1 or H < 1:
        raise ValueError(f"D and H must be positive integers; got D={D!r}, H={H!r}")
    Wx = rng.normal(0.0, input_std, size=(D, H)).astype(dtype)
    return RNNWeights(Wx, scale * np.eye(H, dtype=dtype), np.zeros(H, dtype=dtype))


def sigmoid(a: np.ndarray) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-a))``, without overflow for large ``|a|``."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def lstm_step_forward(x: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, Wx: np.ndarray,
                      Wh: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One step of an LSTM cell (torch's equations and gate order ``i, f, g, o``).

    Parameters
    ----------
    x : (N, D) inputs; h_prev, c_prev : (N, H) previous hidden and cell states.
    Wx : (D, 4H), Wh : (H, 4H), b : (4H,) the weights of the four gates side by side.

    Returns
    -------
    h_next, c_next : (N, H).

    Notes
    -----
    ``a = x @ Wx + h_prev @ Wh + b`` split into four ``(N, H)`` blocks ``a_i, a_f, a_g,
    a_o``; ``i = sigmoid(a_i)``, ``f = sigmoid(a_f)``, ``g = tanh(a_g)``,
    ``o = sigmoid(a_o)``; ``c_next = f * c_prev + i * g``; ``h_next = o * tanh(c_next)``.
    """
    check_arrays(x=(x, "N D"), h_prev=(h_prev, "N H"), c_prev=(c_prev, "N H"),
                 Wx=(Wx, "D G"), Wh=(Wh, "H G"), b=(b, "G"))
    H = h_prev.shape[1]
    if Wx.shape[1] != 4 * H:
        raise ValueError(f"Wx has shape {Wx.shape}; expected (D, 4H) = "
                         f"({Wx.shape[0]}, {4 * H})")
    a = x @ Wx + h_prev @ Wh + b
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 3 * H:])
    c_next = f * c_prev + i * np.tanh(a[:, 2 * H:3 * H])
    return o * np.tanh(c_next), c_next


def lstm_forward(x: np.ndarray, h0: np.ndarray, c0: np.ndarray, Wx: np.ndarray,
                 Wh: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An LSTM over a sequence ``x (N, T, D)``: all hidden and cell states ``(N, T, H)``."""
    sizes = check_arrays(x=(x, "N T D"), h0=(h0, "N H"), c0=(c0, "N H"))
    hs = np.empty((sizes["N"], sizes["T"], sizes["H"]), dtype=x.dtype)
    cs = np.empty_like(hs)
    h, c = h0, c0
    for t in range(sizes["T"]):
        h, c = lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        hs[:, t], cs[:, t] = h, c
    return hs, cs


def lstm_cell_jacobian(x: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray,
                       t: int, n: int = 0) -> dict:
    """The Jacobian ``dc_t/dc_{t-1}`` of an LSTM, whole and along the direct path only.

    Runs the LSTM (zero initial states) over sequence ``n`` of ``x (N, T, D)`` and, at step
    ``t >= 1``, differentiates ``c_t`` with respect to ``c_{t-1}`` by torch autograd, with
    every path included: the direct one (``f * c_{t-1}``) and those through
    ``h_{t-1} = o_{t-1} * tanh(c_{t-1})``, which enters the forget gate, the input gate
    and the candidate of step ``t`` through ``Wh`` (``o_{t-1}`` does not depend on
    ``c_{t-1}``).

    Returns
    -------
    dict
        ``whole``, ``(H, H)`` with entry ``[i, j] = d c_t[i] / d c_{t-1}[j]``; ``direct``,
        ``diag(f_t)``, the same derivative with the gates held fixed.
    """
    import torch

    sizes = check_arrays(x=(x, "N T D"), Wx=(Wx, "D G"), Wh=(Wh, "H G"), b=(b, "G"))
    H, T = sizes["H"], sizes["T"]
    if not 1 <= t < T:
        raise ValueError(f"t is {t}; expected 1 <= t < T = {T}")
    zeros = np.zeros((1, H))
    hs, cs = lstm_forward(x[n:n + 1, :t], zeros, zeros, Wx, Wh, b)
    h_before = hs[:, t - 2] if t >= 2 else zeros  # h_{t-2}, which set o_{t-1}
    o_prev = sigmoid((x[n:n + 1, t - 1] @ Wx + h_before @ Wh + b)[:, 3 * H:])
    xt, Wxt, Wht, bt, ot = (torch.tensor(np.asarray(a, dtype=np.float64))
                            for a in (x[n:n + 1, t], Wx, Wh, b, o_prev))

    def next_cell(c_prev):
        a = xt @ Wxt + (ot * torch.tanh(c_prev)) @ Wht + bt
        i, f = torch.sigmoid(a[:, :H]), torch.sigmoid(a[:, H:2 * H])
        return (f * c_prev + i * torch.tanh(a[:, 2 * H:3 * H]))[0]

    c_prev = torch.tensor(cs[:, t - 1].astype(np.float64))
    whole = torch.autograd.functional.jacobian(next_cell, c_prev)[:, 0].numpy()
    a_f = (x[n:n + 1, t] @ Wx + hs[:, t - 1] @ Wh + b)[0, H:2 * H]
    return {"whole": whole, "direct": np.diag(sigmoid(a_f))}


def to_torch_lstm(Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray):
    """A one-layer ``torch.nn.LSTM(batch_first=True)`` with these weights (the one converter).

    ``weight_ih = Wx.T (4H, D)``, ``weight_hh = Wh.T (4H, H)``, ``bias_ih = b``,
    ``bias_hh = 0``; torch stores the gates in the same order ``i, f, g, o``.
    """
    import torch

    from rnnlab.torch_bridge import load_weights

    sizes = check_arrays(Wx=(Wx, "D G"), Wh=(Wh, "H G"), b=(b, "G"))
    if sizes["G"] != 4 * sizes["H"]:
        raise ValueError(f"Wh has shape {Wh.shape}; expected (H, 4H) = "
                         f"({sizes['H']}, {4 * sizes['H']})")
    return load_weights(torch.nn.LSTM, sizes["D"], sizes["H"], Wx, Wh, b)


def truncation_bias(ks: Sequence[int], scale: float = 1.0, T: int = 60, H: int = 32,
                    N: int = 16, where: str = "last", seed: int = 0) -> dict:
    """How far the truncated gradient of ``Wh`` is from the full one, for each ``k``.

    A tanh RNN with ``Wh = scale * Q`` (``Q`` random orthogonal) reads ``N`` random
    sequences of ``T`` steps; the upstream gradient is random at the last step only
    (``where="last"``, a loss at the end, as in the adding problem) or at every step
    (``where="all"``, as in language modelling).

    Returns
    -------
    dict
        ``ks``; ``cosine`` and ``relative_error`` ``||dWh_k - dWh|| / ||dWh||`` per ``k``.
    """
    from rnnlab.reference import rnn_backward, rnn_forward
    from rnnlab.weights import orthogonal, xavier

    if where not in ("last", "all"):
        raise ValueError(f"where is {where!r}; expected 'last' or 'all'")
    rng = np.random.default_rng(seed)
    Wx, Wh = xavier(2, H, rng), orthogonal(H, rng, gain=scale)
    hs, cache = rnn_forward(rng.standard_normal((N, T, 2)), np.zeros((N, H)), Wx, Wh,
                            np.zeros(H))
    dhs = np.zeros_like(hs)
    if where == "last":
        dhs[:, -1] = rng.standard_normal((N, H))
    else:
        dhs = rng.standard_normal(hs.shape)
    full = rnn_backward(dhs, cache).dWh
    cosines, errors = [], []
    for k in ks:
        dWh = truncated_rnn_backward(dhs, cache, int(k)).dWh
        cosines.append(cosine([dWh], [full]))
        errors.append(float(np.linalg.norm(dWh - full) / np.linalg.norm(full)))
    return {"ks": np.asarray(ks), "cosine": np.array(cosines), "relative_error": np.array(errors)}


def clipping_cosines(grads: Sequence[np.ndarray], fractions: Sequence[float]) -> dict:
    """Cosine to the true gradient after norm clipping and after element-wise clipping.

    Each threshold is a fraction of the gradient's own scale: ``max_norm = f *
    global_norm(grads)`` for norm clipping and ``clip_value = f * max|g|`` for
    element-wise clipping.

    Returns
    -------
    dict
        ``fractions``, ``norm`` and ``value`` (cosines, one per fraction).
    """
    grads = _check_grads(grads)
    largest = max(float(np.abs(g).max()) for g in grads)
    total = global_norm(grads)
    norm = [cosine(clip_grad_norm(grads, f * total), grads) for f in fractions]
    value = [cosine(clip_grad_value(grads, f * largest), grads) for f in fractions]
    return {"fractions": np.asarray(fractions), "norm": np.array(norm), "value": np.array(value)}
