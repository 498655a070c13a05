"""Differential privacy (tabsynth.privacy): accounting, calibration, sensitivity, canaries, an audit, the API."""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tabsynth import Synthesizer
from tabsynth.cli import main
from tabsynth.privacy import OTHER, Budget, fit_private, rho_for
from tabsynth.privacy.accounting import cdp_delta, gaussian_sigma, threshold_for
from tabsynth.privacy.domain import dp_bounds, dp_frequent, plan_column
from tabsynth.privacy.fit import pair_scores
from tabsynth.privacy.model import PrivateTree

CANARY = "ZZ_CANARY_7731"
CANARY_NUMBER = 987654321.0


def table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c = rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2])
    x = np.round(rng.normal(50, 10, n) + 10 * (c == "red"), 1)
    k = rng.integers(0, 5, n)
    y = np.where(rng.random(n) < 0.3 + 0.4 * (c == "red"), "yes", "no")
    return pd.DataFrame({"c": c, "x": x, "k": k, "y": y})


def with_canary(df: pd.DataFrame) -> pd.DataFrame:
    row = pd.DataFrame({"c": [CANARY], "x": [CANARY_NUMBER], "k": [4], "y": ["no"]})
    return pd.concat([df, row], ignore_index=True)


# ------------------------------------------------------------------ accounting
@pytest.mark.parametrize("eps", [0.3, 1.0, 3.0, 10.0])
def test_rho_converts_to_the_budget_and_no_further(eps):
    delta = 1e-9
    rho = rho_for(eps, delta)
    assert cdp_delta(rho, eps) <= delta
    assert cdp_delta(rho * 1.01, eps) > delta  # the largest such rho
    # tighter than the classic conversion eps = rho + 2 sqrt(rho log(1/delta)), never looser than it
    classic = (math.sqrt(math.log(1 / delta) + eps) - math.sqrt(math.log(1 / delta))) ** 2
    assert rho >= classic


@pytest.mark.parametrize("target, columns", [(None, "cxky"), ("y", "cxky"), ("y", "cy"), ("y", "cxy")])
def test_a_fit_spends_exactly_its_budget_with_calibrated_noise(target, columns):
    fit = fit_private(table()[list(columns)], epsilon=2.0, delta=1e-8, target=target, random_state=0)
    rep = fit.report
    assert rep["rho_spent"] == pytest.approx(rep["rho"], rel=1e-9)
    assert sum(rep["split"].values()) == pytest.approx(1.0, abs=1e-5)
    assert cdp_delta(rep["rho"], 2.0) <= rep["delta_conversion"]
    for step in rep["steps"]:  # every Gaussian step: rho = (number of sensitivity-1 queries) / (2 sigma^2)
        if step["step"] == "one-way marginals":
            assert step["rho"] == pytest.approx(step["columns"] / (2 * step["sigma"] ** 2))
        if step["step"] in ("two-way marginals", "marginals with the target"):
            assert step["rho"] == pytest.approx(step["tables"] / (2 * step["sigma"] ** 2))
        if step["step"].startswith("domains"):
            assert step["rho"] == pytest.approx(1 / (2 * step["sigma"] ** 2))


def test_budget_refuses_to_overspend():
    b = Budget(1.0, 1e-9)
    b.spend(b.rho * 0.6, "a")
    with pytest.raises(AssertionError, match="overspends"):
        b.spend(b.rho * 0.6, "b")


# ------------------------------------------------------------- noise scales
def test_released_counts_have_the_calibrated_noise():
    """Counts released by thresholding: noise N(0, sigma^2), checked by a KS test over many draws."""
    sigma = gaussian_sigma(0.02)
    rng = np.random.default_rng(1)
    keys, counts = list(range(2000)), np.full(2000, 500.0)
    _, noisy = dp_frequent(keys, counts, sigma, 1e-6, rng)
    assert len(noisy) == 2000
    assert stats.kstest((noisy - 500) / sigma, "norm").pvalue > 1e-3
    # a noise scale 20% off is detected by the same test
    assert stats.kstest((noisy - 500) / (sigma * 1.2), "norm").pvalue < 1e-3


