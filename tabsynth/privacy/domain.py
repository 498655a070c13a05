"""The domain of every column of a private fit: from public metadata, the dtype, or a budgeted DP estimate.

What a fit may release about a column without spending budget is only what
does not depend on the rows: its name and dtype (so a boolean column has the
levels ``False`` / ``True``, a pandas categorical column the categories of
its dtype, an integer column integer values), and what the user declares
public in a *public schema*. Everything else is estimated privately:

* numeric bounds (numbers, integers, datetimes) from a noisy histogram
  over fixed, data-independent buckets: the outermost buckets whose noisy
  count is clearly above the noise (never the minimum or the maximum of
  the data); values outside are clamped to them;
* the categories of a text column, and the frequent exact values
  ("spikes", e.g. a capital gain of 0) of a number column, by stable
  thresholding: the count of each value seen plus Gaussian noise, released
  only above a threshold that a value held by a single row clears with
  probability ``delta_t``. Categories that are not released pool into one
  level, written as :data:`OTHER`.

Public schema (a JSON file or a dict)::

    {"columns": {
        "age":       {"bounds": [17, 90]},
        "workclass": {"categories": ["Private", "Self-emp", "Gov"]},
        "score":     {"kind": "numeric", "bounds": [0, 1], "decimals": 2},
        "zip":       {"kind": "categorical", "categories": ["02139", "10001"]}
    }}

``columns`` may also be a list of objects with a ``name`` (the layout
``tabsynth inspect --json`` prints, with ``min`` / ``max``); only ``kind``,
``categories``, ``bounds`` (or ``min`` and ``max``) and ``decimals`` are read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from .._cells import canon
from ..encoding import from_ns, restore
from ..errors import FileFormatError, InputError
from ..schema import ColumnSpec, datetime_tz, dtype_name, is_datetime, make_dtype, to_ns
from .accounting import threshold_for

#: what a category that was not released (or not in the public categories) is written as
OTHER = "(other)"
#: fine bins of a number column between its bounds
FINE_BINS = 32
#: at most this many exact values (spikes) of a number column are kept, the most frequent first
MAX_SPIKES = 64
#: share of the values below the lower DP bound (and above the upper one), clamped to it
BOUND_SHARE = 0.005
#: datetimes without public bounds: bounds are months from 1900 to 2100 (a public assumption)
DATETIME_RANGE = ("1900-01-01", "2100-12-31")
NUMBER_KINDS = ("numeric", "integer", "datetime")
PUBLIC_KINDS = ("categorical", "boolean", *NUMBER_KINDS)


# ------------------------------------------------------------ public schema
def load_public_schema(source: str | Path | Mapping | None) -> dict[str, dict]:
    """``{column: {"kind", "categories", "bounds", "decimals"}}`` from a public schema file or dict.

    Examples
    --------
    >>> load_public_schema({"columns": {"age": {"bounds": [17, 90]}}})
    {'age': {'bounds': (17.0, 90.0)}}
    """
    if source is None:
        return {}
    what = "public_schema"
    if isinstance(source, (str, Path)):
        what = f"public schema '{source}'"
        try:
            doc = json.loads(Path(source).read_text())
        except FileNotFoundError:
            raise FileFormatError(f"{what} does not exist") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise FileFormatError(f"{what} is not a JSON file ({type(e).__name__}: {e})") from None
    else:
        doc = source
    cols = doc.get("columns") if isinstance(doc, Mapping) else None
    if isinstance(cols, list):
        if not all(isinstance(c, Mapping) and "name" in c for c in cols):
            raise InputError(f"{what}: every entry of 'columns' needs a 'name'")
        cols = {str(c["name"]): c for c in cols}
    if not isinstance(cols, Mapping):
        raise InputError(f"{what} needs a 'columns' object: {{\"columns\": {{\"age\": {{\"bounds\": [0, 120]}}}}}}")
    return {str(name): _public_entry(what, str(name), entry) for name, entry in cols.items()}


def _public_entry(what: str, name: str, entry: Any) -> dict:
    if not isinstance(entry, Mapping):
        raise InputError(f"{what}: column '{name}' must be an object (e.g. {{\"bounds\": [0, 1]}})")
    out: dict[str, Any] = {}
    kind = entry.get("kind")
    if kind is not None:
        if kind not in PUBLIC_KINDS:
            raise InputError(f"{what}: column '{name}' has kind {kind!r}; use one of {', '.join(PUBLIC_KINDS)}")
        out["kind"] = kind
    cats = entry.get("categories")
    if cats is not None:
        if not isinstance(cats, list) or not cats or any(isinstance(c, (list, dict)) or c is None for c in cats):
            raise InputError(f"{what}: column '{name}' needs 'categories' as a non-empty list of values")
        out["categories"] = list(dict.fromkeys(cats))
    bounds = entry.get("bounds")
    if bounds is None and entry.get("min") is not None and entry.get("max") is not None and cats is None:
        bounds = [entry["min"], entry["max"]]
    if bounds is not None:
        try:
            lo, hi = (float(pd.Timestamp(b).value) if isinstance(b, str) else float(b) for b in bounds)
        except (TypeError, ValueError):
            raise InputError(f"{what}: column '{name}' needs 'bounds' as [low, high] numbers (or ISO dates)") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise InputError(f"{what}: column '{name}' has bounds {bounds}; give finite [low, high] with low < high")
        out["bounds"] = (lo, hi)
    dec = entry.get("decimals")
    if dec is not None:
        if isinstance(dec, bool) or not isinstance(dec, int) or not 0 <= dec <= 15:
            raise InputError(f"{what}: column '{name}' has decimals {dec!r}; give an integer from 0 to 15")
        out["decimals"] = dec
    return out


# ------------------------------------------------------------------ domain
@dataclass
class ColumnDomain:
    """The levels one column is coded into (its *fine* codes) and how to write them back.

    Fine codes: a categorical column's categories, then :data:`OTHER` (if
    ``other``), then missing (if ``missing``); a number column's spikes, then
    its bins between ``bounds``, then missing.
    """

    name: str
    dtype: str
    kind: str
    categories: list | None = None
    other: bool = False
    bounds: tuple[float, float] | None = None
    spikes: list[float] = field(default_factory=list)
    n_bins: int = 0
    integer: bool = False
    decimals: int | None = None
    missing: bool = False
    tz: str | None = None
    source: dict = field(default_factory=dict)

    @property
    def n_values(self) -> int:
        """Codes that are values (not missing)."""
        if self.kind in NUMBER_KINDS:
            return len(self.spikes) + self.n_bins
        return len(self.categories or []) + int(self.other)

    @property
    def n_codes(self) -> int:
        return self.n_values + int(self.missing)

    def edges(self) -> np.ndarray:
        lo, hi = self.bounds
        return np.linspace(lo, hi, self.n_bins + 1)

    def positions(self) -> np.ndarray:
        """A number per value code (spike value, bin middle), for ordering; categories: their index."""
        if self.kind not in NUMBER_KINDS:
            return np.arange(self.n_values, dtype=float)
        e = self.edges()
        return np.concatenate([np.asarray(self.spikes, dtype=float), (e[:-1] + e[1:]) / 2])

    # ------------------------------------------------------------ coding
    def encode(self, s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """(codes, missing mask) of a column's cells; missing cells get the missing code (or -1 without one)."""
        s = s.reset_index(drop=True)
        isna = s.isna().to_numpy()
        codes = np.full(len(s), self.n_codes - 1 if self.missing else -1, dtype="int64")
        if self.kind in NUMBER_KINDS:
            x = numbers(s[~isna], self.kind)
            codes[~isna] = self._number_codes(x)
        else:
            codes[~isna] = self._category_codes(s[~isna])
        return codes, isna

    def _number_codes(self, x: np.ndarray) -> np.ndarray:
        lo, hi = self.bounds
        width = (hi - lo) / self.n_bins
        out = len(self.spikes) + np.clip(np.floor((x - lo) / width), 0, self.n_bins - 1).astype("int64")
        if self.spikes:
            sp = np.asarray(self.spikes, dtype=float)
            pos = np.clip(np.searchsorted(sp, x), 0, len(sp) - 1)
            hit = sp[pos] == x
            out[hit] = pos[hit]
        return out

    def _category_codes(self, s: pd.Series) -> np.ndarray:
        lookup = {canon(c): i for i, c in enumerate(self.categories or [])}
        idx, uniques = pd.factorize(s.astype(object), use_na_sentinel=True)
        other = len(self.categories or []) if self.other else -1
        keys = np.array([lookup.get(canon(u), other) for u in uniques] + [other], dtype="int64")
        return keys[idx]

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        """Values of ``codes`` in the column's dtype: numbers uniform within their bin, rounded as declared."""
        codes = np.asarray(codes, dtype="int64")
        isna = codes >= self.n_values
        spec = self.spec()
        if self.kind in NUMBER_KINDS:
            return self._decodenumbers(codes, isna, rng, spec)
        labels = np.empty(self.n_values, dtype=object)
        labels[:len(self.categories or [])] = self.categories or []
        if self.other:
            labels[-1] = OTHER
        vals = np.empty(len(codes), dtype=object)
        vals[~isna] = labels[codes[~isna]]
        return restore(vals, isna, spec)

    def _decodenumbers(self, codes: np.ndarray, isna: np.ndarray, rng: np.random.Generator,
                        spec: ColumnSpec) -> pd.Series:
        e = self.edges()
        ns = len(self.spikes)
        u = rng.random(len(codes))  # one draw per row whatever its code: rows stay aligned with the seed
        b = np.clip(codes - ns, 0, self.n_bins - 1)
        x = e[b] + u * (e[b + 1] - e[b])
        if ns:
            is_spike = (codes < ns) & ~isna
            x[is_spike] = np.asarray(self.spikes, dtype=float)[codes[is_spike]]
        if self.integer or self.kind == "datetime":
            x = np.round(x)
        elif self.decimals is not None:
            x = np.round(x, self.decimals)
        x[isna] = 0
        if self.kind == "datetime":
            return from_ns(x.astype("int64"), isna, spec)
        return restore(x.astype("int64") if self.integer and not isna.any() else x, isna, spec)

    # ------------------------------------------------------------- schema
    def spec(self, freqs: np.ndarray | None = None) -> ColumnSpec:
        """The column as a :class:`~tabsynth.schema.ColumnSpec` (``freqs``: probabilities of the fine codes)."""
        missing_rate = float(freqs[-1]) if freqs is not None and self.missing else 0.0
        base = dict(name=self.name, dtype=self.dtype, nullable=self.missing, missing_rate=missing_rate)
        if self.kind in NUMBER_KINDS:
            kind = "integer" if self.integer and self.kind != "datetime" else self.kind
            return ColumnSpec(kind=kind, min=self.bounds[0], max=self.bounds[1], decimals=self.decimals,
                              tz=self.tz, **base)
        cats = list(self.categories or [])
        f = None
        if freqs is not None:
            vals = np.asarray(freqs[:len(cats)], dtype=float)
            f = (vals / vals.sum() if vals.sum() > 0 else np.full(len(cats), 1 / max(len(cats), 1))).tolist()
        ordered = isinstance(make_dtype(self.dtype), pd.CategoricalDtype) and bool(self.source.get("ordered"))
        return ColumnSpec(kind=self.kind, categories=cats, frequencies=f, value_type=_value_type(cats),
                          ordered=ordered, **base)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["bounds"] = None if self.bounds is None else list(self.bounds)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ColumnDomain:
        d = dict(d)
        d["bounds"] = None if d.get("bounds") is None else tuple(float(b) for b in d["bounds"])
        return cls(**d)


