"""Table schema: what each column is, inferred from dtypes and values.

A :class:`TableSchema` is an ordered list of :class:`ColumnSpec`. It is the
single place where input tables are checked, and it round-trips through JSON
so a saved model knows exactly which dtypes to give back.

Column kinds
------------
``numeric``      floating point values (bounds and rounding learned)
``integer``      whole numbers (int64, nullable ``Int64``, whole floats)
``boolean``      ``bool`` / ``boolean`` / two-valued True/False objects
``categorical``  strings, ``category``, and integers with at most
                 ``max_int_categories`` distinct values
``datetime``     naive or tz-aware datetimes (modelled as numbers)
``constant``     one distinct value (plus possibly missing values)
``id``           a key: unique strings per row, or unique consecutive
                 integers. Synthetic rows get fresh, unique keys (integers
                 continue after the largest key; strings are ``<prefix>N``).
                 Never modelled, so never copied.
``text``         high-cardinality strings that are not keys (free text,
                 names). Sampled from the observed values independently of
                 the other columns: realistic values, no joint structure.
"""

from __future__ import annotations

import json
import math
import os.path
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .errors import InputError, ParameterError, value_error

KINDS = ("numeric", "integer", "boolean", "categorical", "datetime", "constant", "id", "text")
MODELLED_KINDS = ("numeric", "integer", "boolean", "categorical", "datetime")

#: Integers with at most this many distinct values are treated as categorical.
MAX_INT_CATEGORIES = 10
#: Strings with more distinct values than this (and than half the rows) are text.
MAX_CATEGORIES = 500


@dataclass
class ColumnSpec:
    """What one column holds and how to give it back.

    Parameters
    ----------
    name : str
        Column name (as a string; the original label is kept in ``label``).
    kind : str
        One of :data:`KINDS`.
    dtype : str
        The pandas dtype to restore, as ``str(series.dtype)``.
    nullable : bool
        Whether missing values were seen.
    missing_rate : float
        Share of missing values in the fitted table.
    min, max : float or None
        Bounds of numeric / integer / datetime values (datetimes in ns).
    decimals : int or None
        Digits after the point all observed values were rounded to.
    categories : list or None
        Observed values of a categorical / boolean / constant / text column.
    frequencies : list of float or None
        Share of each category among observed values.
    tz : str or None
        Time zone of a tz-aware datetime column.
    unit : str or None
        Resolution of a datetime column (``ns``, ``us``, ``ms``, ``s``).
    step : str or None
        Rounding of datetime values (``D`` for dates, ``s`` for seconds, ...).
    id_prefix : str or None
        Common prefix of a string id column.
    """

    name: str
    kind: str
    dtype: str
    nullable: bool = False
    missing_rate: float = 0.0
    min: float | None = None
    max: float | None = None
    decimals: int | None = None
    categories: list | None = None
    frequencies: list | None = None
    tz: str | None = None
    unit: str | None = None
    step: str | None = None
    id_prefix: str | None = None
    value_type: str | None = None
    ordered: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ColumnSpec:
        return cls(**dict(d))