def test_a_value_held_by_one_row_is_released_at_most_at_rate_delta():
    sigma, delta_t = 3.0, 0.05
    rng = np.random.default_rng(2)
    released = sum(len(dp_frequent(["solo"], np.array([1.0]), sigma, delta_t, rng)[0]) for _ in range(4000))
    assert stats.binomtest(released, 4000, delta_t).pvalue > 1e-3
    assert threshold_for(sigma, delta_t) == pytest.approx(1 + sigma * stats.norm.ppf(1 - delta_t))


def test_dp_bounds_ignore_an_extreme_value():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(100, 10, 5000), [1e12]])
    lo, hi = dp_bounds(x, "numeric", 5.0, rng)
    assert 10 <= lo < 90 and 110 < hi <= 1000


# ---------------------------------------------------------------- sensitivity
def test_neighbouring_tables_move_each_measured_table_by_at_most_one():
    df = table(300)
    fit = fit_private(df, epsilon=5, public_schema={"columns": {"c": {"categories": ["red", "green", "blue"]},
                                                                "x": {"bounds": [0, 100]}, "k": {"bounds": [0, 4]},
                                                                "y": {"categories": ["no", "yes"]}}},
                      random_state=0)
    enc, tree = fit.encoder, fit.generator
    codes = enc.transform(df).x_cat
    one_way = [np.ones(int(g.max()) + 1) for g in tree.groups]
    ks = [len(o) for o in one_way]
    coarse = np.column_stack([g[codes[:, j]] for j, g in enumerate(tree.groups)])
    _, full = pair_scores(coarse, ks, one_way, 300)
    for drop in (0, 17, 299):
        keep = np.delete(np.arange(300), drop)
        for j, g in enumerate(tree.groups):  # 1-way histograms: L1 (and so L2) distance 1
            a = np.bincount(codes[:, j], minlength=len(g))
            b = np.bincount(codes[keep, j], minlength=len(g))
            assert np.abs(a - b).sum() == 1
        _, part = pair_scores(coarse[keep], ks, one_way, 300)
        assert np.abs(full - part).max() <= 1 + 1e-9  # selection scores: sensitivity 1


# ------------------------------------------------------------------- canaries
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_canary_row_is_never_released(tmp_path, seed):
    df = with_canary(table(400, seed))
    model = Synthesizer(epsilon=10, random_state=seed, target="y" if seed == 2 else None).fit(df)  # told or not
    out = model.sample(5000, seed=seed)
    assert CANARY not in set(out["c"].dropna())
    assert out["x"].max() < 1e4  # the extreme number sets no bound
    assert CANARY not in model.schema_["c"].categories
    assert model.schema_["x"].max < 1e4
    path = model.save(tmp_path / "m.zip")
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        members = b"".join(zf.read(n) for n in zf.namelist())
        inner = b""
        for n in zf.namelist():
            if n.endswith(".npz"):
                with zipfile.ZipFile(io.BytesIO(zf.read(n))) as z2:
                    inner += b"".join(z2.read(m) for m in z2.namelist())
    for blob in (raw, members, inner):
        assert CANARY.encode() not in blob
        assert b"987654321" not in blob
        assert np.float64(CANARY_NUMBER).tobytes() not in blob


def test_frequent_categories_are_released_and_rare_ones_pooled():
    df = table(2000)
    df.loc[:4, "c"] = ["rare1", "rare2", "rare3", "rare4", "rare5"]
    model = Synthesizer(epsilon=5, random_state=0).fit(df)
    assert set(model.schema_["c"].categories) == {"red", "green", "blue"}
    out = model.sample(3000, seed=0)
    assert set(out["c"].dropna()) <= {"red", "green", "blue", OTHER}


