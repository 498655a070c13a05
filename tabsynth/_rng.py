"""The one place random state is turned into generators. Global RNGs are never touched."""

from __future__ import annotations

import secrets
from typing import Union

import numpy as np

from .errors import InputError

RandomState = Union[None, int, np.random.Generator]  # noqa: UP007 (a runtime alias, also for Python 3.10)


def make_rng(seed: RandomState) -> np.random.Generator:
    """A :class:`numpy.random.Generator` from ``None``, an int or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0):
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.default_rng(seed)


def fresh_seed(seed: int | None = None) -> int:
    """The seed a run uses: ``seed`` as given, or a fresh one (32 bits, reported so the run can be repeated).

    >>> fresh_seed(7)
    7
    >>> 0 <= fresh_seed() < 2**32
    True
    """
    return int(seed) if seed is not None else secrets.randbits(32)


def draw_seed(rng: np.random.Generator) -> int:
    """A non-negative int seed drawn from ``rng`` (to seed a stream of its own)."""
    return int(rng.integers(0, 2**63 - 1))

