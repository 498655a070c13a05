"""The HTML report draws inline SVG: one chart per column and pair view, escaped, no images."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from tabsynth.evaluate import evaluate
from tabsynth.evaluate.report import render_report


def test_report_charts_are_escaped_inline_svg():
    rng = np.random.default_rng(0)
    n = 150
    real = pd.DataFrame({
        'a<b&"c\'': rng.normal(size=n),
        "cat": rng.choice(["x", "<y>", "z"], n),
        "when": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D"),
        "empty": np.full(n, np.nan),
        "y": rng.choice(["p", "q"], n),
    })
    syn = real.sample(frac=1.0, random_state=1).reset_index(drop=True)
    res = evaluate(real, syn, target="y", models=["logistic_regression"], seeds=(0,))
    html = render_report(res, real, syn)
    assert "<img" not in html and "base64" not in html
    # one chart per column, two pair views, the utility chart
    assert html.count("<svg ") == real.shape[1] + 2 + 1
    assert 'a<b&"c\'' not in html and "a&lt;b&amp;&quot;c&#x27;" in html
    assert "&lt;y&gt;" in html
    assert "(no observed values)" in html
    assert re.search(r">2021-01-01<", html)  # datetime axis labelled with dates


def test_report_single_column():
    real = pd.DataFrame({"x": np.arange(50.0)})
    res = evaluate(real, real, sections=["fidelity"])
    html = render_report(res, real, real)
    assert html.count("<svg ") == 1
