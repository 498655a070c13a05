"""Rules that hold in every real row, found without being declared, and kept in every synthetic row.

Real tables carry logic that a row-by-row model only approximates: a
participant is always eligible, a cause of death is present exactly when the
person died, a husband is never female, one column equals another minus 9.
A model that gets such a rule right in 99.98% of its rows still prints rows a
domain expert calls impossible. :func:`find_rules` reads two kinds of rules
off the fitted table:

* **Allowed combinations of two columns** (:class:`PairRule`). Each column is
  seen through a *view*: its values when it has at most
  :data:`MAX_LEVELS` distinct ones (categories, flags, small counts), else
  only "present" / "missing"; a missing cell is a value of the view. For
  columns ``A`` and ``B`` and a value ``a`` of ``A`` seen in at least
  :data:`MIN_SUPPORT` rows, the values of ``B`` seen with ``a`` form a set
  ``S``. ``A = a => B in S`` becomes a rule when ``S`` is not every value of
  ``B``, every value in ``S`` was seen with ``a`` at least twice (a value
  seen once says other values of its kind were missed by chance: the tail
  of a numeric relation, not a rule), and the chance that ``n_a`` rows
  drawn independently of ``A`` all fall in ``S`` is below
  :data:`MAX_CHANCE` (``P(B in S) ** n_a``). This one
  test covers implications (participation => eligibility), exclusions
  (a husband is not female), functional dependencies (education =>
  education-num) and structural missingness (cause of death missing exactly
  when alive). A rule from a handful of rows, or one that chance explains,
  is never made.
* **Equations** (:class:`Equation`): a number column equal to another plus
  a constant (``b = a + c``), or to the sum or difference of two others
  plus a constant (``b = a1 - a2 + c``), in every row where the cells are
  present, with at least :data:`MIN_SUPPORT` such rows and three distinct
  values in each column.

:meth:`Rules.enforce` keeps them in generated rows: equations are applied
(the target is computed from the terms; when the target was given, the last
drawn term is solved for); a pair rule broken in a cell the model drew is
mended: one drawn cell of the pair (either, at random, when both were
drawn) takes a value the real rows show with the other cell, by their
counts, which keeps both columns' shares where a model errs both ways
(rejecting whole rows would thin out the values a weak model gets wrong: a
mixture model's 5.6% missing workclass on adult fell to 1.1%). What cannot
be mended that way (a value that would have to be invented, an equation's
cell outside its column's observed range) is drawn again, up to
:data:`MAX_ROUNDS` times, and in unconditional sampling a row still broken
is replaced by another valid row of the same block. Cells
given by the caller are never changed. :meth:`Rules.structural` tells, for
imputation, which missing cells *must* stay missing (missingness a rule
explains): those are left missing by default.

Rules work on DataFrames in the fitted table's column names and dtypes, so
they never depend on a backend; they are saved with the model as JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from ._cells import canon, convert, merge, plain_value
from .schema import TableSchema, infer_schema

#: a view with more distinct values than this is seen as "present" / "missing" only
MAX_LEVELS = 64
#: a rule needs a value seen in at least this many rows (and an equation this many rows with its cells)
MIN_SUPPORT = 10
#: ... and a chance below this of arising from a column independent of the other
MAX_CHANCE = 1e-12
#: equations among three columns are looked for in tables of at most this many number columns
MAX_EQUATION_COLUMNS = 60
#: rows breaking a rule that mending cannot mend are drawn again at most this many times
MAX_ROUNDS = 10
#: kinds of column a view is made of
_VIEW_KINDS = ("categorical", "boolean", "constant", "numeric", "integer", "datetime")

PRESENT = "<present>"
MISSING = "<missing>"


@dataclass
class View:
    """A column seen as a few values: its own (``values``) or just present/missing (``values=None``)."""

    name: str
    values: list | None  # distinct observed values, or None: only "present"
    has_missing: bool

    @property
    def levels(self) -> int:
        return (1 if self.values is None else len(self.values)) + int(self.has_missing)

    @property
    def missing_code(self) -> int:
        return self.levels - 1 if self.has_missing else -1

    def labels(self) -> list:
        own = [PRESENT] if self.values is None else list(self.values)
        return own + ([MISSING] if self.has_missing else [])

    def empty_labels(self) -> np.ndarray:
        """Which levels are written as a missing cell ("present" / "missing")."""
        return np.array([lab in (MISSING, PRESENT) for lab in self.labels()], dtype=bool)

    def codes(self, s: pd.Series) -> np.ndarray:
        """Level of each cell; ``levels`` (one past the last) for a value the view never saw."""
        isna = s.isna().to_numpy()
        if self.values is None:
            out = np.zeros(len(s), dtype=np.int64)
        else:
            out = self._lookup(s)
            slow = np.flatnonzero((out < 0) & ~isna)
            if len(slow):  # dtypes that drift (integers where strings were fitted): match by canonical text
                lookup = {canon(v): i for i, v in enumerate(self.values)}
                vals = s.to_numpy(dtype=object)
                out[slow] = [lookup.get(canon(vals[i]), -1) for i in slow]
            out = np.where(out < 0, self.levels, out).astype(np.int64)
        out[isna] = self.missing_code if self.has_missing else self.levels
        return out

    def _lookup(self, s: pd.Series) -> np.ndarray:
        """Index of each cell's value in ``values`` (-1: not there), by the fastest route the dtype allows."""
        if isinstance(s.dtype, pd.CategoricalDtype):
            table = pd.Index(self.values).get_indexer(s.cat.categories.astype(object))
            codes = s.cat.codes.to_numpy()
            return np.where(codes < 0, -1, table[np.maximum(codes, 0)]).astype(np.int64)
        if (pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype)
                and all(isinstance(v, str) for v in self.values)):
            import pyarrow as pa
            import pyarrow.compute as pc

            arr = pa.array(s, from_pandas=True)
            arr = arr if arr.type == pa.string() else arr.cast(pa.string())
            found = pc.index_in(arr, value_set=pa.array(self.values, type=pa.string())).fill_null(-1)
            return np.asarray(found, dtype=np.int64)
        return np.asarray(pd.Index(self.values).get_indexer(s), dtype=np.int64)

    def to_dict(self) -> dict:
        return {"name": self.name, "values": None if self.values is None else [plain_value(v) for v in self.values],
                "has_missing": self.has_missing}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "View":
        return cls(str(d["name"]), None if d["values"] is None else list(d["values"]), bool(d["has_missing"]))


