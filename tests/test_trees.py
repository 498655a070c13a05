"""The ``trees`` backend: a chain of CART trees sampled from their leaves."""

import numpy as np
import pandas as pd
import pytest

from tabsynth import GenerativeImputer, Synthesizer
from tabsynth.backends import available
from tabsynth.backends.trees import TreesBackend, _Tree
from tabsynth.encoding import Encoded, Layout
from tabsynth.errors import InputError


def _two_clusters(n: int = 1200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    g = rng.random(n) < 0.5
    return pd.DataFrame({"g": np.where(g, "up", "down"), "x": np.where(g, 5.0, -5.0) + rng.normal(size=n),
                         "y": rng.normal(size=n)})


def test_registered():
    assert "trees" in available()


def test_dtypes_ranges_and_missing_shares(mixed):
    out = Synthesizer("trees", random_state=0).fit(mixed).sample(3000, seed=1)
    assert list(out.columns) == list(mixed.columns)
    assert [str(t) for t in out.dtypes] == [str(t) for t in mixed.dtypes]
    assert out["i"].between(mixed["i"].min(), mixed["i"].max()).all()
    assert set(out["s"].dropna()) <= set(mixed["s"].dropna())
    for col in ["f", "ni", "nb", "ps"]:
        assert abs(out[col].isna().mean() - mixed[col].isna().mean()) < 0.04, col


def test_seeded_and_saved_without_pickle(mixed, tmp_path):
    a = Synthesizer("trees", random_state=0).fit(mixed)
    b = Synthesizer("trees", random_state=0).fit(mixed)
    pd.testing.assert_frame_equal(a.sample(200, seed=4), b.sample(200, seed=4))
    c = Synthesizer.load(a.save(tmp_path / "m.tabsynth"))
    pd.testing.assert_frame_equal(a.sample(200, seed=4), c.sample(200, seed=4))
    given = pd.DataFrame({"s": ["low"] * 50, "i": [40] * 50})
    pd.testing.assert_frame_equal(a.sample(50, seed=2, given=given), c.sample(50, seed=2, given=given))


def test_learns_the_dependency_and_conditions_on_any_column():
    """x depends on g: sampled rows, rows given g, rows given x and imputed cells must all show it."""
    df = _two_clusters()
    syn = Synthesizer("trees", random_state=0).fit(df)
    out = syn.sample(2000, seed=0)
    assert out.loc[out["g"] == "up", "x"].mean() - out.loc[out["g"] == "down", "x"].mean() > 9
    assert 0.45 < (out["g"] == "up").mean() < 0.55
    cond = syn.sample(300, given=pd.DataFrame({"g": ["up"] * 300}), seed=0)
    assert (cond["g"] == "up").all() and (cond["x"] > 0).mean() > 0.97
    # given a number, which comes after g in the chain: the Gibbs sweeps must carry it back to g
    back = syn.sample(300, given=pd.DataFrame({"x": [-5.0] * 300}), seed=0)
    assert (back["x"] == -5.0).all() and (back["g"] == "down").mean() > 0.97
    fill = syn.impute(pd.DataFrame({"g": ["up", "down"] * 50, "x": [np.nan] * 100, "y": [0.0] * 100}), seed=0)
    x = fill["x"].to_numpy()
    assert (x[0::2] > 0).mean() > 0.97 and (x[1::2] < 0).mean() > 0.97
    holes = pd.DataFrame({"g": [None] * 100, "x": [4.0, -4.0] * 50, "y": [0.0] * 100})
    g = syn.impute(holes, seed=0)["g"].to_numpy()
    assert (g[0::2] == "up").mean() > 0.97 and (g[1::2] == "down").mean() > 0.97


def test_imputer_keeps_observed_cells_and_never_draws_missing(mixed):
    holes = mixed.copy()
    rng = np.random.default_rng(0)
    for col in ["f", "i", "s", "nb", "ps"]:
        holes.loc[rng.random(len(holes)) < 0.3, col] = None
    imp = GenerativeImputer(backend="trees", strategy="sample", random_state=0).fit(holes)
    filled = imp.transform(holes)
    for col in ["f", "i", "s", "nb", "ps"]:
        known = holes[col].notna()
        assert filled.loc[known, col].astype(object).equals(holes.loc[known, col].astype(object))
        assert filled[col].notna().all(), col


def test_numbers_are_smoothed_not_replayed():
    """Two continuous columns: leaf values plus kernel noise, so rows do not copy training rows."""
    rng = np.random.default_rng(1)
    n = 2000
    a = rng.gamma(2.0, 1.0, n)
    df = pd.DataFrame({"c": rng.choice(["p", "q", "r"], n), "k": rng.integers(0, 3, n).astype(str),
                       "a": a, "b": a * 2 + rng.normal(0, 0.3, n)})
    syn = Synthesizer("trees", random_state=0).fit(df)
    out = syn.sample(n, seed=0)
    train = set(map(tuple, df.astype(str).to_numpy()))
    copies = np.mean([tuple(r) in train for r in out.astype(str).to_numpy()])
    assert copies < 0.005
    assert np.corrcoef(out["a"], out["b"])[0, 1] > 0.9
    # smoothing=0 replays leaf values: every encoded number then is a training value
    lay = Layout(2, [3], [False])
    enc = Encoded(rng.normal(size=(400, 2)).astype("float32"), rng.integers(0, 3, (400, 1)), lay)
    raw = TreesBackend(smoothing=0.0).fit(enc, rng=np.random.default_rng(0)).sample(300, rng=np.random.default_rng(1))
    assert np.isin(raw.x_num, enc.x_num).all()
    smooth = TreesBackend().fit(enc, rng=np.random.default_rng(0)).sample(300, rng=np.random.default_rng(1))
    # only a leaf's lowest and highest values can come back unchanged (half of the draws that pick them)
    assert np.isin(smooth.x_num, enc.x_num).mean() < 0.1


def test_tree_arrays_route_like_scikit_learn():
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3)).astype("float32")
    y = (X[:, 0] > 0.3) * 2.0 + X[:, 1]
    tree = _Tree.fit(X, np.array([0, 1, 2]), y.astype("float32"), 0, min_leaf=10, alpha=1.0, seed=0)
    ref = DecisionTreeRegressor(min_samples_leaf=10, random_state=0).fit(X, y.astype("float32"))
    assert tree._router() is not None                      # the compiled walk is used with this scikit-learn
    assert np.array_equal(tree.apply(X), ref.apply(X))
    assert np.array_equal(tree.walk(X), ref.apply(X))      # and the NumPy walk routes the same


