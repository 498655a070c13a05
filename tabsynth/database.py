"""Related tables: a whole database synthesized with its keys, cardinalities and cross-table relations.

A database is a dict of DataFrames and relations ``child.col = parent.col``
(a foreign key of ``child`` pointing at ``parent``'s key), declared or found
(:func:`infer_relations`). The single-table :class:`~tabsynth.Synthesizer`
stays the unit; a :class:`DatabaseSynthesizer` is a small composition of
them, one per table, fitted parents first:

* a table's model sees its own columns, minus its key and foreign keys
  (generated here, never modelled), plus its **context**: the modelled
  columns of the parent its first relation points at (``parent.col``), and
  the columns of any further parent (several parents: flights to planes and
  airports);
* a parent's model also learns, as one more column, how many rows each
  child table has per parent row (``__n_<child>``, zero included), so
  children counts follow the parent's columns;
* a child column equal to a parent column in every joined row (a school's
  mean SES copied into each student, a product's price in each order line)
  is not modelled: it is copied back from the generated parent row.

Sampling goes parents first: a root table gets ``scale`` times its rows;
each parent row gets its drawn number of children, drawn given the parent's
columns (``given=``); further parents are matched to each child row by its
drawn context (the nearest generated parent row that still has room: each
parent row takes about as many children as its own model drew for it). Keys are new values in the
real format (integers not among the real ones where the range allows, strings
with the same prefix, length and character classes), so keys stay unique and
every foreign key points at a generated parent row. Orphans (a foreign key
with no parent row) and missing foreign keys keep their real shares.

A composite key (``child.a+b=parent.a+b``: order lines keyed by order and line
number) is made from its generated parts: foreign-key parts from the parent,
the others drawn by the table's model; a part that numbers the rows of each
group of the others (lines 1, 2, 3 of an order) is numbered again, and a
combination that repeats gets a new value for its last drawn part. A child
copies its composite foreign key's parts from its parent row.

A table named in ``keep`` (a small public reference table: 16 airlines, the
airports) is released as it is: its rows and keys are the real ones, its
children are drawn for its real rows (their real number of children, times
``scale``). Its parents must be kept too.

Saved as one zip: a JSON manifest plus each table's model in the single-table
format, and the kept tables as Parquet files (no pickle).
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pac
from sklearn.neighbors import NearestNeighbors

from ._params import validate
from ._rng import RandomState, draw_seed, make_rng
from ._threads import limits_threads, ordered_map
from .backends import given_only_params
from .errors import FileFormatError, InputError, NotFittedError
from .evaluate.database import key_column
from .io import atomic_path
from .schema import check_table, make_dtype
from .synthesizer import Synthesizer

FORMAT = "tabsynth-database"
FORMAT_VERSION = 1
#: a child column that draws at least this share of its values from a parent's key refers to it (orphans allowed)
MIN_REFERENCE_SHARE = 0.9
COUNT = "__n_{}"  # children per parent row, for a relation "child.fk"
PARENT_FLAG = "__has_parent"
#: Child rows per sampling block of a table drawn for its parents' rows (a run of whole parents; one parent with
#: more children is a block of its own). Block ``b`` of table ``i`` is drawn with a generator seeded by
#: ``(seed, i, b)``, so the same seed gives the same rows whatever the batch size or the output format.
BLOCK_ROWS = 65536


@dataclass(frozen=True)
class Relation:
    """``child.fk`` refers to ``parent.key``."""

    child: str
    fk: str
    parent: str
    key: str

    def __str__(self) -> str:
        return f"{self.child}.{self.fk}={self.parent}.{self.key}"

    @classmethod
    def parse(cls, text: str) -> "Relation":
        """``child.col=parent.col``, or ``child.a+b=parent.a+b`` for a composite key (table names may not contain
        dots; column names may)."""
        m = re.fullmatch(r"\s*([^.=\s]+)\.([^=]+?)\s*=\s*([^.=\s]+)\.([^=]+?)\s*", str(text))
        if not m:
            raise InputError(f"relation {text!r} is not of the form child.column=parent.column "
                             "(e.g. students.School=schools.School)")
        child, fk, parent, key = (g.strip() for g in m.groups())
        if fk.count("+") != key.count("+") or "" in fk.split("+") + key.split("+"):
            raise InputError(f"relation {text!r}: a composite key names as many columns on each side "
                             "(child.a+b=parent.a+b)")
        return cls(child, fk, parent, key)


# ------------------------------------------------------------------ finding
def infer_relations(tables: Mapping[str, pd.DataFrame]) -> list[Relation]:
    """Relations found from names and values: a unique, complete key column that another table's column draws from.

    A parent key is a column whose values are unique and never missing; a
    child column refers to it when its values have the key's type and at
    least 90% of its non-missing values are key values, and its name is the
    key's name or names the parent table (``school_id`` for ``schools``).

    Examples
    --------
    >>> import pandas as pd
    >>> schools = pd.DataFrame({"School": [11, 12, 13], "size": [300, 500, 420]})
    >>> students = pd.DataFrame({"School": [11, 11, 12, 13, 13], "score": [1.0, 2.0, 3.0, 2.5, 1.5]})
    >>> [str(r) for r in infer_relations({"schools": schools, "students": students})]
    ['students.School=schools.School']
    """
    keys = {name: [c for c in df.columns if _is_key(df[c])] for name, df in tables.items()}
    found = []
    for child, cdf in tables.items():
        for col in cdf.columns:
            best = None
            for parent, pdf in tables.items():
                if parent == child:
                    continue
                for key in keys[parent]:
                    if not (_same_name(str(col), str(key)) or _names_table(str(col), parent)):
                        continue
                    share = _reference_share(cdf[col], pdf[key])
                    if share >= MIN_REFERENCE_SHARE and (best is None or share > best[0]):
                        best = (share, Relation(child, str(col), parent, str(key)))
            if best is not None and not (str(col) in map(str, keys[child]) and cdf[col].is_unique
                                         and best[1].key == str(col) and len(cdf) > len(tables[best[1].parent])):
                found.append(best[1])
    # a one-to-one pair of keys (both unique) is kept one way: the larger table refers to the smaller
    out = []
    for r in found:
        twin = Relation(r.parent, r.key, r.child, r.fk)
        if twin in found and (len(tables[r.child]), r.child) < (len(tables[r.parent]), r.parent):
            continue
        out.append(r)
    return out


def _is_key(s: pd.Series) -> bool:
    return len(s) > 0 and not s.isna().any() and s.is_unique and (
        pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)
        or pd.api.types.is_object_dtype(s.dtype))


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _same_name(a: str, b: str) -> bool:
    return _norm(a) == _norm(b)


def _names_table(col: str, table: str) -> bool:
    c, t = _norm(col), _norm(table)
    stems = {t, t[:-1] if t.endswith("s") else t, t[:-2] if t.endswith("es") else t}
    return any(s and (c == s + "id" or c == s + "key" or c == s + "code" or c == s) for s in stems)


def _reference_share(fk: pd.Series, key: pd.Series) -> float:
    vals = fk.dropna()
    if not len(vals) or _kind(vals) != _kind(key):
        return 0.0
    return float(_in_keys(vals, key).mean())


def _in_keys(values: pd.Series, key: pd.Series) -> np.ndarray:
    """Whether each value is one of ``key``'s values (a missing value never is); hashed as Python objects, like a
    set of the keys, whatever the dtypes (Arrow strings included)."""
    present = values.notna().to_numpy()
    try:  # the same Arrow type on both sides (strings, integers): Arrow's hash lookup
        a, b = pa.array(values, from_pandas=True), pa.array(key.dropna(), from_pandas=True)
        if a.type == b.type and (pa.types.is_integer(a.type) or pa.types.is_string(a.type)
                                 or pa.types.is_large_string(a.type)):
            return pac.is_in(a, value_set=b).to_numpy(zero_copy_only=False).astype(bool) & present
    except (pa.ArrowException, TypeError, ValueError):
        pass
    found = pd.Series(values.to_numpy(dtype=object), dtype=object).isin(
        pd.Series(key.to_numpy(dtype=object), dtype=object).dropna())
    return found.to_numpy(dtype=bool) & present


def _kind(s: pd.Series) -> str:
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return "number"
    return "text"


# ----------------------------------------------------------------- checking
def check_relations(tables: Mapping[str, pd.DataFrame], relations: list[Relation]) -> list[str]:
    """Validate relations; return the tables in an order where every parent comes before its children."""
    for r in relations:
        for table, col, side in ((r.child, r.fk, "child"), (r.parent, r.key, "parent")):
            if table not in tables:
                raise InputError(f"relation {r}: no table named {table!r}; tables: {', '.join(tables)}")
            names = [str(c) for c in tables[table].columns]
            for part in ([col] if col in names else col.split("+")):
                if part not in names:
                    raise InputError(f"relation {r}: table {table!r} has no column {part!r}")
        key = _col(tables[r.parent], r.key)
        if key.isna().any() or not key.is_unique:
            raise InputError(f"relation {r}: {r.parent}.{r.key} is not a key (its values must be unique and never "
                             "missing); declare the parent's key column")
        for fk_part, key_part in zip(_parts(tables[r.child], r.fk), _parts(tables[r.parent], r.key)):
            fk, key = _col(tables[r.child], fk_part), _col(tables[r.parent], key_part)
            if fk.notna().any() and _kind(fk.dropna()) != _kind(key):
                raise InputError(f"relation {r}: {r.child}.{fk_part} holds {_kind(fk.dropna())}s and "
                                 f"{r.parent}.{key_part} {_kind(key)}s; a foreign key must have its key's type")
    if any(r.child == r.parent for r in relations):
        r = next(r for r in relations if r.child == r.parent)
        raise InputError(f"relation {r} points a table at itself; self-references are not supported")
    order: list[str] = []
    remaining = list(tables)
    while remaining:
        ready = [t for t in remaining if all(r.parent in order for r in relations if r.child == t)]
        if not ready:
            raise InputError("the relations form a cycle (" + ", ".join(
                str(r) for r in relations if r.child in remaining and r.parent in remaining)
                + "); a database needs parents before children")
        order += ready
        remaining = [t for t in remaining if t not in ready]
    return order


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    """A column, or a composite key's parts combined (:func:`~tabsynth.evaluate.database.key_column`)."""
    return key_column(df, name)


