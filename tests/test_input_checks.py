"""One-line errors, never silent results: evaluate type checks, schema messages, over-sampler targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tabsynth import GenerativeOverSampler, InputError, infer_schema
from tabsynth.cli import main
from tabsynth.evaluate import evaluate


@pytest.fixture
def real():
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "age": rng.integers(20, 70, 200),
        "c": rng.choice(["a", "b"], 200),
        "flag": rng.random(200) < 0.5,
        "d": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 99, 200), unit="D"),
    })


def test_evaluate_rejects_values_of_another_type(real):
    with pytest.raises(InputError, match="synthetic table column 'age' holds values that are not numbers, e.g. 'a59'"):
        evaluate(real, real.assign(age=["a59"] * len(real)), sections=["fidelity"])
    with pytest.raises(InputError, match="column 'd' holds values that are not dates"):
        evaluate(real, real.assign(d=["soon"] * len(real)), sections=["fidelity"])
    with pytest.raises(InputError, match="column 'flag' holds values that are not booleans"):
        evaluate(real, real.assign(flag=["maybe"] * len(real)), sections=["fidelity"])
    with pytest.raises(InputError, match="holdout table column 'age'"):
        evaluate(real, real, holdout=real.assign(age="x"), sections=["fidelity"])


def test_evaluate_accepts_numbers_and_dates_as_text(real):
    text = real.assign(age=real["age"].astype(str), d=real["d"].dt.strftime("%Y-%m-%d"),
                       flag=real["flag"].astype(str))
    assert evaluate(real, text, sections=["fidelity"])["fidelity"]["column_shapes"] == pytest.approx(1.0)


def test_cli_evaluate_type_error_is_one_line(capsys, tmp_path, real):
    real.to_csv(tmp_path / "r.csv", index=False)
    real.assign(age=["a59"] * len(real)).to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--real", str(tmp_path / "r.csv"), "--synthetic", str(tmp_path / "s.csv")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1 and "column 'age'" in err


def test_mixed_types_error_names_the_column():
    df = pd.DataFrame({"x": pd.Series([np.int64(3), "a", 4.5] * 10, dtype=object)})
    with pytest.raises(InputError) as e:
        infer_schema(df)
    msg = str(e.value)
    assert "column 'x' mixes numbers and strings" in msg and "np." not in msg and "\n" not in msg


def test_complex_columns_are_refused():
    with pytest.raises(InputError, match="column 'z' holds complex numbers"):
        infer_schema(pd.DataFrame({"z": np.array([1 + 2j, 3 - 1j] * 5)}))
    with pytest.raises(InputError, match="column 'z' holds complex numbers"):
        infer_schema(pd.DataFrame({"z": pd.Series([1 + 2j, 3.0] * 5, dtype=object)}))


def test_categorical_and_ignore_conflict():
    df = pd.DataFrame({"age": [1, 2, 3, 4], "b": list("xyxy")})
    with pytest.raises(InputError, match="column 'age' is both in --categorical and --ignore"):
        infer_schema(df, categorical=["age"], ignore=["age"])


def test_oversampler_refuses_continuous_target():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=200)})
    with pytest.raises(InputError, match="y is continuous"):
        GenerativeOverSampler(random_state=0).fit_resample(X, pd.Series(rng.normal(size=200)))
    y = pd.Series(np.r_[np.zeros(180), np.ones(20)])  # whole floats are classes
    _, yr = GenerativeOverSampler(random_state=0).fit_resample(X, y)
    assert yr.value_counts().tolist() == [180, 180]
