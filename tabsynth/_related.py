"""The command line's runs of several related tables and of entity histories (``fit`` / ``augment`` / ``sample``).

A table's name is its file's stem (``students.csv`` -> ``students``); a
database model remembers each table's file suffix, so ``tabsynth sample``
writes ``OUTDIR/<name><suffix>`` for each table, in its format, batch by
batch as the tables are drawn (:func:`write_tables`).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .database import DatabaseSynthesizer, is_database_model
from .errors import InputError
from .io import FORMATS, TableWriter
from .sequences import SequenceSynthesizer


def split_name(path: str | Path) -> tuple[str, str]:
    """``data/students.csv.gz`` -> ``("students", ".csv.gz")``."""
    p = Path(path)
    suffixes = p.suffixes
    ext = suffixes[-1] if suffixes else ""
    if ext.lower() == ".gz" and len(suffixes) > 1:
        ext = suffixes[-2] + ext
    return (p.name[: len(p.name) - len(ext)] if ext else p.name), ext


def read_tables(paths: list[str],
                read: Callable[[str], pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Each file read, named by its stem; two files of one stem are refused."""
    tables: dict[str, pd.DataFrame] = {}
    formats: dict[str, str] = {}
    for path in paths:
        name, ext = split_name(path)
        if name in tables:
            raise InputError(f"two input files are named {name!r}; a table's name is its file's stem, rename one")
        tables[name] = read(path)
        formats[name] = ext or ".csv"
    return tables, formats


def table_files(directory: str | Path) -> list[str]:
    """The table files of a directory (any format tabsynth reads), by name."""
    return sorted(str(p) for p in Path(directory).iterdir() if p.is_file() and not p.name.startswith(".")
                  and split_name(p)[1].lower().removesuffix(".gz") in FORMATS)


def model_kind(path: str | Path) -> str:
    """``"database"``, ``"sequences"`` or ``"table"``: what a model file holds."""
    if is_database_model(path):
        return "database"
    try:
        with zipfile.ZipFile(path) as zf:
            if "sequences.json" in zf.namelist():
                return "sequences"
    except (OSError, zipfile.BadZipFile):
        pass
    return "table"


def fit_database(tables: dict[str, pd.DataFrame], formats: dict[str, str], relations: list[str] | None,
                 backend: str, seed: int, params: dict[str, Any], keep: list[str] | None = None) -> DatabaseSynthesizer:
    return DatabaseSynthesizer(relations or None, backend=backend, keep=keep or None, random_state=seed,
                               **params).fit(tables, formats=formats)


def fit_sequences(df: pd.DataFrame, entity: str, order: str | None, backend: str, seed: int,
                  params: dict[str, Any], constant: str | None = None) -> SequenceSynthesizer:
    declared = [c.strip() for c in constant.split(",") if c.strip()] if constant else None
    return SequenceSynthesizer(entity_columns(entity), order=order, constant=declared, backend=backend,
                               random_state=seed, **params).fit(df)


def entity_columns(entity: str) -> str | list[str]:
    """``--entity``'s value: one column, or nested entities written ``outer,inner``."""
    parts = [p.strip() for p in entity.split(",")]
    return parts if len(parts) > 1 else entity


def plan_tables(plan: Any, out_dir: Path, names: list[str], formats: Mapping[str, str]) -> dict[str, Path]:
    """The output file of each table in ``out_dir`` (created), each planned (checked, atomic)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"-o {out_dir}: several tables are written to a directory, and this is a file")
    out_dir.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in names:
        out[name] = plan.add(out_dir / f"{name}{formats.get(name, '.csv')}", "-o")
    return out


def write_tables(plan: Any, batches: Iterable[tuple[str, pd.DataFrame]], paths: Mapping[str, Path]) -> dict[str, int]:
    """Write a stream of ``(table, rows)`` batches (:meth:`DatabaseSynthesizer.sample_batches`), each table to
    its planned path (inside ``plan.writing()``: staged files, renamed together at the end), one table at a time;
    returns the rows written per table. Memory is that of a batch."""
    rows: dict[str, int] = {}
    writer = None
    try:
        for name, batch in batches:
            if name not in rows:
                if writer is not None:
                    writer.close()
                paths[name].parent.mkdir(parents=True, exist_ok=True)
                writer = TableWriter(plan.stage(paths[name]), like=paths[name])
                rows[name] = 0
            writer.write(batch)
            rows[name] += len(batch)
    finally:
        if writer is not None:
            writer.close()
    return rows