@dataclass
class TableSchema:
    """Ordered column specs of one table.

    Parameters
    ----------
    columns : list of ColumnSpec
        One spec per modelled column, in the table's order.
    n_rows : int, default 0
        Rows of the table the schema was inferred from.

    Examples
    --------
    >>> import pandas as pd
    >>> from tabsynth.schema import infer_schema
    >>> s = infer_schema(pd.DataFrame({"a": [1.5, 2.0, None], "b": ["x", "y", "x"]}))
    >>> [(c.name, c.kind) for c in s.columns]
    [('a', 'numeric'), ('b', 'categorical')]
    """

    columns: list[ColumnSpec] = field(default_factory=list)
    n_rows: int = 0

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __getitem__(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict:
        """The schema as plain JSON-ready types (see :meth:`from_dict`).

        Returns
        -------
        dict
        """
        return {"n_rows": self.n_rows, "columns": [c.to_dict() for c in self.columns]}

    def to_json(self, **kw: Any) -> str:
        """The schema as JSON text.

        Parameters
        ----------
        **kw
            Passed to :func:`json.dumps` (e.g. ``indent=2``).

        Returns
        -------
        str
        """
        return json.dumps(self.to_dict(), **kw)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TableSchema:
        """The schema :meth:`to_dict` wrote.

        Parameters
        ----------
        d : mapping
            ``{"n_rows": ..., "columns": [...]}``.

        Returns
        -------
        TableSchema
        """
        return cls(columns=[ColumnSpec.from_dict(c) for c in d["columns"]], n_rows=int(d.get("n_rows", 0)))

    @classmethod
    def from_json(cls, text: str) -> TableSchema:
        """The schema :meth:`to_json` wrote.

        Parameters
        ----------
        text : str
            JSON text.

        Returns
        -------
        TableSchema
        """
        return cls.from_dict(json.loads(text))

    def to_frame(self) -> pd.DataFrame:
        """The schema as a table, one row per column (for ``tabsynth inspect``)."""
        rows = []
        for c in self.columns:
            if c.kind in ("numeric", "integer"):
                detail = f"[{_fmt(c.min)}, {_fmt(c.max)}]"
                if c.decimals is not None and c.kind == "numeric":
                    detail += f" {c.decimals} decimals"
            elif c.kind == "datetime":
                lo = pd.Timestamp(int(c.min), tz="UTC").tz_convert(c.tz) if c.tz else pd.Timestamp(int(c.min))
                hi = pd.Timestamp(int(c.max), tz="UTC").tz_convert(c.tz) if c.tz else pd.Timestamp(int(c.max))
                detail = f"[{lo}, {hi}]"
            elif c.kind in ("categorical", "boolean", "constant"):
                cats = c.categories or []
                detail = (f"{len(cats)} values: " + ", ".join(str(v) for v in cats[:5])
                          + (", ..." if len(cats) > 5 else ""))
            elif c.kind == "text":
                detail = f"{len(c.categories or [])} distinct values, sampled independently"
            else:
                detail = "unique key, regenerated"
            rows.append(
                {"column": c.name, "kind": c.kind, "dtype": c.dtype, "missing": round(c.missing_rate, 4),
                 "detail": detail}
            )
        return pd.DataFrame(rows, columns=["column", "kind", "dtype", "missing", "detail"])


def _fmt(v: float | None) -> str:
    if v is None:
        return "?"
    return f"{v:.6g}"


def json_value(v: Any) -> Any:
    """Turn a numpy/pandas scalar into a plain JSON value (keeping bool/int/float/str); timestamps as ISO text.

    >>> import numpy as np
    >>> json_value(np.int64(3)), json_value(np.float32(0.5)), json_value(np.bool_(True))
    (3, 0.5, True)
    """
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, np.str_):
        return str(v)
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(v).isoformat()
    if isinstance(v, np.generic):
        return v.item()
    return v


def short_repr(v: Any, limit: int = 40) -> str:
    """``repr`` of a value for a message: plain Python (``3``, not ``np.int64(3)``), one line, short."""
    v = json_value(v)
    if isinstance(v, str) and len(v) > limit - 5:
        v = v[: limit - 5] + "..."
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind_of(v: Any) -> str:
    """How a message calls the type of a (plain) value."""
    if isinstance(v, bool):
        return "booleans"
    if isinstance(v, (int, float)):
        return "numbers"
    if isinstance(v, str):
        return "strings"
    return f"{type(v).__name__} values"