def test_nothing_after_the_fit_reads_the_real_rows(tmp_path):
    df = with_canary(table(400))
    model = Synthesizer(epsilon=10, random_state=0).fit(df)
    assert not model.rules_ and model.text_layout_ is None
    filled = model.impute(pd.DataFrame({"c": [None] * 50, "x": [None] * 50, "k": [1] * 50, "y": ["no"] * 50}),
                          seed=0)
    assert CANARY not in set(filled["c"]) and filled["x"].max() < 1e4
    src = tmp_path / "in.csv"
    df.to_csv(src, index=False)
    out = tmp_path / "out.csv"
    with pytest.raises(SystemExit) as e:
        main(["augment", str(src), "--epsilon", "10", "--synthetic-only", "-o", str(out), "--seed", "0", "-q"])
    assert e.value.code == 0
    syn = pd.read_csv(out)
    assert CANARY not in set(syn["c"].dropna()) and syn["x"].max() < 1e4


# ----------------------------------------------------------- membership audit
def test_membership_of_one_row_is_guessed_no_better_than_epsilon_allows():
    """Many fits on a tiny table with and without one target row; the best threshold guess from the released
    model must not beat the (epsilon, delta) bound e^eps / (1 + e^eps) beyond sampling error."""
    eps = 1.0
    public = {"columns": {"v": {"categories": ["a", "b"]}}}
    base = pd.DataFrame({"v": ["a"] * 30})
    with_row = pd.concat([base, pd.DataFrame({"v": ["b"]})], ignore_index=True)
    trials = 300

    def stat(df, seed):
        m = Synthesizer(epsilon=eps, public_schema=public, random_state=seed).fit(df)
        return m.schema_["v"].frequencies[1] * m.privacy_["rows"]

    ins = np.array([stat(with_row, s) for s in range(trials)])
    outs = np.array([stat(base, s + trials) for s in range(trials)])
    best = max(((ins > t).mean() + (outs <= t).mean()) / 2 for t in np.quantile(np.r_[ins, outs], np.linspace(0, 1, 41)))
    bound = math.exp(eps) / (1 + math.exp(eps)) + 1e-9
    assert best <= bound + 3 * math.sqrt(0.25 / trials)
    assert best > 0.5 - 3 * math.sqrt(0.25 / trials)  # the statistic does see the row (the audit is not blind)


# --------------------------------------------------------------------- inputs
@pytest.mark.parametrize("eps", [0, -1, float("inf"), float("nan"), "1", True])
def test_bad_epsilon_is_a_value_error_naming_it(eps):
    with pytest.raises(ValueError, match="epsilon"):
        Synthesizer(epsilon=eps).fit(table(50))


@pytest.mark.parametrize("delta", [0, 1, 1.5, -0.1, float("nan")])
def test_bad_delta_is_a_value_error_naming_it(delta):
    with pytest.raises(ValueError, match="delta"):
        Synthesizer(epsilon=1, delta=delta).fit(table(50))


def test_a_backend_that_cannot_honour_epsilon_is_an_error():
    with pytest.raises(ValueError, match="backend"):
        Synthesizer("gan", epsilon=1).fit(table(50))
    with pytest.raises(ValueError, match="n_components"):
        Synthesizer("trees", epsilon=1, n_components=3).fit(table(50))
    with pytest.raises(ValueError, match="epsilon"):
        Synthesizer(delta=1e-6).fit(table(50))


@pytest.mark.parametrize("args, name", [
    (["--epsilon", "0"], "--epsilon"), (["--epsilon", "nan"], "--epsilon"), (["--epsilon", "inf"], "--epsilon"),
    (["--epsilon", "1", "--delta", "1"], "--delta"), (["--epsilon", "1", "--delta", "0"], "--delta"),
    (["--epsilon", "1", "--backend", "gan"], "--backend"), (["--delta", "0.001"], "--delta"),
    (["--epsilon", "1", "--public-schema", "missing.json"], "missing.json"),
])
def test_cli_bad_privacy_input_is_one_line_and_exit_2(tmp_path, capsys, args, name):
    src = tmp_path / "in.csv"
    table(50).to_csv(src, index=False)
    out = tmp_path / "m.zip"
    with pytest.raises(SystemExit) as e:
        main(["fit", str(src), "-o", str(out), *args])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and len(err.splitlines()) == 1 and name in err
    assert not out.exists()


