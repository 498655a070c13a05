import numpy as np
import pandas as pd
import pytest

from tabsynth import Synthesizer
from tabsynth.backends import available, get_backend_class
from tabsynth.backends.gmm import GMMBackend
from tabsynth.encoding import Encoded, Layout
from tabsynth.errors import InputError


def _gaussian(n=4000, rho=0.8, seed=0):
    rng = np.random.default_rng(seed)
    cov = np.array([[1.0, rho], [rho, 1.0]])
    z = rng.multivariate_normal([0, 0], cov, size=n).astype("float32")
    return Encoded(z, np.zeros((n, 0), dtype="int64"), Layout(2, [], []))


def test_registry():
    assert "gmm" in available()
    assert get_backend_class("gmm") is GMMBackend
    with pytest.raises(InputError, match="unknown backend 'nope'"):
        get_backend_class("nope")


def test_conditional_gaussian_is_exact():
    data = _gaussian()
    g = GMMBackend(n_components=1).fit(data, rng=np.random.default_rng(0))
    n = 20000
    given = Encoded(np.tile(np.array([[1.5, 0.0]], "float32"), (n, 1)), np.zeros((n, 0), "int64"), data.layout,
                    mask_num=np.tile([True, False], (n, 1)), mask_cat=np.zeros((n, 0), bool))
    out = g.sample(n, given=given, rng=np.random.default_rng(1))
    assert np.all(out.x_num[:, 0] == 1.5)  # observed cells unchanged
    # E[z2 | z1=1.5] = 0.8 * 1.5, Var = 1 - 0.64
    assert abs(out.x_num[:, 1].mean() - 1.2) < 0.03
    assert abs(out.x_num[:, 1].var() - 0.36) < 0.03


def test_categorical_conditioning_selects_components():
    rng = np.random.default_rng(0)
    n = 3000
    c = rng.integers(0, 2, n)
    z = (np.where(c == 1, 5.0, -5.0) + rng.normal(size=n)).astype("float32")[:, None]
    data = Encoded(z, c[:, None].astype("int64"), Layout(1, [2], [False]))
    g = GMMBackend(n_components="auto").fit(data, rng=rng)
    assert g.n_components_ >= 2
    m = 2000
    given = Encoded(np.zeros((m, 1), "float32"), np.ones((m, 1), "int64"), data.layout,
                    mask_num=np.zeros((m, 1), bool), mask_cat=np.ones((m, 1), bool))
    out = g.sample(m, given=given, rng=rng)
    assert abs(out.x_num[:, 0].mean() - 5.0) < 0.2
    # and the reverse: numbers tell the category
    given = Encoded(np.full((m, 1), -5.0, "float32"), np.zeros((m, 1), "int64"), data.layout,
                    mask_num=np.ones((m, 1), bool), mask_cat=np.zeros((m, 1), bool))
    assert (g.sample(m, given=given, rng=rng).x_cat[:, 0] == 0).mean() > 0.99


def test_exclude_missing_never_draws_the_missing_code():
    rng = np.random.default_rng(0)
    n = 2000
    c = np.where(rng.random(n) < 0.5, 2, rng.integers(0, 2, n))  # code 2 = missing, half the rows
    data = Encoded(np.zeros((n, 0), "float32"), c[:, None].astype("int64"), Layout(0, [3], [True]))
    g = GMMBackend(n_components=1).fit(data, rng=rng)
    given = Encoded(np.zeros((n, 0), "float32"), np.zeros((n, 1), "int64"), data.layout,
                    mask_num=np.zeros((n, 0), bool), mask_cat=np.zeros((n, 1), bool), exclude_missing=True)
    assert (g.sample(n, given=given, rng=rng).x_cat == 2).sum() == 0
    given.exclude_missing = False
    assert 0.4 < (g.sample(n, given=given, rng=rng).x_cat == 2).mean() < 0.6


