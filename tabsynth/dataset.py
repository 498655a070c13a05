"""Parquet inputs larger than memory: one streaming pass for exact statistics and a seeded sample to fit on.

A *dataset* is a directory of parquet files (read together, as
``pyarrow.dataset`` does) or a single parquet file with more rows than the
fit sample. :func:`scan` reads it once, batch by batch, and keeps

* a **seeded reservoir sample** of at most ``fit_rows`` rows: every row gets
  a random key from ``(seed, batch index)`` and the rows with the smallest
  keys are kept (bottom-k sampling), so the sample depends only on the seed
  and the data, never on memory or timing;
* **exact statistics** of every column over all rows: missing cells,
  numeric bounds, and category counts (exact up to :data:`MAX_COUNTED`
  distinct values per column; beyond that the column is not a category).

The model is fitted on the sample with its schema corrected by the exact
statistics (:func:`apply_stats`): bounds, missing shares and category
frequencies of the whole dataset, and categories too rare to be sampled.
Memory is that of one batch plus the sample.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from .errors import FileFormatError

#: distinct values counted exactly per column during a scan
MAX_COUNTED = 10_000
#: default size of the fit sample
FIT_ROWS = 200_000
#: rows per batch read from a dataset
BATCH_ROWS = 65_536
#: mixed into the sample keys' seeds (see scan)
_SALT = 0x5CA7


def is_dataset(path: str | Path, fit_rows: int = FIT_ROWS) -> bool:
    """Whether ``path`` is read as a dataset: a directory, or a parquet file with more than ``fit_rows`` rows."""
    p = Path(path)
    if p.is_dir():
        return True
    if p.suffix.lower() in (".parquet", ".pq") and p.is_file():
        try:
            return pq.ParquetFile(p).metadata.num_rows > fit_rows
        except Exception:  # not a parquet file: the ordinary reader says so
            return False
    return False


def open_dataset(path: str | Path) -> Any:
    """A ``pyarrow.dataset.Dataset`` of the parquet file or directory ``path``; a one-line error if it has none."""
    p = Path(path)
    if not p.exists():
        raise FileFormatError(f"'{path}' does not exist")
    try:
        dataset = ds.dataset(str(p), format="parquet", exclude_invalid_files=False)
        files = dataset.files
    except Exception as e:  # pyarrow's own message, on one line
        raise FileFormatError(f"'{path}' is not a readable parquet dataset: {' '.join(str(e).split())}") from None
    if not files:
        raise FileFormatError(f"'{path}' holds no parquet files; a dataset input is a directory of .parquet files")
    return dataset


def iter_batches(path: str | Path, batch_rows: int = BATCH_ROWS) -> Iterator[pd.DataFrame]:
    """The rows of a dataset in order, as DataFrames of at most ``batch_rows`` rows."""
    dataset = open_dataset(path)
    for batch in dataset.to_batches(batch_size=batch_rows):
        if batch.num_rows:
            yield batch.to_pandas()


@dataclass
class ColumnStats:
    """What one pass saw of one column."""

    missing: int = 0
    min: float | None = None
    max: float | None = None
    counts: dict[Any, int] | None = field(default_factory=dict)  # None: more than MAX_COUNTED distinct values


@dataclass
class Scan:
    """A dataset's fit sample and exact statistics (see :func:`scan`)."""

    sample: pd.DataFrame
    rows: int
    stats: dict[str, ColumnStats]


