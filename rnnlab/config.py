"""Fast mode, decided in one place.

Notebooks train less when nbgrader runs them (it sets ``NBGRADER_EXECUTION`` while
validating or autograding) or when ``RNNLAB_FAST=1``. They ask :func:`steps` how long
to train instead of reading the environment themselves.
"""

from __future__ import annotations

import os


def fast_mode() -> bool:
    """True under nbgrader (``NBGRADER_EXECUTION`` set) or when ``RNNLAB_FAST=1``."""
    return bool(os.environ.get("NBGRADER_EXECUTION")) or os.environ.get("RNNLAB_FAST") == "1"


def steps(full: int, fast: int) -> int:
    """How many steps (iterations, epochs, seeds) to run: ``fast`` in fast mode, else ``full``."""
    if not 0 < fast <= full:
        raise ValueError(f"expected 0 < fast <= full; got fast={fast}, full={full}")
    return fast if fast_mode() else full