def test_bad_params_and_broken_state():
    df = _two_clusters(60)
    for param, value in [("min_samples_leaf", 0), ("smoothing", -1.0), ("smoothing", 2.5), ("gibbs_sweeps", "x"), ("alpha", "a")]:
        with pytest.raises(InputError, match=f"parameter {param}="):
            Synthesizer("trees", **{param: value}).fit(df)
    lay = Layout(1, [2], [False])
    enc = Encoded(np.zeros((50, 1), "float32"), np.zeros((50, 1), "int64"), lay)
    model = TreesBackend().fit(enc, rng=np.random.default_rng(0))
    meta, arrays = model.get_state()
    arrays = dict(arrays)
    arrays["chain0_offsets"] = arrays["chain0_offsets"][:-1]
    with pytest.raises(ValueError, match="inconsistent"):
        TreesBackend.from_state({}, meta, arrays)
    # routing must end: a child numbered before its parent (a loop) or an inner node with one child is refused
    model = TreesBackend(min_samples_leaf=5).fit(Encoded(np.arange(50, dtype="float32")[:, None] % 7,
                                                         np.arange(50)[:, None] % 2, lay), rng=np.random.default_rng(0))
    meta, good = model.get_state()
    assert len(good["full0_left"]) > 1
    for key, value in [("full0_left", 0), ("full0_right", -1)]:
        arrays = dict(good)
        arrays[key] = arrays[key].copy()
        arrays[key][0] = value
        with pytest.raises(ValueError, match="inconsistent"):
            TreesBackend.from_state({}, meta, arrays)