def _parts(df: pd.DataFrame, name: str) -> list[str]:
    """The columns of a key: itself, or a composite key's parts (``a+b`` that is not a column)."""
    return [name] if name in [str(c) for c in df.columns] else name.split("+")


# ------------------------------------------------------------------- model
class DatabaseSynthesizer:
    """Learn a database of related tables; sample a new database with its keys and relations intact.

    Parameters
    ----------
    relations : list of str, optional
        ``"child.col=parent.col"`` foreign keys (composite:
        ``"child.a+b=parent.a+b"``); found from names and values when not
        given (:func:`infer_relations`; composite keys are declared).
    backend : str, default "trees"
        Backend of every table's model.
    keep : list of str, optional
        Tables released as they are (small public reference tables): their
        real rows and keys are stored in the model and written by ``sample``;
        their children are generated for those rows. A kept table's parents
        must be kept too.
    random_state : int, optional
        Seed for fitting; sampling without a ``seed`` continues from it.
    **params
        Further :class:`~tabsynth.Synthesizer` parameters for every table.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tabsynth.database import DatabaseSynthesizer
    >>> rng = np.random.default_rng(0)
    >>> schools = pd.DataFrame({"School": np.arange(100, 140), "size": rng.integers(200, 900, 40)})
    >>> students = pd.DataFrame({"School": rng.choice(schools["School"], 600), "score": rng.normal(size=600)})
    >>> db = DatabaseSynthesizer(random_state=0).fit({"schools": schools, "students": students})
    >>> out = db.sample(seed=1)
    >>> len(out["schools"]), bool(out["students"]["School"].isin(out["schools"]["School"]).all())
    (40, True)
    """

    def __init__(self, relations: list[str] | None = None, *, backend: str = "trees", keep: list[str] | None = None,
                 random_state: int | None = None, **params: Any):
        self.relations = relations
        self.backend = backend
        self.keep = keep
        self.random_state = random_state
        self.params = params

    # ------------------------------------------------------------- fitting
    def fit(self, tables: Mapping[str, pd.DataFrame], *,
            formats: Mapping[str, str] | None = None) -> "DatabaseSynthesizer":
        """Fit one model per table, parents first.

        Parameters
        ----------
        tables : dict of str to DataFrame
            The database: table name -> rows.
        formats : dict of str to str, optional
            The file suffix each table was read from (``".csv"``), kept in the
            model file so that ``tabsynth sample`` writes each table as it came.

        Returns
        -------
        self
        """
        validate("DatabaseSynthesizer", {"relations": self.relations, "backend": self.backend, "keep": self.keep,
                                         "random_state": self.random_state})
        if not isinstance(tables, Mapping) or not tables:
            raise InputError("tables must be a non-empty dict of table name -> DataFrame")
        for name, df in tables.items():
            check_table(df, what=f"table {name!r}")
        rels = ([Relation.parse(r) if not isinstance(r, Relation) else r for r in self.relations]
                if self.relations is not None else infer_relations(tables))
        self.order_ = check_relations(tables, rels)
        self.relations_ = rels
        self.kept_ = check_keep(self.keep, tables, rels)
        self.formats_ = {str(k): str(v) for k, v in (formats or {}).items()}
        seed = self.random_state if self.random_state is not None else int(np.random.SeedSequence().entropy % 2**32)
        self.seed_ = int(seed)
        self.tables_: dict[str, dict] = {}
        self.models_: dict[str, Synthesizer] = {}
        base_params = given_only_params(self.backend, self.params)  # each table: drawn alone or given its first cols
        for i, name in enumerate(self.order_):
            df = tables[name].reset_index(drop=True)
            # each parent's columns along the child rows, once per relation (name-matching and context both use them)
            joins = {r: self._join(df, tables[r.parent], r) for r in self.relations_ if r.child == name}
            plan = self._plan(name, df, tables, joins)
            frame = self._frame(name, df, tables, plan, joins)
            self.tables_[name] = plan
            if name in self.kept_:  # released as it is: its rows (and children counts) are stored, not modelled
                self.kept_[name] = {"table": df, "frame": frame}
                self.models_[name] = None
                continue
            params = dict(base_params)
            primary = self._primary(name)
            if primary is not None and "given_columns" not in params:  # its parent's columns are given when drawn
                # whether a row has a parent first: an orphan's parent columns are drawn (missing) given it
                given = [PARENT_FLAG, *self._context_columns(primary)]
                params["given_columns"] = [c for c in given if c in set(map(str, frame.columns))]
            model = Synthesizer(self.backend, random_state=int(np.random.SeedSequence([self.seed_, i]).generate_state(1)[0]),
                                **params)
            self.models_[name] = model.fit(frame)
        self._sample_rng = make_rng(self.seed_ + 1)
        return self

    def _plan(self, name: str, df: pd.DataFrame, tables: Mapping[str, pd.DataFrame],
              joins: Mapping[Relation, pd.DataFrame]) -> dict:
        """What the table's model sees and what is generated around it."""
        mine = [r for r in self.relations_ if r.child == name]
        keys = sorted({r.key for r in self.relations_ if r.parent == name})
        fks = [r.fk for r in mine]
        primary = mine[0] if mine else None
        copied: dict[str, list[str]] = {}  # child column -> [foreign key of the relation, parent column]
        orphan_share = missing_share = 0.0
        if primary is not None:
            fk = _col(df, primary.fk)
            missing_share = float(fk.isna().mean())
            matched = _in_keys(fk, _col(tables[primary.parent], primary.key))
            orphan_share = float((~matched & fk.notna().to_numpy()).mean())
        for r in mine:
            parent = tables[r.parent]
            fk = _col(df, r.fk)
            matched = _in_keys(fk, _col(parent, r.key))
            if matched.sum() < 2:
                continue
            if r.fk not in map(str, df.columns):  # a composite key's parts are the parent row's parts
                for part, key_part in zip(_parts(df, r.fk), _parts(parent, r.key)):
                    copied[part] = [r.fk, key_part]
            found = self._copied(df, parent, joins[r], r, matched, skip=set(fks) | set(keys) | set(copied))
            copied.update({c: [r.fk, pc] for c, pc in found.items()})
        own = [str(c) for c in df.columns if str(c) not in keys and str(c) not in fks and str(c) not in copied]
        parts = {k: _parts(df, k) for k in keys if _parts(df, k) != [k]}  # composite keys: made from their parts
        return {"columns": [str(c) for c in df.columns], "dtypes": [str(t) for t in df.dtypes], "rows": len(df),
                "keys": keys, "key_format": {k: key_format(_col(df, k)) for k in keys},
                "parts": parts, "part_format": {p: key_format(_col(df, p)) for ps in parts.values() for p in ps},
                "numbering": {k: _numbering(df, ps) for k, ps in parts.items() if _numbering(df, ps) is not None},
                "fk_format": {r.fk: key_format(_col(df, r.fk).dropna()) for r in mine},
                "own": own, "copied": copied, "orphan_share": orphan_share, "missing_share": missing_share,
                "relations": [str(r) for r in mine],
                "referrers": [[r.child, r.fk] for r in self.relations_ if r.parent == name]}

    def _copied(self, df: pd.DataFrame, parent: pd.DataFrame, joined: pd.DataFrame, r: Relation, matched: np.ndarray,
                skip: set[str]) -> dict[str, str]:
        """Child columns equal to a column of their parent row in every matched row: child column -> parent's."""
        rows = np.flatnonzero(matched)
        probe = rows[:256]  # most pairs differ in their first rows: the whole comparison only for those that agree
        skip_parent = {r.key, *[x.fk for x in self.relations_ if x.child == r.parent]}
        out: dict[str, str] = {}
        for c in map(str, df.columns):
            if c in skip:
                continue
            child = _col(df, c)
            for pc in [str(x) for x in parent.columns if str(x) not in skip_parent]:
                other = joined[f"{r.parent}.{pc}"]
                if _equal(child.iloc[probe], other.iloc[probe]) and _equal(child.iloc[rows], other.iloc[rows]):
                    out[c] = pc
                    break
        return out

    def _primary(self, child: str) -> Relation | None:
        mine = [r for r in self.relations_ if r.child == child]
        return mine[0] if mine else None

    def _context_columns(self, relation: Relation) -> list[str]:
        """The parent's modelled columns a child sees (``parent.col``), its composite keys' parts excepted."""
        plan = self.tables_[relation.parent]
        parts = {p for ps in plan.get("parts", {}).values() for p in ps}  # key material (may be new values)
        return [f"{relation.parent}.{c}" for c in plan["own"] if c not in parts]

    @staticmethod
    def _join(df: pd.DataFrame, parent: pd.DataFrame, r: Relation) -> pd.DataFrame:
        """The columns of each ``df`` row's ``r.parent`` row, as ``parent.col`` (missing for orphans), one row per
        ``df`` row."""
        p = parent.copy()
        p.columns = [f"{r.parent}.{c}" for c in parent.columns]
        left = pd.DataFrame({"__k": _col(df.reset_index(drop=True), r.fk).to_numpy()})
        right = p.rename(columns={f"{r.parent}.{r.key}": "__k"})
        right["__k"] = _col(parent, r.key).to_numpy()
        out = left.merge(right, on="__k", how="left", sort=False)
        return out.drop(columns="__k")

    def _frame(self, name: str, df: pd.DataFrame, tables: Mapping[str, pd.DataFrame], plan: dict,
               joins: Mapping[Relation, pd.DataFrame]) -> pd.DataFrame:
        """The rows the table's model is fitted on: own columns, parents' context, children counts."""
        frame = df[[c for c in df.columns if str(c) in plan["own"]]].copy()
        frame.columns = [str(c) for c in frame.columns]
        for r in [r for r in self.relations_ if r.child == name]:
            for c in self._context_columns(r):
                frame[c] = joins[r][c].to_numpy()
            if r == self._primary(name) and (plan["orphan_share"] or plan["missing_share"]):
                frame[PARENT_FLAG] = _in_keys(_col(df, r.fk), _col(tables[r.parent], r.key))
        for child, fk_name in plan["referrers"]:
            r = next(x for x in self.relations_ if x.child == child and x.fk == fk_name)
            counts = _col(tables[child], r.fk).value_counts()
            frame[COUNT.format(f"{child}.{r.fk}")] = _col(df, r.key).map(counts).fillna(0).astype("int64").to_numpy()
        return frame

    # ------------------------------------------------------------ sampling
    @limits_threads
    def sample(self, scale: float = 1.0, *, seed: RandomState = None) -> dict[str, pd.DataFrame]:
        """A new database: root tables of ``scale`` times their rows, children as their parents draw them.

        The tables of :meth:`sample_batches` (same seed, same rows), each in one DataFrame.

        Parameters
        ----------
        scale : float, default 1.0
            Rows of each table without parents, relative to the fitted ones
            (a kept table keeps its rows; its children are scaled).
        seed : int, optional
            Same seed, same database.

        Returns
        -------
        dict of str to DataFrame
            Every table, with its columns, order and dtypes.
        """
        parts: dict[str, list[pd.DataFrame]] = {}
        for name, batch in self.sample_batches(scale, seed=seed, batch_rows=2**62):
            parts.setdefault(name, []).append(batch)
        return {name: self._whole(name, batches) for name, batches in parts.items()}

    def sample_batches(self, scale: float = 1.0, *, seed: RandomState = None,
                       batch_rows: int = 65536) -> Iterator[tuple[str, pd.DataFrame]]:
        """The database of :meth:`sample` as a stream of ``(table, rows)`` batches, memory flat in child rows.

        Tables come parents first, each table's batches one after the other
        (at least one batch per table, empty for a table without rows).
        Tables with children are drawn whole and held (their children need
        them); a table without children is drawn :data:`BLOCK_ROWS` child
        rows at a time, for a run of its parent rows, and is never held: its
        memory is that of one block whatever ``scale``. A block's rows depend
        only on the seed and the block (block 0 of a table continues the
        table's own generator), so any ``batch_rows`` gives the same rows, and
        the concatenated batches are :meth:`sample`'s tables.

        Parameters
        ----------
        scale : float, default 1.0
            As in :meth:`sample`.
        seed : int, optional
            Same seed, same batches (whatever ``batch_rows``).
        batch_rows : int, default 65536
            Most rows per yielded batch.

        Yields
        ------
        (str, pandas.DataFrame)
            A table's name and its next rows (columns and dtypes of the table).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from tabsynth.database import DatabaseSynthesizer
        >>> rng = np.random.default_rng(0)
        >>> schools = pd.DataFrame({"School": np.arange(100, 140), "size": rng.integers(200, 900, 40)})
        >>> students = pd.DataFrame({"School": rng.choice(schools["School"], 600), "score": rng.normal(size=600)})
        >>> db = DatabaseSynthesizer(random_state=0).fit({"schools": schools, "students": students})
        >>> batches = list(db.sample_batches(seed=1, batch_rows=100))
        >>> sorted({name for name, _ in batches}), max(len(b) for _, b in batches)
        (['schools', 'students'], 100)
        >>> students = pd.concat([b for name, b in batches if name == "students"], ignore_index=True)
        >>> students.equals(db.sample(seed=1)["students"])
        True
        """
        if not hasattr(self, "models_"):
            raise NotFittedError("this DatabaseSynthesizer is not fitted yet; call fit(tables) or load(path) first")
        validate("DatabaseSynthesizer.sample_batches", {"scale": scale, "seed": seed, "batch_rows": batch_rows})
        base = draw_seed(make_rng(seed) if seed is not None else self._sample_rng)
        return self._stream(float(scale), base, int(batch_rows))

    def _stream(self, scale: float, base: int, batch_rows: int) -> Iterator[tuple[str, pd.DataFrame]]:
        drawn: dict[str, pd.DataFrame] = {}  # model-space rows (own + context + counts) of the held tables, with keys
        held = {r.parent for r in self.relations_}
        for i, name in enumerate(self.order_):
            rng = np.random.default_rng([base, i])
            plan, primary = self.tables_[name], self._primary(name)
            if name in self.kept_:
                drawn[name] = self._kept_rows(name, scale, rng)
                yield from _chunks(name, [self.kept_[name]["table"].copy()], batch_rows)
            elif name in held:
                drawn[name] = self._held_rows(name, i, base, scale, rng, drawn)
                yield from _chunks(name, [self._finish(name, drawn[name], drawn, rng)], batch_rows)
            elif primary is None:  # a table without parents or children: the single-table stream
                n = max(0, int(round(plan["rows"] * scale)))
                parts = (self.models_[name].sample_batches(n, seed=rng, batch_size=batch_rows) if n
                         else iter([self.models_[name].sample(0, seed=rng)]))
                yield from _chunks(name, (self._finish(name, rows, drawn, rng) for rows in parts), batch_rows)
            else:
                yield from _chunks(name, self._leaf_blocks(name, i, base, rng, drawn), batch_rows)

    @limits_threads
    def _held_rows(self, name: str, i: int, base: int, scale: float, rng: np.random.Generator,
                   drawn: dict[str, pd.DataFrame]) -> pd.DataFrame:
        """A table with children, drawn whole: its rows, keys, further parents' rows and composite keys."""
        plan, primary = self.tables_[name], self._primary(name)
        if primary is None:
            rows = self.models_[name].sample(max(0, int(round(plan["rows"] * scale))), seed=rng)
        else:
            blocks = [b for b, _ in self._child_blocks(name, primary, drawn[primary.parent], rng, base, i)]
            rows = blocks[0] if len(blocks) == 1 else pd.concat(blocks, ignore_index=True)
        composite = plan.get("parts", {})
        for k in [k for k in plan["keys"] if k not in composite]:
            rows[f"__key.{k}"] = new_keys(len(rows), plan["key_format"][k], rng)
        for r in [r for r in self.relations_ if r.child == name and r != primary]:
            self._link(rows, r, _Matcher(drawn[r.parent], self._context_columns(r), r, len(rows)), drawn[r.parent],
                       rng)
        for k, parts in composite.items():
            rows = self._composite_key(name, k, parts, rows, drawn, rng)
        return rows

    def _leaf_blocks(self, name: str, i: int, base: int, rng: np.random.Generator,
                     drawn: dict[str, pd.DataFrame]) -> Iterator[pd.DataFrame]:
        """A child table without children, block by block: rows drawn for a run of parent rows, never held."""
        primary = self._primary(name)
        total = int(self._child_layout(name, primary, drawn[primary.parent])[3][-1])
        further = [r for r in self.relations_ if r.child == name and r != primary]
        matchers = {r: _Matcher(drawn[r.parent], self._context_columns(r), r, total) for r in further}
        for rows, b_rng in self._child_blocks(name, primary, drawn[primary.parent], rng, base, i):
            for r in further:
                self._link(rows, r, matchers[r], drawn[r.parent], b_rng)
            yield self._finish(name, rows, drawn, b_rng)

    def _link(self, rows: pd.DataFrame, r: Relation, matcher: _Matcher, parents: pd.DataFrame,
              rng: np.random.Generator) -> None:
        """A further parent's foreign key for each row (``__fk.<fk>``) and its parent row (``__row.<fk>``)."""
        pos = matcher.assign(rows, rng)
        keys = parents[f"__key.{r.key}"].to_numpy() if len(parents) else np.array([None])
        rows[f"__fk.{r.fk}"] = np.where(pos >= 0, keys[np.maximum(pos, 0)], None)
        rows[f"__row.{r.fk}"] = pos

    def _kept_rows(self, name: str, scale: float, rng: np.random.Generator) -> pd.DataFrame:
        """A kept table's rows as its children see them: its columns, real keys, children counts times ``scale``."""
        kept, plan = self.kept_[name], self.tables_[name]
        rows = kept["frame"].copy()
        for k in plan["keys"]:
            rows[f"__key.{k}"] = _col(kept["table"], k).to_numpy()
        for c in [c for c in rows.columns if c.startswith("__n_")]:
            want = rows[c].to_numpy(dtype="float64") * scale  # whole children: rounded up or down at random
            rows[c] = (np.floor(want) + (rng.random(len(want)) < want - np.floor(want))).astype("int64")
        return rows

    def _child_blocks(self, name: str, r: Relation, parents: pd.DataFrame, rng: np.random.Generator, base: int,
                      i: int) -> Iterator[tuple[pd.DataFrame, np.random.Generator]]:
        """A child table's model-space rows, one block at a time, with the generator each block used.

        Child rows come in the order of their parent rows, then the orphans
        (no parent row: orphan keys and missing keys at their real shares).
        A block is a run of whole parents (and orphans) of at most
        :data:`BLOCK_ROWS` child rows (one parent with more is a block of its
        own); block 0 is drawn with ``rng``, block ``b`` with a generator
        seeded by ``(base, i, b)``.
        """
        plan, model = self.tables_[name], self.models_[name]
        counts, n_orphans, n_keys, cum = self._child_layout(name, r, parents)
        context = {c: parents[c.split(".", 1)[1]].to_numpy() if c.split(".", 1)[1] in parents else None
                   for c in self._context_columns(r)}
        parent_key = parents[f"__key.{r.key}"].to_numpy() if len(parents) else np.array([])
        avoid = set(parent_key.tolist()) if n_orphans else set()
        flagged = PARENT_FLAG in model.schema_.names
        m = len(counts)

        def block(run: tuple[int, tuple[int, int]]) -> tuple[pd.DataFrame, np.random.Generator]:
            b, (u0, u1) = run
            b_rng = rng if b == 0 else np.random.default_rng([base, i, b])
            idx = np.repeat(np.arange(u0, min(u1, m)), counts[u0:min(u1, m)])
            o0, o1 = max(u0 - m, 0), max(u1 - m, 0)  # the block's orphans
            given = pd.DataFrame({c: v[idx] if v is not None else None for c, v in context.items()}, index=range(len(idx)))
            if flagged:  # orphans: no parent's columns (typed columns: the model reads them by whole columns)
                given = given.reindex(range(len(idx) + o1 - o0))
                given[PARENT_FLAG] = np.r_[np.ones(len(idx), dtype=bool), np.zeros(o1 - o0, dtype=bool)]
            rows = (model.sample(len(given), given=given, seed=b_rng, start=int(cum[u0])) if len(given)
                    else model.sample(0, seed=b_rng))
            fk = np.empty(len(rows), dtype=object)
            fk[: len(idx)] = parent_key[idx]
            if o1 > o0:
                k0, k1 = (int(round(o * n_keys / n_orphans)) for o in (o0, o1))
                missing = np.ones(o1 - o0, dtype=bool)
                missing[b_rng.permutation(o1 - o0)[: k1 - k0]] = False
                fresh = new_keys(o1 - o0, plan["fk_format"][r.fk], b_rng, avoid=avoid, salt="orphan", start=o0)
                fk[len(idx):] = np.where(missing, None, fresh.astype(object))
            rows[f"__fk.{r.fk}"] = fk
            rows["__parent_row"] = np.r_[idx, np.full(o1 - o0, -1)].astype("int64")
            return rows, b_rng

        # blocks are independent (block b > 0 seeded by (base, i, b)): drawn on the idle cores, the same rows
        yield from ordered_map(block, list(enumerate(_runs(cum, BLOCK_ROWS))))

    def _child_layout(self, name: str, r: Relation,
                      parents: pd.DataFrame) -> tuple[np.ndarray, int, int, np.ndarray]:
        """Children per parent row, orphans (rows without a parent row), orphan keys among them, and the
        cumulative child rows of the units (parents, then one unit per orphan) that blocks are runs of."""
        plan = self.tables_[name]
        counts = parents[COUNT.format(f"{name}.{r.fk}")].to_numpy(dtype="float64") if len(parents) else np.zeros(0)
        counts = np.maximum(np.round(np.nan_to_num(counts)), 0).astype("int64")
        share = plan["orphan_share"] + plan["missing_share"]
        n_orphans = int(round(int(counts.sum()) * share / max(1e-12, 1 - share))) if share else 0
        # as many orphan keys as the real share of the child rows (rounded), the rest missing keys
        n_keys = min(n_orphans, int(round((int(counts.sum()) + n_orphans) * plan["orphan_share"])))
        cum = np.r_[0, np.cumsum(np.r_[counts, np.ones(n_orphans, dtype="int64")])]
        return counts, n_orphans, n_keys, cum

    def _whole(self, name: str, batches: list[pd.DataFrame]) -> pd.DataFrame:
        """A table's batches as one DataFrame, in the table's dtypes."""
        if len(batches) == 1:
            return batches[0]
        out = pd.concat(batches, ignore_index=True)
        plan = self.tables_[name]
        for col, dtype in zip(plan["columns"], plan["dtypes"]):
            out[col] = as_dtype(out[col], dtype)
        return out

    def _finish(self, name: str, rows: pd.DataFrame, drawn: dict[str, pd.DataFrame],
                rng: np.random.Generator) -> pd.DataFrame:
        plan = self.tables_[name]
        data = {col: as_dtype(self._values(name, col, rows, drawn), dtype)
                for col, dtype in zip(plan["columns"], plan["dtypes"])}
        return pd.DataFrame(data)

    def _values(self, name: str, col: str, rows: pd.DataFrame, drawn: dict[str, pd.DataFrame]) -> pd.Series:
        """A generated column: a key, a foreign key, a column copied from a parent row, or the model's draw."""
        plan = self.tables_[name]
        if col in plan["keys"]:
            values = rows[f"__key.{col}"]
        elif f"__fk.{col}" in rows:
            values = pd.Series(rows[f"__fk.{col}"].to_numpy(), dtype=object)
        elif col in plan["copied"]:
            fk, pcol = plan["copied"][col]
            r = next(x for x in self.relations_ if x.child == name and x.fk == fk)
            src = drawn[r.parent][pcol].reset_index(drop=True)
            pos = rows["__parent_row" if r == self._primary(name) else f"__row.{fk}"].to_numpy()
            values = src.iloc[np.maximum(pos, 0)].reset_index(drop=True)
            if (pos < 0).any():
                values = values.astype(object).where(pos >= 0, None)
        else:
            values = rows[col]
        return pd.Series(values).reset_index(drop=True)

    def _composite_key(self, name: str, key: str, parts: list[str], rows: pd.DataFrame,
                       drawn: dict[str, pd.DataFrame], rng: np.random.Generator) -> pd.DataFrame:
        """A composite key made from its generated parts, unique and complete.

        A row whose combination repeats an earlier row's (or lacks a part) gets a new value
        (:func:`new_keys`, the real format) for the last part its own model draws; where every
        part comes from elsewhere (foreign keys, copied columns) such rows are dropped. The
        parts are stored in ``rows`` so that children copy them from their parent row.
        """
        plan = self.tables_[name]
        frame = pd.DataFrame({p: self._values(name, p, rows, drawn).to_numpy(dtype=object) for p in parts})
        free = [p for p in parts if p in plan["own"]]
        start = plan.get("numbering", {}).get(key)
        if start is not None:  # the last part numbers the rows of each group of the others (line 1, 2, ...)
            p, others = parts[-1], parts[:-1]
            order = np.lexsort((pd.to_numeric(frame[p], errors="coerce").fillna(np.inf).to_numpy(),))
            ranks = np.empty(len(frame), dtype="int64")
            ranks[order] = frame.iloc[order].groupby(others, dropna=False, sort=False).cumcount().to_numpy()
            frame[p] = (ranks + start).astype(object)
        elif free:
            p = free[-1]
            others = [q for q in parts if q != p]
            bad = (frame.duplicated(keep="first") | frame[p].isna()).to_numpy().copy()
            if others:  # a row that lacks another part cannot be mended here
                bad &= ~frame[others].isna().any(axis=1).to_numpy()
            if bad.any():
                fresh = new_keys(int(bad.sum()), plan["part_format"][p], rng,
                                 avoid=set(frame[p].dropna().tolist()), salt=key)
                col = frame[p].to_numpy(dtype=object).copy()
                col[bad] = fresh.astype(object)
                frame[p] = col
        keep = ~(frame.duplicated(keep="first") | frame.isna().any(axis=1)).to_numpy()
        if not keep.all():
            rows, frame = rows[keep].reset_index(drop=True), frame[keep].reset_index(drop=True)
        for p in parts:
            rows[p] = frame[p].to_numpy()
        rows[f"__key.{key}"] = key_column(frame, key).to_numpy()
        return rows

    # --------------------------------------------------------------- files
    def save(self, path: str | Path) -> Path:
        """Save as one zip: a JSON manifest and each table's model (no pickle); atomic.

        Parameters
        ----------
        path : str or Path
            The model file to write.

        Returns
        -------
        pathlib.Path
        """
        if not hasattr(self, "models_"):
            raise NotFittedError("this DatabaseSynthesizer is not fitted yet; call fit(tables) first")
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "order": self.order_,
                    "relations": [str(r) for r in self.relations_], "tables": self.tables_,
                    "backend": self.backend, "random_state": self.random_state, "seed": self.seed_,
                    "params": self.params, "formats": getattr(self, "formats_", {}), "keep": sorted(self.kept_)}
        models = {f"tables/{i}.tabsynth": self.models_[name] for i, name in enumerate(self.order_)}
        kept = {f"kept/{i}.{part}.parquet": _parquet(self.kept_[name][part]) for i, name in enumerate(self.order_)
                if name in self.kept_ for part in ("table", "frame")}
        return write_models(Path(path), "database.json", manifest, models, kept)

    @classmethod
    def load(cls, path: str | Path) -> "DatabaseSynthesizer":
        """Load a database model written by :meth:`save`.

        Parameters
        ----------
        path : str or Path
            A file written by :meth:`save`.

        Returns
        -------
        DatabaseSynthesizer
        """
        path = Path(path)
        if not path.exists():
            raise FileFormatError(f"model file '{path}' does not exist")
        try:
            doc, models = read_models(path, "database.json")
            if doc.get("format") != FORMAT:
                raise ValueError("not a tabsynth database model")
            if int(doc.get("format_version", -1)) > FORMAT_VERSION:
                raise FileFormatError(f"model file '{path}' has a newer format version; upgrade tabsynth")
            self = cls([*doc["relations"]], backend=doc["backend"], keep=doc.get("keep") or None,
                       random_state=doc["random_state"], **doc.get("params", {}))
            self.order_ = list(doc["order"])
            self.relations_ = [Relation.parse(r) for r in doc["relations"]]
            self.tables_ = doc["tables"]
            self.seed_ = int(doc["seed"])
            self.formats_ = dict(doc.get("formats", {}))
            kept = set(doc.get("keep", []))
            self.models_ = {name: None if name in kept else models[f"tables/{i}.tabsynth"]
                            for i, name in enumerate(self.order_)}
            with zipfile.ZipFile(path) as zf:
                self.kept_ = {name: {part: pd.read_parquet(io.BytesIO(zf.read(f"kept/{i}.{part}.parquet")))
                                     for part in ("table", "frame")}
                              for i, name in enumerate(self.order_) if name in kept}
            self._sample_rng = make_rng(self.seed_ + 1)
        except FileFormatError:
            raise
        except Exception as e:
            raise FileFormatError(f"model file '{path}' is not a valid tabsynth database model "
                                  f"({type(e).__name__}: {e}); re-create it with 'tabsynth fit'") from None
        return self


