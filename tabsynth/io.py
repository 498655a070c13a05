"""The only module that touches data files: read and write tables by extension.

Formats: parquet (``.parquet``, ``.pq``), CSV (``.csv``, ``.tsv``, optionally
``.gz``), feather / Arrow IPC (``.feather``, ``.arrow``, ``.ipc``), JSON lines
(``.jsonl``, ``.ndjson``). Writes go to a temporary file in the target's
directory and are renamed into place, so a reader never sees half a file and
a failed write leaves nothing behind. Input files are only ever read.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator, Sequence

import pandas as pd

from .errors import FileFormatError

FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".feather": "feather",
    ".arrow": "feather",
    ".ipc": "feather",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def table_format(path: str | Path) -> str:
    """The format name for ``path``'s extension (``.gz`` allowed for text formats)."""
    p = Path(path)
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] == ".gz" and len(suffixes) > 1:
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext not in FORMATS:
        raise FileFormatError(
            f"'{path}': unknown table format {ext or '(no extension)'!r}; use one of "
            + ", ".join(sorted(FORMATS))
        )
    return FORMATS[ext]


def read_table(path: str | Path, *, na_values: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a table from ``path``, choosing the reader by extension.

    Parameters
    ----------
    path : str or Path
    na_values : list of str, optional
        Extra strings that mean "missing" in CSV/TSV files (e.g. ``["?"]``).
        CSV fields are read with leading spaces after the delimiter skipped.

    Raises
    ------
    FileFormatError
        Missing, unreadable, empty or malformed file; unknown extension.
    """
    p = Path(path)
    fmt = table_format(p)
    if not p.exists():
        raise FileFormatError(f"input file '{p}' does not exist")
    if p.is_dir():
        raise FileFormatError(f"input '{p}' is a directory, not a table file")
    if not os.access(p, os.R_OK):
        raise FileFormatError(f"input file '{p}' is not readable (permission denied)")
    try:
        if fmt in ("csv", "tsv"):
            df = pd.read_csv(p, sep="\t" if fmt == "tsv" else ",", skipinitialspace=True,
                             na_values=list(na_values) if na_values else None)
        elif fmt == "parquet":
            df = pd.read_parquet(p)
        elif fmt == "feather":
            df = pd.read_feather(p)
        else:
            df = pd.read_json(p, lines=True)
    except pd.errors.EmptyDataError:
        raise FileFormatError(f"input file '{p}' is empty") from None
    except Exception as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise FileFormatError(f"cannot read '{p}' as {fmt}: {msg}") from None
    if df.shape[1] == 0:
        raise FileFormatError(f"input file '{p}' has no columns")
    if df.shape[0] == 0:
        raise FileFormatError(f"input file '{p}' has no rows")
    return df


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` on success."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.exists():
        raise FileFormatError(f"output directory '{directory}' does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp creates 0600; give the file the permissions a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_table(df: pd.DataFrame, path: str | Path, **kwargs: Any) -> Path:
    """Write ``df`` to ``path`` atomically, choosing the writer by extension."""
    path = Path(path)
    fmt = table_format(path)
    try:
        with atomic_path(path) as tmp:
            if fmt in ("csv", "tsv"):
                compression = "gzip" if path.suffix.lower() == ".gz" else None
                df.to_csv(tmp, index=False, sep="\t" if fmt == "tsv" else ",", compression=compression)
            elif fmt == "parquet":
                df.to_parquet(tmp, index=False)
            elif fmt == "feather":
                df.reset_index(drop=True).to_feather(tmp)
            else:
                df.to_json(tmp, orient="records", lines=True, date_format="iso")
    except FileFormatError:
        raise
    except OSError as e:
        raise FileFormatError(f"cannot write '{path}': {e.strerror or e}") from None
    return path
