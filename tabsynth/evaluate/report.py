"""One self-contained HTML report of an ``evaluate`` result (plots as inline SVG).

Contents: the summary table with verdicts; fidelity scores; real vs
synthetic marginal distributions of each column (histograms for numeric and
datetime columns, bar charts of the most frequent categories, at most
``max_columns`` columns, worst-scoring first when there are more); a heat map
of the pair-trend scores and one of the absolute difference between the real
and synthetic correlation matrices (numeric and datetime columns); a bar
chart of utility per model trained on real, synthetic and real+synthetic
rows; one line each for detection and privacy; run details.

The charts are small inline SVG built as text (``tabsynth.evaluate._svg``):
no plotting library, a few milliseconds per chart, and the file opens in
any browser.
"""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ._columns import (
    CATEGORICAL,
    DATETIME,
    check_same_columns,
    check_table,
    column_kinds,
    display_key,
    subsample,
    to_float,
    to_keys,
)
from . import _svg
from ._summary import summary_table, verdicts

__all__ = ["write_report", "render_report"]

REAL_COLOR, SYN_COLOR, AUG_COLOR = "#4c72b0", "#dd8452", "#55a868"


# --------------------------------------------------------------- plotting
def _short(text: str, n: int = 22) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def _marginal(col: str, kind: str, real: pd.Series, syn: pd.Series, score: float | None) -> str:
    title = _short(col, 30) + (f"  ({score:.3f})" if score is not None else "")
    label = f"{col}: real vs synthetic"
    if kind == CATEGORICAL:
        kr, ks = pd.Series(to_keys(real)), pd.Series(to_keys(syn))
        pr, ps = kr.value_counts(normalize=True), ks.value_counts(normalize=True)
        top = list(pr.index[:10])
        extra = [k for k in ps.index[:3] if k not in top]  # show what the generator over-produces too
        cats = top + extra
        vr = [float(pr.get(c, 0.0)) for c in cats]
        vs = [float(ps.get(c, 0.0)) for c in cats]
        if len(pr) > len(top) or len(ps.index.difference(cats)):
            cats.append("(other)")
            vr.append(max(0.0, 1 - sum(vr)))
            vs.append(max(0.0, 1 - sum(vs)))
        names = [_short(display_key(c), 18) if c != "(other)" else c for c in cats]
        return _svg.paired_bars(title, names, vr, vs, colors=(REAL_COLOR, SYN_COLOR), label=label)
    xr, xs = to_float(real, kind), to_float(syn, kind)
    xr, xs = xr[~np.isnan(xr)], xs[~np.isnan(xs)]
    both = np.concatenate([xr, xs])
    if not len(both):
        return _svg.histogram(title + " (no observed values)", np.array([0.0, 1.0]), np.zeros(1), np.zeros(1),
                              labels=("", ""), colors=(REAL_COLOR, SYN_COLOR), label=label)
    edges = np.histogram_bin_edges(both, bins=30)
    dr = np.histogram(xr, bins=edges, density=True)[0] if len(xr) and edges[-1] > edges[0] else np.zeros(30)
    ds = np.histogram(xs, bins=edges, density=True)[0] if len(xs) and edges[-1] > edges[0] else np.zeros(30)
    if kind == DATETIME:
        ends = tuple(str(pd.Timestamp(v, unit="s"))[:19].replace(" 00:00:00", "") for v in (edges[0], edges[-1]))
    else:
        ends = (f"{edges[0]:.4g}", f"{edges[-1]:.4g}")
    return _svg.histogram(title, edges, np.nan_to_num(dr), np.nan_to_num(ds), labels=ends,
                          colors=(REAL_COLOR, SYN_COLOR), label=label)


def _pair_heatmap(columns: list[str], pairs: list[dict[str, Any]]) -> str | None:
    if len(columns) < 2 or not pairs:
        return None
    pos = {c: i for i, c in enumerate(columns)}
    m = np.full((len(columns), len(columns)), np.nan)
    for p in pairs:
        a, b = p["columns"]
        if a in pos and b in pos and p.get("score") is not None:
            m[pos[a], pos[b]] = m[pos[b], pos[a]] = p["score"]
    lo = min(0.5, float(np.nanmin(m)) if np.isfinite(m).any() else 0.5)
    title = "pair trend score (1 = same joint behaviour)"
    return _svg.heatmap(title, [_short(c, 16) for c in columns], m, vmin=lo, vmax=1.0,
                        stops=("#d73027", "#fee08b", "#1a9850"), label=title)


def _corr_diff_heatmap(real: pd.DataFrame, syn: pd.DataFrame, kinds: dict[str, str],
                       columns: list[str]) -> str | None:
    num = [c for c in columns if kinds[c] != CATEGORICAL]
    if len(num) < 2:
        return None
    fr = pd.DataFrame({c: to_float(real[c], kinds[c]) for c in num})
    fs = pd.DataFrame({c: to_float(syn[c], kinds[c]) for c in num})
    diff = (fr.corr() - fs.corr()).abs().to_numpy()
    hi = max(0.2, float(np.nanmax(diff)) if np.isfinite(diff).any() else 0.2)
    title = "|Pearson r real - r synthetic|"
    return _svg.heatmap(title, [_short(c, 16) for c in num], diff, vmin=0.0, vmax=hi,
                        stops=("#fff5f0", "#fb6a4a", "#67000d"), label=title)


