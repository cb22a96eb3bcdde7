"""Optimisers for NumPy parameters: Adagrad, SGD with momentum and Adam.

Parameters, gradients and optimiser state are dicts or NamedTuples of arrays with the
same keys (for example :class:`rnnlab.charmodel.CharParams`). Each step updates the
parameter and state arrays in place, as ``torch.optim`` does, and returns nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def _items(name: str, group: object) -> dict[str, object]:
    if isinstance(group, Mapping):
        return dict(group)
    if isinstance(group, tuple) and hasattr(group, "_fields"):
        return group._asdict()
    raise TypeError(f"{name} must be a dict or a NamedTuple of arrays; got {type(group).__name__}")


def _zip(params: object, **others: object) -> list[tuple]:
    """``[(key, param, *others[key])]`` after checking keys, types, shapes and dtypes."""
    groups = {"params": _items("params", params)}
    groups.update((name, _items(name, group)) for name, group in others.items())
    keys = list(groups["params"])
    for name, group in groups.items():
        if sorted(group) != sorted(keys):
            raise ValueError(f"{name} has keys {sorted(group)}; expected {sorted(keys)} "
                             "like params")
    rows = []
    for key in keys:
        row = []
        for name, group in groups.items():
            value = group[key]
            if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
                raise TypeError(f"{name}[{key!r}] must be a floating-point numpy array; "
                                f"got {type(value).__name__}")
            want = groups["params"][key].shape
            if value.shape != want:
                raise ValueError(f"{name}[{key!r}] has shape {value.shape}; expected {want} "
                                 f"like params[{key!r}]")
            row.append(value)
        rows.append((key, *row))
    return rows


def adagrad_step(params: object, grads: object, memory: object, lr: float,
                 eps: float = 1e-8) -> None:
    """One Adagrad step, in place on ``params`` and ``memory``.

    Parameters
    ----------
    params : dict or NamedTuple of float arrays, updated in place.
    grads : the gradients, same keys and shapes; not modified.
    memory : the running sums of squared gradients, same keys and shapes (start from
        zeros); updated in place.
    lr : learning rate.
    eps : added to the square root, for arrays whose gradients have been zero.

    Notes
    -----
    For every array: ``memory += grad**2`` then
    ``param -= lr * grad / (sqrt(memory) + eps)``.
    This is ``torch.optim.Adagrad`` with ``lr_decay=0``, ``weight_decay=0`` and
    ``initial_accumulator_value=0`` (torch's default ``eps`` is 1e-10; it is added outside
    the square root, as here). Karpathy's min-char-rnn adds it inside,
    ``sqrt(memory + eps)``, which differs only while ``memory`` is tiny.
    """
    for _, param, grad, mem in _zip(params, grads=grads, memory=memory):
        mem += grad * grad
        param -= lr * grad / (np.sqrt(mem) + eps)


def sgd_momentum_step(params: object, grads: object, velocity: object, lr: float,
                      momentum: float = 0.9) -> None:
    """One step of SGD with (heavy-ball) momentum, in place on ``params`` and ``velocity``.

    Parameters
    ----------
    params : dict or NamedTuple of float arrays, updated in place.
    grads : the gradients, same keys and shapes; not modified.
    velocity : the velocities, same keys and shapes (start from zeros); updated in place.
    lr : learning rate.
    momentum : how much of the previous velocity is kept, in ``[0, 1)``.

    Notes
    -----
    For every array: ``velocity = momentum * velocity + grad`` then
    ``param -= lr * velocity``. This is ``torch.optim.SGD(momentum=momentum)`` with
    ``dampening=0``, ``nesterov=False``, ``weight_decay=0`` (torch's first step sets the
    velocity to the gradient, which is the same thing when it starts from zeros).
    """
    for _, param, grad, vel in _zip(params, grads=grads, velocity=velocity):
        vel *= momentum
        vel += grad
        param -= lr * vel


def adam_step(params: object, grads: object, first: object, second: object, step: int,
              lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
              eps: float = 1e-8) -> None:
    """One Adam step (Kingma and Ba 2015), in place on ``params``, ``first`` and ``second``.

    Parameters
    ----------
    params : dict or NamedTuple of float arrays, updated in place.
    grads : the gradients, same keys and shapes; not modified.
    first, second : running means of the gradients and of their squares, same keys and
        shapes (start from zeros); updated in place.
    step : how many steps came before this one (0 for the first).

    Notes
    -----
    ``first = b1 first + (1 - b1) grad``, ``second = b2 second + (1 - b2) grad**2``, then
    ``param -= lr * (first / (1 - b1**(step+1))) / (sqrt(second / (1 - b2**(step+1))) + eps)``,
    which is ``torch.optim.Adam`` without weight decay.
    """
    b1, b2 = betas
    for _, param, grad, m, v in _zip(params, grads=grads, first=first, second=second):
        m *= b1
        m += (1 - b1) * grad
        v *= b2
        v += (1 - b2) * grad * grad
        param -= lr * (m / (1 - b1 ** (step + 1))) / (np.sqrt(v / (1 - b2 ** (step + 1))) + eps)
