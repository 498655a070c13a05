"""Multiple imputation: GenerativeImputer.sample_imputations and ``tabsynth impute --multiple``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tabsynth import GenerativeImputer
from tabsynth.errors import InputError


def _mar_table(rng: np.random.Generator, n: int = 200) -> pd.DataFrame:
    """y = 1 + 2x + noise; y missing at random, more often for large x (about 40% of rows)."""
    x = rng.normal(size=n)
    y = 1.0 + 2.0 * x + rng.normal(size=n)
    missing = rng.random(n) < 1.0 / (1.0 + np.exp(0.7 - 1.5 * x))
    df = pd.DataFrame({"x": x, "y": y})
    df.loc[missing, "y"] = np.nan
    return df


def _mixed_table(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(size=n)
    df = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(size=n), "c": np.where(x + rng.normal(size=n) > 0, "a", "b"),
                       "k": rng.integers(0, 10, n)})
    df.loc[rng.random(n) < 0.3, "y"] = np.nan
    df.loc[rng.random(n) < 0.2, "c"] = None
    return df


def test_tables_keep_known_cells_and_differ_where_missing():
    df = _mixed_table()
    imp = GenerativeImputer(random_state=0).fit(df)
    tables = imp.sample_imputations(df, m=4)
    assert len(tables) == 4
    holes = df.isna()
    for t in tables:
        assert list(t.columns) == list(df.columns) and (t.dtypes == df.dtypes).all()
        assert not t[["y", "c"]].isna().any().any()
        pd.testing.assert_frame_equal(t.where(~holes), df.where(~holes))  # known cells exactly as they were
        assert set(t["c"]) <= {"a", "b"}
    ys = np.column_stack([t.loc[holes["y"], "y"].to_numpy() for t in tables])
    assert (ys.std(axis=1) > 0).all()  # each missing number differs between copies
    cs = np.column_stack([t.loc[holes["c"], "c"].to_numpy() for t in tables])
    assert (cs != cs[:, :1]).any()  # categories are drawn, not always the most likely one


def test_same_seed_same_tables():
    df = _mixed_table()
    a = GenerativeImputer(random_state=3).fit(df).sample_imputations(df, m=2)
    b = GenerativeImputer(random_state=3).fit(df).sample_imputations(df, m=2)
    for x, y in zip(a, b):
        pd.testing.assert_frame_equal(x, y)
    c = GenerativeImputer(random_state=3).fit(df).sample_imputations(df, m=2, random_state=4)
    assert not c[0].equals(a[0])


def test_draws_spread_like_the_data():
    """One copy's imputed y given x scatters about as much as observed y given x does (residual sd 1)."""
    rng = np.random.default_rng(1)
    df = _mar_table(rng, n=1000)
    t = GenerativeImputer(random_state=0).fit(df).sample_imputations(df, m=2)[0]
    miss = df["y"].isna().to_numpy()
    resid = t["y"].to_numpy()[miss] - (1 + 2 * df["x"].to_numpy()[miss])
    assert 0.8 < resid.std() < 1.25
    assert abs(resid.mean()) < 0.2


def test_bad_arguments():
    df = _mixed_table()
    imp = GenerativeImputer(random_state=0).fit(df)
    with pytest.raises(InputError, match="at least 2"):
        imp.sample_imputations(df, m=1)
    with pytest.raises(InputError, match="at least 20 rows"):
        imp.sample_imputations(df.head(10), m=2)


def _rubin(estimates: list[float], variances: list[float]) -> tuple[float, float, float]:
    """Pooled estimate, total variance and degrees of freedom (Rubin 1987, Barnard-Rubin large-sample df)."""
    m = len(estimates)
    q, u, b = float(np.mean(estimates)), float(np.mean(variances)), float(np.var(estimates, ddof=1))
    t = u + (1 + 1 / m) * b
    r = (1 + 1 / m) * b / u
    df = (m - 1) * (1 + 1 / r) ** 2 if b > 0 else np.inf
    return q, t, df


@pytest.mark.slow
def test_rubin_rules_cover_the_truth():
    """The statistician's check: 95% intervals of a mean and a slope cover the truth in >= 90% of 200 runs.

    200 simulated tables (200 rows, y missing at random given x), 5 imputations each,
    analysed with Rubin's rules. Complete-case analysis would miss the mean of y
    (the missing values are the large ones); single imputation would give intervals too narrow.
    """
    reps, m = 200, 5
    hits = {"mean": 0, "slope": 0}
    for r in range(reps):
        df = _mar_table(np.random.default_rng(1000 + r))
        tables = GenerativeImputer(random_state=r).fit(df).sample_imputations(df, m=m)
        est = {"mean": ([], []), "slope": ([], [])}
        for t in tables:
            x, y = t["x"].to_numpy(), t["y"].to_numpy()
            n = len(y)
            est["mean"][0].append(y.mean())
            est["mean"][1].append(y.var(ddof=1) / n)
            design = np.column_stack([np.ones(n), x])
            beta = np.linalg.lstsq(design, y, rcond=None)[0]
            s2 = ((y - design @ beta) ** 2).sum() / (n - 2)
            est["slope"][0].append(beta[1])
            est["slope"][1].append(s2 * np.linalg.inv(design.T @ design)[1, 1])
        for name, truth in (("mean", 1.0), ("slope", 2.0)):
            q, total, dof = _rubin(*est[name])
            hits[name] += abs(q - truth) <= stats.t.ppf(0.975, dof) * np.sqrt(total)
    assert hits["mean"] / reps >= 0.90, hits
    assert hits["slope"] / reps >= 0.90, hits


def test_cli_multiple(tmp_path, cli):
    df = _mixed_table()
    src = tmp_path / "t.csv"
    df.to_csv(src, index=False)
    out = tmp_path / "mi.csv"
    code, stdout, _ = cli("impute", src, "-o", out, "--multiple", "3", "--seed", "1")
    assert code == 0, stdout
    got = pd.read_csv(out)
    assert list(got.columns) == ["_imputation", *df.columns]
    assert len(got) == 3 * len(df)
    assert (got["_imputation"].to_numpy() == np.repeat([0, 1, 2], len(df))).all()
    assert not got[["y", "c"]].isna().any().any()
    first = got[got["_imputation"] == 0].drop(columns="_imputation").reset_index(drop=True)
    pd.testing.assert_series_equal(first["x"], df["x"])
    again = tmp_path / "mi2.csv"
    assert cli("impute", src, "-o", again, "--multiple", "3", "--seed", "1", "-q")[0] == 0
    assert out.read_bytes() == again.read_bytes()


@pytest.mark.parametrize("args, words", [
    (["--multiple", "0"], "--multiple"),
    (["--multiple", "1"], "at least 2"),
    (["--multiple", "3", "--strategy", "mean"], "--strategy"),
])
def test_cli_multiple_errors(tmp_path, cli, args, words):
    src = tmp_path / "t.csv"
    _mixed_table().to_csv(src, index=False)
    code, out, err = cli("impute", src, "-o", tmp_path / "o.csv", *args)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.csv").exists()


def test_cli_multiple_refuses_a_clashing_column(tmp_path, cli):
    src = tmp_path / "t.csv"
    _mixed_table().rename(columns={"k": "_imputation"}).to_csv(src, index=False)
    code, _, err = cli("impute", src, "-o", tmp_path / "o.csv", "--multiple", "2")
    assert code == 2 and "_imputation" in err