def scan(path: str | Path, *, fit_rows: int = FIT_ROWS, seed: int = 0, batch_rows: int = BATCH_ROWS,
         progress: Any = None) -> Scan:
    """Read a dataset once: a seeded sample of at most ``fit_rows`` rows and exact per-column statistics."""
    dataset = open_dataset(path)
    stats: dict[str, ColumnStats] = {name: ColumnStats() for name in dataset.schema.names}
    kept: pa.Table | None = None
    keys = np.empty(0)
    rows = 0
    for i, batch in enumerate(dataset.to_batches(batch_size=batch_rows)):
        if not batch.num_rows:
            continue
        rows += batch.num_rows
        for name, column in zip(batch.schema.names, batch.columns):
            _update(stats[name], column, pa, pc)
        # bottom-k sample: the rows with the smallest keys so far
        # keys from their own stream (salted: a table generated with default_rng(seed) must not steer the sample)
        new = np.random.default_rng([seed, i, _SALT]).random(batch.num_rows)
        take = np.flatnonzero(new < keys.max()) if len(keys) >= fit_rows else np.arange(batch.num_rows)
        table = pa.Table.from_batches([batch.take(pa.array(take))])
        kept = table if kept is None else pa.concat_tables([kept, table], promote_options="permissive")
        keys = np.concatenate([keys, new[take]])
        if len(keys) > fit_rows:
            best = np.sort(np.argpartition(keys, fit_rows - 1)[:fit_rows])
            kept, keys = kept.take(pa.array(best)), keys[best]
        if progress is not None:
            progress(rows)
    if kept is None:
        raise FileFormatError(f"'{path}' holds no rows")
    order = np.argsort(keys, kind="stable")  # the sample in key order: a seeded shuffle
    sample = kept.take(pa.array(order)).to_pandas().reset_index(drop=True)
    return Scan(sample, rows, stats)


def _update(st: ColumnStats, column: Any, pa: Any, pc: Any) -> None:
    st.missing += column.null_count
    t = column.type
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        valid = pc.drop_null(column)
        if pa.types.is_floating(t):
            valid = valid.filter(pc.is_finite(valid))
        if len(valid):
            mm = pc.min_max(valid)
            lo, hi = mm["min"].as_py(), mm["max"].as_py()
            st.min = lo if st.min is None else min(st.min, lo)
            st.max = hi if st.max is None else max(st.max, hi)
    if pa.types.is_floating(t):
        st.counts = None  # a float column is not a category: no counting
    if st.counts is None:
        return
    if pa.types.is_dictionary(t):
        column = column.cast(t.value_type)
    counts = pc.value_counts(pc.drop_null(column))
    for value, count in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()):
        st.counts[value] = st.counts.get(value, 0) + count
    if len(st.counts) > MAX_COUNTED:
        st.counts = None


def apply_stats(schema: Any, scanned: Scan) -> Any:
    """``schema`` (inferred from the sample) corrected by the whole dataset's exact statistics.

    Missing shares and ``nullable`` from all rows; numeric bounds widened to
    all rows'; a categorical column's frequencies from all rows, with
    categories the sample missed added (when the column had at most
    :data:`MAX_COUNTED` distinct values).
    """
    columns = []
    for spec in schema.columns:
        st = scanned.stats.get(spec.name)
        if st is None or not scanned.rows:
            columns.append(spec)
            continue
        changes: dict[str, Any] = {"missing_rate": st.missing / scanned.rows, "nullable": st.missing > 0}
        if spec.kind in ("numeric", "integer") and st.min is not None and spec.min is not None:
            changes["min"] = float(min(spec.min, st.min))
            changes["max"] = float(max(spec.max, st.max))
        if spec.kind == "categorical" and st.counts and spec.categories is not None:
            known = {_key(c): c for c in spec.categories}
            extra = [v for v in st.counts if _key(v) not in known]
            cats = list(spec.categories) + sorted(extra, key=lambda v: (-st.counts[v], str(v)))
            by_key = {_key(v): c for v, c in st.counts.items()}
            total = sum(st.counts.values()) or 1
            changes["categories"] = cats
            changes["frequencies"] = [by_key.get(_key(c), 0) / total for c in cats]
        columns.append(dataclasses.replace(spec, **changes))
    return dataclasses.replace(schema, columns=columns)


def _key(v: Any) -> Any:
    """A comparable key for a category value (numpy scalars and Python scalars alike)."""
    return v.item() if isinstance(v, np.generic) else v
