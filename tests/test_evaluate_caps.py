"""Utility row caps, shared features and single-pass predictions (what keeps ``evaluate`` on adult fast)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tabsynth.errors import InputError
from tabsynth.evaluate import evaluate, utility
from tabsynth.evaluate._columns import preprocessor
from tabsynth.evaluate.utility import MAX_TRAIN_ROWS, _class_scores, _Data, _estimator, sample_rows


def _table(n: int, seed: int, classes=("no", "yes")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.normal(size=n), "z": rng.integers(0, 50, n).astype(float),
                       "c": rng.choice(["b", "a", "Z", "ä"], n), "d": rng.choice(["u", "v", None], n)})
    score = df["x"] + (df["c"] == "a") + rng.normal(scale=0.7, size=n)
    df["y"] = np.asarray(classes, dtype=object)[np.digitize(score, np.quantile(score, np.linspace(0, 1, len(classes) + 1)[1:-1]))]
    return df


# ------------------------------------------------------------ sample_rows
def test_sample_rows_is_stratified_seeded_and_keeps_rare_classes():
    y = np.array(["a"] * 900 + ["b"] * 97 + ["c"] * 2 + ["d"])
    idx = sample_rows(y, 100, 3, stratify=True)
    assert len(idx) == 100 and len(np.unique(idx)) == 100 and np.all(np.diff(idx) > 0)
    counts = pd.Series(y[idx]).value_counts()
    assert counts["a"] in (89, 90) and counts["b"] in (9, 10) and counts["c"] == 1 and counts["d"] == 1
    assert np.array_equal(idx, sample_rows(y, 100, 3, stratify=True))
    assert not np.array_equal(idx, sample_rows(y, 100, 4, stratify=True))
    assert np.array_equal(sample_rows(y, None, 0, stratify=True), np.arange(len(y)))
    assert np.array_equal(sample_rows(y, 5000, 0, stratify=True), np.arange(len(y)))
    assert len(sample_rows(np.arange(300.0), 40, 0, stratify=False)) == 40


def test_sample_rows_with_more_classes_than_rows_asked():
    y = np.repeat(np.arange(30), 3).astype(str)
    idx = sample_rows(y, 10, 0, stratify=True)
    assert len(idx) == 10 and len(np.unique(idx)) == 10


# ------------------------------------------------------------------ caps
def test_caps_are_applied_reported_and_augmented_is_both_capped_parts():
    train, syn, hold = _table(600, 0), _table(500, 1), _table(300, 2)
    res = utility(train, syn, hold, "y", models=["logistic_regression", "random_forest", "svm", "mlp"], seeds=(0, 1),
                  max_train_rows={"random_forest": 200, "svm": 100})
    m = res["models"]
    assert m["random_forest"]["train_rows"] == {"real": 200, "synthetic": 200, "augmented": 400}
    assert m["svm"]["train_rows"] == {"real": 100, "synthetic": 100, "augmented": 200}
    assert m["logistic_regression"]["train_rows"] == {"real": 600, "synthetic": 500, "augmented": 1100}
    assert m["mlp"]["train_rows"]["real"] == 600  # default cap 10,000 not reached
    assert res["max_train_rows"] == {"logistic_regression": None, "random_forest": 200, "svm": 100,
                                     "mlp": MAX_TRAIN_ROWS["mlp"]}
    assert any("random forest on at most 200" in n and "SVM on at most 100" in n for n in res["notes"])
    assert m["mlp"]["seeds"] == [0, 1] and m["random_forest"]["seeds"] == [0]
    for name in ("random_forest", "svm"):
        assert 0.6 < m[name]["real"] <= 1.0


def test_no_cap_means_every_row():
    train, syn, hold = _table(400, 0), _table(300, 1), _table(200, 2)
    res = utility(train, syn, hold, "y", models=["svm"], max_train_rows={"svm": None})
    assert res["models"]["svm"]["train_rows"] == {"real": 400, "synthetic": 300, "augmented": 700}
    assert not any("at most" in n for n in res["notes"])


@pytest.mark.parametrize("caps, match", [
    ({"forest": 10}, "unknown model 'forest' in max_train_rows"),
    ({"svm": 0}, r"max_train_rows\['svm'\]=0 is not valid"),
    ({"svm": 2.5}, "integer >= 10"),
    ({"svm": True}, "integer >= 10"),
    ([("svm", 10)], r"max_train_rows.*(pass|give) a dict"),
])
def test_bad_caps_are_named(caps, match):
    df = _table(100, 0)
    with pytest.raises(InputError, match=match):
        utility(df, df, df, "y", models=["svm"], max_train_rows=caps)
    with pytest.raises(InputError, match=match):
        evaluate(df, df, df, "y", models=["svm"], max_train_rows=caps)


def test_capped_results_are_deterministic():
    train, syn, hold = _table(500, 0), _table(500, 1), _table(300, 2)
    kw = dict(models=["random_forest", "svm", "mlp"], seeds=(0, 1), max_train_rows={"random_forest": 150, "svm": 150,
                                                                                      "mlp": 150})
    a, b = (utility(train, syn, hold, "y", **kw) for _ in range(2))
    for name in kw["models"]:
        assert a["models"][name]["metrics"] == b["models"][name]["metrics"]


# -------------------------------------------------- shared features, predictions
def test_integer_coded_features_equal_the_string_features():
    train, syn, hold = _table(400, 0), _table(300, 1), _table(200, 2)
    hold.loc[0, "c"] = "unseen"
    data = _Data(train, syn, hold, "y", "classification", 0)
    for which in ("real", "augmented"):
        for encoding in ("onehot", "ordinal"):
            pre = preprocessor(data.kinds, data.features, encoding=encoding).fit(data.X[which])
            Z, Zt = data.encoded(which, encoding)
            assert np.array_equal(Z, pre.transform(data.X[which]))
            assert np.array_equal(Zt, pre.transform(data.X["holdout"]))
    Z32, _ = data.encoded("real", "onehot", "float32")
    Zs, _ = data.encoded("real", "onehot", "sparse")
    assert Z32.dtype == np.float32 and np.array_equal(Zs.toarray(), data.encoded("real", "onehot")[0])


@pytest.mark.parametrize("classes", [("no", "yes"), ("a", "b", "c")])
@pytest.mark.parametrize("name", ["logistic_regression", "decision_tree", "random_forest", "gradient_boosting",
                                  "svm", "mlp"])
def test_predictions_from_the_scores_equal_predict(name, classes):
    train, hold = _table(400, 0, classes), _table(300, 2, classes)
    data = _Data(train, train, hold, "y", "classification", 0)
    X, Xt = data.encoded("real", "ordinal" if name == "gradient_boosting" else "onehot")
    est = _estimator(name, "classification", 0, data.n_cat, None, len(X)).fit(X, data.y["real"])
    scores, pred = _class_scores(est, Xt, data.classes)
    assert scores.shape == (len(Xt), len(classes))
    assert np.array_equal(pred, est.predict(Xt))


def test_evaluate_runs_openmp_with_one_thread_in_a_fresh_process():
    code = (
        "import numpy as np, pandas as pd\n"
        "from threadpoolctl import threadpool_info\n"
        "from tabsynth.evaluate import evaluate\n"
        "df = pd.DataFrame({'x': np.arange(200.0), 'c': ['a', 'b'] * 100})\n"
        "seen = []\n"
        "evaluate(df, df, sections=['fidelity', 'detection'], progress=lambda s, i, n: seen.extend(\n"
        "    d['num_threads'] for d in threadpool_info() if d['internal_api'] == 'openmp'))\n"
        "print(max(seen))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "TABSYNTH_THREADS": "1"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"


def test_report_and_summary_say_how_many_rows_the_models_saw():
    from tabsynth.evaluate import summary_table
    from tabsynth.evaluate.report import render_report

    train, syn, hold = _table(400, 0), _table(300, 1), _table(200, 2)
    res = evaluate(train, syn, hold, "y", models=["logistic_regression", "svm"], sections=["utility"],
                   max_train_rows={"svm": 150})
    assert res["utility"]["max_train_rows"]["svm"] == 150
    page = render_report(res, train, syn)
    assert "rows trained on (real / synthetic)" in page and "<td>150 / 150</td>" in page
    assert "<td>400 / 300</td>" in page
    assert "SVM on at most 150 rows of each training table" in page
    assert "SVM on at most 150 rows" in summary_table(res)