# ------------------------------------------------------------------ helpers
def is_database_model(path: str | Path) -> bool:
    """Whether ``path`` is a zip holding a database manifest."""
    try:
        with zipfile.ZipFile(path) as zf:
            return "database.json" in zf.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def _apportion(weights: np.ndarray, n: int) -> np.ndarray:
    """``n`` split in proportion to ``weights`` (whole numbers, largest remainders first)."""
    share = weights / weights.sum() * n
    out = np.floor(share).astype("int64")
    rest = n - int(out.sum())
    if rest > 0:
        out[np.argsort(-(share - out), kind="stable")[:rest]] += 1
    return out


def _equal(a: pd.Series, b: pd.Series) -> bool:
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    both_na = a.isna().to_numpy() & b.isna().to_numpy()
    try:
        same = (a.astype(object) == b.astype(object)).to_numpy(dtype=bool)
    except (TypeError, ValueError):
        return False
    return bool((same | both_na).all())


def key_format(s: pd.Series) -> dict:
    """What new keys must look like: integers (their range and the real ones to avoid) or strings (a template)."""
    vals = s.dropna()
    if pd.api.types.is_integer_dtype(vals.dtype) or (pd.api.types.is_float_dtype(vals.dtype) and len(vals)
                                                      and bool((vals == vals.round()).all())):
        ints = vals.astype("int64")
        return {"type": "int", "min": int(ints.min()) if len(ints) else 0, "max": int(ints.max()) if len(ints) else 0,
                "n": int(len(ints))}
    texts = vals.astype(str)
    # (each distinct value once, in the order of first appearance: the same stem, numbers and widths)
    parts = pd.Series(pd.unique(texts.to_numpy(dtype=object))).str.extract(r"^(\D*)(\d+)$") if len(texts) else None
    if parts is not None and parts[1].notna().all() and parts[0].nunique() == 1:
        # a stem and a number (C100231, INV-0042): new keys continue after the largest number, same width
        digits = parts[1]
        padded = bool((digits.str.len() == digits.str.len().iloc[0]).all() and digits.str.startswith("0").any())
        return {"type": "tail", "stem": str(parts[0].iloc[0]), "max": int(digits.astype("int64").max()),
                "width": int(digits.str.len().max()) if padded else 0}
    prefix = _common_prefix(texts.tolist()) if len(texts) else ""
    lengths = texts.str.len().value_counts(normalize=True).sort_index() if len(texts) else pd.Series({8: 1.0})
    return {"type": "str", "prefix": prefix, "lengths": [int(k) for k in lengths.index],
            "length_shares": [float(v) for v in lengths.to_numpy()],
            "classes": _char_classes(texts.tolist(), len(prefix))}


