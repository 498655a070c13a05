"""The imputation protocol: masks and scores."""

import numpy as np
import pandas as pd
import pytest

from tabsynth.evaluate import imputation_scores, make_missing


def table(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({"x": x, "y": x + rng.normal(size=n), "i": rng.integers(0, 10, n),
                         "c": rng.choice(["a", "b"], n).astype(object), "b": rng.random(n) < 0.5})


@pytest.mark.parametrize("mechanism", ["mcar", "mar", "mnar"])
def test_masks_hit_the_rate_and_are_reproducible(mechanism):
    df = table()
    holes, mask = make_missing(df, 0.2, mechanism, seed=0)
    again, mask2 = make_missing(df, 0.2, mechanism, seed=0)
    pd.testing.assert_frame_equal(mask, mask2)
    assert holes.isna().equals(mask)
    maskable = mask.loc[:, mask.any()]
    assert abs(maskable.to_numpy().mean() - 0.2) < 0.03
    dtypes = {"i": "float64", "b": "boolean"}  # widened to hold the holes
    assert all(str(holes[c].dtype) == t for c, t in dtypes.items() if mask[c].any())
    if mechanism == "mar":
        assert (~mask.any()).sum() >= 1  # some columns are always observed


def test_mar_and_mnar_depend_on_values():
    df = table(5000)
    # MNAR: a cell's chance to be missing depends on its own value, so the removed
    # cells' mean differs from the kept cells' mean in some column; MCAR: it does not
    def gap(mask):
        return max(abs(df.loc[mask[c], c].mean() - df.loc[~mask[c], c].mean()) for c in ["x", "y"] if mask[c].any())

    assert gap(make_missing(df, 0.2, "mnar", seed=1)[1]) > 0.3
    assert gap(make_missing(df, 0.2, "mcar", seed=1)[1]) < 0.1


def test_scores():
    df = table(500)
    holes, mask = make_missing(df, 0.2, "mcar", seed=0)
    perfect = imputation_scores(df, df, mask)
    assert perfect["rmse"] == 0 and perfect["accuracy"] == 1 and perfect["unfilled"] == 0
    assert perfect["cells"] == int(mask.to_numpy().sum())
    # a constant guess of the column's midpoint: error is |x - mid| / range
    mid = df.copy()
    for c in ["x", "y", "i"]:
        mid[c] = (df[c].min() + df[c].max()) / 2
    s = imputation_scores(df, mid, mask)
    m = mask[["x", "y", "i"]].to_numpy()
    errs = np.concatenate([((mid[c] - df[c]) / (df[c].max() - df[c].min()))[mask[c]] for c in ["x", "y", "i"]])
    assert s["rmse"] == pytest.approx(np.sqrt((errs**2).mean()))
    assert m.sum() == len(errs)
    left = imputation_scores(df, holes, mask)
    assert left["unfilled"] == left["cells"] and left["accuracy"] == 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="rate"):
        make_missing(table(10), 1.5)
    with pytest.raises(ValueError, match="mechanism"):
        make_missing(table(10), 0.2, "mnarr")