def _value_type(cats: list) -> str:
    if all(isinstance(c, bool) for c in cats):
        return "bool"
    if all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in cats):
        return "float" if any(isinstance(c, float) for c in cats) else "int"
    return "str"


def numbers(s: pd.Series, kind: str) -> np.ndarray:
    """Non-missing cells of a number column as floats (datetimes in ns)."""
    if kind == "datetime":
        return to_ns(s)[0].astype(float)
    return s.to_numpy(dtype="float64", na_value=np.nan)


def _jsonable(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


# ------------------------------------------------------------ the plan
@dataclass
class ColumnPlan:
    """A column's domain before the data is read: what is public, what must be estimated (and spent for)."""

    domain: ColumnDomain
    needs_bounds: bool = False
    needs_values: bool = False  # categories (text) or spikes (numbers) by stable thresholding


def plan_column(name: str, s: pd.Series, public: Mapping[str, Any] | None, categorical: bool) -> ColumnPlan:
    """What ``s``'s dtype and the public entry fix about the column; reads no value of ``s``."""
    public = dict(public or {})
    dtype = s.dtype
    name_dt = dtype_name(dtype)
    can_miss = not (isinstance(dtype, np.dtype) and dtype.kind in "iub")
    kind = public.get("kind")
    if kind is None:
        if categorical or "categories" in public:
            kind = "categorical"
        elif pd.api.types.is_bool_dtype(dtype):
            kind = "boolean"
        elif is_datetime(dtype):
            kind = "datetime"
        elif pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
            kind = "integer" if pd.api.types.is_integer_dtype(dtype) else "numeric"
        else:
            kind = "categorical"
    dom = ColumnDomain(name=name, dtype=name_dt, kind="datetime" if kind == "datetime" else
                       ("numeric" if kind in NUMBER_KINDS else ("boolean" if kind == "boolean" else "categorical")),
                       missing=can_miss, decimals=public.get("decimals"), integer=kind == "integer",
                       tz=datetime_tz(dtype) if kind == "datetime" else None)
    if dom.kind in NUMBER_KINDS:
        if kind == "datetime" and not is_datetime(dtype):
            raise InputError(f"public schema: column '{name}' is declared datetime but has dtype {name_dt}")
        if "bounds" in public:
            dom.bounds = public["bounds"]
            dom.source["bounds"] = "public"
        dom.n_bins = FINE_BINS
        return ColumnPlan(dom, needs_bounds="bounds" not in public, needs_values=True)
    if "categories" in public:
        dom.categories, dom.other = list(public["categories"]), True
        dom.source["categories"] = "public"
        return ColumnPlan(dom)
    if dom.kind == "boolean" or pd.api.types.is_bool_dtype(dtype):
        dom.kind, dom.categories = "boolean", [False, True]
        dom.source["categories"] = "dtype"
        return ColumnPlan(dom)
    if isinstance(dtype, pd.CategoricalDtype):
        dom.categories = [_jsonable(c) for c in dtype.categories]
        dom.source.update(categories="dtype", ordered=bool(dtype.ordered))
        return ColumnPlan(dom)
    dom.other = True
    return ColumnPlan(dom, needs_values=True)


# ------------------------------------------------------- DP estimation
def bucket_edges(kind: str, fine: bool) -> np.ndarray:
    """Fixed edges of the buckets DP bounds are read from (public: they do not depend on the data).

    Numbers: 0 and ±10^e (e = -6..16), or finer, ±10^(k/20) rounded to two significant digits (buckets
    about 12% wide); datetimes: the first day of every year from 1900 to 2100, or of every month.
    """
    if kind == "datetime":
        dates = pd.date_range(DATETIME_RANGE[0], DATETIME_RANGE[1], freq="MS" if fine else "YS")
        return dates.as_unit("ns").asi8.astype(float)
    if not fine:
        pos = 10.0 ** np.arange(-6, 17)
    else:
        mags = 10.0 ** (np.arange(-120, 321) / 20)
        digits = np.floor(np.log10(mags))
        pos = np.unique(np.round(mags / 10**digits, 1) * 10**digits)
    return np.concatenate([-pos[::-1], [0.0], pos])


def _clear_range(x: np.ndarray, edges: np.ndarray, sigma: float,
                 rng: np.random.Generator) -> tuple[float, float] | None:
    """Outer edges of the buckets whose count plus ``N(0, sigma^2)`` clears the noise (a Gaussian mechanism on the
    bucket histogram, L2 sensitivity 1); the threshold keeps the chance that any empty bucket clears it below
    1e-3. ``None`` when no bucket clears it."""
    counts = np.bincount(np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2),
                         minlength=len(edges) - 1)
    noisy = counts + rng.normal(0, sigma, len(counts))
    clear = np.flatnonzero(noisy > sigma * float(ndtri(1 - 1e-3 / len(counts))))
    return (float(edges[clear[0]]), float(edges[clear[-1] + 1])) if len(clear) else None