def _common_prefix(values: list[str]) -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    i = 0
    while i < min(len(lo), len(hi)) and lo[i] == hi[i]:
        i += 1
    return lo[:i]


def _char_classes(values: list[str], start: int) -> list[str]:
    """Per position after the prefix, the character class seen most: digit, upper, lower or other."""
    out = []
    longest = max((len(v) for v in values), default=0)
    for i in range(start, longest):
        chars = [v[i] for v in values[:2000] if len(v) > i]
        kinds = ["d" if c.isdigit() else "u" if c.isupper() else "l" if c.islower() else "o" for c in chars]
        out.append(max(set(kinds), key=kinds.count) if kinds else "d")
    return out


def new_keys(n: int, fmt: dict, rng: np.random.Generator, avoid: set | None = None, salt: str = "",
             start: int = 0) -> np.ndarray:
    """``n`` unique keys in the real format (nor in ``avoid``).

    Integers continue after the largest real key, so they are never real
    ones; so do strings made of a stem and a number (``C100231``: the
    number continues, at the same width). Other strings keep the real keys' common prefix, lengths and character
    classes per position; the model file holds no real key, so a string key
    can equal a real one by chance where the format leaves little room.
    ``start`` skips that many numbers (keys ``start ..`` of a longer run).
    """
    if fmt["type"] == "int":  # after the largest real key: never a real one (orphans after the children's)
        first = max([fmt["max"], *(int(v) for v in (avoid or ()) if isinstance(v, (int, np.integer)))]) + 1 + start
        return np.arange(n, dtype="int64") + first
    if fmt["type"] == "tail":
        taken = [int(v[len(fmt["stem"]):]) for v in (avoid or ()) if isinstance(v, str) and v.startswith(fmt["stem"])
                 and v[len(fmt["stem"]):].isdigit()]
        first = max([fmt["max"], *taken]) + 1 + start
        return np.array([f"{fmt['stem']}{str(first + i).zfill(fmt['width'])}" for i in range(n)], dtype=object)
    classes = fmt["classes"]
    alphabet = {"d": "0123456789", "u": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "l": "abcdefghijklmnopqrstuvwxyz", "o": "_"}
    lengths = rng.choice(fmt["lengths"], size=n, p=fmt["length_shares"])
    out, seen = [], set(avoid or ())
    for length in lengths:
        for _ in range(100):
            body = "".join(rng.choice(list(alphabet[classes[i] if i < len(classes) else "d"]))
                           for i in range(max(1, int(length) - len(fmt["prefix"]))))
            key = fmt["prefix"] + salt + body if salt else fmt["prefix"] + body
            if key not in seen:
                break
        seen.add(key)
        out.append(key)
    return np.array(out, dtype=object)


