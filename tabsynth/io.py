"""The only module that touches data files: read and write tables by extension.

Formats: parquet (``.parquet``, ``.pq``), CSV (``.csv``, ``.tsv``, optionally
``.gz``), feather / Arrow IPC (``.feather``, ``.arrow``, ``.ipc``), JSON lines
(``.jsonl``, ``.ndjson``). Writes go to a temporary file in the target's
directory and are renamed into place, so a reader never sees half a file and
a failed write leaves nothing behind. Input files are only ever read.

CSV text is data. The reader keeps every string exactly as written (no
stripping; ``00501`` stays the text ``00501``), keeps column names exactly
(duplicates are an error), and types a column only when that loses nothing
but formatting: whole numbers (``Int64`` when some are missing, so they are
written back without a ``.0``), decimal numbers, ``True``/``False``, and ISO
dates / date-times (written back in the same layout). What it found is kept
in ``df.attrs["tabsynth.text"]`` so that :func:`write_table` can write the
same missing-value marker and date layout back.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ._outputs import register_temp, unregister_temp
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

#: Cell texts read as missing in CSV input (pandas' defaults), compared after stripping spaces.
NA_TOKENS = frozenset(["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                       "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"])
#: Where read_table leaves what it learned about a text file's layout.
TEXT_ATTR = "tabsynth.text"

_INT = re.compile(r"[+-]?\d{1,18}")
_LEADING_ZERO = re.compile(r"[+-]?0\d")
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+|[+-]?\d+")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?P<sep>[ T])?(?P<time>\d{2}:\d{2}(?::\d{2}(?P<frac>\.\d{1,9})?)?)?")
_SEPARATORS = (",", ";", "\t", "|")


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


def read_table(path: str | Path, *, na_values: Sequence[str] | None = None, sep: str | None = None) -> pd.DataFrame:
    """Read a table from ``path``, choosing the reader by extension.

    Parameters
    ----------
    path : str or Path
    na_values : list of str, optional
        Extra cell texts that mean "missing" (e.g. ``["?"]``), compared after
        stripping surrounding spaces. In parquet / feather / JSON lines
        files they apply to string columns.
    sep : str, optional
        CSV field separator; by default sniffed from the first lines among
        ``,`` ``;`` tab and ``|`` (``.tsv`` files: tab).

    Returns
    -------
    pandas.DataFrame
        For CSV / TSV input, strings exactly as written, and numbers,
        booleans and ISO dates typed (see the module notes).

    Raises
    ------
    FileFormatError
        Missing, unreadable, empty or malformed file; unknown extension;
        duplicate column names.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from tabsynth.io import read_table
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("zip,name,n,day\\n00501,  padded,1,2020-01-02\\n10001,x,,2020-01-03\\n")
    >>> df = read_table(p)
    >>> df["zip"].tolist(), df["name"].tolist(), str(df["n"].dtype), str(df["day"].dtype)
    (['00501', '10001'], ['  padded', 'x'], 'Int64', 'datetime64[ns]')
    """
    p = Path(path)
    fmt = table_format(p)
    if not p.exists():
        raise FileFormatError(f"input file '{p}' does not exist")
    if p.is_dir():
        raise FileFormatError(f"input '{p}' is a directory, not a table file")
    if not os.access(p, os.R_OK):
        raise FileFormatError(f"input file '{p}' is not readable (permission denied)")
    tokens = NA_TOKENS | {str(v).strip() for v in (na_values or [])}
    try:
        if fmt in ("csv", "tsv"):
            df = _read_text_table(p, "\t" if fmt == "tsv" and sep is None else sep, tokens)
        elif fmt == "parquet":
            df = pd.read_parquet(p)
        elif fmt == "feather":
            df = pd.read_feather(p)
        else:
            kw: dict[str, Any] = {"dtype": False}
            if int(pd.__version__.split(".")[0]) < 3:
                kw["convert_dates"] = False
            df = pd.read_json(p, lines=True, **kw)
            df = _type_json_strings(df)
    except FileFormatError:
        raise
    except pd.errors.EmptyDataError:
        raise FileFormatError(f"input file '{p}' is empty") from None
    except Exception as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise FileFormatError(f"cannot read '{p}' as {fmt}: {msg}") from None
    if df.shape[1] == 0:
        raise FileFormatError(f"input file '{p}' has no columns")
    if df.shape[0] == 0:
        raise FileFormatError(f"input file '{p}' has no rows")
    names = [str(c) for c in df.columns]
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise FileFormatError(f"input file '{p}' has duplicate column names {', '.join(repr(d) for d in dup)}; "
                              "rename them so each column has its own name")
    if fmt not in ("csv", "tsv") and na_values:
        df = _apply_na_values(df, {str(v).strip() for v in na_values})
    return df


def _open_text(p: Path):
    if p.suffix.lower() == ".gz":
        return gzip.open(p, "rt", encoding="utf-8-sig", newline="")
    return open(p, encoding="utf-8-sig", newline="")


def sniff_separator(p: Path) -> str:
    """The field separator of a CSV file: the one among ``, ; tab |`` that splits its first lines evenly."""
    with _open_text(p) as f:
        lines = [line for line in (f.readline() for _ in range(50)) if line.strip()]
    if not lines:
        return ","
    best, best_width = ",", 1
    for cand in _SEPARATORS:
        widths = {len(row) for row in csv.reader(lines[:-1] or lines, delimiter=cand)}
        if len(widths) == 1:
            width = widths.pop()
            if width > best_width:
                best, best_width = cand, width
    return best


def _read_text_table(p: Path, sep: str | None, tokens: frozenset[str] | set[str]) -> pd.DataFrame:
    with _open_text(p) as f:
        first = f.readline()
        if first.strip() == "" and f.read(1 << 16).strip():
            # the reader skips blank lines, so the first data row would silently become the header
            raise FileFormatError(f"input file '{p}' has a blank first line; put the column names on line 1 "
                                  "(a one-column table needs a name that is not blank)")
    sep = sep or sniff_separator(p)
    raw = pd.read_csv(p, sep=sep, header=None, dtype=str, keep_default_na=False, na_filter=False,
                      encoding="utf-8-sig", skip_blank_lines=True)
    if raw.shape[0] == 0:
        raise pd.errors.EmptyDataError
    names = [str(v) for v in raw.iloc[0].tolist()]
    body = raw.iloc[1:].reset_index(drop=True)
    columns: dict[int, pd.Series] = {}
    formats: dict[str, dict] = {}
    na_seen: dict[str, int] = {}
    for j, name in enumerate(names):
        col, fmt_info, na_counts = _parse_text(body.iloc[:, j], tokens, decimal_comma=sep != ",")
        columns[j] = col
        if fmt_info:
            formats[name] = fmt_info
        for tok, k in na_counts.items():
            na_seen[tok] = na_seen.get(tok, 0) + k
    df = pd.DataFrame(columns)
    df.columns = names
    na_rep = max(na_seen, key=lambda t: (na_seen[t], t == "")) if na_seen else ""
    df.attrs[TEXT_ATTR] = {"sep": sep, "decimal": "," if sep != "," and _uses_decimal_comma(formats) else ".",
                           "na_rep": na_rep, "column_formats": formats}
    return df


def _uses_decimal_comma(formats: dict[str, dict]) -> bool:
    return any(f.get("decimal_comma") for f in formats.values())


def _parse_text(raw: pd.Series, tokens, *, decimal_comma: bool) -> tuple[pd.Series, dict | None, dict[str, int]]:
    """One CSV column of texts -> typed values (only when lossless), layout info, NA texts seen."""
    stripped = raw.str.strip()
    isna = stripped.isin(tokens).to_numpy()
    na_counts = raw[isna].value_counts().to_dict() if isna.any() else {}
    obs = stripped[~isna]
    if len(obs) == 0:
        return pd.Series(np.full(len(raw), np.nan)), None, na_counts
    text = raw.where(~isna) if isna.any() else raw
    if obs.isin(("True", "False")).all():
        vals = np.where(isna, None, stripped.to_numpy(dtype=object) == "True")
        dtype = "boolean" if isna.any() else bool
        return pd.Series(pd.array(vals.tolist(), dtype="boolean")).astype(dtype), None, na_counts
    if obs.str.match(_LEADING_ZERO).any():
        return text, None, na_counts  # identifiers such as zip codes: text, not numbers
    if obs.str.fullmatch(_INT).all():
        vals = np.zeros(len(raw), dtype="int64")
        vals[~isna] = obs.astype("int64").to_numpy()
        if isna.any():
            return pd.Series(pd.arrays.IntegerArray(vals, isna)), None, na_counts
        return pd.Series(vals), None, na_counts
    info = None
    source = obs
    if decimal_comma and obs.str.fullmatch(_DECIMAL_COMMA).all() and obs.str.contains(",", regex=False).any():
        source = obs.str.replace(",", ".", regex=False)
        info = {"decimal_comma": True}
    if obs.str.contains(r"[0-9]", regex=True).all():  # text without digits is never a number ("inf", "nan")
        num = pd.to_numeric(source, errors="coerce")
        if num.notna().all():
            out = np.full(len(raw), np.nan)
            out[~isna] = num.to_numpy(dtype="float64")
            return pd.Series(out), info, na_counts
    when = _parse_iso(obs)
    if when is not None:
        series, fmt = when
        out = pd.Series(pd.NaT, index=raw.index, dtype=series.dtype)
        out[~isna] = series.to_numpy()
        return out, fmt, na_counts
    return text, None, na_counts


def _parse_iso(obs: pd.Series) -> tuple[pd.Series, dict] | None:
    """ISO dates / date-times all written in one layout -> (datetime64 values, layout), else None."""
    if not obs.str.fullmatch(_ISO).all():  # first: the cheap test, the extraction only for dates
        return None
    m = obs.str.extract(_ISO.pattern + r"$", expand=True)
    seps, times, fracs = m["sep"].fillna(""), m["time"].fillna(""), m["frac"].fillna("")
    if seps.nunique() > 1 or times.str.len().nunique() > 1 or fracs.str.len().nunique() > 1:
        return None
    sep, time, frac = seps.iloc[0], times.iloc[0], fracs.iloc[0]
    if bool(sep) != bool(time):
        return None
    fmt = "%Y-%m-%d"
    if time:
        fmt += sep + "%H:%M" + (":%S" if len(time) > 5 else "") + (".%f" if frac else "")
    try:
        values = pd.to_datetime(obs, format=fmt)
    except (ValueError, OverflowError):
        return None
    if values.dt.unit != "ns":
        values = values.astype("datetime64[ns]")
    return values, {"format": fmt, "fraction_digits": max(len(frac) - 1, 0)}


def _type_json_strings(df: pd.DataFrame) -> pd.DataFrame:
    """JSON lines: string columns holding ISO dates in one layout become datetimes."""
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype):
            obs = s.dropna()
            if len(obs) and obs.map(lambda v: isinstance(v, str)).all():
                when = _parse_iso(obs.astype(str))
                if when is not None:
                    out = pd.Series(pd.NaT, index=s.index, dtype=when[0].dtype)
                    out[obs.index] = when[0].to_numpy()
                    df[c] = out
    return df


def _apply_na_values(df: pd.DataFrame, tokens: set[str]) -> pd.DataFrame:
    """Cells of string columns equal (after stripping spaces) to one of ``tokens`` become missing."""
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_object_dtype(s.dtype) or isinstance(s.dtype, pd.StringDtype):
            hit = s.map(lambda v: isinstance(v, str) and v.strip() in tokens).to_numpy(dtype=bool)
            if hit.any():
                df[c] = s.mask(hit)
    return df


def text_layout(df: pd.DataFrame) -> dict | None:
    """What :func:`read_table` learned about a text input's layout (``None`` for other inputs)."""
    info = df.attrs.get(TEXT_ATTR)
    return dict(info) if isinstance(info, dict) else None


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` on success."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.exists():
        raise FileFormatError(f"output directory '{directory}' does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    register_temp(tmp)
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
    finally:
        unregister_temp(tmp)


def write_table(df: pd.DataFrame, path: str | Path, *, layout: dict | None = None,
                like: str | Path | None = None) -> Path:
    """Write ``df`` to ``path`` atomically, choosing the writer by extension.

    Parameters
    ----------
    df : pandas.DataFrame
    path : str or Path
    layout : dict, optional
        A text input's layout (:func:`text_layout`): CSV / TSV output then
        uses its separator, decimal mark and missing-value text, and text
        outputs write its dates in the same layout. Default: ``df``'s own.
    like : str or Path, optional
        Choose the format by this path's extension instead of ``path``'s
        (for writing to a staged temporary file).
    """
    path = Path(path)
    ref = Path(like) if like is not None else path
    fmt = table_format(ref)
    layout = layout if layout is not None else text_layout(df)
    try:
        with atomic_path(path) as tmp:
            _write_to(df, tmp, fmt, ref.suffix.lower() == ".gz", layout)
    except FileFormatError:
        raise
    except OSError as e:
        raise FileFormatError(f"cannot write '{path}': {e.strerror or e}") from None
    return path


def _write_to(df: pd.DataFrame, tmp: Path, fmt: str, gz: bool, layout: dict | None) -> None:
    if fmt in ("csv", "tsv", "jsonl") and layout and layout.get("column_formats"):
        df = _format_datetimes(df, layout["column_formats"])
    if fmt in ("csv", "tsv"):
        df.to_csv(tmp, index=False, compression="gzip" if gz else None, **_csv_options(fmt, layout))
    elif fmt == "parquet":
        df.to_parquet(tmp, index=False)
    elif fmt == "feather":
        df.reset_index(drop=True).to_feather(tmp)
    else:
        df.to_json(tmp, orient="records", lines=True, date_format="iso")


class TableWriter:
    """Write one table file batch by batch: parquet row groups, CSV / JSON lines appends, Arrow IPC record batches.

    Memory is that of one batch. The format is chosen by ``like``'s
    extension (default ``path``'s); write to a staged temporary path (see
    :class:`tabsynth._outputs.OutputPlan`) so that an interrupted stream
    leaves nothing behind. Every batch must have the first one's columns
    and dtypes.

    Examples
    --------
    >>> import pandas as pd, pathlib, tempfile
    >>> from tabsynth.io import TableWriter, read_table
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.parquet"
    >>> with TableWriter(path) as w:
    ...     w.write(pd.DataFrame({"a": [1, 2]}))
    ...     w.write(pd.DataFrame({"a": [3]}))
    >>> read_table(path)["a"].tolist()
    [1, 2, 3]
    """

    def __init__(self, path: str | Path, *, like: str | Path | None = None, layout: dict | None = None):
        self.path = Path(path)
        ref = Path(like) if like is not None else self.path
        self.format = table_format(ref)
        self.gz = ref.suffix.lower() == ".gz"
        self.layout = layout
        self.rows = 0
        self._handle: Any = None
        self._arrow: Any = None
        self._schema: Any = None

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def write(self, df: pd.DataFrame) -> None:
        """Append the rows of ``df``."""
        try:
            self._write(df)
        except OSError as e:
            raise FileFormatError(f"cannot write '{self.path}': {e.strerror or e}") from None
        self.rows += len(df)

    def _write(self, df: pd.DataFrame) -> None:
        fmt, layout = self.format, self.layout
        if fmt in ("csv", "tsv", "jsonl") and layout and layout.get("column_formats"):
            df = _format_datetimes(df, layout["column_formats"])
        if fmt in ("csv", "tsv", "jsonl"):
            if self._handle is None:
                self._handle = (gzip.open(self.path, "wt", encoding="utf-8", newline="") if self.gz
                                else open(self.path, "w", encoding="utf-8", newline=""))
                first = True
            else:
                first = False
            if fmt == "jsonl":
                text = df.to_json(orient="records", lines=True, date_format="iso") if len(df) else ""
                self._handle.write(text if not text or text.endswith("\n") else text + "\n")
            else:
                df.to_csv(self._handle, index=False, header=first, **_csv_options(fmt, layout))
            return

        if self._schema is None:
            schema = pa.Schema.from_pandas(df, preserve_index=False)
            # a column with no value in the first batch: type it from its pandas dtype, not as null
            for i, field in enumerate(schema):
                if pa.types.is_null(field.type):
                    schema = schema.set(i, field.with_type(pa.large_string() if df[field.name].dtype == object
                                                           else pa.from_numpy_dtype(df[field.name].dtype)))
            self._schema = schema
        table = pa.Table.from_pandas(df, schema=self._schema, preserve_index=False)
        if self._arrow is None:
            if fmt == "parquet":
                self._arrow = pq.ParquetWriter(self.path, self._schema)
            else:
                self._arrow = pa.ipc.new_file(str(self.path), self._schema)
        self._arrow.write_table(table)

    def close(self) -> None:
        """Finish the file. Write at least one batch (an empty one for no rows) to get a header / schema."""
        for h in (self._handle, self._arrow):
            if h is not None:
                h.close()
        self._handle = self._arrow = None


def _csv_options(fmt: str, layout: dict | None) -> dict[str, Any]:
    """``to_csv`` options for a CSV / TSV output: the input's separator, decimal mark and missing-value text."""
    opts: dict[str, Any] = {"sep": "\t" if fmt == "tsv" else ","}
    if layout:
        if fmt == "csv" and layout.get("sep") in _SEPARATORS:
            opts["sep"] = layout["sep"]
        opts["na_rep"] = layout.get("na_rep", "")
        if layout.get("decimal") == "," and opts["sep"] != ",":
            opts["decimal"] = ","
    return opts


def _format_datetimes(df: pd.DataFrame, formats: dict[str, dict]) -> pd.DataFrame:
    out = None
    for c in df.columns:
        info = formats.get(str(c))
        if not info or "format" not in info or not pd.api.types.is_datetime64_any_dtype(df[c].dtype):
            continue
        s = df[c]
        text = s.dt.strftime(info["format"])
        cut = 6 - int(info.get("fraction_digits", 0))
        if "%f" in info["format"] and cut > 0:
            text = text.str[:-cut]
        out = df.copy() if out is None else out
        out[c] = text.where(s.notna())
    return df if out is None else out
