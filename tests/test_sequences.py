"""Entities and sequences: one table of repeated measurements, synthesized as entities with ordered histories."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tabsynth.errors import InputError
from tabsynth.evaluate.sequences import evaluate_sequences, lag1
from tabsynth.sequences import SequenceSynthesizer

WAGES = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "wages" / "wages.csv"


def panel(n: int = 300, seed: int = 0, dates: bool = False) -> pd.DataFrame:
    """Workers observed yearly: sex and schooling constant, wages autocorrelated, lengths 1 to 8."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        sex = rng.choice(["F", "M"])
        school = int(rng.integers(8, 17))
        length = int(rng.integers(1, 9))
        start = int(rng.integers(1990, 2000))
        w = 2.0 + 0.1 * school + (0.2 if sex == "M" else 0.0) + rng.normal(0, 0.2)
        for t in range(length):
            w = 0.8 * w + 0.2 * (2.5 + 0.1 * school) + 0.05 + rng.normal(0, 0.1)
            rows.append({"worker": 1000 + i, "year": start + t, "sex": sex, "school": school,
                         "school9": school - 9, "wage": round(w, 3), "union": bool(rng.random() < 0.3)})
    df = pd.DataFrame(rows)
    if dates:
        df["year"] = pd.to_datetime(df["year"].astype(str) + "-07-01")
    return df


def test_histories_keep_entities_order_steps_and_dynamics(tmp_path):
    df = panel()
    seq = SequenceSynthesizer("worker", order="year", random_state=0).fit(df)
    assert seq.attributes_ == ["sex", "school", "school9"]
    out = seq.sample(seed=1)
    assert list(out.columns) == list(df.columns) and out.dtypes.equals(df.dtypes)
    res = evaluate_sequences(df, out, entity="worker", order="year")
    assert res["entity_constant_violations"] == 0 and res["order_violations"] == 0
    assert res["length_shape"] > 0.9
    steps = out.groupby("worker")["year"].diff().dropna()
    assert (steps == 1).all()  # yearly steps stay yearly
    assert abs(lag1(df, "worker", "year", "wage") - lag1(out, "worker", "year", "wage")) < 0.1
    assert (out["school9"] == out["school"] - 9).all()
    assert not out["worker"].isin(df["worker"]).any() and out.groupby("worker").ngroups == 300
    # the saved model, and the seed, give the same rows back
    assert seq.sample(seed=1).equals(out)
    seq.save(tmp_path / "p.tabsynth")
    assert SequenceSynthesizer.load(tmp_path / "p.tabsynth").sample(seed=1).equals(out)
    assert seq.sample(50, seed=2)["worker"].nunique() == 50


def test_dates_as_order_and_no_order():
    df = panel(120, dates=True)
    out = SequenceSynthesizer("worker", order="year", random_state=0).fit(df).sample(seed=1)
    assert out["year"].dtype == df["year"].dtype
    assert evaluate_sequences(df, out, entity="worker", order="year")["order_violations"] == 0
    plain = SequenceSynthesizer("worker", random_state=0).fit(df.drop(columns="year")).sample(seed=1)
    assert (plain.groupby("worker")[["sex", "school"]].nunique() == 1).all().all()


@pytest.mark.skipif(not WAGES.exists(), reason="shared datasets not present")
def test_wages_constants_derived_and_summary_columns():
    df = pd.read_csv(WAGES)
    seq = SequenceSynthesizer("id", order="exper", random_state=0).fit(df)
    assert {"black", "hispanic", "hgc", "hgc.9", "ue.mean", "ue1"} == set(seq.attributes_)
    assert seq.aggregates_ == {"ue.mean": ("mean", "uerate"), "ue1": ("first", "uerate")}
    out = seq.sample(seed=1)
    res = evaluate_sequences(df, out, entity="id", order="exper")
    assert res["entity_constant_violations"] == 0 and res["order_violations"] == 0
    assert (out["hgc.9"] == out["hgc"] - 9).all()
    g = out.groupby("id")
    assert (abs(g["ue.mean"].first() - g["uerate"].mean()) < 0.011).all()


