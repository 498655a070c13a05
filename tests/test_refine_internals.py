"""Internals of the refinement that the figures rest on."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from tabsynth._refine import Refiner, _truncated


def test_truncated_model_equals_a_shorter_fit():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 4))
    y = X[:, 0] + rng.normal(size=600)
    long = HistGradientBoostingRegressor(max_iter=40, early_stopping=False, random_state=0).fit(X, y)
    short = HistGradientBoostingRegressor(max_iter=15, early_stopping=False, random_state=0).fit(X, y)
    cut = _truncated(long, 15)
    assert cut is not None and cut.n_iter_ == 15
    np.testing.assert_array_equal(cut.predict(X), short.predict(X))
    c = (y > 0).astype(int)
    clf = _truncated(HistGradientBoostingClassifier(max_iter=30, early_stopping=False, random_state=0).fit(X, c), 7)
    ref = HistGradientBoostingClassifier(max_iter=7, early_stopping=False, random_state=0).fit(X, c)
    np.testing.assert_array_equal(clf.predict_proba(X), ref.predict_proba(X))


def test_rare_classes_do_not_take_over():
    """A column with one common class (90%) and 40 classes seen a few times each: the refinement
    must not predict rare classes for rows it cannot tell apart (unpooled boosting did, scoring
    below always guessing the common class)."""
    rng = np.random.default_rng(1)
    n = 3000
    x = rng.normal(size=(n, 3))
    country = np.where(rng.random(n) < 0.9, 0, rng.integers(1, 41, n)).astype(float)
    X = np.column_stack([x, country])
    holes = rng.random(n) < 0.2
    X_missing = X.copy()
    X_missing[holes, 3] = np.nan
    model = Refiner(random_state=0).fit(X_missing, np.array([False, False, False, True]), np.array([0, 0, 0, 41]), [3])
    guess = model.predict(X_missing)[holes, 3]
    assert (guess == X[holes, 3]).mean() >= (X[holes, 3] == 0).mean() - 0.01
    draws = model.draw(X_missing, np.random.default_rng(0), {})[holes, 3]
    assert 0.8 < (draws == 0).mean() < 0.97  # draws keep rare classes at about their share


def test_rounds_keep_the_round_with_the_lowest_validation_loss():
    """Two rounds: each column is predicted by the round it chose, from that round's inputs."""
    rng = np.random.default_rng(0)
    n = 1500
    a = rng.normal(size=n)
    X = np.column_stack([a, a + 0.3 * rng.normal(size=n), a**2 + 0.3 * rng.normal(size=n), rng.normal(size=n)])
    holes = X.copy()
    holes[rng.random(X.shape) < 0.25] = np.nan
    p = X.shape[1]
    one = Refiner(rounds=1, random_state=0).fit(holes, np.zeros(p, bool), np.zeros(p, int), list(range(p)))
    two = Refiner(rounds=2, random_state=0).fit(holes, np.zeros(p, bool), np.zeros(p, int), list(range(p)))
    assert len(one.rounds_) == 1 and len(two.rounds_) == 2
    assert set(two.round_of_) == set(range(p)) and set(two.round_of_.values()) <= {0, 1}
    pred = two.predict(holes)
    miss = np.isnan(holes)
    np.testing.assert_array_equal(pred[~miss], holes[~miss])  # observed cells unchanged
    assert not np.isnan(pred).any()
    # round 0's models are the one-round refiner's
    np.testing.assert_array_equal(one.predict(holes), _as_one_round(two).predict(holes))


def _as_one_round(ref):
    """``ref`` reduced to its first round (every column predicted by round 0)."""
    import copy

    out = copy.copy(ref)
    out.rounds_ = ref.rounds_[:1]
    out.round_of_ = {j: 0 for j in ref.rounds_[0]}
    out.models_ = dict(ref.rounds_[0])
    return out


def test_bagged_column_models_average_their_members(monkeypatch):
    """bags=k: each column's model is the average of k boosted models early-stopped on different held-out rows."""
    from tabsynth._refine import _Bag

    rng = np.random.default_rng(3)
    n = 800
    x = rng.normal(size=n)
    c = (x + rng.normal(scale=0.5, size=n) > 0).astype(float)
    X = np.column_stack([x, 2 * x + rng.normal(scale=0.3, size=n), c])
    X[rng.random(n) < 0.2, 1] = np.nan
    X[rng.random(n) < 0.2, 2] = np.nan
    is_cat, cards = np.array([False, False, True]), np.array([0, 0, 2])
    bagged = Refiner(random_state=0, bags=3).fit(X, is_cat, cards, [1, 2])
    single = Refiner(random_state=0).fit(X, is_cat, cards, [1, 2])
    for j in (1, 2):
        model = bagged.models_[j]
        if isinstance(model, _Bag):  # (a ridge may win a numeric column: then there is nothing to average)
            assert len(model.models) == 3
            F, _ = bagged._frame(bagged._filled(X, bagged.mixture_.features(X, [0, 1, 2])), j,
                                 bagged.mixture_.features(X, [j])[j])
            if is_cat[j]:
                np.testing.assert_allclose(model.predict_proba(F), np.mean([m.predict_proba(F) for m in model.models], 0))
            else:
                np.testing.assert_allclose(model.predict(F), np.mean([m.predict(F) for m in model.models], 0))
    assert isinstance(bagged.models_[2], _Bag) and not isinstance(single.models_[2], _Bag)
    filled = bagged.predict(X)
    assert not np.isnan(filled).any() and set(np.unique(filled[:, 2])) <= {0.0, 1.0}

    # the imputer bags on small tables only
    import pandas as pd

    import tabsynth.impute as I
    from tabsynth import GenerativeImputer

    df = pd.DataFrame(X, columns=["a", "b", "c"])
    assert isinstance(GenerativeImputer(random_state=0).fit(df).refiner_.models_[2], _Bag)
    monkeypatch.setattr(I, "BAGS_MAX_ROWS", 500)
    assert not isinstance(GenerativeImputer(random_state=0).fit(df).refiner_.models_[2], _Bag)