def test_cli_augment_fit_sample_and_impute(cli, tmp_path):
    import json

    df = _two_clusters(400)
    src = tmp_path / "t.csv"
    df.to_csv(src, index=False)
    code, out, err = cli("augment", src, "-o", tmp_path / "a.csv", "--backend", "trees", "--target", "g", "--balance",
                         "--seed", "1", "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["backend"] == "trees"
    aug = pd.read_csv(tmp_path / "a.csv")
    pd.testing.assert_frame_equal(aug.iloc[: len(df)].reset_index(drop=True), pd.read_csv(src))
    code, _, err = cli("fit", src, "-o", tmp_path / "m.tabsynth", "--backend", "trees", "--param", "min_samples_leaf=10",
                       "-q")
    assert code == 0, err
    code, _, err = cli("sample", tmp_path / "m.tabsynth", "--rows", 50, "--given", "g=up", "-o", tmp_path / "s.csv",
                       "--seed", "2", "-q")
    assert code == 0, err
    s = pd.read_csv(tmp_path / "s.csv")
    assert len(s) == 50 and (s["g"] == "up").all() and (s["x"] > 0).mean() > 0.9
    code, _, err = cli("fit", src, "-o", tmp_path / "m2.tabsynth", "--backend", "trees", "--param", "smoothing=3")
    assert code == 2 and "smoothing" in err and "\n" not in err.strip()


def test_numbers_after_a_spike_follow_the_spike():
    """b is ~0 where a is its spike 0 and ~a elsewhere: rows drawn with a == 0 must get b ~ 0.

    (The trees learn from a filler constant in a's cell where a is a spike; a sampler that left a drawn
    regular value there would route those rows like regular ones and give them b ~ 5..10.)
    """
    rng = np.random.default_rng(0)
    n = 3000
    spike = rng.random(n) < 0.7
    a = np.where(spike, 0.0, rng.uniform(5, 10, n))
    df = pd.DataFrame({"a": a, "b": a + rng.normal(0, 0.1, n)})
    syn = Synthesizer("trees", random_state=0).fit(df)
    for out in (syn.sample(2000, seed=1), syn.sample(2000, seed=1, given=pd.DataFrame({"b": [None] * 2000}))):
        at_spike = out["a"] == 0
        assert 0.6 < at_spike.mean() < 0.8
        assert out.loc[at_spike, "b"].abs().mean() < 0.5


def test_conditional_draw_with_no_modelled_columns():
    # a lone text column leaves nothing to model: the encoded table has no columns, and conditioning on
    # (no) known cells must not fail (found by the hostile-table property test)
    df = pd.DataFrame({"": ["", "", "23"]})
    out = GenerativeImputer(random_state=0).fit_transform(df)
    assert out.equals(df)
    given = Synthesizer("trees", random_state=0).fit(df).impute(df)
    assert given.equals(df)


def test_target_goes_first_and_is_checked(cli, tmp_path):
    df = _two_clusters(600)
    df["y"] = np.where(df["x"] + 0.3 * df["y"] > 0, "pos", "neg")
    model = Synthesizer("trees", target="y", random_state=0).fit(df)
    y_code = model.encoder_.layout_.n_num + [c.spec.name for c in model.encoder_.cat_cols_].index("y")
    assert model.backend_.order_[0] == y_code                     # the class is drawn first
    assert Synthesizer("trees", random_state=0).fit(df).backend_.order_[0] != y_code
    model.save(tmp_path / "m.tabsynth")
    assert Synthesizer.load(tmp_path / "m.tabsynth").target == "y"
    with pytest.raises(InputError, match="target: unknown column\\(s\\) 'nope'"):
        Synthesizer("trees", target="nope").fit(df)
    df.to_csv(tmp_path / "t.csv", index=False)
    code, _, err = cli("fit", tmp_path / "t.csv", "-o", tmp_path / "n.tabsynth", "--backend", "trees", "--target", "y")
    assert code == 0, err
    assert Synthesizer.load(tmp_path / "n.tabsynth").backend_.order_[0] == y_code
    code, _, err = cli("fit", tmp_path / "t.csv", "-o", tmp_path / "z.tabsynth", "--target", "nope")
    assert code == 2 and err.count("\n") == 1 and "target: unknown column(s) 'nope'" in err


def test_small_pure_leaves_do_not_shift_a_column_share():
    # adult-like: a binary column late in the chain, nearly determined by one column for some values;
    # shrinking small pure leaves towards the column's marginal drew 0.9 points too few of the minority
    rng = np.random.default_rng(0)
    n = 20000
    rel = rng.choice(6, n, p=[.40, .25, .15, .11, .06, .03])
    female = rng.random(n) < np.array([0.0, .46, .45, .77, 1.0, .45])[rel]
    df = pd.DataFrame({**{f"c{k}": rng.choice(list("abcdef"), n) for k in range(4)},
                       "rel": np.array(list("HNOUWR"))[rel], "sex": np.where(female, "F", "M")})
    shares = [(Synthesizer("trees", random_state=s, min_samples_leaf=30).fit(df).sample(n, seed=s)["sex"] == "F").mean()
              for s in range(3)]
    assert abs(np.mean(shares) - female.mean()) < 0.005


def test_leaf_draws_are_stratified():
    from tabsynth.backends.trees import _stratified_by

    rng = np.random.default_rng(0)
    group = rng.integers(0, 3, 3000)
    order, g_sorted, u = _stratified_by(group, 3, rng)
    assert np.array_equal(np.sort(order), np.arange(3000)) and np.array_equal(group[order], g_sorted)
    assert ((u >= 0) & (u < 1)).all()
    for g in range(3):
        k = (group == g).sum()
        # one draw in each of the k strata of [0, 1), ascending, the strata in a random order of the rows
        assert np.array_equal(np.floor(u[g_sorted == g] * k), np.arange(k))
        assert not np.array_equal(order[g_sorted == g], np.flatnonzero(group == g))
    # a single-category table column: the drawn shares match the fitted ones to a row
    df = pd.DataFrame({"c": np.repeat(["a", "b", "c"], [5000, 3000, 2000])})
    from tabsynth.synthesizer import SAMPLE_BLOCK

    out = Synthesizer("trees", random_state=0).fit(df).sample(SAMPLE_BLOCK, seed=0)["c"].value_counts(normalize=True)
    assert np.allclose(out.sort_index().to_numpy(), [0.5, 0.3, 0.2], atol=2 / SAMPLE_BLOCK)


def test_auto_leaf_size_grows_with_the_rows():
    from tabsynth.backends.trees import auto_min_leaf

    assert auto_min_leaf(455) == 30 and auto_min_leaf(26048) == 54 and auto_min_leaf(1_000_000) == 333
    syn = Synthesizer("trees", random_state=0).fit(_two_clusters(1200))
    assert syn.backend_.min_samples_leaf_ == 30
    with pytest.raises(InputError, match="min_samples_leaf"):
        Synthesizer("trees", min_samples_leaf="big").fit(_two_clusters(60))


def test_two_continuous_columns_stay_as_far_from_training_rows_as_unseen_rows():
    # the case: 4 columns, two of them continuous; replaying leaf values (spread only to the
    # neighbouring values) put synthetic rows closer to the training rows than unseen rows (DCR 0.80x)
    from tabsynth.datasets import zoo_table
    from tabsynth.evaluate.privacy import privacy

    df = zoo_table("imbalanced", n_rows=5000, seed=0)
    train, holdout = df.iloc[:4000].reset_index(drop=True), df.iloc[4000:].reset_index(drop=True)
    syn = Synthesizer("trees", random_state=0).fit(train).sample(4000, seed=0)
    res = privacy(train, syn, holdout=holdout)
    assert res["exact_copies"] < 0.005
    assert res["dcr_synthetic_median"] >= 0.9 * res["dcr_holdout_median"]   # 0.99 here; 0.80 before the kernel


def test_repeated_amounts_are_drawn_as_they_occur():
    # 200 amounts over 5,000 rows (more than sqrt(rows) distinct values, but each repeated ~25 times,
    # as adult's capital gains): drawn as observed values, not smoothed between them
    rng = np.random.default_rng(0)
    levels = np.round(np.exp(rng.normal(8, 1, 200)))
    df = pd.DataFrame({"g": rng.choice(["a", "b"], 5000), "amount": rng.choice(levels, 5000),
                       "x": rng.normal(size=5000)})
    out = Synthesizer("trees", random_state=0).fit(df).sample(5000, seed=0)
    assert out["amount"].isin(set(df["amount"])).all()
    assert out["x"].isin(set(df["x"])).mean() < 0.01   # a continuous column is still smoothed


def _dated_rows(n: int, draw: int) -> pd.DataFrame:
    """Three categories, a day among 900 (each repeated about five times in 4,800 rows) and a tiny number."""
    rng = np.random.default_rng([draw, 3])
    region = rng.choice(["north", "south", "east"], n, p=[0.5, 0.3, 0.2])
    kind = np.where(region == "north", rng.choice(["x", "y"], n), rng.choice(["y", "z", "w"], n))
    day = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    return pd.DataFrame({"region": region, "kind": kind, "grade": rng.choice(list("pqrs"), n), "day": day,
                         "tiny": rng.lognormal(0, 1, n) * 1e-9 * np.where(region == "south", 3, 1)})


def test_values_repeated_a_few_times_are_smoothed_not_replayed():
    # a day among 900 in 4,800 rows: each value in about five rows, so drawing a leaf's own days replayed
    # its rows, and beside the categories and the number a synthetic row was closer to the training rows than
    # an unseen row 0.60 of the time; a number whose rows share their value with fewer than ROW_TIED rows
    # on average is now smoothed like a continuous one: 0.524 / 0.528 (chance: 0.5 +- 0.018, three s.e.)
    from tabsynth.backends.trees import ROW_TIED, TIED, _discrete
    from tabsynth.evaluate.privacy import closer_share, distance_to_closest_record

    train, fresh = _dated_rows(4800, 0), _dated_rows(4800, 1)
    days = train["day"].to_numpy().astype("int64")
    assert 4800 / train["day"].nunique() >= TIED and not _discrete(days)     # repeated, but each about 6 times
    assert (train["day"].value_counts() ** 2).sum() < ROW_TIED * 4800
    d_fresh = distance_to_closest_record(train, fresh)
    syn = Synthesizer("trees", random_state=0).fit(train)
    for seed in (0, 1):
        out = syn.sample(4800, seed=seed)
        assert closer_share(distance_to_closest_record(train, out), d_fresh) < 0.54
    assert (out["day"] == out["day"].dt.normalize()).all()     # still whole days


def _network_rows(n: int, draw: int) -> pd.DataFrame:
    """Rows of a fixed random Bayesian network over 9 categorical columns (2 to 6 levels, two parents each):
    heavy duplicates, real dependence; ``draw`` seeds the rows only."""
    net = np.random.default_rng(5)
    rows = np.random.default_rng([draw, 1])
    levels = [2, 3, 4, 2, 5, 3, 4, 6, 2]
    codes = np.zeros((n, len(levels)), dtype="int64")
    for i, k in enumerate(levels):
        parents = net.choice(i, size=min(2, i), replace=False) if i else np.zeros(0, "int64")
        cell = np.zeros(n, dtype="int64")
        for p in parents:
            cell = cell * levels[p] + codes[:, p]
        cells = int(np.prod([levels[p] for p in parents]))
        cum = np.cumsum(net.dirichlet(np.full(k, 1.5), size=cells), axis=1)[cell]
        codes[:, i] = np.minimum((rows.random(n)[:, None] > cum).sum(1), k - 1)
    return pd.DataFrame({f"c{i}": np.array(list("abcdef"))[codes[:, i]] for i in range(len(levels))})


def test_discrete_rows_are_copied_no_more_often_than_unseen_rows():
    # the all-categorical case: synthetic rows repeated training rows 1.11x as often as fresh rows of
    # the same distribution (trees grown on every previous column, unpruned, learnt each prefix's own rows)
    from tabsynth.evaluate.fidelity import pair_trends
    from tabsynth.evaluate.privacy import exact_copies

    train, fresh = _network_rows(6000, draw=0), _network_rows(30000, draw=1)
    chance = exact_copies(train, fresh)
    assert 0.2 < chance < 0.6                          # many unseen rows repeat a training row
    syn = Synthesizer("trees", random_state=0).fit(train)
    assert syn.backend_.pruned_                         # rows that can be replayed exactly: trees pruned
    copies = np.mean([exact_copies(train, syn.sample(6000, seed=s)) for s in range(2)])
    assert copies <= chance * 1.03
    # the dependence is kept: pair trends against fresh rows as close as the training rows' own (0.981)
    assert pair_trends(fresh, syn.sample(20000, seed=3))["score"] > 0.975


def _network_rows_with_age(n: int, draw: int) -> pd.DataFrame:
    """:func:`_network_rows` but the last category, plus an age of 60 values that depends on two of them."""
    df = _network_rows(n, draw).drop(columns="c8")
    rng = np.random.default_rng([draw, 2])
    centre = 15 + 10 * (df["c0"] == "a") + 6 * df["c2"].map({"a": 0, "b": 1, "c": 2, "d": 3})
    df["age"] = np.clip(np.round(centre + rng.normal(0, 6, n)), 0, 59).astype("int64")
    return df


def test_integer_columns_beside_categories_are_copied_no_more_often_than_unseen_rows():
    # an age of 60 values after 8 categories: its unpruned tree drew each small leaf's own ages, and synthetic
    # rows repeated training rows 1.5x as often as fresh rows did
    from tabsynth.evaluate.fidelity import column_shapes
    from tabsynth.evaluate.privacy import exact_copies

    train, fresh = _network_rows_with_age(6000, 0), _network_rows_with_age(30000, 1)
    chance = exact_copies(train, fresh)
    syn = Synthesizer("trees", random_state=0).fit(train)
    assert syn.backend_.pruned_ and syn.encoder_.num_cols_[0].spec.name == "age"
    out = syn.sample(6000, seed=0)
    assert exact_copies(train, out) <= chance * 1.03
    assert column_shapes(fresh, out)["score"] > 0.98


def test_integer_columns_beside_categories_sit_as_far_from_training_rows_as_unseen_rows():
    # distances to the closest training row, compared whole (the medians jump: an age 4 or 5 years away,
    # nothing between). Pruned chain trees: a synthetic row is closer than a fresh row 0.49-0.50 of the time;
    # unpruned (the rows' own small leaves) 0.55, and the median ratio 0.80
    from tabsynth.evaluate.privacy import closer_share, distance_to_closest_record

    train, fresh = _network_rows_with_age(6000, 0), _network_rows_with_age(6000, 1)
    d_fresh = distance_to_closest_record(train, fresh)
    syn = Synthesizer("trees", random_state=0).fit(train)
    for seed in (0, 1):
        assert closer_share(distance_to_closest_record(train, syn.sample(6000, seed=seed)), d_fresh) < 0.52


def test_a_class_smaller_than_a_leaf_draws_from_its_own_rows():
    # 20 "rare" rows (fewer than a leaf's 30): told the class, their columns come from their own rows,
    # not from leaves shared with the 600 "common" rows
    rng = np.random.default_rng(3)
    common = pd.DataFrame({"cls": "common", "x": rng.normal(0, 1, 600), "z": rng.normal(0, 1, 600),
                           "c": rng.choice(["a", "b"], 600)})
    rare = pd.DataFrame({"cls": "rare", "x": rng.normal(6, 1, 20), "z": rng.normal(-4, 1, 20), "c": "b"})
    df = pd.concat([common, rare], ignore_index=True)
    told = Synthesizer("trees", target="cls", random_state=0).fit(df)
    out = told.sample(400, given=pd.DataFrame({"cls": ["rare"] * 400}), seed=1)
    assert (out["cls"] == "rare").all()
    assert abs(out["x"].mean() - rare["x"].mean()) < 0.6 and abs(out["z"].mean() - rare["z"].mean()) < 0.6
    assert (out["c"] == "b").mean() > 0.9
    # the common class is unchanged by the rare one's subtree; the untold model pools them (what this fixes)
    assert abs(told.sample(400, given=pd.DataFrame({"cls": ["common"] * 400}), seed=1)["x"].mean()) < 0.3
    untold = Synthesizer("trees", random_state=0).fit(df).sample(400, given=pd.DataFrame({"cls": ["rare"] * 400}), seed=1)
    assert untold["x"].mean() < rare["x"].mean() - 2


def test_class_split_tree_routes_each_class_to_its_subtree():
    from tabsynth.backends.trees import _split_by, _walk

    rng = np.random.default_rng(0)
    X = np.c_[rng.integers(0, 3, 300), rng.normal(size=300)].astype("float32")
    y = (X[:, 1] > 0).astype("int64")
    left, right, feature, threshold = _split_by(X, np.array([0, 1]), y, 2, 0, min_leaf=10, alpha=1.0, seed=0,
                                                holdout=0.0, discrete=False)
    leaf = _walk(left, right, feature, threshold, X)
    assert (left[leaf] < 0).all()  # every row ends in a leaf
    for a in range(3):  # no leaf holds rows of two classes
        for b in range(a + 1, 3):
            assert not set(leaf[X[:, 0] == a]) & set(leaf[X[:, 0] == b])
    parent = np.full(len(left), -1)
    inner = np.flatnonzero(left >= 0)
    parent[left[inner]], parent[right[inner]] = inner, inner
    assert (parent[1:] < np.arange(1, len(left))).all()  # every node after its parent


def _stratified_reference(group: np.ndarray, n_groups: int, rng: np.random.Generator):
    """The stratified draw written plainly: sort by group (random within), rank, one uniform per stratum."""
    perm = rng.permutation(len(group))
    by = np.argsort(group[perm], kind="stable")
    order = perm[by]
    g = group[order].astype("int64")
    size = np.bincount(group, minlength=n_groups)
    rank = np.arange(len(group)) - (np.cumsum(size) - size)[g]
    u = (rank + rng.random(len(group))) / np.maximum(size[g], 1)
    return order, g, np.minimum(u, np.nextafter(1.0, 0.0))


@pytest.mark.parametrize("n_groups,n", [(1, 500), (3, 1000), (300, 5000), (70000, 3000)])
def test_stratified_draw_equals_its_plain_reference(n_groups, n):
    from tabsynth.backends.trees import _stratified_by

    group = np.random.default_rng(n_groups).integers(0, n_groups, n)
    fast = _stratified_by(group, n_groups, np.random.default_rng(7))
    ref = _stratified_reference(group, n_groups, np.random.default_rng(7))
    for a, b in zip(fast, ref):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_routing_reads_a_matrix_by_columns_as_by_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(800, 4)).astype("float32")
    y = (X[:, 0] > 0.3) * 2.0 + X[:, 1] - X[:, 3]
    tree = _Tree.fit(X, np.array([0, 1, 3]), y.astype("float32"), 0, min_leaf=10, alpha=1.0, seed=0)
    by_rows = tree.apply(np.ascontiguousarray(X))
    assert len(np.unique(by_rows)) > 5
    assert np.array_equal(tree.apply(np.asfortranarray(X)), by_rows)
    assert np.array_equal(tree.apply(X.astype("float64")), by_rows)
    assert np.array_equal(tree.walk(np.asfortranarray(X)), by_rows)
    # a tree of one leaf (no features) draws without routing, as its root
    one = _Tree.fit(X, np.array([], dtype="int64"), (X[:, 2] > 0).astype("float32"), 2, min_leaf=10, alpha=1.0, seed=0)
    a = one.draw(X, np.random.default_rng(3))
    assert set(np.unique(a)) == {0.0, 1.0} and abs(a.mean() - (X[:, 2] > 0).mean()) < 2 / len(X)


