"""Privacy: distance to closest record (DCR) and exact copies.

**DCR.** Every row is embedded so that each column contributes at most about
1 to a squared Euclidean distance:

* numeric and datetime columns: min-max scaled by the *real* (reference)
  observed range; a missing value is put at mid-range and flagged in an extra
  indicator column, so observed-vs-missing costs about 1;
* categorical columns: one-hot (missing values are a category) divided by
  sqrt(2), so two different categories cost exactly 1. At most 100
  categories per column are kept, rarer and unseen ones share a column.

The distance is the Euclidean distance divided by sqrt(number of columns):
a root-mean-square per-column difference in [0, ~1]. For each query row
(synthetic, then holdout; at most ``max_query_rows`` each, seeded) the
distance to the nearest real training row (at most ``max_reference_rows``,
seeded) is found with scikit-learn's ``NearestNeighbors``. A synthetic median
DCR well below the holdout median means synthetic rows sit closer to the
training rows than genuinely new rows do: a sign of memorisation.

On a table of categories and small integers the distance takes few values
(an age 4 or 5 years away, nothing between), and a median sits on one of
them: half a percent of the rows moving across a step moves the median by
a whole step (0.80 of the holdout's on one table, 1.00 with another seed).
``dcr_closer`` compares the two whole distributions instead: the chance
that a synthetic row lies closer to the training rows than a holdout row
does, ties counted half (the Mann-Whitney statistic; 0.5: as far as unseen
rows, above 0.5: closer). With 5,000 and 3,000 query rows its noise is
about +-0.007.

**Exact copies.** The share of synthetic rows equal to some real row in
every column, by hashing whole rows (``pandas.util.hash_pandas_object``) of
normalised values: numbers compared at float32 precision (about 7
significant digits, so ``39`` == ``39.0``), datetimes to the microsecond,
categories as strings, missing equal to missing. Every row is used.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._columns import (
    CATEGORICAL,
    DATETIME,
    check_same_columns,
    check_table,
    check_types,
    column_kinds,
    subsample,
    to_float,
    to_keys,
)

__all__ = ["privacy", "exact_copies", "distance_to_closest_record", "row_hashes", "closer_share"]


# ------------------------------------------------------------ exact copies
def row_hashes(df: pd.DataFrame, kinds: dict[str, str]) -> np.ndarray:
    """One 64-bit hash per row of its canonical cells (equal rows, equal hashes), columns read as ``kinds``."""
    data = {}
    for i, c in enumerate(df.columns):
        kind = kinds[c]
        if kind == CATEGORICAL:
            data[f"c{i}"] = to_keys(df[c])
            continue
        x = to_float(df[c], kind)
        miss = np.isnan(x)
        x = np.where(miss, 0.0, x)
        if kind == DATETIME:
            data[f"v{i}"] = np.round(x * 1e6).astype("int64")
        else:
            data[f"v{i}"] = x.astype("float32") + np.float32(0.0)  # -0.0 -> 0.0
        data[f"m{i}"] = miss
    frame = pd.DataFrame(data, index=range(len(df)))
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def exact_copies(real: pd.DataFrame, synthetic: pd.DataFrame) -> float:
    """Share of synthetic rows that equal a real row in every column.

    Parameters
    ----------
    real : pandas.DataFrame
        The real table; its columns decide the kinds.
    synthetic : pandas.DataFrame
        The synthetic table, the same columns.

    Returns
    -------
    float

    Examples
    --------
    >>> import pandas as pd
    >>> real = pd.DataFrame({"x": [1, 2, 3], "c": ["a", None, "c"]})
    >>> syn = pd.DataFrame({"x": [1.0, 2.0, 5.0, 3.0], "c": ["a", None, "c", "d"]})
    >>> exact_copies(real, syn)
    0.5
    """
    check_table(real, "real")
    check_table(synthetic, "synthetic")
    check_same_columns(real, synthetic, "synthetic")
    synthetic = check_types(real, synthetic[list(real.columns)], "the synthetic")
    kinds = column_kinds(real)
    cols = list(real.columns)
    h_real = row_hashes(real, kinds)
    h_syn = row_hashes(synthetic[cols], kinds)
    return float(np.isin(h_syn, h_real).mean())


# --------------------------------------------------------------------- DCR
class _Embedding:
    """Mixed-type rows -> Euclidean vectors (see the module docstring); fit on the reference."""

    def __init__(self, reference: pd.DataFrame, kinds: dict[str, str], max_categories: int = 100):
        from sklearn.preprocessing import OneHotEncoder

        self.kinds = kinds
        self.columns = list(reference.columns)
        self.lo: dict[str, float] = {}
        self.span: dict[str, float] = {}
        self.enc: dict[str, Any] = {}
        self.keys: dict[str, pd.Index] = {}
        for c in self.columns:
            if kinds[c] == CATEGORICAL:
                # keys as integer codes in their sorted order: the same categories, columns and infrequent
                # group as the keys themselves, counted about ten times faster
                codes, uniques = pd.factorize(to_keys(reference[c]), sort=True)
                self.keys[c] = pd.Index(uniques)
                self.enc[c] = OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=max_categories,
                                            sparse_output=False, dtype=np.float64).fit(codes.reshape(-1, 1))
            else:
                x = to_float(reference[c], kinds[c])
                obs = x[~np.isnan(x)]
                lo, hi = (obs.min(), obs.max()) if len(obs) else (0.0, 1.0)
                self.lo[c], self.span[c] = float(lo), float(hi - lo) if hi > lo else 1.0

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        blocks = []
        for c in self.columns:
            if self.kinds[c] == CATEGORICAL:
                codes = self.keys[c].get_indexer(to_keys(df[c]))  # unseen keys: -1, unknown to the encoder too
                blocks.append(self.enc[c].transform(codes.reshape(-1, 1)) / np.sqrt(2.0))
            else:
                x = (to_float(df[c], self.kinds[c]) - self.lo[c]) / self.span[c]
                miss = np.isnan(x)
                blocks.append(np.where(miss, 0.5, x)[:, None])
                blocks.append(miss.astype(np.float64)[:, None])
        return np.hstack(blocks) / np.sqrt(len(self.columns))


def distance_to_closest_record(reference: pd.DataFrame, query: pd.DataFrame) -> np.ndarray:
    """Normalised distance from every ``query`` row to its nearest ``reference`` row.

    Parameters
    ----------
    reference : pandas.DataFrame
        The rows distances are measured to (its columns decide the kinds and scales).
    query : pandas.DataFrame
        The rows whose nearest reference row is looked for.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import pandas as pd
    >>> ref = pd.DataFrame({"x": [0.0, 10.0], "c": ["a", "b"]})
    >>> distance_to_closest_record(ref, pd.DataFrame({"x": [0.0, 5.0], "c": ["a", "a"]})).round(3).tolist()
    [0.0, 0.354]
    """
    from sklearn.neighbors import NearestNeighbors

    check_table(reference, "reference")
    check_table(query, "query")
    check_same_columns(reference, query, "query")
    query = check_types(reference, query[list(reference.columns)], "the query")
    kinds = column_kinds(reference)
    emb = _Embedding(reference, kinds)
    nn = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(emb.transform(reference))
    dist, _ = nn.kneighbors(emb.transform(query[list(reference.columns)]))
    return dist[:, 0]


def closer_share(dcr: np.ndarray, baseline: np.ndarray, decimals: int = 9) -> float:
    """Chance that a ``dcr`` row is closer to the reference than a ``baseline`` row, ties counted half.

    The Mann-Whitney statistic of the two samples of distances: 0.5 when they
    come from one distribution, above 0.5 when the ``dcr`` rows sit closer.
    Unlike a ratio of medians it does not jump where the distances take few
    values. Distances are rounded to ``decimals`` first, so that equal
    differences found with different rounding errors tie.

    Parameters
    ----------
    dcr : numpy.ndarray
        Distances of the rows under test (e.g. synthetic) to their closest reference row.
    baseline : numpy.ndarray
        Distances of the baseline rows (e.g. a holdout) to their closest reference row.
    decimals : int, default 9
        Decimals kept before comparing.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> closer_share(np.array([0.0, 1.0]), np.array([1.0, 2.0]))
    0.875
    """
    a = np.round(np.asarray(dcr, dtype="float64"), decimals)
    b = np.sort(np.round(np.asarray(baseline, dtype="float64"), decimals))
    if not len(a) or not len(b):
        raise ValueError("closer_share needs at least one distance on each side")
    below, above = np.searchsorted(b, a, side="left"), np.searchsorted(b, a, side="right")
    return float(((len(b) - above) + 0.5 * (above - below)).sum() / (len(a) * len(b)))


def _dcr_figures(real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame | None, kinds: dict[str, str],
                 cols: list, *, max_query_rows: int, max_reference_rows: int, random_state: int) -> dict[str, Any]:
    """:func:`privacy`'s distances to the closest real record, synthetic and holdout rows as queries."""
    from sklearn.neighbors import NearestNeighbors

    ref = subsample(real, max_reference_rows, random_state)
    emb = _Embedding(ref, kinds)
    nn = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(emb.transform(ref))

    def dcr(df: pd.DataFrame, seed: int) -> np.ndarray:
        q = subsample(df[cols], max_query_rows, seed)
        return nn.kneighbors(emb.transform(q))[0][:, 0]

    d_syn = dcr(synthetic, random_state + 1)
    d_hold = dcr(holdout, random_state + 2) if holdout is not None else None
    med_s = float(np.median(d_syn))
    med_h = float(np.median(d_hold)) if d_hold is not None else None
    return dict(
        dcr_synthetic_median=med_s,
        dcr_holdout_median=med_h,
        dcr_synthetic_p05=float(np.quantile(d_syn, 0.05)),
        dcr_holdout_p05=float(np.quantile(d_hold, 0.05)) if d_hold is not None else None,
        dcr_ratio=(med_s / med_h if med_h else None) if med_h is not None else None,
        dcr_closer=closer_share(d_syn, d_hold) if d_hold is not None else None,
        query_rows={"synthetic": len(d_syn), "holdout": len(d_hold) if d_hold is not None else 0},
        reference_rows=len(ref),
    )


