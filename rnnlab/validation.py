"""The one shape check of the course, for NumPy arrays and torch tensors alike.

Every public array function states its arguments' shapes as letters, for example
``x="N T D"``; :func:`check_arrays` (NumPy) and :func:`check_tensors` (torch) bind the
letters across arguments and raise an error that names the argument, what it got and
what was expected, for example ``h_prev has shape (4, 7); expected (N, H) = (4, 8)
(H = 8 from Wh)``. Torch is imported only when :func:`check_tensors` is called.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Dtype kinds a spec may ask for, and how an error message names them.
KINDS = {"f": "float32 or float64", "iu": "an integer dtype", "b": "dtype bool"}


def check_arrays(**specs: tuple) -> dict[str, int]:
    """Check NumPy arrays against named shapes and dtype kinds.

    Parameters
    ----------
    **specs
        ``name=(value, "N T D")`` or ``name=(value, "N T", kind)``. Each value must be an
        ``np.ndarray`` with one dimension per letter. A letter means the same size in
        every argument; a digit means that exact size; ``"..."`` allows any shape.
        ``kind`` is ``"f"`` (floating point, the default), ``"iu"`` (integer) or ``"b"``
        (bool). All floating-point arguments must share the first one's dtype.

    Returns
    -------
    dict
        The size bound to each letter, for example ``{"N": 4, "T": 5, "D": 3}``.

    Raises
    ------
    TypeError
        If a value is not a NumPy array, has the wrong dtype kind, or is floating point
        with a dtype that differs from the first floating-point argument's.
    ValueError
        If a value has the wrong number of dimensions or a size that disagrees with a
        digit or with an earlier argument.
    """
    return _check(specs, np.ndarray, "a numpy array", None)


def check_tensors(**specs: tuple) -> dict[str, int]:
    """:func:`check_arrays` for ``torch.Tensor`` values (same specs, same errors)."""
    import torch

    def kind(value: torch.Tensor) -> str:
        if value.dtype == torch.bool:
            return "b"
        if value.is_floating_point():
            return "f"
        if value.is_complex():
            return "c"
        return "i" if value.dtype.is_signed else "u"

    return _check(specs, torch.Tensor, "a torch.Tensor", kind)


def _check(specs: dict[str, tuple], kind_of_type: type, type_name: str,
           kind_of: Callable[[object], str] | None) -> dict[str, int]:
    """The checks of :func:`check_arrays` for values of type ``kind_of_type``; ``kind_of``
    gives a value's dtype kind (None: NumPy's ``dtype.kind``)."""
    sizes: dict[str, int] = {}
    origin: dict[str, str] = {}
    first: tuple[str, object] | None = None
    for name, spec in specs.items():
        value, dims = spec[0], spec[1]
        want_kind = spec[2] if len(spec) > 2 else "f"
        letters = dims.split()
        if not isinstance(value, kind_of_type):
            raise TypeError(f"{name} must be {type_name} of shape ({', '.join(letters)}); "
                            f"got {type(value).__name__}")
        if (value.dtype.kind if kind_of is None else kind_of(value)) not in want_kind:
            raise TypeError(f"{name} has dtype {value.dtype}; expected {KINDS[want_kind]}")
        if want_kind == "f":
            if first is None:
                first = (name, value.dtype)
            elif value.dtype != first[1]:
                raise TypeError(f"{name} has dtype {value.dtype}; expected {first[1]} "
                                f"like {first[0]}")
        if dims == "...":
            continue
        shape = tuple(value.shape)
        if len(shape) != len(letters):
            raise ValueError(f"{name} has shape {shape}; expected {len(letters)} "
                             f"dimensions ({', '.join(letters)})")
        for letter, size in zip(letters, shape):
            if letter.isdigit():
                expected = int(letter)
            else:
                expected = sizes.setdefault(letter, size)
                origin.setdefault(letter, name)
            if size != expected:
                want = tuple(int(c) if c.isdigit() else sizes.get(c, s)
                             for c, s in zip(letters, shape))
                source = ("" if letter.isdigit()
                          else f" ({letter} = {expected} from {origin[letter]})")
                raise ValueError(f"{name} has shape {shape}; expected "
                                 f"({', '.join(letters)}) = {want}{source}")
    return sizes


def check_positive(**sizes: int) -> None:
    """Raise ``ValueError`` naming the first size that is not a positive integer."""
    for name, size in sizes.items():
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 1:
            raise ValueError(f"{name} must be a positive integer; got {size!r}")
