"""Known cells are never changed: coercion of drifted dtypes, and the merge of known and generated cells.

A table given to ``impute`` / ``GenerativeImputer.transform`` /
``sample(given=...)`` may hold a column in another dtype than the fitted
table had (integers read from a CSV where strings were fitted, floats in an
integer column, ``object`` instead of ``category``...). Two rules hold:

* **For the model**, each known cell is mapped into the fitted column's value
  space when that is exact (``1`` -> category ``"1"``, ``"2.5"`` -> 2.5); a cell
  that cannot be mapped (a category never seen in ``fit``, text in a number
  column) is conditioned on as unknown, and counted.
* **For the output**, every known cell comes back exactly as given. A
  generated value is written into the column's dtype only when that is
  lossless (compared through :func:`canon`); otherwise the output column
  widens (integers -> floats, anything -> ``object``; a ``category`` column
  gains the new categories).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .errors import value_error
from .schema import ColumnSpec, datetime_tz, is_datetime, short_repr, to_ns


def column_label(df: pd.DataFrame, name: str) -> Any:
    """The label of ``df``'s column whose text is ``name`` (labels may be numbers), or None."""
    for c in df.columns:
        if str(c) == name:
            return c
    return None


def canon(v: Any) -> str | None:
    """A value's canonical text: equal texts mean the same value (``1``, ``1.0``, ``"1"`` agree)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return "True" if v else "False"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isnan(f):
            return None
        if f.is_integer() and abs(f) < 2**63:
            return str(int(f))
        return repr(f)
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        t = pd.Timestamp(v)
        return None if pd.isna(t) else t.isoformat()
    return str(v)


def _canons(values: pd.Series) -> list[str | None]:
    """:func:`canon` of every cell, by whole columns where the dtype allows (what a cell-by-cell loop gives)."""
    dtype = values.dtype
    if len(values) and not isinstance(dtype, pd.CategoricalDtype):
        if pd.api.types.is_bool_dtype(dtype) and not values.isna().any():
            return np.where(values.to_numpy(dtype=bool), "True", "False").tolist()
        if pd.api.types.is_integer_dtype(dtype):
            missing = values.isna().to_numpy()
            text = values.fillna(0).astype("int64").astype(str).to_numpy(dtype=object) if missing.any() else \
                values.astype(str).to_numpy(dtype=object)
            text[missing] = None
            return text.tolist()
        if pd.api.types.is_float_dtype(dtype):
            x = values.to_numpy(dtype="float64", na_value=np.nan)
            whole = np.isfinite(x) & (x == np.round(x)) & (np.abs(x) < 2**63)
            out = np.array([None if f != f else repr(f) for f in x.tolist()], dtype=object)
            out[whole] = x[whole].astype("int64").astype(str)
            return out.tolist()
        if isinstance(dtype, pd.StringDtype) or (isinstance(dtype, pd.ArrowDtype) and (
                pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype))):
            return values.to_numpy(dtype=object, na_value=None).tolist()
    if pd.api.types.is_object_dtype(dtype) and len(values):  # one kind of cell: as its typed column
        kind = pd.api.types.infer_dtype(values, skipna=True)
        if kind == "string":
            return values.to_numpy(dtype=object, na_value=None).tolist()
        if kind in ("floating", "integer", "mixed-integer-float") and not values.map(type).isin(
                (bool, np.bool_)).any():
            try:
                typed = values.astype("float64" if kind != "integer" else "Int64")
            except (TypeError, ValueError, OverflowError):
                typed = None
            if typed is not None and (kind != "integer" or (typed.astype(object) == values).fillna(True).all()):
                return _canons(typed)
    return [canon(v) for v in values.to_numpy(dtype=object)]


# ------------------------------------------------------------ for the model
def for_model(s: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, np.ndarray]:
    """``s`` mapped into the fitted column's value space; mask of known cells that could not be mapped.

    Unmappable cells are returned missing (the model conditions on them as unknown).
    """
    s = s.reset_index(drop=True)
    known = s.notna().to_numpy()
    if not known.any():
        return s, np.zeros(len(s), dtype=bool)
    if spec.kind in ("numeric", "integer"):
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            return s, np.zeros(len(s), dtype=bool)
        if is_datetime(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            vals = pd.Series(np.full(len(s), np.nan))
        else:
            vals = pd.to_numeric(s.astype(object).map(lambda v: v.strip() if isinstance(v, str) else v),
                                 errors="coerce")
            vals = pd.Series(vals.to_numpy(dtype="float64", na_value=np.nan))
        vals[~np.isfinite(vals.to_numpy())] = np.nan
        return vals, known & vals.isna().to_numpy()
    if spec.kind == "datetime":
        if is_datetime(s.dtype):
            tz = datetime_tz(s.dtype)
            if bool(tz) == bool(spec.tz):
                return s, np.zeros(len(s), dtype=bool)
            vals = s.dt.tz_localize(spec.tz) if spec.tz else s.dt.tz_convert(None)
            return vals, np.zeros(len(s), dtype=bool)
        vals = pd.to_datetime(s.astype(object), errors="coerce", format="ISO8601")
        if spec.tz and vals.dt.tz is None:
            vals = vals.dt.tz_localize(spec.tz)
        elif not spec.tz and vals.dt.tz is not None:
            vals = vals.dt.tz_convert(None)
        return vals, known & vals.isna().to_numpy()
    # categorical / boolean: match by canonical text against the fitted categories
    cats = [c for c, f in zip(spec.categories or [], spec.frequencies or [1.0] * len(spec.categories or [])) if f > 0]
    lookup = {canon(c): c for c in cats}
    out = np.empty(len(s), dtype=object)
    out[:] = None
    keys = _canons(s)
    bad = np.zeros(len(s), dtype=bool)
    for i, k in enumerate(keys):
        if k is None:
            continue
        if k in lookup:
            out[i] = lookup[k]
        else:
            bad[i] = True
    if spec.value_type in ("int", "float"):
        return pd.Series(np.array([np.nan if v is None else float(v) for v in out], dtype="float64")), bad
    return pd.Series(out, dtype=object), bad


# -------------------------------------------------------------- for output
def _is_texty(s: pd.Series) -> bool:
    if isinstance(s.dtype, pd.StringDtype):
        return True
    if isinstance(s.dtype, pd.ArrowDtype):
        return pa.types.is_string(s.dtype.pyarrow_dtype) or pa.types.is_large_string(s.dtype.pyarrow_dtype)
    if pd.api.types.is_object_dtype(s.dtype):
        vals = s.dropna()
        return len(vals) > 0 and all(isinstance(v, str) for v in vals.iloc[:1000]) and vals.map(
            lambda v: isinstance(v, str)).all()
    return False


def convert(values: pd.Series, like: pd.Series) -> pd.Series | None:
    """``values`` (no missing cells) in ``like``'s dtype if that loses nothing, else ``None``."""
    dtype = like.dtype
    values = values.reset_index(drop=True)
    if len(values) == 0:
        return values.astype(dtype) if not isinstance(dtype, pd.CategoricalDtype) else values.astype(object)
    keys = _canons(values)
    try:
        if isinstance(dtype, pd.CategoricalDtype):
            lookup = {canon(c): c for c in dtype.categories}
            if any(k not in lookup for k in keys):
                return None
            return pd.Series(pd.Categorical([lookup[k] for k in keys], dtype=dtype))
        if is_datetime(dtype):
            conv = pd.to_datetime(values.astype(object), errors="coerce", format="ISO8601") if not is_datetime(
                values.dtype) else values
            if conv.isna().any():
                return None
            same_tz = (getattr(conv.dt, "tz", None) is None) == (getattr(dtype, "tz", None) is None)
            conv = conv.astype(dtype) if same_tz else None
            return conv
        if pd.api.types.is_bool_dtype(dtype):
            if any(k not in ("True", "False") for k in keys):
                return None
            return pd.Series([k == "True" for k in keys]).astype(dtype)
        if pd.api.types.is_numeric_dtype(dtype):
            if pd.api.types.is_bool_dtype(values.dtype) or any(k in ("True", "False") for k in keys):
                return None
            num = values if pd.api.types.is_numeric_dtype(values.dtype) else pd.to_numeric(values.astype(object))
            conv = num.astype(dtype)
        elif _is_texty(like) or (pd.api.types.is_object_dtype(dtype) and like.notna().sum() == 0
                                  and all(isinstance(v, str) for v in values)):
            conv = pd.Series(keys, dtype=object).astype(dtype)
            return conv  # canonical text is the value's text by definition
        elif pd.api.types.is_object_dtype(dtype):
            return values.astype(object)
        else:
            conv = values.astype(dtype)
    except (TypeError, ValueError, OverflowError):
        return None
    if conv.isna().any() or _canons(conv) != keys:
        return None
    return conv


