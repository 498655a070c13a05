import numpy as np
import pandas as pd
import pytest

from tabsynth.encoding import TableEncoder
from tabsynth.errors import InputError
from tabsynth.schema import infer_schema


def _encoder(df):
    return TableEncoder(infer_schema(df)).fit(df, np.random.default_rng(0))


def test_round_trip_restores_values_and_dtypes(mixed):
    enc = _encoder(mixed)
    e = enc.transform(mixed, np.random.default_rng(0))
    assert e.x_num.dtype == np.float32 and e.x_cat.dtype == np.int64
    back = enc.inverse(e, np.random.default_rng(0))
    assert back.dtypes.tolist() == mixed.dtypes.tolist()
    for col in ["i", "ni", "b", "nb", "s", "cat", "ps", "d", "const"]:
        pd.testing.assert_series_equal(back[col], mixed[col], check_names=False, obj=col)
    # floats and tz datetimes pass through a quantile transform: equal up to its interpolation
    np.testing.assert_allclose(back["f"].to_numpy(), mixed["f"].to_numpy(), rtol=1e-4, atol=1e-3)
    diff = (back["dtz"] - mixed["dtz"]).abs().max()
    assert diff <= pd.Timedelta(seconds=1)


def test_missing_values_are_states_not_dropped(mixed):
    enc = _encoder(mixed)
    lay = enc.layout_
    e = enc.transform(mixed)
    assert e.fully_observed()
    # the missing code is last, and used exactly where values are missing
    j = [c.spec.name for c in enc.cat_cols_].index("ps")
    assert lay.has_missing_code[j]
    np.testing.assert_array_equal(e.x_cat[:, j] == lay.cardinalities[j] - 1, mixed["ps"].isna().to_numpy())


def test_spikes_become_states():
    rng = np.random.default_rng(1)
    x = np.where(rng.random(1000) < 0.7, 0.0, rng.lognormal(8, 1, 1000))
    df = pd.DataFrame({"gain": x})
    enc = _encoder(df)
    assert enc.num_cols_[0].spikes.tolist() == [0.0]
    e = enc.transform(df)
    assert e.layout.cardinalities == [2]
    back = enc.inverse(e, rng)
    assert (back["gain"] == 0).sum() == (x == 0).sum()


def test_unobserved_mode_marks_missing_cells(mixed):
    enc = _encoder(mixed)
    e = enc.transform(mixed, missing="unobserved")
    assert e.exclude_missing
    k = [c.spec.name for c in enc.num_cols_].index("f")
    np.testing.assert_array_equal(e.mask_num[:, k], mixed["f"].notna().to_numpy())


def test_unseen_category_is_an_error(mixed):
    enc = _encoder(mixed)
    bad = mixed.copy()
    bad.loc[0, "s"] = "never-seen"
    with pytest.raises(InputError, match="column 's' has value 'never-seen'"):
        enc.transform(bad)


def test_state_round_trip(mixed):
    enc = _encoder(mixed)
    meta, arrays = enc.state()
    enc2 = TableEncoder.from_state(meta, arrays)
    e = enc.transform(mixed, np.random.default_rng(0))
    pd.testing.assert_frame_equal(enc.inverse(e, np.random.default_rng(0)), enc2.inverse(e, np.random.default_rng(0)))