def _value_type(values: Iterable[Any], name: str | None = None) -> str:
    """``"str"``, ``"int"``, ``"float"`` or ``"bool"``: the one type of a column's values.

    Raises
    ------
    InputError
        Naming the column and one plain example of each type, e.g. ``column
        'x' mixes numbers and strings (e.g. 3 and 'a'); ...``.
    """
    values = [json_value(v) for v in values]
    types = {type(v).__name__ for v in values}
    if types <= {"str"}:
        return "str"
    if types <= {"int"}:
        return "int"
    if types <= {"float", "int"}:
        return "float"
    if types <= {"bool"}:
        return "bool"
    where = f"column '{name}'" if name is not None else "a column"
    if any(isinstance(v, complex) for v in values):
        raise InputError(f"{where} holds complex numbers; split it into real and imaginary parts")
    examples: dict[str, Any] = {}
    for v in values:
        examples.setdefault(_kind_of(v), v)
    kinds = sorted(examples)
    shown = " and ".join(short_repr(examples[k]) for k in kinds[:3])
    if len(kinds) == 1:
        raise InputError(f"{where} holds {kinds[0]} (e.g. {shown}); convert them to strings, numbers or dates")
    raise InputError(f"{where} mixes {' and '.join(kinds)} (e.g. {shown}); convert the column to one type, "
                     "e.g. strings")


def _decimals(x: np.ndarray) -> int | None:
    """Smallest number of decimals (0..6) that all values are rounded to."""
    if x.size == 0:
        return None
    sample = x[: 20000]
    scale = np.abs(sample)
    for d in range(0, 7):
        # relative to each value (not to 1): 1e-12 is not "0 rounded to 0 decimals"
        if np.all(np.abs(np.round(sample, d) - sample) <= 1e-9 * np.where(scale > 0, scale, 1.0)):
            return d
    return None


def _datetime_step(ns: np.ndarray) -> str | None:
    if ns.size == 0:
        return None
    for step, size in (("D", 86_400 * 10**9), ("h", 3600 * 10**9), ("min", 60 * 10**9), ("s", 10**9), ("ms", 10**6),
                       ("us", 10**3)):
        if np.all(ns % size == 0):
            return step
    return None


