"""One table of the public entry points' parameters, and the small checker that reads it.

Every public estimator and function declares what each parameter accepts in
:data:`CONSTRAINTS` (as scikit-learn's ``_parameter_constraints`` do, one
dict per entry point) and calls :func:`validate` before any work. A bad value
raises :class:`~tabsynth.errors.ParameterError` naming the Python parameter
and the value (``rows=-1: give an integer of at least 0``); the command line
prints the same message with its option names (``--rows -1: ...``).

Rules between parameters (``rows`` and ``ratio`` exclusive, ``balance``
needing ``target``) are declared beside the constraints (:data:`EXCLUSIVE`,
:data:`REQUIRES`) and checked by the same function.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from .errors import ParameterError

__all__ = ["Interval", "Options", "CONSTRAINTS", "EXCLUSIVE", "REQUIRES", "validate", "describe"]


class Interval:
    """Numbers of one kind (``int`` or ``float``) between ``left`` and ``right`` (None: unbounded).

    ``closed``: "both", "left", "right" or "neither". Booleans are never numbers here.

    >>> Interval(int, 0, None).accepts(3), Interval(int, 0, None).accepts(-1), Interval(int, 0, None).accepts(2.0)
    (True, False, False)
    >>> str(Interval(float, 0, 1, closed="right"))
    'a number in (0, 1]'
    """

    def __init__(self, kind: type, left: float | None, right: float | None, *, closed: str = "both"):
        self.kind, self.left, self.right, self.closed = kind, left, right, closed

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return False
        abstract = numbers.Integral if self.kind is int else numbers.Real
        if not isinstance(value, abstract):
            return False
        if self.kind is float and not np.isfinite(value):
            return False
        low_open, high_open = self.closed in ("right", "neither"), self.closed in ("left", "neither")
        if self.left is not None and (value < self.left or (value == self.left and low_open)):
            return False
        return not (self.right is not None and (value > self.right or (value == self.right and high_open)))

    def __str__(self) -> str:
        what = "an integer" if self.kind is int else "a number"
        lo_in, hi_in = self.closed in ("both", "left"), self.closed in ("both", "right")
        if self.right is None and self.kind is int and self.left is not None:
            return f"{what} of at least {self.left + (0 if lo_in else 1):g}"
        if self.right is None:
            return f"{what} {'>=' if lo_in else '>'} {self.left:g}" if self.left is not None else what
        if self.left is None:
            return f"{what} {'<=' if hi_in else '<'} {self.right:g}"
        return f"{what} in {'[' if lo_in else '('}{self.left:g}, {self.right:g}{']' if hi_in else ')'}"


class Options:
    """One of a few strings."""

    def __init__(self, *values: str):
        self.values = values

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.values

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


class _Kind:
    """Values passing a test, with a description."""

    def __init__(self, text: str, test: Callable[[Any], bool]):
        self.text, self.test = text, test

    def accepts(self, value: Any) -> bool:
        return self.test(value)

    def __str__(self) -> str:
        return self.text


def _names(value: Any) -> bool:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        return False
    return all(isinstance(v, (str, numbers.Integral)) and not isinstance(v, bool) for v in value)


BOOL = _Kind("True or False", lambda v: isinstance(v, (bool, np.bool_)))
STR = _Kind("a string", lambda v: isinstance(v, str))
COLUMN = _Kind("a column name", lambda v: isinstance(v, (str, numbers.Integral)) and not isinstance(v, bool))
NAMES = _Kind("a list of column names", _names)
MAPPING = _Kind("a dict", lambda v: isinstance(v, Mapping))
SEED = Interval(int, 0, None)
#: ``random_state``: None, a seed, or a numpy Generator (used as it is)
RANDOM_STATE = [None, SEED, _Kind("a numpy.random.Generator", lambda v: isinstance(v, np.random.Generator))]
POSITIVE_INT = Interval(int, 1, None)
COUNT = Interval(int, 0, None)
MODELS = _Kind("a list of names (or one comma-separated string)",
               lambda v: isinstance(v, str) or (_names(v) and all(isinstance(m, str) for m in v)))

#: what each public entry point's parameters accept (a value passes when any listed constraint accepts it;
#: ``None`` in a list accepts None). Parameters not listed (tables, callbacks) are checked where they are read.
CONSTRAINTS: dict[str, dict[str, list[Any]]] = {
    "Synthesizer": {"backend": [STR], "random_state": RANDOM_STATE, "categorical": [None, NAMES],
                    "ignore": [None, NAMES], "target": [None, COLUMN], "given_columns": [None, NAMES], "rules": [BOOL],
                    "verbose": [BOOL]},
    "Synthesizer.sample": {"n": [COUNT], "seed": RANDOM_STATE, "start": [COUNT]},
    "Synthesizer.impute": {"seed": RANDOM_STATE},
    "Synthesizer.sample_batches": {"n": [COUNT], "start": [COUNT], "seed": RANDOM_STATE,
                                   "batch_size": [POSITIVE_INT]},
    "Synthesizer.fit_dataset": {"fit_rows": [Interval(int, 2, None)], "passes": [COUNT]},
    "GenerativeImputer": {"backend": [STR], "n_draws": [POSITIVE_INT],
                          "strategy": [Options("refine", "mean", "sample")],
                          "add_indicator": [BOOL], "random_state": RANDOM_STATE, "categorical": [None, NAMES],
                          "ignore": [None, NAMES], "backend_params": [None, MAPPING], "fill_structural": [BOOL],
                          "verbose": [BOOL]},
    "GenerativeImputer.sample_imputations": {"m": [Interval(int, 2, None)], "random_state": RANDOM_STATE},
    "GenerativeOverSampler": {"backend": [STR],
                              "sampling_strategy": [Options("auto", "minority", "not majority", "all"),
                                                    Interval(float, 0, 1, closed="right"), MAPPING],
                              "random_state": RANDOM_STATE, "categorical": [None, NAMES],
                              "backend_params": [None, MAPPING], "verbose": [BOOL]},
    "augment": {"rows": [None, COUNT], "ratio": [None, Interval(float, 0, None)],
                "synthetic_only": [BOOL], "target": [None, COLUMN], "balance": [BOOL],
                "class_ratio": [None, Interval(float, 0, 1, closed="right")], "given": [None, MAPPING],
                "check": [BOOL], "check_models": [None, MODELS],
                "tolerance": [Interval(float, 0, None)], "backend": [STR], "seed": [None, SEED],
                "categorical": [None, NAMES], "ignore": [None, NAMES], "verbose": [BOOL]},
    "evaluate": {"target": [None, COLUMN], "task": [None, Options("classification", "regression")],
                 "models": [None, MODELS], "random_state": [Interval(int, None, None)],
                 "max_rows": [None, Interval(int, 100, None)],
                 "max_train_rows": [None, MAPPING], "n_jobs": [None, Interval(int, None, None)]},
    "DatabaseSynthesizer": {"relations": [None, MODELS], "backend": [STR], "keep": [None, NAMES],
                            "random_state": [None, SEED]},
    "DatabaseSynthesizer.sample": {"scale": [Interval(float, 0, None, closed="neither")], "seed": [None, SEED]},
    "DatabaseSynthesizer.sample_batches": {"scale": [Interval(float, 0, None, closed="neither")],
                                           "seed": [None, SEED], "batch_rows": [POSITIVE_INT]},
    "SequenceSynthesizer": {"order": [None, COLUMN], "backend": [STR], "random_state": [None, SEED]},
    "SequenceSynthesizer.sample": {"n_entities": [None, COUNT], "seed": [None, SEED]},
}

#: pairs of parameters of an entry point that cannot both be given (not None, not False)
EXCLUSIVE: dict[str, list[tuple[str, str, str]]] = {
    "augment": [("rows", "ratio", "give one of them"),
                ("balance", "class_ratio", "{balance} is {class_ratio} 1"),
                ("balance", "rows", "{balance} decides the number of rows"),
                ("balance", "ratio", "{balance} decides the number of rows"),
                ("class_ratio", "rows", "{class_ratio} decides the number of rows"),
                ("class_ratio", "ratio", "{class_ratio} decides the number of rows")],
}

#: (parameter, the parameter it needs): given the first (not None, not False), the second must be given too
REQUIRES: dict[str, list[tuple[str, str, str]]] = {
    "augment": [("check", "target", "the gate compares models that predict it"),
                ("balance", "target", "the class column to balance"),
                ("class_ratio", "target", "the class column to balance")],
}


def _given(value: Any) -> bool:
    return value is not None and value is not False


def describe(allowed: list[Any]) -> str:
    """What a constraint list accepts, in words (None, meaning "not given", is left unsaid).

    >>> describe([None, Interval(int, 0, None)])
    'an integer of at least 0'
    """
    return " or ".join(str(c) for c in allowed if c is not None)


def validate(entry: str, params: Mapping[str, Any]) -> None:
    """Check ``params`` of entry point ``entry`` against :data:`CONSTRAINTS` (and the rules between them).

    Parameters
    ----------
    entry : str
        A key of :data:`CONSTRAINTS` (``"augment"``, ``"Synthesizer"``, ...).
    params : mapping
        Parameter name -> value; names without a constraint are not checked.

    Raises
    ------
    tabsynth.errors.ParameterError
        The first bad value, or the first broken rule between two parameters.

    Examples
    --------
    >>> validate("augment", {"rows": 10})
    >>> validate("augment", {"rows": -1})
    Traceback (most recent call last):
    ...
    tabsynth.errors.ParameterError: rows=-1: give an integer of at least 0
    >>> validate("augment", {"rows": 5, "ratio": 0.5})
    Traceback (most recent call last):
    ...
    tabsynth.errors.ParameterError: rows and ratio are exclusive; give one of them
    """
    for name, allowed in CONSTRAINTS[entry].items():
        if name not in params:
            continue
        value = params[name]
        if value is None and None in allowed:
            continue
        if not any(c is not None and c.accepts(value) for c in allowed):
            raise ParameterError(f"{{{name}=}}: give {describe(allowed)}", {name: value})
    for a, b, why in EXCLUSIVE.get(entry, []):
        if _given(params.get(a)) and _given(params.get(b)):
            raise ParameterError(f"{{{a}}} and {{{b}}} are exclusive; {why}", {a: params[a], b: params[b]})
    for a, b, why in REQUIRES.get(entry, []):
        if _given(params.get(a)) and not _given(params.get(b)):
            raise ParameterError(f"{{{a}}} needs {{{b}}}: {why}", {a: params[a], b: params.get(b)})
