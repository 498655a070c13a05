"""Fidelity: how close the synthetic table's distributions are to the real one's.

Conventions follow SDMetrics' QualityReport (all pairs contribute, as in
SDMetrics < 0.2x and in the DESIGN.md protocol):

* column shapes: ``1 - KS`` statistic on observed values for numeric and
  datetime columns, ``1 - TVD`` of category frequencies for categorical
  columns (missing values are a category of their own here; SDMetrics drops
  them, so the two differ by at most the difference in missing shares);
* pair trends: for two numeric/datetime columns ``1 - |r_real - r_syn| / 2``
  (Pearson r on rows where both are observed); for any other pair
  ``1 - TVD`` of the two-way contingency tables, numeric columns cut into 10
  equal-width bins over the real column's observed range (the outer bins are
  open, so synthetic values outside the range fall in them; missing values
  get a bin of their own);
* validity: share of synthetic values inside the real range (numeric,
  datetime) or among the real categories (categorical), and the difference
  in missing shares, per column.

Tables larger than ``max_rows`` are subsampled (seeded) for shapes and pairs;
validity uses every row.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ._columns import (
    CATEGORICAL,
    DATETIME,
    MISSING,
    NUMERIC,
    check_same_columns,
    check_table,
    check_types,
    column_kinds,
    encode_pair,
    to_float,
    to_keys,
)

__all__ = ["column_shapes", "pair_trends", "validity", "fidelity", "ks_statistic", "tvd"]


# ------------------------------------------------------------------ helpers
def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic (max distance between the empirical CDFs).

    NaN values are ignored. Returns NaN when either sample has no observed value.

    Examples
    --------
    >>> ks_statistic(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]))
    0.0
    >>> ks_statistic(np.array([0.0, 1.0]), np.array([2.0, 3.0]))
    1.0
    """
    a = np.sort(np.asarray(a, dtype="float64")[~np.isnan(a)])
    b = np.sort(np.asarray(b, dtype="float64")[~np.isnan(b)])
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / len(a)
    cdf_b = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def tvd(codes_a: np.ndarray, codes_b: np.ndarray, n_codes: int | None = None) -> float:
    """Total variation distance between the frequency distributions of two integer code arrays.

    Examples
    --------
    >>> tvd(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]))
    0.25
    """
    if n_codes is None:
        n_codes = int(max(codes_a.max(initial=-1), codes_b.max(initial=-1))) + 1
    pa = np.bincount(codes_a, minlength=n_codes) / max(len(codes_a), 1)
    pb = np.bincount(codes_b, minlength=n_codes) / max(len(codes_b), 1)
    return float(0.5 * np.abs(pa - pb).sum())


def _joint_tvd_and_assoc(ra, rb, sa, sb, ka: int, kb: int) -> tuple[float, float]:
    """TVD of the two-way tables of (ra, rb) vs (sa, sb), and Cramér's V of the real table."""
    nr, ns = len(ra), len(sa)
    if ka * kb <= 4_000_000:
        cr = np.bincount(ra.astype(np.int64) * kb + rb, minlength=ka * kb)
        cs = np.bincount(sa.astype(np.int64) * kb + sb, minlength=ka * kb)
    else:  # sparse: only the cells that occur
        keys = np.concatenate([ra.astype(np.int64) * kb + rb, sa.astype(np.int64) * kb + sb])
        uniq, inv = np.unique(keys, return_inverse=True)
        cr = np.bincount(inv[:nr], minlength=len(uniq))
        cs = np.bincount(inv[nr:], minlength=len(uniq))
        return float(0.5 * np.abs(cr / nr - cs / ns).sum()), float("nan")
    dist = float(0.5 * np.abs(cr / nr - cs / ns).sum())
    table = cr.reshape(ka, kb)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    r, c = table.shape
    if min(r, c) < 2:
        return dist, float("nan")
    rows, cols = table.sum(axis=1, keepdims=True), table.sum(axis=0, keepdims=True)
    expected = rows * cols / nr
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return dist, float(np.sqrt(chi2 / nr / (min(r, c) - 1)))