def _is_bool_like(s: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(s.dtype):
        return True
    if s.dtype == object:
        vals = s.dropna()
        return len(vals) > 0 and all(isinstance(v, (bool, np.bool_)) for v in vals.iloc[:1000]) and all(
            isinstance(v, (bool, np.bool_)) for v in vals
        )
    return False


@dataclass
class ColumnFacts:
    """What the recognisers of :func:`infer_column` read from one column (computed once)."""

    s: pd.Series
    name: str
    force: str | None
    max_int_categories: int
    observed: pd.Series  # the values that are not missing
    base: dict  # name, dtype, nullable, missing_rate: the fields every spec has

    @classmethod
    def of(cls, s: pd.Series, name: str, force: str | None, max_int_categories: int) -> ColumnFacts:
        isna = s.isna().to_numpy()
        n_missing = int(isna.sum())
        base = dict(name=name, dtype=dtype_name(s.dtype), nullable=n_missing > 0,
                    missing_rate=n_missing / len(s) if len(s) else 0.0)
        return cls(s, name, force, max_int_categories, s[~isna], base)


def recognise_datetime(c: ColumnFacts) -> ColumnSpec | None:
    """Datetimes (tz-aware or not): a range and a step; one instant is a constant."""
    if not is_datetime(c.s.dtype):
        return None
    tz = datetime_tz(c.s.dtype)
    unit = getattr(c.s.dtype, "unit", "ns")
    ns, _ = to_ns(c.observed)
    lo, hi = int(ns.min()), int(ns.max())
    if lo == hi and c.force is None:
        return ColumnSpec(kind="constant", categories=[int(lo)], frequencies=[1.0], tz=tz, unit=unit,
                          value_type="datetime", **c.base)
    return ColumnSpec(kind="datetime", min=float(lo), max=float(hi), tz=tz, unit=unit, step=_datetime_step(ns),
                      **c.base)


def refuse_unsupported(c: ColumnFacts) -> None:
    """Durations, periods, intervals and complex numbers are refused with what to do."""
    s = c.s
    if pd.api.types.is_timedelta64_dtype(s.dtype) or isinstance(s.dtype, (pd.PeriodDtype, pd.IntervalDtype)):
        raise InputError(f"column '{c.name}' has dtype {c.base['dtype']}, which is not supported; convert it to "
                         "numbers or strings")
    if pd.api.types.is_complex_dtype(s.dtype) or (
            s.dtype == object and c.observed.map(lambda v: isinstance(v, (complex, np.complexfloating))).any()):
        raise InputError(f"column '{c.name}' holds complex numbers; split it into real and imaginary parts")
    return None


def recognise_number(c: ColumnFacts) -> ColumnSpec | None:
    """Numbers: a constant, a key (consecutive distinct integers), few whole values (categorical), integer or
    numeric."""
    s, observed, base = c.s, c.observed, c.base
    if _is_bool_like(s) or not pd.api.types.is_numeric_dtype(s.dtype) or isinstance(s.dtype, pd.CategoricalDtype):
        return None
    x = observed.to_numpy(dtype="float64")
    if not np.all(np.isfinite(x)):
        raise InputError(f"column '{c.name}' contains infinite values; replace them with missing values or numbers")
    uniques = np.unique(x)
    whole = bool(np.all(x == np.round(x)))
    if len(uniques) == 1 and c.force is None:
        v = observed.iloc[0]
        return ColumnSpec(kind="constant", categories=[json_value(v)], frequencies=[1.0],
                          value_type=_value_type([v], c.name), **base)
    n = len(s)
    integer_dtype = pd.api.types.is_integer_dtype(s.dtype)
    if integer_dtype and c.force is None and len(uniques) == n and n >= 20 and uniques[-1] - uniques[0] + 1 == n:
        return ColumnSpec(kind="id", min=float(uniques[0]), max=float(uniques[-1]), **base)
    if c.force == "categorical" or (c.force is None and whole and len(uniques) <= c.max_int_categories):
        cats, freqs = _categories(observed)
        return ColumnSpec(kind="categorical", categories=cats, frequencies=freqs,
                          value_type=_value_type(cats, c.name), **base)
    kind = "integer" if (integer_dtype or whole) else "numeric"
    dec = 0 if kind == "integer" else _decimals(x)
    return ColumnSpec(kind=kind, min=float(x.min()), max=float(x.max()), decimals=dec, **base)


def recognise_boolean(c: ColumnFacts) -> ColumnSpec | None:
    """Booleans (a bool dtype, or objects that are all booleans); one value is a constant."""
    if not _is_bool_like(c.s):
        return None
    cats, freqs = _categories(c.observed.astype(bool))
    kind = "boolean" if len(cats) > 1 or c.force else "constant"
    return ColumnSpec(kind=kind, categories=cats, frequencies=freqs, value_type="bool", **c.base)


def recognise_category_dtype(c: ColumnFacts) -> ColumnSpec | None:
    """A pandas ``category`` column: its categories (unused ones kept, with frequency 0) and their order."""
    if not isinstance(c.s.dtype, pd.CategoricalDtype):
        return None
    cats_all = list(c.s.dtype.categories)
    counts = c.observed.value_counts(sort=False).reindex(cats_all, fill_value=0).to_numpy()
    cats = [json_value(v) for v in cats_all]
    freqs = (counts / counts.sum()).tolist()
    vt = _value_type(cats, c.name)
    kind = "constant" if sum(k > 0 for k in counts) == 1 and c.force is None else "categorical"
    return ColumnSpec(kind=kind, categories=cats, frequencies=freqs, value_type=vt, ordered=bool(c.s.dtype.ordered),
                      **c.base)


def recognise_values(c: ColumnFacts) -> ColumnSpec:
    """Strings and other values (the last recogniser): a constant, a key, free text, or categories."""
    observed, force, base = c.observed, c.force, c.base
    if c.s.dtype == object:
        bad = observed.map(lambda v: not isinstance(v, (str, int, float, bool, np.integer, np.floating, np.bool_)))
        if bool(bad.any()):
            example = observed[bad].iloc[0]
            raise InputError(
                f"column '{c.name}' holds {type(example).__name__} values; convert them to strings, numbers or dates"
            )
    cats, freqs = _categories(observed)
    vt = _value_type(cats, c.name)
    n_obs = len(observed)
    if len(cats) == 1 and force is None:
        return ColumnSpec(kind="constant", categories=cats, frequencies=freqs, value_type=vt, **base)
    if force is None and len(cats) == n_obs and n_obs >= 20 and vt == "str" and _token_like(cats):
        return ColumnSpec(kind="id", id_prefix=_common_prefix(cats), value_type=vt, **base)
    if force is None and len(cats) == n_obs and n_obs >= 20 and vt == "str":
        return ColumnSpec(kind="text", categories=cats, frequencies=freqs, value_type=vt, **base)
    if force is None and len(cats) > MAX_CATEGORIES and len(cats) > n_obs // 2:
        return ColumnSpec(kind="text", categories=cats, frequencies=freqs, value_type=vt, **base)
    return ColumnSpec(kind="categorical", categories=cats, frequencies=freqs, value_type=vt, **base)


#: the recognisers :func:`infer_column` asks in turn; the first that returns a spec decides the column
RECOGNISERS = (recognise_datetime, refuse_unsupported, recognise_number, recognise_boolean,
               recognise_category_dtype, recognise_values)


def infer_column(
    s: pd.Series,
    *,
    name: str | None = None,
    force: str | None = None,
    max_int_categories: int = MAX_INT_CATEGORIES,
) -> ColumnSpec:
    """Infer the :class:`ColumnSpec` of one column: the first of :data:`RECOGNISERS` that knows it.

    Parameters
    ----------
    s : pandas.Series
        The column.
    name : str, optional
        Name to record (defaults to ``str(s.name)``).
    force : {"categorical", None}
        Override the inferred kind (from ``categorical``).
    max_int_categories : int
        Integers with at most this many distinct values become categorical.

    Returns
    -------
    ColumnSpec
    """
    facts = ColumnFacts.of(s, str(s.name) if name is None else name, force, max_int_categories)
    if len(facts.observed) == 0:
        raise ParameterError(f"column '{facts.name}' has no values (all missing); drop it or pass it in {{ignore}}",
                             {"ignore": None})
    for recognise in RECOGNISERS:
        spec = recognise(facts)
        if spec is not None:
            return spec
    raise AssertionError("recognise_values decides every column")  # pragma: no cover


def dtype_name(dtype: Any) -> str:
    """A string that :func:`make_dtype` turns back into the same dtype."""
    if isinstance(dtype, pd.StringDtype):
        if dtype.na_value is pd.NA:
            return f"string[{dtype.storage}]"
        return "str" if dtype.storage == "pyarrow" else "str[python]"
    if isinstance(dtype, pd.ArrowDtype):
        if pa.types.is_string(dtype.pyarrow_dtype):
            return "arrow:string"
    return str(dtype)


def make_dtype(name: str) -> Any:
    """Inverse of :func:`dtype_name`."""
    if name in ("str", "str[python]"):
        try:
            return pd.StringDtype(storage="pyarrow" if name == "str" else "python", na_value=np.nan)
        except TypeError:  # pandas < 2.3 has no NaN-backed string dtype
            return np.dtype(object)
    if name == "arrow:string":
        return pd.ArrowDtype(pa.string())
    return pd.api.types.pandas_dtype(name)


def is_datetime(dtype: Any) -> bool:
    """True for numpy, tz-aware and Arrow timestamp dtypes."""
    if isinstance(dtype, pd.ArrowDtype):
        return pa.types.is_timestamp(dtype.pyarrow_dtype)
    return isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dtype)