@pytest.mark.parametrize("kwargs, message", [
    ({"entity": "person"}, "entity"),
    ({"entity": "worker", "order": "when"}, "order"),
])
def test_unknown_columns_one_line(kwargs, message):
    with pytest.raises(InputError, match=message):
        SequenceSynthesizer(**kwargs).fit(panel(20))


def test_order_ties_and_missing_refused():
    df = panel(30)
    tied = pd.concat([df, df.iloc[[0]]], ignore_index=True)
    with pytest.raises(InputError, match="ties within an entity"):
        SequenceSynthesizer("worker", order="year").fit(tied)
    holed = df.astype({"year": float})
    holed.loc[3, "year"] = np.nan
    with pytest.raises(InputError, match="missing values"):
        SequenceSynthesizer("worker", order="year").fit(holed)


def test_docstring_examples():
    import doctest

    import tabsynth.evaluate.sequences
    import tabsynth.sequences

    assert doctest.testmod(tabsynth.sequences).failed == 0
    assert doctest.testmod(tabsynth.evaluate.sequences).failed == 0


def schools(n_schools: int = 40, seed: int = 0, dates: bool = False) -> pd.DataFrame:
    """Pupils within schools, each pupil with 1-5 yearly scores; school columns constant within a school."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_schools):
        size, area = int(rng.integers(200, 900)), str(rng.choice(["urban", "rural"]))
        for p in range(int(rng.integers(3, 12)) if area == "urban" else int(rng.integers(1, 5))):
            sex, base = str(rng.choice(["F", "M"])), rng.normal(50 + 8 * (area == "urban"), 6)
            for y in range(int(rng.integers(1, 6))):
                rows.append({"school": 100 + s, "size": size, "area": area, "pupil": f"P{s:03d}{p:02d}",
                             "sex": sex, "year": 2015 + y, "score": round(base + 3 * y + rng.normal(0, 1), 1)})
    df = pd.DataFrame(rows)
    if dates:
        df["year"] = pd.to_datetime(df["year"].astype(str) + "-09-01")
    return df


@pytest.mark.parametrize("dates", [False, True])
def test_nested_entities(tmp_path, dates):
    df = schools(100, dates=dates)
    model = SequenceSynthesizer(["school", "pupil"], order="year", random_state=0).fit(df)
    out = model.sample(seed=1)
    assert list(out.columns) == list(df.columns) and out.dtypes.equals(df.dtypes)
    assert out["school"].nunique() == df["school"].nunique()                  # n_entities counts schools
    assert (out.groupby("school")[["size", "area"]].nunique() == 1).all().all()  # school columns once per school
    assert (out.groupby("pupil")[["sex", "school"]].nunique() == 1).all().all()   # a pupil stays in one school
    assert out.groupby("pupil")["year"].apply(lambda s: s.is_monotonic_increasing and s.is_unique).all()
    assert not out["school"].isin(df["school"]).any() and out["pupil"].str.fullmatch(r"P\d{5}").all()
    # urban schools have more pupils, and their pupils score higher, as in the real table
    per = out.groupby("school").agg(area=("area", "first"), pupils=("pupil", "nunique"), score=("score", "mean"))
    assert per.groupby("area")["pupils"].mean()["urban"] > 1.5 * per.groupby("area")["pupils"].mean()["rural"]
    assert per.groupby("area")["score"].mean()["urban"] > per.groupby("area")["score"].mean()["rural"] + 3
    res = evaluate_sequences(df, out, entity=["school", "pupil"], order="year")
    assert res["entity_constant_violations"] == 0 and res["order_violations"] == 0 and res["length_shape"] > 0.85
    model.save(tmp_path / "n.tabsynth")
    assert SequenceSynthesizer.load(tmp_path / "n.tabsynth").sample(seed=1).equals(out)
    assert len(model.sample(5, seed=2)["school"].unique()) == 5


def test_nested_entities_bad_input():
    df = schools(10)
    with pytest.raises(InputError, match="distinct column names"):
        SequenceSynthesizer(["school", "school"]).fit(df)
    with pytest.raises(InputError, match="nope"):
        SequenceSynthesizer(["school", "nope"]).fit(df)
    with pytest.raises(InputError, match="ties within an entity"):
        SequenceSynthesizer(["school", "pupil"], order="size").fit(df)


def test_declared_constant_columns_checked(tmp_path):
    df = panel(40)
    fitted = SequenceSynthesizer("worker", order="year", constant=["sex", "school"], random_state=0).fit(df)
    assert {"sex", "school"} <= set(fitted.attributes_)
    back = SequenceSynthesizer.load(fitted.save(tmp_path / "m.tabsynth"))
    assert back.constant == ["sex", "school"]
    assert back.sample(5, seed=1).equals(fitted.sample(5, seed=1))
    varied = df.copy()
    first = varied.index[varied["worker"] == varied["worker"].iloc[0]]
    varied.loc[first[-1], "sex"] = "F" if varied.loc[first[0], "sex"] == "M" else "M"
    if len(first) == 1:  # the first worker has one row: give it a second row to vary
        pytest.skip("panel's first worker has one row")
    with pytest.raises(InputError, match=r"'sex' is declared constant but varies within worker 1000"):
        SequenceSynthesizer("worker", order="year", constant=["sex"]).fit(varied)
    # 'union' varies within workers and is not declared: found as a varying column, no error
    SequenceSynthesizer("worker", order="year", constant=["school"], random_state=0).fit(varied)
    with pytest.raises(InputError, match="'nobody'"):
        SequenceSynthesizer("worker", constant=["nobody"]).fit(df)
    with pytest.raises(InputError, match="entity or the order"):
        SequenceSynthesizer("worker", order="year", constant=["year"]).fit(df)
    with pytest.raises(InputError, match="list of column names"):
        SequenceSynthesizer("worker", constant="sex").fit(df)


def test_declared_constant_nested():
    df = schools(20)
    inner_const = [c for c in df.columns if c not in ("school", "pupil", "year")
                   and (df.groupby(["school", "pupil"])[c].nunique() <= 1).all()]
    SequenceSynthesizer(["school", "pupil"], order="year", constant=inner_const, random_state=0).fit(df)
    varying = next(c for c in df.columns if c not in ("school", "pupil", "year") and c not in inner_const)
    with pytest.raises(InputError, match=f"'{varying}' is declared constant but varies within pupil"):
        SequenceSynthesizer(["school", "pupil"], order="year", constant=[varying]).fit(df)


def test_missing_values_inside_histories_and_one_row_entities():
    df = panel(200, seed=3)
    rng = np.random.default_rng(0)
    df.loc[rng.random(len(df)) < 0.15, "wage"] = np.nan  # cells missing inside histories
    df["union"] = df["union"].astype(object)
    df.loc[rng.random(len(df)) < 0.1, "union"] = None
    seq = SequenceSynthesizer("worker", order="year", random_state=0).fit(df)
    out = seq.sample(seed=1)
    assert out.dtypes.equals(df.dtypes)
    for col in ("wage", "union"):  # missing cells come back at about their real share
        assert abs(out[col].isna().mean() - df[col].isna().mean()) < 0.05
    res = evaluate_sequences(df, out, entity="worker", order="year")
    assert res["entity_constant_violations"] == 0 and res["order_violations"] == 0
    # a table where every entity has one row: histories of one row, entity columns kept
    single = df.groupby("worker", as_index=False).first()
    one = SequenceSynthesizer("worker", order="year", random_state=0).fit(single).sample(seed=2)
    assert one["worker"].is_unique and len(one) == len(single)
    assert one.dtypes.equals(single.dtypes)


def test_step_model_skips_the_sweeps_its_draws_never_use():
    """Steps are drawn given the entity's columns, the position and the previous row, first in the chain."""
    df = panel()
    seq = SequenceSynthesizer("worker", order="year", random_state=0).fit(df)
    assert seq.step_model_.backend_.gibbs_sweeps == 0 and seq.entity_model_.backend_.gibbs_sweeps == 3
    assert SequenceSynthesizer("worker", order="year", random_state=0, gibbs_sweeps=1).fit(df) \
        .step_model_.backend_.gibbs_sweeps == 1
