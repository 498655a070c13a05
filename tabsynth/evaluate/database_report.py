"""A synthetic database's evaluation as text and as one self-contained HTML page.

:func:`database_summary` prints what :func:`~tabsynth.evaluate.database.evaluate_database`
found (key violations, cardinality shapes, parent-child trends, joined-row detection,
per-table fidelity), with a verdict per line; :func:`write_database_report` writes the
same as an HTML page with, per relation, the children-per-parent histogram of the real
and the synthetic database (inline SVG, no scripts, no network).
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import atomic_path
from .database import children_per_parent

#: a share (cardinality shape, trends, column shapes) this high is good, this low poor
GOOD, POOR = 0.9, 0.8
#: joined-row detection: max(AUC, 1 - AUC) this close to 0.5 is good, this far poor (an AUC well below 0.5 is a
#: detector fooled systematically, as far from indistinguishable as one well above it)
DETECT_GOOD, DETECT_POOR = 0.7, 0.85

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "h2{font-size:1.15em;border-bottom:1px solid #ddd;margin-top:1.5em}"
    "table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:.3em .6em}"
    "th{background:#f4f4f4;text-align:left}.good{color:#1a7f37}.fair{color:#9a6700}.poor{color:#cf222e;font-weight:600}"
    ".charts{display:flex;flex-wrap:wrap;gap:1em}"
)


def _verdict(value: float | None, *, higher_better: bool = True) -> str:
    if value is None:
        return ""
    if higher_better:
        return "good" if value >= GOOD else "fair" if value >= POOR else "poor"
    gap = max(value, 1.0 - value)
    return "good" if gap <= DETECT_GOOD else "fair" if gap <= DETECT_POOR else "poor"


def _f(x: Any) -> str:
    return "-" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)


def _lines(result: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(what, value, verdict) rows: the database's means, then each relation and table."""
    out = [("key violations", _f(result["key_violations"]), "good" if result["key_violations"] == 0 else "poor")]
    for name, key in (("cardinality shape", "cardinality"), ("parent-child trends", "parent_child_trends"),
                      ("column shapes (mean)", "column_shapes"), ("pair trends (mean)", "pair_trends")):
        out.append((name, _f(result.get(key)), _verdict(result.get(key))))
    if result.get("joined_detection") is not None:
        out.append(("joined-row detection AUC", _f(result["joined_detection"]),
                    _verdict(result["joined_detection"], higher_better=False)))
    for rel, r in result["relations"].items():
        out.append((f"{rel}: cardinality", _f(r["cardinality_shape"]), _verdict(r["cardinality_shape"])))
        out.append((f"{rel}: parent-child trends", _f(r["parent_child_trends"]), _verdict(r["parent_child_trends"])))
        if r.get("joined_detection") is not None:
            out.append((f"{rel}: joined detection", _f(r["joined_detection"]),
                        _verdict(r["joined_detection"], higher_better=False)))
    for name, t in result["tables"].items():
        low = min(t["column_shapes"], t["pair_trends"] if t["pair_trends"] is not None else 1.0)
        out.append((f"table {name} ({t['rows_synthetic']} rows): shapes / trends",
                    f"{_f(t['column_shapes'])} / {_f(t['pair_trends'])}", _verdict(low)))
    return out


def database_summary(result: Mapping[str, Any]) -> str:
    """A short text table of an :func:`~tabsynth.evaluate.database.evaluate_database` result, a verdict per line.

    Parameters
    ----------
    result : dict
        What ``evaluate_database`` returned (with ``detection=True``, the joined-row detection too).

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> from tabsynth.evaluate.database import evaluate_database
    >>> p = pd.DataFrame({"id": [1, 2, 3], "x": [0.1, 0.5, 0.9]})
    >>> c = pd.DataFrame({"pid": [1, 1, 2, 3], "y": ["a", "b", "a", "b"]})
    >>> print(database_summary(evaluate_database({"p": p, "c": c}, {"p": p, "c": c}, ["c.pid=p.id"])).splitlines()[0])
    key violations                             0  good
    """
    rows = _lines(result)
    width = max(len(w) for w, _, _ in rows)
    return "\n".join(f"{w:<{width}}  {v:>{max(9, len(v))}}  {k}".rstrip() for w, v, k in rows)


