"""Column kinds, value normalisation, input checks and model preprocessing.

The evaluation works on pandas DataFrames only and classifies columns by
dtype itself (it does not use ``tabsynth.schema``):

* ``numeric``: integer or float dtypes (numpy, nullable ``Int64``/``Float64``,
  Arrow-backed), excluding booleans; timedeltas count as numeric seconds;
* ``datetime``: naive or tz-aware datetimes (tz-aware values are compared in
  UTC), converted to float seconds since the epoch for all metrics;
* ``categorical``: everything else (bool, ``boolean``, object, ``string``,
  ``str``, ``category``). Missing values are a category of their own.

The kind of a column is decided by the *real* table; the synthetic and
holdout columns are converted to it by :func:`check_types`, which raises
:class:`~tabsynth.errors.InputError` for values that cannot be of that kind
(text in a numeric column, numbers in a datetime column, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError

NUMERIC, DATETIME, CATEGORICAL = "numeric", "datetime", "categorical"

#: Internal key of a missing categorical value (shown as "(missing)").
MISSING = "\x00missing"
MISSING_LABEL = "(missing)"


# --------------------------------------------------------------------- kinds
def column_kind(series: pd.Series) -> str:
    """Return ``"numeric"``, ``"datetime"`` or ``"categorical"`` for a column."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return CATEGORICAL
    if isinstance(dtype, pd.CategoricalDtype):
        return CATEGORICAL
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return DATETIME
    if pd.api.types.is_timedelta64_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return NUMERIC
    return CATEGORICAL


def column_kinds(df: pd.DataFrame) -> dict[str, str]:
    """Kind of every column of ``df`` (see :func:`column_kind`)."""
    return {c: column_kind(df[c]) for c in df.columns}


# ------------------------------------------------------------- normalisation
def to_float(series: pd.Series, kind: str) -> np.ndarray:
    """Values of a numeric/datetime column as float64, missing as NaN.

    Datetimes become seconds since 1970-01-01 (UTC for tz-aware values);
    values that cannot be read as the column's kind become NaN.
    """
    s = series
    if kind == DATETIME:
        if not pd.api.types.is_datetime64_any_dtype(s.dtype):
            s = pd.to_datetime(s.astype(object), errors="coerce", utc=True)
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        if isinstance(s.dtype, pd.ArrowDtype):
            s = s.astype("datetime64[ns]")
        mask = s.isna().to_numpy()
        ns = s.to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64")
        ns[mask] = np.nan
        return ns / 1e9
    if pd.api.types.is_timedelta64_dtype(s.dtype):
        s = s.dt.total_seconds()
    elif pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
        s = pd.to_numeric(s.astype(object), errors="coerce")
    out = np.array(s.to_numpy(dtype="float64", na_value=np.nan), dtype="float64", copy=True)
    out[~np.isfinite(out)] = np.nan  # +-inf count as missing
    return out


def to_keys(series: pd.Series) -> np.ndarray:
    """Values of a column as comparable strings (object array), missing as :data:`MISSING`.

    Numbers are written so that ``1``, ``1.0`` and ``np.int8(1)`` agree; booleans
    as ``"True"``/``"False"``; everything else through ``str``.
    """
    s = series
    n = len(s)
    mask = s.isna().to_numpy(dtype=bool)
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = pd.Series(s.cat.categories)
        cat_keys = to_keys(cats) if len(cats) else np.array([], dtype=object)
        codes = s.cat.codes.to_numpy()
        out = np.empty(n, dtype=object)
        out[~mask] = cat_keys[codes[~mask]]
        out[mask] = MISSING
        return out
    if pd.api.types.is_bool_dtype(s.dtype):
        vals = s.to_numpy(dtype=object, na_value=None)
        out = np.where(mask, MISSING, vals.astype(str))
        return out.astype(object)
    if pd.api.types.is_numeric_dtype(s.dtype):
        vals = s.to_numpy(dtype="float64", na_value=np.nan)
        out = np.empty(n, dtype=object)
        ok = ~mask & np.isfinite(vals)
        integral = ok & (np.floor(vals) == vals) & (np.abs(vals) < 2**53)
        out[integral] = vals[integral].astype("int64").astype(str)
        rest = ok & ~integral
        out[rest] = vals[rest].astype(str)
        out[~ok] = MISSING
        return out
    vals = s.to_numpy(dtype=object, na_value=None)
    out = np.empty(n, dtype=object)
    if (~mask).any():
        if isinstance(s.dtype, pd.StringDtype):  # every value is a str already
            out[~mask] = vals[~mask]
        else:
            out[~mask] = [v if isinstance(v, str) else str(v) for v in vals[~mask]]
    out[mask] = MISSING
    return out