def test_unconditional_sample_matches_correlation_and_state_round_trip():
    data = _gaussian(rho=-0.6)
    g = GMMBackend().fit(data, rng=np.random.default_rng(0))
    s = g.sample(20000, rng=np.random.default_rng(1))
    assert abs(np.corrcoef(s.x_num.T)[0, 1] + 0.6) < 0.03
    meta, arrays = g.get_state()
    g2 = GMMBackend.from_state(g.get_params(), meta, arrays)
    s2 = g2.sample(100, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(g.sample(100, rng=np.random.default_rng(5)).x_num, s2.x_num)


def test_params_are_plain_keywords():
    g = GMMBackend(n_components=3, max_iter=10)
    assert g.get_params()["n_components"] == 3
    g.set_params(max_iter=5)
    assert g.max_iter == 5


def test_class_column_fits_each_class_on_its_own():
    """A 5% class whose numbers differ from the majority's: drawn given the class, rows follow it."""
    rng = np.random.default_rng(0)
    n = 400
    c = (rng.random(n) < 0.05).astype("int64")
    z = np.column_stack([np.where(c == 1, 3.0, 0.0) + rng.normal(size=n),
                         np.where(c == 1, -2.0, 0.0) + rng.normal(size=n)]).astype("float32")
    data = Encoded(z, c[:, None], Layout(2, [2], [False]))
    g = GMMBackend(class_column=0).fit(data, rng=np.random.default_rng(0))
    assert abs(g.weights_.sum() - 1.0) < 1e-9
    assert abs(g.weights_[g.thetas_[0][:, 1] > 0.5].sum() - c.mean()) < 1e-9
    assert np.all(g.thetas_[0].max(axis=1) > 1 - 1e-9)  # each component belongs to one class
    m = 3000
    given = Encoded(np.zeros((m, 2), "float32"), np.ones((m, 1), "int64"), data.layout,
                    mask_num=np.zeros((m, 2), bool), mask_cat=np.ones((m, 1), bool))
    out = g.sample(m, given=given, rng=np.random.default_rng(1))
    assert abs(out.x_num[:, 0].mean() - z[c == 1, 0].mean()) < 0.3
    assert abs(out.x_num[:, 1].mean() - z[c == 1, 1].mean()) < 0.3
    meta, arrays = g.get_state()
    g2 = GMMBackend.from_state(g.get_params(), meta, arrays)
    np.testing.assert_array_equal(g2.sample(50, rng=np.random.default_rng(2)).x_num,
                                  g.sample(50, rng=np.random.default_rng(2)).x_num)
    with pytest.raises(InputError, match="class_column"):
        GMMBackend(class_column=-1).fit(data, rng=np.random.default_rng(0))


def test_small_wide_table_keeps_the_class_dependence():
    # 569 tumours x 30 measurements: unshrunk full covariances overfit, the held-out choice was one component
    # and synthetic malignant and benign tumours had the same mean radius (a downstream AUC near 0.5)
    from sklearn.datasets import load_breast_cancer

    raw = load_breast_cancer(as_frame=True)
    df = raw.frame.drop(columns="target")
    df["diagnosis"] = pd.Series(raw.target_names[raw.target], dtype=object)
    syn = Synthesizer("gmm", random_state=0).fit(df)
    assert syn.backend_.n_components_ > 1 and syn.backend_.shrinkage_ > 0
    out = syn.sample(2000, seed=1)
    real = df.groupby("diagnosis")["mean radius"].mean()
    drawn = out.groupby("diagnosis")["mean radius"].mean()
    assert real["malignant"] - real["benign"] > 5
    assert abs((drawn["malignant"] - drawn["benign"]) - (real["malignant"] - real["benign"])) < 1.5
    fixed = Synthesizer("gmm", random_state=0, shrinkage=0.0).fit(df)
    assert fixed.backend_.shrinkage_ == 0.0
    with pytest.raises(InputError, match="shrinkage"):
        Synthesizer("gmm", shrinkage="big").fit(df)
