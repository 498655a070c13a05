"""One self-contained HTML report of an ``evaluate`` result (plots as inline SVG).

Contents: the summary table with verdicts; fidelity scores; real vs
synthetic marginal distributions of each column (histograms for numeric and
datetime columns, bar charts of the most frequent categories, at most
``max_columns`` columns, worst-scoring first when there are more); a heat map
of the pair-trend scores and one of the absolute difference between the real
and synthetic correlation matrices (numeric and datetime columns); a bar
chart of utility per model trained on real, synthetic and real+synthetic
rows; one line each for detection and privacy; run details.

The charts are small inline SVG written as text by this module: no plotting
library (matplotlib is not used), a few milliseconds for a whole report, no
scripts and nothing fetched, so the file opens in any browser. Every chart
has ``role="img"`` and an ``aria-label``/``<title>``; all text is escaped.
"""

from __future__ import annotations

import html
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ._columns import (
    CATEGORICAL,
    DATETIME,
    check_same_columns,
    check_table,
    check_types,
    column_kinds,
    display_key,
    subsample,
    to_float,
    to_keys,
)
from ._summary import summary_table, verdicts

__all__ = ["write_report", "render_report"]

REAL_COLOR, SYN_COLOR, AUG_COLOR = "#4c72b0", "#dd8452", "#55a868"
_FONT = "font-family='system-ui,-apple-system,Segoe UI,Roboto,sans-serif'"
_CHAR = 0.6  # rough width of a character, in units of the font size (to lay out labels)


# ------------------------------------------------------------ svg helpers
def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _n(x: float) -> str:
    """A coordinate, one decimal at most."""
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _short(text: str, n: int = 22) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def _svg_open(w: float, h: float, label: str) -> list[str]:
    return [f"<svg xmlns='http://www.w3.org/2000/svg' width='{_n(w)}' height='{_n(h)}' "
            f"viewBox='0 0 {_n(w)} {_n(h)}' role='img' aria-label='{_esc(label)}' {_FONT} font-size='10'>",
            f"<title>{_esc(label)}</title><rect width='100%' height='100%' fill='white'/>"]


def _text(x: float, y: float, text: object, *, anchor: str = "start", size: float | None = None,
          fill: str | None = None, extra: str = "") -> str:
    attrs = f"x='{_n(x)}' y='{_n(y)}'"
    if anchor != "start":
        attrs += f" text-anchor='{anchor}'"
    if size is not None:
        attrs += f" font-size='{size:g}'"
    if fill:
        attrs += f" fill='{fill}'"
    return f"<text {attrs}{extra}>{_esc(text)}</text>"


def _legend(x: float, y: float, items: Sequence[tuple[str, str, bool]]) -> list[str]:
    """Swatches (filled, or outlined for a step line) and names on one line whose baseline is ``y``."""
    out = []
    for name, color, filled in items:
        style = f"fill='{color}'" if filled else f"fill='none' stroke='{color}' stroke-width='1.5'"
        out.append(f"<rect x='{_n(x)}' y='{_n(y - 8)}' width='10' height='8' {style}/>")
        out.append(_text(x + 13, y, name))
        x += 22 + 10 * _CHAR * len(name)
    return out


