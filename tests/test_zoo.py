"""The table zoo (tabsynth.datasets.zoo_table): every hostile shape runs through the command line,
keeps its schema, and leaves the input rows as they were. The larger run is benchmarks/zoo.py."""

from __future__ import annotations

import pandas as pd
import pytest

from tabsynth.datasets import ZOO, zoo_table
from tabsynth.io import read_table

# (table, backend): every table with the default backend and with trees; the neural ones on a spread of shapes
CASES = [(name, backend) for backend in ("gmm", "trees") for name in ZOO] + [
    (name, backend) for backend in ("vae", "gan") for name in ("dates", "spikes", "high_cardinality", "mostly_missing")
]


@pytest.mark.parametrize("name, backend", CASES, ids=[f"{n}-{b}" for n, b in CASES])
def test_zoo_augment_keeps_the_schema(tmp_path, cli, name, backend):
    src = tmp_path / f"{name}.csv"
    zoo_table(name, n_rows=300, seed=1).to_csv(src, index=False)
    before = src.read_bytes()
    out = tmp_path / "out.csv"
    args = ["augment", src, "-o", out, "--seed", "0", "--ratio", "0.5", "-q"]
    if backend in ("vae", "gan"):
        args += ["--backend", backend, "--epochs", "2"]
    elif backend != "gmm":
        args += ["--backend", backend]
    code, _, err = cli(*args)
    assert code == 0, err
    assert src.read_bytes() == before
    real, got = read_table(src), read_table(out)
    assert list(got.columns) == list(real.columns)
    assert got.dtypes.astype(str).tolist() == real.dtypes.astype(str).tolist()
    assert len(got) == len(real) + round(0.5 * len(real))
    # the input rows come first, as they were (text compared, so no float rounding is hidden)
    lines = out.read_text().splitlines()
    assert lines[: len(real) + 1] == before.decode().splitlines()


def test_zoo_high_cardinality_stays_within_observed_codes(tmp_path, cli):
    src = tmp_path / "hc.csv"
    zoo_table("high_cardinality", n_rows=3000, seed=2).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    assert cli("augment", src, "-o", out, "--seed", "0", "-q")[0] == 0
    real, got = pd.read_csv(src), pd.read_csv(out)
    assert set(got["code"]) <= set(real["code"])


def test_zoo_mostly_missing_imputes(tmp_path, cli):
    src = tmp_path / "mm.csv"
    zoo_table("mostly_missing", n_rows=400, seed=3).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    code, _, err = cli("impute", src, "-o", out, "--seed", "0", "-q")
    assert code == 0, err
    got = pd.read_csv(out)
    assert got[["m90", "c90"]].notna().all().all()
