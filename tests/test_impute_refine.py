"""The default imputer: a mixture proposes, per-column gradient boosting (or ridge) corrects."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabsynth import GenerativeImputer


def table(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, n)
    g = rng.choice(["a", "b", "c"], n)
    y = np.sin(2 * x) * 3 + np.where(g == "a", 2.0, 0.0) + rng.normal(scale=0.1, size=n)
    k = np.round(x * 5 + 20).astype("int64")
    return pd.DataFrame({"x": x, "g": g, "y": y, "k": pd.array(k, dtype="Int64"),
                         "h": np.where(x + rng.normal(scale=0.3, size=n) > 0, "hi", "lo")})


def punch(df, seed=1, rate=0.2):
    rng = np.random.default_rng(seed)
    out = df.copy()
    for c in out.columns:
        out.loc[rng.random(len(out)) < rate, c] = None
    return out


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a, float) - np.asarray(b, float)) ** 2)))


def test_refine_on_a_nonlinear_mixed_table():
    full = table()
    holes = punch(full)
    m = holes["y"].isna()
    refined = GenerativeImputer(random_state=0).fit_transform(holes)
    drawn = GenerativeImputer(random_state=0, strategy="mean").fit_transform(holes)
    # the full-covariance mixture fits this small table well; the refinement is level with it
    assert rmse(refined.loc[m, "y"], full.loc[m, "y"]) < 1.1 * rmse(drawn.loc[m, "y"], full.loc[m, "y"])
    mh = holes["h"].isna()
    assert (refined.loc[mh, "h"] == full.loc[mh, "h"]).mean() > 0.85
    # dtypes kept, integers whole, known cells untouched
    assert refined.dtypes.equals(holes.dtypes)
    assert (refined["k"].dropna() == refined["k"].dropna().round()).all() and refined.notna().all().all()
    known = holes.notna()
    for c in holes.columns:
        assert (refined.loc[known[c], c] == holes.loc[known[c], c]).all()


def test_refine_out_of_sample_uses_the_fitted_models():
    train, new = punch(table(seed=0)), punch(table(n=300, seed=5), seed=7)
    imp = GenerativeImputer(random_state=0).fit(train)
    assert imp.refiner_ is not None and len(imp.refiner_.models_) == 5
    out = imp.transform(new)
    assert out.notna().all().all()
    again = imp.transform(new)
    pd.testing.assert_frame_equal(out, again)  # deterministic


def test_refine_picks_ridge_on_a_small_linear_table():
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    full = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(scale=0.1, size=300)})
    holes = full.copy()
    holes.loc[::5, "y"] = np.nan
    imp = GenerativeImputer(random_state=0).fit(holes)
    out = imp.transform(holes)
    m = holes["y"].isna()
    assert rmse(out.loc[m, "y"], full.loc[m, "y"]) < 0.2


def test_refine_beats_the_generative_mean_on_spam(shared):
    from tabsynth.evaluate import imputation_scores, make_missing

    full = pd.read_csv(shared("spam.csv")).sample(1500, random_state=0).reset_index(drop=True)
    holes, mask = make_missing(full, 0.2, seed=0)
    refined = imputation_scores(full, GenerativeImputer(random_state=0).fit_transform(holes), mask)["rmse"]
    drawn = imputation_scores(full, GenerativeImputer(random_state=0, strategy="mean", n_draws=3)
                              .fit_transform(holes), mask)["rmse"]
    assert refined < 0.95 * drawn, (refined, drawn)


def test_cli_impute_columns_and_nothing_to_fill(cli, tmp_path):
    import json

    run = cli
    holes = punch(table(n=300))
    holes.to_csv(tmp_path / "t.csv", index=False)

    code, out, err = run("impute", tmp_path / "t.csv", "--columns", "y,g", "-o", tmp_path / "f.csv", "--json",
                         "--seed", "0")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc["cells_filled"]) == {"y", "g"} and doc["cells_left_missing"]["x"] == int(holes["x"].isna().sum())
    f = pd.read_csv(tmp_path / "f.csv")
    assert f["y"].notna().all() and f["x"].isna().sum() == holes["x"].isna().sum()
    code, _, err = run("impute", tmp_path / "t.csv", "--columns", "nope", "-o", tmp_path / "g.csv")
    assert code == 2 and "--columns" in err and "'nope'" in err and not (tmp_path / "g.csv").exists()
    table(n=50).to_csv(tmp_path / "full.csv", index=False)
    code, out, err = run("impute", tmp_path / "full.csv", "-o", tmp_path / "h.csv")
    assert code == 0 and "no missing cells" in out
    assert pd.read_csv(tmp_path / "h.csv").equals(pd.read_csv(tmp_path / "full.csv"))