class _Features:
    """Rows as numbers for a nearest-neighbour match, scaled by the parent rows ``a``: standardised numbers,
    one-hot categories (a value ``a`` lacks gets a column of its own)."""

    def __init__(self, a: pd.DataFrame):
        self.specs: list[tuple[str, Any, Any]] = []
        for c in a.columns:
            x = a[c]
            if pd.api.types.is_numeric_dtype(x.dtype) and not pd.api.types.is_bool_dtype(x.dtype):
                xv = x.to_numpy(dtype="float64", na_value=np.nan)
                self.specs.append((c, np.nanmean(xv), np.nanstd(xv) or 1.0))
            else:
                self.specs.append((c, pd.Index(pd.unique(x.astype(object))), None))

    def __call__(self, df: pd.DataFrame) -> np.ndarray:
        cols = []
        for c, a, b in self.specs:
            if b is not None:
                v = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
                cols.append(np.nan_to_num((v - a) / b)[:, None])
            else:
                i = a.get_indexer(df[c].astype(object))
                cols.append(np.eye(len(a) + 1)[np.where(i < 0, len(a), i)])
        return np.hstack(cols) if cols else np.zeros((len(df), 1))


class _Matcher:
    """A further parent's rows for the rows of a child table, drawn block by block (:meth:`assign`).

    Each parent row takes about as many children as its model drew for it
    (its share of the ``n`` child rows of the table); a child goes to the
    nearest parent row by its drawn context that still has room, the rows of
    a block taken in a random order.
    """

    def __init__(self, parents: pd.DataFrame, context: list[str], r: Relation, n: int):
        self.cols = [c.split(".", 1)[1] for c in context]
        self.prefix = f"{r.parent}."
        self.m = len(parents)
        self.near: NearestNeighbors | None = None
        if self.m and n:
            want = np.maximum(np.nan_to_num(parents[COUNT.format(f"{r.child}.{r.fk}")].to_numpy(dtype="float64")), 0)
            self.quota = _apportion(want if want.sum() > 0 else np.ones(self.m), n)
            a = pd.DataFrame({c: parents[c] for c in self.cols})
            self.features = _Features(a)
            self.near = NearestNeighbors(n_neighbors=min(self.m, 32)).fit(self.features(a))

    def assign(self, rows: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
        """The parent row (position) of each of ``rows``; -1 where there is no parent row."""
        n = len(rows)
        if self.near is None or not n:
            return np.full(n, -1, dtype="int64")
        b = pd.DataFrame({c: rows[self.prefix + c] for c in self.cols})
        near = self.near.kneighbors(self.features(b), return_distance=False)
        quota, room = self.quota, self.quota.tolist()  # (the same counts: a list is quicker to read one by one)
        pos = [-1] * n
        free = None  # the parent rows with room, in order (recomputed after a row fills up)
        for i in rng.permutation(n).tolist():
            for j in near[i].tolist():  # the nearest with room (row by row: no list of every block's neighbours)
                if room[j] > 0:
                    break
            else:  # none near: any with room
                free = np.flatnonzero(quota > 0) if free is None else free
                j = int(rng.choice(free))
            pos[i] = j
            room[j] -= 1
            quota[j] -= 1
            if not room[j]:
                free = None
        return np.array(pos, dtype="int64")


def _runs(cum: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """Consecutive runs ``(u0, u1)`` of units (``cum``: their cumulative sizes) of at most ``limit`` in all; a
    unit larger than ``limit`` is a run of its own, empty units join the next run."""
    n = len(cum) - 1
    out, s = [], 0
    while s < n:
        e = int(np.searchsorted(cum, cum[s] + limit, side="right")) - 1
        if cum[e] == cum[s]:  # nothing fits: the next non-empty unit alone (or the empty rest)
            e = min(int(np.searchsorted(cum, cum[s], side="right")), n)
        out.append((s, e))
        s = e
    return out or [(0, 0)]


def _chunks(name: str, frames: Iterable[pd.DataFrame], size: int) -> Iterator[tuple[str, pd.DataFrame]]:
    """``(name, rows)`` for every ``size`` rows of each frame; one empty frame only for a table without rows."""
    sent = False
    for frame in frames:
        if not len(frame) and sent:
            continue
        for start in range(0, max(len(frame), 1), size):
            yield name, frame.iloc[start:start + size].reset_index(drop=True) if len(frame) > size else frame
            sent = True


def as_dtype(s: pd.Series, dtype: str) -> pd.Series:
    try:
        target = make_dtype(dtype)
    except Exception:
        return s
    if str(s.dtype) == dtype:
        return s
    try:
        if s.isna().any() and isinstance(target, np.dtype) and target.kind in "iub":
            target = {"i": "Int64", "u": "UInt64", "b": "boolean"}[target.kind]
        return s.astype(target)
    except (TypeError, ValueError):
        return s


def check_keep(keep: Any, tables: Mapping[str, pd.DataFrame], relations: list[Relation]) -> dict[str, dict]:
    """The kept tables (``keep``), checked: known names, and every parent of a kept table kept too."""
    if keep is None:
        return {}
    names = [keep] if isinstance(keep, str) else list(keep)
    for name in names:
        if name not in tables:
            raise InputError(f"keep: no table named {name!r}; tables: {', '.join(tables)}")
    for r in relations:
        if r.child in names and r.parent not in names:
            raise InputError(f"keep: table {r.child!r} is released as it is, so its parent {r.parent!r} must be kept "
                             f"too ({r}); keep both or neither")
    return {name: {} for name in names}


def _numbering(df: pd.DataFrame, parts: list[str]) -> int | None:
    """0 or 1 when a composite key's last part numbers the rows of each group of the other parts from that start
    (order lines 1, 2, 3 of each order); otherwise None."""
    last = _col(df, parts[-1])
    if len(parts) < 2 or not len(df) or not pd.api.types.is_integer_dtype(last.dtype):
        return None
    groups = pd.DataFrame({p: _col(df, p) for p in parts[:-1]})
    rank = last.groupby([groups[p] for p in parts[:-1]], dropna=False).rank(method="first").to_numpy()
    for start in (1, 0):
        if bool((last.to_numpy() == rank - 1 + start).all()):
            return start
    return None


def _parquet(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


def write_models(path: Path, manifest_name: str, manifest: dict, models: Mapping[str, Synthesizer | None],
                 files: Mapping[str, bytes] | None = None) -> Path:
    """One zip (atomic): a JSON manifest, each model in the single-table format under its member name, and
    ``files`` (member name -> bytes)."""

    with tempfile.TemporaryDirectory() as tmp, atomic_path(path) as out:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
            write_member(zf, manifest_name, json.dumps(manifest, indent=1, default=_plain).encode())
            for member, model in models.items():
                if model is not None:
                    p = Path(tmp) / "model.tabsynth"
                    model.save(p)
                    write_member(zf, member, p.read_bytes())
            for member, data in (files or {}).items():
                write_member(zf, member, data)
    return path


def read_models(path: Path, manifest_name: str) -> tuple[dict, dict[str, Synthesizer]]:
    """The manifest and every ``*.tabsynth`` member of a zip written by :func:`write_models`."""
    with zipfile.ZipFile(path) as zf, tempfile.TemporaryDirectory() as tmp:
        doc = json.loads(zf.read(manifest_name))
        models = {}
        for member in zf.namelist():
            if member.endswith(".tabsynth"):
                p = Path(tmp) / "model.tabsynth"
                p.write_bytes(zf.read(member))
                models[member] = Synthesizer.load(p)
    return doc, models


def write_member(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)

