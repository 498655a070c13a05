"""Ordinary CSVs and real-table shapes (the real-tables issue): dates, tiny magnitudes, separators, free text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

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