def _pairwise_corr(x: np.ndarray) -> np.ndarray:
    """Pearson correlation matrix on pairwise-complete observations (NaN-aware, vectorised)."""
    m = ~np.isnan(x)
    mf = m.astype("float64")
    counts = mf.sum(axis=0)
    sums = np.where(m, x, 0.0).sum(axis=0)
    col_mean = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    xc = np.where(m, x - col_mean, 0.0)  # centre for numerical stability
    n = mf.T @ mf
    sx = xc.T @ mf          # sx[i, j] = sum of x_i over rows where both i and j observed
    sxx = (xc ** 2).T @ mf
    sxy = xc.T @ xc
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n
        var_i = sxx - sx ** 2 / n
        var_j = var_i.T
        denom = np.sqrt(var_i * var_j)
        r = cov / denom
        scale = np.sqrt(np.abs(sxx * sxx.T)) + 1e-300
        r[(denom <= 1e-12 * scale) | (n < 2)] = np.nan
    return np.clip(r, -1.0, 1.0)


class _Prepared:
    """Columns of two tables converted once: floats for numeric/datetime, joint codes for categoricals."""

    def __init__(self, real: pd.DataFrame, synthetic: pd.DataFrame, *, max_rows: int | None, random_state: int):
        check_table(real, "real")
        check_table(synthetic, "synthetic")
        check_same_columns(real, synthetic, "synthetic")
        synthetic = check_types(real, synthetic[list(real.columns)], "the synthetic")
        self.columns = list(real.columns)
        self.kinds = column_kinds(real)
        rng = np.random.default_rng(random_state)
        self.idx_r = _sample_index(len(real), max_rows, rng)
        self.idx_s = _sample_index(len(synthetic), max_rows, rng)
        self.full_r: dict[str, np.ndarray] = {}
        self.full_s: dict[str, np.ndarray] = {}
        self.categories: dict[str, list] = {}
        for c in self.columns:
            kind = self.kinds[c]
            if kind == CATEGORICAL:
                kr, ks = to_keys(real[c]), to_keys(synthetic[c])
                cr, cs, cats = encode_pair(kr, ks)
                self.full_r[c], self.full_s[c], self.categories[c] = cr, cs, cats
            else:
                self.full_r[c], self.full_s[c] = to_float(real[c], kind), to_float(synthetic[c], kind)
        self.r = {c: v[self.idx_r] for c, v in self.full_r.items()}
        self.s = {c: v[self.idx_s] for c, v in self.full_s.items()}

    def n_codes(self, c: str) -> int:
        return len(self.categories[c])


def _check_options(bins: int, binning: str) -> None:
    if not isinstance(bins, (int, np.integer)) or isinstance(bins, bool) or bins < 2:
        raise InputError(f"bins={bins!r} is not valid; pass an integer >= 2 (default 10)")
    if binning not in ("real", "each"):
        raise InputError(f"binning={binning!r} is not valid; pass 'each' (default) or 'real'")


def _sample_index(n: int, max_rows: int | None, rng: np.random.Generator) -> np.ndarray:
    if max_rows is None or n <= max_rows:
        return np.arange(n)
    return np.sort(rng.choice(n, size=max_rows, replace=False))