def dp_bounds(x: np.ndarray, kind: str, sigma: float, rng: np.random.Generator) -> tuple[float, float]:
    """Bounds of the bulk of ``x`` in two Gaussian-mechanism steps (noise ``sigma * sqrt(2)`` each: together as
    one of ``sigma``): the coarse buckets (decades, years) that clear the noise, then, inside their range,
    the :data:`BOUND_SHARE` and ``1 - BOUND_SHARE`` quantiles read from noisy fine buckets (when the noise
    allows; else the coarse range).

    A few extreme values never set a bound (their bucket does not clear the noise); values outside the
    bounds are clamped to them.
    """
    step = sigma * np.sqrt(2)
    coarse = bucket_edges(kind, fine=False)
    found = _clear_range(x, coarse, step, rng)
    if found is None:  # nothing stands out: the coarse bucket with the largest noisy count
        counts = np.bincount(np.clip(np.searchsorted(coarse, x, side="right") - 1, 0, len(coarse) - 2),
                             minlength=len(coarse) - 1) + rng.normal(0, step, len(coarse) - 1)
        k = int(np.argmax(counts))
        found = (float(coarse[k]), float(coarse[k + 1]))
    fine = bucket_edges(kind, fine=True)
    inside = np.unique(np.concatenate([[found[0]], fine[(fine > found[0]) & (fine < found[1])], [found[1]]]))
    counts = np.bincount(np.clip(np.searchsorted(inside, x, side="right") - 1, 0, len(inside) - 2),
                         minlength=len(inside) - 1)
    noisy = counts + rng.normal(0, step, len(counts))
    noisy = np.where(noisy > 3 * step, noisy, 0.0)  # empty buckets' noise would pull the quantiles outwards
    total = noisy.sum()
    if np.sqrt(len(noisy)) * step > 0.05 * total:  # too noisy to read quantiles from: the coarse range
        return found
    cum = np.cumsum(noisy)
    lo = int(np.argmax(cum > BOUND_SHARE * total))
    hi = int(np.argmax(cum >= (1 - BOUND_SHARE) * total))
    return float(inside[lo]), float(inside[hi + 1])