def widen(like: pd.Series, values: pd.Series) -> pd.Series:
    """``like`` in a dtype that can also hold ``values`` exactly."""
    dtype = like.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        new = [v for v in pd.unique(values.astype(object)) if v not in set(dtype.categories)]
        try:
            return like.cat.add_categories(new)
        except (TypeError, ValueError):
            return like.astype(object)
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        target = "Float64" if pd.api.types.is_extension_array_dtype(dtype) else "float64"
        try:
            wide = like.astype(target)
            if convert(values, wide) is not None and _canons(wide.dropna()) == _canons(like.dropna()):
                return wide
        except (TypeError, ValueError):
            pass
    return like.astype(object)


def merge(base: pd.Series, rows: np.ndarray, values: pd.Series) -> pd.Series:
    """``base`` with the cells at positions ``rows`` replaced by ``values``, every other cell untouched.

    ``base``'s dtype is kept when ``values`` fit it exactly; otherwise it widens.
    """
    base = base.reset_index(drop=True)
    if len(rows) == 0:
        return base
    conv = convert(values, base)
    if conv is None:
        base = widen(base, values)
        conv = convert(values, base)
        if conv is None:
            base = base.astype(object)
            conv = values.reset_index(drop=True).astype(object)
    out = base.copy()
    if isinstance(out.dtype, pd.CategoricalDtype):
        codes = out.cat.codes.to_numpy().copy()
        codes[rows] = conv.cat.codes.to_numpy()
        return pd.Series(pd.Categorical.from_codes(codes, dtype=out.dtype), name=base.name)
    arr = out.array.copy() if pd.api.types.is_extension_array_dtype(out.dtype) else out.to_numpy(copy=True)
    arr[rows] = conv.array if pd.api.types.is_extension_array_dtype(out.dtype) else conv.to_numpy(dtype=arr.dtype)
    return pd.Series(arr, name=base.name, dtype=out.dtype)