@dataclass
class PairRule:
    """Allowed combinations of the views of two columns (``allowed[i, j]``: level i of ``a`` with level j of ``b``).

    ``counts`` are the real rows per combination (the draws of a repair).
    """

    a: str
    b: str
    allowed: np.ndarray
    counts: np.ndarray

    def broken(self, ca: np.ndarray, cb: np.ndarray, keep_present: bool = False,
               views: tuple[View, View] | None = None) -> np.ndarray:
        """Rows whose combination is not allowed (an unseen level is always allowed).

        ``keep_present``: a present cell where the rule wants it missing is let be.
        """
        table = self._bad_table(keep_present and views is not None, views)
        return np.take(table, ca * (self.allowed.shape[1] + 1) + cb)

    def _bad_table(self, keep_present: bool, views: tuple[View, View] | None) -> np.ndarray:
        """Flat ``(levels_a + 1) x (levels_b + 1)`` table: True where a combination breaks the rule (built once)."""
        cache = self.__dict__.setdefault("_tables", {})
        if keep_present not in cache:
            ka, kb = self.allowed.shape
            ok = np.ones((ka + 1, kb + 1), dtype=bool)
            ok[:ka, :kb] = self.allowed
            if keep_present and views is not None:
                mb, ma = views[1].missing_code, views[0].missing_code
                if mb >= 0:
                    ok[:ka, :kb][self.allowed[:, mb] & (self.allowed.sum(axis=1) == 1)] = True
                if ma >= 0:
                    ok[:ka, :kb][:, self.allowed[ma, :] & (self.allowed.sum(axis=0) == 1)] = True
            cache[keep_present] = (~ok).ravel()
        return cache[keep_present]

    def describe(self, va: View, vb: View) -> list[str]:
        """The rule in words, one line per value of either column that restricts the other."""
        out = []
        log_chance = math.log(MAX_CHANCE)
        for (na, la), (nb, lb), cnt in (((self.a, va.labels()), (self.b, vb.labels()), self.counts),
                                        ((self.b, vb.labels()), (self.a, va.labels()), self.counts.T)):
            own = _restrict(cnt, log_chance)
            for i in np.flatnonzero(~own.all(axis=1)):
                allowed = ", ".join(_show(lb[j]) for j in np.flatnonzero(own[i]))
                out.append(f"{na} = {_show(la[i])} => {nb} in {{{allowed}}}")
        return out

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "allowed": self.allowed.astype(int).tolist(), "counts": self.counts.tolist()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "PairRule":
        return cls(str(d["a"]), str(d["b"]), np.asarray(d["allowed"], dtype=bool), np.asarray(d["counts"], dtype=np.int64))


