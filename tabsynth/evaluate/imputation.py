"""Imputation benchmarks' protocol: remove cells, impute, score the removed cells.

* :func:`make_missing` removes a share of cells completely at random
  (``"mcar"``), at random given other columns (``"mar"``) or depending on the
  removed values themselves (``"mnar"``), following the logistic masking
  conventions of Muzellec et al. (2020, "Missing data imputation using
  optimal transport"):

  - MAR: a share ``p_obs`` (30%) of the numeric columns is never masked;
    every other column is masked with probability
    ``sigmoid(X_obs @ w + b)``, ``w`` random, ``X_obs`` the standardised
    always-observed columns, ``b`` set by bisection so the column's expected
    missing rate is ``rate``;
  - MNAR: the same logistic model with *all* numeric columns as inputs (a
    cell's chance to be missing depends on its own value), each column's
    own weight included.

  Non-numeric columns are masked with the same logistic scores of the
  numeric inputs (MAR / MNAR) or at random (MCAR).
* :func:`imputation_scores` gives the GAIN protocol's RMSE over removed
  numeric cells after min-max normalisation with the complete data's range,
  and the accuracy over removed categorical cells.

Works on DataFrames only.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import expit

Mechanism = Literal["mcar", "mar", "mnar"]


def _numeric(df: pd.DataFrame) -> list:
    return [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]


def _standardised(df: pd.DataFrame, cols: list) -> np.ndarray:
    x = df[cols].to_numpy(dtype="float64", na_value=np.nan)
    mu, sd = np.nanmean(x, axis=0), np.nanstd(x, axis=0)
    x = (x - mu) / np.where(sd > 0, sd, 1.0)
    return np.nan_to_num(x)


def _intercept(scores: np.ndarray, rate: float) -> float:
    """``b`` with ``mean(sigmoid(scores + b)) == rate`` (bisection)."""
    lo, hi = -50.0, 50.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if expit(scores + mid).mean() > rate:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def make_missing(
    df: pd.DataFrame, rate: float = 0.2, mechanism: Mechanism = "mcar", seed: int = 0, p_obs: float = 0.3
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Remove cells of ``df``.

    Parameters
    ----------
    df : pandas.DataFrame
        A complete table (cells already missing stay missing and are not
        counted as removed).
    rate : float, default 0.2
        Expected share of removed cells (of the maskable columns).
    mechanism : {"mcar", "mar", "mnar"}
    seed : int, default 0
    p_obs : float, default 0.3
        MAR: share of numeric columns never masked.

    Returns
    -------
    (table with removed cells, boolean mask DataFrame: True where removed)

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": range(1000), "b": [1.0] * 1000})
    >>> holes, mask = make_missing(df, 0.2, "mcar", seed=0)
    >>> round(float(mask.to_numpy().mean()), 1)
    0.2
    """
    if not 0 < rate < 1:
        raise ValueError(f"rate={rate!r}: should be between 0 and 1")
    if mechanism not in ("mcar", "mar", "mnar"):
        raise ValueError(f"mechanism={mechanism!r}: use 'mcar', 'mar' or 'mnar'")
    rng = np.random.default_rng(seed)
    n, cols = len(df), list(df.columns)
    mask = np.zeros((n, len(cols)), dtype=bool)
    num = _numeric(df)
    if mechanism == "mcar" or not num:
        mask = rng.random((n, len(cols))) < rate
    else:
        if mechanism == "mar":
            k = max(1, int(round(p_obs * len(num))))
            inputs = list(rng.choice(len(num), size=k, replace=False))
            keep = {num[i] for i in inputs}
            x = _standardised(df, [num[i] for i in inputs])
        else:
            keep = set()
            x = _standardised(df, num)
        for j, c in enumerate(cols):
            if c in keep:
                continue
            w = rng.normal(size=x.shape[1])
            s = x @ w
            s = s / (s.std() or 1.0)  # comparable steepness across columns
            b = _intercept(s, rate)
            mask[:, j] = rng.random(n) < expit(s + b)
    mask &= df.notna().to_numpy()
    mask_df = pd.DataFrame(mask, index=df.index, columns=df.columns)
    out = df.copy()
    for j, c in enumerate(cols):
        if mask[:, j].any():
            col = out[c]
            if pd.api.types.is_integer_dtype(col.dtype) and not pd.api.types.is_extension_array_dtype(col.dtype):
                col = col.astype("float64")
            elif pd.api.types.is_bool_dtype(col.dtype) and not pd.api.types.is_extension_array_dtype(col.dtype):
                col = col.astype("boolean")
            out[c] = col.mask(mask[:, j])
    return out, mask_df


def imputation_scores(complete: pd.DataFrame, imputed: pd.DataFrame, mask: pd.DataFrame) -> dict:
    """Score imputed cells against the truth, over removed cells only.

    Parameters
    ----------
    complete : pandas.DataFrame
        The table before cells were removed (the truth).
    imputed : pandas.DataFrame
        The table after imputation.
    mask : pandas.DataFrame
        True where a cell was removed.

    Returns
    -------
    dict
        ``rmse``: root mean squared error over all removed numeric cells,
        each column min-max normalised with ``complete``'s range (GAIN
        protocol); ``accuracy``: share of removed non-numeric cells filled
        with the true value; ``cells``: removed cells; per-column
        figures under ``columns``; ``unfilled``: removed cells still missing
        in ``imputed`` (scored as wrong / excluded from RMSE).
    """
    num = set(_numeric(complete))
    sq, n_num, hits, n_cat, unfilled, cells = 0.0, 0, 0, 0, 0, 0
    columns = {}
    for c in complete.columns:
        m = mask[c].to_numpy()
        if not m.any():
            continue
        truth, guess = complete[c][m], imputed[c][m]
        missing = guess.isna().to_numpy()
        unfilled += int(missing.sum())
        cells += int(m.sum())
        if c in num:
            t = truth.to_numpy(dtype="float64")
            g = guess.to_numpy(dtype="float64", na_value=np.nan)
            lo, hi = complete[c].min(), complete[c].max()
            span = float(hi - lo) or 1.0
            err = ((g - t) / span)[~missing]
            sq += float((err**2).sum())
            n_num += len(err)
            columns[str(c)] = {"rmse": float(np.sqrt((err**2).mean())) if len(err) else None, "cells": int(m.sum())}
        else:
            g = guess.astype(object).to_numpy().copy()
            g[missing] = None  # pd.NA would make the comparison ambiguous
            ok = np.array([a == b for a, b in zip(truth.astype(object).to_numpy(), g)], dtype=bool) & ~missing
            hits += int(ok.sum())
            n_cat += int(m.sum())
            columns[str(c)] = {"accuracy": float(ok.mean()), "cells": int(m.sum())}
    return {
        "rmse": float(np.sqrt(sq / n_num)) if n_num else None,
        "accuracy": hits / n_cat if n_cat else None,
        "cells": cells,
        "unfilled": unfilled,
        "columns": columns,
    }
