"""The promises of issue #2 on the real tables in ../shared/datasets."""

import numpy as np
import pandas as pd
import pytest

from tabsynth import Synthesizer
from tabsynth.schema import infer_schema


def check_promises(real: pd.DataFrame, out: pd.DataFrame) -> None:
    assert list(out.columns) == list(real.columns)
    assert out.dtypes.tolist() == real.dtypes.tolist()
    for spec in infer_schema(real).columns:
        r, s = real[spec.name], out[spec.name]
        assert abs(r.isna().mean() - s.isna().mean()) < 0.05, spec.name
        if spec.kind in ("categorical", "boolean"):
            assert set(s.dropna()) <= set(r.dropna()), spec.name
        elif spec.kind in ("numeric", "integer"):
            assert s.min() >= r.min() and s.max() <= r.max(), spec.name
        if spec.kind == "integer":
            v = s.dropna().to_numpy(dtype=float)
            assert np.all(v == np.round(v)), spec.name


def test_adult(adult_small):
    syn = Synthesizer("gmm", random_state=0, selection_rows=2000).fit(adult_small)
    out = syn.sample(3000, seed=0)
    check_promises(adult_small, out)
    # modelled missingness: the three columns with '?' keep their share
    for col in ["workclass", "occupation", "native-country"]:
        assert adult_small[col].isna().any()
        assert abs(out[col].isna().mean() - adult_small[col].isna().mean()) < 0.02
    # joint structure: income depends on marital status in both
    def rate(df):
        return (df["income"] == ">50K").groupby(df["marital-status"] == "Married-civ-spouse").mean()
    assert abs(rate(out)[True] - rate(adult_small)[True]) < 0.08
    assert rate(out)[True] > 3 * rate(out)[False]
    copies = out.merge(adult_small.drop_duplicates(), how="inner").shape[0] / len(out)
    assert copies < 0.05


@pytest.mark.parametrize("name", ["letter.csv", "spam.csv"])
def test_imputation_tables(name, shared):
    real = pd.read_csv(shared(name)).sample(1500, random_state=0).reset_index(drop=True)
    out = Synthesizer("gmm", random_state=0, selection_rows=1500).fit(real).sample(1500, seed=0)
    check_promises(real, out)
