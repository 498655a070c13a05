import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from tabsynth import Synthesizer, augment
from tabsynth.errors import FileFormatError, InputError, NotFittedError


def test_sample_keeps_columns_and_dtypes(mixed):
    syn = Synthesizer(random_state=0).fit(mixed)
    out = syn.sample(500, seed=1)
    assert list(out.columns) == list(mixed.columns)
    assert out.dtypes.tolist() == mixed.dtypes.tolist()
    assert set(out["s"].dropna()) <= set(mixed["s"].dropna())
    assert (out["const"] == "same").all()


def test_same_seed_same_rows_and_save_load(mixed, tmp_path):
    syn = Synthesizer(random_state=0).fit(mixed)
    a = syn.sample(200, seed=7)
    pd.testing.assert_frame_equal(a, syn.sample(200, seed=7))
    path = syn.save(tmp_path / "m.tabsynth")
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["backend.npz", "encoder.npz", "tabsynth.json"]
    loaded = Synthesizer.load(path)
    pd.testing.assert_frame_equal(a, loaded.sample(200, seed=7))
    assert not list(tmp_path.glob("*.tmp"))


def test_corrupt_and_missing_model_files(tmp_path):
    bad = tmp_path / "bad.tabsynth"
    bad.write_bytes(b"not a zip")
    with pytest.raises(FileFormatError, match="not a valid tabsynth model"):
        Synthesizer.load(bad)
    with pytest.raises(FileFormatError, match="does not exist"):
        Synthesizer.load(tmp_path / "none.tabsynth")
    # a zip with the right names but damaged content
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("tabsynth.json", "{}")
        zf.writestr("encoder.npz", b"")
        zf.writestr("backend.npz", b"")
    with pytest.raises(FileFormatError):
        Synthesizer.load(bad)


def test_sklearn_params_and_clone():
    syn = Synthesizer("gmm", random_state=3, n_components=4)
    params = syn.get_params()
    assert params["n_components"] == 4 and params["random_state"] == 3
    c = clone(syn)
    assert c.get_params() == params
    syn.set_params(max_iter=7)
    assert syn.get_params()["max_iter"] == 7
    with pytest.raises(InputError, match="unknown parameter 'epochs'"):
        syn.set_params(epochs=3)
    with pytest.raises(InputError, match="has no parameter 'epochs'"):
        Synthesizer(epochs=3).fit(pd.DataFrame({"a": [1.0, 2.0, 3.0]}))


def test_errors():
    with pytest.raises(NotFittedError):
        Synthesizer().sample(3)
    with pytest.raises(InputError, match="single row"):
        Synthesizer().fit(pd.DataFrame({"a": [1.0]}))
    with pytest.raises(InputError, match="no rows"):
        Synthesizer().fit(pd.DataFrame({"a": []}))
    with pytest.raises(InputError, match="all missing"):
        Synthesizer().fit(pd.DataFrame({"a": [1.0, 2.0], "b": [np.nan, np.nan]}))
    syn = Synthesizer().fit(pd.DataFrame({"a": [1.0, 2.0, 3.0]}))
    with pytest.raises(InputError, match=r"^n=-1: give an integer of at least 0"):
        syn.sample(-1)


def test_impute_fills_only_missing_cells(mixed):
    syn = Synthesizer(random_state=0).fit(mixed)
    holes = mixed.copy()
    rng = np.random.default_rng(0)
    for col in ["i", "s", "b", "d"]:
        holes[col] = holes[col].astype({"i": "Int64", "b": "boolean"}.get(col, holes[col].dtype))
        holes.loc[rng.random(len(holes)) < 0.2, col] = None
    filled = syn.impute(holes, seed=0)
    for col in ["i", "s", "b", "d"]:
        assert filled[col].notna().all(), col
        known = holes[col].notna()
        assert (filled.loc[known, col].astype(str) == holes.loc[known, col].astype(str)).all()


def test_given_rows_fix_values():
    rng = np.random.default_rng(0)
    n = 1000
    y = rng.choice(["a", "b"], n)
    df = pd.DataFrame({"y": y, "x": np.where(y == "a", 0.0, 10.0) + rng.normal(size=n)})
    syn = Synthesizer(random_state=0).fit(df)
    out = syn.sample(300, given=pd.DataFrame({"y": ["b"] * 300}), seed=1)
    assert (out["y"] == "b").all()
    assert out["x"].mean() > 8


def test_ignored_columns_are_kept_empty():
    df = pd.DataFrame({"a": np.arange(30) % 7 * 1.5, "note": [f"n{i}" for i in range(30)], "k": np.arange(30) * 2})
    syn = Synthesizer(random_state=0, ignore=["note", "k"]).fit(df)
    out = syn.sample(10, seed=0)
    assert list(out.columns) == ["a", "note", "k"]
    assert out["note"].isna().all() and str(out["k"].dtype) == "Int64"


def test_augment_keeps_real_rows_in_order(mixed):
    out = augment(mixed, ratio=0.5, seed=0)
    assert len(out) == len(mixed) + 150
    pd.testing.assert_frame_equal(out.iloc[: len(mixed)], mixed.reset_index(drop=True))
    assert out.dtypes.tolist() == mixed.dtypes.tolist()
    assert len(augment(mixed, rows=5, synthetic_only=True, seed=0)) == 5
    with pytest.raises(InputError, match="exclusive"):
        augment(mixed, rows=5, ratio=1.0)