def test_given_columns_come_first_and_are_drawn_without_gibbs(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"p_x": rng.normal(size=2000), "p_c": rng.choice(list("abc"), 2000)})
    df["y"] = 2 * df["p_x"] + rng.normal(size=2000) * 0.3
    df["k"] = np.where(df["p_x"] > 0, "hi", "lo")
    given = df[["p_x", "p_c"]].iloc[:500].reset_index(drop=True)

    def rows(sweeps: int, **kw) -> pd.DataFrame:
        syn = Synthesizer(random_state=0, gibbs_sweeps=sweeps, **kw).fit(df)
        return syn.sample(500, given=given, seed=1)

    # numbers come after categories in the chain: given p_x, the categories were drawn before it and refreshed
    assert not rows(0).equals(rows(3))
    # given first: every row is an exact chain draw, the sweeps have nothing to do
    first = rows(0, given_columns=["p_x", "p_c"])
    assert first.equals(rows(3, given_columns=["p_x", "p_c"]))
    assert (first["k"] == np.where(first["p_x"] > 0, "hi", "lo")).mean() > 0.97
    syn = Synthesizer(random_state=0, given_columns=["p_x", "p_c"]).fit(df)
    assert syn.backend_.order_[:2].tolist() == syn.encoder_.positions(["p_x", "p_c"])
    syn.save(tmp_path / "m.tabsynth")
    loaded = Synthesizer.load(tmp_path / "m.tabsynth")
    assert loaded.given_columns == ["p_x", "p_c"]
    assert loaded.sample(50, given=given.iloc[:50], seed=2).equals(syn.sample(50, given=given.iloc[:50], seed=2))
    with pytest.raises(InputError, match="given_columns"):
        Synthesizer(given_columns=["nope"]).fit(df)


def test_no_sweeps_no_full_trees(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=500), "c": rng.choice(list("ab"), 500)})
    syn = Synthesizer(random_state=0, gibbs_sweeps=0, given_columns=["c"]).fit(df)
    assert all(t is None for t in syn.backend_.full_)
    meta, arrays = syn.backend_.get_state()
    assert not any(k.startswith("full") for k in arrays)
    syn.save(tmp_path / "m.tabsynth")
    loaded = Synthesizer.load(tmp_path / "m.tabsynth")
    given = pd.DataFrame({"c": ["a"] * 20})
    assert loaded.sample(20, given=given, seed=1).equals(syn.sample(20, given=given, seed=1))
    # a file whose sweeps need trees it does not hold is refused
    with pytest.raises(ValueError, match="full conditionals"):
        TreesBackend.from_state({"gibbs_sweeps": 3}, meta, arrays)
