"""The one converter between :mod:`rnnlab.reference` weights and ``torch.nn.RNN``.

``torch.nn.RNN`` computes ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``,
so ``W_ih = Wx.T``, ``W_hh = Wh.T`` and ``b_ih + b_hh = b``. Torch is imported only
when a converter is called, so ``import rnnlab`` stays light.
"""

from __future__ import annotations

import numpy as np

from rnnlab.validation import check_arrays
from rnnlab.weights import RNNWeights


def to_torch_rnn(Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray):
    """A one-layer ``torch.nn.RNN(tanh, batch_first=True)`` carrying these weights.

    Parameters
    ----------
    Wx : (D, H), Wh : (H, H), b : (H,) as in :func:`rnnlab.rnn_forward`.

    Returns
    -------
    torch.nn.RNN
        Same dtype as the arrays; ``bias_ih = b`` and ``bias_hh = 0``.
    """
    import torch

    sizes = check_arrays(Wx=(Wx, "D H"), Wh=(Wh, "H H"), b=(b, "H"))
    return load_weights(torch.nn.RNN, sizes["D"], sizes["H"], Wx, Wh, b, nonlinearity="tanh")


def load_weights(kind: type, D: int, H: int, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray,
                 b_h: np.ndarray | None = None, **options):
    """A one-layer ``kind(D, H, batch_first=True, **options)`` (``torch.nn.RNN``, ``LSTM``,
    ``GRU``), or a ``kind(D, H)`` cell (``torch.nn.GRUCell``...), of the arrays' dtype with
    ``weight_ih = Wx.T``, ``weight_hh = Wh.T``, ``bias_ih = b`` and ``bias_hh = b_h``
    (zero if not given); the callers check the shapes."""
    import torch

    dtype = torch.float64 if Wx.dtype == np.float64 else torch.float32
    cell = kind.__name__.endswith("Cell")
    module = kind(D, H, dtype=dtype, **options) if cell else kind(
        D, H, batch_first=True, dtype=dtype, **options)
    suffix = "" if cell else "_l0"
    values = {"weight_ih": Wx.T, "weight_hh": Wh.T, "bias_ih": b,
              "bias_hh": np.zeros_like(b) if b_h is None else b_h}
    with torch.no_grad():
        for name, value in values.items():
            getattr(module, name + suffix).copy_(torch.from_numpy(np.ascontiguousarray(value)))
    return module


def from_torch_rnn(rnn) -> RNNWeights:
    """The weights ``(Wx, Wh, b)`` of a one-layer, one-direction tanh ``torch.nn.RNN``."""
    import torch

    if not isinstance(rnn, torch.nn.RNN):
        raise TypeError(f"rnn must be a torch.nn.RNN; got {type(rnn).__name__}")
    if rnn.num_layers != 1 or rnn.bidirectional or rnn.nonlinearity != "tanh":
        raise ValueError("rnn must have one layer, one direction and tanh; got "
                         f"num_layers={rnn.num_layers}, bidirectional={rnn.bidirectional}, "
                         f"nonlinearity={rnn.nonlinearity!r}")
    with torch.no_grad():
        b = rnn.bias_ih_l0 + rnn.bias_hh_l0 if rnn.bias else torch.zeros(rnn.hidden_size)
        return RNNWeights(rnn.weight_ih_l0.T.numpy().copy(), rnn.weight_hh_l0.T.numpy().copy(),
                          b.numpy().copy())