# ------------------------------------------------------- given values
def plain_value(v: Any) -> Any:
    """A NumPy scalar as the plain Python value (``np.int64(3)`` -> ``3``); anything else unchanged."""
    return v.item() if isinstance(v, np.generic) else v


def given_values(schema: Any, given: Mapping[str, Any], option: str = "given") -> dict[str, Any]:
    """``given`` (column -> value, values possibly as text) checked and parsed against a fitted ``schema``.

    Each value is read with its column's type (numbers, dates, booleans,
    categories by their text); a column that is not in the schema, a value
    that is not of the column's type, a category never seen, a number or
    date outside the range seen, or a column generated as a key (``id``)
    is an error naming the column.

    Returns
    -------
    dict
        ``{column name: value in the column's model type}``.

    Examples
    --------
    >>> import pandas as pd
    >>> from tabsynth.schema import infer_schema
    >>> schema = infer_schema(pd.DataFrame({"age": [20, 30, 40, 50] * 10, "sex": ["F", "M"] * 20}))
    >>> given_values(schema, {"age": "40", "sex": "F"})
    {'age': 40.0, 'sex': 'F'}
    """
    out: dict[str, Any] = {}
    names = schema.names
    for col, raw in given.items():
        name = str(col)
        if name not in names:
            shown = ", ".join(names[:30]) + (" ..." if len(names) > 30 else "")
            raise value_error(option, f"unknown column {name!r} (or one not modelled); columns are: {shown}")
        spec = schema[name]
        if spec.kind == "id":
            raise value_error(option, f"column {name!r} is a key (generated unique per row); it cannot be fixed")
        if raw is None or (isinstance(raw, float) and np.isnan(raw)) or (isinstance(raw, str) and not raw.strip()):
            raise value_error(option, f"no value for column {name!r}; write {name}=VALUE")
        value, bad = for_model(pd.Series([raw], dtype=object), spec)
        if isinstance(raw, str) and raw != raw.strip() and (bad[0] or pd.isna(value.iloc[0])):
            # text typed with spaces around it ("sex= F"); a value with its own spaces (adult's " <=50K",
            # taken from the data) is matched as it is first
            value, bad = for_model(pd.Series([raw.strip()], dtype=object), spec)
        v = value.iloc[0]
        if bad[0] or (not isinstance(v, str) and pd.isna(v)):
            if spec.kind in ("numeric", "integer"):
                why = "is not a number"
            elif spec.kind == "datetime":
                why = "is not a date/time"
            else:
                cats = [str(c) for c in (spec.categories or [])]
                why = (f"was never seen in column {name!r} (values: " + ", ".join(cats[:10])
                       + (", ..." if len(cats) > 10 else "") + ")")
            raise value_error(option, f"{name}={short_repr(raw)} {why}; give a value of the fitted table")
        if spec.kind in ("numeric", "integer") and spec.min is not None:
            if spec.kind == "integer" and float(v) != round(float(v)):
                raise value_error(option, f"{name}={short_repr(raw)} is not a whole number; "
                                 f"column {name!r} holds integers")
            if not spec.min <= float(v) <= spec.max:
                raise value_error(option, f"{name}={short_repr(raw)} is outside the range of column {name!r} "
                                 f"seen in the data [{spec.min:g}, {spec.max:g}]")
        if spec.kind == "datetime" and spec.min is not None:
            ns, _ = to_ns(pd.Series([v]))
            if not spec.min <= float(ns[0]) <= spec.max:
                raise value_error(option, f"{name}={short_repr(raw)} is outside the dates of column {name!r} "
                                 "seen in the data")
        out[name] = plain_value(v)
    return out
