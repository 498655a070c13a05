"""Scale: streamed sampling, parquet datasets larger than the fit sample, Dask."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tabsynth import GenerativeImputer, Synthesizer
from tabsynth.dataset import MAX_COUNTED, scan
from tabsynth.datasets import load_example
from tabsynth.io import TableWriter, read_table, write_table
from tabsynth.synthesizer import SAMPLE_BLOCK


@pytest.fixture(scope="module")
def model():
    return Synthesizer(random_state=0).fit(load_example())


def test_rows_depend_only_on_seed_and_index(model):
    whole = model.sample(3 * SAMPLE_BLOCK + 17, seed=4)
    for size in (1000, SAMPLE_BLOCK, 50_000):
        batches = list(model.sample_batches(len(whole), batch_size=size, seed=4))
        assert all(len(b) == size for b in batches[:-1])
        assert pd.concat(batches, ignore_index=True).equals(whole)
    # any split between workers: rows k.. of the stream
    start = SAMPLE_BLOCK - 5
    part = pd.concat(model.sample_batches(2000, start=start, seed=4), ignore_index=True)
    assert part.equals(whole.iloc[start:start + 2000].reset_index(drop=True))
    assert model.sample(10, seed=4).equals(whole.iloc[:10])          # a prefix is the same rows
    assert not model.sample(10, seed=5).equals(whole.iloc[:10])


def test_sample_batches_given_and_errors(model):
    rows = pd.concat(model.sample_batches(5000, batch_size=2048, seed=1, given={"sex": "2"}), ignore_index=True)
    assert len(rows) == 5000 and (rows["sex"] == "2").all()
    with pytest.raises(ValueError, match="batch_size"):
        model.sample_batches(10, batch_size=0)
    with pytest.raises(ValueError, match=r"^n=-1: give an integer of at least 0"):
        model.sample_batches(-1)
    with pytest.raises(ValueError, match="nope"):
        model.sample_batches(10, given={"nope": 1})


@pytest.mark.parametrize("ext", ["parquet", "csv", "csv.gz", "tsv", "jsonl", "feather"])
def test_streamed_file_equals_whole_write(model, tmp_path, ext):
    rows = model.sample(10_000, seed=2)
    with TableWriter(tmp_path / f"s.{ext}") as writer:
        for batch in model.sample_batches(10_000, batch_size=3000, seed=2):
            writer.write(batch)
    write_table(rows, tmp_path / f"w.{ext}")
    streamed, whole = read_table(tmp_path / f"s.{ext}"), read_table(tmp_path / f"w.{ext}")
    assert len(streamed) == 10_000
    pd.testing.assert_frame_equal(streamed, whole)


# ------------------------------------------------------------------ datasets
def make_dataset(directory, parts=3, rows=3000):
    directory.mkdir()
    df = load_example()
    rng = np.random.default_rng(0)
    for i in range(parts):
        d = df.sample(rows, replace=True, random_state=i).reset_index(drop=True)
        d["bmi"] = d["bmi"].where(rng.random(rows) > 0.1)
        d["site"] = pd.Series(rng.choice(["north", "south"], rows), dtype=object)
        if i == parts - 1:
            d.loc[7, "site"] = "island"         # one row in 9,000: a sample of 500 rows will miss it
            d.loc[8, "age"] = 150               # the largest age, in one row
        d.to_parquet(directory / f"part{i}.parquet")
    return pd.read_parquet(directory)  # the dataset as pandas reads it back


def test_scan_keeps_exact_statistics_and_a_seeded_sample(tmp_path):
    full = make_dataset(tmp_path / "ds")
    a = scan(tmp_path / "ds", fit_rows=500, seed=3)
    b = scan(tmp_path / "ds", fit_rows=500, seed=3, batch_rows=1000)
    assert a.rows == 9000 and len(a.sample) == 500
    pd.testing.assert_frame_equal(a.sample, scan(tmp_path / "ds", fit_rows=500, seed=3).sample)
    assert len(b.sample) == 500                  # (other batches, other keys: another sample, same size)
    assert a.stats["bmi"].missing == int(full["bmi"].isna().sum())
    assert a.stats["age"].max == 150 and a.stats["site"].counts == full["site"].value_counts().to_dict()
    model = Synthesizer("trees", random_state=0).fit_dataset(tmp_path / "ds", fit_rows=500)
    site, age, bmi = (model.schema_[c] for c in ("site", "age", "bmi"))
    assert "island" in site.categories and site.frequencies[site.categories.index("island")] == pytest.approx(1 / 9000)
    assert age.max == 150 and model.dataset_rows_ == 9000
    assert bmi.missing_rate == pytest.approx(full["bmi"].isna().mean())


def test_scan_stops_counting_huge_columns(tmp_path, monkeypatch):
    import tabsynth.dataset as D

    monkeypatch.setattr(D, "MAX_COUNTED", 50)
    (tmp_path / "ds").mkdir()
    pd.DataFrame({"k": [f"v{i}" for i in range(200)], "x": np.arange(200.0)}).to_parquet(tmp_path / "ds" / "a.parquet")
    assert scan(tmp_path / "ds", fit_rows=100).stats["k"].counts is None
    assert MAX_COUNTED == 10_000


def test_cli_on_a_dataset_directory(cli, tmp_path):
    full = make_dataset(tmp_path / "ds")
    code, out, err = cli("augment", str(tmp_path / "ds"), "--fit-rows", "1000", "--seed", "1", "--rows", "2500",
                         "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["rows_input"], doc["rows_synthetic"], doc["rows_fitted"]) == (9000, 2500, 1000)
    got = pd.read_parquet(tmp_path / "ds.augmented.parquet")
    assert len(got) == 11_500 and got.iloc[:9000].equals(full)         # input rows unchanged, in order
    assert got.dtypes.equals(full.dtypes) and got.iloc[9000:]["sex"].notna().all()

    code, out, err = cli("impute", str(tmp_path / "ds"), "--fit-rows", "1000", "--seed", "1", "--json")
    assert code == 0, err
    doc = json.loads(out)
    filled = pd.read_parquet(tmp_path / "ds.imputed.parquet")
    assert doc["cells_filled"] == {"bmi": int(full["bmi"].isna().sum())} and filled["bmi"].notna().all()
    known = full["bmi"].notna()
    assert filled.loc[known, "bmi"].equals(full.loc[known, "bmi"]) and filled.drop(columns="bmi").equals(
        full.drop(columns="bmi"))

    code, out, err = cli("fit", str(tmp_path / "ds"), "-o", str(tmp_path / "m.tabsynth"), "--fit-rows", "1000",
                         "--json")
    assert code == 0 and json.loads(out)["rows"] == 9000
    assert "island" in Synthesizer.load(tmp_path / "m.tabsynth").schema_["site"].categories


def test_a_large_parquet_file_is_a_dataset(cli, tmp_path):
    df = load_example()
    df.to_parquet(tmp_path / "big.parquet")
    code, out, err = cli("augment", str(tmp_path / "big.parquet"), "--fit-rows", "100", "--seed", "0", "--json")
    assert code == 0, err
    assert json.loads(out)["rows_fitted"] == 100
    assert pd.read_parquet(tmp_path / "big.augmented.parquet").iloc[:len(df)].equals(df)


@pytest.mark.parametrize("args,match", [
    (["augment", "{d}/ds", "--target", "sex"], "--target is not available with a parquet dataset"),
    (["augment", "{d}/ds", "--check", "--target", "sex"], "is not available"),
    (["impute", "{d}/ds", "--multiple", "3"], "--multiple is not available"),
    (["augment", "{d}/empty"], "holds no parquet files"),
    (["impute", "{d}/ds", "--columns", "nope"], "--columns: unknown column(s) 'nope'"),
    (["sample", "{d}/m.tabsynth", "--rows", "10", "-o", "{d}/o.parquet", "--workers", "1", "--scheduler", "x:1"],
     "give one"),
])
def test_dataset_input_errors(cli, tmp_path, args, match):
    make_dataset(tmp_path / "ds")
    (tmp_path / "empty").mkdir()
    Synthesizer(random_state=0).fit(load_example()).save(tmp_path / "m.tabsynth")
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = cli(*[a.format(d=tmp_path) for a in args], "--fit-rows", "1000") if args[0] != "sample" else \
        cli(*[a.format(d=tmp_path) for a in args])
    assert code == 2 and err.count("\n") == 1 and match in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_the_sample_is_not_steered_by_data_drawn_with_the_same_seed(tmp_path):
    # the keys of the bottom-k sample once came from default_rng([seed, batch]), the very stream of
    # default_rng(seed): a column drawn with it decided which rows were kept (30% of flags -> 54% in the sample)
    flag = np.random.default_rng(0).random(20_000) < 0.3
    (tmp_path / "ds").mkdir()
    pd.DataFrame({"flag": flag, "x": np.arange(20_000.0)}).to_parquet(tmp_path / "ds" / "a.parquet")
    sample = scan(tmp_path / "ds", fit_rows=2000, seed=0).sample
    assert abs(sample["flag"].mean() - flag.mean()) < 0.03


def test_em_pass_over_batches_is_one_em_iteration_on_all_rows():
    from tabsynth.backends.gmm import GMMBackend
    from tabsynth.encoding import TableEncoder
    from tabsynth.schema import infer_schema

    df = load_example()
    rng = np.random.default_rng(0)
    enc = TableEncoder(infer_schema(df)).fit(df, rng)
    data = enc.transform(df, rng, missing="model")
    fitted = GMMBackend(n_components=3, max_iter=5).fit(data, rng=np.random.default_rng(1))
    state = fitted.get_state()
    whole = GMMBackend.from_state({"n_components": 3}, *state)
    batched = GMMBackend.from_state({"n_components": 3}, *state)
    ll_whole = whole.em_pass([data])
    ll_batched = batched.em_pass([data.take(np.arange(i, min(i + 100, data.n))) for i in range(0, data.n, 100)])
    assert ll_batched == pytest.approx(ll_whole)
    np.testing.assert_allclose(batched.covariances_, whole.covariances_, atol=1e-5)  # float32 sums
    np.testing.assert_allclose(batched.thetas_[0], whole.thetas_[0], rtol=1e-6)
    assert not np.allclose(whole.means_, fitted.means_)         # the pass moved the parameters
    assert whole.em_pass([data]) >= ll_whole - 1e-9              # EM never lowers the likelihood


def test_fit_passes_over_a_dataset(cli, tmp_path):
    make_dataset(tmp_path / "ds")
    code, out, err = cli("fit", str(tmp_path / "ds"), "-o", str(tmp_path / "m.tabsynth"), "--fit-rows", "1000",
                         "--fit-passes", "2", "--seed", "0", "--json", "--backend", "gmm")
    assert code == 0, err
    lls = json.loads(out)["pass_log_likelihoods"]
    assert len(lls) == 2 and lls[1] >= lls[0] - 1e-6
    assert len(Synthesizer.load(tmp_path / "m.tabsynth").sample(50, seed=1)) == 50
    load_example().to_csv(tmp_path / "small.csv", index=False)
    for args, match in ((["fit", str(tmp_path / "ds"), "--backend", "trees"], "need the gmm backend"),
                        (["fit", str(tmp_path / "small.csv")], "applies to parquet datasets"),
                        (["augment", str(tmp_path / "small.csv")], "applies to parquet datasets")):
        extra = ["-o", str(tmp_path / "x.tabsynth")] if args[0] == "fit" else []
        code, _, err = cli(*args, *extra, "--fit-rows", "1000", "--fit-passes", "1")
        assert code == 2 and err.count("\n") == 1 and match in err, err
    assert not (tmp_path / "x.tabsynth").exists() and not (tmp_path / "small.augmented.csv").exists()


# ---------------------------------------------------------------------- dask
def test_dask_api_same_rows_any_partitioning(model):
    dd = pytest.importorskip("dask.dataframe")
    from tabsynth.dask import augment, impute, sample

    a = sample(model, 10_000, 3, seed=5).compute()
    assert a.equals(sample(model, 10_000, 7, seed=5).compute())
    assert a.reset_index(drop=True).equals(model.sample(10_000, seed=5))
    holes = load_example()
    holes.loc[::5, "bmi"] = np.nan
    imputer = GenerativeImputer(random_state=0).fit(holes)
    filled = impute(imputer, dd.from_pandas(holes, npartitions=3)).compute()
    assert filled.equals(imputer.transform(holes))
    out = augment(dd.from_pandas(load_example(), npartitions=2), model=model, seed=1).compute()
    assert len(out) == 2 * 442 and out.iloc[:442].equals(load_example()) and out.dtypes.equals(load_example().dtypes)


def test_dask_missing_extra_is_one_line(cli, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_dask(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and (name == "dask" or name.startswith("dask.")):
            raise ImportError(name)
        return real_import(name, globals, locals, fromlist, level)

    Synthesizer(random_state=0).fit(load_example()).save(tmp_path / "m.tabsynth")
    monkeypatch.setattr(builtins, "__import__", no_dask)
    code, _, err = cli("sample", str(tmp_path / "m.tabsynth"), "--rows", "10", "-o", str(tmp_path / "o.parquet"),
                       "--workers", "1")
    assert code == 2 and "pip install 'tabsynth[dask]'" in err and err.count("\n") == 1
    assert not (tmp_path / "o.parquet").exists()


def test_cli_on_a_local_cluster_one_or_two_workers(cli, tmp_path):
    pytest.importorskip("distributed")
    full = make_dataset(tmp_path / "ds")
    Synthesizer(random_state=0).fit(load_example()).save(tmp_path / "m.tabsynth")
    for w in ("1", "2"):
        code, _, err = cli("sample", str(tmp_path / "m.tabsynth"), "--rows", "30000", "--seed", "3", "-q",
                           "-o", str(tmp_path / f"s{w}.parquet"), "--workers", w)
        assert code == 0, err
    one, two = pd.read_parquet(tmp_path / "s1.parquet"), pd.read_parquet(tmp_path / "s2.parquet")
    assert (tmp_path / "s1.parquet").is_dir() and one.equals(two) and len(one) == 30000
    assert one.equals(Synthesizer.load(tmp_path / "m.tabsynth").sample(30000, seed=3))
    # augment on the cluster gives the rows of the local streamed run
    code, _, err = cli("augment", str(tmp_path / "ds"), "--fit-rows", "1000", "--seed", "1", "-q", "--workers", "2",
                       "-o", str(tmp_path / "a2.parquet"))
    assert code == 0, err
    code, _, err = cli("augment", str(tmp_path / "ds"), "--fit-rows", "1000", "--seed", "1", "-q",
                       "-o", str(tmp_path / "a0.parquet"))
    assert code == 0, err
    assert pd.read_parquet(tmp_path / "a2.parquet").equals(pd.read_parquet(tmp_path / "a0.parquet"))
    code, _, err = cli("impute", str(tmp_path / "ds"), "--fit-rows", "1000", "--seed", "1", "-q", "--workers", "2",
                       "-o", str(tmp_path / "i2.parquet"))
    assert code == 0, err
    assert pd.read_parquet(tmp_path / "i2.parquet")["bmi"].notna().all()
    # an existing output directory is refused, nothing is touched
    code, _, err = cli("sample", str(tmp_path / "m.tabsynth"), "--rows", "10", "-o", str(tmp_path / "s1.parquet"),
                       "--workers", "1")
    assert code == 2 and pd.read_parquet(tmp_path / "s1.parquet").equals(one)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert full is not None
