"""Weight initialisers for the NumPy RNN, in the layout of :mod:`rnnlab.reference`."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnnlab.validation import check_positive


class RNNWeights(NamedTuple):
    """The weights of a vanilla RNN: ``Wx (D, H)``, ``Wh (H, H)``, ``b (H,)``."""

    Wx: np.ndarray
    Wh: np.ndarray
    b: np.ndarray


def xavier(n_in: int, n_out: int, rng: np.random.Generator,
           dtype: type = np.float64) -> np.ndarray:
    """Glorot-uniform ``(n_in, n_out)`` matrix: ``U(-a, a)``, ``a = sqrt(6 / (n_in + n_out))``."""
    check_positive(n_in=n_in, n_out=n_out)
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_in, n_out)).astype(dtype)


def orthogonal(n: int, rng: np.random.Generator, gain: float = 1.0,
               dtype: type = np.float64) -> np.ndarray:
    """A random ``(n, n)`` orthogonal matrix times ``gain``: every singular value is ``gain``."""
    check_positive(n=n)
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return (gain * q * np.sign(np.diag(r))).astype(dtype)


def init_rnn(D: int, H: int, rng: np.random.Generator, recurrent: str = "orthogonal",
             gain: float = 1.0, dtype: type = np.float64) -> RNNWeights:
    """Initial weights for :func:`rnnlab.rnn_forward`.

    Parameters
    ----------
    D, H : input and hidden sizes.
    rng : the random generator (seed it in the notebook, not here).
    recurrent : how to draw ``Wh``: ``"orthogonal"`` (singular values all ``gain``),
        ``"xavier"``, or ``"identity"`` (``gain * I``, the IRNN of Le et al. 2015).
    gain : scale of ``Wh``.

    Returns
    -------
    RNNWeights
        ``Wx (D, H)`` Glorot-uniform, ``Wh (H, H)`` as asked, ``b (H,)`` zeros.
    """
    check_positive(D=D, H=H)
    makers = {
        "orthogonal": lambda: orthogonal(H, rng, gain, dtype),
        "xavier": lambda: gain * xavier(H, H, rng, dtype),
        "identity": lambda: gain * np.eye(H, dtype=dtype),
    }
    if recurrent not in makers:
        raise ValueError(f"recurrent is {recurrent!r}; expected one of {sorted(makers)}")
    return RNNWeights(xavier(D, H, rng, dtype), makers[recurrent](), np.zeros(H, dtype=dtype))
