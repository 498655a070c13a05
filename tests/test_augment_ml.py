"""Augmentation for machine learning: --target / --balance / --class-ratio / --given / --check."""

import json

import numpy as np
import pandas as pd
import pytest

from tabsynth import augment
from tabsynth.augmentation import CheckFailed, check_augmentation, class_plan, given_values, run_augment
from tabsynth.cli import main
from tabsynth.errors import InputError
from tabsynth.schema import infer_schema

FAST = {"vae": {"epochs": 2}, "gan": {"epochs": 2}, "gmm": {}, "trees": {}}


def run(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def skewed(n: int = 400, seed: int = 0, cut: float = 1.3) -> pd.DataFrame:
    """A binary target that depends on x (a 10% minority; about 27% with ``cut=0.6``); a category, an
    integer, a nullable float."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = np.where(x + rng.normal(scale=0.4, size=n) > cut, "yes", "no")
    return pd.DataFrame({
        "x": x,
        "k": rng.integers(0, 60, n),
        "c": rng.choice(["u", "v", "w"], n),
        "m": np.where(rng.random(n) < 0.1, np.nan, rng.gamma(2.0, size=n)),
        "y": y,
    })


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "train.parquet"
    skewed().to_parquet(path)
    return path


# ---------------------------------------------------------------- planning
def test_class_plan_balance_ratio_and_proportions():
    y = pd.Series(["a"] * 60 + ["b"] * 30 + ["c"] * 10 + [None] * 5)
    assert class_plan(y, balance=True) == {"a": 0, "b": 30, "c": 50}
    assert class_plan(y, class_ratio=0.5) == {"a": 0, "b": 0, "c": 20}
    plan = class_plan(y, n_new=7)
    assert sum(plan.values()) == 7 and plan == {"a": 4, "b": 2, "c": 1}
    assert class_plan(y, n_new=0) == {"a": 0, "b": 0, "c": 0}


# ---------------------------------------------------------------- python API
@pytest.mark.parametrize("backend", ["gmm", "vae", "gan", "trees"])
def test_balance_every_backend_keeps_real_rows_and_dtypes(backend):
    df = skewed()
    out = augment(df, target="y", balance=True, backend=backend, seed=0, **FAST[backend])
    pd.testing.assert_frame_equal(out.iloc[: len(df)], df)
    assert out["y"].value_counts().to_dict() == {"no": int((df["y"] == "no").sum())} | {
        "yes": int((df["y"] == "no").sum())}
    assert (out.dtypes == df.dtypes).all()
    syn = out.iloc[len(df):]
    assert (syn["k"] == syn["k"].round()).all()


@pytest.mark.parametrize("backend", ["gmm", "vae", "gan", "trees"])
def test_class_ratio_and_given_every_backend(backend):
    df = skewed()
    n_no = int((df["y"] == "no").sum())
    out, info = run_augment(df, target="y", class_ratio=0.5, given={"c": "w"}, backend=backend, seed=0,
                            **FAST[backend])
    syn = out.iloc[len(df):]
    assert info["per_class"] == {"no": 0, "yes": int(round(0.5 * n_no)) - int((df["y"] == "yes").sum())}
    assert (syn["y"] == "yes").all() and (syn["c"] == "w").all()
    assert (out.dtypes == df.dtypes).all()


def test_target_keeps_proportions_with_rows():
    df = skewed()
    out, info = run_augment(df, target="y", rows=100, seed=0)
    share = (df["y"] == "yes").mean()
    assert info["per_class"]["yes"] == int(round(100 * share))
    assert out.iloc[len(df):]["y"].value_counts().to_dict() == {k: v for k, v in info["per_class"].items() if v}


def test_minority_rows_follow_their_class():
    """Rows drawn for the minority class look like the real minority (its x is high), not like the majority."""
    df = skewed(1000)
    out = augment(df, target="y", balance=True, seed=0, synthetic_only=True)
    assert out["x"].mean() > df.loc[df["y"] == "yes", "x"].mean() - 0.3
    assert out["x"].mean() > df.loc[df["y"] == "no", "x"].mean() + 1.0


def test_same_seed_same_rows():
    df = skewed()
    a = augment(df, target="y", balance=True, given={"c": "u"}, seed=3)
    b = augment(df, target="y", balance=True, given={"c": "u"}, seed=3)
    pd.testing.assert_frame_equal(a, b)


def test_given_values_parse_and_refuse():
    df = skewed()
    schema = infer_schema(df)
    assert given_values(schema, {"x": "0.5", "c": "v", "k": "12"}) == {"x": 0.5, "c": "v", "k": 12.0}
    for bad, words in [({"nope": "1"}, "unknown column 'nope'"), ({"c": "zz"}, "never seen in column 'c'"),
                       ({"x": "abc"}, "not a number"), ({"k": "500"}, "outside the range"),
                       ({"k": "1.5"}, "not a whole number"), ({"c": ""}, "no value for column 'c'")]:
        with pytest.raises(InputError, match=words):
            given_values(schema, bad)


def test_api_errors():
    df = skewed()
    with pytest.raises(InputError, match="balance needs target"):
        augment(df, balance=True)
    with pytest.raises(InputError, match="balance and rows are exclusive"):
        augment(df, target="y", balance=True, rows=10)
    with pytest.raises(InputError, match="need class labels"):
        augment(df, target="x", balance=True)
    with pytest.raises(InputError, match="single class"):
        augment(df.assign(y="no"), target="y", balance=True)
    with pytest.raises(InputError, match="unknown column"):
        augment(df, target="nope", balance=True)
    with pytest.raises(InputError, match="fixes the target"):
        augment(df, target="y", given={"y": "yes"})
    with pytest.raises(InputError, match=r"class_ratio=1\.5: give a number in \(0, 1\]"):
        augment(df, target="y", class_ratio=1.5)


# ---------------------------------------------------------------- the gate
def test_check_passes_a_good_augmentation():
    # (on a few hundred rows with a 10% minority the held-out AUC moves by a few hundredths either way:
    # the gate is for tables large enough to measure on)
    df = skewed(1500, cut=0.6)
    out, info = run_augment(df, target="y", balance=True, check=True, seed=0)
    rep = info["check"]
    assert rep["passed"] and set(rep["models"]) == {"logistic_regression", "gradient_boosting"}
    assert rep["rows"]["holdout"] == 300
    assert len(out) > len(df)
    pd.testing.assert_frame_equal(out.iloc[: len(df)], df)


@pytest.mark.parametrize("backend", ["vae", "gan", "trees"])
def test_check_gate_runs_through_every_backend(backend):
    """The gate fits, compares and reports with each backend (briefly trained neural ones may pass or fail)."""
    df = skewed(1500, cut=0.6)
    try:
        out, info = run_augment(df, target="y", balance=True, check=True, backend=backend, seed=0, **FAST[backend])
        rep = info["check"]
        pd.testing.assert_frame_equal(out.iloc[: len(df)], df)
        assert rep["passed"]
    except CheckFailed as e:
        rep = e.report
        assert not rep["passed"]
    assert set(rep["models"]) == {"logistic_regression", "gradient_boosting"}
    assert rep["rows"]["holdout"] == 300
    assert all(np.isfinite(m["change"]) for m in rep["models"].values())


def test_check_fails_shuffled_labels():
    df = skewed(1500, cut=0.6)
    train, holdout = df.iloc[:1200], df.iloc[1200:]
    good = augment(train, target="y", ratio=2.0, seed=0, synthetic_only=True)
    bad = good.assign(y=np.random.default_rng(0).permutation(good["y"].to_numpy()))
    assert check_augmentation(train, good, holdout, "y", models=["gradient_boosting"])["passed"]
    rep = check_augmentation(train, bad, holdout, "y", models=["gradient_boosting"])
    assert not rep["passed"] and rep["models"]["gradient_boosting"]["change"] < -0.01


def test_check_failure_raises_with_report(monkeypatch):
    from tabsynth.synthesizer import Synthesizer

    real_batches = Synthesizer.sample_batches

    def flipped(self, n, **kwargs):  # a harmful generator: every label wrong
        for out in real_batches(self, n, **kwargs):
            out["y"] = out["y"].map({"yes": "no", "no": "yes"})
            yield out

    monkeypatch.setattr(Synthesizer, "sample_batches", flipped)
    with pytest.raises(CheckFailed, match="logistic_regression") as exc:
        augment(skewed(600), target="y", ratio=2.0, check=True, seed=0)
    assert not exc.value.report["passed"]


# ---------------------------------------------------------------- CLI
def test_cli_balance_json(capsys, table):
    out_path = table.with_name("out.parquet")
    code, out, err = run(capsys, "augment", str(table), "--target", "y", "--balance", "--seed", "0", "--json",
                         "-o", str(out_path))
    assert code == 0, err
    doc = json.loads(out)
    df, res = pd.read_parquet(table), pd.read_parquet(out_path)
    assert doc["rows_per_class"] == {"no": 0, "yes": int((df["y"] == "no").sum() - (df["y"] == "yes").sum())}
    pd.testing.assert_frame_equal(res.iloc[: len(df)], df)
    assert res["y"].value_counts()["yes"] == res["y"].value_counts()["no"]


def test_cli_given_repeatable_and_sample(capsys, table, tmp_path):
    out_path = tmp_path / "g.csv"
    code, _, err = run(capsys, "augment", str(table), "--given", "c=v", "--given", "k=7", "--rows", "30",
                       "--synthetic-only", "--seed", "0", "-q", "-o", str(out_path))
    assert code == 0, err
    res = pd.read_csv(out_path)
    assert len(res) == 30 and (res["c"] == "v").all() and (res["k"] == 7).all()
    model = tmp_path / "m.tabsynth"
    assert run(capsys, "fit", str(table), "-o", str(model), "--seed", "0", "-q")[0] == 0
    code, _, err = run(capsys, "sample", str(model), "--rows", "20", "--given", "c=u,y=yes", "--seed", "1", "-q",
                       "-o", str(tmp_path / "s.parquet"))
    assert code == 0, err
    s = pd.read_parquet(tmp_path / "s.parquet")
    assert (s["c"] == "u").all() and (s["y"] == "yes").all()
    code, _, err = run(capsys, "sample", str(model), "--rows", "5", "--given", "c=nope", "-o",
                       str(tmp_path / "t.parquet"))
    assert code == 2 and "never seen in column 'c'" in err and not (tmp_path / "t.parquet").exists()


@pytest.mark.parametrize("args, words", [
    (["--target", "nope", "--balance"], "unknown column"),
    (["--target", "x", "--balance"], "need class labels"),
    (["--balance"], "needs --target"),
    (["--target", "y", "--balance", "--class-ratio", "0.5"], "exclusive"),
    (["--target", "y", "--class-ratio", "0"], "--class-ratio"),
    (["--given", "nope=1"], "unknown column 'nope'"),
    (["--given", "c=zz"], "never seen"),
    (["--given", "c"], "COLUMN=VALUE"),
    (["--target", "y", "--check", "--tolerance", "-0.1"], "--tolerance"),
    (["--target", "y", "--check", "--check-models", "forest"], "unknown model"),
    (["--check"], "needs --target"),
])
def test_cli_bad_input(capsys, table, tmp_path, args, words):
    out_path = tmp_path / "o.parquet"
    code, out, err = run(capsys, "augment", str(table), "-o", str(out_path), *args)
    assert code == 2, err
    assert words in err and err.count("\n") == 1
    assert not out_path.exists()


def test_cli_single_class(capsys, tmp_path):
    path = tmp_path / "one.csv"
    skewed().assign(y="no").to_csv(path, index=False)
    code, _, err = run(capsys, "augment", str(path), "--target", "y", "--balance", "-o", str(tmp_path / "o.csv"))
    assert code == 2 and "single class" in err


def test_cli_check_pass_prints_comparison(capsys, tmp_path):
    table, out_path = tmp_path / "big.parquet", tmp_path / "checked.parquet"
    skewed(1500, cut=0.6).to_parquet(table)
    code, out, err = run(capsys, "augment", str(table), "--target", "y", "--balance", "--check", "--seed", "0",
                         "-o", str(out_path))
    assert code == 0, err
    assert "check passed" in out and "logistic_regression" in out
    assert out_path.exists()


def test_cli_check_fail_exit_3_writes_nothing(capsys, table, monkeypatch):
    from tabsynth.synthesizer import Synthesizer

    real_batches = Synthesizer.sample_batches

    def flipped(self, n, **kwargs):
        for out in real_batches(self, n, **kwargs):
            out["y"] = out["y"].map({"yes": "no", "no": "yes"})
            yield out

    monkeypatch.setattr(Synthesizer, "sample_batches", flipped)
    out_path = table.with_name("never.parquet")
    code, out, err = run(capsys, "augment", str(table), "--target", "y", "--ratio", "2", "--check", "--seed", "0",
                         "--json", "-o", str(out_path))
    assert code == 3
    assert "lowers held-out roc_auc" in err and err.count("\n") == 1
    assert not json.loads(out)["check"]["passed"]
    assert not out_path.exists()


def test_labels_with_their_own_spaces():
    """adult's labels are " <=50K" / " >50K" (a space in front): the class plan uses them as they are."""
    df = skewed(300)
    df["y"] = " " + df["y"].astype(str)
    out = augment(df, target="y", balance=True, seed=0)
    assert set(out["y"]) == {" yes", " no"}
    assert out["y"].value_counts()[" yes"] == out["y"].value_counts()[" no"]
