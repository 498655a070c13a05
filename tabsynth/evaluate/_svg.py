"""Small inline SVG charts for the HTML report: histograms, paired bars, heat maps, grouped bars.

Plain strings, no plotting library: a report of 15 columns renders in
milliseconds and stays a few hundred kilobytes. Every text is escaped.
"""

from __future__ import annotations

import html
from typing import Sequence

import numpy as np

FONT = "font-family='system-ui,sans-serif'"


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num(x: float) -> str:
    return f"{x:.1f}"


def _tick(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e5 or a < 1e-3:
        return f"{v:.2g}"
    if a >= 100:
        return f"{v:.0f}"
    return f"{v:.3g}"


def _open(w: int, h: int, label: str) -> list[str]:
    return [f"<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' viewBox='0 0 {w} {h}' "
            f"role='img' aria-label='{_esc(label)}' {FONT} font-size='10'>",
            f"<title>{_esc(label)}</title>", f"<rect width='{w}' height='{h}' fill='white'/>"]


def _legend(x: float, y: float, items: Sequence[tuple[str, str, bool]]) -> list[str]:
    out = []
    for name, color, filled in items:
        style = f"fill='{color}'" if filled else f"fill='none' stroke='{color}' stroke-width='1.5'"
        out.append(f"<rect x='{_num(x)}' y='{_num(y - 7)}' width='10' height='8' {style}/>")
        out.append(f"<text x='{_num(x + 13)}' y='{_num(y)}'>{_esc(name)}</text>")
        x += 18 + 6 * len(name)
    return out


def histogram(title: str, edges: np.ndarray, real: np.ndarray, synthetic: np.ndarray, *, labels: tuple[str, str],
              colors: tuple[str, str], label: str) -> str:
    """Real as filled bars, synthetic as a step outline; ``real``/``synthetic`` are densities per bin."""
    w, h, left, right, top, bottom = 320, 210, 10, 10, 34, 30
    pw, ph = w - left - right, h - top - bottom
    ymax = float(max(np.max(real) if len(real) else 0, np.max(synthetic) if len(synthetic) else 0)) or 1.0
    nb = len(edges) - 1
    bw = pw / nb
    out = _open(w, h, label)
    out.append(f"<text x='{w / 2}' y='13' text-anchor='middle' font-size='11'>{_esc(title)}</text>")
    out += _legend(left, 27, [("real", colors[0], True), ("synthetic", colors[1], False)])
    for i, v in enumerate(real):
        bh = ph * v / ymax
        out.append(f"<rect x='{_num(left + i * bw)}' y='{_num(top + ph - bh)}' width='{_num(bw)}' height='{_num(bh)}' "
                   f"fill='{colors[0]}' fill-opacity='0.55'/>")
    pts = []
    for i, v in enumerate(synthetic):
        y = top + ph - ph * v / ymax
        pts += [f"{_num(left + i * bw)},{_num(y)}", f"{_num(left + (i + 1) * bw)},{_num(y)}"]
    if pts:
        out.append(f"<polyline points='{' '.join(pts)}' fill='none' stroke='{colors[1]}' stroke-width='1.5'/>")
    out.append(f"<line x1='{left}' y1='{top + ph}' x2='{left + pw}' y2='{top + ph}' stroke='#444'/>")
    out.append(f"<text x='{left}' y='{h - 14}'>{_esc(labels[0])}</text>")
    out.append(f"<text x='{left + pw}' y='{h - 14}' text-anchor='end'>{_esc(labels[1])}</text>")
    out.append("</svg>")
    return "".join(out)


def paired_bars(title: str, categories: Sequence[str], real: Sequence[float], synthetic: Sequence[float], *,
                colors: tuple[str, str], label: str) -> str:
    """Horizontal bars: each category's share in the real and the synthetic table."""
    n = len(categories)
    w, left, right, top, row = 320, 110, 34, 34, 16
    h = top + n * row + 22
    pw = w - left - right
    vmax = max([*real, *synthetic, 1e-12])
    out = _open(w, h, label)
    out.append(f"<text x='{w / 2}' y='13' text-anchor='middle' font-size='11'>{_esc(title)}</text>")
    out += _legend(left, 27, [("real", colors[0], True), ("synthetic", colors[1], True)])
    for i, (cat, vr, vs) in enumerate(zip(categories, real, synthetic)):
        y = top + i * row
        out.append(f"<text x='{left - 4}' y='{_num(y + 11)}' text-anchor='end'>{_esc(cat)}</text>")
        for j, (v, color) in enumerate(((vr, colors[0]), (vs, colors[1]))):
            out.append(f"<rect x='{left}' y='{_num(y + 1 + j * 7)}' width='{_num(pw * v / vmax)}' height='6' "
                       f"fill='{color}'><title>{_esc(cat)}: {v:.3f}</title></rect>")
        out.append(f"<text x='{_num(left + pw * max(vr, vs) / vmax + 3)}' y='{_num(y + 11)}' fill='#666' "
                   f"font-size='8'>{max(vr, vs):.2f}</text>")
    out.append(f"<line x1='{left}' y1='{top - 2}' x2='{left}' y2='{top + n * row}' stroke='#444'/>")
    out.append(f"<text x='{left}' y='{h - 6}' fill='#666'>share (0 to {_tick(vmax)})</text>")
    out.append("</svg>")
    return "".join(out)


def _color(t: float, stops: Sequence[str]) -> str:
    """Colour at ``t`` in [0, 1] on a scale through ``stops`` (hex colours)."""
    t = min(max(t, 0.0), 1.0)
    rgb = [tuple(int(s[i:i + 2], 16) for i in (1, 3, 5)) for s in stops]
    pos = t * (len(rgb) - 1)
    i = min(int(pos), len(rgb) - 2)
    f = pos - i
    c = [round(a + (b - a) * f) for a, b in zip(rgb[i], rgb[i + 1])]
    return "#%02x%02x%02x" % tuple(c)


def heatmap(title: str, labels: Sequence[str], m: np.ndarray, *, vmin: float, vmax: float, stops: Sequence[str],
            label: str, values: bool = True) -> str:
    """A square heat map with labels on both axes, cell values when there are few, and a colour bar."""
    n = len(labels)
    cell = max(10, min(34, 520 // max(n, 1)))
    left, top = 110, 30
    w, h = left + n * cell + 70, top + n * cell + 100
    out = _open(w, h, label)
    out.append(f"<text x='{left}' y='14' font-size='11'>{_esc(title)}</text>")
    fs = 9 if n <= 25 else 7
    span = (vmax - vmin) or 1.0
    for i in range(n):
        y = top + i * cell
        out.append(f"<text x='{left - 4}' y='{_num(y + cell / 2 + 3)}' text-anchor='end' font-size='{fs}'>"
                   f"{_esc(labels[i])}</text>")
        x = left + i * cell + cell / 2
        out.append(f"<text transform='translate({_num(x + 3)},{top + n * cell + 4}) rotate(90)' font-size='{fs}'>"
                   f"{_esc(labels[i])}</text>")
        for j in range(n):
            v = m[i, j]
            if not np.isfinite(v):
                color = "#f2f2f2"
            else:
                color = _color((v - vmin) / span, stops)
            out.append(f"<rect x='{left + j * cell}' y='{y}' width='{cell}' height='{cell}' fill='{color}' "
                       f"stroke='white'><title>{_esc(labels[i])} / {_esc(labels[j])}: "
                       f"{'-' if not np.isfinite(v) else f'{v:.3f}'}</title></rect>")
            if values and n <= 16 and np.isfinite(v) and i != j:
                out.append(f"<text x='{_num(left + j * cell + cell / 2)}' y='{_num(y + cell / 2 + 3)}' "
                           f"text-anchor='middle' font-size='7'>{v:.2f}</text>")
    bx = left + n * cell + 14
    steps = 20
    bh = n * cell / steps
    for k in range(steps):
        out.append(f"<rect x='{bx}' y='{_num(top + k * bh)}' width='12' height='{_num(bh + 0.5)}' "
                   f"fill='{_color(1 - k / (steps - 1), stops)}'/>")
    out.append(f"<text x='{bx + 16}' y='{top + 8}' font-size='8'>{_tick(vmax)}</text>")
    out.append(f"<text x='{bx + 16}' y='{top + n * cell}' font-size='8'>{_tick(vmin)}</text>")
    out.append("</svg>")
    return "".join(out)


def grouped_bars(groups: Sequence[str], series: Sequence[tuple[str, str, Sequence[float | None]]], *,
                 ylabel: str, ylim: tuple[float, float], label: str) -> str:
    """Vertical bars: for each group (model), one bar per series (train real / synthetic / augmented)."""
    left, right, top, bottom = 46, 10, 30, 40
    gw = 90
    w = left + right + max(len(groups), 1) * gw
    h = 240
    ph = h - top - bottom
    lo, hi = ylim
    span = (hi - lo) or 1.0
    out = _open(max(w, 360), h, label)
    out += _legend(left, 14, [(name, color, True) for name, color, _ in series])
    for t in np.linspace(lo, hi, 5):
        y = top + ph - ph * (t - lo) / span
        out.append(f"<line x1='{left}' y1='{_num(y)}' x2='{w - right}' y2='{_num(y)}' stroke='#eee'/>")
        out.append(f"<text x='{left - 4}' y='{_num(y + 3)}' text-anchor='end' font-size='9'>{_tick(t)}</text>")
    bw = (gw - 18) / max(len(series), 1)
    for g, name in enumerate(groups):
        x0 = left + g * gw + 9
        for s, (sname, color, vals) in enumerate(series):
            v = vals[g]
            if v is None or not np.isfinite(v):
                continue
            y = top + ph - ph * (min(max(v, lo), hi) - lo) / span
            out.append(f"<rect x='{_num(x0 + s * bw)}' y='{_num(y)}' width='{_num(bw - 1)}' "
                       f"height='{_num(top + ph - y)}' fill='{color}'><title>{_esc(name)}, {_esc(sname)}: "
                       f"{v:.3f}</title></rect>")
        out.append(f"<text x='{_num(x0 + (gw - 18) / 2)}' y='{h - bottom + 14}' text-anchor='middle' "
                   f"font-size='9'>{_esc(name)}</text>")
    out.append(f"<line x1='{left}' y1='{top + ph}' x2='{w - right}' y2='{top + ph}' stroke='#444'/>")
    out.append(f"<text transform='translate(11,{top + ph / 2}) rotate(-90)' text-anchor='middle' font-size='9'>"
               f"{_esc(ylabel)}</text>")
    out.append("</svg>")
    return "".join(out)