def _histogram_svg(title: str, real: np.ndarray, syn: np.ndarray) -> str:
    """Children per parent row, real against synthetic, as shares of parent rows (inline SVG)."""
    top = int(max(real.max(initial=0), syn.max(initial=0)))
    edges = np.arange(top + 2) if top <= 30 else np.unique(np.linspace(0, top + 1, 31).round())
    hr = np.histogram(real, edges)[0] / max(len(real), 1)
    hs = np.histogram(syn, edges)[0] / max(len(syn), 1)
    w, h, pad = 420, 220, 34
    peak = max(hr.max(initial=0), hs.max(initial=0), 1e-12)
    bw = (w - 2 * pad) / len(hr)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
             f'aria-label="{html.escape(title)}">',
             f'<text x="{pad}" y="16" font-size="13">{html.escape(title)}</text>']
    for i, (a, b) in enumerate(zip(hr, hs)):
        x = pad + i * bw
        for j, (v, color) in enumerate(((a, "#4c78a8"), (b, "#f58518"))):
            bh = (h - 2 * pad) * v / peak
            parts.append(f'<rect x="{x + j * bw / 2:.1f}" y="{h - pad - bh:.1f}" width="{bw / 2 * 0.9:.1f}" '
                         f'height="{bh:.1f}" fill="{color}"/>')
    parts += [f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#888"/>',
              f'<text x="{pad}" y="{h - pad + 14}" font-size="11">{int(edges[0])}</text>',
              f'<text x="{w - pad}" y="{h - pad + 14}" font-size="11" text-anchor="end">{int(edges[-1]) - 1}</text>',
              f'<text x="{w / 2}" y="{h - 6}" font-size="11" text-anchor="middle">children per parent row</text>',
              f'<text x="{w - pad}" y="16" font-size="11" text-anchor="end" fill="#4c78a8">real</text>',
              f'<text x="{w - pad}" y="30" font-size="11" text-anchor="end" fill="#f58518">synthetic</text>',
              "</svg>"]
    return "".join(parts)


def render_database_report(result: Mapping[str, Any], real: Mapping[str, pd.DataFrame],
                           synthetic: Mapping[str, pd.DataFrame], *,
                           title: str = "tabsynth database evaluation") -> str:
    """The HTML page of :func:`write_database_report` (a string)."""
    esc = html.escape
    rows = "".join(f'<tr><td>{esc(w)}</td><td>{esc(v)}</td><td class="{k}">{k}</td></tr>' for w, v, k in _lines(result))
    charts = "".join(_histogram_svg(rel, children_per_parent(real, rel), children_per_parent(synthetic, rel))
                     for rel in result["relations"])
    keys = "".join(
        f"<tr><td>{esc(rel)}</td><td>{r['duplicate_keys']}</td><td>{r['missing_keys']}</td><td>{r['orphans']}</td>"
        f"<td>{r['real_orphan_share']:.3f}</td><td>{r['orphans_beyond_real_share']}</td></tr>"
        for rel, r in result["relations"].items())
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{esc(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{esc(title)}</h1>"
            f"<h2>Summary</h2><table><tr><th>measure</th><th>value</th><th>verdict</th></tr>{rows}</table>"
            "<h2>Keys</h2><table><tr><th>relation</th><th>duplicate keys</th><th>missing keys</th><th>orphans</th>"
            f"<th>real orphan share</th><th>orphans beyond it</th></tr>{keys}</table>"
            f"<h2>Children per parent</h2><div class='charts'>{charts}</div></body></html>")


def write_database_report(result: Mapping[str, Any], real: Mapping[str, pd.DataFrame],
                          synthetic: Mapping[str, pd.DataFrame], path: str | os.PathLike, *,
                          title: str = "tabsynth database evaluation") -> Path:
    """Write one self-contained HTML page of a database evaluation (atomic: a temporary file, then a rename).

    Parameters
    ----------
    result : dict
        What :func:`~tabsynth.evaluate.database.evaluate_database` returned.
    real, synthetic : dict of str to DataFrame
        The databases that were evaluated (for the children-per-parent plots).
    path : str or path-like
        The ``.html`` file; its directory must exist.
    title : str
        Page title.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> from tabsynth.evaluate.database import evaluate_database
    >>> p = pd.DataFrame({"id": [1, 2, 3], "x": [0.1, 0.5, 0.9]})
    >>> c = pd.DataFrame({"pid": [1, 1, 2, 3], "y": ["a", "b", "a", "b"]})
    >>> db = {"p": p, "c": c}
    >>> res = evaluate_database(db, db, ["c.pid=p.id"])
    >>> out = write_database_report(res, db, db, pathlib.Path(tempfile.mkdtemp()) / "db.html")
    >>> out.read_text().count("<svg")
    1
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"report directory {str(path.parent)!r} does not exist; create it or choose another path")
    text = render_database_report(result, real, synthetic, title=title)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