@dataclass
class Equation:
    """``target = sum(coef * term) + c`` in every real row where its cells are present (numbers, coefs +-1)."""

    target: str
    terms: list[tuple[str, int]]
    c: float
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)  # observed range of each column
    tol: float = 0.0  # real values rounded to a few decimals: the equation holds up to their rounding
    decimals: dict[str, int] = field(default_factory=dict)  # digits a computed cell is rounded to

    @property
    def columns(self) -> list[str]:
        return [self.target] + [t for t, _ in self.terms]

    def describe(self) -> str:
        text = f"{self.target} = "
        for k, (col, coef) in enumerate(self.terms):
            sign = ("-" if coef < 0 else "") if k == 0 else (" - " if coef < 0 else " + ")
            text += sign + col
        if self.c:
            text += f" {'+' if self.c > 0 else '-'} {_show(abs(self.c))}"
        return text

    def values(self, df: pd.DataFrame) -> dict[str, np.ndarray]:
        return {col: _floats(df[col]) for col in self.columns}

    def broken(self, df: pd.DataFrame) -> np.ndarray:
        v = self.values(df)
        rhs = self.c + sum(coef * v[col] for col, coef in self.terms)
        present = ~np.isnan(rhs) & ~np.isnan(v[self.target])
        scale = 1e-9 * np.maximum(1.0, np.abs(rhs)) + self.tol
        return present & (np.abs(v[self.target] - rhs) > scale)

    def outside(self, df: pd.DataFrame, free: Mapping[str, np.ndarray] | None) -> np.ndarray:
        """Rows where a drawn or computed cell of the equation lies outside its column's observed range."""
        n = len(df)
        out = np.zeros(n, dtype=bool)
        for col, (lo, hi) in self.bounds.items():
            x = _floats(df[col])
            tol = 1e-9 * max(1.0, abs(lo), abs(hi))
            out |= _free(free, col, n) & ((x < lo - tol) | (x > hi + tol))
        return out

    def apply(self, df: pd.DataFrame, free: Mapping[str, np.ndarray] | None) -> None:
        """Set the equation's free cell in place: the target from the terms, or a lone free term from the rest."""
        n = len(df)
        v = self.values(df)
        present = np.all([~np.isnan(x) for x in v.values()], axis=0)
        is_free = {col: _free(free, col, n) for col in self.columns}
        rhs = self.c + sum(coef * v[col] for col, coef in self.terms)
        set_target = present & is_free[self.target]
        if set_target.any():
            df[self.target] = _put(df[self.target], set_target,
                                   _typed(self._round(self.target, rhs[set_target]), df[self.target]))
        solved = np.zeros(n, dtype=bool)  # the target given: the last drawn term takes what the others leave
        for col, coef in reversed(self.terms):
            rows = present & ~is_free[self.target] & is_free[col] & ~solved
            if rows.any():
                rest = v[self.target] - self.c - sum(oc * v[o] for o, oc in self.terms if o != col)
                df[col] = _put(df[col], rows, _typed(self._round(col, rest[rows] * coef), df[col]))
                solved |= rows

    def _round(self, col: str, values: np.ndarray) -> np.ndarray:
        d = self.decimals.get(col)
        return values if d is None else np.round(values, d)

    def to_dict(self) -> dict:
        return {"target": self.target, "terms": [[t, int(k)] for t, k in self.terms], "c": self.c,
                "bounds": {k: [float(lo), float(hi)] for k, (lo, hi) in self.bounds.items()}, "tol": self.tol,
                "decimals": self.decimals}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Equation":
        return cls(str(d["target"]), [(str(t), int(k)) for t, k in d["terms"]], float(d["c"]),
                   {str(k): (float(v[0]), float(v[1])) for k, v in d.get("bounds", {}).items()},
                   float(d.get("tol", 0.0)), {str(k): int(v) for k, v in d.get("decimals", {}).items()})