def display_key(key: Any) -> str:
    """Human form of a category key."""
    return MISSING_LABEL if key == MISSING else str(key)


def encode_pair(real: np.ndarray, synthetic: np.ndarray) -> tuple[np.ndarray, np.ndarray, list]:
    """Joint integer codes of two key arrays; categories in order of first appearance (real first)."""
    codes, uniques = pd.factorize(np.concatenate([real, synthetic]), use_na_sentinel=False)
    return codes[: len(real)], codes[len(real):], list(uniques)


# -------------------------------------------------------------------- checks
def names_text(cols: Iterable[Any], limit: int = 8) -> str:
    """Column names for a message: the first ``limit`` quoted, then how many more."""
    cols = [str(c) for c in cols]
    shown = ", ".join(repr(c) for c in cols[:limit])
    return shown + (f" and {len(cols) - limit} more" if len(cols) > limit else "")


def check_table(df: Any, name: str) -> None:
    """Raise :class:`InputError` unless ``df`` is a non-empty DataFrame with unique column names."""
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"the {name} table must be a pandas DataFrame, got {type(df).__name__}; "
                         "read it with pandas or tabsynth.read_table first")
    if df.shape[1] == 0:
        raise InputError(f"the {name} table has no columns; pass a table with the same columns as the real one")
    if len(df) == 0:
        raise InputError(f"the {name} table is empty (0 rows); pass a table with at least one row")
    dup = df.columns[df.columns.duplicated()].unique().tolist()
    if dup:
        raise InputError(f"the {name} table has duplicate column names {names_text(dup)}; rename them")


def check_same_columns(real: pd.DataFrame, other: pd.DataFrame, name: str) -> None:
    """Raise :class:`InputError` naming the columns ``other`` lacks or has in excess of ``real``."""
    real_cols, other_cols = list(real.columns), list(other.columns)
    missing = [c for c in real_cols if c not in set(other_cols)]
    extra = [c for c in other_cols if c not in set(real_cols)]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"lacks column(s) {names_text(missing)} of the real table")
        if extra:
            parts.append(f"has extra column(s) {names_text(extra)} not in the real table")
        raise InputError(f"the {name} table {' and '.join(parts)}; "
                         f"pass tables with the same columns (drop or rename them)")


def _show(v: Any, limit: int = 40) -> str:
    """A value as a short, plain Python repr (no numpy reprs, no newlines) for an error message."""
    if isinstance(v, (np.datetime64, pd.Timestamp)):
        v = str(pd.Timestamp(v))
    elif isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, str) and len(v) > limit - 5:
        v = v[: limit - 5] + "..."
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first(s: pd.Series, bad: np.ndarray) -> str:
    return _show(s.to_numpy(dtype=object)[np.flatnonzero(bad)[0]])


def _tz(s: pd.Series) -> Any:
    try:
        return s.dt.tz
    except AttributeError:
        return None


def _is_date_like(v: Any) -> bool:
    import datetime

    return isinstance(v, (datetime.date, np.datetime64))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, complex, np.number)) and not isinstance(v, (bool, np.bool_))


