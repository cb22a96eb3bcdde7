"""Choose the RNN implementation by name, without changing any call site.

>>> rnn = get_backend("numba")
>>> hs, cache = rnn.rnn_forward(x, h0, Wx, Wh, b)
>>> dx, dh0, dWx, dWh, db = rnn.rnn_backward(dhs, cache)

Both backends take and return the same arrays and share the cache type, so they are
interchangeable (see :mod:`rnnlab.reference` and :mod:`rnnlab.kernels`).
"""

from __future__ import annotations

import importlib
from types import ModuleType

BACKENDS = {"numpy": "rnnlab.reference", "numba": "rnnlab.kernels"}


def get_backend(name: str) -> ModuleType:
    """The module implementing ``rnn_forward`` and ``rnn_backward`` for a backend.

    Parameters
    ----------
    name : ``"numpy"`` (the reference, :mod:`rnnlab.reference`) or ``"numba"`` (the
        compiled kernel, :mod:`rnnlab.kernels`, imported only when first asked for).

    Returns
    -------
    module
        It has ``rnn_forward(x, h0, Wx, Wh, b) -> (hs, cache)`` and
        ``rnn_backward(dhs, cache) -> (dx, dh0, dWx, dWh, db)``.

    Raises
    ------
    ValueError
        If ``name`` is not one of the backends.
    """
    if name not in BACKENDS:
        raise ValueError(f"backend is {name!r}; expected one of {sorted(BACKENDS)}")
    return importlib.import_module(BACKENDS[name])