def _utility_chart(ut: dict[str, Any]) -> str | None:
    models = ut.get("models") or {}
    if not models:
        return None
    names = list(models)
    series = [(label, color, [models[n].get(key) for n in names])
              for key, label, color in (("real", "train real", REAL_COLOR), ("synthetic", "train synthetic", SYN_COLOR),
                                        ("augmented", "train real+synthetic", AUG_COLOR))]
    vals = [v for _, _, vs in series for v in vs if v is not None and np.isfinite(v)]
    if vals:
        lo = min(vals)
        ylim = (max(0.0, lo - 0.1) if lo >= 0 else lo - 0.1,
                max(1.0, max(vals)) if ut.get("metric") != "r2" else max(vals) + 0.05)
    else:
        ylim = (0.0, 1.0)
    return _svg.grouped_bars([n.replace("_", " ") for n in names], series, ylabel=f"{ut.get('metric')} on holdout",
                             ylim=ylim, label="utility per model")


# ------------------------------------------------------------------- html
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1200px;color:#222;
padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:.3em .6em;text-align:left}
th{background:#f4f4f4}.good{color:#1a7f37}.fair{color:#9a6700}.poor,.warn{color:#cf222e;font-weight:600}
.grid{display:flex;flex-wrap:wrap;gap:.5em}.grid svg{border:1px solid #eee}
pre{background:#f6f8fa;padding:.8em;overflow-x:auto;font-size:.8em}.muted{color:#666;font-size:.85em}
"""


def _verdict_class(v: str) -> str:
    word = v.split()[0].lower() if v else ""  # good/fair/poor/ok/WARNING
    return {"good": "good", "fair": "fair", "poor": "poor", "warning": "warn"}.get(word, "")


def render_report(result: dict[str, Any], real: pd.DataFrame, synthetic: pd.DataFrame, *,
                  max_columns: int = 40, max_rows: int = 20_000, random_state: int = 0,
                  title: str = "tabsynth evaluation") -> str:
    """The HTML text of the report (see :func:`write_report`)."""
    if not isinstance(result, dict) or "meta" not in result:
        raise InputError("result must be the dict returned by tabsynth.evaluate.evaluate; run evaluate first")
    check_table(real, "real")
    check_table(synthetic, "synthetic")
    check_same_columns(real, synthetic, "synthetic")
    columns = list(real.columns)
    kinds = column_kinds(real)
    r = subsample(real, max_rows, random_state)
    s = subsample(synthetic[columns], max_rows, random_state + 1)
    esc = html.escape
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{esc(title)}</title>",
             f"<style>{_CSS}</style></head><body><h1>{esc(title)}</h1>"]
    meta = result.get("meta") or {}
    parts.append(f"<p class='muted'>{meta.get('rows_real')} real rows, {meta.get('rows_synthetic')} synthetic rows, "
                 f"{meta.get('rows_holdout')} holdout rows ({esc(str(meta.get('holdout_source')))}); "
                 f"target: {esc(str(meta.get('target')))}; {meta.get('seconds', 0):.1f} s.</p>")

    # summary
    parts.append("<h2>Summary</h2><table><tr><th>section</th><th>figures</th><th>verdict</th></tr>")
    for sec, fig_text, verdict in verdicts(result):
        parts.append(f"<tr><td>{esc(sec)}</td><td>{esc(fig_text)}</td>"
                     f"<td class='{_verdict_class(verdict)}'>{esc(verdict)}</td></tr>")
    parts.append("</table>")

    # fidelity
    fid = result.get("fidelity")
    if fid:
        shown = columns
        scores = {c: (fid.get("columns") or {}).get(c, {}).get("score") for c in columns}
        if len(columns) > max_columns:
            worst = sorted(columns, key=lambda c: (scores[c] if scores[c] is not None else -1.0))[:max_columns]
            shown = [c for c in columns if c in set(worst)]
        parts.append("<h2>Fidelity</h2>")
        parts.append(f"<p>Column shapes <b>{_fmt(fid.get('column_shapes'))}</b>, pair trends "
                     f"<b>{_fmt(fid.get('pair_trends'))}</b> (1 = identical; SDMetrics conventions).</p>")
        parts.append("<h3>Marginal distributions</h3>")
        if len(shown) < len(columns):
            parts.append(f"<p class='muted'>{len(shown)} of {len(columns)} columns shown: those with the lowest "
                         "column-shape scores.</p>")
        parts.append("<div class='grid'>")
        for c in shown:
            parts.append(_marginal(c, kinds[c], r[c], s[c], scores.get(c)))
        parts.append("</div>")
        heat = _pair_heatmap(shown, fid.get("pairs") or [])
        corr = _corr_diff_heatmap(r, s, kinds, shown)
        if heat or corr:
            parts.append("<h3>Column pairs</h3><div class='grid'>")
            parts += [x for x in (heat, corr) if x]
            parts.append("</div>")
        val = fid.get("validity") or {}
        rows = []
        for c, v in (val.get("columns") or {}).items():
            share = v.get("in_range", v.get("in_categories"))
            rows.append(f"<tr><td>{esc(str(c))}</td><td>{esc(v.get('kind', ''))}</td><td>{_fmt(share)}</td>"
                        f"<td>{_fmt(v.get('missing_real'))}</td><td>{_fmt(v.get('missing_synthetic'))}</td></tr>")
        if rows:
            parts.append("<h3>Validity</h3><table><tr><th>column</th><th>kind</th>"
                         "<th>in real range / categories</th><th>missing real</th><th>missing synthetic</th></tr>")
            parts += rows
            parts.append("</table>")

    # utility
    ut = result.get("utility")
    if ut:
        parts.append(f"<h2>Utility ({esc(ut.get('task', ''))}, {esc(ut.get('metric', ''))} on the holdout)</h2>")
        chart = _utility_chart(ut)
        if chart:
            parts.append(chart)
        parts.append("<table><tr><th>model</th><th>train real</th><th>train synthetic</th>"
                     "<th>train real+synthetic</th><th>seeds</th></tr>")
        for name, m in (ut.get("models") or {}).items():
            parts.append(f"<tr><td>{esc(name)}</td><td>{_fmt(m.get('real'))}</td><td>{_fmt(m.get('synthetic'))}</td>"
                         f"<td>{_fmt(m.get('augmented'))}</td><td>{len(m.get('seeds') or [])}</td></tr>")
        parts.append("</table>")
        for note in ut.get("notes") or []:
            parts.append(f"<p class='muted'>{esc(note)}</p>")
    fs = result.get("feature_selection")
    if fs:
        parts.append("<p>Feature selection: Spearman rank correlation of the features' mutual information with the "
                     f"target <b>{_fmt(fs.get('spearman'))}</b>, top-{fs.get('k')} overlap "
                     f"<b>{_fmt(fs.get('top_k_overlap'), 2)}</b>.</p>")

    det = result.get("detection")
    if det:
        parts.append("<h2>Detection</h2><p>Cross-validated ROC-AUC telling real from synthetic rows (0.5 = "
                     f"indistinguishable): logistic regression <b>{_fmt(det.get('logistic_regression'))}</b>, "
                     f"gradient boosting <b>{_fmt(det.get('gradient_boosting'))}</b>.</p>")
    pv = result.get("privacy")
    if pv:
        parts.append("<h2>Privacy</h2><p>Exact copies of real rows: <b>"
                     f"{_pct(pv.get('exact_copies'))}</b> of synthetic rows (holdout vs train: "
                     f"{_pct(pv.get('exact_copies_holdout'))}); median distance to the closest real row: synthetic "
                     f"<b>{_fmt(pv.get('dcr_synthetic_median'))}</b>, holdout "
                     f"<b>{_fmt(pv.get('dcr_holdout_median'))}</b>.</p>")
    notes = meta.get("notes") or []
    parts.append("<h2>Details</h2>")
    for note in notes:
        parts.append(f"<p class='muted'>{esc(note)}</p>")
    parts.append(f"<pre>{esc(summary_table(result))}</pre>")
    parts.append("<p class='muted'>Generated by tabsynth.evaluate.</p></body></html>")
    return "\n".join(parts)


def _fmt(x: Any, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _pct(x: Any) -> str:
    return "-" if x is None else f"{x:.2%}"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_report(result: dict[str, Any], real: pd.DataFrame, synthetic: pd.DataFrame, path: str | os.PathLike, *,
                 max_columns: int = 40, max_rows: int = 20_000, random_state: int = 0,
                 title: str = "tabsynth evaluation") -> Path:
    """Write one self-contained HTML report (plots as inline SVG) of an :func:`evaluate` result.

    The file is written atomically (a temporary file in the same directory,
    then ``os.replace``): no partial report is ever left at ``path``.

    Parameters
    ----------
    result : dict
        What :func:`tabsynth.evaluate.evaluate` returned.
    real, synthetic : pandas.DataFrame
        The tables that were evaluated (for the distribution plots).
    path : str or path-like
        Where to write the ``.html`` file; its directory must exist.
    max_columns : int, default 40
        At most this many columns are plotted (the worst column-shape scores first).
    max_rows : int, default 20_000
        Rows of each table used for the plots (seeded subsample).
    random_state : int, default 0
        Seed of that subsample.
    title : str
        Page title.

    Returns
    -------
    pathlib.Path
        The report's path.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> from tabsynth.evaluate import evaluate
    >>> df = pd.DataFrame({"x": range(200), "c": ["a", "b"] * 100})
    >>> res = evaluate(df, df, sections=["fidelity"])
    >>> out = write_report(res, df, df, pathlib.Path(tempfile.mkdtemp()) / "report.html")
    >>> out.read_text().count("<svg") >= 2
    True
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"report directory {str(path.parent)!r} does not exist; create it or choose another path")
    text = render_report(result, real, synthetic, max_columns=max_columns, max_rows=max_rows,
                         random_state=random_state, title=title)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