def is_boolean_column(s: pd.Series) -> bool:
    """``bool`` / ``boolean`` dtypes, and object columns whose values are all booleans."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return True
    if s.dtype != object:
        return False
    vals = s.dropna()
    return len(vals) > 0 and bool(vals.map(lambda v: isinstance(v, (bool, np.bool_))).all())


def _parse_dates(s: pd.Series, tz: Any) -> pd.Series:
    """Values of ``s`` as datetimes in the real column's time zone (``tz``; naive if None); NaT if unreadable.

    Date text with different UTC offsets is read in UTC; naive values in a
    tz-aware column are read as local times of that zone.
    """
    import warnings

    obj = s.astype(object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            conv = pd.to_datetime(obj, errors="coerce", format="mixed")
        except (ValueError, TypeError, OverflowError):  # mixed UTC offsets
            conv = None
        if conv is None or not pd.api.types.is_datetime64_any_dtype(conv.dtype):
            conv = pd.to_datetime(obj, errors="coerce", format="mixed", utc=True)
    own = _tz(conv)
    if tz is None and own is not None:
        conv = conv.dt.tz_convert("UTC").dt.tz_localize(None)
    elif tz is not None and own is None:
        try:
            conv = conv.dt.tz_localize(tz, ambiguous=np.zeros(len(conv), dtype=bool), nonexistent="shift_forward")
        except (ValueError, TypeError):
            conv = conv.dt.tz_localize("UTC")
    return conv


#: Text (lower case, stripped) accepted in a boolean column, and what it means.
BOOLEAN_TEXT = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False}


def check_types(real: pd.DataFrame, other: pd.DataFrame, name: str) -> pd.DataFrame:
    """``other`` with each column converted to the real column's type; :class:`InputError` if its values cannot be.

    The one type check of :func:`tabsynth.evaluate.evaluate` and of each
    section's public function, run before any scoring, so that values of the
    wrong type never score (well) as missing or unseen values:

    * a numeric real column accepts numbers (and booleans) and numeric text
      (``"59"``, ``" 60.5"``, e.g. from a CSV); not text, dates or complex
      numbers;
    * a datetime column accepts datetimes, dates and date text (naive text in
      a tz-aware column is read in its zone; mixed UTC offsets in UTC); not
      numbers, whose unit would be a guess;
    * a boolean column (``bool``, ``boolean``, or all-boolean objects)
      accepts booleans and ``True``/``False``/``1``/``0`` in any case;
    * a categorical column accepts anything (unseen values lower the scores).

    Parameters
    ----------
    real : pandas.DataFrame
        The real table; its columns decide the types.
    other : pandas.DataFrame
        A table with the same columns (synthetic, holdout, ...), in ``real``'s order.
    name : str
        How messages name ``other``, e.g. ``"the synthetic"``.

    Returns
    -------
    pandas.DataFrame
        ``other`` with numeric columns as float64, datetime columns as
        datetimes and boolean columns as ``boolean``, where they were not.

    Raises
    ------
    InputError
        Naming the table, the column and an example value, e.g. ``the
        synthetic table column 'age' holds values that are not numbers, e.g.
        'a59'; the real column is numeric``.

    Examples
    --------
    >>> import pandas as pd
    >>> real = pd.DataFrame({"age": [30, 41]})
    >>> check_types(real, pd.DataFrame({"age": ["59", "60.5"]}), "the synthetic")["age"].tolist()
    [59.0, 60.5]
    """
    out = {}
    for c in real.columns:
        s, r = other[c], real[c]
        col = f"{name} table column {str(c)!r}"
        kind = column_kind(r)
        if pd.api.types.is_complex_dtype(r.dtype):
            raise InputError(f"the real table column {str(c)!r} holds complex numbers; split it into real and "
                             "imaginary parts")
        if kind == NUMERIC:
            s = _as_numbers(s, col)
        elif kind == DATETIME:
            s = _as_dates(s, r, col)
        elif is_boolean_column(r) and not pd.api.types.is_bool_dtype(s.dtype):
            s = _as_booleans(s, col)
        out[c] = s
    result = pd.DataFrame(out, index=other.index)
    result.columns = real.columns
    return result


def _as_numbers(s: pd.Series, col: str) -> pd.Series:
    """A column of a numeric real column (:func:`check_types`): numbers as they are, numeric text as float64."""
    if pd.api.types.is_complex_dtype(s.dtype):
        raise InputError(f"{col} holds complex numbers, e.g. {_first(s, s.notna().to_numpy())}; "
                         "the real column holds real numbers")
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        raise InputError(f"{col} holds dates, e.g. {_first(s, s.notna().to_numpy())}; "
                         "the real column is numeric")
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_timedelta64_dtype(s.dtype):
        return s
    known = s.notna().to_numpy()
    raw = s.astype(object).map(lambda v: v.strip() if isinstance(v, str) else v)
    odd = known & raw.map(lambda v: _is_date_like(v) or isinstance(v, complex)).to_numpy(dtype=bool)
    if odd.any():
        raise InputError(f"{col} holds values that are not numbers, e.g. {_first(s, odd)}; "
                         "the real column is numeric")
    conv = pd.to_numeric(raw.where(known, np.nan), errors="coerce")
    bad = known & conv.isna().to_numpy()
    if bad.any():
        raise InputError(f"{col} holds values that are not numbers, e.g. {_first(s, bad)}; "
                         "the real column is numeric")
    return conv.astype("float64")


def _as_dates(s: pd.Series, r: pd.Series, col: str) -> pd.Series:
    """A column of a datetime real column ``r`` (:func:`check_types`): datetimes, or date text read in its zone."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s
    known = s.notna().to_numpy()
    if pd.api.types.is_bool_dtype(s.dtype):
        odd = np.zeros(len(s), dtype=bool)  # reported below as values that are not dates
    elif pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_timedelta64_dtype(s.dtype):
        odd = known
    else:
        odd = known & s.astype(object).map(_is_number).to_numpy(dtype=bool)
    if odd.any():
        raise InputError(f"{col} holds numbers, not dates, e.g. {_first(s, odd)}; convert them to "
                         "dates (the real column holds datetimes)")
    conv = _parse_dates(s, _tz(r))
    bad = known & conv.isna().to_numpy()
    if bad.any():
        raise InputError(f"{col} holds values that are not dates, e.g. {_first(s, bad)}; "
                         "the real column holds datetimes")
    return conv


