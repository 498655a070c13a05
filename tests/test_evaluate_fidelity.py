"""Fidelity metrics against hand-computed values and independent implementations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from tabsynth.errors import InputError
from tabsynth.evaluate import column_shapes, fidelity, pair_trends, validity
from tabsynth.evaluate.fidelity import ks_statistic, tvd


def test_ks_matches_scipy_with_ties_and_nan():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 20, 500).astype(float)
    b = rng.integers(3, 25, 300).astype(float)
    a[:10] = np.nan
    assert ks_statistic(a, b) == pytest.approx(ks_2samp(a[~np.isnan(a)], b).statistic, abs=1e-12)
    assert np.isnan(ks_statistic(np.array([np.nan]), b))


def test_column_shapes_hand_computed():
    real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "a", "b", "b"]})
    syn = pd.DataFrame({"x": [1.0, 2.0, 3.0, 9.0], "c": ["a", "b", "b", "b"]})
    res = column_shapes(real, syn)
    # KS: CDFs differ by 1/4 on [4, 9); TVD: |0.5-0.25| + |0.5-0.75| over 2
    assert res["columns"]["x"]["score"] == pytest.approx(0.75)
    assert res["columns"]["c"]["score"] == pytest.approx(0.75)
    assert res["columns"]["x"]["metric"] == "KSComplement"
    assert res["columns"]["c"]["metric"] == "TVComplement"
    assert res["score"] == pytest.approx(0.75)


def test_tvd_counts_missing_as_a_category():
    real = pd.DataFrame({"c": ["a", None, "a", "b"]})
    syn = pd.DataFrame({"c": ["a", "a", "a", "b"]})
    # real: a .5, missing .25, b .25; synthetic: a .75, b .25 -> TVD .25
    assert column_shapes(real, syn)["score"] == pytest.approx(0.75)
    assert tvd(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])) == pytest.approx(0.25)


def test_ks_uses_observed_values_only():
    real = pd.DataFrame({"x": [1.0, 2.0, np.nan, np.nan]})
    syn = pd.DataFrame({"x": [1.0, 2.0, 2.0, 1.0]})
    assert column_shapes(real, syn)["score"] == pytest.approx(1.0)


def test_correlation_pair_hand_computed_and_pairwise_complete():
    rng = np.random.default_rng(1)
    x = rng.normal(size=400)
    real = pd.DataFrame({"x": x, "y": x + rng.normal(scale=0.5, size=400)})
    syn = pd.DataFrame({"x": x, "y": -x + rng.normal(scale=2.0, size=400)})
    real.loc[::7, "y"] = np.nan  # pairwise-complete rows, like SDMetrics' dropna
    syn.loc[::5, "x"] = np.nan
    res = pair_trends(real, syn)
    (pair,) = res["pairs"]
    r_real = real.dropna().corr().iloc[0, 1]
    r_syn = syn.dropna().corr().iloc[0, 1]
    assert pair["metric"] == "CorrelationSimilarity"
    assert pair["real"] == pytest.approx(r_real, abs=1e-9)
    assert pair["synthetic"] == pytest.approx(r_syn, abs=1e-9)
    assert res["score"] == pytest.approx(1 - abs(r_real - r_syn) / 2, abs=1e-9)


def test_perfectly_inverted_correlation_scores_zero():
    real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1.0, 2.0, 3.0, 4.0]})
    syn = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [4.0, 3.0, 2.0, 1.0]})
    assert pair_trends(real, syn)["score"] == pytest.approx(0.0)


def test_contingency_pair_hand_computed_with_bins_on_real_range():
    real = pd.DataFrame({"x": [0.0, 0.0, 10.0, 10.0], "c": ["a", "b", "a", "b"]})
    # 100 is outside the real range: it falls in the top (open) bin, like 10
    syn = pd.DataFrame({"x": [0.0, 0.0, 100.0, 10.0], "c": ["a", "a", "b", "b"]})
    res = pair_trends(real, syn)
    (pair,) = res["pairs"]
    assert pair["metric"] == "ContingencySimilarity"
    # real cells (lo,a) (lo,b) (hi,a) (hi,b) = 1/4 each; synthetic (lo,a) 1/2, (hi,b) 1/2
    assert pair["score"] == pytest.approx(0.5)


def test_contingency_matches_crosstab_on_random_mixed_data():
    rng = np.random.default_rng(2)
    n = 3000
    real = pd.DataFrame({"x": rng.gamma(2.0, 3.0, n), "c": rng.choice(list("abcd"), n, p=[0.4, 0.3, 0.2, 0.1])})
    real.loc[rng.random(n) < 0.1, "x"] = np.nan
    real.loc[rng.random(n) < 0.05, "c"] = None
    syn = pd.DataFrame({"x": rng.gamma(2.2, 3.5, n), "c": rng.choice(list("abce"), n)})

    edges = np.histogram_bin_edges(real["x"].dropna(), bins=10)
    edges[0], edges[-1] = -np.inf, np.inf

    def table(df):
        xb = pd.cut(df["x"], edges, right=False).astype(object).where(df["x"].notna(), "nan")
        return pd.crosstab(xb.astype(str), df["c"].fillna("NA"), normalize=True).stack()

    tr, ts = table(real), table(syn)
    idx = tr.index.union(ts.index)
    expected = 1 - 0.5 * (tr.reindex(idx, fill_value=0) - ts.reindex(idx, fill_value=0)).abs().sum()
    assert pair_trends(real, syn, binning="real")["score"] == pytest.approx(expected, abs=1e-9)


def test_binning_each_reproduces_sdmetrics_report_convention():
    # a synthetic column shifted out of range: penalised with real-range bins,
    # invisible when each table is binned over its own range (SDMetrics' report)
    rng = np.random.default_rng(3)
    n = 2000
    real = pd.DataFrame({"x": rng.uniform(0, 1, n), "c": rng.choice(["a", "b"], n)})
    syn = real.assign(x=real["x"] + 5.0)
    assert pair_trends(real, syn)["score"] == pytest.approx(1.0)  # default: SDMetrics' convention
    assert pair_trends(real, syn, binning="each")["score"] == pytest.approx(1.0)
    assert pair_trends(real, syn, binning="real")["score"] < 0.2


def test_association_thresholds_select_pairs():
    rng = np.random.default_rng(4)
    n = 2000
    x = rng.normal(size=n)
    real = pd.DataFrame({"x": x, "y": x + rng.normal(scale=0.1, size=n), "z": rng.normal(size=n)})
    res = pair_trends(real, real, real_correlation_threshold=0.5)
    contributing = [tuple(p["columns"]) for p in res["pairs"] if p["contributes"]]
    assert contributing == [("x", "y")]


def test_validity_hand_computed():
    real = pd.DataFrame({"x": [0.0, 10.0, 5.0, 5.0], "c": ["a", "b", "a", "b"]})
    syn = pd.DataFrame({"x": [5.0, 20.0, np.nan, -1.0], "c": ["a", "z", None, "b"]})
    v = validity(real, syn)["columns"]
    assert v["x"]["in_range"] == pytest.approx(1 / 3)
    assert v["x"]["missing_diff"] == pytest.approx(0.25)
    assert v["c"]["in_categories"] == pytest.approx(2 / 3)
    assert v["c"]["new_categories"] == 1


def test_nullable_dtypes_datetimes_and_missing_values(mixed_table):
    syn = mixed_table.sample(frac=1.0, random_state=3).reset_index(drop=True)
    res = fidelity(mixed_table, syn)
    assert res["column_shapes"] == pytest.approx(1.0)
    assert res["pair_trends"] == pytest.approx(1.0)
    kinds = {c: v["kind"] for c, v in res["columns"].items()}
    assert kinds == {"f": "numeric", "i": "numeric", "ni": "numeric", "b": "categorical", "nb": "categorical",
                     "s": "categorical", "cat": "categorical", "ps": "categorical", "pstr": "categorical",
                     "d": "datetime", "dtz": "datetime", "dnat": "datetime", "const": "categorical"}
    # a constant column gives an undefined correlation: left out, not NaN in the mean
    assert all(p["score"] is None or 0 <= p["score"] <= 1 for p in res["pairs"])


def test_synthetic_dtypes_are_coerced_to_the_real_kinds(mixed_table):
    syn = mixed_table.copy()
    syn["i"] = syn["i"].astype(str)                      # numbers as text
    syn["d"] = syn["d"].dt.strftime("%Y-%m-%d")          # dates as text
    syn["dtz"] = syn["dtz"].dt.tz_convert("UTC")         # another time zone, same instants
    syn["b"] = syn["b"].astype("boolean")                # bool -> nullable boolean
    syn["cat"] = syn["cat"].astype(str)                  # category -> str
    res = fidelity(mixed_table, syn)
    for c in ("i", "d", "dtz", "b", "cat"):
        assert res["columns"][c]["score"] == pytest.approx(1.0), c


def test_large_tables_are_subsampled_deterministically():
    rng = np.random.default_rng(5)
    real = pd.DataFrame({"x": rng.normal(size=5000), "c": rng.choice(list("abc"), 5000)})
    syn = pd.DataFrame({"x": rng.normal(size=5000), "c": rng.choice(list("abc"), 5000)})
    a = fidelity(real, syn, max_rows=1000, random_state=1)
    b = fidelity(real, syn, max_rows=1000, random_state=1)
    assert a == b
    assert a["validity"]["score"] is not None


def test_many_columns_score_every_pair():
    # its speed (pairs scored by whole columns) is measured in benchmarks/evaluate_adult.py, not asserted here
    rng = np.random.default_rng(6)
    n, p = 20_000, 60
    data = {f"n{i}": rng.normal(size=n) for i in range(p // 2)}
    data.update({f"c{i}": rng.choice(list("abcdefgh"), n) for i in range(p // 2)})
    real = pd.DataFrame(data)
    res = fidelity(real, real.sample(frac=1.0, random_state=0))
    assert len(res["pairs"]) == p * (p - 1) // 2
    assert res["pair_trends"] > 0.99  # a shuffled copy of the real rows keeps every pair


def test_fidelity_bad_options():
    df = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(InputError, match="binning"):
        pair_trends(df, df, binning="own")
    with pytest.raises(InputError, match="bins"):
        fidelity(df, df, bins=1)


@pytest.fixture
def mixed_table(mixed) -> pd.DataFrame:
    """conftest's every-dtype table plus a pandas 3 ``str`` column and a NaT-heavy one."""
    rng = np.random.default_rng(0)
    n = len(mixed)
    return mixed.assign(
        pstr=pd.Series(rng.choice(["u", "v", None], n), dtype="str"),
        dnat=pd.Series(pd.to_datetime(np.where(rng.random(n) < 0.3, None, "2022-03-04"))),
    )