def privacy(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame | None = None,
    *,
    max_query_rows: int = 5_000,
    max_reference_rows: int = 50_000,
    random_state: int = 0,
    copies_reference: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Distance to closest record (synthetic->real vs holdout->real) and the exact-copy rate.

    Parameters
    ----------
    real : pandas.DataFrame
        Real rows the generator was fit on (the DCR reference).
    synthetic : pandas.DataFrame
        Synthetic rows.
    holdout : pandas.DataFrame or None
        Real rows the generator never saw: their DCR is the baseline.
    max_query_rows : int, default 5000
        Synthetic and holdout rows used as DCR queries (seeded subsample).
    max_reference_rows : int, default 50_000
        Real rows used as the DCR reference (seeded subsample).
    random_state : int, default 0
        Seed of the subsamples.
    copies_reference : pandas.DataFrame or None
        Table the exact copies are looked up in (default ``real``); every row is used.

    Returns
    -------
    dict
        ``{"dcr_synthetic_median", "dcr_holdout_median", "dcr_synthetic_p05",
        "dcr_holdout_p05", "dcr_ratio" (synthetic median / holdout median),
        "dcr_closer" (chance that a synthetic row is closer to the real rows than a
        holdout row, ties half: 0.5 is parity, see :func:`closer_share`),
        "exact_copies", "exact_copies_holdout", "query_rows", "reference_rows"}``;
        holdout figures are ``None`` without a holdout.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=200), "c": rng.choice(list("abc"), 200)})
    >>> res = privacy(df[:100], df[:100], df[100:])
    >>> res["exact_copies"], res["dcr_synthetic_median"]
    (1.0, 0.0)
    """
    check_table(real, "real")
    check_table(synthetic, "synthetic")
    check_same_columns(real, synthetic, "synthetic")
    cols = list(real.columns)
    if holdout is not None:
        check_table(holdout, "holdout")
        check_same_columns(real, holdout, "holdout")
        holdout = check_types(real, holdout[cols], "the holdout")
    synthetic = check_types(real, synthetic[cols], "the synthetic")
    kinds = column_kinds(real)
    h_real = row_hashes(real[cols], kinds)
    same = copies_reference is None or copies_reference is real
    h_ref = h_real if same else row_hashes(copies_reference[cols], kinds)
    out: dict[str, Any] = {
        "exact_copies": float(np.isin(row_hashes(synthetic[cols], kinds), h_ref).mean()),
        "exact_copies_holdout": (float(np.isin(row_hashes(holdout[cols], kinds), h_real).mean())
                                 if holdout is not None else None),
    }
    out.update(_dcr_figures(real, synthetic, holdout, kinds, cols, max_query_rows=max_query_rows,
                            max_reference_rows=max_reference_rows, random_state=random_state))
    return out
