"""tabsynth.evaluate on adult (shuffled copy vs column-permuted copy), regression, bad input, report."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from tabsynth.errors import InputError
from tabsynth.evaluate import MODELS, evaluate, exact_copies, summary_table, utility
from tabsynth.evaluate.report import write_report

TARGET = "income"


@pytest.fixture(scope="module")
def adult_split(shared) -> tuple[pd.DataFrame, pd.DataFrame]:
    path = shared("adult.csv")
    from sklearn.model_selection import train_test_split

    df = pd.read_csv(path, skipinitialspace=True, na_values=["?"]).sample(3500, random_state=0)
    train, test = train_test_split(df, test_size=0.2, stratify=df[TARGET], random_state=0)
    return train.reset_index(drop=True), test.reset_index(drop=True)


@pytest.fixture(scope="module")
def shuffled(adult_split):
    train, test = adult_split
    syn = train.sample(frac=1.0, random_state=1).reset_index(drop=True)
    steps = []
    res = evaluate(train, syn, test, TARGET, seeds=(0,), progress=lambda s, i, n: steps.append(s))
    return res, syn, steps


@pytest.fixture(scope="module")
def permuted(adult_split):
    train, test = adult_split
    rng = np.random.default_rng(0)
    syn = pd.DataFrame({c: train[c].to_numpy()[rng.permutation(len(train))] for c in train.columns})
    res = evaluate(train, syn, test, TARGET, models=["logistic_regression", "gradient_boosting"], seeds=(0,),
                   sections=["fidelity", "utility", "feature_selection", "detection"])
    return res, syn


# ------------------------------------------------------------- layout
def test_result_layout_is_plain_json(shuffled):
    res, _, steps = shuffled
    json.dumps(res, allow_nan=False)  # plain floats, no NaN
    assert set(res) == {"fidelity", "utility", "feature_selection", "detection", "privacy", "meta"}
    assert {"column_shapes", "pair_trends", "columns", "pairs", "validity"} <= set(res["fidelity"])
    assert {"task", "metric", "models"} <= set(res["utility"])
    assert set(res["utility"]["models"]) == set(MODELS)
    for m in res["utility"]["models"].values():
        assert {"real", "synthetic", "augmented"} <= set(m)
    assert {"spearman", "top_k_overlap"} <= set(res["feature_selection"])
    assert {"logistic_regression", "gradient_boosting"} <= set(res["detection"])
    assert {"dcr_synthetic_median", "dcr_holdout_median", "exact_copies"} <= set(res["privacy"])
    meta = res["meta"]
    assert (meta["rows_real"], meta["rows_synthetic"], meta["rows_holdout"]) == (2800, 2800, 700)
    assert meta["target"] == TARGET and meta["holdout_source"] == "given" and meta["seconds"] > 0
    assert steps[0] == "fidelity" and steps[-1] == "done"


# ------------------------------------------------------- shuffled copy
def test_shuffled_copy_is_faithful_undetectable_and_a_copy(shuffled):
    res, _, _ = shuffled
    assert res["fidelity"]["column_shapes"] > 0.99
    assert res["fidelity"]["pair_trends"] > 0.99
    assert res["fidelity"]["validity"]["score"] == pytest.approx(1.0)
    assert res["detection"]["logistic_regression"] < 0.6
    assert res["detection"]["gradient_boosting"] < 0.6
    assert res["privacy"]["exact_copies"] > 0.95
    assert res["privacy"]["dcr_synthetic_median"] == pytest.approx(0.0)
    assert res["privacy"]["dcr_holdout_median"] > 0
    assert res["privacy"]["dcr_closer"] > 0.9
    assert res["feature_selection"]["spearman"] > 0.9
    assert res["feature_selection"]["top_k_overlap"] >= 0.8


def test_shuffled_copy_has_the_real_utility(shuffled):
    ut = shuffled[0]["utility"]
    assert ut["task"] == "classification" and ut["metric"] == "roc_auc" and ut["positive_class"] == ">50K"
    for name in ("logistic_regression", "gradient_boosting", "svm"):  # deterministic up to row order
        m = ut["models"][name]
        assert m["synthetic"] == pytest.approx(m["real"], abs=0.01), name
    for name, m in ut["models"].items():
        assert m["synthetic"] == pytest.approx(m["real"], abs=0.03), name
        assert 0.6 < m["real"] <= 1.0
        assert {"accuracy", "f1_macro", "roc_auc"} <= set(m["metrics"]["real"])
    assert ut["models"]["gradient_boosting"]["real"] > 0.85
    assert ut["rows"]["dropped_synthetic"] == 0


def test_summary_table_has_verdicts_and_a_privacy_warning(shuffled):
    text = summary_table(shuffled[0])
    assert "fidelity" in text and "good" in text
    assert "WARNING" in text and "exact copies of real rows" in text


# ------------------------------------------------ column-permuted copy
def test_permuted_columns_break_pairs_and_are_detected(permuted, shuffled):
    res, _ = permuted
    fid = res["fidelity"]
    assert fid["column_shapes"] > 0.99  # the marginals are untouched
    # all-pairs mean: adult has many near-independent pairs, so the drop is moderate
    assert fid["pair_trends"] < 0.95
    assert fid["pair_trends"] < shuffled[0]["fidelity"]["pair_trends"] - 0.05
    strong = [p["score"] for p in fid["pairs"] if (p["real_association"] or 0) > 0.3]
    assert len(strong) >= 5 and np.mean(strong) < 0.8
    assert res["detection"]["gradient_boosting"] > 0.75
    gb = res["utility"]["models"]["gradient_boosting"]
    assert gb["synthetic"] < gb["real"] - 0.2
    assert res["feature_selection"]["spearman"] < 0.7
    assert res["privacy"] is None  # not requested


# --------------------------------------------------------- regression
def test_numeric_target_is_regression(adult_split):
    train, test = adult_split
    syn = train.sample(frac=1.0, random_state=1).reset_index(drop=True)
    res = evaluate(train, syn, test, "hours-per-week", models=["logistic_regression", "gradient_boosting", "svm"],
                   sections=["utility", "feature_selection"])
    ut = res["utility"]
    assert ut["task"] == "regression" and ut["metric"] == "r2"
    lin = ut["models"]["logistic_regression"]
    assert lin["synthetic"] == pytest.approx(lin["real"], abs=0.01)
    assert 0.05 < lin["real"] < 0.6
    assert {"r2", "rmse"} <= set(lin["metrics"]["synthetic"])
    assert res["feature_selection"]["spearman"] > 0.8


def test_default_holdout_is_a_stratified_split(adult_split):
    train, _ = adult_split
    res = evaluate(train, train, target=TARGET, models=["logistic_regression"],
                   sections=["utility", "privacy"])
    meta = res["meta"]
    assert meta["holdout_source"].startswith("split")
    assert (meta["rows_train"], meta["rows_holdout"]) == (2240, 560)
    assert res["utility"]["rows"]["holdout"] == 560
    assert res["privacy"]["exact_copies"] == pytest.approx(1.0)  # looked up in all of real
    assert meta["notes"]


def test_no_target_skips_utility_and_feature_selection(adult_split):
    train, test = adult_split
    res = evaluate(train, train, test, sections=["fidelity", "utility", "feature_selection"])
    assert res["utility"] is None and res["feature_selection"] is None
    assert res["fidelity"]["column_shapes"] == pytest.approx(1.0)


# -------------------------------------------- awkward synthetic targets
def test_synthetic_rows_with_missing_or_unseen_target_are_dropped(adult_split):
    train, test = adult_split
    syn = train.copy()
    syn.loc[:9, TARGET] = None
    syn.loc[10:14, TARGET] = "maybe"
    res = utility(train, syn, test, TARGET, models=["logistic_regression"])
    assert res["rows"]["dropped_synthetic"] == 15
    assert res["rows"]["train_synthetic"] == len(train) - 15
    assert any("dropped 15" in n for n in res["notes"])


def test_single_class_synthetic_does_not_crash(adult_split):
    train, test = adult_split
    syn = train[train[TARGET] == "<=50K"].reset_index(drop=True)
    res = utility(train, syn, test, TARGET, models=["logistic_regression", "svm"])
    for m in res["models"].values():
        assert m["synthetic"] == pytest.approx(0.5)  # a constant model
        assert m["real"] > 0.8


def test_multiclass_with_a_class_missing_from_synthetic(adult_split):
    train, test = adult_split
    syn = train[train["relationship"] != "Other-relative"].reset_index(drop=True)
    res = utility(train, syn, test, "relationship", models=["logistic_regression", "svm", "gradient_boosting"])
    assert res["task"] == "classification" and res["metric"] == "f1_macro" and res["classes"] == 6
    for m in res["models"].values():
        for which in ("real", "synthetic", "augmented"):
            metrics = m["metrics"][which]
            assert 0 <= metrics["f1_macro"] <= 1
            assert 0.5 < metrics["roc_auc_ovr"] <= 1
            assert 0 <= metrics["accuracy"] <= 1


def test_integer_coded_target_with_missing_values_is_classification():
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(["a", "b"], n)})
    df["y"] = np.where(df["x"] > 0, 1.0, 0.0)  # 0/1 read as float
    df.loc[:5, "y"] = np.nan
    syn = df.assign(y=df["y"].astype("Int64"))  # the same codes as nullable ints
    res = utility(df[:300], syn[:300], df[300:], "y", models=["logistic_regression"])
    assert res["task"] == "classification" and res["metric"] == "roc_auc"
    assert res["rows"]["dropped_synthetic"] == 6 and res["rows"]["dropped_real"] == 6
    m = res["models"]["logistic_regression"]
    assert m["synthetic"] == pytest.approx(m["real"], abs=1e-6)


# ----------------------------------------------------------- bad input
def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_mismatched_columns_are_named():
    real = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [1.0, 2.0]})
    syn = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "zz": [0, 1]})
    with pytest.raises(InputError) as exc:
        evaluate(real, syn)
    msg = _one_line(exc)
    assert "'c'" in msg and "'zz'" in msg and "synthetic" in msg
    with pytest.raises(InputError, match="holdout.*'c'"):
        evaluate(real, real, holdout=syn)


def test_unknown_target_is_named():
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "x"]})
    with pytest.raises(InputError) as exc:
        evaluate(df, df, target="income")
    assert "'income'" in _one_line(exc)


def test_single_class_target_in_real_is_refused():
    df = pd.DataFrame({"a": range(20), "y": ["yes"] * 20})
    with pytest.raises(InputError) as exc:
        evaluate(df, df, target="y")
    msg = _one_line(exc)
    assert "'y'" in msg and "one class" in msg


@pytest.mark.parametrize("which", ["real", "synthetic", "holdout"])
def test_empty_tables_are_refused(which):
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "x"]})
    tables = {"real": df, "synthetic": df, "holdout": df}
    tables[which] = df.iloc[:0]
    with pytest.raises(InputError) as exc:
        evaluate(tables["real"], tables["synthetic"], holdout=tables["holdout"])
    assert which in _one_line(exc) and "empty" in str(exc.value)


def test_bad_options_are_named():
    df = pd.DataFrame({"a": np.arange(40.0), "y": ["p", "q"] * 20})
    with pytest.raises(InputError, match="'xgboost'"):
        evaluate(df, df, target="y", models=["xgboost"])
    with pytest.raises(InputError, match="'speed'"):
        evaluate(df, df, sections=["speed"])
    with pytest.raises(InputError, match="DataFrame"):
        evaluate(df.to_numpy(), df)
    with pytest.raises(InputError, match="task"):
        evaluate(df, df, target="y", task="ranking")


# ------------------------------------------------------------- privacy
def test_exact_copies_normalise_dtypes_and_missing_values():
    real = pd.DataFrame({"x": pd.array([1, 2, None, 4], dtype="Int64"), "c": ["a", None, "c", "d"]})
    syn = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.5], "c": pd.array(["a", None, "c", "d"], dtype="string")})
    assert exact_copies(real, syn) == pytest.approx(0.75)


def test_dcr_closer_compares_whole_distributions_where_medians_jump():
    # categories and an age of 60 values: distances take few values and a median sits on one of them
    from tabsynth.evaluate.privacy import closer_share, privacy

    def rows(n: int, draw: int) -> pd.DataFrame:
        rng = np.random.default_rng([7, draw])
        c = rng.choice(list("abcd"), n, p=[0.4, 0.3, 0.2, 0.1])
        age = np.clip(np.round(30 + 10 * (c == "a") + rng.normal(0, 12, n)), 0, 59).astype("int64")
        return pd.DataFrame({"c": c, "k": rng.choice(list("xyz"), n), "j": rng.choice(list("pqrst"), n),
                             "m": rng.choice(list("uvwxyz"), n), "age": age})

    train, holdout, fresh = rows(3000, 0), rows(1000, 1), rows(3000, 2)
    same = privacy(train, fresh, holdout)           # rows of the holdout's own distribution...
    assert same["dcr_ratio"] == pytest.approx(0.5)  # ...half the holdout's median: one step of the age
    assert abs(same["dcr_closer"] - 0.5) < 0.03     # the whole distributions: even
    copied = privacy(train, train.sample(1000, random_state=0), holdout)
    assert copied["dcr_closer"] > 0.85 and copied["dcr_ratio"] == 0.0
    assert privacy(train, fresh)["dcr_closer"] is None  # no holdout, no baseline
    # ties count half, also when found with different rounding errors
    assert closer_share(np.array([0.1 + 0.2, 0.0]), np.array([0.3])) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="at least one"):
        closer_share(np.array([]), np.array([0.3]))


# -------------------------------------------------------------- report
def test_report_is_one_self_contained_html_file(tmp_path, adult_split, shuffled):
    train, _ = adult_split
    res, syn, _ = shuffled
    out = write_report(res, train, syn, tmp_path / "report.html")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert len(re.findall(r"<svg ", text)) >= len(train.columns) + 2 and "base64" not in text
    for col in train.columns:
        assert col in text
    assert "src=\"http" not in text and "<script" not in text  # nothing fetched from elsewhere


def test_report_with_mixed_dtypes_and_bad_path(tmp_path):
    rng = np.random.default_rng(0)
    n = 200
    df = pd.DataFrame({
        "when": pd.Timestamp("2021-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s"),
        "n": pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(0, 9, n)), dtype="Int64"),
        "flag": pd.array(np.where(rng.random(n) < 0.1, None, rng.random(n) < 0.5), dtype="boolean"),
        "<b>name</b>": pd.Series(rng.choice(["x", "y", None], n), dtype="str"),
    })
    syn = df.sample(frac=1.0, random_state=1).reset_index(drop=True)
    res = evaluate(df, syn, sections=["fidelity", "detection", "privacy"])
    json.dumps(res, allow_nan=False)
    text = write_report(res, df, syn, tmp_path / "r.html").read_text()
    assert "&lt;b&gt;name&lt;/b&gt;" in text and "<b>name</b>" not in text
    with pytest.raises(InputError, match="does not exist"):
        write_report(res, df, syn, tmp_path / "missing" / "r.html")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_awkward_columns_do_not_sink_the_evaluation():
    # integer column labels, an all-missing column, an ID-like column, a constant synthetic column
    rng = np.random.default_rng(0)
    n = 600
    df = pd.DataFrame({0: rng.normal(size=n), 1: rng.choice(list("abc"), n), 2: np.nan,
                       3: [f"id{i}" for i in range(n)], 4: rng.integers(0, 2, n)})
    syn = df.copy()
    syn[0] = 1.0
    syn[3] = [f"new{i}" for i in range(n)]
    res = evaluate(df, syn, target=4, models=["logistic_regression", "gradient_boosting"], seeds=(0,))
    json.dumps(res, allow_nan=False)
    assert res["fidelity"]["columns"]["2"]["score"] is None  # no observed value on either side
    assert res["fidelity"]["validity"]["columns"]["3"]["in_categories"] == 0.0
    assert all("errors" not in m for m in res["utility"]["models"].values())
    assert res["detection"]["gradient_boosting"] > 0.9
    assert res["privacy"]["exact_copies"] == 0.0


def test_summary_warns_when_synthetic_rows_sit_closer_than_chance():
    """DCR closer above parity by more than three standard errors warns, even with the median ratio fine."""
    base = {"exact_copies": 0.0, "exact_copies_holdout": 0.0, "dcr_ratio": 0.98, "dcr_synthetic_median": 0.10,
            "dcr_holdout_median": 0.102, "query_rows": {"synthetic": 5000, "holdout": 3000}}
    close = summary_table({"privacy": {**base, "dcr_closer": 0.56}})
    assert "WARNING" in close and "closer to the training rows" in close and "DCR closer 0.560" in close
    assert "WARNING" not in summary_table({"privacy": {**base, "dcr_closer": 0.51}})  # within the noise
    few = {**base, "query_rows": {"synthetic": 300, "holdout": 200}}
    assert "WARNING" not in summary_table({"privacy": {**few, "dcr_closer": 0.56}})  # 0.56 is noise at 300 / 200


def test_summary_docstring_examples():
    import doctest

    import tabsynth.evaluate._summary

    assert doctest.testmod(tabsynth.evaluate._summary).failed == 0