def dp_frequent(keys: list, counts: np.ndarray, sigma: float, delta_t: float,
                rng: np.random.Generator) -> tuple[list, np.ndarray]:
    """Keys whose count plus ``N(0, sigma^2)`` clears :func:`~.accounting.threshold_for` (stable thresholding).

    ``keys`` must be in an order that does not depend on the counts (sorted), so noise lines up with keys.
    """
    noisy = np.asarray(counts, dtype=float) + rng.normal(0, sigma, len(counts))
    keep = noisy > threshold_for(sigma, delta_t)
    return [k for k, ok in zip(keys, keep) if ok], noisy[keep]


def value_counts(s: pd.Series, numeric: bool, kind: str) -> tuple[list, np.ndarray]:
    """Distinct non-missing values of ``s`` (sorted by their canonical text, or numerically) and their counts."""
    s = s[s.notna()]
    if numeric:
        vals, counts = np.unique(numbers(s, kind), return_counts=True)
        return vals.tolist(), counts
    idx, uniques = pd.factorize(s.astype(object))
    counts = np.bincount(idx, minlength=len(uniques))
    keys = [canon(u) for u in uniques]
    merged: dict[str, list] = {}
    for k, u, c in zip(keys, uniques, counts):  # values with one canonical text ("1", 1) are one category
        m = merged.setdefault(k, [_jsonable(u), 0])
        m[1] += int(c)
    order = sorted(merged)
    return [merged[k][0] for k in order], np.array([merged[k][1] for k in order], dtype=float)