@pytest.mark.parametrize("args", [["--target", "y", "--balance"], ["--check"],
                                  ["--report", "r.html"]])
def test_cli_augment_options_that_read_the_data_are_refused(tmp_path, capsys, args):
    src = tmp_path / "in.csv"
    table(50).to_csv(src, index=False)
    with pytest.raises(SystemExit) as e:
        main(["augment", str(src), "--epsilon", "1", "-o", str(tmp_path / "o.csv"), *args])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and len(err.splitlines()) == 1 and args[0] in err
    assert not (tmp_path / "o.csv").exists()


def test_cli_fit_with_a_target_measures_it_with_every_column(tmp_path, capsys):
    src, model, out = tmp_path / "in.csv", tmp_path / "m.zip", tmp_path / "s.csv"
    table(400).to_csv(src, index=False)
    for args in (["fit", str(src), "-o", str(model), "--epsilon", "5", "--target", "y", "--seed", "0", "--json"],
                 ["sample", str(model), "--rows", "300", "-o", str(out), "--seed", "1", "-q"]):
        with pytest.raises(SystemExit) as e:
            main(args)
        assert e.value.code == 0
        if args[0] == "fit":
            info = json.loads(capsys.readouterr().out)
    assert info["privacy"]["target"] == "y" and info["privacy"]["rho_spent"] == pytest.approx(info["privacy"]["rho"])
    assert any(step["step"] == "marginals with the target" for step in info["privacy"]["steps"])
    assert list(pd.read_csv(out).columns) == ["c", "x", "k", "y"]
    with zipfile.ZipFile(model) as zf:  # an older tabsynth would read its tables as a plain tree's: it refuses it
        assert json.loads(zf.read("tabsynth.json"))["format_version"] == 2


def test_public_schema_sets_domains_and_bad_entries_name_the_column(tmp_path):
    public = {"columns": {"c": {"categories": ["red", "green", "blue", "violet"]}, "x": {"bounds": [0, 200]},
                          "k": {"bounds": [0, 4]}, "y": {"categories": ["no", "yes"]}}}
    model = Synthesizer(epsilon=3, public_schema=public, random_state=0).fit(table())
    assert model.schema_["c"].categories == ["red", "green", "blue", "violet"]
    assert (model.schema_["x"].min, model.schema_["x"].max) == (0, 200)
    assert model.privacy_["columns"]["c"]["categories"] == "public"
    assert "domains: bounds" not in model.privacy_["split"]  # nothing left to estimate: no budget spent on it
    path = tmp_path / "public.json"
    path.write_text(json.dumps({"columns": {"x": {"bounds": [5, 1]}}}))
    with pytest.raises(ValueError, match="'x'"):
        Synthesizer(epsilon=1, public_schema=str(path)).fit(table())
    with pytest.raises(ValueError, match="'nope'"):
        Synthesizer(epsilon=1, public_schema={"columns": {"nope": {"bounds": [0, 1]}}}).fit(table())


def test_plan_reads_only_the_dtype():
    s = pd.Series([1, 2, 3], name="k")
    assert plan_column("k", s, None, False) == plan_column("k", pd.Series([7, 7, 9], name="k"), None, False)


# ---------------------------------------------------------------- the model
def test_save_load_and_same_seed_same_bytes(tmp_path):
    df = table()
    a = Synthesizer(epsilon=2, random_state=5).fit(df)
    b = Synthesizer(epsilon=2, random_state=5).fit(df)
    pa, pb = a.save(tmp_path / "a.zip"), b.save(tmp_path / "b.zip")
    assert hashlib.sha256(pa.read_bytes()).digest() == hashlib.sha256(pb.read_bytes()).digest()
    loaded = Synthesizer.load(pa)
    assert loaded.privacy_ == json.loads(json.dumps(a.privacy_))
    assert loaded.sample(500, seed=3).equals(a.sample(500, seed=3))
    assert a.sample(200, seed=1).dtypes.equals(df.dtypes)
    c = Synthesizer(epsilon=2, random_state=6).fit(df)
    assert not c.sample(200, seed=1).equals(a.sample(200, seed=1))


