"""Entities and sequences: one table of repeated measurements, synthesized as entities with ordered histories.

Rows belong to entities (``entity``: a worker, a patient) and follow each
other along an ``order`` column (a number or a date). A
:class:`SequenceSynthesizer` splits the table the way the database layer
does, into two :class:`~tabsynth.Synthesizer` models:

* the **entity model**, one row per entity: the columns constant within
  every entity (found, not declared: sex, school size, a column equal to
  another minus 9), the history's length, where its order starts, and the
  first row's other values;
* the **step model**, one row per later row: the entity's columns, the
  position in the history, the previous row's values, and what comes next
  (the step of the order column, and the row's values).

Sampling draws entities, then walks all histories forward together, one
position at a time, each row drawn given its entity and its previous row.
So an entity's constant columns never change within its history, the order
column moves forward by steps drawn as the real ones are (a yearly step stays
yearly; a step is never backwards and never zero when no real step was),
lengths follow the real ones given the entity's columns, and within-entity
dynamics (autocorrelation, growth) come from the previous-row dependence.
Entity ids are new values in the real format (see :mod:`tabsynth.database`).

Nested entities (``entity=["school", "pupil"]``: pupils within schools, each
pupil with a history) go outermost first: a model of the outer entities
(their constant columns and how many inner entities each has), then, for
each drawn outer entity, its inner entities drawn given its columns, each
with its history (a :class:`SequenceSynthesizer` of the inner levels, whose
entity is the pair outer id, inner id). The outer entity's columns are the
same on all its rows; ``n_entities`` counts outer entities.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._params import validate
from ._rng import RandomState, draw_seed, make_rng
from .backends import given_only_params
from .database import as_dtype, key_format, new_keys, read_models, write_models
from .errors import FileFormatError, InputError, NotFittedError
from .rules import digits_after_point
from .schema import check_columns, check_table, is_datetime
from .synthesizer import Synthesizer

FORMAT = "tabsynth-sequences"
FORMAT_VERSION = 1
LENGTH, START, POS, STEP = "__length", "__start", "__position", "__step"
PREV = "__prev."
#: the outer entity model's column: how many inner entities an outer entity has
N_INNER = "__n_inner"
#: the inner model's entity column: the outer and the inner id together
INNER = "__entity"


class SequenceSynthesizer:
    """Learn a table of entities with ordered histories; sample new entities and their histories.

    Parameters
    ----------
    entity : str or list of str
        The column that tells which entity a row belongs to; nested entities
        outermost first (``["school", "pupil"]``).
    order : str, optional
        The column (number or date) that orders each entity's rows; without
        it, rows keep the order they have in the table.
    constant : list of str, optional
        Columns the caller knows to be constant within each (innermost)
        entity, such as sex or date of birth. They are found without being
        declared; declaring them makes :meth:`fit` check it and refuse a table
        where one varies within an entity (naming the column and the entity).
    backend : str, default "trees"
        Backend of both models.
    random_state : int, optional
        Seed for fitting; sampling without a ``seed`` continues from it.
    **params
        Further :class:`~tabsynth.Synthesizer` parameters of both models.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tabsynth.sequences import SequenceSynthesizer
    >>> rng = np.random.default_rng(0)
    >>> ids = np.repeat(np.arange(60), 5)
    >>> sex = np.repeat(rng.choice(["F", "M"], 60), 5)
    >>> df = pd.DataFrame({"id": ids, "sex": sex, "year": np.tile(np.arange(2000, 2005), 60),
    ...                    "wage": np.repeat(rng.normal(10, 2, 60), 5) + np.tile(np.arange(5.0), 60)})
    >>> seq = SequenceSynthesizer("id", order="year", random_state=0).fit(df)
    >>> out = seq.sample(20, seed=1)
    >>> int(out.groupby("id")["sex"].nunique().max()), bool(out.groupby("id")["year"].is_monotonic_increasing.all())
    (1, True)
    """

    def __init__(self, entity: str | list[str], *, order: str | None = None, constant: list[str] | None = None,
                 backend: str = "trees", random_state: int | None = None, **params: Any):
        self.entity = entity
        self.order = order
        self.constant = constant
        self.backend = backend
        self.random_state = random_state
        self.params = params

    # ------------------------------------------------------------- fitting
    def fit(self, df: pd.DataFrame) -> "SequenceSynthesizer":
        """Fit the entity and step models on ``df``.

        Parameters
        ----------
        df : DataFrame
            One row per measurement, ``entity`` (and ``order``) among its columns.

        Returns
        -------
        self
        """
        validate("SequenceSynthesizer", {"order": self.order, "backend": self.backend,
                                         "random_state": self.random_state})
        check_table(df)
        entities = [self.entity] if isinstance(self.entity, str) else list(self.entity)
        if not entities or not all(isinstance(e, str) for e in entities) or len(set(entities)) < len(entities):
            raise InputError(f"entity must be a column name or a list of distinct column names, got {self.entity!r}")
        entities = check_columns(df, entities, "entity")
        entity = entities[-1]
        order = check_columns(df, [self.order], "order")[0] if self.order is not None else None
        labels = {str(c): c for c in df.columns}
        for e in entities:
            if df[labels[e]].isna().any():
                raise InputError(f"entity column {e!r} has missing values; every row needs its entity")
        if order is not None:
            o = df[labels[order]]
            if o.isna().any():
                raise InputError(f"order column {order!r} has missing values; every row needs its place")
            if not (pd.api.types.is_numeric_dtype(o.dtype) or is_datetime(o.dtype)) or pd.api.types.is_bool_dtype(o.dtype):
                raise InputError(f"order column {order!r} must hold numbers or dates, not {o.dtype}")
            if df.duplicated([labels[e] for e in entities] + [labels[order]]).any():
                raise InputError(f"order column {order!r} has ties within an entity (two rows of one {entity} at "
                                 "the same place); an order must tell the rows of an entity apart")
        _check_declared_constant(df, self.constant, [labels[e] for e in entities], order)
        if len(entities) > 1:
            return self._fit_nested(df.rename(columns=str).reset_index(drop=True), entities, order)
        self.nested_ = False
        table = df.rename(columns=str).reset_index(drop=True)
        table = table.sort_values([entity, order], kind="stable") if order else \
            table.iloc[np.argsort(pd.factorize(table[entity])[0], kind="stable")]
        table = table.reset_index(drop=True)
        group = table.groupby(entity, sort=False)
        others = [c for c in table.columns if c not in (entity, order)]
        constant = group[others].nunique(dropna=False).max() <= 1 if others else pd.Series(dtype=bool)
        self.columns_ = [str(c) for c in df.columns]
        self.dtypes_ = [str(t) for t in df.dtypes]
        self.attributes_ = [c for c in others if bool(constant.get(c, False))]
        self.varying_ = [c for c in others if c not in self.attributes_]
        self.order_kind_ = None if order is None else ("datetime" if is_datetime(table[order].dtype) else "number")
        self.aggregates_ = _aggregates(table, entity, self.attributes_, self.varying_)
        self.entity_format_ = key_format(table[entity].drop_duplicates())
        self.seed_ = int(self.random_state) if self.random_state is not None else int(
            np.random.SeedSequence().entropy % 2**32)
        seeds = np.random.SeedSequence(self.seed_).generate_state(3)
        ents, steps = self._frames(table, entity, order)
        self.entity_model_ = Synthesizer(self.backend, random_state=int(seeds[0]), **self.params).fit(ents)
        given = [*self.attributes_, POS, *(PREV + c for c in self.varying_)]  # what a step is drawn given
        step_params = given_only_params(self.backend, {"given_columns": given, **self.params})
        self.step_model_ = (Synthesizer(self.backend, random_state=int(seeds[1]), **step_params).fit(steps)
                            if len(steps) >= 2 else None)
        self.n_entities_ = len(ents)
        self._sample_rng = make_rng(int(seeds[2]))
        return self

    def _fit_nested(self, table: pd.DataFrame, entities: list[str], order: str | None) -> "SequenceSynthesizer":
        """Outer entities (their constant columns, how many inner entities) and a model of the inner levels."""
        outer, inner = entities[0], entities[1:]
        others = [c for c in table.columns if c not in (*entities, order)]
        group = table.groupby(outer, sort=False)
        constant = group[others].nunique(dropna=False).max() <= 1 if others else pd.Series(dtype=bool)
        self.nested_ = True
        self.columns_ = list(table.columns)
        self.dtypes_ = [str(t) for t in table.dtypes]
        self.attributes_ = [c for c in others if bool(constant.get(c, False))]
        self.varying_ = [c for c in others if c not in self.attributes_]
        self.order_kind_ = None
        self.aggregates_ = {}
        self.entity_format_ = key_format(table[outer].drop_duplicates())
        self.inner_format_ = key_format(table[inner[0]].drop_duplicates())
        self.seed_ = int(self.random_state) if self.random_state is not None else int(
            np.random.SeedSequence().entropy % 2**32)
        seeds = np.random.SeedSequence(self.seed_).generate_state(3)
        firsts = table.drop_duplicates(outer)
        ents = firsts[self.attributes_].reset_index(drop=True)
        ents[N_INNER] = group[inner[0]].nunique(dropna=False).reindex(firsts[outer].to_numpy()).to_numpy()
        self.entity_model_ = Synthesizer(self.backend, random_state=int(seeds[0]), **self.params).fit(ents)
        sub = table.drop(columns=[outer, inner[0]])
        sub[INNER] = table[outer].map(repr) + "\x1f" + table[inner[0]].map(repr)
        self.inner_ = SequenceSynthesizer([INNER, *inner[1:]] if len(inner) > 1 else INNER, order=order,
                                          backend=self.backend, random_state=int(seeds[1]), **self.params).fit(sub)
        self.step_model_ = None
        self.n_entities_ = len(ents)
        self._sample_rng = make_rng(int(seeds[2]))
        return self

    def _frames(self, table: pd.DataFrame, entity: str, order: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The entity rows and the step rows the two models learn from."""
        group = table.groupby(entity, sort=False)
        pos = group.cumcount().to_numpy()
        first = table[pos == 0].reset_index(drop=True)
        ents = first[self.attributes_ + self.varying_].copy()
        ents[LENGTH] = group.size().to_numpy()
        if order is not None:
            ents[START] = _order_numbers(first[order])
        later = np.flatnonzero(pos > 0)
        steps = table.iloc[later][self.attributes_].reset_index(drop=True)
        steps[POS] = pos[later]
        for c in self.varying_:
            steps[PREV + c] = table[c].iloc[later - 1].to_numpy()
        if order is not None:
            o = _order_numbers(table[order])
            steps[STEP] = o[later] - o[later - 1]
        for c in self.varying_:
            steps[c] = table[c].iloc[later].to_numpy()
        return ents, steps

    # ------------------------------------------------------------ sampling
    def sample(self, n_entities: int | None = None, *, seed: RandomState = None) -> pd.DataFrame:
        """New entities with their histories, rows grouped by entity and ordered.

        Parameters
        ----------
        n_entities : int, optional
            Entities to draw (default: as many as fitted). Rows follow from
            their drawn lengths.
        seed : int, optional
            Same seed, same rows.

        Returns
        -------
        DataFrame
            The fitted columns, order and dtypes.
        """
        if not hasattr(self, "entity_model_"):
            raise NotFittedError("this SequenceSynthesizer is not fitted yet; call fit(df) or load(path) first")
        validate("SequenceSynthesizer.sample", {"n_entities": n_entities, "seed": seed})
        n = self.n_entities_ if n_entities is None else n_entities
        base = draw_seed(make_rng(seed) if seed is not None else self._sample_rng)
        out, _ = self._draw(int(n), None, base)
        return self._finish(out)

    def _draw(self, n: int, given: pd.DataFrame | None, base: int) -> tuple[pd.DataFrame, np.ndarray]:
        """``n`` entities (given ``given``'s entity columns, one row each) with their histories, sorted by entity,
        and each row's entity (0..n-1); the entity column holds new ids."""
        if getattr(self, "nested_", False):
            return self._draw_nested(n, given, base)
        ents = self.entity_model_.sample(n, given=given, seed=np.random.default_rng([base, 0])) if given is not None \
            else self.entity_model_.sample(n, seed=np.random.default_rng([base, 0]))
        lengths = np.maximum(np.round(pd.to_numeric(ents[LENGTH]).to_numpy(dtype="float64")), 1).astype("int64")
        rows = [ents[self.attributes_ + self.varying_].assign(**{POS: 0})]
        owner = [np.arange(int(n))]
        order = [ents[START].to_numpy(dtype="float64")] if self.order is not None else []
        prev = ents[self.varying_].reset_index(drop=True)
        place = order[0] if order else None
        for t in range(1, int(lengths.max(initial=1))):
            alive = np.flatnonzero(lengths > t)
            if not len(alive) or self.step_model_ is None:
                break
            given = ents[self.attributes_].iloc[alive].reset_index(drop=True)
            given[POS] = t
            for c in self.varying_:
                given[PREV + c] = prev[c].iloc[alive].to_numpy()
            given = given.astype(object)
            drawn = self.step_model_.sample(len(alive), given=given, seed=np.random.default_rng([base, t]))
            step_rows = drawn[self.attributes_ + self.varying_].assign(**{POS: t})
            rows.append(step_rows)
            owner.append(alive)
            nxt = prev.copy()
            for c in self.varying_:
                nxt[c] = _put_rows(prev[c], alive, drawn[c])
            prev = nxt
            if place is not None:
                step = np.abs(pd.to_numeric(drawn[STEP], errors="coerce").to_numpy(dtype="float64"))
                place = place.copy()
                place[alive] = place[alive] + np.nan_to_num(step)
                order.append(place[alive])
        out = pd.concat(rows, ignore_index=True)
        who = np.concatenate(owner)
        out = self._settle_aggregates(out, who)
        out[self.entity] = _entity_ids(int(n), self.entity_format_)[who]
        if self.order is not None:
            out[self.order] = np.concatenate(order)
        sort = np.lexsort((out[POS].to_numpy(), who))
        return out.iloc[sort].reset_index(drop=True), who[sort]

    def _draw_nested(self, n: int, given: pd.DataFrame | None, base: int) -> tuple[pd.DataFrame, np.ndarray]:
        """Outer entities, then each one's inner entities given its columns (rows grouped by outer entity)."""
        rng = np.random.default_rng([base, 0])
        outer = self.entity_model_.sample(n, given=given, seed=rng) if given is not None else \
            self.entity_model_.sample(n, seed=rng)
        counts = np.maximum(np.round(pd.to_numeric(outer[N_INNER]).to_numpy(dtype="float64")), 1).astype("int64")
        idx = np.repeat(np.arange(n), counts)
        context = outer[self.attributes_].iloc[idx].reset_index(drop=True).astype(object)
        rows, inner_who = self.inner_._draw(len(idx), context if self.attributes_ else None, draw_seed(rng))
        who = idx[inner_who]
        entities = [self.entity] if isinstance(self.entity, str) else list(self.entity)
        rows = rows.drop(columns=[INNER])
        rows[entities[0]] = _entity_ids(n, self.entity_format_)[who]
        rows[entities[1]] = _entity_ids(len(idx), self.inner_format_)[inner_who]
        sort = np.argsort(who, kind="stable")
        return rows.iloc[sort].reset_index(drop=True), who[sort]

    def _settle_aggregates(self, out: pd.DataFrame, who: np.ndarray) -> pd.DataFrame:
        """Entity columns that summarise the history (a person's mean rate) recomputed from the drawn history,
        then the rows' equations that use them (``rate - person mean``) applied again, entity columns fixed."""
        if not self.aggregates_:
            return out
        for attr, (how, col) in self.aggregates_.items():
            values = pd.to_numeric(out[col], errors="coerce")
            by = pd.Series(who)
            agg = values.groupby(by.to_numpy()).transform(how if how != "first" else "first").to_numpy()
            d = self.entity_model_.schema_[attr].decimals if attr in self.entity_model_.schema_.names else None
            out[attr] = np.round(agg, d) if d is not None else agg
        rules = getattr(self.step_model_, "rules_", None)
        if rules:
            free = {c: np.full(len(out), c not in self.attributes_) for c in out.columns}
            rules.apply_equations(out, free)
        return out

    def _finish(self, out: pd.DataFrame) -> pd.DataFrame:
        data = {}
        order_kind = self.order_kind_ if not getattr(self, "nested_", False) else self._order_kind()
        for col, dtype in zip(self.columns_, self.dtypes_):
            values = out[col]
            if col == self.order and order_kind == "datetime":
                values = pd.to_datetime(values.astype("int64"), unit="ns")
                if "UTC" in dtype or "tz" in dtype or "," in dtype:
                    values = values.dt.tz_localize("UTC").dt.tz_convert(dtype.split(",", 1)[1].strip(" ]"))
            elif col == self.order and "int" in dtype:
                values = values.round()
            data[col] = as_dtype(values.reset_index(drop=True), dtype)
        return pd.DataFrame(data)

    def _order_kind(self) -> str | None:
        """How the order column is kept (the innermost model knows)."""
        model = self
        while getattr(model, "nested_", False):
            model = model.inner_
        return model.order_kind_

    # --------------------------------------------------------------- files
    def save(self, path: str | Path) -> Path:
        """Save as one zip: a JSON manifest and the two models (no pickle); atomic."""
        if not hasattr(self, "entity_model_"):
            raise NotFittedError("this SequenceSynthesizer is not fitted yet; call fit(df) first")
        doc = {"format": FORMAT, "format_version": FORMAT_VERSION, "entity": self.entity, "order": self.order,
               "constant": self.constant,
               "backend": self.backend, "random_state": self.random_state, "params": self.params,
               "columns": self.columns_, "dtypes": self.dtypes_, "attributes": self.attributes_,
               "varying": self.varying_, "order_kind": self.order_kind_, "entity_format": self.entity_format_,
               "seed": self.seed_, "n_entities": self.n_entities_, "has_steps": self.step_model_ is not None,
               "aggregates": self.aggregates_, "nested": bool(getattr(self, "nested_", False))}
        files = {}
        if doc["nested"]:  # the inner levels' model, a sequence model file of its own inside this one
            doc["inner_format"] = self.inner_format_
            with tempfile.TemporaryDirectory() as tmp:
                files["inner.sequences"] = self.inner_.save(Path(tmp) / "inner.tabsynth").read_bytes()
        return write_models(Path(path), "sequences.json", doc,
                            {"entities.tabsynth": self.entity_model_, "steps.tabsynth": self.step_model_}, files)

    @classmethod
    def load(cls, path: str | Path) -> "SequenceSynthesizer":
        """Load a model written by :meth:`save`."""
        path = Path(path)
        if not path.exists():
            raise FileFormatError(f"model file '{path}' does not exist")
        try:
            doc, models = read_models(path, "sequences.json")
            if doc.get("format") != FORMAT or int(doc.get("format_version", -1)) > FORMAT_VERSION:
                raise ValueError("not a tabsynth sequence model of a version this tabsynth reads")
            self = cls(doc["entity"], order=doc["order"], constant=doc.get("constant"), backend=doc["backend"],
                       random_state=doc["random_state"], **doc.get("params", {}))
            for key in ("columns", "dtypes", "attributes", "varying", "order_kind", "entity_format", "seed",
                        "n_entities", "aggregates"):
                setattr(self, f"{key}_", doc[key])
            self.entity_model_ = models["entities.tabsynth"]
            self.step_model_ = models.get("steps.tabsynth") if doc["has_steps"] else None
            self.nested_ = bool(doc.get("nested", False))
            if self.nested_:
                self.inner_format_ = doc["inner_format"]
                with zipfile.ZipFile(path) as zf, tempfile.TemporaryDirectory() as tmp:
                    (Path(tmp) / "inner.tabsynth").write_bytes(zf.read("inner.sequences"))
                    self.inner_ = SequenceSynthesizer.load(Path(tmp) / "inner.tabsynth")
            self._sample_rng = make_rng(int(np.random.SeedSequence(self.seed_).generate_state(3)[2]))
        except Exception as e:
            raise FileFormatError(f"model file '{path}' is not a valid tabsynth sequence model "
                                  f"({type(e).__name__}: {e})") from None
        return self


