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
    with pytest.raises(InputError, match="column 'age' is both in categorical and ignore"):
        infer_schema(df, categorical=["age"], ignore=["age"])


def test_oversampler_refuses_continuous_target():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=200)})
    with pytest.raises(InputError, match="y is continuous"):
        GenerativeOverSampler(random_state=0).fit_resample(X, pd.Series(rng.normal(size=200)))
    y = pd.Series(np.r_[np.zeros(180), np.ones(20)])  # whole floats are classes
    _, yr = GenerativeOverSampler(random_state=0).fit_resample(X, y)
    assert yr.value_counts().tolist() == [180, 180]


# ------------------------------------------------------------ evaluate: more types
def test_evaluate_rejects_complex_and_dates_in_a_numeric_column(real):
    with pytest.raises(InputError, match=r"column 'age' holds complex numbers, e\.g\. \(\d+\+1j\)"):
        evaluate(real, real.assign(age=real["age"] + 1j), sections=["fidelity"])
    with pytest.raises(InputError, match="synthetic table column 'age' holds dates, e.g. '2020-"):
        evaluate(real, real.assign(age=real["d"]), sections=["fidelity"])
    with pytest.raises(InputError, match="column 'age' holds values that are not numbers, e.g. '2020-"):
        evaluate(real, real.assign(age=real["d"].astype(object)), sections=["fidelity"])


def test_evaluate_rejects_numbers_in_a_date_column(real):
    # pandas would read 59 as 59 ns after 1970: a unit guessed, a meaningless score
    with pytest.raises(InputError, match="synthetic table column 'd' holds numbers, not dates, e.g. 59"):
        evaluate(real, real.assign(d=59), sections=["fidelity"])
    with pytest.raises(InputError, match="column 'd' holds numbers, not dates, e.g. 3"):
        evaluate(real, real.assign(d=pd.Series([3, "2020-01-01"] * 100, dtype=object)), sections=["fidelity"])


def test_evaluate_reads_dates_with_mixed_utc_offsets(real):
    # pandas raises "Mixed timezones detected" (a traceback) unless told to use UTC
    text = real["d"].dt.strftime("%Y-%m-%dT%H:%M:%S") + np.where(np.arange(len(real)) % 2, "+01:00", "+02:00")
    res = evaluate(real, real.assign(d=text), sections=["fidelity"])
    assert res["fidelity"]["columns"]["d"]["score"] > 0.9
    aware = real.assign(d=real["d"].dt.tz_localize("America/New_York"))  # naive text is local time of the zone
    res = evaluate(aware, real.assign(d=real["d"].dt.strftime("%Y-%m-%d")), sections=["fidelity"])
    assert res["fidelity"]["columns"]["d"]["score"] == pytest.approx(1.0)


def test_evaluate_booleans_any_case_and_object_boolean_columns(real):
    upper = real.assign(flag=real["flag"].map({True: "TRUE", False: "FALSE"}))
    assert evaluate(real, upper, sections=["fidelity"])["fidelity"]["columns"]["flag"]["score"] == pytest.approx(1.0)
    objects = real.assign(flag=real["flag"].astype(object).where(np.arange(len(real)) % 10 > 0, None))
    with pytest.raises(InputError, match="column 'flag' holds values that are not booleans, e.g. 'maybe'"):
        evaluate(objects, real.assign(flag="maybe"), sections=["fidelity"])


@pytest.mark.parametrize("call", ["fidelity", "column_shapes", "validity", "detection", "privacy", "exact_copies",
                                  "distance_to_closest_record", "utility", "feature_selection", "render_report"])
def test_section_functions_check_types_too(real, call):
    from tabsynth import evaluate as ev
    from tabsynth.evaluate.report import render_report

    bad = real.assign(age=["a59"] * len(real))
    calls = {
        "utility": lambda: ev.utility(real, bad, real, "c", models=["logistic_regression"]),
        "feature_selection": lambda: ev.feature_selection(real, bad, "c"),
        "privacy": lambda: ev.privacy(real, bad, real),
        "render_report": lambda: render_report(evaluate(real, real, sections=["fidelity"]), real, bad),
    }
    with pytest.raises(InputError, match="column 'age' holds values that are not numbers, e.g. 'a59'"):
        calls.get(call, lambda: getattr(ev, call)(real, bad))()


def test_cli_evaluate_holdout_type_error_is_one_line(capsys, tmp_path, real):
    real.to_csv(tmp_path / "r.csv", index=False)
    real.assign(d=["soon"] * len(real)).to_csv(tmp_path / "h.csv", index=False)
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--real", str(tmp_path / "r.csv"), "--synthetic", str(tmp_path / "r.csv"),
              "--holdout", str(tmp_path / "h.csv")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1
    assert "holdout table column 'd' holds values that are not dates, e.g. 'soon'" in err


# ------------------------------------------------------------ schema messages
def test_numpy_strings_are_strings():
    spec = infer_schema(pd.DataFrame({"s": pd.Series([np.str_("a"), "b", np.str_("c")] * 5, dtype=object)}))["s"]
    assert spec.kind == "categorical" and spec.categories == ["a", "b", "c"]
    assert all(type(v) is str for v in spec.categories)


def test_schema_messages_show_plain_values():
    with pytest.raises(InputError) as e:
        infer_schema(pd.DataFrame({"age": [1, 2, 3]}), categorical=[np.int64(3)])
    assert "unknown column(s) 3;" in str(e.value) and "np." not in str(e.value)
    with pytest.raises(InputError, match=r"column 'x' mixes numbers and strings \(e\.g\. 3 and 'a'\)"):
        infer_schema(pd.DataFrame({"x": pd.Series([np.int16(3), "a", np.float32(4.5)] * 5, dtype=object)}))
    with pytest.raises(InputError, match=r"column 't' holds tuple values \(e\.g\. \(1, 2\)\); convert them"):
        infer_schema(pd.DataFrame({"t": pd.Categorical([(1, 2), (3, 4)] * 5)}))
    with pytest.raises(InputError) as e:
        infer_schema(pd.DataFrame({"x": pd.Categorical([5, "y" * 500] * 5)}))
    assert len(str(e.value)) < 200


def test_complex_categories_are_refused():
    with pytest.raises(InputError, match="column 'z' holds complex numbers; split it into real and imaginary parts"):
        infer_schema(pd.DataFrame({"z": pd.Categorical([1 + 2j, 3j] * 5)}))


# ------------------------------------------------------------ over-sampler targets
def test_oversampler_target_checks():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=200)})
    sampler = GenerativeOverSampler(random_state=0)
    with pytest.raises(InputError, match=r"y is continuous \(200 distinct values\)"):  # floats as objects
        sampler.fit_resample(X, pd.Series(list(rng.normal(size=200)), dtype=object))
    with pytest.raises(InputError, match="y is continuous"):  # a one-column frame
        sampler.fit_resample(X, pd.DataFrame({"y": rng.normal(size=200)}))
    with pytest.raises(InputError, match="y has 2 columns; pass one column of class labels"):
        sampler.fit_resample(X, pd.DataFrame({"y": np.zeros(200), "z": np.ones(200)}))
    with pytest.raises(InputError, match="y mixes numbers and strings"):
        sampler.fit_resample(X, pd.Series(["a", 1] * 100, dtype=object))
    _, yr = sampler.fit_resample(X, pd.DataFrame({"lab": ["a"] * 180 + ["b"] * 20}))
    assert yr.name == "lab" and yr.value_counts().to_dict() == {"a": 180, "b": 180}