def _nan_to_none(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def _mean(scores) -> float | None:
    vals = [s for s in scores if s is not None and np.isfinite(s)]
    return float(np.mean(vals)) if vals else None


# ------------------------------------------------------------ column shapes
def _column_shapes(p: _Prepared) -> dict[str, Any]:
    columns = {}
    for c in p.columns:
        kind = p.kinds[c]
        if kind == CATEGORICAL:
            score = 1.0 - tvd(p.r[c], p.s[c], p.n_codes(c))
            metric = "TVComplement"
        else:
            score = 1.0 - ks_statistic(p.r[c], p.s[c])
            metric = "KSComplement"
        columns[c] = {"kind": kind, "metric": metric, "score": _nan_to_none(score)}
    return {"score": _mean(v["score"] for v in columns.values()), "columns": columns}


def column_shapes(real: pd.DataFrame, synthetic: pd.DataFrame, *, max_rows: int | None = 50_000,
                  random_state: int = 0) -> dict[str, Any]:
    """Similarity of each column's marginal distribution, and their mean.

    ``1 - KS`` statistic (observed values) for numeric and datetime columns,
    ``1 - TVD`` of category shares (missing values as a category) for
    categorical ones. 1 means identical marginals.

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        Tables with the same columns; column kinds are read from ``real``.
    max_rows : int or None, default 50_000
        Tables with more rows are subsampled (without replacement, seeded).
    random_state : int, default 0
        Seed of the subsampling.

    Returns
    -------
    dict
        ``{"score": float, "columns": {name: {"kind", "metric", "score"}}}``;
        a column whose score is undefined (no observed value) has score
        ``None`` and is left out of the mean.

    Examples
    --------
    >>> import pandas as pd
    >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "a", "b", "b"]})
    >>> syn = pd.DataFrame({"x": [1.0, 2.0, 3.0, 9.0], "c": ["a", "b", "b", "b"]})
    >>> column_shapes(real, syn)["columns"]["x"]["score"]
    0.75
    >>> column_shapes(real, syn)["score"]
    0.75
    """
    return _column_shapes(_Prepared(real, synthetic, max_rows=max_rows, random_state=random_state))


# -------------------------------------------------------------- pair trends
def _inner_edges(x: np.ndarray, bins: int) -> np.ndarray:
    obs = x[~np.isnan(x)]
    return np.histogram_bin_edges(obs, bins=bins)[1:-1] if len(obs) else np.full(bins - 1, np.inf)


def _bin_codes(p: _Prepared, c: str, bins: int, binning: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Equal-width bins (outer bins open), NaN -> a bin of its own.

    ``binning="real"``: both tables cut at the real range's edges;
    ``"each"``: each table cut over its own range (what SDMetrics' QualityReport does).
    """
    r, s = p.r[c], p.s[c]
    edges_r = _inner_edges(r, bins)
    edges_s = edges_r if binning == "real" else _inner_edges(s, bins)
    k = bins + 1  # bins + missing

    def cut(x, inner):
        codes = np.digitize(x, inner)
        codes[np.isnan(x)] = k - 1
        return codes

    return cut(r, edges_r), cut(s, edges_s), k


def _pair_trends(p: _Prepared, *, bins: int, binning: str, real_correlation_threshold: float,
                 real_association_threshold: float) -> dict[str, Any]:
    num = [c for c in p.columns if p.kinds[c] in (NUMERIC, DATETIME)]
    pos = {c: i for i, c in enumerate(num)}
    corr_r = corr_s = None
    if len(num) >= 2:
        corr_r = _pairwise_corr(np.column_stack([p.r[c] for c in num]))
        corr_s = _pairwise_corr(np.column_stack([p.s[c] for c in num]))
    codes: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
    for c in p.columns:
        if p.kinds[c] == CATEGORICAL:
            codes[c] = (p.r[c], p.s[c], p.n_codes(c))
        else:
            codes[c] = _bin_codes(p, c, bins, binning)
    pairs = []
    for a, b in combinations(p.columns, 2):
        if a in pos and b in pos:
            rr = corr_r[pos[a], pos[b]]
            rs = corr_s[pos[a], pos[b]]
            if np.isnan(rr):
                score = float("nan")  # undefined in the real table (constant or too few rows)
            else:
                score = 1.0 - abs(rr - (0.0 if np.isnan(rs) else rs)) / 2.0
            assoc = abs(rr)
            entry = {"columns": [a, b], "metric": "CorrelationSimilarity", "score": _nan_to_none(score),
                     "real": _nan_to_none(rr), "synthetic": _nan_to_none(rs)}
            meets = real_correlation_threshold <= 0 or (not np.isnan(rr) and assoc > real_correlation_threshold)
        else:
            ra, sa, ka = codes[a]
            rb, sb, kb = codes[b]
            dist, assoc = _joint_tvd_and_assoc(ra, rb, sa, sb, ka, kb)
            score = 1.0 - dist
            entry = {"columns": [a, b], "metric": "ContingencySimilarity", "score": _nan_to_none(score)}
            meets = real_association_threshold <= 0 or (not np.isnan(assoc) and assoc > real_association_threshold)
        entry["real_association"] = _nan_to_none(assoc)
        entry["contributes"] = bool(meets) and entry["score"] is not None
        pairs.append(entry)
    score = _mean(e["score"] for e in pairs if e["contributes"])
    return {"score": score, "pairs": pairs}


def pair_trends(real: pd.DataFrame, synthetic: pd.DataFrame, *, bins: int = 10, binning: str = "each",
                max_rows: int | None = 50_000, random_state: int = 0, real_correlation_threshold: float = 0.0,
                real_association_threshold: float = 0.0) -> dict[str, Any]:
    """Similarity of every column pair's joint behaviour, and their mean.

    Two numeric/datetime columns: ``1 - |r_real - r_syn| / 2`` with Pearson r
    on rows where both are observed (an undefined synthetic r, e.g. a constant
    synthetic column, counts as 0; an undefined real r leaves the pair out).
    Any other pair: ``1 - TVD`` of the contingency tables, numeric columns cut
    into ``bins`` equal-width bins over the real observed range (outer bins
    open, missing values in a bin of their own).

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        Tables with the same columns.
    bins : int, default 10
        Bins per numeric column for contingency tables.
    binning : {"each", "real"}, default "each"
        ``"each"`` cuts each table over its own range, as SDMetrics'
        QualityReport does, so figures compare with SDMetrics (out-of-range
        values are reported by :func:`validity` instead). ``"real"`` cuts
        both tables at edges over the real range, so a synthetic column
        shifted out of range is also penalised here.
    max_rows : int or None, default 50_000
        Tables with more rows are subsampled (seeded).
    random_state : int, default 0
        Seed of the subsampling.
    real_correlation_threshold, real_association_threshold : float, default 0
        Only pairs whose real ``|r|`` (numeric pairs) or Cramér's V (other pairs)
        exceeds the threshold count in the mean. 0 counts every pair (the
        DESIGN.md protocol); SDMetrics >= 0.2x's QualityReport uses 0.5 and 0.3.

    Returns
    -------
    dict
        ``{"score": float, "pairs": [{"columns": [a, b], "metric", "score",
        "real", "synthetic" (numeric pairs), "real_association", "contributes"}]}``.

    Examples
    --------
    >>> import pandas as pd
    >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1.0, 2.0, 3.0, 4.0]})
    >>> syn = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [4.0, 3.0, 2.0, 1.0]})
    >>> pair_trends(real, syn)["score"]  # r = 1 vs r = -1
    0.0
    """
    _check_options(bins, binning)
    p = _Prepared(real, synthetic, max_rows=max_rows, random_state=random_state)
    return _pair_trends(p, bins=bins, binning=binning, real_correlation_threshold=real_correlation_threshold,
                        real_association_threshold=real_association_threshold)


# ----------------------------------------------------------------- validity
def _validity(p: _Prepared) -> dict[str, Any]:
    cols = {}
    shares = []
    for c in p.columns:
        kind = p.kinds[c]
        r, s = p.full_r[c], p.full_s[c]
        entry: dict[str, Any] = {"kind": kind}
        if kind == CATEGORICAL:
            miss_code = p.categories[c].index(MISSING) if MISSING in p.categories[c] else -1
            miss_r, miss_s = float(np.mean(r == miss_code)), float(np.mean(s == miss_code))
            real_codes = np.zeros(p.n_codes(c), dtype=bool)
            real_codes[np.unique(r)] = True
            obs = s[s != miss_code]
            share = float(real_codes[obs].mean()) if len(obs) else None
            entry["in_categories"] = share
            new = ~real_codes
            if miss_code >= 0:
                new[miss_code] = False  # missing is compared through the missing shares
            entry["new_categories"] = int(new.sum())
        else:
            miss_r, miss_s = float(np.isnan(r).mean()), float(np.isnan(s).mean())
            obs_r, obs_s = r[~np.isnan(r)], s[~np.isnan(s)]
            if len(obs_r) and len(obs_s):
                lo, hi = obs_r.min(), obs_r.max()
                share = float(np.mean((obs_s >= lo) & (obs_s <= hi)))
            else:
                share = None
            entry["in_range"] = share
        entry.update(missing_real=miss_r, missing_synthetic=miss_s, missing_diff=abs(miss_r - miss_s))
        shares.append(share)
        cols[c] = entry
    return {
        "score": _mean(shares),
        "missing_diff_max": max(e["missing_diff"] for e in cols.values()),
        "columns": cols,
    }


def validity(real: pd.DataFrame, synthetic: pd.DataFrame) -> dict[str, Any]:
    """Whether synthetic values are valid for the real columns (uses every row).

    Per column: ``in_range`` (numeric, datetime: share of observed synthetic
    values within the real min..max) or ``in_categories`` (categorical: share
    of observed synthetic values that are real categories, plus the number of
    ``new_categories``), and ``missing_real``, ``missing_synthetic``,
    ``missing_diff`` (absolute difference of missing shares).

    Parameters
    ----------
    real : pandas.DataFrame
        The real table; its columns decide the kinds.
    synthetic : pandas.DataFrame
        The synthetic table, the same columns.

    Returns
    -------
    dict
        ``{"score": mean in-range/in-category share, "missing_diff_max": float, "columns": {...}}``.

    Examples
    --------
    >>> import pandas as pd
    >>> real = pd.DataFrame({"x": [0.0, 10.0], "c": ["a", "b"]})
    >>> syn = pd.DataFrame({"x": [5.0, 20.0], "c": ["a", None]})
    >>> v = validity(real, syn)["columns"]
    >>> v["x"]["in_range"], v["c"]["in_categories"], v["c"]["missing_diff"]
    (0.5, 1.0, 0.5)
    """
    return _validity(_Prepared(real, synthetic, max_rows=None, random_state=0))


# ----------------------------------------------------------------- combined
def fidelity(real: pd.DataFrame, synthetic: pd.DataFrame, *, bins: int = 10, binning: str = "each",
             max_rows: int | None = 50_000, random_state: int = 0) -> dict[str, Any]:
    """Column shapes, pair trends and validity in one pass (columns converted once).

    Parameters are those of :func:`pair_trends`; every pair counts in the mean.

    Parameters
    ----------
    real : pandas.DataFrame
        The real table; its columns decide the kinds.
    synthetic : pandas.DataFrame
        The synthetic table, the same columns.
    bins : int, default 10
        Bins of numeric and datetime columns (see :func:`pair_trends`).
    binning : str, default "each"
        How the bins are placed (see :func:`pair_trends`).
    max_rows : int or None, default 50_000
        Larger tables are subsampled (seeded).
    random_state : int, default 0
        Seed of the subsamples.

    Returns
    -------
    dict
        ``{"column_shapes": float, "pair_trends": float, "columns": {...},
        "pairs": [...], "validity": {...}}`` (see :func:`column_shapes`,
        :func:`pair_trends`, :func:`validity`).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "b"]})
    >>> round(fidelity(df, df.sample(frac=1.0, random_state=0))["pair_trends"], 3)
    1.0
    """
    _check_options(bins, binning)
    p = _Prepared(real, synthetic, max_rows=max_rows, random_state=random_state)
    shapes = _column_shapes(p)
    pairs = _pair_trends(p, bins=bins, binning=binning, real_correlation_threshold=0.0, real_association_threshold=0.0)
    return {
        "column_shapes": shapes["score"],
        "pair_trends": pairs["score"],
        "columns": shapes["columns"],
        "pairs": pairs["pairs"],
        "validity": _validity(p),
    }
