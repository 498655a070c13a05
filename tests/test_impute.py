"""GenerativeImputer, GenerativeOverSampler and `tabsynth impute`."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from tabsynth import GenerativeImputer, GenerativeOverSampler, Synthesizer
from tabsynth.cli import main
from tabsynth.errors import InputError


def correlated(n=400, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({"x": x, "y": 2 * x + rng.normal(scale=0.1, size=n),
                         "c": np.where(x > 0, "pos", "neg").astype(object),
                         "k": pd.array(np.round(5 * x + 20), dtype="Int64")})


def punch(df, rate=0.2, seed=1, cols=None):
    rng = np.random.default_rng(seed)
    out = df.copy()
    for c in cols or df.columns:
        out.loc[rng.random(len(df)) < rate, c] = None
    return out


@parametrize_with_checks([GenerativeImputer(random_state=0), GenerativeImputer("gmm", random_state=0, backend_params={"n_components": 2})])
def test_sklearn_conventions(estimator, check):
    check(estimator)


def test_fills_only_missing_cells_and_keeps_dtypes(mixed):
    holes = punch(mixed.astype({"i": "Int64", "b": "boolean"}), cols=["f", "i", "s", "b", "d", "dtz", "cat", "ps"])
    for strategy in ("mean", "sample"):
        out = GenerativeImputer(random_state=0, strategy=strategy).fit(holes).transform(holes)
        assert out.dtypes.tolist() == holes.dtypes.tolist()
        assert out.index.equals(holes.index)
        for c in holes.columns:
            known = holes[c].notna()
            assert out.loc[known, c].astype(object).equals(holes.loc[known, c].astype(object)), c
            if c != "const":
                assert out[c].notna().all(), c
        assert (out["i"].dropna() == out["i"].dropna().round()).all()
        assert set(out["s"]) <= set(mixed["s"])


def test_mean_strategy_beats_column_means_and_sample():
    full = correlated()
    holes = punch(full, cols=["y", "c", "k"])
    m = holes["y"].isna()

    def rmse(filled):
        return float(np.sqrt(((filled.loc[m, "y"] - full.loc[m, "y"]) ** 2).mean()))

    mean_fill = rmse(holes.fillna({"y": holes["y"].mean()}))
    ours = GenerativeImputer(random_state=0).fit_transform(holes)
    one = GenerativeImputer(random_state=0, strategy="sample").fit_transform(holes)
    assert rmse(ours) < 0.25 * mean_fill, (rmse(ours), mean_fill)  # y = 2x + noise(0.1): x tells y
    assert rmse(ours) <= rmse(one)
    mc = holes["c"].isna()
    assert (ours.loc[mc, "c"] == full.loc[mc, "c"]).mean() > 0.85


def test_out_of_sample_and_determinism():
    train, new = correlated(seed=0), punch(correlated(n=100, seed=5), cols=["y"])
    imp = GenerativeImputer(random_state=3).fit(punch(train))
    a, b = imp.transform(new), imp.transform(new)
    pd.testing.assert_frame_equal(a, b)
    assert a["y"].notna().all()
    with pytest.raises(InputError, match="column 'y' of the fitted table is missing"):
        imp.transform(new.drop(columns="y"))


def test_numpy_indicator_and_set_output():
    full = correlated()[["x", "y"]]
    holes = punch(full, cols=["y"])
    imp = GenerativeImputer(random_state=0, add_indicator=True).fit(holes.to_numpy())
    arr = imp.transform(holes.to_numpy())
    assert isinstance(arr, np.ndarray) and arr.shape == (len(full), 3) and not np.isnan(arr).any()
    assert list(imp.get_feature_names_out()) == ["x0", "x1", "missingindicator_x1"]
    assert (arr[:, 2] == holes["y"].isna()).all()
    imp = GenerativeImputer(random_state=0).set_output(transform="pandas").fit(holes)
    assert isinstance(imp.transform(holes), pd.DataFrame)


@pytest.mark.parametrize("params, match", [({"strategy": "median"}, "strategy"), ({"n_draws": 0}, "n_draws")])
def test_bad_params(params, match):
    with pytest.raises(InputError, match=match):
        GenerativeImputer(**params).fit(correlated())


def test_from_saved_model(tmp_path):
    syn = Synthesizer(random_state=0).fit(correlated())
    syn.save(tmp_path / "m.tabsynth")
    imp = GenerativeImputer.from_synthesizer(Synthesizer.load(tmp_path / "m.tabsynth"), random_state=0)
    out = imp.transform(punch(correlated(n=50, seed=9), cols=["y"]))
    assert out["y"].notna().all()


# ------------------------------------------------------------ over-sampler
def imbalanced(n=600, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.1).astype(int)
    X = pd.DataFrame({"a": rng.normal(size=n) + 4 * y, "b": np.where(rng.random(n) < 0.5 + 0.4 * y, "u", "v")})
    return X, pd.Series(y, name="label")


def test_oversampler_balances_with_class_conditional_rows():
    X, y = imbalanced()
    Xr, yr = GenerativeOverSampler(random_state=0).fit_resample(X, y)
    counts = yr.value_counts()
    assert counts[0] == counts[1] == (y == 0).sum()
    pd.testing.assert_frame_equal(Xr.iloc[: len(X)], X)
    assert list(Xr.columns) == list(X.columns) and Xr.dtypes.tolist() == X.dtypes.tolist()
    new = Xr.iloc[len(X):]
    assert abs(new["a"].mean() - X.loc[y == 1, "a"].mean()) < 0.5  # minority rows look like the minority
    Xr2, _ = GenerativeOverSampler(random_state=0).fit_resample(X, y)
    pd.testing.assert_frame_equal(Xr, Xr2)


@pytest.mark.parametrize("strategy, minority", [(0.5, None), ("minority", None), ({1: 100}, 100)])
def test_oversampler_strategies(strategy, minority):
    X, y = imbalanced()
    _, yr = GenerativeOverSampler(random_state=0, sampling_strategy=strategy).fit_resample(X.to_numpy(), y.to_numpy())
    n0 = (y == 0).sum()
    want = {0.5: round(0.5 * n0), "minority": n0}.get(strategy, minority) if not isinstance(strategy, dict) else minority
    assert (yr == 1).sum() == want and (yr == 0).sum() == n0


@pytest.mark.parametrize("strategy, match", [(0.01, "larger ratio"), ({2: 10}, "class 2"), ("most", "sampling_strategy")])
def test_oversampler_errors(strategy, match):
    X, y = imbalanced()
    with pytest.raises(InputError, match=match):
        GenerativeOverSampler(sampling_strategy=strategy).fit_resample(X, y)
    with pytest.raises(InputError, match="single class"):
        GenerativeOverSampler().fit_resample(X, pd.Series(np.zeros(len(X), int)))


def test_oversampler_in_imblearn_pipeline():
    imblearn = pytest.importorskip("imblearn")
    from sklearn.linear_model import LogisticRegression

    X, y = imbalanced()
    pipe = imblearn.pipeline.make_pipeline(GenerativeOverSampler(random_state=0),
                                           __import__("sklearn.compose", fromlist=["x"]).make_column_transformer(
                                               ("passthrough", ["a"]), remainder="drop"),
                                           LogisticRegression())
    pipe.fit(X, y)
    assert pipe.predict(X).mean() > y.mean()  # rebalanced: predicts the minority more often than it occurs


# ------------------------------------------------------------------- CLI
def run(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_cli_impute(capsys, tmp_path):
    full = correlated()
    holes = punch(full, cols=["y", "c"])
    src = tmp_path / "holes.parquet"
    holes.to_parquet(src)
    code, out, _ = run(capsys, "impute", src, "--seed", "0", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["cells_filled"] == {"y": int(holes["y"].isna().sum()), "c": int(holes["c"].isna().sum())}
    filled = pd.read_parquet(tmp_path / "holes.imputed.parquet")
    assert filled.notna().all().all() and filled.dtypes.tolist() == holes.dtypes.tolist()
    run(capsys, "impute", src, "--seed", "0", "-o", tmp_path / "again.parquet", "-q")
    assert (tmp_path / "again.parquet").read_bytes() == (tmp_path / "holes.imputed.parquet").read_bytes()
    # fit on one table, fill another
    full.to_csv(tmp_path / "full.csv", index=False)
    assert run(capsys, "fit", tmp_path / "full.csv", "-o", tmp_path / "m.tabsynth", "-q")[0] == 0
    code, out, _ = run(capsys, "impute", src, "--model", tmp_path / "m.tabsynth", "-o", tmp_path / "b.csv")
    assert code == 0 and "filled" in out
    assert pd.read_csv(tmp_path / "b.csv")["y"].notna().all()


@pytest.mark.parametrize("extra, match", [
    (["--model", "{d}/none.tabsynth"], "does not exist"),
    (["--model", "{d}/m.tabsynth", "--backend", "vae"], "apply only when fitting"),
    (["--model", "{d}/other.tabsynth"], "column 'y' was not in the fitted table"),
    (["--strategy", "median"], "--strategy"),
    (["--draws", "0"], "--draws"),
    (["-o", "{d}/t.csv"], "same file as INPUT"),
])
def test_cli_impute_bad_input(capsys, tmp_path, extra, match):
    d = tmp_path
    punch(correlated(), cols=["y"]).to_csv(d / "t.csv", index=False)
    Synthesizer("gmm", n_components=2).fit(correlated()).save(d / "m.tabsynth")
    Synthesizer("gmm", n_components=2).fit(correlated().drop(columns="y")).save(d / "other.tabsynth")
    before = sorted(p.name for p in d.iterdir())
    code, _, err = run(capsys, "impute", d / "t.csv", *[a.format(d=d) for a in extra])
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: ") and match in err, err
    assert sorted(p.name for p in d.iterdir()) == before
