"""The HTML report draws inline SVG: one chart per column and pair view, escaped, well formed, no images."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from tabsynth.evaluate import evaluate
from tabsynth.evaluate.report import render_report

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = 'a<b&"c\''


def _svgs(html: str) -> list[ET.Element]:
    """Every chart, parsed as XML (fails on anything left unescaped)."""
    return [ET.fromstring(s) for s in re.findall(r"<svg .*?</svg>", html, flags=re.S)]


def _texts(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.iter(f"{NS}text")]


def _chart(html: str, label: str) -> ET.Element:
    found = [s for s in _svgs(html) if s.get("aria-label") == label]
    assert len(found) == 1, (label, [s.get("aria-label") for s in _svgs(html)])
    return found[0]


@pytest.fixture(scope="module")
def mixed_report():
    rng = np.random.default_rng(0)
    n = 150
    real = pd.DataFrame({
        HOSTILE: rng.normal(size=n),
        "cat": rng.choice(["x", "<y>", "z"], n),
        "when": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D"),
        "empty": np.full(n, np.nan),
        "y": rng.choice(["p", "q"], n),
    })
    syn = real.sample(frac=1.0, random_state=1).reset_index(drop=True)
    res = evaluate(real, syn, target="y", models=["logistic_regression"], seeds=(0,), sections=["fidelity", "utility"])
    return real, render_report(res, real, syn)


def test_report_charts_are_escaped_inline_svg(mixed_report):
    real, html = mixed_report
    assert "<img" not in html and "base64" not in html and "data:image" not in html
    # one chart per column, two pair views, the utility chart
    assert html.count("<svg ") == real.shape[1] + 2 + 1
    assert HOSTILE not in html and "a&lt;b&amp;&quot;c&#x27;" in html
    assert "&lt;y&gt;" in html
    assert "(no observed values)" in html
    assert re.search(r">2021-01-01<", html)  # datetime axis labelled with dates


def test_every_chart_is_well_formed_accessible_svg(mixed_report):
    real, html = mixed_report
    svgs = _svgs(html)
    assert len(svgs) == real.shape[1] + 3
    for svg in svgs:
        assert svg.get("role") == "img" and svg.get("aria-label")
        title = svg.find(f"{NS}title")
        assert title is not None and title.text == svg.get("aria-label")
        assert 150 <= float(svg.get("width")) <= 1200 and 60 <= float(svg.get("height")) <= 1200
        assert "nan" not in ET.tostring(svg, encoding="unicode").lower()  # no NaN coordinates or labels
    # the hostile name comes back intact once the XML is parsed: escaped once, not twice
    hostile = _chart(html, f"{HOSTILE}: real vs synthetic")
    assert any(t.startswith(HOSTILE) for t in _texts(hostile))
    assert {s.get("aria-label") for s in svgs} >= {f"{c}: real vs synthetic" for c in real.columns} | {
        "pair trend score (1 = same joint behaviour)", "|Pearson r real - r synthetic|", "utility per model"}


def test_histogram_axes_and_datetime_labels(mixed_report):
    _, html = mixed_report
    num = _chart(html, f"{HOSTILE}: real vs synthetic")
    bars = num.find(f"{NS}path")  # real: filled bars, one path
    assert bars is not None and 20 <= bars.get("d").count("Z") <= 30 and bars.get("fill") == "#4c72b0"
    step = num.find(f"{NS}polyline")  # synthetic: a step line over the same 30 bins, from and back to the axis
    assert step is not None and step.get("fill") == "none" and len(step.get("points").split()) == 2 * 30 + 2
    assert sum(bool(re.fullmatch(r"-?[\d.]+(e[+-]\d+)?", t)) for t in _texts(num)) >= 2  # min and max on the x axis
    when = _texts(_chart(html, "when: real vs synthetic"))
    dates = [t for t in when if re.fullmatch(r"\d{4}-\d\d-\d\d", t)]
    assert len(dates) >= 2 and dates[0] == "2021-01-01" and dates[-1] <= "2021-03-02"
    empty = _texts(_chart(html, "empty: real vs synthetic"))
    assert any("(no observed values)" in t for t in empty)


def test_utility_chart_has_legend_ticks_and_models(mixed_report):
    _, html = mixed_report
    texts = _texts(_chart(html, "utility per model"))
    assert {"train real", "train synthetic", "train real+synthetic", "logistic", "regression"} <= set(texts)
    ticks = [float(t) for t in texts if re.fullmatch(r"-?\d+(\.\d+)?", t)]
    assert len(ticks) >= 3 and max(ticks) >= 1.0  # roc_auc axis reaches 1


def test_utility_bars_start_at_zero():
    df = pd.DataFrame({"x": np.arange(40.0)})
    res = evaluate(df, df, sections=["fidelity"])
    res["utility"] = {"task": "regression", "metric": "r2", "models": {
        "decision_tree": {"real": -0.5, "synthetic": 0.4, "augmented": None, "seeds": [0]}}}
    svg = _chart(render_report(res, df, df), "utility per model")
    bars = {r.find(f"{NS}title").text.split(": ")[-1]: r
            for r in svg.iter(f"{NS}rect") if r.find(f"{NS}title") is not None}
    assert set(bars) == {"-0.500", "0.400"}  # a missing score draws no bar
    neg, pos = bars["-0.500"], bars["0.400"]
    zero = float(pos.get("y")) + float(pos.get("height"))
    assert float(neg.get("y")) == pytest.approx(zero, abs=0.2)  # a negative score hangs below the zero line
    assert float(neg.get("height")) == pytest.approx(float(pos.get("height")) * 5 / 4, rel=0.02)
    assert {"0", "-0.50", "0.25"} <= set(_texts(svg))  # y ticks on round numbers


def test_categories_top_ten_plus_overproduced_plus_other():
    rng = np.random.default_rng(3)
    n = 400
    cats = [f"k{i:02d}" for i in range(14)]
    p = np.r_[np.linspace(0.14, 0.06, 10), np.full(4, 0.01)]
    real = pd.DataFrame({"c": rng.choice(cats, n, p=p / p.sum())})
    syn = real.copy()
    syn.loc[: n // 3, "c"] = "<new>"  # the generator over-produces a value real never has
    res = evaluate(real, syn, sections=["fidelity"])
    html = render_report(res, real, syn)
    svg = _chart(html, "c: real vs synthetic")
    shares = real["c"].value_counts(normalize=True)
    labels = [t.text for t in svg.iter(f"{NS}text") if t.get("text-anchor") == "end"]
    assert labels == list(shares.index[:10]) + ["<new>", "(other)"]
    # each bar carries its share: real "(other)" is the 4 rare categories
    titles = [t.text for t in svg.iter(f"{NS}title")][1:]
    assert f"(other), real: {shares.iloc[10:].sum():.3f}" in titles
    assert "<new>, real: 0.000" in titles and f"<new>, synthetic: {(syn['c'] == '<new>').mean():.3f}" in titles


def test_heatmap_values_written_only_up_to_16_columns():
    rng = np.random.default_rng(1)
    for k, written in ((16, True), (17, False)):
        base = rng.normal(size=(80, 1))
        real = pd.DataFrame(base + rng.normal(size=(80, k)), columns=[f"v{i}" for i in range(k)])
        syn = pd.DataFrame(rng.normal(size=(80, k)), columns=real.columns)
        res = evaluate(real, syn, sections=["fidelity"])
        html = render_report(res, real, syn)
        assert html.count("<svg ") == k + 2
        for label in ("pair trend score (1 = same joint behaviour)", "|Pearson r real - r synthetic|"):
            svg = _chart(html, label)
            texts = _texts(svg)
            assert sum(t in real.columns for t in texts) == 2 * k  # labels on both axes
            cells = sum(bool(re.fullmatch(r"\d\.\d\d", t)) for t in texts)
            assert (cells >= k * (k - 1)) if written else (cells <= 2), (k, label, cells)
            assert len([r for r in svg.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]) == k * k


def test_report_single_column():
    real = pd.DataFrame({"x": np.arange(50.0)})
    res = evaluate(real, real, sections=["fidelity"])
    html = render_report(res, real, real)
    assert html.count("<svg ") == 1
    assert [s.get("aria-label") for s in _svgs(html)] == ["x: real vs synthetic"]


def test_columns_without_observed_values():
    n = 60
    rng = np.random.default_rng(2)
    real = pd.DataFrame({"c": pd.Series([None] * n, dtype=object), "x": rng.normal(size=n),
                         "k": np.full(n, 3.0)})
    syn = real.assign(x=np.nan)  # synthetic numeric column entirely missing
    res = evaluate(real, syn, sections=["fidelity"])
    html = render_report(res, real, syn)
    svgs = _svgs(html)
    assert len(svgs) == 3 + 2
    assert all("nan" not in ET.tostring(s, encoding="unicode").lower() for s in svgs)


def test_report_imports_no_plotting_library():
    code = ("import sys, pandas as pd\n"
            "from tabsynth.evaluate import evaluate\n"
            "from tabsynth.evaluate.report import render_report\n"
            "df = pd.DataFrame({'x': range(40), 'c': ['a', 'b'] * 20})\n"
            "render_report(evaluate(df, df, sections=['fidelity']), df, df)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'plotly', 'seaborn')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