def test_given_cells_are_kept_and_condition_the_rest():
    df = table(3000)
    model = Synthesizer(epsilon=10, random_state=0).fit(df)
    red = model.sample(2000, seed=0, given=pd.DataFrame({"c": ["red"] * 2000}))
    blue = model.sample(2000, seed=0, given=pd.DataFrame({"c": ["blue"] * 2000}))
    assert (red["c"] == "red").all() and (blue["c"] == "blue").all()
    assert red["x"].mean() > blue["x"].mean() + 4  # the real difference is 10
    filled = model.impute(df.head(100).assign(x=np.nan), seed=0)
    assert filled["x"].notna().all() and filled["c"].equals(df.head(100)["c"])


def test_utility_rises_with_epsilon():
    df = table(4000)
    real = df.groupby(["c", "y"]).size() / len(df)
    tvd = []
    for eps in (0.1, 1, 10):
        out = Synthesizer(epsilon=eps, random_state=0).fit(df).sample(4000, seed=0)
        syn = out.groupby(["c", "y"]).size() / len(out)
        tvd.append(real.sub(syn, fill_value=0).abs().sum() / 2)
    assert tvd[0] > tvd[1] >= tvd[2] - 0.01 and tvd[2] < 0.03


def chained(n: int, seed: int = 0) -> pd.DataFrame:
    """Three columns that copy one another (a tree among them is a chain) and a target that depends on all three."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, n)
    b = np.where(rng.random(n) < 0.85, a, rng.integers(0, 4, n))
    c = np.where(rng.random(n) < 0.85, b, rng.integers(0, 4, n))
    y = np.where(rng.random(n) < 0.15 + 0.2 * ((a >= 2).astype(int) + (b % 2) + (c == 0)), "yes", "no")
    return pd.DataFrame({"a": a.astype(str), "b": b.astype(str), "c": c.astype(str), "y": y})


def pair_tvd(real: pd.DataFrame, syn: pd.DataFrame, x: str, y: str) -> float:
    p, q = (f.groupby([x, y]).size() / len(f) for f in (real, syn))
    return float(p.sub(q, fill_value=0).abs().sum() / 2)


def test_a_target_is_measured_with_every_column():
    """Told the target, every column's table holds it (a tree-augmented network): each column's relation to the
    target is kept, also where a plain tree of the strongest pairs leaves the target a leaf of one column."""
    df = chained(20_000)
    told = Synthesizer(epsilon=10, target="y", random_state=0).fit(df)
    plain = Synthesizer(epsilon=10, random_state=0).fit(df)
    assert told.privacy_["target"] == "y" and "target" not in plain.privacy_
    a, b = told.sample(20_000, seed=0), plain.sample(20_000, seed=0)
    told_tvd = [pair_tvd(df, a, col, "y") for col in "abc"]
    plain_tvd = [pair_tvd(df, b, col, "y") for col in "abc"]
    assert max(told_tvd) < 0.02 < max(plain_tvd)
    assert pair_tvd(df, a, "a", "b") < 0.03 and pair_tvd(df, a, "b", "c") < 0.03  # the chain is kept too


def test_told_a_target_its_relations_sharpen_with_epsilon():
    df = chained(20_000, seed=1)
    gaps = []
    for eps in (0.1, 1, 10):
        out = Synthesizer(epsilon=eps, target="y", random_state=0).fit(df).sample(20_000, seed=0)
        gaps.append(np.mean([pair_tvd(df, out, col, "y") for col in "abc"]))
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 0.015


def test_a_tree_with_a_target_conditions_exactly():
    """Draws given known cells follow the network's exact conditional, by brute force over a small network."""
    rng = np.random.default_rng(0)
    k = [2, 3, 2, 3]  # the target (column 0), then a tree 1 -> 2, 1 -> 3

    def dist(*shape):
        p = rng.random(shape) + 0.1
        return p / p.sum(axis=-1, keepdims=True)

    groups = [np.arange(m) for m in k]
    conds = [None, dist(2, 1, 3), dist(2, 3, 2), dist(2, 3, 3)]
    tree = PrivateTree(groups, [np.ones(m) / m for m in k], [-1, -1, 1, 1], [0, 1, 2, 3], [dist(2)] + [dist(m) for m in k[1:]],
                       conds, [False] * 4, target=0)
    marg0 = tree.marginals[0]
    joint = np.einsum("y,yb,ybc,ybd->ybcd", marg0, conds[1][:, 0], conds[2], conds[3])
    from tabsynth.encoding import Encoded, Layout

    n = 60_000
    x = np.zeros((n, 4), dtype="int64")
    x[:, 2], x[:, 3] = 1, 2  # two leaves known: the target and their parent drawn given them
    mask = np.zeros((n, 4), dtype=bool)
    mask[:, 2:] = True
    given = Encoded(np.zeros((n, 0), "float32"), x, Layout(0, k, [False] * 4), np.ones((n, 0), bool), mask)
    out = tree.sample(n, given=given, rng=np.random.default_rng(1)).x_cat
    assert (out[:, 2] == 1).all() and (out[:, 3] == 2).all()
    exact = joint[:, :, 1, 2] / joint[:, :, 1, 2].sum()
    seen = np.histogram2d(out[:, 0], out[:, 1], bins=[np.arange(3), np.arange(4)])[0] / n
    assert np.abs(seen - exact).max() < 0.01
    # the target known too, at the level the leaves make least likely: the rest is drawn given that level
    rare = int(np.argmin(exact.sum(axis=1)))
    x[:, 0], mask[:, 0] = rare, True
    out = tree.sample(n, given=given, rng=np.random.default_rng(3)).x_cat
    assert (out[:, 0] == rare).all()
    exact = joint[rare, :, 1, 2] / joint[rare, :, 1, 2].sum()
    assert np.abs(np.bincount(out[:, 1], minlength=3) / n - exact).max() < 0.01
    free = tree.sample(n, rng=np.random.default_rng(2)).x_cat  # nothing known: the joint itself
    seen = np.histogramdd(free, bins=[np.arange(m + 1) for m in k])[0] / n
    assert np.abs(seen - joint).max() < 0.01


