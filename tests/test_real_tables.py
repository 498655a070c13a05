"""Ordinary CSVs and real-table shapes (the real-tables issue): dates, tiny magnitudes, separators, free text."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabsynth import Synthesizer, infer_schema
from tabsynth.io import read_table


def test_iso_dates_in_csv_are_dates_written_back_alike(cli, tmp_path):
    rng = np.random.default_rng(0)
    days = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 400, 300), unit="D")
    stamps = pd.Timestamp("2021-05-01") + pd.to_timedelta(rng.integers(0, 10**6, 300), unit="s")
    pd.DataFrame({"day": days.strftime("%Y-%m-%d"), "at": stamps.strftime("%Y-%m-%dT%H:%M:%S"),
                  "x": rng.normal(size=300)}).to_csv(tmp_path / "t.csv", index=False)
    assert [c.kind for c in infer_schema(read_table(tmp_path / "t.csv")).columns][:2] == ["datetime", "datetime"]
    code, _, err = cli("augment", tmp_path / "t.csv", "-o", tmp_path / "o.csv", "--seed", "0")
    assert code == 0, err
    syn = pd.read_csv(tmp_path / "o.csv", dtype=str).iloc[300:]
    assert syn["day"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert syn["at"].str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}").all()
    assert "syn" not in "".join(syn["day"])


def test_tiny_magnitudes_keep_their_scale():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"t": rng.normal(scale=1e-12, size=400), "b": rng.normal(size=400)})
    out = Synthesizer(random_state=0).fit(df).sample(400, seed=0)["t"]
    assert (out != 0).mean() > 0.99
    assert 0.5e-12 < out.std() < 2e-12


def test_semicolon_csv_with_decimal_commas(cli, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=200).round(2)
    lines = ["x;y;label"] + [f"{str(v).replace('.', ',')};{i % 7};{'ab'[i % 2]}" for i, v in enumerate(x)]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    df = read_table(tmp_path / "t.csv")
    assert list(df.columns) == ["x", "y", "label"]
    assert df["x"].dtype == "float64" and np.allclose(df["x"], x)
    code, _, err = cli("augment", tmp_path / "t.csv", "-o", tmp_path / "o.csv", "--seed", "0")
    assert code == 0, err
    text = (tmp_path / "o.csv").read_text()
    assert text.startswith("\n".join(lines))  # same separator, same decimal mark, same rows


def test_unique_free_text_is_text_not_a_key():
    rng = np.random.default_rng(0)
    words = ["the", "brake", "failed", "on", "a", "wet", "road", "near", "exit"]
    df = pd.DataFrame({"comment": [" ".join(rng.choice(words, rng.integers(1, 12))) + f" #{i}" for i in range(120)],
                       "code": [f"C{i:05d}" for i in range(120)], "x": rng.normal(size=120)})
    kinds = {c.name: c.kind for c in infer_schema(df).columns}
    assert kinds == {"comment": "text", "code": "id", "x": "numeric"}
    syn = Synthesizer(random_state=0).fit(df).sample(50, seed=0)
    assert syn["comment"].isin(df["comment"]).all() and not syn["comment"].str.contains("syn").any()


def _case_codes(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """A table with a case code shared by a few rows each (about n/2 distinct values), as in crash records."""
    rng = np.random.default_rng(seed)
    case = rng.integers(0, n // 2, n)
    region = np.where(rng.random(n) < 0.5, "north", "south")
    x = rng.normal(size=n) + (region == "north")
    return pd.DataFrame({"case": [f"{c // 60:02d}:{c % 60:02d}:{c % 7}" for c in case], "region": region, "x": x})


def test_high_cardinality_categories_are_pooled():
    from tabsynth.encoding import POOL_ABOVE

    df = _case_codes()
    n_cases = df["case"].nunique()
    assert n_cases > 1000 and infer_schema(df)["case"].kind == "categorical"
    model = Synthesizer(random_state=0).fit(df)
    assert max(model.encoder_.layout_.cardinalities) <= POOL_ABOVE  # 99 coded + 1 pooled, not 1,400 codes
    syn = model.sample(3000, seed=1)
    assert set(syn["case"]) <= set(df["case"])  # pooled codes come back as observed values
    assert syn["case"].nunique() > 500  # drawn from the whole pool, not only the coded ones
    top = df["case"].value_counts()
    assert syn["case"].value_counts().reindex(top.index[:5]).fillna(0).sum() > 0
    # the rest of the table is still learned
    assert abs(syn.groupby("region")["x"].mean().diff().iloc[-1] + 1) < 0.2


def test_high_cardinality_imputation_and_round_trip(tmp_path):
    from tabsynth import GenerativeImputer

    df = _case_codes()
    holes = df.copy()
    holes.loc[::10, "case"] = None
    filled = GenerativeImputer(random_state=0).fit(holes).transform(holes)
    assert filled["case"].notna().all() and set(filled["case"]) <= set(df["case"])
    # the pool of rare codes holds most rows, but no single one of them is a best guess
    guesses = filled.loc[holes["case"].isna(), "case"]
    frequent = holes["case"].value_counts()
    assert guesses.isin(frequent.index[:20]).mean() > 0.9
    tables = GenerativeImputer(random_state=0).fit(holes).sample_imputations(holes, m=2)
    assert all(set(t["case"]) <= set(df["case"]) for t in tables)
    model = Synthesizer(random_state=0).fit(df)
    model.save(tmp_path / "m.tabsynth")
    again = Synthesizer.load(tmp_path / "m.tabsynth")
    pd.testing.assert_frame_equal(again.sample(200, seed=3), model.sample(200, seed=3))
    given = pd.DataFrame({"case": df["case"].iloc[:50]})
    out = model.sample(50, seed=0, given=given)  # a pooled value can be given: it is kept as it is
    assert out["case"].tolist() == given["case"].tolist()


def test_blank_first_line_is_refused_not_read_as_a_header(cli, tmp_path):
    # a one-column table named "   " (or ""): the CSV reader skips the blank header line and would take the
    # first data row for the column names (found by tests/test_hostile.py)
    src = tmp_path / "t.csv"
    pd.DataFrame({"   ": [41, 30, 23]}).to_csv(src, index=False)
    code, _, err = cli("augment", src, "-o", tmp_path / "out.csv")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "blank first line" in err and "t.csv" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]