@dataclass
class Rules:
    """The rules of one table (see the module docstring).

    Examples
    --------
    >>> import pandas as pd
    >>> from tabsynth.rules import find_rules
    >>> df = pd.DataFrame({"died": [0, 1] * 50, "cause": [None, "heart"] * 50, "x": [i % 37 for i in range(100)]})
    >>> df["x9"] = df["x"] - 9
    >>> print("\\n".join(find_rules(df).describe()))
    died = 0 => cause in {<missing>}
    died = 1 => cause in {heart}
    cause = heart => died in {1}
    cause = <missing> => died in {0}
    x9 = x - 9
    """

    views: dict[str, View] = field(default_factory=dict)
    pairs: list[PairRule] = field(default_factory=list)
    equations: list[Equation] = field(default_factory=list)
    #: what :meth:`_fits` and :meth:`_write` work out once per column and dtype (every block asks again)
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    def __bool__(self) -> bool:
        return bool(self.pairs or self.equations)

    # ------------------------------------------------------------- reading
    def describe(self) -> list[str]:
        """Every rule in words (``tabsynth inspect``)."""
        lines = []
        for p in self.pairs:
            lines += p.describe(self.views[p.a], self.views[p.b])
        lines += [e.describe() for e in self.equations]
        return lines

    def _codes(self, df: pd.DataFrame, cache: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """Each pair column's view codes; ``cache`` (filled here) keeps those already computed for ``df``."""
        cache = {} if cache is None else cache
        for c in {p.a for p in self.pairs} | {p.b for p in self.pairs}:
            if c not in cache and c in df.columns:
                cache[c] = self.views[c].codes(df[c])
        return cache

    def broken(self, df: pd.DataFrame, free: Mapping[str, np.ndarray] | None = None,
               keep_present: bool = False) -> np.ndarray:
        """Rows of ``df`` breaking a pair rule in a cell that is free (default: every cell is free).

        ``free[col]`` is a bool array: the cells the model drew (given cells are
        not free). A combination of two given cells is never counted.
        """
        return self._broken(df, free, keep_present, {})

    def _broken(self, df: pd.DataFrame, free: Mapping[str, np.ndarray] | None, keep_present: bool,
                codes: dict[str, np.ndarray]) -> np.ndarray:
        """:meth:`broken` with ``codes``, the view codes of ``df`` known so far (completed here)."""
        bad = np.zeros(len(df), dtype=bool)
        if not len(df):
            return bad
        codes = self._codes(df, codes)
        for p in self.pairs:
            if p.a not in codes or p.b not in codes:
                continue
            hit = p.broken(codes[p.a], codes[p.b], keep_present, (self.views[p.a], self.views[p.b]))
            if free is not None:
                hit &= _free(free, p.a, len(df)) | _free(free, p.b, len(df))
            bad |= hit
        return bad

    def _breaks(self, df: pd.DataFrame, free: Mapping[str, np.ndarray] | None, keep_present: bool,
                codes: dict[str, np.ndarray]) -> np.ndarray:
        """What a redraw mends: broken pairs, equations that do not hold, and equations whose computed cell left its
        column's observed range."""
        bad = self._broken(df, free, keep_present, codes)
        for e in self.equations:
            if all(c in df.columns for c in e.columns):
                drawn = np.any([_free(free, c, len(df)) for c in e.columns], axis=0)
                bad |= e.outside(df, free) | (e.broken(df) & drawn)
        return bad

    def count_broken(self, df: pd.DataFrame) -> int:
        """Rows of ``df`` that break at least one rule (pairs and equations)."""
        bad = self.broken(df)
        for e in self.equations:
            if all(c in df.columns for c in e.columns):
                bad |= e.broken(df)
        return int(bad.sum())

    def structural(self, df: pd.DataFrame) -> dict[str, np.ndarray]:
        """Per column, the cells that must be missing given the other cells of their row (missingness a rule explains)."""
        out: dict[str, np.ndarray] = {}
        codes = self._codes(df)
        log_chance = math.log(MAX_CHANCE)
        for p in self.pairs:
            # a value's own rule only: a rare value forbidden everything else by the other column's rules is not one
            for src, dst, table in ((p.a, p.b, _restrict(p.counts, log_chance)),
                                    (p.b, p.a, _restrict(p.counts.T, log_chance))):
                m = self.views[dst].missing_code
                if m < 0 or src not in codes:
                    continue
                only = table[:, m] & (table.sum(axis=1) == 1)  # levels of src that allow dst only missing
                if not only.any():
                    continue
                hit = np.concatenate([only, [False]])[codes[src]]
                out[dst] = out.get(dst, np.zeros(len(df), dtype=bool)) | hit
        return out

    # ------------------------------------------------------------- keeping
    def apply_equations(self, df: pd.DataFrame, free: Mapping[str, np.ndarray] | None = None) -> pd.DataFrame:
        """Every equation set in place where its cells are present and one is free (given cells are the source)."""
        if len(df):
            for e in self.equations:
                if all(c in df.columns for c in e.columns):
                    e.apply(df, free)
        return df

    def enforce(self, df: pd.DataFrame, *, rng: np.random.Generator,
                redraw: Callable[[np.ndarray], pd.DataFrame] | None = None,
                free: Mapping[str, np.ndarray] | None = None, replace_rows: bool = False,
                keep_present: bool = False, best: bool = False) -> tuple[pd.DataFrame, int]:
        """Make the rows of ``df`` follow the rules; returns the table and the rows still breaking one.

        Parameters
        ----------
        df : DataFrame
            Generated rows in the fitted column names and dtypes (modified in place).
        rng : numpy.random.Generator
            For repairs (and the caller's ``redraw``): same generator state, same rows.
        redraw : callable, optional
            ``redraw(rows)`` draws those rows again (same given cells), a DataFrame of ``len(rows)`` rows.
        free : mapping of column to bool array, optional
            The cells the model drew; given cells are never changed. Default: all.
        replace_rows : bool
            Rows still breaking a rule are replaced by valid rows of ``df`` (unconditional sampling).
        keep_present : bool
            A present cell where a rule wants it missing is not a break (imputation that fills
            structurally missing cells on request).
        best : bool
            A repair takes the most frequent allowed value (a best single guess) instead of a draw.
        """
        if not self or not len(df):
            return df, 0
        codes: dict[str, np.ndarray] = {}  # view codes of df's columns, kept in step with its changes
        self._settle(df, free, rng, keep_present, best, codes)
        bad = self._breaks(df, free, keep_present, codes)
        rounds = 0
        while redraw is not None and bad.any() and rounds < MAX_ROUNDS:
            rows = np.flatnonzero(bad)
            new = redraw(rows)
            sub_free = None if free is None else {c: np.asarray(v)[rows] for c, v in free.items()}
            new_codes: dict[str, np.ndarray] = {}
            self._settle(new, sub_free, rng, keep_present, best, new_codes)
            for c in df.columns:
                if c in new.columns:
                    df[c] = _put(df[c], bad, new[c])
            still = self._breaks(new, sub_free, keep_present, new_codes)
            _moved(codes, rows, new_codes, slice(None), [c for c in df.columns if c in new.columns])
            bad = np.zeros(len(df), dtype=bool)
            bad[rows[still]] = True
            rounds += 1
        if bad.any() and replace_rows and (~bad).any():
            rows, good = np.flatnonzero(bad), np.flatnonzero(~bad)
            src = good[rng.integers(0, len(good), len(rows))]
            fixed = df.iloc[src].reset_index(drop=True)
            for c in df.columns:
                df[c] = _put(df[c], bad, fixed[c])
            _moved(codes, rows, codes, src, list(df.columns))
            bad = self._breaks(df, free, keep_present, codes)
        return df, int(bad.sum())

    def _settle(self, df: pd.DataFrame, free: Mapping[str, np.ndarray] | None, rng: np.random.Generator,
                keep_present: bool, best: bool, codes: dict[str, np.ndarray]) -> None:
        """Equations applied, broken pairs mended, equations applied again (a mended cell may be a term).

        ``codes``: the view codes of ``df`` known so far, kept in step (an equation's columns are forgotten).
        """
        self.apply_equations(df, free)
        self._forget_equations(codes)
        self._repair(df, free, rng, keep_present, best, codes)
        if self.equations:
            self.apply_equations(df, free)
            self._forget_equations(codes)

    def _forget_equations(self, codes: dict[str, np.ndarray]) -> None:
        for e in self.equations:
            for c in e.columns:
                codes.pop(c, None)

    def _repair(self, df: pd.DataFrame, free: Mapping[str, np.ndarray] | None, rng: np.random.Generator,
                keep_present: bool, best: bool, codes: dict[str, np.ndarray], passes: int = 3) -> None:
        """Mend broken pairs in place: one free cell of the pair (either, at random, when both are) takes a value
        the real rows show with the other cell, drawn by their counts (``best``: the most frequent).

        Mending one cell of each broken pair keeps both columns' shares where a model errs both ways (a
        rejection of the whole row would not: rows with a rare value break more often and would thin it out).
        A view of present / missing only is mended only towards missing (no value is invented).

        The mends work on the columns' view codes (``codes``, completed and kept in step here); each mended
        column is written to ``df`` once, at the end, when its values fit its dtype (:meth:`_fits`), else at
        each mend (a column that widens: the same cells and dtype as one write per mend).
        """
        n = len(df)
        pending: dict[str, np.ndarray] = {}  # column -> rows whose mended level waits in codes to be written
        fits: dict[str, bool] = {}
        track = _Tracker()
        for _ in range(passes):
            mended = False
            for k, p in enumerate(self.pairs):
                if p.a not in df.columns or p.b not in df.columns:
                    continue
                va, vb = self.views[p.a], self.views[p.b]
                for c in (p.a, p.b):
                    if c not in codes:
                        codes[c] = self.views[c].codes(df[c])
                ca, cb = codes[p.a], codes[p.b]
                rows = track.broken(k, p, ca, cb, keep_present, (va, vb))
                if not len(rows):
                    continue
                fa, fb = _free(free, p.a, n, rows), _free(free, p.b, n, rows)
                fix_b = fb & (~fa | (rng.random(len(rows)) < 0.5))
                fix_a = fa & ~fix_b
                for sel, src, dst, table, cnt in ((rows[fix_b], ca, p.b, p.allowed, p.counts),
                                                  (rows[fix_a], cb, p.a, p.allowed.T, p.counts.T)):
                    sel = sel[src[sel] < table.shape[0]]  # (a value the real rows never showed: left as it is)
                    got = self._mend(dst, sel, (cnt * table)[src[sel]].astype(float), rng, best) if len(sel) else None
                    if got is None:
                        continue
                    mended = True
                    track.changed(dst, got[0])
                    if dst not in fits:
                        fits[dst] = self._fits(df[dst], dst)
                    if fits[dst]:
                        if dst not in pending:  # (codes of its own, changed in place from now on)
                            codes[dst] = codes[dst].copy()
                            pending[dst] = np.zeros(n, dtype=bool)
                        codes[dst][got[0]] = got[1]
                        pending[dst][got[0]] = True
                    else:
                        self._write(df, dst, got[0], got[1])
                        codes.pop(dst, None)
            if not mended:
                break
        for col, where in pending.items():
            self._write(df, col, np.flatnonzero(where), codes[col][where])

    def _mend(self, col: str, rows: np.ndarray, weights: np.ndarray, rng: np.random.Generator,
              best: bool) -> tuple[np.ndarray, np.ndarray] | None:
        """The rows of ``rows`` that can be mended and the level each takes (drawn by ``weights``), or None."""
        view = self.views[col]
        ok = weights.sum(axis=1) > 0
        if view.values is None:  # only "missing" can be given without inventing a value
            if not view.has_missing:
                return None
            m = view.missing_code
            ok &= (weights[:, m] > 0) & (np.delete(weights, m, axis=1).sum(axis=1) == 0)
        rows, weights = rows[ok], weights[ok]
        if not len(rows):
            return None
        if best:
            pick = np.argmax(weights, axis=1)
        else:
            cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
            pick = np.minimum((cum < rng.random(len(rows))[:, None]).sum(axis=1), weights.shape[1] - 1)
        # the level the written value reads back as: a "present" / "missing" label is written as a missing cell
        return rows, np.where(view.empty_labels()[pick], view.missing_code, pick).astype(np.int64)

    def _fits(self, s: pd.Series, col: str) -> bool:
        """Whether every value a mend can write into ``s`` keeps its dtype (then writes can be gathered into one)."""
        key = ("fits", col, str(s.dtype))  # (what it checks depends on the dtype alone)
        if key not in self._memo:
            self._memo[key] = self._fits_now(s, col)
        return self._memo[key]

    def _fits_now(self, s: pd.Series, col: str) -> bool:
        view = self.views[col]
        values = [v for v in view.labels() if v not in (MISSING, PRESENT)]
        if view.has_missing and not _holds_missing(s):
            return False
        if not values or _as_numbers(values, s.dtype) is not None:
            return True
        return convert(pd.Series(values, dtype=object), s) is not None

    def _write(self, df: pd.DataFrame, col: str, rows: np.ndarray, levels: np.ndarray) -> None:
        """Set ``df[col]`` at ``rows`` (ascending) to the values of the view's ``levels``."""
        typed, values, texts = self._write_tables(col, df[col].dtype)
        if typed is not None:  # numbers of the column's own dtype, gathered by level
            df[col] = _put(df[col], _one(len(df), rows), typed[levels])
            return
        picked = values[levels]
        if texts:  # strings (or missing) into a string column: given in its dtype
            picked = pd.Series(pd.array(picked, dtype=df[col].dtype))
        df[col] = _put(df[col], _one(len(df), rows), picked)

    def _write_tables(self, col: str, dtype: Any) -> tuple[np.ndarray | None, np.ndarray, bool]:
        """A view's labels as numbers of ``dtype`` (:func:`_as_numbers`, or None), as values ("present" /
        "missing" written as missing), and whether those are all texts going into a pandas string ``dtype``."""
        key = ("write", col, str(dtype))
        if key not in self._memo:
            labels = self.views[col].labels()
            values = np.array([None if v in (MISSING, PRESENT) else v for v in labels], dtype=object)
            texts = isinstance(dtype, pd.StringDtype) and all(v is None or isinstance(v, str) for v in values)
            self._memo[key] = (_as_numbers(labels, dtype), values, texts)
        return self._memo[key]

    # ---------------------------------------------------------------- files
    def to_dict(self) -> dict:
        used = {p.a for p in self.pairs} | {p.b for p in self.pairs}
        return {"views": [v.to_dict() for k, v in self.views.items() if k in used],
                "pairs": [p.to_dict() for p in self.pairs], "equations": [e.to_dict() for e in self.equations]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> "Rules":
        if not d:
            return cls()
        views = {v["name"]: View.from_dict(v) for v in d.get("views", [])}
        return cls(views, [PairRule.from_dict(p) for p in d.get("pairs", [])],
                   [Equation.from_dict(e) for e in d.get("equations", [])])


class _Tracker:
    """The broken rows of each pair during one repair, recomputed only at the rows where a mend changed one of
    its columns since the pair was last looked at (the others break as they did then)."""

    def __init__(self) -> None:
        self.clock = 0
        self.changes: dict[str, list[tuple[int, np.ndarray]]] = {}  # column -> (time, rows) of each mend
        self.last: dict[int, tuple[int, np.ndarray]] = {}  # pair -> (time, broken rows) when last looked at

    def broken(self, key: int, p: PairRule, ca: np.ndarray, cb: np.ndarray, keep_present: bool,
               views: tuple[View, View]) -> np.ndarray:
        """Rows (ascending) where ``p.broken(ca, cb, keep_present, views)`` (cell by cell) holds."""
        def test(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return p.broken(a, b, keep_present, views)

        if key not in self.last:
            rows = np.flatnonzero(test(ca, cb))
        else:
            when, rows = self.last[key]
            moved = [r for c in (p.a, p.b) for t, r in self.changes.get(c, ()) if t > when]
            if moved:
                at = np.unique(np.concatenate(moved))
                rows = np.union1d(np.setdiff1d(rows, at, assume_unique=True), at[test(ca[at], cb[at])])
        self.last[key] = (self.clock, rows)
        return rows

    def changed(self, col: str, rows: np.ndarray) -> None:
        self.clock += 1
        self.changes.setdefault(col, []).append((self.clock, rows))


# ----------------------------------------------------------------- finding
def find_rules(df: pd.DataFrame, schema: TableSchema | None = None) -> Rules:
    """The rules that hold in every row of ``df`` and that chance does not explain (module docstring).

    Parameters
    ----------
    df : DataFrame
        The real table.
    schema : TableSchema, optional
        Its schema (inferred when not given); columns of other kinds
        (ids, constants, text) take no part.
    """
    schema = schema if schema is not None else infer_schema(df)
    labels = {str(c): c for c in df.columns}
    views: dict[str, View] = {}
    codes: dict[str, np.ndarray] = {}
    for spec in schema.columns:
        if spec.kind not in _VIEW_KINDS or spec.name not in labels:
            continue
        view = _view_of(df[labels[spec.name]], spec.name, spec.kind)
        if view is not None and view.levels >= 2:
            coded = view.codes(df[labels[spec.name]])
            if (coded < view.levels).all():  # a value its own view cannot tell: the column takes no part
                views[spec.name] = view
                codes[spec.name] = coded
    pairs = _find_pairs(views, codes, len(df))
    numbers = [s.name for s in schema.columns if s.name in labels and s.kind in ("numeric", "integer", "categorical")
               and pd.api.types.is_numeric_dtype(df[labels[s.name]].dtype)
               and not pd.api.types.is_bool_dtype(df[labels[s.name]].dtype)]  # (small counts may be categorical)
    equations = _find_equations(df, labels, numbers)
    return Rules(views, pairs, equations)


def _view_of(s: pd.Series, name: str, kind: str) -> View | None:
    isna = s.isna().to_numpy()
    has_missing = bool(isna.any())
    observed = s[~isna]
    if not len(observed):
        return None
    if kind == "datetime":
        return View(name, None, has_missing) if has_missing else None
    uniques = pd.unique(observed.astype(object) if _is_cat(observed) else observed)
    plain = all(isinstance(v, (str, bool, int, float, np.bool_, np.integer, np.floating)) for v in uniques)
    if len(uniques) <= MAX_LEVELS and plain:  # (dates, mixed objects: seen as present / missing)
        values = sorted(uniques, key=_sort_key)
        return View(name, [plain_value(v) for v in values], has_missing)
    return View(name, None, has_missing) if has_missing else None


def _find_pairs(views: dict[str, View], codes: dict[str, np.ndarray], n: int) -> list[PairRule]:
    names = list(views)
    log_chance = math.log(MAX_CHANCE)
    pairs = []
    for i, a in enumerate(names):
        ka = views[a].levels
        for b in names[i + 1:]:
            kb = views[b].levels
            counts = np.bincount(codes[a] * kb + codes[b], minlength=ka * kb).reshape(ka, kb)
            allowed = _restrict(counts, log_chance) & _restrict(counts.T, log_chance).T
            if not allowed.all():
                pairs.append(PairRule(a, b, allowed, counts))
    return pairs


def _restrict(counts: np.ndarray, log_chance: float) -> np.ndarray:
    """``allowed[i, j]``: False where value i of the rows' column rules out value j of the columns' one."""
    n_a = counts.sum(axis=1)
    p_b = counts.sum(axis=0) / max(1, counts.sum())
    seen = counts > 0
    mass = np.clip(seen @ p_b, 1e-300, 1.0)
    complete = ~(counts == 1).any(axis=1)  # no value seen once: the values seen with it are all it takes
    strong = (n_a >= MIN_SUPPORT) & complete & (mass < 1.0 - 1e-12) & (n_a * np.log(mass) < log_chance)
    allowed = np.ones_like(seen)
    allowed[strong] = seen[strong]
    return allowed


def _find_equations(df: pd.DataFrame, labels: dict[str, Any], numeric: list[str]) -> list[Equation]:
    """``b = a + c`` between two number columns, then ``b = a1 +- a2 + c`` among three (tables of at most
    :data:`MAX_EQUATION_COLUMNS` number columns), each checked on every row where its cells are present."""
    cols = [c for c in numeric if c in labels]
    X = np.column_stack([_floats(df[labels[c]]) for c in cols]) if cols else np.zeros((len(df), 0))
    keep = [j for j, x in enumerate(X.T) if len(np.unique(x[~np.isnan(x)])) >= 3]
    head = X[: min(len(X), 256)]
    out: list[Equation] = []
    used: set[int] = set()  # a column explained by an equation is not explained again

    decimals = [digits_after_point(x) for x in X.T]
    # half a unit of the last digit of each fractional column: what rounding the real values moved them by
    half = [0.5 * 10.0 ** -d if d else 0.0 for d in decimals]

    def holds(target: int, terms: list[tuple[int, int]]) -> tuple[float, float] | None:
        cells = [target] + [t for t, _ in terms]
        tol = sum(half[c] for c in cells)
        for rows in (head, X):  # a cheap screen on the first rows, then every row
            ok = np.all(~np.isnan(rows[:, cells]), axis=1)
            if rows is X and ok.sum() < MIN_SUPPORT:
                return None
            diff = rows[ok, target] - sum(k * rows[ok, t] for t, k in terms)
            scale = max(1.0, float(np.abs(rows[ok][:, cells]).max(initial=0.0)))
            if len(diff) and np.ptp(diff) > 2 * tol + 1e-9 * scale:
                return None
        if tol and np.nanstd(X[:, target]) < 100 * tol:  # rounding would explain too much of the column
            return None
        c = float(np.median(diff))
        c = float(round(c)) if abs(c - round(c)) <= 1e-9 * scale + tol else c
        if tol and np.abs(diff - c).max(initial=0.0) > tol + 1e-9 * scale:
            return None
        return c, tol

    def digits_of(idx: list[int], tol: float) -> dict[str, int]:
        return {cols[t]: decimals[t] for t in idx} if tol else {}

    def bounds_of(idx: list[int]) -> dict[str, tuple[float, float]]:
        return {cols[t]: (float(np.nanmin(X[:, t])), float(np.nanmax(X[:, t]))) for t in idx}

    for ii, i in enumerate(keep):
        for j in keep[ii + 1:]:
            if j in used or i in used:
                continue
            found = holds(j, [(i, 1)])
            if found is not None:
                out.append(Equation(cols[j], [(cols[i], 1)], found[0], bounds_of([j, i]), found[1],
                                    digits_of([j, i], found[1])))
                used.add(j)
    rest = [j for j in keep if j not in used]
    if len(rest) <= MAX_EQUATION_COLUMNS:
        for ii, i in enumerate(rest):
            for jj, j in enumerate(rest[ii + 1:], ii + 1):
                for k in rest[jj + 1:]:  # the last of the three is the sum (or difference) of the first two
                    if k in used or {i, j} & used:
                        continue
                    for terms in ([(i, 1), (j, 1)], [(i, 1), (j, -1)], [(j, 1), (i, -1)]):
                        found = holds(k, terms)
                        if found is not None:
                            out.append(Equation(cols[k], [(cols[t], s) for t, s in terms], found[0],
                                                bounds_of([k, i, j]), found[1], digits_of([k, i, j], found[1])))
                            used.add(k)
                            break
    return out


# ----------------------------------------------------------------- helpers
def _is_cat(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.CategoricalDtype)


def _sort_key(v: Any) -> tuple:
    return (type(v).__name__, v) if isinstance(v, (int, float, str, bool)) else (type(v).__name__, str(v))


def _show(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _free(free: Mapping[str, np.ndarray] | None, col: str, n: int, rows: np.ndarray | None = None) -> np.ndarray:
    """Which cells of ``col`` the model drew (all when ``free`` does not say), at ``rows`` if given."""
    if free is None or col not in free:
        return np.ones(n if rows is None else len(rows), dtype=bool)
    mask = np.asarray(free[col], dtype=bool)
    return mask if rows is None else mask[rows]


def _floats(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _moved(codes: dict[str, np.ndarray], rows: np.ndarray, src: dict[str, np.ndarray], at: Any,
           columns: list) -> None:
    """``codes`` after the cells at ``rows`` of ``columns`` took the values of the cells ``at`` of a table whose
    codes are ``src`` (a view's code is the cell's own: codes move with the cells); unknown ones are forgotten."""
    for c in columns:
        if c not in codes:
            continue
        if c in src:
            moved = src[c][at]
            codes[c] = codes[c].copy()
            codes[c][rows] = moved
        else:
            codes.pop(c)


def _holds_missing(s: pd.Series) -> bool:
    """Whether a missing cell can be written into ``s`` without changing its dtype."""
    kind = getattr(s.dtype, "kind", "O") if not pd.api.types.is_extension_array_dtype(s.dtype) else "O"
    return kind not in "iub"


def _one(n: int, r: int) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    m[r] = True
    return m


def empty_cells(s: pd.Series, where: np.ndarray) -> pd.Series:
    """``s`` with the cells at ``where`` (a bool mask) missing (a dtype that cannot hold missing widens)."""
    return _put(s, where, [None] * int(np.count_nonzero(where)))


def digits_after_point(x: np.ndarray) -> int:
    """Digits after the point that every value of ``x`` fits in (at most 9)."""
    v = x[~np.isnan(x)][:5000]
    for d in range(10):
        if np.all(np.abs(v * 10.0**d - np.round(v * 10.0**d)) <= 1e-6 * np.maximum(1.0, np.abs(v * 10.0**d))):
            return d
    return 9


def _typed(values: np.ndarray, like: pd.Series) -> np.ndarray:
    """Computed numbers for a column: whole numbers for an integer column (they are, when the rule holds)."""
    if pd.api.types.is_integer_dtype(like.dtype):
        return np.round(values).astype(np.int64)
    return values


def _as_numbers(labels: list, dtype: Any) -> np.ndarray | None:
    """A view's labels as an array of ``dtype`` (a NumPy integer or float dtype) when each label is exactly a
    number of it (no "present" / "missing" label, no booleans), else None."""
    if not isinstance(dtype, np.dtype) or dtype.kind not in "if":
        return None
    if not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
               for v in labels):
        return None
    try:
        typed = np.array(labels, dtype=object).astype(dtype)
    except (TypeError, ValueError, OverflowError):
        return None
    same = all(t == v and not (isinstance(v, float) and math.isnan(v)) for t, v in zip(typed.tolist(), labels))
    return typed if same else None


def _same_numbers(values: Any, s: pd.Series) -> bool:
    """``values``: a NumPy array of whole numbers or numbers (none missing) of ``s``'s own NumPy dtype."""
    if not isinstance(values, np.ndarray) or not isinstance(s.dtype, np.dtype) or values.dtype != s.dtype:
        return False
    return values.dtype.kind == "i" or (values.dtype.kind == "f" and not np.isnan(values).any())


def _put(s: pd.Series, where: np.ndarray, values: Any) -> pd.Series:
    """``s`` with ``values`` at the rows ``where`` (a bool mask), in ``s``'s dtype where the values fit it."""
    rows = np.flatnonzero(where)
    if not len(rows):
        return s
    if _same_numbers(values, s):  # (what the conversion below gives them: the same numbers, the same dtype)
        out = s.to_numpy(copy=True)
        out[rows] = values
        return pd.Series(out, index=s.index, name=s.name)
    values = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    values = values.reset_index(drop=True)
    out = s.reset_index(drop=True)
    if values.dtype == out.dtype:
        out = out.copy()
        out.iloc[rows] = values.array
        return out.set_axis(s.index)
    isna = values.isna().to_numpy()
    if isna.any():
        kind = getattr(out.dtype, "kind", "O") if not pd.api.types.is_extension_array_dtype(out.dtype) else "O"
        out = out.astype({"i": "Int64", "u": "UInt64", "b": "boolean"}[kind]) if kind in "iub" else out.copy()
        out.iloc[rows[isna]] = None
    if (~isna).any():
        out = merge(out, rows[~isna], values[~isna])
    return out.set_axis(s.index)
