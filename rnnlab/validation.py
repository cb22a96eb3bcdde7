"""Input checking shared by the NumPy reference and the Numba kernel.

Every public array function states its arguments' shapes as letters, for example
``x="N T D"``; :func:`check_arrays` binds the letters across arguments and raises an
error that names the argument, what it got and what was expected.
"""

from __future__ import annotations

import numpy as np


def check_arrays(**specs: tuple[object, str]) -> dict[str, int]:
    """Check floating-point arrays against named shapes and one common dtype.

    Parameters
    ----------
    **specs
        ``name=(value, "N T D")``: each value must be a floating-point ``np.ndarray``
        with one dimension per letter. A letter means the same size everywhere; a
        digit means that exact size.

    Returns
    -------
    dict
        The size bound to each letter, for example ``{"N": 4, "T": 5, "D": 3}``.

    Raises
    ------
    TypeError
        If a value is not a NumPy array, is not floating point, or its dtype differs
        from the first argument's.
    ValueError
        If a value has the wrong number of dimensions or a size that disagrees with
        an earlier argument.
    """
    sizes: dict[str, int] = {}
    origin: dict[str, str] = {}
    first: tuple[str, np.dtype] | None = None
    for name, (value, dims) in specs.items():
        letters = dims.split()
        if not isinstance(value, np.ndarray):
            raise TypeError(f"{name} must be a numpy array of shape ({', '.join(letters)}); "
                            f"got {type(value).__name__}")
        if value.dtype.kind != "f":
            raise TypeError(f"{name} has dtype {value.dtype}; expected float32 or float64")
        if first is None:
            first = (name, value.dtype)
        elif value.dtype != first[1]:
            raise TypeError(f"{name} has dtype {value.dtype}; expected {first[1]} "
                            f"like {first[0]}")
        if value.ndim != len(letters):
            raise ValueError(f"{name} has shape {value.shape}; expected {len(letters)} "
                             f"dimensions ({', '.join(letters)})")
        for letter, size in zip(letters, value.shape):
            if letter.isdigit():
                expected = int(letter)
            else:
                expected = sizes.setdefault(letter, size)
                origin.setdefault(letter, name)
            if size != expected:
                want = tuple(int(c) if c.isdigit() else sizes.get(c, s)
                             for c, s in zip(letters, value.shape))
                source = ("" if letter.isdigit()
                          else f" ({letter} = {expected} from {origin[letter]})")
                raise ValueError(f"{name} has shape {value.shape}; expected "
                                 f"({', '.join(letters)}) = {want}{source}")
    return sizes


def check_labels(name: str, value: object, shape: tuple[int, ...], kind: str = "iu") -> None:
    """Check an integer (``kind="iu"``) or boolean (``kind="b"``) array's dtype and shape."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of shape {shape}; "
                        f"got {type(value).__name__}")
    if value.dtype.kind not in kind:
        expected = "an integer dtype" if kind == "iu" else "dtype bool"
        raise TypeError(f"{name} has dtype {value.dtype}; expected {expected}")
    if value.shape != shape:
        raise ValueError(f"{name} has shape {value.shape}; expected {shape}")


def check_positive(**sizes: int) -> None:
    """Raise ``ValueError`` naming the first size that is not a positive integer."""
    for name, size in sizes.items():
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 1:
            raise ValueError(f"{name} must be a positive integer; got {size!r}")