def _as_booleans(s: pd.Series, col: str) -> pd.Series:
    """A column of a boolean real column (:func:`check_types`): :data:`BOOLEAN_TEXT` as ``boolean``."""
    known = s.notna().to_numpy()
    keys = pd.Series(to_keys(s)).str.strip().str.lower()
    bad = known & ~keys.isin(list(BOOLEAN_TEXT)).to_numpy()
    if bad.any():
        raise InputError(f"{col} holds values that are not booleans, e.g. {_first(s, bad)}; "
                         "the real column is boolean (True/False)")
    return pd.Series(pd.array([BOOLEAN_TEXT.get(k) for k in keys], dtype="boolean"), index=s.index)


def check_frames(real: pd.DataFrame, synthetic: pd.DataFrame,
                 holdout: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Check the real, synthetic and (optional) holdout tables; the latter two in the real columns' order and types."""
    check_table(real, "real")
    check_table(synthetic, "synthetic")
    check_same_columns(real, synthetic, "synthetic")
    synthetic = check_types(real, synthetic[list(real.columns)], "the synthetic")
    if holdout is not None:
        check_table(holdout, "holdout")
        check_same_columns(real, holdout, "holdout")
        holdout = check_types(real, holdout[list(real.columns)], "the holdout")
    return synthetic, holdout


def subsample(df: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    """At most ``n`` rows of ``df``, drawn without replacement with ``seed`` (index reset)."""
    if n is not None and len(df) > n:
        df = df.sample(n=n, random_state=seed)
    return df.reset_index(drop=True)


# ------------------------------------------------------------ model features
def model_frame(df: pd.DataFrame, kinds: dict[str, str], columns: Sequence[str]) -> pd.DataFrame:
    """Feature table for scikit-learn: float64 numeric/datetime columns, string categoricals.

    Columns are renamed ``x0, x1, ...`` (see :func:`model_kinds`), so that any
    column label (integers, tuples) is safe for ``ColumnTransformer``.
    """
    data = {}
    for i, c in enumerate(columns):
        data[f"x{i}"] = to_keys(df[c]) if kinds[c] == CATEGORICAL else to_float(df[c], kinds[c])
    return pd.DataFrame(data, index=range(len(df)))


def model_kinds(kinds: dict[str, str], columns: Sequence[str]) -> dict[str, str]:
    """Kinds keyed by the names :func:`model_frame` gives the columns."""
    return {f"x{i}": kinds[c] for i, c in enumerate(columns)}


def preprocessor(
    kinds: dict[str, str],
    columns: Sequence[str],
    *,
    encoding: str = "onehot",
    max_categories: int = 50,
    scale: bool = True,
    dense: bool = True,
):
    """ColumnTransformer for the model features.

    ``encoding="onehot"``: numeric -> median imputation (+ standard scaling),
    then each categorical column -> one-hot (``max_categories`` per column,
    rarer and unseen values share one "infrequent" column).
    ``encoding="ordinal"`` (for histogram gradient boosting): the categorical
    columns first, as ordinal codes (unseen -> -1, read as missing; pass
    ``categorical_features=range(number of categoricals)``), then numeric
    columns with median imputation and missing-value indicators.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    num = [c for c in columns if kinds[c] != CATEGORICAL]
    cat = [c for c in columns if kinds[c] == CATEGORICAL]
    steps = []
    if encoding == "ordinal":
        if cat:
            steps.append(("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                                max_categories=min(max_categories, 250), dtype=np.float64), cat))
        if num:  # indicators keep "missing" visible; an all-missing column becomes a constant
            steps.append(("num", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True), num))
    else:
        if num:
            imp = SimpleImputer(strategy="median", keep_empty_features=True)
            steps.append(("num", make_pipeline(imp, StandardScaler()) if scale else imp, num))
        if cat:
            steps.append(("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=max_categories,
                                               sparse_output=not dense, dtype=np.float64), cat))
    return ColumnTransformer(steps, sparse_threshold=0.0 if dense else 1.0, verbose_feature_names_out=False)


def onehot_width(frame: pd.DataFrame, kinds: dict[str, str], max_categories: int = 50) -> int:
    """Number of features the one-hot preprocessor will produce (upper bound)."""
    width = 0
    for c in frame.columns:
        width += min(frame[c].nunique(dropna=False), max_categories) if kinds[c] == CATEGORICAL else 1
    return width