#: summaries of a history an entity column may be (checked in this order)
AGGREGATES = ("mean", "first", "last", "min", "max", "sum")


def _aggregates(table: pd.DataFrame, entity: str, attributes: list[str], varying: list[str]) -> dict:
    """Entity number columns equal, in every entity of two rows or more, to a summary of a varying number column
    (up to one unit of their last digit), e.g. a person's mean unemployment rate."""
    out: dict[str, tuple[str, str]] = {}
    nums = [c for c in varying if pd.api.types.is_numeric_dtype(table[c].dtype)
            and not pd.api.types.is_bool_dtype(table[c].dtype)]
    g = table.groupby(entity, sort=False)
    multi = (g.size() > 1).to_numpy()
    if multi.sum() < 10:
        return out
    for attr in attributes:
        if not pd.api.types.is_numeric_dtype(table[attr].dtype) or pd.api.types.is_bool_dtype(table[attr].dtype):
            continue
        a = g[attr].first().to_numpy(dtype="float64")
        if np.isnan(a).any():
            continue
        # one unit of the last digit: a summary recorded from values rounded otherwise than the column
        d = digits_after_point(a)
        tol = (10.0 ** -d if d else 0.0) + 1e-9 * max(1.0, float(np.abs(a).max()))
        if np.std(a) <= 10 * tol:  # too coarse to tell a summary from a coincidence
            continue
        for col in nums:
            for how in AGGREGATES:
                v = g[col].agg(how).to_numpy(dtype="float64")
                if not np.isnan(v).any() and np.all(np.abs(v - a)[multi] <= tol):
                    out[attr] = (how, col)
                    break
            if attr in out:
                break
    return out