@pytest.mark.parametrize("target", [None, "y"])
def test_a_tree_whose_tables_do_not_fit_its_columns_is_refused(target):
    from tabsynth.errors import FileFormatError

    tree = Synthesizer(epsilon=3, random_state=0, target=target).fit(table(500)).backend_
    meta, arrays = tree.get_state()
    assert PrivateTree.from_state({}, meta, arrays)._consistent()
    j = next(j for j in range(len(tree.groups)) if f"conditional{j}" in arrays)
    broken = {**arrays, f"conditional{j}": arrays[f"conditional{j}"][..., :1]}
    with pytest.raises(FileFormatError, match="inconsistent"):
        PrivateTree.from_state({}, meta, broken)
    with pytest.raises(FileFormatError, match="inconsistent"):
        PrivateTree.from_state({}, {**meta, "target": len(tree.groups)}, arrays)


def test_docstring_examples():
    import doctest

    import tabsynth.privacy.accounting
    import tabsynth.privacy.domain
    import tabsynth.privacy.fit
    import tabsynth.privacy.options

    for mod in (tabsynth.privacy.accounting, tabsynth.privacy.domain, tabsynth.privacy.fit, tabsynth.privacy.options):
        assert doctest.testmod(mod).failed == 0, mod.__name__


def test_python_augment_refuses_what_reads_the_real_rows():
    from tabsynth.augmentation import augment

    df = table(100)
    with pytest.raises(ValueError, match="private augment"):
        augment(df, epsilon=1)
    model = Synthesizer(epsilon=1, random_state=0).fit(df)
    with pytest.raises(ValueError, match="private augment"):
        augment(df, model=model, target="y", rows=10)
    out = augment(df, model=model, rows=30, synthetic_only=True, seed=0)
    assert len(out) == 30
