"""Hostile inputs: generated tables and dtype drifts through the CLI and the API.

Invariants checked on every example:
* the CLI exits 0, or prints one line ``error: ...`` and exits 2 (never a traceback);
* input files are never modified; on an error nothing is written (no temporary file either);
* input rows come back unchanged from ``augment``; known cells come back unchanged from ``impute``.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tabsynth import GenerativeImputer, Synthesizer
from tabsynth._cells import canon
from tabsynth.io import read_table

FAST = settings(max_examples=int(__import__("os").environ.get("HOSTILE_EXAMPLES", 25)), deadline=None, suppress_health_check=list(HealthCheck))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------- generated tables
NAMES = st.text(alphabet=st.sampled_from(list("ab ,\"'é_-.0")), min_size=0, max_size=4)


@st.composite
def hostile_column(draw, n):
    kind = draw(st.sampled_from(["int", "zeros", "float", "tiny", "huge", "text", "padded", "bool", "date", "na",
                                 "const", "unique", "mixed"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if kind == "int":
        vals = rng.integers(-5, 50, n).astype(str)
    elif kind == "zeros":
        vals = np.array([f"{v:05d}" for v in rng.integers(0, 300, n)])
    elif kind == "float":
        vals = rng.normal(size=n).round(2).astype(str)
    elif kind == "tiny":
        vals = np.array([repr(v) for v in rng.normal(scale=1e-12, size=n)])
    elif kind == "huge":
        vals = np.array([repr(v) for v in rng.normal(scale=1e15, size=n)])
    elif kind == "text":
        vals = rng.choice(["a", "b", "c,d", 'q"uote', "é"], n)
    elif kind == "padded":
        vals = rng.choice(["  x", "y  ", " z ", "x"], n)
    elif kind == "bool":
        vals = rng.choice(["True", "False"], n)
    elif kind == "date":
        vals = np.array([str(pd.Timestamp("2021-03-01") + pd.Timedelta(days=int(d)))[:10] for d in rng.integers(0, 90, n)])
    elif kind == "na":
        vals = np.array(["NA"] * n)
    elif kind == "const":
        vals = np.array(["same"] * n)
    elif kind == "unique":
        vals = np.array([f"id{i}" for i in range(n)])
    else:  # numbers and words in one column
        vals = rng.choice(["1", "2", "x", "3.5"], n)
    vals = vals.astype(object)
    holes = rng.random(n) < draw(st.sampled_from([0.0, 0.1, 0.5]))
    vals[holes] = ""
    return vals


@st.composite
def hostile_table(draw):
    n = draw(st.sampled_from([1, 3, 12, 40]))
    k = draw(st.integers(1, 5))
    names = draw(st.lists(NAMES, min_size=k, max_size=k))
    return pd.DataFrame({i: draw(hostile_column(n)) for i in range(k)}).set_axis(names, axis=1)


@FAST
@given(table=hostile_table(), command=st.sampled_from(["augment", "impute"]))
def test_cli_on_hostile_tables(cli, table, command):
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        src = d / "in.csv"
        table.to_csv(src, index=False)
        before = digest(src)
        code, _, err = cli(command, src, "-o", d / "out.csv", "--seed", "0", "-q")
        assert digest(src) == before
        assert "Traceback" not in err
        if code != 0:
            lines = err.strip().splitlines()
            assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
            assert sorted(p.name for p in d.iterdir()) == ["in.csv"]
            return
        assert sorted(p.name for p in d.iterdir()) == ["in.csv", "out.csv"]
        real = read_table(src)
        out = read_table(d / "out.csv")
        assert list(out.columns) == list(real.columns)
        if command == "augment":
            pd.testing.assert_frame_equal(out.iloc[: len(real)], real, check_dtype=False)
            assert (d / "out.csv").read_text().startswith(src.read_text().split("\n", 1)[0])
        else:
            for c in real.columns:
                known = real[c].notna()
                assert [canon(v) for v in out.loc[known, c]] == [canon(v) for v in real.loc[known, c]], c


# ------------------------------------------------------------ dtype drift
def _same(a, b) -> bool:
    """Same value: equal canonical text, or the same instant (a date string put into a datetime column)."""
    if canon(a) == canon(b):
        return True
    if isinstance(a, pd.Timestamp) or isinstance(b, pd.Timestamp):
        try:
            return pd.Timestamp(a) == pd.Timestamp(b)
        except (TypeError, ValueError):
            return False
    return False



def _base(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({
        "i": (x * 10 + 40).round().astype("int64"),
        "f": (x * 2 + rng.normal(scale=0.5, size=n)).round(3),
        "c": pd.Categorical(np.where(x > 0, "1", "2")),
        "s": np.where(rng.random(n) < 0.5, "u", "v").astype(object),
        "b": x + rng.normal(size=n) > 0,
        "d": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 100, n), unit="D"),
    })


DRIFTS = {
    "i": [lambda s: s, lambda s: s.astype(float), lambda s: s.astype("Int64"), lambda s: s.astype(str),
          lambda s: s.astype(float) + 0.5],
    "f": [lambda s: s, lambda s: s.astype(object), lambda s: s.astype(str), lambda s: s.astype("float32")],
    "c": [lambda s: s, lambda s: s.astype(object), lambda s: s.astype(str).astype(int),
          lambda s: s.astype(str).replace({"2": "7"})],
    "s": [lambda s: s, lambda s: s.astype("category"), lambda s: s.replace({"v": "new"})],
    "b": [lambda s: s, lambda s: s.astype(object), lambda s: s.astype(str), lambda s: s.astype(int)],
    "d": [lambda s: s, lambda s: s.dt.strftime("%Y-%m-%d"), lambda s: s.dt.tz_localize("UTC")],
}


@pytest.fixture(scope="module")
def fitted():
    return Synthesizer(random_state=0).fit(_base())


@FAST
@given(choice=st.fixed_dictionaries({c: st.integers(0, len(v) - 1) for c, v in DRIFTS.items()}),
       seed=st.integers(0, 2**16), rate=st.sampled_from([0.0, 0.2, 0.6, 1.0]),
       via=st.sampled_from(["impute", "transform", "given"]))
def test_known_cells_unchanged_under_dtype_drift(fitted, choice, seed, rate, via):
    rng = np.random.default_rng(seed)
    new = _base(30, seed=seed + 1)
    new = pd.DataFrame({c: DRIFTS[c][choice[c]](new[c]) for c in new.columns})
    holes = rng.random(new.shape) < rate
    for j, c in enumerate(new.columns):
        if holes[:, j].any():
            col = new[c].astype(object) if new[c].dtype.kind in "iub" else new[c].copy()
            col[holes[:, j]] = None
            new[c] = col
    if via == "impute":
        out = fitted.impute(new, seed=0)
    elif via == "transform":
        out = GenerativeImputer.from_synthesizer(fitted, random_state=0, n_draws=3).transform(new)
    else:
        try:
            out = fitted.sample(len(new), given=new, seed=0)
        except Exception as e:  # a value the model never saw: a one-line error naming the column
            assert "given column" in str(e) and "\n" not in str(e)
            return
    assert list(out.columns) == list(new.columns) and len(out) == len(new)
    for c in new.columns:
        known = new[c].notna().to_numpy()
        got, want = out[c].to_numpy(dtype=object)[known], new[c].to_numpy(dtype=object)[known]
        assert all(_same(a, b) for a, b in zip(got, want)), (c, got, want)
        if via != "given":
            assert out[c].notna().all(), c
            assert out[c].dtype == new[c].dtype or out[c].dtype == object or out[c].dtype.kind == "f", c