def _nice_step(span: float, intervals: int = 4) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten giving at most ``intervals`` steps over ``span``."""
    if not math.isfinite(span) or span <= 0:
        return 1.0
    raw = span / intervals
    mag = 10.0 ** math.floor(math.log10(raw))
    return next((m * mag for m in (1.0, 2.0, 2.5, 5.0) if m * mag >= raw * (1 - 1e-9)), 10.0 * mag)


def _ticks(lo: float, hi: float, step: float) -> list[float]:
    k0, k1 = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return [k * step for k in range(k0, k1 + 1)][:50]


def _tick_label(v: float, step: float) -> str:
    if abs(v) < step * 1e-6:
        return "0"
    if max(abs(v), step) >= 1e6 or step < 1e-4:
        return f"{v:.3g}"
    dec = next((d for d in range(8) if abs(round(step, d) - step) <= step * 1e-6), 8)
    return f"{v:.{dec}f}"


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _color(t: float, stops: Sequence[str]) -> str:
    """The colour at ``t`` in [0, 1] on a linear scale through ``stops`` (``#rrggbb``)."""
    t = min(max(t, 0.0), 1.0)
    pos = t * (len(stops) - 1)
    i = min(int(pos), len(stops) - 2)
    f = pos - i
    a, b = _rgb(stops[i]), _rgb(stops[i + 1])
    return "#%02x%02x%02x" % tuple(round(x + (y - x) * f) for x, y in zip(a, b))


def _dark(color: str) -> bool:
    r, g, b = _rgb(color)
    return 0.299 * r + 0.587 * g + 0.114 * b < 128


# --------------------------------------------------------------- charts
def _histogram_svg(title: str, label: str, edges: np.ndarray | None, real: np.ndarray, syn: np.ndarray,
                   kind: str) -> str:
    """Real as filled bars, synthetic as a step line (densities over shared bins); ``edges=None``: no data."""
    w, h, left, right, top, bottom = 320, 210, 12, 12, 36, 34
    pw, ph = w - left - right, h - top - bottom
    base = top + ph
    out = _svg_open(w, h, label)
    out.append(_text(w / 2, 14, title, anchor="middle", size=11))
    out += _legend(left, 28, [("real", REAL_COLOR, True), ("synthetic", SYN_COLOR, False)])
    if edges is None:
        out.append(_text(w / 2, top + ph / 2, "(no observed values)", anchor="middle", fill="#666"))
    else:
        lo, hi = float(edges[0]), float(edges[-1])
        bw = pw / (len(edges) - 1)
        ymax = max(float(real.max(initial=0.0)), float(syn.max(initial=0.0))) * 1.05 or 1.0
        bars = "".join(f"M{_n(left + i * bw)} {_n(base)}V{_n(base - ph * v / ymax)}H{_n(left + (i + 1) * bw)}"
                       f"V{_n(base)}Z" for i, v in enumerate(real) if v > 0)
        if bars:
            out.append(f"<path d='{bars}' fill='{REAL_COLOR}' fill-opacity='0.55'/>")
        pts = [f"{_n(left)},{_n(base)}"]
        for i, v in enumerate(syn):
            y = _n(base - ph * v / ymax)
            pts += [f"{_n(left + i * bw)},{y}", f"{_n(left + (i + 1) * bw)},{y}"]
        pts.append(f"{_n(left + pw)},{_n(base)}")
        out.append(f"<polyline points='{' '.join(pts)}' fill='none' stroke='{SYN_COLOR}' stroke-width='1.5'/>")
        # x axis: the range's ends (min and max) and a few ticks in between
        ticks: list[tuple[float, str]] = []
        if kind == DATETIME:
            with_time = hi - lo < 3 * 86400
            inner = [lo + (hi - lo) / 2] if with_time else list(np.linspace(lo, hi, 4)[1:-1])
            for v in [lo, *inner, hi]:
                ticks.append((v, _date_label(v, with_time)))
        else:
            ends = f"{lo:.4g}", f"{hi:.4g}"
            step = _nice_step(hi - lo, 5)
            ticks.append((lo, ends[0]))
            for v in _ticks(lo, hi, step):  # the ones that keep clear of the end labels (9 px font)
                text = _tick_label(v, step)
                px = pw * (v - lo) / (hi - lo)
                room = min(px - 9 * _CHAR * len(ends[0]), pw - px - 9 * _CHAR * len(ends[1]))
                if room >= 9 * _CHAR * len(text) / 2 + 12:
                    ticks.append((v, text))
            ticks.append((hi, ends[1]))
        for k, (v, text) in enumerate(ticks):
            x = left + pw * (v - lo) / (hi - lo)
            anchor = "start" if k == 0 else "end" if k == len(ticks) - 1 else "middle"
            out.append(f"<line x1='{_n(x)}' y1='{_n(base)}' x2='{_n(x)}' y2='{_n(base + 4)}' stroke='#444'/>")
            out.append(_text(x, base + 15, text, anchor=anchor, size=9))
    out.append(f"<line x1='{left}' y1='{_n(base)}' x2='{left + pw}' y2='{_n(base)}' stroke='#444'/>")
    out.append("</svg>")
    return "".join(out)


def _date_label(seconds: float, with_time: bool) -> str:
    try:
        ts = pd.Timestamp(round(seconds), unit="s")
    except (OverflowError, ValueError):
        return f"{seconds:.4g}"
    return ts.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def _paired_bars_svg(title: str, label: str, cats: Sequence[str], real: Sequence[float],
                     syn: Sequence[float]) -> str:
    """Horizontal bars: each category's share of the real and of the synthetic rows."""
    n = len(cats)
    w, left, right, top, row = 320, 112, 18, 36, 16
    pw = w - left - right
    end = top + max(n, 1) * row
    h = end + 34
    step = _nice_step(max([*real, *syn, 0.0]) or 1.0, 4)
    amax = step * math.ceil(max([*real, *syn, 0.0]) / step - 1e-9) or step
    out = _svg_open(w, h, label)
    out.append(_text(w / 2, 14, title, anchor="middle", size=11))
    out += _legend(left, 28, [("real", REAL_COLOR, True), ("synthetic", SYN_COLOR, True)])
    for v in _ticks(0.0, amax, step):
        x = left + pw * v / amax
        out.append(f"<line x1='{_n(x)}' y1='{top - 2}' x2='{_n(x)}' y2='{end + 3}' stroke='#eee'/>")
        out.append(_text(x, end + 13, _tick_label(v, step), anchor="middle", size=9))
    if not n:
        out.append(_text(left + pw / 2, top + row / 2 + 4, "(no observed values)", anchor="middle", fill="#666"))
    for i, (cat, vr, vs) in enumerate(zip(cats, real, syn)):
        y = top + i * row
        out.append(_text(left - 4, y + 11, cat, anchor="end"))
        for j, (v, color, who) in enumerate(((vr, REAL_COLOR, "real"), (vs, SYN_COLOR, "synthetic"))):
            out.append(f"<rect x='{left}' y='{_n(y + 2 + j * 6.5)}' width='{_n(pw * v / amax)}' height='6' "
                       f"fill='{color}'><title>{_esc(cat)}, {who}: {v:.3f}</title></rect>")
    out.append(f"<line x1='{left}' y1='{top - 2}' x2='{left}' y2='{end}' stroke='#444'/>")
    out.append(f"<line x1='{left}' y1='{end}' x2='{left + pw}' y2='{end}' stroke='#444'/>")
    out.append(_text(left + pw / 2, h - 6, "share of rows", anchor="middle", size=9, fill="#444"))
    out.append("</svg>")
    return "".join(out)


def _heatmap_svg(title: str, labels: Sequence[str], m: np.ndarray, *, vmin: float, vmax: float,
                 stops: Sequence[str]) -> str:
    """Square heat map: labels on both axes, the values in the cells up to 16 columns, a colour bar."""
    n = len(labels)
    cell = max(10, min(34, 520 // max(n, 1)))
    fs = 9 if n <= 25 else 7
    room = 8 + fs * _CHAR * max(len(s) for s in labels)  # for the longest label
    left, top = max(room, 30.0), 30
    grid = n * cell
    w = max(left + grid + 62, 20 + 11 * _CHAR * len(title))
    h = top + grid + room + 4
    span = (vmax - vmin) or 1.0
    out = _svg_open(w, h, title)
    out.append(_text(10, 16, title, size=11))
    cells, values = ["<g stroke='white'>"], []
    for i in range(n):
        y = top + i * cell
        out.append(_text(left - 4, y + cell / 2 + 3, labels[i], anchor="end", size=fs))
        x = left + i * cell + cell / 2 + 3
        out.append(f"<text transform='translate({_n(x)},{_n(top + grid + 4)}) rotate(-90)' text-anchor='end' "
                   f"font-size='{fs}'>{_esc(labels[i])}</text>")
        for j in range(n):
            v = float(m[i, j])
            ok = math.isfinite(v)
            color = _color((v - vmin) / span, stops) if ok else "#f0f0f0"
            cells.append(f"<rect x='{_n(left + j * cell)}' y='{y}' width='{cell}' height='{cell}' fill='{color}'>"
                         f"<title>{_esc(labels[i])} / {_esc(labels[j])}: {f'{v:.3f}' if ok else '-'}</title></rect>")
            if n <= 16 and ok and i != j:
                values.append(_text(left + j * cell + cell / 2, y + cell / 2 + 3, f"{v:.2f}", anchor="middle",
                                    size=7, fill="white" if _dark(color) else None))
    out += cells + ["</g>"] + values
    bx, steps = left + grid + 12, 24
    for k in range(steps):
        out.append(f"<rect x='{_n(bx)}' y='{_n(top + k * grid / steps)}' width='12' "
                   f"height='{_n(grid / steps + 0.6)}' fill='{_color(1 - (k + 0.5) / steps, stops)}'/>")
    out.append(f"<rect x='{_n(bx)}' y='{top}' width='12' height='{grid}' fill='none' stroke='#999'/>")
    out.append(_text(bx + 15, top + 8, f"{vmax:.3g}", size=8))
    out.append(_text(bx + 15, top + grid, f"{vmin:.3g}", size=8))
    out.append("</svg>")
    return "".join(out)


def _grouped_bars_svg(groups: Sequence[str], series: Sequence[tuple[str, str, Sequence[float | None]]], *,
                      ylabel: str, ylim: tuple[float, float], label: str) -> str:
    """Vertical bars from zero, one group per model and one bar per series; y axis with a few ticks."""
    left, right, top, bottom, gw = 54, 12, 28, 40, 96
    w = max(380, left + right + len(groups) * gw)
    h = 250
    ph = h - top - bottom
    step = _nice_step(ylim[1] - ylim[0], 5)
    lo, hi = step * math.floor(ylim[0] / step + 1e-9), step * math.ceil(ylim[1] / step - 1e-9)
    hi = hi if hi > lo else lo + step

    def sy(v: float) -> float:
        return top + ph - ph * (min(max(v, lo), hi) - lo) / (hi - lo)

    out = _svg_open(w, h, label)
    out += _legend(left, 14, [(name, color, True) for name, color, _ in series])
    for t in _ticks(lo, hi, step):
        y = sy(t)
        grid = "#999" if t == 0 else "#eee"  # the zero line stands out
        out.append(f"<line x1='{left}' y1='{_n(y)}' x2='{w - right}' y2='{_n(y)}' stroke='{grid}'/>")
        out.append(_text(left - 4, y + 3, _tick_label(t, step), anchor="end", size=9))
    zero = sy(0.0)
    bw = (gw - 20) / max(len(series), 1)
    for g, name in enumerate(groups):
        x0 = left + g * gw + 10
        shown = name.replace("_", " ")
        for s, (sname, color, vals) in enumerate(series):
            v = vals[g]
            if v is None or not math.isfinite(v):
                continue
            y = sy(v)
            out.append(f"<rect x='{_n(x0 + s * bw)}' y='{_n(min(y, zero))}' width='{_n(bw - 1.5)}' "
                       f"height='{_n(abs(zero - y))}' fill='{color}'><title>{_esc(shown)}, {_esc(sname)}: "
                       f"{v:.3f}</title></rect>")
        for k, part in enumerate(name.split("_", 1)):  # logistic_regression on two lines
            part = part.replace("_", " ")
            out.append(_text(x0 + (gw - 20) / 2, top + ph + 13 + 11 * k, part, anchor="middle", size=9))
    out.append(f"<line x1='{left}' y1='{top}' x2='{left}' y2='{top + ph}' stroke='#444'/>")
    out.append(f"<line x1='{left}' y1='{top + ph}' x2='{w - right}' y2='{top + ph}' stroke='#444'/>")
    out.append(f"<text transform='translate(13,{_n(top + ph / 2)}) rotate(-90)' text-anchor='middle' "
               f"font-size='9'>{_esc(ylabel)}</text>")
    out.append("</svg>")
    return "".join(out)


# --------------------------------------------------------------- plotting
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
        names = [_short(display_key(c), 18) for c in cats]
        if len(pr) > len(top) or len(ps.index.difference(cats)):
            names.append("(other)")
            vr.append(max(0.0, 1 - sum(vr)))
            vs.append(max(0.0, 1 - sum(vs)))
        return _paired_bars_svg(title, label, names, vr, vs)
    xr, xs = to_float(real, kind), to_float(syn, kind)
    xr, xs = xr[np.isfinite(xr)], xs[np.isfinite(xs)]
    both = np.concatenate([xr, xs])
    if not len(both):
        return _histogram_svg(title, label, None, np.zeros(0), np.zeros(0), kind)
    edges = np.histogram_bin_edges(both, bins=30)
    dr = np.histogram(xr, bins=edges, density=True)[0] if len(xr) else np.zeros(30)
    ds = np.histogram(xs, bins=edges, density=True)[0] if len(xs) else np.zeros(30)
    return _histogram_svg(title, label, edges, np.nan_to_num(dr), np.nan_to_num(ds), kind)


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
    return _heatmap_svg("pair trend score (1 = same joint behaviour)", [_short(c, 16) for c in columns], m,
                        vmin=lo, vmax=1.0, stops=("#d73027", "#fee08b", "#1a9850"))


def _corr_diff_heatmap(real: pd.DataFrame, syn: pd.DataFrame, kinds: dict[str, str],
                       columns: list[str]) -> str | None:
    num = [c for c in columns if kinds[c] != CATEGORICAL]
    if len(num) < 2:
        return None
    fr = pd.DataFrame({c: to_float(real[c], kinds[c]) for c in num})
    fs = pd.DataFrame({c: to_float(syn[c], kinds[c]) for c in num})
    diff = (fr.corr() - fs.corr()).abs().to_numpy()
    hi = max(0.2, float(np.nanmax(diff)) if np.isfinite(diff).any() else 0.2)
    return _heatmap_svg("|Pearson r real - r synthetic|", [_short(c, 16) for c in num], diff, vmin=0.0, vmax=hi,
                        stops=("#fff5f0", "#fb6a4a", "#67000d"))


def _utility_chart(ut: dict[str, Any]) -> str | None:
    models = ut.get("models") or {}
    if not models:
        return None
    names = list(models)
    series = [(label, color, [models[n].get(key) for n in names])
              for key, label, color in (("real", "train real", REAL_COLOR), ("synthetic", "train synthetic", SYN_COLOR),
                                        ("augmented", "train real+synthetic", AUG_COLOR))]
    vals = [v for _, _, vs in series for v in vs if v is not None and math.isfinite(v)]
    if vals:
        lo = min(vals)
        ylim = (max(0.0, lo - 0.1) if lo >= 0 else lo - 0.1,
                max(1.0, max(vals)) if ut.get("metric") != "r2" else max(vals) + 0.05)
    else:
        ylim = (0.0, 1.0)
    return _grouped_bars_svg([str(n) for n in names], series, ylabel=f"{ut.get('metric')} on holdout", ylim=ylim,
                             label="utility per model")


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
    """The HTML text of the report (see :func:`write_report`): one function per section."""
    if not isinstance(result, dict) or "meta" not in result:
        raise InputError("result must be the dict returned by tabsynth.evaluate.evaluate; run evaluate first")
    check_table(real, "real")
    check_table(synthetic, "synthetic")
    check_same_columns(real, synthetic, "synthetic")
    columns = list(real.columns)
    synthetic = check_types(real, synthetic[columns], "the synthetic")
    r = subsample(real, max_rows, random_state)
    s = subsample(synthetic[columns], max_rows, random_state + 1)
    meta = result.get("meta") or {}
    parts = _head_section(title, meta) + _summary_section(result)
    if result.get("fidelity"):
        parts += _fidelity_section(result["fidelity"], columns, column_kinds(real), r, s, max_columns)
    if result.get("utility"):
        parts += _utility_section(result["utility"])
    parts += _feature_selection_section(result.get("feature_selection"))
    parts += _detection_section(result.get("detection")) + _privacy_section(result.get("privacy"))
    parts += _details_section(result, meta)
    return "\n".join(parts)


def _head_section(title: str, meta: dict[str, Any]) -> list[str]:
    esc = html.escape
    return [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{esc(title)}</title>",
            f"<style>{_CSS}</style></head><body><h1>{esc(title)}</h1>",
            f"<p class='muted'>{meta.get('rows_real')} real rows, {meta.get('rows_synthetic')} synthetic rows, "
            f"{meta.get('rows_holdout')} holdout rows ({esc(str(meta.get('holdout_source')))}); "
            f"target: {esc(str(meta.get('target')))}; {meta.get('seconds', 0):.1f} s.</p>"]


def _summary_section(result: dict[str, Any]) -> list[str]:
    esc = html.escape
    parts = ["<h2>Summary</h2><table><tr><th>section</th><th>figures</th><th>verdict</th></tr>"]
    for sec, fig_text, verdict in verdicts(result):
        parts.append(f"<tr><td>{esc(sec)}</td><td>{esc(fig_text)}</td>"
                     f"<td class='{_verdict_class(verdict)}'>{esc(verdict)}</td></tr>")
    parts.append("</table>")
    return parts


def _fidelity_section(fid: dict[str, Any], columns: list, kinds: dict, r: pd.DataFrame, s: pd.DataFrame,
                      max_columns: int) -> list[str]:
    """Scores, one marginal chart per column (the worst ``max_columns``), pair heatmaps, validity."""
    esc = html.escape
    shown = columns
    scores = {c: (fid.get("columns") or {}).get(c, {}).get("score") for c in columns}
    if len(columns) > max_columns:
        worst = sorted(columns, key=lambda c: (scores[c] if scores[c] is not None else -1.0))[:max_columns]
        shown = [c for c in columns if c in set(worst)]
    parts = ["<h2>Fidelity</h2>",
             f"<p>Column shapes <b>{_fmt(fid.get('column_shapes'))}</b>, pair trends "
             f"<b>{_fmt(fid.get('pair_trends'))}</b> (1 = identical; SDMetrics conventions).</p>",
             "<h3>Marginal distributions</h3>"]
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
    return parts


def _utility_section(ut: dict[str, Any]) -> list[str]:
    esc = html.escape
    parts = [f"<h2>Utility ({esc(ut.get('task', ''))}, {esc(ut.get('metric', ''))} on the holdout)</h2>"]
    chart = _utility_chart(ut)
    if chart:
        parts.append(chart)
    parts.append("<table><tr><th>model</th><th>train real</th><th>train synthetic</th>"
                 "<th>train real+synthetic</th><th>seeds</th><th>rows trained on (real / synthetic)</th></tr>")
    for name, m in (ut.get("models") or {}).items():
        rows = m.get("train_rows") or {}
        shown = " / ".join("-" if rows.get(w) is None else f"{rows[w]:,}" for w in ("real", "synthetic"))
        parts.append(f"<tr><td>{esc(name)}</td><td>{_fmt(m.get('real'))}</td><td>{_fmt(m.get('synthetic'))}</td>"
                     f"<td>{_fmt(m.get('augmented'))}</td><td>{len(m.get('seeds') or [])}</td>"
                     f"<td>{esc(shown)}</td></tr>")
    parts.append("</table>")
    for note in ut.get("notes") or []:
        parts.append(f"<p class='muted'>{esc(note)}</p>")
    return parts


def _feature_selection_section(fs: dict[str, Any] | None) -> list[str]:
    if not fs:
        return []
    return ["<p>Feature selection: Spearman rank correlation of the features' mutual information with the "
            f"target <b>{_fmt(fs.get('spearman'))}</b>, top-{fs.get('k')} overlap "
            f"<b>{_fmt(fs.get('top_k_overlap'), 2)}</b>.</p>"]


def _detection_section(det: dict[str, Any] | None) -> list[str]:
    if not det:
        return []
    return ["<h2>Detection</h2><p>Cross-validated ROC-AUC telling real from synthetic rows (0.5 = "
            f"indistinguishable): logistic regression <b>{_fmt(det.get('logistic_regression'))}</b>, "
            f"gradient boosting <b>{_fmt(det.get('gradient_boosting'))}</b>.</p>"]


def _privacy_section(pv: dict[str, Any] | None) -> list[str]:
    if not pv:
        return []
    return ["<h2>Privacy</h2><p>Exact copies of real rows: <b>"
            f"{_pct(pv.get('exact_copies'))}</b> of synthetic rows (holdout vs train: "
            f"{_pct(pv.get('exact_copies_holdout'))}); median distance to the closest real row: synthetic "
            f"<b>{_fmt(pv.get('dcr_synthetic_median'))}</b>, holdout "
            f"<b>{_fmt(pv.get('dcr_holdout_median'))}</b>; chance that a synthetic row is closer to the "
            f"training rows than a holdout row (DCR closer, 0.5 = as far as unseen rows): "
            f"<b>{_fmt(pv.get('dcr_closer'))}</b>.</p>"]


def _details_section(result: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    esc = html.escape
    parts = ["<h2>Details</h2>"]
    for note in meta.get("notes") or []:
        parts.append(f"<p class='muted'>{esc(note)}</p>")
    parts.append(f"<pre>{esc(summary_table(result))}</pre>")
    parts.append("<p class='muted'>Generated by tabsynth.evaluate.</p></body></html>")
    return parts


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
