"""The backend protocol. No torch here.

A backend is a small class with plain keyword parameters. It never sees a
DataFrame, a file or a column name: only :class:`~tabsynth.encoding.Encoded`
blocks and their :class:`~tabsynth.encoding.Layout`.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Protocol, runtime_checkable

import numpy as np

from ..encoding import Encoded
from ..errors import InputError

#: progress(stage, done, total): called by backends during long work.
Progress = Callable[[str, int, int], None]


@runtime_checkable
class Generator(Protocol):
    """What every backend implements.

    ``fit`` learns the joint distribution of a fully observed encoded table.
    ``sample(n)`` draws ``n`` new rows. ``sample(n, given=enc)`` returns
    ``enc`` with every unobserved cell (``mask_* == False``) drawn from the
    conditional distribution given the row's observed cells; observed cells
    are returned unchanged. With ``given.exclude_missing`` the missing code
    of a categorical column is never drawn.
    """

    def fit(self, data: Encoded, *, rng: np.random.Generator, progress: Progress | None = None) -> "Generator": ...

    def sample(self, n: int, *, given: Encoded | None = None, rng: np.random.Generator) -> Encoded: ...

    def get_state(self) -> tuple[dict, dict[str, np.ndarray]]: ...


class BackendBase:
    """Shared plumbing: parameters (scikit-learn style) and saving."""

    name: str = ""
    #: the oldest model-file format that reads this backend's state
    format_version: int = 1
    #: times ``Synthesizer.fit`` redraws the filler cells of missing numbers from the
    #: fitted model and refits; worth it for backends that fit fast
    filler_refits: int = 0
    #: parameters for a model whose rows are drawn alone or given its first-in-chain ``given_columns`` only (a
    #: database's tables, a sequence's steps): work that serves only other conditional draws is left out
    given_only: dict[str, Any] = {}

    @classmethod
    def param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        return [p.name for p in sig.parameters.values() if p.name != "self" and p.kind in kinds]

    def refit_params(self) -> dict[str, Any]:
        """Parameters to keep fixed when the model is refitted on refined data (e.g. a chosen size)."""
        return {}

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.param_names()}

    def set_params(self, **params: Any) -> "BackendBase":
        for k, v in params.items():
            if k not in self.param_names():
                raise ValueError(k)
            setattr(self, k, v)
        return self

    def get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        raise NotImplementedError

    @classmethod
    def from_state(cls, params: dict, meta: dict, arrays: dict[str, np.ndarray]) -> "BackendBase":
        raise NotImplementedError


def check_given(given: Encoded | None, n: int) -> None:
    if given is not None and given.n != n:
        raise ValueError(f"given has {given.n} rows but n={n}")


_RULES = {
    "pos_int": ("a positive integer", lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1),
    "nonneg_int": ("a non-negative integer", lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0),
    "pos_float": ("a positive number", lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and v > 0),
    "nonneg_float": ("a non-negative number", lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and v >= 0),
    "bool": ("true or false", lambda v: isinstance(v, (bool, np.bool_))),
    "fraction": ("a number from 0 to 1", lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and 0 <= v <= 1),
    "upto2": ("a number from 0 to 2", lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and 0 <= v <= 2),
    "none_or_nonneg_int": ("a non-negative integer or null",
                           lambda v: v is None or _RULES["nonneg_int"][1](v)),
    "auto_or_pos_int": ("a positive integer or 'auto'", lambda v: v == "auto" or _RULES["pos_int"][1](v)),
    "auto_or_nonneg_float": ("a non-negative number or 'auto'",
                             lambda v: (isinstance(v, str) and v == "auto") or _RULES["nonneg_float"][1](v)),
    "widths": ("'auto' or a list of positive integers, e.g. [256,256]",
               lambda v: (isinstance(v, str) and v == "auto")
               or (isinstance(v, (list, tuple)) and len(v) > 0 and all(_RULES["pos_int"][1](h) for h in v))),
}


def check_params(backend: BackendBase, rules: dict[str, str]) -> None:
    """Raise a one-line :class:`~tabsynth.errors.InputError` for a parameter outside its rule."""
    for name, rule in rules.items():
        what, ok = _RULES[rule]
        value = getattr(backend, name)
        if not ok(value):
            raise InputError(f"backend {backend.name!r}: parameter {name}={value!r} should be {what} (--param {name}=...)")