def datetime_tz(dtype: Any) -> str | None:
    if isinstance(dtype, pd.ArrowDtype):
        tz = dtype.pyarrow_dtype.tz
        return str(tz) if tz else None
    return str(dtype.tz) if isinstance(dtype, pd.DatetimeTZDtype) else None


def to_ns(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Datetime column -> (int64 UTC nanoseconds with 0 where missing, missing mask)."""
    isna = s.isna().to_numpy()
    tz = datetime_tz(s.dtype)
    if isinstance(s.dtype, pd.ArrowDtype):
        s = s.astype(pd.DatetimeTZDtype("ns", tz) if tz else np.dtype("datetime64[ns]"))
    if tz:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    ns = s.astype("datetime64[ns]").to_numpy().astype("int64")
    ns[isna] = 0
    return ns, isna


def _categories(observed: pd.Series) -> tuple[list, list[float]]:
    vc = observed.value_counts(sort=False)
    vals = [json_value(v) for v in vc.index]
    try:
        order = sorted(range(len(vals)), key=lambda i: vals[i])
    except TypeError:
        order = sorted(range(len(vals)), key=lambda i: str(vals[i]))
    counts = vc.to_numpy()[order]
    return [vals[i] for i in order], (counts / counts.sum()).tolist()


def _token_like(values: list[str]) -> bool:
    """Keys look like tokens (``A-1027``, ``user_55``, UUIDs): no spaces, short. Unique free text is not a key."""
    sample = values[:5000]
    return all(" " not in v.strip() and len(v) <= 64 for v in sample)


def _common_prefix(values: list[str]) -> str:
    prefix = os.path.commonprefix([str(v) for v in values[:10000]])
    # keep only a non-digit prefix so the numbering that follows is ours
    while prefix and prefix[-1].isdigit():
        prefix = prefix[:-1]
    return prefix


def check_table(df: Any, *, what: str = "table") -> pd.DataFrame:
    """Check that ``df`` is a usable, non-empty DataFrame with unique string-able column names."""
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    if df.shape[1] == 0:
        raise InputError(f"{what} has no columns")
    if df.shape[0] == 0:
        raise InputError(f"{what} has no rows")
    names = [str(c) for c in df.columns]
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise InputError(f"{what} has duplicate column names {dup}; rename them")
    return df


def check_columns(df: pd.DataFrame, names: Iterable[str] | None, option: str) -> list[str]:
    """Check that every name in ``names`` is a column of ``df``; return them as a list."""
    if names is None:
        return []
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    names = list(names)
    cols = {str(c) for c in df.columns}
    unknown = [n for n in names if str(n) not in cols]
    if unknown:
        raise value_error(
            option, f"unknown column(s) {', '.join(short_repr(u) for u in unknown)}; columns are: "
            + ", ".join(str(c) for c in list(df.columns)[:30])
            + (" ..." if df.shape[1] > 30 else ""), names
        )
    return [str(n) for n in names]


def infer_schema(
    df: pd.DataFrame,
    *,
    categorical: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    max_int_categories: int = MAX_INT_CATEGORIES,
) -> TableSchema:
    """Infer the schema of a table.

    Parameters
    ----------
    df : pandas.DataFrame
        The table. Must have rows, columns and unique column names.
    categorical : list of str, optional
        Columns to treat as categorical whatever their dtype.
    ignore : list of str, optional
        Columns to leave out of the model; they are dropped from the schema.
    max_int_categories : int, default 10
        Integer columns with at most this many distinct values are categorical.

    Returns
    -------
    TableSchema

    Raises
    ------
    InputError
        For an empty table, an all-missing column, unknown override columns,
        or values of unsupported types.
    """
    check_table(df)
    cat = set(check_columns(df, categorical, "categorical"))
    ign = set(check_columns(df, ignore, "ignore"))
    both = sorted(cat & ign)
    if both:
        raise ParameterError(f"column '{both[0]}' is both in {{categorical}} and {{ignore}}; choose one",
                             {"categorical": categorical, "ignore": ignore})
    specs = []
    for label in df.columns:
        name = str(label)
        if name in ign:
            continue
        specs.append(
            infer_column(
                df[label], name=name, force="categorical" if name in cat else None,
                max_int_categories=max_int_categories,
            )
        )
    if not specs:
        raise ParameterError("{ignore} leaves no columns to model", {"ignore": ignore})
    return TableSchema(columns=specs, n_rows=len(df))


def is_finite_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v))