def _check_declared_constant(df: pd.DataFrame, constant: Any, entities: list, order: str | None) -> None:
    """Refuse a column declared constant (``constant=``) that varies within an entity, naming both."""
    if constant is None:
        return
    if isinstance(constant, str) or not all(isinstance(c, str) for c in constant):
        raise InputError(f"constant must be a list of column names, got {constant!r}")
    names = check_columns(df, list(constant), "constant")
    labels = {str(c): c for c in df.columns}
    for c in names:
        if c in [str(e) for e in entities] or c == order:
            raise InputError(f"constant column {c!r} is the entity or the order column; list other columns")
        group = df.groupby(entities, sort=False, dropna=False)
        varies = group[labels[c]].transform("nunique", dropna=False).to_numpy() > 1
        if varies.any():
            first = int(np.argmax(varies))
            ids = [df[e].iloc[first] for e in entities]
            key = ", ".join(str(v.item() if hasattr(v, "item") else v) for v in ids)
            rows = df[labels[c]][group.ngroup().to_numpy() == group.ngroup().iloc[first]]
            values = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in pd.unique(rows)[:3])
            raise InputError(f"column {c!r} is declared constant but varies within {entities[-1]} {key} "
                             f"(values {values}); remove it from constant or fix that entity's rows")


def _order_numbers(s: pd.Series) -> np.ndarray:
    if is_datetime(s.dtype):
        t = s.dt.tz_convert("UTC").dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        return t.astype("datetime64[ns]").astype("int64").to_numpy(dtype="float64")
    return pd.to_numeric(s).to_numpy(dtype="float64")


def _entity_ids(n: int, fmt: dict) -> np.ndarray:
    return new_keys(n, fmt, np.random.default_rng(0))


def _put_rows(s: pd.Series, rows: np.ndarray, values: pd.Series) -> pd.Series:
    out = s.copy().astype(object) if s.dtype != values.dtype else s.copy()
    out.iloc[rows] = values.to_numpy()
    return out
