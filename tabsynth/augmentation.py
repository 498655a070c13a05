"""Augmentation: the real rows followed by synthetic rows from one fitted model."""

from __future__ import annotations

from typing import Any, Iterable

import pandas as pd

from .backends.base import Progress
from .errors import InputError
from .schema import check_table
from .synthesizer import Synthesizer


def n_synthetic_rows(n_real: int, rows: int | None = None, ratio: float | None = None) -> int:
    """How many synthetic rows ``rows`` / ``ratio`` ask for (default: ratio 1.0)."""
    if rows is not None and ratio is not None:
        raise InputError("--rows and --ratio are exclusive; give one of them")
    if rows is not None:
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise InputError(f"--rows must be a non-negative integer, got {rows!r}")
        return rows
    ratio = 1.0 if ratio is None else ratio
    if not ratio >= 0:
        raise InputError(f"--ratio must be a non-negative number, got {ratio!r}")
    return int(round(n_real * ratio))


def augment(
    df: pd.DataFrame,
    *,
    rows: int | None = None,
    ratio: float | None = None,
    synthetic_only: bool = False,
    backend: str = "gmm",
    seed: int | None = None,
    categorical: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    verbose: bool = False,
    progress: Progress | None = None,
    model: Synthesizer | None = None,
    **backend_params: Any,
) -> pd.DataFrame:
    """Return ``df`` followed by synthetic rows that follow its joint distribution.

    Parameters
    ----------
    df : pandas.DataFrame
        The real table.
    rows : int, optional
        Number of synthetic rows. Exclusive with ``ratio``.
    ratio : float, optional
        Synthetic rows as a multiple of ``len(df)``; default 1.0.
    synthetic_only : bool, default False
        Return only the synthetic rows.
    backend : str, default "gmm"
    seed : int, optional
        Seed for fitting and sampling: same seed, same data => same output.
    categorical, ignore : list of str, optional
        Schema overrides (see :class:`~tabsynth.Synthesizer`).
    model : Synthesizer, optional
        An already fitted model to sample from instead of fitting one.
    **backend_params
        Backend parameters.

    Returns
    -------
    pandas.DataFrame
        Same columns, order and dtypes as ``df``; a fresh ``RangeIndex``
        (real rows first, unchanged and in order).

    Examples
    --------
    >>> import pandas as pd
    >>> from tabsynth import augment
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 5, "y": list("abba") * 5})
    >>> out = augment(df, ratio=0.5, seed=0)
    >>> len(out), out.iloc[:20].equals(df)
    (30, True)
    """
    check_table(df)
    n_new = n_synthetic_rows(len(df), rows, ratio)
    if model is None:
        model = Synthesizer(backend, random_state=seed, categorical=categorical, ignore=ignore, verbose=verbose,
                            **backend_params)
        model.fit(df, progress=progress)
    synthetic = model.sample(n_new, seed=seed)
    if synthetic_only:
        return synthetic
    real = df.reset_index(drop=True)
    if n_new == 0:
        return real
    out = pd.concat([real, synthetic], ignore_index=True)
    # concat can widen dtypes (e.g. categories); give back the input's
    for col in df.columns:
        if out[col].dtype != df[col].dtype:
            try:
                out[col] = out[col].astype(df[col].dtype)
            except (TypeError, ValueError):
                pass
    return out
